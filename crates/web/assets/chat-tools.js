// The `/tool` palette: typing `/` in the composer lists the tools the caller
// may run (completing the name as it is typed); picking one opens a form built
// from its JSON Schema; running it sends `/tool NAME {json}`, which the chat
// runs through the gateway like any other call (approvals included).
import { el } from './chat-render.js';

let catalogue = null;

/** The tools the caller may run, fetched once. */
function tools() {
  catalogue ??= fetch('/api/v1/tools', { headers: { accept: 'application/json' } })
    .then(async (res) => (res.ok ? ((await res.json()).tools ?? []).filter((t) => t.canRun) : []))
    .catch(() => []);
  return catalogue;
}

function input(name, schema, required) {
  const id = `arg-${name}`;
  const label = el('label', { for: id, text: name + (required ? ' (required)' : '') });
  const hint = schema.description ? el('span', { class: 'hint', text: schema.description }) : null;
  let control;
  if (Array.isArray(schema.enum)) {
    control = el('select', { id, name });
    control.append(el('option', { value: '', text: required ? 'choose…' : '(none)' }));
    for (const v of schema.enum) control.append(el('option', { value: String(v), text: String(v) }));
  } else if (schema.type === 'boolean') {
    control = el('select', { id, name, 'data-kind': 'boolean' },
      el('option', { value: '', text: '(not set)' }), el('option', { value: 'true', text: 'true' }),
      el('option', { value: 'false', text: 'false' }));
  } else if (schema.type === 'object' || schema.type === 'array') {
    control = el('textarea', { id, name, rows: 3, 'data-kind': 'json', placeholder: schema.type === 'array' ? '[ … ] as JSON' : '{ … } as JSON' });
  } else {
    const number = schema.type === 'integer' || schema.type === 'number';
    control = el('input', { id, name, type: number ? 'number' : 'text', 'data-kind': number ? 'number' : 'text',
      step: schema.type === 'number' ? 'any' : undefined, min: schema.minimum, max: schema.maximum });
    if (schema.default !== undefined) control.placeholder = String(schema.default);
  }
  if (required) control.required = true;
  if (hint) {
    hint.id = `${id}-hint`;
    control.setAttribute('aria-describedby', hint.id);
  }
  return el('div', { class: 'field' }, label, hint, control);
}

function argsOf(form) {
  const args = {};
  for (const c of form.querySelectorAll('[name]')) {
    const v = c.value.trim();
    if (v === '') continue;
    const kind = c.dataset.kind;
    if (kind === 'number') args[c.name] = Number(v);
    else if (kind === 'boolean') args[c.name] = v === 'true';
    else if (kind === 'json') args[c.name] = JSON.parse(v);
    else args[c.name] = v;
  }
  return args;
}

/** Wires the palette to the composer; `send(text)` sends a message. */
export function initPalette(textarea, box, send) {
  let options = [];
  let active = -1;

  const close = () => {
    box.hidden = true;
    box.replaceChildren();
    textarea.removeAttribute('aria-activedescendant');
    options = [];
    active = -1;
  };

  const mark = (i) => {
    active = i;
    options.forEach((o, j) => o.setAttribute('aria-selected', String(j === i)));
    if (options[i]) {
      textarea.setAttribute('aria-activedescendant', options[i].id);
      options[i].scrollIntoView({ block: 'nearest' });
    }
  };

  const form = (tool) => {
    const schema = tool.inputSchema ?? {};
    const required = new Set(schema.required ?? []);
    const props = Object.entries(schema.properties ?? {});
    const f = el('form', { class: 'tool-form', 'aria-label': `Arguments of ${tool.name}` },
      el('p', {}, el('strong', {}, el('code', { text: tool.name })), ` · risk ${tool.risk}`),
      el('p', { class: 'muted', text: tool.description }),
      ...props.map(([name, s]) => input(name, s, required.has(name))),
      props.length === 0 ? el('p', { class: 'muted', text: 'This tool takes no arguments.' }) : null,
      el('p', { class: 'tool-form-error', role: 'alert' }),
      el('div', { class: 'actions' }, el('button', { type: 'submit', text: 'Run tool' }),
        el('button', { type: 'button', class: 'secondary', 'data-cancel': true, text: 'Cancel' })));
    f.addEventListener('submit', (e) => {
      e.preventDefault();
      let args;
      try {
        args = argsOf(f);
      } catch {
        f.querySelector('.tool-form-error').textContent = 'A JSON field is not valid JSON.';
        return;
      }
      close();
      textarea.value = '';
      send(`/tool ${tool.name} ${JSON.stringify(args)}`);
    });
    f.querySelector('[data-cancel]').addEventListener('click', () => { close(); textarea.focus(); });
    f.addEventListener('keydown', (e) => { if (e.key === 'Escape') { e.stopPropagation(); close(); textarea.focus(); } });
    box.replaceChildren(f);
    box.hidden = false;
    options = [];
    (f.querySelector('input, select, textarea') ?? f.querySelector('button')).focus();
  };

  const pick = (i) => {
    const tool = options[i]?.tool;
    if (!tool) return;
    textarea.value = `/tool ${tool.name} `;
    form(tool);
  };

  const list = async () => {
    const m = textarea.value.match(/^\/(?:t(?:o(?:o(?:l)?)?)?)?(?:\s+(\S*))?$/);
    if (!m) { close(); return; }
    const typed = (m[1] ?? '').toLowerCase();
    const found = (await tools()).filter((t) => t.name.toLowerCase().includes(typed)).slice(0, 12);
    const ul = el('ul', { role: 'listbox', id: 'tool-options', 'aria-label': 'Tools' });
    options = found.map((t, i) => {
      const li = el('li', { role: 'option', id: `tool-opt-${i}`, 'aria-selected': 'false' },
        el('code', { text: t.name }), el('span', { class: 'muted', text: `${t.category} · ${t.risk}` }));
      li.tool = t;
      li.addEventListener('mousedown', (e) => { e.preventDefault(); pick(i); });
      return li;
    });
    ul.append(...options);
    box.replaceChildren(found.length ? ul : el('p', { class: 'muted', text: 'No tool matches.' }),
      el('p', { class: 'hint', text: '↑ ↓ choose, Enter or Tab opens its form, Esc closes.' }));
    box.hidden = false;
    mark(found.length ? 0 : -1);
  };

  textarea.setAttribute('aria-controls', box.id);
  textarea.setAttribute('aria-autocomplete', 'list');
  textarea.addEventListener('input', list);
  textarea.addEventListener('keydown', (e) => {
    if (box.hidden || options.length === 0) return;
    if (e.key === 'ArrowDown') { e.preventDefault(); mark((active + 1) % options.length); }
    else if (e.key === 'ArrowUp') { e.preventDefault(); mark((active - 1 + options.length) % options.length); }
    else if ((e.key === 'Enter' && !e.shiftKey) || e.key === 'Tab') { e.preventDefault(); e.stopImmediatePropagation(); pick(active); }
    else if (e.key === 'Escape') { e.preventDefault(); e.stopImmediatePropagation(); close(); }
  });
  return {
    /** Ctrl/Cmd+K: start a `/tool` command. */
    open() { textarea.value = '/tool '; textarea.focus(); list(); },
    close,
  };
}
