/* The fleet job commands on $CONTROL/c2d/v1 (admin.c's table):
 * createJob, getJob, listJobs, cancelJob, listJobDevices. Each answer's
 * data (or error response) carries "status": 202 for a created job, 200,
 * 400 for a bad command, 404 for an unknown job, 409 for a duplicate id or
 * a job that is no longer running.
 *
 * The job record (the jobs table, JSON): "job", "state" (scheduled,
 * running, completed, cancelled, aborted, expired), "spec" (target, action,
 * rollout, abort, startAt, expiresIn, continuous: jobspec.c), "counts" (one
 * number per execution state; they add up to "total"), "total", "created",
 * "started", "finished" (wall ms or null), "startAt", "expiresAt" (wall ms,
 * when the spec has them), "resolved" (the target is fixed), and the
 * dispatcher's own "cursor", "dcursor", "ccursor", "cleanup", "nextAt",
 * "progressAt", "reported" (jobrun.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c2d_jobcont.h"
#include "c2d_jobs.h"
#include "c2d_jobspec.h"

static const char *with_status(cJSON *data, int status, const char *err)
{
	cJSON_AddNumberToObject(data, "status", status);
	return err;
}

static void add_time(cJSON *o, const char *name, const cJSON *rec, const char *field)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(rec, field);
	char when[32];

	if(cJSON_IsNumber(t) && t->valuedouble > 0){
		c2d_time_rfc3339((uint64_t)t->valuedouble, when, sizeof(when));
		cJSON_AddStringToObject(o, name, when);
	}else{
		cJSON_AddNullToObject(o, name);
	}
}

/* getJob's view of a record (borrowed) into data. */
static void job_view(const cJSON *rec, cJSON *data, bool spec)
{
	static const char *const copied[] = {"job", "state", "total", "counts", "resolved"};
	size_t i;

	for(i = 0; i < sizeof(copied) / sizeof(copied[0]); i++){
		cJSON_AddItemToObject(data, copied[i], cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(rec, copied[i]), true));
	}
	if(spec) cJSON_AddItemToObject(data, "spec", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(rec, "spec"), true));
	add_time(data, "created", rec, "created");
	add_time(data, "started", rec, "started");
	add_time(data, "finished", rec, "finished");
	if(cJSON_GetObjectItemCaseSensitive(rec, "startAt")) add_time(data, "startAt", rec, "startAt");
	if(cJSON_GetObjectItemCaseSensitive(rec, "expiresAt")) add_time(data, "expiresAt", rec, "expiresAt");
}

/* The job named by cmd.job, loaded; NULL with the error set in data. */
static cJSON *load_arg(struct c2d *c2d, const cJSON *cmd, cJSON *data, const char **err)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(cmd, "job");
	cJSON *rec = NULL;
	int rc;

	if(!cJSON_IsString(id) || !c2d_jobspec_valid_id(id->valuestring)){
		*err = with_status(data, C2D_ST_BAD_REQUEST, "job must be a job id");
		return NULL;
	}
	rc = c2d_job_load(c2d, id->valuestring, &rec);
	if(rc == C2D_ENOTFOUND) *err = with_status(data, C2D_ST_OFFLINE, "no such job");
	else if(rc) *err = with_status(data, c2d_status_of(rc), "store unavailable");
	return rec;
}

/* The new record: counts all 0 but queued = total; scheduled if its
 * startAt is still to come. New object or NULL. */
static cJSON *new_record(struct c2d *c2d, const cJSON *cmd, const struct c2d_jobspec *spec, double total)
{
	bool later = spec->start_at_ms > c2d->wall_ms;
	cJSON *rec = cJSON_CreateObject(), *counts;
	int i;

	if(rec == NULL) return NULL;
	cJSON_AddStringToObject(rec, "job", spec->job);
	cJSON_AddStringToObject(rec, "state", later ? "scheduled" : "running");
	cJSON_AddItemToObject(rec, "spec", c2d_jobspec_stored(cmd, spec));
	counts = cJSON_AddObjectToObject(rec, "counts");
	for(i = 0; counts && i < C2D_JX__COUNT; i++){
		cJSON_AddNumberToObject(counts, c2d_jx_state_name(i), i == C2D_JX_QUEUED ? total : 0);
	}
	cJSON_AddNumberToObject(rec, "total", total);
	cJSON_AddBoolToObject(rec, "resolved", spec->devices != NULL);
	cJSON_AddNumberToObject(rec, "created", (double)c2d->wall_ms);
	if(later) cJSON_AddNullToObject(rec, "started");
	else cJSON_AddNumberToObject(rec, "started", (double)c2d->wall_ms);
	cJSON_AddNullToObject(rec, "finished");
	if(spec->start_at_ms) cJSON_AddNumberToObject(rec, "startAt", (double)spec->start_at_ms);
	if(spec->expires_in_s && !later){
		cJSON_AddNumberToObject(rec, "expiresAt", (double)c2d->wall_ms + spec->expires_in_s * 1000.0);
	}
	return rec;
}

const char *c2d_jobs_create(struct c2d *c2d, const cJSON *cmd, cJSON *data)
{
	static char why[200];
	struct c2d_jobspec spec;
	struct c2d_jexec x = {.state = C2D_JX_QUEUED, .at_ms = c2d->wall_ms};
	const cJSON *d;
	cJSON *rec = NULL;
	int rc;

	if(c2d_jobspec_check(cmd, &c2d->conf, &spec, why, sizeof(why))) return with_status(data, C2D_ST_BAD_REQUEST, why);
	rc = c2d_job_load(c2d, spec.job, &rec);
	cJSON_Delete(rec);
	if(rc != C2D_ENOTFOUND){
		return rc == 0 || rc == C2D_EINVAL ? with_status(data, C2D_ST_CONFLICT, "a job with this id exists")
				: with_status(data, c2d_status_of(rc), "store unavailable");
	}
	if(c2d_room_low(c2d)) return with_status(data, C2D_ST_UNAVAILABLE, "store nearly full");
	rc = 0;
	cJSON_ArrayForEach(d, spec.devices){
		if(rc == 0) rc = c2d_store_jexec_put(c2d->store, spec.job, d->valuestring, &x);
	}
	rec = new_record(c2d, cmd, &spec, spec.devices ? cJSON_GetArraySize(spec.devices) : 0);
	if(rec == NULL && rc == 0) rc = C2D_ENOMEM;
	if(!rc) rc = c2d_job_save(c2d, spec.job, rec);
	if(!rc) rc = c2d_store_job_active(c2d->store, spec.job, true);
	if(!rc){
		cJSON *ev = cJSON_CreateObject();

		if(ev){
			cJSON_AddStringToObject(ev, "job", spec.job);
			cJSON_AddItemToObject(ev, "spec", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(rec, "spec"), true));
		}
		rc = c2d_event_job(c2d, spec.job, "c2d.job.created", ev);
		if(strcmp(c2d_job_state(rec), "running") == 0){
			ev = cJSON_CreateObject();
			if(ev) cJSON_AddStringToObject(ev, "job", spec.job);
			if(!rc) rc = c2d_event_job(c2d, spec.job, "c2d.job.started", ev);
			else cJSON_Delete(ev);
		}
	}
	if(!rc){
		c2d_jobs_count_created();
		if(spec.continuous) c2d_jobcont_add(spec.job, spec.where);
		c2d_log(C2D_LOG_NOTICE, "job '%s' created by an operator", spec.job);
		job_view(rec, data, true);
	}
	cJSON_Delete(rec);
	if(rc) return with_status(data, c2d_status_of(rc), rc == C2D_ENOMEM ? "out of memory" : "store unavailable");
	return with_status(data, C2D_ST_ACCEPTED, NULL);
}

const char *c2d_jobs_get(struct c2d *c2d, const cJSON *cmd, cJSON *data)
{
	const char *err = NULL;
	cJSON *rec = load_arg(c2d, cmd, data, &err);

	if(rec == NULL) return err;
	job_view(rec, data, true);
	cJSON_Delete(rec);
	return with_status(data, C2D_ST_OK, NULL);
}

struct list_jobs {
	struct c2d *c2d;
	cJSON *arr;
	size_t want, got;
	char last[C2D_JOB_MAX + 1];
	int rc;
};

static int list_one(void *ud, const char *job)
{
	struct list_jobs *l = ud;
	cJSON *rec, *o;

	snprintf(l->last, sizeof(l->last), "%s", job);
	l->rc = c2d_job_load(l->c2d, job, &rec);
	if(l->rc == C2D_EINVAL){
		l->rc = 0; /* damaged: logged, listed by id only */
		o = cJSON_CreateObject();
		if(o) cJSON_AddStringToObject(o, "job", job);
	}else if(l->rc){
		return 1;
	}else{
		o = cJSON_CreateObject();
		if(o) job_view(rec, o, false);
		cJSON_Delete(rec);
	}
	if(o == NULL){
		l->rc = C2D_ENOMEM;
		return 1;
	}
	cJSON_AddItemToArray(l->arr, o);
	return ++l->got >= l->want;
}

/* An optional "count" in 1..1000 (default 100); an error text if bad. */
static const char *count_of(const cJSON *cmd, size_t *count)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(cmd, "count");

	*count = 100;
	if(c == NULL) return NULL;
	if(!cJSON_IsNumber(c) || c->valuedouble < 1 || c->valuedouble > 1000) return "count must be 1..1000";
	*count = (size_t)c->valuedouble;
	return NULL;
}

const char *c2d_jobs_list(struct c2d *c2d, const cJSON *cmd, cJSON *data)
{
	const cJSON *after = cJSON_GetObjectItemCaseSensitive(cmd, "after");
	struct list_jobs l = {.c2d = c2d};
	const char *err = count_of(cmd, &l.want);
	int rc;

	if(err) return with_status(data, C2D_ST_BAD_REQUEST, err);
	if(after && !cJSON_IsNull(after) && (!cJSON_IsString(after) || !c2d_jobspec_valid_id(after->valuestring))){
		return with_status(data, C2D_ST_BAD_REQUEST, "after must be a job id");
	}
	l.arr = cJSON_AddArrayToObject(data, "jobs");
	if(l.arr == NULL) return "out of memory";
	rc = c2d_store_job_scan(c2d->store, cJSON_IsString(after) ? after->valuestring : NULL, false, list_one, &l);
	if(rc || l.rc) return with_status(data, C2D_ST_UNAVAILABLE, "store unavailable");
	if(l.got >= l.want) cJSON_AddStringToObject(data, "next", l.last);
	else cJSON_AddNullToObject(data, "next");
	return with_status(data, C2D_ST_OK, NULL);
}

const char *c2d_jobs_cancel(struct c2d *c2d, const cJSON *cmd, cJSON *data)
{
	const char *err = NULL, *job;
	cJSON *rec = load_arg(c2d, cmd, data, &err);
	int rc;

	if(rec == NULL) return err;
	job = cJSON_GetObjectItemCaseSensitive(cmd, "job")->valuestring;
	if(strcmp(c2d_job_state(rec), "running") != 0 && strcmp(c2d_job_state(rec), "scheduled") != 0){
		cJSON_Delete(rec);
		return with_status(data, C2D_ST_CONFLICT, "the job is not running");
	}
	rc = c2d_job_finish(c2d, job, rec, "cancelled"); /* jobrun.c cancels what is queued, in slices */
	if(!rc){
		c2d_log(C2D_LOG_NOTICE, "job '%s' cancelled by an operator", job);
		job_view(rec, data, false);
	}
	cJSON_Delete(rec);
	if(rc) return with_status(data, c2d_status_of(rc), "store unavailable");
	return with_status(data, C2D_ST_OK, NULL);
}

struct list_devs {
	cJSON *arr;
	int state;         /* filter, or -1 */
	size_t want, got, visited;
	char last[C2D_DEV_MAX + 1];
};

static int list_dev(void *ud, const char *dev, const struct c2d_jexec *x)
{
	struct list_devs *l = ud;
	cJSON *o;

	snprintf(l->last, sizeof(l->last), "%s", dev);
	l->visited++;
	if(l->state < 0 || x->state == l->state){
		o = cJSON_CreateObject();
		if(o == NULL) return 1;
		cJSON_AddStringToObject(o, "device", dev);
		cJSON_AddStringToObject(o, "state", c2d_jx_state_name(x->state) ? c2d_jx_state_name(x->state) : "?");
		if(x->status) cJSON_AddNumberToObject(o, "status", x->status);
		cJSON_AddItemToArray(l->arr, o);
		l->got++;
	}
	return l->got >= l->want || l->visited >= 5000;
}

const char *c2d_jobs_list_devices(struct c2d *c2d, const cJSON *cmd, cJSON *data)
{
	const cJSON *after = cJSON_GetObjectItemCaseSensitive(cmd, "after");
	const cJSON *state = cJSON_GetObjectItemCaseSensitive(cmd, "state");
	struct list_devs l = {.state = -1};
	const char *err = NULL, *job;
	cJSON *rec = load_arg(c2d, cmd, data, &err);
	int rc;

	if(rec == NULL) return err;
	cJSON_Delete(rec);
	job = cJSON_GetObjectItemCaseSensitive(cmd, "job")->valuestring;
	if((err = count_of(cmd, &l.want)) != NULL) return with_status(data, C2D_ST_BAD_REQUEST, err);
	if(state && (!cJSON_IsString(state) || (l.state = c2d_jx_state_of(state->valuestring)) < 0)){
		return with_status(data, C2D_ST_BAD_REQUEST, "state must be an execution state");
	}
	if(after && !cJSON_IsNull(after)
			&& (!cJSON_IsString(after) || !c2d_topic_valid_dev(after->valuestring, strlen(after->valuestring)))){
		return with_status(data, C2D_ST_BAD_REQUEST, "after must be a device id");
	}
	l.arr = cJSON_AddArrayToObject(data, "devices");
	if(l.arr == NULL) return "out of memory";
	rc = c2d_store_jexec_scan(c2d->store, job, cJSON_IsString(after) ? after->valuestring : NULL, list_dev, &l);
	if(rc) return with_status(data, C2D_ST_UNAVAILABLE, "store unavailable");
	if(l.got >= l.want || l.visited >= 5000) cJSON_AddStringToObject(data, "next", l.last);
	else cJSON_AddNullToObject(data, "next");
	return with_status(data, C2D_ST_OK, NULL);
}

struct stat_walk {
	struct c2d *c2d;
	double running, scheduled;
};

static int stat_one(void *ud, const char *job)
{
	struct stat_walk *w = ud;
	cJSON *rec;

	if(c2d_job_load(w->c2d, job, &rec) == 0){
		if(strcmp(c2d_job_state(rec), "running") == 0) w->running++;
		else if(strcmp(c2d_job_state(rec), "scheduled") == 0) w->scheduled++;
	}
	cJSON_Delete(rec);
	return 0;
}

cJSON *c2d_jobs_stats(struct c2d *c2d)
{
	static const char *const ended[C2D_JS__COUNT] = {"completed", "cancelled", "aborted", "expired"};
	const struct c2d_jobs_counters *c = c2d_jobs_counters();
	struct stat_walk w = {.c2d = c2d};
	cJSON *o = cJSON_CreateObject(), *x;
	int i;

	if(o == NULL) return NULL;
	if(c2d_store_job_scan(c2d->store, NULL, true, stat_one, &w) == 0){ /* the active jobs: few */
		cJSON_AddNumberToObject(o, "running", w.running);
		cJSON_AddNumberToObject(o, "scheduled", w.scheduled);
	}
	cJSON_AddNumberToObject(o, "created", (double)c->created);
	for(i = 0; i < C2D_JS__COUNT; i++) cJSON_AddNumberToObject(o, ended[i], (double)c->jobs[i]);
	x = cJSON_AddObjectToObject(o, "executions");
	if(x) cJSON_AddNumberToObject(x, "dispatched", (double)c->dispatched);
	for(i = C2D_JX_SUCCEEDED; x && i < C2D_JX__COUNT; i++){
		cJSON_AddNumberToObject(x, c2d_jx_state_name(i), (double)c->ended[i]);
	}
	return o;
}

void c2d_jobs_stats_each(struct c2d *c2d, void (*pub)(struct c2d *c2d, const char *name, uint64_t value))
{
	cJSON *o = c2d_jobs_stats(c2d), *m, *n, *sub;
	char name[64];

	cJSON_ArrayForEach(m, o){
		if(cJSON_IsNumber(m)){
			snprintf(name, sizeof(name), "jobs/%s", m->string);
			pub(c2d, name, (uint64_t)m->valuedouble);
		}
		sub = cJSON_IsObject(m) ? m : NULL;
		cJSON_ArrayForEach(n, sub){
			snprintf(name, sizeof(name), "jobs/%s/%s", m->string, n->string);
			pub(c2d, name, (uint64_t)n->valuedouble);
		}
	}
	cJSON_Delete(o);
}
