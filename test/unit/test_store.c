/* store.c: LMDB environment, schema, transactions, key layout and ordering,
 * cascades, map full. Each test gets a fresh environment in a mkdtemp()
 * directory, removed afterwards. The test opens LMDB directly (lmdb.h) only to
 * plant records the store would never write (another schema, a bad record). */
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

static char tmpdir[64];
static char dbpath[256];
static struct c2d_conf conf;
static struct c2d_store *st;
static char err[256];

/* rm -rf path (no symlinks are followed: lstat). */
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

static int store_open(void)
{
	return c2d_store_open(&st, &conf, err, sizeof(err));
}

static void open_ok(void)
{
	int rc = store_open();

	ck_assert_msg(rc == C2D_OK, "open: rc %d: %s", rc, err);
	ck_assert_ptr_nonnull(st);
}

static void reopen(void)
{
	c2d_store_close(st);
	st = NULL;
	open_ok();
}

static void setup(void)
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

static void teardown(void)
{
	c2d_store_close(st);
	st = NULL;
	rm_rf(tmpdir);
}

static void begin(void)
{
	ck_assert_int_eq(c2d_store_begin(st), C2D_OK);
}

static void commit(void)
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

static void raw_put(const char *db, const char *key, const void *val, size_t len)
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
static int raw_get(const char *db, const char *key, char *out, size_t outlen)
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

static void q_put(const char *dev, uint64_t seq)
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

static int collect(void *ud, uint64_t seq, const void *rec, size_t len)
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
static size_t scan(struct seen *s, const char *dev, uint64_t from, size_t stop_after)
{
	memset(s, 0, sizeof(*s));
	s->dev = dev;
	s->stop_after = stop_after;
	ck_assert_int_eq(c2d_store_q_scan(st, dev, from, collect, s), C2D_OK);
	return s->total;
}

static void put_device(const char *dev, uint64_t created)
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

static void twin_is(const char *dev, const char *want)
{
	char *json = NULL;
	size_t len = 0;

	ck_assert_int_eq(c2d_store_twin_get(st, dev, &json, &len), C2D_OK);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_str_eq(json, want);
	free(json);
}

static void twin_absent(const char *dev)
{
	char *json = (char *)"untouched";

	ck_assert_int_eq(c2d_store_twin_get(st, dev, &json, NULL), C2D_ENOTFOUND);
	ck_assert_str_eq(json, "untouched");
}

/* ---- tests ---- */

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

struct names {
	char name[40][C2D_DEV_MAX + 1];
	size_t n, stop_after;
};

static int collect_dev(void *ud, const char *dev, const struct c2d_devrec *rec)
{
	struct names *nm = ud;

	ck_assert_uint_eq(rec->counters[3], rec->created_ms + 1);
	ck_assert_uint_lt(nm->n, 40);
	snprintf(nm->name[nm->n++], C2D_DEV_MAX + 1, "%s", dev);
	return nm->stop_after && nm->n >= nm->stop_after;
}

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

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_open_creates);
	tcase_add_test(tc, test_reopen);
	tcase_add_test(tc, test_abort);
	tcase_add_test(tc, test_no_txn);
	tcase_add_test(tc, test_begin_twice);
	tcase_add_test(tc, test_twin);
	tcase_add_test(tc, test_dev);
	tcase_add_test(tc, test_dev_del_cascade);
	tcase_add_test(tc, test_schema_upgrade);
	tcase_add_test(tc, test_idmark_info);
	tcase_add_test(tc, test_dev_del_many);
	tcase_add_test(tc, test_queue);
	tcase_add_test(tc, test_due);
	tcase_add_test(tc, test_dedup);
	tcase_add_test(tc, test_dev_scan);
	tcase_add_test(tc, test_schema_major);
	tcase_add_test(tc, test_schema_upgrade_timeout);
	tcase_add_test(tc, test_nested);
	tcase_add_test(tc, test_timeout_index);
	tcase_add_test(tc, test_quarantine);
	tcase_add_test(tc, test_devrec_size);
	tcase_add_test(tc, test_map_full);
	tcase_add_loop_test(tc, test_sync_modes, C2D_SYNC_FULL, C2D_SYNC_PERIODIC + 1);
	tcase_add_test(tc, test_usage);
	tcase_add_test(tc, test_invalid_args);
	tcase_add_test(tc, test_open_errors);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return c2d_check_run(store_suite());
}
