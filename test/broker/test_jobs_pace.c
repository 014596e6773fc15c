/* Fleet jobs' rollout limits against the real broker, counted (protocol-v2
 * section 3, docs/fleet.md): maxPerMinute from the dispatch times the
 * plugin stamps on each c2d.job.execution event (60 offline devices, every
 * dispatch checked against its earliest slot, and every pair of them), and
 * maxInFlight from what the devices hold (9 online v5 and v3.1.1 devices:
 * never more than the cap delivered and unanswered, none more while the
 * cap is full, the next one as soon as one answers). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fixture.h"
#include "harness.h"
#include "jobs_fx.h"
#include "../check_main.h"

#define PACE_N 60
#define PACE_PER_MIN 1200 /* one every 50 ms */
#define PACE_MS (60000 / PACE_PER_MIN)
#define CAP_N 9
#define CAP 3

/* An event's "time" ("YYYY-MM-DDTHH:MM:SS.mmmZ") as ms since 1970. */
static long long event_ms(const cJSON *ev)
{
	const cJSON *t = cJSON_GetObjectItem(ev, "time");
	struct tm tm = {0};
	int ms = 0;

	ck_assert(cJSON_IsString(t));
	ck_assert_int_eq(sscanf(t->valuestring, "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
			&tm.tm_min, &tm.tm_sec, &ms), 7);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (long long)timegm(&tm) * 1000 + ms;
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* The in_progress times of job's executions from mon, until n came (or
 * the wait ran out): returns how many, sorted in t. */
static int dispatch_times(struct c2d_client *mon, const char *job, long long *t, int n, int wait_ms)
{
	uint64_t end = c2d_now_ms() + (uint64_t)wait_ms;
	struct c2d_msg *m;
	int got = 0;
	cJSON *ev, *data;

	while(got < n && c2d_now_ms() < end){
		m = c2d_client_wait_msg(mon, NULL, (int)(end - c2d_now_ms()) + 1);
		if(m == NULL) break;
		ev = fx_json(m);
		data = cJSON_GetObjectItem(ev, "data");
		if(strcmp(cJSON_GetObjectItem(ev, "type")->valuestring, "c2d.job.execution") == 0
				&& strcmp(cJSON_GetObjectItem(data, "job")->valuestring, job) == 0
				&& strcmp(cJSON_GetObjectItem(data, "state")->valuestring, "in_progress") == 0){
			t[got++] = event_ms(ev);
		}
		cJSON_Delete(ev);
		c2d_msg_free(m);
	}
	qsort(t, (size_t)got, sizeof(*t), cmp_ll);
	return got;
}

/* maxPerMinute 1200 over 60 offline devices: the rollout may catch up one
 * second at its start (21 slots: 1000 / 50 + 1), then one every 50 ms:
 * dispatch k comes no earlier than (k - 20) * 50 ms after the first, and
 * between any two dispatches at most 21 more than one per 50 ms. It keeps the pace too
 * (the last within a few seconds of its slot). */
START_TEST(test_rate_counted)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *mon = fx_monitor(b, "$c2d/+/events/job");
	size_t cap = PACE_N * 12 + 256, len;
	long long t[PACE_N];
	char *cmd = malloc(cap), st[32];
	int i, k, in_window;

	ck_assert_ptr_nonnull(cmd);
	len = (size_t)snprintf(cmd, cap, "{\"command\":\"createJob\",\"job\":\"pace\",\"target\":{\"devices\":[");
	for(i = 0; i < PACE_N; i++) len += (size_t)snprintf(cmd + len, cap - len, "%s\"p%02d\"", i ? "," : "", i);
	snprintf(cmd + len, cap - len, "]},\"action\":{\"msg\":{\"payload\":\"x\",\"ttl\":600}},\"rollout\":{\"maxPerMinute\":%d}}",
			PACE_PER_MIN);
	ck_assert_int_eq(cmd_status(app, cmd, NULL, 0), 202);
	free(cmd);
	ck_assert_int_eq(dispatch_times(mon, "pace", t, PACE_N, 30000), PACE_N);
	for(k = 0; k < PACE_N; k++){
		ck_assert_msg(t[k] - t[0] >= (long long)(k - 20) * PACE_MS, "dispatch %d came %lld ms after the first (slot: %d ms)",
				k, t[k] - t[0], (k - 20) * PACE_MS);
	}
	/* between any two: each dispatch no later than a second after its
	 * slot (the catch-up), so at most 21 more than one per 50 ms (a slow
	 * machine's ticks send what fell due since the last one together) */
	for(i = 0; i < PACE_N; i++){
		for(k = i + 1; k < PACE_N; k++){
			in_window = k - i;
			ck_assert_msg(in_window <= 21 + (int)((t[k] - t[i]) / PACE_MS), "%d dispatches in %lld ms (from dispatch %d)",
					in_window + 1, t[k] - t[i], i);
		}
	}
	ck_assert_msg(t[PACE_N - 1] - t[0] <= (PACE_N - 21) * PACE_MS + 8000, "the last came %lld ms after the first",
			t[PACE_N - 1] - t[0]);
	ck_assert_int_eq(job_count(app, "pace", "in_progress", st), PACE_N); /* offline: each waits for its device */
	c2d_client_destroy(mon);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* maxInFlight 3 over 9 online devices answering one at a time, the oldest
 * first: never more than 3 hold an unanswered delivery, no fourth comes
 * while 3 do, and an answer lets the next one go. */
START_TEST(test_in_flight_counted)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *d[CAP_N];
	char name[8], id[CAP_N][32], *filter[CAP_N], *cmd, st[32];
	int i, held[CAP_N], nheld = 0, answered = 0, got = 0;
	bool have[CAP_N] = {false};
	uint64_t end;
	struct c2d_msg *m;

	for(i = 0; i < CAP_N; i++){
		snprintf(name, sizeof(name), "f%d", i);
		d[i] = fx_device(b, NULL, name, i % 2 ? V3 : V5);
		filter[i] = c2d_strf("$c2d/f%d/in/#", i);
	}
	cmd = c2d_strf("{\"command\":\"createJob\",\"job\":\"cap\",\"target\":{\"devices\":[\"f0\",\"f1\",\"f2\",\"f3\",\"f4\","
			"\"f5\",\"f6\",\"f7\",\"f8\"]},\"action\":{\"msg\":{\"payload\":\"x\"}},\"rollout\":{\"maxInFlight\":%d}}", CAP);
	ck_assert_int_eq(cmd_status(app, cmd, NULL, 0), 202);
	free(cmd);
	while(answered < CAP_N){
		/* take what came; wait for the cap to fill (or the rest to come) */
		end = c2d_now_ms() + FX_WAIT_MS * 3;
		while(nheld < CAP && got < CAP_N && c2d_now_ms() < end){
			for(i = 0; i < CAP_N; i++){
				if(have[i] || (m = c2d_client_wait_msg(d[i], filter[i], 10)) == NULL) continue;
				snprintf(id[i], sizeof(id[i]), "%s", strrchr(m->topic, '/') + 1);
				c2d_msg_free(m);
				have[i] = true;
				held[nheld++] = i;
				got++;
				ck_assert_msg(nheld <= CAP, "%d devices hold an unanswered delivery", nheld);
			}
		}
		ck_assert_msg(nheld == CAP || got == CAP_N, "only %d held, %d of %d delivered", nheld, got, CAP_N);
		/* the cap is full: nobody else gets one */
		for(i = 0; nheld == CAP && i < CAP_N; i++){
			if(!have[i]) ck_assert_msg(c2d_client_expect_none(d[i], filter[i], i ? 20 : 300), "f%d: a fourth in flight", i);
		}
		ck_assert_int_eq(wait_count(app, "cap", "in_progress", nheld, st), nheld);
		snprintf(name, sizeof(name), "f%d", held[0]);
		fx_answer(d[held[0]], name, id[held[0]], 200);
		memmove(held, held + 1, sizeof(held[0]) * (size_t)--nheld);
		answered++;
	}
	wait_job(app, "cap", "completed", 10000);
	ck_assert_int_eq(job_count(app, "cap", "succeeded", st), CAP_N);
	for(i = 0; i < CAP_N; i++){
		c2d_client_destroy(d[i]);
		free(filter[i]);
	}
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("jobs_pace");
	TCase *tc = tcase_create("broker");

	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_rate_counted);
	tcase_add_test(tc, test_in_flight_counted);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
