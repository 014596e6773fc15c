/* libc2d-device gateway mode against the real broker and plugin: a gateway
 * gw1 with sub-devices s1..s3 assigned by setGateway. Each plane per
 * sub-device (RPC by method and default, message outcomes, desired-state
 * acknowledgement, reported state, a device call, hello), presence with "via",
 * re-announcement and catch-up after the broker restarts, a freed handle
 * withdrawn, an unassigned sub-device refused (403 to its connection
 * callback) and not reachable, and a redelivery to a sub-device answered
 * from that sub-device's memory.
 * MQTT 5 and 3.1.1 gateways. The API's argument checks run without a broker. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static const int PROTOCOLS[] = {V5, V311};
static const char *const PERSISTENT[] = {"persistent", "true", NULL};

/* A test's gateway gw1 (not started) with sub-devices s1, s2, s3, all
 * assigned to it and announced (sent at the gateway's connect). */
struct gwenv {
	struct env e;
	struct tdev *gw, *s[3];
};

static void assign(struct c2d_client *app, const char *gw, const char *devices_json)
{
	char *cmd = c2d_strf("{\"command\":\"setGateway\",\"gateway\":\"%s\",\"devices\":%s}", gw, devices_json);
	cJSON *resp, *j = fx_admin(app, cmd, &resp);

	ck_assert_msg(cJSON_GetObjectItem(resp, "error") == NULL, "setGateway: %s", cJSON_PrintUnformatted(resp));
	cJSON_Delete(j);
	free(cmd);
}

static void gw_open(struct gwenv *g, const struct c2d_broker_opts *opts, int protocol)
{
	static const char *const ids[] = {"s1", "s2", "s3"};
	int i;

	g->gw = env_open(&g->e, opts, "gw1", protocol);
	assign(g->e.app, "gw1", "[\"s1\",\"s2\",\"s3\"]");
	for(i = 0; i < 3; i++){
		g->s[i] = td_sub(g->gw, ids[i]);
		ck_assert_int_eq(c2d_device_gateway_announce(g->s[i]->d), 0);
	}
}

static void gw_close(struct gwenv *g)
{
	int i;

	td_pause(g->gw);
	for(i = 0; i < 3; i++) td_free(g->s[i]);
	env_close(&g->e);
}

/* Waits for the next event of `type` on $c2d/{dev}/events/# (skipping
 * others of dev). Returns its payload parsed (caller owns). */
static cJSON *dev_event(struct c2d_client *mon, const char *dev, const char *type)
{
	char *filter = c2d_strf("$c2d/%s/events/#", dev);
	uint64_t end = c2d_now_ms() + TD_WAIT_MS;
	struct c2d_msg *m;
	cJSON *ev;

	while(c2d_now_ms() < end){
		m = c2d_client_wait_msg(mon, filter, (int)(end - c2d_now_ms()) + 1);
		if(m == NULL) break;
		ev = fx_json(m);
		c2d_msg_free(m);
		if(strcmp(cJSON_GetObjectItem(ev, "type")->valuestring, type) == 0){
			free(filter);
			return ev;
		}
		cJSON_Delete(ev);
	}
	ck_abort_msg("no event %s for %s", type, dev);
	free(filter);
	return NULL;
}

/* The next presence event of sub is `type` and says via gw1. */
static void expect_presence_via(struct c2d_client *mon, const char *sub, const char *type)
{
	cJSON *ev = dev_event(mon, sub, type);
	cJSON *via = cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "data"), "via");

	ck_assert_msg(cJSON_IsString(via) && strcmp(via->valuestring, "gw1") == 0, "%s %s without via gw1: %s", sub,
			type, cJSON_PrintUnformatted(ev));
	cJSON_Delete(ev);
}

/* Connects the gateway; waits until the plugin says each of s1..s3 is
 * online via gw1 and each sub-device's callback said so. */
static void gw_start(struct gwenv *g)
{
	int i;

	td_start(g->gw, g->e.mon);
	for(i = 0; i < 3; i++){
		expect_presence_via(g->e.mon, c2d_device_id(g->s[i]->d), "c2d.presence.connected");
		ck_assert(td_wait(g->s[i], &g->s[i]->connects, 1, TD_WAIT_MS));
	}
}

static int on_status(struct c2d_device *d, const char *method, const void *params, size_t len,
		struct c2d_result *res, void *ud)
{
	char body[64];

	(void)method;
	(void)params;
	(void)len;
	(void)ud;
	snprintf(body, sizeof(body), "{\"who\":\"%s\"}", c2d_device_id(d));
	c2d_result_set(res, body, strlen(body));
	return 201;
}

START_TEST(gateway_api)
{
	struct c2d_device *gw = c2d_device_new("gwa", "127.0.0.1", 1), *d = c2d_device_new("plain", "127.0.0.1", 1);
	struct c2d_device *s1, *s2;

	ck_assert_ptr_nonnull(gw);
	ck_assert_ptr_null(c2d_device_gateway_sub(gw, "gwa"));
	ck_assert_ptr_null(c2d_device_gateway_sub(gw, "a/b"));
	ck_assert_ptr_null(c2d_device_gateway_sub(gw, "$s"));
	ck_assert_ptr_null(c2d_device_gateway_sub(gw, ""));
	s1 = c2d_device_gateway_sub(gw, "s1");
	ck_assert_ptr_nonnull(s1);
	ck_assert_ptr_eq(c2d_device_gateway_sub(gw, "s1"), s1);
	ck_assert_ptr_null(c2d_device_gateway_sub(s1, "s9"));
	ck_assert_ptr_eq(c2d_device_gateway(s1), gw);
	ck_assert_ptr_null(c2d_device_gateway(gw));
	ck_assert_str_eq(c2d_device_id(s1), "s1");
	/* a sub-device has no connection of its own */
	ck_assert_int_eq(c2d_device_connect(s1), C2D_DEVICE_ESTATE);
	ck_assert_int_eq(c2d_device_loop(s1, 0), C2D_DEVICE_ESTATE);
	ck_assert_int_eq(c2d_device_disconnect(s1), C2D_DEVICE_ESTATE);
	ck_assert_int_eq(c2d_device_set_credentials(s1, "u", "p"), C2D_DEVICE_ESTATE);
	ck_assert_int_eq(c2d_device_set_protocol(s1, 4), C2D_DEVICE_ESTATE);
	ck_assert_int_eq(c2d_device_set_keepalive(s1, 30), C2D_DEVICE_ESTATE);
	ck_assert_int_eq(c2d_device_set_reconnect(s1, 100, 200), C2D_DEVICE_ESTATE);
	ck_assert_int_eq(c2d_device_set_info(s1, "[1]"), C2D_DEVICE_EINVAL);
	ck_assert_int_eq(c2d_device_set_info(s1, "{\"model\":\"x\"}"), 0);
	ck_assert_int_eq(c2d_device_set_info(s1, NULL), 0);
	ck_assert_int_eq(c2d_device_is_connected(s1), 0);
	/* but its own handlers, memory of answers, reports and calls */
	ck_assert_int_eq(c2d_device_set_dedup(s1, 8, 1024), 0);
	ck_assert_int_eq(c2d_device_on_rpc(s1, "status", on_status, NULL), 0);
	ck_assert_int_eq(c2d_device_report(s1, "{\"a\":1}"), 0);
	ck_assert_int_eq(c2d_device_call(s1, "time", NULL, 1000, td_on_reply, NULL), 0);
	ck_assert_int_eq(c2d_device_gateway_announce(d), C2D_DEVICE_EINVAL);
	ck_assert_int_eq(c2d_device_gateway_withdraw(d), C2D_DEVICE_EINVAL);
	ck_assert_int_eq(c2d_device_gateway_announce(s1), 0);
	ck_assert_int_eq(c2d_device_set_dedup(s1, 8, 1024), C2D_DEVICE_ESTATE);
	ck_assert_int_eq(c2d_device_is_connected(s1), 0); /* the gateway is not connected */
	/* freeing a sub-device before its gateway, and a new one with that id */
	s2 = c2d_device_gateway_sub(gw, "s2");
	c2d_device_free(s1);
	s1 = c2d_device_gateway_sub(gw, "s1");
	ck_assert_ptr_nonnull(s1);
	ck_assert_int_eq(c2d_device_report(s1, "{\"b\":2}"), 0);
	ck_assert_ptr_eq(c2d_device_gateway_sub(gw, "s2"), s2);
	c2d_device_free(gw); /* frees s1 and s2 (valgrind/ASan check) */
	c2d_device_free(d);
}
END_TEST

/* Every plane through the gateway, each sub-device with its own handlers. */
START_TEST(gateway_planes)
{
	int protocol = PROTOCOLS[_i];
	struct gwenv g;
	struct tdev *s1, *s2, *s3;
	struct c2d_msg *m;
	cJSON *twin, *v, *ev;

	gw_open(&g, NULL, protocol);
	s1 = g.s[0];
	s2 = g.s[1];
	s3 = g.s[2];
	ck_assert_int_eq(c2d_device_on_rpc(s1->d, "status", on_status, NULL), 0);
	s3->rpc_status = 409;
	s3->rpc_reply = "{\"error\":\"busy\"}";
	s2->msg_status = 415;
	ck_assert_int_eq(c2d_device_set_info(s1->d, "{\"model\":\"BLE-1\"}"), 0);
	gw_start(&g);
	/* s1's hello after its announcement: its info, without an "sdk" */
	ev = dev_event(g.e.mon, "s1", "c2d.device.hello");
	v = cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "data"), "info");
	ck_assert_str_eq(cJSON_GetObjectItem(v, "model")->valuestring, "BLE-1");
	ck_assert_ptr_null(cJSON_GetObjectItem(v, "sdk"));
	cJSON_Delete(ev);
	/* RPC: by method on s1, the default handler on s2, a 4xx on s3 */
	m = fx_send(g.e.app, "$c2d/s1/rpc/status", "{}", "c1", NULL, "201");
	ck_assert_str_eq(m->payload, "{\"who\":\"s1\"}");
	c2d_msg_free(m);
	m = fx_send(g.e.app, "$c2d/s2/rpc/status", "{\"n\":2}", "c2", NULL, "200");
	ck_assert_str_eq(m->payload, "{\"n\":2}");
	c2d_msg_free(m);
	m = fx_send(g.e.app, "$c2d/s3/rpc/blink", "", "c3", NULL, "409");
	ck_assert_str_eq(m->payload, "{\"error\":\"busy\"}");
	c2d_msg_free(m);
	ck_assert_int_eq(s1->rpcs, 0);
	ck_assert_int_eq(s2->rpcs, 1);
	ck_assert_str_eq(s2->method, "status");
	ck_assert_int_eq(s3->rpcs, 1);
	ck_assert_int_eq(g.gw->rpcs, 0);
	/* the gateway's own RPC still reaches the gateway */
	c2d_msg_free(fx_send(g.e.app, "$c2d/gw1/rpc/ping", "", "c4", NULL, "200"));
	ck_assert_int_eq(g.gw->rpcs, 1);
	/* messages: completed on s1, rejected by s2's handler */
	c2d_msg_free(fx_send(g.e.app, "$c2d/s1/msg", "to s1", "m1", NULL, "202"));
	m = fx_reply(g.e.app, "m1", "200");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"state\":\"completed\""));
	c2d_msg_free(m);
	ck_assert_str_eq(s1->payload, "to s1");
	c2d_msg_free(fx_send(g.e.app, "$c2d/s2/msg", "to s2", "m2", NULL, "202"));
	m = fx_reply(g.e.app, "m2", "415");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"state\":\"rejected\""));
	c2d_msg_free(m);
	ck_assert_int_eq(s1->msgs + s2->msgs, 2);
	/* desired state: s2 acknowledges its version */
	c2d_msg_free(fx_send(g.e.app, "$c2d/s2/twin/desired", "{\"setpoint\":21}", "d1", NULL, "200"));
	ck_assert(td_wait(s2, &s2->desireds, 1, TD_WAIT_MS));
	ck_assert_str_eq(s2->patch, "{\"setpoint\":21}");
	ev = dev_event(g.e.mon, "s2", "c2d.twin.desired.acknowledged");
	cJSON_Delete(ev);
	ck_assert_int_eq(s1->desireds + s3->desireds, 0);
	/* reported state and a device call from s3, over the gateway's connection */
	td_pause(g.gw);
	ck_assert_int_eq(c2d_device_desired_version(s2->d), 1);
	ck_assert_int_eq(c2d_device_report(s3->d, "{\"temperature\":20.5}"), 0);
	ck_assert_int_eq(c2d_device_call(s3->d, "time", NULL, 5000, td_on_reply, s3), 0);
	td_run(g.gw);
	cJSON_Delete(dev_event(g.e.mon, "s3", "c2d.twin.reported.changed"));
	twin = get_twin(g.e.app, "s3");
	v = cJSON_GetObjectItem(cJSON_GetObjectItem(twin, "reported"), "temperature");
	ck_assert(cJSON_IsNumber(v) && v->valuedouble == 20.5);
	cJSON_Delete(twin);
	ck_assert(td_wait(s3, &s3->replies, 1, TD_WAIT_MS));
	ck_assert_int_eq(s3->reply_status, 200);
	ck_assert_ptr_nonnull(strstr(s3->reply_body, "\"time\":"));
	/* withdrawn: offline at once, a lightweight RPC is 404 */
	td_pause(g.gw);
	ck_assert_int_eq(c2d_device_gateway_withdraw(s3->d), 0);
	ck_assert_int_eq(c2d_device_is_connected(s3->d), 0);
	ck_assert_int_eq(s3->drops, 1);
	td_run(g.gw);
	expect_presence_via(g.e.mon, "s3", "c2d.presence.disconnected");
	c2d_msg_free(fx_send(g.e.app, "$c2d/s3/rpc/blink", "", "c5", NULL, "404"));
	ck_assert_int_eq(s3->rpcs, 1);
	/* the gateway's disconnect takes the others offline */
	td_pause(g.gw);
	ck_assert_int_eq(c2d_device_disconnect(g.gw->d), 0);
	ck_assert_int_eq(s1->drops + s2->drops, 2);
	expect_presence_via(g.e.mon, "s1", "c2d.presence.disconnected");
	expect_presence_via(g.e.mon, "s2", "c2d.presence.disconnected");
	gw_close(&g);
}
END_TEST

/* The broker restarts: the gateway reconnects by itself and announces its
 * sub-devices again, which runs their catch-up (one desired callback with
 * the changes made while they were away). */
START_TEST(gateway_reconnect_reannounces)
{
	int protocol = PROTOCOLS[_i];
	struct gwenv g;
	struct tdev *s1;

	gw_open(&g, NULL, protocol);
	s1 = g.s[0];
	gw_start(&g);
	c2d_msg_free(fx_send(g.e.app, "$c2d/s1/twin/desired", "{\"mode\":\"eco\"}", "d1", NULL, "200"));
	ck_assert(td_wait(s1, &s1->desireds, 1, TD_WAIT_MS));
	cJSON_Delete(dev_event(g.e.mon, "s1", "c2d.twin.desired.acknowledged"));
	td_pause(g.gw);
	ck_assert_int_eq(c2d_broker_stop(g.e.b), 0);
	td_run(g.gw);
	ck_assert(td_wait(s1, &s1->drops, 1, TD_WAIT_MS));
	ck_assert_int_eq(c2d_device_is_connected(s1->d), 0);
	/* a change while the sub-device is away (the broker is back, the
	 * gateway not yet: its loop is paused) */
	td_pause(g.gw);
	ck_assert_int_eq(c2d_broker_restart(g.e.b), 0);
	ck_assert_int_eq(c2d_client_connect(g.e.mon, g.e.b), 0);
	ck_assert_int_eq(c2d_client_subscribe(g.e.mon, EVENTS, 1), 1);
	ck_assert_int_eq(c2d_client_connect(g.e.app, g.e.b), 0);
	ck_assert_int_eq(c2d_client_subscribe(g.e.app, FX_REPLIES, 1), 1);
	c2d_msg_free(fx_send(g.e.app, "$c2d/s1/twin/desired", "{\"level\":3}", "d2", NULL, "200"));
	c2d_msg_free(fx_send(g.e.app, "$c2d/s1/twin/desired", "{\"mode\":\"boost\"}", "d3", NULL, "200"));
	td_run(g.gw);
	ck_assert(td_wait(g.gw, &g.gw->connects, 2, TD_WAIT_MS));
	expect_presence_via(g.e.mon, "s1", "c2d.presence.connected");
	ck_assert(td_wait(s1, &s1->connects, 2, TD_WAIT_MS));
	ck_assert(td_wait(s1, &s1->desireds, 2, TD_WAIT_MS));
	ck_assert_msg(!td_wait(s1, &s1->desireds, 3, 700), "a second desired callback after the catch-up");
	ck_assert_int_eq(s1->version, 3);
	ck_assert_int_eq(s1->full, 0);
	ck_assert_str_eq(s1->patch, "{\"mode\":\"boost\",\"level\":3}");
	/* the list form: all three in one publish */
	ck_assert(c2d_broker_log_contains(g.e.b, "'$c2d/gw1/out/gw/connect', ... (16 bytes)"));
	/* freeing an online sub-device's handle withdraws it */
	td_pause(g.gw);
	c2d_device_free(g.s[1]->d);
	td_run(g.gw);
	expect_presence_via(g.e.mon, "s2", "c2d.presence.disconnected");
	ck_assert(c2d_broker_log_contains(g.e.b, "'$c2d/gw1/out/gw/disconnect/s2'"));
	gw_close(&g);
}
END_TEST

/* A sub-device that is not assigned to the gateway: the platform refuses
 * the announcement (403 to its connection callback), and the sub-device is
 * not reachable through the gateway. */
START_TEST(gateway_unassigned_refused)
{
	int protocol = PROTOCOLS[_i];
	struct gwenv g;
	struct tdev *x;

	gw_open(&g, NULL, protocol);
	x = td_sub(g.gw, "s9");
	ck_assert_int_eq(c2d_device_gateway_announce(x->d), 0);
	gw_start(&g);
	ck_assert(td_wait(x, &x->connects, 1, TD_WAIT_MS)); /* announced */
	ck_assert(td_wait(x, &x->drops, 1, TD_WAIT_MS));    /* refused */
	ck_assert_int_eq(x->last_reason, 403);
	ck_assert_int_eq(c2d_device_is_connected(x->d), 0);
	ck_assert(c2d_broker_log_contains(g.e.b, "'$c2d/gw1/in/reply/gw/s9/403'"));
	c2d_msg_free(fx_send(g.e.app, "$c2d/s9/rpc/ping", "", "c1", NULL, "404"));
	ck_assert_int_eq(x->rpcs, 0);
	/* the assigned ones work */
	c2d_msg_free(fx_send(g.e.app, "$c2d/s1/rpc/ping", "", "c2", NULL, "200"));
	ck_assert_int_eq(g.s[0]->rpcs, 1);
	td_pause(g.gw);
	td_free(x);
	gw_close(&g);
}
END_TEST

/* The gateway may not answer for s1 at first (an ACL without s1's out/res):
 * the answer is lost; after a broker restart that allows it, the plugin
 * delivers q1 to s1 again and the library answers it from s1's memory: the
 * handler ran once. */
static const char ACL_GW_NO_S1_ANSWERS[] = "topic write $c2d/+/rpc/#\n"
		"topic write $CONTROL/c2d/v1\n"
		"topic read $c2d/+/events/#\n"
		"topic readwrite replies/#\n"
		"pattern write $c2d/%c/out/#\n"
		"topic write $c2d/s2/out/#\n"
		"topic write $c2d/s3/out/#\n"
		"topic write $c2d/s1/out/reported\n";
static const char ACL_GW_ANSWERS[] = "topic write $c2d/+/rpc/#\n"
		"topic read $c2d/+/events/#\n"
		"topic readwrite replies/#\n"
		"pattern write $c2d/%c/out/#\n"
		"topic write $c2d/s1/out/#\n"
		"topic write $c2d/s2/out/#\n"
		"topic write $c2d/s3/out/#\n";

START_TEST(gateway_redelivery_from_memory)
{
	struct gwenv g;
	struct tdev *s1;

	gw_open(&g, &(struct c2d_broker_opts){.acl = ACL_GW_NO_S1_ANSWERS}, V5);
	s1 = g.s[0];
	s1->rpc_reply = "{\"turns\":1}";
	gw_start(&g);
	c2d_msg_free(fx_send(g.e.app, "$c2d/s1/rpc/turn", "{}", "t1", PERSISTENT, "202"));
	ck_assert(td_wait(s1, &s1->rpcs, 1, TD_WAIT_MS));
	ck_assert(c2d_broker_wait_log(g.e.b, "'$c2d/s1/out/res/q1/200', ... (11 bytes)", TD_WAIT_MS));
	ck_assert(c2d_broker_log_contains(g.e.b, "Denied PUBLISH from gw1"));
	td_pause(g.gw);
	ck_assert_ptr_nonnull(c2d_broker_write_file(g.e.b, "acl", ACL_GW_ANSWERS));
	ck_assert_int_eq(c2d_broker_restart(g.e.b), 0);
	ck_assert_int_eq(c2d_client_connect(g.e.mon, g.e.b), 0);
	ck_assert_int_eq(c2d_client_subscribe(g.e.mon, EVENTS, 1), 1);
	td_run(g.gw);
	ck_assert(td_wait(g.gw, &g.gw->connects, 2, TD_WAIT_MS));
	c2d_msg_free(fx_skip_to_event(g.e.mon, "c2d.rpc.successful", "q1"));
	ck_assert_int_eq(s1->rpcs, 1);
	ck_assert(c2d_broker_log_contains(g.e.b, "'$c2d/s1/in/rpc/turn/q1'"));
	gw_close(&g);
}
END_TEST

TCase *tc_gateway(void)
{
	TCase *tc = tcase_create("gateway");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, gateway_api);
	tcase_add_loop_test(tc, gateway_planes, 0, 2);
	tcase_add_loop_test(tc, gateway_reconnect_reannounces, 0, 2);
	tcase_add_loop_test(tc, gateway_unassigned_refused, 0, 2);
	tcase_add_test(tc, gateway_redelivery_from_memory);
	return tc;
}
