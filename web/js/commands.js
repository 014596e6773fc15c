// The device page's commands: its queue (live) and history (listCommands
// with history) with state, deliveries and outcome; Cancel for live ones,
// Retry for timed-out, failed, expired and dead ones. Events of the device
// move a row's state at once; the list is fetched again at most every
// RELOAD_MS while events come.

import { adminOne } from './api.js';
import { h, fill, badge, fmtAgo, fmtTime, say, describeError, throttle } from './ui.js';

const RELOAD_MS = 3000;
const RETRYABLE = new Set(['timeout', 'failed', 'expired', 'dead']);

export function commandsPanel(dev, onChange) {
  const body = h('tbody');
  const msg = h('p', { class: 'msg', role: 'status', 'aria-live': 'polite' });
  const rows = new Map(); // id -> {tr, c}

  async function act(label, cmd) {
    try {
      await adminOne({ ...cmd, device: dev });
      say(msg, label, 'ok');
      reload();
      onChange();
    } catch (e) {
      say(msg, describeError(e), 'error');
    }
  }

  function rowFor(c) {
    const state = c.finalState || c.state;
    const live = !c.finalState;
    const actions = [];
    if (live) {
      actions.push(h('button', { type: 'button', 'aria-label': `Cancel ${c.id}`, onclick: () => act(`${c.id} cancelled`, { command: 'cancelCommand', id: c.id }) }, 'Cancel'));
    } else if (RETRYABLE.has(state)) {
      actions.push(h('button', { type: 'button', class: 'primary', 'aria-label': `Retry ${c.id}`, onclick: () => act(`${c.id} queued again`, { command: 'retryCommand', id: c.id }) }, 'Retry'));
    }
    return h('tr', { 'data-id': c.id, 'data-state': state },
      h('th', { scope: 'row' }, c.id),
      h('td', {}, c.kind === 'rpc' ? 'RPC ' + (c.method || '') : 'message'),
      h('td', { class: 'c-state' }, badge(state), live ? '' : h('span', { class: 'hint' }, ' history')),
      h('td', { class: 'num' }, c.deliveries ?? '—'),
      h('td', { class: 'num' }, c.retriesLeft ?? '—'),
      h('td', { class: 'num' }, c.status ?? '—'),
      h('td', { title: fmtTime(c.createdMs) }, fmtAgo(c.createdMs)),
      h('td', { title: fmtTime(c.expiresMs) }, live ? fmtAgo(c.expiresMs) : fmtAgo(c.finishedMs)),
      h('td', { class: 'actions' }, actions));
  }

  async function load() {
    try {
      const data = await adminOne({ command: 'listCommands', device: dev, history: true, count: 100 });
      rows.clear();
      const cs = data.commands || [];
      fill(body, cs.length ? cs.map((c) => {
        const tr = rowFor(c);
        rows.set(c.id, { tr, c });
        return tr;
      }) : h('tr', {}, h('td', { colspan: 9, class: 'empty' }, 'No commands in the queue or its history.')));
    } catch (e) {
      say(msg, describeError(e), 'error');
    }
  }
  const reload = throttle(load, RELOAD_MS);

  // A command event: move the row now, reload soon (new rows, final data).
  function onEvent(ev) {
    const d = ev.data || {};
    if (!/^c2d\.(msg|rpc)\./.test(ev.type)) return;
    const r = d.id && rows.get(d.id);
    if (r && d.state) {
      const final = /\.(successful|completed|rejected|failed|timeout|expired|dead|cancelled|purged)$/.test(ev.type);
      const c = { ...r.c, state: d.state, deliveries: d.deliveries ?? r.c.deliveries, status: d.status ?? r.c.status };
      if (final) {
        c.finalState = d.state;
        c.finishedMs = Date.parse(ev.time) || Date.now();
      } else {
        delete c.finalState;
      }
      if (d.retriesLeft !== undefined) c.retriesLeft = d.retriesLeft;
      const tr = rowFor(c);
      r.tr.replaceWith(tr);
      rows.set(d.id, { tr, c });
    }
    reload();
  }

  const el = h('section', { class: 'card', 'aria-labelledby': 'cmds-h' },
    h('h2', { id: 'cmds-h' }, 'Queue and history'),
    msg,
    h('div', { class: 'table-wrap' }, h('table', { id: 'commands-table' },
      h('caption', { class: 'sr-only' }, 'Commands of ' + dev),
      h('thead', {}, h('tr', {}, ['Id', 'What', 'State', 'Deliveries', 'Retries left', 'Status', 'Created', 'Expires / finished', 'Actions']
        .map((t) => h('th', { scope: 'col' }, t)))),
      body)),
    h('div', { class: 'buttons' },
      h('button', { type: 'button', id: 'purge', onclick: () => {
        if (confirm(`Purge every live command of ${dev}?`)) act('queue purged', { command: 'purgeQueue' });
      } }, 'Purge queue')));
  return { el, load, onEvent, stop: () => reload.cancel() };
}
