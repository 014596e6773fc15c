/* duty.c: the background duty cycle's accounting (share of each window,
 * overrun owed by the next windows, idle windows paying it off). */
#include <check.h>
#include <stdint.h>

#include "c2d_duty.h"
#include "../check_main.h"

#define W 100000u /* window, us */
#define S 10000u  /* share, us */

START_TEST(test_fresh_window)
{
	struct c2d_duty d = {0};

	ck_assert_uint_eq(c2d_duty_allowance(&d, 5000000, W, S), S);
	ck_assert_uint_eq(d.window_us, 5000000);
	c2d_duty_charge(&d, 3000);
	ck_assert_uint_eq(c2d_duty_allowance(&d, 5000100, W, S), S - 3000);
	c2d_duty_charge(&d, 7000);
	ck_assert_uint_eq(c2d_duty_allowance(&d, 5050000, W, S), 0);
	/* the next window gives the share again */
	ck_assert_uint_eq(c2d_duty_allowance(&d, 5000000 + W, W, S), S);
}
END_TEST

/* Many small slices (a tick rate of thousands a second) add up to the
 * share, never more, in each window. */
START_TEST(test_many_ticks)
{
	struct c2d_duty d = {0};
	uint64_t now = 1000000, used = 0, a;
	unsigned w, t;

	for(w = 0; w < 20; w++){
		uint64_t start = now, in_window = 0;

		for(t = 0; t < 5000; t++){ /* a tick every 20 us */
			a = c2d_duty_allowance(&d, now, W, S);
			if(a){
				uint64_t slice = a < 100 ? a : 100;

				c2d_duty_charge(&d, slice);
				in_window += slice;
				used += slice;
			}
			now += 20;
		}
		ck_assert_uint_eq(now - start, W);
		ck_assert_uint_le(in_window, S);
		ck_assert_uint_ge(in_window, S - 100);
	}
	ck_assert_uint_le(used, 20 * S);
}
END_TEST

/* A slice that overran (a commit charged after the fact) is owed by the
 * next windows; whole idle windows pay it off. */
START_TEST(test_overrun_owed)
{
	struct c2d_duty d = {0};

	ck_assert_uint_eq(c2d_duty_allowance(&d, 0, W, S), S);
	c2d_duty_charge(&d, 25000); /* 2.5 shares */
	ck_assert_uint_eq(c2d_duty_allowance(&d, W, W, S), 0);            /* owes 15000 */
	ck_assert_uint_eq(c2d_duty_allowance(&d, 2 * W, W, S), S - 5000); /* owes 5000 */
	ck_assert_uint_eq(c2d_duty_allowance(&d, 3 * W, W, S), S);        /* paid */
	c2d_duty_charge(&d, 35000);
	/* three windows later at once: 30000 paid, 5000 still owed */
	ck_assert_uint_eq(c2d_duty_allowance(&d, 6 * W + 10, W, S), S - 5000);
	/* a long idle time pays everything off, however much was owed */
	c2d_duty_charge(&d, UINT64_MAX);
	ck_assert_uint_eq(d.used_us, UINT64_MAX);
	ck_assert_uint_eq(c2d_duty_allowance(&d, 7 * W + 10, W, S), 0);
	ck_assert_uint_eq(c2d_duty_allowance(&d, UINT64_MAX - 1, W, S), 0);
}
END_TEST

START_TEST(test_edges)
{
	struct c2d_duty d = {0};

	/* a clock before the window (a fresh state reused): a new window */
	d.window_us = 900000;
	d.used_us = 0;
	ck_assert_uint_eq(c2d_duty_allowance(&d, 100, W, S), S);
	ck_assert_uint_eq(d.window_us, 100);
	/* the whole window as share */
	ck_assert_uint_eq(c2d_duty_allowance(&d, 200, W, W), W);
	/* no window: the share is always there */
	c2d_duty_charge(&d, 5 * W);
	ck_assert_uint_eq(c2d_duty_allowance(&d, 300, 0, S), S);
	/* a share of 0: never */
	ck_assert_uint_eq(c2d_duty_allowance(&d, 10 * W, W, 0), 0);
}
END_TEST

/* A slice's length follows the gap since the last turn. */
START_TEST(test_idle_slice)
{
	/* a busy loop: the floor */
	ck_assert_uint_eq(c2d_duty_slice_us(0, 100, 1000), 100);
	ck_assert_uint_eq(c2d_duty_slice_us(1000, 100, 1000), 100);
	ck_assert_uint_eq(c2d_duty_slice_us(10000, 100, 1000), 100);
	/* in between: a hundredth of the gap */
	ck_assert_uint_eq(c2d_duty_slice_us(20000, 100, 1000), 200);
	ck_assert_uint_eq(c2d_duty_slice_us(50000, 100, 1000), 500);
	/* the broker's idle TICK (100 ms) and longer: the cap */
	ck_assert_uint_eq(c2d_duty_slice_us(100000, 100, 1000), 1000);
	ck_assert_uint_eq(c2d_duty_slice_us(UINT64_MAX, 100, 1000), 1000);
	/* a cap below the floor: the floor wins */
	ck_assert_uint_eq(c2d_duty_slice_us(100000, 100, 50), 100);
}
END_TEST

static Suite *duty_suite(void)
{
	Suite *s = suite_create("duty");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_fresh_window);
	tcase_add_test(tc, test_many_ticks);
	tcase_add_test(tc, test_overrun_owed);
	tcase_add_test(tc, test_edges);
	tcase_add_test(tc, test_idle_slice);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return c2d_check_run(duty_suite());
}
