/* store_gw.c: the gateway registry (gw, gwsubs): assign, move, clear,
 * count by gateway, durable across a reopen, bad arguments, a damaged
 * record, and a schema 1.3 store (without the tables) upgraded in place.
 * Each test gets a fresh environment in a mkdtemp() directory. */
#define _XOPEN_SOURCE 700
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "c2d_err.h"
#include "c2d_store.h"
#include "log_stderr.h"
#include "../check_main.h"

static char dir[64], dbpath[128];
static struct c2d_conf conf;
static struct c2d_store *st;

static int unlink_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void store_open(void)
{
	char err[256] = "";

	ck_assert_msg(c2d_store_open(&st, &conf, err, sizeof(err)) == C2D_OK, "open: %s", err);
}

static void store_close(void)
{
	c2d_store_close(st);
	st = NULL;
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/c2d_gw_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(dbpath, sizeof(dbpath), "%s/db", dir);
	memset(&conf, 0, sizeof(conf));
	conf.db_path = dbpath;
	conf.map_size_mib = 16;
	conf.sync = C2D_SYNC_PERIODIC;
	store_open();
}

static void teardown(void)
{
	store_close();
	nftw(dir, unlink_cb, 8, FTW_DEPTH | FTW_PHYS);
}

static uint64_t count(const char *gw)
{
	uint64_t n = 99;

	ck_assert_int_eq(c2d_store_gw_count(st, gw, 100, &n), C2D_OK);
	return n;
}

static void expect_gw(const char *sub, const char *want)
{
	char gw[C2D_DEV_MAX + 1];

	if(want == NULL){
		ck_assert_int_eq(c2d_store_gw_get(st, sub, gw), C2D_ENOTFOUND);
		return;
	}
	ck_assert_int_eq(c2d_store_gw_get(st, sub, gw), C2D_OK);
	ck_assert_str_eq(gw, want);
}

START_TEST(assign_move_clear)
{
	char old[C2D_DEV_MAX + 1];
	uint64_t n;

	ck_assert_int_eq(c2d_store_begin(st), C2D_OK);
	ck_assert_int_eq(c2d_store_gw_set(st, "s1", "gw1"), C2D_OK);
	ck_assert_int_eq(c2d_store_gw_set(st, "s2", "gw1"), C2D_OK);
	ck_assert_int_eq(c2d_store_gw_set(st, "s2", "gw1"), C2D_OK); /* again: no change */
	ck_assert_int_eq(c2d_store_gw_set(st, "t1", "gw10"), C2D_OK); /* a gateway id that gw1 prefixes */
	ck_assert_int_eq(c2d_store_commit(st), C2D_OK);
	expect_gw("s1", "gw1");
	ck_assert_uint_eq(count("gw1"), 2);
	ck_assert_uint_eq(count("gw10"), 1);
	ck_assert_uint_eq(count("gw"), 0);
	ck_assert_int_eq(c2d_store_gw_count(st, "gw1", 1, &n), C2D_OK); /* counted up to the limit */
	ck_assert_uint_eq(n, 1);

	/* durable */
	store_close();
	store_open();
	expect_gw("s2", "gw1");

	/* moved: counted under the new gateway only */
	ck_assert_int_eq(c2d_store_begin(st), C2D_OK);
	ck_assert_int_eq(c2d_store_gw_set(st, "s2", "gw2"), C2D_OK);
	ck_assert_int_eq(c2d_store_commit(st), C2D_OK);
	ck_assert_uint_eq(count("gw1"), 1);
	ck_assert_uint_eq(count("gw2"), 1);

	/* cleared: the old gateway is handed back */
	ck_assert_int_eq(c2d_store_begin(st), C2D_OK);
	ck_assert_int_eq(c2d_store_gw_del(st, "s2", old), C2D_OK);
	ck_assert_str_eq(old, "gw2");
	ck_assert_int_eq(c2d_store_gw_del(st, "s2", old), C2D_ENOTFOUND);
	ck_assert_int_eq(c2d_store_commit(st), C2D_OK);
	expect_gw("s2", NULL);
	ck_assert_uint_eq(count("gw2"), 0);
	/* an aborted change leaves nothing */
	ck_assert_int_eq(c2d_store_begin(st), C2D_OK);
	ck_assert_int_eq(c2d_store_gw_set(st, "s9", "gw1"), C2D_OK);
	c2d_store_abort(st);
	expect_gw("s9", NULL);
	ck_assert_uint_eq(count("gw1"), 1);
}
END_TEST

START_TEST(bad_arguments)
{
	char gw[C2D_DEV_MAX + 1], longid[C2D_DEV_MAX + 2];
	uint64_t n;

	memset(longid, 'x', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	ck_assert_int_eq(c2d_store_gw_set(st, "s1", "gw1"), C2D_ETXN); /* writes need the transaction */
	ck_assert_int_eq(c2d_store_begin(st), C2D_OK);
	ck_assert_int_eq(c2d_store_gw_set(st, "", "gw1"), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_gw_set(st, "s1", ""), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_gw_set(st, longid, "gw1"), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_gw_set(st, "s1", longid), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_gw_get(st, NULL, gw), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_gw_count(st, "gw1", 0, &n), C2D_EINVAL);
	ck_assert_int_eq(c2d_store_gw_count(st, NULL, 1, &n), C2D_EINVAL);
	c2d_store_abort(st);
}
END_TEST

/* Plant a value in table db (the store closed) with LMDB directly; with
 * drop, empty-and-delete that table instead (an older store had none). */
static void raw(const char *db, const char *key, const char *val, bool drop)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {key ? strlen(key) : 0, (void *)key}, v = {val ? strlen(val) : 0, (void *)val};

	ck_assert_ptr_null(st);
	ck_assert_int_eq(mdb_env_create(&env), 0);
	ck_assert_int_eq(mdb_env_set_maxdbs(env, 32), 0);
	ck_assert_int_eq(mdb_env_open(env, dbpath, 0, 0600), 0);
	ck_assert_int_eq(mdb_txn_begin(env, NULL, 0, &txn), 0);
	ck_assert_int_eq(mdb_dbi_open(txn, db, 0, &dbi), 0);
	if(drop) ck_assert_int_eq(mdb_drop(txn, dbi, 1), 0);
	else ck_assert_int_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

START_TEST(damaged_record)
{
	char gw[C2D_DEV_MAX + 1];

	store_close();
	raw("gw", "s1", "", false);
	store_open();
	ck_assert_int_eq(c2d_store_gw_get(st, "s1", gw), C2D_ESTORE);
	ck_assert_ptr_nonnull(strstr(c2d_test_last_log, "bad gateway id"));
}
END_TEST

START_TEST(upgrade_from_1_3)
{
	char gw[C2D_DEV_MAX + 1];

	store_close();
	raw("gw", NULL, NULL, true);
	raw("gwsubs", NULL, NULL, true);
	raw("meta", "schema", "1.3", false);
	store_open();
	ck_assert_ptr_nonnull(strstr(c2d_test_last_log, "schema 1.3 upgraded to 1.4"));
	ck_assert_int_eq(c2d_store_gw_get(st, "s1", gw), C2D_ENOTFOUND);
	ck_assert_int_eq(c2d_store_begin(st), C2D_OK);
	ck_assert_int_eq(c2d_store_gw_set(st, "s1", "gw1"), C2D_OK);
	ck_assert_int_eq(c2d_store_commit(st), C2D_OK);
	expect_gw("s1", "gw1");
}
END_TEST

static Suite *store_gw_suite(void)
{
	Suite *s = suite_create("store_gw");
	TCase *tc = tcase_create("registry");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, assign_move_clear);
	tcase_add_test(tc, bad_arguments);
	tcase_add_test(tc, damaged_record);
	tcase_add_test(tc, upgrade_from_1_3);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return c2d_check_run(store_gw_suite());
}
