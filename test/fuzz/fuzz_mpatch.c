/* Fuzz target: RFC 7396 merge patch, diff, depth and equality
 * (plugin/mpatch.c).
 *
 * Input: "<target JSON>\n<patch JSON>" (split at the first newline; no
 * newline: the whole input is the patch and the target is absent). Either
 * side may fail to parse (then it is NULL, as the API allows).
 *
 * Checked, whenever neither document has duplicate member names (which the
 * module documents as unsupported):
 * - apply never fails, an object patch gives an object, and applying the
 *   same patch again changes nothing (merge patches are idempotent);
 * - diff round trip: apply(from, diff(from, to)) equals `to` for object
 *   `to` without null members (RFC 7396 cannot express those), with
 *   (from, to) = (target, result), (target, patch) and (patch, target);
 *   diff(x, x) is {};
 * - depth: a copy has the same depth, wrapping in an object adds one, the
 *   result is no deeper than its inputs;
 * - equality is reflexive on copies and symmetric.
 * (Equality itself is only checked on documents without duplicate names:
 * lookups see the first of equal names, so a copy of {"a":1,"a":2} does not
 * compare equal to itself, as documented.) */
#include <stdbool.h>

#include "c2d_mpatch.h"
#include "fuzz.h"
#include "fuzz_json.h"

static int max_i(int a, int b)
{
	return a > b ? a : b;
}

static void check_equal_depth(const cJSON *x, const cJSON *other)
{
	cJSON *dup, *wrap;
	int d = c2d_json_depth(x);

	FUZZ_ASSERT(d >= 0);
	if(x == NULL){
		FUZZ_ASSERT(d == 0);
		FUZZ_ASSERT(c2d_json_equal(NULL, NULL));
		return;
	}
	FUZZ_ASSERT(!c2d_json_equal(x, NULL) && !c2d_json_equal(NULL, x));
	if(!cJSON_IsObject(x) && !cJSON_IsArray(x)) FUZZ_ASSERT(d == 0);
	dup = cJSON_Duplicate(x, true);
	FUZZ_ASSERT(dup != NULL);
	FUZZ_ASSERT(c2d_json_depth(dup) == d);
	if(!has_dups(x)) FUZZ_ASSERT(c2d_json_equal(x, dup) && c2d_json_equal(dup, x));
	wrap = cJSON_CreateObject();
	FUZZ_ASSERT(wrap != NULL);
	cJSON_AddItemToObject(wrap, "w", dup);
	FUZZ_ASSERT(c2d_json_depth(wrap) == d + 1);
	cJSON_Delete(wrap);
	if(other && !has_dups(x) && !has_dups(other)){
		FUZZ_ASSERT(c2d_json_equal(x, other) == c2d_json_equal(other, x));
	}
}

/* apply(from, diff(from, to)) == to, when `to` is an object without null
 * members. */
static void check_roundtrip(const cJSON *from, const cJSON *to)
{
	cJSON *d, *back;

	if(!cJSON_IsObject(to) || !no_null_members(to)) return;
	d = c2d_mpatch_diff(from, to);
	FUZZ_ASSERT(d != NULL && cJSON_IsObject(d));
	back = c2d_mpatch_apply(from, d);
	FUZZ_ASSERT(back != NULL);
	if(!c2d_json_equal(back, to)){
		char *a = cJSON_PrintUnformatted(from), *b = cJSON_PrintUnformatted(to);
		char *c = cJSON_PrintUnformatted(d), *e = cJSON_PrintUnformatted(back);

		fprintf(stderr, "diff round trip: from %s to %s: diff %s gives %s\n", a, b, c, e);
		abort();
	}
	cJSON_Delete(back);
	cJSON_Delete(d);
	/* diff(to, to) is empty */
	d = c2d_mpatch_diff(to, to);
	FUZZ_ASSERT(d != NULL && cJSON_IsObject(d) && d->child == NULL);
	cJSON_Delete(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_strndup(data, size), *nl;
	const char *ttext = NULL, *ptext = s;
	cJSON *t = NULL, *p, *r, *r2, *d;
	bool dups;

	nl = memchr(s, '\n', size);
	if(nl){
		*nl = '\0';
		ttext = s;
		ptext = nl + 1;
		t = cJSON_ParseWithLength(ttext, (size_t)(nl - s));
	}
	p = cJSON_ParseWithLength(ptext, size - (size_t)(ptext - s));
	dups = has_dups(t) || has_dups(p);

	r = c2d_mpatch_apply(t, p);
	FUZZ_ASSERT(r != NULL);
	if(p == NULL){
		FUZZ_ASSERT(t ? dups || c2d_json_equal(r, t) : cJSON_IsNull(r));
	}else if(!cJSON_IsObject(p)){
		FUZZ_ASSERT(dups || c2d_json_equal(r, p));
	}else{
		FUZZ_ASSERT(cJSON_IsObject(r));
	}
	FUZZ_ASSERT(c2d_json_depth(r) <= max_i(c2d_json_depth(t), c2d_json_depth(p)));
	check_equal_depth(t, p);
	check_equal_depth(p, t);
	check_equal_depth(r, t);

	if(!dups){
		/* idempotence */
		r2 = c2d_mpatch_apply(r, p);
		FUZZ_ASSERT(r2 != NULL && c2d_json_equal(r, r2));
		cJSON_Delete(r2);
		check_roundtrip(t, r);
		check_roundtrip(t, p);
		check_roundtrip(p, t);
		check_roundtrip(NULL, p);
	}
	/* whatever the input, diff gives a document and never crashes */
	d = c2d_mpatch_diff(t, p);
	FUZZ_ASSERT(d != NULL);
	if(p && !cJSON_IsObject(p) && !dups) FUZZ_ASSERT(c2d_json_equal(d, p));
	cJSON_Delete(d);

	cJSON_Delete(r);
	cJSON_Delete(p);
	cJSON_Delete(t);
	free(s);
	return 0;
}
