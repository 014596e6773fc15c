/* The delivery pump. Whenever something may have freed a slot (enqueue,
 * response, reconnect, timeout) the device's queue is scanned in seq order
 * and QUEUED items are delivered while fewer than msg_inflight are in flight.
 * A reconnect redelivers every SENT item first (the device may have lost it)
 * and gives DELIVERED RPCs their timeout afresh. Each delivery counts;
 * delivering more than msg_max_deliveries times ends the item instead
 * (c2d_qstate_step decides, c2d_qitem_on carries it out). The scan stops as
 * soon as it has what it needs, so a long queue is not read per response;
 * one that reached the end of the live queue corrects the device's counts.
 * The pump never delivers an expired item; it leaves it to the sweep. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "queue_int.h"

struct scan {
	uint64_t now;             /* wall clock */
	bool reconnect;           /* pick in-flight items too */
	uint64_t inflight_want;   /* reconnect: the in-flight count to find */
	size_t queued_want;       /* QUEUED items to pick */
	uint64_t seen;            /* items visited */
	uint64_t inflight_seen;
	size_t queued_seen;
	bool stopped;             /* stopped early: the counts are partial */
	int rc;
	struct picks picks;
};

/* q_scan callback. buf: borrowed for the call. */
static int scan_visit(void *ud, uint64_t seq, const void *buf, size_t len)
{
	struct scan *s = ud;
	struct c2d_qrec r;
	bool pick = false;

	if(seq & HISTORY_BIT) return 1; /* the live queue ends here: not stopped early */
	s->seen++;
	if(c2d_qrec_decode(&r, buf, len)) return 0; /* damaged: the sweep removes it */
	if(c2d_qrec_in_flight(r.state)){
		s->inflight_seen++;
		pick = s->reconnect && !c2d_qstate_expired(&r, s->now);
	}else if(r.state == C2D_QS_QUEUED && !c2d_qstate_expired(&r, s->now) && s->queued_seen < s->queued_want){
		s->queued_seen++;
		pick = true;
	}
	if(pick && (s->rc = c2d_qpicks_push(&s->picks, seq, r.state)) != 0) return 1;
	if(s->queued_seen >= s->queued_want && (!s->reconnect || s->inflight_seen >= s->inflight_want)){
		s->stopped = true;
		return 1;
	}
	return 0;
}

/* A scan that reached the end of the queue saw the truth: correct the
 * device record if it drifted (it never should). */
static void repair_counts(struct qdev *d, const struct scan *s)
{
	if(s->inflight_seen != c2d_qdev_inflight(d)){
		c2d_log(C2D_LOG_WARN, "in-flight count of '%s' was %" PRIu64 ", is %" PRIu64 ": repaired",
				d->dev, c2d_qdev_inflight(d), s->inflight_seen);
		*c2d_qdev_counter(d, C2D_QDEV_INFLIGHT) = s->inflight_seen;
	}
	if(s->seen != d->rec.queued){
		c2d_log(C2D_LOG_WARN, "queue length of '%s' was %u, is %" PRIu64 ": repaired",
				d->dev, d->rec.queued, s->seen);
		d->rec.queued = (uint32_t)s->seen;
		d->dirty = true;
	}
}

/* One pass: pick, then deliver / redeliver. *finished: an item ended instead
 * of being delivered (its slot is free for another pass). */
static int pump_pass(struct qdev *d, bool reconnect, bool *finished)
{
	struct c2d *c2d = d->c2d;
	struct scan s;
	struct qitem it;
	size_t i;
	int rc, action;

	memset(&s, 0, sizeof(s));
	s.now = c2d->wall_ms;
	s.reconnect = reconnect;
	s.inflight_want = c2d_qdev_inflight(d);
	if(s.inflight_want < c2d->conf.msg_inflight) s.queued_want = c2d->conf.msg_inflight - (size_t)s.inflight_want;
	if(s.queued_want == 0 && !reconnect) return 0;
	rc = c2d_store_q_scan(c2d->store, d->dev, 1, scan_visit, &s);
	if(!rc) rc = s.rc;
	if(!rc && !s.stopped) repair_counts(d, &s);
	for(i = 0; i < s.picks.n && !rc; i++){
		action = C2D_QA_IGNORE;
		rc = c2d_qitem_load(c2d, d->dev, s.picks.v[i].key, false, &it);
		if(rc == C2D_ENOTFOUND || rc == C2D_EINVAL){
			rc = 0;
		}else if(!rc && it.r.state == C2D_QS_QUEUED){
			if(c2d_qdev_inflight(d) < c2d->conf.msg_inflight){
				rc = c2d_qitem_on(d, &it, C2D_QE_DELIVER, NULL, &action);
			}
		}else if(!rc && reconnect){
			/* SENT: delivered again; DELIVERED: its timeout afresh */
			rc = c2d_qitem_on(d, &it, C2D_QE_RECONNECT, NULL, &action);
		}
		if(rc == C2D_EINVAL) rc = 0; /* its payload is lost (logged): nothing was written; the sweep ends it */
		if(action == C2D_QA_FINISH) *finished = true;
		c2d_qitem_free(&it);
	}
	free(s.picks.v);
	return rc;
}

int c2d_qpump(struct qdev *d, bool reconnect)
{
	bool finished;
	int rc;

	if(!c2d_presence_online(d->c2d, d->dev)) return 0;
	do{
		finished = false;
		rc = pump_pass(d, reconnect, &finished);
		reconnect = false;
	}while(!rc && finished);
	return rc;
}

void c2d_qpump_on_online(struct c2d *c2d, const char *dev)
{
	struct qdev d;
	bool exists;
	size_t mark;
	int rc;

	/* alone: a failure leaves nothing half done in the shared transaction */
	rc = c2d_item_begin(c2d, &mark);
	if(!rc) rc = c2d_qdev_load(c2d, dev, &d, &exists);
	if(!rc && exists) rc = c2d_qpump(&d, true);
	if(!rc) rc = c2d_qdev_save(&d);
	rc = c2d_item_end(c2d, mark, rc);
	if(rc) c2d_log(C2D_LOG_WARN, "queue delivery to '%s' on connect failed (%d); its timeouts retry it", dev, rc);
}
