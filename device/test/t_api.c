/* libc2d-device's argument and state checks, without a broker. */
#include <check.h>
#include <string.h>

#include "util.h"

static int noop_rpc(struct c2d_device *d, const char *method, const void *params, size_t len,
		struct c2d_result *res, void *ud)
{
	(void)d;
	(void)method;
	(void)params;
	(void)len;
	(void)res;
	(void)ud;
	return 200;
}

START_TEST(new_rejects_bad_ids)
{
	char long_id[130];

	memset(long_id, 'a', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	ck_assert_ptr_null(c2d_device_new(NULL, "127.0.0.1", 1883));
	ck_assert_ptr_null(c2d_device_new("", "127.0.0.1", 1883));
	ck_assert_ptr_null(c2d_device_new("a/b", "127.0.0.1", 1883));
	ck_assert_ptr_null(c2d_device_new("a+", "127.0.0.1", 1883));
	ck_assert_ptr_null(c2d_device_new("$sys", "127.0.0.1", 1883));
	ck_assert_ptr_null(c2d_device_new(long_id, "127.0.0.1", 1883));
	ck_assert_ptr_null(c2d_device_new("ok", NULL, 1883));
	ck_assert_ptr_null(c2d_device_new("ok", "127.0.0.1", 70000));
	long_id[128] = '\0';
	c2d_device_free(c2d_device_new(long_id, "127.0.0.1", 0));
	c2d_device_free(NULL);
}
END_TEST

START_TEST(setters_and_state)
{
	struct c2d_device *d = c2d_device_new("api-1", "127.0.0.1", 1);
	int rc;

	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(c2d_device_id(d), "api-1");
	ck_assert_int_eq(c2d_device_set_protocol(d, 3), C2D_DEVICE_EINVAL);
	ck_assert_int_eq(c2d_device_set_keepalive(d, 1), C2D_DEVICE_EINVAL);
	ck_assert_int_eq(c2d_device_set_reconnect(d, 500, 100), C2D_DEVICE_EINVAL);
	ck_assert_int_eq(c2d_device_set_dedup(d, 0, 10), C2D_DEVICE_EINVAL);
	ck_assert_int_eq(c2d_device_set_dedup(d, 8, 1024), 0);
	ck_assert_int_eq(c2d_device_set_credentials(d, NULL, "x"), C2D_DEVICE_EINVAL);
	ck_assert_int_eq(c2d_device_set_credentials(d, "u", NULL), 0);
	ck_assert_int_eq(c2d_device_on_rpc(d, "", noop_rpc, NULL), C2D_DEVICE_EINVAL);
	ck_assert_int_eq(c2d_device_on_rpc(d, "a/b", noop_rpc, NULL), C2D_DEVICE_EINVAL);
	ck_assert_int_eq(c2d_device_on_rpc(d, "$x", noop_rpc, NULL), C2D_DEVICE_EINVAL);
	ck_assert_int_eq(c2d_device_on_rpc(d, "reboot", noop_rpc, NULL), 0);
	ck_assert_int_eq(c2d_device_on_rpc(d, "reboot", noop_rpc, NULL), 0);
	ck_assert_int_eq(c2d_device_on_rpc(d, "reboot", NULL, NULL), 0);
	ck_assert_int_eq(c2d_device_report(d, "[1]"), C2D_DEVICE_EINVAL);
	ck_assert_int_eq(c2d_device_report(d, NULL), C2D_DEVICE_EINVAL);
	ck_assert_int_eq(c2d_device_result(d, "q1", 200, NULL, 0), C2D_DEVICE_ENOTFOUND);
	ck_assert_int_eq(c2d_device_result(d, "q1", 600, NULL, 0), C2D_DEVICE_EINVAL);
	ck_assert_int_eq(c2d_device_loop(d, 0), C2D_DEVICE_ESTATE);
	ck_assert_int_eq(c2d_device_disconnect(d), C2D_DEVICE_ESTATE);
	ck_assert_int_eq(c2d_device_is_connected(d), 0);
	/* port 1 refuses: the first attempt may fail at once, the device keeps trying */
	rc = c2d_device_connect(d);
	ck_assert(rc == 0 || rc == C2D_DEVICE_ECONNECT);
	ck_assert_int_eq(c2d_device_connect(d), C2D_DEVICE_ESTATE);
	ck_assert_int_eq(c2d_device_set_protocol(d, 4), C2D_DEVICE_ESTATE);
	ck_assert_int_eq(c2d_device_loop(d, 70000), C2D_DEVICE_EINVAL);
	ck_assert_int_eq(c2d_device_loop(d, 10), 0);
	ck_assert_int_eq(c2d_device_disconnect(d), 0);
	ck_assert_int_eq(c2d_device_loop(d, 10), C2D_DEVICE_ECLOSED);
	c2d_device_free(d);
	for(rc = 0; rc <= 9; rc++) ck_assert(strlen(c2d_device_strerror(rc)) > 0);
	ck_assert_str_eq(c2d_device_strerror(99), "unknown error");
}
END_TEST

TCase *tc_api(void)
{
	TCase *tc = tcase_create("api");

	tcase_add_test(tc, new_rejects_bad_ids);
	tcase_add_test(tc, setters_and_state);
	return tc;
}
