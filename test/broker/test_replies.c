/* Replies go to the requester and nobody else (protocol-v2 section 1), with
 * the broker's own authorization (password_file + acl_file). The requester
 * `cmd` may only write $c2d/+/rpc/#, $c2d/+/msg and $CONTROL/c2d/v1 and read
 * its own replies/cmd/#; it names `victim/cmd` (which only `victim` may use)
 * as its Response Topic. Every plugin-made status, message feedback, a
 * persistent RPC's result and a device's answer bytes then reach `cmd`
 * alone: the victim's subscription sees nothing. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mqtt_protocol.h>

#include "fixture.h"
#include "harness.h"
#include "../check_main.h"

#define V5 MQTT_PROTOCOL_V5
#define V3 MQTT_PROTOCOL_V311
#define QUIET 500

static const char *const users_plain =
	"cmd:pw-cmd\nvictim:pw-victim\nlamp:pw-lamp\nmon:pw-mon\n";

static const char *const acl =
	"user cmd\n"
	"topic write $c2d/+/rpc/#\n"
	"topic write $c2d/+/msg\n"
	"topic write $CONTROL/c2d/v1\n"
	"topic read replies/cmd/#\n"
	"\n"
	"user victim\n"
	"topic readwrite victim/#\n"
	"\n"
	"user mon\n"
	"topic read $c2d/+/events/#\n"
	"\n"
	"pattern readwrite $c2d/%c/out/#\n"
	"pattern read $c2d/%c/in/#\n";

struct world {
	struct c2d_broker *b;
	struct c2d_client *cmd, *victim, *mon;
};

static struct c2d_client *login(struct c2d_broker *b, const char *id, int protocol, bool clean)
{
	struct c2d_client *c = c2d_client_new(id, protocol, clean);
	char *pass = c2d_strf("pw-%s", id);

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c2d_client_set_login(c, id, pass), 0);
	if(!clean) c2d_client_set_session_expiry(c, 3600);
	ck_assert_int_eq(c2d_client_connect(c, b), 0);
	free(pass);
	return c;
}

static void world_start(struct world *w, bool persistent_cmd)
{
	memset(w, 0, sizeof(*w));
	w->b = fx_start_login(users_plain, acl, NULL);
	w->cmd = login(w->b, "cmd", V5, !persistent_cmd);
	w->victim = login(w->b, "victim", V5, true);
	ck_assert_int_eq(c2d_client_subscribe(w->victim, "victim/#", 1), 1);
	w->mon = login(w->b, "mon", V5, true);
	ck_assert_int_eq(c2d_client_subscribe(w->mon, "$c2d/+/events/#", 1), 1);
}

static void world_free(struct world *w)
{
	c2d_client_destroy(w->mon);
	c2d_client_destroy(w->victim);
	c2d_client_destroy(w->cmd);
	c2d_broker_cleanup(w->b);
}

/* cmd publishes with Response Topic resp and correlation data corr and user
 * properties user (key, value, ..., NULL or NULL). Returns the PUBACK code. */
static int cmd_publish(struct world *w, const char *topic, const char *payload, const char *resp,
		const char *corr, const char *const *user)
{
	struct c2d_props p = {.response_topic = resp, .corr = corr, .user = user};
	mosquitto_property *props = c2d_props_build(&p);
	int rc = c2d_client_publish(w->cmd, topic, payload, -1, 1, false, props);

	mosquitto_property_free_all(&props);
	return rc;
}

/* The next message cmd gets with correlation data corr, on topic resp, with
 * user property status = status. Returns it (caller owns). */
static struct c2d_msg *cmd_reply(struct world *w, const char *resp, const char *corr, const char *status)
{
	struct c2d_msg *m = c2d_client_wait_corr(w->cmd, resp, corr, (int)strlen(corr), FX_WAIT_MS);

	ck_assert_msg(m != NULL, "cmd got no reply %s on %s", corr, resp);
	ck_assert_str_eq(m->topic, resp);
	ck_assert_str_eq(c2d_msg_user_prop(m, "status"), status);
	return m;
}

/* The device answers delivery `call` (borrowed) with status 200 and payload. */
static void answer(struct c2d_client *lamp, const struct c2d_msg *call, const char *payload)
{
	char *topic = c2d_strf("$c2d/lamp/out/res/%s/200", strrchr(call->topic, '/') + 1);
	int rc;

	rc = c2d_client_publish(lamp, topic, payload, -1, 1, false, NULL);
	ck_assert_msg(rc == 0 || rc == 0x10, "answer %s: %d", topic, rc);
	free(topic);
}

static void victim_sees_nothing(struct world *w)
{
	ck_assert(c2d_client_expect_none(w->victim, NULL, QUIET));
}

/* Plugin-made statuses: 404 offline, 400 bad options, 202 accepted, and
 * message feedback (final state) all reach cmd only. */
START_TEST(test_statuses_only_to_requester)
{
	static const char *const bad_timeout[] = {"timeout", "nope", NULL};
	struct world w;
	struct c2d_client *lamp;
	struct c2d_msg *m;

	world_start(&w, false);
	ck_assert_int_lt(cmd_publish(&w, "$c2d/lamp/rpc/blink", "{}", "victim/cmd", "r404", NULL), 0x80);
	m = cmd_reply(&w, "victim/cmd", "r404", "404");
	ck_assert_ptr_nonnull(strstr(m->payload, "device is offline"));
	c2d_msg_free(m);
	ck_assert_int_lt(cmd_publish(&w, "$c2d/lamp/rpc/blink", "{}", "victim/cmd", "r400", bad_timeout), 0x80);
	c2d_msg_free(cmd_reply(&w, "victim/cmd", "r400", "400"));
	ck_assert_int_lt(cmd_publish(&w, "$c2d/lamp/msg", "hello", "victim/cmd", "m1", NULL), 0x80);
	m = cmd_reply(&w, "victim/cmd", "m1", "202");
	ck_assert_str_eq(m->payload, "{\"id\":\"q1\",\"status\":202}");
	c2d_msg_free(m);
	/* the device completes q1: the feedback goes to cmd only */
	lamp = login(w.b, "lamp", V3, true);
	c2d_msg_free(c2d_client_wait_msg(lamp, "$c2d/lamp/in/msg/q1", FX_WAIT_MS));
	fx_answer(lamp, "lamp", "q1", 200);
	m = cmd_reply(&w, "victim/cmd", "m1", "200");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"state\":\"completed\""));
	c2d_msg_free(m);
	victim_sees_nothing(&w);
	c2d_client_destroy(lamp);
	world_free(&w);
}
END_TEST

/* A lightweight RPC's answer bytes, from a v5 and a v3.1.1 device, reach cmd
 * only; so do a persistent RPC's 202 and final result. */
START_TEST(test_device_answers_only_to_requester)
{
	static const char *const persistent[] = {"persistent", "true", NULL};
	struct world w;
	struct c2d_client *lamp;
	struct c2d_msg *m, *call;
	int protocol = _i ? V3 : V5;

	world_start(&w, false);
	lamp = login(w.b, "lamp", protocol, true);
	c2d_msg_free(fx_skip_to_event(w.mon, "c2d.presence.connected", NULL));
	ck_assert_int_lt(cmd_publish(&w, "$c2d/lamp/rpc/blink", "{\"n\":1}", "victim/cmd", "l1", NULL), 0x80);
	call = c2d_client_wait_msg(lamp, "$c2d/lamp/in/rpc/blink/#", FX_WAIT_MS);
	ck_assert_ptr_nonnull(call);
	answer(lamp, call, "secret-bytes");
	m = cmd_reply(&w, "victim/cmd", "l1", "200");
	ck_assert_str_eq(m->payload, "secret-bytes");
	c2d_msg_free(m);
	c2d_msg_free(call);
	/* persistent RPC: 202 now, the device's result later */
	ck_assert_int_lt(cmd_publish(&w, "$c2d/lamp/rpc/reboot", "{}", "victim/cmd", "p1", persistent), 0x80);
	c2d_msg_free(cmd_reply(&w, "victim/cmd", "p1", "202"));
	call = c2d_client_wait_msg(lamp, "$c2d/lamp/in/rpc/reboot/#", FX_WAIT_MS);
	ck_assert_ptr_nonnull(call);
	answer(lamp, call, "rebooted");
	m = cmd_reply(&w, "victim/cmd", "p1", "200");
	ck_assert_str_eq(m->payload, "rebooted");
	c2d_msg_free(m);
	c2d_msg_free(call);
	victim_sees_nothing(&w);
	c2d_client_destroy(lamp);
	world_free(&w);
}
END_TEST

/* Admin responses on a v5 Response Topic go to the requester alone. */
START_TEST(test_admin_reply_only_to_requester)
{
	struct world w;
	struct c2d_msg *m;

	world_start(&w, false);
	ck_assert_int_lt(cmd_publish(&w, "$CONTROL/c2d/v1", "{\"commands\":[{\"command\":\"getStats\"}]}",
			"victim/cmd", "a1", NULL), 0x80);
	m = cmd_reply(&w, "victim/cmd", "a1", "200");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"getStats\""));
	c2d_msg_free(m);
	victim_sees_nothing(&w);
	world_free(&w);
}
END_TEST

/* A requester with a persistent session that is offline when the result
 * comes gets it on reconnecting; one with a clean session that left gets
 * nothing, and the event is published either way. */
START_TEST(test_result_after_requester_left)
{
	static const char *const persistent[] = {"persistent", "true", NULL};
	bool keep = _i == 0;
	struct world w;
	struct c2d_client *lamp;
	struct c2d_msg *m, *call;

	world_start(&w, keep);
	ck_assert_int_lt(cmd_publish(&w, "$c2d/lamp/rpc/reboot", "{}", "replies/cmd/r", "p1", persistent), 0x80);
	c2d_msg_free(cmd_reply(&w, "replies/cmd/r", "p1", "202"));
	ck_assert_int_eq(c2d_client_disconnect(w.cmd), 0);
	lamp = login(w.b, "lamp", V5, true);
	call = c2d_client_wait_msg(lamp, "$c2d/lamp/in/rpc/reboot/#", FX_WAIT_MS);
	ck_assert_ptr_nonnull(call);
	answer(lamp, call, "done");
	c2d_msg_free(call);
	c2d_msg_free(fx_skip_to_event(w.mon, "c2d.rpc.successful", "q1"));
	ck_assert_int_eq(c2d_client_connect(w.cmd, w.b), 0);
	if(keep){
		m = cmd_reply(&w, "replies/cmd/r", "p1", "200");
		ck_assert_str_eq(m->payload, "done");
		c2d_msg_free(m);
	}else{
		ck_assert(c2d_client_expect_none(w.cmd, NULL, QUIET));
	}
	victim_sees_nothing(&w);
	c2d_client_destroy(lamp);
	world_free(&w);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("replies");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_statuses_only_to_requester);
	tcase_add_loop_test(tc, test_device_answers_only_to_requester, 0, 2);
	tcase_add_test(tc, test_admin_reply_only_to_requester);
	tcase_add_loop_test(tc, test_result_after_requester_left, 0, 2);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
