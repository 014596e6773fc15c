/* The queue's state machine: kinds, transitions, final statuses, retry rules
 * and which index an item's deadline lives in. Pure (no broker, no LMDB, no
 * cJSON); the states and events are drawn in c2d_qstate.h. */
#include <stddef.h>

#include "c2d_qstate.h"

/* What differs between messages and persistent RPCs. */
struct kind_info {
	uint8_t ok;             /* final state on 2xx */
	uint8_t refused;        /* final state on 4xx (any status not 2xx or 5xx) */
	uint8_t failed;         /* final state on 5xx with no retry left */
	uint8_t timed_out;      /* final state on a timeout with no retry left */
	uint8_t exhausted;      /* final state instead of delivery msg_max_deliveries + 1 */
	bool bounded_retries;   /* retries_left limits retries (else deliveries do) */
	bool device_answer;     /* final replies carry the device's bytes */
	bool accepts_202;       /* 202 = delivered, the result follows */
};

/* A message that may not be retried any more is dead; an RPC delivered too
 * often without an answer timed out. */
static const struct kind_info kinds[C2D_QK__COUNT] = {
	[C2D_QK_MSG] = {C2D_QS_COMPLETED, C2D_QS_REJECTED, C2D_QS_DEAD, C2D_QS_DEAD, C2D_QS_DEAD,
		false, false, false},
	[C2D_QK_RPC] = {C2D_QS_SUCCESSFUL, C2D_QS_FAILED, C2D_QS_FAILED, C2D_QS_TIMEOUT, C2D_QS_TIMEOUT,
		true, true, true},
};

/* Status of a final state (protocol.md); 0 = the device's status. */
static int final_status(int state)
{
	switch(state){
		case C2D_QS_COMPLETED:
			return C2D_QSTATE_ST_OK;
		case C2D_QS_EXPIRED:
		case C2D_QS_PURGED:
		case C2D_QS_CANCELLED:
			return C2D_QSTATE_ST_GONE;
		case C2D_QS_DEAD:
		case C2D_QS_TIMEOUT:
			return C2D_QSTATE_ST_TIMEOUT;
		default:
			return 0; /* rejected, successful, failed */
	}
}

bool c2d_qstate_expired(const struct c2d_qrec *r, uint64_t wall_ms)
{
	return r->expires_ms <= wall_ms;
}

bool c2d_qstate_may_retry(const struct c2d_qrec *r, uint32_t max_deliveries)
{
	if(r->kind >= C2D_QK__COUNT) return false;
	return r->deliveries < max_deliveries && (!kinds[r->kind].bounded_retries || r->retries_left > 0);
}

bool c2d_qstate_revivable(int state)
{
	return state == C2D_QS_TIMEOUT || state == C2D_QS_FAILED || state == C2D_QS_EXPIRED || state == C2D_QS_DEAD;
}

bool c2d_qstate_succeeded(int kind, int state)
{
	return kind >= 0 && kind < C2D_QK__COUNT && state == kinds[kind].ok;
}

bool c2d_qstate_awaits_answer(const struct c2d_qrec *r)
{
	return !c2d_qrec_final(r->state) && r->deliveries > 0;
}

bool c2d_qstate_bounded_retries(int kind)
{
	return kind >= 0 && kind < C2D_QK__COUNT && kinds[kind].bounded_retries;
}

bool c2d_qstate_device_answer(int kind)
{
	return kind >= 0 && kind < C2D_QK__COUNT && kinds[kind].device_answer;
}

void c2d_qstate_entries(const struct c2d_qrec *r, uint64_t *due, uint64_t *tmo)
{
	if(r->due_ms & C2D_QDUE_TMO){
		*due = r->expires_ms;
		*tmo = r->due_ms & ~C2D_QDUE_TMO;
	}else{
		*due = r->due_ms;
		*tmo = 0;
	}
}

int c2d_qstate_due_event(const struct c2d_qrec *r, uint64_t wall_ms, bool online)
{
	if(c2d_qstate_expired(r, wall_ms)) return C2D_QE_EXPIRE;
	return online ? C2D_QE_TIMEOUT : C2D_QE_PAUSE;
}

/* ---- the transitions: each edits r and fills out ---- */

static int act(struct c2d_qstep *out, int action, int status)
{
	out->action = action;
	out->status = status;
	return action;
}

/* due_ms of a delivery made now: its timeout on the timeout clock (the
 * expiry stays in `due`). */
static uint64_t timeout_due(const struct c2d_qrec *r, const struct c2d_qctx *cx)
{
	return (cx->tmo_ms + r->timeout_ms) | C2D_QDUE_TMO;
}

/* Only the deadline moves. */
static int rearm(struct c2d_qrec *r, uint64_t due_ms, struct c2d_qstep *out)
{
	r->due_ms = due_ms;
	return act(out, C2D_QA_REARM, 0);
}

/* The final state: the record becomes the history record. answered: the
 * device's answer (cx->status) decided it. */
static int finish(struct c2d_qrec *r, int state, bool answered, const struct c2d_qctx *cx, struct c2d_qstep *out)
{
	int status = final_status(state);

	if(status == 0) status = answered ? cx->status : C2D_QSTATE_ST_INTERNAL;
	r->state = (uint8_t)state;
	r->status = (uint32_t)status;
	r->finished_ms = cx->wall_ms;
	r->due_ms = cx->wall_ms + (uint64_t)cx->history_ttl_s * 1000;
	return act(out, C2D_QA_FINISH, status);
}

/* Back to QUEUED (a 5xx, a timeout); the caller checked may_retry. */
static int retry(struct c2d_qrec *r, int status, struct c2d_qstep *out)
{
	if(kinds[r->kind].bounded_retries) r->retries_left--;
	r->state = C2D_QS_QUEUED;
	r->due_ms = r->expires_ms;
	return act(out, C2D_QA_RETRY, status);
}

/* Deliver now, or end the item if it may not be delivered any more. */
static int deliver(struct c2d_qrec *r, const struct c2d_qctx *cx, struct c2d_qstep *out)
{
	if(c2d_qstate_expired(r, cx->wall_ms)) return finish(r, C2D_QS_EXPIRED, false, cx, out);
	if(r->deliveries >= cx->max_deliveries) return finish(r, kinds[r->kind].exhausted, false, cx, out);
	r->deliveries++;
	r->state = C2D_QS_SENT;
	r->due_ms = timeout_due(r, cx);
	return act(out, C2D_QA_SEND, 0);
}

/* The device answered an item it was given (never delivered: not pending). */
static int answer(struct c2d_qrec *r, const struct c2d_qctx *cx, struct c2d_qstep *out)
{
	const struct kind_info *k = &kinds[r->kind];
	int st = cx->status;

	if(!c2d_qstate_awaits_answer(r)) return act(out, C2D_QA_IGNORE, 0);
	if(st == C2D_QSTATE_ST_ACCEPTED && k->accepts_202){
		r->state = C2D_QS_DELIVERED;
		r->due_ms = timeout_due(r, cx);
		return act(out, C2D_QA_ACCEPT, st);
	}
	if(st >= 200 && st < 300) return finish(r, k->ok, true, cx, out);
	if(st >= 500){
		if(c2d_qstate_may_retry(r, cx->max_deliveries)) return retry(r, st, out);
		return finish(r, k->failed, true, cx, out);
	}
	return finish(r, k->refused, true, cx, out);
}

/* The item's timeout passed before its expiry, the device online. */
static int timed_out(struct c2d_qrec *r, const struct c2d_qctx *cx, struct c2d_qstep *out)
{
	if(!c2d_qrec_in_flight(r->state)) return rearm(r, r->expires_ms, out); /* QUEUED: only the expiry is due */
	if(c2d_qstate_may_retry(r, cx->max_deliveries)) return retry(r, C2D_QSTATE_ST_TIMEOUT, out);
	return finish(r, kinds[r->kind].timed_out, false, cx, out);
}

/* The finished item goes back into the queue as it was accepted: queued, no
 * deliveries, its retries, its lifetime from now. */
static int revive(struct c2d_qrec *r, const struct c2d_qctx *cx, struct c2d_qstep *out)
{
	r->state = C2D_QS_QUEUED;
	r->deliveries = 0;
	r->retries_left = r->retries;
	r->status = 0;
	r->finished_ms = 0;
	r->expires_ms = cx->wall_ms + (uint64_t)r->ttl_s * 1000;
	r->due_ms = r->expires_ms;
	return act(out, C2D_QA_REVIVE, 0);
}

int c2d_qstate_step(struct c2d_qrec *r, int event, const struct c2d_qctx *cx, struct c2d_qstep *out)
{
	act(out, C2D_QA_IGNORE, 0);
	if(!c2d_qrec_state_valid(r->kind, r->state)) return C2D_QA_IGNORE;
	if(c2d_qrec_final(r->state)){
		if(event == C2D_QE_REVIVE && c2d_qstate_revivable(r->state)) return revive(r, cx, out);
		return C2D_QA_IGNORE;
	}
	switch(event){
		case C2D_QE_DELIVER:
			return r->state == C2D_QS_QUEUED ? deliver(r, cx, out) : C2D_QA_IGNORE;
		case C2D_QE_RECONNECT:
			if(r->state == C2D_QS_SENT) return deliver(r, cx, out);
			if(r->state == C2D_QS_DELIVERED) return rearm(r, timeout_due(r, cx), out);
			return C2D_QA_IGNORE; /* QUEUED: delivered when a slot is free */
		case C2D_QE_ANSWER:
			return answer(r, cx, out);
		case C2D_QE_TIMEOUT:
			return timed_out(r, cx, out);
		case C2D_QE_PAUSE:
			return rearm(r, r->expires_ms, out);
		case C2D_QE_EXPIRE:
			return finish(r, C2D_QS_EXPIRED, false, cx, out);
		case C2D_QE_CANCEL:
			return finish(r, C2D_QS_CANCELLED, false, cx, out);
		case C2D_QE_PURGE:
			return finish(r, C2D_QS_PURGED, false, cx, out);
		default:
			return C2D_QA_IGNORE; /* REVIVE of a live item, or no event */
	}
}
