/* Gateways (protocol-v2 section 4) against the real broker: the registry
 * (setGateway, clearGateway, getDevice, durable, limits), every plane
 * through a v5 and a v3.1.1 gateway (twin push + ack, message + feedback,
 * lightweight and persistent RPC, a device call, reported state),
 * announce/disconnect cycles (single and list form, presence with "via",
 * the gateway's connection ending: clean, dropped, taken over, keepalive), pending
 * lightweight RPCs when the gateway drops, and docs/gateways.md's
 * walkthrough. The guard's side is test_gw_guard.c. */
#include "gw_fixture.h"
#include "../check_main.h"

/* ---- the registry ---- */

START_TEST(registry_durable_and_limits)
{
	struct world w;
	cJSON *d;
	char *big;
	size_t i, n;

	world_start(&w);
	d = admin_ok(w.app, "{\"command\":\"setGateway\",\"gateway\":\"gw1\",\"devices\":[\"s1\",\"s2\"]}");
	ck_assert_int_eq(cJSON_GetObjectItem(d, "assigned")->valueint, 2);
	cJSON_Delete(d);
	cJSON_Delete(fx_expect_event(w.mon, "s1", "gateway", "c2d.gateway.assigned"));
	cJSON_Delete(fx_expect_event(w.mon, "s2", "gateway", "c2d.gateway.assigned"));
	/* again: nothing changes */
	d = admin_ok(w.app, "{\"command\":\"setGateway\",\"gateway\":\"gw1\",\"devices\":[\"s1\"]}");
	ck_assert_int_eq(cJSON_GetObjectItem(d, "assigned")->valueint, 0);
	ck_assert_int_eq(cJSON_GetObjectItem(d, "unchanged")->valueint, 1);
	cJSON_Delete(d);
	/* no nesting, no self, bad input */
	admin_err(w.app, "{\"command\":\"setGateway\",\"gateway\":\"s1\",\"devices\":[\"x\"]}", "do not nest");
	admin_err(w.app, "{\"command\":\"setGateway\",\"gateway\":\"gw2\",\"devices\":[\"gw1\"]}", "do not nest");
	admin_err(w.app, "{\"command\":\"setGateway\",\"gateway\":\"gw1\",\"devices\":[\"gw1\"]}", "own sub-device");
	admin_err(w.app, "{\"command\":\"setGateway\",\"gateway\":\"gw1\",\"devices\":[]}", "1..1000");
	admin_err(w.app, "{\"command\":\"setGateway\",\"gateway\":\"gw1\",\"devices\":[\"a/b\"]}", "valid device ids");
	admin_err(w.app, "{\"command\":\"setGateway\",\"devices\":[\"x\"]}", "gateway");
	/* at most 1000 devices per call */
	n = 1001;
	big = malloc(n * 16 + 128);
	ck_assert_ptr_nonnull(big);
	strcpy(big, "{\"command\":\"setGateway\",\"gateway\":\"gw9\",\"devices\":[");
	for(i = 0; i < n; i++) sprintf(big + strlen(big), "%s\"b%zu\"", i ? "," : "", i);
	strcat(big, "]}");
	admin_err(w.app, big, "1..1000");
	free(big);

	d = get_device(&w, "s1");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(d, "gateway")), "gw1");
	cJSON_Delete(d);
	d = get_device(&w, "gw1");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(d, "gateway")));
	ck_assert_int_eq(cJSON_GetObjectItem(d, "subDevices")->valueint, 2);
	cJSON_Delete(d);

	/* durable: a restart keeps it */
	c2d_client_destroy(w.app);
	c2d_client_destroy(w.mon);
	ck_assert_int_eq(c2d_broker_restart(w.b), 0);
	w.app = fx_app(w.b, FX_REPLIES);
	w.mon = fx_monitor(w.b, "$c2d/+/events/#");
	d = get_device(&w, "s2");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(d, "gateway")), "gw1");
	cJSON_Delete(d);
	/* moved to another gateway, then cleared */
	set_gateway(&w, "gw2", "[\"s2\"]");
	d = fx_expect_event(w.mon, "s2", "gateway", "c2d.gateway.assigned");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "data"), "previous")), "gw1");
	cJSON_Delete(d);
	d = admin_ok(w.app, "{\"command\":\"clearGateway\",\"devices\":[\"s1\",\"s2\",\"nobody\"]}");
	ck_assert_int_eq(cJSON_GetObjectItem(d, "cleared")->valueint, 2);
	ck_assert_int_eq(cJSON_GetObjectItem(d, "unchanged")->valueint, 1);
	cJSON_Delete(d);
	d = fx_expect_event(w.mon, "s2", "gateway", "c2d.gateway.cleared");
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "data"), "gateway")), "gw2");
	cJSON_Delete(d);
	d = get_device(&w, "s1");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(d, "gateway")));
	cJSON_Delete(d);
	world_end(&w);
}
END_TEST

/* ---- every plane through a gateway ---- */

START_TEST(planes_through_gateway)
{
	static const char *const persistent[] = {"persistent", "true", NULL};
	int protocol = protocols[_i];
	struct world w;
	struct c2d_client *gw;
	struct c2d_msg *m;
	char *id;
	cJSON *d;

	world_start(&w);
	set_gateway(&w, "gw1", "[\"s1\",\"s2\"]");
	/* work waiting before the sub-device is announced */
	c2d_msg_free(fx_send(w.app, "$c2d/s1/twin/desired", "{\"led\":1}", "d1", NULL, "200"));
	c2d_msg_free(fx_send(w.app, "$c2d/s1/msg", "hello-s1", "m1", NULL, "202"));
	/* lightweight RPC to an assigned sub-device that is not announced: 404 at once */
	c2d_msg_free(fx_send(w.app, "$c2d/s1/rpc/reboot", "{}", "r0", NULL, "404"));

	gw = fx_device(w.b, w.mon, "gw1", protocol);
	announce(&w, gw, "gw1", "s1");
	expect_online(&w, "s1", true, "gw1");
	expect_online(&w, "s2", false, NULL);

	/* catch-up through the gateway's connection, on s1's own topics */
	m = c2d_client_wait_msg(gw, "$c2d/s1/in/twin/+", FX_WAIT_MS);
	ck_assert_msg(m != NULL, "no twin push for s1 through the gateway");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"led\":1"));
	fx_answer(gw, "s1", strrchr(m->topic, '/') + 1, 200);
	c2d_msg_free(m);
	c2d_msg_free(fx_skip_to_event(w.mon, "c2d.twin.desired.acknowledged", NULL));
	m = c2d_client_wait_msg(gw, "$c2d/s1/in/msg/+", FX_WAIT_MS);
	ck_assert_msg(m != NULL, "no message for s1 through the gateway");
	ck_assert_str_eq(m->payload, "hello-s1");
	fx_answer(gw, "s1", strrchr(m->topic, '/') + 1, 200);
	c2d_msg_free(m);
	fx_final(w.app, "m1", "completed", 200, FX_WAIT_MS);

	/* a twin patch while announced goes at once */
	c2d_msg_free(fx_send(w.app, "$c2d/s1/twin/desired", "{\"led\":2}", "d2", NULL, "200"));
	id = delivered(gw, "s1", "twin");
	fx_answer(gw, "s1", id, 200);
	free(id);

	/* lightweight RPC */
	send_req(&w, "$c2d/s1/rpc/reboot", "{}", "r1", NULL);
	id = delivered(gw, "s1", "rpc/reboot");
	ck_assert_int_eq(id[0], 'l');
	answer_body(gw, "s1", id, "{\"rebooted\":true}");
	m = fx_reply(w.app, "r1", "200");
	ck_assert_str_eq(m->payload, "{\"rebooted\":true}");
	c2d_msg_free(m);

	/* persistent RPC */
	c2d_msg_free(fx_send(w.app, "$c2d/s1/rpc/config", "{\"x\":1}", "p1", persistent, "202"));
	id = delivered(gw, "s1", "rpc/config");
	answer_body(gw, "s1", id, "{\"ok\":1}");
	m = fx_reply(w.app, "p1", "200");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"ok\":1"));
	c2d_msg_free(m);

	/* a device call from the sub-device: the reply reaches the gateway */
	publish(gw, "$c2d/s1/out/call/time/c1", NULL);
	m = c2d_client_wait_msg(gw, "$c2d/s1/in/reply/c1/200", FX_WAIT_MS);
	ck_assert_msg(m != NULL, "no reply to the sub-device's call");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"time\""));
	c2d_msg_free(m);

	/* reported state */
	c2d_client_inbox_clear(w.mon);
	publish(gw, "$c2d/s1/out/reported", "{\"temp\":21}");
	c2d_msg_free(fx_skip_to_event(w.mon, "c2d.twin.reported.changed", NULL));
	m = fx_send(w.app, "$c2d/s1/twin/get", NULL, "g1", NULL, "200");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"temp\":21"));
	c2d_msg_free(m);

	/* nothing went to s2, which was not announced */
	ck_assert(c2d_client_expect_none(gw, "$c2d/s2/in/#", 200));
	d = get_device(&w, "s1");
	ck_assert_int_eq(cJSON_GetObjectItem(d, "protocolVersion")->valueint, protocol == V5 ? 5 : 4);
	cJSON_Delete(d);
	c2d_client_destroy(gw);
	world_end(&w);
}
END_TEST

/* ---- announcements and the gateway's connection ---- */

START_TEST(announce_disconnect_cycles)
{
	int protocol = protocols[_i];
	struct world w;
	struct c2d_client *gw;
	int round;

	world_start(&w);
	set_gateway(&w, "gw1", "[\"s1\",\"s2\",\"s3\"]");
	gw = fx_device(w.b, w.mon, "gw1", protocol);
	for(round = 0; round < 3; round++){
		/* the list form */
		c2d_client_inbox_clear(w.mon);
		publish(gw, "$c2d/gw1/out/gw/connect", "[\"s1\",\"s2\"]");
		expect_presence(&w, "s1", "c2d.presence.connected", "gw1");
		expect_presence(&w, "s2", "c2d.presence.connected", "gw1");
		expect_online(&w, "s2", true, "gw1");
		/* announcing again changes nothing */
		publish(gw, "$c2d/gw1/out/gw/connect/s1", NULL);
		ck_assert(c2d_client_expect_none(w.mon, "$c2d/s1/events/presence", 200));
		/* single disconnect */
		publish(gw, "$c2d/gw1/out/gw/disconnect/s1", NULL);
		expect_presence(&w, "s1", "c2d.presence.disconnected", "gw1");
		expect_online(&w, "s1", false, NULL);
		expect_online(&w, "s2", true, "gw1");
		announce(&w, gw, "gw1", "s3");
		/* the gateway's connection ends: every announced sub-device goes */
		c2d_client_inbox_clear(w.mon);
		if(round == 0){
			fx_offline(gw);
		}else if(round == 1){
			ck_assert_int_eq(c2d_client_drop(gw), 0);
		}else{
			/* takeover: the same client id connects again */
			struct c2d_client *again = c2d_client_new("gw1", protocol, true);

			ck_assert_int_eq(c2d_client_connect(again, w.b), 0);
			expect_presence(&w, "s2", "c2d.presence.disconnected", "gw1");
			expect_presence(&w, "s3", "c2d.presence.disconnected", "gw1");
			c2d_client_destroy(gw);
			gw = again;
			c2d_sleep_ms(200);
			expect_online(&w, "s2", false, NULL);
			expect_online(&w, "gw1", true, NULL);
			continue;
		}
		expect_presence(&w, "s2", "c2d.presence.disconnected", "gw1");
		expect_presence(&w, "s3", "c2d.presence.disconnected", "gw1");
		expect_online(&w, "s2", false, NULL);
		expect_online(&w, "s3", false, NULL);
		ck_assert_int_eq(c2d_client_connect(gw, w.b), 0);
	}
	/* the list form of disconnect */
	publish(gw, "$c2d/gw1/out/gw/connect", "[\"s1\",\"s2\"]");
	expect_presence(&w, "s1", "c2d.presence.connected", "gw1");
	expect_presence(&w, "s2", "c2d.presence.connected", "gw1");
	publish(gw, "$c2d/gw1/out/gw/disconnect", "[\"s1\",\"s2\"]");
	expect_presence(&w, "s1", "c2d.presence.disconnected", "gw1");
	expect_presence(&w, "s2", "c2d.presence.disconnected", "gw1");
	/* clearing the assignment takes an announced sub-device offline */
	announce(&w, gw, "gw1", "s3");
	cJSON_Delete(admin_ok(w.app, "{\"command\":\"clearGateway\",\"devices\":[\"s3\"]}"));
	expect_presence(&w, "s3", "c2d.presence.disconnected", "gw1");
	expect_online(&w, "s3", false, NULL);
	c2d_client_destroy(gw);
	world_end(&w);
}
END_TEST

START_TEST(gateway_drop_fails_pending_rpcs)
{
	static const char *const slow[] = {"timeout", "30000", NULL};
	struct world w;
	struct c2d_client *gw;
	struct c2d_msg *m;
	uint64_t t0;
	cJSON *d;

	world_start(&w);
	set_gateway(&w, "gw1", "[\"s1\",\"s2\"]");
	gw = fx_device(w.b, w.mon, "gw1", V5);
	publish(gw, "$c2d/gw1/out/gw/connect", "[\"s1\",\"s2\"]");
	expect_presence(&w, "s1", "c2d.presence.connected", "gw1");
	expect_presence(&w, "s2", "c2d.presence.connected", "gw1");
	send_req(&w, "$c2d/s1/rpc/slow", "{}", "r1", slow);
	send_req(&w, "$c2d/s2/rpc/slow", "{}", "r2", slow);
	free(delivered(gw, "s1", "rpc/slow"));
	free(delivered(gw, "s2", "rpc/slow"));
	d = get_device(&w, "s1");
	ck_assert_int_eq(cJSON_GetObjectItem(d, "lightweightRpcsPending")->valueint, 1);
	cJSON_Delete(d);

	t0 = c2d_now_ms();
	ck_assert_int_eq(c2d_client_drop(gw), 0);
	c2d_msg_free(fx_reply(w.app, "r1", "404"));
	c2d_msg_free(fx_reply(w.app, "r2", "404"));
	ck_assert_msg(c2d_now_ms() - t0 < 5000, "the 404s waited for the RPC timeout");
	d = get_device(&w, "s1");
	ck_assert_int_eq(cJSON_GetObjectItem(d, "lightweightRpcsPending")->valueint, 0);
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(d, "online")));
	cJSON_Delete(d);
	/* and a new one is 404 at once */
	m = fx_send(w.app, "$c2d/s1/rpc/slow", "{}", "r3", slow, "404");
	c2d_msg_free(m);
	c2d_client_destroy(gw);
	world_end(&w);
}
END_TEST

/* The gateway stops talking (no PINGREQ): the broker's keepalive ends its
 * connection after 1.5 keepalives, and its sub-device goes with it. A bare
 * libmosquitto client driven by hand, so that nothing pings. */
START_TEST(keepalive_expiry_takes_subs_offline)
{
	struct world w;
	struct mosquitto *m;
	struct c2d_msg *msg;
	uint64_t t0;
	int i;

	world_start(&w);
	set_gateway(&w, "gw-k", "[\"s1\"]");
	m = mosquitto_new("gw-k", true, NULL);
	ck_assert_ptr_nonnull(m);
	mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V311);
	ck_assert_int_eq(mosquitto_connect(m, "127.0.0.1", w.b->port, 5), MOSQ_ERR_SUCCESS);
	ck_assert_int_eq(mosquitto_publish(m, NULL, "$c2d/gw-k/out/gw/connect/s1", 0, NULL, 1, false), MOSQ_ERR_SUCCESS);
	for(i = 0; i < 10; i++) mosquitto_loop(m, 50, 1); /* CONNACK, the publish, its PUBACK */
	expect_presence(&w, "s1", "c2d.presence.connected", "gw-k");
	t0 = c2d_now_ms();
	/* silence: the broker closes the connection after 7.5 s */
	msg = c2d_client_wait_msg(w.mon, "$c2d/s1/events/presence", 12000);
	ck_assert_msg(msg != NULL, "s1 stayed online after the gateway's keepalive expired");
	ck_assert_ptr_nonnull(strstr(msg->payload, "\"type\":\"c2d.presence.disconnected\""));
	ck_assert_ptr_nonnull(strstr(msg->payload, "\"via\":\"gw-k\""));
	c2d_msg_free(msg);
	ck_assert_msg(c2d_now_ms() - t0 >= 4000, "s1 went offline before the keepalive expired");
	expect_online(&w, "s1", false, NULL);
	mosquitto_destroy(m);
	world_end(&w);
}
END_TEST

/* ---- docs/gateways.md's walkthrough, line by line ---- */

START_TEST(cli_walkthrough)
{
	struct world w;
	struct c2d_proc *gw;
	char *cmd, *out = NULL;

	world_start(&w);
	cmd = c2d_strf("c2d='%s/scripts/c2d -p %d'; $c2d gateway set gw1 therm-7 therm-8"
			" && $c2d twin set therm-7 '{\"interval\":30}' && $c2d msg therm-7 '{\"cmd\":\"beep\"}'",
			C2D_SRCDIR, w.b->port);
	ck_assert_int_eq(c2d_sh(cmd, 10000, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "{\"gateway\":\"gw1\",\"assigned\":2,\"unchanged\":0}"));
	ck_assert_ptr_nonnull(strstr(out, "{\"id\":\"q1\",\"status\":202}"));
	free(cmd);
	free(out);
	c2d_client_inbox_clear(w.mon);
	cmd = c2d_strf("/usr/bin/python3 %s/examples/gateway.py -p %d -r -n 4 gw1 therm-7 therm-8", C2D_SRCDIR, w.b->port);
	gw = c2d_proc_start(cmd);
	ck_assert_ptr_nonnull(gw);
	free(cmd);
	expect_presence(&w, "therm-8", "c2d.presence.connected", "gw1");
	cmd = c2d_strf("c2d='%s/scripts/c2d -p %d'; $c2d rpc therm-8 getTemperature '{\"unit\":\"C\"}'"
			" && $c2d admin getDevice device=therm-7"
			" && mosquitto_rr -p %d -V 5 -i gw2 -t '$c2d/gw2/out/gw/connect/therm-7'"
			" -e '$c2d/gw2/in/reply/gw/therm-7/403' -n -W 5",
			C2D_SRCDIR, w.b->port, w.b->port);
	ck_assert_int_eq(c2d_sh(cmd, 15000, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "{\"unit\":\"C\"}"));
	ck_assert_ptr_nonnull(strstr(out, "\"gateway\":\"gw1\",\"via\":\"gw1\""));
	ck_assert_ptr_nonnull(strstr(out, "{\"status\":403,\"device\":\"therm-7\","
			"\"error\":\"this device is not assigned to the gateway\"}"));
	free(cmd);
	free(out);
	ck_assert_int_eq(c2d_proc_wait(gw, 15000, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "announced therm-7 therm-8"));
	ck_assert_ptr_nonnull(strstr(out, "therm-7 twin t1 {\"version\":1,\"desired\":{\"interval\":30},\"full\":true}"));
	ck_assert_ptr_nonnull(strstr(out, "therm-7 msg q1 {\"cmd\":\"beep\"}"));
	free(out);
	expect_presence(&w, "therm-7", "c2d.presence.connected", "gw1");
	expect_presence(&w, "therm-7", "c2d.presence.disconnected", "gw1");
	world_end(&w);
}
END_TEST

/* A continuous job whose where reads `online` reaches a sub-device when
 * its gateway announces it (an announcement is a connect). */
START_TEST(continuous_online_through_gateway)
{
	struct world w;
	struct c2d_client *gw;
	char *id;

	world_start(&w);
	set_gateway(&w, "gw1", "[\"s1\"]");
	cJSON_Delete(admin_ok(w.app, "{\"command\":\"createJob\",\"job\":\"hi\",\"target\":{\"where\":"
			"{\"device\":\"s1\",\"online\":true}},\"action\":{\"msg\":{\"payload\":\"welcome\"}},\"continuous\":true}"));
	gw = fx_device(w.b, w.mon, "gw1", V5);
	ck_assert(c2d_client_expect_none(gw, "$c2d/s1/in/#", 300)); /* not announced: not online */
	announce(&w, gw, "gw1", "s1");
	id = delivered(gw, "s1", "msg");
	fx_answer(gw, "s1", id, 200);
	free(id);
	c2d_client_destroy(gw);
	world_end(&w);
}
END_TEST

static Suite *gateway_suite(void)
{
	Suite *s = suite_create("gateway");
	TCase *tc = tcase_create("gateway");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, registry_durable_and_limits);
	tcase_add_loop_test(tc, planes_through_gateway, 0, 2);
	tcase_add_loop_test(tc, announce_disconnect_cycles, 0, 2);
	tcase_add_test(tc, gateway_drop_fails_pending_rpcs);
	tcase_add_test(tc, keepalive_expiry_takes_subs_offline);
	tcase_add_test(tc, cli_walkthrough);
	tcase_add_test(tc, continuous_online_through_gateway);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return c2d_check_run(gateway_suite());
}
