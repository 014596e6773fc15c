// Alerts: commands an operator acts on (docs/events.md "Alerts"): persistent
// RPCs that timed out, failed or expired, messages that expired or died.
// Two sources: the live events (every alert from the moment the dashboard is
// open) and the devices' history (listCommands with history, scanned in
// bounded batches: the plugin keeps no fleet-wide index of failed commands).
// Retry (retryCommand) queues an alert again under the same id; Cancel
// (cancelCommand) ends a command that is live again or still retrying.

import { admin, adminOne } from './api.js';

const FINAL_ALERTS = new Set(['c2d.msg.expired', 'c2d.msg.dead', 'c2d.rpc.failed', 'c2d.rpc.expired', 'c2d.rpc.timeout']);
const ALERT_STATES = new Set(['timeout', 'failed', 'expired', 'dead']);
const RESOLVED = /^c2d\.(msg|rpc)\.(successful|completed|rejected|cancelled|purged)$/;
const RETRYING = /^c2d\.(msg|rpc)\.retrying$/;
const RETRIED = /^c2d\.(msg|rpc)\.retried$/;
const DISMISS_KEY = 'c2d.dismissed';
const SCAN_BATCH = 25;

export class AlertStore {
  constructor(stream) {
    this.items = new Map(); // "dev/id" -> entry
    this.listeners = new Set();
    this.scanned = 0;
    this.scanAfter = null;
    this.scanDone = false;
    this.scanning = null;
    try {
      this.dismissed = new Set(JSON.parse(localStorage.getItem(DISMISS_KEY) || '[]'));
    } catch {
      this.dismissed = new Set();
    }
    stream.on((ev) => this.onEvent(ev));
  }

  on(fn) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  changed() {
    for (const fn of this.listeners) fn(this);
  }

  key(e) {
    return e.device + '/' + e.id;
  }

  dismissKey(e) {
    return this.key(e) + '/' + (e.finishedMs || e.time || 0);
  }

  // Entries by phase: 'alert' (final, needs action), 'live' (retried or retrying).
  list(phase) {
    return [...this.items.values()]
      .filter((e) => e.phase === phase && !(phase === 'alert' && this.dismissed.has(this.dismissKey(e))))
      .sort((a, b) => (b.time || 0) - (a.time || 0));
  }

  count() {
    return this.list('alert').length;
  }

  put(entry) {
    const k = this.key(entry);
    const old = this.items.get(k);
    // history is older news than an event about the same command
    if (old && entry.source === 'history' && old.source === 'event') return;
    this.items.set(k, { ...old, ...entry });
  }

  onEvent(ev) {
    const d = ev.data || {};
    const id = d.id;
    const time = Date.parse(ev.time) || Date.now();
    if (ev.type === 'c2d.device.deleted') {
      for (const [k, e] of this.items) if (e.device === ev.subject) this.items.delete(k);
      this.changed();
      return;
    }
    if (!id || !/^q\d+$/.test(id)) return; // lightweight RPCs (l ids) cannot be retried
    const kind = ev.type.split('.')[1];
    const base = { device: ev.subject, id, kind, method: d.method, status: d.status, deliveries: d.deliveries, time, source: 'event' };
    if (FINAL_ALERTS.has(ev.type) && ALERT_STATES.has(d.state)) {
      this.put({ ...base, state: d.state, phase: 'alert', finishedMs: time });
    } else if (RETRYING.test(ev.type)) {
      this.put({ ...base, state: 'retrying', reason: d.reason, retriesLeft: d.retriesLeft, phase: 'live' });
    } else if (RETRIED.test(ev.type)) {
      this.put({ ...base, state: 'queued', phase: 'live' });
    } else if (RESOLVED.test(ev.type)) {
      if (!this.items.has(this.key(base))) return;
      this.items.delete(this.key(base));
    } else if (/^c2d\.(msg|rpc)\.(sent|delivered)$/.test(ev.type)) {
      const e = this.items.get(this.key(base));
      if (!e || e.phase !== 'live') return;
      e.state = d.state;
      e.deliveries = d.deliveries;
    } else {
      return;
    }
    this.changed();
  }

  // Scans the history of up to `limit` more devices (in id order, resuming
  // where the last scan stopped). Returns the number scanned now.
  scan(limit) {
    if (this.scanning) return this.scanning;
    this.scanning = this.doScan(limit).finally(() => {
      this.scanning = null;
      this.changed();
    });
    return this.scanning;
  }

  async doScan(limit) {
    let n = 0;
    while (n < limit && !this.scanDone) {
      const page = await adminOne({ command: 'listDevices', count: Math.min(SCAN_BATCH, limit - n), after: this.scanAfter || undefined });
      const devs = page.devices.map((d) => d.device);
      if (devs.length) {
        const resps = await admin(devs.map((device) => ({ command: 'listCommands', device, history: true, count: 100 })));
        resps.forEach((r, i) => this.fromHistory(devs[i], r));
      }
      n += devs.length;
      this.scanned += devs.length;
      this.scanAfter = page.next;
      if (!page.next) this.scanDone = true;
    }
    return n;
  }

  fromHistory(device, resp) {
    if (!resp || !resp.data) return;
    for (const c of resp.data.commands || []) {
      if (c.finalState && ALERT_STATES.has(c.finalState)) {
        this.put({
          device, id: c.id, kind: c.kind, method: c.method, state: c.finalState, status: c.status,
          deliveries: c.deliveries, time: c.finishedMs, finishedMs: c.finishedMs, source: 'history', phase: 'alert',
        });
      }
    }
  }

  async retry(e) {
    const data = await adminOne({ command: 'retryCommand', device: e.device, id: e.id });
    this.put({ ...e, state: data.state, phase: 'live', deliveries: 0, time: Date.now(), source: 'event' });
    this.changed();
    return data;
  }

  async cancel(e) {
    const data = await adminOne({ command: 'cancelCommand', device: e.device, id: e.id });
    this.items.delete(this.key(e));
    this.changed();
    return data;
  }

  dismiss(e) {
    this.dismissed.add(this.dismissKey(e));
    const keep = [...this.dismissed].slice(-500);
    localStorage.setItem(DISMISS_KEY, JSON.stringify(keep));
    this.changed();
  }
}
