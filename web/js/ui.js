// Small DOM helpers shared by the views: element building, formatting,
// status messages. No framework: the pages are a handful of tables and forms.

// h('button', {class: 'x', onclick: fn, 'aria-label': 'y'}, 'text', child...)
// builds an element; attributes starting with "on" become listeners,
// false/null attributes are left out, children may be strings or nodes.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = !!v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// Replaces el's children with the given ones.
export function fill(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// A labelled form field: label + control (+ a hint tied by aria-describedby).
export function field(label, control, hint) {
  const id = control.id || (control.id = 'f-' + Math.random().toString(36).slice(2, 9));
  const parts = [h('label', { for: id }, label), control];
  if (hint) {
    const hid = id + '-hint';
    control.setAttribute('aria-describedby', hid);
    parts.push(h('small', { id: hid, class: 'hint' }, hint));
  }
  return h('div', { class: 'field' }, parts);
}

export function pretty(value) {
  return JSON.stringify(value, null, 2);
}

export function fmtTime(ms) {
  if (!ms) return '—';
  const d = new Date(ms);
  return d.toLocaleString(undefined, { hour12: false });
}

export function fmtAgo(ms, now = Date.now()) {
  if (!ms) return '—';
  const s = Math.round((now - ms) / 1000);
  if (s < 0) return 'in ' + fmtSpan(-s);
  if (s < 5) return 'just now';
  return fmtSpan(s) + ' ago';
}

function fmtSpan(s) {
  if (s < 60) return s + ' s';
  if (s < 3600) return Math.round(s / 60) + ' min';
  if (s < 86400) return Math.round(s / 3600) + ' h';
  return Math.round(s / 86400) + ' d';
}

// A state badge: the class names the state so the CSS can colour it, the
// text says it (colour is never the only signal).
export function badge(state, text) {
  return h('span', { class: 'badge s-' + String(state).replace(/[^a-z_]/gi, '') }, text || state);
}

export function onlineBadge(online) {
  return badge(online ? 'online' : 'offline', online ? 'online' : 'offline');
}

// Sets a status line (role=status, polite) to text; kind: ok | error | info.
export function say(el, text, kind = 'info') {
  el.className = 'msg ' + kind;
  el.textContent = text;
}

// An error as a sentence: the status and the server's reason.
export function describeError(e) {
  if (e && e.status) return `${e.status}: ${e.message}`;
  return String((e && e.message) || e);
}

// Calls fn at most once per `ms` (trailing call kept): for refreshes
// triggered by events, so that a burst of events makes one request.
export function throttle(fn, ms) {
  let timer = null;
  let last = 0;
  const run = () => {
    timer = null;
    last = Date.now();
    fn();
  };
  const t = () => {
    if (timer) return;
    const wait = Math.max(0, last + ms - Date.now());
    timer = setTimeout(run, wait);
  };
  t.cancel = () => clearTimeout(timer);
  return t;
}

// Parses JSON typed by an operator; throws an Error naming the field.
export function parseJson(text, what) {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${what} is not valid JSON: ${e.message}`);
  }
}
