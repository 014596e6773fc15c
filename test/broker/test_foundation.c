/* Foundation, against the real broker: the plugin loads and refuses bad
 * configurations, presence events (v5, v3.1.1, takeover, refused connects,
 * SIGHUP), the one-writer guard, and the store surviving a restart. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <mqtt_protocol.h>

#include "fixture.h"
#include "harness.h"
#include "../check_main.h"

#define V5 MQTT_PROTOCOL_V5
#define V311 MQTT_PROTOCOL_V311

START_TEST(loads_and_logs)
{
	struct c2d_broker *b = c2d_broker_start(NULL);

	ck_assert_ptr_nonnull(b);
	ck_assert(c2d_broker_log_contains(b, "c2d: mosquitto-c2d loaded"));
	ck_assert(c2d_broker_log_contains(b, "sync full"));
	c2d_broker_cleanup(b);
}
END_TEST

/* plugin_opt_log_level: a DEBUG line (the guard's drop) is written at
 * debug and not at info; an INFO line (a 400) is written at both. The INFO
 * line comes after the DEBUG one from the same client, so once it is in the
 * log the DEBUG one would be too. */
START_TEST(log_level_drops_debug)
{
	static const char *const levels[] = {"debug", "info"};
	const char *drop = "c2d: dropped publish to '$c2d/victim/out/reported' from 'evil'";
	const char *info = "c2d: 400 for '$c2d/$bad/twin/get' from 'evil': invalid device id";
	int i;

	for(i = 0; i < 2; i++){
		char *opt = c2d_strf("plugin_opt_log_level %s\n", levels[i]);
		struct c2d_broker_opts o = {.plugin_opts = opt};
		struct c2d_broker *b = c2d_broker_start(&o);
		struct c2d_client *evil;

		ck_assert_ptr_nonnull(b);
		evil = c2d_client_new_connected(b, "evil", V5, true);
		ck_assert_ptr_nonnull(evil);
		ck_assert_int_eq(c2d_client_publish(evil, "$c2d/victim/out/reported", "{}", -1, 1, false, NULL), 0x87);
		ck_assert_int_eq(c2d_client_publish(evil, "$c2d/$bad/twin/get", NULL, 0, 1, false, NULL), 0x87);
		ck_assert_msg(c2d_broker_wait_log(b, info, 3000), "log_level %s: no INFO line", levels[i]);
		ck_assert_msg(c2d_broker_log_contains(b, drop) == (i == 0), "log_level %s: DEBUG line %s", levels[i],
				i == 0 ? "missing" : "written");
		c2d_client_destroy(evil);
		c2d_broker_cleanup(b);
		free(opt);
	}
}
END_TEST

START_TEST(bad_options_refuse_to_start)
{
	static const struct {
		const char *opts;
		const char *log;
	} cases[] = {
		{"plugin_opt_bogus 1\n", "plugin_opt_bogus"},
		{"plugin_opt_sync fast\n", "plugin_opt_sync: 'fast'"},
		{"plugin_opt_map_size 0\n", "plugin_opt_map_size"},
		{"plugin_opt_msg_ttl 10\nplugin_opt_msg_ttl_max 5\n", "plugin_opt_msg_ttl"},
	};
	struct c2d_broker_opts o = {.expect_fail = true};
	struct c2d_broker *b;
	size_t i;

	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++){
		o.plugin_opts = cases[i].opts;
		b = c2d_broker_start(&o);
		ck_assert_msg(b != NULL, "broker ran with %s", cases[i].opts);
		ck_assert(c2d_broker_log_contains(b, "refusing to start"));
		ck_assert_msg(c2d_broker_log_contains(b, cases[i].log), "log lacks %s", cases[i].log);
		c2d_broker_cleanup(b);
	}
}
END_TEST

START_TEST(per_listener_settings_refused)
{
	struct c2d_broker_opts o = {.expect_fail = true, .conf_pre = "per_listener_settings true\n"};
	struct c2d_broker *b = c2d_broker_start(&o);

	ck_assert_ptr_nonnull(b);
	ck_assert(c2d_broker_log_contains(b, "per_listener_settings"));
	c2d_broker_cleanup(b);
}
END_TEST

START_TEST(db_path_not_writable_refused)
{
	struct c2d_broker_opts o = {.expect_fail = true, .plugin_opts = "plugin_opt_db_path @DIR@/file/db\n",
		.files = (const struct c2d_broker_file[]){{"file", "x"}, {NULL, NULL}}};
	struct c2d_broker *b = c2d_broker_start(&o);

	ck_assert_ptr_nonnull(b);
	ck_assert(c2d_broker_log_contains(b, "refusing to start"));
	c2d_broker_cleanup(b);
}
END_TEST

static void presence_for(int protocol)
{
	struct c2d_broker *b = c2d_broker_start(NULL);
	struct c2d_client *mon, *dev;
	cJSON *ev;

	ck_assert_ptr_nonnull(b);
	mon = fx_subscriber(b, "monitor", "$c2d/+/events/presence");
	dev = fx_client(b, "dev-p", protocol);
	ev = fx_expect_event(mon, "dev-p", "presence", "c2d.presence.connected");
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "data"), "protocolVersion")->valueint,
			protocol == V5 ? 5 : 4);
	cJSON_Delete(ev);
	ck_assert_int_eq(c2d_client_disconnect(dev), 0);
	cJSON_Delete(fx_expect_event(mon, "dev-p", "presence", "c2d.presence.disconnected"));
	/* a dropped connection (no DISCONNECT) counts too */
	ck_assert_int_eq(c2d_client_connect(dev, b), 0);
	cJSON_Delete(fx_expect_event(mon, "dev-p", "presence", "c2d.presence.connected"));
	ck_assert_int_eq(c2d_client_drop(dev), 0);
	cJSON_Delete(fx_expect_event(mon, "dev-p", "presence", "c2d.presence.disconnected"));
	ck_assert(c2d_client_expect_none(mon, NULL, 300));
	c2d_client_destroy(dev);
	c2d_client_destroy(mon);
	c2d_broker_cleanup(b);
}

START_TEST(presence_v5)
{
	presence_for(V5);
}
END_TEST

START_TEST(presence_v311)
{
	presence_for(V311);
}
END_TEST

/* The same id connecting again: one connected event, no disconnected. */
START_TEST(presence_takeover)
{
	struct c2d_broker *b = c2d_broker_start(NULL);
	struct c2d_client *mon, *a, *a2;

	ck_assert_ptr_nonnull(b);
	mon = fx_subscriber(b, "monitor", "$c2d/+/events/presence");
	a = c2d_client_new_connected(b, "dev-t", V5, true);
	ck_assert_ptr_nonnull(a);
	cJSON_Delete(fx_expect_event(mon, "dev-t", "presence", "c2d.presence.connected"));
	a2 = c2d_client_new_connected(b, "dev-t", V311, true);
	ck_assert_ptr_nonnull(a2);
	cJSON_Delete(fx_expect_event(mon, "dev-t", "presence", "c2d.presence.connected"));
	ck_assert(c2d_client_expect_none(mon, NULL, 500));
	ck_assert_int_eq(c2d_client_wait_disconnect(a, 3000) >= 0, 1);
	ck_assert_int_eq(c2d_client_disconnect(a2), 0);
	cJSON_Delete(fx_expect_event(mon, "dev-t", "presence", "c2d.presence.disconnected"));
	c2d_client_destroy(a);
	c2d_client_destroy(a2);
	c2d_client_destroy(mon);
	c2d_broker_cleanup(b);
}
END_TEST

/* A CONNECT refused by the password file after our BASIC_AUTH is no presence. */
START_TEST(presence_refused_connect)
{
	struct c2d_broker *b = fx_start_login("dev-r:right\nmonitor:m\n", NULL, "allow_anonymous false\n");
	struct c2d_client *mon, *dev;

	mon = fx_login(b, "monitor", "m", V5);
	ck_assert_int_eq(c2d_client_subscribe(mon, "$c2d/+/events/presence", 1), 1);
	dev = c2d_client_new("dev-r", V5, true);
	ck_assert_int_eq(c2d_client_set_login(dev, "dev-r", "wrong"), 0);
	ck_assert_int_ne(c2d_client_connect(dev, b), 0);
	ck_assert(c2d_client_expect_none(mon, NULL, 600));
	ck_assert_int_eq(c2d_client_set_login(dev, "dev-r", "right"), 0);
	ck_assert_int_eq(c2d_client_connect(dev, b), 0);
	cJSON_Delete(fx_expect_event(mon, "dev-r", "presence", "c2d.presence.connected"));
	c2d_client_destroy(dev);
	c2d_client_destroy(mon);
	c2d_broker_cleanup(b);
}
END_TEST

/* SIGHUP re-authenticates every session, offline persistent ones too: that
 * must not make an offline device online. */
START_TEST(sighup_keeps_offline_sessions_offline)
{
	struct c2d_broker *b = c2d_broker_start(NULL);
	struct c2d_client *mon, *dev, *app;
	struct c2d_request rq = {.topic = "$c2d/dev-s/rpc/ping", .payload = "", .len = 0, .qos = 1};
	struct c2d_msg *m;

	ck_assert_ptr_nonnull(b);
	mon = fx_subscriber(b, "monitor", "$c2d/+/events/presence");
	dev = c2d_client_new("dev-s", V5, false);
	c2d_client_set_session_expiry(dev, 3600);
	ck_assert_int_eq(c2d_client_connect(dev, b), 0);
	cJSON_Delete(fx_expect_event(mon, "dev-s", "presence", "c2d.presence.connected"));
	ck_assert_int_eq(c2d_client_disconnect(dev), 0);
	cJSON_Delete(fx_expect_event(mon, "dev-s", "presence", "c2d.presence.disconnected"));

	ck_assert_int_eq(c2d_broker_sighup(b), 0);
	ck_assert(c2d_client_expect_none(mon, NULL, 800));
	app = c2d_client_new_connected(b, "app", V5, true);
	ck_assert_ptr_nonnull(app);
	m = c2d_client_request(app, &rq);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(c2d_msg_user_prop(m, "status"), "404");
	c2d_msg_free(m);
	c2d_client_destroy(app);
	c2d_client_destroy(dev);
	c2d_client_destroy(mon);
	c2d_broker_cleanup(b);
}
END_TEST

/* One writer per topic: plugin-only and other devices' topics are dropped. */
START_TEST(one_writer_guard)
{
	static const char *const denied[] = {
		"$c2d/victim/out/reported", "$c2d/victim/out/res/t1", "$c2d/victim/out/call/time/r1",
		"$c2d/evil/in/twin/t1", "$c2d/victim/events/presence", "$c2d/victim/call/x",
		"$c2d/victim/bogus", "$c2d/victim/twin", "$c2d/victim/out/res/t1/999",
	};
	struct c2d_broker *b = c2d_broker_start(NULL);
	struct c2d_client *evil, *watch, *victim;
	size_t i;
	int rc;

	ck_assert_ptr_nonnull(b);
	watch = c2d_client_new_connected(b, "watch", V5, true);
	ck_assert_int_eq(c2d_client_subscribe(watch, "$c2d/#", 1), 1);
	victim = c2d_client_new_connected(b, "victim", V5, true);
	evil = c2d_client_new_connected(b, "evil", V5, true);
	ck_assert_ptr_nonnull(evil);
	c2d_msg_free(c2d_client_wait_msg(watch, "$c2d/evil/events/presence", 3000));
	c2d_client_inbox_clear(watch);
	for(i = 0; i < sizeof(denied) / sizeof(denied[0]); i++){
		rc = c2d_client_publish(evil, denied[i], "{\"x\":1}", -1, 1, true, NULL);
		ck_assert_msg(rc == 0x87, "publish to %s: reason %d, want 0x87", denied[i], rc);
	}
	ck_assert(c2d_client_expect_none(watch, "$c2d/victim/#", 300));
	ck_assert(c2d_client_expect_none(victim, NULL, 100));
	/* the device itself may write its out/ topics */
	rc = c2d_client_publish(victim, "$c2d/victim/out/reported", "{\"x\":1}", -1, 1, false, NULL);
	ck_assert_msg(rc == 0 || rc == 0x10, "own reported: reason %d", rc);
	/* a bad device id is refused with 400 (and the publish is dropped) */
	{
		struct c2d_props pp = {.response_topic = "replies/evil", .corr = "k1"};
		mosquitto_property *props = c2d_props_build(&pp);
		struct c2d_msg *m;

		ck_assert_int_eq(c2d_client_subscribe(evil, "replies/evil", 1), 1);
		ck_assert_int_eq(c2d_client_publish(evil, "$c2d/$bad/twin/get", NULL, 0, 1, false, props), 0x87);
		m = c2d_client_wait_corr(evil, "replies/evil", "k1", 2, 3000);
		ck_assert_ptr_nonnull(m);
		ck_assert_str_eq(c2d_msg_user_prop(m, "status"), "400");
		c2d_msg_free(m);
		mosquitto_property_free_all(&props);
	}
	ck_assert(c2d_client_is_connected(evil));
	c2d_client_destroy(evil);
	c2d_client_destroy(victim);
	c2d_client_destroy(watch);
	c2d_broker_cleanup(b);
}
END_TEST

/* Requests the plugin consumes are not retained; v3.1.1 is guarded too. */
START_TEST(not_retained_and_v311_guard)
{
	struct c2d_broker *b = c2d_broker_start(NULL);
	struct c2d_client *app, *late, *evil;

	ck_assert_ptr_nonnull(b);
	app = c2d_client_new_connected(b, "app", V5, true);
	ck_assert_int_lt(c2d_client_publish(app, "$c2d/d9/twin/desired", "{\"a\":1}", -1, 1, true, NULL), 0x80);
	late = c2d_client_new_connected(b, "late", V5, true);
	ck_assert_int_eq(c2d_client_subscribe(late, "$c2d/d9/twin/desired", 1), 1);
	ck_assert(c2d_client_expect_none(late, NULL, 300));
	evil = c2d_client_new_connected(b, "evil3", V311, true);
	ck_assert_int_eq(c2d_client_subscribe(late, "$c2d/d9/out/#", 1), 1);
	ck_assert_int_eq(c2d_client_publish(evil, "$c2d/d9/out/reported", "{\"a\":1}", -1, 1, false, NULL), 0);
	ck_assert(c2d_client_expect_none(late, NULL, 300));
	ck_assert(c2d_client_is_connected(evil));
	c2d_client_destroy(evil);
	c2d_client_destroy(late);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

START_TEST(restart_keeps_store)
{
	struct c2d_broker *b = c2d_broker_start(NULL);
	struct c2d_client *app;
	struct c2d_request set = {.topic = "$c2d/d1/twin/desired", .payload = "{\"a\":1}", .len = -1, .qos = 1};
	struct c2d_request get = {.topic = "$c2d/d1/twin/get", .payload = "", .len = 0, .qos = 1};
	struct c2d_msg *m;

	ck_assert_ptr_nonnull(b);
	app = c2d_client_new_connected(b, "app", V5, true);
	m = c2d_client_request(app, &set);
	ck_assert_ptr_nonnull(m);
	c2d_msg_free(m);
	c2d_client_destroy(app);
	ck_assert_int_eq(c2d_broker_kill9(b), 0);
	ck_assert_int_eq(c2d_broker_restart(b), 0);
	app = c2d_client_new_connected(b, "app", V5, true);
	m = c2d_client_request(app, &get);
	ck_assert_ptr_nonnull(m);
	ck_assert_msg(strstr(m->payload, "\"desired\":{\"a\":1}") != NULL, "twin after restart: %s", m->payload);
	c2d_msg_free(m);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* The plugin publishes replies only where the requester may have them: no
 * wildcards, no '$' topic but the requester's own $c2d/{id}/in/... */
START_TEST(response_topic_injection_refused)
{
	static const char *const forbidden[] = {"$c2d/victim/in/rpc/unlock/l99", "$c2d/victim/events/presence",
		"$SYS/broker/x", "$CONTROL/c2d/v1", "replies/+", "replies/#"};
	struct c2d_broker *b = c2d_broker_start(NULL);
	struct c2d_client *victim, *evil;
	struct c2d_props pp = {.corr = "k"};
	mosquitto_property *props;
	struct c2d_msg *m;
	size_t i;
	int rc;

	ck_assert_ptr_nonnull(b);
	victim = c2d_client_new_connected(b, "victim", V5, true);
	ck_assert_int_eq(c2d_client_subscribe(victim, "$c2d/victim/#", 1), 1);
	evil = c2d_client_new_connected(b, "evil", V5, true);
	for(i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++){
		pp.response_topic = forbidden[i];
		props = c2d_props_build(&pp);
		rc = c2d_client_publish(evil, "$c2d/nodev/rpc/x", NULL, 0, 1, false, props);
		mosquitto_property_free_all(&props);
		ck_assert_msg(rc == 0x87, "response topic %s: reason %d, want 0x87", forbidden[i], rc);
	}
	ck_assert(c2d_client_expect_none(victim, "$c2d/victim/in/#", 300));
	ck_assert(c2d_client_is_connected(evil));
	/* its own in/ space is fine */
	pp.response_topic = "$c2d/evil/in/replies";
	props = c2d_props_build(&pp);
	ck_assert_int_eq(c2d_client_subscribe(evil, "$c2d/evil/in/replies", 1), 1);
	ck_assert_int_lt(c2d_client_publish(evil, "$c2d/nodev/rpc/x", NULL, 0, 1, false, props), 0x80);
	mosquitto_property_free_all(&props);
	m = c2d_client_wait_corr(evil, "$c2d/evil/in/replies", "k", 1, 3000);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(c2d_msg_user_prop(m, "status"), "404");
	c2d_msg_free(m);
	c2d_client_destroy(evil);
	c2d_client_destroy(victim);
	c2d_broker_cleanup(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("foundation");
	TCase *tc = tcase_create("broker");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, loads_and_logs);
	tcase_add_test(tc, log_level_drops_debug);
	tcase_add_test(tc, bad_options_refuse_to_start);
	tcase_add_test(tc, per_listener_settings_refused);
	tcase_add_test(tc, db_path_not_writable_refused);
	tcase_add_test(tc, presence_v5);
	tcase_add_test(tc, presence_v311);
	tcase_add_test(tc, presence_takeover);
	tcase_add_test(tc, presence_refused_connect);
	tcase_add_test(tc, sighup_keeps_offline_sessions_offline);
	tcase_add_test(tc, one_writer_guard);
	tcase_add_test(tc, not_retained_and_v311_guard);
	tcase_add_test(tc, restart_keeps_store);
	tcase_add_test(tc, response_topic_injection_refused);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
