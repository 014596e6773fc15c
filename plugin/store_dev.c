/* store_dev.c: the per-device tables, keyed by the device id alone (1..128
 * bytes, never a NUL):
 *
 *   devices  dev  -> device record: u8 version (2), u32 queued, u64 next_seq,
 *                    u64 created_ms, u8 n (<= 16), n x u64 counters (LE,
 *                    c2d_rec.h); counters past n are 0. Schema 1.x stored
 *                    struct c2d_devrec raw (152 bytes, u32 version 1 first);
 *                    store_upgrade.c rewrites those
 *   twins    dev  -> JSON text, without NUL
 *   twinsent dev  -> u8 version (1), u64 sent (LE): the twin's sent mark
 *   info     dev  -> JSON text (the device's hello), without NUL
 *   idmark   dev  -> u8 version (1), u64 next_seq, u64 desired version,
 *                    u64 reported version (LE): where ids continue after a
 *                    delete
 *
 * c2d_store_dev_del also deletes the device's queue items and payloads
 * (store_queue.c's key ranges dev \0 ...); deadline and dedup entries are the
 * caller's. */
#include <stdlib.h>
#include <string.h>

#include "c2d_log.h"
#include "c2d_rec.h"
#include "store_int.h"

/* ---- devices ---- */

int c2d_db_devrec_decode(struct c2d_devrec *rec, const void *buf, size_t len)
{
	struct c2d_rec_r r;
	unsigned n, i;

	memset(rec, 0, sizeof(*rec));
	c2d_rec_r_init(&r, buf, len);
	if(c2d_rec_get_u8(&r) != DEVREC_VERSION) c2d_rec_r_fail(&r);
	rec->queued = c2d_rec_get_u32(&r);
	rec->next_seq = c2d_rec_get_u64(&r);
	rec->created_ms = c2d_rec_get_u64(&r);
	n = c2d_rec_get_u8(&r);
	if(n > C2D_DEVREC_COUNTERS) c2d_rec_r_fail(&r);
	for(i = 0; i < n && i < C2D_DEVREC_COUNTERS; i++) rec->counters[i] = c2d_rec_get_u64(&r);
	if(!c2d_rec_r_done(&r)){
		memset(rec, 0, sizeof(*rec));
		return C2D_EINVAL;
	}
	return C2D_OK;
}

size_t c2d_db_devrec_encode(const struct c2d_devrec *rec, unsigned char buf[DEVREC_LEN])
{
	struct c2d_rec_w w;
	size_t len, i;

	c2d_rec_w_init(&w, buf, DEVREC_LEN);
	c2d_rec_put_u8(&w, DEVREC_VERSION);
	c2d_rec_put_u32(&w, rec->queued);
	c2d_rec_put_u64(&w, rec->next_seq);
	c2d_rec_put_u64(&w, rec->created_ms);
	c2d_rec_put_u8(&w, C2D_DEVREC_COUNTERS);
	for(i = 0; i < C2D_DEVREC_COUNTERS; i++) c2d_rec_put_u64(&w, rec->counters[i]);
	return c2d_rec_w_ok(&w, &len) ? len : 0;
}

/* Decode a device record (ud: struct c2d_devrec *); a damaged one is logged. */
static int take_devrec(void *ud, const MDB_val *val)
{
	if(c2d_db_devrec_decode(ud, val->mv_data, val->mv_size)){
		c2d_log(C2D_LOG_ERR, "LMDB corrupt record in devices: %zu bytes, not a version %d device record",
				val->mv_size, DEVREC_VERSION);
		return C2D_ESTORE;
	}
	return C2D_OK;
}

/* dev: borrowed. *rec: filled (copied). */
int c2d_store_dev_get(struct c2d_store *st, const char *dev, struct c2d_devrec *rec)
{
	struct key k = {0};

	if(st == NULL || rec == NULL || key_dev(&k, dev)) return C2D_EINVAL;
	return c2d_db_get(st, T_DEVICES, k.buf, k.len, take_devrec, rec);
}

/* dev, rec: borrowed; stored encoded. */
int c2d_store_dev_put(struct c2d_store *st, const char *dev, const struct c2d_devrec *rec)
{
	unsigned char buf[DEVREC_LEN];
	struct key k = {0};
	size_t len;

	if(st == NULL || rec == NULL || key_dev(&k, dev)) return C2D_EINVAL;
	len = c2d_db_devrec_encode(rec, buf);
	return c2d_db_put(st, T_DEVICES, k.buf, k.len, buf, len);
}

/* dev: borrowed. A new record (created_ms, all else 0) unless one exists. */
int c2d_store_dev_ensure(struct c2d_store *st, const char *dev, uint64_t created_ms)
{
	struct c2d_devrec rec;
	int rc = c2d_store_dev_get(st, dev, &rec);

	if(rc != C2D_ENOTFOUND) return rc;
	memset(&rec, 0, sizeof(rec));
	rec.created_ms = created_ms;
	return c2d_store_dev_put(st, dev, &rec);
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
	rc = c2d_db_del(st, T_DEVICES, k.buf, k.len);
	if(rc && rc != C2D_ENOTFOUND) return rc;
	found |= rc == C2D_OK;
	rc = c2d_db_del(st, T_TWINS, k.buf, k.len);
	if(rc && rc != C2D_ENOTFOUND) return rc;
	found |= rc == C2D_OK;
	rc = c2d_db_del(st, T_TWSENT, k.buf, k.len);
	if(rc && rc != C2D_ENOTFOUND) return rc;
	rc = c2d_db_del(st, T_INFO, k.buf, k.len);
	if(rc && rc != C2D_ENOTFOUND) return rc;
	k.buf[k.len++] = '\0'; /* the queue range: dev \0 */
	rc = c2d_db_walk(st, T_QUEUE, k.buf, k.len, visit_del_prefix, &dp);
	if(rc) return rc;
	found |= dp.n > 0;
	dp.n = 0;
	rc = c2d_db_walk(st, T_QPAY, k.buf, k.len, visit_del_prefix, &dp); /* and their payloads */
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
	if(key->mv_size == 0 || key->mv_size > C2D_DEV_MAX) return c2d_db_corrupt(T_DEVICES, "bad device id length");
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
		return c2d_db_walk(st, T_DEVICES, k.buf, k.len, visit_dev, &ds);
	}
	return c2d_db_walk(st, T_DEVICES, NULL, 0, visit_dev, &ds);
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
	rc = c2d_db_get(st, t, k.buf, k.len, c2d_db_take_copy, &tc);
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
	return c2d_db_put(st, t, k.buf, k.len, json, len);
}

static int text_del(struct c2d_store *st, enum table t, const char *dev)
{
	struct key k = {0};

	if(st == NULL || key_dev(&k, dev)) return C2D_EINVAL;
	return c2d_db_del(st, t, k.buf, k.len);
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
	int rc = text_del(st, T_TWSENT, dev);

	if(rc && rc != C2D_ENOTFOUND) return rc;
	return text_del(st, T_TWINS, dev);
}

#define TWSENT_VERSION 1

static int take_twin_sent(void *ud, const MDB_val *val)
{
	struct c2d_rec_r r;

	c2d_rec_r_init(&r, val->mv_data, val->mv_size);
	if(c2d_rec_get_u8(&r) != TWSENT_VERSION) c2d_rec_r_fail(&r);
	*(uint64_t *)ud = c2d_rec_get_u64(&r);
	if(!c2d_rec_r_done(&r)) return c2d_db_corrupt(T_TWSENT, "bad sent mark");
	return C2D_OK;
}

int c2d_store_twin_sent_get(struct c2d_store *st, const char *dev, uint64_t *sent)
{
	struct key k = {0};
	int rc;

	if(st == NULL || sent == NULL || key_dev(&k, dev)) return C2D_EINVAL;
	*sent = 0;
	rc = c2d_db_get(st, T_TWSENT, k.buf, k.len, take_twin_sent, sent);
	if(rc) *sent = 0;
	return rc == C2D_ENOTFOUND ? C2D_OK : rc;
}

int c2d_store_twin_sent_put(struct c2d_store *st, const char *dev, uint64_t sent)
{
	unsigned char buf[9];
	struct c2d_rec_w w;
	struct key k = {0};

	if(st == NULL || key_dev(&k, dev)) return C2D_EINVAL;
	c2d_rec_w_init(&w, buf, sizeof(buf));
	c2d_rec_put_u8(&w, TWSENT_VERSION);
	c2d_rec_put_u64(&w, sent);
	return c2d_db_put(st, T_TWSENT, k.buf, k.len, buf, w.len);
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
#define IDMARK_VERSION 1

static int take_idmark(void *ud, const MDB_val *val)
{
	struct c2d_idmark *m = ud;
	struct c2d_rec_r r;

	c2d_rec_r_init(&r, val->mv_data, val->mv_size);
	if(c2d_rec_get_u8(&r) != IDMARK_VERSION) c2d_rec_r_fail(&r);
	m->next_seq = c2d_rec_get_u64(&r);
	m->desired = c2d_rec_get_u64(&r);
	m->reported = c2d_rec_get_u64(&r);
	if(!c2d_rec_r_done(&r)){
		memset(m, 0, sizeof(*m));
		return c2d_db_corrupt(T_IDMARK, "bad id mark record");
	}
	return C2D_OK;
}

int c2d_store_idmark_get(struct c2d_store *st, const char *dev, struct c2d_idmark *m)
{
	struct key k = {0};
	int rc;

	if(st == NULL || m == NULL || key_dev(&k, dev)) return C2D_EINVAL;
	memset(m, 0, sizeof(*m));
	rc = c2d_db_get(st, T_IDMARK, k.buf, k.len, take_idmark, m);
	if(rc == C2D_ENOTFOUND) rc = C2D_OK;
	return rc;
}

int c2d_store_idmark_raise(struct c2d_store *st, const char *dev, const struct c2d_idmark *m)
{
	struct c2d_idmark cur;
	unsigned char buf[IDMARK_LEN];
	struct c2d_rec_w w;
	struct key k = {0};
	int rc;

	if(st == NULL || m == NULL || key_dev(&k, dev)) return C2D_EINVAL;
	rc = c2d_store_idmark_get(st, dev, &cur);
	if(rc) return rc;
	if(m->next_seq > cur.next_seq) cur.next_seq = m->next_seq;
	if(m->desired > cur.desired) cur.desired = m->desired;
	if(m->reported > cur.reported) cur.reported = m->reported;
	c2d_rec_w_init(&w, buf, sizeof(buf));
	c2d_rec_put_u8(&w, IDMARK_VERSION);
	c2d_rec_put_u64(&w, cur.next_seq);
	c2d_rec_put_u64(&w, cur.desired);
	c2d_rec_put_u64(&w, cur.reported);
	return c2d_db_put(st, T_IDMARK, k.buf, k.len, buf, w.len);
}

/* *count: filled. */
int c2d_store_twin_count(struct c2d_store *st, uint64_t *count)
{
	return c2d_db_count(st, T_TWINS, count);
}
