// What the chat shows: streamed markdown (marked, then DOMPurify: no script,
// handler, inline style or foreign scheme survives) and tool results, a list
// as a table (instances, volumes, buckets…), anything else as JSON.
import './purify.min.js';
import { marked } from './marked.esm.js';

const purify = globalThis.DOMPurify;

/** Markdown text as sanitised HTML. */
export function markdown(text) {
  const html = marked.parse(text, { async: false, gfm: true, breaks: false });
  return purify.sanitize(html, { FORBID_ATTR: ['style'], FORBID_TAGS: ['style', 'form', 'input', 'button'] });
}

// Raw HTML in the text is shown as text, as the server does (pulldown-cmark):
// markup never reaches the sanitiser, let alone the page.
const escapes = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };
marked.use({ renderer: { html: (token) => token.text.replace(/[&<>"]/g, (c) => escapes[c]) } });

// Links open as the server renders them (ammonia): no referrer, no opener.
purify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') node.setAttribute('rel', 'noopener noreferrer nofollow');
});

export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

/** The list inside a result: the result itself, or its first array of objects. */
function listOf(v) {
  if (Array.isArray(v)) return v.length > 0 && v.every((x) => x && typeof x === 'object' && !Array.isArray(x)) ? v : null;
  if (!v || typeof v !== 'object') return null;
  for (const key of ['items', 'data', 'results']) {
    if (Array.isArray(v[key])) return listOf(v[key]) ?? (v[key].length === 0 ? [] : null);
  }
  for (const x of Object.values(v)) {
    const found = Array.isArray(x) ? listOf(x) : null;
    if (found) return found;
  }
  return null;
}

const PREFERRED = ['displayName', 'name', 'lifecycleState', 'shape', 'sizeInGBs', 'availabilityDomain',
  'cidrBlock', 'service', 'cost', 'currency', 'timeCreated', 'id'];
const MAX_COLUMNS = 7;

function columns(rows) {
  const seen = new Set();
  for (const r of rows.slice(0, 25)) {
    for (const [k, v] of Object.entries(r)) if (v === null || typeof v !== 'object') seen.add(k);
  }
  const keys = [...seen];
  keys.sort((a, b) => {
    const ia = PREFERRED.indexOf(a);
    const ib = PREFERRED.indexOf(b);
    return (ia < 0 ? 99 : ia) - (ib < 0 ? 99 : ib);
  });
  return keys.slice(0, MAX_COLUMNS);
}

function words(key) {
  return key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/^./, (c) => c.toUpperCase());
}

function table(rows) {
  const cols = columns(rows);
  return el('div', { class: 'table-wrap', tabindex: 0, role: 'region', 'aria-label': 'Result table' },
    el('table', { class: 'result-table' },
      el('caption', { class: 'muted', text: `${rows.length} item${rows.length === 1 ? '' : 's'}` }),
      el('thead', {}, el('tr', {}, ...cols.map((c) => el('th', { scope: 'col', text: words(c) })))),
      el('tbody', {}, ...rows.map((r) => el('tr', {}, ...cols.map((c) => el('td', { text: r[c] ?? '' })))))));
}

/** Generated files (Terraform): each with Copy and Download, then the next steps. */
function files(value) {
  const out = [];
  for (const [name, text] of Object.entries(value.files)) {
    if (typeof text !== 'string') continue;
    const copy = el('button', { type: 'button', class: 'secondary', text: 'Copy' });
    copy.addEventListener('click', async () => {
      try { await navigator.clipboard.writeText(text); copy.textContent = 'Copied'; } catch { copy.textContent = 'Copy failed'; }
    });
    const download = el('a', { class: 'button secondary', download: name, text: 'Download',
      href: URL.createObjectURL(new Blob([text], { type: 'text/plain' })) });
    out.push(el('div', { class: 'file' }, el('div', { class: 'file-head' }, el('code', { text: name }), copy, download),
      el('pre', { tabindex: 0, 'aria-label': name }, el('code', { text }))));
  }
  if (Array.isArray(value.nextSteps)) out.push(el('ol', {}, ...value.nextSteps.map((s) => el('li', { text: String(s) }))));
  return out;
}

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  e.append(...children);
  return e;
}

/** Cost rows (`service`, `computedAmount`): the total per service as bars. */
function costChart(rows) {
  const totals = new Map();
  for (const r of rows) {
    const amount = Number(r.computedAmount);
    if (r.service && Number.isFinite(amount)) totals.set(r.service, (totals.get(r.service) ?? 0) + amount);
  }
  if (totals.size === 0) return null;
  const bars = [...totals].sort((a, b) => b[1] - a[1]).slice(0, 10);
  const max = Math.max(...bars.map(([, v]) => v), 1e-9);
  const currency = rows.find((r) => r.currency)?.currency ?? '';
  const h = 22;
  const chart = svg('svg', { viewBox: `0 0 400 ${bars.length * h}`, class: 'cost-chart', role: 'img',
    'aria-label': `Cost by service: ${bars.map(([s, v]) => `${s} ${v.toFixed(2)} ${currency}`).join(', ')}` },
  ...bars.map(([service, v], i) => svg('g', {},
    svg('text', { x: 0, y: i * h + 15, class: 'chart-label' }, service),
    svg('rect', { x: 150, y: i * h + 4, height: h - 8, width: Math.max(1, (v / max) * 170), class: 'chart-bar', rx: 2 }),
    svg('text', { x: 152 + (v / max) * 170 + 4, y: i * h + 15, class: 'chart-value' }, v.toFixed(2)))));
  return el('figure', { class: 'chart' }, chart, el('figcaption', { class: 'muted', text: `Cost by service${currency ? ` (${currency})` : ''}` }));
}

/** A tool's output (`{cloud, result}` from the chat, or a bare value) for reading. */
export function result(output) {
  const value = output && typeof output === 'object' && 'result' in output ? output.result : output;
  const json = el('pre', { class: 'result-raw' }, el('code', { text: JSON.stringify(value, null, 2) }));
  const raw = el('details', {}, el('summary', { text: 'JSON' }), json);
  if (value && typeof value === 'object' && value.files && typeof value.files === 'object') {
    return el('div', { class: 'tool-result' }, ...files(value), raw);
  }
  const rows = listOf(value);
  if (rows === null) return el('div', { class: 'tool-result' }, json);
  if (rows.length === 0) return el('div', { class: 'tool-result' }, el('p', { class: 'muted', text: 'No items.' }));
  return el('div', { class: 'tool-result' }, costChart(rows), table(rows), raw);
}

/** Server-rendered cards carry their result as JSON text: read it the same way. */
export function upgradeStored(root) {
  for (const pre of root.querySelectorAll('.tool-result > pre.result-json')) {
    let value;
    try { value = JSON.parse(pre.textContent); } catch { continue; }
    pre.parentElement.replaceWith(result(value));
  }
}
