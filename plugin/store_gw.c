/* store_gw.c: the gateway registry (schema 1.4), which gateway device may
 * act for which sub-device (protocol-v2 section 4):
 *
 *   gw      sub                -> gateway id (text, without NUL)
 *   gwsubs  gateway \0 sub     -> empty (the same facts by gateway: counts)
 *
 * Both tables change together, in the open transaction: a sub-device is in
 * gwsubs under exactly the gateway its gw record names. A sub-device has at
 * most one gateway. The device record (store_dev.c) is not touched. */
#include <stdlib.h>
#include <string.h>

#include "c2d_log.h"
#include "store_int.h"

/* gateway \0 sub: two ids of 1..C2D_DEV_MAX bytes and the NUL. */
struct gwkey {
	size_t len;
	unsigned char buf[2 * C2D_DEV_MAX + 1];
};

static int gwkey_make(struct gwkey *k, const char *gw, const char *sub)
{
	size_t a = gw ? strnlen(gw, C2D_DEV_MAX + 1) : 0, b = sub ? strnlen(sub, C2D_DEV_MAX + 1) : 0;

	if(a == 0 || a > C2D_DEV_MAX || (sub && (b == 0 || b > C2D_DEV_MAX))) return C2D_EINVAL;
	memcpy(k->buf, gw, a);
	k->buf[a] = '\0';
	memcpy(k->buf + a + 1, sub ? sub : "", b);
	k->len = a + 1 + b;
	return C2D_OK;
}

struct take_gw {
	char *gw; /* C2D_DEV_MAX + 1 bytes */
};

static int take_gw(void *ud, const MDB_val *val)
{
	struct take_gw *t = ud;

	if(val->mv_size == 0 || val->mv_size > C2D_DEV_MAX || memchr(val->mv_data, '\0', val->mv_size)){
		return c2d_db_corrupt(T_GW, "bad gateway id");
	}
	memcpy(t->gw, val->mv_data, val->mv_size);
	t->gw[val->mv_size] = '\0';
	return C2D_OK;
}

int c2d_store_gw_get(struct c2d_store *st, const char *sub, char *gw)
{
	struct key k = {0};
	struct take_gw t = {gw};

	if(st == NULL || gw == NULL || key_dev(&k, sub)) return C2D_EINVAL;
	return c2d_db_get(st, T_GW, k.buf, k.len, take_gw, &t);
}

int c2d_store_gw_set(struct c2d_store *st, const char *sub, const char *gw)
{
	char old[C2D_DEV_MAX + 1];
	struct key k = {0};
	struct gwkey rk;
	int rc;

	if(st == NULL || key_dev(&k, sub) || gwkey_make(&rk, gw, sub)) return C2D_EINVAL;
	rc = c2d_store_gw_get(st, sub, old);
	if(rc == C2D_OK){
		struct gwkey ok;

		if(strcmp(old, gw) == 0) return C2D_OK;
		if(gwkey_make(&ok, old, sub) == C2D_OK){
			rc = c2d_db_del(st, T_GWSUBS, ok.buf, ok.len);
			if(rc && rc != C2D_ENOTFOUND) return rc;
		}
	}else if(rc != C2D_ENOTFOUND){
		return rc;
	}
	rc = c2d_db_put(st, T_GW, k.buf, k.len, gw, strlen(gw));
	if(!rc) rc = c2d_db_put(st, T_GWSUBS, rk.buf, rk.len, "", 0);
	return rc;
}

int c2d_store_gw_del(struct c2d_store *st, const char *sub, char *gw)
{
	struct key k = {0};
	struct gwkey rk;
	int rc;

	if(st == NULL || gw == NULL || key_dev(&k, sub)) return C2D_EINVAL;
	rc = c2d_store_gw_get(st, sub, gw);
	if(rc) return rc;
	rc = c2d_db_del(st, T_GW, k.buf, k.len);
	if(!rc && gwkey_make(&rk, gw, sub) == C2D_OK){
		rc = c2d_db_del(st, T_GWSUBS, rk.buf, rk.len);
		if(rc == C2D_ENOTFOUND) rc = C2D_OK;
	}
	return rc;
}

struct gw_count {
	const struct gwkey *prefix;
	uint64_t limit, n;
};

static int visit_count(void *ud, const MDB_val *key, const MDB_val *val)
{
	struct gw_count *c = ud;

	(void)val;
	if(key->mv_size < c->prefix->len || memcmp(key->mv_data, c->prefix->buf, c->prefix->len)) return WALK_STOP;
	return ++c->n >= c->limit ? WALK_STOP : WALK_NEXT;
}

int c2d_store_gw_count(struct c2d_store *st, const char *gw, uint64_t limit, uint64_t *n)
{
	struct gwkey prefix;
	struct gw_count c = {&prefix, limit, 0};
	int rc;

	if(st == NULL || n == NULL || limit == 0 || gwkey_make(&prefix, gw, NULL)) return C2D_EINVAL;
	rc = c2d_db_walk(st, T_GWSUBS, prefix.buf, prefix.len, visit_count, &c);
	if(rc == C2D_OK) *n = c.n;
	return rc;
}
