/* RPC from applications: $c2d/{dev}/rpc/{method}. Options come as MQTT 5
 * user properties: timeout (ms), persistent (true|false), retries, ttl (s).
 * Two-way when the request has a Response Topic, one-way otherwise.
 *
 * Persistent requests go to the durable queue (queue.c). Lightweight ones
 * live in memory only (nothing touches LMDB): an offline device is answered
 * 404 at once; an online one gets $c2d/{dev}/in/rpc/{method}/l{n}; its answer
 * on out/res/l{n} is forwarded to the requester with the requester's
 * correlation data and the device's status; no answer within the timeout, or
 * the device disconnecting, answers 504 / 404. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c2d.h"
#include "c2d_pending.h"
#include "c2d_queue.h"
#include "c2d_rpc.h"

#define C2D_LRPC_LETTER 'l'

struct c2d_lrpc {
	struct c2d_pending_table t;
};

int c2d_rpc_parse_opts(const struct c2d *c2d, const struct c2d_req *req, struct c2d_rpc_opts *o,
		bool *persistent, char *why, size_t whylen)
{
	const struct c2d_conf *cf = &c2d->conf;
	char v[32];

	o->timeout_ms = cf->rpc_timeout_ms;
	o->retries = 0;
	o->ttl_s = cf->rpc_ttl_s;
	o->two_way = req->resp_topic != NULL;
	*persistent = false;
	if(c2d_req_user_prop(req, "persistent", v, sizeof(v))){
		if(strcmp(v, "true") == 0){
			*persistent = true;
		}else if(strcmp(v, "false") != 0){
			snprintf(why, whylen, "user property persistent must be true or false");
			return -1;
		}
	}
	if(c2d_req_user_prop(req, "timeout", v, sizeof(v))
			&& !c2d_conf_parse_uint(v, cf->rpc_timeout_min_ms, cf->rpc_timeout_max_ms, &o->timeout_ms)){
		snprintf(why, whylen, "user property timeout must be whole ms in %u..%u",
				cf->rpc_timeout_min_ms, cf->rpc_timeout_max_ms);
		return -1;
	}
	if(c2d_req_user_prop(req, "retries", v, sizeof(v))){
		if(!*persistent){
			snprintf(why, whylen, "user property retries needs persistent=true");
			return -1;
		}
		if(!c2d_conf_parse_uint(v, 0, cf->rpc_retries_max, &o->retries)){
			snprintf(why, whylen, "user property retries must be a whole number in 0..%u", cf->rpc_retries_max);
			return -1;
		}
	}
	if(c2d_req_user_prop(req, "ttl", v, sizeof(v))){
		if(!*persistent){
			snprintf(why, whylen, "user property ttl needs persistent=true");
			return -1;
		}
		if(!c2d_conf_parse_uint(v, 1, cf->msg_ttl_max_s, &o->ttl_s)){
			snprintf(why, whylen, "user property ttl must be whole seconds in 1..%u", cf->msg_ttl_max_s);
			return -1;
		}
	}
	return 0;
}

static cJSON *rpc_data(const char *id, const char *method, int status)
{
	cJSON *data = cJSON_CreateObject();

	if(data == NULL) return NULL;
	if(id) cJSON_AddStringToObject(data, "id", id);
	cJSON_AddStringToObject(data, "method", method);
	cJSON_AddNumberToObject(data, "status", status);
	return data;
}

int c2d_rpc_on_request(struct c2d *c2d, struct c2d_req *req)
{
	struct c2d_lrpc *lrpc = c2d->lrpc;
	struct c2d_rpc_opts o;
	struct c2d_pending *p = NULL;
	char why[160];
	bool persistent;
	uint64_t num;
	int rc;

	if(c2d_rpc_parse_opts(c2d, req, &o, &persistent, why, sizeof(why))){
		return c2d_reply_error(c2d, req, C2D_ST_BAD_REQUEST, why);
	}
	if(persistent){
		if(c2d_room_low(c2d)){
			return c2d_reply_error(c2d, req, C2D_ST_UNAVAILABLE, "store nearly full: nothing was changed (plugin_opt_map_size)");
		}
		return c2d_queue_push_rpc(c2d, req, &o);
	}

	if(!c2d_presence_online(c2d, req->dev)){
		rc = c2d_reply_error(c2d, req, C2D_ST_OFFLINE, "device is offline");
		if(!rc) rc = c2d_event(c2d, req->dev, "rpc", "c2d.rpc.offline", rpc_data(NULL, req->name, C2D_ST_OFFLINE));
		return rc;
	}
	if(c2d_pending_count(&lrpc->t, req->dev) >= c2d->conf.rpc_inflight){
		return c2d_reply_error(c2d, req, C2D_ST_TOO_MANY, "too many RPCs in flight for this device (plugin_opt_rpc_inflight)");
	}
	if(o.two_way){
		p = c2d_pending_add(&lrpc->t, req->dev, req->client_id, req->resp_topic, req->corr, req->corr_len, req->name, o.timeout_ms);
		if(p == NULL) return C2D_ENOMEM;
		num = p->id;
	}else{
		num = lrpc->t.next_id++; /* one-way: nobody waits for the answer */
	}
	snprintf(why, sizeof(why), "rpc/%s", req->name);
	rc = c2d_deliver(c2d, req->dev, why, C2D_LRPC_LETTER, num, req->payload, req->payloadlen,
			req->content_type, (o.timeout_ms + 999) / 1000);
	if(rc && p) c2d_pending_done(p);
	return rc;
}

/* The device answered l{n}: forward its bytes and status to the requester. */
static int lrpc_on_response(struct c2d *c2d, const struct c2d_resp *resp)
{
	struct c2d_pending *p = c2d_pending_find(&c2d->lrpc->t, resp->num);
	const struct c2d_req *req = resp->req;
	int rc;

	if(p == NULL || strcmp(p->dev, resp->dev) != 0){
		c2d_log(C2D_LOG_DEBUG, "answer from '%s' to RPC l%" PRIu64 " that is no longer pending (late or unknown): dropped",
				resp->dev, resp->num);
		return 0;
	}
	if(resp->status == C2D_ST_ACCEPTED) return 0; /* delivered; the result follows */
	rc = c2d_reply_to(c2d, p->requester, p->reply_topic, p->corr, p->corr_len, resp->status, req->payload,
			req->payloadlen, req->content_type);
	c2d_pending_done(p);
	return rc;
}

static void lrpc_fail(struct c2d *c2d, struct c2d_pending *p, int status, const char *why, const char *type)
{
	char body[200], id[24];

	snprintf(body, sizeof(body), "{\"status\":%d,\"error\":\"%s\"}", status, why);
	c2d_deliver_id(C2D_LRPC_LETTER, p->id, id, sizeof(id));
	/* a timeout or the device going away: no stored fact, never rolled back
	 * (each publish is queued whole or not at all; failures are logged) */
	c2d_reply_list(c2d, C2D_OUT_SIDE, p->requester, p->reply_topic, p->corr, p->corr_len, status, body,
			strlen(body), "application/json");
	c2d_event_side(c2d, p->dev, "rpc", type, rpc_data(id, p->note, status));
}

static void lrpc_timeout(struct c2d *c2d, struct c2d_pending *p)
{
	c2d_log(C2D_LOG_INFO, "RPC '%s' to '%s' timed out", p->note, p->dev);
	lrpc_fail(c2d, p, C2D_ST_TIMEOUT, "device did not answer in time", "c2d.rpc.timeout");
}

static void lrpc_offline_one(struct c2d *c2d, struct c2d_pending *p)
{
	lrpc_fail(c2d, p, C2D_ST_OFFLINE, "device went offline", "c2d.rpc.offline");
	c2d_pending_done(p);
}

/* Lightweight RPCs fail at once when their device goes away. */
static void lrpc_on_offline(struct c2d *c2d, const char *dev)
{
	c2d_pending_each_dev(&c2d->lrpc->t, dev, lrpc_offline_one);
}

unsigned c2d_rpc_pending_count(struct c2d *c2d, const char *dev)
{
	return c2d->lrpc ? c2d_pending_count(&c2d->lrpc->t, dev) : 0;
}

static int lrpc_init(struct c2d *c2d)
{
	struct c2d_lrpc *lrpc = calloc(1, sizeof(*lrpc));

	if(lrpc == NULL) return C2D_ENOMEM;
	c2d_pending_init(&lrpc->t, c2d, lrpc_timeout);
	c2d->lrpc = lrpc;
	return 0;
}

static void lrpc_cleanup(struct c2d *c2d)
{
	if(c2d->lrpc == NULL) return;
	c2d_pending_clear(&c2d->lrpc->t);
	free(c2d->lrpc);
	c2d->lrpc = NULL;
}

const struct c2d_plane c2d_lrpc_plane = {
	.letter = C2D_LRPC_LETTER,
	.name = "rpc",
	.store_free = true,
	.init = lrpc_init,
	.cleanup = lrpc_cleanup,
	.on_response = lrpc_on_response,
	.on_offline = lrpc_on_offline,
};
