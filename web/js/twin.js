// The device page's twin panel: desired, reported and delta with their
// versions, whether the device acknowledged the desired version, and two
// editors (desired, tags) that send a JSON merge patch, optionally only if
// the section is still at the version shown (If-Match: 412 otherwise).

import { request, enc } from './api.js';
import { h, fill, field, pretty, say, describeError, parseJson } from './ui.js';

function section(title, id) {
  const ver = h('span', { class: 'hint', id: id + '-version' });
  const pre = h('pre', { id, tabindex: '0', 'aria-labelledby': id + '-title' });
  return { ver, pre, el: h('div', { class: 'twin-part' }, h('h3', { id: id + '-title' }, title, ' ', ver), pre) };
}

// An editor for one section ("desired" or "tags"): returns {el, setVersion}.
function editor(dev, what, label, onDone) {
  const text = h('textarea', { id: what + '-patch', rows: 4, spellcheck: 'false', value: '{}' });
  const check = h('input', { type: 'checkbox', id: what + '-ifmatch', checked: true });
  const msg = h('p', { class: 'msg', role: 'status', 'aria-live': 'polite', id: what + '-result' });
  let version = 0;

  async function submit(ev) {
    ev.preventDefault();
    let patch;
    try {
      patch = parseJson(text.value, 'The patch');
      if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw new Error('The patch must be a JSON object');
      text.removeAttribute('aria-invalid');
    } catch (e) {
      text.setAttribute('aria-invalid', 'true');
      say(msg, e.message, 'error');
      return;
    }
    const headers = check.checked ? { 'If-Match': `"${version}"` } : {};
    try {
      const r = await request('PATCH', `/api/v1/devices/${enc(dev)}/twin/${what}`, {
        body: JSON.stringify(patch), type: 'application/merge-patch+json', headers,
      });
      const d = r.data || {};
      say(msg, d.changed === false ? `Nothing changed (still version ${d.version}).` : `Applied: ${what} version ${d.version}.`, 'ok');
      onDone();
    } catch (e) {
      const hint = e.status === 412 ? ' Someone changed it meanwhile: the twin is reloaded, check and apply again.' : '';
      say(msg, describeError(e) + hint, 'error');
      if (e.status === 412) onDone();
    }
  }

  const verLabel = h('span', {}, 'Only if still version 0');
  const el = h('form', { class: 'editor', id: what + '-form', onsubmit: submit, 'aria-label': label },
    field(label, text, 'JSON merge patch (RFC 7396): members are set, null deletes one'),
    h('div', { class: 'check' }, check, h('label', { for: check.id }, verLabel)),
    h('div', { class: 'buttons' }, h('button', { type: 'submit', class: 'primary', id: what + '-apply' }, 'Apply ' + what + ' patch')),
    msg);
  return {
    el,
    setVersion(v) {
      version = v;
      verLabel.textContent = `Only if ${what} is still version ${v} (If-Match)`;
    },
  };
}

// The panel for dev; getDevice() gives the acknowledged version.
export function twinPanel(dev, getDevice) {
  const desired = section('Desired', 'twin-desired');
  const reported = section('Reported', 'twin-reported');
  const delta = section('Delta (desired not yet reported)', 'twin-delta');
  const tags = section('Tags', 'twin-tags');
  const ack = h('p', { id: 'twin-ack', role: 'status', 'aria-live': 'polite' });
  const msg = h('p', { class: 'msg', role: 'status' });
  const ed = editor(dev, 'desired', 'Desired patch', () => refresh());
  const tagEd = editor(dev, 'tags', 'Tags patch', () => refresh());

  async function refresh() {
    try {
      const [r, info] = await Promise.all([request('GET', `/api/v1/devices/${enc(dev)}/twin`), getDevice()]);
      const t = r.data || {};
      const v = t.version || {};
      fill(desired.pre, pretty(t.desired || {}));
      fill(reported.pre, pretty(t.reported || {}));
      fill(delta.pre, pretty(t.delta || {}));
      fill(tags.pre, pretty(t.tags || {}));
      desired.ver.textContent = `version ${v.desired ?? 0}`;
      reported.ver.textContent = `version ${v.reported ?? 0}`;
      tags.ver.textContent = `version ${v.tags ?? 0}`;
      delta.el.classList.toggle('has-delta', Object.keys(t.delta || {}).length > 0);
      ed.setVersion(v.desired ?? 0);
      tagEd.setVersion(v.tags ?? 0);
      const a = info && info.twin ? info.twin.acknowledged : null;
      const dv = v.desired ?? 0;
      ack.className = a === dv ? 'ok' : 'warn';
      ack.textContent = dv === 0 ? 'No desired state set.'
        : a === dv ? `The device acknowledged desired version ${a}.`
          : `The device has not acknowledged desired version ${dv} yet` + (a ? ` (it holds version ${a}).` : '.');
      msg.textContent = '';
    } catch (e) {
      say(msg, describeError(e), 'error');
    }
  }

  const el = h('section', { class: 'card', 'aria-labelledby': 'twin-h' },
    h('h2', { id: 'twin-h' }, 'Twin'),
    msg, ack,
    h('div', { class: 'twin-grid' }, desired.el, reported.el, delta.el),
    ed.el,
    h('div', { class: 'twin-grid' }, tags.el), tagEd.el);
  return { el, refresh };
}
