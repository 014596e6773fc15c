/* Gateways (protocol-v2 section 4) against the real broker: the registry
 * (setGateway, clearGateway, getDevice, durable, limits), announcements
 * (single and list form, presence with "via"), every plane through a v5 and
 * a v3.1.1 gateway (twin push + ack, message + feedback, lightweight and
 * persistent RPC, a device call, reported state), announce/disconnect
 * cycles and the gateway's connection ending, pending lightweight RPCs when
 * the gateway drops, 403 for unassigned devices, a sub-device's direct
 * connection taking precedence, a restart with work pending for
 * sub-devices, and two gateways kept apart under password_file + acl_file. */
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
#define QUIET_MS 500

static const int protocols[] = {V5, V311};

struct world {
	struct c2d_broker *b;
	struct c2d_client *app; /* application and operator, v5 */
	struct c2d_client *mon; /* $c2d/+/events/# */
};

static void world_start(struct world *w)
{
	w->b = fx_start(NULL);
	w->app = fx_app(w->b, FX_REPLIES);
	w->mon = fx_monitor(w->b, "$c2d/+/events/#");
}

static void world_end(struct world *w)
{
	c2d_client_destroy(w->app);
	c2d_client_destroy(w->mon);
	c2d_broker_cleanup(w->b);
}

/* One admin command through app; it must succeed. Returns its data (a
 * duplicate, caller owns). */
static cJSON *admin_ok(struct c2d_client *app, const char *cmd)
{
	cJSON *resp, *root = fx_admin(app, cmd, &resp), *data;

	ck_assert_msg(cJSON_GetObjectItem(resp, "error") == NULL, "%s: %s", cmd,
			cJSON_GetStringValue(cJSON_GetObjectItem(resp, "error")));
	data = cJSON_Duplicate(cJSON_GetObjectItem(resp, "data"), true);
	cJSON_Delete(root);
	ck_assert_ptr_nonnull(data);
	return data;
}

/* One admin command that must fail with an error containing want. */
static void admin_err(struct c2d_client *app, const char *cmd, const char *want)
{
	cJSON *resp, *root = fx_admin(app, cmd, &resp);
	const char *err = cJSON_GetStringValue(cJSON_GetObjectItem(resp, "error"));

	ck_assert_msg(err && strstr(err, want), "%s: error %s, want %s", cmd, err ? err : "(none)", want);
	cJSON_Delete(root);
}

static void set_gateway(struct world *w, const char *gw, const char *devices)
{
	char *cmd = c2d_strf("{\"command\":\"setGateway\",\"gateway\":\"%s\",\"devices\":%s}", gw, devices);

	cJSON_Delete(admin_ok(w->app, cmd));
	free(cmd);
}

/* getDevice dev: the data (caller owns). */
static cJSON *get_device(struct world *w, const char *dev)
{
	char *cmd = c2d_strf("{\"command\":\"getDevice\",\"device\":\"%s\"}", dev);
	cJSON *d = admin_ok(w->app, cmd);

	free(cmd);
	return d;
}

/* getDevice says dev is online (or not), through via (NULL: not through a
 * gateway). */
static void expect_online(struct world *w, const char *dev, bool online, const char *via)
{
	cJSON *d = get_device(w, dev);
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(d, "via"));

	ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(d, "online")) == online, "%s online: want %d", dev, online);
	if(via) ck_assert_pstr_eq(v, via);
	else ck_assert_ptr_null(v);
	cJSON_Delete(d);
}

/* The next presence event of dev is `type` with data.via == via. */
static void expect_presence(struct world *w, const char *dev, const char *type, const char *via)
{
	cJSON *ev = fx_expect_event(w->mon, dev, "presence", type);
	cJSON *data = cJSON_GetObjectItem(ev, "data");

	ck_assert_pstr_eq(cJSON_GetStringValue(cJSON_GetObjectItem(data, "via")), via);
	cJSON_Delete(ev);
}

static void publish(struct c2d_client *c, const char *topic, const char *payload)
{
	int rc = c2d_client_publish(c, topic, payload, payload ? -1 : 0, 1, false, NULL);

	ck_assert_msg(rc >= 0 && rc < 0x80, "publish %s: %d", topic, rc);
}

/* gw (client gwid) announces sub: single form; waits for its presence. */
static void announce(struct world *w, struct c2d_client *gw, const char *gwid, const char *sub)
{
	char *topic = c2d_strf("$c2d/%s/out/gw/connect/%s", gwid, sub);

	publish(gw, topic, NULL);
	expect_presence(w, sub, "c2d.presence.connected", gwid);
	free(topic);
}

/* A delivery on $c2d/{dev}/in/{path}/+ reaching client c. Returns its id
 * (caller frees). */
static char *delivered(struct c2d_client *c, const char *dev, const char *path)
{
	char *filter = c2d_strf("$c2d/%s/in/%s/+", dev, path), *id;
	struct c2d_msg *m = c2d_client_wait_msg(c, filter, FX_WAIT_MS);

	ck_assert_msg(m != NULL, "%s: no delivery on %s", c2d_client_id(c), filter);
	id = strdup(strrchr(m->topic, '/') + 1);
	c2d_msg_free(m);
	free(filter);
	return id;
}

/* c answers delivery id (consumed) of sub with 200 and body, as the
 * sub-device or its gateway. */
static void answer_body(struct c2d_client *c, const char *sub, char *id, const char *body)
{
	char *topic = c2d_strf("$c2d/%s/out/res/%s/200", sub, id);

	publish(c, topic, body);
	free(topic);
	free(id);
}

/* An application request with correlation data corr and user properties
 * (NULL-terminated pairs, may be NULL), without waiting for a reply. */
static void send_req(struct world *w, const char *topic, const char *payload, const char *corr, const char *const *user)
{
	struct c2d_props p = {.response_topic = FX_REPLIES, .corr = corr, .user = user};
	mosquitto_property *props = c2d_props_build(&p);

	ck_assert_int_lt(c2d_client_publish(w->app, topic, payload, -1, 1, false, props), 0x80);
	mosquitto_property_free_all(&props);
}

/* The gateway's refusal for sub on $c2d/{gw}/in/reply/gw/{sub}/403. */
static void expect_refused(struct c2d_client *gw, const char *gwid, const char *sub)
{
	char *topic = c2d_strf("$c2d/%s/in/reply/gw/%s/403", gwid, sub);
	struct c2d_msg *m = c2d_client_wait_msg(gw, topic, FX_WAIT_MS);
	cJSON *j;

	ck_assert_msg(m != NULL, "no refusal on %s", topic);
	j = fx_json(m);
	ck_assert_int_eq(cJSON_GetObjectItem(j, "status")->valueint, 403);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "device")), sub);
	cJSON_Delete(j);
	c2d_msg_free(m);
	free(topic);
}

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

static Suite *gateway_suite(void)
{
	Suite *s = suite_create("gateway");
	TCase *tc = tcase_create("gateway");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, registry_durable_and_limits);
	tcase_add_loop_test(tc, planes_through_gateway, 0, 2);
	tcase_add_loop_test(tc, announce_disconnect_cycles, 0, 2);
	tcase_add_test(tc, gateway_drop_fails_pending_rpcs);
	tcase_add_loop_test(tc, unassigned_403, 0, 2);
	tcase_add_test(tc, direct_connect_precedence);
	tcase_add_test(tc, restart_with_pending_sub_devices);
	tcase_add_loop_test(tc, two_gateways_isolated, 0, 2);
	tcase_add_test(tc, cli_walkthrough);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return c2d_check_run(gateway_suite());
}
