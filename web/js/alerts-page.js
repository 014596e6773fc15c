// The alerts page: the AlertStore's entries with Retry, Dismiss and Cancel.
import { h, fill, badge, fmtAgo, fmtTime, say, describeError } from './ui.js';

const MORE = 500;

function deviceLink(dev) {
  return h('a', { href: '#/device/' + encodeURIComponent(dev) }, dev);
}

export function mount(root, ctx) {
  const store = ctx.alerts;
  const msg = h('p', { class: 'msg', role: 'status', 'aria-live': 'polite' });
  const coverage = h('p', { class: 'hint', id: 'alerts-coverage' });
  const scanBtn = h('button', { type: 'button', id: 'alerts-scan', onclick: scanMore }, 'Scan more history');
  const alertBody = h('tbody');
  const liveBody = h('tbody');

  async function act(label, fn) {
    try {
      await fn();
      say(msg, label, 'ok');
    } catch (e) {
      say(msg, describeError(e), 'error');
    }
  }

  function row(e, actions) {
    const what = e.kind === 'rpc' ? 'RPC ' + (e.method || '') : 'message';
    return h('tr', { 'data-key': e.device + '/' + e.id },
      h('td', {}, deviceLink(e.device)),
      h('td', {}, e.id),
      h('td', {}, what),
      h('td', {}, badge(e.state)),
      h('td', {}, e.status ?? '—'),
      h('td', {}, e.deliveries ?? '—'),
      h('td', { title: fmtTime(e.time) }, fmtAgo(e.time)),
      h('td', {}, e.source === 'history' ? 'history' : 'live event'),
      h('td', { class: 'actions' }, actions));
  }

  function render() {
    const alerts = store.list('alert');
    const live = store.list('live');
    fill(alertBody, alerts.length ? alerts.map((e) => row(e, [
      h('button', { type: 'button', class: 'primary', 'aria-label': `Retry ${e.id} of ${e.device}`,
        onclick: () => act(`${e.id} of ${e.device} queued again`, () => store.retry(e)) }, 'Retry'),
      h('button', { type: 'button', 'aria-label': `Dismiss ${e.id} of ${e.device}`,
        onclick: () => act(`${e.id} of ${e.device} dismissed (in this browser)`, async () => store.dismiss(e)) }, 'Dismiss'),
    ])) : h('tr', {}, h('td', { colspan: 9, class: 'empty' }, 'No open alerts.')));
    fill(liveBody, live.length ? live.map((e) => row(e, [
      h('button', { type: 'button', 'aria-label': `Cancel ${e.id} of ${e.device}`,
        onclick: () => act(`${e.id} of ${e.device} cancelled`, () => store.cancel(e)) }, 'Cancel'),
    ])) : h('tr', {}, h('td', { colspan: 9, class: 'empty' }, 'Nothing retrying.')));
    coverage.textContent = store.scanDone
      ? `History scanned on all ${store.scanned} known devices; newer alerts arrive live.`
      : `History scanned on the first ${store.scanned} devices (in id order); alerts of every device arrive live while this page is open.`;
    scanBtn.disabled = store.scanDone || !!store.scanning;
  }

  async function scanMore() {
    say(msg, 'Scanning history…');
    try {
      const n = await store.scan(MORE);
      say(msg, `Scanned ${n} more devices.`, 'ok');
    } catch (e) {
      say(msg, describeError(e), 'error');
    }
  }

  const head = () => h('thead', {}, h('tr', {}, ['Device', 'Command', 'What', 'State', 'Status', 'Deliveries', 'When', 'Source', 'Actions']
    .map((t) => h('th', { scope: 'col' }, t))));

  fill(root,
    h('h1', { tabindex: '-1' }, 'Alerts'),
    h('p', {}, 'Timed-out, failed and expired persistent RPCs and expired or dead messages. Retry queues the command again under the same id.'),
    msg,
    h('section', { 'aria-labelledby': 'alerts-open' },
      h('h2', { id: 'alerts-open' }, 'Needs action'),
      h('div', { class: 'table-wrap' }, h('table', { id: 'alerts-table' }, h('caption', { class: 'sr-only' }, 'Open alerts'), head(), alertBody))),
    h('section', { 'aria-labelledby': 'alerts-live' },
      h('h2', { id: 'alerts-live' }, 'Retried or retrying'),
      h('div', { class: 'table-wrap' }, h('table', { id: 'alerts-live-table' }, h('caption', { class: 'sr-only' }, 'Commands live again'), head(), liveBody))),
    h('div', { class: 'row' }, coverage, scanBtn));
  render();
  const off = store.on(render);
  const tick = setInterval(render, 15000); // "2 min ago" labels; no request
  return () => {
    off();
    clearInterval(tick);
  };
}
