/* The sweep of due deadline entries. Lifetimes follow the wall clock, ack
 * and RPC timeouts the timeout clock (tick.c: CLOCK_MONOTONIC carried across
 * restarts), so that a wall-clock step neither redelivers early nor stalls a
 * timeout. Every live item has its expiry in the store's `due` index
 * (wall-clock ms); an item in flight also has its timeout in the `timeout`
 * index, and its record's due_ms says so (C2D_QDUE_TMO). A history record has
 * its end in `due`. Records written before the timeout index (schema 1.0)
 * have one `due` entry at the earlier of expiry and timeout, in wall-clock
 * ms; they are handled as before and move to the new form at their next
 * delivery.
 *
 * The sweep (each TICK) takes the earliest entries of both indexes that are
 * due, within the background duty cycle (tick.c: at most sweep_share % of
 * each 100 ms of the monotonic clock, its commit included, however often
 * TICK fires: a mass expiry must not slow live commands down) and at most
 * SWEEP_MAX entries per tick (the size of one transaction), and resumes at
 * the next tick where it stopped (the index is ordered, there is no cursor
 * to keep). So under a mass expiry feedback and events come later than the
 * lifetime (docs/protocol.md, "Expiry under load"); a delivery never does:
 * the pump does not deliver an expired item that the sweep has not reached
 * yet (qpump.c). A due expiry
 * ends the item as expired (online or not); a due timeout: offline, only
 * the lifetime runs, so the timeout is dropped and the reconnect
 * redelivers; online, a message is queued again and redelivered, an RPC is
 * retried while retries remain, else ends as timeout (c2d_qstate_due_event).
 * A due history record is forgotten with its dedup entry.
 * Each entry is handled in a nested transaction: one that fails for a
 * reason of its own (a damaged record) is undone alone and quarantined
 * (the entry and its record leave for the store's quarantine, with an
 * event), and the sweep goes on. */
#include <inttypes.h>
#include <string.h>

#include "queue_int.h"

#define SWEEP_MAX 4096 /* due entries handled per tick at most */

/* The two deadline indexes the sweep walks. */
struct index {
	bool timeout;            /* the timeout index (timeout clock), else `due` (wall clock) */
	const char *name;
	uint64_t *next;          /* c2d->queue's cache: nothing due before this */
};

static int index_first(struct c2d *c2d, const struct index *ix, uint64_t *at, char *dev, uint64_t *key)
{
	if(ix->timeout) return c2d_store_tmo_first(c2d->store, at, dev, key);
	return c2d_store_due_first(c2d->store, at, dev, key);
}

static int index_del(struct c2d *c2d, const struct index *ix, uint64_t at, const char *dev, uint64_t key)
{
	int rc = ix->timeout ? c2d_store_tmo_del(c2d->store, at, dev, key) : c2d_store_due_del(c2d->store, at, dev, key);

	return rc == C2D_ENOTFOUND ? 0 : rc;
}

/* A damaged item (it cannot be decoded): its record goes to quarantine with
 * an event; its entries in the indexes are the caller's. */
static int quarantine_item(struct qdev *d, const struct qitem *it)
{
	char id[24];
	int rc;

	rc = c2d_store_q_quarantine(d->c2d->store, d->dev, c2d_qitem_key(it));
	if(rc == C2D_ENOTFOUND) return 0;
	if(rc) return rc;
	c2d_qitem_id(it, id, sizeof(id));
	c2d_quarantined(d->c2d, d->dev, it->history ? "queue history" : "queue item", id, C2D_EINVAL, true);
	if(it->history) return 0;
	if(d->rec.queued > 0) d->rec.queued--;
	d->dirty = true;
	return c2d_qdev_save(d);
}

/* One entry of ix (at, dev, key), at <= now: a live item's expiry or
 * timeout, or the end of a history record. An entry that names no item
 * (gone, damaged, or not its current deadline) is dropped. */
static int sweep_one(struct c2d *c2d, const struct index *ix, uint64_t at, const char *dev, uint64_t key)
{
	bool history = (key & HISTORY_BIT) != 0;
	struct qdev d;
	struct qitem it;
	int rc;

	rc = c2d_qdev_load(c2d, dev, &d, NULL);
	if(rc) return rc;
	rc = c2d_qitem_load(c2d, dev, key & ~HISTORY_BIT, history, &it);
	if(rc == C2D_ENOTFOUND || rc == C2D_EINVAL || (rc == 0 && at != (ix->timeout ? it.tmo_stored : it.due_stored))){
		bool damaged = rc == C2D_EINVAL;

		it.seq = key & ~HISTORY_BIT; /* c2d_qitem_load may have left them unset */
		it.history = history;
		c2d_qitem_free(&it);
		rc = index_del(c2d, ix, at, dev, key);
		if(!rc && damaged) rc = quarantine_item(&d, &it);
		return rc;
	}
	if(rc == 0 && history){
		rc = c2d_qitem_forget(&d, &it);
		c2d_qitem_free(&it);
		return rc;
	}
	if(rc == 0){
		/* expired, or a timeout: offline only the lifetime runs */
		rc = c2d_qitem_on(&d, &it, c2d_qstate_due_event(&it.r, c2d->wall_ms, c2d_presence_online(c2d, dev)),
				NULL, NULL);
	}
	if(!rc) rc = c2d_qpump(&d, false);
	if(!rc) rc = c2d_qdev_save(&d);
	c2d_qitem_free(&it);
	return rc;
}

/* An entry that failed for a reason of its own: it leaves the index and
 * its item goes to quarantine (event), so that the sweep moves on. An
 * unreadable key (no device to name) is moved as it is. */
static int sweep_quarantine(struct c2d *c2d, const struct index *ix, bool have_key, uint64_t at,
		const char *dev, uint64_t key, int why)
{
	char id[24];
	int rc;

	if(!have_key) return c2d_store_dl_quarantine_first(c2d->store, ix->timeout);
	rc = index_del(c2d, ix, at, dev, key);
	if(rc) return rc;
	rc = c2d_store_q_quarantine(c2d->store, dev, key);
	if(rc && rc != C2D_ENOTFOUND) return rc;
	/* the device record is left alone: it may be what is damaged; the
	 * pump's next full scan corrects its counts */
	c2d_deliver_id(C2D_QUEUE_LETTER, key & ~HISTORY_BIT, id, sizeof(id));
	c2d_quarantined(c2d, dev, ix->timeout ? "queue timeout" : "queue deadline", id, why, true);
	return 0;
}

/* Sweep the entries of ix that are due at `now` (its clock), within the
 * tick's count *n and until the monotonic clock reaches end_us. Returns 0,
 * or the transient error that stopped it. */
static int sweep_index(struct c2d *c2d, const struct index *ix, uint64_t now, int *n, uint64_t end_us)
{
	char dev[C2D_DEV_MAX + 1];
	uint64_t at = UINT64_MAX, key;
	size_t mark;
	bool have_key;
	int rc = 0;

	if(now < *ix->next) return 0;
	for(; *n < SWEEP_MAX; (*n)++){
		dev[0] = '\0';
		rc = index_first(c2d, ix, &at, dev, &key);
		have_key = rc == 0;
		if(rc == C2D_ENOTFOUND){
			at = UINT64_MAX;
			rc = 0;
			break;
		}
		if(rc == 0 && at > now) break;
		if(rc == 0){
			rc = c2d_item_begin(c2d, &mark);
			if(!rc) rc = sweep_one(c2d, ix, at, dev, key);
			rc = c2d_item_end(c2d, mark, rc);
		}
		if(rc && !c2d_transient(c2d, rc)){
			/* this entry's own trouble: put it aside, go on */
			int why = rc;

			rc = c2d_item_begin(c2d, &mark);
			if(!rc) rc = sweep_quarantine(c2d, ix, have_key, at, dev, key, why);
			rc = c2d_item_end(c2d, mark, rc);
			if(rc && !have_key) rc = rc == C2D_ENOTFOUND ? C2D_ESTORE : rc;
		}
		if(rc) break;
		if(c2d_mono_us() >= end_us) *n = SWEEP_MAX - 1; /* time is up */
	}
	if(rc){
		c2d_log(C2D_LOG_WARN, "queue sweep of %s stopped (%d); it resumes at the next tick", ix->name, rc);
		at = 0; /* look again at the next tick */
	}else if(*n >= SWEEP_MAX){
		at = 0; /* more may be due: go on at the next tick */
	}
	*ix->next = at < now + 1000 ? at : now + 1000;
	return rc;
}

/* The budgeted sweep: the earliest due entries of both indexes, within the
 * duty cycle's allowance. TICK fires thousands of times a second under
 * load, so the sweep remembers when the earliest deadline of each index is
 * (lowered by every new entry) and does not read the index before then; at
 * most a second late if a commit failed. */
void c2d_qsweep_on_tick(struct c2d *c2d)
{
	struct c2d_queue *q = c2d->queue;
	const struct index due = {false, "due", &q->next_due_ms};
	const struct index tmo = {true, "timeout", &q->next_tmo_ms};
	uint64_t start, allow;
	int n = 0;

	if(c2d->wall_ms < q->next_due_ms && c2d->tmo_ms < q->next_tmo_ms) return;
	allow = c2d_bg_allowance_us(c2d, C2D_BG_SWEEP);
	if(allow == 0) return; /* this window's share is used: the next one goes on */
	start = c2d_mono_us();
	if(sweep_index(c2d, &due, c2d->wall_ms, &n, start + allow) == 0){
		sweep_index(c2d, &tmo, c2d->tmo_ms, &n, start + allow);
	}
	c2d_bg_charge(c2d, C2D_BG_SWEEP, c2d_mono_us() - start, n > 0);
}
