/* libc2d-device: gateway mode (protocol v2 section 4). A gateway is a device
 * whose connection also carries sub-devices: each sub-device is a
 * struct c2d_device owned by its gateway, with its own handlers, memory of
 * answers, calls and pending report, that publishes on $c2d/{sub}/out/...
 * through the gateway's connection while it is announced there.
 *
 * Announcements: $c2d/{gw}/out/gw/connect/{sub} and .../disconnect/{sub}
 * (QoS 1; MQTT 5 with Response Topic $c2d/{gw}/in/reply/{rid}, so the
 * plugin's refusal (403: not assigned to this gateway) reaches the
 * sub-device's connection callback). Every announced sub-device is
 * announced again after each reconnect of the gateway, which is when the
 * platform runs its catch-up. A sub-device is online from its announcement
 * until it is withdrawn, refused, or the gateway's connection ends.
 *
 * Deliveries need no subscription: the plugin publishes them to the
 * gateway's client id (targeted, which bypasses subscriptions and READ
 * ACLs), on $c2d/{sub}/in/...; gateway_message routes them by the topic's
 * device level. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mqtt_protocol.h>

#include "internal.h"

static struct c2d_device *find_sub(const struct c2d_device *gw, const char *id, size_t n)
{
	struct c2d_device *s;

	for(s = gw->subs; s; s = s->next_sub){
		if(strlen(s->id) == n && memcmp(s->id, id, n) == 0) return s;
	}
	return NULL;
}

/* Publishes the announcement `what` ("connect" or "disconnect") of sub on
 * its gateway. Returns what dev_publish returns. */
static int announce_send(struct c2d_device *sub, const char *what)
{
	struct c2d_device *gw = sub->gw;
	char suffix[DEV_ID_MAX + 32], resp[2 * DEV_ID_MAX + 64];
	mosquitto_property *props = NULL;
	int rc;

	snprintf(sub->ann_rid, sizeof(sub->ann_rid), "a%s-%llu", gw->call_tag, ++gw->call_seq);
	snprintf(resp, sizeof(resp), "$c2d/%s/in/reply/%s", gw->id, sub->ann_rid);
	snprintf(suffix, sizeof(suffix), "out/gw/%s/%s", what, sub->id);
	if(gw->protocol == MQTT_PROTOCOL_V5
			&& mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, resp) != MOSQ_ERR_SUCCESS){
		return C2D_DEVICE_ENOMEM;
	}
	rc = dev_publish_props(gw, suffix, NULL, 0, props);
	mosquitto_property_free_all(&props);
	return rc;
}

/* Announces sub on its connected gateway and sends what it kept while
 * offline, in the order of a direct device's connect. */
static void go_online(struct c2d_device *sub)
{
	if(announce_send(sub, "connect") != 0) return;
	sub->online = true;
	ring_flush(sub);
	report_flush(sub);
	calls_flush(sub);
	dev_notify(sub, 1, 0, "announced");
}

/* sub is no longer online (withdrawn, refused, or the gateway's connection
 * ended): calls in flight (all: every call) end with 503, its callback is
 * told. */
static void go_offline(struct c2d_device *sub, bool all, int reason, const char *text)
{
	bool was = sub->online;

	sub->online = false;
	calls_lost(sub, all);
	if(was) dev_notify(sub, 0, reason, text);
}

void gateway_connected(struct c2d_device *gw)
{
	struct c2d_device *s;

	for(s = gw->subs; s; s = s->next_sub){
		if(s->want && !s->online) go_online(s);
	}
}

void gateway_lost(struct c2d_device *gw, bool all, int reason, const char *text)
{
	struct c2d_device *s;

	for(s = gw->subs; s; s = s->next_sub) go_offline(s, all, reason, text);
}

void gateway_expire(struct c2d_device *gw, uint64_t now)
{
	struct c2d_device *s;

	for(s = gw->subs; s; s = s->next_sub) calls_expire(s, now);
}

uint64_t gateway_next_deadline(const struct c2d_device *gw)
{
	const struct c2d_device *s;
	uint64_t min = UINT64_MAX, t;

	for(s = gw->subs; s; s = s->next_sub){
		t = calls_next_deadline(s);
		if(t < min) min = t;
	}
	return min;
}

void gateway_free_subs(struct c2d_device *gw)
{
	struct c2d_device *s, *next;

	for(s = gw->subs; s; s = next){
		next = s->next_sub;
		dev_free_state(s);
	}
	gw->subs = NULL;
}

void gateway_unlink(struct c2d_device *sub)
{
	struct c2d_device **p;

	if(sub->online) announce_send(sub, "disconnect");
	for(p = &sub->gw->subs; *p; p = &(*p)->next_sub){
		if(*p == sub){
			*p = sub->next_sub;
			break;
		}
	}
}

/* The status of a reply: MQTT 5 user property "status", else the topic's
 * level after the rid (rest = "{rid}/{status}"), else 200. */
static int reply_status(const char *rest, const mosquitto_property *props)
{
	const mosquitto_property *p;
	const char *slash = strchr(rest, '/');
	char *name = NULL, *value = NULL;
	int status = 0;

	for(p = props; p && status == 0; p = mosquitto_property_next(p)){
		if(mosquitto_property_identifier(p) != MQTT_PROP_USER_PROPERTY) continue;
		if(mosquitto_property_read_string_pair(p, MQTT_PROP_USER_PROPERTY, &name, &value, false)){
			if(strcmp(name, "status") == 0) status = atoi(value);
		}
		free(name);
		free(value);
		name = value = NULL;
	}
	if(status == 0 && slash) status = atoi(slash + 1);
	return status ? status : 200;
}

/* The error text of a refusal: the member "error" of a JSON payload, else
 * a fixed text. Writes into buf (cap bytes). */
static const char *refusal_text(const struct mosquitto_message *m, char *buf, size_t cap)
{
	cJSON *o = m->payloadlen > 0 ? cJSON_ParseWithLength(m->payload, (size_t)m->payloadlen) : NULL;
	cJSON *e = cJSON_GetObjectItemCaseSensitive(o, "error");

	snprintf(buf, cap, "%s", cJSON_IsString(e) ? e->valuestring : "announcement refused");
	cJSON_Delete(o);
	return buf;
}

/* A reply on $c2d/{gw}/in/reply/{rest}: the answer to an announcement?
 * Returns true if it was one (handled). */
static bool announce_reply(struct c2d_device *gw, const char *rest, const struct mosquitto_message *m,
		const mosquitto_property *props)
{
	size_t n = strcspn(rest, "/");
	struct c2d_device *s;
	char text[256];
	int status;

	if(rest[0] != 'a') return false;
	for(s = gw->subs; s; s = s->next_sub){
		if(strlen(s->ann_rid) == n && memcmp(s->ann_rid, rest, n) == 0) break;
	}
	if(s == NULL) return true; /* an old announcement's answer: nothing to do */
	status = reply_status(rest, props);
	if(status >= 300 && s->online) go_offline(s, false, status, refusal_text(m, text, sizeof(text)));
	return true;
}

void gateway_message(struct c2d_device *gw, const struct mosquitto_message *m, const mosquitto_property *props)
{
	const char *dev, *end;
	struct c2d_device *s;

	if(strncmp(m->topic, "$c2d/", 5) != 0) return;
	dev = m->topic + 5;
	end = strchr(dev, '/');
	if(end == NULL) return;
	if((size_t)(end - dev) == strlen(gw->id) && memcmp(dev, gw->id, (size_t)(end - dev)) == 0){
		if(strncmp(end, "/in/reply/", 10) == 0 && announce_reply(gw, end + 10, m, props)) return;
		inbox_message(gw, m);
		return;
	}
	s = find_sub(gw, dev, (size_t)(end - dev));
	/* a sub-device that is not online takes nothing: the platform delivers
	 * it again after the next announcement */
	if(s && s->online) inbox_message(s, m);
}

/* ---- the public side ---- */

C2D_API struct c2d_device *c2d_device_gateway_sub(struct c2d_device *gw, const char *sub_id)
{
	struct c2d_device *s;

	if(gw == NULL || gw->gw || !dev_valid_id(sub_id) || strcmp(sub_id, gw->id) == 0) return NULL;
	s = find_sub(gw, sub_id, strlen(sub_id));
	if(s) return s;
	s = calloc(1, sizeof(*s));
	if(s == NULL) return NULL;
	s->gw = gw;
	s->id = strdup(sub_id);
	s->state = ST_IDLE;
	memcpy(s->call_tag, gw->call_tag, sizeof(s->call_tag));
	snprintf(s->in_prefix, sizeof(s->in_prefix), "$c2d/%s/in/", sub_id);
	if(s->id == NULL || ring_init(&s->ring, 64, 65536) != 0){
		dev_free_state(s);
		return NULL;
	}
	s->next_sub = gw->subs;
	gw->subs = s;
	return s;
}

C2D_API struct c2d_device *c2d_device_gateway(const struct c2d_device *sub)
{
	return sub->gw;
}

C2D_API int c2d_device_gateway_announce(struct c2d_device *sub)
{
	if(sub->gw == NULL) return C2D_DEVICE_EINVAL;
	sub->want = true;
	if(sub->gw->state == ST_CONNECTED && !sub->online) go_online(sub);
	return 0;
}

C2D_API int c2d_device_gateway_withdraw(struct c2d_device *sub)
{
	if(sub->gw == NULL) return C2D_DEVICE_EINVAL;
	sub->want = false;
	if(sub->online) announce_send(sub, "disconnect");
	go_offline(sub, true, 0, "withdrawn");
	return 0;
}
