/* The fixture of the store suites (test_store*.c): a fresh LMDB environment
 * per test in a mkdtemp() directory (setup/teardown: open at dbpath, close,
 * remove the directory), transaction shorthands, direct LMDB access to plant
 * records the store would never write (store closed), queue items with
 * checkable contents, devices with twins, and a device scan collector.
 * Header-only: each suite is one binary (Makefile), so every file that
 * includes it gets its own copy of the state below. Everything is static
 * (inline: a suite that uses only part of it gets no unused warnings). */
#ifndef C2D_STORE_FX_H
#define C2D_STORE_FX_H

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "c2d_err.h"
#include "c2d_store.h"
#include "log_stderr.h"
#include "../check_main.h"

/* The open store (owned by the fixture: setup opens it, teardown closes it)
 * and what it was opened with. */
static char tmpdir[64];
static char dbpath[256];
static struct c2d_conf conf;
static struct c2d_store *st;
static char err[256];

/* rm -rf path (no symlinks are followed: lstat). Not inline: teardown
 * always uses it, and gcc warns of truncation when it inlines the recursion. */
static void rm_rf(const char *path)
{
	struct stat sb;
	struct dirent *de;
	char sub[512];
	DIR *d;

	if(lstat(path, &sb) != 0) return;
	if(S_ISDIR(sb.st_mode)){
		chmod(path, 0700);
		d = opendir(path);
		if(d){
			while((de = readdir(d)) != NULL){
				if(strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
				snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
				rm_rf(sub);
			}
			closedir(d);
		}
		rmdir(path);
	}else{
		unlink(path);
	}
}

static inline int store_open(void)
{
	return c2d_store_open(&st, &conf, err, sizeof(err));
}

static inline void open_ok(void)
{
	int rc = store_open();

	ck_assert_msg(rc == C2D_OK, "open: rc %d: %s", rc, err);
	ck_assert_ptr_nonnull(st);
}

static inline void reopen(void)
{
	c2d_store_close(st);
	st = NULL;
	open_ok();
}

static inline void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/c2d_store_XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(dbpath, sizeof(dbpath), "%s/db", tmpdir);
	memset(&conf, 0, sizeof(conf));
	conf.db_path = dbpath;
	conf.map_size_mib = 16;
	conf.sync = C2D_SYNC_FULL;
	st = NULL;
	open_ok();
}

static inline void teardown(void)
{
	c2d_store_close(st);
	st = NULL;
	rm_rf(tmpdir);
}

static inline void begin(void)
{
	ck_assert_int_eq(c2d_store_begin(st), C2D_OK);
}

static inline void commit(void)
{
	ck_assert_int_eq(c2d_store_commit(st), C2D_OK);
}

/* ---- direct LMDB access (store closed) ---- */

static MDB_env *raw_open(MDB_txn **txn, MDB_dbi *dbi, const char *db, unsigned int flags)
{
	MDB_env *env;

	ck_assert_ptr_null(st);
	ck_assert_int_eq(mdb_env_create(&env), 0);
	ck_assert_int_eq(mdb_env_set_maxdbs(env, 8), 0);
	ck_assert_int_eq(mdb_env_open(env, dbpath, 0, 0600), 0);
	ck_assert_int_eq(mdb_txn_begin(env, NULL, flags, txn), 0);
	ck_assert_int_eq(mdb_dbi_open(*txn, db, 0, dbi), 0);
	return env;
}

static inline void raw_put(const char *db, const char *key, const void *val, size_t len)
{
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_env *env = raw_open(&txn, &dbi, db, 0);
	MDB_val k = {strlen(key), (void *)key};
	MDB_val v = {len, (void *)val};

	ck_assert_int_eq(mdb_put(txn, dbi, &k, &v, 0), 0);
	ck_assert_int_eq(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* Copy db[key] into out (NUL-terminated); -1 if absent. */
static inline int raw_get(const char *db, const char *key, char *out, size_t outlen)
{
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_env *env = raw_open(&txn, &dbi, db, MDB_RDONLY);
	MDB_val k = {strlen(key), (void *)key};
	MDB_val v;
	int rc = mdb_get(txn, dbi, &k, &v);

	if(rc == 0){
		ck_assert_uint_lt(v.mv_size, outlen);
		memcpy(out, v.mv_data, v.mv_size);
		out[v.mv_size] = '\0';
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return rc == 0 ? 0 : -1;
}

/* ---- queue helpers ---- */

static inline void q_put(const char *dev, uint64_t seq)
{
	char rec[200];

	snprintf(rec, sizeof(rec), "rec-%s-%" PRIu64, dev, seq);
	ck_assert_int_eq(c2d_store_q_put(st, dev, seq, rec, strlen(rec)), C2D_OK);
}

struct seen {
	const char *dev;
	uint64_t seq[64];
	size_t n, total, stop_after;
};

static inline int collect(void *ud, uint64_t seq, const void *rec, size_t len)
{
	struct seen *s = ud;
	char want[200];

	snprintf(want, sizeof(want), "rec-%s-%" PRIu64, s->dev, seq);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert(memcmp(rec, want, len) == 0);
	if(s->n < 64) s->seq[s->n++] = seq;
	s->total++;
	return s->stop_after && s->total >= s->stop_after;
}

/* Scan dev from `from`; returns how many items were seen (s filled). */
static inline size_t scan(struct seen *s, const char *dev, uint64_t from, size_t stop_after)
{
	memset(s, 0, sizeof(*s));
	s->dev = dev;
	s->stop_after = stop_after;
	ck_assert_int_eq(c2d_store_q_scan(st, dev, from, collect, s), C2D_OK);
	return s->total;
}

static inline void put_device(const char *dev, uint64_t created)
{
	struct c2d_devrec rec;
	char json[160];

	memset(&rec, 0, sizeof(rec));
	rec.created_ms = created;
	rec.counters[3] = created + 1;
	ck_assert_int_eq(c2d_store_dev_put(st, dev, &rec), C2D_OK);
	snprintf(json, sizeof(json), "{\"dev\":\"%s\"}", dev);
	ck_assert_int_eq(c2d_store_twin_put(st, dev, json, strlen(json)), C2D_OK);
}

static inline void twin_is(const char *dev, const char *want)
{
	char *json = NULL;
	size_t len = 0;

	ck_assert_int_eq(c2d_store_twin_get(st, dev, &json, &len), C2D_OK);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_str_eq(json, want);
	free(json);
}

static inline void twin_absent(const char *dev)
{
	char *json = (char *)"untouched";

	ck_assert_int_eq(c2d_store_twin_get(st, dev, &json, NULL), C2D_ENOTFOUND);
	ck_assert_str_eq(json, "untouched");
}

/* ---- device scan collector ---- */

struct names {
	char name[40][C2D_DEV_MAX + 1];
	size_t n, stop_after;
};

static inline int collect_dev(void *ud, const char *dev, const struct c2d_devrec *rec)
{
	struct names *nm = ud;

	ck_assert_uint_eq(rec->counters[3], rec->created_ms + 1);
	ck_assert_uint_lt(nm->n, 40);
	snprintf(nm->name[nm->n++], C2D_DEV_MAX + 1, "%s", dev);
	return nm->stop_after && nm->n >= nm->stop_after;
}

/* A test case of s (which owns it) named name, with the fixture above and
 * the store suites' timeout. */
static inline TCase *store_fx_tcase(Suite *s, const char *name)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return tc;
}

#endif
