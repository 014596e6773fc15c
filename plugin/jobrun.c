/* The jobs plane (no deliveries of its own, letter 0): at every TICK it
 * works on the active jobs (the jactive table), each in a nested
 * transaction of the tick's unit, in budgeted slices:
 *
 *   resolve   a where target: the next batch of device records after
 *             the job's "cursor" are matched; each match gets a queued
 *             execution; when the walk reaches the end the target is
 *             "resolved" (fixed)
 *   dispatch  the next queued executions after "dcursor", as many as the
 *             rollout allows (maxInFlight minus in_progress; maxPerMinute
 *             spaced at 60000/maxPerMinute ms from "nextAt", at most one
 *             second of catch-up after a stall) and the slice's time: each
 *             through the device's own plane (twin desired patch, queued
 *             message, persistent RPC); the plane's final transition ends
 *             it (jobexec.c)
 *   cancel    after cancelJob, an abort or expiry: queued executions end
 *             as cancelled (expired for an expired job) and queue items
 *             still queued (never sent) are cancelled, a batch a tick
 *   complete  a resolved job with nothing queued or in progress (never a
 *             continuous one: jobcont.c adds devices until it ends)
 *
 * and the job's life: a "scheduled" job starts at its "startAt" (the
 * where target is evaluated from then on); a running job with
 * "expiresAt" (start + expiresIn) expires then; a running job with an
 * abort rule aborts when the failures (failed, timed_out, rejected) are
 * more than abort.failedPercent of the executed (those and succeeded)
 * once abort.minExecuted are executed (checked before and after each
 * dispatch slice). The planes' final transitions land between ticks, so
 * an abort takes effect within one TICK of the execution that crossed the
 * line.
 *
 * A job with nothing to do after its slice (everything dispatched and
 * waiting on the planes, held by maxInFlight, paced until its next slot,
 * scheduled) sleeps in the active table until its next time (next_work:
 * the slot, startAt, expiresAt, a progress event it owes) or until a save
 * of its record wakes it (c2d_job_save: an execution ended, a device
 * matched a continuous job, a cancel); the tick does not load it until
 * then, and reads nothing when all sleep (store_jobs.c).
 *
 * Everything a slice decides (cursors, counts, nextAt) is in the job
 * record, written in the same transaction as the executions and the
 * planes' items: after a restart or kill -9 the job resumes at its cursors,
 * and no device is dispatched twice or skipped. Memory holds only one
 * slice's device ids. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "c2d_fleet.h"
#include "c2d_jobcont.h"
#include "c2d_jobs.h"
#include "c2d_jobspec.h"
#include "c2d_queue.h"

#define JOBS_PER_TICK 16
#define RESOLVE_SCAN 64
#define DISPATCH_MAX 64
#define CANCEL_SCAN 256
#define VISIT_MAX 1024
/* The jobs' slices run on a duty cycle (tick.c, duty.c): at most job_share
 * % of each 100 ms of the monotonic clock, their commit included, however
 * often TICK fires (thousands of times a second under load: a fixed slice
 * per tick would add up to most of the broker's time). The broker answers
 * nothing else while a slice runs, so a slice is also at most SLICE_MAX_US
 * (what a request arriving then waits; bench/job_bench measures RPC p99
 * during a rollout) while the loop is busy. An idle loop wakes only every
 * 100 ms, and 100 us a wake-up made a 10000-device list on offline
 * devices crawl (60 s were not enough): after an idle gap a slice may take
 * a hundredth of the gap, at most SLICE_IDLE_US (duty.c): about 1 % of
 * an otherwise idle broker's time, their commits aside (the share bounds
 * them all); never more than SLICE_MAX_US in a loop pass with answers to send
 * (they leave after the tick). A slice reads in chunks (RESOLVE_SCAN,
 * DISPATCH_MAX) until its time is up, so what it reads follows what it
 * can do. At least one device is resolved and one dispatched per job and
 * slice. */
#define SLICE_MAX_US 100
#define SLICE_IDLE_US 1000

static uint64_t deadline_us;
/* When the jobs were last offered a turn (every TICK): the gap to this
 * one says whether the broker's loop was busy. */
static uint64_t last_turn_us;

static bool over_budget(void)
{
	return c2d_mono_us() >= deadline_us;
}

struct slice {
	size_t want, n, visited;
	int only;               /* the state collected, or -1: queued and in_progress */
	char last[C2D_DEV_MAX + 1];
	char (*devs)[C2D_DEV_MAX + 1];
	struct c2d_jexec *x;
};

static int collect_dev(void *ud, const char *dev, const struct c2d_devrec *rec)
{
	struct slice *s = ud;

	(void)rec;
	memcpy(s->devs[s->n], dev, strlen(dev) + 1);
	memcpy(s->last, dev, strlen(dev) + 1);
	return ++s->n >= s->want;
}

static int collect_exec(void *ud, const char *dev, const struct c2d_jexec *x)
{
	struct slice *s = ud;

	memcpy(s->last, dev, strlen(dev) + 1);
	s->visited++;
	if((s->only >= 0 && x->state == s->only)
			|| (s->only < 0 && (x->state == C2D_JX_QUEUED || x->state == C2D_JX_IN_PROGRESS))){
		memcpy(s->devs[s->n], dev, strlen(dev) + 1);
		s->x[s->n++] = *x;
	}
	return s->n >= s->want || s->visited >= VISIT_MAX;
}

static const cJSON *spec_of(const cJSON *rec)
{
	return cJSON_GetObjectItemCaseSensitive(rec, "spec");
}

/* One chunk of a where target: the next RESOLVE_SCAN devices after the
 * cursor (fewer when the budget ends first, at least one when *first).
 * *end: the walk reached the last device; *cut: the budget ended it. */
static int resolve_chunk(struct c2d *c2d, const char *job, cJSON *rec, struct slice *s, bool *first, bool *end,
		bool *cut, size_t *added)
{
	const cJSON *where = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(rec, "spec"), "target"), "where");
	struct c2d_jexec x = {.state = C2D_JX_QUEUED};
	bool match;
	size_t i;
	int rc;

	s->n = 0;
	s->want = RESOLVE_SCAN;
	rc = c2d_store_dev_scan(c2d->store, c2d_jrec_str(rec, "cursor"), RESOLVE_SCAN, collect_dev, s);
	*end = s->n < RESOLVE_SCAN;
	for(i = 0; !rc && i < s->n; i++){
		struct c2d_jexec had;

		if(!*first && over_budget()){ /* the rest at the next tick */
			memcpy(s->last, s->devs[i - 1], sizeof(s->last));
			s->n = i;
			*end = false;
			*cut = true;
			break;
		}
		*first = false;
		rc = c2d_fleet_match(c2d, where, s->devs[i], &match);
		if(rc || !match) continue;
		rc = c2d_store_jexec_get(c2d->store, job, s->devs[i], &had);
		if(rc != C2D_ENOTFOUND) continue; /* it has one (or a store error) */
		x.at_ms = c2d->wall_ms;
		rc = c2d_store_jexec_put(c2d->store, job, s->devs[i], &x);
		(*added)++;
	}
	if(!rc && s->n) c2d_jrec_set(rec, "cursor", cJSON_CreateString(s->last));
	return rc;
}

/* A where target, chunk by chunk until the budget ends (at least one
 * device) or the walk reaches the end (then "resolved"). */
static int resolve(struct c2d *c2d, const char *job, cJSON *rec, struct slice *s, bool *changed)
{
	cJSON *counts = cJSON_GetObjectItemCaseSensitive(rec, "counts");
	bool first = true, end = false, cut = false;
	size_t added = 0;
	int rc = 0;

	while(!rc && !end && !cut && (first || !over_budget())){
		rc = resolve_chunk(c2d, job, rec, s, &first, &end, &cut, &added);
	}
	if(rc) return rc;
	if(end) c2d_jrec_set(rec, "resolved", cJSON_CreateTrue());
	c2d_jrec_set(rec, "total", cJSON_CreateNumber(c2d_jrec_num(rec, "total") + (double)added));
	cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(counts, "queued"), c2d_job_count(rec, C2D_JX_QUEUED) + (double)added);
	*changed = true;
	return 0;
}

/* How many may go now under the rollout; *next, *interval for nextAt. */
static size_t allowance(struct c2d *c2d, const cJSON *rec, double *next, double *interval)
{
	const cJSON *ro = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, "spec"), "rollout");
	double mpm = c2d_jrec_num(ro, "maxPerMinute"), mif = c2d_jrec_num(ro, "maxInFlight"), now = (double)c2d->wall_ms;
	double b, slots;

	*interval = 0;
	*next = 0;
	b = VISIT_MAX; /* dispatch() goes DISPATCH_MAX at a time */
	if(mif > 0) b = fmin(b, mif - c2d_job_count(rec, C2D_JX_IN_PROGRESS));
	if(mpm > 0){
		*interval = 60000.0 / mpm;
		*next = fmax(c2d_jrec_num(rec, "nextAt"), now - 1000);
		slots = now >= *next ? floor((now - *next) / *interval) + 1 : 0;
		b = fmin(b, slots);
	}
	return b > 0 ? (size_t)b : 0;
}

/* Dispatch the queued executions after "dcursor", DISPATCH_MAX at a time,
 * as many as the rollout allows and the budget lets go (at least one);
 * s->n: how many went. */
static int dispatch(struct c2d *c2d, const char *job, cJSON *rec, struct slice *s, bool *changed)
{
	double next, interval;
	size_t allow = allowance(c2d, rec, &next, &interval), sent = 0, i;
	bool more = true;
	int rc = 0;

	s->only = C2D_JX_QUEUED;
	while(more && sent < allow && c2d_job_count(rec, C2D_JX_QUEUED) > 0 && (sent == 0 || !over_budget())){
		s->n = s->visited = 0;
		s->want = allow - sent < DISPATCH_MAX ? allow - sent : DISPATCH_MAX;
		rc = c2d_store_jexec_scan(c2d->store, job, c2d_jrec_str(rec, "dcursor"), collect_exec, s);
		for(i = 0; !rc && i < s->n; i++){
			if((sent || i) && over_budget()){ /* the rest at the next tick, from after the last one sent */
				memcpy(s->last, s->devs[i - 1], sizeof(s->last));
				s->n = i;
				s->visited = VISIT_MAX; /* not the end: no wrap-around */
				more = false;
				break;
			}
			rc = c2d_job_dispatch_one(c2d, job, rec, s->devs[i], &s->x[i]);
		}
		if(rc) return rc;
		sent += s->n;
		if(s->visited){
			c2d_jrec_set(rec, "dcursor", cJSON_CreateString(s->last));
			*changed = true;
		}
		if(s->n < s->want && s->visited < VISIT_MAX){
			/* the end: with executions still queued, wrap around (a safety
			 * net: jobcont.c keeps the cursor before what it adds) */
			if(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "resolved"))) c2d_jrec_set(rec, "dcursor", cJSON_CreateString(""));
			more = false;
		}
	}
	if(interval > 0 && sent) c2d_jrec_set(rec, "nextAt", cJSON_CreateNumber(next + (double)sent * interval));
	s->n = sent;
	return 0;
}

/* After cancelJob: queued executions and never-sent items end cancelled. */
static int cancel_slice(struct c2d *c2d, const char *job, cJSON *rec, struct slice *s, bool *changed)
{
	bool cancelled, expired = strcmp(c2d_job_state(rec), "expired") == 0;
	size_t i, scan = CANCEL_SCAN;
	int rc;

	s->want = scan;
	s->only = -1;
	rc = c2d_store_jexec_scan(c2d->store, job, c2d_jrec_str(rec, "ccursor"), collect_exec, s);
	for(i = 0; !rc && i < s->n; i++){
		if(i && over_budget()){ /* the rest at the next tick */
			memcpy(s->last, s->devs[i - 1], sizeof(s->last));
			s->n = scan; /* not the end */
			break;
		}
		if(s->x[i].state == C2D_JX_QUEUED){
			rc = c2d_jobx_move(c2d, job, s->devs[i], rec, &s->x[i], expired ? C2D_JX_EXPIRED : C2D_JX_CANCELLED, 0);
		}else if(!cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
				cJSON_GetObjectItemCaseSensitive(rec, "spec"), "action"), "twin")){
			/* the final transition settles the execution and saves the
			 * record; save ours first and read it back after */
			rc = c2d_job_save(c2d, job, rec);
			if(!rc) rc = c2d_queue_cancel_queued(c2d, s->devs[i], s->x[i].ref, &cancelled);
			if(!rc && cancelled){
				cJSON *fresh;

				rc = c2d_job_load(c2d, job, &fresh);
				if(!rc){
					cJSON_DeleteItemFromObjectCaseSensitive(rec, "counts");
					cJSON_AddItemToObject(rec, "counts", cJSON_DetachItemFromObjectCaseSensitive(fresh, "counts"));
					cJSON_Delete(fresh);
				}
			}
		}
	}
	if(rc) return rc;
	if(s->visited) c2d_jrec_set(rec, "ccursor", cJSON_CreateString(s->last));
	if(s->n < scan && s->visited < VISIT_MAX) c2d_jrec_set(rec, "cleanup", cJSON_CreateFalse());
	*changed = true;
	return 0;
}

/* The counts as text (cJSON_free) and whether they moved since the last
 * progress event; NULL on no memory. */
static char *counts_now(const cJSON *rec, bool *moved)
{
	char *now = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(rec, "counts"));

	*moved = now && strcmp(now, c2d_jrec_str(rec, "reported")) != 0;
	return now;
}

/* Completion, and progress at most once a second when counts moved. */
static int report(struct c2d *c2d, const char *job, cJSON *rec, bool *changed, bool *done)
{
	bool moved;
	char *now = counts_now(rec, &moved);
	int rc = 0;

	if(now == NULL) return C2D_ENOMEM;
	*done = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "resolved"))
			&& c2d_job_count(rec, C2D_JX_QUEUED) == 0 && c2d_job_count(rec, C2D_JX_IN_PROGRESS) == 0
			&& !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(spec_of(rec), "continuous"));
	if(*done){
		rc = c2d_job_finish(c2d, job, rec, "completed");
		*changed = false; /* saved */
	}else if(moved && (double)c2d->wall_ms >= c2d_jrec_num(rec, "progressAt") + 1000){
		c2d_jrec_set(rec, "reported", cJSON_CreateString(now));
		c2d_jrec_set(rec, "progressAt", cJSON_CreateNumber((double)c2d->wall_ms));
		rc = c2d_event_job(c2d, job, "c2d.job.progress", c2d_job_summary(job, rec));
		*changed = true;
	}
	cJSON_free(now);
	return rc;
}

/* A scheduled job whose startAt came: running from now. */
static int start(struct c2d *c2d, const char *job, cJSON *rec)
{
	double expires = c2d_jrec_num(spec_of(rec), "expiresIn");
	cJSON *ev = cJSON_CreateObject();

	c2d_jrec_set(rec, "state", cJSON_CreateString("running"));
	c2d_jrec_set(rec, "started", cJSON_CreateNumber((double)c2d->wall_ms));
	if(expires > 0) c2d_jrec_set(rec, "expiresAt", cJSON_CreateNumber((double)c2d->wall_ms + expires * 1000));
	if(ev) cJSON_AddStringToObject(ev, "job", job);
	c2d_log(C2D_LOG_NOTICE, "job '%s' started (its startAt came)", job);
	return c2d_event_job(c2d, job, "c2d.job.started", ev);
}

static double failures(const cJSON *rec)
{
	return c2d_job_count(rec, C2D_JX_FAILED) + c2d_job_count(rec, C2D_JX_TIMED_OUT) + c2d_job_count(rec, C2D_JX_REJECTED);
}

/* Has the abort rule of rec's spec tripped? */
static bool abort_due(const cJSON *rec)
{
	const cJSON *ab = cJSON_GetObjectItemCaseSensitive(spec_of(rec), "abort");
	double f = failures(rec);

	return ab && c2d_jobspec_abort_due(f, f + c2d_job_count(rec, C2D_JX_SUCCEEDED), c2d_jrec_num(ab, "failedPercent"),
			(uint32_t)c2d_jrec_num(ab, "minExecuted"));
}

/* The running job's end by expiry or abort, if due: *ended (rec saved). */
static int end_if_due(struct c2d *c2d, const char *job, cJSON *rec, bool *ended)
{
	double expires_at = c2d_jrec_num(rec, "expiresAt");
	const char *why = NULL;

	if(expires_at > 0 && (double)c2d->wall_ms >= expires_at) why = "expired";
	else if(abort_due(rec)) why = "aborted";
	*ended = why != NULL;
	if(!why) return 0;
	c2d_log(C2D_LOG_NOTICE, "job '%s' %s (%.0f of %.0f executions failed)", job, why, failures(rec),
			c2d_jrec_num(rec, "total"));
	return c2d_job_finish(c2d, job, rec, why);
}

static int run_running(struct c2d *c2d, const char *job, cJSON *rec, struct slice *s, bool *changed, bool *done)
{
	bool ended;
	size_t sent;
	int rc = end_if_due(c2d, job, rec, &ended);

	if(rc || ended) return rc; /* the cleanup runs from the next tick */
	/* what may go now first (the rollout's pace), then the target grows in
	 * the rest of the budget, or in this slice anyway when nothing went:
	 * reading and parsing the job may alone use a slow machine's (or a
	 * sanitizer build's) whole budget, and resolving must still progress */
	rc = dispatch(c2d, job, rec, s, changed);
	sent = s->n;
	s->n = s->visited = 0;
	if(!rc && (sent == 0 || !over_budget()) && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "resolved"))){
		rc = resolve(c2d, job, rec, s, changed);
	}
	if(!rc) rc = end_if_due(c2d, job, rec, &ended);
	if(!rc && ended) *changed = false;
	else if(!rc) rc = report(c2d, job, rec, changed, done);
	return rc;
}

static uint64_t at_most(uint64_t at, double t)
{
	return t > 0 && t < (double)at ? (uint64_t)t : at;
}

/* When the job (its record rec, after this slice) has work again: wall ms,
 * 0 for now, UINT64_MAX for when its record changes (an execution ends, a
 * device matches a continuous job, a cancel: c2d_job_save wakes it). */
static uint64_t next_work(struct c2d *c2d, const cJSON *rec)
{
	const cJSON *ro = cJSON_GetObjectItemCaseSensitive(spec_of(rec), "rollout");
	const char *state = c2d_job_state(rec);
	uint64_t at = UINT64_MAX;
	double next, interval, mif = c2d_jrec_num(ro, "maxInFlight");
	bool moved;
	char *now;

	if(strcmp(state, "scheduled") == 0) return at_most(at, c2d_jrec_num(rec, "startAt"));
	if(strcmp(state, "running") != 0 || !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "resolved"))) return 0;
	if(c2d_job_count(rec, C2D_JX_QUEUED) > 0){
		if(allowance(c2d, rec, &next, &interval) > 0) return 0;
		/* held by maxInFlight: until an execution ends; else paced: its next slot */
		if(!(mif > 0 && c2d_job_count(rec, C2D_JX_IN_PROGRESS) >= mif)){
			if(interval <= 0) return 0;
			at = at_most(at, next);
		}
	}
	now = counts_now(rec, &moved);
	if(now == NULL) return 0;
	cJSON_free(now);
	if(moved) at = at_most(at, c2d_jrec_num(rec, "progressAt") + 1000); /* the progress event it owes */
	return at_most(at, c2d_jrec_num(rec, "expiresAt"));
}

static int run_job(struct c2d *c2d, const char *job, struct slice *s)
{
	bool changed = false, done = false, cleanup;
	const char *state;
	cJSON *rec;
	int rc;

	rc = c2d_job_load(c2d, job, &rec);
	if(rc == C2D_ENOTFOUND || rc == C2D_EINVAL) return c2d_store_job_active(c2d->store, job, false);
	if(rc) return rc;
	state = c2d_jrec_str(rec, "state");
	cleanup = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "cleanup"));
	s->n = s->visited = 0;
	if(strcmp(state, "scheduled") == 0){
		if((double)c2d->wall_ms >= c2d_jrec_num(rec, "startAt")){
			rc = start(c2d, job, rec);
			changed = true;
		}
	}else if(strcmp(state, "running") == 0){
		rc = run_running(c2d, job, rec, s, &changed, &done);
	}else if(cleanup){
		rc = cancel_slice(c2d, job, rec, s, &changed);
		done = !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "cleanup"));
	}else{
		done = true;
	}
	if(!rc && changed) rc = c2d_job_save(c2d, job, rec);
	if(!rc && done) rc = c2d_store_job_active(c2d->store, job, false);
	if(!rc && !done){
		/* nothing to do for a while: not loaded again until then */
		uint64_t at = next_work(c2d, rec);

		if(at > c2d->wall_ms) rc = c2d_store_job_wake(c2d->store, job, at);
	}
	cJSON_Delete(rec);
	return rc;
}

struct active {
	size_t n;
	char job[JOBS_PER_TICK][C2D_JOB_MAX + 1];
};

/* Where the next tick's walk of the active jobs starts: more than
 * JOBS_PER_TICK active jobs take turns. */
static char turn[C2D_JOB_MAX + 1];

static int collect_job(void *ud, const char *job)
{
	struct active *a = ud;

	memcpy(a->job[a->n], job, strlen(job) + 1);
	return ++a->n == JOBS_PER_TICK;
}

/* One slice over the active jobs; false when none is active. */
static bool run_slice(struct c2d *c2d)
{
	static char devs[VISIT_MAX][C2D_DEV_MAX + 1];
	static struct c2d_jexec xs[VISIT_MAX];
	struct slice s = {.devs = devs, .x = xs};
	struct active a = {0};
	size_t i, mark;
	int rc;

	if(c2d_store_job_scan_due(c2d->store, turn, c2d->wall_ms, collect_job, &a)) return false;
	if(a.n == 0 && turn[0]){
		turn[0] = '\0';
		if(c2d_store_job_scan_due(c2d->store, NULL, c2d->wall_ms, collect_job, &a)) return false;
	}
	if(a.n == JOBS_PER_TICK) memcpy(turn, a.job[a.n - 1], sizeof(turn));
	else turn[0] = '\0';
	for(i = 0; i < a.n; i++){
		if(i && over_budget()){ /* the others first at the next slice */
			memcpy(turn, a.job[i - 1], sizeof(turn));
			break;
		}
		rc = c2d_item_begin(c2d, &mark);
		if(!rc) rc = run_job(c2d, a.job[i], &s);
		rc = c2d_item_end(c2d, mark, rc);
		if(rc && c2d_transient(c2d, rc)) break;
		if(rc) c2d_log(C2D_LOG_WARN, "job '%s': this slice failed (%d); it is tried again at the next tick", a.job[i], rc);
	}
	return a.n > 0;
}

static void jobs_on_tick(struct c2d *c2d)
{
	uint64_t start = c2d_mono_us(), allow, slice, gap = start - last_turn_us;
	bool wrote;

	last_turn_us = start;
	/* no read transaction per loop pass: no active job, or all asleep */
	if(c2d_store_jobs_idle(c2d->store) || c2d_store_jobs_asleep(c2d->store, c2d->wall_ms)) return;
	allow = c2d_bg_allowance_us(c2d, C2D_BG_JOBS);
	if(allow == 0) return; /* this window's share is used: the next one goes on */
	/* this loop pass's answers leave after the tick's commit: with any
	 * waiting, the slice is short whatever the gap */
	if(c2d->outbox.head || c2d->outbox.side_head) gap = 0;
	slice = c2d_duty_slice_us(gap, SLICE_MAX_US, SLICE_IDLE_US);
	deadline_us = start + (slice < allow ? slice : allow);
	wrote = run_slice(c2d);
	c2d_bg_charge(c2d, C2D_BG_JOBS, c2d_mono_us() - start, wrote);
}

/* A device came online: continuous jobs whose where reads `online`
 * (jobcont.c), in a nested transaction of the catch-up's unit. */
static void jobs_on_online(struct c2d *c2d, const char *dev)
{
	size_t mark;
	int rc;

	if(!c2d_jobcont_wants_online()) return;
	rc = c2d_item_begin(c2d, &mark);
	if(!rc) rc = c2d_jobcont_on_online(c2d, dev);
	rc = c2d_item_end(c2d, mark, rc);
	if(rc) c2d_log(C2D_LOG_WARN, "continuous jobs for '%s' at its connect failed (%d); evaluated again at its next change", dev, rc);
}

static int jobs_init(struct c2d *c2d)
{
	turn[0] = '\0';
	last_turn_us = c2d_mono_us();
	return c2d_jobcont_init(c2d);
}

static void jobs_cleanup(struct c2d *c2d)
{
	(void)c2d;
	c2d_jobcont_cleanup();
}

const struct c2d_plane c2d_jobs_plane = {
	.letter = 0,
	.name = "jobs",
	.on_tick = jobs_on_tick,
	.on_online = jobs_on_online,
	.init = jobs_init,
	.cleanup = jobs_cleanup,
};
