/* store_index.c: the indexes over queue items, and the clock record:
 *
 *   due      at_ms(be64) dev \0 seq(be64)  -> empty (wall clock deadlines)
 *   timeout  at_ms(be64) dev \0 seq(be64)  -> empty (timeout clock deadlines)
 *   dedup    opaque key (1..480 bytes)     -> dev \0 seq(be64)
 *   meta     "clock"                       -> be64: the timeout clock when last written
 *
 * Big-endian numbers sort the same as bytes and as integers, so the first key
 * of "due" (or "timeout") is the earliest deadline: one MDB_FIRST finds it.
 * The (dev, seq) part has the queue's shape (store_queue.c). The meta table
 * itself, with its schema record, is store.c's. */
#include <string.h>

#include "store_int.h"

#define CLOCK_KEY "clock"
#define DEDUP_KEY_MAX 480

/* Copy a dedup value dev \0 seq out. */
struct take_dev_seq {
	char *dev;
	uint64_t *seq;
};

static int take_dev_seq(void *ud, const MDB_val *val)
{
	struct take_dev_seq *td = ud;

	return c2d_db_parse_dev_seq(T_DEDUP, val->mv_data, val->mv_size, td->dev, td->seq);
}

/* ---- deadline indexes: due (wall clock) and timeout (timeout clock) ---- */

/* Build at_ms(be64) dev \0 seq(be64); seq 0 is invalid. dev: borrowed. */
static int due_key(struct key *k, uint64_t at_ms, const char *dev, uint64_t seq)
{
	if(seq == 0) return C2D_EINVAL;
	key_u64(k, at_ms);
	return key_dev_seq(k, dev, seq);
}

/* dev: borrowed, copied into the key. */
static int dl_add(struct c2d_store *st, enum table t, uint64_t at_ms, const char *dev, uint64_t seq)
{
	struct key k = {0};

	if(st == NULL || due_key(&k, at_ms, dev, seq)) return C2D_EINVAL;
	return c2d_db_put(st, t, k.buf, k.len, NULL, 0);
}

/* dev: borrowed. */
static int dl_del(struct c2d_store *st, enum table t, uint64_t at_ms, const char *dev, uint64_t seq)
{
	struct key k = {0};

	if(st == NULL || due_key(&k, at_ms, dev, seq)) return C2D_EINVAL;
	return c2d_db_del(st, t, k.buf, k.len);
}

struct due_first {
	enum table t;
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
	if(key->mv_size < 8) return c2d_db_corrupt(df->t, "bad key length");
	rc = c2d_db_parse_dev_seq(df->t, p + 8, key->mv_size - 8, df->out.dev, df->out.seq);
	if(rc) return rc;
	*df->at_ms = get_u64(p);
	df->found = 1;
	return WALK_STOP;
}

/* dev: C2D_DEV_MAX+1 bytes, filled. One MDB_FIRST. */
static int dl_first(struct c2d_store *st, enum table t, uint64_t *at_ms, char *dev, uint64_t *seq)
{
	struct due_first df = {t, at_ms, {dev, seq}, 0};
	int rc;

	if(st == NULL || at_ms == NULL || dev == NULL || seq == NULL) return C2D_EINVAL;
	rc = c2d_db_walk(st, t, NULL, 0, visit_due_first, &df);
	if(rc) return rc;
	return df.found ? C2D_OK : C2D_ENOTFOUND;
}

int c2d_store_due_add(struct c2d_store *st, uint64_t at_ms, const char *dev, uint64_t seq)
{
	return dl_add(st, T_DUE, at_ms, dev, seq);
}

int c2d_store_due_del(struct c2d_store *st, uint64_t at_ms, const char *dev, uint64_t seq)
{
	return dl_del(st, T_DUE, at_ms, dev, seq);
}

int c2d_store_due_first(struct c2d_store *st, uint64_t *at_ms, char *dev, uint64_t *seq)
{
	return dl_first(st, T_DUE, at_ms, dev, seq);
}

/* The clock value is written with the entry, so a committed entry never
 * names a time the stored clock has not reached. */
int c2d_store_tmo_add(struct c2d_store *st, uint64_t at_ms, const char *dev, uint64_t seq, uint64_t clock_ms)
{
	struct key v = {0};
	int rc = dl_add(st, T_TIMEOUT, at_ms, dev, seq);

	if(rc) return rc;
	key_u64(&v, clock_ms);
	return c2d_db_put(st, T_META, CLOCK_KEY, strlen(CLOCK_KEY), v.buf, v.len);
}

int c2d_store_tmo_del(struct c2d_store *st, uint64_t at_ms, const char *dev, uint64_t seq)
{
	return dl_del(st, T_TIMEOUT, at_ms, dev, seq);
}

int c2d_store_tmo_first(struct c2d_store *st, uint64_t *at_ms, char *dev, uint64_t *seq)
{
	return dl_first(st, T_TIMEOUT, at_ms, dev, seq);
}

static int take_u64(void *ud, const MDB_val *val)
{
	if(val->mv_size != 8) return c2d_db_corrupt(T_META, "clock record is not 8 bytes");
	*(uint64_t *)ud = get_u64(val->mv_data);
	return C2D_OK;
}

/* *ms: filled. */
int c2d_store_clock_get(struct c2d_store *st, uint64_t *ms)
{
	if(st == NULL || ms == NULL) return C2D_EINVAL;
	return c2d_db_get(st, T_META, CLOCK_KEY, strlen(CLOCK_KEY), take_u64, ms);
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
	return c2d_db_put(st, T_DEDUP, key, keylen, v.buf, v.len);
}

/* dev: C2D_DEV_MAX+1 bytes, filled. */
int c2d_store_dedup_get(struct c2d_store *st, const void *key, size_t keylen, char *dev, uint64_t *seq)
{
	struct take_dev_seq td = {dev, seq};

	if(st == NULL || !dedup_key_ok(key, keylen) || dev == NULL || seq == NULL) return C2D_EINVAL;
	return c2d_db_get(st, T_DEDUP, key, keylen, take_dev_seq, &td);
}

/* key: borrowed. */
int c2d_store_dedup_del(struct c2d_store *st, const void *key, size_t keylen)
{
	if(st == NULL || !dedup_key_ok(key, keylen)) return C2D_EINVAL;
	return c2d_db_del(st, T_DEDUP, key, keylen);
}
