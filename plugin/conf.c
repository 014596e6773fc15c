/* Plugin options (protocol.md, "Options"). Pure: no broker, no LMDB.
 *
 * One table describes every option. Parsing runs in two passes: the first
 * maps each given key to its table row (unknown keys fail, a repeated key's
 * last value wins), the second walks the table in order and converts and
 * checks each value. Rows whose bounds come from other options (msg_ttl <=
 * msg_ttl_max, rpc_timeout_min <= rpc_timeout <= rpc_timeout_max, ...) come
 * after those options, so a bound is final and valid when it is used, and the
 * cross checks are ordinary range checks with the right range in the message. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c2d_conf.h"
#include "c2d_err.h"

#define P "plugin_opt_"

enum opt_type {
	T_STR,   /* char *, copied; required and non-empty */
	T_U32,
	T_U64,
	T_ENUM,  /* an enum field, one of names[] */
	T_FLAGS, /* a uint32_t bit set: "all", "none" or a comma list of names[] (bit = index) */
};

struct opt {
	const char *name;
	enum opt_type type;
	size_t off;           /* of the field in struct c2d_conf */
	uint64_t min, max;
	const char *min_opt;  /* if set, the lower bound is this (earlier) option's value */
	const char *max_opt;  /* if set, the upper bound is this (earlier) option's value */
	const char *const *names; /* T_ENUM, T_FLAGS: the values' names, by value, NULL-terminated */
};

#define F(field) offsetof(struct c2d_conf, field)

static const char *const sync_names[] = {
	[C2D_SYNC_FULL] = "full",
	[C2D_SYNC_META] = "meta",
	[C2D_SYNC_PERIODIC] = "periodic",
	NULL,
};

static const char *const identity_names[] = {
	[C2D_ID_CLIENTID] = "clientid",
	[C2D_ID_USERNAME] = "username",
	[C2D_ID_CERTIFICATE] = "certificate",
	NULL,
};

static const char *const log_level_names[] = {
	[C2D_LL_ERROR] = "error",
	[C2D_LL_WARNING] = "warning",
	[C2D_LL_NOTICE] = "notice",
	[C2D_LL_INFO] = "info",
	[C2D_LL_DEBUG] = "debug",
	NULL,
};

static const char *const event_names[] = {
	[C2D_EVF_PRESENCE] = "presence",
	[C2D_EVF_TWIN] = "twin",
	[C2D_EVF_MSG] = "msg",
	[C2D_EVF_RPC] = "rpc",
	[C2D_EVF_DEVICE] = "device",
	[C2D_EVF_GATEWAY] = "gateway",
	[C2D_EVF_JOB] = "job",
	NULL,
};

static const struct opt opts_table[] = {
	{"db_path", T_STR, F(db_path), 0, 0, NULL, NULL, NULL},
	{"map_size", T_U64, F(map_size_mib), 1, 1048576, NULL, NULL, NULL},
	{"sync", T_ENUM, F(sync), 0, 0, NULL, NULL, sync_names},
	{"sync_interval", T_U32, F(sync_interval_ms), 1, 60000, NULL, NULL, NULL},
	{"twin_max_bytes", T_U32, F(twin_max_bytes), 64, 16777216, NULL, NULL, NULL},
	{"twin_max_depth", T_U32, F(twin_max_depth), 1, 64, NULL, NULL, NULL},
	{"msg_ttl_max", T_U32, F(msg_ttl_max_s), 1, 31536000, NULL, NULL, NULL},
	{"msg_ttl", T_U32, F(msg_ttl_s), 1, 0, NULL, "msg_ttl_max", NULL},
	{"msg_queue_max", T_U32, F(msg_queue_max), 1, 10000000, NULL, NULL, NULL},
	{"msg_inflight", T_U32, F(msg_inflight), 1, 65535, NULL, NULL, NULL},
	{"msg_max_deliveries", T_U32, F(msg_max_deliveries), 1, 1000, NULL, NULL, NULL},
	{"ack_timeout", T_U32, F(ack_timeout_s), 1, 86400, NULL, NULL, NULL},
	{"rpc_timeout_max", T_U32, F(rpc_timeout_max_ms), 1, 86400000, NULL, NULL, NULL},
	{"rpc_timeout_min", T_U32, F(rpc_timeout_min_ms), 1, 0, NULL, "rpc_timeout_max", NULL},
	{"rpc_timeout", T_U32, F(rpc_timeout_ms), 0, 0, "rpc_timeout_min", "rpc_timeout_max", NULL},
	{"rpc_ttl", T_U32, F(rpc_ttl_s), 1, 0, NULL, "msg_ttl_max", NULL},
	{"rpc_retries_max", T_U32, F(rpc_retries_max), 0, 100, NULL, NULL, NULL},
	{"rpc_inflight", T_U32, F(rpc_inflight), 1, 65535, NULL, NULL, NULL},
	{"stats_interval", T_U32, F(stats_interval_s), 0, 86400, NULL, NULL, NULL},
	{"history_ttl", T_U32, F(history_ttl_s), 0, 0, NULL, "msg_ttl_max", NULL},
	{"identity", T_ENUM, F(identity), 0, 0, NULL, NULL, identity_names},
	{"calls_inflight", T_U32, F(calls_inflight), 1, 65535, NULL, NULL, NULL},
	{"log_level", T_ENUM, F(log_level), 0, 0, NULL, NULL, log_level_names},
	{"sweep_share", T_U32, F(sweep_share), 1, 100, NULL, NULL, NULL},
	{"job_share", T_U32, F(job_share), 1, 100, NULL, NULL, NULL},
	{"events", T_FLAGS, F(events), 0, 0, NULL, NULL, event_names},
};

#define OPT_COUNT (sizeof(opts_table) / sizeof(opts_table[0]))


void c2d_conf_defaults(struct c2d_conf *conf)
{
	memset(conf, 0, sizeof(*conf));
	conf->map_size_mib = 1024;
	conf->sync = C2D_SYNC_FULL;
	conf->sync_interval_ms = 100;
	conf->twin_max_bytes = 32768;
	conf->twin_max_depth = 10;
	conf->msg_ttl_s = 3600;
	conf->msg_ttl_max_s = 604800;
	conf->msg_queue_max = 1000;
	conf->msg_inflight = 16;
	conf->msg_max_deliveries = 10;
	conf->ack_timeout_s = 30;
	conf->rpc_timeout_ms = 10000;
	conf->rpc_timeout_min_ms = 100;
	conf->rpc_timeout_max_ms = 300000;
	conf->rpc_ttl_s = 3600;
	conf->rpc_retries_max = 5;
	conf->rpc_inflight = 16;
	conf->stats_interval_s = 10;
	conf->history_ttl_s = 86400;
	conf->identity = C2D_ID_CLIENTID;
	conf->calls_inflight = 16;
	conf->log_level = C2D_LL_INFO;
	conf->sweep_share = 10;
	conf->job_share = 20;
	conf->events = C2D_EVENTS_ALL;
}

void c2d_conf_free(struct c2d_conf *conf)
{
	free(conf->db_path);
	conf->db_path = NULL;
}

static const char *enum_name(const char *const *names, size_t count, unsigned v)
{
	return v < count ? names[v] : "?";
}

const char *c2d_conf_sync_name(enum c2d_sync sync)
{
	return enum_name(sync_names, sizeof(sync_names) / sizeof(sync_names[0]) - 1, (unsigned)sync);
}

const char *c2d_conf_identity_name(enum c2d_identity identity)
{
	return enum_name(identity_names, sizeof(identity_names) / sizeof(identity_names[0]) - 1, (unsigned)identity);
}

/* The table row named name (borrowed), or NULL. */
static const struct opt *find(const char *name)
{
	size_t i;

	for(i = 0; name && i < OPT_COUNT; i++){
		if(strcmp(opts_table[i].name, name) == 0) return &opts_table[i];
	}
	return NULL;
}

static uint64_t get_num(const struct c2d_conf *conf, const struct opt *o)
{
	const char *f = (const char *)conf + o->off;

	if(o->type == T_U64) return *(const uint64_t *)(const void *)f;
	return *(const uint32_t *)(const void *)f;
}

static void set_num(struct c2d_conf *conf, const struct opt *o, uint64_t v)
{
	char *f = (char *)conf + o->off;

	if(o->type == T_U64){
		*(uint64_t *)(void *)f = v;
	}else{
		*(uint32_t *)(void *)f = (uint32_t)v;
	}
}

bool c2d_conf_parse_uint(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v = 0;

	if(s == NULL || *s == '\0') return false;
	for(; *s; s++){
		if(*s < '0' || *s > '9') return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if(v > max) return false; /* also keeps v far from overflowing */
	}
	if(v < min) return false;
	*out = (uint32_t)v;
	return true;
}

/* Check and store one number option. value: borrowed, NULL when the option was
 * not given (then the default already in *conf is checked). */
static int set_number(struct c2d_conf *conf, const struct opt *o, const char *value, char *err, size_t errlen)
{
	uint64_t v, lo = o->min, hi = o->max;
	uint32_t v32;
	char bounds[96] = "";

	if(o->min_opt) lo = get_num(conf, find(o->min_opt));
	if(o->max_opt) hi = get_num(conf, find(o->max_opt));
	if(o->min_opt && o->max_opt){
		snprintf(bounds, sizeof(bounds), " (the bounds are " P "%s and " P "%s)", o->min_opt, o->max_opt);
	}else if(o->max_opt){
		snprintf(bounds, sizeof(bounds), " (the upper bound is " P "%s)", o->max_opt);
	}
	if(value == NULL){
		v = get_num(conf, o);
		if(v >= lo && v <= hi) return 0;
		snprintf(err, errlen, P "%s: the default %" PRIu64 " is not in %" PRIu64 "..%" PRIu64 "%s; set " P "%s",
				o->name, v, lo, hi, bounds, o->name);
		return C2D_EINVAL;
	}
	/* every bound in the table fits in 32 bits (map_size's too) */
	if(hi > UINT32_MAX) hi = UINT32_MAX;
	if(!c2d_conf_parse_uint(value, (uint32_t)lo, (uint32_t)hi, &v32)){
		snprintf(err, errlen, P "%s: '%s' is not a whole number in %" PRIu64 "..%" PRIu64 "%s",
				o->name, value, lo, hi, bounds);
		return C2D_EINVAL;
	}
	set_num(conf, o, v32);
	return 0;
}

/* "a, b, c" from names (NULL-terminated) into list, truncated to len. */
static void names_list(const char *const *names, char *list, size_t len)
{
	size_t i, used = 0;

	list[0] = '\0';
	for(i = 0; names[i] && used < len; i++){
		used += (size_t)snprintf(list + used, len - used, "%s%s", i ? ", " : "", names[i]);
	}
}

/* An enum option: value (borrowed) must be one of o->names. */
static int set_enum(struct c2d_conf *conf, const struct opt *o, const char *value, char *err, size_t errlen)
{
	char list[128];
	size_t i;

	for(i = 0; o->names[i]; i++){
		if(strcmp(value, o->names[i]) == 0){
			*(int *)(void *)((char *)conf + o->off) = (int)i;
			return 0;
		}
	}
	names_list(o->names, list, sizeof(list));
	snprintf(err, errlen, P "%s: '%s' is not one of %s", o->name, value, list);
	return C2D_EINVAL;
}

/* A flags option: value (borrowed) is "all", "none" or names of o->names
 * separated by commas (no spaces, none empty, repeats allowed). */
static int set_flags(struct c2d_conf *conf, const struct opt *o, const char *value, char *err, size_t errlen)
{
	uint32_t *field = (uint32_t *)(void *)((char *)conf + o->off);
	uint32_t bits = 0;
	const char *s = value, *end;
	size_t i, n;

	if(strcmp(value, "none") == 0){
		*field = 0;
		return 0;
	}
	for(i = 0; o->names[i]; i++) bits |= 1u << i;
	if(strcmp(value, "all") == 0){
		*field = bits;
		return 0;
	}
	bits = 0;
	for(;;){
		end = strchr(s, ',');
		n = end ? (size_t)(end - s) : strlen(s);
		for(i = 0; o->names[i]; i++){
			if(strlen(o->names[i]) == n && strncmp(s, o->names[i], n) == 0) break;
		}
		if(o->names[i] == NULL){
			char list[128];

			names_list(o->names, list, sizeof(list));
			snprintf(err, errlen, P "%s: '%.*s' in '%s' is not one of all, none or a comma list of %s",
					o->name, (int)n, s, value, list);
			return C2D_EINVAL;
		}
		bits |= 1u << i;
		if(end == NULL) break;
		s = end + 1;
	}
	*field = bits;
	return 0;
}

bool c2d_conf_event_on(const struct c2d_conf *conf, const char *kind)
{
	size_t i;

	for(i = 0; i < C2D_EVF_COUNT; i++){
		if(strcmp(kind, event_names[i]) == 0) return (conf->events >> i) & 1u;
	}
	return true;
}

/* A required string option. value: borrowed, copied into the field. */
static int set_string(struct c2d_conf *conf, const struct opt *o, const char *value, char *err, size_t errlen)
{
	char **field = (char **)(void *)((char *)conf + o->off);

	if(value == NULL){
		snprintf(err, errlen, P "%s: missing (it is required)", o->name);
		return C2D_EINVAL;
	}
	if(value[0] == '\0'){
		snprintf(err, errlen, P "%s: must not be empty", o->name);
		return C2D_EINVAL;
	}
	*field = strdup(value);
	if(*field == NULL){
		snprintf(err, errlen, P "%s: out of memory", o->name);
		return C2D_ENOMEM;
	}
	return 0;
}

/* One row of the table: value (borrowed) is the last one given, or NULL. */
static int set_option(struct c2d_conf *conf, const struct opt *o, const char *value, char *err, size_t errlen)
{
	switch(o->type){
		case T_STR:
			return set_string(conf, o, value, err, errlen);
		case T_ENUM:
			return value ? set_enum(conf, o, value, err, errlen) : 0;
		case T_FLAGS:
			return value ? set_flags(conf, o, value, err, errlen) : 0;
		case T_U32:
		case T_U64:
			break;
	}
	return set_number(conf, o, value, err, errlen);
}

/* opts: borrowed; conf: filled, owns db_path on success; err: one line on
 * failure (truncated to errlen, may be NULL with errlen 0). Returns 0,
 * C2D_EINVAL or C2D_ENOMEM (db_path could not be copied). On failure *conf
 * holds the defaults and owns nothing. */
int c2d_conf_parse(struct c2d_conf *conf, const struct c2d_opt *opts, int count, char *err, size_t errlen)
{
	const char *given[OPT_COUNT] = {NULL};
	const struct opt *o;
	char dummy[1];
	size_t i;
	int rc;

	if(err == NULL || errlen == 0){
		err = dummy;
		errlen = sizeof(dummy);
	}
	err[0] = '\0';
	c2d_conf_defaults(conf);
	for(i = 0; opts && i < (size_t)(count > 0 ? count : 0); i++){
		o = find(opts[i].key);
		if(o == NULL){
			snprintf(err, errlen, P "%s: unknown option", opts[i].key ? opts[i].key : "(null)");
			return C2D_EINVAL;
		}
		given[o - opts_table] = opts[i].value ? opts[i].value : "";
	}
	for(i = 0; i < OPT_COUNT; i++){
		rc = set_option(conf, &opts_table[i], given[i], err, errlen);
		if(rc){
			c2d_conf_free(conf);
			c2d_conf_defaults(conf);
			return rc;
		}
	}
	return 0;
}
