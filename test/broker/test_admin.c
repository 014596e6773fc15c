/* The operators' API ($CONTROL/c2d/v1) against the real broker: each command,
 * bad input, replies on the response topic and on a v5 response topic, and
 * authorization by the broker's ACL. The queue commands are test_admin_queue.c. */
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
#define ALL_EVENTS "$c2d/+/events/#" /* the monitor's filter */

START_TEST(get_device_and_stats)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *op = c2d_client_new_connected(b, "op", V5, true);
	struct c2d_client *dev = c2d_client_new_connected(b, "lamp-1", V5, true);
	const cJSON *d;
	cJSON *j;

	fx_desired(op, "lamp-1", "{\"a\":1}", NULL);
	j = fx_admin_all(op, "{\"commands\":[{\"command\":\"getDevice\",\"device\":\"lamp-1\",\"correlationData\":\"x1\"},"
			"{\"command\":\"getStats\"}]}");
	d = fx_ok_response(j, 0, "getDevice");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(d, "online")));
	ck_assert_int_eq(cJSON_GetObjectItem(d, "protocolVersion")->valueint, 5);
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "twin"), "desired")->valueint, 1);
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "queue"), "depth")->valueint, 0);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "responses"), 0),
			"correlationData")->valuestring, "x1");
	d = fx_ok_response(j, 1, "getStats");
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
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *op = c2d_client_new_connected(b, "op", V5, true);
	struct c2d_client *dev = c2d_client_new_connected(b, "d2", V5, true);
	const cJSON *d, *arr;
	cJSON *j;

	fx_desired(op, "d1", "{\"a\":1}", NULL);
	fx_desired(op, "d2", "{\"a\":1}", NULL);
	fx_desired(op, "d3", "{\"a\":1}", NULL);
	j = fx_admin_all(op, "{\"commands\":[{\"command\":\"listDevices\",\"count\":2}]}");
	d = fx_ok_response(j, 0, "listDevices");
	arr = cJSON_GetObjectItem(d, "devices");
	ck_assert_int_eq(cJSON_GetArraySize(arr), 2);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "device")->valuestring, "d1");
	ck_assert_str_eq(cJSON_GetObjectItem(d, "next")->valuestring, "d2");
	cJSON_Delete(j);
	j = fx_admin_all(op, "{\"commands\":[{\"command\":\"listDevices\",\"after\":\"d2\"},"
			"{\"command\":\"listDevices\",\"filter\":\"online\"}]}");
	arr = cJSON_GetObjectItem(fx_ok_response(j, 0, "listDevices"), "devices");
	ck_assert_int_eq(cJSON_GetArraySize(arr), 1);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(arr, 0), "device")->valuestring, "d3");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(fx_ok_response(j, 0, "listDevices"), "next")));
	arr = cJSON_GetObjectItem(fx_ok_response(j, 1, "listDevices"), "devices");
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
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *op = c2d_client_new_connected(b, "op", V5, true);
	cJSON *j;

	j = fx_admin_all(op, "not json");
	ck_assert_str_eq(fx_error_of(j, 0), "payload is not valid JSON");
	cJSON_Delete(j);
	j = fx_admin_all(op, "{\"cmds\":[]}");
	ck_assert_str_eq(fx_error_of(j, 0), "payload must have a commands array");
	cJSON_Delete(j);
	j = fx_admin_all(op, "{\"commands\":[{\"command\":\"nope\"},{\"command\":\"getDevice\"},"
			"{\"command\":\"getDevice\",\"device\":\"$x\"},{\"command\":\"listDevices\",\"count\":0},"
			"{\"command\":\"listDevices\",\"filter\":\"some\"},{},3]}");
	ck_assert_str_eq(fx_error_of(j, 0), "Unknown command");
	ck_assert_str_eq(fx_error_of(j, 1), "missing device");
	ck_assert_str_eq(fx_error_of(j, 2), "invalid device id");
	ck_assert_str_eq(fx_error_of(j, 3), "count must be 1..1000");
	ck_assert_str_eq(fx_error_of(j, 4), "filter must be all, online or offline");
	ck_assert_str_eq(fx_error_of(j, 5), "Unknown command");
	ck_assert_str_eq(fx_error_of(j, 6), "Unknown command");
	cJSON_Delete(j);
	ck_assert(c2d_client_is_connected(op));
	c2d_client_destroy(op);
	c2d_broker_cleanup(b);
}
END_TEST

/* Replies also go to $CONTROL/c2d/v1/response; an ACL without the grant gets none. */
START_TEST(response_topic_and_acl)
{
	struct c2d_broker *b = fx_start_login("op:o\nintruder:i\n",
			"user op\ntopic write $CONTROL/c2d/v1\ntopic read $CONTROL/c2d/v1/response\n"
			"user intruder\ntopic read $CONTROL/c2d/v1/response\n", NULL);
	struct c2d_client *op, *intruder;
	struct c2d_msg *m;
	const char *cmd = "{\"commands\":[{\"command\":\"getStats\"}]}";

	op = fx_login(b, "op", "o", V5);
	intruder = fx_login(b, "intruder", "i", V5);
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
}
END_TEST

START_TEST(cli_helper)
{
	struct c2d_broker *b = fx_start(NULL);
	char *cmd, *out = NULL;

	cmd = c2d_strf("%s/scripts/c2d -p %d twin set lamp-9 '{\"on\":true}' && %s/scripts/c2d -p %d admin getDevice device=lamp-9",
			C2D_SRCDIR, b->port, C2D_SRCDIR, b->port);
	ck_assert_int_eq(c2d_sh(cmd, 10000, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"version\":1"));
	ck_assert_ptr_nonnull(strstr(out, "\"device\":\"lamp-9\""));
	free(cmd);
	free(out);
	/* the fleet commands: tags, query, a job's life */
	cmd = c2d_strf("c2d='%s/scripts/c2d -p %d'; $c2d twin tags lamp-9 '{\"site\":\"b\"}' >/dev/null"
			" && $c2d query '{\"tags.site\":\"b\"}' --select tags.site"
			" && $c2d job create cli-1 '{\"devices\":[\"lamp-9\"]}' '{\"msg\":{\"payload\":\"x\"}}' '{\"maxInFlight\":1}'"
			" && $c2d job get cli-1 && $c2d job devices cli-1 && $c2d job list && $c2d job cancel cli-1"
			" && $c2d job create cli-2 '{\"where\":{\"tags.site\":\"b\"}}' '{\"msg\":{\"payload\":\"x\"}}'"
			" --abort 10:5 --start-at 2099-01-01T00:00:00Z --expires-in 60 --continuous",
			C2D_SRCDIR, b->port);
	ck_assert_int_eq(c2d_sh(cmd, 20000, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "{\"device\":\"lamp-9\",\"online\":false,\"tags.site\":\"b\"}"));
	ck_assert_ptr_nonnull(strstr(out, "\"command\":\"createJob\""));
	ck_assert_ptr_nonnull(strstr(out, "\"command\":\"listJobDevices\""));
	ck_assert_ptr_nonnull(strstr(out, "\"state\":\"cancelled\""));
	ck_assert_ptr_nonnull(strstr(out, "\"state\":\"scheduled\""));
	ck_assert_ptr_nonnull(strstr(out, "\"abort\":{\"failedPercent\":10,\"minExecuted\":5},\"startAt\":\"2099-01-01T00:00:00Z\","
			"\"expiresIn\":60,\"continuous\":true"));
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

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, get_device_and_stats);
	tcase_add_test(tc, list_devices_paged);
	tcase_add_test(tc, bad_input);
	tcase_add_test(tc, response_topic_and_acl);
	tcase_add_test(tc, cli_helper);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
