/* Cloud-to-device messages against the real broker, the queue's failure
 * paths and durability: TTL expiry while offline, redelivery after a missed
 * ack, dead letters, rejection, the queue bound, duplicate suppression,
 * restart and kill -9, bad ttl. Delivery itself is test_messages.c. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <mqtt_protocol.h>

#include "fixture.h"
#include "harness.h"
#include "messages.h"
#include "../check_main.h"

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
	fx_expect_final(app, "c1", "q1", "expired", 410);
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
	fx_expect_final(app, "c1", "q1", "completed", 200);

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
	fx_expect_final(app, "c1", "q1", "dead", 504);
	expect_event(mon, "c2d.msg.dead", "q1");
	ck_assert(c2d_client_expect_none(dev, "$c2d/d1/in/#", 200));

	/* the same by timeouts: two unanswered deliveries, then dead */
	accept_msg(app, "d1", "y", "c2", "q2");
	expect_delivery(dev, "d1", "q2", "y");
	expect_delivery(dev, "d1", "q2", "y");
	fx_expect_final(app, "c2", "q2", "dead", 504);

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
	fx_expect_final(app, "c1", "q1", "rejected", 422);
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
	fx_expect_final(app, "c1", "q1", "completed", 200);
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
	fx_expect_final(app, "same", "q1", "completed", 200);
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
	fx_expect_final(app, "c3", "q3", "completed", 200);
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
int main(void)
{
	Suite *s = suite_create("messages_queue");
	TCase *tc = tcase_create("broker");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, ttl_expiry_while_offline);
	tcase_add_test(tc, redelivery_after_missed_ack);
	tcase_add_test(tc, dead_after_max_deliveries);
	tcase_add_test(tc, rejected_with_device_status);
	tcase_add_test(tc, queue_full_is_429);
	tcase_add_test(tc, duplicate_queued_once);
	tcase_add_test(tc, restart_loses_nothing);
	tcase_add_test(tc, kill9_loses_nothing);
	tcase_add_test(tc, invalid_ttl_is_400);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
