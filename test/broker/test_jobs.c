/* Fleet jobs (protocol-v2 section 3) against the real broker: createJob,
 * getJob, listJobs, cancelJob, listJobDevices; msg, twin and persistent RPC
 * actions on v5 and v3.1.1 devices; a device offline at dispatch finishing
 * when it returns; where targets; rollout rate and in-flight cap; cancel
 * mid-rollout; kill -9 mid-rollout; bad specs, duplicates, 0 devices. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "harness.h"
#include "jobs_fx.h"
#include "../check_main.h"

/* A msg job on a v5 and a v3.1.1 device online and one offline that gets
 * it when it returns; events; listJobDevices with a filter. */
START_TEST(test_msg_job)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *mon = fx_monitor(b, "$c2d/$jobs/m1/events");
	struct c2d_client *a = fx_device(b, NULL, "ja", V5), *c = fx_device(b, NULL, "jb", V3), *off;
	char id[32], st[32];
	struct c2d_msg *em;
	cJSON *ev, *resp, *j;

	ck_assert_int_eq(cmd_status(app, "{\"command\":\"createJob\",\"job\":\"m1\",\"target\":{\"devices\":[\"ja\",\"jb\",\"jc\"]},"
			"\"action\":{\"msg\":{\"payload\":\"hello fleet\",\"ttl\":600}}}", NULL, 0), 202);
	em = c2d_client_wait_msg(mon, "$c2d/$jobs/m1/events", FX_WAIT_MS);
	ck_assert_ptr_nonnull(em);
	ev = fx_json(em);
	ck_assert_str_eq(cJSON_GetObjectItem(ev, "type")->valuestring, "c2d.job.created");
	ck_assert_str_eq(cJSON_GetObjectItem(ev, "subject")->valuestring, "m1");
	cJSON_Delete(ev);
	c2d_msg_free(em);
	take(a, "ja", id, sizeof(id));
	ck_assert_str_eq(id, "q1");
	take(c, "jb", id, sizeof(id));
	/* jc is offline: in progress, finishing when it comes */
	off = fx_device(b, NULL, "jc", V5);
	take(off, "jc", id, sizeof(id));
	wait_job(app, "m1", "completed", 10000);
	ck_assert_int_eq(job_count(app, "m1", "succeeded", st), 3);
	j = fx_admin(app, "{\"command\":\"listJobDevices\",\"job\":\"m1\",\"state\":\"succeeded\",\"count\":2}", &resp);
	ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(resp, "data"), "devices")), 2);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(resp, "data"), "next")->valuestring, "jb");
	cJSON_Delete(j);
	j = fx_admin(app, "{\"command\":\"listJobs\"}", &resp);
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(resp, "data"), "jobs"), 0),
			"job")->valuestring, "m1");
	cJSON_Delete(j);
	c2d_client_destroy(off);
	c2d_client_destroy(c);
	c2d_client_destroy(a);
	c2d_client_destroy(mon);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* A twin job over a where target succeeds when each device acknowledges
 * a desired version holding the patch; an rpc job fails on a 4xx. */
START_TEST(test_twin_and_rpc_job)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *mon = fx_monitor(b, "$c2d/+/events/job");
	struct c2d_client *a = fx_device(b, NULL, "ta", _i ? V3 : V5), *c = fx_device(b, NULL, "tb", V5);
	struct c2d_msg *m;
	char id[32], st[32];

	c2d_msg_free(fx_request(app, "$c2d/ta/twin/tags", "{\"site\":\"berlin\"}", "200"));
	c2d_msg_free(fx_request(app, "$c2d/tb/twin/tags", "{\"site\":\"paris\"}", "200"));
	ck_assert_int_eq(cmd_status(app, "{\"command\":\"createJob\",\"job\":\"t1\",\"target\":{\"where\":{\"tags.site\":\"berlin\"}},"
			"\"action\":{\"twin\":{\"desired\":{\"rate\":5}}}}", NULL, 0), 202);
	m = c2d_client_wait_msg(a, "$c2d/ta/in/twin/#", FX_WAIT_MS * 3);
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(strstr(m->payload, "\"rate\":5"));
	fx_answer(a, "ta", strrchr(m->topic, '/') + 1, 200);
	c2d_msg_free(m);
	wait_job(app, "t1", "completed", 10000);
	ck_assert_int_eq(job_count(app, "t1", "succeeded", st), 1);
	ck_assert(c2d_client_expect_none(c, "$c2d/tb/in/#", 300)); /* paris does not match */
	/* rpc: tb refuses with 400 -> failed */
	ck_assert_int_eq(cmd_status(app, "{\"command\":\"createJob\",\"job\":\"r1\",\"target\":{\"devices\":[\"tb\"]},"
			"\"action\":{\"rpc\":{\"method\":\"reboot\",\"params\":{\"delay\":1},\"timeout\":5000}}}", NULL, 0), 202);
	m = c2d_client_wait_msg(c, "$c2d/tb/in/rpc/reboot/#", FX_WAIT_MS * 3);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->payload, "{\"delay\":1}");
	snprintf(id, sizeof(id), "%s", strrchr(m->topic, '/') + 1);
	c2d_msg_free(m);
	fx_answer(c, "tb", id, 400);
	wait_job(app, "r1", "completed", 10000);
	ck_assert_int_eq(job_count(app, "r1", "failed", st), 1);
	c2d_msg_free(fx_skip_to_event(mon, "c2d.job.execution", NULL));
	c2d_client_destroy(c);
	c2d_client_destroy(a);
	c2d_client_destroy(mon);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* Bad specs get 400 with the reason; a duplicate id 409; a job on 0
 * devices completes; unknown jobs 404; cancel of a finished job 409. */
START_TEST(test_bad_specs)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES);
	static const struct {
		const char *cmd, *why;
	} bad[] = {
		{"\"job\":\"a b\",\"target\":{\"devices\":[]},\"action\":{\"msg\":{\"payload\":\"x\"}}",
			"job must be 1..64 characters of A-Z a-z 0-9 _ . -"},
		{"\"job\":\"x\",\"target\":{\"devices\":[\"a\",\"a\"]},\"action\":{\"msg\":{\"payload\":\"x\"}}",
			"target.devices lists 'a' twice"},
		{"\"job\":\"x\",\"target\":{\"where\":{\"site\":1}},\"action\":{\"msg\":{\"payload\":\"x\"}}",
			"unknown path 'site' (device, online, tags.*, desired.*, reported.*, info.*)"},
		{"\"job\":\"x\",\"target\":{\"devices\":[]},\"action\":{\"msg\":{}}",
			"action.msg needs exactly one of payload and payloadBase64"},
		{"\"job\":\"x\",\"target\":{\"devices\":[]},\"action\":{\"rpc\":{\"method\":\"r\",\"timeout\":1}}",
			"action.rpc.timeout must be a whole number in 100..300000"},
		{"\"job\":\"x\",\"target\":{\"devices\":[]},\"action\":{\"twin\":{\"desired\":{}}}",
			"action.twin.desired must be a non-empty object (a merge patch)"},
		{"\"job\":\"x\",\"target\":{\"devices\":[]},\"action\":{\"fw\":{}}", "action must be one of twin, msg and rpc"},
		{"\"job\":\"x\",\"target\":{\"devices\":[]},\"action\":{\"msg\":{\"payload\":\"x\"}},\"rollout\":{\"maxPerMinute\":0}",
			"rollout.maxPerMinute must be a whole number in 1..1000000"},
	};
	char err[256], *cmd, st[32];
	size_t i;

	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		cmd = c2d_strf("{\"command\":\"createJob\",%s}", bad[i].cmd);
		ck_assert_int_eq(cmd_status(app, cmd, err, sizeof(err)), 400);
		ck_assert_str_eq(err, bad[i].why);
		free(cmd);
	}
	cmd = "{\"command\":\"createJob\",\"job\":\"zero\",\"target\":{\"devices\":[]},\"action\":{\"msg\":{\"payload\":\"x\"}}}";
	ck_assert_int_eq(cmd_status(app, cmd, NULL, 0), 202);
	ck_assert_int_eq(cmd_status(app, cmd, err, sizeof(err)), 409);
	ck_assert_str_eq(err, "a job with this id exists");
	wait_job(app, "zero", "completed", 5000);
	ck_assert_int_eq(job_count(app, "zero", "queued", st), 0);
	ck_assert_int_eq(cmd_status(app, "{\"command\":\"getJob\",\"job\":\"nope\"}", NULL, 0), 404);
	ck_assert_int_eq(cmd_status(app, "{\"command\":\"cancelJob\",\"job\":\"zero\"}", NULL, 0), 409);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* maxInFlight 1 holds the second device until the first answers;
 * maxPerMinute 120 spaces dispatches 500 ms apart (one second of
 * catch-up at most); cancel mid-rollout cancels what is queued. */
START_TEST(test_rollout_cancel)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *d[6];
	char id[32], st[32], name[8];
	uint64_t first = 0, last = 0;
	int i;

	for(i = 0; i < 6; i++){
		snprintf(name, sizeof(name), "r%d", i);
		d[i] = fx_device(b, NULL, name, i % 2 ? V3 : V5);
	}
	ck_assert_int_eq(cmd_status(app, "{\"command\":\"createJob\",\"job\":\"cap\",\"target\":{\"devices\":[\"r0\",\"r1\"]},"
			"\"action\":{\"msg\":{\"payload\":\"x\"}},\"rollout\":{\"maxInFlight\":1}}", NULL, 0), 202);
	ck_assert_ptr_nonnull(c2d_client_wait_msg(d[0], "$c2d/r0/in/#", FX_WAIT_MS * 3));
	ck_assert(c2d_client_expect_none(d[1], "$c2d/r1/in/#", 500)); /* held by the cap */
	ck_assert_int_eq(job_count(app, "cap", "in_progress", st), 1);
	fx_answer(d[0], "r0", "q1", 200);
	take(d[1], "r1", id, sizeof(id));
	wait_job(app, "cap", "completed", 10000);
	/* rate: 4 devices at 120/min */
	ck_assert_int_eq(cmd_status(app, "{\"command\":\"createJob\",\"job\":\"rate\",\"target\":{\"devices\":[\"r2\",\"r3\",\"r4\",\"r5\"]},"
			"\"action\":{\"msg\":{\"payload\":\"x\"}},\"rollout\":{\"maxPerMinute\":120}}", NULL, 0), 202);
	for(i = 2; i < 6; i++){
		snprintf(name, sizeof(name), "r%d", i);
		take(d[i], name, id, sizeof(id));
		last = c2d_now_ms();
		if(i == 2) first = last;
	}
	/* 500 ms (3 slots at 500 ms, one second of catch-up), less 100 ms of
	 * delivery jitter (the first dispatch's commit and sync); unpaced they
	 * all come at once */
	ck_assert_msg(last - first >= 3 * 500 - 1000 - 100, "4 dispatches at 120/min took %llu ms",
			(unsigned long long)(last - first));
	wait_job(app, "rate", "completed", 10000);
	/* cancel: 60/min over r0..r5: the first goes, cancel, the rest are cancelled */
	ck_assert_int_eq(cmd_status(app, "{\"command\":\"createJob\",\"job\":\"cx\",\"target\":{\"devices\":[\"r0\",\"r1\",\"r2\",\"r3\"]},"
			"\"action\":{\"msg\":{\"payload\":\"y\"}},\"rollout\":{\"maxPerMinute\":6}}", NULL, 0), 202);
	take(d[0], "r0", id, sizeof(id));
	ck_assert_int_eq(cmd_status(app, "{\"command\":\"cancelJob\",\"job\":\"cx\"}", NULL, 0), 200);
	ck_assert_int_eq(wait_count(app, "cx", "cancelled", 3, st), 3);
	ck_assert_str_eq(st, "cancelled");
	ck_assert(c2d_client_expect_none(d[1], "$c2d/r1/in/#", 300));
	for(i = 0; i < 6; i++) c2d_client_destroy(d[i]);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* kill -9 (or a clean restart) mid-rollout: the job resumes at its cursor,
 * no device gets it twice, none is skipped. */
START_TEST(test_restart)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *d[4];
	char id[32], st[32], name[24];
	int i;

	ck_assert_int_eq(cmd_status(app, "{\"command\":\"createJob\",\"job\":\"k\",\"target\":{\"devices\":[\"k0\",\"k1\",\"k2\",\"k3\"]},"
			"\"action\":{\"msg\":{\"payload\":\"z\"}},\"rollout\":{\"maxPerMinute\":30}}", NULL, 0), 202);
	c2d_sleep_ms(2500); /* k0 dispatched (offline: queued in its queue), maybe k1 */
	app = restart_broker(b, app, _i);
	for(i = 0; i < 4; i++){
		snprintf(name, sizeof(name), "k%d", i);
		d[i] = fx_device(b, NULL, name, V5);
	}
	for(i = 0; i < 4; i++){
		snprintf(name, sizeof(name), "k%d", i);
		take(d[i], name, id, sizeof(id));
		ck_assert_str_eq(id, "q1");
	}
	wait_job(app, "k", "completed", 15000);
	ck_assert_int_eq(job_count(app, "k", "succeeded", st), 4);
	for(i = 0; i < 4; i++){
		snprintf(name, sizeof(name), "$c2d/k%d/in/#", i);
		ck_assert(c2d_client_expect_none(d[i], name, i ? 0 : 300)); /* never twice */
		c2d_client_destroy(d[i]);
	}
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* A job over a device list at the contract's limit (10000 ids, the
 * online device last, so dispatched last): every execution is dispatched,
 * slice by slice, to the end, and the counts add up on the way. An idle
 * broker wakes the plugin every 100 ms: this is what took minutes before
 * the jobs' idle slices. C2D_LONG_LIST: another length (make sanitize: 200,
 * its broker unwinds a stack at every malloc). */
START_TEST(test_long_device_list)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *d = fx_device(b, NULL, "zz-last", V5);
	int i, want = getenv("C2D_LONG_LIST") ? atoi(getenv("C2D_LONG_LIST")) : 10000;
	size_t cap = (size_t)want * 16 + 256, n = 0;
	char *cmd = malloc(cap), st[32];
	uint64_t t0 = c2d_now_ms();
	struct c2d_msg *m;

	ck_assert_ptr_nonnull(cmd);
	n += (size_t)snprintf(cmd + n, cap - n, "{\"command\":\"createJob\",\"job\":\"big\",\"target\":{\"devices\":[");
	for(i = 0; i < want - 1; i++) n += (size_t)snprintf(cmd + n, cap - n, "\"big-%05d\",", i);
	snprintf(cmd + n, cap - n, "\"zz-last\"]},\"action\":{\"msg\":{\"payload\":\"all of them\",\"ttl\":60}}}");
	ck_assert_int_eq(cmd_status(app, cmd, NULL, 0), 202);
	free(cmd);
	fprintf(stderr, "long list: created after %llu ms\n", (unsigned long long)(c2d_now_ms() - t0));
	m = c2d_client_wait_msg(d, "$c2d/zz-last/in/msg/#", 100000);
	fprintf(stderr, "long list: last device after %llu ms\n", (unsigned long long)(c2d_now_ms() - t0));
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->payload, "all of them");
	c2d_msg_free(m);
	ck_assert_int_eq(job_count(app, "big", "queued", st), 0); /* every execution dispatched */
	c2d_client_destroy(d);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("jobs");
	TCase *tc = tcase_create("broker");

	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_msg_job);
	tcase_add_loop_test(tc, test_twin_and_rpc_job, 0, 2);
	tcase_add_test(tc, test_bad_specs);
	tcase_add_test(tc, test_rollout_cancel);
	tcase_add_loop_test(tc, test_restart, 0, 2);
	tcase_add_test(tc, test_long_device_list);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
