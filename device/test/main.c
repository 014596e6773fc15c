/* The libc2d-device suite (device/test/): the library against the real
 * /usr/sbin/mosquitto with the built plugin (test/broker/harness.h), and the
 * programs built on it (the terminal device, the thermostat examples). */
#include <check.h>

#include "util.h"
#include "../../test/check_main.h"

static Suite *device_suite(void)
{
	Suite *s = suite_create("device");

	suite_add_tcase(s, tc_api());
	suite_add_tcase(s, tc_handlers());
	suite_add_tcase(s, tc_connection());
	suite_add_tcase(s, tc_programs());
	suite_add_tcase(s, tc_gateway());
	return s;
}

int main(void)
{
	return c2d_check_run(device_suite());
}
