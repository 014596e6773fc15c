/* jobspec.c: createJob specifications, job ids and base64 (pure). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c2d_jobspec.h"
#include "../check_main.h"

static struct c2d_conf conf;

static void setup(void)
{
	c2d_conf_defaults(&conf);
}

/* Check the command text; returns the rc, the reason in why. */
static int check(const char *text, struct c2d_jobspec *spec, char *why)
{
	cJSON *cmd = cJSON_Parse(text);
	int rc;

	ck_assert_msg(cmd != NULL, "bad test JSON %s", text);
	why[0] = '\0';
	rc = c2d_jobspec_check(cmd, &conf, spec, why, 200);
	cJSON_Delete(cmd);
	return rc;
}

START_TEST(test_good)
{
	struct c2d_jobspec s;
	char why[200];

	ck_assert_int_eq(check("{\"job\":\"fw-2026.12_a\",\"target\":{\"devices\":[\"a\",\"b\"]},"
			"\"action\":{\"msg\":{\"payload\":\"x\",\"ttl\":60}},\"rollout\":{\"maxPerMinute\":600,\"maxInFlight\":10}}",
			&s, why), 0);
	ck_assert_int_eq(s.action, C2D_JA_MSG);
	ck_assert_uint_eq(s.max_per_minute, 600);
	ck_assert_uint_eq(s.max_in_flight, 10);
	ck_assert_uint_eq(s.ttl_s, 60);
	ck_assert_int_eq(check("{\"job\":\"t\",\"target\":{\"where\":{\"tags.site\":\"berlin\"}},"
			"\"action\":{\"twin\":{\"desired\":{\"rate\":5}}}}", &s, why), 0);
	ck_assert_int_eq(s.action, C2D_JA_TWIN);
	ck_assert_ptr_nonnull(s.where);
	ck_assert_uint_eq(s.max_per_minute, 0);
	ck_assert_int_eq(check("{\"job\":\"r\",\"target\":{\"devices\":[]},"
			"\"action\":{\"rpc\":{\"method\":\"update\",\"params\":{\"v\":2},\"timeout\":30000,\"retries\":2}}}", &s, why), 0);
	ck_assert_int_eq(s.action, C2D_JA_RPC);
	ck_assert_uint_eq(s.timeout_ms, 30000);
	ck_assert_uint_eq(s.retries, 2);
}
END_TEST

START_TEST(test_bad)
{
	static const char *const bad[] = {
		"{\"target\":{\"devices\":[\"a\"]},\"action\":{\"msg\":{\"payload\":\"x\"}}}",
		"{\"job\":\"a b\",\"target\":{\"devices\":[\"a\"]},\"action\":{\"msg\":{\"payload\":\"x\"}}}",
		"{\"job\":\"\",\"target\":{\"devices\":[\"a\"]},\"action\":{\"msg\":{\"payload\":\"x\"}}}",
		"{\"job\":\"j\",\"action\":{\"msg\":{\"payload\":\"x\"}}}",
		"{\"job\":\"j\",\"target\":{\"devices\":[\"a\"],\"where\":{}},\"action\":{\"msg\":{\"payload\":\"x\"}}}",
		"{\"job\":\"j\",\"target\":{\"devices\":[\"a\",\"a\"]},\"action\":{\"msg\":{\"payload\":\"x\"}}}",
		"{\"job\":\"j\",\"target\":{\"devices\":[\"a+b\"]},\"action\":{\"msg\":{\"payload\":\"x\"}}}",
		"{\"job\":\"j\",\"target\":{\"where\":{\"nope\":1}},\"action\":{\"msg\":{\"payload\":\"x\"}}}",
		"{\"job\":\"j\",\"target\":{\"devices\":[\"a\"]}}",
		"{\"job\":\"j\",\"target\":{\"devices\":[\"a\"]},\"action\":{\"msg\":{\"payload\":\"x\"},\"twin\":{\"desired\":{}}}}",
		"{\"job\":\"j\",\"target\":{\"devices\":[\"a\"]},\"action\":{\"twin\":{\"desired\":[1]}}}",
		"{\"job\":\"j\",\"target\":{\"devices\":[\"a\"]},\"action\":{\"msg\":{\"payloadBase64\":\"***\"}}}",
		"{\"job\":\"j\",\"target\":{\"devices\":[\"a\"]},\"action\":{\"msg\":{\"payload\":\"x\",\"ttl\":0}}}",
		"{\"job\":\"j\",\"target\":{\"devices\":[\"a\"]},\"action\":{\"rpc\":{\"params\":{}}}}",
		"{\"job\":\"j\",\"target\":{\"devices\":[\"a\"]},\"action\":{\"rpc\":{\"method\":\"m\",\"retries\":1000}}}",
		"{\"job\":\"j\",\"target\":{\"devices\":[\"a\"]},\"action\":{\"msg\":{\"payload\":\"x\"}},\"rollout\":{\"maxInFlight\":0}}",
		"{\"job\":\"j\",\"target\":{\"devices\":[\"a\"]},\"action\":{\"msg\":{\"payload\":\"x\"}},\"continuous\":true}",
		"{\"job\":\"j\",\"target\":{\"where\":{}},\"action\":{\"rpc\":{\"method\":\"m\"}},\"continuous\":true}",
		"{\"job\":\"j\",\"target\":{\"where\":{}},\"action\":{\"msg\":{\"payload\":\"x\"}},\"continuous\":1}",
		"{\"job\":\"j\",\"target\":{\"where\":{}},\"action\":{\"msg\":{\"payload\":\"x\"}},\"abort\":{}}",
		"{\"job\":\"j\",\"target\":{\"where\":{}},\"action\":{\"msg\":{\"payload\":\"x\"}},\"abort\":{\"failedPercent\":100}}",
		"{\"job\":\"j\",\"target\":{\"where\":{}},\"action\":{\"msg\":{\"payload\":\"x\"}},\"abort\":{\"failedPercent\":5,\"minExecuted\":0}}",
		"{\"job\":\"j\",\"target\":{\"where\":{}},\"action\":{\"msg\":{\"payload\":\"x\"}},\"abort\":{\"failedPercent\":5,\"after\":3}}",
		"{\"job\":\"j\",\"target\":{\"where\":{}},\"action\":{\"msg\":{\"payload\":\"x\"}},\"startAt\":\"2026-12-03 02:00:00Z\"}",
		"{\"job\":\"j\",\"target\":{\"where\":{}},\"action\":{\"msg\":{\"payload\":\"x\"}},\"startAt\":\"2026-12-03T02:00:00+01:00\"}",
		"{\"job\":\"j\",\"target\":{\"where\":{}},\"action\":{\"msg\":{\"payload\":\"x\"}},\"startAt\":1764727200}",
		"{\"job\":\"j\",\"target\":{\"where\":{}},\"action\":{\"msg\":{\"payload\":\"x\"}},\"expiresIn\":0}",
		"{\"job\":\"j\",\"target\":{\"where\":{}},\"action\":{\"msg\":{\"payload\":\"x\"}},\"expiresIn\":1.5}",
	};
	struct c2d_jobspec s;
	char why[200];
	size_t i;

	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		ck_assert_msg(check(bad[i], &s, why) == -1, "accepted %s", bad[i]);
		ck_assert_msg(why[0] != '\0', "no reason for %s", bad[i]);
	}
}
END_TEST

/* abort, startAt, expiresIn, continuous and how they are stored. */
/* A list of n ids "d00000".. with id dup (if >= 0) replaced by id 0's. */
static char *device_list(int n, int dup)
{
	size_t cap = (size_t)n * 10 + 200, k = 0;
	char *t = malloc(cap);
	int i;

	ck_assert_ptr_nonnull(t);
	k += (size_t)snprintf(t + k, cap - k, "{\"job\":\"l\",\"target\":{\"devices\":[");
	for(i = 0; i < n; i++) k += (size_t)snprintf(t + k, cap - k, "%s\"d%05d\"", i ? "," : "", i == dup ? 0 : i);
	snprintf(t + k, cap - k, "]},\"action\":{\"msg\":{\"payload\":\"x\"}}}");
	return t;
}

/* Lists at the limit: accepted whole, a duplicate anywhere is found and
 * named, one id over the limit is refused. */
START_TEST(test_long_lists)
{
	struct c2d_jobspec spec;
	char why[200], *t;

	t = device_list(C2D_JOB_DEVICES_MAX, -1);
	ck_assert_int_eq(check(t, &spec, why), 0);
	free(t);
	t = device_list(C2D_JOB_DEVICES_MAX, C2D_JOB_DEVICES_MAX - 1);
	ck_assert_int_eq(check(t, &spec, why), -1);
	ck_assert_str_eq(why, "target.devices lists 'd00000' twice");
	free(t);
	t = device_list(C2D_JOB_DEVICES_MAX + 1, -1);
	ck_assert_int_eq(check(t, &spec, why), -1);
	ck_assert_str_eq(why, "target.devices has more than 10000 ids: use tags and where");
	free(t);
}
END_TEST

START_TEST(test_schedule)
{
	struct c2d_jobspec s;
	char why[200], *text;
	cJSON *cmd, *stored;

	ck_assert_int_eq(check("{\"job\":\"c\",\"target\":{\"where\":{\"tags.site\":\"berlin\"}},"
			"\"action\":{\"twin\":{\"desired\":{\"rate\":5}}},\"abort\":{\"failedPercent\":12.5,\"minExecuted\":40},"
			"\"startAt\":\"2026-12-03T02:00:00.25Z\",\"expiresIn\":3600,\"continuous\":true}", &s, why), 0);
	ck_assert(s.has_abort);
	ck_assert(s.failed_percent == 12.5);
	ck_assert_uint_eq(s.min_executed, 40);
	ck_assert_uint_eq(s.start_at_ms, 1796263200250ull);
	ck_assert_uint_eq(s.expires_in_s, 3600);
	ck_assert(s.continuous);
	cmd = cJSON_Parse("{\"job\":\"c\",\"target\":{\"where\":{}},\"action\":{\"msg\":{\"payload\":\"x\"}},"
			"\"abort\":{\"failedPercent\":0},\"startAt\":\"2026-12-03T02:00:00Z\",\"expiresIn\":60,\"continuous\":true}");
	ck_assert_int_eq(c2d_jobspec_check(cmd, &conf, &s, why, sizeof(why)), 0);
	ck_assert_uint_eq(s.min_executed, 1); /* the default */
	stored = c2d_jobspec_stored(cmd, &s);
	text = cJSON_PrintUnformatted(stored);
	ck_assert_str_eq(text, "{\"target\":{\"where\":{}},\"action\":{\"msg\":{\"payload\":\"x\"}},\"rollout\":{},"
			"\"abort\":{\"failedPercent\":0,\"minExecuted\":1},\"startAt\":\"2026-12-03T02:00:00Z\",\"expiresIn\":60,"
			"\"continuous\":true}");
	cJSON_free(text);
	cJSON_Delete(stored);
	cJSON_Delete(cmd);
	/* none of them: nothing stored for them, continuous off */
	ck_assert_int_eq(check("{\"job\":\"p\",\"target\":{\"devices\":[]},\"action\":{\"msg\":{\"payload\":\"x\"}},"
			"\"continuous\":false}", &s, why), 0);
	ck_assert(!s.has_abort && !s.continuous && s.start_at_ms == 0 && s.expires_in_s == 0);
}
END_TEST

START_TEST(test_time_and_abort_rule)
{
	ck_assert_int_eq(c2d_jobspec_time("1970-01-01T00:00:00Z"), 0);
	ck_assert_int_eq(c2d_jobspec_time("2026-12-03T02:00:00Z"), 1796263200000ll);
	ck_assert_int_eq(c2d_jobspec_time("2026-12-03T02:00:00.1Z"), 1796263200100ll);
	ck_assert_int_eq(c2d_jobspec_time("2026-12-03T02:00:00.123456Z"), 1796263200123ll);
	ck_assert_int_eq(c2d_jobspec_time("2024-02-29T12:00:00Z"), 1709208000000ll);
	ck_assert_int_eq(c2d_jobspec_time("2026-02-29T12:00:00Z"), -1); /* not a leap year */
	ck_assert_int_eq(c2d_jobspec_time("2026-12-03T02:00:00"), -1);
	ck_assert_int_eq(c2d_jobspec_time("2026-12-03T02:00:00.Z"), -1);
	ck_assert_int_eq(c2d_jobspec_time("2026-12-03T24:00:00Z"), -1);
	ck_assert_int_eq(c2d_jobspec_time("2026-13-03T02:00:00Z"), -1);
	ck_assert_int_eq(c2d_jobspec_time("2026-12-03T02:00:00Zjunk"), -1);
	ck_assert_int_eq(c2d_jobspec_time(NULL), -1);
	/* more than failedPercent of the executed, once minExecuted executed */
	ck_assert(!c2d_jobspec_abort_due(1, 1, 10, 2));     /* too few executed */
	ck_assert(c2d_jobspec_abort_due(1, 2, 10, 2));
	ck_assert(!c2d_jobspec_abort_due(1, 10, 10, 1));    /* 10% is not more than 10% */
	ck_assert(c2d_jobspec_abort_due(2, 10, 10, 1));
	ck_assert(!c2d_jobspec_abort_due(0, 0, 0, 1));
	ck_assert(!c2d_jobspec_abort_due(0, 100, 0, 1));    /* no failure */
	ck_assert(c2d_jobspec_abort_due(1, 100, 0, 1));     /* any failure */
}
END_TEST

START_TEST(test_ids_and_base64)
{
	char id[80];
	unsigned char *out = NULL;

	ck_assert(c2d_jobspec_valid_id("a"));
	ck_assert(c2d_jobspec_valid_id("A-z_0.9"));
	ck_assert(!c2d_jobspec_valid_id(""));
	ck_assert(!c2d_jobspec_valid_id("a/b"));
	ck_assert(!c2d_jobspec_valid_id("$jobs"));
	memset(id, 'x', 64);
	id[64] = '\0';
	ck_assert(c2d_jobspec_valid_id(id));
	id[64] = 'x';
	id[65] = '\0';
	ck_assert(!c2d_jobspec_valid_id(id));
	ck_assert_int_eq(c2d_jobspec_b64decode("aGVsbG8=", &out), 5);
	ck_assert(memcmp(out, "hello", 5) == 0);
	free(out);
	out = NULL;
	ck_assert_int_eq(c2d_jobspec_b64decode("aGVsbG8", &out), -1);
	free(out);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("jobspec");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_good);
	tcase_add_test(tc, test_bad);
	tcase_add_test(tc, test_long_lists);
	tcase_add_test(tc, test_schedule);
	tcase_add_test(tc, test_time_and_abort_rule);
	tcase_add_test(tc, test_ids_and_base64);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
