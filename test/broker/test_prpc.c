/* Persistent RPC against the real broker: stored for an offline device and
 * delivered on connect, the device's answer forwarded as the result, 202 then
 * the result, timeouts with retries, 4xx/5xx failures, expiry while offline,
 * duplicates, and a pending call surviving a broker restart. */
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
#define RPC_EVENTS "$c2d/+/events/rpc" /* the monitor's filter */

/* Publish a persistent RPC `method` to dev with params, correlation data
 * corr and extra user properties (key, value, ..., NULL; may be NULL). */
static void publish_rpc(struct c2d_client *app, const char *dev, const char *method, const char *params,
		const char *corr, const char *const *extra)
{
	const char *user[16] = {"persistent", "true"};
	struct c2d_props p = {.response_topic = FX_REPLIES, .corr = corr, .user = user};
	mosquitto_property *props;
	char *topic = c2d_strf("$c2d/%s/rpc/%s", dev, method);
	size_t n = 2;

	while(extra && *extra && n < 14) user[n++] = *extra++;
	props = c2d_props_build(&p);
	ck_assert_int_lt(c2d_client_publish(app, topic, params, -1, 1, false, props), 0x80);
	mosquitto_property_free_all(&props);
	free(topic);
}

/* publish_rpc, expecting 202 {"id":want_id}. */
static void call(struct c2d_client *app, const char *dev, const char *method, const char *params,
		const char *corr, const char *const *extra, const char *want_id)
{
	char *want = c2d_strf("{\"id\":\"%s\",\"status\":202}", want_id);
	struct c2d_msg *m;

	publish_rpc(app, dev, method, params, corr, extra);
	m = fx_reply(app, corr, "202");
	ck_assert_str_eq(m->payload, want);
	c2d_msg_free(m);
	free(want);
}

/* The next delivery to the device: rpc `method`/`id` with params. Caller frees. */
static struct c2d_msg *expect_call(struct c2d_client *dev, const char *devid, const char *method, const char *id,
		const char *params)
{
	char *filter = c2d_strf("$c2d/%s/in/#", devid), *topic = c2d_strf("$c2d/%s/in/rpc/%s/%s", devid, method, id);
	struct c2d_msg *m = c2d_client_wait_msg(dev, filter, FX_WAIT_MS);

	ck_assert_msg(m != NULL, "no delivery to %s (want %s)", devid, topic);
	ck_assert_str_eq(m->topic, topic);
	ck_assert_str_eq(m->payload, params);
	free(filter);
	free(topic);
	return m;
}

/* The device answers id with status (topic level) and a payload. */
static void answer(struct c2d_client *dev, const char *devid, const char *id, int status, const char *payload,
		const char *content_type)
{
	char *topic = c2d_strf("$c2d/%s/out/res/%s/%d", devid, id, status);
	struct c2d_props p = {.content_type = content_type};
	mosquitto_property *props = content_type ? c2d_props_build(&p) : NULL;

	ck_assert_int_lt(c2d_client_publish(dev, topic, payload, payload ? -1 : 0, 1, false, props), 0x80);
	mosquitto_property_free_all(&props);
	free(topic);
}

/* Events of one RPC, in order, as "type type ..." (skips other ids). */
static void expect_events(struct c2d_client *mon, const char *id, const char *const *types)
{
	struct c2d_msg *m;
	cJSON *ev;
	bool mine;

	while(*types){
		m = c2d_client_wait_msg(mon, NULL, FX_WAIT_MS);
		ck_assert_msg(m != NULL, "no event %s for %s", *types, id);
		ev = cJSON_Parse(m->payload);
		ck_assert_ptr_nonnull(ev);
		mine = strcmp(cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "data"), "id")->valuestring, id) == 0;
		if(mine){
			ck_assert_str_eq(cJSON_GetObjectItem(ev, "type")->valuestring, *types);
			types++;
		}
		cJSON_Delete(ev);
		c2d_msg_free(m);
	}
}

/* Offline device: 202 at once, delivered on connect, the device's answer
 * (bytes, status, content type) is the result. */
START_TEST(offline_then_delivered_and_answered)
{
	static const char *const ev[] = {"c2d.rpc.queued", "c2d.rpc.sent", "c2d.rpc.successful", NULL};
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *mon = fx_monitor(b, RPC_EVENTS), *dev;
	struct c2d_msg *m;

	call(app, "r1", "reboot", "{\"delay\":5}", "c1", NULL, "q1");
	dev = fx_client(b, "r1", V5);
	m = expect_call(dev, "r1", "reboot", "q1", "{\"delay\":5}");
	ck_assert(c2d_msg_corr_eq(m, "q1", 2));
	ck_assert_str_eq(m->response_topic, "$c2d/r1/out/res/q1");
	c2d_msg_free(m);
	answer(dev, "r1", "q1", 200, "{\"rebooting\":true}", "application/json");
	m = fx_reply(app, "c1", "200");
	ck_assert_str_eq(m->payload, "{\"rebooting\":true}");
	ck_assert_str_eq(m->content_type, "application/json");
	c2d_msg_free(m);
	expect_events(mon, "q1", ev);
	ck_assert(c2d_client_expect_none(dev, "$c2d/r1/in/#", 300));

	c2d_client_destroy(dev);
	c2d_client_destroy(mon);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* 202 from the device: DELIVERED, then the result. */
START_TEST(accepted_then_result)
{
	static const char *const ev[] = {"c2d.rpc.queued", "c2d.rpc.sent", "c2d.rpc.delivered", "c2d.rpc.successful", NULL};
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *mon = fx_monitor(b, RPC_EVENTS), *dev = fx_client(b, "r2", V311);
	struct c2d_msg *m;

	call(app, "r2", "update", "fw-2.1", "c1", NULL, "q1");
	c2d_msg_free(expect_call(dev, "r2", "update", "q1", "fw-2.1"));
	answer(dev, "r2", "q1", 202, NULL, NULL);
	ck_assert(c2d_client_expect_none(app, FX_REPLIES, 300)); /* no result yet */
	answer(dev, "r2", "q1", 200, "done", NULL);
	m = fx_reply(app, "c1", "200");
	ck_assert_str_eq(m->payload, "done");
	c2d_msg_free(m);
	expect_events(mon, "q1", ev);

	c2d_client_destroy(dev);
	c2d_client_destroy(mon);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* timeout 300 ms, retries 1: two deliveries, then 504. */
START_TEST(timeout_with_retry)
{
	static const char *const opts[] = {"timeout", "300", "retries", "1", NULL};
	static const char *const ev[] = {"c2d.rpc.queued", "c2d.rpc.sent", "c2d.rpc.retrying", "c2d.rpc.sent",
		"c2d.rpc.timeout", NULL};
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *mon = fx_monitor(b, RPC_EVENTS), *dev = fx_client(b, "r3", V5);
	uint64_t t0 = c2d_now_ms();

	call(app, "r3", "ping", "1", "c1", opts, "q1");
	c2d_msg_free(expect_call(dev, "r3", "ping", "q1", "1"));
	c2d_msg_free(expect_call(dev, "r3", "ping", "q1", "1"));
	fx_expect_final(app, "c1", "q1", "timeout", 504);
	ck_assert_uint_ge(c2d_now_ms() - t0, 550);
	expect_events(mon, "q1", ev);
	ck_assert(c2d_client_expect_none(dev, "$c2d/r3/in/#", 400));
	/* a late answer changes nothing */
	answer(dev, "r3", "q1", 200, "late", NULL);
	ck_assert(c2d_client_expect_none(app, FX_REPLIES, 300));

	c2d_client_destroy(dev);
	c2d_client_destroy(mon);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* 4xx fails at once; 5xx is retried while retries remain, then fails, both
 * with the device's status and bytes. */
START_TEST(failed_with_device_answer)
{
	static const char *const retry1[] = {"retries", "1", NULL};
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *mon = fx_monitor(b, RPC_EVENTS), *dev = fx_client(b, "r4", V311);
	struct c2d_msg *m;

	call(app, "r4", "set", "x", "c1", NULL, "q1");
	c2d_msg_free(expect_call(dev, "r4", "set", "q1", "x"));
	answer(dev, "r4", "q1", 400, "bad params", NULL);
	m = fx_reply(app, "c1", "400");
	ck_assert_str_eq(m->payload, "bad params");
	c2d_msg_free(m);

	call(app, "r4", "set", "y", "c2", retry1, "q2");
	c2d_msg_free(expect_call(dev, "r4", "set", "q2", "y"));
	answer(dev, "r4", "q2", 503, "busy", NULL);
	c2d_msg_free(expect_call(dev, "r4", "set", "q2", "y"));
	answer(dev, "r4", "q2", 500, "broken", NULL);
	m = fx_reply(app, "c2", "500");
	ck_assert_str_eq(m->payload, "broken");
	c2d_msg_free(m);
	c2d_msg_free(c2d_client_wait_msg(mon, NULL, FX_WAIT_MS)); /* q1 queued */
	ck_assert(c2d_client_expect_none(dev, "$c2d/r4/in/#", 300));

	c2d_client_destroy(dev);
	c2d_client_destroy(mon);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* ttl 1 while offline: EXPIRED 410, never delivered. */
START_TEST(expired_while_offline)
{
	static const char *const ttl1[] = {"ttl", "1", NULL};
	static const char *const ev[] = {"c2d.rpc.queued", "c2d.rpc.expired", NULL};
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *mon = fx_monitor(b, RPC_EVENTS), *dev = fx_client(b, "r5", V5);

	fx_offline(dev);
	call(app, "r5", "reboot", "", "c1", ttl1, "q1");
	fx_expect_final(app, "c1", "q1", "expired", 410);
	expect_events(mon, "q1", ev);
	ck_assert_int_eq(c2d_client_connect(dev, b), 0);
	ck_assert(c2d_client_expect_none(dev, "$c2d/r5/in/#", 400));

	c2d_client_destroy(dev);
	c2d_client_destroy(mon);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* Pending across a restart, both waiting (QUEUED) and delivered but
 * unanswered (SENT): delivered again after the restart, answered then. */
START_TEST(survives_restart)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *dev = fx_client(b, "r6", V5);
	struct c2d_msg *m;

	call(app, "r6", "a", "1", "c1", NULL, "q1");
	c2d_msg_free(expect_call(dev, "r6", "a", "q1", "1"));
	fx_offline(dev);
	call(app, "r6", "b", "2", "c2", NULL, "q2");
	c2d_client_destroy(app);
	ck_assert_int_eq(c2d_broker_restart(b), 0);

	app = fx_app(b, FX_REPLIES);
	ck_assert_int_eq(c2d_client_connect(dev, b), 0);
	c2d_msg_free(expect_call(dev, "r6", "a", "q1", "1"));
	c2d_msg_free(expect_call(dev, "r6", "b", "q2", "2"));
	answer(dev, "r6", "q1", 200, "A", NULL);
	answer(dev, "r6", "q2", 201, "B", NULL);
	m = fx_reply(app, "c1", "200");
	ck_assert_str_eq(m->payload, "A");
	c2d_msg_free(m);
	m = fx_reply(app, "c2", "201");
	ck_assert_str_eq(m->payload, "B");
	c2d_msg_free(m);

	c2d_client_destroy(dev);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* A delivered (202) RPC whose device was offline past its timeout gets the
 * timeout afresh after the reconnect instead of timing out or being stuck. */
START_TEST(delivered_timeout_restarts_on_reconnect)
{
	static const char *const opts[] = {"timeout", "500", NULL};
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *dev = fx_client(b, "r7", V311);
	struct c2d_msg *m;

	call(app, "r7", "job", "j", "c1", opts, "q1");
	c2d_msg_free(expect_call(dev, "r7", "job", "q1", "j"));
	answer(dev, "r7", "q1", 202, NULL, NULL);
	fx_offline(dev);
	c2d_sleep_ms(700);
	ck_assert(c2d_client_expect_none(app, FX_REPLIES, 0));
	ck_assert_int_eq(c2d_client_connect(dev, b), 0);
	ck_assert(c2d_client_expect_none(dev, "$c2d/r7/in/#", 200)); /* not delivered again */
	answer(dev, "r7", "q1", 200, "ok", NULL);
	m = fx_reply(app, "c1", "200");
	ck_assert_str_eq(m->payload, "ok");
	c2d_msg_free(m);

	/* and without an answer it times out */
	call(app, "r7", "job", "k", "c2", opts, "q2");
	c2d_msg_free(expect_call(dev, "r7", "job", "q2", "k"));
	answer(dev, "r7", "q2", 202, NULL, NULL);
	fx_expect_final(app, "c2", "q2", "timeout", 504);

	c2d_client_destroy(dev);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

START_TEST(duplicate_and_bad_options)
{
	static const char *const too_many[] = {"retries", "99", NULL};
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *dev;
	struct c2d_msg *m;

	call(app, "r8", "once", "p", "c1", NULL, "q1");
	publish_rpc(app, "r8", "once", "p", "c1", NULL); /* re-sent: not queued again */
	m = fx_reply(app, "c1", "202");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"duplicate\":true"));
	ck_assert_ptr_nonnull(strstr(m->payload, "\"id\":\"q1\""));
	c2d_msg_free(m);
	call(app, "r8", "once", "p", "c2", NULL, "q2");
	publish_rpc(app, "r8", "once", "p", "c3", too_many); /* over rpc_retries_max */
	c2d_msg_free(fx_reply(app, "c3", "400"));

	dev = fx_client(b, "r8", V311);
	c2d_msg_free(expect_call(dev, "r8", "once", "q1", "p"));
	c2d_msg_free(expect_call(dev, "r8", "once", "q2", "p"));
	ck_assert(c2d_client_expect_none(dev, "$c2d/r8/in/#", 300));

	c2d_client_destroy(dev);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("prpc");
	TCase *tc = tcase_create("broker");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, offline_then_delivered_and_answered);
	tcase_add_test(tc, accepted_then_result);
	tcase_add_test(tc, timeout_with_retry);
	tcase_add_test(tc, failed_with_device_answer);
	tcase_add_test(tc, expired_while_offline);
	tcase_add_test(tc, survives_restart);
	tcase_add_test(tc, delivered_timeout_restarts_on_reconnect);
	tcase_add_test(tc, duplicate_and_bad_options);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
