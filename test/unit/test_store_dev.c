/* store.c, devices: twin records, device records and their size check,
 * the delete cascade (twin, queue, indexes; over many pages), paged device
 * scans, id marks and info. Fixture (fresh environment per test):
 * store_fx.h; the environment itself: test_store.c. */
#include "store_fx.h"

START_TEST(test_twin)
{
	uint64_t n = 99;

	ck_assert_int_eq(c2d_store_twin_count(st, &n), C2D_OK);
	ck_assert_uint_eq(n, 0);
	begin();
	ck_assert_int_eq(c2d_store_twin_put(st, "a", "{\"x\":1}", 7), C2D_OK);
	ck_assert_int_eq(c2d_store_twin_put(st, "b", "{\"y\":2}XXXX", 7), C2D_OK); /* len counts */
	ck_assert_int_eq(c2d_store_twin_put(st, "c", "", 0), C2D_OK);
	ck_assert_int_eq(c2d_store_twin_count(st, &n), C2D_OK); /* inside the txn */
	ck_assert_uint_eq(n, 3);
	commit();
	twin_is("a", "{\"x\":1}");
	twin_is("b", "{\"y\":2}");
	twin_is("c", "");
	ck_assert_int_eq(c2d_store_twin_count(st, &n), C2D_OK);
	ck_assert_uint_eq(n, 3);

	begin();
	ck_assert_int_eq(c2d_store_twin_put(st, "a", "{\"x\":10}", 8), C2D_OK);
	ck_assert_int_eq(c2d_store_twin_del(st, "b"), C2D_OK);
	ck_assert_int_eq(c2d_store_twin_del(st, "b"), C2D_ENOTFOUND);
	ck_assert_int_eq(c2d_store_twin_del(st, "zz"), C2D_ENOTFOUND);
	commit();
	twin_is("a", "{\"x\":10}");
	twin_absent("b");
	ck_assert_int_eq(c2d_store_twin_count(st, &n), C2D_OK);
	ck_assert_uint_eq(n, 2);
}
END_TEST

START_TEST(test_dev)
{
	struct c2d_devrec rec, got;
	int i;

	memset(&rec, 0, sizeof(rec));
	rec.queued = 3;
	rec.next_seq = 42;
	rec.created_ms = 1700000000000ULL;
	for(i = 0; i < C2D_DEVREC_COUNTERS; i++){
		rec.counters[i] = (uint64_t)i * 1000003;
	}
	ck_assert_int_eq(c2d_store_dev_get(st, "d", &got), C2D_ENOTFOUND);
	begin();
	ck_assert_int_eq(c2d_store_dev_put(st, "d", &rec), C2D_OK);
	commit();
	memset(&got, 0xff, sizeof(got));
	ck_assert_int_eq(c2d_store_dev_get(st, "d", &got), C2D_OK);
	ck_assert(memcmp(&got, &rec, sizeof(rec)) == 0);
}
END_TEST

START_TEST(test_dev_del_cascade)
{
	static const char *const devs[] = {"d", "d0", "d1", "d10", "d1x", "d2"};
	static const uint64_t seqs[] = {1, 2, 256};
	struct c2d_devrec rec;
	char dev[C2D_DEV_MAX + 1];
	char json[64];
	uint64_t seq, at, n;
	struct seen s;
	size_t i, j;

	begin();
	for(i = 0; i < 6; i++){
		put_device(devs[i], i);
		for(j = 0; j < 3; j++){
			q_put(devs[i], seqs[j]);
		}
	}
	ck_assert_int_eq(c2d_store_due_add(st, 10, "d1", 1), C2D_OK);
	ck_assert_int_eq(c2d_store_dedup_put(st, "k", 1, "d1", 1), C2D_OK);
	commit();

	begin();
	ck_assert_int_eq(c2d_store_dev_del(st, "d1"), C2D_OK);
	commit();
	ck_assert_int_eq(c2d_store_dev_get(st, "d1", &rec), C2D_ENOTFOUND);
	twin_absent("d1");
	ck_assert_uint_eq(scan(&s, "d1", 0, 0), 0);
	ck_assert_int_eq(c2d_store_twin_count(st, &n), C2D_OK);
	ck_assert_uint_eq(n, 5);
	for(i = 0; i < 6; i++){
		if(strcmp(devs[i], "d1") == 0) continue;
		ck_assert_int_eq(c2d_store_dev_get(st, devs[i], &rec), C2D_OK);
		ck_assert_uint_eq(rec.created_ms, i);
		snprintf(json, sizeof(json), "{\"dev\":\"%s\"}", devs[i]);
		twin_is(devs[i], json);
		ck_assert_uint_eq(scan(&s, devs[i], 0, 0), 3);
	}
	/* deadline and dedup entries are the caller's */
	ck_assert_int_eq(c2d_store_due_first(st, &at, dev, &seq), C2D_OK);
	ck_assert_str_eq(dev, "d1");
	ck_assert_int_eq(c2d_store_dedup_get(st, "k", 1, dev, &seq), C2D_OK);

	/* nothing left to delete */
	begin();
	ck_assert_int_eq(c2d_store_dev_del(st, "d1"), C2D_ENOTFOUND);
	ck_assert_int_eq(c2d_store_dev_del(st, "nobody"), C2D_ENOTFOUND);
	/* queue items alone are something */
	q_put("orphan", 5);
	ck_assert_int_eq(c2d_store_dev_del(st, "orphan"), C2D_OK);
	ck_assert_uint_eq(scan(&s, "orphan", 0, 0), 0);
	commit();
}
END_TEST

/* Many items over many pages: the cursor deletes walk across page merges. */
START_TEST(test_dev_del_many)
{
	struct seen s;
	uint64_t i;

	begin();
	for(i = 1; i <= 3000; i++){
		q_put("d1", i);
	}
	for(i = 1; i <= 5; i++){
		q_put("d0", i);
		q_put("d10", i);
	}
	commit();
	begin();
	ck_assert_int_eq(c2d_store_dev_del(st, "d1"), C2D_OK);
	ck_assert_uint_eq(scan(&s, "d1", 0, 0), 0); /* inside the txn */
	commit();
	ck_assert_uint_eq(scan(&s, "d1", 0, 0), 0);
	ck_assert_uint_eq(scan(&s, "d0", 0, 0), 5);
	ck_assert_uint_eq(scan(&s, "d10", 0, 0), 5);

	/* the table emptied by the walk */
	begin();
	ck_assert_int_eq(c2d_store_dev_del(st, "d0"), C2D_OK);
	ck_assert_int_eq(c2d_store_dev_del(st, "d10"), C2D_OK);
	commit();
	ck_assert_uint_eq(scan(&s, "d10", 0, 0), 0);
	begin();
	for(i = 1; i <= 2000; i++){
		q_put("last", i);
	}
	ck_assert_int_eq(c2d_store_dev_del(st, "last"), C2D_OK);
	commit();
	ck_assert_uint_eq(scan(&s, "last", 0, 0), 0);
}
END_TEST

START_TEST(test_dev_scan)
{
	struct names all, page;
	char name[16], after[C2D_DEV_MAX + 1];
	size_t i, pages = 0;

	begin();
	for(i = 0; i < 25; i++){
		snprintf(name, sizeof(name), "dev%02zu", i);
		put_device(name, i);
	}
	put_device("dev1", 100);
	commit();

	memset(&all, 0, sizeof(all));
	ck_assert_int_eq(c2d_store_dev_scan(st, NULL, 0, collect_dev, &all), C2D_OK);
	ck_assert_uint_eq(all.n, 26);
	ck_assert_str_eq(all.name[0], "dev00");
	ck_assert_str_eq(all.name[10], "dev1"); /* "dev1" < "dev10" */
	ck_assert_str_eq(all.name[11], "dev10");
	for(i = 1; i < all.n; i++){
		ck_assert_int_lt(strcmp(all.name[i - 1], all.name[i]), 0);
	}

	/* pages of 7: after = the last id of the previous page */
	after[0] = '\0';
	for(i = 0; i < all.n; pages++){
		memset(&page, 0, sizeof(page));
		ck_assert_int_eq(c2d_store_dev_scan(st, after, 7, collect_dev, &page), C2D_OK);
		ck_assert_uint_eq(page.n, all.n - i < 7 ? all.n - i : 7);
		for(size_t j = 0; j < page.n; j++, i++){
			ck_assert_str_eq(page.name[j], all.name[i]);
		}
		snprintf(after, sizeof(after), "%s", page.name[page.n - 1]);
	}
	ck_assert_uint_eq(pages, 4);
	memset(&page, 0, sizeof(page));
	ck_assert_int_eq(c2d_store_dev_scan(st, after, 7, collect_dev, &page), C2D_OK);
	ck_assert_uint_eq(page.n, 0);

	/* after an id that does not exist */
	memset(&page, 0, sizeof(page));
	ck_assert_int_eq(c2d_store_dev_scan(st, "dev055", 2, collect_dev, &page), C2D_OK);
	ck_assert_uint_eq(page.n, 2);
	ck_assert_str_eq(page.name[0], "dev06");
	ck_assert_str_eq(page.name[1], "dev07");
	/* cb stops early */
	memset(&page, 0, sizeof(page));
	page.stop_after = 3;
	ck_assert_int_eq(c2d_store_dev_scan(st, "", 0, collect_dev, &page), C2D_OK);
	ck_assert_uint_eq(page.n, 3);
}
END_TEST

/* Id marks only rise; info goes with the device. */
START_TEST(test_idmark_info)
{
	struct c2d_idmark m = {10, 5, 7}, lower = {3, 9, 1}, got;
	char *json;
	size_t len;

	begin();
	ck_assert_int_eq(c2d_store_idmark_raise(st, "d", &m), C2D_OK);
	ck_assert_int_eq(c2d_store_idmark_raise(st, "d", &lower), C2D_OK);
	ck_assert_int_eq(c2d_store_info_put(st, "d", "{\"fw\":\"1.2\"}", 12), C2D_OK);
	put_device("d", 1);
	commit();
	reopen();
	ck_assert_int_eq(c2d_store_idmark_get(st, "d", &got), C2D_OK);
	ck_assert_uint_eq(got.next_seq, 10);
	ck_assert_uint_eq(got.desired, 9);
	ck_assert_uint_eq(got.reported, 7);
	ck_assert_int_eq(c2d_store_info_get(st, "d", &json, &len), C2D_OK);
	ck_assert_str_eq(json, "{\"fw\":\"1.2\"}");
	free(json);
	begin();
	ck_assert_int_eq(c2d_store_dev_del(st, "d"), C2D_OK);
	commit();
	ck_assert_int_eq(c2d_store_info_get(st, "d", &json, &len), C2D_ENOTFOUND);
	/* the mark survives the device */
	ck_assert_int_eq(c2d_store_idmark_get(st, "d", &got), C2D_OK);
	ck_assert_uint_eq(got.next_seq, 10);
	/* a damaged mark is an error, not zeros */
	c2d_store_close(st);
	st = NULL;
	raw_put("idmark", "d", "xx", 2);
	open_ok();
	ck_assert_int_eq(c2d_store_idmark_get(st, "d", &got), C2D_ESTORE);
}
END_TEST

START_TEST(test_devrec_size)
{
	struct c2d_devrec rec;
	int logs;

	c2d_store_close(st);
	st = NULL;
	raw_put("devices", "bad", "abc", 3);
	open_ok();
	logs = c2d_test_log_count;
	ck_assert_int_eq(c2d_store_dev_get(st, "bad", &rec), C2D_ESTORE);
	ck_assert_int_eq(c2d_test_log_count, logs + 1);
	ck_assert_ptr_nonnull(strstr(c2d_test_last_log, "devices"));
}
END_TEST

static Suite *store_dev_suite(void)
{
	Suite *s = suite_create("store_dev");
	TCase *tc = store_fx_tcase(s, "dev");

	tcase_add_test(tc, test_twin);
	tcase_add_test(tc, test_dev);
	tcase_add_test(tc, test_dev_del_cascade);
	tcase_add_test(tc, test_idmark_info);
	tcase_add_test(tc, test_dev_del_many);
	tcase_add_test(tc, test_dev_scan);
	tcase_add_test(tc, test_devrec_size);
	return s;
}

int main(void)
{
	return c2d_check_run(store_dev_suite());
}
