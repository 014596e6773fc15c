/* Cloud-to-device messages against the real broker: 202 + id, delivery to v5
 * and v3.1.1 devices, FIFO across a reconnect, msg_inflight 1, TTL expiry
 * while offline, redelivery after a missed ack, dead letters, rejection,
 * the queue bound, duplicate suppression, restart and kill -9, bad ttl. */
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
#define MSG_EVENTS "$c2d/+/events/msg" /* the monitor's filter */

/* String member of a JSON payload, copied (caller frees). */
static char *member(const struct c2d_msg *m, const char *name)
{
	cJSON *j = fx_json(m), *v = cJSON_GetObjectItem(j, name);
	char *s;

	ck_assert_msg(cJSON_IsString(v), "no \"%s\" in %s", name, m->payload);
	s = strdup(v->valuestring);
	cJSON_Delete(j);
	return s;
}

/* Send a message to dev with correlation data corr (a string) and user
 * properties (key, value, ..., NULL or NULL itself); returns the reply,
 * whose status must be `status`. Caller frees. */
static struct c2d_msg *send_msg(struct c2d_client *app, const char *dev, const char *payload,
		const char *corr, const char *const *user, const char *status)
{
	char *topic = c2d_strf("$c2d/%s/msg", dev);
	struct c2d_msg *m = fx_send(app, topic, payload, corr, user, status);

	free(topic);
	return m;
}

/* Send and expect 202 with id `want_id`. */
static void accept_msg(struct c2d_client *app, const char *dev, const char *payload, const char *corr,
		const char *want_id)
{
	struct c2d_msg *m = send_msg(app, dev, payload, corr, NULL, "202");
	char *id = member(m, "id");

	ck_assert_str_eq(id, want_id);
	free(id);
	c2d_msg_free(m);
}

/* The final feedback for corr: {"id","state","status"} with that status. */
static void expect_final(struct c2d_client *app, const char *corr, const char *id, const char *state, int status)
{
	char st[8];
	struct c2d_msg *m;
	cJSON *j;

	snprintf(st, sizeof(st), "%d", status);
	m = fx_reply(app, corr, st);
	j = fx_json(m);
	ck_assert_str_eq(cJSON_GetObjectItem(j, "id")->valuestring, id);
	ck_assert_str_eq(cJSON_GetObjectItem(j, "state")->valuestring, state);
	ck_assert_int_eq(cJSON_GetObjectItem(j, "status")->valueint, status);
	cJSON_Delete(j);
	c2d_msg_free(m);
}

static void expect_event(struct c2d_client *mon, const char *type, const char *id)
{
	c2d_msg_free(fx_skip_to_event(mon, type, id));
}

/* The next delivery to the device must be message `id` with `payload`. */
static void expect_delivery(struct c2d_client *dev, const char *devid, const char *id, const char *payload)
{
	char *filter = c2d_strf("$c2d/%s/in/#", devid), *topic = c2d_strf("$c2d/%s/in/msg/%s", devid, id);
	struct c2d_msg *m = c2d_client_wait_msg(dev, filter, FX_WAIT_MS);

	ck_assert_msg(m != NULL, "no delivery to %s (want %s)", devid, id);
	ck_assert_str_eq(m->topic, topic);
	ck_assert_str_eq(m->payload, payload);
	ck_assert_int_eq(m->qos, 1);
	c2d_msg_free(m);
	free(filter);
	free(topic);
}

START_TEST(accepted_delivered_completed_v5)
{
	static const char *const user[] = {"ttl", "60", NULL};
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *mon = fx_monitor(b, MSG_EVENTS), *dev = fx_device(b, NULL, "d1", V5);
	struct c2d_props p = {.content_type = "text/plain"};
	mosquitto_property *props = c2d_props_build(&p);
	struct c2d_msg *m;
	cJSON *ev;

	m = send_msg(app, "d1", "hello", "c1", user, "202");
	ck_assert_str_eq(m->payload, "{\"id\":\"q1\",\"status\":202}");
	ck_assert(c2d_msg_corr_eq(m, "c1", 2));
	c2d_msg_free(m);

	m = c2d_client_wait_msg(dev, "$c2d/d1/in/#", FX_WAIT_MS);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->topic, "$c2d/d1/in/msg/q1");
	ck_assert_str_eq(m->payload, "hello");
	ck_assert(c2d_msg_corr_eq(m, "q1", 2));
	ck_assert_str_eq(m->response_topic, "$c2d/d1/out/res/q1");
	ck_assert(m->has_expiry);
	ck_assert_uint_le(m->expiry, 60);
	ck_assert_uint_ge(m->expiry, 58);
	/* a v5 device answers on the response topic; no status = 200 */
	ck_assert_int_lt(c2d_client_publish(dev, m->response_topic, "ok", 2, 1, false, props), 0x80);
	c2d_msg_free(m);
	expect_final(app, "c1", "q1", "completed", 200);

	m = fx_skip_to_event(mon, "c2d.msg.queued", "q1");
	ck_assert_str_eq(m->topic, "$c2d/d1/events/msg");
	ev = fx_json(m);
	ck_assert_str_eq(cJSON_GetObjectItem(ev, "subject")->valuestring, "d1");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "data"), "sender")->valuestring, "app");
	cJSON_Delete(ev);
	c2d_msg_free(m);
	expect_event(mon, "c2d.msg.sent", "q1");
	expect_event(mon, "c2d.msg.completed", "q1");
	ck_assert(c2d_client_expect_none(dev, "$c2d/d1/in/#", 300));

	mosquitto_property_free_all(&props);
	c2d_client_destroy(dev);
	c2d_client_destroy(mon);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* v3.1.1 device: ids in topics, answers by topic id and status. */
START_TEST(v311_device_answers_by_topic)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *dev = fx_device(b, NULL, "d3", V311);

	accept_msg(app, "d3", "m1", "c1", "q1");
	expect_delivery(dev, "d3", "q1", "m1");
	fx_answer(dev, "d3", "q1", 200);
	expect_final(app, "c1", "q1", "completed", 200);
	/* an answer to something that is not pending is dropped */
	fx_answer(dev, "d3", "q1", 200);
	fx_answer(dev, "d3", "q99", 200);
	ck_assert(c2d_client_expect_none(app, FX_REPLIES, 300));

	c2d_client_destroy(dev);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* Cheap answers (protocol.md): a device may answer at QoS 0, v5 and
 * v3.1.1 alike; the answer settles the message as at QoS 1 (no PUBACK). */
START_TEST(qos0_answers_settle)
{
	static const int protos[] = {V5, V311};
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES);
	int i;

	for(i = 0; i < 2; i++){
		const char *devid = i ? "q0b" : "q0a";
		struct c2d_client *dev = fx_device(b, NULL, devid, protos[i]);
		char *topic = c2d_strf("$c2d/%s/out/res/q1/200", devid);

		accept_msg(app, devid, "m1", i ? "c2" : "c1", "q1");
		expect_delivery(dev, devid, "q1", "m1");
		ck_assert_int_eq(c2d_client_publish(dev, topic, NULL, 0, 0, false, NULL), 0);
		expect_final(app, i ? "c2" : "c1", "q1", "completed", 200);
		free(topic);
		c2d_client_destroy(dev);
	}
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* Queued while offline, delivered in order on connect; unanswered ones are
 * redelivered, still in order, on reconnect. */
START_TEST(fifo_across_reconnect)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *dev = fx_device(b, NULL, "d2", V311);

	fx_offline(dev);
	accept_msg(app, "d2", "one", "c1", "q1");
	accept_msg(app, "d2", "two", "c2", "q2");
	accept_msg(app, "d2", "three", "c3", "q3");
	ck_assert_int_eq(c2d_client_connect(dev, b), 0);
	expect_delivery(dev, "d2", "q1", "one");
	expect_delivery(dev, "d2", "q2", "two");
	expect_delivery(dev, "d2", "q3", "three");
	fx_answer(dev, "d2", "q1", 200);
	expect_final(app, "c1", "q1", "completed", 200);

	fx_offline(dev);
	accept_msg(app, "d2", "four", "c4", "q4");
	ck_assert_int_eq(c2d_client_connect(dev, b), 0);
	expect_delivery(dev, "d2", "q2", "two");
	expect_delivery(dev, "d2", "q3", "three");
	expect_delivery(dev, "d2", "q4", "four");
	fx_answer(dev, "d2", "q2", 200);
	fx_answer(dev, "d2", "q3", 200);
	fx_answer(dev, "d2", "q4", 200);
	expect_final(app, "c2", "q2", "completed", 200);
	expect_final(app, "c3", "q3", "completed", 200);
	expect_final(app, "c4", "q4", "completed", 200);
	ck_assert(c2d_client_expect_none(dev, "$c2d/d2/in/#", 200));

	c2d_client_destroy(dev);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

START_TEST(inflight_one_is_strict_sequence)
{
	struct c2d_broker *b = fx_start("plugin_opt_msg_inflight 1\n");
	struct c2d_client *app = fx_app(b, FX_REPLIES), *dev = fx_device(b, NULL, "d1", V5);

	accept_msg(app, "d1", "a", "c1", "q1");
	accept_msg(app, "d1", "b", "c2", "q2");
	accept_msg(app, "d1", "c", "c3", "q3");
	expect_delivery(dev, "d1", "q1", "a");
	ck_assert(c2d_client_expect_none(dev, "$c2d/d1/in/#", 300));
	fx_answer(dev, "d1", "q1", 200);
	expect_delivery(dev, "d1", "q2", "b");
	ck_assert(c2d_client_expect_none(dev, "$c2d/d1/in/#", 300));
	fx_answer(dev, "d1", "q2", 204);
	expect_delivery(dev, "d1", "q3", "c");
	fx_answer(dev, "d1", "q3", 200);
	expect_final(app, "c1", "q1", "completed", 200);
	expect_final(app, "c2", "q2", "completed", 200);
	expect_final(app, "c3", "q3", "completed", 200);

	c2d_client_destroy(dev);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* TTL runs out while the device is offline: 410 to the sender, an event, and
 * nothing delivered after the reconnect. */
START_TEST(ttl_expiry_while_offline)
{
	static const char *const ttl1[] = {"ttl", "1", NULL};
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *mon = fx_monitor(b, MSG_EVENTS), *dev = fx_device(b, NULL, "d1", V5);
	struct c2d_msg *m;
	uint64_t t0;

	fx_offline(dev);
	t0 = c2d_now_ms();
	c2d_msg_free(send_msg(app, "d1", "stale", "c1", ttl1, "202"));
	expect_final(app, "c1", "q1", "expired", 410);
	ck_assert_uint_ge(c2d_now_ms() - t0, 900);
	m = fx_skip_to_event(mon, "c2d.msg.expired", "q1");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"status\":410"));
	c2d_msg_free(m);
	ck_assert_int_eq(c2d_client_connect(dev, b), 0);
	ck_assert(c2d_client_expect_none(dev, "$c2d/d1/in/#", 400));

	c2d_client_destroy(dev);
	c2d_client_destroy(mon);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* No answer within ack_timeout: the message is delivered again. */
START_TEST(redelivery_after_missed_ack)
{
	struct c2d_broker *b = fx_start("plugin_opt_ack_timeout 1\n");
	struct c2d_client *app = fx_app(b, FX_REPLIES), *mon = fx_monitor(b, MSG_EVENTS), *dev = fx_device(b, NULL, "d1", V5);
	struct c2d_msg *m;

	accept_msg(app, "d1", "again", "c1", "q1");
	expect_delivery(dev, "d1", "q1", "again");
	expect_delivery(dev, "d1", "q1", "again"); /* ~1 s later */
	m = fx_skip_to_event(mon, "c2d.msg.retrying", "q1");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"reason\":\"timeout\""));
	c2d_msg_free(m);
	m = fx_skip_to_event(mon, "c2d.msg.sent", "q1");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"deliveries\":2"));
	c2d_msg_free(m);
	fx_answer(dev, "d1", "q1", 200);
	expect_final(app, "c1", "q1", "completed", 200);

	c2d_client_destroy(dev);
	c2d_client_destroy(mon);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* 5xx answers retry; more than msg_max_deliveries deliveries: dead (504). */
START_TEST(dead_after_max_deliveries)
{
	struct c2d_broker *b = fx_start("plugin_opt_msg_max_deliveries 2\nplugin_opt_ack_timeout 1\n");
	struct c2d_client *app = fx_app(b, FX_REPLIES), *mon = fx_monitor(b, MSG_EVENTS), *dev = fx_device(b, NULL, "d1", V5);

	accept_msg(app, "d1", "x", "c1", "q1");
	expect_delivery(dev, "d1", "q1", "x");
	fx_answer(dev, "d1", "q1", 503);
	expect_delivery(dev, "d1", "q1", "x");
	fx_answer(dev, "d1", "q1", 500);
	expect_final(app, "c1", "q1", "dead", 504);
	expect_event(mon, "c2d.msg.dead", "q1");
	ck_assert(c2d_client_expect_none(dev, "$c2d/d1/in/#", 200));

	/* the same by timeouts: two unanswered deliveries, then dead */
	accept_msg(app, "d1", "y", "c2", "q2");
	expect_delivery(dev, "d1", "q2", "y");
	expect_delivery(dev, "d1", "q2", "y");
	expect_final(app, "c2", "q2", "dead", 504);

	c2d_client_destroy(dev);
	c2d_client_destroy(mon);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

START_TEST(rejected_with_device_status)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *mon = fx_monitor(b, MSG_EVENTS), *dev = fx_device(b, NULL, "d1", V311);
	struct c2d_msg *m;

	accept_msg(app, "d1", "bad", "c1", "q1");
	expect_delivery(dev, "d1", "q1", "bad");
	fx_answer(dev, "d1", "q1", 422);
	expect_final(app, "c1", "q1", "rejected", 422);
	m = fx_skip_to_event(mon, "c2d.msg.rejected", "q1");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"status\":422"));
	c2d_msg_free(m);
	ck_assert(c2d_client_expect_none(dev, "$c2d/d1/in/#", 300)); /* not retried */

	c2d_client_destroy(dev);
	c2d_client_destroy(mon);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

START_TEST(queue_full_is_429)
{
	struct c2d_broker *b = fx_start("plugin_opt_msg_queue_max 2\n");
	struct c2d_client *app = fx_app(b, FX_REPLIES), *mon = fx_monitor(b, MSG_EVENTS), *dev;
	struct c2d_msg *m;

	accept_msg(app, "d1", "1", "c1", "q1");
	accept_msg(app, "d1", "2", "c2", "q2");
	m = send_msg(app, "d1", "3", "c3", NULL, "429");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"status\":429"));
	c2d_msg_free(m);
	expect_event(mon, "c2d.msg.refused", NULL);
	/* room again after one completes; the refused one was never stored */
	dev = fx_device(b, NULL, "d1", V311);
	expect_delivery(dev, "d1", "q1", "1");
	expect_delivery(dev, "d1", "q2", "2");
	fx_answer(dev, "d1", "q1", 200);
	expect_final(app, "c1", "q1", "completed", 200);
	accept_msg(app, "d1", "4", "c4", "q3");
	expect_delivery(dev, "d1", "q3", "4");

	c2d_client_destroy(dev);
	c2d_client_destroy(mon);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* The same sender and correlation data is queued once, also after its final
 * state while it is kept in history. */
START_TEST(duplicate_queued_once)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *dev;
	struct c2d_msg *m;
	cJSON *j;

	accept_msg(app, "d1", "once", "same", "q1");
	m = send_msg(app, "d1", "once", "same", NULL, "202");
	j = fx_json(m);
	ck_assert_str_eq(cJSON_GetObjectItem(j, "id")->valuestring, "q1");
	ck_assert_str_eq(cJSON_GetObjectItem(j, "state")->valuestring, "queued");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "duplicate")));
	cJSON_Delete(j);
	c2d_msg_free(m);
	/* other correlation data, or another device: not a duplicate */
	accept_msg(app, "d1", "other", "diff", "q2");
	accept_msg(app, "d9", "once", "same", "q1");

	dev = fx_device(b, NULL, "d1", V311);
	expect_delivery(dev, "d1", "q1", "once");
	expect_delivery(dev, "d1", "q2", "other");
	ck_assert(c2d_client_expect_none(dev, "$c2d/d1/in/#", 300));
	fx_answer(dev, "d1", "q1", 200);
	expect_final(app, "same", "q1", "completed", 200);
	/* after the final state (while it is in history): the id and its outcome */
	m = send_msg(app, "d1", "once", "same", NULL, "202");
	j = fx_json(m);
	ck_assert_str_eq(cJSON_GetObjectItem(j, "id")->valuestring, "q1");
	ck_assert_str_eq(cJSON_GetObjectItem(j, "state")->valuestring, "completed");
	ck_assert_int_eq(cJSON_GetObjectItem(j, "finalStatus")->valueint, 200);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(j, "duplicate")));
	cJSON_Delete(j);
	c2d_msg_free(m);
	accept_msg(app, "d1", "next", "other", "q3");
	expect_delivery(dev, "d1", "q3", "next");

	c2d_client_destroy(dev);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* What was acknowledged (PUBACK) survives a restart or a kill -9. */
static void survives(bool kill9)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *dev;
	char corr[16], id[16], payload[16];
	int i;

	for(i = 1; i <= 5; i++){
		snprintf(corr, sizeof(corr), "c%d", i);
		snprintf(id, sizeof(id), "q%d", i);
		snprintf(payload, sizeof(payload), "p%d", i);
		accept_msg(app, "dk", payload, corr, id);
	}
	c2d_client_destroy(app);
	if(kill9) ck_assert_int_eq(c2d_broker_kill9(b), 0);
	ck_assert_int_eq(c2d_broker_restart(b), 0);
	app = fx_app(b, FX_REPLIES);
	dev = fx_device(b, NULL, "dk", V5);
	for(i = 1; i <= 5; i++){
		snprintf(id, sizeof(id), "q%d", i);
		snprintf(payload, sizeof(payload), "p%d", i);
		expect_delivery(dev, "dk", id, payload);
	}
	fx_answer(dev, "dk", "q3", 200);
	expect_final(app, "c3", "q3", "completed", 200);
	/* numbering goes on after the restart */
	accept_msg(app, "dk", "p6", "c6", "q6");
	expect_delivery(dev, "dk", "q6", "p6");

	c2d_client_destroy(dev);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}

START_TEST(restart_loses_nothing)
{
	survives(false);
}
END_TEST

START_TEST(kill9_loses_nothing)
{
	survives(true);
}
END_TEST

START_TEST(invalid_ttl_is_400)
{
	static const char *const bad[] = {"0", "-1", "1.5", "abc", "", "604801", "99999999999"};
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *dev;
	const char *user[] = {"ttl", NULL, NULL};
	struct c2d_msg *m;
	size_t i;

	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		user[1] = bad[i];
		m = send_msg(app, "d1", "x", "c1", user, "400");
		ck_assert_msg(strstr(m->payload, "ttl") != NULL, "%s", m->payload);
		c2d_msg_free(m);
	}
	user[1] = "604800";
	accept_msg(app, "d1", "ok", "c2", "q1"); /* nothing was stored before */
	m = send_msg(app, "d1", "x", "c3", user, "202");
	c2d_msg_free(m);
	dev = fx_device(b, NULL, "d1", V311);
	expect_delivery(dev, "d1", "q1", "ok");
	expect_delivery(dev, "d1", "q2", "x");

	c2d_client_destroy(dev);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* The documented command-line example. */
START_TEST(cli_example)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *dev = fx_device(b, NULL, "lamp-1", V311);
	char *cmd, *out = NULL;

	cmd = c2d_strf("mosquitto_rr -V 5 -p %d -t '$c2d/lamp-1/msg' -e 'replies/app' -m 'hello' -D publish user-property ttl 600 -W 5",
			b->port);
	ck_assert_int_eq(c2d_sh(cmd, 8000, &out), 0);
	ck_assert_str_eq(out, "{\"id\":\"q1\",\"status\":202}\n");
	expect_delivery(dev, "lamp-1", "q1", "hello");
	free(cmd);
	free(out);
	c2d_client_destroy(dev);
	c2d_broker_cleanup(b);
}
END_TEST

/* Device answers are group-committed at the end of the broker's loop pass.
 * A burst that mixes queue answers of three devices (sent without waiting
 * for PUBACKs), a twin acknowledgement, a lightweight RPC answer and a
 * device connecting loses nothing: every final feedback, the RPC reply and
 * the presence event arrive; after a kill -9 nothing is delivered again (the
 * feedback left only after the commit). */
START_TEST(answer_burst_mixed)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *mon = fx_monitor(b, "$c2d/+/events/presence"), *dev[3], *late = NULL;
	mosquitto_property *rq = NULL;
	char devid[8], corr[16], id[16], payload[16], *topic;
	struct c2d_msg *m, *call, *push;
	int i, k;

	for(i = 0; i < 3; i++){
		snprintf(devid, sizeof(devid), "db%d", i);
		dev[i] = fx_device(b, mon, devid, V5);
		for(k = 1; k <= 5; k++){
			snprintf(corr, sizeof(corr), "b%d-%d", i, k);
			snprintf(payload, sizeof(payload), "p%d", k);
			snprintf(id, sizeof(id), "q%d", k);
			accept_msg(app, devid, payload, corr, id);
		}
	}
	for(i = 0; i < 3; i++){
		snprintf(devid, sizeof(devid), "db%d", i);
		for(k = 1; k <= 5; k++){
			snprintf(payload, sizeof(payload), "p%d", k);
			snprintf(id, sizeof(id), "q%d", k);
			expect_delivery(dev[i], devid, id, payload);
		}
	}
	c2d_msg_free(fx_request(app, "$c2d/db0/twin/desired", "{\"mode\":\"eco\"}", "200"));
	push = c2d_client_wait_msg(dev[0], "$c2d/db0/in/twin/+", FX_WAIT_MS);
	ck_assert_ptr_nonnull(push);
	mosquitto_property_add_string(&rq, MQTT_PROP_RESPONSE_TOPIC, FX_REPLIES);
	mosquitto_property_add_binary(&rq, MQTT_PROP_CORRELATION_DATA, "rpc-1", 5);
	ck_assert_int_eq(mosquitto_publish_v5(c2d_client_mosq(app), NULL, "$c2d/db1/rpc/ping", 4, "ping", 1, false, rq),
			MOSQ_ERR_SUCCESS);
	mosquitto_property_free_all(&rq);
	call = c2d_client_wait_msg(dev[1], "$c2d/db1/in/rpc/ping/+", FX_WAIT_MS);
	ck_assert_ptr_nonnull(call);

	/* the burst */
	for(k = 1; k <= 5; k++){
		for(i = 0; i < 3; i++){
			topic = c2d_strf("$c2d/db%d/out/res/q%d", i, k);
			ck_assert_int_eq(mosquitto_publish(c2d_client_mosq(dev[i]), NULL, topic, 0, NULL, 1, false), MOSQ_ERR_SUCCESS);
			free(topic);
		}
		if(k == 2){
			topic = c2d_strf("$c2d/db0/out/res/%s", strrchr(push->topic, '/') + 1);
			ck_assert_int_eq(mosquitto_publish(c2d_client_mosq(dev[0]), NULL, topic, 0, NULL, 1, false), MOSQ_ERR_SUCCESS);
			free(topic);
			ck_assert_int_eq(mosquitto_publish(c2d_client_mosq(dev[1]), NULL, call->response_topic, 4, "pong", 1, false),
					MOSQ_ERR_SUCCESS);
		}
		if(k == 3) late = fx_client(b, "db-late", V5);
	}

	for(i = 0; i < 3; i++){
		for(k = 1; k <= 5; k++){
			snprintf(corr, sizeof(corr), "b%d-%d", i, k);
			snprintf(id, sizeof(id), "q%d", k);
			expect_final(app, corr, id, "completed", 200);
		}
	}
	m = c2d_client_wait_corr(app, FX_REPLIES, "rpc-1", 5, FX_WAIT_MS);
	ck_assert_msg(m != NULL, "no reply to the lightweight RPC");
	ck_assert_str_eq(m->payload, "pong");
	c2d_msg_free(m);
	cJSON_Delete(fx_expect_event(mon, "db-late", "presence", "c2d.presence.connected"));
	m = fx_request(app, "$c2d/db0/twin/get", "", "200");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"desired\":{\"mode\":\"eco\"}"));
	c2d_msg_free(m);

	/* stored before the feedback left: nothing comes again after a crash */
	for(i = 0; i < 3; i++) c2d_client_destroy(dev[i]);
	c2d_client_destroy(late);
	c2d_client_destroy(app);
	c2d_client_destroy(mon);
	ck_assert_int_eq(c2d_broker_kill9(b), 0);
	ck_assert_int_eq(c2d_broker_restart(b), 0);
	for(i = 0; i < 3; i++){
		snprintf(devid, sizeof(devid), "db%d", i);
		dev[i] = fx_device(b, NULL, devid, V5);
	}
	for(i = 0; i < 3; i++){
		topic = c2d_strf("$c2d/db%d/in/#", i);
		ck_assert_msg(c2d_client_expect_none(dev[i], topic, 500), "db%d got a delivery again", i);
		free(topic);
		c2d_client_destroy(dev[i]);
	}
	c2d_msg_free(call);
	c2d_msg_free(push);
	c2d_broker_cleanup(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("messages");
	TCase *tc = tcase_create("broker");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, accepted_delivered_completed_v5);
	tcase_add_test(tc, v311_device_answers_by_topic);
	tcase_add_test(tc, qos0_answers_settle);
	tcase_add_test(tc, fifo_across_reconnect);
	tcase_add_test(tc, inflight_one_is_strict_sequence);
	tcase_add_test(tc, ttl_expiry_while_offline);
	tcase_add_test(tc, redelivery_after_missed_ack);
	tcase_add_test(tc, dead_after_max_deliveries);
	tcase_add_test(tc, rejected_with_device_status);
	tcase_add_test(tc, queue_full_is_429);
	tcase_add_test(tc, duplicate_queued_once);
	tcase_add_test(tc, restart_loses_nothing);
	tcase_add_test(tc, kill9_loses_nothing);
	tcase_add_test(tc, invalid_ttl_is_400);
	tcase_add_test(tc, cli_example);
	tcase_add_test(tc, answer_burst_mixed);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
