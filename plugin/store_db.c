/* store_db.c: the plumbing every store table shares (store_int.h): LMDB
 * return codes mapped to ours and logged, corrupt records, the transaction a
 * read runs in, get/put/del/walk on one table, and the copy-out helpers.
 * It owns no table and no key format (the table modules do; store.c lists
 * all of them).
 *
 * Reads run in the open write transaction when there is one, so they see its
 * uncommitted writes; otherwise in a read-only transaction of their own,
 * aborted as soon as the value has been copied out. Every MDB value handed
 * out is copied first: LMDB's pointers die with the transaction or the next
 * write. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "c2d_log.h"
#include "store_int.h"

/* By enum table (store_int.h); the names are on disk: never rename one. */
const char *const c2d_db_table_name[T_COUNT] = {"meta", "devices", "twins", "queue", "due", "dedup", "info",
	"idmark", "timeout", "quarantine", "jobs", "jactive", "jexec", "jref", "gw", "gwsubs"};

/* ---- status ---- */

/* The code alone: open failures log their own line. */
int c2d_db_code(int rc)
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

/* MDB_PANIC marks the environment failed (once, logged). */
int c2d_db_status(struct c2d_store *st, int rc, const char *op, const char *what)
{
	int code = c2d_db_code(rc);

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

int c2d_db_corrupt(enum table t, const char *why)
{
	c2d_log(C2D_LOG_ERR, "LMDB corrupt record in %s: %s", c2d_db_table_name[t], why);
	return C2D_ESTORE;
}

/* dev: filled, NUL-terminated. */
int c2d_db_parse_dev_seq(enum table t, const unsigned char *p, size_t n, char *dev, uint64_t *seq)
{
	size_t dlen;

	if(n < 1 + 1 + 8 || n - 9 > C2D_DEV_MAX) return c2d_db_corrupt(t, "bad (dev, seq) length");
	dlen = n - 9;
	if(p[dlen] != '\0' || memchr(p, '\0', dlen)) return c2d_db_corrupt(t, "bad (dev, seq) separator");
	memcpy(dev, p, dlen);
	dev[dlen] = '\0';
	*seq = get_u64(p + dlen + 1);
	return C2D_OK;
}

/* ---- transactions for reads ---- */

int c2d_db_txn_begin(struct c2d_store *st, unsigned int flags, MDB_txn **txn)
{
	if(st->env == NULL) return MDB_PANIC;
	return mdb_txn_begin(st->env, NULL, flags, txn);
}

int c2d_db_read_begin(struct c2d_store *st, MDB_txn **txn)
{
	if(st->txn){
		*txn = st->txn;
		return C2D_OK;
	}
	return c2d_db_status(st, c2d_db_txn_begin(st, MDB_RDONLY, txn), "read begin", NULL);
}

/* Aborts txn unless it is the open write transaction. */
void c2d_db_read_end(struct c2d_store *st, MDB_txn *txn)
{
	if(txn != st->txn) mdb_txn_abort(txn);
}

/* ---- get / put / del plumbing shared by all tables ---- */

/* The value is borrowed by take() only while the read transaction lives. */
int c2d_db_get(struct c2d_store *st, enum table t, const void *key, size_t keylen, take_fn take, void *ud)
{
	MDB_txn *txn;
	MDB_val k = mval(key, keylen);
	MDB_val v;
	int rc;

	rc = c2d_db_read_begin(st, &txn);
	if(rc) return rc;
	rc = c2d_db_status(st, mdb_get(txn, st->dbi[t], &k, &v), "get", c2d_db_table_name[t]);
	if(rc == C2D_OK) rc = take(ud, &v);
	c2d_db_read_end(st, txn);
	return rc;
}

/* data NULL with len 0: an empty value (the deadline indexes). */
int c2d_db_put(struct c2d_store *st, enum table t, const void *key, size_t keylen, const void *data, size_t len)
{
	MDB_val k = mval(key, keylen);
	MDB_val v = mval(data ? data : "", len);

	if(st->txn == NULL) return C2D_ETXN;
	return c2d_db_status(st, mdb_put(st->txn, st->dbi[t], &k, &v, 0), "put", c2d_db_table_name[t]);
}

/* C2D_ENOTFOUND when key is absent, C2D_ETXN without a transaction. */
int c2d_db_del(struct c2d_store *st, enum table t, const void *key, size_t keylen)
{
	MDB_val k = mval(key, keylen);

	if(st->txn == NULL) return C2D_ETXN;
	return c2d_db_status(st, mdb_del(st->txn, st->dbi[t], &k, NULL), "del", c2d_db_table_name[t]);
}

/* WALK_STOP ends the walk with C2D_OK; a visitor's error ends it with that
 * error; running off the end of the table is C2D_OK. */
int c2d_db_walk(struct c2d_store *st, enum table t, const void *from, size_t fromlen, visit_fn visit, void *ud)
{
	MDB_txn *txn;
	MDB_cursor *cur;
	MDB_val k = mval(from, fromlen);
	MDB_val v;
	int mrc, rc;

	rc = c2d_db_read_begin(st, &txn);
	if(rc) return rc;
	rc = c2d_db_status(st, mdb_cursor_open(txn, st->dbi[t], &cur), "cursor open", c2d_db_table_name[t]);
	if(rc) goto txn_end;

	mrc = mdb_cursor_get(cur, &k, &v, from ? MDB_SET_RANGE : MDB_FIRST);
	while(mrc == MDB_SUCCESS){
		rc = visit(ud, &k, &v);
		if(rc == WALK_DEL){
			rc = c2d_db_status(st, mdb_cursor_del(cur, 0), "cursor del", c2d_db_table_name[t]);
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
		rc = c2d_db_status(st, mrc, "cursor get", c2d_db_table_name[t]);
	}

	mdb_cursor_close(cur);
txn_end:
	c2d_db_read_end(st, txn);
	return rc;
}

/* ---- copy-out helpers ---- */

/* ud: struct take_copy *, filled. */
int c2d_db_take_copy(void *ud, const MDB_val *val)
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

/* st NULL or count NULL: C2D_EINVAL. */
int c2d_db_count(struct c2d_store *st, enum table t, uint64_t *count)
{
	MDB_txn *txn;
	MDB_stat stat;
	int rc;

	if(st == NULL || count == NULL) return C2D_EINVAL;
	rc = c2d_db_read_begin(st, &txn);
	if(rc) return rc;
	rc = c2d_db_status(st, mdb_stat(txn, st->dbi[t], &stat), "stat", c2d_db_table_name[t]);
	if(rc == C2D_OK) *count = stat.ms_entries;
	c2d_db_read_end(st, txn);
	return rc;
}
