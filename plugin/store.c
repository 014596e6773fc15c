/* store.c: durable state in LMDB (the only file that includes lmdb.h).
 *
 * One environment at db_path holds eight named databases. Keys are built so that
 * each hot operation is one B-tree seek, or a cursor walk over adjacent keys:
 *
 *   meta     "schema"                      -> "1.0" (major.minor; other majors refused)
 *   devices  dev                           -> struct c2d_devrec, raw (local database)
 *   twins    dev                           -> JSON text, without NUL
 *   queue    dev \0 seq(be64)              -> opaque record
 *   due      at_ms(be64) dev \0 seq(be64)  -> empty
 *   dedup    opaque key (1..480 bytes)     -> dev \0 seq(be64)
 *   info     dev                           -> JSON text (the device's hello), without NUL
 *   idmark   dev                           -> u8 version (1), u64 next_seq, u64 desired
 *                                             version, u64 reported version (LE): where
 *                                             ids continue after a delete
 *
 * Schema 1.1 added info and idmark; a 1.0 store gets them (empty) and its
 * schema record rewritten when it is opened.
 *
 * A device id never contains NUL, so "dev \0" is a prefix no other device shares
 * ("d1\0" sorts before "d10" and "d1x"): a device's queue is the key range that
 * starts at "dev \0 from" and ends at the first key without that prefix.
 * Big-endian numbers sort the same as bytes and as integers, so the first key of
 * "due" is the earliest deadline and a queue walk is in ascending seq order.
 *
 * Transactions: the store holds at most one write transaction (st->txn), from
 * c2d_store_begin() to c2d_store_commit()/c2d_store_abort(); every write needs it
 * (C2D_ETXN otherwise). Reads run in that transaction when it is open, so they
 * see its uncommitted writes; otherwise in a read-only transaction of their own,
 * aborted as soon as the value has been copied out. Every MDB value handed out
 * is copied first: LMDB's pointers die with the transaction or the next write. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>

#include "c2d_err.h"
#include "c2d_log.h"
#include "c2d_store.h"

#define SCHEMA_KEY "schema"
#define SCHEMA_VALUE "1.1"
#define SCHEMA_MAJOR 1
#define DEDUP_KEY_MAX 480
#define MIB ((uint64_t)1024 * 1024)

enum table {
	T_META,
	T_DEVICES,
	T_TWINS,
	T_QUEUE,
	T_DUE,
	T_DEDUP,
	T_INFO,
	T_IDMARK,
	T_COUNT
};

static const char *const table_name[T_COUNT] = {"meta", "devices", "twins", "queue", "due", "dedup", "info",
	"idmark"};

struct c2d_store {
	MDB_env *env;
	MDB_txn *txn;          /* the open write transaction, or NULL */
	MDB_dbi dbi[T_COUNT];
	enum c2d_sync sync;
	uint64_t map_mib;      /* map size in effect, for the map-full message */
	char *path;            /* owned copy of db_path */
	bool failed;           /* LMDB said MDB_PANIC: env unusable until reopened */
};

/* ---- status ---- */

/* Map an LMDB return code to ours, silently. */
static int mdb_code(int rc)
{
	switch(rc){
		case MDB_SUCCESS:
			return C2D_OK;
		case MDB_NOTFOUND:
			return C2D_ENOTFOUND;
		case MDB_MAP_FULL:
			return C2D_EFULL;
		case ENOMEM:
			return C2D_ENOMEM;
		default:
			return C2D_ESTORE;
	}
}

/* Map an LMDB return code to ours and log what an operator must see.
 * MDB_NOTFOUND is not logged: callers decide whether it is an error.
 * op and what (table name or NULL): borrowed, for the log line. */
static int mdb_status(struct c2d_store *st, int rc, const char *op, const char *what)
{
	int code = mdb_code(rc);

	if(rc == MDB_PANIC && !st->failed){
		/* a meta page write failed (EIO, or ENOSPC on a copy-on-write file
		 * system): every later call fails until the environment is reopened */
		st->failed = true;
		c2d_log(C2D_LOG_ERR, "LMDB environment at %s failed (a write did not reach the disk): "
				"writes and reads get 503 until it is reopened", st->path);
	}
	if(code == C2D_EFULL){
		c2d_log(C2D_LOG_ERR, "LMDB map full (map_size %" PRIu64 " MiB at %s): raise plugin_opt_map_size",
				st->map_mib, st->path);
	}else if(code != C2D_OK && code != C2D_ENOTFOUND){
		c2d_log(C2D_LOG_ERR, "LMDB %s%s%s failed: %s", op, what ? " in " : "", what ? what : "",
				mdb_strerror(rc));
	}
	return code;
}

/* A stored record that cannot be ours (wrong size or shape). */
static int corrupt(enum table t, const char *why)
{
	c2d_log(C2D_LOG_ERR, "LMDB corrupt record in %s: %s", table_name[t], why);
	return C2D_ESTORE;
}

/* ---- keys ---- */

#define KEY_MAX (8 + C2D_DEV_MAX + 1 + 8)

/* A key (or dev\0seq value) built in place; at most at_ms + dev + NUL + seq. */
struct key {
	size_t len;
	unsigned char buf[KEY_MAX];
};

static void key_u64(struct key *k, uint64_t x)
{
	int i;

	for(i = 7; i >= 0; i--){
		k->buf[k->len++] = (unsigned char)(x >> (8 * i));
	}
}

static uint64_t get_u64(const unsigned char *p)
{
	uint64_t x = 0;
	int i;

	for(i = 0; i < 8; i++){
		x = (x << 8) | p[i];
	}
	return x;
}

/* Append a device id (borrowed): C2D_EINVAL unless 1..C2D_DEV_MAX bytes. */
static int key_dev(struct key *k, const char *dev)
{
	size_t n;

	if(dev == NULL) return C2D_EINVAL;
	n = strnlen(dev, C2D_DEV_MAX + 1);
	if(n == 0 || n > C2D_DEV_MAX) return C2D_EINVAL;
	memcpy(k->buf + k->len, dev, n);
	k->len += n;
	return C2D_OK;
}

/* Append dev \0 seq(be64). seq is not checked (a walk may start at 0). */
static int key_dev_seq(struct key *k, const char *dev, uint64_t seq)
{
	int rc = key_dev(k, dev);

	if(rc) return rc;
	k->buf[k->len++] = '\0';
	key_u64(k, seq);
	return C2D_OK;
}

/* Split dev \0 seq(be64) (p, n: borrowed) into dev (C2D_DEV_MAX+1 bytes) and seq. */
static int parse_dev_seq(enum table t, const unsigned char *p, size_t n, char *dev, uint64_t *seq)
{
	size_t dlen;

	if(n < 1 + 1 + 8 || n - 9 > C2D_DEV_MAX) return corrupt(t, "bad (dev, seq) length");
	dlen = n - 9;
	if(p[dlen] != '\0' || memchr(p, '\0', dlen)) return corrupt(t, "bad (dev, seq) separator");
	memcpy(dev, p, dlen);
	dev[dlen] = '\0';
	*seq = get_u64(p + dlen + 1);
	return C2D_OK;
}

/* ---- transactions for reads ---- */

/* mdb_txn_begin, or MDB_PANIC while a failed environment could not be
 * reopened (st->env NULL). */
static int txn_begin(struct c2d_store *st, unsigned int flags, MDB_txn **txn)
{
	if(st->env == NULL) return MDB_PANIC;
	return mdb_txn_begin(st->env, NULL, flags, txn);
}

/* The transaction a read runs in: the open write transaction, else a new
 * read-only one. Pair with read_end(). */
static int read_begin(struct c2d_store *st, MDB_txn **txn)
{
	if(st->txn){
		*txn = st->txn;
		return C2D_OK;
	}
	return mdb_status(st, txn_begin(st, MDB_RDONLY, txn), "read begin", NULL);
}

static void read_end(struct c2d_store *st, MDB_txn *txn)
{
	if(txn != st->txn) mdb_txn_abort(txn);
}

/* ---- get / put / del plumbing shared by all tables ---- */

static MDB_val mval(const void *p, size_t n)
{
	MDB_val v;

	v.mv_size = n;
	v.mv_data = (void *)p; /* LMDB does not write through key or data on get/put/del */
	return v;
}

/* take() copies what it needs out of val (borrowed, valid for the call only). */
typedef int (*take_fn)(void *ud, const MDB_val *val);

/* Look key (borrowed) up in t and hand the value to take(). */
static int db_get(struct c2d_store *st, enum table t, const void *key, size_t keylen, take_fn take, void *ud)
{
	MDB_txn *txn;
	MDB_val k = mval(key, keylen);
	MDB_val v;
	int rc;

	rc = read_begin(st, &txn);
	if(rc) return rc;
	rc = mdb_status(st, mdb_get(txn, st->dbi[t], &k, &v), "get", table_name[t]);
	if(rc == C2D_OK) rc = take(ud, &v);
	read_end(st, txn);
	return rc;
}

/* Store key -> data (both borrowed, copied by LMDB) in the open transaction. */
static int db_put(struct c2d_store *st, enum table t, const void *key, size_t keylen, const void *data, size_t len)
{
	MDB_val k = mval(key, keylen);
	MDB_val v = mval(data ? data : "", len);

	if(st->txn == NULL) return C2D_ETXN;
	return mdb_status(st, mdb_put(st->txn, st->dbi[t], &k, &v, 0), "put", table_name[t]);
}

static int db_del(struct c2d_store *st, enum table t, const void *key, size_t keylen)
{
	MDB_val k = mval(key, keylen);

	if(st->txn == NULL) return C2D_ETXN;
	return mdb_status(st, mdb_del(st->txn, st->dbi[t], &k, NULL), "del", table_name[t]);
}

/* What a walk's visitor returns (or a negative C2D_E* to fail the walk). */
enum {
	WALK_NEXT = 0,
	WALK_STOP = 1,
	WALK_DEL = 2, /* delete this entry and go on (write transaction only) */
};

typedef int (*visit_fn)(void *ud, const MDB_val *key, const MDB_val *val);

/* Visit t in key order from the first key >= from (from NULL: the first key)
 * until the visitor stops or the table ends. key and val are borrowed by the
 * visitor for the call only. */
static int db_walk(struct c2d_store *st, enum table t, const void *from, size_t fromlen, visit_fn visit, void *ud)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k = mval(from, fromlen);
	MDB_val v;
	int mrc, rc;

	rc = read_begin(st, &txn);
	if(rc) return rc;
	rc = mdb_status(st, mdb_cursor_open(txn, st->dbi[t], &cur), "cursor open", table_name[t]);
	if(rc) goto txn_end;

	mrc = mdb_cursor_get(cur, &k, &v, from ? MDB_SET_RANGE : MDB_FIRST);
	while(mrc == MDB_SUCCESS){
		rc = visit(ud, &k, &v);
		if(rc == WALK_DEL){
			rc = mdb_status(st, mdb_cursor_del(cur, 0), "cursor del", table_name[t]);
			if(rc) break;
		}else if(rc != WALK_NEXT){
			break;
		}
		/* after mdb_cursor_del, MDB_NEXT yields the entry that took its place */
		mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
	}
	if(rc == WALK_STOP){
		rc = C2D_OK;
	}else if(rc == C2D_OK && mrc != MDB_NOTFOUND){
		rc = mdb_status(st, mrc, "cursor get", table_name[t]);
	}

	mdb_cursor_close(cur);
txn_end:
	read_end(st, txn);
	return rc;
}

static int has_prefix(const MDB_val *key, const struct key *prefix)
{
	return key->mv_size >= prefix->len && memcmp(key->mv_data, prefix->buf, prefix->len) == 0;
}

/* ---- take() helpers ---- */

/* Copy a value into malloc memory with a NUL after it (twins, queue items). */
struct take_copy {
	void *data;
	size_t len;
};

static int take_copy(void *ud, const MDB_val *val)
{
	struct take_copy *tc = ud;
	char *p = malloc(val->mv_size + 1);

	if(p == NULL) return C2D_ENOMEM;
	memcpy(p, val->mv_data, val->mv_size);
	p[val->mv_size] = '\0';
	tc->data = p;
	tc->len = val->mv_size;
	return C2D_OK;
}

/* Copy a device record (ud: struct c2d_devrec *), refusing a foreign size. */
static int take_devrec(void *ud, const MDB_val *val)
{
	if(val->mv_size != sizeof(struct c2d_devrec)){
		c2d_log(C2D_LOG_ERR, "LMDB corrupt record in devices: %zu bytes, expected %zu",
				val->mv_size, sizeof(struct c2d_devrec));
		return C2D_ESTORE;
	}
	memcpy(ud, val->mv_data, sizeof(struct c2d_devrec));
	return C2D_OK;
}

/* Copy a dedup value dev \0 seq out. */
struct take_dev_seq {
	char *dev;
	uint64_t *seq;
};

static int take_dev_seq(void *ud, const MDB_val *val)
{
	struct take_dev_seq *td = ud;

	return parse_dev_seq(T_DEDUP, val->mv_data, val->mv_size, td->dev, td->seq);
}

/* ---- open / close ---- */

/* Format a one-line reason into err (may be NULL/0) and log it. Returns rc. */
__attribute__((format(printf, 4, 5)))
static int open_fail(int rc, char *err, size_t errlen, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	c2d_log(C2D_LOG_ERR, "%s", line);
	if(err && errlen) snprintf(err, errlen, "%s", line);
	return rc;
}

/* mkdir -p path (borrowed), each created level mode 0700; then insist on a
 * writable directory. */
static int make_dir(const char *path, char *err, size_t errlen)
{
	char *p, *slash;
	struct stat sb;
	int rc = C2D_OK;

	p = strdup(path);
	if(p == NULL) return open_fail(C2D_ENOMEM, err, errlen, "out of memory");
	for(slash = strchr(p + 1, '/'); ; slash = strchr(slash + 1, '/')){
		if(slash) *slash = '\0';
		if(p[0] && mkdir(p, 0700) != 0 && errno != EEXIST){
			rc = open_fail(C2D_ESTORE, err, errlen, "cannot create database directory %s: %s",
					path, strerror(errno));
			goto p_free;
		}
		if(slash == NULL) break;
		*slash = '/';
	}
	if(stat(path, &sb) != 0){
		rc = open_fail(C2D_ESTORE, err, errlen, "cannot create database directory %s: %s", path, strerror(errno));
	}else if(!S_ISDIR(sb.st_mode)){
		rc = open_fail(C2D_ESTORE, err, errlen, "database directory %s is not a directory", path);
	}else if(faccessat(AT_FDCWD, path, W_OK | X_OK, AT_EACCESS) != 0){
		rc = open_fail(C2D_ESTORE, err, errlen, "database directory %s is not writable: %s", path, strerror(errno));
	}
p_free:
	free(p);
	return rc;
}

/* Read the schema record in txn, writing it if missing; refuse another major. */
static int schema_check(struct c2d_store *st, MDB_txn *txn, char *err, size_t errlen)
{
	MDB_val k = mval(SCHEMA_KEY, strlen(SCHEMA_KEY));
	MDB_val v;
	const char *s;
	size_t i, n;
	unsigned long major = 0;
	int rc;

	rc = mdb_get(txn, st->dbi[T_META], &k, &v);
	if(rc == MDB_SUCCESS && v.mv_size == 3 && memcmp(v.mv_data, "1.0", 3) == 0){
		/* upgrade in place: 1.1 only adds tables, created by the caller */
		c2d_log(C2D_LOG_NOTICE, "database at %s: schema 1.0 upgraded to " SCHEMA_VALUE, st->path);
		rc = MDB_NOTFOUND;
	}
	if(rc == MDB_NOTFOUND){
		v = mval(SCHEMA_VALUE, strlen(SCHEMA_VALUE));
		rc = mdb_put(txn, st->dbi[T_META], &k, &v, 0);
	}else if(rc == MDB_SUCCESS){
		s = v.mv_data;
		n = v.mv_size;
		for(i = 0; i < n && i < 9 && s[i] >= '0' && s[i] <= '9'; i++){
			major = major * 10 + (unsigned long)(s[i] - '0');
		}
		if(i == 0 || i == n || s[i] != '.'){
			return open_fail(C2D_ESCHEMA, err, errlen, "database at %s has an unreadable schema record", st->path);
		}
		if(major != SCHEMA_MAJOR){
			return open_fail(C2D_ESCHEMA, err, errlen, "database at %s has schema %.*s.x; this plugin reads %d.x",
					st->path, (int)i, s, SCHEMA_MAJOR);
		}
	}
	if(rc){
		return open_fail(mdb_code(rc), err, errlen,
				"cannot write the schema record at %s: %s", st->path, mdb_strerror(rc));
	}
	return C2D_OK;
}

/* Open the named databases and check the schema in one write transaction.
 * meta is checked before the others are created, so a refused database is
 * left as it was. */
static int open_tables(struct c2d_store *st, char *err, size_t errlen)
{
	MDB_txn *txn;
	int t, rc;

	rc = mdb_txn_begin(st->env, NULL, 0, &txn);
	if(rc) goto fail;
	for(t = 0; t < T_COUNT; t++){
		rc = mdb_dbi_open(txn, table_name[t], MDB_CREATE, &st->dbi[t]);
		if(rc) goto txn_abort;
		if(t == T_META){
			rc = schema_check(st, txn, err, errlen);
			if(rc){
				mdb_txn_abort(txn);
				return rc;
			}
		}
	}
	rc = mdb_txn_commit(txn);
	if(rc) goto fail;
	return C2D_OK;

txn_abort:
	mdb_txn_abort(txn);
fail:
	return open_fail(mdb_code(rc), err, errlen,
			"cannot open the databases at %s: %s", st->path, mdb_strerror(rc));
}

/* Create and open st->env at st->path with st->map_mib and st->sync, and
 * its tables. On failure st->env is NULL and the reason logged (and in err). */
static int env_open(struct c2d_store *st, char *err, size_t errlen)
{
	static const unsigned int sync_flags[] = {
		[C2D_SYNC_FULL] = 0,
		[C2D_SYNC_META] = MDB_NOMETASYNC,
		[C2D_SYNC_PERIODIC] = MDB_NOSYNC,
	};
	MDB_envinfo info;
	int rc;

	rc = mdb_env_create(&st->env);
	if(rc){
		st->env = NULL;
		return open_fail(mdb_code(rc), err, errlen, "cannot create an LMDB environment: %s", mdb_strerror(rc));
	}
	rc = mdb_env_set_mapsize(st->env, (size_t)(st->map_mib * MIB));
	if(rc == 0) rc = mdb_env_set_maxdbs(st->env, 16);
	if(rc == 0) rc = mdb_env_open(st->env, st->path, MDB_NOTLS | sync_flags[st->sync], 0600);
	if(rc){
		rc = open_fail(mdb_code(rc), err, errlen,
				"cannot open the LMDB environment at %s: %s", st->path, mdb_strerror(rc));
	}else{
		rc = open_tables(st, err, errlen);
	}
	if(rc){
		mdb_env_close(st->env);
		st->env = NULL;
		return rc;
	}
	/* an existing file may be larger than map_size: LMDB then maps all of it */
	if(mdb_env_info(st->env, &info) == 0) st->map_mib = (uint64_t)info.me_mapsize / MIB;
	return C2D_OK;
}

/* conf: borrowed. *out: owned by the caller (c2d_store_close). */
int c2d_store_open(struct c2d_store **out, const struct c2d_conf *conf, char *err, size_t errlen)
{
	struct c2d_store *st;
	int rc;

	if(err && errlen) err[0] = '\0';
	if(out == NULL) return C2D_EINVAL;
	*out = NULL;
	if(conf == NULL || conf->db_path == NULL || conf->db_path[0] == '\0'){
		return open_fail(C2D_EINVAL, err, errlen, "plugin_opt_db_path is not set");
	}
	if(conf->map_size_mib == 0 || conf->map_size_mib > SIZE_MAX / MIB){
		return open_fail(C2D_EINVAL, err, errlen, "plugin_opt_map_size: %" PRIu64 " MiB is out of range",
				conf->map_size_mib);
	}
	if((unsigned)conf->sync > C2D_SYNC_PERIODIC){
		return open_fail(C2D_EINVAL, err, errlen, "plugin_opt_sync: unknown mode %d", (int)conf->sync);
	}
	rc = make_dir(conf->db_path, err, errlen);
	if(rc) return rc;

	st = calloc(1, sizeof(*st));
	if(st == NULL) return open_fail(C2D_ENOMEM, err, errlen, "out of memory");
	st->path = strdup(conf->db_path);
	st->sync = conf->sync;
	st->map_mib = conf->map_size_mib;
	rc = st->path ? env_open(st, err, errlen) : open_fail(C2D_ENOMEM, err, errlen, "out of memory");
	if(rc){
		free(st->path);
		free(st);
		return rc;
	}
	*out = st;
	return C2D_OK;
}

/* After MDB_PANIC LMDB's environment must be closed and opened again; the
 * data file itself is as the last successful commit left it. */
int c2d_store_reopen(struct c2d_store *st)
{
	int rc;

	if(st == NULL) return C2D_EINVAL;
	if(!st->failed) return C2D_OK;
	if(st->txn) return C2D_ETXN;
	mdb_env_close(st->env);
	st->env = NULL;
	rc = env_open(st, NULL, 0);
	if(rc) return rc; /* logged; tried again later */
	st->failed = false;
	c2d_log(C2D_LOG_NOTICE, "LMDB environment at %s reopened: the store works again", st->path);
	return C2D_OK;
}

bool c2d_store_failed(const struct c2d_store *st)
{
	return st && st->failed;
}

/* Aborts an open transaction; flushes first when commits do not (sync meta,
 * periodic), so a clean shutdown loses nothing. st: consumed. */
void c2d_store_close(struct c2d_store *st)
{
	if(st == NULL) return;
	c2d_store_abort(st);
	if(st->sync != C2D_SYNC_FULL) c2d_store_sync(st);
	mdb_env_close(st->env);
	free(st->path);
	free(st);
}

/* ---- transactions ---- */

/* The transaction is owned by st until commit or abort. */
int c2d_store_begin(struct c2d_store *st)
{
	int rc;

	if(st == NULL) return C2D_EINVAL;
	if(st->txn) return C2D_ETXN;
	rc = txn_begin(st, 0, &st->txn);
	if(rc) st->txn = NULL;
	return mdb_status(st, rc, "begin", NULL);
}

/* The transaction ends either way: on failure LMDB has freed it. */
int c2d_store_commit(struct c2d_store *st)
{
	MDB_txn *txn;

	if(st == NULL) return C2D_EINVAL;
	if(st->txn == NULL) return C2D_ETXN;
	txn = st->txn;
	st->txn = NULL;
	return mdb_status(st, mdb_txn_commit(txn), "commit", NULL);
}

void c2d_store_abort(struct c2d_store *st)
{
	if(st == NULL || st->txn == NULL) return;
	mdb_txn_abort(st->txn);
	st->txn = NULL;
}

int c2d_store_in_txn(const struct c2d_store *st)
{
	return st && st->txn ? 1 : 0;
}

/* mdb_env_sync(force): flushes what MDB_NOSYNC / MDB_NOMETASYNC left unsynced. */
int c2d_store_sync(struct c2d_store *st)
{
	if(st == NULL) return C2D_EINVAL;
	return mdb_status(st, c2d_store_sync_worker(st), "sync", NULL);
}

int c2d_store_sync_worker(struct c2d_store *st)
{
	return st->env ? mdb_env_sync(st->env, 1) : MDB_PANIC;
}

int c2d_store_sync_report(struct c2d_store *st, int worker_rc)
{
	return mdb_status(st, worker_rc, "sync", NULL);
}

/* used: pages up to the last one in use (committed), times the page size. */
int c2d_store_usage(struct c2d_store *st, uint64_t *used_bytes, uint64_t *map_bytes)
{
	MDB_envinfo info;
	MDB_stat stat;
	int rc;

	MDB_txn *txn = st ? st->txn : NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	uint64_t free_pages = 0, pages;

	if(st == NULL || used_bytes == NULL || map_bytes == NULL) return C2D_EINVAL;
	if(st->env == NULL) return mdb_status(st, MDB_PANIC, "usage", NULL);
	rc = mdb_env_info(st->env, &info);
	if(rc == 0) rc = mdb_env_stat(st->env, &stat);
	/* Pages on LMDB's free list (database 0) are reused before the file
	 * grows: they are room, not use. Each record is a page list, count first. */
	if(rc == 0 && txn == NULL) rc = txn_begin(st, MDB_RDONLY, &txn);
	if(rc == 0) rc = mdb_cursor_open(txn, 0, &cur);
	while(rc == 0 && (rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0){
		if(v.mv_size >= sizeof(size_t)) free_pages += *(const size_t *)v.mv_data;
	}
	if(rc == MDB_NOTFOUND) rc = 0;
	if(cur) mdb_cursor_close(cur);
	if(txn && txn != st->txn) mdb_txn_abort(txn);
	if(rc) return mdb_status(st, rc, "usage", NULL);
	pages = (uint64_t)info.me_last_pgno + 1;
	*used_bytes = (pages > free_pages ? pages - free_pages : 0) * stat.ms_psize;
	*map_bytes = (uint64_t)info.me_mapsize;
	return C2D_OK;
}

/* ---- devices ---- */

/* dev: borrowed. *rec: filled (copied). */
int c2d_store_dev_get(struct c2d_store *st, const char *dev, struct c2d_devrec *rec)
{
	struct key k = {0};

	if(st == NULL || rec == NULL || key_dev(&k, dev)) return C2D_EINVAL;
	return db_get(st, T_DEVICES, k.buf, k.len, take_devrec, rec);
}

/* dev, rec: borrowed; stored as a copy with version set to 1. */
int c2d_store_dev_put(struct c2d_store *st, const char *dev, const struct c2d_devrec *rec)
{
	struct key k = {0};
	struct c2d_devrec copy;

	if(st == NULL || rec == NULL || key_dev(&k, dev)) return C2D_EINVAL;
	copy = *rec;
	copy.version = 1;
	return db_put(st, T_DEVICES, k.buf, k.len, &copy, sizeof(copy));
}

/* Deletes the keys that start with prefix, counting them. */
struct del_prefix {
	const struct key *prefix;
	size_t n;
};

static int visit_del_prefix(void *ud, const MDB_val *key, const MDB_val *val)
{
	struct del_prefix *dp = ud;

	(void)val;
	if(!has_prefix(key, dp->prefix)) return WALK_STOP;
	dp->n++;
	return WALK_DEL;
}

/* dev: borrowed. Deletes the record, the twin and the queue items in the open
 * transaction (deadline and dedup entries are the caller's). C2D_ENOTFOUND
 * when there was none of the three, C2D_OK when anything was deleted. */
int c2d_store_dev_del(struct c2d_store *st, const char *dev)
{
	struct key k = {0};
	struct del_prefix dp = {&k, 0};
	int found = 0;
	int rc;

	if(st == NULL || key_dev(&k, dev)) return C2D_EINVAL;
	if(st->txn == NULL) return C2D_ETXN;
	rc = db_del(st, T_DEVICES, k.buf, k.len);
	if(rc && rc != C2D_ENOTFOUND) return rc;
	found |= rc == C2D_OK;
	rc = db_del(st, T_TWINS, k.buf, k.len);
	if(rc && rc != C2D_ENOTFOUND) return rc;
	found |= rc == C2D_OK;
	rc = db_del(st, T_INFO, k.buf, k.len);
	if(rc && rc != C2D_ENOTFOUND) return rc;
	k.buf[k.len++] = '\0'; /* the queue range: dev \0 */
	rc = db_walk(st, T_QUEUE, k.buf, k.len, visit_del_prefix, &dp);
	if(rc) return rc;
	return found || dp.n ? C2D_OK : C2D_ENOTFOUND;
}

struct dev_scan {
	const struct key *after; /* skipped on an exact match */
	size_t limit, seen;
	int (*cb)(void *ud, const char *dev, const struct c2d_devrec *rec);
	void *ud;
};

static int visit_dev(void *ud, const MDB_val *key, const MDB_val *val)
{
	struct dev_scan *ds = ud;
	char dev[C2D_DEV_MAX + 1];
	struct c2d_devrec rec;
	int rc;

	if(ds->after->len == key->mv_size && memcmp(ds->after->buf, key->mv_data, key->mv_size) == 0){
		return WALK_NEXT;
	}
	if(key->mv_size == 0 || key->mv_size > C2D_DEV_MAX) return corrupt(T_DEVICES, "bad device id length");
	memcpy(dev, key->mv_data, key->mv_size);
	dev[key->mv_size] = '\0';
	rc = take_devrec(&rec, val);
	if(rc) return rc;
	if(ds->cb(ds->ud, dev, &rec)) return WALK_STOP;
	ds->seen++;
	return ds->limit && ds->seen >= ds->limit ? WALK_STOP : WALK_NEXT;
}

/* after: borrowed, NULL or "" = from the start, else a valid device id (need
 * not exist). dev and rec passed to cb live for the call only; cb may write to
 * the store inside the open transaction. */
int c2d_store_dev_scan(struct c2d_store *st, const char *after, size_t limit,
		int (*cb)(void *ud, const char *dev, const struct c2d_devrec *rec), void *ud)
{
	struct key k = {0};
	struct dev_scan ds = {&k, limit, 0, cb, ud};

	if(st == NULL || cb == NULL) return C2D_EINVAL;
	if(after && after[0]){
		if(key_dev(&k, after)) return C2D_EINVAL;
		return db_walk(st, T_DEVICES, k.buf, k.len, visit_dev, &ds);
	}
	return db_walk(st, T_DEVICES, NULL, 0, visit_dev, &ds);
}

/* ---- per-device texts: twins, info ---- */

/* dev: borrowed. *json: copied, NUL-terminated, caller frees with free();
 * untouched unless C2D_OK. len may be NULL. */
static int text_get(struct c2d_store *st, enum table t, const char *dev, char **json, size_t *len)
{
	struct key k = {0};
	struct take_copy tc = {NULL, 0};
	int rc;

	if(st == NULL || json == NULL || key_dev(&k, dev)) return C2D_EINVAL;
	rc = db_get(st, t, k.buf, k.len, take_copy, &tc);
	if(rc) return rc;
	*json = tc.data;
	if(len) *len = tc.len;
	return C2D_OK;
}

/* dev, json (len bytes, no NUL needed): borrowed, copied into the store. */
static int text_put(struct c2d_store *st, enum table t, const char *dev, const char *json, size_t len)
{
	struct key k = {0};

	if(st == NULL || json == NULL || key_dev(&k, dev)) return C2D_EINVAL;
	return db_put(st, t, k.buf, k.len, json, len);
}

static int text_del(struct c2d_store *st, enum table t, const char *dev)
{
	struct key k = {0};

	if(st == NULL || key_dev(&k, dev)) return C2D_EINVAL;
	return db_del(st, t, k.buf, k.len);
}

int c2d_store_twin_get(struct c2d_store *st, const char *dev, char **json, size_t *len)
{
	return text_get(st, T_TWINS, dev, json, len);
}

int c2d_store_twin_put(struct c2d_store *st, const char *dev, const char *json, size_t len)
{
	return text_put(st, T_TWINS, dev, json, len);
}

int c2d_store_twin_del(struct c2d_store *st, const char *dev)
{
	return text_del(st, T_TWINS, dev);
}

int c2d_store_info_get(struct c2d_store *st, const char *dev, char **json, size_t *len)
{
	return text_get(st, T_INFO, dev, json, len);
}

int c2d_store_info_put(struct c2d_store *st, const char *dev, const char *json, size_t len)
{
	return text_put(st, T_INFO, dev, json, len);
}

/* ---- id marks ---- */

#define IDMARK_LEN 25

static void put_le64(unsigned char *p, uint64_t v)
{
	int i;

	for(i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le64(const unsigned char *p)
{
	uint64_t v = 0;
	int i;

	for(i = 7; i >= 0; i--) v = (v << 8) | p[i];
	return v;
}

static int take_idmark(void *ud, const MDB_val *val)
{
	struct c2d_idmark *m = ud;
	const unsigned char *p = val->mv_data;

	if(val->mv_size != IDMARK_LEN || p[0] != 1) return corrupt(T_IDMARK, "bad id mark record");
	m->next_seq = get_le64(p + 1);
	m->desired = get_le64(p + 9);
	m->reported = get_le64(p + 17);
	return C2D_OK;
}

int c2d_store_idmark_get(struct c2d_store *st, const char *dev, struct c2d_idmark *m)
{
	struct key k = {0};
	int rc;

	if(st == NULL || m == NULL || key_dev(&k, dev)) return C2D_EINVAL;
	memset(m, 0, sizeof(*m));
	rc = db_get(st, T_IDMARK, k.buf, k.len, take_idmark, m);
	if(rc == C2D_ENOTFOUND) rc = C2D_OK;
	return rc;
}

int c2d_store_idmark_raise(struct c2d_store *st, const char *dev, const struct c2d_idmark *m)
{
	struct c2d_idmark cur;
	unsigned char buf[IDMARK_LEN];
	struct key k = {0};
	int rc;

	if(st == NULL || m == NULL || key_dev(&k, dev)) return C2D_EINVAL;
	rc = c2d_store_idmark_get(st, dev, &cur);
	if(rc) return rc;
	if(m->next_seq > cur.next_seq) cur.next_seq = m->next_seq;
	if(m->desired > cur.desired) cur.desired = m->desired;
	if(m->reported > cur.reported) cur.reported = m->reported;
	buf[0] = 1;
	put_le64(buf + 1, cur.next_seq);
	put_le64(buf + 9, cur.desired);
	put_le64(buf + 17, cur.reported);
	return db_put(st, T_IDMARK, k.buf, k.len, buf, sizeof(buf));
}

/* *count: filled. From the B-tree's entry count: no scan. */
int c2d_store_twin_count(struct c2d_store *st, uint64_t *count)
{
	MDB_txn *txn;
	MDB_stat stat;
	int rc;

	if(st == NULL || count == NULL) return C2D_EINVAL;
	rc = read_begin(st, &txn);
	if(rc) return rc;
	rc = mdb_status(st, mdb_stat(txn, st->dbi[T_TWINS], &stat), "stat", table_name[T_TWINS]);
	if(rc == C2D_OK) *count = stat.ms_entries;
	read_end(st, txn);
	return rc;
}

/* ---- queue ---- */

/* dev, rec: borrowed, copied into the store. rec may be NULL when len is 0. */
int c2d_store_q_put(struct c2d_store *st, const char *dev, uint64_t seq, const void *rec, size_t len)
{
	struct key k = {0};

	if(st == NULL || seq == 0 || (rec == NULL && len) || key_dev_seq(&k, dev, seq)) return C2D_EINVAL;
	return db_put(st, T_QUEUE, k.buf, k.len, rec, len);
}

/* dev: borrowed. *rec: copied (with a NUL after it), caller frees with free();
 * untouched unless C2D_OK. len may be NULL. */
int c2d_store_q_get(struct c2d_store *st, const char *dev, uint64_t seq, void **rec, size_t *len)
{
	struct key k = {0};
	struct take_copy tc = {NULL, 0};
	int rc;

	if(st == NULL || seq == 0 || rec == NULL || key_dev_seq(&k, dev, seq)) return C2D_EINVAL;
	rc = db_get(st, T_QUEUE, k.buf, k.len, take_copy, &tc);
	if(rc) return rc;
	*rec = tc.data;
	if(len) *len = tc.len;
	return C2D_OK;
}

/* dev: borrowed. */
int c2d_store_q_del(struct c2d_store *st, const char *dev, uint64_t seq)
{
	struct key k = {0};

	if(st == NULL || seq == 0 || key_dev_seq(&k, dev, seq)) return C2D_EINVAL;
	return db_del(st, T_QUEUE, k.buf, k.len);
}

struct q_scan {
	struct key prefix; /* dev \0 */
	int (*cb)(void *ud, uint64_t seq, const void *rec, size_t len);
	void *ud;
};

static int visit_q(void *ud, const MDB_val *key, const MDB_val *val)
{
	struct q_scan *qs = ud;

	if(!has_prefix(key, &qs->prefix)) return WALK_STOP;
	if(key->mv_size != qs->prefix.len + 8) return corrupt(T_QUEUE, "bad key length");
	if(qs->cb(qs->ud, get_u64((const unsigned char *)key->mv_data + qs->prefix.len), val->mv_data, val->mv_size)){
		return WALK_STOP;
	}
	return WALK_NEXT;
}

/* dev: borrowed. One seek to dev \0 from, then adjacent keys of that device. */
int c2d_store_q_scan(struct c2d_store *st, const char *dev, uint64_t from,
		int (*cb)(void *ud, uint64_t seq, const void *rec, size_t len), void *ud)
{
	struct q_scan qs = {.cb = cb, .ud = ud};
	struct key start = {0};

	if(st == NULL || cb == NULL || key_dev_seq(&start, dev, from)) return C2D_EINVAL;
	qs.prefix = start;
	qs.prefix.len -= 8;
	return db_walk(st, T_QUEUE, start.buf, start.len, visit_q, &qs);
}

/* ---- deadline index ---- */

/* Build at_ms(be64) dev \0 seq(be64); seq 0 is invalid. dev: borrowed. */
static int due_key(struct key *k, uint64_t at_ms, const char *dev, uint64_t seq)
{
	if(seq == 0) return C2D_EINVAL;
	key_u64(k, at_ms);
	return key_dev_seq(k, dev, seq);
}

/* dev: borrowed, copied into the key. */
int c2d_store_due_add(struct c2d_store *st, uint64_t at_ms, const char *dev, uint64_t seq)
{
	struct key k = {0};

	if(st == NULL || due_key(&k, at_ms, dev, seq)) return C2D_EINVAL;
	return db_put(st, T_DUE, k.buf, k.len, NULL, 0);
}

/* dev: borrowed. */
int c2d_store_due_del(struct c2d_store *st, uint64_t at_ms, const char *dev, uint64_t seq)
{
	struct key k = {0};

	if(st == NULL || due_key(&k, at_ms, dev, seq)) return C2D_EINVAL;
	return db_del(st, T_DUE, k.buf, k.len);
}

struct due_first {
	uint64_t *at_ms;
	struct take_dev_seq out;
	int found;
};

static int visit_due_first(void *ud, const MDB_val *key, const MDB_val *val)
{
	struct due_first *df = ud;
	const unsigned char *p = key->mv_data;
	int rc;

	(void)val;
	if(key->mv_size < 8) return corrupt(T_DUE, "bad key length");
	rc = parse_dev_seq(T_DUE, p + 8, key->mv_size - 8, df->out.dev, df->out.seq);
	if(rc) return rc;
	*df->at_ms = get_u64(p);
	df->found = 1;
	return WALK_STOP;
}

/* dev: C2D_DEV_MAX+1 bytes, filled. One MDB_FIRST. */
int c2d_store_due_first(struct c2d_store *st, uint64_t *at_ms, char *dev, uint64_t *seq)
{
	struct due_first df = {at_ms, {dev, seq}, 0};
	int rc;

	if(st == NULL || at_ms == NULL || dev == NULL || seq == NULL) return C2D_EINVAL;
	rc = db_walk(st, T_DUE, NULL, 0, visit_due_first, &df);
	if(rc) return rc;
	return df.found ? C2D_OK : C2D_ENOTFOUND;
}

/* ---- dedup ---- */

static int dedup_key_ok(const void *key, size_t keylen)
{
	return key != NULL && keylen >= 1 && keylen <= DEDUP_KEY_MAX;
}

/* key, dev: borrowed, copied into the store. */
int c2d_store_dedup_put(struct c2d_store *st, const void *key, size_t keylen, const char *dev, uint64_t seq)
{
	struct key v = {0};

	if(st == NULL || !dedup_key_ok(key, keylen) || seq == 0 || key_dev_seq(&v, dev, seq)) return C2D_EINVAL;
	return db_put(st, T_DEDUP, key, keylen, v.buf, v.len);
}

/* dev: C2D_DEV_MAX+1 bytes, filled. */
int c2d_store_dedup_get(struct c2d_store *st, const void *key, size_t keylen, char *dev, uint64_t *seq)
{
	struct take_dev_seq td = {dev, seq};

	if(st == NULL || !dedup_key_ok(key, keylen) || dev == NULL || seq == NULL) return C2D_EINVAL;
	return db_get(st, T_DEDUP, key, keylen, take_dev_seq, &td);
}

/* key: borrowed. */
int c2d_store_dedup_del(struct c2d_store *st, const void *key, size_t keylen)
{
	if(st == NULL || !dedup_key_ok(key, keylen)) return C2D_EINVAL;
	return db_del(st, T_DEDUP, key, keylen);
}
