/* Device-originated calls against the real broker: the built-in time and twin
 * methods (v5 with correlation data, v3.1.1 by topic), custom methods
 * forwarded to an application and its answer relayed to the device, the 504
 * when nobody answers, duplicate, late and unknown answers, a clean stop with
 * a call waiting, and the one-writer rule on out/call. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <mqtt_protocol.h>

#include "fixture.h"
#include "harness.h"
#include "../check_main.h"

#define V5 MQTT_PROTOCOL_V5
#define V311 MQTT_PROTOCOL_V311

#define WAIT_MS 3000
#define CALLS "$c2d/+/call/#" /* what the application serves */
#define QUIET_MS 500

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* The device publishes $c2d/{id}/out/call/{method}/{rid}; corr (v5) may be
 * NULL. Returns the PUBACK reason code. */
static int call(struct c2d_client *d, const char *dev, const char *method, const char *rid, const char *payload,
		const char *corr)
{
	mosquitto_property *props = c2d_props_build(&(struct c2d_props){.corr = corr});
	char *topic = c2d_strf("$c2d/%s/out/call/%s/%s", dev, method, rid);
	int rc = c2d_client_publish(d, topic, payload, -1, 1, false, props);

	mosquitto_property_free_all(&props);
	free(topic);
	return rc;
}

/* Wait for the answer to call rid on in/reply/{rid}/{status}; for a v5 device
 * also check the status property and the echoed correlation data (corr may
 * be NULL: none). Caller frees. */
static struct c2d_msg *wait_answer(struct c2d_client *d, const char *rid, const char *status, const char *corr)
{
	char *topic = c2d_strf("$c2d/%s/in/reply/%s/%s", c2d_client_id(d), rid, status);
	struct c2d_msg *m = c2d_client_wait_msg(d, topic, WAIT_MS);

	ck_assert_msg(m != NULL, "no answer on %s", topic);
	if(corr){
		ck_assert_msg(c2d_msg_corr_eq(m, corr, (int)strlen(corr)), "correlation data not echoed");
	}else{
		ck_assert_ptr_null(m->corr);
	}
	if(m->props){
		ck_assert_pstr_eq(c2d_msg_user_prop(m, "status"), status);
	}
	free(topic);
	return m;
}

/* Wait for a forwarded call at the application and check it is an MQTT 5
 * request on $c2d/{dev}/call/{method} answered on $c2d/{dev}/callres/c{n}. */
static struct c2d_msg *wait_forwarded(struct c2d_client *app, const char *dev, const char *method)
{
	char *topic = c2d_strf("$c2d/%s/call/%s", dev, method);
	char *prefix = c2d_strf("$c2d/%s/callres/c", dev);
	struct c2d_msg *m = c2d_client_wait_msg(app, topic, WAIT_MS);
	const char *cid;

	ck_assert_msg(m != NULL, "no forwarded call on %s", topic);
	ck_assert_ptr_nonnull(m->response_topic);
	ck_assert_msg(strncmp(m->response_topic, prefix, strlen(prefix)) == 0, "response topic %s", m->response_topic);
	cid = strrchr(m->response_topic, '/') + 1;
	ck_assert(c2d_msg_corr_eq(m, cid, (int)strlen(cid)));
	free(prefix);
	free(topic);
	return m;
}

/* The application answers a forwarded call (status NULL: no status
 * property). Returns the PUBACK reason code. */
static int serve(struct c2d_client *app, const struct c2d_msg *fwd, const char *status, const char *payload)
{
	struct c2d_props p = {.corr = fwd->corr, .corr_len = fwd->corr_len,
		.user = status ? (const char *const[]){"status", status, NULL} : NULL};
	mosquitto_property *props = c2d_props_build(&p);
	int rc = c2d_client_publish(app, fwd->response_topic, payload, -1, 1, false, props);

	mosquitto_property_free_all(&props);
	return rc;
}

static void check_time(int protocol)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *d = c2d_client_new_connected(b, "dev-clock", protocol, true);
	const char *corr = protocol == V5 ? "clock-corr" : NULL;
	struct c2d_msg *m;
	uint64_t before, after;
	double t;
	cJSON *j;

	ck_assert_ptr_nonnull(d);
	before = wall_ms();
	ck_assert_int_lt(call(d, "dev-clock", "time", "r1", "", corr), 0x80);
	m = wait_answer(d, "r1", "200", corr);
	after = wall_ms();
	j = cJSON_Parse(m->payload);
	ck_assert_msg(j && cJSON_IsNumber(cJSON_GetObjectItem(j, "time")), "payload %s", m->payload);
	t = cJSON_GetObjectItem(j, "time")->valuedouble;
	/* the broker's clock is this machine's clock; allow for a clock step */
	ck_assert_msg(t >= (double)before - 1000 && t <= (double)after + 1000, "time %.0f not in [%llu, %llu]", t,
			(unsigned long long)before, (unsigned long long)after);
	cJSON_Delete(j);
	c2d_msg_free(m);
	ck_assert(c2d_client_expect_none(d, "$c2d/dev-clock/in/#", QUIET_MS)); /* exactly one */
	c2d_client_destroy(d);
	c2d_broker_cleanup(b);
}

START_TEST(time_v5)
{
	check_time(V5);
}
END_TEST

START_TEST(time_v311)
{
	check_time(V311);
}
END_TEST

START_TEST(twin_full)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_client(b, "app", V5);
	struct c2d_client *d = fx_client(b, "dev-tw", V5);
	struct c2d_msg *m;
	cJSON *j, *want;

	c2d_msg_free(fx_request(app, "$c2d/dev-tw/twin/desired", "{\"a\":1,\"b\":2}", "200"));
	ck_assert_int_lt(c2d_client_publish(d, "$c2d/dev-tw/out/reported", "{\"a\":1}", -1, 1, false, NULL), 0x80);

	ck_assert_int_lt(call(d, "dev-tw", "twin", "r2", "", "twin-corr"), 0x80);
	m = wait_answer(d, "r2", "200", "twin-corr");
	ck_assert_pstr_eq(m->content_type, "application/json");
	j = cJSON_Parse(m->payload);
	ck_assert_msg(j != NULL, "payload %s", m->payload);
	ck_assert_msg(cJSON_GetObjectItem(j, "$metadata") && cJSON_IsObject(cJSON_GetObjectItem(j, "$metadata")),
			"no $metadata: %s", m->payload);
	cJSON_DeleteItemFromObjectCaseSensitive(j, "$metadata");
	want = cJSON_Parse("{\"desired\":{\"a\":1,\"b\":2},\"reported\":{\"a\":1},\"delta\":{\"b\":2},"
			"\"version\":{\"desired\":1,\"reported\":1},\"info\":{}}");
	ck_assert_msg(cJSON_Compare(j, want, true), "twin %s", m->payload);
	cJSON_Delete(want);
	cJSON_Delete(j);
	c2d_msg_free(m);
	c2d_client_destroy(d);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* A custom method reaches the application as an MQTT 5 request; its answer
 * (bytes, status 201) reaches the device; a second answer is dropped. */
static void check_forward(int protocol)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_subscriber(b, "app", CALLS);
	struct c2d_client *d = c2d_client_new_connected(b, "dev-f", protocol, true);
	const char *corr = protocol == V5 ? "dev-corr-3" : NULL;
	struct c2d_msg *fwd, *m;

	ck_assert_ptr_nonnull(d);
	ck_assert_int_lt(call(d, "dev-f", "provision", "r3", "{\"model\":\"x1\"}", corr), 0x80);
	fwd = wait_forwarded(app, "dev-f", "provision");
	ck_assert_str_eq(fwd->payload, "{\"model\":\"x1\"}");
	ck_assert_int_lt(serve(app, fwd, "201", "{\"token\":\"abc\"}"), 0x80);
	m = wait_answer(d, "r3", "201", corr);
	ck_assert_str_eq(m->payload, "{\"token\":\"abc\"}");
	c2d_msg_free(m);

	/* the same cid again: dropped */
	ck_assert_int_lt(serve(app, fwd, "500", "again"), 0x80);
	ck_assert(c2d_client_expect_none(d, "$c2d/dev-f/in/#", QUIET_MS));
	c2d_msg_free(fwd);

	/* no status property: 200 */
	ck_assert_int_lt(call(d, "dev-f", "provision", "r4", "", corr), 0x80);
	fwd = wait_forwarded(app, "dev-f", "provision");
	ck_assert_int_lt(serve(app, fwd, NULL, "plain"), 0x80);
	c2d_msg_free(fwd);
	m = wait_answer(d, "r4", "200", corr);
	ck_assert_str_eq(m->payload, "plain");
	c2d_msg_free(m);
	c2d_client_destroy(d);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}

START_TEST(forward_v5)
{
	check_forward(V5);
}
END_TEST

START_TEST(forward_v311)
{
	check_forward(V311);
}
END_TEST

/* Nobody answers: 504 after rpc_timeout; an answer after that is dropped. */
START_TEST(no_answer_504)
{
	struct c2d_broker *b = fx_start("plugin_opt_rpc_timeout 500\n");
	struct c2d_client *app = fx_subscriber(b, "app", CALLS);
	struct c2d_client *d = c2d_client_new_connected(b, "dev-w", V5, true);
	struct c2d_msg *fwd, *m;
	uint64_t t0, ms;
	cJSON *j;

	ck_assert_ptr_nonnull(d);
	t0 = c2d_now_ms();
	ck_assert_int_lt(call(d, "dev-w", "approve", "r5", "", "w-corr"), 0x80);
	fwd = wait_forwarded(app, "dev-w", "approve");
	m = wait_answer(d, "r5", "504", "w-corr");
	ms = c2d_now_ms() - t0;
	fprintf(stderr, "rpc_timeout=500: 504 after %llu ms\n", (unsigned long long)ms);
	ck_assert_msg(ms < 3000, "504 took %llu ms", (unsigned long long)ms); /* not the default 10 s */
	j = cJSON_Parse(m->payload);
	ck_assert_msg(j && cJSON_GetObjectItem(j, "status") && cJSON_GetObjectItem(j, "status")->valueint == 504,
			"payload %s", m->payload);
	cJSON_Delete(j);
	c2d_msg_free(m);

	ck_assert_int_lt(serve(app, fwd, "200", "late"), 0x80);
	c2d_msg_free(fwd);
	ck_assert(c2d_client_expect_none(d, "$c2d/dev-w/in/#", QUIET_MS));
	c2d_client_destroy(d);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* Answers to cids that do not exist, or that belong to another device, are
 * dropped; the broker keeps working and the real answer still counts. */
START_TEST(unknown_callres_dropped)
{
	static const char *const bogus[] = {
		"$c2d/dev-u/callres/c999", "$c2d/dev-u/callres/q1", "$c2d/dev-u/callres/zz", "$c2d/dev-u/callres/c0",
		"$c2d/dev-u/callres/c18446744073709551616", "$c2d/other/callres/@CID@",
	};
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_subscriber(b, "app", CALLS);
	struct c2d_client *d = c2d_client_new_connected(b, "dev-u", V5, true);
	struct c2d_msg *fwd, *m;
	size_t i;

	ck_assert_ptr_nonnull(d);
	ck_assert_int_lt(call(d, "dev-u", "ask", "r6", "", NULL), 0x80);
	fwd = wait_forwarded(app, "dev-u", "ask");
	ck_assert_int_eq(strncmp(fwd->response_topic, "$c2d/dev-u/callres/c", 20), 0);
	for(i = 0; i < sizeof(bogus) / sizeof(bogus[0]); i++){
		const char *cid = strrchr(fwd->response_topic, '/') + 1;
		mosquitto_property *props = c2d_props_build(&(struct c2d_props){.corr = cid,
			.user = (const char *const[]){"status", "200", NULL}});
		/* another device's topic with the real cid */
		char *topic = strstr(bogus[i], "@CID@") ? c2d_strf("$c2d/other/callres/%s", cid) : c2d_strf("%s", bogus[i]);
		int rc = c2d_client_publish(app, topic, "bogus", -1, 1, false, props);

		free(topic);
		mosquitto_property_free_all(&props);
		ck_assert_msg(rc >= 0 && rc < 0x80, "%s: %d", bogus[i], rc);
	}
	ck_assert(c2d_client_expect_none(d, "$c2d/dev-u/in/#", QUIET_MS));
	ck_assert(c2d_broker_alive(b));

	ck_assert_int_lt(serve(app, fwd, "200", "real"), 0x80);
	c2d_msg_free(fwd);
	m = wait_answer(d, "r6", "200", NULL);
	ck_assert_str_eq(m->payload, "real");
	c2d_msg_free(m);
	ck_assert_int_lt(call(d, "dev-u", "time", "r7", "", NULL), 0x80);
	c2d_msg_free(wait_answer(d, "r7", "200", NULL));
	c2d_client_destroy(d);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* The broker stops cleanly with a forwarded call waiting. */
START_TEST(stop_with_call_in_flight)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_subscriber(b, "app", CALLS);
	struct c2d_client *d = c2d_client_new_connected(b, "dev-s", V5, true);

	ck_assert_ptr_nonnull(d);
	ck_assert_int_lt(call(d, "dev-s", "hold", "r1", "", NULL), 0x80);
	c2d_msg_free(wait_forwarded(app, "dev-s", "hold"));
	c2d_broker_log_mark(b);
	ck_assert_int_eq(c2d_broker_stop(b), 0);
	ck_assert(c2d_broker_log_contains(b, "mosquitto-c2d unloaded"));
	ck_assert(!c2d_broker_log_contains(b, "still open"));
	c2d_client_destroy(d);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

START_TEST(other_client_cannot_call)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_subscriber(b, "app", CALLS);
	struct c2d_client *victim = c2d_client_new_connected(b, "victim", V5, true);
	struct c2d_client *evil = c2d_client_new_connected(b, "evil", V5, true);

	ck_assert(victim && evil);
	ck_assert_int_eq(call(evil, "victim", "time", "r1", "", NULL), MQTT_RC_NOT_AUTHORIZED);
	ck_assert_int_eq(call(evil, "victim", "unlock", "r2", "", NULL), MQTT_RC_NOT_AUTHORIZED);
	ck_assert(c2d_client_expect_none(app, NULL, QUIET_MS));
	ck_assert(c2d_client_expect_none(victim, NULL, 0));
	ck_assert(c2d_client_expect_none(evil, NULL, 0));
	c2d_client_destroy(evil);
	c2d_client_destroy(victim);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

static Suite *calls_suite(void)
{
	Suite *s = suite_create("calls");
	TCase *tc = tcase_create("calls");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, time_v5);
	tcase_add_test(tc, time_v311);
	tcase_add_test(tc, twin_full);
	tcase_add_test(tc, forward_v5);
	tcase_add_test(tc, forward_v311);
	tcase_add_test(tc, no_answer_504);
	tcase_add_test(tc, unknown_callres_dropped);
	tcase_add_test(tc, stop_with_call_in_flight);
	tcase_add_test(tc, other_client_cannot_call);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return c2d_check_run(calls_suite());
}
