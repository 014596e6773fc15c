/* Continuous jobs (protocol-v2 section 3, `continuous: true`, twin and msg
 * actions): a device that starts to match the job's where target after the
 * job resolved it (a new device, changed tags, twin or info, or for a
 * where that reads `online` its connect) gets an execution too, until the
 * job is cancelled, aborted or expires.
 *
 * The jobs plane's on_online (jobrun.c) reports a connect here, and only
 * when some continuous job's where reads `online` (c2d_query_needs), so
 * that connects cost nothing otherwise.
 *
 * twin.c (twin_save) and hello.c report a changed device through
 * c2d_jobs_on_device_change (jobexec.c), which calls the hook registered
 * here at init: this file calls the fleet (the match), which calls the twin
 * plane, so twin.c may not call it directly.
 *
 * The hook evaluates the device against the active continuous jobs only:
 * their ids are kept here, at most CONT_MAX (filled at init from the active
 * table and by createJob; a job that is no longer running continuous is
 * dropped when seen). Past CONT_MAX the hook walks the active table
 * instead. Memory: CONT_MAX ids, whatever the fleet size.
 *
 * Never twice: a device that has an execution of the job (any state) is
 * left alone; a device the resolve walk has not reached yet is left to it
 * (jobrun.c). A new execution is queued; jobrun.c dispatches it under the
 * rollout limits (its dispatch walk wraps around to find it). */
#include <string.h>

#include "c2d_fleet.h"
#include "c2d_jobs.h"
#include "c2d_jobcont.h"
#include "c2d_query.h"

#define CONT_MAX 64

static struct {
	size_t n;
	bool overflow;           /* more than CONT_MAX: walk the active table */
	size_t online;           /* entries whose where reads `online` */
	char job[CONT_MAX][C2D_JOB_MAX + 1];
	bool reads_online[CONT_MAX];
} cont;

static const cJSON *where_of(const cJSON *rec)
{
	return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(rec, "spec"), "target"), "where");
}

static bool is_continuous(const cJSON *rec)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, "spec"), "continuous"));
}

void c2d_jobcont_add(const char *job, const cJSON *where)
{
	size_t i;

	for(i = 0; i < cont.n; i++){
		if(strcmp(cont.job[i], job) == 0) return;
	}
	if(cont.n == CONT_MAX){
		cont.overflow = true;
		return;
	}
	cont.reads_online[cont.n] = (c2d_query_needs(where) & C2D_Q_NEEDS_ONLINE) != 0;
	if(cont.reads_online[cont.n]) cont.online++;
	memcpy(cont.job[cont.n++], job, strlen(job) + 1);
}

static void drop(size_t i)
{
	if(cont.reads_online[i]) cont.online--;
	cont.n--;
	if(i != cont.n){
		memcpy(cont.job[i], cont.job[cont.n], sizeof(cont.job[i]));
		cont.reads_online[i] = cont.reads_online[cont.n];
	}
}

bool c2d_jobcont_wants_online(void)
{
	return cont.overflow || cont.online > 0;
}

/* Give dev an execution of job if it is a running continuous job that dev
 * now matches. *keep: the job is still continuous (scheduled or running). */
static int evaluate(struct c2d *c2d, const char *job, const char *dev, bool *keep)
{
	struct c2d_jexec x;
	const cJSON *cursor, *where;
	cJSON *rec, *n;
	bool match = false;
	int rc;

	*keep = false;
	rc = c2d_job_load(c2d, job, &rec);
	if(rc) return rc == C2D_ENOTFOUND || rc == C2D_EINVAL ? 0 : rc;
	*keep = is_continuous(rec) && (strcmp(c2d_job_state(rec), "running") == 0
			|| strcmp(c2d_job_state(rec), "scheduled") == 0);
	cursor = cJSON_GetObjectItemCaseSensitive(rec, "cursor");
	if(!*keep || strcmp(c2d_job_state(rec), "running") != 0
			|| (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "resolved"))
				&& !(cJSON_IsString(cursor) && strcmp(dev, cursor->valuestring) <= 0))){
		cJSON_Delete(rec); /* not started, or the resolve walk will reach dev */
		return 0;
	}
	rc = c2d_store_jexec_get(c2d->store, job, dev, &x);
	if(rc != C2D_ENOTFOUND){
		cJSON_Delete(rec);
		return rc;
	}
	where = where_of(rec);
	rc = c2d_fleet_match(c2d, where, dev, &match);
	if(!rc && match){
		memset(&x, 0, sizeof(x));
		x.state = C2D_JX_QUEUED;
		x.at_ms = c2d->wall_ms;
		rc = c2d_store_jexec_put(c2d->store, job, dev, &x);
		n = cJSON_GetObjectItemCaseSensitive(rec, "total");
		if(cJSON_IsNumber(n)) cJSON_SetNumberValue(n, n->valuedouble + 1);
		n = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(rec, "counts"), "queued");
		if(cJSON_IsNumber(n)) cJSON_SetNumberValue(n, n->valuedouble + 1);
		cursor = cJSON_GetObjectItemCaseSensitive(rec, "dcursor");
		if(cJSON_IsString(cursor) && strcmp(dev, cursor->valuestring) <= 0){
			/* the dispatch walk starts after dcursor: put it before dev */
			char before[C2D_DEV_MAX + 1];

			memcpy(before, dev, strlen(dev) - 1);
			before[strlen(dev) - 1] = '\0';
			cJSON_SetValuestring((cJSON *)cursor, before);
		}
		if(!rc) rc = c2d_job_save(c2d, job, rec);
		if(!rc) c2d_log(C2D_LOG_INFO, "continuous job '%s': device '%s' matches now", job, dev);
	}
	cJSON_Delete(rec);
	return rc;
}

struct walk {
	struct c2d *c2d;
	const char *dev;
	int rc;
};

static int walk_one(void *ud, const char *job)
{
	struct walk *w = ud;
	bool keep;

	w->rc = evaluate(w->c2d, job, w->dev, &keep);
	return w->rc != 0;
}

/* dev against the continuous jobs (only_online: those whose where reads
 * `online`; past CONT_MAX every active job). */
static int evaluate_all(struct c2d *c2d, const char *dev, bool only_online)
{
	struct walk w = {c2d, dev, 0};
	size_t i = 0;
	bool keep;
	int rc;

	if(cont.overflow){
		rc = c2d_store_job_scan(c2d->store, NULL, true, walk_one, &w);
		return rc ? rc : w.rc;
	}
	while(i < cont.n){
		if(only_online && !cont.reads_online[i]){
			i++;
			continue;
		}
		rc = evaluate(c2d, cont.job[i], dev, &keep);
		if(rc) return rc;
		if(keep) i++;
		else drop(i);
	}
	return 0;
}

static int on_device(struct c2d *c2d, const char *dev)
{
	return evaluate_all(c2d, dev, false);
}

int c2d_jobcont_on_online(struct c2d *c2d, const char *dev)
{
	return c2d_jobcont_wants_online() ? evaluate_all(c2d, dev, true) : 0;
}

static int fill_one(void *ud, const char *job)
{
	struct c2d *c2d = ud;
	cJSON *rec;

	if(c2d_job_load(c2d, job, &rec) == 0 && is_continuous(rec)) c2d_jobcont_add(job, where_of(rec));
	cJSON_Delete(rec);
	return 0;
}

int c2d_jobcont_init(struct c2d *c2d)
{
	memset(&cont, 0, sizeof(cont));
	c2d_jobs_set_device_hook(on_device);
	return c2d_store_job_scan(c2d->store, NULL, true, fill_one, c2d);
}

void c2d_jobcont_cleanup(void)
{
	c2d_jobs_set_device_hook(NULL);
	memset(&cont, 0, sizeof(cont));
}
