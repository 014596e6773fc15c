/* Gateways, the guard's side (protocol-v2 section 4) against the real
 * broker: 403 for devices not assigned to the gateway (announce, withdraw,
 * answer, report; v5 and v3.1.1), a sub-device's direct connection taking
 * precedence, a restart with work pending for sub-devices, and two
 * gateways kept apart under password_file + acl_file. */
#include "gw_fixture.h"
#include "../check_main.h"

/* ---- the guard ---- */

START_TEST(unassigned_403)
{
	int protocol = protocols[_i];
	struct world w;
	struct c2d_client *gw, *gw2;
	struct c2d_msg *m;

	world_start(&w);
	set_gateway(&w, "gw1", "[\"s1\"]");
	set_gateway(&w, "gw2", "[\"s2\"]");
	gw = fx_device(w.b, w.mon, "gw1", protocol);
	gw2 = fx_device(w.b, w.mon, "gw2", V5);
	announce(&w, gw2, "gw2", "s2");
	c2d_client_inbox_clear(w.mon);
	c2d_broker_log_mark(w.b);

	/* announcing a device that is not assigned: 403, a log line, nothing changes */
	publish(gw, "$c2d/gw1/out/gw/connect/x9", NULL);
	expect_refused(gw, "gw1", "x9");
	ck_assert(c2d_broker_wait_log(w.b, "gateway 'gw1' refused for 'x9'", FX_WAIT_MS));
	expect_online(&w, "x9", false, NULL);
	/* the list form refuses the unassigned one and announces the rest */
	publish(gw, "$c2d/gw1/out/gw/connect", "[\"s2\",\"s1\"]");
	expect_refused(gw, "gw1", "s2");
	expect_presence(&w, "s1", "c2d.presence.connected", "gw1");
	expect_online(&w, "s2", true, "gw2");
	/* another gateway's sub-device: no disconnect, no answer, no report */
	publish(gw, "$c2d/gw1/out/gw/disconnect/s2", NULL);
	expect_refused(gw, "gw1", "s2");
	expect_online(&w, "s2", true, "gw2");
	c2d_client_publish(gw, "$c2d/s2/out/reported", "{\"hacked\":1}", -1, 1, false, NULL);
	expect_refused(gw, "gw1", "s2");
	c2d_msg_free(fx_send(w.app, "$c2d/s2/msg", "for-s2", "m2", NULL, "202"));
	free(delivered(gw2, "s2", "msg"));
	c2d_client_publish(gw, "$c2d/s2/out/res/q1/200", NULL, 0, 1, false, NULL);
	expect_refused(gw, "gw1", "s2");
	ck_assert(c2d_client_expect_none(w.app, FX_REPLIES, QUIET_MS)); /* not completed */
	m = fx_send(w.app, "$c2d/s2/twin/get", NULL, "g2", NULL, "200");
	ck_assert_ptr_null(strstr(m->payload, "hacked"));
	c2d_msg_free(m);
	ck_assert(c2d_client_expect_none(w.mon, "$c2d/s2/events/twin", 100));
	/* s2's own gateway completes it */
	fx_answer(gw2, "s2", "q1", 200);
	fx_final(w.app, "m2", "completed", 200, FX_WAIT_MS);
	/* a gateway cannot announce itself or write another gateway's topics */
	publish(gw, "$c2d/gw1/out/gw/connect/gw1", NULL);
	expect_refused(gw, "gw1", "gw1");
	if(protocol == V5){
		/* a v5 request with a response topic gets the status there too */
		struct c2d_props p = {.response_topic = "$c2d/gw1/in/reply/a1", .corr = "a1"};
		mosquitto_property *props = c2d_props_build(&p);

		ck_assert_int_lt(c2d_client_publish(gw, "$c2d/gw1/out/gw/connect/x8", NULL, 0, 1, false, props), 0x80);
		mosquitto_property_free_all(&props);
		m = c2d_client_wait_corr(gw, "$c2d/gw1/in/reply/a1", "a1", 2, FX_WAIT_MS);
		ck_assert_ptr_nonnull(m);
		ck_assert_pstr_eq(c2d_msg_user_prop(m, "status"), "403");
		c2d_msg_free(m);
	}
	c2d_client_destroy(gw);
	c2d_client_destroy(gw2);
	world_end(&w);
}
END_TEST

/* ---- a direct connection takes precedence ---- */

START_TEST(direct_connect_precedence)
{
	struct world w;
	struct c2d_client *gw, *s1;
	char *id;

	world_start(&w);
	set_gateway(&w, "gw1", "[\"s1\"]");
	gw = fx_device(w.b, w.mon, "gw1", V5);
	announce(&w, gw, "gw1", "s1");
	s1 = fx_device(w.b, w.mon, "s1", V311);
	expect_online(&w, "s1", true, "gw1");

	/* deliveries go to the sub-device's own connection */
	send_req(&w, "$c2d/s1/rpc/ping", "{}", "r1", NULL);
	id = delivered(s1, "s1", "rpc/ping");
	ck_assert(c2d_client_expect_none(gw, "$c2d/s1/in/#", 200));
	answer_body(s1, "s1", id, "direct");
	c2d_msg_free(fx_reply(w.app, "r1", "200"));

	/* it closes: reached through the gateway again (still announced) */
	c2d_client_inbox_clear(w.mon);
	fx_offline(s1);
	expect_presence(&w, "s1", "c2d.presence.connected", "gw1");
	expect_online(&w, "s1", true, "gw1");
	send_req(&w, "$c2d/s1/rpc/ping", "{}", "r2", NULL);
	id = delivered(gw, "s1", "rpc/ping");
	answer_body(gw, "s1", id, "via-gw");
	c2d_msg_free(fx_reply(w.app, "r2", "200"));

	/* the gateway goes while s1 is connected directly: s1 stays online */
	ck_assert_int_eq(c2d_client_connect(s1, w.b), 0);
	c2d_sleep_ms(200);
	c2d_client_inbox_clear(w.mon);
	fx_offline(gw);
	ck_assert(c2d_client_expect_none(w.mon, "$c2d/s1/events/presence", 300));
	expect_online(&w, "s1", true, NULL);
	c2d_client_destroy(s1);
	c2d_client_destroy(gw);
	world_end(&w);
}
END_TEST

/* ---- a restart with work pending for sub-devices ---- */

START_TEST(restart_with_pending_sub_devices)
{
	struct world w;
	struct c2d_client *gw;
	struct c2d_msg *m;
	char *id;

	world_start(&w);
	set_gateway(&w, "gw1", "[\"s1\",\"s2\"]");
	c2d_msg_free(fx_send(w.app, "$c2d/s1/msg", "kept-1", "m1", NULL, "202"));
	c2d_msg_free(fx_send(w.app, "$c2d/s2/msg", "kept-2", "m2", NULL, "202"));
	c2d_msg_free(fx_send(w.app, "$c2d/s2/twin/desired", "{\"mode\":\"eco\"}", "d2", NULL, "200"));
	/* s1 is announced and gets its message, but does not answer */
	gw = fx_device(w.b, w.mon, "gw1", V311);
	announce(&w, gw, "gw1", "s1");
	free(delivered(gw, "s1", "msg"));
	c2d_client_destroy(gw);
	c2d_client_destroy(w.app);
	c2d_client_destroy(w.mon);

	ck_assert_int_eq(c2d_broker_restart(w.b), 0);
	w.app = fx_app(w.b, FX_REPLIES);
	w.mon = fx_monitor(w.b, "$c2d/+/events/#");
	gw = fx_device(w.b, w.mon, "gw1", V311);
	publish(gw, "$c2d/gw1/out/gw/connect", "[\"s1\",\"s2\"]");
	m = c2d_client_wait_msg(gw, "$c2d/s1/in/msg/+", FX_WAIT_MS);
	ck_assert_msg(m != NULL, "s1's message was not delivered again after the restart");
	ck_assert_str_eq(m->payload, "kept-1");
	fx_answer(gw, "s1", strrchr(m->topic, '/') + 1, 200);
	c2d_msg_free(m);
	m = c2d_client_wait_msg(gw, "$c2d/s2/in/msg/+", FX_WAIT_MS);
	ck_assert_msg(m != NULL, "s2's message was not delivered after the restart");
	ck_assert_str_eq(m->payload, "kept-2");
	fx_answer(gw, "s2", strrchr(m->topic, '/') + 1, 200);
	c2d_msg_free(m);
	id = delivered(gw, "s2", "twin");
	fx_answer(gw, "s2", id, 200);
	free(id);
	fx_final(w.app, "m1", "completed", 200, FX_WAIT_MS);
	fx_final(w.app, "m2", "completed", 200, FX_WAIT_MS);
	c2d_client_destroy(gw);
	world_end(&w);
}
END_TEST

/* ---- two gateways under password_file + acl_file ---- */

static const char *const users_plain = "app:pw-app\nmon:pw-mon\ngw1:pw-gw1\ngw2:pw-gw2\n";

/* conf/acl.example's gateway lines, for the two gateways. */
static const char *const acl =
	"user app\n"
	"topic readwrite $c2d/+/twin/#\n"
	"topic write $c2d/+/msg\n"
	"topic write $c2d/+/rpc/#\n"
	"topic write $CONTROL/c2d/v1\n"
	"topic read " FX_REPLIES "\n"
	"\n"
	"user mon\n"
	"topic read $c2d/+/events/#\n"
	"\n"
	"user gw1\n"
	"topic write $c2d/+/out/#\n"
	"topic read $c2d/+/in/#\n"
	"\n"
	"user gw2\n"
	"topic write $c2d/+/out/#\n"
	"topic read $c2d/+/in/#\n"
	"\n"
	"pattern read $c2d/%c/in/#\n"
	"pattern write $c2d/%c/out/#\n";

START_TEST(two_gateways_isolated)
{
	int protocol = protocols[_i];
	struct world w;
	struct c2d_client *gw1, *gw2;
	char *id;
	cJSON *d;

	w.b = fx_start_login(users_plain, acl, NULL);
	w.app = fx_login(w.b, "app", "pw-app", V5);
	ck_assert_int_eq(c2d_client_subscribe(w.app, FX_REPLIES, 1), 1);
	w.mon = fx_login(w.b, "mon", "pw-mon", V5);
	ck_assert_int_eq(c2d_client_subscribe(w.mon, "$c2d/+/events/#", 1), 1);
	set_gateway(&w, "gw1", "[\"a1\"]");
	set_gateway(&w, "gw2", "[\"b1\"]");
	gw1 = fx_login(w.b, "gw1", "pw-gw1", protocol);
	gw2 = fx_login(w.b, "gw2", "pw-gw2", protocol);
	/* gw2 even subscribes to a1's deliveries: targeted publishes bypass it */
	ck_assert_int_eq(c2d_client_subscribe(gw2, "$c2d/a1/in/#", 1), 1);
	announce(&w, gw1, "gw1", "a1");
	announce(&w, gw2, "gw2", "b1");

	publish(gw2, "$c2d/gw2/out/gw/connect/a1", NULL);
	expect_refused(gw2, "gw2", "a1");
	d = get_device(&w, "a1");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(d, "via")), "gw1");
	cJSON_Delete(d);

	c2d_msg_free(fx_send(w.app, "$c2d/a1/msg", "for-a1", "m1", NULL, "202"));
	c2d_msg_free(fx_send(w.app, "$c2d/b1/msg", "for-b1", "m2", NULL, "202"));
	id = delivered(gw1, "a1", "msg");
	free(delivered(gw2, "b1", "msg"));
	ck_assert(c2d_client_expect_none(gw2, "$c2d/a1/in/#", QUIET_MS));
	ck_assert(c2d_client_expect_none(gw1, "$c2d/b1/in/#", 100));
	/* gw2 cannot settle a1's message nor report for it */
	{
		char *t = c2d_strf("$c2d/a1/out/res/%s/200", id);

		/* refused: v5 PUBACK 0x87 (not authorized), 3.1.1 a plain PUBACK */
		ck_assert_int_eq(c2d_client_publish(gw2, t, NULL, 0, 1, false, NULL), protocol == V5 ? 0x87 : 0);
		free(t);
	}
	expect_refused(gw2, "gw2", "a1");
	c2d_client_publish(gw2, "$c2d/a1/out/reported", "{\"x\":1}", -1, 1, false, NULL);
	expect_refused(gw2, "gw2", "a1");
	ck_assert(c2d_client_expect_none(w.app, FX_REPLIES, QUIET_MS));
	fx_answer(gw1, "a1", id, 200);
	fx_final(w.app, "m1", "completed", 200, FX_WAIT_MS);
	free(id);
	c2d_client_destroy(gw1);
	c2d_client_destroy(gw2);
	world_end(&w);
}
END_TEST

static Suite *gw_guard_suite(void)
{
	Suite *s = suite_create("gw_guard");
	TCase *tc = tcase_create("guard");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, unassigned_403, 0, 2);
	tcase_add_test(tc, direct_connect_precedence);
	tcase_add_test(tc, restart_with_pending_sub_devices);
	tcase_add_loop_test(tc, two_gateways_isolated, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return c2d_check_run(gw_guard_suite());
}
