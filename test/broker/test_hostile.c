/* Hostile payloads and device ids against the real broker: invalid UTF-8, a
 * smuggled second "$version", a 1 MB patch, JSON nested 10000 levels deep,
 * empty and over-long device ids. After each case the broker must still run
 * and the hostile client still be connected (the plugin answers bad input,
 * it never drops the connection). Hostile MQTT-level input (response
 * topics, correlation data, QoS 2 DUP, a flood) is test_hostile_mqtt.c. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cjson/cJSON.h>
#include <mqtt_protocol.h>

#include "fixture.h"
#include "harness.h"
#include "hostile.h"
#include "../check_main.h"

#define V5 MQTT_PROTOCOL_V5
#define V311 MQTT_PROTOCOL_V311

START_TEST(invalid_utf8_patch)
{
	static const char *const bad[] = {
		"{\"a\":\"\xff\xfe\"}",         /* bytes that never occur in UTF-8 */
		"{\"a\":\"\xc0\xaf\"}",         /* overlong '/' */
		"{\"a\":\"\xed\xa0\x80\"}",     /* a UTF-16 surrogate */
		"{\"a\":\"\xe2\x82\"}",         /* truncated sequence */
		"{\"\xf4\x90\x80\x80\":1}",     /* beyond U+10FFFF, in a member name */
		"{\"a\":\"\x80\"}",             /* stray continuation byte */
	};
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = c2d_client_new_connected(b, "app", V5, true);
	struct c2d_client *dev = c2d_client_new_connected(b, "dev-u", V5, true);
	double dv, rv;
	size_t i;

	ck_assert_ptr_nonnull(app);
	ck_assert_ptr_nonnull(dev);
	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		request_ok(app, "$c2d/dev-u/twin/desired", bad[i], "400");
		request_ok(dev, "$c2d/dev-u/out/reported", bad[i], "400");
		assert_alive(b, app);
		assert_alive(b, dev);
	}
	/* valid UTF-8 beyond ASCII is fine */
	request_ok(app, "$c2d/dev-u/twin/desired", "{\"name\":\"L\xc3\xa4mpe \xe6\xbc\xa2 \xf0\x9f\x98\x80\"}", "200");
	twin_versions(app, "dev-u", &dv, &rv);
	ck_assert(dv == 1 && rv == 0);
	c2d_client_destroy(dev);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* Reserved '$' names cannot be smuggled into a document: a second
 * "$version" (only the first one is the precondition) is refused like any
 * other '$' member (found by fuzz_twin). */
START_TEST(duplicate_version_member)
{
	static const char *const bad[] = {
		"{\"$version\":0,\"$version\":0,\"a\":1}",
		"{\"$version\":0,\"$version\":\"x\",\"a\":1}",
		"{\"a\":1,\"$version\":0,\"$version\":0}",
	};
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = c2d_client_new_connected(b, "app", V5, true);
	struct c2d_msg *m;
	size_t i;

	ck_assert_ptr_nonnull(app);
	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		request_ok(app, "$c2d/dev-v/twin/desired", bad[i], "400");
		assert_alive(b, app);
	}
	request_ok(app, "$c2d/dev-v/twin/desired", "{\"$version\":0,\"a\":1}", "200");
	m = request_len(app, "$c2d/dev-v/twin/get", "", 0, "200");
	ck_assert_msg(strstr(m->payload, "\"desired\":{\"a\":1}") != NULL, "%s", m->payload);
	c2d_msg_free(m);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

START_TEST(huge_payload)
{
	const size_t n = 1024 * 1024;
	char *big = malloc(n + 1);
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = c2d_client_new_connected(b, "app", V5, true);
	struct c2d_client *dev = c2d_client_new_connected(b, "dev-h", V5, true);
	double dv, rv;

	ck_assert_ptr_nonnull(big);
	ck_assert_ptr_nonnull(app);
	ck_assert_ptr_nonnull(dev);
	/* {"a":"xxxx...x"}: valid JSON, 1 MB */
	memset(big, 'x', n);
	memcpy(big, "{\"a\":\"", 6);
	memcpy(big + n - 2, "\"}", 2);
	big[n] = '\0';
	c2d_msg_free(request_len(app, "$c2d/dev-h/twin/desired", big, (int)n, "413"));
	assert_alive(b, app);
	c2d_msg_free(request_len(dev, "$c2d/dev-h/out/reported", big, (int)n, "413"));
	assert_alive(b, dev);
	/* 1 MB that is not even JSON */
	memset(big, '{', n);
	c2d_msg_free(request_len(app, "$c2d/dev-h/twin/desired", big, (int)n, "413"));
	assert_alive(b, app);
	twin_versions(app, "dev-h", &dv, &rv);
	ck_assert(dv == 0 && rv == 0);
	free(big);
	c2d_client_destroy(dev);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* {"a":{"a":...{}...}} with `levels` objects, or {"a":[[...]]} with arrays. */
static char *nested(int levels, bool arrays)
{
	size_t cap = (size_t)levels * 6 + 16, len = 0;
	char *s = malloc(cap);
	int i;

	ck_assert_ptr_nonnull(s);
	if(arrays){
		len += (size_t)sprintf(s, "{\"a\":");
		for(i = 1; i < levels; i++) s[len++] = '[';
		for(i = 1; i < levels; i++) s[len++] = ']';
		s[len++] = '}';
	}else{
		for(i = 0; i < levels; i++){
			memcpy(s + len, "{\"a\":", 5);
			len += 5;
		}
		s[len++] = '1';
		for(i = 0; i < levels; i++) s[len++] = '}';
	}
	s[len] = '\0';
	return s;
}

START_TEST(deep_nesting)
{
	/* 64 KB so that 10000 levels are under the 2 x twin_max_bytes cut and
	 * really reach the JSON parser */
	struct c2d_broker *b = fx_start("plugin_opt_twin_max_bytes 65536\n");
	struct c2d_client *app = c2d_client_new_connected(b, "app", V5, true);
	static const int levels[] = {10000, 999, 11};
	double dv;
	char *s;
	size_t i;

	ck_assert_ptr_nonnull(app);
	for(i = 0; i < sizeof(levels) / sizeof(levels[0]); i++){
		s = nested(levels[i], false);
		request_ok(app, "$c2d/dev-n/twin/desired", s, "400");
		free(s);
		assert_alive(b, app);
		s = nested(levels[i], true);
		request_ok(app, "$c2d/dev-n/twin/desired", s, "400");
		free(s);
		assert_alive(b, app);
	}
	/* unbalanced */
	s = nested(10000, false);
	s[strlen(s) / 2] = '\0';
	request_ok(app, "$c2d/dev-n/twin/desired", s, "400");
	free(s);
	/* the limit itself (10) is fine */
	s = nested(10, false);
	request_ok(app, "$c2d/dev-n/twin/desired", s, "200");
	free(s);
	twin_versions(app, "dev-n", &dv, NULL);
	ck_assert(dv == 1);
	assert_alive(b, app);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

START_TEST(bad_device_ids)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = c2d_client_new_connected(b, "app", V5, true);
	struct c2d_request rq = {.payload = "{\"a\":1}", .len = -1, .qos = 1};
	char dev129[130], dev128[129];
	struct c2d_msg *m;
	char *topic;

	ck_assert_ptr_nonnull(app);
	memset(dev129, 'd', 129);
	dev129[129] = '\0';
	memset(dev128, 'd', 128);
	dev128[128] = '\0';

	/* an empty {dev} is not a topic of the protocol: dropped, 0x87 */
	ck_assert_int_eq(c2d_client_publish(app, "$c2d//msg", "x", -1, 1, false, NULL), 0x87);
	ck_assert_int_eq(c2d_client_publish(app, "$c2d//twin/desired", "{}", -1, 1, false, NULL), 0x87);
	ck_assert_int_eq(c2d_client_publish(app, "$c2d//out/res/t1", NULL, 0, 1, false, NULL), 0x87);
	assert_alive(b, app);

	/* 129 bytes: a protocol shape with an invalid {dev}: 400 to the response
	 * topic, and the publish itself is refused */
	topic = c2d_strf("$c2d/%s/twin/desired", dev129);
	rq.topic = topic;
	m = c2d_client_request(app, &rq);
	ck_assert_int_eq(rq.puback_rc, 0x87);
	ck_assert_msg(m == NULL, "a refused publish got a reply before its PUBACK?");
	free(topic);
	/* c2d_client_request gives up on a refused publish; wait for the reply */
	m = c2d_client_wait_msg(app, "c2d-test/reply/#", 3000);
	ck_assert_msg(m != NULL, "no 400 for a 129-byte device id");
	ck_assert_str_eq(c2d_msg_user_prop(m, "status"), "400");
	ck_assert_ptr_nonnull(strstr(m->payload, "invalid device id"));
	c2d_msg_free(m);
	topic = c2d_strf("$c2d/%s/msg", dev129);
	ck_assert_int_eq(c2d_client_publish(app, topic, "x", -1, 1, false, NULL), 0x87);
	free(topic);
	assert_alive(b, app);

	/* 128 bytes is the longest valid id */
	topic = c2d_strf("$c2d/%s/twin/desired", dev128);
	request_ok(app, topic, "{\"a\":1}", "200");
	free(topic);
	assert_alive(b, app);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

static Suite *hostile_suite(void)
{
	Suite *s = suite_create("hostile");
	TCase *tc = tcase_create("broker");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, invalid_utf8_patch);
	tcase_add_test(tc, duplicate_version_member);
	tcase_add_test(tc, huge_payload);
	tcase_add_test(tc, deep_nesting);
	tcase_add_test(tc, bad_device_ids);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return c2d_check_run(hostile_suite());
}
