/* Fleet jobs' life (protocol-v2 section 3) against the real broker: abort
 * on the failure share (a device answering 500, one timing out), startAt
 * (scheduled across a kill -9) and expiresIn (queued and undelivered
 * executions expire), cancelling a scheduled job, continuous jobs reaching
 * devices tagged later (online, offline until they return, new devices,
 * across a restart) or, for a where on `online`, at their connect, never
 * twice; the jobs statistics in getStats and on
 * $SYS/broker/c2d/jobs/... */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fixture.h"
#include "harness.h"
#include "jobs_fx.h"
#include "../check_main.h"

/* data.{path} of getJob's or getStats' reply as a number (-1: absent). */
static double reply_num(struct c2d_client *app, const char *cmd, const char *a, const char *b)
{
	cJSON *resp, *j = fx_admin(app, cmd, &resp), *n = cJSON_GetObjectItem(resp, "data");
	double v;

	n = cJSON_GetObjectItem(n, a);
	if(b) n = cJSON_GetObjectItem(n, b);
	v = cJSON_IsNumber(n) ? n->valuedouble : -1;
	cJSON_Delete(j);
	return v;
}

/* The next event of the job on mon (subscribed to its events) of type. */
static cJSON *job_event(struct c2d_client *mon, const char *job, const char *type)
{
	char *topic = c2d_strf("$c2d/$jobs/%s/events", job);
	uint64_t end = c2d_now_ms() + FX_WAIT_MS * 3;
	struct c2d_msg *m;
	cJSON *ev;

	while(c2d_now_ms() < end){
		m = c2d_client_wait_msg(mon, topic, FX_WAIT_MS);
		if(m == NULL) break;
		ev = fx_json(m);
		c2d_msg_free(m);
		if(strcmp(cJSON_GetObjectItem(ev, "type")->valuestring, type) == 0){
			free(topic);
			return ev;
		}
		cJSON_Delete(ev);
	}
	ck_abort_msg("no %s event for job %s", type, job);
	return NULL;
}

/* Wait (bounded) for topic on sys with payload want (earlier publishes may
 * still show older values). */
static void wait_sys(struct c2d_client *sys, const char *topic, const char *want)
{
	uint64_t end = c2d_now_ms() + 3000;
	struct c2d_msg *m;
	bool seen = false;

	while(!seen && c2d_now_ms() < end){
		m = c2d_client_wait_msg(sys, topic, 1500);
		seen = m && strcmp(m->payload, want) == 0;
		c2d_msg_free(m);
	}
	ck_assert_msg(seen, "%s never was %s", topic, want);
}

/* An RPC job with maxInFlight 1 and abort {failedPercent 50, minExecuted
 * 2} over six devices: a0 answers 200, a1 500 (1 of 2 failed: not more
 * than 50%), a2 never answers (timed_out: 2 of 3) -> aborted; the three
 * queued are cancelled and never sent. Statistics count it all. */
START_TEST(test_abort)
{
	struct c2d_broker *b = fx_start("plugin_opt_stats_interval 1\n");
	struct c2d_client *app = fx_app(b, FX_REPLIES), *mon = fx_monitor(b, "$c2d/$jobs/ab/events");
	struct c2d_client *sys = fx_subscriber(b, "sys", "$SYS/broker/c2d/jobs/#"), *d[6];
	char name[24], *filter, st[32];
	struct c2d_msg *m;
	cJSON *ev;
	int i;

	for(i = 0; i < 6; i++){
		snprintf(name, sizeof(name), "a%d", i);
		d[i] = fx_device(b, NULL, name, i % 2 ? V3 : V5);
	}
	ck_assert_int_eq(cmd_status(app, "{\"command\":\"createJob\",\"job\":\"ab\",\"target\":{\"devices\":[\"a0\",\"a1\",\"a2\",\"a3\",\"a4\",\"a5\"]},"
			"\"action\":{\"rpc\":{\"method\":\"apply\",\"timeout\":1000}},\"rollout\":{\"maxInFlight\":1},"
			"\"abort\":{\"failedPercent\":50,\"minExecuted\":2}}", NULL, 0), 202);
	for(i = 0; i < 3; i++){
		snprintf(name, sizeof(name), "a%d", i);
		filter = c2d_strf("$c2d/%s/in/rpc/apply/#", name);
		m = c2d_client_wait_msg(d[i], filter, FX_WAIT_MS * 3);
		ck_assert_msg(m != NULL, "%s got no rpc", name);
		if(i < 2) fx_answer(d[i], name, strrchr(m->topic, '/') + 1, i == 0 ? 200 : 500);
		c2d_msg_free(m);
		free(filter);
	}
	wait_job(app, "ab", "aborted", 10000);
	ev = job_event(mon, "ab", "c2d.job.aborted");
	ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "data"), "counts"), "timed_out")->valueint, 1);
	cJSON_Delete(ev);
	ck_assert_int_eq(wait_count(app, "ab", "cancelled", 3, st), 3); /* the cleanup slice */
	ck_assert_int_eq(job_count(app, "ab", "succeeded", st), 1);
	ck_assert_int_eq(job_count(app, "ab", "failed", st), 1);
	ck_assert_int_eq(job_count(app, "ab", "timed_out", st), 1);
	ck_assert_int_eq(job_count(app, "ab", "queued", st), 0);
	for(i = 3; i < 6; i++){
		snprintf(name, sizeof(name), "$c2d/a%d/in/#", i);
		ck_assert(c2d_client_expect_none(d[i], name, i == 3 ? 500 : 0));
	}
	ck_assert_int_eq(cmd_status(app, "{\"command\":\"cancelJob\",\"job\":\"ab\"}", NULL, 0), 409);
	/* statistics: getStats and $SYS */
	ck_assert(reply_num(app, "{\"command\":\"getStats\"}", "jobs", "aborted") == 1);
	ck_assert(reply_num(app, "{\"command\":\"getStats\"}", "jobs", "running") == 0);
	ck_assert(reply_num(app, "{\"command\":\"getStats\"}", "jobs", "created") == 1);
	{
		cJSON *resp, *j = fx_admin(app, "{\"command\":\"getStats\"}", &resp);
		cJSON *x = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(resp, "data"), "jobs"), "executions");

		ck_assert_int_eq(cJSON_GetObjectItem(x, "dispatched")->valueint, 3);
		ck_assert_int_eq(cJSON_GetObjectItem(x, "succeeded")->valueint, 1);
		ck_assert_int_eq(cJSON_GetObjectItem(x, "failed")->valueint, 1);
		ck_assert_int_eq(cJSON_GetObjectItem(x, "timed_out")->valueint, 1);
		ck_assert_int_eq(cJSON_GetObjectItem(x, "cancelled")->valueint, 3);
		cJSON_Delete(j);
	}
	wait_sys(sys, "$SYS/broker/c2d/jobs/aborted", "1");
	wait_sys(sys, "$SYS/broker/c2d/jobs/executions/timed_out", "1");
	wait_sys(sys, "$SYS/broker/c2d/jobs/executions/dispatched", "3");
	for(i = 0; i < 6; i++) c2d_client_destroy(d[i]);
	c2d_client_destroy(sys);
	c2d_client_destroy(mon);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* startAt 3 s from now, survived by a kill -9 while scheduled; expiresIn 2
 * at 30/minute over s0 (online, succeeds), s1 (offline: its queued item is
 * withdrawn, expired) and s2 (still queued at expiry: expired). A
 * scheduled job can be cancelled. */
START_TEST(test_schedule_expire)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *s0 = fx_device(b, NULL, "s0", V5), *s1, *mon;
	char at[32], st[32], id[32], *cmd;
	time_t t = time(NULL) + 3;
	struct timespec now;
	cJSON *resp, *j, *data;

	strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	cmd = c2d_strf("{\"command\":\"createJob\",\"job\":\"sx\",\"target\":{\"devices\":[\"s0\",\"s1\",\"s2\"]},"
			"\"action\":{\"msg\":{\"payload\":\"at last\"}},\"rollout\":{\"maxPerMinute\":30},\"startAt\":\"%s\",\"expiresIn\":2}", at);
	ck_assert_int_eq(cmd_status(app, cmd, NULL, 0), 202);
	free(cmd);
	j = fx_admin(app, "{\"command\":\"getJob\",\"job\":\"sx\"}", &resp);
	data = cJSON_GetObjectItem(resp, "data");
	ck_assert_str_eq(cJSON_GetObjectItem(data, "state")->valuestring, "scheduled");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(data, "started")));
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(data, "spec"), "startAt")->valuestring, at);
	ck_assert(strncmp(cJSON_GetObjectItem(data, "startAt")->valuestring, at, 19) == 0); /* with .000Z */
	cJSON_Delete(j);
	ck_assert(c2d_client_expect_none(s0, "$c2d/s0/in/#", 500));
	/* durable: kill -9 while scheduled */
	c2d_client_destroy(s0);
	app = restart_broker(b, app, true);
	mon = fx_monitor(b, "$c2d/$jobs/sx/events");
	s0 = fx_device(b, NULL, "s0", V5);
	cJSON_Delete(job_event(mon, "sx", "c2d.job.started"));
	clock_gettime(CLOCK_REALTIME, &now); /* time() is coarse: it may lag the plugin's clock by a tick */
	ck_assert_uint_ge((uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000, (uint64_t)t * 1000);
	take(s0, "s0", id, sizeof(id));
	cJSON_Delete(job_event(mon, "sx", "c2d.job.expired"));
	ck_assert_int_eq(wait_count(app, "sx", "expired", 2, st), 2); /* the cleanup slice */
	ck_assert_str_eq(st, "expired");
	ck_assert_int_eq(job_count(app, "sx", "succeeded", st), 1);
	j = fx_admin(app, "{\"command\":\"getJob\",\"job\":\"sx\"}", &resp);
	ck_assert(cJSON_IsString(cJSON_GetObjectItem(cJSON_GetObjectItem(resp, "data"), "expiresAt")));
	cJSON_Delete(j);
	s1 = fx_device(b, NULL, "s1", V3);
	ck_assert(c2d_client_expect_none(s1, "$c2d/s1/in/#", 500)); /* withdrawn */
	/* a job scheduled an hour ahead, cancelled before it starts */
	t = time(NULL) + 3600;
	strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	cmd = c2d_strf("{\"command\":\"createJob\",\"job\":\"later\",\"target\":{\"devices\":[\"s0\",\"s1\"]},"
			"\"action\":{\"msg\":{\"payload\":\"never\"}},\"startAt\":\"%s\"}", at);
	ck_assert_int_eq(cmd_status(app, cmd, NULL, 0), 202);
	free(cmd);
	ck_assert_int_eq(cmd_status(app, "{\"command\":\"cancelJob\",\"job\":\"later\"}", NULL, 0), 200);
	ck_assert_int_eq(wait_count(app, "later", "cancelled", 2, st), 2);
	ck_assert_str_eq(st, "cancelled");
	ck_assert(c2d_client_expect_none(s0, "$c2d/s0/in/#", 300));
	c2d_client_destroy(s1);
	c2d_client_destroy(s0);
	c2d_client_destroy(mon);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* The device takes a twin push holding "mode":"eco" and acknowledges it. */
static void take_twin(struct c2d_client *dev, const char *id)
{
	char *filter = c2d_strf("$c2d/%s/in/twin/#", id);
	struct c2d_msg *m = c2d_client_wait_msg(dev, filter, FX_WAIT_MS * 3);

	ck_assert_msg(m != NULL, "%s got no twin push", id);
	ck_assert_ptr_nonnull(strstr(m->payload, "\"mode\":\"eco\""));
	fx_answer(dev, id, strrchr(m->topic, '/') + 1, 200);
	c2d_msg_free(m);
	free(filter);
}

static void tag(struct c2d_client *app, const char *dev, const char *tags)
{
	char *topic = c2d_strf("$c2d/%s/twin/tags", dev);

	c2d_msg_free(fx_request(app, topic, tags, "200"));
	free(topic);
}

/* Wait (bounded) until the job has n succeeded. */
static void wait_succeeded(struct c2d_client *app, const char *job, int n)
{
	uint64_t end = c2d_now_ms() + 10000;
	char st[32];

	while(job_count(app, job, "succeeded", st) < n && c2d_now_ms() < end) c2d_sleep_ms(100);
	ck_assert_int_eq(job_count(app, job, "succeeded", st), n);
}

/* A continuous twin job on tags.site = lab: c0 matches at the start; c1
 * (online) is tagged later; after a restart c2 (offline, a new device) is
 * tagged and gets it on return; a re-tag gives no second execution; p0
 * (paris) never matches; after cancelJob a newly tagged c3 gets nothing. */
START_TEST(test_continuous)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *c0 = fx_device(b, NULL, "c0", V5), *c1, *c2, *p0;
	char st[32];

	tag(app, "c0", "{\"site\":\"lab\"}");
	ck_assert_int_eq(cmd_status(app, "{\"command\":\"createJob\",\"job\":\"cj\",\"target\":{\"where\":{\"tags.site\":\"lab\"}},"
			"\"action\":{\"twin\":{\"desired\":{\"mode\":\"eco\"}}},\"continuous\":true}", NULL, 0), 202);
	take_twin(c0, "c0");
	wait_succeeded(app, "cj", 1);
	c2d_sleep_ms(300);
	ck_assert_int_eq(job_count(app, "cj", "queued", st), 0);
	ck_assert_str_eq(st, "running"); /* continuous: not completed */
	c1 = fx_device(b, NULL, "c1", _i ? V3 : V5);
	tag(app, "c1", "{\"site\":\"lab\"}");
	take_twin(c1, "c1");
	wait_succeeded(app, "cj", 2);
	/* restart: the continuous job is found again */
	c2d_client_destroy(c1);
	c2d_client_destroy(c0);
	app = restart_broker(b, app, false);
	p0 = fx_device(b, NULL, "p0", V5);
	tag(app, "p0", "{\"site\":\"paris\"}");
	tag(app, "c2", "{\"site\":\"lab\"}"); /* a new device, offline */
	ck_assert_int_eq(wait_count(app, "cj", "in_progress", 1, st), 1);
	c2 = fx_device(b, NULL, "c2", V5);
	take_twin(c2, "c2");
	wait_succeeded(app, "cj", 3);
	c1 = fx_device(b, NULL, "c1", V5);
	tag(app, "c1", "{\"floor\":2}"); /* still lab: no second execution */
	ck_assert(c2d_client_expect_none(c1, "$c2d/c1/in/#", 500));
	ck_assert(c2d_client_expect_none(p0, "$c2d/p0/in/#", 0));
	ck_assert_int_eq(reply_num(app, "{\"command\":\"getJob\",\"job\":\"cj\"}", "total", NULL), 3);
	ck_assert_int_eq(cmd_status(app, "{\"command\":\"cancelJob\",\"job\":\"cj\"}", NULL, 0), 200);
	tag(app, "c3", "{\"site\":\"lab\"}");
	c2d_sleep_ms(300);
	ck_assert_int_eq(reply_num(app, "{\"command\":\"getJob\",\"job\":\"cj\"}", "total", NULL), 3);
	ck_assert_int_eq(job_count(app, "cj", "succeeded", st), 3);
	ck_assert_str_eq(st, "cancelled");
	c2d_client_destroy(c1);
	c2d_client_destroy(c2);
	c2d_client_destroy(p0);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* A continuous msg job whose where reads `online` (tags.site = lab and
 * online): lab devices offline when it starts get nothing until they
 * connect, then exactly one execution (not again at a reconnect); after a
 * restart too; a device tagged while online gets it at the tag; after
 * cancelJob a connect gives nothing. */
START_TEST(test_continuous_online)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *d;
	int proto = _i ? V3 : V5;
	char id[32];

	tag(app, "o1", "{\"site\":\"lab\"}");
	tag(app, "o2", "{\"site\":\"lab\"}");
	ck_assert_int_eq(cmd_status(app, "{\"command\":\"createJob\",\"job\":\"co\",\"target\":{\"where\":"
			"{\"tags.site\":\"lab\",\"online\":true}},\"action\":{\"msg\":{\"payload\":\"hi\"}},\"continuous\":true}",
			NULL, 0), 202);
	c2d_sleep_ms(300);
	ck_assert_int_eq(reply_num(app, "{\"command\":\"getJob\",\"job\":\"co\"}", "total", NULL), 0);
	d = fx_device(b, NULL, "o1", proto);
	take(d, "o1", id, sizeof(id));
	wait_succeeded(app, "co", 1);
	c2d_client_destroy(d);
	d = fx_device(b, NULL, "o1", proto); /* a reconnect: no second execution */
	ck_assert(c2d_client_expect_none(d, "$c2d/o1/in/#", 500));
	c2d_client_destroy(d);
	/* restart: the job is found again, o2 gets it at its connect */
	app = restart_broker(b, app, false);
	d = fx_device(b, NULL, "o2", proto);
	take(d, "o2", id, sizeof(id));
	wait_succeeded(app, "co", 2);
	c2d_client_destroy(d);
	/* online first, tagged later */
	d = fx_device(b, NULL, "o3", proto);
	ck_assert(c2d_client_expect_none(d, "$c2d/o3/in/#", 300));
	tag(app, "o3", "{\"site\":\"lab\"}");
	take(d, "o3", id, sizeof(id));
	wait_succeeded(app, "co", 3);
	c2d_client_destroy(d);
	ck_assert_int_eq(cmd_status(app, "{\"command\":\"cancelJob\",\"job\":\"co\"}", NULL, 0), 200);
	tag(app, "o4", "{\"site\":\"lab\"}");
	d = fx_device(b, NULL, "o4", proto);
	ck_assert(c2d_client_expect_none(d, "$c2d/o4/in/#", 500));
	ck_assert_int_eq(reply_num(app, "{\"command\":\"getJob\",\"job\":\"co\"}", "total", NULL), 3);
	c2d_client_destroy(d);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* A continuous msg job on devices whose id starts with "n-": a device
 * that appears later (through its twin) gets the message. */
START_TEST(test_continuous_new_device)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *n1;
	char id[32], st[32];

	ck_assert_int_eq(cmd_status(app, "{\"command\":\"createJob\",\"job\":\"nd\",\"target\":{\"where\":{\"device\":{\"$prefix\":\"n-\"}}},"
			"\"action\":{\"msg\":{\"payload\":\"welcome\"}},\"continuous\":true,\"rollout\":{\"maxPerMinute\":600}}", NULL, 0), 202);
	c2d_sleep_ms(300);
	ck_assert_int_eq(reply_num(app, "{\"command\":\"getJob\",\"job\":\"nd\"}", "total", NULL), 0);
	n1 = fx_device(b, NULL, "n-1", V3);
	tag(app, "n-1", "{\"model\":\"x\"}");
	take(n1, "n-1", id, sizeof(id));
	wait_succeeded(app, "nd", 1);
	ck_assert_int_eq(job_count(app, "nd", "queued", st), 0);
	ck_assert_str_eq(st, "running");
	c2d_client_destroy(n1);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* A continuous msg job on ids starting with "q-": a device that first
 * appears through a message queued for it (no twin, no hello: offline,
 * unknown until then) gets an execution too, and on its first connect
 * both the application's message and the job's. */
START_TEST(test_continuous_queued_device)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *q1;
	struct c2d_msg *m;
	char id[32], st[32];
	int welcome = 0, hi = 0, i;

	ck_assert_int_eq(cmd_status(app, "{\"command\":\"createJob\",\"job\":\"qd\",\"target\":{\"where\":{\"device\":{\"$prefix\":\"q-\"}}},"
			"\"action\":{\"msg\":{\"payload\":\"welcome\"}},\"continuous\":true}", NULL, 0), 202);
	c2d_sleep_ms(300);
	ck_assert_int_eq(reply_num(app, "{\"command\":\"getJob\",\"job\":\"qd\"}", "total", NULL), 0);
	m = fx_send(app, "$c2d/q-1/msg", "hi", "c-q1", NULL, "202");
	c2d_msg_free(m);
	m = fx_send(app, "$c2d/r-1/msg", "hi", "c-r1", NULL, "202"); /* not a match */
	c2d_msg_free(m);
	c2d_sleep_ms(300);
	ck_assert_int_eq(reply_num(app, "{\"command\":\"getJob\",\"job\":\"qd\"}", "total", NULL), 1);
	ck_assert_int_eq(wait_count(app, "qd", "in_progress", 1, st), 1); /* queued for the offline device */
	q1 = fx_device(b, NULL, "q-1", _i ? V3 : V5);
	for(i = 0; i < 2; i++){
		m = c2d_client_wait_msg(q1, "$c2d/q-1/in/#", FX_WAIT_MS * 3);
		ck_assert_msg(m != NULL, "q-1 got %d of its 2 deliveries", i);
		snprintf(id, sizeof(id), "%s", strrchr(m->topic, '/') + 1);
		if(strcmp(m->payload, "welcome") == 0) welcome++;
		if(strcmp(m->payload, "hi") == 0) hi++;
		fx_answer(q1, "q-1", id, 200);
		c2d_msg_free(m);
	}
	ck_assert_int_eq(welcome, 1);
	ck_assert_int_eq(hi, 1);
	wait_succeeded(app, "qd", 1);
	ck_assert_int_eq(reply_num(app, "{\"command\":\"getJob\",\"job\":\"qd\"}", "total", NULL), 1);
	c2d_client_destroy(q1);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* cancelJob does not undo a twin patch already written: the offline
 * device's execution stays in_progress, and succeeds when the device
 * returns and acknowledges that version (docs/fleet.md section 6). */
START_TEST(test_cancel_twin_written)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *d;
	struct c2d_msg *m;
	char st[32];

	c2d_msg_free(fx_request(app, "$c2d/tw-off/twin/tags", "{\"ring\":\"x\"}", "200"));
	ck_assert_int_eq(cmd_status(app, "{\"command\":\"createJob\",\"job\":\"tc\",\"target\":{\"devices\":[\"tw-off\"]},"
			"\"action\":{\"twin\":{\"desired\":{\"mode\":\"eco\"}}}}", NULL, 0), 202);
	ck_assert_int_eq(wait_count(app, "tc", "in_progress", 1, st), 1);
	ck_assert_int_eq(cmd_status(app, "{\"command\":\"cancelJob\",\"job\":\"tc\"}", NULL, 0), 200);
	wait_job(app, "tc", "cancelled", 10000);
	ck_assert_int_eq(job_count(app, "tc", "in_progress", st), 1);
	d = fx_device(b, NULL, "tw-off", V5);
	m = c2d_client_wait_msg(d, "$c2d/tw-off/in/twin/#", FX_WAIT_MS * 3);
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(strstr(m->payload, "\"mode\":\"eco\""));
	fx_answer(d, "tw-off", strrchr(m->topic, '/') + 1, 200);
	c2d_msg_free(m);
	ck_assert_int_eq(wait_count(app, "tc", "succeeded", 1, st), 1);
	ck_assert_str_eq(st, "cancelled");
	ck_assert_int_eq(job_count(app, "tc", "in_progress", st), 0);
	c2d_client_destroy(d);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("jobs_life");
	TCase *tc = tcase_create("broker");

	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_abort);
	tcase_add_test(tc, test_schedule_expire);
	tcase_add_loop_test(tc, test_continuous, 0, 2);
	tcase_add_test(tc, test_continuous_new_device);
	tcase_add_loop_test(tc, test_continuous_online, 0, 2);
	tcase_add_test(tc, test_cancel_twin_written);
	tcase_add_loop_test(tc, test_continuous_queued_device, 0, 2);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
