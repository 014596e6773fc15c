// The dashboard's shell: one live event stream for every page, the alert
// count in the header, sign-in, clear 401/403 messages, and hash routing
// between the pages (#/fleet, #/device/ID, #/jobs, #/alerts, #/events).

import { credentials, setCredentials, adminOne, browserLogin } from './api.js';
import { EventStream } from './sse.js';
import { AlertStore } from './alerts.js';
import { h, fill, describeError } from './ui.js';
import * as fleet from './fleet.js';
import * as device from './device.js';
import * as alertsPage from './alerts-page.js';
import * as events from './events.js';
import * as jobs from './jobs.js';

const RECENT = 500;
const BOOT_SCAN = 200; // devices whose history is scanned for alerts at start

const stream = new EventStream('/api/v1/events');
const ctx = { stream, presence: new Map(), recent: [], alerts: new AlertStore(stream) };
const view = document.getElementById('view');
const banner = document.getElementById('auth-banner');
const who = document.getElementById('who');
const live = document.getElementById('live-state');
const alertCount = document.getElementById('alert-count');
let unmount = null;

stream.on((ev) => {
  if (ev.type === 'c2d.presence.connected' || ev.type === 'c2d.presence.disconnected') {
    ctx.presence.set(ev.subject, { online: ev.type === 'c2d.presence.connected', time: Date.parse(ev.time) || Date.now() });
  }
  ctx.recent.push(ev);
  if (ctx.recent.length > RECENT) ctx.recent.splice(0, ctx.recent.length - RECENT);
});

stream.onState((s) => {
  const text = { idle: 'Live: off', connecting: 'Live: connecting', live: 'Live', reconnecting: 'Live: reconnecting', error: `Live: ${s.status || ''} error` }[s.name];
  live.textContent = text;
  live.className = 'live s-' + s.name;
  live.title = s.detail || '';
  if (s.name === 'error' && (s.status === 401 || s.status === 403)) showAuth(s.status, s.detail, '/api/v1/events');
});

ctx.alerts.on(() => {
  const n = ctx.alerts.count();
  alertCount.textContent = String(n);
  alertCount.hidden = n === 0;
  alertCount.setAttribute('aria-label', `${n} open alert${n === 1 ? '' : 's'}`);
});

function showAuth(status, reason, path) {
  const c = credentials();
  const user = c ? c.user : 'the browser\'s credentials (or anonymous)';
  const text = status === 401
    ? `401: ${reason}${c ? ' (user ' + c.user + ')' : ''}. Sign in with a broker user.`
    : `403 Forbidden: the broker's ACL does not allow ${user} this request (${path}: ${reason}).`;
  fill(banner, h('p', {}, h('strong', {}, status === 401 ? 'Not signed in. ' : 'Forbidden. '), text),
    h('button', { type: 'button', id: 'banner-signin', onclick: openSignIn }, c ? 'Sign in as another user' : 'Sign in'),
    c ? null : h('button', { type: 'button', id: 'banner-browser', onclick: async () => {
      if (await browserLogin().catch(() => false)) restart();
    } }, 'Use the browser\'s login'));
  banner.className = 'banner s-' + status;
  banner.hidden = false;
}

window.addEventListener('c2d-auth', (e) => showAuth(e.detail.status, e.detail.message, e.detail.path));

function renderWho() {
  const c = credentials();
  fill(who, c ? `Signed in as ${c.user}` : 'Not signed in',
    ' ', c ? h('button', { type: 'button', id: 'signout', onclick: () => {
      setCredentials(null);
      restart();
    } }, 'Sign out') : h('button', { type: 'button', id: 'signin-open', onclick: openSignIn }, 'Sign in'));
}

// ---- sign-in dialog ----
const dialog = document.getElementById('signin');
const form = document.getElementById('signin-form');
const dmsg = document.getElementById('signin-msg');

function openSignIn() {
  dmsg.textContent = '';
  dialog.showModal();
  document.getElementById('signin-user').focus();
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  if (ev.submitter && ev.submitter.value === 'cancel') {
    dialog.close();
    return;
  }
  const user = document.getElementById('signin-user').value;
  const pass = document.getElementById('signin-pass').value;
  const old = credentials();
  setCredentials({ user, pass });
  try {
    await adminOne({ command: 'getStats' });
    dialog.close();
    restart();
  } catch (e) {
    if (e.status === 403) {
      // valid credentials without the admin API: keep them, say what is missing
      dialog.close();
      restart();
      return;
    }
    setCredentials(old);
    dmsg.textContent = describeError(e);
  }
});

function restart() {
  banner.hidden = true;
  renderWho();
  stream.restart();
  route();
  ctx.alerts.scan(BOOT_SCAN).catch(() => {});
}

// ---- routing ----
function route() {
  const hash = location.hash || '#/fleet';
  const m = hash.match(/^#\/([a-z]+)(?:\/(.*))?$/);
  const page = m ? m[1] : 'fleet';
  if (unmount) unmount();
  unmount = null;
  banner.hidden = true;
  for (const a of document.querySelectorAll('nav.main a')) {
    if (a.dataset.page === page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const titles = { fleet: 'Fleet', device: 'Device', jobs: 'Jobs', alerts: 'Alerts', events: 'Events' };
  if (page === 'device' && m[2]) {
    const dev = decodeURIComponent(m[2]);
    document.title = `${dev} · mosquitto-c2d`;
    unmount = device.mount(view, ctx, dev);
  } else {
    const mod = { fleet, jobs, alerts: alertsPage, events }[page] || fleet;
    document.title = `${titles[page] || 'Fleet'} · mosquitto-c2d`;
    unmount = mod.mount(view, ctx);
  }
  const h1 = view.querySelector('h1');
  if (h1 && document.activeElement !== document.body) h1.focus();
}

window.addEventListener('hashchange', route);
// leaving the page (or into the back/forward cache) closes the stream
window.addEventListener('pagehide', () => stream.pause());
window.addEventListener('pageshow', (e) => {
  if (e.persisted) stream.resume();
});
renderWho();
route();
stream.start();
ctx.alerts.scan(BOOT_SCAN).catch(() => {});
