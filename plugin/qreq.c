/* Requests that enqueue: $c2d/{dev}/msg (route.c) and persistent RPC
 * (rpc.c). Each accepted request becomes one item (qitem.c) answered 202
 * {"id":"q<seq>"}; a request beyond msg_queue_max gets 429 and nothing is
 * stored. A request with the same sender and correlation data as one still
 * queued or in history is a duplicate: it is answered with the existing id
 * and state, and nothing new is stored. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "queue_int.h"

/* What a request asks for (its options, parsed). */
struct new_item {
	uint8_t kind;
	uint32_t ttl_s;
	uint32_t timeout_ms;
	uint32_t retries;
};

/* Reply 202 for a request already queued (same sender and correlation data),
 * live or finished and still in history: with the existing id and its state
 * (a final one with its status as finalStatus). Returns 1 if it was one
 * (answered), 0 if not, or an error. */
static int duplicate(struct c2d *c2d, struct c2d_req *req, const char *key, size_t keylen)
{
	char dev[C2D_DEV_MAX + 1], id[24];
	struct qitem it;
	cJSON *body;
	uint64_t seq;
	int rc;

	if(keylen == 0) return 0;
	rc = c2d_store_dedup_get(c2d->store, key, keylen, dev, &seq);
	if(rc == C2D_ENOTFOUND) return 0;
	if(rc) return rc;
	rc = c2d_qitem_load(c2d, req->dev, seq, false, &it);
	if(rc == C2D_ENOTFOUND){
		c2d_qitem_free(&it);
		rc = c2d_qitem_load(c2d, req->dev, seq, true, &it);
	}
	if(rc){
		c2d_qitem_free(&it);
		/* gone or damaged: stale, the new item takes the key over */
		return rc == C2D_ENOTFOUND || rc == C2D_EINVAL ? 0 : rc;
	}
	body = cJSON_CreateObject();
	if(body){
		c2d_qitem_id(&it, id, sizeof(id));
		cJSON_AddStringToObject(body, "id", id);
		cJSON_AddStringToObject(body, "state", c2d_qrec_state_name(it.r.state));
		if(it.history) cJSON_AddNumberToObject(body, "finalStatus", it.r.status);
		cJSON_AddBoolToObject(body, "duplicate", true);
	}
	c2d_qitem_free(&it);
	c2d_log(C2D_LOG_DEBUG, "duplicate request on '%s' from '%s': already q%" PRIu64, req->topic,
			req->client_id ? req->client_id : "?", seq);
	rc = c2d_reply_json(c2d, req, C2D_ST_ACCEPTED, body);
	return rc ? rc : 1;
}

/* Refuse a request because the device's queue is full: 429 and an event. */
static int refuse_full(struct c2d *c2d, struct c2d_req *req, const char *kind)
{
	char type[32];
	cJSON *data;
	int rc;

	rc = c2d_reply_error(c2d, req, C2D_ST_TOO_MANY, "the device's queue is full (plugin_opt_msg_queue_max)");
	if(rc) return rc;
	data = cJSON_CreateObject();
	if(data){
		cJSON_AddNumberToObject(data, "status", C2D_ST_TOO_MANY);
		if(req->client_id) cJSON_AddStringToObject(data, "sender", req->client_id);
		if(req->name[0]) cJSON_AddStringToObject(data, "method", req->name);
		cJSON_AddStringToObject(data, "error", "queue full");
	}
	snprintf(type, sizeof(type), "c2d.%s.refused", kind);
	return c2d_event(c2d, req->dev, kind, type, data);
}

/* The new item may go straight out: the device is online, has a free
 * in-flight slot and nothing QUEUED ahead of it (every live item is in
 * flight), so the pump would pick this one and only this one. */
static bool direct(struct qdev *d)
{
	struct c2d *c2d = d->c2d;

	return c2d_presence_online(c2d, d->dev) && c2d_qdev_inflight(d) < c2d->conf.msg_inflight
			&& d->rec.queued == c2d_qdev_inflight(d);
}

/* Store a new item for the request, announce it, deliver it if the device
 * is online. req: borrowed (copied into the record). job_seq: NULL for a
 * client's request; for a job's, the new item's seq, or 0 when the queue
 * was full (nothing stored, no reply, no refusal event: the job says it).
 * Every read runs in the write transaction, and each record is written
 * once: an item delivered at once is first stored as SENT (its deadlines
 * added once), never stored QUEUED and read back by the pump. The event
 * and the reply enter the outbox first (a failure rolls them back with the
 * transaction), so that the events keep their order: queued, then sent. */
static int enqueue(struct c2d *c2d, struct c2d_req *req, const struct new_item *n, uint64_t *job_seq)
{
	char key[DEDUP_KEY_MAX], id[24];
	size_t keylen;
	struct qdev d;
	struct qitem it;
	cJSON *body;
	bool now;
	int rc;

	rc = c2d_txn(c2d);
	if(rc) return rc;
	keylen = c2d_qdedup_key(key, req->client_id, req->dev, req->corr, req->corr_len);
	rc = duplicate(c2d, req, key, keylen);
	if(rc) return rc > 0 ? 0 : rc;
	rc = c2d_qdev_load(c2d, req->dev, &d, NULL);
	if(rc) return rc;
	if(d.rec.queued >= c2d->conf.msg_queue_max){
		if(job_seq) return 0;
		return refuse_full(c2d, req, c2d_qrec_kind_name(n->kind));
	}

	memset(&it, 0, sizeof(it));
	it.seq = d.rec.next_seq ? d.rec.next_seq : 1;
	it.fresh = true;
	it.r.kind = n->kind;
	it.r.state = C2D_QS_QUEUED;
	it.r.retries_left = n->retries;
	it.r.retries = n->retries;
	it.r.ttl_s = n->ttl_s;
	it.r.timeout_ms = n->timeout_ms;
	it.r.created_ms = c2d->wall_ms;
	it.r.expires_ms = c2d->wall_ms + (uint64_t)n->ttl_s * 1000;
	it.r.due_ms = it.r.expires_ms;
	it.r.sender = req->client_id;
	it.r.resp_topic = req->resp_topic;
	it.r.corr = req->corr;
	it.r.corr_len = req->corr_len;
	it.r.content_type = req->content_type;
	it.r.method = n->kind == C2D_QK_RPC ? req->name : NULL;
	it.r.payload = req->payload;
	it.r.payload_len = req->payloadlen;
	it.state_stored = C2D_QS_QUEUED;

	now = direct(&d);
	d.rec.next_seq = it.seq + 1;
	d.rec.queued++;
	(*c2d_qdev_counter(&d, C2D_QDEV_ACCEPTED))++;
	rc = c2d_qitem_event(&d, &it, "queued", c2d_qitem_queued_data(&it));
	if(rc) return rc;
	body = cJSON_CreateObject();
	if(body){
		c2d_qitem_id(&it, id, sizeof(id));
		cJSON_AddStringToObject(body, "id", id);
	}
	rc = c2d_reply_json(c2d, req, C2D_ST_ACCEPTED, body);
	if(!rc && keylen) rc = c2d_store_dedup_put(c2d->store, key, keylen, req->dev, it.seq);
	if(!rc && now){
		rc = c2d_qitem_on(&d, &it, C2D_QE_DELIVER, NULL, NULL); /* stores it, as SENT */
	}else if(!rc){
		rc = c2d_qitem_save(&d, &it);
		if(!rc) rc = c2d_qpump(&d, false);
	}
	if(!rc && job_seq) *job_seq = it.seq;
	if(!rc) rc = c2d_qdev_save(&d);
	return rc;
}

int c2d_queue_on_msg(struct c2d *c2d, struct c2d_req *req)
{
	struct new_item n = {C2D_QK_MSG, c2d->conf.msg_ttl_s, c2d->conf.ack_timeout_s * 1000u, 0};
	char v[32], why[96];

	if(c2d_req_user_prop(req, "ttl", v, sizeof(v)) && !c2d_conf_parse_uint(v, 1, c2d->conf.msg_ttl_max_s, &n.ttl_s)){
		snprintf(why, sizeof(why), "user property ttl must be whole seconds in 1..%u", c2d->conf.msg_ttl_max_s);
		return c2d_reply_error(c2d, req, C2D_ST_BAD_REQUEST, why);
	}
	return enqueue(c2d, req, &n, NULL);
}

int c2d_queue_push_rpc(struct c2d *c2d, struct c2d_req *req, const struct c2d_rpc_opts *o)
{
	struct new_item n = {C2D_QK_RPC, o->ttl_s, o->timeout_ms, o->retries};

	return enqueue(c2d, req, &n, NULL);
}

int c2d_queue_push_job(struct c2d *c2d, const struct c2d_qjob *j, uint64_t *seq)
{
	struct new_item n = {j->rpc ? C2D_QK_RPC : C2D_QK_MSG, j->ttl_s,
		j->rpc ? j->timeout_ms : c2d->conf.ack_timeout_s * 1000u, j->rpc ? j->retries : 0};
	struct c2d_req req;

	/* no sender, response topic or correlation data: no reply, no dedup
	 * key; the job hears of the final state (c2d_jobs_on_queue_final) */
	memset(&req, 0, sizeof(req));
	snprintf(req.dev, sizeof(req.dev), "%s", j->dev);
	if(j->method) snprintf(req.name, sizeof(req.name), "%s", j->method);
	req.payload = j->payload;
	req.payloadlen = (uint32_t)j->len;
	req.content_type = (char *)j->content_type; /* read only: copied into the record */
	*seq = 0;
	return enqueue(c2d, &req, &n, seq);
}
