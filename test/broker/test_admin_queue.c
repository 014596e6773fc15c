/* The operators' queue commands ($CONTROL/c2d/v1) against the real broker:
 * listCommands, cancelCommand, retryCommand, purgeQueue, deleteDevice with
 * the feedback and events they cause, the history they work on
 * (history_ttl) and the CLI helper's listCommands. The device, stats and
 * authorization commands are test_admin.c. */
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

/* ---- the queue commands ---- */

/* The reply for corr: user property status, and (if id) a JSON body with
 * that id and state. */
static void expect_reply(struct c2d_client *app, const char *corr, const char *status, const char *id,
		const char *state)
{
	struct c2d_msg *m = fx_reply(app, corr, status);
	cJSON *j;

	if(id){
		j = fx_json(m);
		ck_assert_str_eq(cJSON_GetObjectItem(j, "id")->valuestring, id);
		if(state) ck_assert_str_eq(cJSON_GetObjectItem(j, "state")->valuestring, state);
		cJSON_Delete(j);
	}
	c2d_msg_free(m);
}

/* Send a command to $c2d/{dev}/{what} ("msg", "rpc/reboot") with correlation
 * data corr and user properties (key, value, ..., NULL; or NULL); it must be
 * accepted (202) as want_id. */
static void command(struct c2d_client *app, const char *dev, const char *what, const char *payload,
		const char *corr, const char *const *user, const char *want_id)
{
	char *topic = c2d_strf("$c2d/%s/%s", dev, what);
	struct c2d_msg *m = fx_send(app, topic, payload, corr, user, "202");
	cJSON *j = fx_json(m);

	ck_assert_str_eq(cJSON_GetObjectItem(j, "id")->valuestring, want_id);
	cJSON_Delete(j);
	c2d_msg_free(m);
	free(topic);
}

/* The next delivery to the device is `id` (msg or rpc). */
static void expect_delivery(struct c2d_client *dev, const char *devid, const char *id)
{
	char *filter = c2d_strf("$c2d/%s/in/#", devid);
	struct c2d_msg *m = c2d_client_wait_msg(dev, filter, FX_WAIT_MS);
	const char *last;

	ck_assert_msg(m != NULL, "no delivery to %s (want %s)", devid, id);
	last = strrchr(m->topic, '/');
	ck_assert_str_eq(last + 1, id);
	c2d_msg_free(m);
	free(filter);
}

/* Skip events until one of `type` for item id (NULL: any). Returns the
 * event's topic (caller frees). */
static char *expect_event(struct c2d_client *mon, const char *type, const char *id)
{
	struct c2d_msg *m = fx_skip_to_event(mon, type, id);
	char *topic = strdup(m->topic);

	c2d_msg_free(m);
	return topic;
}

/* One admin command (a JSON object text), the parsed reply. Caller frees. */
static cJSON *admin_cmd(struct c2d_client *op, const char *cmd)
{
	char *payload = c2d_strf("{\"commands\":[%s]}", cmd);
	cJSON *j = fx_admin_all(op, payload);

	free(payload);
	return j;
}

/* The error of a single admin command, which must be `want`. */
static void admin_error(struct c2d_client *op, const char *cmd, const char *want)
{
	cJSON *j = admin_cmd(op, cmd);

	ck_assert_str_eq(fx_error_of(j, 0), want);
	cJSON_Delete(j);
}

/* listCommands: the ids listed, space-separated, and data.next ("-" = null). */
static void list_ids(struct c2d_client *op, const char *cmd, char *ids, size_t len, char *next, size_t nlen)
{
	cJSON *j = admin_cmd(op, cmd);
	const cJSON *d = fx_ok_response(j, 0, "listCommands"), *c, *n = cJSON_GetObjectItem(d, "next");

	ids[0] = '\0';
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(d, "commands")){
		snprintf(ids + strlen(ids), len - strlen(ids), "%s%s", ids[0] ? " " : "",
				cJSON_GetObjectItem(c, "id")->valuestring);
	}
	snprintf(next, nlen, "%s", cJSON_IsString(n) ? n->valuestring : "-");
	cJSON_Delete(j);
}

/* The listed command `id` from a listCommands reply (borrowed from root). */
static const cJSON *listed(const cJSON *root, const char *id)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, cJSON_GetObjectItem(fx_ok_response(root, 0, "listCommands"), "commands")){
		if(strcmp(cJSON_GetObjectItem(c, "id")->valuestring, id) == 0) return c;
	}
	ck_abort_msg("%s not listed", id);
	return NULL;
}

START_TEST(list_commands)
{
	static const char *const rpc[] = {"persistent", "true", "retries", "2", NULL};
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *dev;
	char ids[128], next[16];
	const cJSON *c;
	cJSON *j;

	command(app, "lc1", "msg", "hello", "c1", NULL, "q1");
	command(app, "lc1", "rpc/reboot", "{}", "c2", rpc, "q2");
	command(app, "lc1", "msg", "x", "c3", NULL, "q3");
	j = admin_cmd(app, "{\"command\":\"listCommands\",\"device\":\"lc1\"}");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(fx_ok_response(j, 0, "listCommands"), "commands")), 3);
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(fx_ok_response(j, 0, "listCommands"), "next")));
	c = listed(j, "q1");
	ck_assert_str_eq(cJSON_GetObjectItem(c, "kind")->valuestring, "msg");
	ck_assert_str_eq(cJSON_GetObjectItem(c, "state")->valuestring, "queued");
	ck_assert_int_eq(cJSON_GetObjectItem(c, "deliveries")->valueint, 0);
	ck_assert_int_eq(cJSON_GetObjectItem(c, "payloadBytes")->valueint, 5);
	ck_assert(cJSON_GetObjectItem(c, "createdMs")->valuedouble > 1.7e12);
	ck_assert(cJSON_GetObjectItem(c, "expiresMs")->valuedouble > cJSON_GetObjectItem(c, "createdMs")->valuedouble);
	ck_assert_ptr_null(cJSON_GetObjectItem(c, "retriesLeft"));
	ck_assert_ptr_null(cJSON_GetObjectItem(c, "finalState"));
	c = listed(j, "q2");
	ck_assert_str_eq(cJSON_GetObjectItem(c, "kind")->valuestring, "rpc");
	ck_assert_str_eq(cJSON_GetObjectItem(c, "method")->valuestring, "reboot");
	ck_assert_int_eq(cJSON_GetObjectItem(c, "retriesLeft")->valueint, 2);
	cJSON_Delete(j);

	list_ids(app, "{\"command\":\"listCommands\",\"device\":\"lc1\",\"count\":2}", ids, sizeof(ids), next, sizeof(next));
	ck_assert_str_eq(ids, "q1 q2");
	ck_assert_str_eq(next, "q2");
	list_ids(app, "{\"command\":\"listCommands\",\"device\":\"lc1\",\"after\":\"q2\"}", ids, sizeof(ids), next, sizeof(next));
	ck_assert_str_eq(ids, "q3");
	ck_assert_str_eq(next, "-");

	/* q1 completes: it leaves the queue for the history */
	dev = fx_device(b, NULL, "lc1", V311);
	expect_delivery(dev, "lc1", "q1");
	expect_delivery(dev, "lc1", "q2");
	expect_delivery(dev, "lc1", "q3");
	fx_answer(dev, "lc1", "q1", 200);
	expect_reply(app, "c1", "200", "q1", "completed");
	list_ids(app, "{\"command\":\"listCommands\",\"device\":\"lc1\"}", ids, sizeof(ids), next, sizeof(next));
	ck_assert_str_eq(ids, "q2 q3");
	j = admin_cmd(app, "{\"command\":\"listCommands\",\"device\":\"lc1\",\"history\":true},"
			"{\"command\":\"getDevice\",\"device\":\"lc1\"}");
	c = listed(j, "q1");
	ck_assert_str_eq(cJSON_GetObjectItem(c, "state")->valuestring, "completed");
	ck_assert_str_eq(cJSON_GetObjectItem(c, "finalState")->valuestring, "completed");
	ck_assert_int_eq(cJSON_GetObjectItem(c, "status")->valueint, 200);
	ck_assert_int_eq(cJSON_GetObjectItem(c, "deliveries")->valueint, 1);
	ck_assert(cJSON_GetObjectItem(c, "finishedMs")->valuedouble >= cJSON_GetObjectItem(c, "createdMs")->valuedouble);
	ck_assert_str_eq(cJSON_GetObjectItem(listed(j, "q2"), "state")->valuestring, "sent");
	/* history does not count as queue depth */
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(fx_ok_response(j, 1, "getDevice"), "queue"), "depth")->valueint, 2);
	cJSON_Delete(j);
	/* paging runs on into the history */
	list_ids(app, "{\"command\":\"listCommands\",\"device\":\"lc1\",\"history\":true,\"count\":2}", ids, sizeof(ids),
			next, sizeof(next));
	ck_assert_str_eq(ids, "q2 q3");
	ck_assert_str_eq(next, "q3");
	list_ids(app, "{\"command\":\"listCommands\",\"device\":\"lc1\",\"history\":true,\"after\":\"q3\"}", ids,
			sizeof(ids), next, sizeof(next));
	ck_assert_str_eq(ids, "q1");
	list_ids(app, "{\"command\":\"listCommands\",\"device\":\"lc1\",\"history\":true,\"after\":\"q1\"}", ids,
			sizeof(ids), next, sizeof(next));
	ck_assert_str_eq(ids, "");
	list_ids(app, "{\"command\":\"listCommands\",\"device\":\"nobody\"}", ids, sizeof(ids), next, sizeof(next));
	ck_assert_str_eq(ids, "");

	admin_error(app, "{\"command\":\"listCommands\"}", "missing device");
	admin_error(app, "{\"command\":\"listCommands\",\"device\":\"a/b\"}", "invalid device id");
	admin_error(app, "{\"command\":\"listCommands\",\"device\":\"lc1\",\"count\":0}", "count must be 1..1000");
	admin_error(app, "{\"command\":\"listCommands\",\"device\":\"lc1\",\"after\":5}", "after must be a command id");
	admin_error(app, "{\"command\":\"listCommands\",\"device\":\"lc1\",\"after\":\"x1\"}", "invalid after");
	admin_error(app, "{\"command\":\"listCommands\",\"device\":\"lc1\",\"history\":\"yes\"}",
			"history must be true or false");

	c2d_client_destroy(dev);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

START_TEST(cancel_command)
{
	static const char *const rpc[] = {"persistent", "true", NULL};
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *mon = fx_monitor(b, ALL_EVENTS), *dev;
	const cJSON *d;
	cJSON *j;

	command(app, "cc1", "msg", "m", "c1", NULL, "q1"); /* the device is offline */
	j = admin_cmd(app, "{\"command\":\"cancelCommand\",\"device\":\"cc1\",\"id\":\"q1\"}");
	d = fx_ok_response(j, 0, "cancelCommand");
	ck_assert_str_eq(cJSON_GetObjectItem(d, "id")->valuestring, "q1");
	ck_assert_str_eq(cJSON_GetObjectItem(d, "state")->valuestring, "cancelled");
	cJSON_Delete(j);
	expect_reply(app, "c1", "410", "q1", "cancelled");
	free(expect_event(mon, "c2d.msg.cancelled", "q1"));

	admin_error(app, "{\"command\":\"cancelCommand\",\"device\":\"cc1\",\"id\":\"q1\"}", "no such live command");
	admin_error(app, "{\"command\":\"cancelCommand\",\"device\":\"cc1\",\"id\":\"q99\"}", "no such live command");
	admin_error(app, "{\"command\":\"cancelCommand\",\"device\":\"cc1\",\"id\":\"abc\"}", "invalid id");
	admin_error(app, "{\"command\":\"cancelCommand\",\"device\":\"cc1\",\"id\":\"q01\"}", "invalid id");
	admin_error(app, "{\"command\":\"cancelCommand\",\"device\":\"cc1\"}", "missing id");
	admin_error(app, "{\"command\":\"cancelCommand\",\"id\":\"q1\"}", "missing device");
	admin_error(app, "{\"command\":\"cancelCommand\",\"device\":\"$x\",\"id\":\"q1\"}", "invalid device id");

	/* a delivered RPC: cancelled, the device's late answer is dropped */
	dev = fx_device(b, NULL, "cc1", V311);
	ck_assert(c2d_client_expect_none(dev, "$c2d/cc1/in/#", 300)); /* q1 is gone */
	command(app, "cc1", "rpc/reboot", "{}", "c2", rpc, "q2");
	expect_delivery(dev, "cc1", "q2");
	j = admin_cmd(app, "{\"command\":\"cancelCommand\",\"device\":\"cc1\",\"id\":\"q2\"}");
	fx_ok_response(j, 0, "cancelCommand");
	cJSON_Delete(j);
	expect_reply(app, "c2", "410", "q2", "cancelled");
	free(expect_event(mon, "c2d.rpc.cancelled", "q2"));
	fx_answer(dev, "cc1", "q2", 200);
	ck_assert(c2d_client_expect_none(app, FX_REPLIES, 300));

	c2d_client_destroy(dev);
	c2d_client_destroy(mon);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

START_TEST(retry_command)
{
	static const char *const rpc[] = {"persistent", "true", "retries", "1", NULL};
	struct c2d_broker *b = fx_start("plugin_opt_msg_max_deliveries 1\nplugin_opt_msg_queue_max 2\n");
	struct c2d_client *app = fx_app(b, FX_REPLIES), *mon = fx_monitor(b, ALL_EVENTS), *dev = fx_device(b, NULL, "rc1", V311);
	const cJSON *d, *c;
	cJSON *j;

	/* a dead message (one delivery allowed, answered 500) */
	command(app, "rc1", "msg", "m", "c1", NULL, "q1");
	expect_delivery(dev, "rc1", "q1");
	fx_answer(dev, "rc1", "q1", 500);
	expect_reply(app, "c1", "504", "q1", "dead");
	j = admin_cmd(app, "{\"command\":\"retryCommand\",\"device\":\"rc1\",\"id\":\"q1\"}");
	d = fx_ok_response(j, 0, "retryCommand");
	ck_assert_str_eq(cJSON_GetObjectItem(d, "id")->valuestring, "q1");
	ck_assert_str_eq(cJSON_GetObjectItem(d, "state")->valuestring, "queued");
	ck_assert(cJSON_GetObjectItem(d, "expiresMs")->valuedouble > 1.7e12);
	cJSON_Delete(j);
	free(expect_event(mon, "c2d.msg.retried", "q1"));
	expect_delivery(dev, "rc1", "q1"); /* online: delivered at once */
	fx_answer(dev, "rc1", "q1", 200);
	expect_reply(app, "c1", "200", "q1", "completed");
	admin_error(app, "{\"command\":\"retryCommand\",\"device\":\"rc1\",\"id\":\"q1\"}",
			"only timeout, failed, expired or dead commands can be retried");

	/* a failed RPC gets its retries back */
	command(app, "rc1", "rpc/reset", "{}", "c2", rpc, "q2");
	expect_delivery(dev, "rc1", "q2");
	fx_answer(dev, "rc1", "q2", 400);
	expect_reply(app, "c2", "400", NULL, NULL);
	j = admin_cmd(app, "{\"command\":\"retryCommand\",\"device\":\"rc1\",\"id\":\"q2\"}");
	fx_ok_response(j, 0, "retryCommand");
	cJSON_Delete(j);
	free(expect_event(mon, "c2d.rpc.retried", "q2"));
	expect_delivery(dev, "rc1", "q2");
	j = admin_cmd(app, "{\"command\":\"listCommands\",\"device\":\"rc1\"}");
	c = listed(j, "q2");
	ck_assert_str_eq(cJSON_GetObjectItem(c, "state")->valuestring, "sent");
	ck_assert_int_eq(cJSON_GetObjectItem(c, "retriesLeft")->valueint, 1);
	ck_assert_int_eq(cJSON_GetObjectItem(c, "deliveries")->valueint, 1);
	cJSON_Delete(j);
	admin_error(app, "{\"command\":\"retryCommand\",\"device\":\"rc1\",\"id\":\"q2\"}", "command is still live");
	admin_error(app, "{\"command\":\"retryCommand\",\"device\":\"rc1\",\"id\":\"q99\"}", "no such finished command");
	admin_error(app, "{\"command\":\"retryCommand\",\"device\":\"rc1\",\"id\":\"zz\"}", "invalid id");
	admin_error(app, "{\"command\":\"retryCommand\",\"device\":\"rc1\"}", "missing id");
	admin_error(app, "{\"command\":\"retryCommand\",\"id\":\"q2\"}", "missing device");
	fx_answer(dev, "rc1", "q2", 404);
	expect_reply(app, "c2", "404", NULL, NULL);

	/* the queue bound still holds */
	ck_assert_int_eq(c2d_client_disconnect(dev), 0);
	c2d_sleep_ms(150);
	command(app, "rc1", "msg", "3", "c3", NULL, "q3");
	command(app, "rc1", "msg", "4", "c4", NULL, "q4");
	admin_error(app, "{\"command\":\"retryCommand\",\"device\":\"rc1\",\"id\":\"q2\"}", "queue full");

	c2d_client_destroy(dev);
	c2d_client_destroy(mon);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

START_TEST(purge_queue)
{
	static const char *const rpc[] = {"persistent", "true", NULL};
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *mon = fx_monitor(b, ALL_EVENTS), *dev;
	char ids[128], next[16];
	cJSON *j;

	command(app, "pq1", "msg", "1", "c1", NULL, "q1");
	command(app, "pq1", "msg", "2", "c2", NULL, "q2");
	command(app, "pq1", "rpc/reboot", "{}", "c3", rpc, "q3");
	j = admin_cmd(app, "{\"command\":\"purgeQueue\",\"device\":\"pq1\"}");
	ck_assert_int_eq(cJSON_GetObjectItem(fx_ok_response(j, 0, "purgeQueue"), "purged")->valueint, 3);
	cJSON_Delete(j);
	expect_reply(app, "c1", "410", "q1", "purged");
	expect_reply(app, "c2", "410", "q2", "purged");
	expect_reply(app, "c3", "410", "q3", "purged");
	free(expect_event(mon, "c2d.msg.purged", "q1"));
	free(expect_event(mon, "c2d.msg.purged", "q2"));
	free(expect_event(mon, "c2d.rpc.purged", "q3"));
	list_ids(app, "{\"command\":\"listCommands\",\"device\":\"pq1\"}", ids, sizeof(ids), next, sizeof(next));
	ck_assert_str_eq(ids, "");
	list_ids(app, "{\"command\":\"listCommands\",\"device\":\"pq1\",\"history\":true}", ids, sizeof(ids), next, sizeof(next));
	ck_assert_str_eq(ids, "q1 q2 q3");
	admin_error(app, "{\"command\":\"retryCommand\",\"device\":\"pq1\",\"id\":\"q1\"}",
			"only timeout, failed, expired or dead commands can be retried");
	j = admin_cmd(app, "{\"command\":\"purgeQueue\",\"device\":\"pq1\"}");
	ck_assert_int_eq(cJSON_GetObjectItem(fx_ok_response(j, 0, "purgeQueue"), "purged")->valueint, 0);
	cJSON_Delete(j);
	admin_error(app, "{\"command\":\"purgeQueue\"}", "missing device");
	admin_error(app, "{\"command\":\"purgeQueue\",\"device\":\"\"}", "invalid device id");
	dev = fx_device(b, NULL, "pq1", V311);
	ck_assert(c2d_client_expect_none(dev, "$c2d/pq1/in/#", 300));

	c2d_client_destroy(dev);
	c2d_client_destroy(mon);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

START_TEST(delete_device)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *mon = fx_monitor(b, ALL_EVENTS);
	char ids[128], next[16];
	const cJSON *d;
	char *topic;
	cJSON *j;

	fx_desired(app, "dd1", "{\"a\":1}", NULL);
	command(app, "dd1", "msg", "1", "c1", NULL, "q1");
	command(app, "dd1", "msg", "2", "c2", NULL, "q2");
	j = admin_cmd(app, "{\"command\":\"cancelCommand\",\"device\":\"dd1\",\"id\":\"q2\"}"); /* into history */
	fx_ok_response(j, 0, "cancelCommand");
	cJSON_Delete(j);
	expect_reply(app, "c2", "410", "q2", "cancelled");

	j = admin_cmd(app, "{\"command\":\"deleteDevice\",\"device\":\"dd1\"},{\"command\":\"getDevice\",\"device\":\"dd1\"}");
	d = fx_ok_response(j, 0, "deleteDevice");
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(d, "deleted")));
	ck_assert_int_eq(cJSON_GetObjectItem(d, "purged")->valueint, 1);
	d = fx_ok_response(j, 1, "getDevice");
	ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(d, "known")));
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(d, "twin")));
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "queue"), "depth")->valueint, 0);
	cJSON_Delete(j);
	expect_reply(app, "c1", "410", "q1", "purged");
	free(expect_event(mon, "c2d.msg.purged", "q1"));
	topic = expect_event(mon, "c2d.device.deleted", NULL);
	ck_assert_str_eq(topic, "$c2d/dd1/events/device");
	free(topic);
	list_ids(app, "{\"command\":\"listCommands\",\"device\":\"dd1\",\"history\":true}", ids, sizeof(ids), next, sizeof(next));
	ck_assert_str_eq(ids, "");
	j = admin_cmd(app, "{\"command\":\"listDevices\"}");
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(fx_ok_response(j, 0, "listDevices"), "devices")), 0);
	cJSON_Delete(j);
	/* its dedup entries went too: the same request is a new command; ids
	 * are never reused, so it is q3, not q1 again, and the new twin's first
	 * version is 2 (its push t2: a late answer to t1 settles nothing) */
	command(app, "dd1", "msg", "2", "c2", NULL, "q3");
	{
		struct c2d_msg *m = fx_request(app, "$c2d/dd1/twin/desired", "{\"b\":1}", "200");

		ck_assert_str_eq(m->payload, "{\"version\":2,\"status\":200}");
		c2d_msg_free(m);
	}

	admin_error(app, "{\"command\":\"deleteDevice\",\"device\":\"nobody\"}", "no such device");
	admin_error(app, "{\"command\":\"deleteDevice\"}", "missing device");
	admin_error(app, "{\"command\":\"deleteDevice\",\"device\":\"a+b\"}", "invalid device id");

	c2d_client_destroy(mon);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* History ends after history_ttl: listing, duplicates, retry; 0 keeps none. */
static void history_ends(const char *plugin_opts, int wait_ms)
{
	struct c2d_broker *b = fx_start(plugin_opts);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *dev = fx_device(b, NULL, "he1", V311);
	char ids[128], next[16];

	command(app, "he1", "msg", "m", "c1", NULL, "q1");
	expect_delivery(dev, "he1", "q1");
	fx_answer(dev, "he1", "q1", 200);
	expect_reply(app, "c1", "200", "q1", "completed");
	c2d_sleep_ms(wait_ms);
	list_ids(app, "{\"command\":\"listCommands\",\"device\":\"he1\",\"history\":true}", ids, sizeof(ids), next, sizeof(next));
	ck_assert_str_eq(ids, "");
	admin_error(app, "{\"command\":\"retryCommand\",\"device\":\"he1\",\"id\":\"q1\"}", "no such finished command");
	command(app, "he1", "msg", "m", "c1", NULL, "q2"); /* not a duplicate any more */
	expect_delivery(dev, "he1", "q2");

	c2d_client_destroy(dev);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}

START_TEST(history_expires)
{
	history_ends("plugin_opt_history_ttl 1\n", 1500);
}
END_TEST

START_TEST(history_off)
{
	history_ends("plugin_opt_history_ttl 0\n", 0);
}
END_TEST

/* The documented mosquitto_rr line works as shown (docs/protocol.md). */
START_TEST(cli_rr_list_commands)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES);
	char *cmd, *out = NULL;

	command(app, "lamp-1", "msg", "hello", "c1", NULL, "q1");
	cmd = c2d_strf("mosquitto_rr -V 5 -p %d -t '$CONTROL/c2d/v1' -e '$CONTROL/c2d/v1/response' -W 5"
			" -m '{\"commands\":[{\"command\":\"listCommands\",\"device\":\"lamp-1\",\"history\":true,\"count\":2}]}'",
			b->port);
	ck_assert_int_eq(c2d_sh(cmd, 8000, &out), 0);
	ck_assert_msg(strstr(out, "{\"responses\":[{\"command\":\"listCommands\",\"data\":{\"commands\":[{\"id\":\"q1\",\"kind\":\"msg\"")
			!= NULL, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "\"next\":null"));
	free(cmd);
	free(out);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("admin_queue");
	TCase *tc = tcase_create("broker");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, list_commands);
	tcase_add_test(tc, cancel_command);
	tcase_add_test(tc, retry_command);
	tcase_add_test(tc, purge_queue);
	tcase_add_test(tc, delete_device);
	tcase_add_test(tc, history_expires);
	tcase_add_test(tc, history_off);
	tcase_add_test(tc, cli_rr_list_commands);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
