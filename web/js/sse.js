// The live event stream: GET /api/v1/events (Server-Sent Events) read with
// fetch, not EventSource, because EventSource can neither send the sign-in
// form's Authorization header nor tell a 401/403 from a network error.
// Reconnects after the server's retry (3 s) and backs off to 60 s while it
// keeps failing; after 401/403 it waits for new credentials instead.

import { authHeaders, url } from './api.js';

const MAX_BACKOFF = 60000;

export class EventStream {
  constructor(url) {
    this.url = url;
    this.handlers = new Set();
    this.stateHandlers = new Set();
    this.state = { name: 'idle', detail: '' };
    this.retry = 3000;
    this.backoff = 0;
    this.controller = null;
    this.wake = null;
    this.running = false;
  }

  // fn({type, id, data, subject}) for each event; returns an unsubscribe function.
  on(fn) {
    this.handlers.add(fn);
    return () => this.handlers.delete(fn);
  }

  onState(fn) {
    this.stateHandlers.add(fn);
    fn(this.state);
    return () => this.stateHandlers.delete(fn);
  }

  setState(name, detail = '', status = 0) {
    this.state = { name, detail, status };
    for (const fn of this.stateHandlers) fn(this.state);
  }

  start() {
    if (this.running) return;
    this.running = true;
    this.loop();
  }

  // Page hidden into the back/forward cache: close the stream (it would
  // hold one of the browser's few connections to this host) until resume().
  pause() {
    this.paused = true;
    if (this.controller) this.controller.abort();
  }

  resume() {
    this.paused = false;
    this.restart();
  }

  // New credentials: drop the current stream and connect again now.
  restart() {
    this.backoff = 0;
    this.restarted = true;
    if (this.controller) this.controller.abort();
    if (this.wake) this.wake();
  }

  sleep(ms) {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = done;
    });
  }

  async loop() {
    for (;;) {
      let authFailed = false;
      while (this.paused) await this.sleep(MAX_BACKOFF);
      this.controller = new AbortController();
      this.setState('connecting');
      try {
        const r = await fetch(url(this.url), {
          headers: { ...authHeaders(), Accept: 'text/event-stream' },
          signal: this.controller.signal,
          cache: 'no-store',
        });
        if (!r.ok) {
          let reason = r.statusText;
          try {
            reason = (await r.json()).error || reason;
          } catch { /* not JSON */ }
          authFailed = r.status === 401 || r.status === 403;
          this.setState('error', reason, r.status);
        } else {
          this.setState('live');
          this.backoff = 0;
          await this.read(r.body.getReader());
          this.setState('reconnecting', 'the stream ended');
        }
      } catch (e) {
        if (e.name !== 'AbortError') this.setState('reconnecting', e.message);
      }
      if (this.restarted) {
        this.restarted = false; // new credentials: connect again at once
        continue;
      }
      this.backoff = Math.min(MAX_BACKOFF, this.backoff ? this.backoff * 2 : this.retry);
      // after 401/403 wait for new credentials (restart) or a long while
      await this.sleep(authFailed ? MAX_BACKOFF : this.backoff);
    }
  }

  async read(reader) {
    const decoder = new TextDecoder();
    let buf = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buf += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buf.search(/\r?\n\r?\n/)) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + (buf[cut] === '\r' ? 4 : 2));
        this.block(block);
      }
    }
  }

  // One SSE block: event/id/data/retry lines, comments start with ':'.
  block(text) {
    let type = 'message';
    let id = '';
    const data = [];
    for (const line of text.split(/\r?\n/)) {
      if (line.startsWith(':')) continue;
      const i = line.indexOf(':');
      const k = i < 0 ? line : line.slice(0, i);
      const v = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (k === 'event') type = v;
      else if (k === 'id') id = v;
      else if (k === 'data') data.push(v);
      else if (k === 'retry' && /^\d+$/.test(v)) this.retry = Math.max(1000, Number(v));
    }
    if (!data.length) return;
    let doc;
    try {
      doc = JSON.parse(data.join('\n'));
    } catch {
      return;
    }
    const ev = { type, id, subject: doc.subject, time: doc.time, data: doc.data || {}, raw: doc };
    for (const fn of this.handlers) {
      try {
        fn(ev);
      } catch (e) {
        console.warn('event handler failed', e);
      }
    }
  }
}
