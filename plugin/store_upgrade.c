/* store_upgrade.c: rewriting a schema 1.x store's records as 2.0 reads
 * them, in the open transaction of the first open (store.c), before anything
 * else reads them. It is idempotent: a record already in its 2.0 form is
 * left alone, so a store whose schema record was set back (or an upgrade
 * repeated) does no harm.
 *
 *   devices  struct c2d_devrec as 1.x stored it raw: 152 bytes, native
 *            (little-endian on every host the plugin was built for): u32
 *            version (1), u32 queued, u64 next_seq, u64 created_ms, 16 x u64
 *            counters -> the encoded record (store_dev.c)
 *   queue    item records of version 1 and 2, payload inline -> the version
 *            3 state record (qrec.c) and the payload in qpayload. Finished
 *            items keep their payload too (they lose it when their history
 *            ends, like any other)
 *   jexec    struct c2d_jexec raw: 24 bytes (u8 state, 3 pad, u32 status,
 *            u64 ref, u64 at_ms) -> the encoded record (store_jobs.c)
 *
 * A record that is neither its old nor its new form is left as it is: the
 * code that reads it reports it damaged and quarantines it, as it would any
 * other. Memory: one record at a time. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c2d_log.h"
#include "c2d_qrec.h"
#include "c2d_rec.h"
#include "store_int.h"

#define OLD_DEVREC_LEN (4 + 4 + 8 + 8 + 8 * 16)
#define OLD_JEXEC_LEN 24

struct upgrade {
	struct c2d_store *st;
	MDB_txn *txn;
	uint64_t n;            /* records rewritten */
};

/* *out: the new form of val, or len 0 to leave it; buf holds it. */
typedef int (*convert_fn)(struct upgrade *u, const MDB_val *key, const MDB_val *val, void **buf, size_t *len);

static int devrec_convert(struct upgrade *u, const MDB_val *key, const MDB_val *val, void **buf, size_t *len)
{
	struct c2d_rec_r r;
	struct c2d_devrec rec;
	unsigned char *out;
	size_t i;

	(void)u;
	(void)key;
	*len = 0;
	c2d_rec_r_init(&r, val->mv_data, val->mv_size);
	if(val->mv_size != OLD_DEVREC_LEN || c2d_rec_get_u32(&r) != 1) return C2D_OK;
	rec.queued = c2d_rec_get_u32(&r);
	rec.next_seq = c2d_rec_get_u64(&r);
	rec.created_ms = c2d_rec_get_u64(&r);
	for(i = 0; i < C2D_DEVREC_COUNTERS; i++) rec.counters[i] = c2d_rec_get_u64(&r);
	if(!c2d_rec_r_done(&r)) return C2D_OK;
	out = malloc(DEVREC_LEN);
	if(out == NULL) return C2D_ENOMEM;
	*len = c2d_db_devrec_encode(&rec, out);
	*buf = out;
	return C2D_OK;
}

static int jexec_convert(struct upgrade *u, const MDB_val *key, const MDB_val *val, void **buf, size_t *len)
{
	struct c2d_rec_r r;
	struct c2d_jexec x;
	unsigned char *out;

	(void)u;
	(void)key;
	*len = 0;
	if(val->mv_size != OLD_JEXEC_LEN) return C2D_OK;
	memset(&x, 0, sizeof(x));
	c2d_rec_r_init(&r, val->mv_data, val->mv_size);
	x.state = c2d_rec_get_u8(&r);
	c2d_rec_get_u8(&r);
	c2d_rec_get_u8(&r);
	c2d_rec_get_u8(&r);
	x.status = c2d_rec_get_u32(&r);
	x.ref = c2d_rec_get_u64(&r);
	x.at_ms = c2d_rec_get_u64(&r);
	out = malloc(JEXEC_LEN);
	if(out == NULL) return C2D_ENOMEM;
	*len = c2d_db_jexec_encode(&x, out);
	*buf = out;
	return C2D_OK;
}

/* The payload goes to qpayload under the same key without the history bit. */
static int qrec_convert(struct upgrade *u, const MDB_val *key, const MDB_val *val, void **buf, size_t *len)
{
	struct c2d_qrec r;
	unsigned char pk[KEY_MAX];
	MDB_val k, v;
	int rc;

	*len = 0;
	if(c2d_qrec_decode_old(&r, val->mv_data, val->mv_size)) return C2D_OK;
	if(key->mv_size < 9 || key->mv_size > sizeof(pk)) return C2D_OK;
	if(r.payload_len){
		memcpy(pk, key->mv_data, key->mv_size);
		pk[key->mv_size - 8] &= 0x7f; /* be64 seq: the top bit is history's */
		k = mval(pk, key->mv_size);
		v = mval(r.payload, r.payload_len);
		rc = mdb_put(u->txn, u->st->dbi[T_QPAY], &k, &v, 0);
		if(rc) return c2d_db_status(u->st, rc, "upgrade put", c2d_db_table_name[T_QPAY]);
	}
	r.payload = NULL;
	return c2d_qrec_encode(&r, buf, len);
}

/* Rewrite every record of t that convert changes, in place. The key and
 * value are copied first: LMDB's pointers into the page die with the
 * writes (the page is copied on write, or reused). */
static int convert_table(struct upgrade *u, enum table t, convert_fn convert)
{
	MDB_cursor *cur;
	MDB_val k, v, nv;
	unsigned char kbuf[KEY_MAX * 2];
	void *vbuf, *buf;
	size_t len;
	int mrc, rc = C2D_OK, op = MDB_FIRST;

	mrc = mdb_cursor_open(u->txn, u->st->dbi[t], &cur);
	if(mrc) return c2d_db_status(u->st, mrc, "upgrade cursor", c2d_db_table_name[t]);
	while(rc == C2D_OK && (mrc = mdb_cursor_get(cur, &k, &v, op)) == 0){
		op = MDB_NEXT;
		if(k.mv_size > sizeof(kbuf)) continue; /* not ours: left for the reader to report */
		memcpy(kbuf, k.mv_data, k.mv_size);
		k.mv_data = kbuf;
		vbuf = malloc(v.mv_size ? v.mv_size : 1);
		if(vbuf == NULL){
			rc = C2D_ENOMEM;
			break;
		}
		memcpy(vbuf, v.mv_data, v.mv_size);
		v.mv_data = vbuf;
		buf = NULL;
		len = 0;
		rc = convert(u, &k, &v, &buf, &len);
		if(rc == C2D_OK && len){
			nv = mval(buf, len);
			rc = c2d_db_status(u->st, mdb_cursor_put(cur, &k, &nv, MDB_CURRENT), "upgrade put",
					c2d_db_table_name[t]);
			u->n++;
		}
		free(buf);
		free(vbuf);
	}
	mdb_cursor_close(cur);
	if(rc) return rc;
	return mrc == MDB_NOTFOUND ? C2D_OK : c2d_db_status(u->st, mrc, "upgrade walk", c2d_db_table_name[t]);
}

int c2d_db_upgrade_1x(struct c2d_store *st, MDB_txn *txn, char *err, size_t errlen)
{
	struct upgrade u = {st, txn, 0};
	int rc;

	rc = convert_table(&u, T_DEVICES, devrec_convert);
	if(!rc) rc = convert_table(&u, T_QUEUE, qrec_convert);
	if(!rc) rc = convert_table(&u, T_JEXEC, jexec_convert);
	if(rc){
		if(err && errlen) snprintf(err, errlen, "cannot upgrade the database at %s to schema 2 (%d)", st->path, rc);
		c2d_log(C2D_LOG_ERR, "cannot upgrade the database at %s to schema 2 (%d)", st->path, rc);
		return rc;
	}
	c2d_log(C2D_LOG_NOTICE, "database at %s: %" PRIu64 " records rewritten in the schema 2 formats", st->path, u.n);
	return C2D_OK;
}
