/* The main() of every Check suite (test/unit, test/broker): runs the suite
 * (each suite keeps its own suite/tcase setup and timeouts) and returns the
 * process exit code. Header-only. */
#ifndef C2D_CHECK_MAIN_H
#define C2D_CHECK_MAIN_H

#include <check.h>

/* Runs every test of s (consumed: the runner frees it) with CK_NORMAL output.
 * Returns 0 when all passed, 1 otherwise. */
static inline int c2d_check_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

#endif
