// The jobs page: fleet jobs (protocol-v2 section 3; docs/protocol.md "Fleet
// jobs") listed with listJobs, each with a progress bar split by execution
// state; a form for createJob (the plugin's error shown as it says it);
// cancelJob; one job's devices with listJobDevices, paged and filtered by
// state. Live: c2d.job.* events (the fleet SSE stream carries
// $c2d/$jobs/+/events) update a job's counts at once; anything else they
// imply is re-read at most once per REFRESH_MS.

import { adminOne } from './api.js';
import { h, fill, field, badge, fmtTime, say, describeError, throttle, parseJson } from './ui.js';
import { cursorPager } from './pager.js';

const PAGE = 50;
const REFRESH_MS = 4000;
const ENDED = new Set(['completed', 'cancelled', 'aborted', 'expired']);
const STATES = ['succeeded', 'failed', 'timed_out', 'expired', 'cancelled', 'rejected', 'in_progress', 'queued'];
const FINAL = new Set(['succeeded', 'failed', 'timed_out', 'expired', 'cancelled', 'rejected']);

// {counts, total} -> {done, pct, text}: finished executions of the total.
export function progressOf(job) {
  const counts = job.counts || {};
  const total = job.total || 0;
  let done = 0;
  for (const s of FINAL) done += counts[s] || 0;
  const pct = total ? Math.floor((done * 100) / total) : (job.state === 'running' ? 0 : 100);
  const parts = STATES.filter((s) => counts[s]).map((s) => `${s.replace('_', ' ')} ${counts[s]}`);
  return { done, pct, text: parts.join(', ') || 'no executions yet' };
}

// The bar: one segment per execution state (width = its share), the
// percentage and the counts written out beside it (colour is not the only signal).
function progressBar(job) {
  const p = progressOf(job);
  const total = job.total || 0;
  const bar = h('div', { class: 'jobbar', role: 'img', 'aria-label': `${job.job}: ${p.pct}% finished (${p.text})` },
    STATES.filter((s) => (job.counts || {})[s]).map((s) => {
      const seg = h('span', { class: 'seg s-' + s, title: `${s} ${job.counts[s]}` });
      seg.style.width = `${total ? (job.counts[s] * 100) / total : 0}%`; // CSSOM: allowed by the CSP
      return seg;
    }));
  return h('div', { class: 'progress' }, bar,
    h('span', { class: 'pct' }, `${p.pct}%`), h('small', { class: 'hint' }, ` ${p.done}/${total} · ${p.text}`));
}

// The createJob command the form describes; throws an Error naming the field.
export function jobCommand(f) {
  const job = f.job.value.trim();
  if (!job) throw new Error('The job id is required');
  const target = {};
  if (f.targetKind.value === 'devices') {
    target.devices = f.target.value.split(/[\s,]+/).filter(Boolean);
    if (!target.devices.length) throw new Error('List at least one device');
  } else {
    target.where = parseJson(f.target.value || '{}', 'The where query');
  }
  let action;
  if (f.actionKind.value === 'msg') {
    action = { msg: { payload: f.payload.value } };
    if (f.ttl.value) action.msg.ttl = Number(f.ttl.value);
  } else if (f.actionKind.value === 'twin') {
    action = { twin: { desired: parseJson(f.payload.value || '{}', 'The desired patch') } };
  } else {
    action = { rpc: { method: f.method.value.trim() } };
    if (f.payload.value.trim()) action.rpc.params = parseJson(f.payload.value, 'The RPC params');
    if (f.ttl.value) action.rpc.ttl = Number(f.ttl.value);
  }
  const rollout = {};
  if (f.perMinute.value) rollout.maxPerMinute = Number(f.perMinute.value);
  if (f.inFlight.value) rollout.maxInFlight = Number(f.inFlight.value);
  const cmd = { command: 'createJob', job, target, action };
  if (Object.keys(rollout).length) cmd.rollout = rollout;
  return cmd;
}

export function mount(root, ctx) {
  const msg = h('p', { class: 'msg', role: 'status', 'aria-live': 'polite' });
  const body = h('tbody');
  const rows = new Map(); // job -> {tr, job}
  let gone = false;

  // ---- the list ----
  function rowFor(j) {
    const running = j.state === 'running';
    return h('tr', { 'data-job': j.job },
      h('th', { scope: 'row' }, j.job),
      h('td', { class: 'c-state' }, badge(j.state || 'unknown')),
      h('td', { class: 'c-progress' }, progressBar(j)),
      h('td', { title: j.created || '' }, j.created ? fmtTime(Date.parse(j.created)) : '—'),
      h('td', { class: 'actions' },
        h('button', { type: 'button', 'aria-label': `Devices of ${j.job}`, onclick: () => showDevices(j.job) }, 'Devices'),
        running ? h('button', { type: 'button', class: 'danger', 'aria-label': `Cancel ${j.job}`, onclick: () => cancel(j.job) }, 'Cancel') : null));
  }

  function put(j) {
    const old = rows.get(j.job);
    const tr = rowFor(j);
    if (old) old.tr.replaceWith(tr);
    else {
      const empty = body.querySelector('td.empty');
      if (empty) empty.parentElement.remove();
      body.prepend(tr);
    }
    rows.set(j.job, { tr, job: j });
  }

  const jobs = cursorPager('jobs', async (after) => {
    const data = await adminOne({ command: 'listJobs', count: PAGE, after: after || undefined });
    return { items: data.jobs, next: data.next };
  }, (list) => {
    rows.clear();
    fill(body, list.length ? [] : h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'No jobs yet.')));
    for (const j of list) {
      const tr = rowFor(j);
      body.append(tr);
      rows.set(j.job, { tr, job: j });
    }
  }, (e) => say(msg, 'Could not list the jobs: ' + describeError(e), 'error'));

  async function cancel(job) {
    try {
      await adminOne({ command: 'cancelJob', job });
      say(msg, `${job} cancelled.`, 'ok');
      await refreshJob(job);
    } catch (e) {
      say(msg, `Cancel ${job}: ${describeError(e)}`, 'error');
    }
  }

  async function refreshJob(job) {
    const j = await adminOne({ command: 'getJob', job });
    const r = rows.get(job);
    // a reply older than the event that ended the job (the HTTP answer can
    // come after the event stream's c2d.job.completed): keep the event's
    if (r && ENDED.has(r.job.state) && !ENDED.has(j.state)) return;
    if (!gone) put(j);
  }

  // jobs whose events said more than their counts (started, completed...)
  const dirty = new Set();
  const refresh = throttle(async () => {
    const list = [...dirty];
    dirty.clear();
    for (const job of list) {
      try {
        await refreshJob(job);
      } catch (e) {
        say(msg, describeError(e), 'error');
      }
    }
    if (devJob && list.includes(devJob)) devices.reload();
  }, REFRESH_MS);

  // ---- the form ----
  const f = {
    job: h('input', { type: 'text', id: 'job-id', autocomplete: 'off', required: true, placeholder: 'cfg-1' }),
    targetKind: h('select', { id: 'job-target-kind' }, h('option', { value: 'devices' }, 'device list'), h('option', { value: 'where' }, 'where query (JSON)')),
    target: h('textarea', { id: 'job-target', rows: 2, spellcheck: 'false', placeholder: 'lamp-1, lamp-2' }),
    actionKind: h('select', { id: 'job-action-kind' }, h('option', { value: 'msg' }, 'message'),
      h('option', { value: 'twin' }, 'twin desired patch'), h('option', { value: 'rpc' }, 'persistent RPC')),
    method: h('input', { type: 'text', id: 'job-method', autocomplete: 'off', placeholder: 'reboot' }),
    payload: h('textarea', { id: 'job-payload', rows: 2, spellcheck: 'false' }),
    ttl: h('input', { type: 'number', id: 'job-ttl', min: 1, placeholder: '600' }),
    perMinute: h('input', { type: 'number', id: 'job-per-minute', min: 1, placeholder: 'no limit' }),
    inFlight: h('input', { type: 'number', id: 'job-in-flight', min: 1, placeholder: 'no limit' }),
  };
  const formMsg = h('p', { class: 'msg', id: 'job-form-msg', role: 'alert' });
  const payloadLabel = h('label', { for: f.payload.id });
  const methodField = field('RPC method', f.method);
  const ttlField = field('TTL (s)', f.ttl);

  function actionChanged() {
    const k = f.actionKind.value;
    payloadLabel.textContent = { msg: 'Message payload', twin: 'Desired patch (JSON)', rpc: 'RPC params (JSON, optional)' }[k];
    f.payload.placeholder = { msg: 'reload', twin: '{"rate":5}', rpc: '{"delay":10}' }[k];
    methodField.hidden = k !== 'rpc';
    ttlField.hidden = k === 'twin';
  }
  function targetChanged() {
    f.target.placeholder = f.targetKind.value === 'devices' ? 'lamp-1, lamp-2' : '{"tags.site":"berlin"}';
  }
  f.actionKind.addEventListener('change', actionChanged);
  f.targetKind.addEventListener('change', targetChanged);

  async function create(ev) {
    ev.preventDefault();
    let cmd;
    try {
      cmd = jobCommand(f);
      f.target.removeAttribute('aria-invalid');
    } catch (e) {
      say(formMsg, e.message, 'error');
      return;
    }
    say(formMsg, 'Creating…');
    try {
      await adminOne(cmd);
      say(formMsg, `Job ${cmd.job} created.`, 'ok');
      await refreshJob(cmd.job);
    } catch (e) {
      say(formMsg, 'The plugin refused the job: ' + describeError(e), 'error');
    }
  }

  const form = h('form', { class: 'filters jobform', id: 'job-form', onsubmit: create, 'aria-labelledby': 'job-new' },
    h('h2', { id: 'job-new', class: 'span' }, 'New job'),
    field('Job id', f.job),
    field('Target', f.targetKind),
    field('Devices or where', f.target, 'device ids separated by commas or spaces, or a where object like the fleet query'),
    field('Action', f.actionKind),
    methodField,
    h('div', { class: 'field' }, payloadLabel, f.payload),
    ttlField,
    field('Max per minute', f.perMinute),
    field('Max in flight', f.inFlight),
    h('div', { class: 'buttons span' }, h('button', { type: 'submit', class: 'primary', id: 'job-create' }, 'Create job')),
    formMsg);
  actionChanged();

  // ---- one job's devices ----
  let devJob = null;
  const devTitle = h('h2', { id: 'job-devices-title' }, 'Devices of a job');
  const devState = h('select', { id: 'job-dev-state', onchange: () => devices.first() },
    h('option', { value: '' }, 'all'), STATES.map((s) => h('option', { value: s }, s.replace('_', ' '))));
  const devBody = h('tbody');
  const devMsg = h('p', { class: 'msg', role: 'status', 'aria-live': 'polite' });
  const devSection = h('section', { 'aria-labelledby': 'job-devices-title', id: 'job-devices', hidden: true });
  const devices = cursorPager('job-devices', async (after) => {
    const data = await adminOne({ command: 'listJobDevices', job: devJob, count: PAGE,
      state: devState.value || undefined, after: after || undefined });
    return { items: data.devices, next: data.next };
  }, (list) => {
    say(devMsg, '');
    fill(devBody, list.length ? list.map((d) => h('tr', { 'data-device': d.device },
      h('th', { scope: 'row' }, h('a', { href: '#/device/' + encodeURIComponent(d.device) }, d.device)),
      h('td', {}, badge(d.state, d.state.replace('_', ' '))),
      h('td', {}, d.status ?? '—'))) : h('tr', {}, h('td', { colspan: 3, class: 'empty' }, 'No devices on this page.')));
  }, (e) => say(devMsg, describeError(e), 'error'));

  function showDevices(job) {
    devJob = job;
    devTitle.textContent = `Devices of ${job}`;
    devSection.hidden = false;
    devices.first();
    devTitle.setAttribute('tabindex', '-1');
    devTitle.focus();
  }

  fill(devSection, devTitle,
    h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter the job\'s devices', onsubmit: (e) => e.preventDefault() },
      field('Execution state', devState)),
    devMsg,
    h('div', { class: 'table-wrap' }, h('table', { id: 'job-devices-table' },
      h('caption', { class: 'sr-only' }, 'The job\'s devices'),
      h('thead', {}, h('tr', {}, ['Device', 'State', 'Status'].map((t) => h('th', { scope: 'col' }, t)))),
      devBody)),
    devices.nav);

  const off = ctx.stream.on((ev) => {
    if (ev.type === 'c2d.job.execution') {
      if (ev.data.job && rows.has(ev.data.job)) {
        dirty.add(ev.data.job);
        refresh();
      }
      return;
    }
    if (!ev.type.startsWith('c2d.job.') || !ev.data.job) return;
    const r = rows.get(ev.data.job);
    if (ev.data.counts && r) put({ ...r.job, state: ev.data.state || r.job.state, total: ev.data.total ?? r.job.total, counts: ev.data.counts });
    if (ev.type !== 'c2d.job.progress' || !r) {
      dirty.add(ev.data.job);
      refresh();
    }
  });

  fill(root,
    h('h1', { tabindex: '-1' }, 'Jobs'),
    h('p', {}, 'Fleet jobs: one action (a message, a desired patch or a persistent RPC) for a list of devices or a query, rolled out at a bounded rate. Progress is live.'),
    msg,
    h('section', { 'aria-labelledby': 'jobs-title' },
      h('h2', { id: 'jobs-title' }, 'Jobs'),
      h('div', { class: 'table-wrap' }, h('table', { id: 'jobs-table' },
        h('caption', { class: 'sr-only' }, 'Jobs'),
        h('thead', {}, h('tr', {}, ['Job', 'State', 'Progress', 'Created', 'Actions'].map((t) => h('th', { scope: 'col' }, t)))),
        body)),
      jobs.nav),
    devSection,
    form);
  jobs.first();
  return () => {
    gone = true;
    off();
    refresh.cancel();
  };
}
