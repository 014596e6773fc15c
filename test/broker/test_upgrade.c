/* A store written by release 1.3 (schema 1.3: raw device and execution
 * structs, payloads inside the queue records) opens with this plugin,
 * is upgraded in place to schema 2.1 and everything in it works: devices
 * and their info, twins, queued / sent / history items with their payloads,
 * ids that continue, a retry from history, a fleet job's execution.
 *
 * The fixture test/data/store-1.3.tar.gz was written by the 1.3 plugin
 * itself through real clients (scripts/gen-store-fixture.sh builds commit
 * 4643f48 and runs test/data/gen_store_1_3.c, which lists what it holds).
 * Its lifetimes are a year long; the broker runs under libfaketime at the
 * fixture's own time (its file `created`), so the test does not age. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mqtt_protocol.h>

#include "fixture.h"
#include "harness.h"
#include "../check_main.h"

#define YEAR "31536000"
#define FIXTURE C2D_SRCDIR "/test/data/store-1.3.tar.gz"

static long long wall_ms(void)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	return (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* Replace b's store with the fixture and run the broker at its time. */
static void load_fixture(struct c2d_broker *b)
{
	char *cmd, *path;
	long long created = 0;
	FILE *f;

	ck_assert_int_eq(c2d_broker_stop(b), 0);
	cmd = c2d_strf("rm -f '%s'/*.mdb && tar -xzf '%s' -C '%s'", b->db_path, FIXTURE, b->db_path);
	ck_assert_int_eq(c2d_sh(cmd, 10000, NULL), 0);
	free(cmd);
	path = c2d_strf("%s/created", b->db_path);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fscanf(f, "%lld", &created), 1);
	fclose(f);
	unlink(path);
	free(path);
	ck_assert_int_eq(c2d_broker_shift_clock(b, (long)((created - wall_ms()) / 1000) + 5), 0);
	ck_assert_int_eq(c2d_broker_restart(b), 0);
}

/* The next delivery to dev is `topic` with `payload`; answer it `status`. */
static void delivered(struct c2d_client *dev, const char *devid, const char *topic, const char *payload, int status)
{
	char *filter = c2d_strf("$c2d/%s/in/#", devid);
	struct c2d_msg *m = c2d_client_wait_msg(dev, filter, FX_WAIT_MS);

	ck_assert_msg(m != NULL, "no delivery to %s (want %s)", devid, topic);
	ck_assert_str_eq(m->topic, topic);
	ck_assert_str_eq(m->payload, payload);
	fx_answer(dev, devid, strrchr(m->topic, '/') + 1, status);
	c2d_msg_free(m);
	free(filter);
}

/* listCommands (with history) of dev as "id:state:payloadBytes ..." */
static char *commands(struct c2d_client *app, const char *dev)
{
	char *cmd = c2d_strf("{\"command\":\"listCommands\",\"device\":\"%s\",\"history\":true}", dev);
	cJSON *resp, *j = fx_admin(app, cmd, &resp), *c;
	char *out = c2d_strf("%s", ""), *next;

	cJSON_ArrayForEach(c, cJSON_GetObjectItem(cJSON_GetObjectItem(resp, "data"), "commands")){
		next = c2d_strf("%s%s%s:%s:%d", out, out[0] ? " " : "", cJSON_GetObjectItem(c, "id")->valuestring,
				cJSON_GetObjectItem(c, "state")->valuestring, cJSON_GetObjectItem(c, "payloadBytes")->valueint);
		free(out);
		out = next;
	}
	cJSON_Delete(j);
	free(cmd);
	return out;
}

static void assert_commands(struct c2d_client *app, const char *dev, const char *want)
{
	char *got = commands(app, dev);

	ck_assert_str_eq(got, want);
	free(got);
}

/* The admin response's text contains every needle (NULL-terminated). */
static void admin_has(struct c2d_client *app, const char *cmd, const char *const *needles)
{
	cJSON *resp, *j = fx_admin(app, cmd, &resp);
	char *text = cJSON_PrintUnformatted(resp);

	for(; *needles; needles++) ck_assert_msg(strstr(text, *needles) != NULL, "%s: no %s in %s", cmd, *needles, text);
	free(text);
	cJSON_Delete(j);
}

START_TEST(store_1_3_upgrades_in_place)
{
	static const char *const info[] = {"\"fw\":\"1.0\"", "\"model\":\"F\"", NULL};
	static const char *const job_done[] = {"\"state\":\"completed\"", "\"succeeded\":1", NULL};
	static const char *const clean[] = {"\"quarantined\":0", "\"storeErrors\":0", NULL};
	struct c2d_broker_opts o = {.plugin_opts = "plugin_opt_msg_ttl_max " YEAR "\nplugin_opt_history_ttl " YEAR
			"\nplugin_opt_ack_timeout 86400\n", .fake_time = true};
	struct c2d_broker *b = c2d_broker_start(&o);
	struct c2d_client *app, *dev;
	struct c2d_msg *m;
	cJSON *j, *t;

	ck_assert_ptr_nonnull(b);
	load_fixture(b);
	ck_assert(c2d_broker_wait_log(b, "schema 1.3 upgraded to 2.1", FX_WAIT_MS));
	ck_assert(c2d_broker_log_contains(b, "records rewritten in the schema 2 formats"));
	app = fx_app(b, FX_REPLIES);

	/* devices, info, twins */
	admin_has(app, "{\"command\":\"getDevice\",\"device\":\"dev-a\"}", info);
	m = fx_request(app, "$c2d/dev-a/twin/get", NULL, "200");
	j = fx_json(m);
	t = cJSON_GetObjectItem(j, "desired");
	ck_assert_str_eq(cJSON_GetObjectItem(t, "led")->valuestring, "on");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "reported"), "fw")->valuestring, "1.0");
	cJSON_Delete(j);
	c2d_msg_free(m);

	/* the queues as 1.3 left them, payload sizes from the state records */
	assert_commands(app, "dev-a", "q2:sent:12 q1:completed:12");
	assert_commands(app, "dev-b", "q1:queued:8 q2:queued:8 q3:queued:11 q4:queued:11");
	assert_commands(app, "dev-c", "q1:expired:9");
	admin_has(app, "{\"command\":\"getStats\"}", clean);

	/* dev-b: each payload as it was sent, in order; the job's too */
	dev = fx_client(b, "dev-b", MQTT_PROTOCOL_V311);
	delivered(dev, "dev-b", "$c2d/dev-b/in/msg/q1", "queued-1", 200);
	fx_final(app, "c-q1", "completed", 200, FX_WAIT_MS);
	delivered(dev, "dev-b", "$c2d/dev-b/in/msg/q2", "queued-2", 200);
	delivered(dev, "dev-b", "$c2d/dev-b/in/rpc/reboot/q3", "{\"delay\":5}", 200);
	delivered(dev, "dev-b", "$c2d/dev-b/in/msg/q4", "job-payload", 200);
	c2d_client_destroy(dev);
	{
		uint64_t end = c2d_now_ms() + FX_WAIT_MS;
		char *got;

		while((got = commands(app, "dev-b")) && strstr(got, "q4:completed") == NULL && c2d_now_ms() < end){
			free(got);
			c2d_sleep_ms(50);
		}
		free(got);
	}
	admin_has(app, "{\"command\":\"getJob\",\"job\":\"fx-job\"}", job_done);
	/* ids continue after the old ones */
	c2d_msg_free(fx_send(app, "$c2d/dev-b/msg", "new", "c-new", NULL, "202"));
	assert_commands(app, "dev-b", "q5:queued:3 q1:completed:8 q2:completed:8 q3:successful:11 q4:completed:11");

	/* dev-a: the unanswered delivery again, with its payload */
	dev = fx_client(b, "dev-a", MQTT_PROTOCOL_V5);
	delivered(dev, "dev-a", "$c2d/dev-a/in/msg/q2", "sent-payload", 200);
	fx_final(app, "c-sent", "completed", 200, FX_WAIT_MS);
	c2d_client_destroy(dev);

	/* dev-c: the expired message retried from history, payload intact */
	c2d_msg_free(fx_request(app, "$CONTROL/c2d/v1",
			"{\"commands\":[{\"command\":\"retryCommand\",\"device\":\"dev-c\",\"id\":\"q1\"}]}", NULL));
	dev = fx_client(b, "dev-c", MQTT_PROTOCOL_V5);
	delivered(dev, "dev-c", "$c2d/dev-c/in/msg/q1", "expire-me", 200);
	fx_final(app, "c-exp", "completed", 200, FX_WAIT_MS);
	c2d_client_destroy(dev);

	admin_has(app, "{\"command\":\"getStats\"}", clean);
	c2d_client_destroy(app);

	/* opened again: already 2.0, nothing to upgrade */
	c2d_broker_log_mark(b);
	ck_assert_int_eq(c2d_broker_restart(b), 0);
	ck_assert(!c2d_broker_log_contains(b, "upgraded"));
	app = fx_app(b, FX_REPLIES);
	assert_commands(app, "dev-b", "q5:queued:3 q1:completed:8 q2:completed:8 q3:successful:11 q4:completed:11");
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("upgrade");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, store_1_3_upgrades_in_place);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
