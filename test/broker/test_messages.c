/* Cloud-to-device messages against the real broker: 202 + id, delivery to v5
 * and v3.1.1 devices, QoS 0 answers, FIFO across a reconnect, msg_inflight
 * 1, the CLI example and a burst of mixed answers. The queue's failure
 * paths and durability are test_messages_queue.c. */
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
	fx_expect_final(app, "c1", "q1", "completed", 200);

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
	fx_expect_final(app, "c1", "q1", "completed", 200);
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
		fx_expect_final(app, i ? "c2" : "c1", "q1", "completed", 200);
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
	fx_expect_final(app, "c1", "q1", "completed", 200);

	fx_offline(dev);
	accept_msg(app, "d2", "four", "c4", "q4");
	ck_assert_int_eq(c2d_client_connect(dev, b), 0);
	expect_delivery(dev, "d2", "q2", "two");
	expect_delivery(dev, "d2", "q3", "three");
	expect_delivery(dev, "d2", "q4", "four");
	fx_answer(dev, "d2", "q2", 200);
	fx_answer(dev, "d2", "q3", 200);
	fx_answer(dev, "d2", "q4", 200);
	fx_expect_final(app, "c2", "q2", "completed", 200);
	fx_expect_final(app, "c3", "q3", "completed", 200);
	fx_expect_final(app, "c4", "q4", "completed", 200);
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
	fx_expect_final(app, "c1", "q1", "completed", 200);
	fx_expect_final(app, "c2", "q2", "completed", 200);
	fx_expect_final(app, "c3", "q3", "completed", 200);

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
			fx_expect_final(app, corr, id, "completed", 200);
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
	tcase_add_test(tc, cli_example);
	tcase_add_test(tc, answer_burst_mixed);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
