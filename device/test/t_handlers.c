/* libc2d-device against the real broker and plugin: each handler kind (RPC
 * by method and default, 501 without a handler, messages with outcomes,
 * desired state and reports), offline changes arriving as one desired
 * callback, long-running RPC (202 then c2d_device_result), and a redelivery
 * after a lost answer answered from memory without running the handler. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const char *const PERSISTENT[] = {"persistent", "true", NULL};

static int on_status(struct c2d_device *d, const char *method, const void *params, size_t len,
		struct c2d_result *res, void *ud)
{
	(void)d;
	(void)method;
	(void)params;
	(void)len;
	(void)ud;
	c2d_result_set(res, "{\"ok\":true}", 11);
	return 201;
}

START_TEST(rpc_by_method_and_default)
{
	struct env e;
	struct tdev *t = env_open(&e, NULL, "lamp-1", V5);
	struct c2d_msg *m;

	ck_assert_int_eq(c2d_device_on_rpc(t->d, "status", on_status, NULL), 0);
	td_start(t, e.mon);
	/* a method with its own handler: its status and bytes reach the caller */
	m = fx_send(e.app, "$c2d/lamp-1/rpc/status", "{}", "c1", NULL, "201");
	ck_assert_str_eq(m->payload, "{\"ok\":true}");
	c2d_msg_free(m);
	ck_assert_int_eq(t->rpcs, 0);
	/* any other method: the default handler */
	m = fx_send(e.app, "$c2d/lamp-1/rpc/blink", "{\"times\":3}", "c2", NULL, "200");
	ck_assert_str_eq(m->payload, "{\"times\":3}");
	c2d_msg_free(m);
	ck_assert_int_eq(t->rpcs, 1);
	ck_assert_str_eq(t->method, "blink");
	ck_assert_str_eq(t->payload, "{\"times\":3}");
	ck_assert_int_eq(t->id[0], 'l');
	/* a handler's 4xx is the caller's status */
	td_pause(t);
	t->rpc_status = 409;
	t->rpc_reply = "{\"error\":\"busy\"}";
	td_run(t);
	m = fx_send(e.app, "$c2d/lamp-1/rpc/blink", "", "c3", NULL, "409");
	ck_assert_str_eq(m->payload, "{\"error\":\"busy\"}");
	c2d_msg_free(m);
	/* without a default handler an unknown method is 501, and no handler runs */
	td_pause(t);
	ck_assert_int_eq(c2d_device_on_rpc(t->d, NULL, NULL, NULL), 0);
	td_run(t);
	c2d_msg_free(fx_send(e.app, "$c2d/lamp-1/rpc/blink", "", "c4", NULL, "501"));
	c2d_msg_free(fx_send(e.app, "$c2d/lamp-1/rpc/status", "", "c5", NULL, "201"));
	ck_assert_int_eq(t->rpcs, 2);
	env_close(&e);
}
END_TEST

START_TEST(message_outcomes)
{
	struct env e;
	struct tdev *t = env_open(&e, NULL, "lamp-2", V5);
	struct c2d_msg *m;

	td_start(t, e.mon);
	c2d_msg_free(fx_send(e.app, "$c2d/lamp-2/msg", "hello", "m1", NULL, "202"));
	m = fx_reply(e.app, "m1", "200");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"state\":\"completed\""));
	c2d_msg_free(m);
	ck_assert_int_eq(t->msgs, 1);
	ck_assert_str_eq(t->payload, "hello");
	ck_assert_str_eq(t->id, "q1");
	/* the handler's 4xx rejects the message: final, not delivered again */
	td_pause(t);
	t->msg_status = 415;
	td_run(t);
	c2d_msg_free(fx_send(e.app, "$c2d/lamp-2/msg", "bad", "m2", NULL, "202"));
	m = fx_reply(e.app, "m2", "415");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"state\":\"rejected\""));
	c2d_msg_free(m);
	ck_assert_int_eq(t->msgs, 2);
	env_close(&e);
}
END_TEST

START_TEST(desired_and_reported)
{
	struct env e;
	struct tdev *t = env_open(&e, NULL, "th-1", V5);
	cJSON *twin, *temp = NULL;

	td_start(t, e.mon);
	c2d_msg_free(fx_send(e.app, "$c2d/th-1/twin/desired", "{\"setpoint\":21}", "d1", NULL, "200"));
	ck_assert(td_wait(t, &t->desireds, 1, TD_WAIT_MS));
	ck_assert_int_eq(t->version, 1);
	ck_assert_int_eq(t->full, 1);
	ck_assert_str_eq(t->patch, "{\"setpoint\":21}");
	c2d_msg_free(fx_skip_to_event(e.mon, "c2d.twin.desired.acknowledged", NULL));
	c2d_msg_free(fx_send(e.app, "$c2d/th-1/twin/desired", "{\"mode\":\"eco\"}", "d2", NULL, "200"));
	ck_assert(td_wait(t, &t->desireds, 2, TD_WAIT_MS));
	ck_assert_int_eq(t->version, 2);
	ck_assert_int_eq(t->full, 0);
	ck_assert_str_eq(t->patch, "{\"mode\":\"eco\"}");
	td_pause(t);
	ck_assert_int_eq(c2d_device_desired_version(t->d), 2);
	ck_assert_int_eq(c2d_device_report(t->d, "{\"temperature\":20.5}"), 0);
	td_run(t);
	c2d_msg_free(fx_skip_to_event(e.mon, "c2d.twin.reported.changed", NULL));
	twin = get_twin(e.app, "th-1");
	temp = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(twin, "reported"), "temperature");
	ck_assert(cJSON_IsNumber(temp) && temp->valuedouble == 20.5);
	cJSON_Delete(twin);
	/* a rejected push is not acknowledged: the platform says so */
	td_pause(t);
	t->desired_status = 422;
	td_run(t);
	c2d_msg_free(fx_send(e.app, "$c2d/th-1/twin/desired", "{\"setpoint\":99}", "d3", NULL, "200"));
	c2d_msg_free(fx_skip_to_event(e.mon, "c2d.twin.desired.rejected", NULL));
	td_pause(t);
	ck_assert_int_eq(c2d_device_desired_version(t->d), 2);
	env_close(&e);
}
END_TEST

START_TEST(offline_changes_one_callback)
{
	struct env e;
	struct tdev *t = env_open(&e, NULL, "th-2", V5);
	cJSON *twin, *ver;
	char *rep;

	td_start(t, e.mon);
	c2d_msg_free(fx_send(e.app, "$c2d/th-2/twin/desired", "{\"power\":\"on\"}", "d1", NULL, "200"));
	c2d_msg_free(fx_skip_to_event(e.mon, "c2d.twin.desired.acknowledged", NULL));
	td_pause(t);
	ck_assert_int_eq(c2d_device_disconnect(t->d), 0);
	c2d_msg_free(fx_skip_to_event(e.mon, "c2d.presence.disconnected", NULL));
	/* while offline: two desired changes, three reports */
	c2d_msg_free(fx_send(e.app, "$c2d/th-2/twin/desired", "{\"level\":20}", "d2", NULL, "200"));
	c2d_msg_free(fx_send(e.app, "$c2d/th-2/twin/desired", "{\"color\":\"warm\"}", "d3", NULL, "200"));
	ck_assert_int_eq(c2d_device_report(t->d, "{\"x\":1,\"o\":{\"a\":1}}"), 0);
	ck_assert_int_eq(c2d_device_report(t->d, "{\"y\":2,\"o\":{\"b\":2}}"), 0);
	ck_assert_int_eq(c2d_device_report(t->d, "{\"x\":3}"), 0);
	td_start(t, e.mon);
	ck_assert(td_wait(t, &t->desireds, 2, TD_WAIT_MS));
	ck_assert_msg(!td_wait(t, &t->desireds, 3, 700), "a second desired callback after the catch-up");
	ck_assert_int_eq(t->version, 3);
	ck_assert_int_eq(t->full, 0);
	ck_assert_str_eq(t->patch, "{\"level\":20,\"color\":\"warm\"}");
	c2d_msg_free(fx_skip_to_event(e.mon, "c2d.twin.reported.changed", NULL));
	twin = get_twin(e.app, "th-2");
	rep = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(twin, "reported"));
	ck_assert_str_eq(rep, "{\"x\":3,\"o\":{\"a\":1,\"b\":2},\"y\":2}");
	ver = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(twin, "version"), "reported");
	ck_assert_int_eq((int)ver->valuedouble, 1); /* one merged patch */
	free(rep);
	cJSON_Delete(twin);
	env_close(&e);
}
END_TEST

START_TEST(long_running_rpc)
{
	struct env e;
	struct tdev *t = env_open(&e, NULL, "gate-1", V5);
	const char *const lw[] = {"timeout", "20000", NULL};
	mosquitto_property *props;
	struct c2d_msg *m;
	char id[130];

	t->rpc_status = 202;
	td_start(t, e.mon);
	/* persistent: 202 from the plugin, DELIVERED on the device's 202, then SUCCESSFUL */
	m = fx_send(e.app, "$c2d/gate-1/rpc/open", "{}", "p1", PERSISTENT, "202");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"id\":\"q1\""));
	c2d_msg_free(m);
	c2d_msg_free(fx_skip_to_event(e.mon, "c2d.rpc.delivered", "q1"));
	td_pause(t);
	ck_assert_str_eq(t->id, "q1");
	ck_assert_int_eq(c2d_device_result(t->d, "q1", 202, NULL, 0), C2D_DEVICE_EINVAL);
	ck_assert_int_eq(c2d_device_result(t->d, "q1", 200, "{\"open\":true}", 13), 0);
	ck_assert_int_eq(c2d_device_result(t->d, "q1", 200, NULL, 0), C2D_DEVICE_ENOTFOUND);
	td_run(t);
	m = fx_reply(e.app, "p1", "200");
	ck_assert_str_eq(m->payload, "{\"open\":true}");
	c2d_msg_free(m);
	c2d_msg_free(fx_skip_to_event(e.mon, "c2d.rpc.successful", "q1"));
	/* lightweight: the caller keeps waiting after the 202 and gets the result */
	props = c2d_props_build(&(struct c2d_props){.response_topic = FX_REPLIES, .corr = "w1", .user = lw});
	ck_assert_int_le(c2d_client_publish(e.app, "$c2d/gate-1/rpc/open", "{}", 2, 1, false, props), 0x10);
	mosquitto_property_free_all(&props);
	ck_assert(td_wait(t, &t->rpcs, 2, TD_WAIT_MS));
	td_pause(t);
	snprintf(id, sizeof(id), "%s", t->id);
	ck_assert_int_eq(id[0], 'l');
	ck_assert_int_eq(c2d_device_result(t->d, id, 500, "{\"jammed\":true}", 15), 0);
	td_run(t);
	for(;;){
		m = c2d_client_wait_corr(e.app, FX_REPLIES, "w1", 2, TD_WAIT_MS);
		ck_assert_ptr_nonnull(m);
		if(strcmp(c2d_msg_user_prop(m, "status"), "202") != 0) break;
		c2d_msg_free(m);
	}
	ck_assert_str_eq(c2d_msg_user_prop(m, "status"), "500");
	ck_assert_str_eq(m->payload, "{\"jammed\":true}");
	c2d_msg_free(m);
	env_close(&e);
}
END_TEST

/* The device may not answer (no out/res grant): its first answer is lost. */
static const char ACL_NO_ANSWERS[] = "topic write $c2d/+/rpc/#\n"
		"topic read $c2d/+/events/#\n"
		"topic readwrite replies/#\n"
		"pattern write $c2d/%c/out/hello\n";
static const char ACL_ANSWERS[] = "topic write $c2d/+/rpc/#\n"
		"topic read $c2d/+/events/#\n"
		"topic readwrite replies/#\n"
		"pattern write $c2d/%c/out/hello\n"
		"pattern write $c2d/%c/out/res/#\n";

START_TEST(redelivery_after_lost_answer)
{
	struct env e;
	struct tdev *t = env_open(&e, &(struct c2d_broker_opts){.acl = ACL_NO_ANSWERS}, "valve-1", V5);
	struct c2d_broker *b = e.b;
	struct c2d_msg *m;

	t->rpc_reply = "{\"turns\":1}";
	td_start(t, e.mon);
	c2d_msg_free(fx_send(e.app, "$c2d/valve-1/rpc/turn", "{}", "t1", PERSISTENT, "202"));
	ck_assert(td_wait(t, &t->rpcs, 1, TD_WAIT_MS));
	/* only the ACL can refuse it (no out/res grant): the plugin never saw it */
	ck_assert(c2d_broker_wait_log(b, "Denied PUBLISH from valve-1 (d0, q1, r0, m", TD_WAIT_MS));
	ck_assert(c2d_broker_wait_log(b, "'$c2d/valve-1/out/res/q1/200', ... (11 bytes)", TD_WAIT_MS));
	ck_assert(!c2d_broker_log_contains(b, "successful"));
	/* the broker comes back allowing answers; the device reconnects by
	 * itself and gets q1 again: answered from memory, the handler does not run */
	td_pause(t);
	ck_assert_ptr_nonnull(c2d_broker_write_file(b, "acl", ACL_ANSWERS));
	ck_assert_int_eq(c2d_broker_restart(b), 0);
	ck_assert_int_eq(c2d_client_connect(e.mon, b), 0);
	ck_assert_int_eq(c2d_client_subscribe(e.mon, EVENTS, 1), 1);
	td_run(t);
	ck_assert(td_wait(t, &t->connects, 2, TD_WAIT_MS));
	/* (the requester's session ended with the restart: the final reply is
	 * dropped by the plugin, the event tells the outcome) */
	m = fx_skip_to_event(e.mon, "c2d.rpc.successful", "q1");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"status\":200"));
	c2d_msg_free(m);
	ck_assert_int_eq(t->rpcs, 1);
	ck_assert(c2d_broker_log_contains(b, "'$c2d/valve-1/in/rpc/turn/q1'"));
	ck_assert(c2d_broker_log_contains(b, "'$c2d/valve-1/out/res/q1/200', ... (11 bytes)"));
	env_close(&e);
}
END_TEST

START_TEST(no_handlers_501)
{
	struct env e;
	struct tdev *t = env_open(&e, NULL, "bare-1", V5);
	struct c2d_msg *m;

	ck_assert_int_eq(c2d_device_on_rpc(t->d, NULL, NULL, NULL), 0);
	ck_assert_int_eq(c2d_device_on_desired(t->d, NULL, NULL), 0);
	td_start(t, e.mon);
	c2d_msg_free(fx_send(e.app, "$c2d/bare-1/rpc/anything", "", "r1", NULL, "501"));
	c2d_msg_free(fx_send(e.app, "$c2d/bare-1/twin/desired", "{\"a\":1}", "d1", NULL, "200"));
	m = fx_skip_to_event(e.mon, "c2d.twin.desired.rejected", NULL);
	ck_assert_ptr_nonnull(strstr(m->payload, "\"status\":501"));
	c2d_msg_free(m);
	ck_assert_int_eq(t->rpcs + t->desireds, 0);
	env_close(&e);
}
END_TEST

TCase *tc_handlers(void)
{
	TCase *tc = tcase_create("handlers");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, rpc_by_method_and_default);
	tcase_add_test(tc, message_outcomes);
	tcase_add_test(tc, desired_and_reported);
	tcase_add_test(tc, offline_changes_one_callback);
	tcase_add_test(tc, long_running_rpc);
	tcase_add_test(tc, redelivery_after_lost_answer);
	tcase_add_test(tc, no_handlers_501);
	return tc;
}
