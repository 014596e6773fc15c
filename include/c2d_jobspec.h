/* Fleet job specifications (jobspec.c, protocol-v2 section 3). Pure: cJSON,
 * the where language (query.c) and the bounds of struct c2d_conf only.
 *
 * A createJob command {"job","target","action","rollout"?} is checked whole:
 * the job id is 1..C2D_JOB_MAX bytes of [A-Za-z0-9_.-]; target is exactly one
 * of {"devices":[ids]} (1..C2D_JOB_DEVICES_MAX valid device ids, no
 * duplicates; an empty list is a job on 0 devices) and {"where":query};
 * action is exactly one of {"twin":{"desired":{patch}}},
 * {"msg":{"payload":"text" | "payloadBase64":"...","contentType"?,"ttl"?}}
 * and {"rpc":{"method","params"?,"timeout"?,"retries"?,"ttl"?}} with the
 * plugin's bounds for ttl, timeout and retries; rollout
 * {"maxPerMinute"?,"maxInFlight"?} are whole numbers >= 1 (absent: no
 * limit); abort {"failedPercent" (0 <= p < 100),"minExecuted"? (>= 1,
 * default 1)}; startAt an RFC 3339 UTC time; expiresIn whole seconds
 * 1..C2D_JOB_EXPIRES_MAX from the start; continuous a boolean, true only
 * with a where target and a twin or msg action. Anything else is refused
 * with a one-line reason. */
#ifndef C2D_JOBSPEC_H
#define C2D_JOBSPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "c2d_conf.h"
#include "c2d_store.h" /* C2D_JOB_MAX */

#define C2D_JOB_DEVICES_MAX 10000
#define C2D_JOB_EXPIRES_MAX 315360000 /* ten years */

enum c2d_job_action {
	C2D_JA_TWIN,
	C2D_JA_MSG,
	C2D_JA_RPC,
};

/* A checked spec; the pointers borrow from the command it was read from. */
struct c2d_jobspec {
	const char *job;
	enum c2d_job_action action;
	const cJSON *where;          /* target by query, or NULL */
	const cJSON *devices;        /* target by list, or NULL */
	const cJSON *body;           /* the action's object ({"desired"...}, msg or rpc) */
	uint32_t max_per_minute;     /* 0: no limit */
	uint32_t max_in_flight;      /* 0: no limit */
	uint32_t ttl_s;              /* msg, rpc */
	uint32_t timeout_ms;         /* rpc */
	uint32_t retries;            /* rpc */
	bool has_abort;
	double failed_percent;       /* abort.failedPercent */
	uint32_t min_executed;       /* abort.minExecuted */
	uint64_t start_at_ms;        /* startAt as wall ms, 0: at once */
	uint32_t expires_in_s;       /* 0: never */
	bool continuous;
};

/* Check cmd (borrowed) against conf's bounds (borrowed) into *out. Returns
 * 0, or -1 with the reason in why. */
int c2d_jobspec_check(const cJSON *cmd, const struct c2d_conf *conf, struct c2d_jobspec *out,
		char *why, size_t whylen);

/* An RFC 3339 UTC time "YYYY-MM-DDTHH:MM:SS[.fff...]Z" as wall ms since
 * 1970, or -1 if s (borrowed) is not one. */
long long c2d_jobspec_time(const char *s);

/* The abort rule: after at least min_executed executions finished as
 * executed (succeeded, failed, timed_out, rejected), are more than
 * failed_percent of them failures (failed, timed_out, rejected)? */
bool c2d_jobspec_abort_due(double failures, double executed, double failed_percent, uint32_t min_executed);

/* Is id a valid job id? */
bool c2d_jobspec_valid_id(const char *id);

/* Decode standard base64 (with padding) s (borrowed) into *out (malloc,
 * caller frees). Returns the length, or -1 if s is not base64 (or no memory). */
long c2d_jobspec_b64decode(const char *s, unsigned char **out);

/* The spec as it is stored (a new object; a device list becomes its
 * length: the list lives in the execution records). NULL on no memory. */
cJSON *c2d_jobspec_stored(const cJSON *cmd, const struct c2d_jobspec *spec);

#endif
