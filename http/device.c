/* HTTP devices (Drogue's ttd): a poll holds the request as the device's own
 * MQTT connection (client id = device id, the caller's credentials) until a
 * delivery arrives or ttd passes. The connection stays open device_grace ms
 * after handing out a delivery (so the answer goes out on it, as lightweight
 * RPCs need) and device_linger ms after a poll or an answer (so the next poll
 * reuses it); then it closes and the device is offline for the plugin.
 * Deliveries that arrive while no poll waits are held (device_hold) for the
 * next poll; beyond that, or when the connection closes, the plugin's
 * redelivery (queue items at every connect) takes over. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mqtt_protocol.h>

#include "http.h"
#include "route.h"

struct held {
	struct held *next;
	char *topic;
	void *payload;
	int len;
	char *ctype;
};

static void held_free(struct held *h)
{
	free(h->topic);
	free(h->payload);
	free(h->ctype);
	free(h);
}

void device_conn_free(struct hconn *c)
{
	struct held *h;

	while((h = c->held) != NULL){
		c->held = h->next;
		held_free(h);
	}
	c->nheld = 0;
}

static void keep(struct hconn *c, int ms)
{
	uint64_t t = now_ms() + (uint64_t)ms;

	if(t > c->keep_until) c->keep_until = t;
}

/* Hands delivery (topic, payload...) to poll r as its HTTP answer. */
static void hand_out(struct hreq *r, struct hconn *c, const char *topic, const void *payload, int len,
		const char *ctype)
{
	char kind[32] = "", method[160] = "";
	const char *in = strstr(topic, "/in/"), *id = strrchr(topic, '/');

	if(in){
		const char *k = in + 4, *e = strchr(k, '/');
		size_t kl = e ? (size_t)(e - k) : strlen(k);
		snprintf(kind, sizeof(kind), "%.*s", (int)(kl < 31 ? kl : 31), k);
		if(strcmp(kind, "rpc") == 0 && e && id > e){
			snprintf(method, sizeof(method), "%.*s", (int)(id - e - 1), e + 1);
		}
	}
	req_result(r, 200, payload, (size_t)len, ctype ? ctype : "application/octet-stream");
	req_header(r, "C2D-Id", id ? id + 1 : "");
	req_header(r, "C2D-Kind", kind);
	req_header(r, "C2D-Topic", topic);
	if(method[0]) req_header(r, "C2D-Method", method);
	if(strcmp(kind, "reply") != 0) c->outstanding++;
	keep(c, g.opt.device_grace);
	req_finish(r);
}

void device_on_delivery(struct hconn *c, const struct hmsg *m)
{
	struct held *h, **p;
	size_t n = strlen(c->device);

	if(strncmp(m->topic, "$c2d/", 5) != 0 || strncmp(m->topic + 5, c->device, n) != 0
			|| strncmp(m->topic + 5 + n, "/in/", 4) != 0){
		return;
	}
	if(c->polls){
		hand_out(c->polls, c, m->topic, m->payload, m->len, m->content_type);
		return;
	}
	if(c->nheld >= g.opt.device_hold){
		hlog(false, "device %s: no poll waiting and %d deliveries held: %s dropped (the plugin redelivers "
				"queued messages at the next connect)", c->device, c->nheld, m->topic);
		return;
	}
	h = calloc(1, sizeof(*h));
	if(h == NULL) return;
	h->topic = strdup(m->topic);
	h->len = m->len;
	h->payload = m->len ? malloc((size_t)m->len) : NULL;
	if(h->payload) memcpy(h->payload, m->payload, (size_t)m->len);
	h->ctype = m->content_type ? strdup(m->content_type) : NULL;
	for(p = &c->held; *p; p = &(*p)->next){
	}
	*p = h;
	c->nheld++;
}

/* Ends r with the oldest held delivery of c, if there is one. */
static bool take_held(struct hreq *r, struct hconn *c)
{
	struct held *h = c->held;

	if(h == NULL) return false;
	c->held = h->next;
	c->nheld--;
	hand_out(r, c, h->topic, h->payload, h->len, h->ctype);
	held_free(h);
	return true;
}

/* Nothing came within ttd: 204 for a poll, 202 for telemetry. */
static void poll_empty(struct hreq *r, struct hconn *c)
{
	r->status = r->flag ? 202 : 204;
	keep(c, g.opt.device_linger);
	req_finish(r);
}

void device_tick(struct hconn *c, uint64_t now)
{
	struct hreq *r, *next;

	for(r = c->polls; r; r = next){
		next = r->wnext;
		if(now >= r->deadline_ms) poll_empty(r, c);
	}
}

/* The device connection for r (a user of it), or NULL with r's result set. */
static struct hconn *device_conn(struct hreq *r, const char *dev)
{
	const char *err = NULL;
	struct hconn *c;

	if(!dev_id_ok(dev)){
		route_bad_device(r, dev);
		return NULL;
	}
	c = pool_get(HC_DEVICE, r->user, r->pass, dev, &err);
	if(c == NULL){
		req_error(r, strstr(err, "reachable") ? 502 : 503, "%s", err);
		return NULL;
	}
	if(c->users == 1) keep(c, g.opt.device_linger);
	r->conn = c;
	return c;
}

/* Starts waiting on c (the poll is r, ttd seconds in r->ival). */
static void poll_wait(struct hreq *r, struct hconn *c)
{
	struct hreq **p;

	if(take_held(r, c)) return;
	r->deadline_ms = now_ms() + (uint64_t)r->ival * 1000;
	for(p = &c->polls; *p; p = &(*p)->wnext){
	}
	r->wnext = NULL;
	*p = r;
	r->in_wait = true;
}

/* Parses ttd and takes a poll slot. Returns false with r's result set. */
static bool poll_begin(struct hreq *r)
{
	long ttd;

	if(req_query_int(r, "ttd", 0, g.opt.ttd_max, 0, &ttd)) return false;
	if(g.npolls >= g.opt.max_polls){
		req_header(r, "Retry-After", "1");
		req_error(r, 503, "too many long-polls (max-polls %d)", g.opt.max_polls);
		return false;
	}
	r->ival = (int)ttd;
	return true;
}

static bool do_next(struct hreq *r, const char *dev)
{
	struct hconn *c;

	if(!route_method(r, "GET") || !poll_begin(r)) return true;
	if((c = device_conn(r, dev)) == NULL) return true;
	r->kind = HR_POLL;
	g.npolls++;
	poll_wait(r, c);
	return true;
}

/* Publishes payload (copied) on topic on r's device connection with the
 * request's content type; fn gets the PUBACK (or the reply). */
static bool device_publish(struct hreq *r, const char *topic, const void *payload, int len, bool want_reply,
		hreq_reply_fn fn)
{
	mosquitto_property *props = NULL;
	const char *ct = MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);

	if(ct && *ct) mosquitto_property_add_string(&props, MQTT_PROP_CONTENT_TYPE, ct);
	pool_start_call(r, topic, payload, len, props, want_reply, g.opt.request_timeout, fn);
	return true;
}

static void telemetry_acked(struct hreq *r, int status, const struct hmsg *m)
{
	(void)status;
	(void)m;
	r->flag = true; /* 202 if nothing comes */
	poll_wait(r, r->conn);
}

static bool do_telemetry(struct hreq *r, const char *dev)
{
	char topic[600];
	const char *t, *p;
	size_t o = 0;

	if(!route_method(r, "POST") || !poll_begin(r)) return true;
	if(device_conn(r, dev) == NULL) return true;
	r->kind = HR_POLL;
	g.npolls++;
	for(t = g.opt.telemetry_topic; *t && o + 130 < sizeof(topic); t++){
		if(strncmp(t, "{dev}", 5) == 0){
			for(p = dev; *p; p++) topic[o++] = *p;
			t += 4;
		}else{
			topic[o++] = *t;
		}
	}
	topic[o] = '\0';
	return device_publish(r, topic, r->body, (int)r->body_len, false, telemetry_acked);
}

static void response_acked(struct hreq *r, int status, const struct hmsg *m)
{
	struct hconn *c = r->conn;

	(void)status;
	(void)m;
	if(c->outstanding > 0) c->outstanding--;
	/* everything handed out is answered: only the linger is left */
	if(c->outstanding == 0) c->keep_until = now_ms() + (uint64_t)g.opt.device_linger;
	r->status = 204;
	req_finish(r);
}

static bool do_response(struct hreq *r, const char *dev, const char *id)
{
	char topic[600];
	long status;

	if(!route_method(r, "POST")) return true;
	if(req_query_int(r, "status", 100, 599, 200, &status)) return true;
	if(strpbrk(id, "+#") || strlen(id) > 64){
		req_error(r, 400, "invalid delivery id");
		return true;
	}
	if(device_conn(r, dev) == NULL) return true;
	r->kind = HR_CALL;
	snprintf(topic, sizeof(topic), "$c2d/%s/out/res/%s/%ld", dev, id, status);
	return device_publish(r, topic, r->body, (int)r->body_len, false, response_acked);
}

bool device_call(struct hreq *r, const char *dev, const char *what, const void *payload, int len, hreq_reply_fn fn)
{
	char topic[600];

	if(device_conn(r, dev) == NULL) return true;
	r->kind = HR_CALL;
	snprintf(topic, sizeof(topic), "$c2d/%s/out/%s", dev, what);
	return device_publish(r, topic, payload, len, true, fn);
}

bool device_route(struct hreq *r, char **seg, int n)
{
	if(n < 5 || strcmp(seg[2], "devices") != 0) return false;
	if(n == 6 && strcmp(seg[4], "commands") == 0 && strcmp(seg[5], "next") == 0) return do_next(r, seg[3]);
	if(n == 5 && strcmp(seg[4], "telemetry") == 0) return do_telemetry(r, seg[3]);
	if(n == 6 && strcmp(seg[4], "responses") == 0) return do_response(r, seg[3], seg[5]);
	return false;
}
