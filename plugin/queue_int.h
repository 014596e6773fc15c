/* What the queue's modules share (private to plugin/queue.c and q*.c; the
 * queue's API for the rest of the plugin is include/c2d_queue.h). Each
 * calls only those listed after it:
 *
 *   queue.c   the plane: device answers, callbacks, c2d->queue
 *   qreq.c    requests: $c2d/{dev}/msg and persistent RPC
 *   qadmin.c  list, cancel, retry, purge, forget a device's queue
 *   qsweep.c  the sweep of due deadline entries (TICK)
 *   qpump.c   the delivery pump and reconnect redelivery
 *   qmove.c   carrying out a transition (store, counts, event, reply,
 *             delivery)
 *   qitem.c   storage of items: device record, load/save, history, the
 *             deadline and dedup index entries
 *   qstate.c  the state machine (pure, include/c2d_qstate.h) */
#ifndef C2D_QUEUE_INT_H
#define C2D_QUEUE_INT_H

#include "c2d.h"
#include "c2d_qrec.h"
#include "c2d_qstate.h"
#include "c2d_queue.h"

#define HISTORY_BIT C2D_STORE_Q_HISTORY /* queue key of a finished item: seq | HISTORY_BIT */
#define DEDUP_KEY_MAX 480        /* c2d_store_dedup_*: longest key */

/* The queue's own state (c2d->queue), created by the plane's init. */
struct c2d_queue {
	uint64_t next_due_ms;    /* no entry in `due` before this (wall clock) */
	uint64_t next_tmo_ms;    /* no entry in `timeout` before this (timeout clock) */
};

/* The device record while an operation runs on one device. */
struct qdev {
	struct c2d *c2d;
	const char *dev;         /* borrowed */
	struct c2d_devrec rec;
	bool dirty;
	bool forget;             /* the device is being deleted: finals keep no history */
	bool created;            /* no record before: saving it tells the continuous jobs */
};

/* One item loaded from the store. */
struct qitem {
	uint64_t seq;            /* its id number, without HISTORY_BIT */
	bool history;            /* a finished item, stored at seq | HISTORY_BIT */
	void *buf;               /* owned: the stored state record; r points into it */
	void *pay;               /* owned: the payload once loaded (c2d_qitem_payload) */
	struct c2d_qrec r;       /* edited in place, written back by c2d_qitem_save;
	                          * r.payload NULL until c2d_qitem_payload */
	bool fresh;              /* not stored yet: the first save writes the payload */
	uint64_t due_stored;     /* its entry in `due` (wall clock), 0 = none yet */
	uint64_t tmo_stored;     /* its entry in `timeout` (timeout clock), 0 = none */
	uint8_t state_stored;
};

/* Queue keys picked by a scan (collected first: no writes inside a scan). */
struct pick {
	uint64_t key;            /* queue key: seq, or seq | HISTORY_BIT */
	uint8_t state;
};

struct picks {
	struct pick *v;          /* owned, free() */
	size_t n, cap;
};

/* ---- qitem.c: storage ---- */

/* Load dev's record into *d (a new one if there is none: sequences continue
 * after a deleted device's). dev: borrowed, must outlive d. *exists (may be
 * NULL): it was stored. Returns 0 or a store error. */
int c2d_qdev_load(struct c2d *c2d, const char *dev, struct qdev *d, bool *exists);
/* Write the device record back if it changed. */
int c2d_qdev_save(struct qdev *d);
/* One of the device's counters (C2D_QDEV_*), marked changed. */
uint64_t *c2d_qdev_counter(struct qdev *d, int index);
/* Items in flight now (SENT or DELIVERED). */
uint64_t c2d_qdev_inflight(const struct qdev *d);

/* The item's wire id "q<seq>" into buf (>= 24 bytes). */
void c2d_qitem_id(const struct qitem *it, char *buf, size_t len);
/* Its queue key: seq, or seq | HISTORY_BIT in history. */
uint64_t c2d_qitem_key(const struct qitem *it);
/* Load the live item q{seq} of dev, or its history record. it: filled, free
 * with c2d_qitem_free (also after errors). Returns 0, C2D_ENOTFOUND,
 * C2D_EINVAL (damaged, logged) or a store error. */
int c2d_qitem_load(struct c2d *c2d, const char *dev, uint64_t seq, bool history, struct qitem *it);
void c2d_qitem_free(struct qitem *it);
/* Write the item's state record back (a fresh item: for the first time, and
 * its payload, once), move its deadline entries and the in-flight count.
 * The payload is never rewritten. it: borrowed. */
int c2d_qitem_save(struct qdev *d, struct qitem *it);
/* Make it->r.payload the item's payload (read from the store unless it is
 * there already). 0, or C2D_EINVAL when the payload is missing (logged). */
int c2d_qitem_payload(struct qdev *d, struct qitem *it);
/* Delete the item's payload: a finished item that cannot be retried keeps
 * none in history. */
int c2d_qitem_payload_drop(struct qdev *d, struct qitem *it);
/* Delete the item's record and its deadline entries; a live item also
 * leaves the device's counts. Its dedup entry stays. */
int c2d_qitem_drop(struct qdev *d, struct qitem *it);
/* c2d_qitem_drop, its payload and its dedup entry: nothing is left. */
int c2d_qitem_forget(struct qdev *d, struct qitem *it);
/* Dedup key of a request (sender \0 dev \0 correlation data, all borrowed)
 * into key (DEDUP_KEY_MAX bytes). Returns its length, 0 when the request has
 * none (no sender or correlation data) or it is too long to index. */
size_t c2d_qdedup_key(char *key, const char *sender, const char *dev, const void *corr, size_t corr_len);

/* Append a key to p. Returns 0 or C2D_ENOMEM. */
int c2d_qpicks_push(struct picks *p, uint64_t key, uint8_t state);

/* ---- qmove.c: transitions ---- */

/* Carry out event (enum c2d_qevent) on the item: its record (c2d_qstate_step),
 * the store, the counts, the event, the reply, the delivery. resp: the
 * device's answer (C2D_QE_ANSWER), else NULL; borrowed. *action (may be NULL):
 * what was done (enum c2d_qaction). The caller pumps the device afterwards
 * and saves it. */
int c2d_qitem_on(struct qdev *d, struct qitem *it, int event, const struct c2d_resp *resp, int *action);
/* Event c2d.{kind}.{what} on events/{kind}. data: consumed. */
int c2d_qitem_event(struct qdev *d, const struct qitem *it, const char *what, cJSON *data);
/* {"id","state":"queued","deliveries","expires","sender"?} of a (re)queued item. */
cJSON *c2d_qitem_queued_data(const struct qitem *it);

/* ---- qpump.c ---- */

/* Deliver what the device may have now. reconnect: it just came (back)
 * online, redeliver what it has not answered. Nothing while it is offline. */
int c2d_qpump(struct qdev *d, bool reconnect);
/* The plane's on_online: the reconnect pump, alone in its own item. */
void c2d_qpump_on_online(struct c2d *c2d, const char *dev);

/* ---- qsweep.c ---- */

/* The plane's on_tick: the budgeted sweep of due deadline entries. */
void c2d_qsweep_on_tick(struct c2d *c2d);

#endif
