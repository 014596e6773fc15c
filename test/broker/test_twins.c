/* Device twins against the real broker: one merged catch-up delivery after
 * an offline period (v5 and v3.1.1 devices, also across a restart), version
 * conflicts, limits, invalid input, get from application and device, events,
 * and who may write which section. */
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

static void request_ok(struct c2d_client *app, const char *topic, const char *payload, const char *status)
{
	c2d_msg_free(fx_request(app, topic, payload, status));
}

/* Parse m's payload and compare with want (JSON text), ignoring member order. */
static void assert_json_eq(const char *got, const char *want)
{
	cJSON *g = cJSON_Parse(got), *w = cJSON_Parse(want);

	ck_assert_msg(g && w && cJSON_Compare(g, w, true), "got %s, want %s", got, want);
	cJSON_Delete(g);
	cJSON_Delete(w);
}

/* Wait for the next twin push to the device; returns it (caller frees). */
static struct c2d_msg *wait_push(struct c2d_client *dev, const char *devid)
{
	char *filter = c2d_strf("$c2d/%s/in/twin/+", devid);
	struct c2d_msg *m = c2d_client_wait_msg(dev, filter, 3000);

	ck_assert_msg(m != NULL, "no twin push to %s", devid);
	free(filter);
	return m;
}

/* Acknowledge a push by its topic id, as a v3.1.1 device would. */
static void ack(struct c2d_client *dev, const char *devid, const struct c2d_msg *push)
{
	const char *id = strrchr(push->topic, '/') + 1;
	char *topic = c2d_strf("$c2d/%s/out/res/%s", devid, id);

	ck_assert_int_lt(c2d_client_publish(dev, topic, NULL, 0, 1, false, NULL), 0x80);
	free(topic);
}

static void catch_up(int protocol, bool restart)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app, *dev, *mon;
	struct c2d_msg *m;

	app = c2d_client_new_connected(b, "app", V5, true);
	mon = c2d_client_new_connected(b, "mon", V5, true);
	ck_assert_int_eq(c2d_client_subscribe(mon, "$c2d/dev-c/events/twin", 1), 1);
	dev = c2d_client_new_connected(b, "dev-c", protocol, true);
	ck_assert_ptr_nonnull(dev);

	request_ok(app, "$c2d/dev-c/twin/desired", "{\"a\":1,\"b\":2,\"n\":{\"x\":1,\"y\":2}}", "200");
	m = wait_push(dev, "dev-c");
	ck_assert_str_eq(m->topic, "$c2d/dev-c/in/twin/t1");
	assert_json_eq(m->payload, "{\"version\":1,\"desired\":{\"a\":1,\"b\":2,\"n\":{\"x\":1,\"y\":2}},\"full\":true}");
	if(protocol == V5){
		ck_assert(c2d_msg_corr_eq(m, "t1", 2));
		ck_assert_str_eq(m->response_topic, "$c2d/dev-c/out/res/t1");
	}
	ack(dev, "dev-c", m);
	c2d_msg_free(m);
	m = c2d_client_wait_msg(mon, NULL, 3000); /* desired.changed */
	ck_assert_ptr_nonnull(strstr(m->payload, "c2d.twin.desired.changed"));
	c2d_msg_free(m);
	m = c2d_client_wait_msg(mon, NULL, 3000);
	ck_assert_msg(strstr(m->payload, "c2d.twin.desired.acknowledged") != NULL, "%s", m->payload);
	c2d_msg_free(m);

	ck_assert_int_eq(c2d_client_disconnect(dev), 0);
	c2d_sleep_ms(200); /* let the broker see the disconnect */
	request_ok(app, "$c2d/dev-c/twin/desired", "{\"a\":10}", "200");
	request_ok(app, "$c2d/dev-c/twin/desired", "{\"b\":null,\"n\":{\"y\":null}}", "200");
	request_ok(app, "$c2d/dev-c/twin/desired", "{\"c\":3,\"a\":11}", "200");
	ck_assert(c2d_client_expect_none(dev, NULL, 200));
	if(restart){
		c2d_client_destroy(app);
		c2d_client_destroy(mon);
		ck_assert_int_eq(c2d_broker_restart(b), 0);
		app = c2d_client_new_connected(b, "app", V5, true);
		mon = NULL;
	}

	ck_assert_int_eq(c2d_client_connect(dev, b), 0);
	m = wait_push(dev, "dev-c");
	ck_assert_str_eq(m->topic, "$c2d/dev-c/in/twin/t4");
	assert_json_eq(m->payload, "{\"version\":4,\"desired\":{\"a\":11,\"b\":null,\"c\":3,\"n\":{\"y\":null}},\"full\":false}");
	ack(dev, "dev-c", m);
	c2d_msg_free(m);
	ck_assert(c2d_client_expect_none(dev, "$c2d/dev-c/in/#", 700)); /* exactly one */

	/* reconnecting after the ack: nothing to acknowledge, nothing sent */
	ck_assert_int_eq(c2d_client_disconnect(dev), 0);
	ck_assert_int_eq(c2d_client_connect(dev, b), 0);
	ck_assert(c2d_client_expect_none(dev, "$c2d/dev-c/in/#", 700));

	c2d_client_destroy(dev);
	c2d_client_destroy(mon);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}

START_TEST(catch_up_v5)
{
	catch_up(V5, false);
}
END_TEST

START_TEST(catch_up_v311)
{
	catch_up(V311, false);
}
END_TEST

START_TEST(catch_up_across_restart)
{
	catch_up(V5, true);
}
END_TEST

/* A device that never connected gets the whole document once, at connect. */
START_TEST(first_connect_gets_full)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = c2d_client_new_connected(b, "app", V5, true), *dev;
	struct c2d_msg *m;

	request_ok(app, "$c2d/dev-f/twin/desired", "{\"a\":1}", "200");
	request_ok(app, "$c2d/dev-f/twin/desired", "{\"b\":2}", "200");
	dev = c2d_client_new_connected(b, "dev-f", V311, true);
	m = wait_push(dev, "dev-f");
	assert_json_eq(m->payload, "{\"version\":2,\"desired\":{\"a\":1,\"b\":2},\"full\":true}");
	c2d_msg_free(m);
	ck_assert(c2d_client_expect_none(dev, NULL, 500));
	c2d_client_destroy(dev);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

START_TEST(version_conflict)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = c2d_client_new_connected(b, "app", V5, true);
	struct c2d_msg *m;

	m = fx_request(app, "$c2d/d1/twin/desired", "{\"$version\":0,\"a\":1}", "200");
	assert_json_eq(m->payload, "{\"version\":1,\"status\":200}");
	c2d_msg_free(m);
	m = fx_request(app, "$c2d/d1/twin/desired", "{\"$version\":0,\"a\":2}", "409");
	ck_assert_ptr_nonnull(strstr(m->payload, "version conflict"));
	c2d_msg_free(m);
	m = fx_request(app, "$c2d/d1/twin/get", "", "200");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"desired\":{\"a\":1}"));
	c2d_msg_free(m);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

START_TEST(limits_and_invalid_input)
{
	static const struct {
		const char *payload;
		const char *status;
	} cases[] = {
		{"{\"big\":\"0123456789012345678901234567890123456789012345678901234567890123456789\"}", "413"},
		{"{\"a\":{\"b\":{\"c\":{\"d\":1}}}}", "400"},
		{"{\"a\":", "400"},
		{"[1,2]", "400"},
		{"42", "400"},
		{"", "400"},
		{"{\"$meta\":1}", "400"},
		{"{\"a\":{\"$x\":1}}", "400"},
		{"{\"$version\":\"x\"}", "400"},
		{"{\"a\":\"\xff\xfe\"}", "400"},
	};
	struct c2d_broker *b = fx_start("plugin_opt_twin_max_bytes 64\nplugin_opt_twin_max_depth 3\n");
	struct c2d_client *app = c2d_client_new_connected(b, "app", V5, true);
	struct c2d_msg *m;
	size_t i;

	request_ok(app, "$c2d/d1/twin/desired", "{\"ok\":1}", "200");
	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++){
		m = fx_request(app, "$c2d/d1/twin/desired", cases[i].payload, cases[i].status);
		ck_assert_msg(strstr(m->payload, "\"error\"") != NULL, "no reason: %s", m->payload);
		c2d_msg_free(m);
	}
	/* nothing changed, and the same limits hold for reported */
	m = fx_request(app, "$c2d/d1/twin/get", "", "200");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"version\":{\"desired\":1,\"reported\":0,\"tags\":0}"));
	c2d_msg_free(m);
	ck_assert(c2d_client_is_connected(app));
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

START_TEST(reported_get_and_delta)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = c2d_client_new_connected(b, "app", V5, true);
	struct c2d_client *dev = c2d_client_new_connected(b, "dev-r", V5, true);
	struct c2d_client *dev3 = c2d_client_new_connected(b, "dev-r3", V311, true);
	struct c2d_request rep = {.topic = "$c2d/dev-r/out/reported", .payload = "{\"level\":5,\"fw\":\"1.2\"}", .len = -1, .qos = 1};
	struct c2d_msg *m;
	cJSON *twin;

	request_ok(app, "$c2d/dev-r/twin/desired", "{\"level\":7,\"fw\":\"1.2\"}", "200");
	m = c2d_client_request(dev, &rep); /* v5 device with a response topic gets a reply */
	ck_assert_ptr_nonnull(m);
	assert_json_eq(m->payload, "{\"version\":1,\"status\":200}");
	c2d_msg_free(m);
	/* the same report again (a periodic report) and the same desired patch
	 * again change nothing: no new version */
	m = c2d_client_request(dev, &rep);
	ck_assert_ptr_nonnull(m);
	assert_json_eq(m->payload, "{\"version\":1,\"changed\":false,\"status\":200}");
	c2d_msg_free(m);
	m = fx_request(app, "$c2d/dev-r/twin/desired", "{\"fw\":\"1.2\",\"level\":7,\"x\":null}", "200");
	assert_json_eq(m->payload, "{\"version\":1,\"changed\":false,\"status\":200}");
	c2d_msg_free(m);
	m = fx_request(app, "$c2d/dev-r/twin/get", "", "200");
	twin = cJSON_Parse(m->payload);
	ck_assert_ptr_nonnull(twin);
	ck_assert(cJSON_Compare(cJSON_GetObjectItem(twin, "delta"), cJSON_Parse("{\"level\":7}"), true));
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
			cJSON_GetObjectItem(twin, "$metadata"), "reported"), "level"), "$lastUpdated"));
	cJSON_Delete(twin);
	c2d_msg_free(m);

	/* a v3.1.1 device reports without a reply */
	ck_assert_int_eq(c2d_client_publish(dev3, "$c2d/dev-r3/out/reported", "{\"t\":1}", -1, 1, false, NULL), 0);
	m = fx_request(app, "$c2d/dev-r3/twin/get", "", "200");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"reported\":{\"t\":1}"));
	c2d_msg_free(m);

	/* the device asks for its whole twin */
	ck_assert_int_lt(c2d_client_publish(dev3, "$c2d/dev-r3/out/call/twin/r7", NULL, 0, 1, false, NULL), 0x80);
	m = c2d_client_wait_msg(dev3, "$c2d/dev-r3/in/reply/r7/200", 3000);
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(strstr(m->payload, "\"reported\":{\"t\":1}"));
	c2d_msg_free(m);

	/* delete */
	m = fx_request(app, "$c2d/dev-r3/twin/delete", "", "200");
	assert_json_eq(m->payload, "{\"deleted\":true,\"status\":200}");
	c2d_msg_free(m);
	m = fx_request(app, "$c2d/dev-r3/twin/get", "", "200");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"desired\":{},\"reported\":{}"));
	/* versions are never reused: the deleted twin's continue */
	ck_assert_ptr_nonnull(strstr(m->payload, "\"version\":{\"desired\":0,\"reported\":1,\"tags\":0}"));
	c2d_msg_free(m);
	ck_assert_int_eq(c2d_client_publish(dev3, "$c2d/dev-r3/out/reported", "{\"t\":2}", -1, 1, false, NULL), 0);
	m = fx_request(app, "$c2d/dev-r3/twin/get", "", "200");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"version\":{\"desired\":0,\"reported\":2,\"tags\":0}"));
	c2d_msg_free(m);
	c2d_client_destroy(dev3);
	c2d_client_destroy(dev);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* With the recommended ACL a device can write only its own out/ topics, so it
 * can neither write its own desired state nor another device's reported.
 * (Clients with usernames need a password_file: see docs/configuration.md.) */
START_TEST(device_write_rules_with_acl)
{
	struct c2d_broker *b = fx_start_login("dev-a:d\napp:a\n",
			"pattern read $c2d/%c/in/#\npattern write $c2d/%c/out/#\n"
			"user app\ntopic readwrite replies/#\ntopic readwrite c2d-test/#\ntopic write $c2d/+/twin/#\n", NULL);
	struct c2d_client *dev, *app;
	struct c2d_msg *m;

	dev = fx_login(b, "dev-a", "d", V5);
	app = fx_login(b, "app", "a", V5);
	ck_assert_int_eq(c2d_client_publish(dev, "$c2d/dev-a/twin/desired", "{\"a\":1}", -1, 1, false, NULL), 0x87);
	ck_assert_int_eq(c2d_client_publish(dev, "$c2d/dev-b/out/reported", "{\"a\":1}", -1, 1, false, NULL), 0x87);
	ck_assert_int_lt(c2d_client_publish(dev, "$c2d/dev-a/out/reported", "{\"a\":1}", -1, 1, false, NULL), 0x80);
	m = fx_request(app, "$c2d/dev-a/twin/get", "", "200");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"version\":{\"desired\":0,\"reported\":1,\"tags\":0}"));
	c2d_msg_free(m);
	m = fx_request(app, "$c2d/dev-b/twin/get", "", "200");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"version\":{\"desired\":0,\"reported\":0,\"tags\":0}"));
	c2d_msg_free(m);
	c2d_client_destroy(app);
	c2d_client_destroy(dev);
	c2d_broker_cleanup(b);
}
END_TEST

/* CLI: the documented mosquitto_rr examples work as written. */
START_TEST(cli_examples)
{
	struct c2d_broker *b = fx_start(NULL);
	char *cmd, *out = NULL;

	cmd = c2d_strf("mosquitto_rr -V 5 -p %d -t '$c2d/lamp-1/twin/desired' -e 'replies/app' -m '{\"power\":\"on\"}' -W 5", b->port);
	ck_assert_int_eq(c2d_sh(cmd, 8000, &out), 0);
	assert_json_eq(out, "{\"version\":1,\"status\":200}");
	free(cmd);
	free(out);
	cmd = c2d_strf("mosquitto_rr -V 5 -p %d -t '$c2d/lamp-1/twin/get' -e 'replies/app' -n -W 5", b->port);
	ck_assert_int_eq(c2d_sh(cmd, 8000, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"desired\":{\"power\":\"on\"}"));
	free(cmd);
	free(out);
	c2d_broker_cleanup(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("twins");
	TCase *tc = tcase_create("broker");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, catch_up_v5);
	tcase_add_test(tc, catch_up_v311);
	tcase_add_test(tc, catch_up_across_restart);
	tcase_add_test(tc, first_connect_gets_full);
	tcase_add_test(tc, version_conflict);
	tcase_add_test(tc, limits_and_invalid_input);
	tcase_add_test(tc, reported_get_and_delta);
	tcase_add_test(tc, device_write_rules_with_acl);
	tcase_add_test(tc, cli_examples);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
