/* store_jobs.c: the active jobs' wake times (jactive values): a sleeping
 * job is left out of the due scan until its time, a whole scan that finds
 * every job asleep lets the tick skip its read until the first wakes, and
 * a wake, an activation or a rolled back transaction forgets that; a wake
 * never brings a finished job back; what 1.3 to 2.1 wrote (empty values)
 * is due. Each test gets a fresh environment in a mkdtemp() directory. */
#include "store_fx.h"

struct due {
	int n;
	char job[8][C2D_JOB_MAX + 1];
};

static int collect_job(void *ud, const char *job)
{
	struct due *d = ud;

	snprintf(d->job[d->n++], sizeof(d->job[0]), "%s", job);
	return d->n == 8;
}

/* The due jobs at now_ms, as "a,b" (static buffer). */
static const char *due_at(uint64_t now_ms)
{
	static char out[128];
	struct due d = {0};
	size_t k = 0;
	int i;

	ck_assert_int_eq(c2d_store_job_scan_due(st, NULL, now_ms, collect_job, &d), C2D_OK);
	out[0] = '\0';
	for(i = 0; i < d.n; i++) k += (size_t)snprintf(out + k, sizeof(out) - k, "%s%s", i ? "," : "", d.job[i]);
	return out;
}

static void wake(const char *job, uint64_t at_ms)
{
	ck_assert_int_eq(c2d_store_job_wake(st, job, at_ms), C2D_OK);
}

START_TEST(sleep_and_wake)
{
	begin();
	ck_assert_int_eq(c2d_store_job_active(st, "a", true), C2D_OK);
	ck_assert_int_eq(c2d_store_job_active(st, "b", true), C2D_OK);
	commit();
	ck_assert_str_eq(due_at(1000), "a,b");
	ck_assert(!c2d_store_jobs_asleep(st, 1000));
	begin();
	wake("a", 5000);
	commit();
	ck_assert_str_eq(due_at(1000), "b");
	ck_assert(!c2d_store_jobs_asleep(st, 1000)); /* b is due */
	ck_assert_str_eq(due_at(5000), "a,b");
	begin();
	wake("b", UINT64_MAX); /* until woken */
	commit();
	ck_assert_str_eq(due_at(1000), "");
	/* all asleep: nothing to read before 5000 */
	ck_assert(c2d_store_jobs_asleep(st, 1000));
	ck_assert(c2d_store_jobs_asleep(st, 4999));
	ck_assert(!c2d_store_jobs_asleep(st, 5000));
	ck_assert_str_eq(due_at(1000000), "a");
	/* a wake forgets it at once */
	ck_assert_str_eq(due_at(1000), "");
	ck_assert(c2d_store_jobs_asleep(st, 1000));
	begin();
	wake("b", 0);
	ck_assert(!c2d_store_jobs_asleep(st, 1000));
	commit();
	ck_assert_str_eq(due_at(1000), "b");
	/* an activation too */
	begin();
	wake("b", 9000);
	commit();
	ck_assert_str_eq(due_at(1000), "");
	ck_assert(c2d_store_jobs_asleep(st, 1000));
	begin();
	ck_assert_int_eq(c2d_store_job_active(st, "c", true), C2D_OK);
	ck_assert(!c2d_store_jobs_asleep(st, 1000));
	commit();
	ck_assert_str_eq(due_at(1000), "c");
	/* the plain scan still lists them all; durable across a reopen */
	reopen();
	ck_assert_str_eq(due_at(1000), "c");
	ck_assert_str_eq(due_at(5000), "a,c");
}
END_TEST

/* In the open transaction a (due) goes to sleep and a whole scan sees all
 * asleep; rollback() undoes it: the skip is forgotten, a is due again. */
static void sleep_then_roll_back(void (*rollback)(struct c2d_store *))
{
	wake("a", 5000);
	ck_assert_str_eq(due_at(1000), "");
	ck_assert(c2d_store_jobs_asleep(st, 1000));
	rollback(st);
	ck_assert(!c2d_store_jobs_asleep(st, 1000));
	ck_assert_str_eq(due_at(1000), "a");
}

/* A scan inside a write transaction that is then rolled back saw what is
 * gone: the tick must not skip on it. */
START_TEST(rollback_forgets)
{
	begin();
	ck_assert_int_eq(c2d_store_job_active(st, "a", true), C2D_OK);
	commit();
	begin();
	sleep_then_roll_back(c2d_store_abort);
	/* a nested transaction's too */
	begin();
	ck_assert_int_eq(c2d_store_nest_begin(st), C2D_OK);
	sleep_then_roll_back(c2d_store_nest_abort);
	commit();
}
END_TEST

/* A wake of a job no longer active (finished, or never) does not bring it
 * back. */
START_TEST(wake_finished)
{
	struct due d = {0};

	begin();
	ck_assert_int_eq(c2d_store_job_active(st, "a", true), C2D_OK);
	ck_assert_int_eq(c2d_store_job_active(st, "a", false), C2D_OK);
	wake("a", 0);
	wake("never", 0);
	commit();
	ck_assert_str_eq(due_at(1000), "");
	ck_assert_int_eq(c2d_store_job_scan(st, NULL, true, collect_job, &d), C2D_OK);
	ck_assert_int_eq(d.n, 0);
	ck_assert_int_eq(c2d_store_job_wake(st, "", 0), C2D_EINVAL);
}
END_TEST

/* Values as an earlier release wrote them (empty) are due; an 8-byte one
 * is a wake time; any other length counts as due. */
START_TEST(older_values)
{
	static const unsigned char later[8] = {0, 0, 0, 0, 0, 0, 0x13, 0x88}; /* 5000 */

	c2d_store_close(st);
	st = NULL;
	raw_put("jactive", "old", "", 0);
	raw_put("jactive", "slept", later, sizeof(later));
	raw_put("jactive", "odd", "xyz", 3);
	open_ok();
	ck_assert_str_eq(due_at(1000), "odd,old");
	ck_assert_str_eq(due_at(5000), "odd,old,slept");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("store_jobs");
	TCase *tc = tcase_create("wake");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, sleep_and_wake);
	tcase_add_test(tc, rollback_forgets);
	tcase_add_test(tc, wake_finished);
	tcase_add_test(tc, older_values);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
