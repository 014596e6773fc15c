/* MOSQ_EVT_MESSAGE: every client publish passes here. Non-$c2d topics leave
 * after one prefix compare. $c2d topics are classified (topic.c), the
 * one-writer rules enforced, and the topic's handler runs; all its store
 * writes form one transaction that commits before the broker sends PUBACK,
 * and its publishes leave only after that commit. Device answers (out/res)
 * are the exception: they are group-committed at the end of the broker's
 * loop pass (see batch_open in c2d.h). */
#include <string.h>

#include "c2d.h"
#include "c2d_route.h"
#include "c2d_admin.h"
#include "c2d_calls.h"
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

/* One handler per topic kind a client may write. */
static const c2d_handler handlers[] = {
	[C2D_T_TWIN_GET] = c2d_twin_on_get,
	[C2D_T_TWIN_DESIRED] = c2d_twin_on_desired,
	[C2D_T_TWIN_DELETE] = c2d_twin_on_delete,
	[C2D_T_TWIN_TAGS] = c2d_twin_on_tags,
	[C2D_T_MSG] = c2d_queue_on_msg,
	[C2D_T_OUT_RES] = c2d_deliver_on_response,
	[C2D_T_OUT_REPORTED] = c2d_twin_on_reported,
	[C2D_T_RPC] = c2d_rpc_on_request,
	[C2D_T_OUT_CALL] = c2d_calls_on_call,
	[C2D_T_CALLRES] = c2d_calls_on_callres,
	[C2D_T_OUT_HELLO] = c2d_hello_on_publish,
};

/* The planes: those that own deliveries (by id letter), and admin (letter
 * 0: no deliveries; its init starts the $SYS statistics timer). */
static const struct c2d_plane *const planes[] = {
	&c2d_twin_plane,
	&c2d_calls_plane,
	&c2d_lrpc_plane,
	&c2d_queue_plane,
	&c2d_admin_plane,
};

int c2d_route_init(struct c2d *c2d)
{
	size_t i;

	int rc;

	for(i = 0; i < sizeof(planes) / sizeof(planes[0]); i++){
		if(i >= C2D_MAX_PLANES) return C2D_EINVAL;
		c2d->planes[i] = planes[i];
		c2d->plane_count = i + 1;
		if(planes[i]->init && (rc = planes[i]->init(c2d)) != 0) return rc;
	}
	return 0;
}

void c2d_route_cleanup(struct c2d *c2d)
{
	size_t i;

	for(i = 0; i < c2d->plane_count; i++){
		if(c2d->planes[i]->cleanup) c2d->planes[i]->cleanup(c2d);
	}
	c2d->plane_count = 0;
}

int c2d_txn(struct c2d *c2d)
{
	if(c2d_store_in_txn(c2d->store)) return 0;
	return c2d_store_begin(c2d->store);
}

/* The open answer batch did not reach the store: say so. The answered
 * deliveries are still SENT in the store, so they are delivered again
 * (ack_timeout, or the next connect) and the device answers once more. */
static void batch_lost(struct c2d *c2d)
{
	if(!c2d->batch_open) return;
	c2d_log(C2D_LOG_WARN, "%u device answer(s) were not stored; those deliveries will be repeated",
			c2d->batch_count);
	c2d->batch_open = false;
}

int c2d_txn_end(struct c2d *c2d, size_t mark)
{
	int rc;

	if(!c2d_store_in_txn(c2d->store)) return 0;
	if(c2d->batch_open && c2d->batch_mark < mark) mark = c2d->batch_mark;
	rc = c2d_store_commit(c2d->store);
	if(rc == 0) c2d->counters[C2D_C_COMMITS]++;
	if(rc){
		c2d->counters[C2D_C_STORE_ERRORS]++;
		c2d_outbox_rollback(c2d, mark);
		batch_lost(c2d);
	}
	c2d->batch_open = false;
	return rc;
}

int c2d_status_of(int rc)
{
	switch(rc){
		case C2D_EFULL:
		case C2D_ESTORE:
		case C2D_ETXN:
		case C2D_ESCHEMA:
			return C2D_ST_UNAVAILABLE;
		default:
			return C2D_ST_INTERNAL;
	}
}

bool c2d_room_low(struct c2d *c2d)
{
	uint64_t used, map, reserve;
	bool was = c2d->room_low;

	if(c2d->room_checked_ms && c2d->now_ms - c2d->room_checked_ms < 250) return c2d->room_low;
	c2d->room_checked_ms = c2d->now_ms;
	if(c2d_store_usage(c2d->store, &used, &map)) return c2d->room_low = false; /* the write itself will tell */
	reserve = map / 10 < 512 * 1024 ? 512 * 1024 : map / 10;
	c2d->room_low = used + reserve > map;
	if(c2d->room_low && !was){
		c2d_log(C2D_LOG_ERR, "LMDB map nearly full (%llu of %llu KiB used): new commands and twin changes get 503 "
				"until space is freed; raise plugin_opt_map_size", (unsigned long long)used / 1024,
				(unsigned long long)map / 1024);
	}else if(was && !c2d->room_low){
		c2d_log(C2D_LOG_NOTICE, "LMDB map has room again (%llu of %llu KiB used)", (unsigned long long)used / 1024,
				(unsigned long long)map / 1024);
	}
	return c2d->room_low;
}

/* Kinds whose requests add data to the store (persistent RPC: rpc.c checks). */
static bool adds_data(enum c2d_topic_kind kind)
{
	return kind == C2D_T_MSG || kind == C2D_T_TWIN_DESIRED || kind == C2D_T_TWIN_TAGS
			|| kind == C2D_T_OUT_REPORTED;
}

static const char *status_reason(int rc)
{
	switch(rc){
		case C2D_EFULL: return "store full: nothing was changed";
		case C2D_ENOMEM: return "out of memory: nothing was changed";
		default: return "store unavailable: nothing was changed";
	}
}

/* Copy the properties of a v5 publish that handlers need (mosquitto memory). */
static void req_read_props(struct c2d_req *req)
{
	mosquitto_property_read_string(req->props, MQTT_PROP_RESPONSE_TOPIC, &req->resp_topic, false);
	mosquitto_property_read_binary(req->props, MQTT_PROP_CORRELATION_DATA, &req->corr, &req->corr_len, false);
	mosquitto_property_read_string(req->props, MQTT_PROP_CONTENT_TYPE, &req->content_type, false);
}

static void req_free(struct c2d_req *req)
{
	mosquitto_free(req->resp_topic);
	mosquitto_free(req->corr);
	mosquitto_free(req->content_type);
}

bool c2d_req_user_prop(const struct c2d_req *req, const char *key, char *buf, size_t len)
{
	const mosquitto_property *p;
	char *name = NULL, *value = NULL;
	bool found = false, skip = false;

	for(p = req->props; p && !found; skip = true){
		p = mosquitto_property_read_string_pair(p, MQTT_PROP_USER_PROPERTY, &name, &value, skip);
		if(p == NULL) break;
		if(strcmp(name, key) == 0){
			/* Too long for any valid value: "" (which no option accepts),
			 * never "absent", so that the request is refused and no
			 * default is used instead. */
			if(strlen(value) < len){
				strcpy(buf, value);
			}else if(len){
				buf[0] = '\0';
			}
			found = true;
		}
		mosquitto_free(name);
		mosquitto_free(value);
	}
	return found;
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
	if(req->t.kind == C2D_T_BAD_DEVICE){
		c2d_reply_error(c2d, req, C2D_ST_BAD_REQUEST, "invalid device id");
		c2d_outbox_flush(c2d);
	}
	return false;
}

/* Where the plugin will publish a reply: a valid topic without wildcards, and
 * no '$' topic but the requester's own $c2d/{client id}/in/... (otherwise a
 * client could make the plugin write topics only the plugin may write, such
 * as another device's in/ or events/). */
static bool resp_topic_allowed(const struct c2d_req *req)
{
	const char *t = req->resp_topic;
	size_t idlen;

	if(mosquitto_pub_topic_check(t) != MOSQ_ERR_SUCCESS) return false;
	if(t[0] != '$') return true;
	if(req->client_id == NULL || strncmp(t, "$c2d/", 5) != 0) return false;
	idlen = strlen(req->client_id);
	return strncmp(t + 5, req->client_id, idlen) == 0 && strncmp(t + 5 + idlen, "/in/", 4) == 0;
}

int c2d_route_message(struct c2d *c2d, struct mosquitto_evt_message *ed)
{
	struct c2d_req req;
	c2d_handler handler = NULL;
	size_t mark;
	bool answer;
	int rc;

	c2d->msgs_seen++; /* traffic: background work yields (tick.c) */
	if(strncmp(ed->topic, "$c2d/", 5) != 0) return MOSQ_ERR_SUCCESS;

	memset(&req, 0, sizeof(req));
	if(c2d_topic_parse(ed->topic, &req.t) == C2D_T_OTHER) return MOSQ_ERR_SUCCESS;
	c2d_clock_update(c2d);
	req.client = ed->client;
	req.client_id = mosquitto_client_id(ed->client);
	/* Answers to queue items and twin pushes are group-committed (see
	 * batch_open in c2d.h). The batch's part of the outbox holds only what
	 * is stored in its transaction (presence events go to the side list),
	 * so a failure can roll it back whole; any other request stores the
	 * batch first, so that its own failure cannot take the batch down. */
	answer = req.t.kind == C2D_T_OUT_RES && req.t.name_len > 0 && c2d_deliver_group_commit(c2d, req.t.name);
	if(c2d->batch_open && !answer) c2d_txn_end(c2d, c2d_outbox_mark(c2d));
	/* Proof of life; what coming online sends commits on its own. */
	mark = c2d_outbox_mark(c2d);
	c2d_presence_touch(c2d, ed->client);
	if(!c2d->batch_open) c2d_txn_end(c2d, mark);
	if(req.client_id) c2d_presence_catch_up(c2d, req.client_id, 1);

	req.protocol_version = mosquitto_client_protocol_version(ed->client);
	req.topic = ed->topic;
	req.payload = ed->payload;
	req.payloadlen = ed->payloadlen;
	req.qos = ed->qos;
	req.props = ed->properties;
	req_read_props(&req);
	copy_view(req.dev, sizeof(req.dev), req.t.dev, req.t.dev_len);
	copy_view(req.name, sizeof(req.name), req.t.name, req.t.name_len);
	copy_view(req.rid, sizeof(req.rid), req.t.rid, req.t.rid_len);

	if(req.resp_topic && !resp_topic_allowed(&req)){
		c2d->counters[C2D_C_DENIED]++;
		c2d_log(C2D_LOG_INFO, "refused request on '%s' from '%s': the plugin does not reply to response topic '%s'",
				req.topic, req.client_id ? req.client_id : "?", req.resp_topic);
		req_free(&req);
		return MOSQ_ERR_ACL_DENIED;
	}
	if(!guard(c2d, &req)){
		req_free(&req);
		return MOSQ_ERR_ACL_DENIED;
	}

	/* A request the plugin consumes is never stored as retained. */
	ed->retain = false;
	c2d->counters[C2D_C_REQUESTS]++;
	if((size_t)req.t.kind < sizeof(handlers) / sizeof(handlers[0])) handler = handlers[req.t.kind];
	if(handler == NULL) handler = no_handler;

	mark = c2d_outbox_mark(c2d);
	if(adds_data(req.t.kind) && c2d_room_low(c2d)){
		rc = 0;
		c2d_reply_error(c2d, &req, C2D_ST_UNAVAILABLE, "store nearly full: nothing was changed (plugin_opt_map_size)");
	}else{
		rc = handler(c2d, &req);
	}
	if(rc){
		if(c2d->batch_open) mark = c2d->batch_mark;
		batch_lost(c2d);
		c2d_store_abort(c2d->store);
		c2d_outbox_rollback(c2d, mark);
	}else if(answer){
		/* group commit: stored (and its publishes sent) at TICK */
		if(c2d_store_in_txn(c2d->store) && !c2d->batch_open){
			c2d->batch_open = true;
			c2d->batch_mark = mark;
			c2d->batch_count = 0;
		}
		if(c2d->batch_open) c2d->batch_count++;
		req_free(&req);
		return MOSQ_ERR_SUCCESS;
	}else{
		rc = c2d_txn_end(c2d, mark);
	}
	if(rc){
		c2d_log(C2D_LOG_WARN, "request on '%s' from '%s' failed: %s", req.topic,
				req.client_id ? req.client_id : "?", status_reason(rc));
		c2d_reply_error(c2d, &req, c2d_status_of(rc), status_reason(rc));
	}
	c2d_outbox_flush(c2d);
	req_free(&req);
	return MOSQ_ERR_SUCCESS;
}
