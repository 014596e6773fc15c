/* Broker test harness: the test's hands on a broker's state (see harness.h).
 * Owns: direct LMDB reads and writes of the broker's store from the test
 * process (one short-lived environment per call), the libfaketime offset
 * file (c2d_broker_shift_clock) and the write-fault trigger file
 * (c2d_broker_fail_writes), each renamed into place so the broker never
 * reads half a file.
 */
#include "harness_int.h"

/* ---- the broker's LMDB store, from the test process ---- */

/* Opens b's environment and table in a transaction. Returns 0 or -1. */
static int db_open(struct c2d_broker *b, const char *table, unsigned int flags, MDB_env **env,
		MDB_txn **txn, MDB_dbi *dbi)
{
	int rc = mdb_env_create(env);

	if(rc == 0) rc = mdb_env_set_maxdbs(*env, 16);
	if(rc == 0) rc = mdb_env_open(*env, b->db_path, MDB_NOTLS, 0600);
	if(rc == 0) rc = mdb_txn_begin(*env, NULL, flags, txn);
	if(rc == 0){
		rc = mdb_dbi_open(*txn, table, 0, dbi);
		if(rc) mdb_txn_abort(*txn);
	}
	if(rc){
		fprintf(stderr, DIAG "LMDB %s, table %s: %s\n", b->db_path, table, mdb_strerror(rc));
		mdb_env_close(*env);
		return -1;
	}
	return 0;
}

/* put (val not NULL) or del (val NULL) in one write transaction. */
static int db_write(struct c2d_broker *b, const char *table, const void *key, size_t klen,
		const void *val, size_t vlen)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
	int rc;

	if(db_open(b, table, 0, &env, &txn, &dbi)) return -1;
	rc = val ? mdb_put(txn, dbi, &k, &v, 0) : mdb_del(txn, dbi, &k, NULL);
	if(rc == MDB_NOTFOUND && val == NULL) rc = 0;
	if(rc == 0){
		rc = mdb_txn_commit(txn);
	}else{
		mdb_txn_abort(txn);
	}
	mdb_env_close(env);
	if(rc) fprintf(stderr, DIAG "LMDB %s in %s: %s\n", val ? "put" : "del", table, mdb_strerror(rc));
	return rc ? -1 : 0;
}

int c2d_broker_db_put(struct c2d_broker *b, const char *table, const void *key, size_t klen,
		const void *val, size_t vlen)
{
	return db_write(b, table, key, klen, val ? val : "", vlen);
}

int c2d_broker_db_del(struct c2d_broker *b, const char *table, const void *key, size_t klen)
{
	return db_write(b, table, key, klen, NULL, 0);
}

int c2d_broker_db_get(struct c2d_broker *b, const char *table, const void *key, size_t klen,
		void **val, size_t *len)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {klen, (void *)key}, v;
	int rc;

	*val = NULL;
	*len = 0;
	if(db_open(b, table, MDB_RDONLY, &env, &txn, &dbi)) return -1;
	rc = mdb_get(txn, dbi, &k, &v);
	if(rc == 0){
		*val = c2dh_xcalloc(1, v.mv_size + 1);
		memcpy(*val, v.mv_data, v.mv_size);
		*len = v.mv_size;
	}else{
		fprintf(stderr, DIAG "LMDB get in %s: %s\n", table, mdb_strerror(rc));
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return rc ? -1 : 0;
}

int c2d_broker_shift_clock(struct c2d_broker *b, long seconds)
{
	char *path = c2dh_faketime_file(b);
	char *tmp = c2d_strf("%s.new", path);
	FILE *f = fopen(tmp, "w");
	int rc = -1;

	/* renamed into place: the broker never reads a half-written offset */
	if(f && fprintf(f, "%+ld\n", seconds) > 0 && fclose(f) == 0){
		f = NULL;
		rc = rename(tmp, path) == 0 ? 0 : -1;
	}
	if(f) fclose(f);
	if(rc) fprintf(stderr, DIAG "cannot write %s: %s\n", path, strerror(errno));
	free(tmp);
	free(path);
	return rc;
}

void c2d_broker_fail_writes(struct c2d_broker *b, enum c2d_write_fault which)
{
	char *trigger = c2dh_fault_trigger(b);
	char *tmp = c2d_strf("%s.new", trigger);
	FILE *f;

	if(which == C2D_WRITES_OK){
		unlink(trigger);
	}else{
		/* renamed into place: the broker never reads a half-written mode */
		f = fopen(tmp, "w");
		if(f){
			fputs(which == C2D_WRITES_META ? "meta" : "enospc", f);
			fclose(f);
			rename(tmp, trigger);
		}
	}
	free(tmp);
	free(trigger);
}
