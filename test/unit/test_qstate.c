/* The queue's state machine (qstate.c): every kind x state x event, with the
 * resulting state, final status, whether a retry was taken and what the
 * item's deadline becomes; then the rules at their edges (no retry left,
 * deliveries used up, lifetime over, answers to undelivered items), the
 * deadline entries of a record and the operator's revive. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "c2d_qstate.h"
#include "../check_main.h"

/* The world of the table: a retry is allowed (1 of 3 deliveries made, one
 * rpc retry left), the lifetime runs, history is kept 60 s. */
#define WALL 1800000000000ull
#define TMO 1800000500000ull     /* the timeout clock runs ahead */
#define TMO_THEN (TMO - 2000)    /* the timeout clock at the last delivery */
#define EXPIRES (WALL + 10000)
#define TIMEOUT_MS 3000u
#define TTL_S 30u
#define MAX_DELIVERIES 3u
#define HISTORY_S 60u
#define HISTORY_END_THEN (WALL - 5000) /* a history record's end, set earlier */

static struct c2d_qctx ctx(int status)
{
	struct c2d_qctx cx = {WALL, TMO, MAX_DELIVERIES, HISTORY_S, status};
	return cx;
}

/* A record of kind in state as the queue would hold it: deliveries 1,
 * retries 2 asked and 1 left, its deadline where the state keeps it. */
static struct c2d_qrec rec(int kind, int state)
{
	struct c2d_qrec r;

	memset(&r, 0, sizeof(r));
	r.kind = (uint8_t)kind;
	r.state = (uint8_t)state;
	r.deliveries = 1;
	r.retries = 2;
	r.retries_left = 1;
	r.timeout_ms = TIMEOUT_MS;
	r.ttl_s = TTL_S;
	r.created_ms = WALL - 20000;
	r.expires_ms = EXPIRES;
	r.method = kind == C2D_QK_RPC ? "reboot" : NULL;
	if(c2d_qrec_in_flight(state)){
		r.due_ms = (TMO_THEN + TIMEOUT_MS) | C2D_QDUE_TMO;
	}else if(c2d_qrec_final(state)){
		r.status = 200;
		r.finished_ms = WALL - 60000;
		r.due_ms = HISTORY_END_THEN;
	}else{
		r.due_ms = EXPIRES;
	}
	return r;
}

/* Every field of two records alike (not memcmp: padding is not a field). */
static bool same_rec(const struct c2d_qrec *a, const struct c2d_qrec *b)
{
	return a->kind == b->kind && a->state == b->state && a->deliveries == b->deliveries
			&& a->retries_left == b->retries_left && a->timeout_ms == b->timeout_ms
			&& a->created_ms == b->created_ms && a->expires_ms == b->expires_ms && a->due_ms == b->due_ms
			&& a->sender == b->sender && a->resp_topic == b->resp_topic && a->corr == b->corr
			&& a->corr_len == b->corr_len && a->content_type == b->content_type && a->method == b->method
			&& a->payload == b->payload && a->payload_len == b->payload_len && a->retries == b->retries
			&& a->ttl_s == b->ttl_s && a->status == b->status && a->finished_ms == b->finished_ms;
}

/* What the item's deadline becomes. */
enum dl {
	DL_EXPIRY = 1, /* its expiry alone, in `due` */
	DL_TIMEOUT,    /* its expiry in `due` and its timeout from now in `timeout` */
	DL_HISTORY,    /* the end of its history: now + history_ttl, in `due` */
	DL_REVIVED,    /* a new lifetime from now, in `due` */
};

/* ANSWER is run with each of these statuses: the event column of a row is
 * ANSWER + the status. */
static const int answers[] = {200, 201, 202, 301, 404, 503};
#define N_ANSWERS (sizeof(answers) / sizeof(answers[0]))

struct row {
	int kind, state, event, status; /* status: ANSWER's, else 0 */
	int action, to, final_status;   /* final_status: out.status (FINISH, RETRY, ACCEPT) */
	enum dl deadline;
	uint32_t deliveries, retries_left; /* afterwards */
};

#define M C2D_QK_MSG
#define R C2D_QK_RPC
#define Q C2D_QS_QUEUED
#define S C2D_QS_SENT
#define D C2D_QS_DELIVERED
#define ANS C2D_QE_ANSWER
#define FIN C2D_QA_FINISH
#define HIST DL_HISTORY

/* Every outcome that is not IGNORE; anything not listed must be ignored. */
static const struct row rows[] = {
	/* msg, QUEUED */
	{M, Q, C2D_QE_DELIVER, 0, C2D_QA_SEND, S, 0, DL_TIMEOUT, 2, 1},
	{M, Q, ANS, 200, FIN, C2D_QS_COMPLETED, 200, HIST, 1, 1},
	{M, Q, ANS, 201, FIN, C2D_QS_COMPLETED, 200, HIST, 1, 1},
	{M, Q, ANS, 202, FIN, C2D_QS_COMPLETED, 200, HIST, 1, 1},
	{M, Q, ANS, 301, FIN, C2D_QS_REJECTED, 301, HIST, 1, 1},
	{M, Q, ANS, 404, FIN, C2D_QS_REJECTED, 404, HIST, 1, 1},
	{M, Q, ANS, 503, C2D_QA_RETRY, Q, 503, DL_EXPIRY, 1, 1},
	{M, Q, C2D_QE_TIMEOUT, 0, C2D_QA_REARM, Q, 0, DL_EXPIRY, 1, 1},
	{M, Q, C2D_QE_PAUSE, 0, C2D_QA_REARM, Q, 0, DL_EXPIRY, 1, 1},
	{M, Q, C2D_QE_EXPIRE, 0, FIN, C2D_QS_EXPIRED, 410, HIST, 1, 1},
	{M, Q, C2D_QE_CANCEL, 0, FIN, C2D_QS_CANCELLED, 410, HIST, 1, 1},
	{M, Q, C2D_QE_PURGE, 0, FIN, C2D_QS_PURGED, 410, HIST, 1, 1},
	/* msg, SENT */
	{M, S, C2D_QE_RECONNECT, 0, C2D_QA_SEND, S, 0, DL_TIMEOUT, 2, 1},
	{M, S, ANS, 200, FIN, C2D_QS_COMPLETED, 200, HIST, 1, 1},
	{M, S, ANS, 201, FIN, C2D_QS_COMPLETED, 200, HIST, 1, 1},
	{M, S, ANS, 202, FIN, C2D_QS_COMPLETED, 200, HIST, 1, 1},
	{M, S, ANS, 301, FIN, C2D_QS_REJECTED, 301, HIST, 1, 1},
	{M, S, ANS, 404, FIN, C2D_QS_REJECTED, 404, HIST, 1, 1},
	{M, S, ANS, 503, C2D_QA_RETRY, Q, 503, DL_EXPIRY, 1, 1},
	{M, S, C2D_QE_TIMEOUT, 0, C2D_QA_RETRY, Q, 504, DL_EXPIRY, 1, 1},
	{M, S, C2D_QE_PAUSE, 0, C2D_QA_REARM, S, 0, DL_EXPIRY, 1, 1},
	{M, S, C2D_QE_EXPIRE, 0, FIN, C2D_QS_EXPIRED, 410, HIST, 1, 1},
	{M, S, C2D_QE_CANCEL, 0, FIN, C2D_QS_CANCELLED, 410, HIST, 1, 1},
	{M, S, C2D_QE_PURGE, 0, FIN, C2D_QS_PURGED, 410, HIST, 1, 1},
	/* msg, finals an operator may retry */
	{M, C2D_QS_EXPIRED, C2D_QE_REVIVE, 0, C2D_QA_REVIVE, Q, 0, DL_REVIVED, 0, 2},
	{M, C2D_QS_DEAD, C2D_QE_REVIVE, 0, C2D_QA_REVIVE, Q, 0, DL_REVIVED, 0, 2},
	/* rpc, QUEUED */
	{R, Q, C2D_QE_DELIVER, 0, C2D_QA_SEND, S, 0, DL_TIMEOUT, 2, 1},
	{R, Q, ANS, 200, FIN, C2D_QS_SUCCESSFUL, 200, HIST, 1, 1},
	{R, Q, ANS, 201, FIN, C2D_QS_SUCCESSFUL, 201, HIST, 1, 1},
	{R, Q, ANS, 202, C2D_QA_ACCEPT, D, 202, DL_TIMEOUT, 1, 1},
	{R, Q, ANS, 301, FIN, C2D_QS_FAILED, 301, HIST, 1, 1},
	{R, Q, ANS, 404, FIN, C2D_QS_FAILED, 404, HIST, 1, 1},
	{R, Q, ANS, 503, C2D_QA_RETRY, Q, 503, DL_EXPIRY, 1, 0},
	{R, Q, C2D_QE_TIMEOUT, 0, C2D_QA_REARM, Q, 0, DL_EXPIRY, 1, 1},
	{R, Q, C2D_QE_PAUSE, 0, C2D_QA_REARM, Q, 0, DL_EXPIRY, 1, 1},
	{R, Q, C2D_QE_EXPIRE, 0, FIN, C2D_QS_EXPIRED, 410, HIST, 1, 1},
	{R, Q, C2D_QE_CANCEL, 0, FIN, C2D_QS_CANCELLED, 410, HIST, 1, 1},
	{R, Q, C2D_QE_PURGE, 0, FIN, C2D_QS_PURGED, 410, HIST, 1, 1},
	/* rpc, SENT */
	{R, S, C2D_QE_RECONNECT, 0, C2D_QA_SEND, S, 0, DL_TIMEOUT, 2, 1},
	{R, S, ANS, 200, FIN, C2D_QS_SUCCESSFUL, 200, HIST, 1, 1},
	{R, S, ANS, 201, FIN, C2D_QS_SUCCESSFUL, 201, HIST, 1, 1},
	{R, S, ANS, 202, C2D_QA_ACCEPT, D, 202, DL_TIMEOUT, 1, 1},
	{R, S, ANS, 301, FIN, C2D_QS_FAILED, 301, HIST, 1, 1},
	{R, S, ANS, 404, FIN, C2D_QS_FAILED, 404, HIST, 1, 1},
	{R, S, ANS, 503, C2D_QA_RETRY, Q, 503, DL_EXPIRY, 1, 0},
	{R, S, C2D_QE_TIMEOUT, 0, C2D_QA_RETRY, Q, 504, DL_EXPIRY, 1, 0},
	{R, S, C2D_QE_PAUSE, 0, C2D_QA_REARM, S, 0, DL_EXPIRY, 1, 1},
	{R, S, C2D_QE_EXPIRE, 0, FIN, C2D_QS_EXPIRED, 410, HIST, 1, 1},
	{R, S, C2D_QE_CANCEL, 0, FIN, C2D_QS_CANCELLED, 410, HIST, 1, 1},
	{R, S, C2D_QE_PURGE, 0, FIN, C2D_QS_PURGED, 410, HIST, 1, 1},
	/* rpc, DELIVERED (202): a reconnect gives it its timeout afresh */
	{R, D, C2D_QE_RECONNECT, 0, C2D_QA_REARM, D, 0, DL_TIMEOUT, 1, 1},
	{R, D, ANS, 200, FIN, C2D_QS_SUCCESSFUL, 200, HIST, 1, 1},
	{R, D, ANS, 201, FIN, C2D_QS_SUCCESSFUL, 201, HIST, 1, 1},
	{R, D, ANS, 202, C2D_QA_ACCEPT, D, 202, DL_TIMEOUT, 1, 1},
	{R, D, ANS, 301, FIN, C2D_QS_FAILED, 301, HIST, 1, 1},
	{R, D, ANS, 404, FIN, C2D_QS_FAILED, 404, HIST, 1, 1},
	{R, D, ANS, 503, C2D_QA_RETRY, Q, 503, DL_EXPIRY, 1, 0},
	{R, D, C2D_QE_TIMEOUT, 0, C2D_QA_RETRY, Q, 504, DL_EXPIRY, 1, 0},
	{R, D, C2D_QE_PAUSE, 0, C2D_QA_REARM, D, 0, DL_EXPIRY, 1, 1},
	{R, D, C2D_QE_EXPIRE, 0, FIN, C2D_QS_EXPIRED, 410, HIST, 1, 1},
	{R, D, C2D_QE_CANCEL, 0, FIN, C2D_QS_CANCELLED, 410, HIST, 1, 1},
	{R, D, C2D_QE_PURGE, 0, FIN, C2D_QS_PURGED, 410, HIST, 1, 1},
	/* rpc, finals an operator may retry */
	{R, C2D_QS_TIMEOUT, C2D_QE_REVIVE, 0, C2D_QA_REVIVE, Q, 0, DL_REVIVED, 0, 2},
	{R, C2D_QS_FAILED, C2D_QE_REVIVE, 0, C2D_QA_REVIVE, Q, 0, DL_REVIVED, 0, 2},
	{R, C2D_QS_EXPIRED, C2D_QE_REVIVE, 0, C2D_QA_REVIVE, Q, 0, DL_REVIVED, 0, 2},
};
#define N_ROWS (sizeof(rows) / sizeof(rows[0]))

static void assert_deadline(const struct c2d_qrec *r, enum dl want, const char *what)
{
	uint64_t due, tmo;

	c2d_qstate_entries(r, &due, &tmo);
	switch(want){
		case DL_EXPIRY:
			ck_assert_msg(due == EXPIRES && tmo == 0, "%s: due %llu tmo %llu, want the expiry alone", what,
					(unsigned long long)due, (unsigned long long)tmo);
			break;
		case DL_TIMEOUT:
			ck_assert_msg(due == EXPIRES && tmo == TMO + TIMEOUT_MS, "%s: due %llu tmo %llu, want expiry + timeout",
					what, (unsigned long long)due, (unsigned long long)tmo);
			break;
		case DL_HISTORY:
			ck_assert_msg(due == WALL + HISTORY_S * 1000ull && tmo == 0, "%s: due %llu tmo %llu, want history end",
					what, (unsigned long long)due, (unsigned long long)tmo);
			break;
		case DL_REVIVED:
			ck_assert_msg(r->expires_ms == WALL + TTL_S * 1000ull && due == r->expires_ms && tmo == 0,
					"%s: expires %llu due %llu tmo %llu, want a new lifetime", what,
					(unsigned long long)r->expires_ms, (unsigned long long)due, (unsigned long long)tmo);
			break;
	}
}

/* One combination: the row it must match, or IGNORE with the record untouched. */
static void check_one(int kind, int state, int event, int status, unsigned *matched)
{
	const struct c2d_qctx cx = ctx(status);
	const struct row *w = NULL;
	struct c2d_qrec r = rec(kind, state), before;
	struct c2d_qstep out;
	char what[96];
	size_t i;
	int action;

	for(i = 0; i < N_ROWS; i++){
		if(rows[i].kind == kind && rows[i].state == state && rows[i].event == event && rows[i].status == status){
			w = &rows[i];
		}
	}
	snprintf(what, sizeof(what), "%s %s event %d (status %d)", c2d_qrec_kind_name(kind), c2d_qrec_state_name(state),
			event, status);
	before = r;
	action = c2d_qstate_step(&r, event, &cx, &out);
	ck_assert_int_eq(action, out.action);
	if(w == NULL){
		ck_assert_msg(action == C2D_QA_IGNORE, "%s: action %d, want ignored", what, action);
		ck_assert_msg(out.status == 0, "%s: ignored with status %d", what, out.status);
		ck_assert_msg(same_rec(&r, &before), "%s: ignored but the record changed", what);
		return;
	}
	(*matched)++;
	ck_assert_msg(action == w->action, "%s: action %d, want %d", what, action, w->action);
	ck_assert_msg(r.state == w->to, "%s: state %s, want %s", what, c2d_qrec_state_name(r.state),
			c2d_qrec_state_name(w->to));
	ck_assert_msg(out.status == w->final_status, "%s: status %d, want %d", what, out.status, w->final_status);
	ck_assert_msg(r.deliveries == w->deliveries, "%s: deliveries %u, want %u", what, r.deliveries, w->deliveries);
	ck_assert_msg(r.retries_left == w->retries_left, "%s: retries_left %u, want %u", what, r.retries_left,
			w->retries_left);
	ck_assert(c2d_qrec_state_valid(kind, r.state));
	assert_deadline(&r, w->deadline, what);
	if(action == C2D_QA_FINISH){
		ck_assert_uint_eq(r.status, (uint32_t)w->final_status);
		ck_assert_uint_eq(r.finished_ms, WALL);
	}else if(c2d_qrec_final(before.state)){
		/* revived: live again, as accepted */
		ck_assert_uint_eq(r.status, 0);
		ck_assert_uint_eq(r.finished_ms, 0);
	}else{
		ck_assert_uint_eq(r.status, 0);
		ck_assert_uint_eq(r.finished_ms, 0);
		if(action == C2D_QA_REARM && w->to == state && w->deadline == DL_EXPIRY){
			ck_assert_uint_eq(r.expires_ms, before.expires_ms);
		}
	}
	/* the rest of the record is never touched */
	ck_assert_uint_eq(r.kind, before.kind);
	ck_assert_uint_eq(r.timeout_ms, before.timeout_ms);
	ck_assert_uint_eq(r.created_ms, before.created_ms);
	ck_assert_uint_eq(r.retries, before.retries);
	ck_assert_uint_eq(r.ttl_s, before.ttl_s);
	ck_assert_ptr_eq(r.method, before.method);
}

/* Step r with event in cx and check the action, the state reached and the
 * status given. */
static void expect(struct c2d_qrec *r, int event, const struct c2d_qctx *cx, int action, int state, int status)
{
	struct c2d_qstep out;

	ck_assert_int_eq(c2d_qstate_step(r, event, cx, &out), action);
	ck_assert_str_eq(c2d_qrec_state_name(r->state), c2d_qrec_state_name(state));
	ck_assert_int_eq(out.status, status);
}

/* rec(kind, state) with deliveries and retries_left set. */
static struct c2d_qrec rec_n(int kind, int state, uint32_t deliveries, uint32_t retries_left)
{
	struct c2d_qrec r = rec(kind, state);

	r.deliveries = deliveries;
	r.retries_left = retries_left;
	return r;
}

START_TEST(every_kind_state_event)
{
	unsigned matched = 0, combos = 0;
	int kind, state, event;
	size_t a;

	for(kind = 0; kind < C2D_QK__COUNT; kind++){
		for(state = 0; state < C2D_QS__COUNT; state++){
			for(event = 0; event < C2D_QE__COUNT; event++){
				if(event != C2D_QE_ANSWER){
					check_one(kind, state, event, 0, &matched);
					combos++;
					continue;
				}
				for(a = 0; a < N_ANSWERS; a++){
					check_one(kind, state, event, answers[a], &matched);
					combos++;
				}
			}
		}
	}
	/* 2 kinds x 12 states x (8 events + 6 answers) */
	ck_assert_uint_eq(combos, 2 * 12 * 14);
	ck_assert_uint_eq(matched, N_ROWS); /* every row names a real combination */
}
END_TEST

/* An out-of-range kind, state or event is ignored. */
START_TEST(out_of_range_is_ignored)
{
	const struct c2d_qctx cx = ctx(200);
	struct c2d_qrec r = rec(C2D_QK_MSG, C2D_QS_QUEUED), before = r;
	struct c2d_qstep out;

	ck_assert_int_eq(c2d_qstate_step(&r, C2D_QE__COUNT, &cx, &out), C2D_QA_IGNORE);
	ck_assert_int_eq(c2d_qstate_step(&r, -1, &cx, &out), C2D_QA_IGNORE);
	ck_assert(same_rec(&r, &before));
	r.kind = C2D_QK__COUNT;
	ck_assert_int_eq(c2d_qstate_step(&r, C2D_QE_EXPIRE, &cx, &out), C2D_QA_IGNORE);
	r.kind = C2D_QK_MSG;
	r.state = C2D_QS__COUNT;
	ck_assert_int_eq(c2d_qstate_step(&r, C2D_QE_EXPIRE, &cx, &out), C2D_QA_IGNORE);
	ck_assert_uint_eq(r.state, C2D_QS__COUNT);
	ck_assert(!c2d_qstate_may_retry(&(struct c2d_qrec){.kind = C2D_QK__COUNT}, 10));
	ck_assert(!c2d_qstate_succeeded(C2D_QK__COUNT, C2D_QS_COMPLETED));
	ck_assert(!c2d_qstate_device_answer(-1));
	ck_assert(!c2d_qstate_bounded_retries(C2D_QK__COUNT));
}
END_TEST

/* With every delivery made (deliveries == msg_max_deliveries) nothing is
 * retried: a 5xx or a timeout is final, and so is the next delivery. */
START_TEST(no_delivery_left)
{
	struct c2d_qctx cx = ctx(503);
	struct c2d_qrec r;
	int kind;

	for(kind = 0; kind < C2D_QK__COUNT; kind++){
		bool rpc = kind == C2D_QK_RPC;
		int used_up = rpc ? C2D_QS_TIMEOUT : C2D_QS_DEAD;

		r = rec_n(kind, C2D_QS_SENT, MAX_DELIVERIES, 1);
		ck_assert(!c2d_qstate_may_retry(&r, MAX_DELIVERIES));
		/* rpc: failed with the device's status; msg: dead */
		expect(&r, C2D_QE_ANSWER, &cx, C2D_QA_FINISH, rpc ? C2D_QS_FAILED : C2D_QS_DEAD, rpc ? 503 : 504);
		r = rec_n(kind, C2D_QS_SENT, MAX_DELIVERIES, 1);
		expect(&r, C2D_QE_TIMEOUT, &cx, C2D_QA_FINISH, used_up, 504);
		/* the next delivery would be one too many */
		r = rec_n(kind, C2D_QS_QUEUED, MAX_DELIVERIES, 1);
		expect(&r, C2D_QE_DELIVER, &cx, C2D_QA_FINISH, used_up, 504);
		ck_assert_uint_eq(r.deliveries, MAX_DELIVERIES);
		r = rec_n(kind, C2D_QS_SENT, MAX_DELIVERIES, 1);
		expect(&r, C2D_QE_RECONNECT, &cx, C2D_QA_FINISH, used_up, 504);
		/* one below the bound: still allowed */
		r = rec_n(kind, C2D_QS_QUEUED, MAX_DELIVERIES - 1, 1);
		ck_assert(c2d_qstate_may_retry(&r, MAX_DELIVERIES));
		expect(&r, C2D_QE_DELIVER, &cx, C2D_QA_SEND, C2D_QS_SENT, 0);
		ck_assert_uint_eq(r.deliveries, MAX_DELIVERIES);
	}
}
END_TEST

/* An rpc with no retry left ends at its next 5xx or timeout, though
 * deliveries remain; a message has no retry count (deliveries bound it). */
START_TEST(no_retry_left)
{
	struct c2d_qctx cx = ctx(500);
	struct c2d_qrec r;

	r = rec_n(C2D_QK_RPC, C2D_QS_DELIVERED, 1, 0);
	ck_assert(!c2d_qstate_may_retry(&r, MAX_DELIVERIES));
	expect(&r, C2D_QE_ANSWER, &cx, C2D_QA_FINISH, C2D_QS_FAILED, 500);
	ck_assert_uint_eq(r.retries_left, 0);
	r = rec_n(C2D_QK_RPC, C2D_QS_SENT, 1, 0);
	expect(&r, C2D_QE_TIMEOUT, &cx, C2D_QA_FINISH, C2D_QS_TIMEOUT, 504);
	/* a delivery needs no retry: the first one is not a retry */
	r = rec_n(C2D_QK_RPC, C2D_QS_QUEUED, 1, 0);
	expect(&r, C2D_QE_DELIVER, &cx, C2D_QA_SEND, C2D_QS_SENT, 0);
	r = rec_n(C2D_QK_MSG, C2D_QS_SENT, 1, 0);
	ck_assert(c2d_qstate_may_retry(&r, MAX_DELIVERIES));
	expect(&r, C2D_QE_ANSWER, &cx, C2D_QA_RETRY, C2D_QS_QUEUED, 500);
	ck_assert_uint_eq(r.retries_left, 0);
}
END_TEST

/* The pump never delivers an item whose lifetime is over: it ends as
 * expired (410), on the expiry's very millisecond too. */
START_TEST(lifetime_over)
{
	struct c2d_qctx cx = ctx(0);
	struct c2d_qrec r;

	r = rec(C2D_QK_MSG, C2D_QS_QUEUED);
	r.expires_ms = WALL;
	ck_assert(c2d_qstate_expired(&r, WALL));
	expect(&r, C2D_QE_DELIVER, &cx, C2D_QA_FINISH, C2D_QS_EXPIRED, 410);
	ck_assert_uint_eq(r.deliveries, 1);
	r = rec(C2D_QK_RPC, C2D_QS_SENT);
	r.expires_ms = WALL - 1;
	expect(&r, C2D_QE_RECONNECT, &cx, C2D_QA_FINISH, C2D_QS_EXPIRED, 410);
	r = rec(C2D_QK_RPC, C2D_QS_QUEUED);
	r.expires_ms = WALL + 1;
	ck_assert(!c2d_qstate_expired(&r, WALL));
	expect(&r, C2D_QE_DELIVER, &cx, C2D_QA_SEND, C2D_QS_SENT, 0);
}
END_TEST

/* A due deadline entry: expired first (online or not), else offline only
 * the lifetime runs, else a timeout. */
START_TEST(due_entry_event)
{
	struct c2d_qrec r = rec(C2D_QK_RPC, C2D_QS_SENT);

	ck_assert_int_eq(c2d_qstate_due_event(&r, WALL, true), C2D_QE_TIMEOUT);
	ck_assert_int_eq(c2d_qstate_due_event(&r, WALL, false), C2D_QE_PAUSE);
	ck_assert_int_eq(c2d_qstate_due_event(&r, EXPIRES, true), C2D_QE_EXPIRE);
	ck_assert_int_eq(c2d_qstate_due_event(&r, EXPIRES, false), C2D_QE_EXPIRE);
	ck_assert_int_eq(c2d_qstate_due_event(&r, EXPIRES - 1, false), C2D_QE_PAUSE);
}
END_TEST

/* Answers: never to an item not delivered yet (late or unknown), and a
 * status outside 2xx and 5xx refuses. */
START_TEST(answers_edges)
{
	static const struct {
		int kind, status, to, final_status;
	} odd[] = {
		{C2D_QK_RPC, 100, C2D_QS_FAILED, 100},
		{C2D_QK_MSG, 499, C2D_QS_REJECTED, 499},
		{C2D_QK_MSG, 299, C2D_QS_COMPLETED, 200},
		{C2D_QK_RPC, 299, C2D_QS_SUCCESSFUL, 299},
		{C2D_QK_RPC, 599, C2D_QS_QUEUED, 599},
	};
	struct c2d_qctx cx = ctx(200);
	struct c2d_qrec r, before;
	struct c2d_qstep out;
	size_t i;

	r = rec_n(C2D_QK_MSG, C2D_QS_QUEUED, 0, 1);
	before = r;
	ck_assert(!c2d_qstate_awaits_answer(&r));
	ck_assert_int_eq(c2d_qstate_step(&r, C2D_QE_ANSWER, &cx, &out), C2D_QA_IGNORE);
	ck_assert(same_rec(&r, &before));
	ck_assert(c2d_qstate_awaits_answer(&(struct c2d_qrec){.state = C2D_QS_QUEUED, .deliveries = 1}));
	ck_assert(!c2d_qstate_awaits_answer(&(struct c2d_qrec){.state = C2D_QS_COMPLETED, .deliveries = 1}));
	for(i = 0; i < sizeof(odd) / sizeof(odd[0]); i++){
		cx.status = odd[i].status;
		r = rec(odd[i].kind, C2D_QS_SENT);
		expect(&r, C2D_QE_ANSWER, &cx, odd[i].to == C2D_QS_QUEUED ? C2D_QA_RETRY : C2D_QA_FINISH, odd[i].to,
				odd[i].final_status);
	}
}
END_TEST

/* What differs between the kinds: which final is a success, whether final
 * replies carry the device's bytes, whether retries are counted. */
START_TEST(kind_rules)
{
	static const struct {
		int kind, success;
		bool device_answer, bounded;
	} want[C2D_QK__COUNT] = {
		{C2D_QK_MSG, C2D_QS_COMPLETED, false, false},
		{C2D_QK_RPC, C2D_QS_SUCCESSFUL, true, true},
	};
	int k, state;

	for(k = 0; k < C2D_QK__COUNT; k++){
		ck_assert_int_eq(want[k].kind, k);
		for(state = 0; state < C2D_QS__COUNT; state++){
			ck_assert(c2d_qstate_succeeded(k, state) == (state == want[k].success));
		}
		ck_assert(c2d_qstate_device_answer(k) == want[k].device_answer);
		ck_assert(c2d_qstate_bounded_retries(k) == want[k].bounded);
	}
}
END_TEST

/* History: a FINISH keeps nothing but the record's end when history_ttl is
 * 0 (the queue forgets it at once); revive works from history only, and
 * only from the states an operator may retry. */
START_TEST(history_and_revive)
{
	struct c2d_qctx cx = ctx(0);
	struct c2d_qrec r;
	struct c2d_qstep out;
	int s;

	cx.history_ttl_s = 0;
	r = rec(C2D_QK_MSG, C2D_QS_SENT);
	ck_assert_int_eq(c2d_qstate_step(&r, C2D_QE_CANCEL, &cx, &out), C2D_QA_FINISH);
	ck_assert_uint_eq(r.due_ms, WALL);

	for(s = 0; s < C2D_QS__COUNT; s++){
		ck_assert(c2d_qstate_revivable(s) == (s == C2D_QS_TIMEOUT || s == C2D_QS_FAILED || s == C2D_QS_EXPIRED
				|| s == C2D_QS_DEAD));
	}
	/* a revived item is as accepted: its retries again, no deliveries, no outcome */
	r = rec(C2D_QK_RPC, C2D_QS_TIMEOUT);
	r.deliveries = 7;
	r.retries_left = 0;
	r.retries = 5;
	r.status = 504;
	ck_assert_int_eq(c2d_qstate_step(&r, C2D_QE_REVIVE, &cx, &out), C2D_QA_REVIVE);
	ck_assert_uint_eq(r.state, C2D_QS_QUEUED);
	ck_assert_uint_eq(r.deliveries, 0);
	ck_assert_uint_eq(r.retries_left, 5);
	ck_assert_uint_eq(r.status, 0);
	ck_assert_uint_eq(r.finished_ms, 0);
	ck_assert_uint_eq(r.expires_ms, WALL + TTL_S * 1000ull);
	ck_assert_uint_eq(r.due_ms, r.expires_ms);
	/* and may be delivered again */
	ck_assert_int_eq(c2d_qstate_step(&r, C2D_QE_DELIVER, &cx, &out), C2D_QA_SEND);
}
END_TEST

/* Where a record's deadline lives: in flight, the expiry in `due` and the
 * timeout in `timeout`; else (and records of schema 1.0) due_ms in `due`. */
START_TEST(deadline_entries)
{
	struct c2d_qrec r = rec(C2D_QK_MSG, C2D_QS_SENT);
	uint64_t due, tmo;

	c2d_qstate_entries(&r, &due, &tmo);
	ck_assert_uint_eq(due, EXPIRES);
	ck_assert_uint_eq(tmo, TMO_THEN + TIMEOUT_MS);
	r.due_ms = WALL + 5; /* schema 1.0: the earlier of expiry and timeout, wall clock */
	c2d_qstate_entries(&r, &due, &tmo);
	ck_assert_uint_eq(due, WALL + 5);
	ck_assert_uint_eq(tmo, 0);
	/* a legacy record moves to the new form at its next delivery */
	r.state = C2D_QS_QUEUED;
	{
		struct c2d_qctx cx = ctx(0);
		struct c2d_qstep out;

		ck_assert_int_eq(c2d_qstate_step(&r, C2D_QE_DELIVER, &cx, &out), C2D_QA_SEND);
	}
	c2d_qstate_entries(&r, &due, &tmo);
	ck_assert_uint_eq(due, EXPIRES);
	ck_assert_uint_eq(tmo, TMO + TIMEOUT_MS);
	ck_assert(r.due_ms & C2D_QDUE_TMO);
}
END_TEST

int main(void)
{
	const TTest *tests[] = {every_kind_state_event, out_of_range_is_ignored, no_delivery_left, no_retry_left,
		lifetime_over, due_entry_event, answers_edges, kind_rules, history_and_revive, deadline_entries};
	Suite *s = suite_create("qstate");
	TCase *tc = tcase_create("machine");
	size_t i;

	tcase_set_timeout(tc, 60); /* valgrind */
	for(i = 0; i < sizeof(tests) / sizeof(tests[0]); i++) tcase_add_test(tc, tests[i]);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
