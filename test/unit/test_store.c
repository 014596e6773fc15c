/* store.c, the environment: open (fresh, again, refused: bad paths, another
 * schema major), transactions (abort, none open, begin twice, nested), schema
 * upgrades in place of stores written by earlier releases (1.0, 1.1), sync
 * modes, map full, usage figures and invalid arguments to every call.
 * Devices and twins: test_store_dev.c; queue and indexes: test_store_queue.c.
 * Fixture (fresh environment per test): store_fx.h. */
#include "store_fx.h"

START_TEST(test_open_creates)
{
	char path[256], val[32];
	struct stat sb;

	c2d_store_close(st);
	st = NULL;
	snprintf(path, sizeof(path), "%s/a/b/db", tmpdir);
	conf.db_path = path;
	open_ok();
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert(S_ISDIR(sb.st_mode));
	ck_assert_uint_eq(sb.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/a", tmpdir);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0700);
	c2d_store_close(st);
	st = NULL;

	snprintf(dbpath, sizeof(dbpath), "%s/a/b/db", tmpdir);
	ck_assert_int_eq(raw_get("meta", "schema", val, sizeof(val)), 0);
	ck_assert_str_eq(val, "2.1");
	/* an existing directory, trailing slash */
	snprintf(path, sizeof(path), "%s/a/b/db/", tmpdir);
	conf.db_path = path;
	open_ok();
}
END_TEST

START_TEST(test_reopen)
{
	struct c2d_devrec rec;
	char dev[C2D_DEV_MAX + 1];
	uint64_t at, seq;
	struct seen s;

	begin();
	put_device("dev1", 1000);
	q_put("dev1", 7);
	ck_assert_int_eq(c2d_store_due_add(st, 5000, "dev1", 7), C2D_OK);
	ck_assert_int_eq(c2d_store_dedup_put(st, "k1", 2, "dev1", 7), C2D_OK);
	commit();
	reopen();

	ck_assert_int_eq(c2d_store_dev_get(st, "dev1", &rec), C2D_OK);
	ck_assert_uint_eq(rec.created_ms, 1000);
	ck_assert_uint_eq(rec.counters[3], 1001);
	twin_is("dev1", "{\"dev\":\"dev1\"}");
	ck_assert_uint_eq(scan(&s, "dev1", 0, 0), 1);
	ck_assert_uint_eq(s.seq[0], 7);
	ck_assert_int_eq(c2d_store_due_first(st, &at, dev, &seq), C2D_OK);
	ck_assert_uint_eq(at, 5000);
	ck_assert_str_eq(dev, "dev1");
	ck_assert_uint_eq(seq, 7);
	memset(dev, 0, sizeof(dev));
	ck_assert_int_eq(c2d_store_dedup_get(st, "k1", 2, dev, &seq), C2D_OK);
	ck_assert_str_eq(dev, "dev1");
	ck_assert_uint_eq(seq, 7);
}
END_TEST

START_TEST(test_abort)
{
	struct seen s;

	begin();
	twin_absent("d");
	ck_assert_int_eq(c2d_store_twin_put(st, "d", "{}", 2), C2D_OK);
	q_put("d", 1);
	/* reads inside the transaction see its writes */
	twin_is("d", "{}");
	ck_assert_uint_eq(scan(&s, "d", 0, 0), 1);
	ck_assert_int_eq(c2d_store_in_txn(st), 1);
	c2d_store_abort(st);
	ck_assert_int_eq(c2d_store_in_txn(st), 0);
	twin_absent("d");
	ck_assert_uint_eq(scan(&s, "d", 0, 0), 0);
	c2d_store_abort(st); /* no-op */

	/* close with a transaction open aborts it */
	begin();
	ck_assert_int_eq(c2d_store_twin_put(st, "d", "{}", 2), C2D_OK);
	reopen();
	twin_absent("d");
}
END_TEST

START_TEST(test_no_txn)
{
	struct c2d_devrec rec;

	memset(&rec, 0, sizeof(rec));
	ck_assert_int_eq(c2d_store_in_txn(st), 0);
	ck_assert_int_eq(c2d_store_dev_put(st, "d", &rec), C2D_ETXN);
	ck_assert_int_eq(c2d_store_dev_del(st, "d"), C2D_ETXN);
	ck_assert_int_eq(c2d_store_twin_put(st, "d", "{}", 2), C2D_ETXN);
	ck_assert_int_eq(c2d_store_twin_del(st, "d"), C2D_ETXN);
	ck_assert_int_eq(c2d_store_q_put(st, "d", 1, "x", 1), C2D_ETXN);
	ck_assert_int_eq(c2d_store_q_del(st, "d", 1), C2D_ETXN);
	ck_assert_int_eq(c2d_store_due_add(st, 1, "d", 1), C2D_ETXN);
	ck_assert_int_eq(c2d_store_due_del(st, 1, "d", 1), C2D_ETXN);
	ck_assert_int_eq(c2d_store_dedup_put(st, "k", 1, "d", 1), C2D_ETXN);
	ck_assert_int_eq(c2d_store_dedup_del(st, "k", 1), C2D_ETXN);
	ck_assert_int_eq(c2d_store_commit(st), C2D_ETXN);
	c2d_store_abort(st);
	twin_absent("d");
}
END_TEST

START_TEST(test_begin_twice)
{
	begin();
	ck_assert_int_eq(c2d_store_begin(st), C2D_ETXN);
	ck_assert_int_eq(c2d_store_in_txn(st), 1);
	/* the first transaction is still usable */
	ck_assert_int_eq(c2d_store_twin_put(st, "d", "{}", 2), C2D_OK);
	commit();
	ck_assert_int_eq(c2d_store_in_txn(st), 0);
	twin_is("d", "{}");
	begin();
	commit();
}
END_TEST

/* A nested transaction's writes join the outer one or vanish alone. */
START_TEST(test_nested)
{
	struct seen s;

	/* without an outer transaction, nest_begin opens one */
	ck_assert_int_eq(c2d_store_nest_begin(st), C2D_OK);
	ck_assert_int_eq(c2d_store_in_txn(st), 1);
	ck_assert_int_eq(c2d_store_in_nest(st), 1);
	ck_assert_int_eq(c2d_store_nest_begin(st), C2D_ETXN);
	q_put("d", 1);
	ck_assert_int_eq(c2d_store_nest_commit(st), C2D_OK);
	ck_assert_int_eq(c2d_store_in_nest(st), 0);
	ck_assert_int_eq(c2d_store_nest_commit(st), C2D_ETXN);

	ck_assert_int_eq(c2d_store_nest_begin(st), C2D_OK);
	q_put("d", 2);
	/* the child sees the parent's writes and its own */
	ck_assert_uint_eq(scan(&s, "d", 0, 0), 2);
	c2d_store_nest_abort(st);
	c2d_store_nest_abort(st); /* no-op */
	ck_assert_uint_eq(scan(&s, "d", 0, 0), 1);

	/* commit merges a child still open */
	ck_assert_int_eq(c2d_store_nest_begin(st), C2D_OK);
	q_put("d", 3);
	commit();
	ck_assert_int_eq(c2d_store_in_txn(st), 0);
	ck_assert_int_eq(c2d_store_in_nest(st), 0);
	reopen();
	ck_assert_uint_eq(scan(&s, "d", 0, 0), 2);
	ck_assert_uint_eq(s.seq[0], 1);
	ck_assert_uint_eq(s.seq[1], 3);

	/* abort drops both */
	begin();
	q_put("d", 4);
	ck_assert_int_eq(c2d_store_nest_begin(st), C2D_OK);
	q_put("d", 5);
	c2d_store_abort(st);
	ck_assert_int_eq(c2d_store_in_txn(st), 0);
	ck_assert_uint_eq(scan(&s, "d", 0, 0), 2);
}
END_TEST

START_TEST(test_schema_major)
{
	char want[512];

	c2d_store_close(st);
	st = NULL;
	raw_put("meta", "schema", "3.0", 3);
	ck_assert_int_eq(store_open(), C2D_ESCHEMA);
	ck_assert_ptr_null(st);
	snprintf(want, sizeof(want), "database at %s has schema 3.x; this plugin reads 2.x (and upgrades 1.x)", dbpath);
	ck_assert_str_eq(err, want);
	ck_assert_str_eq(c2d_test_last_log, want);

	raw_put("meta", "schema", "12.3", 4);
	ck_assert_int_eq(store_open(), C2D_ESCHEMA);
	snprintf(want, sizeof(want), "database at %s has schema 12.x; this plugin reads 2.x (and upgrades 1.x)", dbpath);
	ck_assert_str_eq(err, want);

	raw_put("meta", "schema", "0.9", 3);
	ck_assert_int_eq(store_open(), C2D_ESCHEMA);

	raw_put("meta", "schema", "one", 3);
	ck_assert_int_eq(store_open(), C2D_ESCHEMA);
	snprintf(want, sizeof(want), "database at %s has an unreadable schema record", dbpath);
	ck_assert_str_eq(err, want);

	/* another minor of the same major is fine */
	raw_put("meta", "schema", "2.7", 3);
	open_ok();
	ck_assert_str_eq(err, "");
}
END_TEST

/* Close the store, set its schema record to `schema`, open it (the
 * upgrade, if any, happens here), close it, check the record says `want`,
 * open it again. Both borrowed. */
static void reopen_as(const char *schema, const char *want)
{
	char val[32];

	c2d_store_close(st);
	st = NULL;
	raw_put("meta", "schema", schema, strlen(schema));
	open_ok();
	c2d_store_close(st);
	st = NULL;
	ck_assert_int_eq(raw_get("meta", "schema", val, sizeof(val)), 0);
	ck_assert_str_eq(val, want);
	open_ok();
}

/* A store written by release 1 (schema 1.0, no info/idmark tables) opens,
 * gets the new tables and keeps what it had. */
START_TEST(test_schema_upgrade)
{
	struct c2d_devrec rec;
	struct c2d_idmark m;
	char *json;

	begin();
	put_device("old", 42);
	commit();
	reopen_as("1.0", "2.1");
	ck_assert_int_eq(c2d_store_dev_get(st, "old", &rec), C2D_OK);
	ck_assert_uint_eq(rec.created_ms, 42);
	ck_assert_int_eq(c2d_store_info_get(st, "old", &json, NULL), C2D_ENOTFOUND);
	ck_assert_int_eq(c2d_store_idmark_get(st, "old", &m), C2D_OK);
	ck_assert_uint_eq(m.next_seq + m.desired + m.reported, 0);
}
END_TEST

/* A 1.1 database (written before the timeout index) opens as 1.2 and keeps
 * its deadlines; a later minor is left as it is. */
START_TEST(test_schema_upgrade_timeout)
{
	char dev[C2D_DEV_MAX + 1];
	uint64_t at, seq;

	begin();
	ck_assert_int_eq(c2d_store_due_add(st, 5000, "d", 3), C2D_OK);
	commit();
	reopen_as("1.1", "2.1");
	ck_assert_int_eq(c2d_store_due_first(st, &at, dev, &seq), C2D_OK);
	ck_assert_uint_eq(at, 5000);
	ck_assert_int_eq(c2d_store_tmo_first(st, &at, dev, &seq), C2D_ENOTFOUND);
	ck_assert_int_eq(c2d_store_clock_get(st, &at), C2D_ENOTFOUND);
	reopen_as("2.7", "2.7");
}
END_TEST

START_TEST(test_sync_modes)
{
	conf.sync = (enum c2d_sync)_i;
	reopen();
	begin();
	ck_assert_int_eq(c2d_store_twin_put(st, "d", "{}", 2), C2D_OK);
	commit();
	ck_assert_int_eq(c2d_store_sync(st), C2D_OK);
	begin();
	ck_assert_int_eq(c2d_store_twin_put(st, "e", "[]", 2), C2D_OK);
	commit();
	reopen();
	twin_is("d", "{}");
	twin_is("e", "[]");
}
END_TEST

START_TEST(test_open_errors)
{
	char path[256], want[512];
	struct c2d_store *other = (struct c2d_store *)err; /* not NULL: open must reset it */
	FILE *f;

	c2d_store_close(st);
	st = NULL;

	/* a path under a regular file */
	snprintf(path, sizeof(path), "%s/file", tmpdir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/file/db", tmpdir);
	conf.db_path = path;
	ck_assert_int_eq(store_open(), C2D_ESTORE);
	ck_assert_ptr_null(st);
	snprintf(want, sizeof(want), "cannot create database directory %s: %s", path, strerror(ENOTDIR));
	ck_assert_str_eq(err, want);
	ck_assert_str_eq(c2d_test_last_log, want);

	/* the path itself is a regular file */
	snprintf(path, sizeof(path), "%s/file", tmpdir);
	ck_assert_int_eq(store_open(), C2D_ESTORE);
	snprintf(want, sizeof(want), "database directory %s is not a directory", path);
	ck_assert_str_eq(err, want);

	/* a directory we may not write (root may write anywhere) */
	if(geteuid() != 0){
		snprintf(path, sizeof(path), "%s/ro", tmpdir);
		ck_assert_int_eq(mkdir(path, 0500), 0);
		ck_assert_int_eq(store_open(), C2D_ESTORE);
		ck_assert_ptr_nonnull(strstr(err, "is not writable"));
	}

	/* bad conf; err may be NULL */
	conf.db_path = NULL;
	ck_assert_int_eq(store_open(), C2D_EINVAL);
	ck_assert_str_eq(err, "plugin_opt_db_path is not set");
	conf.db_path = dbpath;
	conf.map_size_mib = 0;
	ck_assert_int_eq(c2d_store_open(&other, &conf, NULL, 0), C2D_EINVAL);
	ck_assert_ptr_null(other);
	ck_assert_int_eq(c2d_store_open(NULL, &conf, err, sizeof(err)), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_open(&other, NULL, err, sizeof(err)), C2D_EINVAL);
	conf.map_size_mib = 16;
	/* a truncated reason is still NUL-terminated */
	conf.db_path = NULL;
	ck_assert_int_eq(c2d_store_open(&other, &conf, err, 5), C2D_EINVAL);
	ck_assert_str_eq(err, "plug");
	conf.db_path = dbpath;
	open_ok();
}
END_TEST

START_TEST(test_map_full)
{
	static char big[32 * 1024];
	char want[512];
	void *rec;
	size_t len;
	uint64_t seq, used, map;
	int rc = C2D_OK, logs = 0;

	conf.map_size_mib = 1;
	reopen();
	ck_assert_int_eq(c2d_store_usage(st, &used, &map), C2D_OK);
	ck_assert_uint_eq(map, 1024 * 1024);
	begin();
	ck_assert_int_eq(c2d_store_twin_put(st, "keep", "{}", 2), C2D_OK);
	commit();

	memset(big, 'b', sizeof(big));
	for(seq = 1; seq < 100; seq++){
		begin();
		logs = c2d_test_log_count;
		rc = c2d_store_q_put(st, "big", seq, big, sizeof(big));
		if(rc != C2D_OK){
			c2d_store_abort(st);
			break;
		}
		rc = c2d_store_commit(st);
		if(rc != C2D_OK) break;
	}
	ck_assert_int_eq(rc, C2D_EFULL);
	ck_assert_uint_gt(seq, 3);
	ck_assert_int_eq(c2d_test_log_count, logs + 1);
	snprintf(want, sizeof(want), "LMDB map full (map_size 1 MiB at %s): raise plugin_opt_map_size", dbpath);
	ck_assert_str_eq(c2d_test_last_log, want);
	ck_assert_int_eq(c2d_store_in_txn(st), 0);

	/* committed data is intact */
	twin_is("keep", "{}");
	ck_assert_int_eq(c2d_store_q_get(st, "big", 1, &rec, &len), C2D_OK);
	ck_assert_uint_eq(len, sizeof(big));
	free(rec);
	ck_assert_int_eq(c2d_store_q_get(st, "big", seq, &rec, &len), C2D_ENOTFOUND);

	/* free some room, then write again */
	begin();
	ck_assert_int_eq(c2d_store_q_del(st, "big", 1), C2D_OK);
	ck_assert_int_eq(c2d_store_q_del(st, "big", 2), C2D_OK);
	commit();
	begin();
	ck_assert_int_eq(c2d_store_twin_put(st, "small", "{\"a\":1}", 7), C2D_OK);
	commit();
	twin_is("small", "{\"a\":1}");
}
END_TEST

START_TEST(test_usage)
{
	static char blob[4096];
	uint64_t used0, used1, used2, bound1, bound2, map;
	uint64_t i;

	ck_assert_int_eq(c2d_store_usage(st, &used0, &map), C2D_OK);
	ck_assert_uint_eq(map, 16 * 1024 * 1024);
	ck_assert_uint_gt(used0, 0);
	ck_assert_uint_le(used0, map);
	begin();
	for(i = 1; i <= 256; i++){
		ck_assert_int_eq(c2d_store_q_put(st, "d", i, blob, sizeof(blob)), C2D_OK);
	}
	commit();
	ck_assert_int_eq(c2d_store_usage(st, &used1, &map), C2D_OK);
	ck_assert_uint_ge(used1, used0 + 256 * 4096);
	ck_assert_uint_le(used1, map);
	/* the cheap bound (high-water mark) is never below the use, and stays
	 * up when pages go back to the free list */
	ck_assert_int_eq(c2d_store_usage_bound(st, &bound1, &map), C2D_OK);
	ck_assert_uint_eq(map, 16 * 1024 * 1024);
	ck_assert_uint_ge(bound1, used1);
	begin();
	for(i = 1; i <= 256; i++){
		ck_assert_int_eq(c2d_store_q_del(st, "d", i), C2D_OK);
	}
	commit();
	ck_assert_int_eq(c2d_store_usage(st, &used2, &map), C2D_OK);
	ck_assert_int_eq(c2d_store_usage_bound(st, &bound2, &map), C2D_OK);
	ck_assert_uint_ge(bound2, bound1);
	ck_assert_uint_lt(used2, used1);
	ck_assert_uint_lt(used2, bound2);
}
END_TEST

static int never(void *ud, uint64_t seq, const void *rec, size_t len)
{
	(void)ud;
	(void)seq;
	(void)rec;
	(void)len;
	ck_abort_msg("called");
	return 1;
}

START_TEST(test_invalid_args)
{
	char dev129[C2D_DEV_MAX + 2], dev128[C2D_DEV_MAX + 1];
	char out[C2D_DEV_MAX + 1];
	struct c2d_devrec rec;
	char *json;
	void *q;
	uint64_t u, v;
	int logs = c2d_test_log_count;

	memset(&rec, 0, sizeof(rec));
	memset(dev129, 'x', sizeof(dev129) - 1);
	dev129[sizeof(dev129) - 1] = '\0';
	memset(dev128, 'y', sizeof(dev128) - 1);
	dev128[sizeof(dev128) - 1] = '\0';

	begin();
	ck_assert_int_eq(c2d_store_twin_put(st, NULL, "{}", 2), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_twin_put(st, "", "{}", 2), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_twin_put(st, dev129, "{}", 2), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_twin_put(st, "d", NULL, 2), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_twin_put(st, dev128, "{}", 2), C2D_OK);
	ck_assert_int_eq(c2d_store_twin_get(st, dev129, &json, NULL), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_twin_get(st, "d", NULL, NULL), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_twin_del(st, ""), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_twin_count(st, NULL), C2D_EINVAL);

	ck_assert_int_eq(c2d_store_dev_put(st, NULL, &rec), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_dev_put(st, "d", NULL), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_dev_put(st, dev129, &rec), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_dev_get(st, "", &rec), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_dev_get(st, "d", NULL), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_dev_del(st, dev129), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_dev_scan(st, dev129, 0, collect_dev, NULL), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_dev_scan(st, NULL, 0, NULL, NULL), C2D_EINVAL);

	ck_assert_int_eq(c2d_store_q_put(st, "d", 0, "x", 1), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_q_put(st, "d", 1, NULL, 1), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_q_put(st, "", 1, "x", 1), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_q_put(st, dev129, 1, "x", 1), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_q_get(st, "d", 0, &q, NULL), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_q_get(st, "d", 1, NULL, NULL), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_q_del(st, "d", 0), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_q_del(st, NULL, 1), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_q_scan(st, NULL, 0, never, NULL), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_q_scan(st, "d", 0, NULL, NULL), C2D_EINVAL);

	ck_assert_int_eq(c2d_store_due_add(st, 1, "d", 0), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_due_add(st, 1, dev129, 1), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_due_del(st, 1, "", 1), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_due_first(st, NULL, out, &u), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_due_first(st, &u, NULL, &v), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_due_first(st, &u, out, NULL), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_dedup_put(st, "k", 1, dev129, 1), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_dedup_get(st, "k", 1, NULL, &u), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_dedup_get(st, "k", 1, out, NULL), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_dedup_del(st, NULL, 1), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_usage(st, NULL, &u), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_usage(st, &u, NULL), C2D_EINVAL);
	commit();
	twin_is(dev128, "{}");

	/* no store */
	ck_assert_int_eq(c2d_store_begin(NULL), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_commit(NULL), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_sync(NULL), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_in_txn(NULL), 0);
	ck_assert_int_eq(c2d_store_twin_put(NULL, "d", "{}", 2), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_q_scan(NULL, "d", 0, never, NULL), C2D_EINVAL);
	c2d_store_abort(NULL);
	c2d_store_close(NULL);
	ck_assert_int_eq(c2d_test_log_count, logs); /* argument errors are not logged */
}
END_TEST

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = store_fx_tcase(s, "core");

	tcase_add_test(tc, test_open_creates);
	tcase_add_test(tc, test_reopen);
	tcase_add_test(tc, test_abort);
	tcase_add_test(tc, test_no_txn);
	tcase_add_test(tc, test_begin_twice);
	tcase_add_test(tc, test_schema_upgrade);
	tcase_add_test(tc, test_schema_major);
	tcase_add_test(tc, test_schema_upgrade_timeout);
	tcase_add_test(tc, test_nested);
	tcase_add_test(tc, test_map_full);
	tcase_add_loop_test(tc, test_sync_modes, C2D_SYNC_FULL, C2D_SYNC_PERIODIC + 1);
	tcase_add_test(tc, test_usage);
	tcase_add_test(tc, test_invalid_args);
	tcase_add_test(tc, test_open_errors);
	return s;
}

int main(void)
{
	return c2d_check_run(store_suite());
}
