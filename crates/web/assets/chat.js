// The chat page: sends a turn to POST /api/chat and renders its AI SDK UI
// message stream as it arrives (markdown text; a card per tool call moving
// pending → running → done/failed, with its duration and result); a call that
// waits for an approval shows the server's approval card, and the page follows
// GET /api/chat/{id}/stream until the turn resumes and ends, whoever decides.
import { el, markdown, result, upgradeStored } from './chat-render.js';
import { initPalette } from './chat-tools.js';

const root = document.getElementById('chat');
const log = document.getElementById('messages');
const composer = document.getElementById('composer');
const prompt = document.getElementById('prompt');
const sendButton = document.getElementById('send');
const stopButton = document.getElementById('stop');
const statusLine = document.getElementById('chat-status');
const modelSelect = document.getElementById('model');
const MODEL_KEY = 'portal-chat-model';

let session = root.dataset.session || '';
let lastEvent = 0;
let stream = null; // the AbortController of the stream being read
let paused = false;
const cards = new Map(); // toolCallId → {card, started}
const texts = new Map(); // text block id → {node, text, queued}

function status(text) { if (statusLine) statusLine.textContent = text; }

function busy(on) {
  root.toggleAttribute('data-busy', on);
  log.setAttribute('aria-busy', String(on));
  if (stopButton) stopButton.hidden = !on;
  if (sendButton) sendButton.disabled = on;
}

function scrollDown() { log.lastElementChild?.scrollIntoView({ block: 'end' }); }

function bubble(role, id) {
  let b = id ? log.querySelector(`article[data-message="${CSS.escape(id)}"]`) : null;
  if (!b) {
    document.getElementById('chat-empty')?.remove();
    b = el('article', { class: `msg ${role}`, 'data-message': id },
      el('h2', { class: 'who', text: role === 'user' ? 'You' : 'Assistant' }));
    log.append(b);
  }
  return b;
}

let current = null; // the assistant bubble of the turn being read

/** The bubble parts go to (a stream picked up mid-turn starts one). */
function into() {
  current ??= bubble('assistant');
  return current;
}

function notice(text, kind = 'error') {
  const n = el('p', { class: `notice ${kind}`, role: 'alert', text });
  (current ?? log).append(n);
  scrollDown();
}

function renderText(t) {
  t.queued = false;
  t.node.innerHTML = markdown(t.text);
  scrollDown();
}

function card(id, name) {
  let c = cards.get(id);
  if (!c) {
    const node = el('div', { class: 'tool-card', 'data-call': id, 'data-state': 'pending' },
      el('div', { class: 'tool-head' }, el('code', { class: 'tool-name', text: name ?? 'tool' }),
        el('span', { class: 'tool-state badge', text: 'pending' }), el('span', { class: 'tool-time' })));
    c = { node, started: 0 };
    cards.set(id, c);
    into().append(node);
  }
  return c;
}

function setState(c, state, label = state) {
  c.node.dataset.state = state;
  c.node.querySelector('.tool-state').textContent = label;
  if ((state === 'done' || state === 'failed') && c.started) {
    c.node.querySelector('.tool-time').textContent = `${Math.max(1, Math.round(performance.now() - c.started))} ms`;
  }
}

async function approvalCard(c, data) {
  setState(c, 'approval', 'waiting for approval');
  c.node.querySelector('.approval-card')?.remove();
  const res = await fetch(`/approvals/${encodeURIComponent(data.approvalId)}/card`, { headers: { accept: 'text/html' } });
  const holder = el('div');
  if (res.ok) {
    holder.innerHTML = await res.text();
  } else {
    holder.append(el('div', { class: 'approval-card' }, el('p', {}, el('strong', { class: 'waiting', text: 'Waiting for approval' })),
      el('p', {}, el('a', { href: data.approveUrl, text: data.approveUrl }))));
  }
  const a = holder.firstElementChild;
  if (!a) return;
  c.node.append(a);
  wireApproval(a);
  scrollDown();
}

function wireApproval(a) {
  const form = a.querySelector('form.decide');
  a.querySelector('[data-copy-button]')?.addEventListener('click', async (e) => {
    const link = a.querySelector('[data-copy]');
    try { await navigator.clipboard.writeText(link.value); e.target.textContent = 'Copied'; } catch { link.select(); }
  });
  if (!form) return;
  const decide = async (decision) => {
    const body = new URLSearchParams(new FormData(form));
    body.set('decision', decision);
    for (const b of form.querySelectorAll('button')) b.disabled = true;
    const res = await fetch(form.action, { method: 'POST', body, redirect: 'manual' });
    if (res.type === 'opaqueredirect' || res.ok) {
      form.replaceWith(el('p', { class: 'muted', text: decision === 'approve' ? 'Approved; continuing…' : 'Rejected.' }));
    } else {
      for (const b of form.querySelectorAll('button')) b.disabled = false;
      notice(`Could not record the decision (${res.status}); open the approval page to see why.`);
    }
  };
  form.addEventListener('submit', (e) => { e.preventDefault(); decide(e.submitter?.value === 'reject' ? 'reject' : 'approve'); });
  a.addEventListener('keydown', (e) => {
    if (e.target !== a) return;
    if (e.key === 'y' || e.key === 'Y') { e.preventDefault(); decide('approve'); }
    if (e.key === 'n' || e.key === 'N') { e.preventDefault(); decide('reject'); }
  });
}

function sidebarEntry(id, text) {
  const list = document.getElementById('session-list');
  if (!list || list.querySelector(`a[href="/chat/${CSS.escape(id)}"]`)) return;
  document.getElementById('no-sessions')?.remove();
  for (const a of list.querySelectorAll('a[aria-current]')) a.removeAttribute('aria-current');
  const title = text.replace(/^\/tool\s+/, '').split('\n')[0].slice(0, 60) || 'New chat';
  list.prepend(el('li', { 'data-title': title.toLowerCase() },
    el('a', { href: `/chat/${id}`, 'aria-current': 'page' }, el('span', { class: 'session-title', text: title }))));
  const h = document.getElementById('chat-h');
  if (h && h.textContent === 'New chat') h.textContent = title;
}

/** One part of the stream. */
function part(p, firstText) {
  switch (p.type) {
    case 'start': {
      const id = p.messageMetadata?.sessionId;
      if (id && !session) {
        session = id;
        root.dataset.session = id;
        history.replaceState(null, '', `/chat/${id}`);
        sidebarEntry(id, firstText ?? '');
      }
      current = bubble('assistant', p.messageId);
      break;
    }
    case 'text-start': {
      const node = el('div', { class: 'body md streaming' });
      into().append(node);
      texts.set(p.id, { node, text: '', queued: false });
      break;
    }
    case 'text-delta': {
      const t = texts.get(p.id);
      if (!t) break;
      t.text += p.delta;
      if (!t.queued) { t.queued = true; requestAnimationFrame(() => renderText(t)); }
      break;
    }
    case 'text-end': {
      const t = texts.get(p.id);
      if (t) { renderText(t); t.node.classList.remove('streaming'); }
      break;
    }
    case 'tool-input-start': card(p.toolCallId, p.toolName); break;
    case 'tool-input-available': {
      const c = card(p.toolCallId, p.toolName);
      if (!c.node.querySelector('.tool-args')) {
        c.node.append(el('details', { class: 'tool-args' }, el('summary', { text: 'Arguments' }),
          el('pre', {}, el('code', { text: JSON.stringify(p.input ?? {}, null, 2) }))));
      }
      c.started = performance.now();
      setState(c, 'running');
      break;
    }
    case 'data-approval-required': approvalCard(card(p.data.toolCallId, p.data.toolName), p.data); break;
    case 'tool-output-available': {
      const c = card(p.toolCallId);
      c.node.querySelector('.approval-card')?.remove();
      if (!c.started) c.started = performance.now();
      c.node.append(result(p.output));
      setState(c, 'done');
      break;
    }
    case 'tool-output-error':
    case 'tool-output-denied': {
      const c = card(p.toolCallId);
      c.node.querySelector('.approval-card')?.remove();
      c.node.append(el('p', { class: 'tool-error', text: p.errorText ?? 'failed' }));
      setState(c, 'failed', p.type === 'tool-output-denied' ? 'rejected' : 'failed');
      break;
    }
    case 'error': notice(p.errorText ?? 'Something went wrong.'); break;
    case 'abort': notice('Stopped.', 'warn'); break;
    case 'finish':
      paused = p.messageMetadata?.awaitingApproval === true;
      status(paused ? 'Waiting for approval' : 'Ready');
      break;
    default: break;
  }
  scrollDown();
}

/** Reads an SSE response to its end; false when it was cut before `[DONE]`. */
async function read(res, firstText) {
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return false;
    buf += value;
    let at;
    while ((at = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, at);
      buf = buf.slice(at + 2);
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('id:')) lastEvent = Number(line.slice(3).trim()) || lastEvent;
        else if (line.startsWith('data:')) data += line.slice(5).trimStart();
      }
      if (!data || data === 'heartbeat') continue;
      if (data === '[DONE]') return true;
      try { part(JSON.parse(data), firstText); } catch (e) { console.warn('chat: unreadable part', e); }
    }
  }
}

async function failed(res) {
  let message = `The request failed (${res.status}).`;
  try { message = (await res.json()).error ?? message; } catch { /* not JSON */ }
  notice(message);
}

/** Follows the session's stream: the active turn, or everything after `after`. */
async function follow(after) {
  stream = new AbortController();
  busy(true);
  status(paused ? 'Waiting for approval' : 'Following the answer…');
  const q = after === undefined ? '' : `?after=${after}`;
  try {
    const res = await fetch(`/api/chat/${encodeURIComponent(session)}/stream${q}`, { signal: stream.signal });
    if (res.status === 204) { status('Ready'); return; }
    if (!res.ok) { await failed(res); return; }
    paused = false;
    const complete = await read(res);
    if (paused || !complete) { await new Promise((r) => setTimeout(r, complete ? 0 : 1000)); return await follow(lastEvent); }
    status('Ready');
  } catch (e) {
    if (e.name !== 'AbortError') { await new Promise((r) => setTimeout(r, 2000)); return await follow(lastEvent); }
  } finally {
    if (!paused) busy(false);
  }
  return undefined;
}

async function send(text) {
  if (!text.trim() || root.hasAttribute('data-busy')) return;
  bubble('user').append(el('div', { class: 'body plain', text }));
  current = null;
  paused = false;
  stream = new AbortController();
  busy(true);
  status('Thinking…');
  const body = { message: text };
  if (session) body.sessionId = session;
  if (modelSelect && modelSelect.value) body.model = modelSelect.value;
  let again = false;
  try {
    const res = await fetch('/api/chat', {
      method: 'POST', signal: stream.signal, body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    });
    if (!res.ok) { await failed(res); status('Ready'); return; }
    status('Streaming');
    const complete = await read(res, text);
    again = paused || !complete;
  } catch (e) {
    again = e.name !== 'AbortError';
  } finally {
    if (!again) busy(false);
  }
  if (again && session) follow(lastEvent);
}

async function stop() {
  if (!session) return;
  const res = await fetch(`/api/chat/${encodeURIComponent(session)}/stop`, { method: 'POST' });
  const outcome = res.ok ? (await res.json()).outcome : null;
  if (outcome === 'ended' || outcome === 'idle') {
    stream?.abort();
    paused = false;
    for (const c of cards.values()) {
      if (c.node.dataset.state !== 'approval') continue;
      c.node.querySelector('.approval-card')?.remove();
      c.node.append(el('p', { class: 'tool-error', text: 'Not run: the turn was stopped before a decision.' }));
      setState(c, 'failed', 'not run');
    }
    busy(false);
    status('Stopped');
  }
}

async function models() {
  if (!modelSelect) return;
  const res = await fetch('/api/models', { headers: { accept: 'application/json' } });
  if (!res.ok) return;
  const m = await res.json();
  if (!m.models?.length) {
    status('Ready · no model configured: run tools with /tool');
    return;
  }
  let saved = null;
  try { saved = localStorage.getItem(MODEL_KEY); } catch { /* private mode */ }
  for (const x of m.models) modelSelect.append(el('option', { value: x.id, text: x.id }));
  modelSelect.value = m.models.some((x) => x.id === saved) ? saved : (m.defaultModel ?? m.models[0].id);
  modelSelect.addEventListener('change', () => { try { localStorage.setItem(MODEL_KEY, modelSelect.value); } catch { /* ignore */ } });
  document.getElementById('model-pick').hidden = false;
}

function filterSessions() {
  const search = document.getElementById('chat-search');
  search?.addEventListener('input', () => {
    const q = search.value.trim().toLowerCase();
    for (const li of document.querySelectorAll('#session-list li')) li.hidden = !li.dataset.title.includes(q);
  });
}

upgradeStored(log);
filterSessions();
if (composer && prompt) {
  const palette = root.dataset.tools ? initPalette(prompt, document.getElementById('tool-palette'), send) : null;
  composer.addEventListener('submit', (e) => {
    e.preventDefault();
    const text = prompt.value;
    prompt.value = '';
    send(text);
  });
  prompt.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); composer.requestSubmit(); }
  });
  stopButton?.addEventListener('click', stop);
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && root.hasAttribute('data-busy')) { e.preventDefault(); stop(); }
    if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k' && palette) { e.preventDefault(); palette.open(); }
  });
  models();
  const url = new URL(location.href);
  if (url.searchParams.has('prompt')) {
    url.searchParams.delete('prompt');
    history.replaceState(null, '', url.pathname + url.search);
    if (prompt.value.trim() && !log.querySelector('article')) setTimeout(() => composer.requestSubmit(), 100);
  }
}
if (root.dataset.follow && session) {
  paused = root.dataset.follow === 'awaiting_approval';
  follow();
}
