/* The operators' API ($CONTROL/c2d/v1) against the real broker: each command,
 * bad input, replies on the response topic and on a v5 response topic, and
 * authorization by the broker's ACL. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <mqtt_protocol.h>

#include "harness.h"

#define V5 MQTT_PROTOCOL_V5

static struct c2d_broker *start(void)
{
	struct c2d_broker *b = c2d_broker_start(NULL);

	ck_assert_ptr_nonnull(b);
	return b;
}

/* Send one admin payload, return the parsed {"responses":[...]} (caller frees). */
static cJSON *admin(struct c2d_client *op, const char *payload)
{
	struct c2d_request rq = {.topic = "$CONTROL/c2d/v1", .payload = payload, .len = -1, .qos = 1};
	struct c2d_msg *m = c2d_client_request(op, &rq);
	cJSON *j;

	ck_assert_msg(m != NULL, "no admin reply to %s", payload);
	j = cJSON_Parse(m->payload);
	ck_assert_msg(cJSON_IsArray(cJSON_GetObjectItem(j, "responses")), "bad reply %s", m->payload);
	c2d_msg_free(m);
	return j;
}

/* The i-th response; asserts its command name and that it has no error. */
static const cJSON *ok_response(const cJSON *root, int i, const char *command)
{
	const cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "responses"), i);
	const cJSON *err = cJSON_GetObjectItem(r, "error");

	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(cJSON_GetObjectItem(r, "command")->valuestring, command);
	ck_assert_msg(err == NULL, "%s failed: %s", command, err ? err->valuestring : "");
	return cJSON_GetObjectItem(r, "data");
}

static const char *error_of(const cJSON *root, int i)
{
	const cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "responses"), i);
	const cJSON *err = cJSON_GetObjectItem(r, "error");

	ck_assert_msg(cJSON_IsString(err), "response %d has no error", i);
	return err->valuestring;
}

static void set_desired(struct c2d_client *app, const char *dev, const char *patch)
{
	char *topic = c2d_strf("$c2d/%s/twin/desired", dev);
	struct c2d_request rq = {.topic = topic, .payload = patch, .len = -1, .qos = 1};
	struct c2d_msg *m = c2d_client_request(app, &rq);

	ck_assert_ptr_nonnull(m);
	c2d_msg_free(m);
	free(topic);
}

START_TEST(get_device_and_stats)
{
	struct c2d_broker *b = start();
	struct c2d_client *op = c2d_client_new_connected(b, "op", V5, true);
	struct c2d_client *dev = c2d_client_new_connected(b, "lamp-1", V5, true);
	const cJSON *d;
	cJSON *j;

	set_desired(op, "lamp-1", "{\"a\":1}");
	j = admin(op, "{\"commands\":[{\"command\":\"getDevice\",\"device\":\"lamp-1\",\"correlationData\":\"x1\"},"
			"{\"command\":\"getStats\"}]}");
	d = ok_response(j, 0, "getDevice");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(d, "online")));
	ck_assert_int_eq(cJSON_GetObjectItem(d, "protocolVersion")->valueint, 5);
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "twin"), "desired")->valueint, 1);
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "queue"), "depth")->valueint, 0);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "responses"), 0),
			"correlationData")->valuestring, "x1");
	d = ok_response(j, 1, "getStats");
	ck_assert_int_ge(cJSON_GetObjectItem(d, "devicesOnline")->valueint, 2);
	ck_assert_int_eq(cJSON_GetObjectItem(d, "twins")->valueint, 1);
	ck_assert(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "store"), "mapBytes")->valuedouble > 0);
	cJSON_Delete(j);
	c2d_client_destroy(dev);
	c2d_client_destroy(op);
	c2d_broker_cleanup(b);
}
END_TEST

START_TEST(list_devices_paged)
{
	struct c2d_broker *b = start();
	struct c2d_client *op = c2d_client_new_connected(b, "op", V5, true);
	struct c2d_client *dev = c2d_client_new_connected(b, "d2", V5, true);
	const cJSON *d, *arr;
	cJSON *j;

	set_desired(op, "d1", "{\"a\":1}");
	set_desired(op, "d2", "{\"a\":1}");
	set_desired(op, "d3", "{\"a\":1}");
	j = admin(op, "{\"commands\":[{\"command\":\"listDevices\",\"count\":2}]}");
	d = ok_response(j, 0, "listDevices");
	arr = cJSON_GetObjectItem(d, "devices");
	ck_assert_int_eq(cJSON_GetArraySize(arr), 2);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "device")->valuestring, "d1");
	ck_assert_str_eq(cJSON_GetObjectItem(d, "next")->valuestring, "d2");
	cJSON_Delete(j);
	j = admin(op, "{\"commands\":[{\"command\":\"listDevices\",\"after\":\"d2\"},"
			"{\"command\":\"listDevices\",\"filter\":\"online\"}]}");
	arr = cJSON_GetObjectItem(ok_response(j, 0, "listDevices"), "devices");
	ck_assert_int_eq(cJSON_GetArraySize(arr), 1);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "device")->valuestring, "d3");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(ok_response(j, 0, "listDevices"), "next")));
	arr = cJSON_GetObjectItem(ok_response(j, 1, "listDevices"), "devices");
	ck_assert_int_eq(cJSON_GetArraySize(arr), 1);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "device")->valuestring, "d2");
	cJSON_Delete(j);
	c2d_client_destroy(dev);
	c2d_client_destroy(op);
	c2d_broker_cleanup(b);
}
END_TEST

START_TEST(bad_input)
{
	struct c2d_broker *b = start();
	struct c2d_client *op = c2d_client_new_connected(b, "op", V5, true);
	cJSON *j;

	j = admin(op, "not json");
	ck_assert_str_eq(error_of(j, 0), "payload is not valid JSON");
	cJSON_Delete(j);
	j = admin(op, "{\"cmds\":[]}");
	ck_assert_str_eq(error_of(j, 0), "payload must have a commands array");
	cJSON_Delete(j);
	j = admin(op, "{\"commands\":[{\"command\":\"nope\"},{\"command\":\"getDevice\"},"
			"{\"command\":\"getDevice\",\"device\":\"$x\"},{\"command\":\"listDevices\",\"count\":0},"
			"{\"command\":\"listDevices\",\"filter\":\"some\"},{},3]}");
	ck_assert_str_eq(error_of(j, 0), "Unknown command");
	ck_assert_str_eq(error_of(j, 1), "missing device");
	ck_assert_str_eq(error_of(j, 2), "invalid device id");
	ck_assert_str_eq(error_of(j, 3), "count must be 1..1000");
	ck_assert_str_eq(error_of(j, 4), "filter must be all, online or offline");
	ck_assert_str_eq(error_of(j, 5), "Unknown command");
	ck_assert_str_eq(error_of(j, 6), "Unknown command");
	cJSON_Delete(j);
	ck_assert(c2d_client_is_connected(op));
	c2d_client_destroy(op);
	c2d_broker_cleanup(b);
}
END_TEST

/* Replies also go to $CONTROL/c2d/v1/response; an ACL without the grant gets none. */
START_TEST(response_topic_and_acl)
{
	struct c2d_broker_file files[] = {{"passwd", NULL}, {NULL, NULL}};
	struct c2d_broker_opts o = {.files = files, .conf = "password_file @DIR@/passwd\n",
		.acl = "user op\ntopic write $CONTROL/c2d/v1\ntopic read $CONTROL/c2d/v1/response\n"
		"user intruder\ntopic read $CONTROL/c2d/v1/response\n"};
	struct c2d_broker *b;
	struct c2d_client *op, *intruder;
	struct c2d_msg *m;
	char *hashed = NULL;
	const char *cmd = "{\"commands\":[{\"command\":\"getStats\"}]}";

	ck_assert_int_eq(c2d_sh("d=$(mktemp -d) && printf 'op:o\\nintruder:i\\n' > $d/p"
			" && mosquitto_passwd -U $d/p && cat $d/p && rm -r $d", 5000, &hashed), 0);
	files[0].content = hashed;
	b = c2d_broker_start(&o);
	ck_assert_ptr_nonnull(b);
	op = c2d_client_new("op", V5, true);
	ck_assert_int_eq(c2d_client_set_login(op, "op", "o"), 0);
	ck_assert_int_eq(c2d_client_connect(op, b), 0);
	intruder = c2d_client_new("intruder", V5, true);
	ck_assert_int_eq(c2d_client_set_login(intruder, "intruder", "i"), 0);
	ck_assert_int_eq(c2d_client_connect(intruder, b), 0);
	ck_assert_int_eq(c2d_client_subscribe(op, "$CONTROL/c2d/v1/response", 1), 1);
	ck_assert_int_eq(c2d_client_subscribe(intruder, "$CONTROL/c2d/v1/response", 1), 1);

	ck_assert_int_eq(c2d_client_publish(intruder, "$CONTROL/c2d/v1", cmd, -1, 1, false, NULL), 0x87);
	ck_assert(c2d_client_expect_none(op, NULL, 500));
	ck_assert_int_lt(c2d_client_publish(op, "$CONTROL/c2d/v1", cmd, -1, 1, false, NULL), 0x80);
	m = c2d_client_wait_msg(op, "$CONTROL/c2d/v1/response", 3000);
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(strstr(m->payload, "\"getStats\""));
	c2d_msg_free(m);
	c2d_client_destroy(intruder);
	c2d_client_destroy(op);
	c2d_broker_cleanup(b);
	free(hashed);
}
END_TEST

START_TEST(cli_helper)
{
	struct c2d_broker *b = start();
	char *cmd, *out = NULL;

	cmd = c2d_strf("%s/scripts/c2d -p %d twin set lamp-9 '{\"on\":true}' && %s/scripts/c2d -p %d admin getDevice device=lamp-9",
			C2D_SRCDIR, b->port, C2D_SRCDIR, b->port);
	ck_assert_int_eq(c2d_sh(cmd, 10000, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"version\":1"));
	ck_assert_ptr_nonnull(strstr(out, "\"device\":\"lamp-9\""));
	free(cmd);
	free(out);
	cmd = c2d_strf("%s/scripts/c2d --help | grep -c admin", C2D_SRCDIR);
	ck_assert_int_eq(c2d_sh(cmd, 5000, NULL), 0);
	free(cmd);
	c2d_broker_cleanup(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("admin");
	TCase *tc = tcase_create("broker");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, get_device_and_stats);
	tcase_add_test(tc, list_devices_paged);
	tcase_add_test(tc, bad_input);
	tcase_add_test(tc, response_topic_and_acl);
	tcase_add_test(tc, cli_helper);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
