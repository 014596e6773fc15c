/* store_queue.c: the queue items, opaque state records (qrec.c encodes
 * them), and their payloads, each written once:
 *
 *   queue    dev \0 seq(be64)              -> opaque state record
 *   qpayload dev \0 seq(be64)              -> the payload bytes (seq without
 *                                            C2D_STORE_Q_HISTORY)
 *
 * A device id never contains NUL, so "dev \0" is a prefix no other device shares
 * ("d1\0" sorts before "d10" and "d1x"): a device's queue is the key range that
 * starts at "dev \0 from" and ends at the first key without that prefix.
 * Big-endian numbers sort the same as bytes and as integers, so a queue walk
 * is in ascending seq order. c2d_store_dev_del (store_dev.c) deletes that range;
 * c2d_store_q_quarantine (store_quarantine.c) moves one item out of it. */
#include <stdlib.h>

#include "store_int.h"

/* The two tables keyed dev \0 seq (queue, qpayload): put, get, del. */
static int seq_put(struct c2d_store *st, enum table t, const char *dev, uint64_t seq, const void *p, size_t len)
{
	struct key k = {0};

	if(st == NULL || seq == 0 || (p == NULL && len) || key_dev_seq(&k, dev, seq)) return C2D_EINVAL;
	return c2d_db_put(st, t, k.buf, k.len, p, len);
}

/* *p: copied (with a NUL after it), caller frees with free(); untouched
 * unless C2D_OK. len may be NULL. */
static int seq_get(struct c2d_store *st, enum table t, const char *dev, uint64_t seq, void **p, size_t *len)
{
	struct key k = {0};
	struct take_copy tc = {NULL, 0};
	int rc;

	if(st == NULL || seq == 0 || p == NULL || key_dev_seq(&k, dev, seq)) return C2D_EINVAL;
	rc = c2d_db_get(st, t, k.buf, k.len, c2d_db_take_copy, &tc);
	if(rc) return rc;
	*p = tc.data;
	if(len) *len = tc.len;
	return C2D_OK;
}

static int seq_del(struct c2d_store *st, enum table t, const char *dev, uint64_t seq)
{
	struct key k = {0};

	if(st == NULL || seq == 0 || key_dev_seq(&k, dev, seq)) return C2D_EINVAL;
	return c2d_db_del(st, t, k.buf, k.len);
}

/* dev, rec: borrowed, copied into the store. rec may be NULL when len is 0. */
int c2d_store_q_put(struct c2d_store *st, const char *dev, uint64_t seq, const void *rec, size_t len)
{
	return seq_put(st, T_QUEUE, dev, seq, rec, len);
}

int c2d_store_q_get(struct c2d_store *st, const char *dev, uint64_t seq, void **rec, size_t *len)
{
	return seq_get(st, T_QUEUE, dev, seq, rec, len);
}

int c2d_store_q_del(struct c2d_store *st, const char *dev, uint64_t seq)
{
	return seq_del(st, T_QUEUE, dev, seq);
}

/* ---- payloads ---- */

int c2d_store_qpay_put(struct c2d_store *st, const char *dev, uint64_t seq, const void *p, size_t len)
{
	return seq_put(st, T_QPAY, dev, seq, p, len);
}

int c2d_store_qpay_get(struct c2d_store *st, const char *dev, uint64_t seq, void **p, size_t *len)
{
	return seq_get(st, T_QPAY, dev, seq, p, len);
}

int c2d_store_qpay_del(struct c2d_store *st, const char *dev, uint64_t seq)
{
	return seq_del(st, T_QPAY, dev, seq);
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
	if(key->mv_size != qs->prefix.len + 8) return c2d_db_corrupt(T_QUEUE, "bad key length");
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
	return c2d_db_walk(st, T_QUEUE, start.buf, start.len, visit_q, &qs);
}

