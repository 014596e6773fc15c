/* Plugin options (plugin_opt_<name> <value>). Pure: no broker, no LMDB. */
#ifndef C2D_CONF_H
#define C2D_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum c2d_sync {
	C2D_SYNC_FULL = 0,   /* fsync per commit */
	C2D_SYNC_META,       /* MDB_NOMETASYNC */
	C2D_SYNC_PERIODIC,   /* MDB_NOSYNC + sync every sync_interval ms */
};

/* Whose name a device's client id must be (identity). */
enum c2d_identity {
	C2D_ID_CLIENTID = 0, /* any client id (the broker's authentication decides) */
	C2D_ID_USERNAME,     /* client id == the CONNECT username */
	C2D_ID_CERTIFICATE,  /* client id == the CN of the TLS client certificate */
};

/* The most verbose plugin log lines written (log_level); C2D_LOG_ERR + value. */
enum c2d_log_level {
	C2D_LL_ERROR = 0,
	C2D_LL_WARNING,
	C2D_LL_NOTICE,
	C2D_LL_INFO,
	C2D_LL_DEBUG,
};

/* Event families (events): the kind in $c2d/{dev}/events/{kind}; job also
 * covers $c2d/$jobs/{job}/events. Bit 1 << family in c2d_conf.events. */
enum c2d_event_family {
	C2D_EVF_PRESENCE = 0,
	C2D_EVF_TWIN,
	C2D_EVF_MSG,
	C2D_EVF_RPC,
	C2D_EVF_DEVICE,
	C2D_EVF_GATEWAY,
	C2D_EVF_JOB,
	C2D_EVF_COUNT,
};

#define C2D_EVENTS_ALL ((1u << C2D_EVF_COUNT) - 1)

struct c2d_conf {
	char *db_path;               /* required; owned (free with c2d_conf_free) */
	uint64_t map_size_mib;       /* map_size, MiB, default 1024, 1..1048576 */
	enum c2d_sync sync;          /* sync: full|meta|periodic, default full */
	uint32_t sync_interval_ms;   /* sync_interval, default 100, 1..60000 */
	uint32_t twin_max_bytes;     /* default 32768, 64..16777216 */
	uint32_t twin_max_depth;     /* default 10, 1..64 */
	uint32_t msg_ttl_s;          /* default 3600, 1..msg_ttl_max */
	uint32_t msg_ttl_max_s;      /* default 604800, 1..31536000 */
	uint32_t msg_queue_max;      /* default 1000, 1..10000000 */
	uint32_t msg_inflight;       /* default 16, 1..65535 */
	uint32_t msg_max_deliveries; /* default 10, 1..1000 */
	uint32_t ack_timeout_s;      /* default 30, 1..86400 */
	uint32_t rpc_timeout_ms;     /* default 10000, rpc_timeout_min..rpc_timeout_max */
	uint32_t rpc_timeout_min_ms; /* default 100, 1..rpc_timeout_max */
	uint32_t rpc_timeout_max_ms; /* default 300000, ..86400000 */
	uint32_t rpc_ttl_s;          /* default 3600, 1..msg_ttl_max */
	uint32_t rpc_retries_max;    /* default 5, 0..100 */
	uint32_t rpc_inflight;       /* lightweight RPCs in flight per device, default 16, 1..65535 */
	uint32_t stats_interval_s;   /* $SYS statistics period, default 10, 0 = off, ..86400 */
	uint32_t history_ttl_s;      /* finished queue items kept, default 86400, 0 = none, ..msg_ttl_max */
	enum c2d_identity identity;  /* identity: clientid|username|certificate, default clientid */
	uint32_t calls_inflight;     /* device calls waiting per device, default 16, 1..65535 */
	enum c2d_log_level log_level; /* log_level: error|warning|notice|info|debug, default info */
	uint32_t sweep_share;        /* sweep_share: % of each 100 ms window the expiry sweep may use, default 10, 1..100 */
	uint32_t job_share;          /* job_share: % of each 100 ms window the jobs' slices may use, default 20, 1..100 */
	uint32_t events;             /* events: all|none|family,family..., default all; bit 1 << enum c2d_event_family */
};

/* One option as the broker passes it (same layout as struct mosquitto_opt). */
struct c2d_opt {
	const char *key;
	const char *value;
};

/* Fill *conf with defaults. */
void c2d_conf_defaults(struct c2d_conf *conf);

/* Parse options (borrowed) into *conf (defaults first, then each option).
 * Keys are option names without the "plugin_opt_" prefix, as the broker passes them.
 * A repeated key: the last value wins (earlier ones are not checked). *conf must
 * not own a db_path on entry (it is overwritten, not freed).
 * Returns 0, or C2D_EINVAL with a one-line reason in err naming the option
 * ("plugin_opt_msg_ttl: '-3' is not a whole number in 1..604800"): unknown
 * names, empty or invalid values, out-of-range numbers, a missing db_path,
 * inconsistent bounds (rpc_timeout outside [min,max], msg_ttl > msg_ttl_max),
 * checked on the final values, defaults included; or C2D_ENOMEM if db_path
 * cannot be copied. err is truncated to errlen (NULL with errlen 0: no text).
 * On error *conf holds the defaults again and owns nothing. */
int c2d_conf_parse(struct c2d_conf *conf, const struct c2d_opt *opts, int count, char *err, size_t errlen);

/* Free what c2d_conf_parse allocated (db_path). Safe on defaults. */
void c2d_conf_free(struct c2d_conf *conf);

/* A whole decimal number in [min, max]: digits only (leading zeros allowed),
 * at least one, no sign or space. s: borrowed. On success *out is set and
 * true returned; otherwise *out is untouched. Options, user properties and
 * other numbers from the outside all go through here. */
bool c2d_conf_parse_uint(const char *s, uint32_t min, uint32_t max, uint32_t *out);

/* Whether events of kind (borrowed: "twin", "msg", ...; see enum
 * c2d_event_family) are published under conf. A kind not in the list is on. */
bool c2d_conf_event_on(const struct c2d_conf *conf, const char *kind);

/* "full", "meta", "periodic" */
const char *c2d_conf_sync_name(enum c2d_sync sync);
/* "clientid", "username", "certificate" */
const char *c2d_conf_identity_name(enum c2d_identity identity);

#endif
