/* Store write failures against the real broker: while the disk refuses
 * LMDB's data page writes (ENOSPC, injected by test/broker/faultfs.c, see
 * c2d_broker_fail_writes), the device answers of a loop pass (group-committed
 * at TICK) fail together. They are logged as not stored, the deliveries they
 * answered are repeated once the disk takes writes again, and every command
 * ends completed exactly once. Meanwhile new commands get 503 with nothing
 * changed, reads and lightweight RPC keep working, nobody is disconnected,
 * and the store opens intact after a restart. Each test runs with sync
 * full, meta and periodic. */
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
#define DEV "d1"
#define N 3 /* queued messages */
#define LOST "device answer(s) were not stored; those deliveries will be repeated"

/* Each test runs once per durability mode (a loop test, _i). */
static const char *const opts_by_sync[] = {
	"plugin_opt_ack_timeout 1\nplugin_opt_sync full\n",
	"plugin_opt_ack_timeout 1\nplugin_opt_sync meta\n",
	"plugin_opt_ack_timeout 1\nplugin_opt_sync periodic\n",
};
#define SYNC_MODES ((int)(sizeof(opts_by_sync) / sizeof(opts_by_sync[0])))

/* The next delivery on $c2d/d1/in/msg/+ is message qK with payload pK. */
static void expect_delivery(struct c2d_client *dev, int k)
{
	char topic[32], payload[8];
	struct c2d_msg *m = c2d_client_wait_msg(dev, "$c2d/" DEV "/in/#", FX_WAIT_MS);

	snprintf(topic, sizeof(topic), "$c2d/" DEV "/in/msg/q%d", k);
	snprintf(payload, sizeof(payload), "p%d", k);
	ck_assert_msg(m != NULL, "no delivery of q%d", k);
	ck_assert_str_eq(m->topic, topic);
	ck_assert_str_eq(m->payload, payload);
	c2d_msg_free(m);
}

/* Sends message pK to d1 with correlation cK; the reply must be `status`
 * (with id qK when 202). */
static void send_msg(struct c2d_client *app, int k, const char *status)
{
	char corr[8], payload[8], id[8];
	struct c2d_msg *m;
	cJSON *j;

	snprintf(corr, sizeof(corr), "c%d", k);
	snprintf(payload, sizeof(payload), "p%d", k);
	snprintf(id, sizeof(id), "q%d", k);
	m = fx_send(app, "$c2d/" DEV "/msg", payload, corr, NULL, status);
	if(!strcmp(status, "202")){
		j = fx_json(m);
		ck_assert_str_eq(cJSON_GetObjectItem(j, "id")->valuestring, id);
		cJSON_Delete(j);
	}
	c2d_msg_free(m);
}

/* Answers qK..qN with 200 without waiting for the PUBACKs: one burst. */
static void answer_all(struct c2d_client *dev, int from, int to)
{
	char topic[40];
	int k;

	for(k = from; k <= to; k++){
		snprintf(topic, sizeof(topic), "$c2d/" DEV "/out/res/q%d", k);
		ck_assert_int_eq(mosquitto_publish(c2d_client_mosq(dev), NULL, topic, 0, NULL, 1, false), MOSQ_ERR_SUCCESS);
	}
}

/* The final feedback for cK: completed, 200. */
static void expect_completed(struct c2d_client *app, int k)
{
	char corr[8], id[8];
	struct c2d_msg *m;
	cJSON *j;

	snprintf(corr, sizeof(corr), "c%d", k);
	snprintf(id, sizeof(id), "q%d", k);
	m = fx_reply(app, corr, "200");
	j = fx_json(m);
	ck_assert_str_eq(cJSON_GetObjectItem(j, "id")->valuestring, id);
	ck_assert_str_eq(cJSON_GetObjectItem(j, "state")->valuestring, "completed");
	cJSON_Delete(j);
	c2d_msg_free(m);
}

/* A v3.1.1 application's message is refused too: it cannot get the 503,
 * so c2d.device.refused says what was refused and why. */
static void expect_refused_v3(struct c2d_broker *b, const char *why)
{
	struct c2d_client *mon = fx_monitor(b, "$c2d/" DEV "/events/device");
	struct c2d_client *app3 = c2d_client_new_connected(b, "app3", MQTT_PROTOCOL_V311, true);
	const cJSON *data;
	cJSON *ev;

	ck_assert_ptr_nonnull(app3);
	ck_assert_int_eq(c2d_client_publish(app3, "$c2d/" DEV "/msg", "from 3.1.1", -1, 1, false, NULL), 0);
	ev = fx_expect_event(mon, DEV, "device", "c2d.device.refused");
	data = cJSON_GetObjectItem(ev, "data");
	ck_assert_int_eq(cJSON_GetObjectItem(data, "status")->valueint, 503);
	ck_assert_str_eq(cJSON_GetObjectItem(data, "sender")->valuestring, "app3");
	ck_assert_str_eq(cJSON_GetObjectItem(data, "error")->valuestring, why);
	cJSON_Delete(ev);
	c2d_client_destroy(app3);
	c2d_client_destroy(mon);
}

START_TEST(answers_not_stored_are_repeated)
{
	struct c2d_broker_opts o = {.plugin_opts = opts_by_sync[_i], .write_faults = true};
	struct c2d_broker *b = c2d_broker_start(&o);
	struct c2d_client *app, *dev;
	mosquitto_property *rq = NULL;
	struct c2d_msg *call, *m;
	int k;

	ck_assert_ptr_nonnull(b);
	app = fx_app(b, FX_REPLIES);
	dev = fx_device(b, NULL, DEV, V5);
	for(k = 1; k <= N; k++) send_msg(app, k, "202");
	for(k = 1; k <= N; k++) expect_delivery(dev, k);
	mosquitto_property_add_string(&rq, MQTT_PROP_RESPONSE_TOPIC, FX_REPLIES);
	mosquitto_property_add_binary(&rq, MQTT_PROP_CORRELATION_DATA, "rpc-1", 5);
	ck_assert_int_eq(mosquitto_publish_v5(c2d_client_mosq(app), NULL, "$c2d/" DEV "/rpc/ping", 4, "ping", 1, false, rq),
			MOSQ_ERR_SUCCESS);
	mosquitto_property_free_all(&rq);
	call = c2d_client_wait_msg(dev, "$c2d/" DEV "/in/rpc/ping/+", FX_WAIT_MS);
	ck_assert_ptr_nonnull(call);

	/* the disk fills up: the answers' commit fails */
	c2d_broker_log_mark(b);
	c2d_broker_fail_writes(b, C2D_WRITES_ENOSPC);
	answer_all(dev, 1, N);
	ck_assert_int_eq(mosquitto_publish(c2d_client_mosq(dev), NULL, call->response_topic, 4, "pong", 1, false),
			MOSQ_ERR_SUCCESS);
	ck_assert_msg(c2d_broker_wait_log(b, LOST, FX_WAIT_MS), "the lost answers were not logged");
	ck_assert(c2d_broker_log_contains(b, "LMDB commit failed: No space left on device"));
	/* lightweight RPC needs no store: its reply still arrives */
	m = c2d_client_wait_corr(app, FX_REPLIES, "rpc-1", 5, FX_WAIT_MS);
	ck_assert_msg(m != NULL, "no reply to the lightweight RPC");
	ck_assert_str_eq(m->payload, "pong");
	c2d_msg_free(m);
	/* no feedback for answers that were not stored */
	ck_assert(c2d_client_expect_none(app, FX_REPLIES, 300));
	/* writes: 503 with nothing changed; reads work; nobody is disconnected */
	send_msg(app, N + 1, "503");
	c2d_msg_free(fx_request(app, "$c2d/" DEV "/twin/desired", "{\"mode\":\"eco\"}", "503"));
	expect_refused_v3(b, "store unavailable: nothing was changed");
	m = fx_request(app, "$c2d/" DEV "/twin/get", "", "200");
	ck_assert_ptr_null(strstr(m->payload, "eco"));
	c2d_msg_free(m);
	ck_assert(c2d_client_is_connected(app));
	ck_assert(c2d_client_is_connected(dev));

	/* space is freed: the answered deliveries come again (ack_timeout 1 s) */
	c2d_broker_fail_writes(b, C2D_WRITES_OK);
	c2d_client_inbox_clear(dev);
	for(k = 1; k <= N; k++) expect_delivery(dev, k);
	answer_all(dev, 1, N);
	for(k = 1; k <= N; k++) expect_completed(app, k);
	/* the refused message took no id */
	send_msg(app, N + 1, "202");
	expect_delivery(dev, N + 1);
	answer_all(dev, N + 1, N + 1);
	expect_completed(app, N + 1);
	ck_assert(c2d_client_expect_none(app, FX_REPLIES, 300));

	/* the store opens intact: nothing is delivered again, the twin works */
	c2d_client_destroy(dev);
	ck_assert_int_eq(c2d_broker_restart(b), 0);
	ck_assert(!c2d_broker_log_contains(b, "LMDB"));
	dev = fx_device(b, NULL, DEV, V5);
	ck_assert(c2d_client_expect_none(dev, "$c2d/" DEV "/in/msg/#", 1500));
	c2d_client_destroy(app);
	app = fx_app(b, FX_REPLIES);
	c2d_msg_free(fx_request(app, "$c2d/" DEV "/twin/desired", "{\"mode\":\"eco\"}", "200"));

	c2d_msg_free(call);
	c2d_client_destroy(dev);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* A meta page write fails (EIO): LMDB marks its environment unusable
 * (MDB_PANIC) and every store call fails. The plugin answers 503, reopens
 * the environment (at most once a second) and, once the disk takes writes
 * again, works on with nothing acknowledged lost. */
START_TEST(failed_environment_is_reopened)
{
	struct c2d_broker_opts o = {.plugin_opts = opts_by_sync[_i], .write_faults = true};
	struct c2d_broker *b = c2d_broker_start(&o);
	struct c2d_client *app, *dev;
	struct c2d_msg *m;
	bool seen[3] = {false, false, false};
	char topic[32];
	uint64_t until;
	int k, i;

	ck_assert_ptr_nonnull(b);
	app = fx_app(b, FX_REPLIES);
	dev = fx_device(b, NULL, DEV, V5);
	send_msg(app, 1, "202");
	expect_delivery(dev, 1);

	c2d_broker_log_mark(b);
	c2d_broker_fail_writes(b, C2D_WRITES_META);
	answer_all(dev, 1, 1);
	ck_assert_msg(c2d_broker_wait_log(b, "failed (a write did not reach the disk)", FX_WAIT_MS),
			"the failed environment was not logged");
	send_msg(app, 2, "503");
	ck_assert(c2d_client_is_connected(app));
	ck_assert(c2d_client_is_connected(dev));

	/* the disk works again: within a few seconds writes are accepted */
	c2d_broker_fail_writes(b, C2D_WRITES_OK);
	until = c2d_now_ms() + 5000;
	for(i = 0; ; i++){
		char patch[32];
		const char *st;

		snprintf(patch, sizeof(patch), "{\"n\":%d}", i);
		m = fx_request(app, "$c2d/" DEV "/twin/desired", patch, NULL);
		st = c2d_msg_user_prop(m, "status");
		k = st && !strcmp(st, "200");
		c2d_msg_free(m);
		if(k) break;
		ck_assert_msg(c2d_now_ms() < until, "the store did not come back");
		c2d_sleep_ms(200);
	}
	ck_assert(c2d_broker_log_contains(b, "reopened: the store works again"));
	send_msg(app, 2, "202");
	/* q1's answer was not stored: it comes again, next to the new q2 */
	while(!seen[1] || !seen[2]){
		m = c2d_client_wait_msg(dev, "$c2d/" DEV "/in/msg/+", FX_WAIT_MS);
		ck_assert_msg(m != NULL, "missing deliveries (q1 %d, q2 %d)", seen[1], seen[2]);
		k = m->topic[strlen(m->topic) - 1] - '0';
		ck_assert_msg(k == 1 || k == 2, "unexpected delivery %s", m->topic);
		seen[k] = true;
		c2d_msg_free(m);
	}
	answer_all(dev, 1, 2);
	/* feedback in any order: both completed, each once */
	for(i = 0; i < 2; i++){
		m = c2d_client_wait_msg(app, FX_REPLIES, FX_WAIT_MS);
		ck_assert_msg(m != NULL, "missing final feedback");
		ck_assert_str_eq(c2d_msg_user_prop(m, "status"), "200");
		ck_assert_ptr_nonnull(strstr(m->payload, "\"completed\""));
		c2d_msg_free(m);
	}
	ck_assert(c2d_client_expect_none(app, FX_REPLIES, 300));

	/* the file is intact: after a restart nothing is delivered again */
	c2d_client_destroy(dev);
	ck_assert_int_eq(c2d_broker_restart(b), 0);
	ck_assert(!c2d_broker_log_contains(b, "LMDB"));
	dev = fx_device(b, NULL, DEV, V5);
	snprintf(topic, sizeof(topic), "$c2d/%s/in/msg/#", DEV);
	ck_assert(c2d_client_expect_none(dev, topic, 1500));

	c2d_client_destroy(dev);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("faults");
	TCase *tc = tcase_create("broker");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, answers_not_stored_are_repeated, 0, SYNC_MODES);
	tcase_add_loop_test(tc, failed_environment_is_reopened, 0, SYNC_MODES);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
