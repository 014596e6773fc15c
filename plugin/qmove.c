/* Carrying out a transition of the state machine (c2d_qstate_step decides):
 * the record and its index entries are stored (qitem.c), the device's counts
 * move, a delivery is published, and an event says what happened. A final
 * state removes the item from the queue: it becomes history (its state
 * record moves to the history key; the payload stays where it is if the
 * item can be retried, else it is deleted), kept with its dedup entry for
 * history_ttl seconds (or is forgotten at once when no
 * history is kept, or its device is being deleted), and the requester gets
 * its one reply on its response topic (messages: JSON {"id","state",
 * "status"}; RPC results: the device's bytes and status).
 *
 * Every write joins the event's store transaction (c2d_txn); replies,
 * events and deliveries go to the outbox. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c2d_jobs.h"
#include "queue_int.h"

_Static_assert(C2D_QSTATE_ST_OK == C2D_ST_OK && C2D_QSTATE_ST_ACCEPTED == C2D_ST_ACCEPTED
		&& C2D_QSTATE_ST_GONE == C2D_ST_GONE && C2D_QSTATE_ST_INTERNAL == C2D_ST_INTERNAL
		&& C2D_QSTATE_ST_TIMEOUT == C2D_ST_TIMEOUT, "c2d_qstate.h statuses are the wire's");

/* ---- events and replies ---- */

/* {"id","state","status"?,"method"?,"deliveries"} for events. */
static cJSON *item_data(const struct qitem *it, int state, int status)
{
	cJSON *data = cJSON_CreateObject();
	char id[24];

	if(data == NULL) return NULL;
	c2d_qitem_id(it, id, sizeof(id));
	cJSON_AddStringToObject(data, "id", id);
	cJSON_AddStringToObject(data, "state", c2d_qrec_state_name(state));
	if(status) cJSON_AddNumberToObject(data, "status", status);
	if(it->r.method) cJSON_AddStringToObject(data, "method", it->r.method);
	cJSON_AddNumberToObject(data, "deliveries", it->r.deliveries);
	return data;
}

cJSON *c2d_qitem_queued_data(const struct qitem *it)
{
	cJSON *data = item_data(it, C2D_QS_QUEUED, 0);
	char when[32];

	if(data){
		c2d_time_rfc3339(it->r.expires_ms, when, sizeof(when));
		cJSON_AddStringToObject(data, "expires", when);
		if(it->r.sender) cJSON_AddStringToObject(data, "sender", it->r.sender);
	}
	return data;
}

/* Whether its family's events are published (option events): checked
 * before item_data is built. */
static bool wanted(const struct qdev *d, const struct qitem *it)
{
	return c2d_event_wanted(d->c2d, c2d_qrec_kind_name(it->r.kind));
}

int c2d_qitem_event(struct qdev *d, const struct qitem *it, const char *what, cJSON *data)
{
	const char *kind = c2d_qrec_kind_name(it->r.kind);
	char type[48];

	snprintf(type, sizeof(type), "c2d.%s.%s", kind, what);
	return c2d_event(d->c2d, d->dev, kind, type, data);
}

/* The one final reply to the requester. resp: the device's answer when the
 * final state comes from it (borrowed), else NULL. */
static int reply_final(struct qdev *d, const struct qitem *it, int state, int status,
		const struct c2d_resp *resp)
{
	const struct c2d_qrec *r = &it->r;
	cJSON *body;
	char *text, id[24];
	int rc;

	if(r->resp_topic == NULL) return 0;
	if(resp && c2d_qstate_device_answer(r->kind)){
		return c2d_reply_to(d->c2d, r->sender, r->resp_topic, r->corr, r->corr_len, status,
				resp->req->payload, resp->req->payloadlen, resp->req->content_type);
	}
	body = cJSON_CreateObject();
	if(body == NULL) return C2D_ENOMEM;
	c2d_qitem_id(it, id, sizeof(id));
	cJSON_AddStringToObject(body, "id", id);
	cJSON_AddStringToObject(body, "state", c2d_qrec_state_name(state));
	cJSON_AddNumberToObject(body, "status", status);
	text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	if(text == NULL) return C2D_ENOMEM;
	rc = c2d_reply_to(d->c2d, r->sender, r->resp_topic, r->corr, r->corr_len, status, text, strlen(text),
			"application/json");
	cJSON_free(text);
	return rc;
}

/* ---- carrying out a transition (the record is already edited) ---- */

/* SEND: store, count and publish the delivery. */
static int sent(struct qdev *d, struct qitem *it)
{
	struct c2d *c2d = d->c2d;
	char path[C2D_NAME_MAX + 8];
	uint32_t expiry_s;
	int rc;

	rc = c2d_qitem_payload(d, it); /* read, never rewritten */
	if(!rc) rc = c2d_qitem_save(d, it);
	if(rc) return rc;
	(*c2d_qdev_counter(d, C2D_QDEV_DELIVERIES))++;
	if(it->r.kind == C2D_QK_RPC){
		snprintf(path, sizeof(path), "rpc/%s", it->r.method);
	}else{
		snprintf(path, sizeof(path), "msg");
	}
	expiry_s = (uint32_t)((it->r.expires_ms - c2d->wall_ms + 999) / 1000);
	rc = c2d_deliver(c2d, d->dev, path, C2D_QUEUE_LETTER, it->seq, it->r.payload, it->r.payload_len,
			it->r.content_type, expiry_s);
	if(!rc && wanted(d, it)) rc = c2d_qitem_event(d, it, "sent", item_data(it, C2D_QS_SENT, 0));
	return rc;
}

/* RETRY: back in the queue. reason: "status" or "timeout", borrowed. */
static int retrying(struct qdev *d, struct qitem *it, const char *reason, int status)
{
	bool bounded = c2d_qstate_bounded_retries(it->r.kind);
	cJSON *data;
	int rc;

	rc = c2d_qitem_save(d, it);
	if(rc || !wanted(d, it)) return rc;
	data = item_data(it, C2D_QS_QUEUED, status);
	if(data){
		cJSON_AddStringToObject(data, "reason", reason);
		if(bounded) cJSON_AddNumberToObject(data, "retriesLeft", it->r.retries_left);
	}
	return c2d_qitem_event(d, it, "retrying", data);
}

/* FINISH: the live item leaves the queue. It becomes history (kept with its
 * dedup entry until history_ttl has passed), or is forgotten at once when no
 * history is kept; then count, event, reply. resp: borrowed or NULL (see
 * reply_final). */
static int finished(struct qdev *d, struct qitem *it, int status, const struct c2d_resp *resp)
{
	int state = it->r.state, rc;

	if(d->forget || d->c2d->conf.history_ttl_s == 0){
		rc = c2d_qitem_forget(d, it);
	}else{
		rc = c2d_qitem_drop(d, it);
		if(!rc){
			it->history = true;
			it->state_stored = it->r.state;
			rc = c2d_qitem_save(d, it);
		}
		/* history keeps the payload only where retryCommand can use it */
		if(!rc && !c2d_qstate_revivable(state)) rc = c2d_qitem_payload_drop(d, it);
	}
	if(rc) return rc;
	(*c2d_qdev_counter(d, c2d_qstate_succeeded(it->r.kind, state) ? C2D_QDEV_SUCCEEDED : C2D_QDEV_FAILED))++;
	c2d_log(C2D_LOG_DEBUG, "%s q%" PRIu64 " to '%s': %s (%d)", c2d_qrec_kind_name(it->r.kind), it->seq, d->dev,
			c2d_qrec_state_name(state), status);
	rc = wanted(d, it) ? c2d_qitem_event(d, it, c2d_qrec_state_name(state), item_data(it, state, status)) : 0;
	if(!rc) rc = reply_final(d, it, state, status, resp);
	/* a job's item (no sender) tells its execution, in this transaction */
	if(!rc && it->r.sender == NULL) rc = c2d_jobs_on_queue_final(d->c2d, d->dev, it->seq, state, status);
	return rc;
}

/* REVIVE: the history item goes back into the queue at its own seq; its
 * dedup entry (kept in history) names it again. */
static int revived(struct qdev *d, struct qitem *it)
{
	int rc;

	rc = c2d_qitem_drop(d, it);
	if(rc) return rc;
	it->history = false;
	it->state_stored = C2D_QS_QUEUED;
	d->rec.queued++;
	(*c2d_qdev_counter(d, C2D_QDEV_ACCEPTED))++;
	rc = c2d_qitem_save(d, it);
	if(rc) return rc;
	c2d_log(C2D_LOG_INFO, "%s q%" PRIu64 " to '%s' retried by an operator", c2d_qrec_kind_name(it->r.kind),
			it->seq, d->dev);
	return c2d_qitem_event(d, it, "retried", c2d_qitem_queued_data(it));
}

int c2d_qitem_on(struct qdev *d, struct qitem *it, int event, const struct c2d_resp *resp, int *action)
{
	struct c2d *c2d = d->c2d;
	struct c2d_qctx cx = {c2d->wall_ms, c2d->tmo_ms, c2d->conf.msg_max_deliveries, c2d->conf.history_ttl_s,
			resp ? resp->status : 0};
	struct c2d_qstep s;
	int rc;

	c2d_qstate_step(&it->r, event, &cx, &s);
	if(action) *action = s.action;
	switch(s.action){
		case C2D_QA_SEND:
			return sent(d, it);
		case C2D_QA_ACCEPT:
			rc = c2d_qitem_save(d, it);
			if(rc || !wanted(d, it)) return rc;
			return c2d_qitem_event(d, it, "delivered", item_data(it, C2D_QS_DELIVERED, s.status));
		case C2D_QA_REARM:
			return c2d_qitem_save(d, it);
		case C2D_QA_RETRY:
			return retrying(d, it, event == C2D_QE_ANSWER ? "status" : "timeout", s.status);
		case C2D_QA_FINISH:
			return finished(d, it, s.status, event == C2D_QE_ANSWER ? resp : NULL);
		case C2D_QA_REVIVE:
			return revived(d, it);
		default:
			return 0;
	}
}
