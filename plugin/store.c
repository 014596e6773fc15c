/* store.c: durable state in LMDB: the environment, open/close/reopen, the
 * schema record and its upgrades, transactions (begin, commit, abort, nested),
 * sync and map usage. The store modules (this file, store_db.c, store_dev.c,
 * store_queue.c, store_index.c, store_quarantine.c) are the only plugin files
 * that include lmdb.h, through their private header store_int.h.
 *
 * One environment at db_path holds sixteen named databases. Keys are built so
 * that each hot operation is one B-tree seek, or a cursor walk over adjacent
 * keys (each table's module says why its keys sort as they must):
 *
 *   meta     "schema"                      -> "2.1" (major.minor; 1.x upgraded, others refused) store.c
 *            "clock"                       -> be64: the timeout clock when last written   store_index.c
 *   devices  dev                           -> device record (versioned, c2d_rec.h)         store_dev.c
 *   twins    dev                           -> JSON text, without NUL                      store_dev.c
 *   twinsent dev                           -> u8 version (1), u64 LE: the highest desired store_dev.c
 *                                             version pushed, noted by a catch-up
 *   queue    dev \0 seq(be64)              -> item state record (qrec.c, no payload)       store_queue.c
 *   qpayload dev \0 seq(be64)              -> the item's payload, written once            store_queue.c
 *   due      at_ms(be64) dev \0 seq(be64)  -> empty (wall clock deadlines)                store_index.c
 *   timeout  at_ms(be64) dev \0 seq(be64)  -> empty (timeout clock deadlines)             store_index.c
 *   dedup    opaque key (1..480 bytes)     -> dev \0 seq(be64)                            store_index.c
 *   info     dev                           -> JSON text (the device's hello), without NUL store_dev.c
 *   idmark   dev                           -> id mark record (25 bytes)                   store_dev.c
 *   quarantine  table name \0 key          -> the record as it was                        store_quarantine.c
 *   jobs     job id                        -> JSON text: spec, state, counts, cursors     store_jobs.c
 *   jactive  job id                        -> empty or be64 wake ms (jobs the tick works on) store_jobs.c
 *   jexec    job \0 dev                    -> execution record (versioned, c2d_rec.h)     store_jobs.c
 *   jref     dev \0 'q' seq(be64)          -> job id (a queue item a job dispatched)      store_jobs.c
 *            dev \0 't' job                -> be64 desired version awaited by a twin job  store_jobs.c
 *   gw       sub                           -> gateway id (text)                           store_gw.c
 *   gwsubs   gateway \0 sub                -> empty (the registry by gateway)             store_gw.c
 *
 * Schema 1.1 added info and idmark; 1.2 added timeout, quarantine and the
 * clock record; 1.3 the job tables (jobs, jactive, jexec, jref). 2.0 gave
 * every record an explicit versioned encoding (c2d_rec.h: no C struct on
 * disk), moved queue payloads out of the item records (qpayload) and
 * what a twin catch-up sent out of the twin document (twinsent); 2.1 added
 * the gateway registry (gw, gwsubs). A 1.x store is upgraded in place when it
 * is opened: it gets the new tables (empty), store_upgrade.c rewrites its
 * device, queue and execution records in the same transaction, and its schema
 * record says 2.1; a 2.0 store only gets the new tables. A store of another
 * major (3.x, or 0.x) is refused and left as it was.
 *
 * Transactions: the store holds at most one write transaction (st->txn), from
 * c2d_store_begin() to c2d_store_commit()/c2d_store_abort(); every write needs it
 * (C2D_ETXN otherwise). Reads run in that transaction when it is open, so they
 * see its uncommitted writes; otherwise in a read-only transaction of their own
 * (store_db.c). Every MDB value handed out is copied first: LMDB's pointers die
 * with the transaction or the next write. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "c2d_log.h"
#include "store_int.h"

#define SCHEMA_KEY "schema"
#define SCHEMA_VALUE "2.1"
#define SCHEMA_MAJOR 2
#define SCHEMA_MINOR 1
#define SCHEMA_UPGRADABLE 1 /* an older major whose records store_upgrade.c rewrites */
#define MIB ((uint64_t)1024 * 1024)

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

/* Read the schema record in txn; refuse another major unless it is one we
 * upgrade. *write: the record must be (re)written once the tables are open;
 * *old_major: the store's major (0: a new store). */
static int schema_check(struct c2d_store *st, MDB_txn *txn, bool *write, unsigned long *old_major,
		char *err, size_t errlen)
{
	MDB_val k = mval(SCHEMA_KEY, strlen(SCHEMA_KEY));
	MDB_val v;
	const char *s;
	static const unsigned long schema_minor = SCHEMA_MINOR;
	size_t i, j, n;
	unsigned long major = 0, minor = 0;
	int rc;

	*write = false;
	*old_major = 0;
	rc = mdb_get(txn, st->dbi[T_META], &k, &v);
	if(rc == MDB_NOTFOUND){
		*write = true;
		return C2D_OK;
	}
	if(rc){
		return open_fail(c2d_db_code(rc), err, errlen, "cannot read the schema record at %s: %s", st->path,
				mdb_strerror(rc));
	}
	s = v.mv_data;
	n = v.mv_size;
	for(i = 0; i < n && i < 9 && s[i] >= '0' && s[i] <= '9'; i++){
		major = major * 10 + (unsigned long)(s[i] - '0');
	}
	if(i == 0 || i == n || s[i] != '.'){
		return open_fail(C2D_ESCHEMA, err, errlen, "database at %s has an unreadable schema record", st->path);
	}
	if(major != SCHEMA_MAJOR && major != SCHEMA_UPGRADABLE){
		return open_fail(C2D_ESCHEMA, err, errlen, "database at %s has schema %.*s.x; this plugin reads %d.x"
				" (and upgrades %d.x)", st->path, (int)i, s, SCHEMA_MAJOR, SCHEMA_UPGRADABLE);
	}
	for(j = i + 1; j < n && j < i + 10 && s[j] >= '0' && s[j] <= '9'; j++){
		minor = minor * 10 + (unsigned long)(s[j] - '0');
	}
	*old_major = major;
	if(major < SCHEMA_MAJOR || minor < schema_minor){
		c2d_log(C2D_LOG_NOTICE, "database at %s: schema %.*s upgraded to %s", st->path, (int)n, s, SCHEMA_VALUE);
		*write = true;
	}
	return C2D_OK;
}

/* Open the named databases and check the schema in one write transaction.
 * meta is checked before the others are created, so a refused database is
 * left as it was. A 1.x store has its records rewritten (store_upgrade.c)
 * in the same transaction: it opens upgraded or not at all. */
static int open_tables(struct c2d_store *st, char *err, size_t errlen)
{
	MDB_val k = mval(SCHEMA_KEY, strlen(SCHEMA_KEY)), v = mval(SCHEMA_VALUE, strlen(SCHEMA_VALUE));
	unsigned long old_major = 0;
	bool write = false;
	MDB_txn *txn;
	int t, rc;

	rc = mdb_txn_begin(st->env, NULL, 0, &txn);
	if(rc) goto fail;
	for(t = 0; t < T_COUNT; t++){
		rc = mdb_dbi_open(txn, c2d_db_table_name[t], MDB_CREATE, &st->dbi[t]);
		if(rc) goto txn_abort;
		if(t == T_META){
			rc = schema_check(st, txn, &write, &old_major, err, errlen);
			if(rc){
				mdb_txn_abort(txn);
				return rc;
			}
		}
	}
	if(old_major == SCHEMA_UPGRADABLE){
		rc = c2d_db_upgrade_1x(st, txn, err, errlen);
		if(rc){
			mdb_txn_abort(txn);
			return rc;
		}
	}
	if(write && (rc = mdb_put(txn, st->dbi[T_META], &k, &v, 0)) != 0){
		mdb_txn_abort(txn);
		return open_fail(c2d_db_code(rc), err, errlen,
				"cannot write the schema record at %s: %s", st->path, mdb_strerror(rc));
	}
	rc = mdb_txn_commit(txn);
	if(rc) goto fail;
	return C2D_OK;

txn_abort:
	mdb_txn_abort(txn);
fail:
	return open_fail(c2d_db_code(rc), err, errlen,
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
		return open_fail(c2d_db_code(rc), err, errlen, "cannot create an LMDB environment: %s", mdb_strerror(rc));
	}
	rc = mdb_env_set_mapsize(st->env, (size_t)(st->map_mib * MIB));
	if(rc == 0) rc = mdb_env_set_maxdbs(st->env, 32);
	if(rc == 0) rc = mdb_env_open(st->env, st->path, MDB_NOTLS | sync_flags[st->sync], 0600);
	if(rc){
		rc = open_fail(c2d_db_code(rc), err, errlen,
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
	st->jobs_idle = false; /* the last commit may not have reached the disk */
	st->jobs_due_ms = 0;
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
	rc = c2d_db_txn_begin(st, 0, &st->txn);
	if(rc) st->txn = NULL;
	return c2d_db_status(st, rc, "begin", NULL);
}

/* The transaction ends either way: on failure LMDB has freed it. A nested
 * transaction still open is merged into it first. */
int c2d_store_commit(struct c2d_store *st)
{
	MDB_txn *txn;
	int rc;

	if(st == NULL) return C2D_EINVAL;
	if(st->txn == NULL) return C2D_ETXN;
	if(st->outer && (rc = c2d_store_nest_commit(st)) != 0){
		c2d_store_abort(st);
		return rc;
	}
	txn = st->txn;
	st->txn = NULL;
	rc = mdb_txn_commit(txn);
	if(rc) st->jobs_due_ms = 0; /* what a scan saw in it is gone */
	return c2d_db_status(st, rc, "commit", NULL);
}

void c2d_store_abort(struct c2d_store *st)
{
	if(st == NULL || st->txn == NULL) return;
	c2d_store_nest_abort(st);
	mdb_txn_abort(st->txn);
	st->txn = NULL;
	st->jobs_due_ms = 0; /* what a scan saw in it is gone */
}

/* LMDB nested transactions (not with MDB_WRITEMAP, which env_open never
 * sets): the child becomes st->txn, so every call works in it and reads see
 * the parent's writes; the parent is untouchable until the child ends. */
int c2d_store_nest_begin(struct c2d_store *st)
{
	MDB_txn *child;
	int rc;

	if(st == NULL) return C2D_EINVAL;
	if(st->outer) return C2D_ETXN;
	if(st->txn == NULL && (rc = c2d_store_begin(st)) != 0) return rc;
	rc = mdb_txn_begin(st->env, st->txn, 0, &child);
	if(rc) return c2d_db_status(st, rc, "nested begin", NULL);
	st->outer = st->txn;
	st->txn = child;
	return C2D_OK;
}

/* The child ends either way; on failure its writes are gone and the parent
 * stays open as it was. */
int c2d_store_nest_commit(struct c2d_store *st)
{
	MDB_txn *child;
	int rc;

	if(st == NULL) return C2D_EINVAL;
	if(st->outer == NULL) return C2D_ETXN;
	child = st->txn;
	st->txn = st->outer;
	st->outer = NULL;
	rc = mdb_txn_commit(child);
	if(rc) st->jobs_due_ms = 0;
	return c2d_db_status(st, rc, "nested commit", NULL);
}

void c2d_store_nest_abort(struct c2d_store *st)
{
	if(st == NULL || st->outer == NULL) return;
	mdb_txn_abort(st->txn);
	st->txn = st->outer;
	st->outer = NULL;
	st->jobs_due_ms = 0;
}

int c2d_store_in_nest(const struct c2d_store *st)
{
	return st && st->outer ? 1 : 0;
}

int c2d_store_in_txn(const struct c2d_store *st)
{
	return st && st->txn ? 1 : 0;
}

/* mdb_env_sync(force): flushes what MDB_NOSYNC / MDB_NOMETASYNC left unsynced. */
int c2d_store_sync(struct c2d_store *st)
{
	if(st == NULL) return C2D_EINVAL;
	return c2d_db_status(st, c2d_store_sync_worker(st), "sync", NULL);
}

int c2d_store_sync_worker(struct c2d_store *st)
{
	return st->env ? mdb_env_sync(st->env, 1) : MDB_PANIC;
}

int c2d_store_sync_report(struct c2d_store *st, int worker_rc)
{
	return c2d_db_status(st, worker_rc, "sync", NULL);
}

int c2d_store_usage_bound(struct c2d_store *st, uint64_t *bound_bytes, uint64_t *map_bytes)
{
	MDB_envinfo info;
	MDB_stat stat;
	int rc;

	if(st == NULL || bound_bytes == NULL || map_bytes == NULL) return C2D_EINVAL;
	if(st->env == NULL) return c2d_db_status(st, MDB_PANIC, "usage", NULL);
	rc = mdb_env_info(st->env, &info);
	if(rc == 0) rc = mdb_env_stat(st->env, &stat);
	if(rc) return c2d_db_status(st, rc, "usage", NULL);
	*bound_bytes = ((uint64_t)info.me_last_pgno + 1) * stat.ms_psize;
	*map_bytes = (uint64_t)info.me_mapsize;
	return C2D_OK;
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
	if(st->env == NULL) return c2d_db_status(st, MDB_PANIC, "usage", NULL);
	rc = mdb_env_info(st->env, &info);
	if(rc == 0) rc = mdb_env_stat(st->env, &stat);
	/* Pages on LMDB's free list (database 0) are reused before the file
	 * grows: they are room, not use. Each record is a page list, count first. */
	if(rc == 0 && txn == NULL) rc = c2d_db_txn_begin(st, MDB_RDONLY, &txn);
	if(rc == 0) rc = mdb_cursor_open(txn, 0, &cur);
	while(rc == 0 && (rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0){
		if(v.mv_size >= sizeof(size_t)) free_pages += *(const size_t *)v.mv_data;
	}
	if(rc == MDB_NOTFOUND) rc = 0;
	if(cur) mdb_cursor_close(cur);
	if(txn && txn != st->txn) mdb_txn_abort(txn);
	if(rc) return c2d_db_status(st, rc, "usage", NULL);
	pages = (uint64_t)info.me_last_pgno + 1;
	*used_bytes = (pages > free_pages ? pages - free_pages : 0) * stat.ms_psize;
	*map_bytes = (uint64_t)info.me_mapsize;
	return C2D_OK;
}
