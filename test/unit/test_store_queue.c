/* store.c, the queue and its indexes: queue key order and scans, the due
 * index, dedup keys, the timeout index, and quarantine of records that cannot
 * be processed. Fixture (fresh environment per test): store_fx.h; the
 * environment itself: test_store.c. */
#include "store_fx.h"

START_TEST(test_queue)
{
	static const uint64_t order[] = {1, 2, 255, 256, 65536, UINT64_MAX};
	static const char *const others[] = {"d", "d0", "d10", "d1x", "d2"};
	void *rec = NULL;
	size_t len = 0, i;
	struct seen s;

	begin();
	/* neighbours on both sides of d1's range */
	for(i = 0; i < 5; i++){
		q_put(others[i], 1);
		q_put(others[i], 300);
	}
	q_put("d1", 65536);
	q_put("d1", 256);
	q_put("d1", UINT64_MAX);
	q_put("d1", 1);
	q_put("d1", 255);
	q_put("d1", 2);
	commit();

	ck_assert_uint_eq(scan(&s, "d1", 0, 0), 6);
	for(i = 0; i < 6; i++){
		ck_assert_uint_eq(s.seq[i], order[i]);
	}
	ck_assert_uint_eq(scan(&s, "d1", 1, 0), 6);
	ck_assert_uint_eq(scan(&s, "d1", 255, 0), 4);
	ck_assert_uint_eq(s.seq[0], 255);
	ck_assert_uint_eq(scan(&s, "d1", 257, 0), 2);
	ck_assert_uint_eq(s.seq[0], 65536);
	ck_assert_uint_eq(scan(&s, "d1", UINT64_MAX, 0), 1);
	ck_assert_uint_eq(scan(&s, "d1", 0, 2), 2); /* cb stops early */
	ck_assert_uint_eq(s.seq[1], 2);
	ck_assert_uint_eq(scan(&s, "d", 0, 0), 2);
	ck_assert_uint_eq(scan(&s, "d10", 2, 0), 1);
	ck_assert_uint_eq(s.seq[0], 300);
	ck_assert_uint_eq(scan(&s, "d3", 0, 0), 0);
	ck_assert_uint_eq(scan(&s, "a", 0, 0), 0);
	ck_assert_uint_eq(scan(&s, "z", 0, 0), 0);

	ck_assert_int_eq(c2d_store_q_get(st, "d1", 256, &rec, &len), C2D_OK);
	ck_assert_uint_eq(len, strlen("rec-d1-256"));
	ck_assert_str_eq(rec, "rec-d1-256");
	free(rec);
	rec = NULL;
	ck_assert_int_eq(c2d_store_q_get(st, "d1", 3, &rec, &len), C2D_ENOTFOUND);
	ck_assert_ptr_null(rec);

	begin();
	ck_assert_int_eq(c2d_store_q_del(st, "d1", 256), C2D_OK);
	ck_assert_int_eq(c2d_store_q_del(st, "d1", 256), C2D_ENOTFOUND);
	ck_assert_int_eq(c2d_store_q_put(st, "d1", 9, NULL, 0), C2D_OK); /* empty record */
	commit();
	ck_assert_int_eq(c2d_store_q_get(st, "d1", 256, &rec, &len), C2D_ENOTFOUND);
	ck_assert_int_eq(c2d_store_q_get(st, "d1", 9, &rec, NULL), C2D_OK);
	ck_assert_str_eq(rec, "");
	free(rec);
}
END_TEST

static void due_is(uint64_t at, const char *dev, uint64_t seq)
{
	char got[C2D_DEV_MAX + 1];
	uint64_t gat, gseq;

	ck_assert_int_eq(c2d_store_due_first(st, &gat, got, &gseq), C2D_OK);
	ck_assert_uint_eq(gat, at);
	ck_assert_str_eq(got, dev);
	ck_assert_uint_eq(gseq, seq);
}

START_TEST(test_due)
{
	static const struct {
		uint64_t at;
		const char *dev;
		uint64_t seq;
	} want[] = {
		{255, "z", 1},
		{256, "a", 2},
		{256, "a", 256},
		{256, "d1", 1},
		{256, "d10", 1},
		{256, "d1x", 1},
		{65536, "a", 1},
		{UINT64_MAX, "a", 1},
	};
	char dev[C2D_DEV_MAX + 1];
	uint64_t at, seq;
	int i, n = (int)(sizeof(want) / sizeof(want[0]));

	ck_assert_int_eq(c2d_store_due_first(st, &at, dev, &seq), C2D_ENOTFOUND);
	begin();
	for(i = n - 1; i >= 0; i--){
		ck_assert_int_eq(c2d_store_due_add(st, want[i].at, want[i].dev, want[i].seq), C2D_OK);
	}
	due_is(255, "z", 1); /* inside the txn */
	commit();
	for(i = 0; i < n; i++){
		due_is(want[i].at, want[i].dev, want[i].seq);
		begin();
		ck_assert_int_eq(c2d_store_due_del(st, 1, want[i].dev, want[i].seq), C2D_ENOTFOUND);
		ck_assert_int_eq(c2d_store_due_del(st, want[i].at, want[i].dev, want[i].seq), C2D_OK);
		ck_assert_int_eq(c2d_store_due_del(st, want[i].at, want[i].dev, want[i].seq), C2D_ENOTFOUND);
		commit();
	}
	ck_assert_int_eq(c2d_store_due_first(st, &at, dev, &seq), C2D_ENOTFOUND);
}
END_TEST

START_TEST(test_dedup)
{
	unsigned char key[481];
	char dev[C2D_DEV_MAX + 1], longdev[C2D_DEV_MAX + 1];
	uint64_t seq;

	memset(key, 0, sizeof(key)); /* binary, NUL bytes included */
	key[5] = 7;
	memset(longdev, 'x', C2D_DEV_MAX);
	longdev[C2D_DEV_MAX] = '\0';
	begin();
	ck_assert_int_eq(c2d_store_dedup_put(st, key, 1, "d", 1), C2D_OK);
	ck_assert_int_eq(c2d_store_dedup_put(st, key, 480, longdev, UINT64_MAX), C2D_OK);
	ck_assert_int_eq(c2d_store_dedup_put(st, key, 10, "d10", 256), C2D_OK);
	ck_assert_int_eq(c2d_store_dedup_put(st, key, 0, "d", 1), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_dedup_put(st, key, 481, "d", 1), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_dedup_put(st, NULL, 1, "d", 1), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_dedup_put(st, key, 2, "d", 0), C2D_EINVAL);
	commit();

	ck_assert_int_eq(c2d_store_dedup_get(st, key, 1, dev, &seq), C2D_OK);
	ck_assert_str_eq(dev, "d");
	ck_assert_uint_eq(seq, 1);
	ck_assert_int_eq(c2d_store_dedup_get(st, key, 480, dev, &seq), C2D_OK);
	ck_assert_str_eq(dev, longdev);
	ck_assert_uint_eq(seq, UINT64_MAX);
	ck_assert_int_eq(c2d_store_dedup_get(st, key, 10, dev, &seq), C2D_OK);
	ck_assert_str_eq(dev, "d10");
	ck_assert_uint_eq(seq, 256);
	ck_assert_int_eq(c2d_store_dedup_get(st, key, 2, dev, &seq), C2D_ENOTFOUND);
	ck_assert_int_eq(c2d_store_dedup_get(st, key, 481, dev, &seq), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_dedup_get(st, key, 0, dev, &seq), C2D_EINVAL);

	begin();
	ck_assert_int_eq(c2d_store_dedup_put(st, key, 1, "e", 5), C2D_OK); /* overwrite */
	ck_assert_int_eq(c2d_store_dedup_del(st, key, 10), C2D_OK);
	ck_assert_int_eq(c2d_store_dedup_del(st, key, 10), C2D_ENOTFOUND);
	ck_assert_int_eq(c2d_store_dedup_del(st, key, 481), C2D_EINVAL);
	commit();
	ck_assert_int_eq(c2d_store_dedup_get(st, key, 1, dev, &seq), C2D_OK);
	ck_assert_str_eq(dev, "e");
	ck_assert_uint_eq(seq, 5);
	ck_assert_int_eq(c2d_store_dedup_get(st, key, 10, dev, &seq), C2D_ENOTFOUND);
}
END_TEST

/* The timeout index has the due index's order; each entry stores the clock. */
START_TEST(test_timeout_index)
{
	char dev[C2D_DEV_MAX + 1];
	uint64_t at, seq, clock;

	ck_assert_int_eq(c2d_store_tmo_add(st, 1, "d", 1, 1), C2D_ETXN);
	ck_assert_int_eq(c2d_store_clock_get(st, &clock), C2D_ENOTFOUND);
	begin();
	ck_assert_int_eq(c2d_store_tmo_add(st, 9000, "b", 2, 700), C2D_OK);
	ck_assert_int_eq(c2d_store_tmo_add(st, 8000, "a", 1, 800), C2D_OK);
	ck_assert_int_eq(c2d_store_due_add(st, 10, "z", 9), C2D_OK);
	commit();
	reopen();
	ck_assert_int_eq(c2d_store_clock_get(st, &clock), C2D_OK);
	ck_assert_uint_eq(clock, 800);
	ck_assert_int_eq(c2d_store_tmo_first(st, &at, dev, &seq), C2D_OK);
	ck_assert_uint_eq(at, 8000);
	ck_assert_str_eq(dev, "a");
	ck_assert_uint_eq(seq, 1);
	begin();
	ck_assert_int_eq(c2d_store_tmo_del(st, 8000, "a", 1), C2D_OK);
	ck_assert_int_eq(c2d_store_tmo_del(st, 8000, "a", 1), C2D_ENOTFOUND);
	ck_assert_int_eq(c2d_store_tmo_first(st, &at, dev, &seq), C2D_OK);
	ck_assert_uint_eq(at, 9000);
	/* an aborted entry takes its clock with it */
	ck_assert_int_eq(c2d_store_tmo_add(st, 9500, "c", 3, 900), C2D_OK);
	c2d_store_abort(st);
	ck_assert_int_eq(c2d_store_clock_get(st, &clock), C2D_OK);
	ck_assert_uint_eq(clock, 800);
	/* the due index is separate */
	ck_assert_int_eq(c2d_store_due_first(st, &at, dev, &seq), C2D_OK);
	ck_assert_uint_eq(at, 10);
	ck_assert_str_eq(dev, "z");
}
END_TEST

/* Records that cannot be processed move to quarantine, nothing else does. */
START_TEST(test_quarantine)
{
	char dev[C2D_DEV_MAX + 1];
	uint64_t at, seq, n;
	void *rec;

	begin();
	q_put("d", 1);
	q_put("d", 2);
	/* late enough that the bad key planted below ("\x01") sorts first */
	ck_assert_int_eq(c2d_store_due_add(st, 1ull << 57, "d", 2), C2D_OK);
	ck_assert_int_eq(c2d_store_q_quarantine(st, "d", 1), C2D_OK);
	ck_assert_int_eq(c2d_store_q_quarantine(st, "d", 1), C2D_ENOTFOUND);
	/* a readable first key stays */
	ck_assert_int_eq(c2d_store_dl_quarantine_first(st, false), C2D_ENOTFOUND);
	commit();
	ck_assert_int_eq(c2d_store_q_get(st, "d", 1, &rec, NULL), C2D_ENOTFOUND);
	ck_assert_int_eq(c2d_store_q_get(st, "d", 2, &rec, NULL), C2D_OK);
	free(rec);
	ck_assert_int_eq(c2d_store_quarantine_count(st, &n), C2D_OK);
	ck_assert_uint_eq(n, 1);

	/* an unreadable key first in due blocks due_first until it is moved */
	c2d_store_close(st);
	st = NULL;
	raw_put("due", "\x01", "", 0);
	open_ok();
	ck_assert_int_eq(c2d_store_due_first(st, &at, dev, &seq), C2D_ESTORE);
	ck_assert_int_eq(c2d_store_dl_quarantine_first(st, false), C2D_ETXN);
	begin();
	ck_assert_int_eq(c2d_store_dl_quarantine_first(st, false), C2D_OK);
	commit();
	ck_assert_int_eq(c2d_store_due_first(st, &at, dev, &seq), C2D_OK);
	ck_assert_uint_eq(at, 1ull << 57);
	ck_assert_int_eq(c2d_store_quarantine_count(st, &n), C2D_OK);
	ck_assert_uint_eq(n, 2);
}
END_TEST

static Suite *store_queue_suite(void)
{
	Suite *s = suite_create("store_queue");
	TCase *tc = store_fx_tcase(s, "queue");

	tcase_add_test(tc, test_queue);
	tcase_add_test(tc, test_due);
	tcase_add_test(tc, test_dedup);
	tcase_add_test(tc, test_timeout_index);
	tcase_add_test(tc, test_quarantine);
	return s;
}

int main(void)
{
	return c2d_check_run(store_queue_suite());
}
