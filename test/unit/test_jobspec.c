/* jobspec.c: createJob specifications, job ids and base64 (pure). */
#include <check.h>
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
	tcase_add_test(tc, test_ids_and_base64);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
