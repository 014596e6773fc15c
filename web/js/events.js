// The live event stream page: every CloudEvent c2d-http's SSE stream brings
// (the newest first, the last KEEP kept), filtered by device and type.
import { h, fill, field, fmtTime } from './ui.js';

const KEEP = 500;

export function mount(root, ctx) {
  const devIn = h('input', { type: 'search', id: 'ev-device', autocomplete: 'off' });
  const typeIn = h('input', { type: 'search', id: 'ev-type', autocomplete: 'off', placeholder: 'c2d.rpc.' });
  const pause = h('input', { type: 'checkbox', id: 'ev-pause' });
  const body = h('tbody');
  const count = h('p', { class: 'hint', 'aria-live': 'polite' });
  const seen = ctx.recent; // shared ring of recent events (app.js)

  function match(ev) {
    return (!devIn.value || (ev.subject || '').startsWith(devIn.value)) && (!typeIn.value || ev.type.startsWith(typeIn.value));
  }

  function row(ev) {
    return h('tr', {},
      h('td', { class: 'mono' }, fmtTime(Date.parse(ev.time))),
      h('td', {}, h('a', { href: '#/device/' + encodeURIComponent(ev.subject || '') }, ev.subject || '')),
      h('td', {}, h('code', {}, ev.type)),
      h('td', { class: 'data' }, JSON.stringify(ev.data)));
  }

  function render() {
    const list = seen.filter(match).slice(-KEEP).reverse();
    fill(body, list.length ? list.map(row) : h('tr', {}, h('td', { colspan: 4, class: 'empty' }, 'No events yet.')));
    count.textContent = `${list.length} events shown (the last ${KEEP} are kept).`;
  }

  const off = ctx.stream.on((ev) => {
    if (pause.checked || !match(ev)) return;
    body.prepend(row(ev));
    const empty = body.querySelector('td.empty');
    if (empty) empty.parentElement.remove();
    while (body.children.length > KEEP) body.lastChild.remove();
    count.textContent = `${body.children.length} events shown (the last ${KEEP} are kept).`;
  });

  fill(root,
    h('h1', { tabindex: '-1' }, 'Live events'),
    h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter events', onsubmit: (e) => e.preventDefault(), oninput: render },
      field('Device starts with', devIn), field('Type starts with', typeIn),
      h('div', { class: 'check' }, pause, h('label', { for: pause.id }, 'Pause'))),
    count,
    h('div', { class: 'table-wrap' }, h('table', { id: 'events-table' },
      h('caption', { class: 'sr-only' }, 'Events, newest first'),
      h('thead', {}, h('tr', {}, ['Time', 'Device', 'Type', 'Data'].map((t) => h('th', { scope: 'col' }, t)))),
      body)));
  render();
  return off;
}
