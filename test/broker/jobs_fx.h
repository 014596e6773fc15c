/* Helpers of the fleet job suites (test_jobs.c, test_jobs_life.c): admin
 * commands' statuses, getJob counts, waiting for a job state, a device
 * taking a delivery. Static: each suite includes it once. */
#ifndef JOBS_FX_H
#define JOBS_FX_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mqtt_protocol.h>

#include "fixture.h"
#include "harness.h"

#define V5 MQTT_PROTOCOL_V5
#define V3 MQTT_PROTOCOL_V311

/* The command's status (data.status or the error response's status). */
static inline int cmd_status(struct c2d_client *app, const char *cmd, char *err, size_t errlen)
{
	cJSON *resp, *j = fx_admin(app, cmd, &resp), *data = cJSON_GetObjectItem(resp, "data");
	cJSON *e = cJSON_GetObjectItem(resp, "error"), *sj = cJSON_GetObjectItem(data ? data : resp, "status");
	int st;

	ck_assert_msg(cJSON_IsNumber(sj), "%s: %s", cmd, cJSON_PrintUnformatted(resp));
	st = sj->valueint;

	if(err) snprintf(err, errlen, "%s", cJSON_IsString(e) ? e->valuestring : "");
	cJSON_Delete(j);
	return st;
}

/* getJob's count of state, or of "state" itself compared: returns count. */
static inline int job_count(struct c2d_client *app, const char *job, const char *state, char *jstate)
{
	char *cmd = c2d_strf("{\"command\":\"getJob\",\"job\":\"%s\"}", job);
	cJSON *resp, *j = fx_admin(app, cmd, &resp), *data = cJSON_GetObjectItem(resp, "data"), *c;
	int n = 0, total = 0;

	ck_assert_ptr_nonnull(data);
	cJSON_ArrayForEach(c, cJSON_GetObjectItem(data, "counts")) total += c->valueint;
	ck_assert_int_eq(total, cJSON_GetObjectItem(data, "total")->valueint); /* counts add up */
	n = cJSON_GetObjectItem(cJSON_GetObjectItem(data, "counts"), state)->valueint;
	if(jstate) snprintf(jstate, 32, "%s", cJSON_GetObjectItem(data, "state")->valuestring);
	cJSON_Delete(j);
	free(cmd);
	return n;
}

/* Wait (bounded, 10 s) until the job counts n executions in state (the
 * jobs' slices run on a duty cycle: after a slow commit the next slice
 * may come a few windows later); returns the count, jstate as job_count. */
static inline int wait_count(struct c2d_client *app, const char *job, const char *state, int n, char *jstate)
{
	uint64_t end = c2d_now_ms() + 10000;
	int got;

	while((got = job_count(app, job, state, jstate)) != n && c2d_now_ms() < end) c2d_sleep_ms(50);
	return got;
}

/* Wait (bounded) until the job is in state want. */
static inline void wait_job(struct c2d_client *app, const char *job, const char *want, int ms)
{
	uint64_t end = c2d_now_ms() + (uint64_t)ms;
	char st[32] = "";

	do{
		job_count(app, job, "queued", st);
		if(strcmp(st, want) == 0) return;
		c2d_sleep_ms(100);
	}while(c2d_now_ms() < end);
	ck_abort_msg("job %s is %s, not %s", job, st, want);
}

/* The operator app (destroyed) goes, the broker stops (kill9: SIGKILL,
 * else a clean stop) and starts again on the same store; returns a new
 * operator app. */
static inline struct c2d_client *restart_broker(struct c2d_broker *b, struct c2d_client *app, bool kill9)
{
	c2d_client_destroy(app);
	ck_assert_int_eq(kill9 ? c2d_broker_kill9(b) : c2d_broker_stop(b), 0);
	ck_assert_int_eq(c2d_broker_restart(b), 0);
	return fx_app(b, FX_REPLIES);
}

/* The device takes one delivery under $c2d/{id}/in/# and answers it 200;
 * returns its topic's last level (the delivery id) in idbuf. */
static inline void take(struct c2d_client *dev, const char *id, char *idbuf, size_t len)
{
	char *filter = c2d_strf("$c2d/%s/in/#", id);
	struct c2d_msg *m = c2d_client_wait_msg(dev, filter, FX_WAIT_MS * 3);

	ck_assert_msg(m != NULL, "%s got no delivery", id);
	snprintf(idbuf, len, "%s", strrchr(m->topic, '/') + 1);
	fx_answer(dev, id, idbuf, 200);
	c2d_msg_free(m);
	free(filter);
}

#endif
