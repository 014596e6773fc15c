/* store_dev.c: the per-device tables, keyed by the device id alone (1..128
 * bytes, never a NUL):
 *
 *   devices  dev  -> struct c2d_devrec, raw (local database)
 *   twins    dev  -> JSON text, without NUL
 *   info     dev  -> JSON text (the device's hello), without NUL
 *   idmark   dev  -> u8 version (1), u64 next_seq, u64 desired version,
 *                    u64 reported version (LE): where ids continue after a
 *                    delete
 *
 * c2d_store_dev_del also deletes the device's queue items (store_queue.c's
 * key range dev \0 ...); deadline and dedup entries are the caller's. */
#include <stdlib.h>
#include <string.h>

#include "c2d_log.h"
#include "store_int.h"

/* ---- devices ---- */

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

/* dev: borrowed. *rec: filled (copied). */
int c2d_store_dev_get(struct c2d_store *st, const char *dev, struct c2d_devrec *rec)
{
	struct key k = {0};

	if(st == NULL || rec == NULL || key_dev(&k, dev)) return C2D_EINVAL;
	return c2d_db_get(st, T_DEVICES, k.buf, k.len, take_devrec, rec);
}

/* dev, rec: borrowed; stored as a copy with version set to 1. */
int c2d_store_dev_put(struct c2d_store *st, const char *dev, const struct c2d_devrec *rec)
{
	struct key k = {0};
	struct c2d_devrec copy;

	if(st == NULL || rec == NULL || key_dev(&k, dev)) return C2D_EINVAL;
	copy = *rec;
	copy.version = 1;
	return c2d_db_put(st, T_DEVICES, k.buf, k.len, &copy, sizeof(copy));
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
	rc = c2d_db_del(st, T_INFO, k.buf, k.len);
	if(rc && rc != C2D_ENOTFOUND) return rc;
	k.buf[k.len++] = '\0'; /* the queue range: dev \0 */
	rc = c2d_db_walk(st, T_QUEUE, k.buf, k.len, visit_del_prefix, &dp);
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

	if(val->mv_size != IDMARK_LEN || p[0] != 1) return c2d_db_corrupt(T_IDMARK, "bad id mark record");
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
	rc = c2d_db_get(st, T_IDMARK, k.buf, k.len, take_idmark, m);
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
	return c2d_db_put(st, T_IDMARK, k.buf, k.len, buf, sizeof(buf));
}

/* *count: filled. */
int c2d_store_twin_count(struct c2d_store *st, uint64_t *count)
{
	return c2d_db_count(st, T_TWINS, count);
}
