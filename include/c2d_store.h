/* Durable state in LMDB. The store modules (plugin/store.c and
 * plugin/store_*.c, through plugin/store_int.h) are the only plugin files
 * that include lmdb.h; this API speaks the domain (devices, twins, queue
 * items, deadlines, dedup keys) so that another backend can sit behind it
 * later.
 *
 * Transactions: the broker thread opens one write transaction per broker
 * event with c2d_store_begin(), does all its writes, then c2d_store_commit()
 * (or c2d_store_abort()). Every write outside a transaction fails with
 * C2D_ETXN. Reads inside a transaction see its uncommitted writes; reads
 * outside one use a short read-only transaction of their own.
 *
 * Errors (c2d_err.h): C2D_ENOTFOUND, C2D_EFULL (map full: the write failed, the
 * caller must abort the transaction; logged once with the option to raise),
 * C2D_ESTORE (any other LMDB failure, logged where it happens), C2D_ENOMEM,
 * C2D_EINVAL (bad argument: empty or over-long key, dev longer than 128 bytes). */
#ifndef C2D_STORE_H
#define C2D_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "c2d_conf.h"
#include "c2d_topic.h" /* C2D_DEV_MAX */

struct c2d_store;

/* Per-device record, in memory. Stored encoded (store_dev.c), never as is. */
#define C2D_DEVREC_COUNTERS 16
struct c2d_devrec {
	uint32_t queued;           /* items in the queue (maintained by the queue module) */
	uint64_t next_seq;         /* next queue sequence number; 0 in a new record means 1 */
	uint64_t created_ms;       /* wall clock, ms since epoch */
	uint64_t counters[C2D_DEVREC_COUNTERS]; /* meaning owned by the modules (c2d.h) */
};

/* Open (creating the directory, mode 0700, and its databases if missing) the
 * environment at conf->db_path with conf->map_size_mib and conf->sync.
 * Checks the schema record: writes it on a new database, refuses another major
 * with C2D_ESCHEMA. conf: borrowed. *out: owned by the caller, c2d_store_close.
 * On failure a one-line reason is in err (also logged). */
int c2d_store_open(struct c2d_store **out, const struct c2d_conf *conf, char *err, size_t errlen);

/* Abort an open transaction, close the environment, free. NULL is fine. */
void c2d_store_close(struct c2d_store *st);

int c2d_store_begin(struct c2d_store *st);  /* C2D_ETXN if one is open */
int c2d_store_commit(struct c2d_store *st); /* ends the transaction either way */
void c2d_store_abort(struct c2d_store *st); /* no-op without a transaction */
int c2d_store_in_txn(const struct c2d_store *st); /* 1 when a write txn is open */

/* One item's work inside the open transaction (LMDB nested transaction):
 * nest_begin opens the outer transaction first if none is open, then a
 * child in which every call runs until nest_commit merges it into the outer
 * one or nest_abort drops its writes (and only its writes). At most one
 * child at a time (C2D_ETXN). nest_commit ends the child either way: on
 * failure its writes are gone, the outer transaction is as before.
 * c2d_store_commit merges an open child first; c2d_store_abort drops both. */
int c2d_store_nest_begin(struct c2d_store *st);
int c2d_store_nest_commit(struct c2d_store *st);
void c2d_store_nest_abort(struct c2d_store *st); /* no-op without a child */
int c2d_store_in_nest(const struct c2d_store *st); /* 1 while a child is open */

/* Flush to disk now (mdb_env_sync force): used by sync periodic at TICK. */
int c2d_store_sync(struct c2d_store *st);
/* The same for a worker thread (LMDB allows mdb_env_sync from any thread,
 * next to the main thread's transactions): touches nothing but the
 * environment and logs nothing. Returns the LMDB error number (0 ok), for
 * c2d_store_sync_report on the main thread, which logs it and returns 0 or
 * C2D_ESTORE. */
int c2d_store_sync_worker(struct c2d_store *st);
int c2d_store_sync_report(struct c2d_store *st, int worker_rc);

/* A failed environment: LMDB answered MDB_PANIC (a meta page write did not
 * reach the disk, e.g. EIO, or ENOSPC on a copy-on-write file system). Every
 * call then fails (C2D_ESTORE, logged) until c2d_store_reopen closes and
 * opens it again; the file is as the last successful commit left it. */
bool c2d_store_failed(const struct c2d_store *st);
/* No-op unless failed. Only with no transaction open (C2D_ETXN) and no
 * c2d_store_sync_worker running. Returns C2D_OK when the store works again,
 * else the open error (logged; calls keep failing, try again later). */
int c2d_store_reopen(struct c2d_store *st);

/* Map use: bytes in pages in use (pages on LMDB's free list are reused, so
 * they count as room), and the map size. Walks the free list: call it at
 * most a few times a second. */
int c2d_store_usage(struct c2d_store *st, uint64_t *used_bytes, uint64_t *map_bytes);
/* Cheap upper bound of the same: the bytes up to the last page LMDB has
 * handed out (mdb_env_info, no transaction, no walk), and the map size. The
 * used bytes are never more. */
int c2d_store_usage_bound(struct c2d_store *st, uint64_t *bound_bytes, uint64_t *map_bytes);

/* ---- devices. dev: borrowed, NUL-terminated, 1..128 bytes. ---- */
int c2d_store_dev_get(struct c2d_store *st, const char *dev, struct c2d_devrec *rec); /* C2D_ENOTFOUND */
int c2d_store_dev_put(struct c2d_store *st, const char *dev, const struct c2d_devrec *rec);
/* Make sure the device has a record (a known device: listDevices,
 * queryDevices), in the open transaction: a new one with created_ms and
 * everything else 0 if it has none. 0 or an error. */
int c2d_store_dev_ensure(struct c2d_store *st, const char *dev, uint64_t created_ms);
/* Delete the device record, its twin (and sent mark), its info and all its queue items and payloads. Deadline and
 * dedup entries are not touched: the caller removes those first. */
int c2d_store_dev_del(struct c2d_store *st, const char *dev);
/* Visit devices in byte order of their ids, strictly after `after` (NULL or ""
 * = from the start), at most `limit` (0 = no limit). cb returns nonzero to stop
 * early (not an error). rec is borrowed for the call only. */
int c2d_store_dev_scan(struct c2d_store *st, const char *after, size_t limit,
		int (*cb)(void *ud, const char *dev, const struct c2d_devrec *rec), void *ud);

/* ---- twins: one JSON text per device ---- */
/* *json: copied, NUL-terminated, caller frees with free(); *len excludes the NUL. */
int c2d_store_twin_get(struct c2d_store *st, const char *dev, char **json, size_t *len);
int c2d_store_twin_put(struct c2d_store *st, const char *dev, const char *json, size_t len);
/* Deletes the twin and its sent mark. C2D_ENOTFOUND if there was no twin. */
int c2d_store_twin_del(struct c2d_store *st, const char *dev);
/* The twin's sent mark: the highest desired version a catch-up pushed,
 * stored apart from the document (a catch-up writes these few bytes, not
 * the twin). *sent: 0 when there is none. */
int c2d_store_twin_sent_get(struct c2d_store *st, const char *dev, uint64_t *sent);
int c2d_store_twin_sent_put(struct c2d_store *st, const char *dev, uint64_t sent);
/* ---- device info: the JSON object of the device's hello, one per device;
 * c2d_store_dev_del deletes it ---- */
int c2d_store_info_get(struct c2d_store *st, const char *dev, char **json, size_t *len);
int c2d_store_info_put(struct c2d_store *st, const char *dev, const char *json, size_t len);

/* ---- id marks: where a device's ids continue after its queue or twin was
 * deleted, so that no id is used twice in the device's lifetime. Kept for
 * good (a few bytes per deleted device); read only when a device record or
 * twin is created. ---- */
struct c2d_idmark {
	uint64_t next_seq;   /* the next queue sequence is at least this */
	uint64_t desired;    /* the desired version of a new twin starts above this */
	uint64_t reported;   /* the reported version likewise */
};
/* *m: filled, all 0 when the device has no mark. */
int c2d_store_idmark_get(struct c2d_store *st, const char *dev, struct c2d_idmark *m);
/* Raise the device's mark to at least *m (borrowed), field by field. */
int c2d_store_idmark_raise(struct c2d_store *st, const char *dev, const struct c2d_idmark *m);

/* Number of stored twins (statistics). */
int c2d_store_twin_count(struct c2d_store *st, uint64_t *count);

/* ---- queue items: opaque state records keyed by (dev, seq), seq > 0; a
 * seq with C2D_STORE_Q_HISTORY set is a finished item's. ---- */
#define C2D_STORE_Q_HISTORY (1ull << 63)
int c2d_store_q_put(struct c2d_store *st, const char *dev, uint64_t seq, const void *rec, size_t len);
/* *rec: copied, caller frees with free(). */
int c2d_store_q_get(struct c2d_store *st, const char *dev, uint64_t seq, void **rec, size_t *len);
int c2d_store_q_del(struct c2d_store *st, const char *dev, uint64_t seq); /* C2D_ENOTFOUND if none */
/* Visit the device's items with seq >= from in ascending seq order. rec is
 * borrowed for the call only (do not write to the store from cb). cb returns
 * nonzero to stop early. */
int c2d_store_q_scan(struct c2d_store *st, const char *dev, uint64_t from,
		int (*cb)(void *ud, uint64_t seq, const void *rec, size_t len), void *ud);

/* ---- queue payloads: the bytes of item (dev, seq), stored once apart from
 * its state record, under seq without C2D_STORE_Q_HISTORY (a finished item
 * keeps its payload where it was). ---- */
int c2d_store_qpay_put(struct c2d_store *st, const char *dev, uint64_t seq, const void *p, size_t len);
/* *p: copied, caller frees with free(); C2D_ENOTFOUND. */
int c2d_store_qpay_get(struct c2d_store *st, const char *dev, uint64_t seq, void **p, size_t *len);
int c2d_store_qpay_del(struct c2d_store *st, const char *dev, uint64_t seq); /* C2D_ENOTFOUND if none */

/* ---- deadline index: (at_ms, dev, seq), ordered by at_ms then dev then seq ---- */
int c2d_store_due_add(struct c2d_store *st, uint64_t at_ms, const char *dev, uint64_t seq);
int c2d_store_due_del(struct c2d_store *st, uint64_t at_ms, const char *dev, uint64_t seq); /* C2D_ENOTFOUND */
/* The earliest entry. dev must hold C2D_DEV_MAX+1 bytes. C2D_ENOTFOUND when empty. */
int c2d_store_due_first(struct c2d_store *st, uint64_t *at_ms, char *dev, uint64_t *seq);

/* ---- timeout index: the same shape, keyed by the timeout clock (tick.c),
 * which wall-clock steps do not move. tmo_add also stores clock_ms (the
 * timeout clock now) as the clock record, in the same transaction: after a
 * restart the clock resumes at least there (c2d_store_clock_get), so an
 * entry never waits longer than it was set for. ---- */
int c2d_store_tmo_add(struct c2d_store *st, uint64_t at_ms, const char *dev, uint64_t seq, uint64_t clock_ms);
int c2d_store_tmo_del(struct c2d_store *st, uint64_t at_ms, const char *dev, uint64_t seq); /* C2D_ENOTFOUND */
int c2d_store_tmo_first(struct c2d_store *st, uint64_t *at_ms, char *dev, uint64_t *seq);
/* The clock record; C2D_ENOTFOUND in a store that never had a timeout entry. */
int c2d_store_clock_get(struct c2d_store *st, uint64_t *ms);

/* ---- quarantine: records that cannot be processed, kept as they were
 * (table name \0 key -> value) for an operator, out of the live tables. ---- */
/* Move queue item (dev, seq) there, its payload too. C2D_ENOTFOUND if there
 * is no such item. */
int c2d_store_q_quarantine(struct c2d_store *st, const char *dev, uint64_t seq);
/* Move the first entry of due (timeout false) or timeout there if its key
 * cannot be read (the *_first calls fail with C2D_ESTORE on it). C2D_OK
 * when one was moved, C2D_ENOTFOUND when the first entry is readable. */
int c2d_store_dl_quarantine_first(struct c2d_store *st, bool timeout);
/* Records in quarantine (statistics). */
int c2d_store_quarantine_count(struct c2d_store *st, uint64_t *count);

/* ---- dedup: opaque key (1..480 bytes) -> (dev, seq) ---- */
int c2d_store_dedup_put(struct c2d_store *st, const void *key, size_t keylen, const char *dev, uint64_t seq);
/* dev must hold C2D_DEV_MAX+1 bytes. C2D_ENOTFOUND if absent. */
int c2d_store_dedup_get(struct c2d_store *st, const void *key, size_t keylen, char *dev, uint64_t *seq);
int c2d_store_dedup_del(struct c2d_store *st, const void *key, size_t keylen); /* C2D_ENOTFOUND */

/* ---- fleet jobs (store_jobs.c). job: borrowed, 1..C2D_JOB_MAX bytes. ---- */
#define C2D_JOB_MAX 64
/* One device's execution of a job, in memory. Stored encoded (store_jobs.c). */
struct c2d_jexec {
	uint8_t state;             /* enum c2d_jx_state (c2d_jobs.h) */
	uint8_t pad[3];
	uint32_t status;           /* the plane's status (rejected, final states) */
	uint64_t ref;              /* queue seq or desired version once dispatched */
	uint64_t at_ms;            /* wall clock of the last change */
};
/* The job record (JSON text). *json: copied, caller frees. C2D_ENOTFOUND. */
int c2d_store_job_get(struct c2d_store *st, const char *job, char **json, size_t *len);
int c2d_store_job_put(struct c2d_store *st, const char *job, const char *json, size_t len);
/* Visit jobs in id order after `after` (NULL: from the start); active: only
 * those in the active table. cb returns nonzero to stop. job borrowed. */
int c2d_store_job_scan(struct c2d_store *st, const char *after, bool active,
		int (*cb)(void *ud, const char *job), void *ud);
/* True while a scan of committed state (no write transaction open) found
 * the active table empty and no job was put in it since: the jobs plane's
 * tick then has nothing to read. */
bool c2d_store_jobs_idle(const struct c2d_store *st);
/* Put the job in (on: due now) or take it out of the active table. */
int c2d_store_job_active(struct c2d_store *st, const char *job, bool on);
/* An active job sleeps until wall ms at_ms (UINT64_MAX: until woken; 0:
 * due now, "woken"); a job not active is left alone. */
int c2d_store_job_wake(struct c2d_store *st, const char *job, uint64_t at_ms);
/* As c2d_store_job_scan of the active jobs, only those due at now_ms. */
int c2d_store_job_scan_due(struct c2d_store *st, const char *after, uint64_t now_ms,
		int (*cb)(void *ud, const char *job), void *ud);
/* True while a whole due scan found every active job asleep and now_ms is
 * before the first one's wake time (nothing woken, activated or rolled back
 * since): the jobs plane's tick has nothing to read. */
bool c2d_store_jobs_asleep(const struct c2d_store *st, uint64_t now_ms);
int c2d_store_jexec_get(struct c2d_store *st, const char *job, const char *dev, struct c2d_jexec *x);
int c2d_store_jexec_put(struct c2d_store *st, const char *job, const char *dev, const struct c2d_jexec *x);
/* Visit the job's executions in device order after `after` (NULL: from
 * the start). x borrowed for the call; do not write from cb. */
int c2d_store_jexec_scan(struct c2d_store *st, const char *job, const char *after,
		int (*cb)(void *ud, const char *dev, const struct c2d_jexec *x), void *ud);
/* Queue item (dev, seq) was dispatched by job: remember it / find it (job:
 * C2D_JOB_MAX+1 bytes; C2D_ENOTFOUND) / forget it. */
int c2d_store_jref_q_put(struct c2d_store *st, const char *dev, uint64_t seq, const char *job);
int c2d_store_jref_q_get(struct c2d_store *st, const char *dev, uint64_t seq, char *job);
int c2d_store_jref_q_del(struct c2d_store *st, const char *dev, uint64_t seq);
/* A twin job waits for dev to acknowledge desired version `version`. */
int c2d_store_jref_t_put(struct c2d_store *st, const char *dev, const char *job, uint64_t version);
int c2d_store_jref_t_del(struct c2d_store *st, const char *dev, const char *job);
/* Visit dev's twin waits (job borrowed, its version). Do not write from cb. */
int c2d_store_jref_t_scan(struct c2d_store *st, const char *dev,
		int (*cb)(void *ud, const char *job, uint64_t version), void *ud);

/* ---- the gateway registry (store_gw.c): which gateway acts for which
 * sub-device. sub, gw: borrowed device ids. ---- */
/* The sub-device's gateway into gw (C2D_DEV_MAX+1 bytes); C2D_ENOTFOUND. */
int c2d_store_gw_get(struct c2d_store *st, const char *sub, char *gw);
/* Assign sub to gw (moving it from another gateway), in the open transaction. */
int c2d_store_gw_set(struct c2d_store *st, const char *sub, const char *gw);
/* Clear sub's gateway, which is copied into gw first; C2D_ENOTFOUND. */
int c2d_store_gw_del(struct c2d_store *st, const char *sub, char *gw);
/* The number of sub-devices of gw, counted up to limit (> 0): a walk of at
 * most `limit` keys. */
int c2d_store_gw_count(struct c2d_store *st, const char *gw, uint64_t limit, uint64_t *n);

#endif
