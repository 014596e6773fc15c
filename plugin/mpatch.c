/* RFC 7396 JSON merge patch: apply, diff, depth and deep equality. Pure: cJSON
 * only, no broker, no globals. Debian's cJSON ships without cJSON_Utils, so
 * this is written from the RFC's pseudocode (section 2).
 *
 * Object member names are compared case-sensitively (JSON is). Documents with
 * duplicate member names are not expected; where they occur, lookups see the
 * first occurrence, as cJSON's do. */
#include <stdbool.h>
#include <string.h>

#include "c2d_mpatch.h"

/* Set obj[key] = item, replacing an existing member in place (its position is
 * kept) or appending a new one. obj, key: borrowed. item: consumed, even on
 * failure; may be NULL (a failed allocation upstream), which fails.
 * Returns false on out of memory. */
static bool put(cJSON *obj, const char *key, cJSON *item)
{
	bool ok;

	if(item == NULL) return false;
	if(cJSON_GetObjectItemCaseSensitive(obj, key)){
		ok = cJSON_ReplaceItemInObjectCaseSensitive(obj, key, item);
	}else{
		ok = cJSON_AddItemToObject(obj, key, item);
	}
	if(!ok) cJSON_Delete(item);
	return ok;
}

/* Merge the object `patch` into the object `dst` in place (RFC 7396 section 2,
 * the object branch). dst: borrowed, modified. patch: borrowed, members copied.
 * Returns false on out of memory; dst is then partly patched and the caller
 * discards it. */
static bool merge(cJSON *dst, const cJSON *patch)
{
	const cJSON *p;
	cJSON *cur, *sub;

	cJSON_ArrayForEach(p, patch){
		if(cJSON_IsNull(p)){
			cJSON_DeleteItemFromObjectCaseSensitive(dst, p->string);
		}else if(!cJSON_IsObject(p)){
			if(!put(dst, p->string, cJSON_Duplicate(p, true))) return false;
		}else{
			cur = cJSON_GetObjectItemCaseSensitive(dst, p->string);
			if(!cJSON_IsObject(cur)){
				/* absent or not an object: the patch merges into {} */
				sub = cJSON_CreateObject();
				if(!put(dst, p->string, sub)) return false;
				cur = sub;
			}
			if(!merge(cur, p)) return false;
		}
	}
	return true;
}

/* target, patch: borrowed. Returns a new document (caller owns it).
 * A NULL patch means "no patch": the result is a copy of target. */
cJSON *c2d_mpatch_apply(const cJSON *target, const cJSON *patch)
{
	cJSON *res;

	if(patch == NULL){
		return target ? cJSON_Duplicate(target, true) : cJSON_CreateNull();
	}
	if(!cJSON_IsObject(patch)) return cJSON_Duplicate(patch, true);
	if(cJSON_IsObject(target)){
		res = cJSON_Duplicate(target, true);
	}else{
		res = cJSON_CreateObject();
	}
	if(res && !merge(res, patch)){
		cJSON_Delete(res);
		return NULL;
	}
	return res;
}

/* The patch from the object `from` to the object `to`; either may be NULL
 * (no members). from, to: borrowed; values copied into the patch.
 * Returns a new object (caller owns it), NULL on out of memory. */
static cJSON *diff_obj(const cJSON *from, const cJSON *to)
{
	cJSON *patch = cJSON_CreateObject(), *sub;
	const cJSON *f, *t;

	if(patch == NULL) return NULL;
	cJSON_ArrayForEach(t, to){
		f = cJSON_GetObjectItemCaseSensitive(from, t->string);
		if(cJSON_IsObject(f) && cJSON_IsObject(t)){
			sub = diff_obj(f, t);
			if(sub && cJSON_GetArraySize(sub) == 0){
				cJSON_Delete(sub); /* nothing changed below */
				continue;
			}
		}else if(f && c2d_json_equal(f, t)){
			continue;
		}else{
			sub = cJSON_Duplicate(t, true); /* new, retyped or array */
		}
		if(!put(patch, t->string, sub)) goto fail;
	}
	cJSON_ArrayForEach(f, from){
		if(cJSON_GetObjectItemCaseSensitive(to, f->string)) continue;
		if(!put(patch, f->string, cJSON_CreateNull())) goto fail;
	}
	return patch;

fail:
	cJSON_Delete(patch);
	return NULL;
}

/* from, to: borrowed. Returns a new document (caller owns it).
 * Roots that are not objects: a `to` that is not an object (and not NULL) can
 * only be reached by replacing the whole document, so the patch is a copy of
 * `to`. A `from` that is not an object is treated as {} (RFC 7396 applies an
 * object patch to a non-object target as if it were {}). */
cJSON *c2d_mpatch_diff(const cJSON *from, const cJSON *to)
{
	if(to != NULL && !cJSON_IsObject(to)) return cJSON_Duplicate(to, true);
	return diff_obj(cJSON_IsObject(from) ? from : NULL, to);
}

/* j: borrowed. NULL counts as a scalar (0). */
int c2d_json_depth(const cJSON *j)
{
	const cJSON *c;
	int d, max = 0;

	if(!cJSON_IsObject(j) && !cJSON_IsArray(j)) return 0;
	cJSON_ArrayForEach(c, j){
		d = c2d_json_depth(c);
		if(d > max) max = d;
	}
	return max + 1;
}

/* Every member of object a has an equal member of the same name in object b.
 * Both borrowed. */
static bool members_in(const cJSON *a, const cJSON *b)
{
	const cJSON *m;

	cJSON_ArrayForEach(m, a){
		if(!c2d_json_equal(m, cJSON_GetObjectItemCaseSensitive(b, m->string))) return false;
	}
	return true;
}

/* a, b: borrowed. Two NULLs are equal; NULL never equals a node (not even a
 * JSON null). Numbers compare by value (1 == 1.0). */
bool c2d_json_equal(const cJSON *a, const cJSON *b)
{
	const cJSON *x, *y;

	if(a == b) return true;
	if(a == NULL || b == NULL) return false;
	if((a->type & 0xFF) != (b->type & 0xFF)) return false;
	switch(a->type & 0xFF){
		case cJSON_Number:
			return a->valuedouble == b->valuedouble;
		case cJSON_String:
		case cJSON_Raw:
			if(a->valuestring == NULL || b->valuestring == NULL){
				return a->valuestring == b->valuestring;
			}
			return strcmp(a->valuestring, b->valuestring) == 0;
		case cJSON_Array:
			for(x = a->child, y = b->child; x && y; x = x->next, y = y->next){
				if(!c2d_json_equal(x, y)) return false;
			}
			return x == NULL && y == NULL;
		case cJSON_Object:
			/* both ways, so duplicate names cannot fake a match */
			return cJSON_GetArraySize(a) == cJSON_GetArraySize(b)
					&& members_in(a, b) && members_in(b, a);
		default:
			return true; /* null, true, false: the type is the value */
	}
}
