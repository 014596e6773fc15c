/* Job executions and the job record's counts (c2d_jobs.h). The queue and
 * twin planes report their final transitions here, in the transaction that
 * makes them, so an execution's state and its job's counts never disagree
 * with the plane. This file calls only the store and events: the planes
 * call it, jobrun.c (which calls the planes) calls it too.
 *
 * The job record is JSON (jobs.c documents it); its "counts" object holds
 * one number per execution state, and every move takes one from the old
 * state and gives one to the new, so they always add up to "total".
 *
 * It also keeps the jobs' counters since the broker started (stats) and
 * the device-change hook that jobcont.c registers, so that twin.c and
 * hello.c can report a changed device without calling up into the jobs
 * plane. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c2d_jobs.h"
#include "c2d_qrec.h"

static const char *const names[C2D_JX__COUNT] = {"queued", "in_progress", "succeeded", "failed",
	"timed_out", "expired", "cancelled", "rejected"};

/* Since the broker started (a rolled back unit may have counted too). */
static struct c2d_jobs_counters counters;
/* jobcont.c's evaluator, registered at init; NULL: none. */
static int (*device_hook)(struct c2d *c2d, const char *dev);

const struct c2d_jobs_counters *c2d_jobs_counters(void)
{
	return &counters;
}

void c2d_jobs_set_device_hook(int (*hook)(struct c2d *c2d, const char *dev))
{
	device_hook = hook;
}

int c2d_jobs_on_device_change(struct c2d *c2d, const char *dev)
{
	return device_hook ? device_hook(c2d, dev) : 0;
}

const char *c2d_jx_state_name(int state)
{
	return state >= 0 && state < C2D_JX__COUNT ? names[state] : NULL;
}

int c2d_jx_state_of(const char *name)
{
	int i;

	for(i = 0; name && i < C2D_JX__COUNT; i++){
		if(strcmp(names[i], name) == 0) return i;
	}
	return -1;
}

int c2d_job_load(struct c2d *c2d, const char *job, cJSON **rec)
{
	char *json = NULL;
	size_t len = 0;
	int rc;

	*rec = NULL;
	rc = c2d_store_job_get(c2d->store, job, &json, &len);
	if(rc) return rc;
	*rec = cJSON_ParseWithLength(json, len);
	free(json);
	if(!cJSON_IsObject(*rec) || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(*rec, "counts"))){
		cJSON_Delete(*rec);
		*rec = NULL;
		c2d_log(C2D_LOG_ERR, "job '%s': damaged job record", job);
		return C2D_EINVAL;
	}
	return 0;
}

int c2d_job_save(struct c2d *c2d, const char *job, const cJSON *rec)
{
	char *text = cJSON_PrintUnformatted(rec);
	int rc;

	if(text == NULL) return C2D_ENOMEM;
	rc = c2d_store_job_put(c2d->store, job, text, strlen(text));
	cJSON_free(text);
	/* what changed the record (an execution ended, a device matched, a
	 * cancel) may give a sleeping job work: due at the next tick */
	if(!rc) rc = c2d_store_job_wake(c2d->store, job, 0);
	return rc;
}

double c2d_job_count(const cJSON *rec, int state)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, "counts"),
			c2d_jx_state_name(state));

	return cJSON_IsNumber(n) ? n->valuedouble : 0;
}

/* counts[state] += d in rec (borrowed). */
static void count_add(cJSON *rec, int state, double d)
{
	cJSON *counts = cJSON_GetObjectItemCaseSensitive(rec, "counts");
	cJSON *n = cJSON_GetObjectItemCaseSensitive(counts, c2d_jx_state_name(state));

	if(n) cJSON_SetNumberValue(n, n->valuedouble + d);
	else cJSON_AddNumberToObject(counts, c2d_jx_state_name(state), d);
}

int c2d_jobx_move(struct c2d *c2d, const char *job, const char *dev, cJSON *rec, struct c2d_jexec *x,
		int state, int status)
{
	cJSON *data;
	int rc;

	if(x->state == C2D_JX_QUEUED && (state == C2D_JX_IN_PROGRESS || state == C2D_JX_SUCCEEDED
			|| state == C2D_JX_REJECTED)) counters.dispatched++;
	if(state < C2D_JX__COUNT && state != C2D_JX_QUEUED && state != C2D_JX_IN_PROGRESS) counters.ended[state]++;
	count_add(rec, x->state, -1);
	count_add(rec, state, 1);
	x->state = (uint8_t)state;
	x->status = (uint32_t)status;
	x->at_ms = c2d->wall_ms;
	rc = c2d_store_jexec_put(c2d->store, job, dev, x);
	if(rc) return rc;
	data = cJSON_CreateObject();
	if(data){
		cJSON_AddStringToObject(data, "job", job);
		cJSON_AddStringToObject(data, "state", c2d_jx_state_name(state));
		if(status) cJSON_AddNumberToObject(data, "status", status);
	}
	return c2d_event(c2d, dev, "job", "c2d.job.execution", data);
}

const char *c2d_job_state(const cJSON *rec)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(rec, "state");

	return cJSON_IsString(j) ? j->valuestring : "";
}

cJSON *c2d_job_summary(const char *job, const cJSON *rec)
{
	const cJSON *total = cJSON_GetObjectItemCaseSensitive(rec, "total");
	cJSON *d = cJSON_CreateObject();

	if(d == NULL) return NULL;
	cJSON_AddStringToObject(d, "job", job);
	cJSON_AddStringToObject(d, "state", c2d_job_state(rec));
	cJSON_AddNumberToObject(d, "total", cJSON_IsNumber(total) ? total->valuedouble : 0);
	cJSON_AddItemToObject(d, "counts", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(rec, "counts"), true));
	return d;
}

const char *c2d_jrec_str(const cJSON *rec, const char *name)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(rec, name);

	return cJSON_IsString(j) ? j->valuestring : "";
}

double c2d_jrec_num(const cJSON *rec, const char *name)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(rec, name);

	return cJSON_IsNumber(j) ? j->valuedouble : 0;
}

void c2d_jrec_set(cJSON *rec, const char *name, cJSON *v)
{
	if(cJSON_GetObjectItemCaseSensitive(rec, name)) cJSON_ReplaceItemInObjectCaseSensitive(rec, name, v);
	else cJSON_AddItemToObject(rec, name, v);
}

int c2d_job_finish(struct c2d *c2d, const char *job, cJSON *rec, const char *state)
{
	char type[32];
	int rc;

	c2d_jrec_set(rec, "state", cJSON_CreateString(state));
	c2d_jrec_set(rec, "finished", cJSON_CreateNumber((double)c2d->wall_ms));
	if(strcmp(state, "completed") != 0) c2d_jrec_set(rec, "cleanup", cJSON_CreateTrue()); /* jobrun.c, in slices */
	if(strcmp(state, "completed") == 0) counters.jobs[C2D_JS_COMPLETED]++;
	else if(strcmp(state, "cancelled") == 0) counters.jobs[C2D_JS_CANCELLED]++;
	else if(strcmp(state, "aborted") == 0) counters.jobs[C2D_JS_ABORTED]++;
	else if(strcmp(state, "expired") == 0) counters.jobs[C2D_JS_EXPIRED]++;
	rc = c2d_job_save(c2d, job, rec);
	snprintf(type, sizeof(type), "c2d.job.%s", state);
	if(!rc) rc = c2d_event_job(c2d, job, type, c2d_job_summary(job, rec));
	return rc;
}

void c2d_jobs_count_created(void)
{
	counters.created++;
}

/* End dev's execution of job in state (loads and saves the job record). */
static int settle(struct c2d *c2d, const char *job, const char *dev, int state, int status)
{
	struct c2d_jexec x;
	cJSON *rec;
	int rc;

	rc = c2d_store_jexec_get(c2d->store, job, dev, &x);
	if(rc == C2D_ENOTFOUND) return 0; /* no such execution (damaged reference): nothing to count */
	if(rc) return rc;
	if(x.state != C2D_JX_IN_PROGRESS) return 0;
	rc = c2d_job_load(c2d, job, &rec);
	if(rc) return rc == C2D_ENOTFOUND || rc == C2D_EINVAL ? 0 : rc;
	if(state == C2D_JX_CANCELLED && strcmp(c2d_job_state(rec), "expired") == 0){
		state = C2D_JX_EXPIRED; /* an expired job's undelivered items */
	}
	rc = c2d_jobx_move(c2d, job, dev, rec, &x, state, status);
	if(!rc) rc = c2d_job_save(c2d, job, rec);
	cJSON_Delete(rec);
	return rc;
}

static int of_qstate(int qstate)
{
	switch(qstate){
		case C2D_QS_COMPLETED:
		case C2D_QS_SUCCESSFUL:
			return C2D_JX_SUCCEEDED;
		case C2D_QS_TIMEOUT:
			return C2D_JX_TIMED_OUT;
		case C2D_QS_EXPIRED:
			return C2D_JX_EXPIRED;
		case C2D_QS_CANCELLED:
		case C2D_QS_PURGED:
			return C2D_JX_CANCELLED;
		default: /* rejected, dead, failed */
			return C2D_JX_FAILED;
	}
}

int c2d_jobs_on_queue_final(struct c2d *c2d, const char *dev, uint64_t seq, int qstate, int status)
{
	char job[C2D_JOB_MAX + 1];
	int rc;

	rc = c2d_store_jref_q_get(c2d->store, dev, seq, job);
	if(rc == C2D_ENOTFOUND) return 0;
	if(rc) return rc;
	rc = c2d_store_jref_q_del(c2d->store, dev, seq);
	if(!rc) rc = settle(c2d, job, dev, of_qstate(qstate), status);
	return rc;
}

/* The twin waits an acknowledgement ends, collected before writing. */
#define ACK_MAX 32
struct acked {
	uint64_t version;
	size_t n;
	char job[ACK_MAX][C2D_JOB_MAX + 1];
};

static int collect_ack(void *ud, const char *job, uint64_t version)
{
	struct acked *a = ud;

	if(version > a->version) return 0;
	memcpy(a->job[a->n], job, strlen(job) + 1);
	return ++a->n == ACK_MAX;
}

int c2d_jobs_on_twin_ack(struct c2d *c2d, const char *dev, uint64_t version)
{
	struct acked a;
	size_t i;
	int rc;

	do{
		a.version = version;
		a.n = 0;
		rc = c2d_store_jref_t_scan(c2d->store, dev, collect_ack, &a);
		for(i = 0; !rc && i < a.n; i++){
			rc = c2d_store_jref_t_del(c2d->store, dev, a.job[i]);
			if(!rc) rc = settle(c2d, a.job[i], dev, C2D_JX_SUCCEEDED, 200);
		}
	}while(!rc && a.n == ACK_MAX);
	return rc;
}
