/* store_quarantine.c: records that cannot be processed, moved out of the
 * live tables and kept as they were for an operator:
 *
 *   quarantine  table name \0 key          -> the record as it was
 *
 * A move is one put into quarantine and one delete from the live table, in
 * the open transaction: the record is in exactly one of the two. */
#include <stdlib.h>
#include <string.h>

#include "c2d_log.h"
#include "store_int.h"

/* Copy key -> val (borrowed) of table t into quarantine under name \0 key. */
static int quarantine_put(struct c2d_store *st, enum table t, const MDB_val *key, const MDB_val *val)
{
	size_t n = strlen(c2d_db_table_name[t]) + 1;
	unsigned char *qk;
	int rc;

	if(key->mv_size + n > 511) return C2D_EINVAL; /* LMDB's key limit; ours are far shorter */
	qk = malloc(n + key->mv_size);
	if(qk == NULL) return C2D_ENOMEM;
	memcpy(qk, c2d_db_table_name[t], n);
	memcpy(qk + n, key->mv_data, key->mv_size);
	rc = c2d_db_put(st, T_QUARANTINE, qk, n + key->mv_size, val->mv_data, val->mv_size);
	free(qk);
	return rc;
}

/* The value is copied into quarantine before it is deleted (LMDB's pointer
 * dies with the delete). */
struct move_one {
	struct c2d_store *st;
	enum table t;
	const struct key *want;   /* NULL: the first entry, if it is unparsable */
	int moved;
};

static int visit_move(void *ud, const MDB_val *key, const MDB_val *val)
{
	struct move_one *m = ud;
	int rc;

	if(m->want){
		if(key->mv_size != m->want->len || memcmp(key->mv_data, m->want->buf, key->mv_size)) return WALK_STOP;
	}else if(key->mv_size >= 8 + 10 && key->mv_size - 17 <= C2D_DEV_MAX){
		/* well-formed keys stay (c2d_db_parse_dev_seq's checks, without its log line) */
		const unsigned char *p = (const unsigned char *)key->mv_data + 8;
		size_t dlen = key->mv_size - 17;

		if(p[dlen] == '\0' && memchr(p, '\0', dlen) == NULL) return WALK_STOP;
	}
	rc = quarantine_put(m->st, m->t, key, val);
	if(rc) return rc;
	m->moved = 1;
	return WALK_DEL;
}

int c2d_db_quarantine_key(struct c2d_store *st, enum table t, const struct key *key)
{
	struct move_one m = {st, t, key, 0};
	int rc;

	if(st->txn == NULL) return C2D_ETXN;
	rc = c2d_db_walk(st, t, key->buf, key->len, visit_move, &m);
	if(rc) return rc;
	return m.moved ? C2D_OK : C2D_ENOTFOUND;
}

/* The state record, then its payload (if it has one) with it. */
int c2d_store_q_quarantine(struct c2d_store *st, const char *dev, uint64_t seq)
{
	struct key k = {0}, pk = {0};
	int rc;

	if(st == NULL || seq == 0 || key_dev_seq(&k, dev, seq)) return C2D_EINVAL;
	if((seq & ~C2D_STORE_Q_HISTORY) == 0 || key_dev_seq(&pk, dev, seq & ~C2D_STORE_Q_HISTORY)) return C2D_EINVAL;
	rc = c2d_db_quarantine_key(st, T_QUEUE, &k);
	if(rc) return rc;
	rc = c2d_db_quarantine_key(st, T_QPAY, &pk);
	return rc == C2D_ENOTFOUND ? C2D_OK : rc;
}

int c2d_store_dl_quarantine_first(struct c2d_store *st, bool timeout)
{
	enum table t = timeout ? T_TIMEOUT : T_DUE;
	struct move_one m = {st, t, NULL, 0};
	int rc;

	if(st == NULL) return C2D_EINVAL;
	if(st->txn == NULL) return C2D_ETXN;
	rc = c2d_db_walk(st, t, NULL, 0, visit_move, &m);
	if(rc) return rc;
	if(m.moved) c2d_log(C2D_LOG_ERR, "LMDB: moved an unreadable entry of %s to quarantine", c2d_db_table_name[t]);
	return m.moved ? C2D_OK : C2D_ENOTFOUND;
}

int c2d_store_quarantine_count(struct c2d_store *st, uint64_t *count)
{
	return c2d_db_count(st, T_QUARANTINE, count);
}
