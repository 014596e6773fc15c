/* store_int.h: what the store modules share, private to them. It is the
 * only plugin file that includes lmdb.h, and only the store modules
 * (store.c, store_db.c, store_dev.c, store_queue.c, store_index.c,
 * store_quarantine.c, store_jobs.c, store_upgrade.c,
 * store_gw.c) include it.
 *
 *   store.c             environment, open/close/reopen, schema, transactions,
 *                       sync, usage; the table of all databases
 *   store_db.c          the plumbing every table shares (c2d_db_*): error mapping,
 *                       corrupt records, reads' transactions, get/put/del/walk,
 *                       copy-out helpers, entry counts
 *   store_dev.c         devices, twins, info, idmark
 *   store_queue.c       queue items: state records and payloads
 *   store_upgrade.c     rewriting a schema 1.x store's records (on open)
 *   store_index.c       due, timeout, clock record, dedup
 *   store_quarantine.c  quarantine
 *   store_jobs.c        fleet jobs: jobs, active jobs, executions, item references
 *   store_gw.c          the gateway registry: gw, gwsubs
 *
 * The shared functions are prefixed c2d_db_ (the plugin's extern names all
 * start with c2d_); -fvisibility=hidden keeps them out of the .so's exports.
 *
 * Ownership: every value LMDB hands out (MDB_val) is borrowed for the call
 * only (its pointer dies with the transaction or the next write); callers of
 * this header copy it out before returning. */
#ifndef C2D_STORE_INT_H
#define C2D_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <lmdb.h>

#include "c2d_err.h"
#include "c2d_store.h"

/* The named databases; store.c's head comment says what each holds. */
enum table {
	T_META,
	T_DEVICES,
	T_TWINS,
	T_QUEUE,
	T_DUE,
	T_DEDUP,
	T_INFO,
	T_IDMARK,
	T_TIMEOUT,
	T_QUARANTINE,
	T_JOBS,
	T_JACTIVE,
	T_JEXEC,
	T_JREF,
	T_QPAY,
	T_TWSENT,
	T_GW,
	T_GWSUBS,
	T_COUNT
};

/* The databases' names in LMDB (store.c), by enum table. */
extern const char *const c2d_db_table_name[T_COUNT];

struct c2d_store {
	MDB_env *env;
	MDB_txn *txn;          /* the open write transaction (the nested one while open), or NULL */
	MDB_txn *outer;        /* while a nested transaction is open: its parent */
	MDB_dbi dbi[T_COUNT];
	enum c2d_sync sync;
	uint64_t map_mib;      /* map size in effect, for the map-full message */
	char *path;            /* owned copy of db_path */
	bool failed;           /* LMDB said MDB_PANIC: env unusable until reopened */
	bool jobs_idle;        /* a scan of committed state found no active job, and none was
	                        * activated since (store_jobs.c; lets every TICK skip a read
	                        * transaction) */
	uint64_t jobs_due_ms;  /* a whole scan found every active job asleep, the first to
	                        * wake at this wall ms, and none was woken since, nor a
	                        * transaction rolled back (0: unknown; store_jobs.c) */
};

/* ---- status (store_db.c) ---- */

/* Map an LMDB return code to ours, silently. */
int c2d_db_code(int rc);
/* Map an LMDB return code to ours and log what an operator must see.
 * MDB_NOTFOUND is not logged: callers decide whether it is an error.
 * op and what (table name or NULL): borrowed, for the log line. */
int c2d_db_status(struct c2d_store *st, int rc, const char *op, const char *what);
/* A stored record that cannot be ours (wrong size or shape): logs, C2D_ESTORE. */
int c2d_db_corrupt(enum table t, const char *why);

/* ---- keys ---- */

#define KEY_MAX (8 + C2D_DEV_MAX + 1 + 8)

/* A key (or dev\0seq value) built in place; at most at_ms + dev + NUL + seq. */
struct key {
	size_t len;
	unsigned char buf[KEY_MAX];
};

static inline void key_u64(struct key *k, uint64_t x)
{
	int i;

	for(i = 7; i >= 0; i--){
		k->buf[k->len++] = (unsigned char)(x >> (8 * i));
	}
}

static inline uint64_t get_u64(const unsigned char *p)
{
	uint64_t x = 0;
	int i;

	for(i = 0; i < 8; i++){
		x = (x << 8) | p[i];
	}
	return x;
}

/* Append a device id (borrowed): C2D_EINVAL unless 1..C2D_DEV_MAX bytes. */
static inline int key_dev(struct key *k, const char *dev)
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
static inline int key_dev_seq(struct key *k, const char *dev, uint64_t seq)
{
	int rc = key_dev(k, dev);

	if(rc) return rc;
	k->buf[k->len++] = '\0';
	key_u64(k, seq);
	return C2D_OK;
}

/* Split dev \0 seq(be64) (p, n: borrowed) into dev (C2D_DEV_MAX+1 bytes) and
 * seq; c2d_db_corrupt(t) when it is not that shape. */
int c2d_db_parse_dev_seq(enum table t, const unsigned char *p, size_t n, char *dev, uint64_t *seq);

static inline MDB_val mval(const void *p, size_t n)
{
	MDB_val v;

	v.mv_size = n;
	v.mv_data = (void *)p; /* LMDB does not write through key or data on get/put/del */
	return v;
}

static inline int has_prefix(const MDB_val *key, const struct key *prefix)
{
	return key->mv_size >= prefix->len && memcmp(key->mv_data, prefix->buf, prefix->len) == 0;
}

/* ---- transactions for reads (store_db.c) ---- */

/* mdb_txn_begin, or MDB_PANIC while a failed environment could not be
 * reopened (st->env NULL). Returns LMDB's code. */
int c2d_db_txn_begin(struct c2d_store *st, unsigned int flags, MDB_txn **txn);
/* The transaction a read runs in: the open write transaction, else a new
 * read-only one. Pair with c2d_db_read_end(). */
int c2d_db_read_begin(struct c2d_store *st, MDB_txn **txn);
void c2d_db_read_end(struct c2d_store *st, MDB_txn *txn);

/* ---- get / put / del plumbing shared by all tables (store_db.c) ---- */

/* take() copies what it needs out of val (borrowed, valid for the call only). */
typedef int (*take_fn)(void *ud, const MDB_val *val);

/* Look key (borrowed) up in t and hand the value to take(). */
int c2d_db_get(struct c2d_store *st, enum table t, const void *key, size_t keylen, take_fn take, void *ud);
/* Store key -> data (both borrowed, copied by LMDB) in the open transaction. */
int c2d_db_put(struct c2d_store *st, enum table t, const void *key, size_t keylen, const void *data, size_t len);
/* key: borrowed. In the open transaction. */
int c2d_db_del(struct c2d_store *st, enum table t, const void *key, size_t keylen);

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
int c2d_db_walk(struct c2d_store *st, enum table t, const void *from, size_t fromlen, visit_fn visit, void *ud);

/* Quarantine the entry `key` of table t (store_quarantine.c), if it is there:
 * C2D_OK when moved, C2D_ENOTFOUND when absent. */
int c2d_db_quarantine_key(struct c2d_store *st, enum table t, const struct key *key);

/* Rewrite a schema 1.x store's records in txn (store_upgrade.c), before
 * anything else reads them. err: the one-line reason on failure. */
int c2d_db_upgrade_1x(struct c2d_store *st, MDB_txn *txn, char *err, size_t errlen);

/* ---- device records (store_dev.c; store_upgrade.c converts 1.x ones) ---- */

#define DEVREC_VERSION 2
#define DEVREC_LEN (1 + 4 + 8 + 8 + 1 + 8 * C2D_DEVREC_COUNTERS)
/* Decode buf (len bytes, borrowed): C2D_OK or C2D_EINVAL (*rec zeroed). */
int c2d_db_devrec_decode(struct c2d_devrec *rec, const void *buf, size_t len);
/* Encode *rec into buf; returns its length (DEVREC_LEN). */
size_t c2d_db_devrec_encode(const struct c2d_devrec *rec, unsigned char buf[DEVREC_LEN]);

/* ---- execution records (store_jobs.c) ---- */

#define JEXEC_VERSION 1
#define JEXEC_LEN (1 + 1 + 4 + 8 + 8)
int c2d_db_jexec_decode(struct c2d_jexec *x, const void *buf, size_t len);
size_t c2d_db_jexec_encode(const struct c2d_jexec *x, unsigned char buf[JEXEC_LEN]);

/* ---- take() helpers (store_db.c) ---- */

/* Copy a value into malloc memory with a NUL after it (twins, queue items):
 * tc->data is owned by the caller (free()). */
struct take_copy {
	void *data;
	size_t len;
};

int c2d_db_take_copy(void *ud, const MDB_val *val);

/* *count: filled. From the B-tree's entry count: no scan. */
int c2d_db_count(struct c2d_store *st, enum table t, uint64_t *count);

#endif
