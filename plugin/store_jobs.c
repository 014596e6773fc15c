/* store_jobs.c: the tables of fleet jobs (see store.c's table list):
 *
 *   jobs     job id -> JSON text (the job module owns its shape)
 *   jactive  job id -> empty, or be64 wake time (wall ms): the jobs the
 *            tick still works on, so that a tick never walks finished jobs;
 *            a job with nothing to do until some time (its next rollout
 *            slot, startAt, expiresAt) or until one of its executions ends
 *            sleeps to then (jobrun.c), and any save of its record wakes
 *            it (c2d_store_job_wake 0). Empty (all that 1.3 to 2.1 wrote):
 *            due now, so older stores need no upgrade
 *   jexec    job \0 dev -> execution record: u8 version (1), u8 state,
 *            u32 status, u64 ref, u64 at_ms (LE, c2d_rec.h); schema 1.x
 *            stored struct c2d_jexec raw (24 bytes, store_upgrade.c
 *            rewrites those). One execution per target
 *            device; keys of a job are adjacent and in device order, so a
 *            dispatch cursor is a device id
 *   jref     dev \0 'q' seq(be64) -> job id: a queue item a job made, found
 *            with one seek when the item reaches its final state;
 *            dev \0 't' job -> be64 version: a twin job awaiting an ack,
 *            adjacent per device so that an ack walks only its own
 *
 * Every value handed out is copied; keys are built in local buffers. */
#include <stdlib.h>
#include <string.h>

#include "c2d_rec.h"
#include "store_int.h"

#define JKEY_MAX (C2D_DEV_MAX + 2 + C2D_JOB_MAX + 8)

struct jkey {
	size_t len;
	unsigned char buf[JKEY_MAX];
};

/* Append s (borrowed, 1..max bytes) and, if nul, a NUL. */
static int jkey_str(struct jkey *k, const char *s, size_t max, bool nul)
{
	size_t n;

	if(s == NULL) return C2D_EINVAL;
	n = strnlen(s, max + 1);
	if(n == 0 || n > max) return C2D_EINVAL;
	memcpy(k->buf + k->len, s, n);
	k->len += n;
	if(nul) k->buf[k->len++] = '\0';
	return C2D_OK;
}

static void jkey_u64(struct jkey *k, uint64_t x)
{
	int i;

	for(i = 7; i >= 0; i--) k->buf[k->len++] = (unsigned char)(x >> (8 * i));
}

/* ---- jobs ---- */

int c2d_store_job_get(struct c2d_store *st, const char *job, char **json, size_t *len)
{
	struct jkey k = {0};
	struct take_copy tc = {NULL, 0};
	int rc;

	if(st == NULL || json == NULL || jkey_str(&k, job, C2D_JOB_MAX, false)) return C2D_EINVAL;
	rc = c2d_db_get(st, T_JOBS, k.buf, k.len, c2d_db_take_copy, &tc);
	if(rc) return rc;
	*json = tc.data;
	if(len) *len = tc.len;
	return C2D_OK;
}

int c2d_store_job_put(struct c2d_store *st, const char *job, const char *json, size_t len)
{
	struct jkey k = {0};

	if(st == NULL || json == NULL || jkey_str(&k, job, C2D_JOB_MAX, false)) return C2D_EINVAL;
	return c2d_db_put(st, T_JOBS, k.buf, k.len, json, len);
}

int c2d_store_job_active(struct c2d_store *st, const char *job, bool on)
{
	struct jkey k = {0};
	int rc;

	if(st == NULL || jkey_str(&k, job, C2D_JOB_MAX, false)) return C2D_EINVAL;
	if(on){
		st->jobs_idle = false;
		st->jobs_due_ms = 0;
		return c2d_db_put(st, T_JACTIVE, k.buf, k.len, "", 0);
	}
	rc = c2d_db_del(st, T_JACTIVE, k.buf, k.len);
	return rc == C2D_ENOTFOUND ? C2D_OK : rc;
}

/* An active entry's wake time: 0 (due) when empty or not 8 bytes. */
static uint64_t wake_of(const MDB_val *val)
{
	return val->mv_size == 8 ? get_u64(val->mv_data) : 0;
}

static int take_wake(void *ud, const MDB_val *val)
{
	*(uint64_t *)ud = wake_of(val);
	return C2D_OK;
}

int c2d_store_job_wake(struct c2d_store *st, const char *job, uint64_t at_ms)
{
	struct jkey k = {0}, v = {0};
	uint64_t was = 0;
	int rc;

	if(st == NULL || jkey_str(&k, job, C2D_JOB_MAX, false)) return C2D_EINVAL;
	rc = c2d_db_get(st, T_JACTIVE, k.buf, k.len, take_wake, &was);
	if(rc == C2D_ENOTFOUND) return C2D_OK; /* finished: nothing to wake */
	if(rc || was == at_ms) return rc;
	st->jobs_due_ms = 0;
	if(at_ms == 0) return c2d_db_put(st, T_JACTIVE, k.buf, k.len, "", 0);
	jkey_u64(&v, at_ms);
	return c2d_db_put(st, T_JACTIVE, k.buf, k.len, v.buf, v.len);
}

struct job_scan {
	const char *after;
	int (*cb)(void *ud, const char *job);
	void *ud;
	unsigned seen;
	uint64_t due_ms;            /* active entries waking later are skipped; 0: none is */
	uint64_t first_wake;        /* the earliest wake time skipped */
	unsigned taken;
};

static int visit_job(void *ud, const MDB_val *key, const MDB_val *val)
{
	struct job_scan *js = ud;
	char job[C2D_JOB_MAX + 1];

	if(key->mv_size == 0 || key->mv_size > C2D_JOB_MAX) return c2d_db_corrupt(T_JOBS, "bad job key");
	memcpy(job, key->mv_data, key->mv_size);
	job[key->mv_size] = '\0';
	js->seen++;
	if(js->after && strcmp(job, js->after) == 0) return WALK_NEXT;
	if(js->due_ms && wake_of(val) > js->due_ms){
		if(wake_of(val) < js->first_wake) js->first_wake = wake_of(val);
		return WALK_NEXT;
	}
	js->taken++;
	return js->cb(js->ud, job) ? WALK_STOP : WALK_NEXT;
}

static int job_walk(struct c2d_store *st, const char *after, bool active, uint64_t due_ms,
		int (*cb)(void *ud, const char *job), void *ud)
{
	struct job_scan js = {after && after[0] ? after : NULL, cb, ud, 0, due_ms, UINT64_MAX, 0};
	size_t n = js.after ? strlen(js.after) : 0;
	int rc;

	if(st == NULL || cb == NULL || n > C2D_JOB_MAX) return C2D_EINVAL;
	rc = c2d_db_walk(st, active ? T_JACTIVE : T_JOBS, js.after, n, visit_job, &js);
	/* only committed state counts: an open write transaction may still be
	 * rolled back and bring an entry back */
	if(rc == C2D_OK && active && js.after == NULL && js.seen == 0 && st->txn == NULL) st->jobs_idle = true;
	/* a whole walk found all asleep: none is due before the first wake
	 * (a wake, an activation or a rollback forgets it) */
	if(rc == C2D_OK && due_ms && js.after == NULL && js.seen && js.taken == 0) st->jobs_due_ms = js.first_wake;
	return rc;
}

bool c2d_store_jobs_asleep(const struct c2d_store *st, uint64_t now_ms)
{
	return st && st->jobs_due_ms && now_ms < st->jobs_due_ms;
}

int c2d_store_job_scan(struct c2d_store *st, const char *after, bool active,
		int (*cb)(void *ud, const char *job), void *ud)
{
	return job_walk(st, after, active, 0, cb, ud);
}

int c2d_store_job_scan_due(struct c2d_store *st, const char *after, uint64_t now_ms,
		int (*cb)(void *ud, const char *job), void *ud)
{
	return job_walk(st, after, true, now_ms ? now_ms : 1, cb, ud);
}

bool c2d_store_jobs_idle(const struct c2d_store *st)
{
	return st && st->jobs_idle;
}

/* ---- executions ---- */

static int jexec_key(struct jkey *k, const char *job, const char *dev)
{
	int rc = jkey_str(k, job, C2D_JOB_MAX, true);

	return rc ? rc : jkey_str(k, dev, C2D_DEV_MAX, false);
}

int c2d_db_jexec_decode(struct c2d_jexec *x, const void *buf, size_t len)
{
	struct c2d_rec_r r;

	memset(x, 0, sizeof(*x));
	c2d_rec_r_init(&r, buf, len);
	if(c2d_rec_get_u8(&r) != JEXEC_VERSION) c2d_rec_r_fail(&r);
	x->state = c2d_rec_get_u8(&r);
	x->status = c2d_rec_get_u32(&r);
	x->ref = c2d_rec_get_u64(&r);
	x->at_ms = c2d_rec_get_u64(&r);
	if(!c2d_rec_r_done(&r)){
		memset(x, 0, sizeof(*x));
		return C2D_EINVAL;
	}
	return C2D_OK;
}

size_t c2d_db_jexec_encode(const struct c2d_jexec *x, unsigned char buf[JEXEC_LEN])
{
	struct c2d_rec_w w;
	size_t len;

	c2d_rec_w_init(&w, buf, JEXEC_LEN);
	c2d_rec_put_u8(&w, JEXEC_VERSION);
	c2d_rec_put_u8(&w, x->state);
	c2d_rec_put_u32(&w, x->status);
	c2d_rec_put_u64(&w, x->ref);
	c2d_rec_put_u64(&w, x->at_ms);
	return c2d_rec_w_ok(&w, &len) ? len : 0;
}

static int take_jexec(void *ud, const MDB_val *val)
{
	if(c2d_db_jexec_decode(ud, val->mv_data, val->mv_size)) return c2d_db_corrupt(T_JEXEC, "bad execution record");
	return C2D_OK;
}

int c2d_store_jexec_get(struct c2d_store *st, const char *job, const char *dev, struct c2d_jexec *x)
{
	struct jkey k = {0};

	if(st == NULL || x == NULL || jexec_key(&k, job, dev)) return C2D_EINVAL;
	return c2d_db_get(st, T_JEXEC, k.buf, k.len, take_jexec, x);
}

int c2d_store_jexec_put(struct c2d_store *st, const char *job, const char *dev, const struct c2d_jexec *x)
{
	unsigned char buf[JEXEC_LEN];
	struct jkey k = {0};

	if(st == NULL || x == NULL || jexec_key(&k, job, dev)) return C2D_EINVAL;
	return c2d_db_put(st, T_JEXEC, k.buf, k.len, buf, c2d_db_jexec_encode(x, buf));
}

struct jexec_scan {
	struct jkey prefix;
	struct jkey skip;      /* the key of `after` (len 0: none): not after itself */
	int (*cb)(void *ud, const char *dev, const struct c2d_jexec *x);
	void *ud;
};

static int visit_jexec(void *ud, const MDB_val *key, const MDB_val *val)
{
	struct jexec_scan *s = ud;
	char dev[C2D_DEV_MAX + 1];
	struct c2d_jexec x;
	size_t n;

	if(key->mv_size < s->prefix.len || memcmp(key->mv_data, s->prefix.buf, s->prefix.len) != 0) return WALK_STOP;
	if(s->skip.len && key->mv_size == s->skip.len && memcmp(key->mv_data, s->skip.buf, s->skip.len) == 0){
		return WALK_NEXT;
	}
	n = key->mv_size - s->prefix.len;
	if(n == 0 || n > C2D_DEV_MAX || c2d_db_jexec_decode(&x, val->mv_data, val->mv_size)){
		return c2d_db_corrupt(T_JEXEC, "bad execution");
	}
	memcpy(dev, (const char *)key->mv_data + s->prefix.len, n);
	dev[n] = '\0';
	return s->cb(s->ud, dev, &x) ? WALK_STOP : WALK_NEXT;
}

int c2d_store_jexec_scan(struct c2d_store *st, const char *job, const char *after,
		int (*cb)(void *ud, const char *dev, const struct c2d_jexec *x), void *ud)
{
	struct jexec_scan s = {.cb = cb, .ud = ud};
	struct jkey from = {0};

	if(st == NULL || cb == NULL || jkey_str(&s.prefix, job, C2D_JOB_MAX, true)) return C2D_EINVAL;
	from = s.prefix;
	if(after && after[0]){
		if(jkey_str(&from, after, C2D_DEV_MAX, false)) return C2D_EINVAL;
		s.skip = from; /* the walk starts at `after` itself when it exists */
	}
	return c2d_db_walk(st, T_JEXEC, from.buf, from.len, visit_jexec, &s);
}

/* ---- references from the planes' records back to their job ---- */

static int jref_q_key(struct jkey *k, const char *dev, uint64_t seq)
{
	int rc = jkey_str(k, dev, C2D_DEV_MAX, true);

	if(rc) return rc;
	k->buf[k->len++] = 'q';
	jkey_u64(k, seq);
	return C2D_OK;
}

int c2d_store_jref_q_put(struct c2d_store *st, const char *dev, uint64_t seq, const char *job)
{
	struct jkey k = {0};
	size_t n = job ? strnlen(job, C2D_JOB_MAX + 1) : 0;

	if(st == NULL || n == 0 || n > C2D_JOB_MAX || jref_q_key(&k, dev, seq)) return C2D_EINVAL;
	return c2d_db_put(st, T_JREF, k.buf, k.len, job, n);
}

static int take_job_id(void *ud, const MDB_val *val)
{
	if(val->mv_size == 0 || val->mv_size > C2D_JOB_MAX) return c2d_db_corrupt(T_JREF, "bad job reference");
	memcpy(ud, val->mv_data, val->mv_size);
	((char *)ud)[val->mv_size] = '\0';
	return C2D_OK;
}

int c2d_store_jref_q_get(struct c2d_store *st, const char *dev, uint64_t seq, char *job)
{
	struct jkey k = {0};

	if(st == NULL || job == NULL || jref_q_key(&k, dev, seq)) return C2D_EINVAL;
	return c2d_db_get(st, T_JREF, k.buf, k.len, take_job_id, job);
}

int c2d_store_jref_q_del(struct c2d_store *st, const char *dev, uint64_t seq)
{
	struct jkey k = {0};

	if(st == NULL || jref_q_key(&k, dev, seq)) return C2D_EINVAL;
	return c2d_db_del(st, T_JREF, k.buf, k.len);
}

static int jref_t_key(struct jkey *k, const char *dev, const char *job)
{
	int rc = jkey_str(k, dev, C2D_DEV_MAX, true);

	if(rc) return rc;
	k->buf[k->len++] = 't';
	return job ? jkey_str(k, job, C2D_JOB_MAX, false) : C2D_OK;
}

int c2d_store_jref_t_put(struct c2d_store *st, const char *dev, const char *job, uint64_t version)
{
	struct jkey k = {0}, v = {0};

	if(st == NULL || job == NULL || jref_t_key(&k, dev, job)) return C2D_EINVAL;
	jkey_u64(&v, version);
	return c2d_db_put(st, T_JREF, k.buf, k.len, v.buf, v.len);
}

int c2d_store_jref_t_del(struct c2d_store *st, const char *dev, const char *job)
{
	struct jkey k = {0};

	if(st == NULL || job == NULL || jref_t_key(&k, dev, job)) return C2D_EINVAL;
	return c2d_db_del(st, T_JREF, k.buf, k.len);
}

struct jref_scan {
	struct jkey prefix;
	int (*cb)(void *ud, const char *job, uint64_t version);
	void *ud;
};

static int visit_jref_t(void *ud, const MDB_val *key, const MDB_val *val)
{
	struct jref_scan *s = ud;
	char job[C2D_JOB_MAX + 1];
	size_t n;

	if(key->mv_size < s->prefix.len || memcmp(key->mv_data, s->prefix.buf, s->prefix.len) != 0) return WALK_STOP;
	n = key->mv_size - s->prefix.len;
	if(n == 0 || n > C2D_JOB_MAX || val->mv_size != 8) return c2d_db_corrupt(T_JREF, "bad twin wait");
	memcpy(job, (const char *)key->mv_data + s->prefix.len, n);
	job[n] = '\0';
	return s->cb(s->ud, job, get_u64(val->mv_data)) ? WALK_STOP : WALK_NEXT;
}

int c2d_store_jref_t_scan(struct c2d_store *st, const char *dev,
		int (*cb)(void *ud, const char *job, uint64_t version), void *ud)
{
	struct jref_scan s = {.cb = cb, .ud = ud};

	if(st == NULL || cb == NULL || jref_t_key(&s.prefix, dev, NULL)) return C2D_EINVAL;
	return c2d_db_walk(st, T_JREF, s.prefix.buf, s.prefix.len, visit_jref_t, &s);
}
