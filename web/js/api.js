// c2d-http's API (docs/http.md) as the pages use it. Credentials: those of
// the sign-in form (kept in sessionStorage for this tab) go in an explicit
// Authorization header; without them the request carries whatever the
// browser's own Basic auth has for this origin (after browserLogin(), or
// none: anonymous). The broker decides either way. 401 and 403 are announced to the page
// (the "c2d-auth" event on window) so that it can say so clearly.

const KEY = 'c2d.credentials';

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

export function credentials() {
  try {
    const c = JSON.parse(sessionStorage.getItem(KEY) || 'null');
    return c && typeof c.user === 'string' ? c : null;
  } catch {
    return null;
  }
}

export function setCredentials(c) {
  if (c) sessionStorage.setItem(KEY, JSON.stringify({ user: c.user, pass: c.pass }));
  else sessionStorage.removeItem(KEY);
  window.dispatchEvent(new CustomEvent('c2d-credentials'));
}

function basic(user, pass) {
  const bytes = new TextEncoder().encode(user + ':' + pass);
  let bin = '';
  for (const b of bytes) bin += String.fromCharCode(b);
  return 'Basic ' + btoa(bin);
}

// path against the origin: a page opened as http://user:pass@host/ has
// credentials in its base URL, which fetch refuses.
export function url(path) {
  return new URL(path, location.origin).href;
}

export function authHeaders() {
  const c = credentials();
  // X-Requested-With: c2d-http then leaves the challenge out of a 401, so
  // a refusal is shown by the page (banner, sign-in form), not by a browser
  // dialog that pops up from a background request
  const h = { 'X-Requested-With': 'c2d-dashboard' };
  if (c) h.Authorization = basic(c.user, c.pass);
  return h;
}

// The browser's own Basic auth: one request that lets c2d-http challenge,
// so the browser asks for a broker user in its dialog and then sends it
// with every request to this origin. Resolves true when it was accepted.
export async function browserLogin() {
  const r = await fetch(url('/api/v1/admin'), {
    method: 'POST', body: JSON.stringify({ commands: [{ command: 'getStats' }] }),
    headers: { 'Content-Type': 'application/json' }, cache: 'no-store', credentials: 'same-origin',
  });
  return r.status !== 401;
}

function announce(status, message, path) {
  if (status === 401 || status === 403) {
    window.dispatchEvent(new CustomEvent('c2d-auth', { detail: { status, message, path } }));
  }
}

// One request. opts: body (string), type (its content type), headers,
// raw (return non-2xx answers instead of throwing: RPC answers carry the
// device's status). Returns {status, ok, data (parsed JSON or null), text,
// type, headers}; throws ApiError for non-2xx unless raw.
export async function request(method, path, opts = {}) {
  const headers = { ...authHeaders(), ...(opts.headers || {}) };
  if (opts.body !== undefined && opts.type) headers['Content-Type'] = opts.type;
  let r;
  try {
    r = await fetch(url(path), { method, headers, body: opts.body, cache: 'no-store', credentials: 'same-origin' });
  } catch (e) {
    throw new ApiError(0, 'the request failed, is c2d-http running? (' + e.message + ')');
  }
  const text = await r.text();
  const type = (r.headers.get('Content-Type') || '').split(';')[0].trim();
  let data = null;
  if (type === 'application/json' && text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  const res = { status: r.status, ok: r.ok, data, text, type, headers: r.headers };
  const reason = (data && data.error) || text || r.statusText;
  announce(r.status, reason, path);
  if (!r.ok && !opts.raw) throw new ApiError(r.status, reason, data);
  return res;
}

export function json(method, path, value, opts = {}) {
  return request(method, path, { ...opts, body: JSON.stringify(value), type: opts.type || 'application/json' });
}

// HTTP status of an admin error text (as c2d-http maps them).
function adminStatus(err) {
  if (err.startsWith('no such')) return 404;
  if (err.startsWith('store unavailable')) return 503;
  if (err === 'queue full') return 429;
  if (err.includes('still live') || err.includes('can be retried')) return 409;
  return 400;
}

// Several admin commands in one $CONTROL/c2d/v1 request; returns the
// responses in order (each {command, data} or {command, error}).
export async function admin(commands) {
  const r = await json('POST', '/api/v1/admin', { commands });
  return (r.data && r.data.responses) || [];
}

// One admin command: its data, or an ApiError with its reason.
export async function adminOne(cmd) {
  const [resp] = await admin([cmd]);
  if (!resp) throw new ApiError(502, 'no admin response');
  // the job commands state their status; the others are mapped from the text
  if (resp.error) throw new ApiError(typeof resp.status === 'number' ? resp.status : adminStatus(resp.error), resp.error, resp);
  return resp.data;
}

export const enc = encodeURIComponent;
