/* Writes the schema 1.3 store fixture (test/data/store-1.3.tar.gz) with the
 * plugin of release 1.3 (commit 4643f48): scripts/gen-store-fixture.sh
 * builds that commit in a temporary directory, copies this file into its
 * test/broker/ and builds it there against that tree's harness, so the
 * store is written by the real old plugin through real clients, not by
 * hand. Run: gen_store OUTDIR; writes OUTDIR/data.mdb (compacted copy) and
 * OUTDIR/created (the wall clock in ms when the items were made: the test
 * runs its broker at that time).
 *
 * What it holds (test/broker/test_upgrade.c checks each):
 *   dev-a  v5, hello info {"fw":"1.0","model":"F"}, reported {"fw":"1.0"},
 *          desired {"led":"on"} acknowledged; q1 "done-payload" completed
 *          (history); q2 "sent-payload" SENT, unanswered, device offline
 *   dev-b  v3.1.1, offline: q1 "queued-1", q2 "queued-2" (msg), q3 rpc
 *          "reboot" {"delay":5} persistent, all QUEUED; q4 "job-payload"
 *          from job fx-job (its execution in flight)
 *   dev-c  offline: q1 "expire-me" expired (history, retryable)
 * Every lifetime is a year (msg_ttl_max), history_ttl a year. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mqtt_protocol.h>

#include "fixture.h"
#include "harness.h"
#include "../check_main.h"

#define YEAR "31536000"

static const char *outdir;

static void msg(struct c2d_client *app, const char *dev, const char *payload, const char *corr, const char *ttl,
		const char *want_id)
{
	static const char *user[] = {"ttl", NULL, NULL};
	char *topic = c2d_strf("$c2d/%s/msg", dev);
	struct c2d_msg *m;

	user[1] = ttl;
	m = fx_send(app, topic, payload, corr, user, "202");
	ck_assert_msg(strstr(m->payload, want_id) != NULL, "%s: %s", corr, m->payload);
	c2d_msg_free(m);
	free(topic);
}

START_TEST(generate)
{
	static const char *const rpc_user[] = {"persistent", "true", "ttl", YEAR, NULL};
	struct c2d_broker *b = fx_start("plugin_opt_msg_ttl_max " YEAR "\nplugin_opt_history_ttl " YEAR
			"\nplugin_opt_ack_timeout 86400\n");
	struct c2d_client *app = fx_app(b, FX_REPLIES), *a, *dev_b, *dev_c;
	struct c2d_msg *m;
	cJSON *resp, *j;
	struct timespec now;
	char *cmd;
	FILE *f;

	a = fx_client(b, "dev-a", MQTT_PROTOCOL_V5);
	ck_assert_int_lt(c2d_client_publish(a, "$c2d/dev-a/out/hello", "{\"fw\":\"1.0\",\"model\":\"F\"}", -1, 1, false,
			NULL), 0x80);
	ck_assert_int_lt(c2d_client_publish(a, "$c2d/dev-a/out/reported", "{\"fw\":\"1.0\"}", -1, 1, false, NULL), 0x80);
	c2d_msg_free(fx_request(app, "$c2d/dev-a/twin/desired", "{\"led\":\"on\"}", "200"));
	m = c2d_client_wait_msg(a, "$c2d/dev-a/in/twin/+", FX_WAIT_MS);
	ck_assert_ptr_nonnull(m);
	fx_answer(a, "dev-a", strrchr(m->topic, '/') + 1, 200);
	c2d_msg_free(m);

	msg(app, "dev-a", "done-payload", "c-done", YEAR, "\"q1\"");
	m = c2d_client_wait_msg(a, "$c2d/dev-a/in/msg/q1", FX_WAIT_MS);
	ck_assert_ptr_nonnull(m);
	c2d_msg_free(m);
	fx_answer(a, "dev-a", "q1", 200);
	fx_final(app, "c-done", "completed", 200, FX_WAIT_MS);
	msg(app, "dev-a", "sent-payload", "c-sent", YEAR, "\"q2\"");
	m = c2d_client_wait_msg(a, "$c2d/dev-a/in/msg/q2", FX_WAIT_MS);
	ck_assert_ptr_nonnull(m);
	c2d_msg_free(m);
	fx_offline(a);

	dev_b = fx_client(b, "dev-b", MQTT_PROTOCOL_V311);
	fx_offline(dev_b);
	msg(app, "dev-b", "queued-1", "c-q1", YEAR, "\"q1\"");
	msg(app, "dev-b", "queued-2", "c-q2", YEAR, "\"q2\"");
	c2d_msg_free(fx_send(app, "$c2d/dev-b/rpc/reboot", "{\"delay\":5}", "c-rpc", rpc_user, "202"));

	dev_c = fx_client(b, "dev-c", MQTT_PROTOCOL_V5);
	fx_offline(dev_c);
	msg(app, "dev-c", "expire-me", "c-exp", "1", "\"q1\"");
	fx_final(app, "c-exp", "expired", 410, 8000);

	cmd = c2d_strf("{\"command\":\"createJob\",\"job\":\"fx-job\",\"target\":{\"devices\":[\"dev-b\"]},"
			"\"action\":{\"msg\":{\"payload\":\"job-payload\",\"ttl\":%s}}}", YEAR);
	j = fx_admin(app, cmd, &resp);
	ck_assert_msg(strstr(cJSON_PrintUnformatted(resp), "running") != NULL, "%s", cJSON_PrintUnformatted(resp));
	cJSON_Delete(j);
	free(cmd);
	{
		uint64_t end = c2d_now_ms() + 5000;

		while(c2d_admin_queue_depth(app, "dev-b") < 4 && c2d_now_ms() < end) c2d_sleep_ms(50);
	}
	ck_assert_int_eq(c2d_admin_queue_depth(app, "dev-b"), 4);

	c2d_client_destroy(dev_c);
	c2d_client_destroy(dev_b);
	c2d_client_destroy(a);
	c2d_client_destroy(app);
	ck_assert_int_eq(c2d_broker_stop(b), 0);
	cmd = c2d_strf("mdb_copy -c '%s' '%s'", b->db_path, outdir);
	ck_assert_int_eq(c2d_sh(cmd, 10000, NULL), 0);
	free(cmd);
	cmd = c2d_strf("%s/created", outdir);
	f = fopen(cmd, "w");
	ck_assert_ptr_nonnull(f);
	clock_gettime(CLOCK_REALTIME, &now);
	fprintf(f, "%lld\n", (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
	ck_assert_int_eq(fclose(f), 0);
	free(cmd);
	c2d_broker_cleanup(b);
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s = suite_create("gen_store_1_3");
	TCase *tc = tcase_create("core");

	if(argc != 2){
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, generate);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
