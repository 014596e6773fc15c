/* Fleet jobs (protocol-v2 section 3): one action (a twin desired patch, a
 * queued message, a persistent RPC) for many devices, each execution
 * through the device's own plane.
 *
 *   jobspec.c  checking a spec (pure, c2d_jobspec.h)
 *   jobs.c     the admin commands createJob getJob listJobs cancelJob listJobDevices
 *   jobrun.c   the jobs plane: at TICK, resolving a where target, dispatching
 *              under the rollout limits, cancelling, completing, sleeping
 *   jobact.c   one execution handed to its device's plane
 *   jobexec.c  executions and the job record's counts; the planes' final
 *              transitions (queue item final, twin acknowledged) land here
 *
 * jobexec.c calls only the store and events, so that the queue and twin
 * planes can call it without a cycle; jobrun.c and jobact.c call the
 * planes. */
#ifndef C2D_JOBS_H
#define C2D_JOBS_H

#include "c2d.h"

/* Execution states (the order is the counts' order in getJob). */
enum c2d_jx_state {
	C2D_JX_QUEUED,
	C2D_JX_IN_PROGRESS,
	C2D_JX_SUCCEEDED,
	C2D_JX_FAILED,
	C2D_JX_TIMED_OUT,
	C2D_JX_EXPIRED,
	C2D_JX_CANCELLED,
	C2D_JX_REJECTED,
	C2D_JX__COUNT
};

/* Job states that end a job, for the counters. */
enum c2d_js_final {
	C2D_JS_COMPLETED,
	C2D_JS_CANCELLED,
	C2D_JS_ABORTED,
	C2D_JS_EXPIRED,
	C2D_JS__COUNT
};

/* What happened since the broker started (jobexec.c; stats). */
struct c2d_jobs_counters {
	uint64_t created;
	uint64_t jobs[C2D_JS__COUNT];      /* jobs that ended so */
	uint64_t dispatched;               /* executions handed to a plane */
	uint64_t ended[C2D_JX__COUNT];     /* executions that ended in each final state */
};

extern const struct c2d_plane c2d_jobs_plane;

const struct c2d_jobs_counters *c2d_jobs_counters(void);
void c2d_jobs_count_created(void);

/* A device was created or its twin or info changed (twin.c, hello.c, in
 * the transaction that changed it): continuous jobs it now matches give it
 * an execution (jobcont.c registers the hook at init). 0 or a store error. */
int c2d_jobs_on_device_change(struct c2d *c2d, const char *dev);
void c2d_jobs_set_device_hook(int (*hook)(struct c2d *c2d, const char *dev));

/* "queued", "in_progress", ...; NULL if out of range. */
const char *c2d_jx_state_name(int state);
/* The state of that name, or -1. name borrowed. */
int c2d_jx_state_of(const char *name);

/* The job record, parsed (caller owns *rec). C2D_ENOTFOUND, C2D_EINVAL
 * (damaged, logged) or a store error. */
int c2d_job_load(struct c2d *c2d, const char *job, cJSON **rec);
/* Store rec (borrowed) as the job's record in the open transaction; an
 * active job that slept is due again (c2d_store_job_wake). */
int c2d_job_save(struct c2d *c2d, const char *job, const cJSON *rec);
/* The record's member name as a string (borrowed; "" if it is not one),
 * as a number (0 if not one); set it to v (consumed), replacing it. */
const char *c2d_jrec_str(const cJSON *rec, const char *name);
double c2d_jrec_num(const cJSON *rec, const char *name);
void c2d_jrec_set(cJSON *rec, const char *name, cJSON *v);
/* Hand dev's queued execution x (updated) of job (record rec, borrowed,
 * its counts updated) to the device's own plane (jobact.c): a twin
 * desired patch, a queued message or a persistent RPC; x ends
 * in_progress, succeeded (a twin already acknowledged) or rejected (a
 * full queue). 0 or a store error. */
int c2d_job_dispatch_one(struct c2d *c2d, const char *job, cJSON *rec, const char *dev, struct c2d_jexec *x);
/* rec's "state" (borrowed from rec; "" if none). */
const char *c2d_job_state(const cJSON *rec);
/* {"job","state","total","counts"} of rec (borrowed): new object or NULL. */
cJSON *c2d_job_summary(const char *job, const cJSON *rec);
/* End the job in state ("completed", "cancelled", "aborted", "expired"):
 * finished now, rec (borrowed, updated) saved, c2d.job.{state} published
 * with the summary. All but completed also set "cleanup": jobrun.c then
 * ends the queued executions (cancelled, or expired for an expired job)
 * and cancels the queue items not yet sent, in slices. */
int c2d_job_finish(struct c2d *c2d, const char *job, cJSON *rec, const char *state);
/* The count of state in rec (borrowed). */
double c2d_job_count(const cJSON *rec, int state);
/* Move dev's execution x (updated in place) of job to state with status
 * (0: none), updating rec's counts (borrowed, the caller saves it), and
 * publish the per-device event c2d.job.execution. */
int c2d_jobx_move(struct c2d *c2d, const char *job, const char *dev, cJSON *rec, struct c2d_jexec *x,
		int state, int status);

/* The queue's final transition of item (dev, seq) (qmove.c), in the same
 * transaction: if a job made the item, its execution ends in the state the
 * queue state qstate (C2D_QS_*) maps to. 0 or a store error. */
int c2d_jobs_on_queue_final(struct c2d *c2d, const char *dev, uint64_t seq, int qstate, int status);
/* The device acknowledged desired version `version` (twin.c): twin
 * executions waiting for this version or an older one succeed. */
int c2d_jobs_on_twin_ack(struct c2d *c2d, const char *dev, uint64_t version);

/* Admin commands (jobs.c): cmd borrowed, data filled; NULL or the error
 * (valid until the next call); *status: the status the response carries. */
const char *c2d_jobs_create(struct c2d *c2d, const cJSON *cmd, cJSON *data);
const char *c2d_jobs_get(struct c2d *c2d, const cJSON *cmd, cJSON *data);
const char *c2d_jobs_list(struct c2d *c2d, const cJSON *cmd, cJSON *data);
const char *c2d_jobs_cancel(struct c2d *c2d, const cJSON *cmd, cJSON *data);
const char *c2d_jobs_list_devices(struct c2d *c2d, const cJSON *cmd, cJSON *data);

/* Statistics (jobs.c): {"running","scheduled" (the active jobs now),
 * "created","completed","cancelled","aborted","expired" (jobs since the
 * broker started), "executions":{"dispatched","succeeded","failed",
 * "timed_out","expired","cancelled","rejected"}} as a new object (or
 * NULL); the same through pub as "jobs/running", "jobs/executions/failed"
 * ... ($SYS/broker/c2d/jobs/...). */
cJSON *c2d_jobs_stats(struct c2d *c2d);
void c2d_jobs_stats_each(struct c2d *c2d, void (*pub)(struct c2d *c2d, const char *name, uint64_t value));

#endif
