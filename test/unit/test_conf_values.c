/* conf.c, option values: every numeric option over its range (a table: both
 * ends, one past each, leading zeros, what else each needs set to pass the
 * cross checks), the sync, identity and log level options, and sync names.
 * Defaults, unknown options, cross checks, errors: test_conf.c. Fixture:
 * conf_fx.h. */
#include <check.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c2d_conf.h"
#include "c2d_err.h"
#include "conf_fx.h"
#include "../check_main.h"

/* Every numeric option, its range, and what else must be set so that both
 * ends of its range are consistent with the cross checks. */
struct nrow {
	const char *name;
	size_t off;
	int is64;
	uint64_t min, max;
	const char *suffix; /* the bound note in range errors */
	const char *extra[7];
};

#define F(field) offsetof(struct c2d_conf, field)

static const struct nrow nrows[] = {
	{"map_size", F(map_size_mib), 1, 1, 1048576, "", {NULL}},
	{"sync_interval", F(sync_interval_ms), 0, 1, 60000, "", {NULL}},
	{"twin_max_bytes", F(twin_max_bytes), 0, 64, 16777216, "", {NULL}},
	{"twin_max_depth", F(twin_max_depth), 0, 1, 64, "", {NULL}},
	{"msg_ttl_max", F(msg_ttl_max_s), 0, 1, 31536000, "", {"msg_ttl", "1", "rpc_ttl", "1", "history_ttl", "0", NULL}},
	{"msg_ttl", F(msg_ttl_s), 0, 1, 604800, " (the upper bound is plugin_opt_msg_ttl_max)", {NULL}},
	{"msg_queue_max", F(msg_queue_max), 0, 1, 10000000, "", {NULL}},
	{"msg_inflight", F(msg_inflight), 0, 1, 65535, "", {NULL}},
	{"msg_max_deliveries", F(msg_max_deliveries), 0, 1, 1000, "", {NULL}},
	{"ack_timeout", F(ack_timeout_s), 0, 1, 86400, "", {NULL}},
	{"calls_inflight", F(calls_inflight), 0, 1, 65535, "", {NULL}},
	{"sweep_share", F(sweep_share), 0, 1, 100, "", {NULL}},
	{"job_share", F(job_share), 0, 1, 100, "", {NULL}},
	{"rpc_timeout_max", F(rpc_timeout_max_ms), 0, 1, 86400000, "",
			{"rpc_timeout_min", "1", "rpc_timeout", "1", NULL}},
	{"rpc_timeout_min", F(rpc_timeout_min_ms), 0, 1, 300000, " (the upper bound is plugin_opt_rpc_timeout_max)",
			{"rpc_timeout", "300000", NULL}},
	{"rpc_timeout", F(rpc_timeout_ms), 0, 100, 300000,
			" (the bounds are plugin_opt_rpc_timeout_min and plugin_opt_rpc_timeout_max)", {NULL}},
	{"rpc_ttl", F(rpc_ttl_s), 0, 1, 604800, " (the upper bound is plugin_opt_msg_ttl_max)", {NULL}},
	{"rpc_retries_max", F(rpc_retries_max), 0, 0, 100, "", {NULL}},
	{"rpc_inflight", F(rpc_inflight), 0, 1, 65535, "", {NULL}},
	{"stats_interval", F(stats_interval_s), 0, 0, 86400, "", {NULL}},
	{"history_ttl", F(history_ttl_s), 0, 0, 604800, " (the upper bound is plugin_opt_msg_ttl_max)", {NULL}},
};

#define NROW_COUNT ((int)(sizeof(nrows) / sizeof(nrows[0])))

static uint64_t field(const struct nrow *r)
{
	const char *f = (const char *)&conf + r->off;

	if(r->is64) return *(const uint64_t *)(const void *)f;
	return *(const uint32_t *)(const void *)f;
}

/* name=value after the row's extra options; value borrowed. */
static int parse_row(const struct nrow *r, const char *value)
{
	const char *kv[10];
	int n = 0, i;

	for(i = 0; r->extra[i]; i++){
		kv[n++] = r->extra[i];
	}
	kv[n++] = r->name;
	kv[n++] = value;
	kv[n] = NULL;
	return parse_with_path(kv);
}

static void row_ok(const struct nrow *r, uint64_t v)
{
	char buf[32];
	int rc;

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	rc = parse_row(r, buf);
	ck_assert_msg(rc == 0, "%s %s: %s", r->name, buf, err);
	ck_assert_uint_eq(field(r), v);
	c2d_conf_free(&conf);
}

static void row_bad(const struct nrow *r, const char *value)
{
	char want[256];

	snprintf(want, sizeof(want), "plugin_opt_%s: '%s' is not a whole number in %" PRIu64 "..%" PRIu64 "%s",
			r->name, value, r->min, r->max, r->suffix);
	ck_assert_msg(parse_row(r, value) == C2D_EINVAL, "%s '%s' accepted", r->name, value);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_null(conf.db_path);
}

START_TEST(test_number)
{
	static const char *const bad[] = {"", " 5", "5 ", "\t5", "5\n", "5x", "x5", "-1", "-0", "+1",
		"0x10", "0X10", "1e3", "1.0", "1,000", "1_000", "\xEF\xBC\x95", "NaN", "inf",
		"4294967296", "18446744073709551615", "18446744073709551616",
		"99999999999999999999999999999999999999"};
	const struct nrow *r = &nrows[_i];
	char buf[32];
	size_t i;

	row_ok(r, r->min);
	row_ok(r, r->max);
	row_ok(r, (r->min + r->max) / 2);
	if(r->min > 0){
		snprintf(buf, sizeof(buf), "%" PRIu64, r->min - 1);
		row_bad(r, buf);
	}
	snprintf(buf, sizeof(buf), "%" PRIu64, r->max + 1);
	row_bad(r, buf);
	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		row_bad(r, bad[i]);
	}
	/* leading zeros are still decimal */
	snprintf(buf, sizeof(buf), "00%" PRIu64, r->max);
	ck_assert_int_eq(parse_row(r, buf), 0);
	ck_assert_uint_eq(field(r), r->max);
}
END_TEST

START_TEST(test_sync)
{
	static const struct {
		const char *value;
		enum c2d_sync want;
	} good[] = {
		{"full", C2D_SYNC_FULL},
		{"meta", C2D_SYNC_META},
		{"periodic", C2D_SYNC_PERIODIC},
	};
	static const char *const bad[] = {"fast", "", "FULL", "Full", " full", "full ", "ful", "fullx",
		"periodic\n", "0", "1", "none"};
	char want[128];
	size_t i;

	for(i = 0; i < sizeof(good) / sizeof(good[0]); i++){
		const char *kv[] = {"sync", good[i].value, NULL};

		expect_ok(kv);
		ck_assert_int_eq(conf.sync, good[i].want);
		ck_assert_str_eq(c2d_conf_sync_name(conf.sync), good[i].value);
		c2d_conf_free(&conf);
	}
	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		const char *kv[] = {"sync", bad[i], NULL};

		snprintf(want, sizeof(want), "plugin_opt_sync: '%s' is not one of full, meta, periodic", bad[i]);
		expect_err(kv, want);
	}
}
END_TEST

START_TEST(test_identity)
{
	static const char *const names[] = {"clientid", "username", "certificate"};
	static const char *const bad[] = {"", "cert", "Username", "clientid ", "cn"};
	char want[160];
	size_t i;

	for(i = 0; i < 3; i++){
		const char *kv[] = {"identity", names[i], NULL};

		expect_ok(kv);
		ck_assert_int_eq(conf.identity, (int)i);
		ck_assert_str_eq(c2d_conf_identity_name(conf.identity), names[i]);
		c2d_conf_free(&conf);
	}
	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		const char *kv[] = {"identity", bad[i], NULL};

		snprintf(want, sizeof(want), "plugin_opt_identity: '%s' is not one of clientid, username, certificate", bad[i]);
		expect_err(kv, want);
	}
	ck_assert_str_eq(c2d_conf_identity_name((enum c2d_identity)3), "?");
}
END_TEST

START_TEST(test_log_level)
{
	static const char *const names[] = {"error", "warning", "notice", "info", "debug"};
	static const char *const bad[] = {"", "warn", "DEBUG", "all", "5"};
	char want[160];
	size_t i;

	for(i = 0; i < 5; i++){
		const char *kv[] = {"log_level", names[i], NULL};

		expect_ok(kv);
		ck_assert_int_eq(conf.log_level, (int)i);
		c2d_conf_free(&conf);
	}
	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		const char *kv[] = {"log_level", bad[i], NULL};

		snprintf(want, sizeof(want), "plugin_opt_log_level: '%s' is not one of error, warning, notice, info, debug",
				bad[i]);
		expect_err(kv, want);
	}
}
END_TEST

START_TEST(test_sync_name)
{
	ck_assert_str_eq(c2d_conf_sync_name(C2D_SYNC_FULL), "full");
	ck_assert_str_eq(c2d_conf_sync_name(C2D_SYNC_META), "meta");
	ck_assert_str_eq(c2d_conf_sync_name(C2D_SYNC_PERIODIC), "periodic");
	ck_assert_str_eq(c2d_conf_sync_name((enum c2d_sync)3), "?");
	ck_assert_str_eq(c2d_conf_sync_name((enum c2d_sync)-1), "?");
}
END_TEST

static Suite *conf_values_suite(void)
{
	Suite *s = suite_create("conf_values");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_loop_test(tc, test_number, 0, NROW_COUNT);
	tcase_add_test(tc, test_sync);
	tcase_add_test(tc, test_identity);
	tcase_add_test(tc, test_log_level);
	tcase_add_test(tc, test_sync_name);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return c2d_check_run(conf_values_suite());
}
