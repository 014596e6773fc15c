/* conf.c: plugin_opt_* parsing: defaults, db_path (only, missing), unknown
 * options, NULL values, cross checks, the last of a repeated option winning,
 * failures freeing what was copied, a small error buffer, everything set at
 * once, and the shared number parser. Each option's values and ranges:
 * test_conf_values.c. Fixture: conf_fx.h. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c2d_conf.h"
#include "c2d_err.h"
#include "conf_fx.h"
#include "../check_main.h"

START_TEST(test_defaults)
{
	c2d_conf_defaults(&conf);
	ck_assert_ptr_null(conf.db_path);
	ck_assert_uint_eq(conf.map_size_mib, 1024);
	ck_assert_int_eq(conf.sync, C2D_SYNC_FULL);
	ck_assert_int_eq(conf.identity, C2D_ID_CLIENTID);
	ck_assert_uint_eq(conf.calls_inflight, 16);
	ck_assert_uint_eq(conf.sync_interval_ms, 100);
	ck_assert_uint_eq(conf.twin_max_bytes, 32768);
	ck_assert_uint_eq(conf.twin_max_depth, 10);
	ck_assert_uint_eq(conf.msg_ttl_s, 3600);
	ck_assert_uint_eq(conf.msg_ttl_max_s, 604800);
	ck_assert_uint_eq(conf.msg_queue_max, 1000);
	ck_assert_uint_eq(conf.msg_inflight, 16);
	ck_assert_uint_eq(conf.msg_max_deliveries, 10);
	ck_assert_uint_eq(conf.ack_timeout_s, 30);
	ck_assert_uint_eq(conf.rpc_timeout_ms, 10000);
	ck_assert_uint_eq(conf.rpc_timeout_min_ms, 100);
	ck_assert_uint_eq(conf.rpc_timeout_max_ms, 300000);
	ck_assert_uint_eq(conf.rpc_ttl_s, 3600);
	ck_assert_uint_eq(conf.rpc_retries_max, 5);
	ck_assert_uint_eq(conf.rpc_inflight, 16);
	ck_assert_uint_eq(conf.stats_interval_s, 10);
	ck_assert_uint_eq(conf.history_ttl_s, 86400);
	ck_assert_int_eq(conf.log_level, C2D_LL_INFO);
	ck_assert_uint_eq(conf.sweep_share, 10);
	ck_assert_uint_eq(conf.job_share, 20);
	c2d_conf_free(&conf);
	c2d_conf_free(&conf);
	ck_assert_ptr_null(conf.db_path);
}
END_TEST

/* Only db_path: everything else is the default; db_path is a copy. */
START_TEST(test_db_path_only)
{
	char path[] = "/var/lib/c2d";
	struct c2d_opt opt = {"db_path", path};
	struct c2d_conf def;

	memset(&conf, 0x5A, sizeof(conf));
	ck_assert_int_eq(c2d_conf_parse(&conf, &opt, 1, err, sizeof(err)), 0);
	ck_assert_ptr_ne(conf.db_path, path);
	path[1] = 'X';
	ck_assert_str_eq(conf.db_path, "/var/lib/c2d");
	c2d_conf_defaults(&def);
	def.db_path = conf.db_path;
	ck_assert(memcmp(&conf, &def, sizeof(def)) == 0);
	c2d_conf_free(&conf);
	ck_assert_ptr_null(conf.db_path);
	c2d_conf_free(&conf);
}
END_TEST

/* The message from the header comment, word for word. */
START_TEST(test_message_example)
{
	const char *kv[] = {"msg_ttl", "-3", NULL};

	expect_err(kv, "plugin_opt_msg_ttl: '-3' is not a whole number in 1..604800 "
				   "(the upper bound is plugin_opt_msg_ttl_max)");
}
END_TEST

START_TEST(test_unknown)
{
	static const char *const names[] = {"bogus", "plugin_opt_map_size", "Map_size", "map_size ",
		"db", "", "sync_intervals", "msg_ttl_maximum"};
	char want[128];
	size_t i;

	for(i = 0; i < sizeof(names) / sizeof(names[0]); i++){
		const char *kv[] = {"map_size", "5", names[i], "1", NULL};

		snprintf(want, sizeof(want), "plugin_opt_%s: unknown option", names[i]);
		expect_err(kv, want);
	}
}
END_TEST

START_TEST(test_unknown_null_key)
{
	struct c2d_opt opts[] = {{"db_path", "/tmp/c2d"}, {NULL, "1"}};

	ck_assert_int_eq(c2d_conf_parse(&conf, opts, 2, err, sizeof(err)), C2D_EINVAL);
	ck_assert_str_eq(err, "plugin_opt_(null): unknown option");
	ck_assert_ptr_null(conf.db_path);
}
END_TEST

START_TEST(test_db_path_missing)
{
	struct c2d_opt empty = {"db_path", ""};
	struct c2d_opt null_value = {"db_path", NULL};
	struct c2d_opt other = {"map_size", "5"};

	ck_assert_int_eq(c2d_conf_parse(&conf, NULL, 0, err, sizeof(err)), C2D_EINVAL);
	ck_assert_str_eq(err, "plugin_opt_db_path: missing (it is required)");
	ck_assert_ptr_null(conf.db_path);
	ck_assert_int_eq(c2d_conf_parse(&conf, &other, 1, err, sizeof(err)), C2D_EINVAL);
	ck_assert_str_eq(err, "plugin_opt_db_path: missing (it is required)");
	ck_assert_int_eq(c2d_conf_parse(&conf, &other, -1, err, sizeof(err)), C2D_EINVAL);
	ck_assert_str_eq(err, "plugin_opt_db_path: missing (it is required)");
	ck_assert_int_eq(c2d_conf_parse(&conf, &empty, 1, err, sizeof(err)), C2D_EINVAL);
	ck_assert_str_eq(err, "plugin_opt_db_path: must not be empty");
	ck_assert_ptr_null(conf.db_path);
	ck_assert_int_eq(c2d_conf_parse(&conf, &null_value, 1, err, sizeof(err)), C2D_EINVAL);
	ck_assert_str_eq(err, "plugin_opt_db_path: must not be empty");
	ck_assert_ptr_null(conf.db_path);
}
END_TEST

/* A NULL value is treated as an empty one. */
START_TEST(test_null_value)
{
	struct c2d_opt opts[] = {{"db_path", "/tmp/c2d"}, {"sync", NULL}};

	ck_assert_int_eq(c2d_conf_parse(&conf, opts, 2, err, sizeof(err)), C2D_EINVAL);
	ck_assert_str_eq(err, "plugin_opt_sync: '' is not one of full, meta, periodic");
	opts[1].key = "map_size";
	ck_assert_int_eq(c2d_conf_parse(&conf, opts, 2, err, sizeof(err)), C2D_EINVAL);
	ck_assert_str_eq(err, "plugin_opt_map_size: '' is not a whole number in 1..1048576");
}
END_TEST

START_TEST(test_cross_ok)
{
	const char *ttl_eq[] = {"msg_ttl_max", "60", "msg_ttl", "60", "rpc_ttl", "60", "history_ttl", "60", NULL};
	const char *ttl_order[] = {"msg_ttl", "700000", "rpc_ttl", "800000", "msg_ttl_max", "800000", NULL};
	const char *rpc_eq[] = {"rpc_timeout", "5000", "rpc_timeout_min", "5000", "rpc_timeout_max", "5000", NULL};
	const char *rpc_wide[] = {"rpc_timeout_max", "86400000", "rpc_timeout", "86400000", "rpc_timeout_min", "1", NULL};

	expect_ok(ttl_eq);
	ck_assert_uint_eq(conf.msg_ttl_s, 60);
	ck_assert_uint_eq(conf.msg_ttl_max_s, 60);
	ck_assert_uint_eq(conf.rpc_ttl_s, 60);
	ck_assert_uint_eq(conf.history_ttl_s, 60);
	c2d_conf_free(&conf);
	expect_ok(ttl_order);
	ck_assert_uint_eq(conf.msg_ttl_s, 700000);
	ck_assert_uint_eq(conf.rpc_ttl_s, 800000);
	ck_assert_uint_eq(conf.msg_ttl_max_s, 800000);
	c2d_conf_free(&conf);
	expect_ok(rpc_eq);
	ck_assert_uint_eq(conf.rpc_timeout_ms, 5000);
	ck_assert_uint_eq(conf.rpc_timeout_min_ms, 5000);
	ck_assert_uint_eq(conf.rpc_timeout_max_ms, 5000);
	c2d_conf_free(&conf);
	expect_ok(rpc_wide);
	ck_assert_uint_eq(conf.rpc_timeout_ms, 86400000);
	ck_assert_uint_eq(conf.rpc_timeout_min_ms, 1);
}
END_TEST

START_TEST(test_cross_fail)
{
	static const struct {
		const char *kv[7];
		const char *msg;
	} cases[] = {
		{{"msg_ttl", "604801", NULL},
				"plugin_opt_msg_ttl: '604801' is not a whole number in 1..604800 (the upper bound is plugin_opt_msg_ttl_max)"},
		{{"msg_ttl_max", "100", "msg_ttl", "101", "rpc_ttl", "1", NULL},
				"plugin_opt_msg_ttl: '101' is not a whole number in 1..100 (the upper bound is plugin_opt_msg_ttl_max)"},
		{{"msg_ttl", "50", "rpc_ttl", "101", "msg_ttl_max", "100", NULL},
				"plugin_opt_rpc_ttl: '101' is not a whole number in 1..100 (the upper bound is plugin_opt_msg_ttl_max)"},
		{{"msg_ttl_max", "60", NULL},
				"plugin_opt_msg_ttl: the default 3600 is not in 1..60 (the upper bound is plugin_opt_msg_ttl_max); set plugin_opt_msg_ttl"},
		{{"msg_ttl_max", "60", "msg_ttl", "60", NULL},
				"plugin_opt_rpc_ttl: the default 3600 is not in 1..60 (the upper bound is plugin_opt_msg_ttl_max); set plugin_opt_rpc_ttl"},
		{{"msg_ttl_max", "60", "msg_ttl", "60", "rpc_ttl", "60", NULL},
				"plugin_opt_history_ttl: the default 86400 is not in 0..60 (the upper bound is plugin_opt_msg_ttl_max); set plugin_opt_history_ttl"},
		{{"history_ttl", "604801", NULL},
				"plugin_opt_history_ttl: '604801' is not a whole number in 0..604800 (the upper bound is plugin_opt_msg_ttl_max)"},
		{{"rpc_timeout", "99", NULL},
				"plugin_opt_rpc_timeout: '99' is not a whole number in 100..300000 (the bounds are plugin_opt_rpc_timeout_min and plugin_opt_rpc_timeout_max)"},
		{{"rpc_timeout", "300001", NULL},
				"plugin_opt_rpc_timeout: '300001' is not a whole number in 100..300000 (the bounds are plugin_opt_rpc_timeout_min and plugin_opt_rpc_timeout_max)"},
		{{"rpc_timeout_min", "2000", "rpc_timeout", "1000", NULL},
				"plugin_opt_rpc_timeout: '1000' is not a whole number in 2000..300000 (the bounds are plugin_opt_rpc_timeout_min and plugin_opt_rpc_timeout_max)"},
		{{"rpc_timeout_max", "5000", NULL},
				"plugin_opt_rpc_timeout: the default 10000 is not in 100..5000 (the bounds are plugin_opt_rpc_timeout_min and plugin_opt_rpc_timeout_max); set plugin_opt_rpc_timeout"},
		{{"rpc_timeout_min", "20000", NULL},
				"plugin_opt_rpc_timeout: the default 10000 is not in 20000..300000 (the bounds are plugin_opt_rpc_timeout_min and plugin_opt_rpc_timeout_max); set plugin_opt_rpc_timeout"},
		{{"rpc_timeout_max", "50", "rpc_timeout", "50", NULL},
				"plugin_opt_rpc_timeout_min: the default 100 is not in 1..50 (the upper bound is plugin_opt_rpc_timeout_max); set plugin_opt_rpc_timeout_min"},
		{{"rpc_timeout_min", "600", "rpc_timeout_max", "500", "rpc_timeout", "550", NULL},
				"plugin_opt_rpc_timeout_min: '600' is not a whole number in 1..500 (the upper bound is plugin_opt_rpc_timeout_max)"},
	};
	size_t i;

	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++){
		expect_err(cases[i].kv, cases[i].msg);
	}
}
END_TEST

START_TEST(test_last_wins)
{
	const char *twice[] = {"map_size", "1", "map_size", "2", NULL};
	const char *bad_then_good[] = {"map_size", "lots", "sync", "fast", "map_size", "3", "sync", "meta", NULL};
	const char *good_then_bad[] = {"map_size", "3", "map_size", "0", NULL};
	const char *bound[] = {"msg_ttl_max", "10", "msg_ttl", "10", "rpc_ttl", "10", "msg_ttl_max", "604800", "msg_ttl", "604800", NULL};
	struct c2d_opt paths[] = {{"db_path", "/a"}, {"db_path", "/b"}};

	expect_ok(twice);
	ck_assert_uint_eq(conf.map_size_mib, 2);
	c2d_conf_free(&conf);
	expect_ok(bad_then_good);
	ck_assert_uint_eq(conf.map_size_mib, 3);
	ck_assert_int_eq(conf.sync, C2D_SYNC_META);
	c2d_conf_free(&conf);
	expect_err(good_then_bad, "plugin_opt_map_size: '0' is not a whole number in 1..1048576");
	expect_ok(bound);
	ck_assert_uint_eq(conf.msg_ttl_s, 604800);
	ck_assert_uint_eq(conf.msg_ttl_max_s, 604800);
	ck_assert_uint_eq(conf.rpc_ttl_s, 10);
	c2d_conf_free(&conf);
	ck_assert_int_eq(c2d_conf_parse(&conf, paths, 2, err, sizeof(err)), 0);
	ck_assert_str_eq(conf.db_path, "/b");
	c2d_conf_free(&conf);
	paths[1].value = "";
	ck_assert_int_eq(c2d_conf_parse(&conf, paths, 1, err, sizeof(err)), 0);
	ck_assert_str_eq(conf.db_path, "/a");
	c2d_conf_free(&conf);
	ck_assert_int_eq(c2d_conf_parse(&conf, paths, 2, err, sizeof(err)), C2D_EINVAL);
	ck_assert_str_eq(err, "plugin_opt_db_path: must not be empty");
	ck_assert_ptr_null(conf.db_path);
}
END_TEST

/* A failure after db_path was copied frees it (valgrind proves no leak). */
START_TEST(test_fail_frees)
{
	const char *kv[] = {"map_size", "0", NULL};

	expect_err(kv, "plugin_opt_map_size: '0' is not a whole number in 1..1048576");
	c2d_conf_free(&conf);
}
END_TEST

START_TEST(test_small_err)
{
	struct c2d_opt opts[] = {{"db_path", "/tmp/c2d"}, {"sync", "a much longer value than eight bytes"}};
	char buf[16];

	memset(buf, '#', sizeof(buf));
	ck_assert_int_eq(c2d_conf_parse(&conf, opts, 2, buf, 8), C2D_EINVAL);
	ck_assert_str_eq(buf, "plugin_");
	ck_assert(buf[8] == '#' && buf[15] == '#');

	memset(buf, '#', sizeof(buf));
	ck_assert_int_eq(c2d_conf_parse(&conf, opts, 2, buf, 1), C2D_EINVAL);
	ck_assert(buf[0] == '\0' && buf[1] == '#');

	memset(buf, '#', sizeof(buf));
	ck_assert_int_eq(c2d_conf_parse(&conf, opts, 2, buf, 0), C2D_EINVAL);
	ck_assert(buf[0] == '#');
	ck_assert_int_eq(c2d_conf_parse(&conf, opts, 2, NULL, 0), C2D_EINVAL);
	ck_assert_ptr_null(conf.db_path);

	/* success clears err */
	memset(buf, '#', sizeof(buf));
	ck_assert_int_eq(c2d_conf_parse(&conf, opts, 1, buf, 8), 0);
	ck_assert_str_eq(buf, "");
	c2d_conf_free(&conf);
	ck_assert_int_eq(c2d_conf_parse(&conf, opts, 1, NULL, 0), 0);
	c2d_conf_free(&conf);
}
END_TEST

/* Everything set at once, as the broker would pass it. */
START_TEST(test_all_options)
{
	const char *kv[] = {"map_size", "4096", "sync", "periodic", "sync_interval", "250",
		"twin_max_bytes", "65536", "twin_max_depth", "20", "msg_ttl", "7200", "msg_ttl_max", "86400",
		"msg_queue_max", "50", "msg_inflight", "1", "msg_max_deliveries", "3", "ack_timeout", "60",
		"rpc_timeout", "2000", "rpc_timeout_min", "1000", "rpc_timeout_max", "60000", "rpc_ttl", "600",
		NULL};
	const char *kv2[] = {"rpc_retries_max", "0", "rpc_inflight", "4", "stats_interval", "0", "history_ttl", "0", NULL};

	expect_ok(kv);
	ck_assert_uint_eq(conf.map_size_mib, 4096);
	ck_assert_int_eq(conf.sync, C2D_SYNC_PERIODIC);
	ck_assert_uint_eq(conf.sync_interval_ms, 250);
	ck_assert_uint_eq(conf.twin_max_bytes, 65536);
	ck_assert_uint_eq(conf.twin_max_depth, 20);
	ck_assert_uint_eq(conf.msg_ttl_s, 7200);
	ck_assert_uint_eq(conf.msg_ttl_max_s, 86400);
	ck_assert_uint_eq(conf.msg_queue_max, 50);
	ck_assert_uint_eq(conf.msg_inflight, 1);
	ck_assert_uint_eq(conf.msg_max_deliveries, 3);
	ck_assert_uint_eq(conf.ack_timeout_s, 60);
	ck_assert_uint_eq(conf.rpc_timeout_ms, 2000);
	ck_assert_uint_eq(conf.rpc_timeout_min_ms, 1000);
	ck_assert_uint_eq(conf.rpc_timeout_max_ms, 60000);
	ck_assert_uint_eq(conf.rpc_ttl_s, 600);
	c2d_conf_free(&conf);
	expect_ok(kv2);
	ck_assert_uint_eq(conf.rpc_retries_max, 0);
	ck_assert_uint_eq(conf.rpc_inflight, 4);
	ck_assert_uint_eq(conf.stats_interval_s, 0);
	ck_assert_uint_eq(conf.history_ttl_s, 0);
}
END_TEST

/* The shared number parser (options, user properties). */
START_TEST(test_parse_uint)
{
	static const char *const bad[] = {"", " 1", "1 ", "+1", "-1", "1.0", "0x1", "1e2", "abc"};
	uint32_t v = 7;
	size_t i;

	ck_assert(c2d_conf_parse_uint("0", 0, 10, &v) && v == 0);
	ck_assert(c2d_conf_parse_uint("10", 0, 10, &v) && v == 10);
	ck_assert(c2d_conf_parse_uint("007", 1, 10, &v) && v == 7);
	ck_assert(c2d_conf_parse_uint("4294967295", 0, UINT32_MAX, &v) && v == UINT32_MAX);
	v = 3;
	ck_assert(!c2d_conf_parse_uint("11", 0, 10, &v));
	ck_assert(!c2d_conf_parse_uint("0", 1, 10, &v));
	ck_assert(!c2d_conf_parse_uint("4294967296", 0, UINT32_MAX, &v));
	ck_assert(!c2d_conf_parse_uint("99999999999999999999999999", 0, UINT32_MAX, &v));
	ck_assert(!c2d_conf_parse_uint(NULL, 0, 10, &v));
	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		ck_assert_msg(!c2d_conf_parse_uint(bad[i], 0, 100, &v), "'%s' accepted", bad[i]);
	}
	ck_assert_uint_eq(v, 3); /* untouched on failure */
}
END_TEST

static Suite *conf_suite(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_db_path_only);
	tcase_add_test(tc, test_message_example);
	tcase_add_test(tc, test_unknown);
	tcase_add_test(tc, test_unknown_null_key);
	tcase_add_test(tc, test_db_path_missing);
	tcase_add_test(tc, test_null_value);
	tcase_add_test(tc, test_cross_ok);
	tcase_add_test(tc, test_cross_fail);
	tcase_add_test(tc, test_last_wins);
	tcase_add_test(tc, test_fail_frees);
	tcase_add_test(tc, test_small_err);
	tcase_add_test(tc, test_all_options);
	tcase_add_test(tc, test_parse_uint);
	suite_add_tcase(s, tc);
	return s;
}

/* ---- events (a set of event families) ---- */

static uint32_t events_of(const char *value, int *rc)
{
	struct c2d_opt o[] = {{"db_path", "/tmp/x"}, {"events", value}};

	*rc = c2d_conf_parse(&conf, o, 2, err, sizeof(err));
	return conf.events;
}

START_TEST(test_events_values)
{
	int rc;

	c2d_conf_defaults(&conf);
	ck_assert_uint_eq(conf.events, C2D_EVENTS_ALL);
	ck_assert(c2d_conf_event_on(&conf, "twin") && c2d_conf_event_on(&conf, "job"));
	ck_assert_uint_eq(events_of("all", &rc), C2D_EVENTS_ALL);
	ck_assert_int_eq(rc, 0);
	c2d_conf_free(&conf);
	ck_assert_uint_eq(events_of("none", &rc), 0);
	ck_assert_int_eq(rc, 0);
	ck_assert(!c2d_conf_event_on(&conf, "presence") && !c2d_conf_event_on(&conf, "msg"));
	c2d_conf_free(&conf);
	ck_assert_uint_eq(events_of("twin,rpc,twin", &rc), (1u << C2D_EVF_TWIN) | (1u << C2D_EVF_RPC));
	ck_assert_int_eq(rc, 0);
	ck_assert(c2d_conf_event_on(&conf, "twin") && c2d_conf_event_on(&conf, "rpc"));
	ck_assert(!c2d_conf_event_on(&conf, "msg") && !c2d_conf_event_on(&conf, "presence"));
	ck_assert(!c2d_conf_event_on(&conf, "device") && !c2d_conf_event_on(&conf, "gateway"));
	ck_assert(!c2d_conf_event_on(&conf, "job"));
	c2d_conf_free(&conf);
	ck_assert_uint_eq(events_of("presence,twin,msg,rpc,device,gateway,job", &rc), C2D_EVENTS_ALL);
	ck_assert_int_eq(rc, 0);
	c2d_conf_free(&conf);
}
END_TEST

START_TEST(test_events_bad)
{
	static const char *const bad[] = {"", ",", "twin,", ",twin", "twin,,msg", "twin msg", "Twin", "all,twin",
			"events", "tw"};
	size_t i;
	int rc;

	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		ck_assert_uint_eq(events_of(bad[i], &rc), C2D_EVENTS_ALL); /* the defaults again */
		ck_assert_msg(rc == C2D_EINVAL, "'%s' accepted", bad[i]);
		ck_assert_msg(strstr(err, "plugin_opt_events") != NULL, "%s", err);
	}
	events_of("twin,bogus", &rc);
	ck_assert_str_eq(err, "plugin_opt_events: 'bogus' in 'twin,bogus' is not one of all, none or a comma list of "
			"presence, twin, msg, rpc, device, gateway, job");
}
END_TEST

static Suite *events_suite(Suite *s)
{
	TCase *tc = tcase_create("events");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_events_values);
	tcase_add_test(tc, test_events_bad);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return c2d_check_run(events_suite(conf_suite()));
}
