/* MOSQ_EVT_MESSAGE: every client publish passes here. Non-$c2d topics leave
 * after one prefix compare. $c2d topics are classified (topic.c), the
 * one-writer rules enforced, and the topic's handler runs inside the
 * event's unit of work (unit.c): its store writes form one transaction that
 * commits before the broker sends PUBACK, and its publishes leave only
 * after that commit. Device answers (out/res) are the exception: they are
 * group-committed at the end of the broker's loop pass (see c2d_unit.h). */
#include <string.h>

#include "c2d.h"
#include "c2d_route.h"
#include "c2d_calls.h"
#include "c2d_gw.h"
#include "c2d_hello.h"
#include "c2d_queue.h"
#include "c2d_rpc.h"
#include "c2d_twin_plane.h"

/* Every kind the guard lets through has a handler; this only keeps a kind
 * added to topic.c without one from crashing the broker. */
static int no_handler(struct c2d *c2d, struct c2d_req *req)
{
	c2d_log(C2D_LOG_ERR, "no handler for topic kind %s", c2d_topic_kind_name(req->t.kind));
	return c2d_reply_error(c2d, req, C2D_ST_INTERNAL, "no handler for this topic");
}

/* One handler per topic kind a client may write, from the one description
 * of every kind (C2D_TOPIC_KINDS in c2d_topic.h). */
static const c2d_handler handlers[C2D_T__COUNT] = {
#define C2D_TOPIC_KIND_HANDLER(kind, name, writer, adds_data, handler) [kind] = handler,
	C2D_TOPIC_KINDS(C2D_TOPIC_KIND_HANDLER)
#undef C2D_TOPIC_KIND_HANDLER
};

static const char *status_reason(int rc)
{
	switch(rc){
		case C2D_EFULL: return "store full: nothing was changed";
		case C2D_ENOMEM: return "out of memory: nothing was changed";
		default: return "store unavailable: nothing was changed";
	}
}

static void copy_view(char *dst, size_t dstlen, const char *src, size_t len)
{
	if(src == NULL || len >= dstlen) len = 0;
	if(len) memcpy(dst, src, len);
	dst[len] = '\0';
}

static bool written_by_device(const struct c2d_req *req)
{
	return req->client_id && strlen(req->client_id) == req->t.dev_len
			&& memcmp(req->client_id, req->t.dev, req->t.dev_len) == 0;
}

/* The one-writer rules (protocol.md). Returns true if the write may go on. */
static bool guard(struct c2d *c2d, struct c2d_req *req)
{
	const char *why = NULL;

	switch(c2d_topic_writer(req->t.kind)){
		case C2D_W_ANY:
			return true;
		case C2D_W_DEVICE:
			if(written_by_device(req)) return true;
			switch(c2d_gw_may_write(c2d, req)){
				case C2D_GW_YES: return true;
				case C2D_GW_REFUSED: return false; /* 403 to the gateway, logged and counted (gw.c) */
				case C2D_GW_NO: break;
			}
			why = "only the device itself may write it"; /* (or its gateway: c2d_gw_may_write) */
			break;
		case C2D_W_SELF:
			if(written_by_device(req)) return true;
			why = "only the device itself may write it";
			break;
		case C2D_W_PLUGIN:
			why = "only the plugin writes it";
			break;
		case C2D_W_NOBODY:
			why = req->t.kind == C2D_T_BAD_DEVICE ? "invalid device id" : "not a topic of the c2d protocol";
			break;
	}
	c2d->counters[C2D_C_DENIED]++;
	c2d_log(C2D_LOG_DEBUG, "dropped publish to '%s' from '%s': %s", req->topic,
			req->client_id ? req->client_id : "?", why);
	if(req->t.kind == C2D_T_BAD_DEVICE) c2d_reply_error(c2d, req, C2D_ST_BAD_REQUEST, "invalid device id");
	return false;
}

/* A device answer that could not be stored, alone (the batch goes on). A
 * store-wide trouble (map full, ...) loses it like a failed commit: the
 * delivery is repeated. Its own trouble (a damaged record) would come back
 * with every repetition: it is dropped and quarantined. */
static void answer_failed(struct c2d *c2d, const struct c2d_req *req, int rc)
{
	c2d->counters[C2D_C_STORE_ERRORS]++;
	if(c2d_transient(c2d, rc)){
		c2d_log(C2D_LOG_WARN, "answer '%s' of '%s' was not stored (%d); that delivery will be repeated",
				req->name, req->dev, rc);
		return;
	}
	c2d_quarantined(c2d, req->dev, "answer", req->name, rc, false);
}

static bool under_in(const char *t, const char *dev)
{
	size_t idlen = strlen(dev);

	return strncmp(t + 5, dev, idlen) == 0 && strncmp(t + 5 + idlen, "/in/", 4) == 0;
}

/* Where the plugin will publish a reply: a valid topic without wildcards, and
 * no '$' topic but the requester's own $c2d/{client id}/in/... (otherwise a
 * client could make the plugin write topics only the plugin may write, such
 * as another device's in/ or events/). A device-side write ($c2d/{dev}/out/)
 * may also name $c2d/{dev}/in/...: the guard then lets only {dev} and its
 * gateway through, and the reply goes to the writer's client id. */
static bool resp_topic_allowed(const struct c2d_req *req)
{
	const char *t = req->resp_topic;

	if(mosquitto_pub_topic_check(t) != MOSQ_ERR_SUCCESS) return false;
	if(t[0] != '$') return true;
	if(req->client_id == NULL || strncmp(t, "$c2d/", 5) != 0) return false;
	if(under_in(t, req->client_id)) return true;
	return c2d_topic_writer(req->t.kind) == C2D_W_DEVICE && under_in(t, req->dev);
}

/* Requests whose handlers neither read nor write the store: a lightweight
 * RPC (a persistent one writes, and its first write stores an open answer
 * batch first: unit.c), an application's answer to a device call, a
 * device's answer to a lightweight RPC. They may join an open answer batch
 * without storing it; any other request reads or writes the store and
 * stores the batch first, so that what it reads and replies is committed. */
static bool store_free(const struct c2d *c2d, const struct c2d_req *req)
{
	switch(req->t.kind){
		case C2D_T_RPC:
		case C2D_T_CALLRES:
			return true;
		case C2D_T_OUT_RES:
			return req->t.name_len > 0 && c2d_deliver_store_free(c2d, req->t.name);
		default:
			return false;
	}
}

int c2d_route_message(struct c2d *c2d, struct mosquitto_evt_message *ed)
{
	struct c2d_req req;
	c2d_handler handler = NULL;
	size_t mark;
	bool answer;
	int rc;

	if(strncmp(ed->topic, "$c2d/", 5) != 0) return MOSQ_ERR_SUCCESS;

	memset(&req, 0, sizeof(req));
	if(c2d_topic_parse(ed->topic, &req.t) == C2D_T_OTHER) return MOSQ_ERR_SUCCESS;
	/* Answers to queue items and twin pushes are group-committed (unit.c);
	 * any other request's unit stores the batch first. */
	answer = req.t.kind == C2D_T_OUT_RES && req.t.name_len > 0 && c2d_deliver_group_commit(c2d, req.t.name);
	c2d_unit_begin(c2d, answer ? C2D_UNIT_ANSWER : C2D_UNIT_REQUEST);
	req.client = ed->client;
	req.client_id = mosquitto_client_id(ed->client);
	/* Proof of life: a device that came online gets its catch-up now, in
	 * this unit (each plane's part isolated in a nested transaction). */
	c2d_presence_touch(c2d, ed->client);
	if(req.client_id) c2d_presence_catch_up(c2d, req.client_id, 1);

	req.protocol_version = mosquitto_client_protocol_version(ed->client);
	req.topic = ed->topic;
	req.payload = ed->payload;
	req.payloadlen = ed->payloadlen;
	req.qos = ed->qos;
	req.props = ed->properties;
	c2d_req_read_props(&req);
	copy_view(req.dev, sizeof(req.dev), req.t.dev, req.t.dev_len);
	copy_view(req.name, sizeof(req.name), req.t.name, req.t.name_len);
	copy_view(req.rid, sizeof(req.rid), req.t.rid, req.t.rid_len);

	rc = MOSQ_ERR_SUCCESS;
	if(req.resp_topic && !resp_topic_allowed(&req)){
		c2d->counters[C2D_C_DENIED]++;
		c2d_log(C2D_LOG_INFO, "refused request on '%s' from '%s': the plugin does not reply to response topic '%s'",
				req.topic, req.client_id ? req.client_id : "?", req.resp_topic);
		rc = MOSQ_ERR_ACL_DENIED;
	}else if(!guard(c2d, &req)){
		rc = MOSQ_ERR_ACL_DENIED;
	}
	if(rc != MOSQ_ERR_SUCCESS){
		/* the catch-up above is kept: it is the device's, not this publish's
		 * (a denied publish that joined an open batch commits nothing) */
		if(!answer) c2d_unit_commit(c2d);
		c2d_unit_close(c2d, false);
		c2d_req_free_props(&req);
		return rc;
	}

	/* A request the plugin consumes is never stored as retained. */
	ed->retain = false;
	c2d->counters[C2D_C_REQUESTS]++;
	if((size_t)req.t.kind < C2D_T__COUNT) handler = handlers[req.t.kind];
	if(handler == NULL) handler = no_handler;

	if(answer){
		/* a nested transaction keeps a failing answer from taking the batch down */
		rc = c2d_item_begin(c2d, &mark);
		if(!rc) rc = handler(c2d, &req);
		rc = c2d_item_end(c2d, mark, rc);
		if(rc) answer_failed(c2d, &req, rc);
		c2d_unit_close(c2d, rc == 0);
		c2d_req_free_props(&req);
		return MOSQ_ERR_SUCCESS;
	}
	rc = store_free(c2d, &req) ? 0 : c2d_unit_view(c2d);
	if(rc){
		/* the answer batch could not be stored: handled below like a failed commit */
	}else if(c2d_topic_adds_data(req.t.kind) && c2d_room_low(c2d)){
		rc = 0;
		c2d_reply_error(c2d, &req, C2D_ST_UNAVAILABLE, "store nearly full: nothing was changed (plugin_opt_map_size)");
	}else{
		rc = handler(c2d, &req);
	}
	if(rc){
		c2d_unit_abort(c2d);
	}else{
		rc = c2d_unit_commit(c2d);
	}
	if(rc){
		c2d_log(C2D_LOG_WARN, "request on '%s' from '%s' failed: %s", req.topic,
				req.client_id ? req.client_id : "?", status_reason(rc));
		c2d_reply_error(c2d, &req, c2d_status_of(rc), status_reason(rc));
	}
	c2d_unit_close(c2d, false);
	c2d_req_free_props(&req);
	return MOSQ_ERR_SUCCESS;
}
