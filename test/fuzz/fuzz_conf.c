/* Fuzz target: plugin option parsing (plugin/conf.c).
 *
 * Input: one option per line, "key value" (split at the first space; a line
 * without a space has a NULL value, a line that is exactly "\x01" a NULL
 * key), at most 64 lines. The first byte also picks the size of the error
 * buffer (0: none), to try truncation.
 *
 * On success every field is inside its documented range and the cross
 * bounds hold; on failure the reason is a non-empty line that fits the
 * buffer and *conf is back to the defaults, owning nothing. Every value is
 * also given to c2d_conf_parse_uint, checked against strtoull. */
#include <errno.h>
#include <limits.h>
#include <stdbool.h>

#include "c2d_conf.h"
#include "c2d_err.h"
#include "fuzz.h"

#define MAX_OPTS 64

static bool in(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v >= lo && v <= hi;
}

static void check_ok(const struct c2d_conf *c)
{
	FUZZ_ASSERT(c->db_path != NULL && c->db_path[0] != '\0');
	FUZZ_ASSERT(in(c->map_size_mib, 1, 1048576));
	FUZZ_ASSERT(c->sync == C2D_SYNC_FULL || c->sync == C2D_SYNC_META || c->sync == C2D_SYNC_PERIODIC);
	FUZZ_ASSERT(strcmp(c2d_conf_sync_name(c->sync), "?") != 0);
	FUZZ_ASSERT(in(c->sync_interval_ms, 1, 60000));
	FUZZ_ASSERT(in(c->twin_max_bytes, 64, 16777216));
	FUZZ_ASSERT(in(c->twin_max_depth, 1, 64));
	FUZZ_ASSERT(in(c->msg_ttl_max_s, 1, 31536000));
	FUZZ_ASSERT(in(c->msg_ttl_s, 1, c->msg_ttl_max_s));
	FUZZ_ASSERT(in(c->msg_queue_max, 1, 10000000));
	FUZZ_ASSERT(in(c->msg_inflight, 1, 65535));
	FUZZ_ASSERT(in(c->msg_max_deliveries, 1, 1000));
	FUZZ_ASSERT(in(c->ack_timeout_s, 1, 86400));
	FUZZ_ASSERT(in(c->rpc_timeout_max_ms, 1, 86400000));
	FUZZ_ASSERT(in(c->rpc_timeout_min_ms, 1, c->rpc_timeout_max_ms));
	FUZZ_ASSERT(in(c->rpc_timeout_ms, c->rpc_timeout_min_ms, c->rpc_timeout_max_ms));
	FUZZ_ASSERT(in(c->rpc_ttl_s, 1, c->msg_ttl_max_s));
	FUZZ_ASSERT(in(c->rpc_retries_max, 0, 100));
	FUZZ_ASSERT(in(c->rpc_inflight, 1, 65535));
	FUZZ_ASSERT(in(c->stats_interval_s, 0, 86400));
	FUZZ_ASSERT(in(c->history_ttl_s, 0, c->msg_ttl_max_s));
}

/* c2d_conf_parse_uint against strtoull: digits only, in [min, max]. */
static void check_uint(const char *s, uint32_t min, uint32_t max)
{
	uint32_t out = 0xA5A5A5A5u;
	bool digits = s[0] != '\0' && strspn(s, "0123456789") == strlen(s);
	unsigned long long v = 0;
	bool want;

	if(digits){
		errno = 0;
		v = strtoull(s, NULL, 10);
		if(errno == ERANGE) v = ULLONG_MAX;
	}
	want = digits && v >= min && v <= max;
	FUZZ_ASSERT(c2d_conf_parse_uint(s, min, max, &out) == want);
	FUZZ_ASSERT(want ? out == v : out == 0xA5A5A5A5u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct c2d_opt opts[MAX_OPTS];
	struct c2d_conf conf, defaults;
	char *text, *p, *nl, *sp, err[300];
	size_t errlen = 0;
	int n = 0, rc;

	if(size > 8192) return 0;
	if(size > 0){
		errlen = data[0] % 80; /* 0: no buffer */
		data++;
		size--;
	}
	text = fuzz_strndup(data, size);
	for(p = text; *p && n < MAX_OPTS; p = nl ? nl + 1 : p + strlen(p)){
		nl = strchr(p, '\n');
		if(nl) *nl = '\0';
		sp = strchr(p, ' ');
		if(sp) *sp = '\0';
		opts[n].key = strcmp(p, "\x01") == 0 ? NULL : p;
		opts[n].value = sp ? sp + 1 : NULL;
		n++;
		if(nl == NULL) break;
	}
	c2d_conf_defaults(&defaults);
	memset(err, 'x', sizeof(err));
	rc = c2d_conf_parse(&conf, opts, n, errlen ? err : NULL, errlen);
	if(rc == 0){
		check_ok(&conf);
		if(errlen) FUZZ_ASSERT(err[0] == '\0');
		c2d_conf_free(&conf);
		FUZZ_ASSERT(conf.db_path == NULL);
		c2d_conf_free(&conf); /* twice is fine */
	}else{
		FUZZ_ASSERT(rc == C2D_EINVAL || rc == C2D_ENOMEM);
		FUZZ_ASSERT(memcmp(&conf, &defaults, sizeof(conf)) == 0);
		if(errlen){
			FUZZ_ASSERT(memchr(err, '\0', errlen) != NULL);
			FUZZ_ASSERT(errlen == 1 || err[0] != '\0');
			FUZZ_ASSERT(err[errlen] == 'x'); /* nothing written past errlen */
		}
	}
	/* no options, or a negative count: db_path is missing */
	FUZZ_ASSERT(c2d_conf_parse(&conf, opts, -n - 1, NULL, 0) == C2D_EINVAL);
	FUZZ_ASSERT(c2d_conf_parse(&conf, NULL, n, err, sizeof(err)) == C2D_EINVAL);
	FUZZ_ASSERT(strstr(err, "db_path") != NULL);
	c2d_conf_sync_name((enum c2d_sync)(size % 7));
	/* each value on its own as a number, with bounds from the input */
	for(rc = 0; rc < n; rc++){
		uint32_t lo = (uint32_t)(size * 2654435761u), hi = (uint32_t)(n * 40503u + size);

		if(opts[rc].value == NULL) continue;
		check_uint(opts[rc].value, 0, UINT32_MAX);
		check_uint(opts[rc].value, 1, 65535);
		check_uint(opts[rc].value, lo < hi ? lo : hi, lo < hi ? hi : lo);
	}
	free(text);
	return 0;
}
