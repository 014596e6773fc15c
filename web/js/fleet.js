// The fleet page: queryDevices (protocol-v2 section 2) paged by its `next`
// cursor, so it stays fast with 100000 devices (each call examines at most
// 5000 records; a page keeps calling until it has its rows or the end), then
// one admin request with a getDevice per row for queue depth, tags and info.
// Live: presence events flip the online badges; command and tag events
// refresh the rows they name, at most once per REFRESH_MS.

import { admin, adminOne } from './api.js';
import { cursorPager } from './pager.js';
import { h, fill, field, onlineBadge, fmtAgo, fmtTime, say, describeError, throttle, parseJson } from './ui.js';

const PAGE = 50;
const MAX_CALLS = 25; // 25 x 5000 records: a whole 100000-device fleet for one page
const REFRESH_MS = 5000;

// "site=berlin, ring=canary" -> {"tags.site":"berlin","tags.ring":"canary"};
// values that parse as JSON (numbers, true) are taken as such.
export function tagWhere(text) {
  const where = {};
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const i = part.indexOf('=');
    if (i <= 0) throw new Error(`tag filter "${part}" is not key=value`);
    const k = part.slice(0, i).trim();
    const v = part.slice(i + 1).trim();
    let val = v;
    try {
      val = JSON.parse(v);
    } catch { /* a string */ }
    where['tags.' + k] = val;
  }
  return where;
}

function tagText(tags) {
  const entries = Object.entries(tags || {});
  if (!entries.length) return '—';
  return entries.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ');
}

export function lastSeen(ctx, dev, online) {
  if (online) return { text: 'now', title: 'connected' };
  const p = ctx.presence.get(dev);
  if (p && p.time) return { text: fmtAgo(p.time), title: fmtTime(p.time) };
  return { text: '—', title: 'not seen while this dashboard was open (the plugin does not store it)' };
}

export function mount(root, ctx) {
  const idIn = h('input', { type: 'search', id: 'fleet-id', autocomplete: 'off', placeholder: 'lamp-' });
  const onlineIn = h('select', { id: 'fleet-online' },
    h('option', { value: '' }, 'all'), h('option', { value: 'true' }, 'online'), h('option', { value: 'false' }, 'offline'));
  const tagsIn = h('input', { type: 'text', id: 'fleet-tags', autocomplete: 'off', placeholder: 'site=berlin, ring=canary' });
  const queryIn = h('textarea', { id: 'fleet-query', rows: 2, spellcheck: 'false', placeholder: '{"reported.fw":{"$lt":"2.2"}}' });
  const msg = h('p', { class: 'msg', role: 'status', 'aria-live': 'polite' });
  const stats = h('p', { class: 'hint', id: 'fleet-stats' });
  const body = h('tbody');
  const rows = new Map(); // dev -> {tr, info}
  let where = {};
  let gone = false;

  function buildWhere() {
    const w = queryIn.value.trim() ? parseJson(queryIn.value, 'The query') : {};
    if (typeof w !== 'object' || Array.isArray(w) || w === null) throw new Error('The query must be a JSON object (a where)');
    if (idIn.value.trim()) w.device = { $prefix: idIn.value.trim() };
    if (onlineIn.value) w.online = onlineIn.value === 'true';
    Object.assign(w, tagWhere(tagsIn.value));
    return w;
  }

  function apply(ev) {
    if (ev) ev.preventDefault();
    try {
      where = buildWhere();
      queryIn.removeAttribute('aria-invalid');
    } catch (e) {
      queryIn.setAttribute('aria-invalid', 'true');
      say(msg, e.message, 'error');
      return;
    }
    pager.first();
  }

  // One page: queryDevices calls from `start` until PAGE rows or the end.
  async function fetchPage(start) {
    say(msg, 'Loading…');
    let after = start;
    let found = [];
    let scanned = 0;
    let calls = 0;
    do {
      const data = await adminOne({ command: 'queryDevices', where, count: PAGE - found.length, after: after || undefined });
      found = found.concat(data.devices.map((d) => d.device));
      scanned += data.scanned || 0;
      after = data.next;
      calls++;
    } while (after && found.length < PAGE && calls < MAX_CALLS && !gone);
    return { items: found, next: after, scanned };
  }

  async function showPage(found, r) {
    if (gone) return;
    await render(found);
    say(msg, found.length ? `${found.length} devices on this page (${r.scanned} records examined).` : 'No devices match.', 'ok');
  }

  function showError(e) {
    say(msg, describeError(e), 'error');
    fill(body, h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'Could not load the fleet: ' + describeError(e))));
  }

  const pager = cursorPager('fleet', fetchPage, showPage, showError);

  async function details(devs) {
    if (!devs.length) return [];
    const resps = await admin(devs.map((device) => ({ command: 'getDevice', device })));
    return resps.map((r, i) => r.data || { device: devs[i], error: r.error });
  }

  function rowFor(d) {
    const seen = lastSeen(ctx, d.device, d.online);
    const via = d.gateway || d.via;
    const info = d.info || {};
    return h('tr', { 'data-device': d.device },
      h('th', { scope: 'row' }, h('a', { href: '#/device/' + encodeURIComponent(d.device) }, d.device)),
      h('td', { class: 'c-online' }, onlineBadge(d.online), via ? h('span', { class: 'hint' }, ' via ' + via) : null),
      h('td', {}, tagText(d.tags)),
      h('td', { class: 'num c-queue' }, d.queue ? String(d.queue.depth) : '—'),
      h('td', { class: 'c-seen', title: seen.title }, seen.text),
      h('td', {}, [info.model, info.fw].filter(Boolean).join(' ') || '—'),
      h('td', {}, d.twin ? `d${d.twin.desired} / r${d.twin.reported}` + (d.twin.desired === 0 || d.twin.acknowledged === d.twin.desired ? '' : ' (not acknowledged)') : '—'));
  }

  async function render(devs) {
    const ds = await details(devs);
    rows.clear();
    fill(body, ds.length ? ds.map((d) => {
      const tr = rowFor(d);
      rows.set(d.device, { tr, d });
      return tr;
    }) : h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'No devices match.')));
  }

  const dirty = new Set();
  const refresh = throttle(async () => {
    const devs = [...dirty].filter((d) => rows.has(d));
    dirty.clear();
    try {
      for (const d of await details(devs)) {
        const r = rows.get(d.device);
        if (!r) continue;
        const tr = rowFor(d);
        r.tr.replaceWith(tr);
        rows.set(d.device, { tr, d });
      }
    } catch (e) {
      say(msg, describeError(e), 'error');
    }
  }, REFRESH_MS);

  const statsRefresh = throttle(async () => {
    try {
      const s = await adminOne({ command: 'getStats' });
      stats.textContent = `${s.devicesOnline} devices online, ${s.twins ?? '?'} twins.`;
    } catch (e) {
      stats.textContent = '';
    }
  }, REFRESH_MS);

  const off = ctx.stream.on((ev) => {
    if (ev.type.startsWith('c2d.presence.')) statsRefresh();
    const r = rows.get(ev.subject);
    if (!r) return;
    if (ev.type.startsWith('c2d.presence.')) {
      r.d.online = ev.type === 'c2d.presence.connected';
      const tr = rowFor(r.d);
      r.tr.replaceWith(tr);
      r.tr = tr;
    } else if (/^c2d\.(msg|rpc|twin|device)\./.test(ev.type)) {
      dirty.add(ev.subject);
      refresh();
    }
  });

  const form = h('form', { class: 'filters', id: 'fleet-form', onsubmit: apply, role: 'search', 'aria-label': 'Find devices' },
    field('Device id starts with', idIn),
    field('Presence', onlineIn),
    field('Tags', tagsIn, 'key=value, comma separated'),
    field('Query', queryIn, 'a where object: device, online, tags.x, desired.x, reported.x, info.x with $eq $ne $in $nin $exists $lt $lte $gt $gte $prefix, $or'),
    h('div', { class: 'buttons' },
      h('button', { type: 'submit', class: 'primary', id: 'fleet-apply' }, 'Search'),
      h('button', { type: 'reset', onclick: () => setTimeout(apply, 0) }, 'Clear')));

  fill(root,
    h('h1', { tabindex: '-1' }, 'Fleet'),
    stats,
    form,
    msg,
    h('div', { class: 'table-wrap' },
      h('table', { id: 'fleet-table' },
        h('caption', { class: 'sr-only' }, 'Devices'),
        h('thead', {}, h('tr', {}, ['Device', 'Presence', 'Tags', 'Queue', 'Last seen', 'Model', 'Twin'].map((t) => h('th', { scope: 'col' }, t)))),
        body)),
    pager.nav);
  apply();
  statsRefresh();
  return () => {
    gone = true;
    off();
    refresh.cancel();
    statsRefresh.cancel();
  };
}
