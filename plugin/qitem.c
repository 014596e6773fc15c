/* Storage of queue items: the device record's queue counts, item records
 * (live and history), and their entries in the deadline and dedup indexes.
 *
 * Items. Each accepted request becomes one item keyed (dev, seq), seq taken
 * from the device record's next_seq (1, 2, ...), its wire id "q<seq>". The
 * device record counts the live items (`queued`, bounded by msg_queue_max: a
 * request beyond it gets 429 and nothing is stored) and the items in flight
 * (SENT or DELIVERED, bounded by msg_inflight).
 *
 * Records. An item is two records: its state record (c2d_qrec.h: states,
 * deliveries, deadlines, status and the request's small metadata), rewritten
 * by every transition, and its payload, written once when the item is
 * stored and never again (store_queue.c's qpayload, keyed by seq).
 *
 * History. The finished item's state record is kept under the same device
 * at key seq | HISTORY_BIT, its final state, status and time in the record,
 * for history_ttl seconds (a deadline entry at finished + history_ttl), and
 * its dedup entry with it: a duplicate request is answered with the final
 * state, and an operator can retry it (admin retryCommand) or list it. The
 * sweep deletes it and its dedup entry when due. history_ttl 0 keeps nothing
 * (the record and dedup entry go at the final state). The payload stays in
 * history only for the final states an operator can retry (timeout, failed,
 * expired, dead: retryCommand delivers it again); any other final state
 * deletes it, so that history keeps no payload it cannot use (qmove.c).
 * History keys sort after
 * every live key, so every scan of the live queue (the pump, the counts)
 * stops at the first history key: history never slows delivery.
 *
 * Deadlines. Saving an item moves its entries in the store's `due` and
 * `timeout` indexes to what its record names (c2d_qstate_entries) and lowers
 * the sweep's next_due_ms / next_tmo_ms to them.
 *
 * Every write joins the event's store transaction (c2d_txn). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "c2d_jobs.h"
#include "queue_int.h"

/* ---- device record ---- */

int c2d_qdev_load(struct c2d *c2d, const char *dev, struct qdev *d, bool *exists)
{
	struct c2d_idmark mark;
	int rc;

	memset(d, 0, sizeof(*d));
	d->c2d = c2d;
	d->dev = dev;
	/* every caller writes next: its reads run in the write transaction */
	rc = c2d_txn(c2d);
	if(rc) return rc;
	rc = c2d_store_dev_get(c2d->store, dev, &d->rec);
	if(exists) *exists = rc == 0;
	if(rc == C2D_ENOTFOUND){
		/* a new record: sequences continue after a deleted device's */
		memset(&d->rec, 0, sizeof(d->rec));
		d->rec.created_ms = c2d->wall_ms;
		d->created = true;
		rc = c2d_store_idmark_get(c2d->store, dev, &mark);
		if(rc == 0) d->rec.next_seq = mark.next_seq;
	}
	return rc;
}

int c2d_qdev_save(struct qdev *d)
{
	int rc;

	if(!d->dirty) return 0;
	rc = c2d_txn(d->c2d);
	if(rc) return rc;
	rc = c2d_store_dev_put(d->c2d->store, d->dev, &d->rec);
	if(rc == 0) d->dirty = false;
	if(rc == 0 && d->created){ /* a device that appears through its queue: continuous jobs (jobcont.c) */
		d->created = false;
		rc = c2d_jobs_on_device_change(d->c2d, d->dev);
	}
	return rc;
}

uint64_t *c2d_qdev_counter(struct qdev *d, int index)
{
	d->dirty = true;
	return &d->rec.counters[index];
}

uint64_t c2d_qdev_inflight(const struct qdev *d)
{
	return d->rec.counters[C2D_QDEV_INFLIGHT];
}

/* Move the in-flight count by what a state change from `from` to `to` means. */
static void count_flight(struct qdev *d, int from, int to)
{
	uint64_t *n = c2d_qdev_counter(d, C2D_QDEV_INFLIGHT);

	if(c2d_qrec_in_flight(to) && !c2d_qrec_in_flight(from)) (*n)++;
	if(c2d_qrec_in_flight(from) && !c2d_qrec_in_flight(to) && *n > 0) (*n)--;
}

/* ---- items ---- */

void c2d_qitem_id(const struct qitem *it, char *buf, size_t len)
{
	c2d_deliver_id(C2D_QUEUE_LETTER, it->seq, buf, len);
}

uint64_t c2d_qitem_key(const struct qitem *it)
{
	return it->history ? it->seq | HISTORY_BIT : it->seq;
}

/* Load the live item q{seq} of dev, or its history record. it: filled, free
 * with c2d_qitem_free (also after errors). Returns 0, C2D_ENOTFOUND, C2D_EINVAL
 * (damaged, logged) or a store error. */
int c2d_qitem_load(struct c2d *c2d, const char *dev, uint64_t seq, bool history, struct qitem *it)
{
	size_t len;
	int rc;

	memset(it, 0, sizeof(*it));
	if(seq == 0 || seq >= HISTORY_BIT) return C2D_ENOTFOUND; /* not an id of ours */
	it->seq = seq;
	it->history = history;
	rc = c2d_txn(c2d); /* as c2d_qdev_load */
	if(rc) return rc;
	rc = c2d_store_q_get(c2d->store, dev, c2d_qitem_key(it), &it->buf, &len);
	if(rc) return rc;
	rc = c2d_qrec_decode(&it->r, it->buf, len);
	if(rc){
		c2d_log(C2D_LOG_ERR, "queue item q%" PRIu64 "%s of '%s' is damaged (%zu bytes)", seq,
				history ? " (history)" : "", dev, len);
		return C2D_EINVAL;
	}
	if(it->r.ttl_s == 0){
		/* written before records had the extension: what was asked is what is left */
		it->r.ttl_s = it->r.expires_ms > it->r.created_ms + 1000
				? (uint32_t)((it->r.expires_ms - it->r.created_ms) / 1000) : 1;
		it->r.retries = it->r.retries_left;
	}
	c2d_qstate_entries(&it->r, &it->due_stored, &it->tmo_stored);
	it->state_stored = it->r.state;
	return 0;
}

void c2d_qitem_free(struct qitem *it)
{
	free(it->buf);
	free(it->pay);
	it->buf = NULL;
	it->pay = NULL;
}

int c2d_qitem_payload(struct qdev *d, struct qitem *it)
{
	size_t len;
	int rc;

	if(it->r.payload || it->r.payload_len == 0) return 0;
	rc = c2d_store_qpay_get(d->c2d->store, d->dev, it->seq, &it->pay, &len);
	if(rc == 0 && len != it->r.payload_len){
		free(it->pay);
		it->pay = NULL;
		rc = C2D_ENOTFOUND;
	}
	if(rc == C2D_ENOTFOUND){
		c2d_log(C2D_LOG_ERR, "queue item q%" PRIu64 " of '%s' has lost its payload (%" PRIu32 " bytes)", it->seq,
				d->dev, it->r.payload_len);
		return C2D_EINVAL;
	}
	if(rc) return rc;
	it->r.payload = it->pay;
	return 0;
}

int c2d_qitem_payload_drop(struct qdev *d, struct qitem *it)
{
	int rc;

	if(it->r.payload_len == 0) return 0;
	rc = c2d_txn(d->c2d);
	if(!rc) rc = c2d_store_qpay_del(d->c2d->store, d->dev, it->seq);
	return rc == C2D_ENOTFOUND ? 0 : rc;
}

/* Write the item back (or for the first time), move its deadline entry and
 * the in-flight count. it: borrowed. */
int c2d_qitem_save(struct qdev *d, struct qitem *it)
{
	struct c2d_store *st = d->c2d->store;
	uint64_t due, tmo;
	void *buf;
	size_t len;
	int rc;

	rc = c2d_txn(d->c2d);
	if(rc) return rc;
	rc = c2d_qrec_encode(&it->r, &buf, &len);
	if(rc) return rc;
	rc = c2d_store_q_put(st, d->dev, c2d_qitem_key(it), buf, len);
	free(buf);
	if(!rc && it->fresh && it->r.payload_len){
		rc = c2d_store_qpay_put(st, d->dev, it->seq, it->r.payload, it->r.payload_len);
	}
	if(rc) return rc;
	it->fresh = false;
	c2d_qstate_entries(&it->r, &due, &tmo);
	if(due != it->due_stored){
		if(it->due_stored){
			rc = c2d_store_due_del(st, it->due_stored, d->dev, c2d_qitem_key(it));
			if(rc && rc != C2D_ENOTFOUND) return rc;
		}
		rc = c2d_store_due_add(st, due, d->dev, c2d_qitem_key(it));
		if(rc) return rc;
		if(due < d->c2d->queue->next_due_ms) d->c2d->queue->next_due_ms = due;
		it->due_stored = due;
	}
	if(tmo != it->tmo_stored){
		if(it->tmo_stored){
			rc = c2d_store_tmo_del(st, it->tmo_stored, d->dev, c2d_qitem_key(it));
			if(rc && rc != C2D_ENOTFOUND) return rc;
		}
		if(tmo){
			rc = c2d_store_tmo_add(st, tmo, d->dev, c2d_qitem_key(it), d->c2d->tmo_ms);
			if(rc) return rc;
			if(tmo < d->c2d->queue->next_tmo_ms) d->c2d->queue->next_tmo_ms = tmo;
		}
		it->tmo_stored = tmo;
	}
	if(!it->history) count_flight(d, it->state_stored, it->r.state);
	it->state_stored = it->r.state;
	return 0;
}

/* Dedup key: sender \0 dev \0 correlation data. The device is part of the key
 * so that an application reusing correlation data across devices is not
 * mistaken for a duplicate. Returns its length, 0 when the request has none
 * (no correlation data) or it is too long to index. */
size_t c2d_qdedup_key(char *key, const char *sender, const char *dev, const void *corr, size_t corr_len)
{
	size_t slen, dlen;

	if(sender == NULL || corr == NULL || corr_len == 0) return 0;
	slen = strlen(sender);
	dlen = strlen(dev);
	if(slen + dlen + 2 + corr_len > DEDUP_KEY_MAX) return 0;
	memcpy(key, sender, slen + 1);
	memcpy(key + slen + 1, dev, dlen + 1);
	memcpy(key + slen + dlen + 2, corr, corr_len);
	return slen + dlen + 2 + corr_len;
}

/* Remove the item's dedup entry if it still names this item. */
static int dedup_forget(struct qdev *d, const struct qitem *it)
{
	char key[DEDUP_KEY_MAX], dev[C2D_DEV_MAX + 1];
	size_t len = c2d_qdedup_key(key, it->r.sender, d->dev, it->r.corr, it->r.corr_len);
	uint64_t seq;
	int rc;

	if(len == 0) return 0;
	rc = c2d_store_dedup_get(d->c2d->store, key, len, dev, &seq);
	if(rc == C2D_ENOTFOUND) return 0;
	if(rc) return rc;
	if(seq != it->seq || strcmp(dev, d->dev) != 0) return 0;
	return c2d_store_dedup_del(d->c2d->store, key, len);
}

/* Delete the item's record and its deadline entry; a live item also leaves
 * the device's counts. Its dedup entry stays (c2d_qitem_forget removes it too). */
int c2d_qitem_drop(struct qdev *d, struct qitem *it)
{
	struct c2d_store *st = d->c2d->store;
	int rc;

	rc = c2d_txn(d->c2d);
	if(!rc) rc = c2d_store_q_del(st, d->dev, c2d_qitem_key(it));
	if(rc && rc != C2D_ENOTFOUND) return rc;
	if(it->due_stored){
		rc = c2d_store_due_del(st, it->due_stored, d->dev, c2d_qitem_key(it));
		if(rc && rc != C2D_ENOTFOUND) return rc;
		it->due_stored = 0;
	}
	if(it->tmo_stored){
		rc = c2d_store_tmo_del(st, it->tmo_stored, d->dev, c2d_qitem_key(it));
		if(rc && rc != C2D_ENOTFOUND) return rc;
		it->tmo_stored = 0;
	}
	if(!it->history){
		count_flight(d, it->state_stored, C2D_QS_QUEUED);
		if(d->rec.queued > 0) d->rec.queued--;
		d->dirty = true;
	}
	return 0;
}

/* Delete the item with its payload, deadline and dedup entries: nothing is left. */
int c2d_qitem_forget(struct qdev *d, struct qitem *it)
{
	int rc = c2d_qitem_drop(d, it);

	if(!rc) rc = c2d_qitem_payload_drop(d, it);
	return rc ? rc : dedup_forget(d, it);
}

/* ---- scans ---- */

int c2d_qpicks_push(struct picks *p, uint64_t key, uint8_t state)
{
	struct pick *v;

	if(p->n == p->cap){
		p->cap = p->cap ? p->cap * 2 : 16;
		v = realloc(p->v, p->cap * sizeof(*v));
		if(v == NULL) return C2D_ENOMEM;
		p->v = v;
	}
	p->v[p->n].key = key;
	p->v[p->n].state = state;
	p->n++;
	return 0;
}
