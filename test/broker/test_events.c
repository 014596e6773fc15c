/* The events catalogue (docs/events.md) against the real broker: one broker
 * is driven through scenarios that make every kind of event (presence, twin,
 * messages, persistent and lightweight RPC, operators' commands, a deleted
 * device) while a monitor subscribes to $c2d/+/events/#. The test fails,
 * listing them, on any type documented in docs/events.md that was not seen
 * and any type seen that is not documented; every event must also be a
 * CloudEvents 1.0 object on the topic of its kind. C2D_VERBOSE=1 prints every
 * event seen (examples for the catalogue). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <mqtt_protocol.h>

#include "fixture.h"
#include "harness.h"
#include "../check_main.h"

#define V5 MQTT_PROTOCOL_V5
#define V311 MQTT_PROTOCOL_V311
#define CATALOGUE C2D_SRCDIR "/docs/events.md"
#define MAX_TYPES 128
#define TYPE_MAX 64

/* A set of event types (small: a linear search is fine). */
struct types {
	char v[MAX_TYPES][TYPE_MAX];
	size_t n;
};

static bool types_has(const struct types *t, const char *type)
{
	size_t i;

	for(i = 0; i < t->n; i++){
		if(strcmp(t->v[i], type) == 0) return true;
	}
	return false;
}

static void types_add(struct types *t, const char *type)
{
	if(types_has(t, type)) return;
	ck_assert_msg(t->n < MAX_TYPES && strlen(type) < TYPE_MAX, "too many or too long types (%s)", type);
	snprintf(t->v[t->n++], TYPE_MAX, "%s", type);
}

/* The documented types: every "### c2d.<...>" heading of docs/events.md
 * (the name may be in backticks; it ends at the first character that is not
 * a lower-case letter, digit or '.'). */
static void read_catalogue(struct types *doc)
{
	FILE *f = fopen(CATALOGUE, "r");
	char line[512], *p;
	size_t n;

	ck_assert_msg(f != NULL, "cannot open %s", CATALOGUE);
	while(fgets(line, sizeof(line), f)){
		if(strncmp(line, "### ", 4) != 0) continue;
		p = line + 4;
		if(*p == '`') p++;
		if(strncmp(p, "c2d.", 4) != 0) continue;
		n = strspn(p, "abcdefghijklmnopqrstuvwxyz0123456789.");
		p[n] = '\0';
		types_add(doc, p);
	}
	fclose(f);
	ck_assert_msg(doc->n >= 10, "%s lists only %zu event types", CATALOGUE, doc->n);
}

/* ---- driving the broker ---- */

struct world {
	struct c2d_broker *b;
	struct c2d_client *app;   /* application and operator, v5 */
	struct c2d_client *mon;   /* $c2d/+/events/# */
	struct c2d_client *dev;   /* device "ev1", v3.1.1, online */
};

/* Publish to $c2d/{dev}/{what} with correlation data corr and user
 * properties (key, value, ..., NULL; or NULL); wait for the reply, whose
 * status must be `status`. */
static void request(struct world *w, const char *dev, const char *what, const char *payload, const char *corr,
		const char *const *user, const char *status)
{
	char *topic = c2d_strf("$c2d/%s/%s", dev, what);

	c2d_msg_free(fx_send(w->app, topic, payload, corr, user, status));
	free(topic);
}

/* Wait for a later reply (final feedback, RPC result) for corr. */
static void later_reply(struct world *w, const char *corr, const char *status)
{
	c2d_msg_free(fx_reply(w->app, corr, status));
}

/* The device ev1 gets a delivery on $c2d/ev1/in/{path}/{id}. */
static void delivered(struct world *w, const char *path, const char *id)
{
	char *topic = c2d_strf("$c2d/ev1/in/%s/%s", path, id);
	struct c2d_msg *m = c2d_client_wait_msg(w->dev, topic, FX_WAIT_MS);

	ck_assert_msg(m != NULL, "no delivery %s", topic);
	c2d_msg_free(m);
	free(topic);
}

/* The device ev1 answers delivery id with status. */
static void answer(struct world *w, const char *id, int status)
{
	fx_answer(w->dev, "ev1", id, status);
}

/* One admin command (JSON object text); it must succeed. */
static void admin(struct world *w, const char *cmd)
{
	char *payload = c2d_strf("{\"commands\":[%s]}", cmd);
	struct c2d_msg *m = fx_request(w->app, "$CONTROL/c2d/v1", payload, NULL);

	ck_assert_msg(strstr(m->payload, "\"error\"") == NULL, "%s failed: %s", cmd, m->payload);
	c2d_msg_free(m);
	free(payload);
}

static void presence(struct world *w)
{
	struct c2d_client *c = c2d_client_new_connected(w->b, "ev2", V5, true);

	ck_assert_ptr_nonnull(c);
	c2d_client_destroy(c); /* connected, then disconnected */
}

static void twins(struct world *w)
{
	request(w, "ev1", "twin/desired", "{\"mode\":\"eco\"}", "t1", NULL, "200");
	delivered(w, "twin", "t1");
	answer(w, "t1", 200);                                        /* acknowledged */
	request(w, "ev1", "twin/desired", "{\"mode\":\"boost\"}", "t2", NULL, "200");
	delivered(w, "twin", "t2");
	answer(w, "t2", 400);                                        /* rejected */
	ck_assert_int_lt(c2d_client_publish(w->dev, "$c2d/ev1/out/reported", "{\"temp\":21}", -1, 1, false, NULL), 0x80);
	request(w, "ev1", "twin/get", "", "t3", NULL, "200");        /* the reported patch is in */
	request(w, "ev1", "twin/tags", "{\"site\":\"b\"}", "t5", NULL, "200");
	request(w, "ev1", "twin/delete", "", "t4", NULL, "200");
}

/* Messages to the online device ev1: completed, rejected, retrying, dead,
 * retried by an operator. */
static void messages(struct world *w)
{
	request(w, "ev1", "msg", "a", "m1", NULL, "202");            /* q1 */
	delivered(w, "msg", "q1");
	answer(w, "q1", 200);
	later_reply(w, "m1", "200");
	request(w, "ev1", "msg", "b", "m2", NULL, "202");            /* q2 */
	delivered(w, "msg", "q2");
	answer(w, "q2", 422);
	later_reply(w, "m2", "422");
	request(w, "ev1", "msg", "c", "m3", NULL, "202");            /* q3 */
	delivered(w, "msg", "q3");
	answer(w, "q3", 503);                                        /* retrying */
	delivered(w, "msg", "q3");
	answer(w, "q3", 503);                                        /* dead: msg_max_deliveries 2 */
	later_reply(w, "m3", "504");
	admin(w, "{\"command\":\"retryCommand\",\"device\":\"ev1\",\"id\":\"q3\"}");
	delivered(w, "msg", "q3");
	answer(w, "q3", 200);
	later_reply(w, "m3", "200");
}

/* Persistent RPCs to ev1: delivered, successful, failed, retrying, timeout,
 * retried; a lightweight RPC that times out. */
static void rpcs(struct world *w)
{
	static const char *const persistent[] = {"persistent", "true", NULL};
	static const char *const quick[] = {"persistent", "true", "retries", "1", "timeout", "200", NULL};
	static const char *const light[] = {"timeout", "200", NULL};

	request(w, "ev1", "rpc/reboot", "{}", "r1", persistent, "202"); /* q4 */
	delivered(w, "rpc/reboot", "q4");
	answer(w, "q4", 202);
	answer(w, "q4", 200);
	later_reply(w, "r1", "200");
	request(w, "ev1", "rpc/reboot", "{}", "r2", persistent, "202"); /* q5 */
	delivered(w, "rpc/reboot", "q5");
	answer(w, "q5", 400);
	later_reply(w, "r2", "400");
	request(w, "ev1", "rpc/scan", "{}", "r3", quick, "202");        /* q6 */
	delivered(w, "rpc/scan", "q6");
	answer(w, "q6", 503);                                           /* retrying */
	delivered(w, "rpc/scan", "q6");                                 /* no answer: timeout */
	later_reply(w, "r3", "504");
	admin(w, "{\"command\":\"retryCommand\",\"device\":\"ev1\",\"id\":\"q6\"}");
	delivered(w, "rpc/scan", "q6");
	answer(w, "q6", 200);
	later_reply(w, "r3", "200");
	request(w, "ev1", "rpc/ping", "", "r4", light, "504");          /* lightweight, no answer */
}

/* Commands for offline devices: expired (ev3, ttl 1), cancelled and purged
 * (ev5); a lightweight RPC that finds its device offline. At most
 * msg_queue_max (2) are live per device. */
static void offline_devices(struct world *w)
{
	static const char *const ttl1[] = {"ttl", "1", NULL};
	static const char *const rpc_ttl1[] = {"persistent", "true", "ttl", "1", NULL};
	static const char *const persistent[] = {"persistent", "true", NULL};

	request(w, "ev3", "msg", "late", "o1", ttl1, "202");              /* q1: expires */
	request(w, "ev3", "rpc/late", "", "o2", rpc_ttl1, "202");         /* q2: expires */
	request(w, "ev5", "msg", "x", "o3", NULL, "202");                 /* q1: cancelled */
	request(w, "ev5", "rpc/x", "", "o4", persistent, "202");          /* q2: cancelled */
	admin(w, "{\"command\":\"cancelCommand\",\"device\":\"ev5\",\"id\":\"q1\"}");
	admin(w, "{\"command\":\"cancelCommand\",\"device\":\"ev5\",\"id\":\"q2\"}");
	request(w, "ev5", "msg", "y", "o5", NULL, "202");                 /* q3: purged */
	request(w, "ev5", "rpc/y", "", "o6", persistent, "202");          /* q4: purged */
	admin(w, "{\"command\":\"purgeQueue\",\"device\":\"ev5\"}");
	request(w, "ev3", "rpc/ping", "", "o7", NULL, "404");             /* lightweight: offline */
}

/* The lifetimes of ev3's commands (1 s) have run out. */
static void expired(struct world *w)
{
	later_reply(w, "o1", "410");
	later_reply(w, "o2", "410");
}

/* The v3.1.1 device says hello, then sends a report that is not JSON: it
 * gets no status, so the refusal is an event. */
static void device_events(struct world *w)
{
	ck_assert_int_eq(c2d_client_publish(w->dev, "$c2d/ev1/out/hello", "{\"fw\":\"1.0\"}", -1, 1, false, NULL), 0);
	ck_assert_int_eq(c2d_client_publish(w->dev, "$c2d/ev1/out/reported", "{", -1, 1, false, NULL), 0);
}

/* A queue record damaged behind the plugin's back (written into its LMDB
 * store from here) is quarantined when its deadline comes (1 s). */
static void quarantined(struct world *w)
{
	static const char *const ttl1[] = {"ttl", "1", NULL};
	const unsigned char key[] = {'e', 'v', '9', 0, 0, 0, 0, 0, 0, 0, 0, 1}; /* ev9 \0 seq 1 (be64) */

	request(w, "ev9", "msg", "x", "z1", ttl1, "202");
	ck_assert_int_eq(c2d_broker_db_put(w->b, "queue", key, sizeof(key), "damaged", 7), 0);
}

/* Fleet jobs: one completes on an online device (ev-j answers its
 * message), one is cancelled while its device (ev-off) is away, one
 * aborts (ev-j answers 400), one expires (ev-off stays away). */
static void jobs(struct world *w)
{
	struct c2d_client *dev = fx_device(w->b, NULL, "ev-j", V5);
	struct c2d_msg *m;

	admin(w, "{\"command\":\"createJob\",\"job\":\"ev-job\",\"target\":{\"devices\":[\"ev-j\"]},"
			"\"action\":{\"msg\":{\"payload\":\"j\"}}}");
	m = c2d_client_wait_msg(dev, "$c2d/ev-j/in/msg/#", FX_WAIT_MS);
	ck_assert_msg(m != NULL, "the job's message did not arrive");
	fx_answer(dev, "ev-j", strrchr(m->topic, '/') + 1, 200);
	c2d_msg_free(m);
	admin(w, "{\"command\":\"createJob\",\"job\":\"ev-job2\",\"target\":{\"devices\":[\"ev-off\"]},"
			"\"action\":{\"msg\":{\"payload\":\"j\"}}}");
	admin(w, "{\"command\":\"cancelJob\",\"job\":\"ev-job2\"}");
	/* aborted: any failure over 0%; expired: its device stays away */
	admin(w, "{\"command\":\"createJob\",\"job\":\"ev-job3\",\"target\":{\"devices\":[\"ev-j\"]},"
			"\"action\":{\"msg\":{\"payload\":\"j\"}},\"abort\":{\"failedPercent\":0}}");
	m = c2d_client_wait_msg(dev, "$c2d/ev-j/in/msg/#", FX_WAIT_MS);
	ck_assert_msg(m != NULL, "the aborting job's message did not arrive");
	fx_answer(dev, "ev-j", strrchr(m->topic, '/') + 1, 400);
	c2d_msg_free(m);
	admin(w, "{\"command\":\"createJob\",\"job\":\"ev-job4\",\"target\":{\"devices\":[\"ev-off\"]},"
			"\"action\":{\"msg\":{\"payload\":\"j\"}},\"expiresIn\":1}");
	c2d_sleep_ms(1300); /* the device's answer settles at the next tick; ev-job4 expires */
	c2d_client_destroy(dev);
}

/* A gateway: ev-s1 assigned to ev-gw, announced (presence with via), the
 * gateway's connection ends (ev-s1 offline), the assignment cleared. */
static void gateways(struct world *w)
{
	struct c2d_client *gw;

	admin(w, "{\"command\":\"setGateway\",\"gateway\":\"ev-gw\",\"devices\":[\"ev-s1\"]}");
	gw = fx_device(w->b, NULL, "ev-gw", V311);
	ck_assert_int_eq(c2d_client_publish(gw, "$c2d/ev-gw/out/gw/connect/ev-s1", NULL, 0, 1, false, NULL), 0);
	c2d_client_destroy(gw);
	c2d_sleep_ms(200);
	admin(w, "{\"command\":\"clearGateway\",\"devices\":[\"ev-s1\"]}");
}

/* A full queue refuses both kinds; then the device is deleted. */
static void full_then_deleted(struct world *w)
{
	static const char *const persistent[] = {"persistent", "true", NULL};

	request(w, "ev4", "msg", "1", "f1", NULL, "202");
	request(w, "ev4", "msg", "2", "f2", NULL, "202");
	request(w, "ev4", "msg", "3", "f3", NULL, "429");
	request(w, "ev4", "rpc/x", "", "f4", persistent, "429");
	admin(w, "{\"command\":\"deleteDevice\",\"device\":\"ev4\"}");
}

/* Collect what the monitor received until it is quiet; check the envelope. */
static void collect_seen(struct world *w, struct types *seen)
{
	struct c2d_msg *m;
	const cJSON *type, *subject;
	cJSON *ev;
	char *want;
	char kind[TYPE_MAX];
	size_t n;

	while((m = c2d_client_wait_msg(w->mon, NULL, 700)) != NULL){
		if(getenv("C2D_VERBOSE")) fprintf(stderr, "event %s %s\n", m->topic, m->payload);
		ev = cJSON_Parse(m->payload);
		ck_assert_msg(ev != NULL, "event is not JSON: %s", m->payload);
		type = cJSON_GetObjectItem(ev, "type");
		subject = cJSON_GetObjectItem(ev, "subject");
		ck_assert_msg(cJSON_IsString(type) && strncmp(type->valuestring, "c2d.", 4) == 0, "bad type: %s", m->payload);
		ck_assert_msg(cJSON_IsString(subject), "no subject: %s", m->payload);
		ck_assert_str_eq(cJSON_GetObjectItem(ev, "specversion")->valuestring, "1.0");
		ck_assert(cJSON_IsString(cJSON_GetObjectItem(ev, "id")) && cJSON_IsString(cJSON_GetObjectItem(ev, "time")));
		/* c2d.<kind>.<...> is published on $c2d/{subject}/events/<kind>;
		 * a fleet job's own events on $c2d/$jobs/{job}/events */
		n = strcspn(type->valuestring + 4, ".");
		snprintf(kind, sizeof(kind), "%.*s", (int)n, type->valuestring + 4);
		if(strncmp(m->topic, "$c2d/$jobs/", 11) == 0 && strcmp(kind, "job") == 0){
			want = c2d_strf("$c2d/$jobs/%s/events", subject->valuestring);
		}else{
			want = c2d_strf("$c2d/%s/events/%s", subject->valuestring, kind);
		}
		ck_assert_msg(strcmp(m->topic, want) == 0, "%s on %s, want %s", type->valuestring, m->topic, want);
		free(want);
		types_add(seen, type->valuestring);
		cJSON_Delete(ev);
		c2d_msg_free(m);
	}
}

START_TEST(catalogue_matches_the_broker)
{
	static struct types doc, seen;
	struct world w;
	char *missing, *extra, *tmp;
	size_t i;

	read_catalogue(&doc);
	w.b = fx_start("plugin_opt_msg_max_deliveries 2\nplugin_opt_msg_queue_max 2\n");
	w.mon = fx_monitor(w.b, "$c2d/+/events/#");
	ck_assert_int_eq(c2d_client_subscribe(w.mon, "$c2d/$jobs/+/events", 1), 1);
	w.app = fx_app(w.b, FX_REPLIES);
	w.dev = fx_device(w.b, NULL, "ev1", V311);

	offline_devices(&w); /* first: ev3's lifetimes run out while the rest goes on */
	quarantined(&w);     /* likewise ev9's */
	presence(&w);
	twins(&w);
	messages(&w);
	rpcs(&w);
	full_then_deleted(&w);
	gateways(&w);
	device_events(&w);
	jobs(&w);
	expired(&w);
	collect_seen(&w, &seen);

	missing = strdup("");
	extra = strdup("");
	for(i = 0; i < doc.n; i++){
		if(types_has(&seen, doc.v[i])) continue;
		tmp = c2d_strf("%s %s", missing, doc.v[i]);
		free(missing);
		missing = tmp;
	}
	for(i = 0; i < seen.n; i++){
		if(types_has(&doc, seen.v[i])) continue;
		tmp = c2d_strf("%s %s", extra, seen.v[i]);
		free(extra);
		extra = tmp;
	}
	ck_assert_msg(missing[0] == '\0' && extra[0] == '\0',
			"documented in docs/events.md but not seen:%s; seen but not documented:%s", missing, extra);
	free(missing);
	free(extra);

	c2d_client_destroy(w.dev);
	c2d_client_destroy(w.app);
	c2d_client_destroy(w.mon);
	c2d_broker_cleanup(w.b);
}
END_TEST

/* The envelope is printed without cJSON (plugin/event.c): a subject that
 * needs escaping (a device id may hold '"', '\\' and any UTF-8) still reads
 * back as the same string, and the event is one valid JSON object. */
START_TEST(envelope_escapes_the_subject)
{
	static const char *const id = "ev\"q\\z\xc3\xa9";
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *mon = fx_monitor(b, "$c2d/+/events/presence");
	struct c2d_client *dev = fx_device(b, NULL, id, V5);
	struct c2d_msg *m = c2d_client_wait_msg(mon, NULL, 3000);
	cJSON *ev;

	ck_assert_msg(m != NULL, "no presence event for the device");
	ev = cJSON_Parse(m->payload);
	ck_assert_msg(ev != NULL, "event is not JSON: %s", m->payload);
	ck_assert_str_eq(cJSON_GetObjectItem(ev, "subject")->valuestring, id);
	ck_assert_str_eq(cJSON_GetObjectItem(ev, "type")->valuestring, "c2d.presence.connected");
	ck_assert_str_eq(cJSON_GetObjectItem(ev, "source")->valuestring, "mosquitto-c2d");
	ck_assert(cJSON_IsObject(cJSON_GetObjectItem(ev, "data")));
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "data"), "protocolVersion")->valueint, 5);
	cJSON_Delete(ev);
	c2d_msg_free(m);
	c2d_client_destroy(dev);
	c2d_client_destroy(mon);
	c2d_broker_cleanup(b);
}
END_TEST

/* The families switched off by plugin_opt_events are not published; the
 * rest are, and the work itself (replies, final feedback, deliveries) goes
 * on unchanged. */
static void families_run(const char *events, struct types *seen)
{
	char *opts = c2d_strf("plugin_opt_msg_max_deliveries 2\nplugin_opt_events %s\n", events);
	struct world w;

	w.b = fx_start(opts);
	w.mon = fx_monitor(w.b, "$c2d/+/events/#");
	w.app = fx_app(w.b, FX_REPLIES);
	w.dev = fx_device(w.b, NULL, "ev1", V311);
	presence(&w);
	twins(&w);
	messages(&w);
	collect_seen(&w, seen);
	c2d_client_destroy(w.dev);
	c2d_client_destroy(w.app);
	c2d_client_destroy(w.mon);
	c2d_broker_cleanup(w.b);
	free(opts);
}

START_TEST(families_switched_off)
{
	static struct types seen;
	size_t i;

	families_run("twin,device", &seen);
	for(i = 0; i < seen.n; i++){
		ck_assert_msg(strncmp(seen.v[i], "c2d.twin.", 9) == 0, "%s published with events twin,device", seen.v[i]);
	}
	ck_assert(types_has(&seen, "c2d.twin.desired.changed"));
	ck_assert(types_has(&seen, "c2d.twin.desired.acknowledged"));
	ck_assert(types_has(&seen, "c2d.twin.desired.rejected"));
	ck_assert(types_has(&seen, "c2d.twin.reported.changed"));
	ck_assert(types_has(&seen, "c2d.twin.deleted"));
	memset(&seen, 0, sizeof(seen));
	families_run("presence,msg", &seen);
	for(i = 0; i < seen.n; i++){
		ck_assert_msg(strncmp(seen.v[i], "c2d.presence.", 13) == 0 || strncmp(seen.v[i], "c2d.msg.", 8) == 0,
				"%s published with events presence,msg", seen.v[i]);
	}
	ck_assert(types_has(&seen, "c2d.presence.connected"));
	ck_assert(types_has(&seen, "c2d.msg.completed"));
	ck_assert(types_has(&seen, "c2d.msg.dead"));
	ck_assert(types_has(&seen, "c2d.msg.retried"));
	memset(&seen, 0, sizeof(seen));
	families_run("none", &seen);
	ck_assert_msg(seen.n == 0, "%s published with events none", seen.n ? seen.v[0] : "");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("events");
	TCase *tc = tcase_create("broker");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, catalogue_matches_the_broker);
	tcase_add_test(tc, envelope_escapes_the_subject);
	tcase_add_test(tc, families_switched_off);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
