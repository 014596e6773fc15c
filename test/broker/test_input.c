/* Client input the plugin must take or refuse clearly (issue: nothing
 * refused in silence): any RFC 8259 JSON text for twin patches (pretty
 * printed with CR, LF and tabs; over 64 KiB when twin_max_bytes allows),
 * numbers a double cannot hold refused with 400, and user properties too
 * long for any valid value refused with 400 instead of being replaced by
 * defaults. v5 requesters get the status; v3.1.1 ones an event. */
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

static const char pretty[] = "{\r\n\t\"mode\": \"eco\",\n\t\"limits\": {\r\n\t\t\"max\": 21.5\n\t}\n}\n";

START_TEST(test_pretty_json_accepted)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES);
	struct c2d_client *dev3 = c2d_client_new_connected(b, "pj", V3, true);
	struct c2d_msg *m;

	m = fx_request(app, "$c2d/pj/twin/desired", pretty, "200");
	ck_assert_str_eq(m->payload, "{\"version\":1,\"status\":200}");
	c2d_msg_free(m);
	/* from a v3.1.1 device too */
	ck_assert_int_eq(c2d_client_publish(dev3, "$c2d/pj/out/reported", pretty, -1, 1, false, NULL), 0);
	m = fx_request(app, "$c2d/pj/twin/get", "", "200");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"reported\":{\"mode\":\"eco\",\"limits\":{\"max\":21.5}}"));
	c2d_msg_free(m);
	c2d_client_destroy(dev3);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* twin_max_bytes above 64 KiB is usable: a 100 KiB patch is taken. */
START_TEST(test_big_patch)
{
	struct c2d_broker *b = fx_start("plugin_opt_twin_max_bytes 200000\n");
	struct c2d_client *app = fx_app(b, FX_REPLIES);
	size_t n = 100 * 1024;
	char *patch = malloc(n + 32);
	struct c2d_msg *m;

	ck_assert_ptr_nonnull(patch);
	strcpy(patch, "{\"blob\":\"");
	memset(patch + 9, 'x', n);
	strcpy(patch + 9 + n, "\"}");
	m = fx_request(app, "$c2d/bp/twin/desired", patch, "200");
	c2d_msg_free(m);
	free(patch);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

START_TEST(test_bad_json_refused)
{
	static const struct {
		const char *patch;
		const char *error;
	} bad[] = {
		{"{\"t\":1e999}", "a number is out of range (JSON numbers must fit a double)"},
		{"{\"t\":[-1e400]}", "a number is out of range (JSON numbers must fit a double)"},
		{"{\"t\":1} trailing", "payload is not valid JSON"},
		{"{\"t\":\"raw\ttab\"}", "payload is not valid JSON"},
		{"\xff{}", "payload is not UTF-8"},
	};
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES);
	struct c2d_msg *m;
	cJSON *j;
	size_t i;

	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		m = fx_request(app, "$c2d/bj/twin/desired", bad[i].patch, "400");
		j = fx_json(m);
		ck_assert_str_eq(cJSON_GetObjectItem(j, "error")->valuestring, bad[i].error);
		cJSON_Delete(j);
		c2d_msg_free(m);
	}
	/* nothing was stored, not even a null */
	m = fx_request(app, "$c2d/bj/twin/get", "", "200");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"desired\":{}"));
	c2d_msg_free(m);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* A value longer than any valid one is refused, never taken as absent. */
START_TEST(test_oversized_user_properties)
{
	static const char *const keys[] = {"timeout", "persistent", "ttl", "retries"};
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES);
	struct c2d_client *dev = fx_device(b, NULL, "up1", V5);
	char big[200], corr[16];
	struct c2d_msg *m;
	size_t i;

	/* "true" or "5000" followed by padding would be valid if cut short */
	memset(big, '0', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	memcpy(big + sizeof(big) - 5, "5000", 4);
	for(i = 0; i < sizeof(keys) / sizeof(keys[0]); i++){
		const char *user[] = {"persistent", "true", keys[i], big, NULL};
		const char *const *u = strcmp(keys[i], "persistent") == 0 ? user + 2 : user;

		snprintf(corr, sizeof(corr), "u%zu", i);
		m = fx_send(app, "$c2d/up1/rpc/reboot", "{}", corr, u, "400");
		ck_assert_ptr_nonnull(strstr(m->payload, keys[i]));
		c2d_msg_free(m);
	}
	{
		const char *user[] = {"ttl", big, NULL};

		m = fx_send(app, "$c2d/up1/msg", "m", "m1", user, "400");
		ck_assert_ptr_nonnull(strstr(m->payload, "ttl"));
		c2d_msg_free(m);
	}
	/* nothing reached the device */
	ck_assert(c2d_client_expect_none(dev, "$c2d/up1/in/#", 300));
	c2d_client_destroy(dev);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* A device answer whose status property is not 100..599 is dropped (logged),
 * never taken as 200. */
START_TEST(test_bad_answer_status)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES);
	struct c2d_client *dev = fx_device(b, NULL, "as1", V5);
	struct c2d_props p = {.user = (const char *const[]){"status", "2000000000000000000000000000000000000200", NULL}};
	mosquitto_property *props = c2d_props_build(&p);
	struct c2d_msg *m;

	c2d_msg_free(fx_send(app, "$c2d/as1/msg", "m", "m1", NULL, "202"));
	m = c2d_client_wait_msg(dev, "$c2d/as1/in/msg/q1", FX_WAIT_MS);
	ck_assert_ptr_nonnull(m);
	c2d_msg_free(m);
	ck_assert_int_ge(c2d_client_publish(dev, "$c2d/as1/out/res/q1", NULL, 0, 1, false, props), 0);
	mosquitto_property_free_all(&props);
	ck_assert(c2d_broker_wait_log(b, "has an invalid status property: dropped", FX_WAIT_MS));
	ck_assert(c2d_client_expect_none(app, FX_REPLIES, 300));
	c2d_client_destroy(dev);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("input");
	TCase *tc = tcase_create("broker");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_pretty_json_accepted);
	tcase_add_test(tc, test_big_patch);
	tcase_add_test(tc, test_bad_json_refused);
	tcase_add_test(tc, test_oversized_user_properties);
	tcase_add_test(tc, test_bad_answer_status);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
