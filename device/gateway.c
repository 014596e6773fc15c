/* libc2d-device: gateway mode (protocol v2 section 4). A gateway is a device
 * whose connection also carries sub-devices: each sub-device is a
 * struct c2d_device owned by its gateway, with its own handlers, memory of
 * answers, calls and pending report, that publishes on $c2d/{sub}/out/...
 * through the gateway's connection while it is announced there.
 *
 * Announcements (QoS 1): $c2d/{gw}/out/gw/connect/{sub} and
 * .../disconnect/{sub}; after each (re)connect of the gateway every
 * announced sub-device at once in the list form, a JSON array of ids on
 * $c2d/{gw}/out/gw/connect (at most LIST_MAX per publish), which is when the
 * platform runs their catch-up. A sub-device is online from its
 * announcement until it is withdrawn, refused, or the gateway's connection
 * ends. The platform refuses a sub-device that is not assigned to the
 * gateway (an announcement, or a write on its out/ topics) with a reply on
 * $c2d/{gw}/in/reply/gw/{sub}/{status} (MQTT 5 and 3.1.1,
 * {"status":403,"device":...,"error":...}): the sub-device goes offline and
 * its connection callback gets the status and the error.
 *
 * Deliveries need no subscription: the plugin publishes them to the
 * gateway's client id (targeted, which bypasses subscriptions and READ
 * ACLs), on $c2d/{sub}/in/...; gateway_message routes them by the topic's
 * device level. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static struct c2d_device *find_sub(const struct c2d_device *gw, const char *id, size_t n)
{
	struct c2d_device *s;

	for(s = gw->subs; s; s = s->next_sub){
		if(strlen(s->id) == n && memcmp(s->id, id, n) == 0) return s;
	}
	return NULL;
}

#define LIST_MAX 1000 /* ids in one list-form announcement (the plugin's C2D_GW_BATCH_MAX) */

/* Publishes the announcement `what` ("connect" or "disconnect") of sub on
 * its gateway. Returns what dev_publish returns. */
static int announce_send(struct c2d_device *sub, const char *what)
{
	char suffix[DEV_ID_MAX + 32];

	snprintf(suffix, sizeof(suffix), "out/gw/%s/%s", what, sub->id);
	return dev_publish(sub->gw, suffix, NULL, 0);
}

/* sub was announced: it is online; sends its hello (if it has info) and
 * what it kept while offline, in the order of a direct device's connect. */
static void now_online(struct c2d_device *sub)
{
	sub->online = true;
	if(sub->info) dev_publish(sub, "out/hello", sub->info, strlen(sub->info));
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

/* Announces the first n sub-devices that want it from *from on in one
 * list-form publish; *from moves past them. Returns false when nothing is
 * left to announce or the publish failed. */
static bool announce_list(struct c2d_device *gw, struct c2d_device **from)
{
	cJSON *list = cJSON_CreateArray();
	struct c2d_device *s, *first = *from, *stop;
	char *text = NULL;
	int n = 0, rc = C2D_DEVICE_ENOMEM;

	for(s = first; s && n < LIST_MAX; s = s->next_sub){
		if(!s->want || s->online) continue;
		if(list == NULL || !cJSON_AddItemToArray(list, cJSON_CreateString(s->id))) break;
		n++;
	}
	stop = s;
	*from = stop;
	if(n > 0 && list) text = cJSON_PrintUnformatted(list);
	cJSON_Delete(list);
	if(text) rc = dev_publish(gw, "out/gw/connect", text, strlen(text));
	free(text);
	if(n == 0 || rc != 0) return false;
	for(s = first; s != stop; s = s->next_sub){
		if(s->want && !s->online) now_online(s);
	}
	return true;
}

void gateway_connected(struct c2d_device *gw)
{
	struct c2d_device *from = gw->subs;

	while(from && announce_list(gw, &from)){
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

/* A refusal on $c2d/{gw}/in/reply/gw/{rest}, rest = "{sub}/{status}":
 * that sub-device goes offline, its callback gets the status and the
 * platform's error text. m: borrowed. */
static void refusal(struct c2d_device *gw, const char *rest, const struct mosquitto_message *m)
{
	const char *slash = strchr(rest, '/');
	struct c2d_device *s;
	cJSON *o, *e;
	char text[256];
	int status;

	if(slash == NULL) return;
	s = find_sub(gw, rest, (size_t)(slash - rest));
	status = atoi(slash + 1);
	if(s == NULL || status < 300 || status > 599) return;
	o = m->payloadlen > 0 ? cJSON_ParseWithLength(m->payload, (size_t)m->payloadlen) : NULL;
	e = cJSON_GetObjectItemCaseSensitive(o, "error");
	snprintf(text, sizeof(text), "%s", cJSON_IsString(e) ? e->valuestring : "refused by the platform");
	cJSON_Delete(o);
	go_offline(s, false, status, text);
}

void gateway_message(struct c2d_device *gw, const struct mosquitto_message *m)
{
	const char *dev, *end;
	struct c2d_device *s;

	if(strncmp(m->topic, "$c2d/", 5) != 0) return;
	dev = m->topic + 5;
	end = strchr(dev, '/');
	if(end == NULL) return;
	if((size_t)(end - dev) == strlen(gw->id) && memcmp(dev, gw->id, (size_t)(end - dev)) == 0){
		if(strncmp(end, "/in/reply/gw/", 13) == 0){
			refusal(gw, end + 13, m);
		}else{
			inbox_message(gw, m);
		}
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
	struct c2d_device *s, **p;

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
	for(p = &gw->subs; *p; p = &(*p)->next_sub){
	}
	*p = s; /* in creation order: announced in that order */
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
	if(sub->gw->state == ST_CONNECTED && !sub->online && announce_send(sub, "connect") == 0) now_online(sub);
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
