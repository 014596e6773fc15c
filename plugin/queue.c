/* The durable per-device queue: cloud-to-device messages ($c2d/{dev}/msg) and
 * persistent RPCs ($c2d/{dev}/rpc/{method}, persistent=true) share it. This
 * file is the queue's plane (letter 'q'): device answers, the reconnect and
 * tick callbacks, its state (c2d->queue). The rest, one concern a file, each
 * calling only the ones below it (queue_int.h):
 *
 *   qreq.c, qadmin.c   requests (route.c, rpc.c) and operators (admin.c)
 *   qsweep.c           the sweep of due lifetimes and timeouts (TICK)
 *   qpump.c            the delivery pump and reconnect redelivery
 *   qmove.c            carrying out a transition: store, counts, event, reply
 *   qitem.c            storage: device record, items, history, index entries
 *   qstate.c           the state machine (pure; drawn in c2d_qstate.h)
 *
 * Each accepted request becomes one item of its device's queue. An item
 * lives in one of three states (queued, sent, delivered) and leaves the
 * queue in a final one; which event moves it where, with which status and
 * whether it may be retried, is the state machine's. A final state emits
 * one event and sends one reply to the requester; the finished item stays
 * as history for history_ttl seconds. Whenever something may have freed a
 * slot (enqueue, response, reconnect, timeout) the pump delivers the
 * device's queued items while fewer than msg_inflight are in flight.
 * Lifetimes and timeouts are entries of two deadline indexes that the sweep
 * walks at each TICK. Operators list, cancel, retry and purge items, and a
 * deleted device's queue is forgotten, through the same transitions.
 *
 * Transactions: every write joins the current event's store transaction
 * (c2d_txn); the event's unit (unit.c) commits it (before the PUBACK for a
 * request, at the end of a tick), and only then do replies, events and
 * deliveries leave. */
#include <inttypes.h>
#include <stdlib.h>

#include "queue_int.h"

/* ---- the plane ---- */

/* The device answered q{seq}. */
static int queue_on_response(struct c2d *c2d, const struct c2d_resp *resp)
{
	struct qdev d;
	struct qitem it;
	int rc;

	rc = c2d_qitem_load(c2d, resp->dev, resp->num, false, &it);
	if(rc == C2D_ENOTFOUND || rc == C2D_EINVAL || (rc == 0 && !c2d_qstate_awaits_answer(&it.r))){
		/* EINVAL: damaged, logged; the sweep removes it */
		if(rc != C2D_EINVAL){
			c2d_log(C2D_LOG_DEBUG, "answer from '%s' to q%" PRIu64 ", which is not pending (late or unknown): dropped",
					resp->dev, resp->num);
		}
		c2d_qitem_free(&it);
		return 0;
	}
	if(!rc) rc = c2d_qdev_load(c2d, resp->dev, &d, NULL);
	if(!rc) rc = c2d_qitem_on(&d, &it, C2D_QE_ANSWER, resp, NULL);
	if(!rc) rc = c2d_qpump(&d, false);
	if(!rc) rc = c2d_qdev_save(&d);
	c2d_qitem_free(&it);
	return rc;
}

static int queue_init(struct c2d *c2d)
{
	struct c2d_queue *q = calloc(1, sizeof(*q));

	if(q == NULL) return C2D_ENOMEM;
	c2d->queue = q; /* next_due_ms, next_tmo_ms 0: the first tick looks */
	return 0;
}

static void queue_cleanup(struct c2d *c2d)
{
	free(c2d->queue);
	c2d->queue = NULL;
}

const struct c2d_plane c2d_queue_plane = {
	.letter = C2D_QUEUE_LETTER,
	.name = "queue",
	.group_commit = true,
	.init = queue_init,
	.cleanup = queue_cleanup,
	.on_response = queue_on_response,
	.on_online = c2d_qpump_on_online,
	.on_tick = c2d_qsweep_on_tick,
};
