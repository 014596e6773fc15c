// A pager over an admin command's `next` cursor (listJobs, listJobDevices):
// Previous/Next buttons, the cursors of the pages seen so far.
import { h } from './ui.js';

// name: the id prefix of its buttons; load(after) (borrowed) resolves
// {items, next, ...}; show(items, page) renders a page (it may be async and
// gets the whole resolved object too); fail(error) reports one.
// Returns {nav (the element), first() (page 1), reload() (this page)}.
export function cursorPager(name, load, show, fail) {
  let cursors = [null];
  let page = 0;
  let next = null;
  const prev = h('button', { type: 'button', id: name + '-prev', disabled: true, onclick: () => go(-1) }, 'Previous page');
  const nextBtn = h('button', { type: 'button', id: name + '-next', disabled: true, onclick: () => go(1) }, 'Next page');
  const info = h('span', { class: 'hint', 'aria-live': 'polite' });
  const nav = h('nav', { class: 'pager', 'aria-label': name.replace('-', ' ') + ' pages' }, prev, info, nextBtn);

  async function reload() {
    try {
      const r = await load(cursors[page]);
      next = r.next || null;
      await show(r.items || [], r);
    } catch (e) {
      fail(e);
    }
    prev.disabled = page === 0;
    nextBtn.disabled = !next;
    info.textContent = `Page ${page + 1}`;
  }

  function go(d) {
    if (d > 0 && next) {
      cursors[page + 1] = next;
      page++;
    } else if (d < 0 && page > 0) {
      page--;
    } else {
      return;
    }
    reload();
  }

  function first() {
    cursors = [null];
    page = 0;
    return reload();
  }

  return { nav, first, reload };
}
