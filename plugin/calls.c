/* Device-originated calls: a device publishes $c2d/{dev}/out/call/{method}/{rid}
 * and gets exactly one answer on $c2d/{dev}/in/reply/{rid}/{status} (v5: with
 * its correlation data). Built in: "time" and "twin". Any other method is
 * forwarded to applications as an MQTT 5 request on $c2d/{dev}/call/{method}
 * with Response Topic $c2d/{dev}/callres/c{n}; the first answer there goes to
 * the device, no answer within rpc_timeout gives it 504. At most
 * calls_inflight forwarded calls of one device wait at once: beyond, 429. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c2d.h"
#include "c2d_calls.h"
#include "c2d_pending.h"
#include "c2d_twin_plane.h"

struct c2d_calls {
	struct c2d_pending_table t;
};

/* Answer a device's call on $c2d/{dev}/in/reply/{rid}/{status}, addressed
 * to the device (or the gateway that announced it). payload copied; corr borrowed. */
static int reply_device(struct c2d *c2d, enum c2d_out_list list, const char *dev, const char *rid,
		const void *corr, uint16_t corr_len, int status, const void *payload, size_t len, const char *content_type)
{
	char topic[C2D_DEV_MAX + C2D_NAME_MAX + 40];

	snprintf(topic, sizeof(topic), "$c2d/%s/in/reply/%s/%d", dev, rid, status);
	/* to the device's connection, or its gateway's (c2d_presence_client) */
	return c2d_reply_list(c2d, list, c2d_presence_client(c2d, dev), topic, corr, corr_len, status, payload, len,
			content_type);
}

static int reply_device_json(struct c2d *c2d, const struct c2d_req *req, int status, cJSON *body)
{
	char *text;
	int rc;

	if(body == NULL) return C2D_ENOMEM;
	text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	if(text == NULL) return C2D_ENOMEM;
	rc = reply_device(c2d, C2D_OUT_STORED, req->dev, req->rid, req->corr, req->corr_len, status, text, strlen(text),
			"application/json");
	cJSON_free(text);
	return rc;
}

static int call_time(struct c2d *c2d, struct c2d_req *req)
{
	cJSON *body = cJSON_CreateObject();

	if(body) cJSON_AddNumberToObject(body, "time", (double)c2d->wall_ms);
	return reply_device_json(c2d, req, C2D_ST_OK, body);
}

static int call_twin(struct c2d *c2d, struct c2d_req *req)
{
	cJSON *full;
	int rc;

	full = c2d_twin_get_full(c2d, req->dev, true, &rc);
	if(full == NULL) return rc;
	return reply_device_json(c2d, req, C2D_ST_OK, full);
}

/* Forward to applications; the answer comes back on callres/c{id}. */
static int call_forward(struct c2d *c2d, struct c2d_req *req)
{
	struct c2d_calls *calls = c2d->calls;
	char topic[C2D_DEV_MAX + C2D_NAME_MAX + 24], resp[C2D_DEV_MAX + 48], cid[24];
	mosquitto_property *props = NULL;
	struct c2d_pending *p;
	cJSON *err;
	int rc;

	if(c2d_pending_count(&calls->t, req->dev) >= c2d->conf.calls_inflight){
		c2d_log(C2D_LOG_INFO, "call '%s' of device '%s' refused: %u calls already wait (plugin_opt_calls_inflight)",
				req->name, req->dev, c2d->conf.calls_inflight);
		err = cJSON_CreateObject();
		if(err) cJSON_AddStringToObject(err, "error", "too many calls waiting for an answer (plugin_opt_calls_inflight)");
		return reply_device_json(c2d, req, C2D_ST_TOO_MANY, err);
	}
	p = c2d_pending_add(&calls->t, req->dev, req->dev, NULL, req->corr, req->corr_len, req->rid, c2d->conf.rpc_timeout_ms);
	if(p == NULL) return C2D_ENOMEM;
	snprintf(cid, sizeof(cid), "c%" PRIu64, p->id);
	snprintf(topic, sizeof(topic), "$c2d/%s/call/%s", req->dev, req->name);
	snprintf(resp, sizeof(resp), "$c2d/%s/callres/%s", req->dev, cid);
	rc = mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, resp);
	if(!rc) rc = mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, cid, (uint16_t)strlen(cid));
	if(!rc && req->content_type) rc = mosquitto_property_add_string(&props, MQTT_PROP_CONTENT_TYPE, req->content_type);
	if(rc){
		mosquitto_property_free_all(&props);
		c2d_pending_done(p);
		return C2D_ENOMEM;
	}
	rc = c2d_outbox_add(c2d, C2D_OUT_STORED, NULL, topic, req->payload, req->payloadlen, 1, props);
	if(rc) c2d_pending_done(p);
	return rc;
}

int c2d_calls_on_call(struct c2d *c2d, struct c2d_req *req)
{
	if(strcmp(req->name, "time") == 0) return call_time(c2d, req);
	if(strcmp(req->name, "twin") == 0) return call_twin(c2d, req);
	return call_forward(c2d, req);
}

/* An application answers a forwarded call. */
int c2d_calls_on_callres(struct c2d *c2d, struct c2d_req *req)
{
	struct c2d_calls *calls = c2d->calls;
	struct c2d_pending *p = NULL;
	char letter, st[8];
	uint64_t num;
	uint32_t status = C2D_ST_OK;
	int rc;

	if(c2d_deliver_parse_id(req->name, &letter, &num) == 0 && letter == 'c'){
		p = c2d_pending_find(&calls->t, num);
	}
	if(p == NULL || strcmp(p->dev, req->dev) != 0){
		c2d_log(C2D_LOG_INFO, "answer on '%s' from '%s' matches no pending call (late or unknown): dropped",
				req->topic, req->client_id ? req->client_id : "?");
		return 0;
	}
	if(c2d_req_user_prop(req, "status", st, sizeof(st)) && !c2d_conf_parse_uint(st, 100, 599, &status)){
		status = C2D_ST_INTERNAL; /* the application sent a malformed status */
	}
	rc = reply_device(c2d, C2D_OUT_STORED, p->dev, p->note, p->corr, p->corr_len, (int)status, req->payload,
			req->payloadlen, req->content_type);
	c2d_pending_done(p);
	return rc;
}

static void call_timeout(struct c2d *c2d, struct c2d_pending *p)
{
	char body[96];

	snprintf(body, sizeof(body), "{\"status\":504,\"error\":\"no application answered within %u ms\"}",
			c2d->conf.rpc_timeout_ms);
	c2d_log(C2D_LOG_INFO, "call '%s' of device '%s' timed out", p->note, p->dev);
	/* no stored fact: the side list */
	reply_device(c2d, C2D_OUT_SIDE, p->dev, p->note, p->corr, p->corr_len, C2D_ST_TIMEOUT, body, strlen(body),
			"application/json");
}

static int calls_init(struct c2d *c2d)
{
	struct c2d_calls *calls = calloc(1, sizeof(*calls));

	if(calls == NULL) return C2D_ENOMEM;
	c2d_pending_init(&calls->t, c2d, call_timeout);
	c2d->calls = calls;
	return 0;
}

static void calls_cleanup(struct c2d *c2d)
{
	struct c2d_calls *calls = c2d->calls;

	if(calls == NULL) return;
	c2d_pending_clear(&calls->t);
	free(calls);
	c2d->calls = NULL;
}

const struct c2d_plane c2d_calls_plane = {
	.letter = 'c',
	.name = "calls",
	.init = calls_init,
	.cleanup = calls_cleanup,
};
