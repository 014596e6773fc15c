/* The queue's state machine (qstate.c): what happens to one item (a
 * cloud-to-device message or a persistent RPC, struct c2d_qrec) on each event
 * of its life. Pure: no broker, no LMDB, no cJSON; the queue (queue.c and its
 * q*.c modules) stores, announces and delivers what it decides.
 *
 *   QUEUED --deliver--> SENT --(rpc) 202--> DELIVERED
 *     ^                  |  \                  |
 *     +-- 5xx / timeout -+   +--> final <------+
 *         (retry)
 *
 * msg finals: completed (2xx) | rejected (4xx) | expired | dead (more than
 * msg_max_deliveries deliveries); rpc finals: successful (2xx) | failed (4xx,
 * 5xx without retries) | timeout | expired; both: cancelled, purged
 * (operators). A retry needs a delivery left (deliveries < msg_max_deliveries)
 * and, for an RPC, a retry left (retries_left > 0, one used per retry).
 * An operator may queue a finished item again (revive) if it ended as
 * timeout, failed, expired or dead.
 *
 * Deadlines. A live item's record names its entries in the two deadline
 * indexes: its expiry (wall clock) in `due` always; while it is in flight
 * (SENT, DELIVERED) also its timeout in `timeout` (timeout clock), which
 * its due_ms then holds with C2D_QDUE_TMO set. Otherwise due_ms is the `due`
 * entry alone: the expiry of a live item, the end of a history record, or
 * (records of schema 1.0, before the timeout index) the earlier of expiry and
 * timeout in wall-clock ms, which moves to the new form at the next delivery. */
#ifndef C2D_QSTATE_H
#define C2D_QSTATE_H

#include <stdbool.h>
#include <stdint.h>

#include "c2d_qrec.h"

/* In a record's due_ms: its timeout entry is in the timeout index at due_ms
 * without this bit (timeout clock), its expiry in `due` at expires_ms. */
#define C2D_QDUE_TMO (1ull << 63)

/* Wire statuses the state machine decides (protocol.md); the same numbers as
 * C2D_ST_* in c2d.h (qmove.c checks it at compile time). */
#define C2D_QSTATE_ST_OK 200
#define C2D_QSTATE_ST_ACCEPTED 202
#define C2D_QSTATE_ST_GONE 410
#define C2D_QSTATE_ST_INTERNAL 500
#define C2D_QSTATE_ST_TIMEOUT 504

/* What happens to an item. */
enum c2d_qevent {
	C2D_QE_DELIVER = 0, /* the pump has a free slot for it (QUEUED) */
	C2D_QE_RECONNECT,   /* its device came back online: SENT is delivered again,
	                     * DELIVERED gets its timeout afresh */
	C2D_QE_ANSWER,      /* the device answered with c2d_qctx.status */
	C2D_QE_TIMEOUT,     /* its timeout is due, the device online */
	C2D_QE_PAUSE,       /* its timeout is due, the device offline: only the lifetime runs */
	C2D_QE_EXPIRE,      /* its lifetime is over */
	C2D_QE_CANCEL,      /* an operator cancels it */
	C2D_QE_PURGE,       /* an operator purges the queue, or the device is deleted */
	C2D_QE_REVIVE,      /* an operator retries the finished item */
	C2D_QE__COUNT
};

/* What the queue has to do about it (c2d_qstep.action). */
enum c2d_qaction {
	C2D_QA_IGNORE = 0,  /* not an event of this state: the record is unchanged */
	C2D_QA_SEND,        /* deliver it now: SENT, one more delivery, its timeout from now */
	C2D_QA_ACCEPT,      /* rpc 202: DELIVERED, its timeout from now (event delivered) */
	C2D_QA_REARM,       /* only its deadline moved (no event) */
	C2D_QA_RETRY,       /* back to QUEUED for another delivery (event retrying) */
	C2D_QA_FINISH,      /* a final state: it leaves the queue (event, reply) */
	C2D_QA_REVIVE,      /* QUEUED again as accepted, its lifetime from now (event retried) */
	C2D_QA__COUNT
};

/* The world an event happens in. */
struct c2d_qctx {
	uint64_t wall_ms;         /* the wall clock now */
	uint64_t tmo_ms;          /* the timeout clock now (tick.c) */
	uint32_t max_deliveries;  /* msg_max_deliveries */
	uint32_t history_ttl_s;   /* how long a finished item is kept (its due_ms) */
	int status;               /* C2D_QE_ANSWER: the device's status */
};

struct c2d_qstep {
	int action;               /* enum c2d_qaction */
	/* FINISH: the final status (the device's, or C2D_QSTATE_ST_INTERNAL
	 * when the state has none of its own and no device answered); RETRY:
	 * the status that caused it (5xx, or 504 for a timeout); ACCEPT: 202;
	 * else 0. */
	int status;
};

/* Apply event (enum c2d_qevent) to the record r (edited in place; left
 * unchanged when the event is ignored) in the world cx (borrowed). *out:
 * what the queue has to do. Returns out->action. A FINISH leaves r as its
 * history record: the final state, status, finished_ms now and due_ms at the
 * end of its history (now + history_ttl_s). */
int c2d_qstate_step(struct c2d_qrec *r, int event, const struct c2d_qctx *cx, struct c2d_qstep *out);

/* The event a due deadline entry means for the live item r: EXPIRE once its
 * lifetime is over, else PAUSE for an offline device, else TIMEOUT. */
int c2d_qstate_due_event(const struct c2d_qrec *r, uint64_t wall_ms, bool online);

/* The item's lifetime is over. */
bool c2d_qstate_expired(const struct c2d_qrec *r, uint64_t wall_ms);
/* Another delivery is allowed after a 5xx or a timeout. */
bool c2d_qstate_may_retry(const struct c2d_qrec *r, uint32_t max_deliveries);
/* An operator may revive an item that ended in this state. */
bool c2d_qstate_revivable(int state);
/* The final state reached is the kind's success (completed, successful). */
bool c2d_qstate_succeeded(int kind, int state);
/* A device answer can be taken for this item (it is live and was
 * delivered): else an answer to its id is late or unknown. */
bool c2d_qstate_awaits_answer(const struct c2d_qrec *r);
/* Retries of the kind are counted in retries_left (rpc), else only the
 * deliveries bound them (msg). */
bool c2d_qstate_bounded_retries(int kind);
/* Final replies of the kind carry the device's bytes (rpc) rather than
 * {"id","state","status"} (msg). */
bool c2d_qstate_device_answer(int kind);
/* The index entries r names: *due in `due` (wall clock), *tmo in `timeout`
 * (timeout clock; 0: none). */
void c2d_qstate_entries(const struct c2d_qrec *r, uint64_t *due, uint64_t *tmo);

#endif
