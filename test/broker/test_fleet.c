/* Tags and device queries (protocol-v2 section 2) against the real broker:
 * $c2d/{dev}/twin/tags (versions, limits, events, in the full twin, never
 * pushed to the device) and the admin command queryDevices (operators,
 * paging, select, bad queries with reasons). */
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

/* The ids queryDevices returns for where (JSON text), space separated,
 * into out; returns its "next" (caller frees) or NULL. */
static char *query_ids(struct c2d_client *app, const char *args, char *out, size_t len)
{
	char *cmd = c2d_strf("{\"command\":\"queryDevices\",%s}", args), *next = NULL;
	cJSON *resp, *j = fx_admin(app, cmd, &resp);
	const cJSON *d, *data = cJSON_GetObjectItem(resp, "data"), *n;
	size_t used = 0;

	ck_assert_msg(data != NULL, "queryDevices %s: %s", args, cJSON_PrintUnformatted(resp));
	out[0] = '\0';
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(data, "devices")){
		used += (size_t)snprintf(out + used, len - used, "%s%s", used ? " " : "",
				cJSON_GetObjectItem(d, "device")->valuestring);
	}
	n = cJSON_GetObjectItem(data, "next");
	if(cJSON_IsString(n)) next = strdup(n->valuestring);
	cJSON_Delete(j);
	free(cmd);
	return next;
}

/* queryDevices with args must return exactly the ids want (space separated). */
static void expect_ids(struct c2d_client *app, const char *args, const char *want)
{
	char ids[512];

	free(query_ids(app, args, ids, sizeof(ids)));
	ck_assert_msg(strcmp(ids, want) == 0, "queryDevices %s: %s, want %s", args, ids, want);
}

static void query_error(struct c2d_client *app, const char *args, const char *want)
{
	char *cmd = c2d_strf("{\"command\":\"queryDevices\",%s}", args);
	cJSON *resp, *j = fx_admin(app, cmd, &resp);

	ck_assert_msg(cJSON_IsString(cJSON_GetObjectItem(resp, "error")), "%s accepted", args);
	ck_assert_str_eq(cJSON_GetObjectItem(resp, "error")->valuestring, want);
	cJSON_Delete(j);
	free(cmd);
}

static void tag(struct c2d_client *app, const char *dev, const char *patch, const char *status)
{
	char *topic = c2d_strf("$c2d/%s/twin/tags", dev);

	c2d_msg_free(fx_request(app, topic, patch, status));
	free(topic);
}

/* Tags: own version, event, limits, in the full twin and getDevice, never
 * pushed to a device (v5 or v3.1.1), not in the device's twin call. */
START_TEST(test_tags)
{
	struct c2d_broker *b = fx_start("plugin_opt_twin_max_bytes 64\n");
	struct c2d_client *app = fx_app(b, FX_REPLIES), *mon = fx_monitor(b, "$c2d/tg1/events/twin");
	struct c2d_client *dev = fx_device(b, NULL, "tg1", _i ? V3 : V5);
	struct c2d_msg *m;
	cJSON *ev, *resp, *j;

	m = fx_request(app, "$c2d/tg1/twin/tags", "{\"site\":\"berlin\",\"floor\":3}", "200");
	ck_assert_str_eq(m->payload, "{\"version\":1,\"status\":200}");
	c2d_msg_free(m);
	ev = fx_expect_event(mon, "tg1", "twin", "c2d.twin.tags.changed");
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "data"), "version")->valueint, 1);
	cJSON_Delete(ev);
	tag(app, "tg1", "{\"$version\":0,\"floor\":4}", "409");
	tag(app, "tg1", "{\"blob\":\"0123456789012345678901234567890123456789012345678901234567890\"}", "413");
	tag(app, "tg1", "{\"floor\":null,\"ring\":\"canary\"}", "200");
	/* the device gets nothing */
	ck_assert(c2d_client_expect_none(dev, "$c2d/tg1/in/#", 400));
	m = fx_request(app, "$c2d/tg1/twin/get", "", "200");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"tags\":{\"site\":\"berlin\",\"ring\":\"canary\"}"));
	ck_assert_ptr_nonnull(strstr(m->payload, "\"tags\":2}"));
	c2d_msg_free(m);
	j = fx_admin(app, "{\"command\":\"getDevice\",\"device\":\"tg1\"}", &resp);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(resp, "data"), "tags"), "ring")->valuestring,
			"canary");
	cJSON_Delete(j);
	/* the device's own view of its twin has no tags */
	ck_assert_int_ge(c2d_client_publish(dev, "$c2d/tg1/out/call/twin/r1", NULL, 0, 1, false, NULL), 0);
	m = c2d_client_wait_msg(dev, "$c2d/tg1/in/reply/r1/200", FX_WAIT_MS);
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_null(strstr(m->payload, "tags"));
	c2d_msg_free(m);
	/* only applications write tags: a device publishing there is just another client (the ACL decides) */
	c2d_client_destroy(dev);
	c2d_client_destroy(mon);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

START_TEST(test_query)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *dev;
	char ids[512], *next;

	tag(app, "d1", "{\"site\":\"berlin\",\"floor\":1}", "200");
	tag(app, "d2", "{\"site\":\"berlin\",\"floor\":5,\"ring\":\"canary\"}", "200");
	tag(app, "d3", "{\"site\":\"paris\",\"floor\":2}", "200");
	c2d_msg_free(fx_request(app, "$c2d/d3/twin/desired", "{\"mode\":\"eco\"}", "200"));
	c2d_msg_free(fx_send(app, "$c2d/d4/msg", "m", "m4", NULL, "202")); /* known by its queue, no tags */
	dev = fx_device(b, NULL, "d2", V5);
	c2d_msg_free(fx_send(dev, "$c2d/d2/out/hello", "{\"fw\":\"2.1.0\"}", "h", NULL, "200"));
	c2d_msg_free(fx_send(dev, "$c2d/d2/out/reported", "{\"temp\":21}", "r", NULL, "200"));

	expect_ids(app, "\"where\":{\"tags.site\":\"berlin\"}", "d1 d2");
	expect_ids(app, "\"where\":{}", "d1 d2 d3 d4");
	expect_ids(app, "\"where\":{\"online\":true}", "d2");
	expect_ids(app, "\"where\":{\"tags.floor\":{\"$gte\":2,\"$lt\":5}}", "d3");
	expect_ids(app, "\"where\":{\"$or\":[{\"tags.site\":\"paris\"},{\"info.fw\":{\"$prefix\":\"2.\"}}]}", "d2 d3");
	expect_ids(app, "\"where\":{\"tags.ring\":{\"$exists\":false},\"desired.mode\":{\"$ne\":\"eco\"}}", "d1 d4");
	expect_ids(app, "\"where\":{\"reported.temp\":{\"$in\":[20,21]}}", "d2");
	expect_ids(app, "\"where\":{\"device\":{\"$nin\":[\"d1\",\"d3\"]}}", "d2 d4");
	/* paging */
	next = query_ids(app, "\"where\":{},\"count\":3", ids, sizeof(ids));
	ck_assert_str_eq(ids, "d1 d2 d3");
	ck_assert_str_eq(next, "d3");
	free(next);
	next = query_ids(app, "\"where\":{},\"count\":3,\"after\":\"d3\"", ids, sizeof(ids));
	ck_assert_str_eq(ids, "d4");
	ck_assert_ptr_null(next);
	next = query_ids(app, "\"where\":{},\"count\":4", ids, sizeof(ids));
	ck_assert_ptr_null(next); /* exactly the last one: no next page */
	/* select */
	{
		cJSON *resp, *j = fx_admin(app, "{\"command\":\"queryDevices\",\"where\":{\"device\":\"d2\"},"
				"\"select\":[\"tags.ring\",\"info.fw\",\"reported\",\"tags.nope\"]}", &resp);
		const cJSON *d = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(resp, "data"), "devices"), 0);
		char *text = cJSON_PrintUnformatted(d);

		ck_assert_str_eq(text, "{\"device\":\"d2\",\"online\":true,\"tags.ring\":\"canary\",\"info.fw\":\"2.1.0\","
				"\"reported\":{\"temp\":21}}");
		free(text);
		cJSON_Delete(j);
	}
	/* bad queries: the reason */
	query_error(app, "\"where\":{\"site\":1}", "unknown path 'site' (device, online, tags.*, desired.*, reported.*, info.*)");
	query_error(app, "\"where\":{\"tags.a\":{\"$regex\":\"x\"}}", "unknown operator $regex in tags.a");
	query_error(app, "\"where\":{\"tags.a\":{\"$in\":\"x\"}}", "$in in tags.a takes an array");
	query_error(app, "\"where\":[]", "where must be an object");
	query_error(app, "\"where\":{},\"count\":0", "count must be 1..1000");
	query_error(app, "\"where\":{},\"after\":\"a+b\"", "after must be a device id");
	query_error(app, "\"where\":{},\"select\":[\"x.y\"]", "unknown path 'x.y' (device, online, tags.*, desired.*, reported.*, info.*)");
	c2d_client_destroy(dev);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("fleet");
	TCase *tc = tcase_create("broker");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_tags, 0, 2);
	tcase_add_test(tc, test_query);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
