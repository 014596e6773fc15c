/* Fleet job specifications: checking a createJob command (c2d_jobspec.h).
 * Pure: no broker, no store. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "c2d_jobspec.h"
#include "c2d_query.h"
#include "c2d_topic.h"

bool c2d_jobspec_valid_id(const char *id)
{
	size_t i, n;

	if(id == NULL) return false;
	n = strnlen(id, C2D_JOB_MAX + 1);
	if(n == 0 || n > C2D_JOB_MAX) return false;
	for(i = 0; i < n; i++){
		char c = id[i];

		if(!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
				|| c == '_' || c == '.' || c == '-')) return false;
	}
	return true;
}

static int b64val(int c)
{
	if(c >= 'A' && c <= 'Z') return c - 'A';
	if(c >= 'a' && c <= 'z') return c - 'a' + 26;
	if(c >= '0' && c <= '9') return c - '0' + 52;
	if(c == '+') return 62;
	if(c == '/') return 63;
	return -1;
}

long c2d_jobspec_b64decode(const char *s, unsigned char **out)
{
	size_t n = strlen(s), i, o = 0, pad = 0;
	unsigned char *buf;

	*out = NULL;
	if(n % 4) return -1;
	if(n && s[n - 1] == '=') pad++;
	if(n > 1 && s[n - 2] == '=') pad++;
	buf = malloc(n / 4 * 3 + 1);
	if(buf == NULL) return -1;
	for(i = 0; i < n; i += 4){
		int v[4], k;

		for(k = 0; k < 4; k++){
			bool padded = i + (size_t)k >= n - pad;

			v[k] = padded ? 0 : b64val((unsigned char)s[i + k]);
			if(v[k] < 0 || (padded && s[i + k] != '=')){
				free(buf);
				return -1;
			}
		}
		buf[o++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		buf[o++] = (unsigned char)(v[1] << 4 | v[2] >> 2);
		buf[o++] = (unsigned char)(v[2] << 6 | v[3]);
	}
	o -= pad;
	buf[o] = '\0';
	*out = buf;
	return (long)o;
}

__attribute__((format(printf, 3, 4)))
static int fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* Optional whole number member name of o in lo..hi into *v (untouched when
 * absent). 0, or -1 with why. */
static int opt_uint(const cJSON *o, const char *name, uint32_t lo, uint32_t hi, uint32_t *v,
		const char *where, char *why, size_t len)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, name);

	if(j == NULL) return 0;
	if(!cJSON_IsNumber(j) || j->valuedouble < lo || j->valuedouble > hi || j->valuedouble != (double)(uint32_t)j->valuedouble){
		return fail(why, len, "%s.%s must be a whole number in %u..%u", where, name, lo, hi);
	}
	*v = (uint32_t)j->valuedouble;
	return 0;
}

/* Exactly one member of o (an object) and it is an object: *name, *val. */
static int one_member(const cJSON *o, const char *what, const cJSON **val, char *why, size_t len)
{
	if(!cJSON_IsObject(o)) return fail(why, len, "%s must be an object", what);
	if(o->child == NULL || o->child->next) return fail(why, len, "%s must have exactly one member", what);
	*val = o->child;
	return 0;
}

static int by_string(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A device listed twice in v (n ids, all strings): sorted copies of the
 * pointers, adjacent equals (n log n: a list may hold 10000). */
static int check_unique(const cJSON *v, size_t n, char *why, size_t len)
{
	const char **ids;
	const cJSON *d;
	size_t i = 0;
	int rc = 0;

	if(n < 2) return 0;
	ids = malloc(n * sizeof(*ids));
	if(ids == NULL) return fail(why, len, "out of memory checking target.devices");
	cJSON_ArrayForEach(d, v) ids[i++] = d->valuestring;
	qsort(ids, n, sizeof(*ids), by_string);
	for(i = 1; i < n && rc == 0; i++){
		if(strcmp(ids[i - 1], ids[i]) == 0) rc = fail(why, len, "target.devices lists '%s' twice", ids[i]);
	}
	free(ids);
	return rc;
}

static int check_target(const cJSON *target, struct c2d_jobspec *s, char *why, size_t len)
{
	const cJSON *v, *d;
	size_t n = 0;

	if(one_member(target, "target", &v, why, len)) return -1;
	if(strcmp(v->string, "where") == 0){
		if(c2d_query_check(v, why, len)) return -1;
		s->where = v;
		return 0;
	}
	if(strcmp(v->string, "devices") != 0) return fail(why, len, "target must be {\"devices\":[...]} or {\"where\":{...}}");
	if(!cJSON_IsArray(v)) return fail(why, len, "target.devices must be an array of device ids");
	cJSON_ArrayForEach(d, v){
		if(!cJSON_IsString(d) || !c2d_topic_valid_dev(d->valuestring, strlen(d->valuestring))){
			return fail(why, len, "target.devices[%zu] is not a valid device id", n);
		}
		if(++n > C2D_JOB_DEVICES_MAX) return fail(why, len, "target.devices has more than %d ids: use tags and where", C2D_JOB_DEVICES_MAX);
	}
	if(check_unique(v, n, why, len)) return -1;
	s->devices = v;
	return 0;
}

static int check_msg(const cJSON *m, const struct c2d_conf *cf, struct c2d_jobspec *s, char *why, size_t len)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(m, "payload");
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(m, "payloadBase64");
	const cJSON *ct = cJSON_GetObjectItemCaseSensitive(m, "contentType");
	unsigned char *bytes;

	if((p == NULL) == (b == NULL)) return fail(why, len, "action.msg needs exactly one of payload and payloadBase64");
	if(p && !cJSON_IsString(p)) return fail(why, len, "action.msg.payload must be a string");
	if(b){
		if(!cJSON_IsString(b) || c2d_jobspec_b64decode(b->valuestring, &bytes) < 0){
			return fail(why, len, "action.msg.payloadBase64 is not base64");
		}
		free(bytes);
	}
	if(ct && !cJSON_IsString(ct)) return fail(why, len, "action.msg.contentType must be a string");
	s->ttl_s = cf->msg_ttl_s;
	return opt_uint(m, "ttl", 1, cf->msg_ttl_max_s, &s->ttl_s, "action.msg", why, len);
}

static int check_rpc(const cJSON *r, const struct c2d_conf *cf, struct c2d_jobspec *s, char *why, size_t len)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(r, "method");

	if(!cJSON_IsString(m) || !c2d_topic_valid_name(m->valuestring, strlen(m->valuestring))){
		return fail(why, len, "action.rpc.method must be a method name");
	}
	s->ttl_s = cf->rpc_ttl_s;
	s->timeout_ms = cf->rpc_timeout_ms;
	s->retries = 0;
	if(opt_uint(r, "ttl", 1, cf->msg_ttl_max_s, &s->ttl_s, "action.rpc", why, len)) return -1;
	if(opt_uint(r, "timeout", cf->rpc_timeout_min_ms, cf->rpc_timeout_max_ms, &s->timeout_ms, "action.rpc", why, len)){
		return -1;
	}
	return opt_uint(r, "retries", 0, cf->rpc_retries_max, &s->retries, "action.rpc", why, len);
}

static int check_action(const cJSON *action, const struct c2d_conf *cf, struct c2d_jobspec *s, char *why, size_t len)
{
	const cJSON *v, *d;

	if(one_member(action, "action", &v, why, len)) return -1;
	if(!cJSON_IsObject(v)) return fail(why, len, "action.%s must be an object", v->string);
	s->body = v;
	if(strcmp(v->string, "twin") == 0){
		s->action = C2D_JA_TWIN;
		d = cJSON_GetObjectItemCaseSensitive(v, "desired");
		if(!cJSON_IsObject(d) || d->child == NULL) return fail(why, len, "action.twin.desired must be a non-empty object (a merge patch)");
		if(cJSON_GetObjectItemCaseSensitive(d, "$version")) return fail(why, len, "action.twin.desired may not hold $version");
		return 0;
	}
	if(strcmp(v->string, "msg") == 0){
		s->action = C2D_JA_MSG;
		return check_msg(v, cf, s, why, len);
	}
	if(strcmp(v->string, "rpc") == 0){
		s->action = C2D_JA_RPC;
		return check_rpc(v, cf, s, why, len);
	}
	return fail(why, len, "action must be one of twin, msg and rpc");
}

long long c2d_jobspec_time(const char *s)
{
	struct tm tm;
	int n = 0, ms = 0, digits = 0;
	time_t t;

	if(s == NULL) return -1;
	memset(&tm, 0, sizeof(tm));
	if(sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
			&tm.tm_sec, &n) != 6 || n != 19) return -1;
	if(s[n] == '.'){
		for(n++; s[n] >= '0' && s[n] <= '9'; n++, digits++){
			if(digits < 3) ms = ms * 10 + (s[n] - '0');
		}
		if(digits == 0) return -1;
		for(; digits < 3; digits++) ms *= 10;
	}
	if(strcmp(s + n, "Z") != 0) return -1;
	if(tm.tm_year < 1970 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31
			|| tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59) return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	{
		int mday = tm.tm_mday;

		t = timegm(&tm);
		if(t == (time_t)-1 || tm.tm_mday != mday) return -1; /* 31 February */
	}
	return (long long)t * 1000 + ms;
}

bool c2d_jobspec_abort_due(double failures, double executed, double failed_percent, uint32_t min_executed)
{
	return executed > 0 && executed >= (double)min_executed && failures * 100.0 > failed_percent * executed;
}

static int check_abort(const cJSON *ab, struct c2d_jobspec *s, char *why, size_t len)
{
	const cJSON *fp = cJSON_GetObjectItemCaseSensitive(ab, "failedPercent");
	const cJSON *m;

	if(!cJSON_IsObject(ab)) return fail(why, len, "abort must be an object");
	cJSON_ArrayForEach(m, ab){
		if(strcmp(m->string, "failedPercent") != 0 && strcmp(m->string, "minExecuted") != 0){
			return fail(why, len, "abort.%s is not known (failedPercent, minExecuted)", m->string);
		}
	}
	if(!cJSON_IsNumber(fp) || fp->valuedouble < 0 || fp->valuedouble >= 100){
		return fail(why, len, "abort.failedPercent must be a number in 0..100 (100 excluded)");
	}
	s->has_abort = true;
	s->failed_percent = fp->valuedouble;
	s->min_executed = 1;
	return opt_uint(ab, "minExecuted", 1, 1000000, &s->min_executed, "abort", why, len);
}

/* startAt, expiresIn, continuous. */
static int check_schedule(const cJSON *cmd, struct c2d_jobspec *s, char *why, size_t len)
{
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(cmd, "startAt");
	const cJSON *co = cJSON_GetObjectItemCaseSensitive(cmd, "continuous");
	long long ms;

	if(at){
		if(!cJSON_IsString(at) || (ms = c2d_jobspec_time(at->valuestring)) < 0){
			return fail(why, len, "startAt must be an RFC 3339 UTC time like 2026-12-03T02:00:00Z");
		}
		s->start_at_ms = (uint64_t)ms;
	}
	if(opt_uint(cmd, "expiresIn", 1, C2D_JOB_EXPIRES_MAX, &s->expires_in_s, "job", why, len)) return -1;
	if(co){
		if(!cJSON_IsBool(co)) return fail(why, len, "continuous must be true or false");
		s->continuous = cJSON_IsTrue(co);
	}
	if(s->continuous && s->where == NULL) return fail(why, len, "continuous needs a where target");
	if(s->continuous && s->action == C2D_JA_RPC) return fail(why, len, "continuous is for twin and msg actions");
	return 0;
}

int c2d_jobspec_check(const cJSON *cmd, const struct c2d_conf *conf, struct c2d_jobspec *out,
		char *why, size_t whylen)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(cmd, "job");
	const cJSON *ro = cJSON_GetObjectItemCaseSensitive(cmd, "rollout");
	const cJSON *ab = cJSON_GetObjectItemCaseSensitive(cmd, "abort");

	memset(out, 0, sizeof(*out));
	if(!cJSON_IsString(id) || !c2d_jobspec_valid_id(id->valuestring)){
		return fail(why, whylen, "job must be 1..%d characters of A-Z a-z 0-9 _ . -", C2D_JOB_MAX);
	}
	out->job = id->valuestring;
	if(check_target(cJSON_GetObjectItemCaseSensitive(cmd, "target"), out, why, whylen)) return -1;
	if(check_action(cJSON_GetObjectItemCaseSensitive(cmd, "action"), conf, out, why, whylen)) return -1;
	if(ro){
		if(!cJSON_IsObject(ro)) return fail(why, whylen, "rollout must be an object");
		if(opt_uint(ro, "maxPerMinute", 1, 1000000, &out->max_per_minute, "rollout", why, whylen)) return -1;
		if(opt_uint(ro, "maxInFlight", 1, 1000000, &out->max_in_flight, "rollout", why, whylen)) return -1;
	}
	if(ab && check_abort(ab, out, why, whylen)) return -1;
	return check_schedule(cmd, out, why, whylen);
}

cJSON *c2d_jobspec_stored(const cJSON *cmd, const struct c2d_jobspec *spec)
{
	cJSON *s = cJSON_CreateObject(), *t;

	if(s == NULL) return NULL;
	t = cJSON_AddObjectToObject(s, "target");
	if(t && spec->where) cJSON_AddItemToObject(t, "where", cJSON_Duplicate(spec->where, true));
	if(t && spec->devices) cJSON_AddNumberToObject(t, "devices", cJSON_GetArraySize(spec->devices));
	cJSON_AddItemToObject(s, "action", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(cmd, "action"), true));
	t = cJSON_AddObjectToObject(s, "rollout");
	if(t && spec->max_per_minute) cJSON_AddNumberToObject(t, "maxPerMinute", spec->max_per_minute);
	if(t && spec->max_in_flight) cJSON_AddNumberToObject(t, "maxInFlight", spec->max_in_flight);
	if(spec->has_abort){
		t = cJSON_AddObjectToObject(s, "abort");
		if(t) cJSON_AddNumberToObject(t, "failedPercent", spec->failed_percent);
		if(t) cJSON_AddNumberToObject(t, "minExecuted", spec->min_executed);
	}
	if(spec->start_at_ms){
		cJSON_AddItemToObject(s, "startAt", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(cmd, "startAt"), true));
	}
	if(spec->expires_in_s) cJSON_AddNumberToObject(s, "expiresIn", spec->expires_in_s);
	if(spec->continuous) cJSON_AddTrueToObject(s, "continuous");
	return s;
}
