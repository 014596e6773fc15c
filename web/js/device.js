// The device page: presence and info, the twin with its editors, the queue
// and history, sending a message (with a lifetime), calling an RPC (one
// button per method the device announced in its hello, "methods":[...], or
// any method from the form) and the device's live events. A persistent RPC's
// states (queued, sent, delivered, final) follow its events.

import { adminOne, request, enc } from './api.js';
import { h, fill, field, onlineBadge, badge, fmtTime, say, describeError, throttle } from './ui.js';
import { twinPanel } from './twin.js';
import { commandsPanel } from './commands.js';
import { lastSeen } from './fleet.js';

const EVENTS_SHOWN = 50;

function dl(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => h('div', {}, h('dt', {}, k), h('dd', {}, v))));
}

export function mount(root, ctx, dev) {
  const presence = h('div', { id: 'presence', 'aria-live': 'polite' });
  const msg = h('p', { class: 'msg', role: 'status' });
  let info = null;
  let gone = false;

  async function getDevice() {
    try {
      info = await adminOne({ command: 'getDevice', device: dev });
      renderPresence();
    } catch (e) {
      say(msg, describeError(e), 'error');
    }
    return info;
  }

  function renderPresence() {
    if (!info) return;
    const seen = lastSeen(ctx, dev, info.online);
    const via = info.gateway || info.via;
    const i = info.info || {};
    fill(presence,
      h('p', { class: 'presence-line' }, onlineBadge(info.online),
        info.online ? ` MQTT ${info.protocolVersion === 5 ? '5' : info.protocolVersion === 4 ? '3.1.1' : info.protocolVersion}` : '',
        via ? ` via gateway ${via}` : '',
        h('span', { class: 'hint', title: seen.title }, ' last seen ' + seen.text)),
      dl([['Queue depth', String(info.queue ? info.queue.depth : 0)], ['Next id', info.queue ? 'q' + info.queue.nextId : ''],
        ['Lightweight RPCs waiting', String(info.lightweightRpcsPending ?? 0)], ['Known since', info.createdMs ? fmtTime(info.createdMs) : ''],
        ...Object.entries(i).filter(([k]) => k !== 'methods').map(([k, v]) => ['Info ' + k, typeof v === 'string' ? v : JSON.stringify(v)])]));
    renderButtons(Array.isArray(i.methods) ? i.methods.filter((m) => typeof m === 'string') : []);
  }

  const twin = twinPanel(dev, getDevice);
  const cmds = commandsPanel(dev, () => getDevice());

  // ---- send a message ----
  const mPayload = h('textarea', { id: 'msg-payload', rows: 3, spellcheck: 'false' });
  const mType = h('select', { id: 'msg-type' }, h('option', { value: 'text/plain' }, 'text/plain'), h('option', { value: 'application/json' }, 'application/json'));
  const mTtl = h('input', { id: 'msg-ttl', type: 'number', min: 1, max: 604800, value: 3600, inputmode: 'numeric' });
  const mMsg = h('p', { class: 'msg', role: 'status', 'aria-live': 'polite', id: 'msg-result' });
  async function sendMessage(ev) {
    ev.preventDefault();
    try {
      const r = await request('POST', `/api/v1/devices/${enc(dev)}/messages?ttl=${enc(mTtl.value)}`, { body: mPayload.value, type: mType.value });
      say(mMsg, `Queued as ${r.data.id} (lifetime ${mTtl.value} s).`, 'ok');
      cmds.load();
    } catch (e) {
      say(mMsg, describeError(e), 'error');
    }
  }
  const msgForm = h('form', { class: 'card', id: 'msg-form', onsubmit: sendMessage, 'aria-labelledby': 'msg-h' },
    h('h2', { id: 'msg-h' }, 'Send a message'),
    field('Payload', mPayload), field('Content type', mType), field('Lifetime (TTL, seconds)', mTtl, '1..msg_ttl_max; the message expires unseen after it'),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary', id: 'msg-send' }, 'Send message')), mMsg);

  // ---- call an RPC ----
  const rMethod = h('input', { id: 'rpc-method', type: 'text', autocomplete: 'off', required: true, pattern: '[^/+#]+' });
  const rParams = h('textarea', { id: 'rpc-params', rows: 2, spellcheck: 'false', value: '{}' });
  const rTimeout = h('input', { id: 'rpc-timeout', type: 'number', min: 100, max: 3600000, value: 10000, inputmode: 'numeric' });
  const rPersistent = h('input', { id: 'rpc-persistent', type: 'checkbox' });
  const rRetries = h('input', { id: 'rpc-retries', type: 'number', min: 0, max: 100, value: 0, inputmode: 'numeric' });
  const rTtl = h('input', { id: 'rpc-ttl', type: 'number', min: 1, max: 604800, value: 3600, inputmode: 'numeric' });
  const rResult = h('div', { id: 'rpc-result', role: 'status', 'aria-live': 'polite' });
  const buttons = h('div', { class: 'buttons', id: 'rpc-buttons', role: 'group', 'aria-label': 'RPC buttons' });
  let tracked = null; // the persistent RPC whose states are shown {id, states: []}
  const seenStates = new Map(); // command id -> states from events (they may come before the 202)

  function renderButtons(methods) {
    fill(buttons, methods.length ? methods.map((m) => h('button', { type: 'button', class: 'rpc-button', 'data-method': m,
      onclick: () => call(m, rParams.value, false) }, m)) : h('span', { class: 'hint' }, 'The device announced no methods in its hello (info.methods); use the form.'));
  }

  async function call(method, params, persistent) {
    const q = new URLSearchParams({ timeout: rTimeout.value });
    if (persistent) {
      q.set('persistent', 'true');
      q.set('retries', rRetries.value);
      q.set('ttl', rTtl.value);
    }
    fill(rResult, h('p', { class: 'msg info' }, `Calling ${method}…`));
    const t0 = performance.now();
    try {
      const r = await request('POST', `/api/v1/devices/${enc(dev)}/rpc/${enc(method)}?${q}`, { body: params, type: 'application/json', raw: true });
      const ms = Math.round(performance.now() - t0);
      if (persistent && r.status === 202 && r.data && r.data.id) {
        const early = seenStates.get(r.data.id) || [];
        tracked = { id: r.data.id, method, states: early.length ? early : [['queued', Date.now()]] };
        seenStates.set(r.data.id, tracked.states);
        renderTracked();
        cmds.load();
        return;
      }
      tracked = null;
      fill(rResult,
        h('p', { class: 'msg ' + (r.ok ? 'ok' : 'error') }, `${method}: status ${r.status} in ${ms} ms`),
        h('pre', { id: 'rpc-answer', tabindex: '0', 'aria-label': 'RPC answer' }, r.text || '(no body)'));
    } catch (e) {
      fill(rResult, h('p', { class: 'msg error' }, describeError(e)));
    }
  }

  function renderTracked() {
    if (!tracked) return;
    fill(rResult,
      h('p', { class: 'msg info' }, `Persistent RPC ${tracked.method} is ${tracked.id}:`),
      h('ol', { class: 'states', id: 'rpc-states' }, tracked.states.map(([s, t, extra]) =>
        h('li', {}, badge(s), ' ', h('span', { class: 'hint' }, fmtTime(t)), extra ? ' ' + extra : ''))));
  }

  const rpcForm = h('form', { class: 'card', id: 'rpc-form', 'aria-labelledby': 'rpc-h',
    onsubmit: (ev) => {
      ev.preventDefault();
      call(rMethod.value.trim(), rParams.value, rPersistent.checked);
    } },
  h('h2', { id: 'rpc-h' }, 'Call an RPC'),
  buttons,
  field('Method', rMethod), field('Parameters', rParams, 'sent as the request body (application/json)'),
  field('Timeout (ms)', rTimeout),
  h('div', { class: 'check' }, rPersistent, h('label', { for: rPersistent.id }, 'Persistent (queued, survives offline; the result follows as events)')),
  h('div', { class: 'inline' }, field('Retries', rRetries), field('Lifetime (TTL, seconds)', rTtl)),
  h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary', id: 'rpc-call' }, 'Call')),
  rResult);

  // ---- live events of this device ----
  const evList = h('ol', { id: 'device-events', class: 'events', reversed: true });
  const twinRefresh = throttle(() => twin.refresh(), 1000);
  const devRefresh = throttle(() => getDevice(), 3000);
  const off = ctx.stream.on((ev) => {
    if (ev.subject !== dev || gone) return;
    evList.prepend(h('li', {}, h('code', {}, ev.type), ' ', h('span', { class: 'hint' }, fmtTime(Date.parse(ev.time))), ' ',
      h('span', { class: 'data' }, JSON.stringify(ev.data))));
    while (evList.children.length > EVENTS_SHOWN) evList.lastChild.remove();
    if (ev.type.startsWith('c2d.presence.') && info) {
      info.online = ev.type === 'c2d.presence.connected';
      renderPresence();
    }
    if (/^c2d\.(twin|device)\./.test(ev.type)) twinRefresh();
    if (/^c2d\.(presence|msg|rpc|device)\./.test(ev.type)) devRefresh();
    cmds.onEvent(ev);
    const d = ev.data || {};
    if (d.id && d.state && /^c2d\.rpc\./.test(ev.type)) {
      const states = seenStates.get(d.id) || [];
      states.push([d.state, Date.parse(ev.time) || Date.now(), d.status ? `status ${d.status}` : '']);
      seenStates.set(d.id, states);
      if (seenStates.size > 100) seenStates.delete(seenStates.keys().next().value);
      if (tracked && d.id === tracked.id) {
        tracked.states = states;
        renderTracked();
      }
    }
  });

  fill(root,
    h('p', { class: 'crumbs' }, h('a', { href: '#/fleet' }, 'Fleet'), ' / ', dev),
    h('h1', { tabindex: '-1' }, 'Device ', h('span', { class: 'mono', id: 'device-id' }, dev)),
    msg, presence,
    h('div', { class: 'cols' },
      h('div', {}, twin.el, cmds.el),
      h('div', {}, rpcForm, msgForm,
        h('section', { class: 'card', 'aria-labelledby': 'dev-ev-h' }, h('h2', { id: 'dev-ev-h' }, 'Live events'), evList))));
  renderButtons([]);
  twin.refresh();
  cmds.load();
  return () => {
    gone = true;
    off();
    cmds.stop();
    twinRefresh.cancel();
    devRefresh.cancel();
  };
}
