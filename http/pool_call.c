/* The calls in flight on c2d-http's MQTT connections (see pool.c for the
 * connections and the thread): publishing a call (QoS 1, with response topic
 * and a "c2d-http:N" correlation when a reply is wanted), its PUBACK (0x87 is
 * the caller's 403), the reply matched by correlation and its status, and
 * failing every call when a connection ends.
 *
 * Ownership: a call (struct hreq) is owned by its HTTP request; while it
 * waits it is linked on its connection's pending (not yet connected) or
 * waiting (published) list, and leaves it before its reply callback or
 * req_finish. Runs on the pool thread under g.lock, except pool_call and
 * pool_start_call, which handlers call under the same lock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mqtt_protocol.h>

#include "http.h"
#include "pool.h"

/* Publishes r's pub_* on c (ready). Returns 0 or -1 (r's result set). */
int pool_publish(struct hconn *c, struct hreq *r)
{
	mosquitto_property *props = r->pub_props;
	int rc, mid = 0;

	r->pub_props = NULL;
	if(r->want_reply){
		snprintf(r->corr, sizeof(r->corr), "c2d-http:%u", ++c->corr_seq);
		mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, c->reply_topic);
		mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, r->corr, (uint16_t)strlen(r->corr));
	}
	rc = mosquitto_publish_v5(c->mosq, &mid, r->pub_topic, r->pub_len, r->pub_payload, 1, false, props);
	mosquitto_property_free_all(&props);
	free(r->pub_topic);
	free(r->pub_payload);
	r->pub_topic = NULL;
	r->pub_payload = NULL;
	if(rc != MOSQ_ERR_SUCCESS){
		req_error(r, rc == MOSQ_ERR_OVERSIZE_PACKET ? 413 : 502, "publish failed: %s", mosquitto_strerror(rc));
		return -1;
	}
	r->mid = mid;
	r->acked = false;
	r->wnext = c->waiting;
	c->waiting = r;
	r->in_wait = true;
	pool_wake();
	return 0;
}

int pool_call(struct hconn *c, struct hreq *r)
{
	if(c->state == HCS_READY) return pool_publish(c, r);
	if(c->state == HCS_CONNECTING){
		struct hreq **p = &c->pending;
		while(*p) p = &(*p)->wnext;
		r->wnext = NULL;
		*p = r;
		r->in_wait = true;
		return 0;
	}
	req_error(r, 502, "connection to the broker closed");
	return -1;
}

void pool_start_call(struct hreq *r, const char *topic, const void *payload, int len, mosquitto_property *props,
		bool want_reply, int timeout_ms, hreq_reply_fn fn)
{
	free(r->topic);
	free(r->pub_topic);
	free(r->pub_payload);
	mosquitto_property_free_all(&r->pub_props);
	r->topic = strdup(topic);
	r->pub_topic = strdup(topic);
	r->pub_len = len;
	r->pub_payload = len > 0 ? malloc((size_t)len) : NULL;
	if(len > 0 && r->pub_payload) memcpy(r->pub_payload, payload, (size_t)len);
	r->pub_props = props;
	r->want_reply = want_reply;
	r->on_reply = fn;
	r->deadline_ms = now_ms() + (uint64_t)timeout_ms;
	if(r->topic == NULL || r->pub_topic == NULL || (len > 0 && r->pub_payload == NULL)){
		req_error(r, 500, "out of memory");
		req_finish(r);
	}else if(pool_call(r->conn, r)){
		req_finish(r);
	}
}

/* Finishes every request of list *head with status/msg. */
static void fail_list(struct hreq **head, int status, const char *msg)
{
	struct hreq *r;

	while((r = *head) != NULL){
		*head = r->wnext;
		r->wnext = NULL;
		r->in_wait = false;
		req_error(r, status, "%s", msg);
		req_finish(r);
	}
}

/* The connection is gone (refused, lost, closed): end what waits on it. */
void pool_conn_ended(struct hconn *c, int status, const char *msg)
{
	bool was_refused = c->state == HCS_REFUSED;

	if(c->state != HCS_REFUSED) c->state = HCS_CLOSED;
	fail_list(&c->pending, status, msg);
	fail_list(&c->waiting, status, msg);
	if(c->kind == HC_DEVICE) fail_list(&c->polls, was_refused ? status : 502, msg);
	if(c->kind == HC_SSE) sse_conn_lost(c, status, msg);
}

/* Takes r out of c's list of calls in flight (before its reply callback,
 * which may start another call on c or finish r). */
static void unlink_wait(struct hconn *c, struct hreq *r)
{
	struct hreq **p;

	for(p = &c->waiting; *p; p = &(*p)->wnext){
		if(*p == r){
			*p = r->wnext;
			break;
		}
	}
	r->wnext = NULL;
	r->in_wait = false;
}

/* libmosquitto callbacks of every connection (set by conn_new). */
void pool_on_publish(struct mosquitto *mosq, void *obj, int mid, int reason, const mosquitto_property *props)
{
	struct hconn *c = obj;
	struct hreq *r;

	(void)mosq;
	(void)props;
	for(r = c->waiting; r; r = r->wnext){
		if(r->mid == mid) break;
	}
	if(r == NULL) return;
	r->mid = 0;
	r->acked = true;
	if(reason >= 0x80){
		if(reason == MQTT_RC_NOT_AUTHORIZED){
			req_error(r, 403, "not authorized: the broker refused the publish to %s", r->topic ? r->topic : "the topic");
		}else{
			req_error(r, 502, "the broker refused the publish: %s", mosquitto_reason_string(reason));
		}
		req_finish(r);
		return;
	}
	if(!r->want_reply){
		unlink_wait(c, r);
		r->on_reply(r, -1, NULL);
	}
}

/* Status of a reply: its user property "status", 200 if absent. */
static int reply_status(const mosquitto_property *props)
{
	const mosquitto_property *p;
	char *k = NULL, *v = NULL;
	int status = 200;

	p = mosquitto_property_read_string_pair(props, MQTT_PROP_USER_PROPERTY, &k, &v, false);
	while(p){
		if(strcmp(k, "status") == 0) status = atoi(v);
		free(k);
		free(v);
		k = v = NULL;
		p = mosquitto_property_read_string_pair(p, MQTT_PROP_USER_PROPERTY, &k, &v, true);
	}
	return status < 100 || status > 599 ? 502 : status;
}

void pool_on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
		const mosquitto_property *props)
{
	struct hconn *c = obj;
	struct hmsg m = {msg->topic, msg->payload, msg->payloadlen, NULL, props};
	char *ctype = NULL;
	void *corr = NULL;
	uint16_t corr_len = 0;
	struct hreq *r = NULL;

	(void)mosq;
	mosquitto_property_read_string(props, MQTT_PROP_CONTENT_TYPE, &ctype, false);
	m.content_type = ctype;
	if(c->kind == HC_SSE){
		sse_on_message(c, &m);
		free(ctype);
		return;
	}
	mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA, &corr, &corr_len, false);
	if(corr && corr_len > 9 && memcmp(corr, "c2d-http:", 9) == 0){
		for(r = c->waiting; r; r = r->wnext){
			if(r->want_reply && strlen(r->corr) == corr_len && memcmp(r->corr, corr, corr_len) == 0) break;
		}
	}
	if(r){
		r->want_reply = false;
		unlink_wait(c, r);
		r->on_reply(r, reply_status(props), &m);
	}else if(c->kind == HC_DEVICE){
		device_on_delivery(c, &m);
	}
	free(corr);
	free(ctype);
}
