/* Device twin documents: versions, metadata, delta, catch-up patches.
 * Pure logic over cJSON (see c2d_twin.h for the stored record). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c2d_err.h"
#include "c2d_mpatch.h"
#include "c2d_twin.h"

static const char *const section_name[C2D_TWIN_SECTIONS] = {"desired", "reported", "tags"};
static const char *const version_name[C2D_TWIN_SECTIONS] = {"dv", "rv", "tv"};

int c2d_twin_init(struct c2d_twin *tw)
{
	int i;

	memset(tw, 0, sizeof(*tw));
	for(i = 0; i < C2D_TWIN_SECTIONS; i++){
		tw->doc[i] = cJSON_CreateObject();
		tw->meta[i] = cJSON_CreateObject();
		if(tw->doc[i] == NULL || tw->meta[i] == NULL){
			c2d_twin_free(tw);
			return C2D_ENOMEM;
		}
	}
	return 0;
}

void c2d_twin_free(struct c2d_twin *tw)
{
	int i;

	for(i = 0; i < C2D_TWIN_SECTIONS; i++){
		cJSON_Delete(tw->doc[i]);
		cJSON_Delete(tw->meta[i]);
	}
	cJSON_Delete(tw->ack_doc);
	memset(tw, 0, sizeof(*tw));
}

/* A whole number >= 0 that a double holds exactly. */
static bool get_version(const cJSON *j, uint64_t *out)
{
	if(!cJSON_IsNumber(j) || j->valuedouble < 0 || j->valuedouble > 9007199254740992.0) return false;
	if((double)(uint64_t)j->valuedouble != j->valuedouble) return false;
	*out = (uint64_t)j->valuedouble;
	return true;
}

/* Take member `name` of `from` (detached) if it is an object. */
static cJSON *take_object(cJSON *from, const char *name)
{
	cJSON *j = cJSON_GetObjectItemCaseSensitive(from, name);

	if(!cJSON_IsObject(j)) return NULL;
	return cJSON_DetachItemViaPointer(from, j);
}

int c2d_twin_load(struct c2d_twin *tw, const char *json, size_t len)
{
	cJSON *root, *meta;
	int i, rc = 0;

	memset(tw, 0, sizeof(*tw));
	root = cJSON_ParseWithLength(json, len);
	if(!cJSON_IsObject(root)){
		cJSON_Delete(root);
		return c2d_twin_init(tw) ? C2D_ENOMEM : C2D_EINVAL;
	}
	meta = cJSON_GetObjectItemCaseSensitive(root, "meta");
	for(i = 0; i < C2D_TWIN_SECTIONS; i++){
		tw->doc[i] = take_object(root, section_name[i]);
		tw->meta[i] = meta ? take_object(meta, section_name[i]) : NULL;
		if(tw->meta[i] == NULL) tw->meta[i] = cJSON_CreateObject();
		if(i == C2D_TWIN_TAGS && tw->doc[i] == NULL && !cJSON_GetObjectItemCaseSensitive(root, "tags")
				&& !cJSON_GetObjectItemCaseSensitive(root, version_name[i])){
			tw->doc[i] = cJSON_CreateObject(); /* a record from before tags */
			if(tw->doc[i] == NULL) rc = C2D_ENOMEM;
			continue;
		}
		if(tw->doc[i] == NULL) rc = C2D_EINVAL;
		if(!get_version(cJSON_GetObjectItemCaseSensitive(root, version_name[i]), &tw->version[i])) rc = C2D_EINVAL;
	}
	if(!get_version(cJSON_GetObjectItemCaseSensitive(root, "sent"), &tw->sent)) rc = C2D_EINVAL;
	if(get_version(cJSON_GetObjectItemCaseSensitive(root, "ack"), &tw->ack)){
		tw->ack_doc = take_object(root, "ackDoc");
		tw->has_ack = tw->ack_doc != NULL;
		if(!tw->has_ack) rc = C2D_EINVAL;
	}
	cJSON_Delete(root);
	for(i = 0; i < C2D_TWIN_SECTIONS; i++){
		if(rc == 0 && tw->meta[i] == NULL) rc = C2D_ENOMEM;
	}
	if(rc){
		c2d_twin_free(tw);
		if(c2d_twin_init(tw)) return C2D_ENOMEM;
	}
	return rc;
}

char *c2d_twin_dump(const struct c2d_twin *tw)
{
	cJSON *root = cJSON_CreateObject(), *meta;
	char *text = NULL;
	int i;

	if(root == NULL) return NULL;
	meta = cJSON_AddObjectToObject(root, "meta");
	for(i = 0; i < C2D_TWIN_SECTIONS; i++){
		cJSON_AddItemReferenceToObject(root, section_name[i], tw->doc[i]);
		if(meta) cJSON_AddItemReferenceToObject(meta, section_name[i], tw->meta[i]);
		cJSON_AddNumberToObject(root, version_name[i], (double)tw->version[i]);
	}
	cJSON_AddNumberToObject(root, "sent", (double)tw->sent);
	if(tw->has_ack){
		cJSON_AddNumberToObject(root, "ack", (double)tw->ack);
		cJSON_AddItemReferenceToObject(root, "ackDoc", tw->ack_doc);
	}
	if(meta) text = cJSON_PrintUnformatted(root);
	cJSON_Delete(root);
	return text;
}

/* '$' names are reserved; only a top-level "$version" is allowed, once (a
 * second one would not be removed before the patch is applied). */
static const char *reserved_member(const cJSON *j, bool top)
{
	const cJSON *c;
	const char *bad;

	cJSON_ArrayForEach(c, j){
		if(c->string && c->string[0] == '$' && !(top && c == cJSON_GetObjectItemCaseSensitive(j, "$version"))){
			return c->string;
		}
		if(cJSON_IsObject(c) && (bad = reserved_member(c, false)) != NULL) return bad;
	}
	return NULL;
}

/* Metadata mirrors the document: every member the patch sets gets a fresh
 * $lastUpdated; a member whose old and new values are both objects keeps the
 * metadata of the nested members the patch does not touch; deleted members
 * lose theirs. doc: the section before the patch (borrowed, may be NULL). */
static int meta_merge(cJSON *meta, const cJSON *doc, const cJSON *patch, const char *now)
{
	const cJSON *p, *old;
	cJSON *m;

	cJSON_ArrayForEach(p, patch){
		if(p->string[0] == '$') continue;
		m = cJSON_GetObjectItemCaseSensitive(meta, p->string);
		old = cJSON_GetObjectItemCaseSensitive(doc, p->string);
		if(cJSON_IsNull(p)){
			cJSON_DeleteItemFromObjectCaseSensitive(meta, p->string);
			continue;
		}
		if(!cJSON_IsObject(p) || !cJSON_IsObject(old) || !cJSON_IsObject(m)){
			cJSON_DeleteItemFromObjectCaseSensitive(meta, p->string);
			m = cJSON_AddObjectToObject(meta, p->string);
			old = NULL;
		}else{
			cJSON_DeleteItemFromObjectCaseSensitive(m, "$lastUpdated");
		}
		if(m == NULL || cJSON_AddStringToObject(m, "$lastUpdated", now) == NULL) return C2D_ENOMEM;
		if(cJSON_IsObject(p) && meta_merge(m, old, p, now)) return C2D_ENOMEM;
	}
	return 0;
}

/* ---- the size of a section as cJSON_PrintUnformatted writes it, without
 * writing it: the same rules as the printer of cJSON 1.7.15 (Debian 12's),
 * test_twin checks them against it ---- */

static size_t number_size(const cJSON *j)
{
	char buf[32];
	double d = j->valuedouble, back;
	int n;

	if(isnan(d) || isinf(d)) return 4; /* null */
	n = snprintf(buf, sizeof(buf), "%1.15g", d);
	back = strtod(buf, NULL);
	if(fabs(back - d) > (fabs(back) > fabs(d) ? fabs(back) : fabs(d)) * DBL_EPSILON){ /* cJSON: compare_double */
		n = snprintf(buf, sizeof(buf), "%1.17g", d);
	}
	return (size_t)n;
}

static size_t string_size(const char *s)
{
	const unsigned char *p;
	size_t n = 2;

	if(s == NULL) return n;
	for(p = (const unsigned char *)s; *p; p++){
		if(strchr("\"\\\b\f\n\r\t", *p)) n += 2;
		else if(*p < 32) n += 6;
		else n++;
	}
	return n;
}

size_t c2d_twin_json_size(const cJSON *j)
{
	const cJSON *c;
	size_t n;

	switch(j->type & 0xff){
		case cJSON_NULL: return 4;
		case cJSON_False: return 5;
		case cJSON_True: return 4;
		case cJSON_Number: return number_size(j);
		case cJSON_String: return string_size(j->valuestring);
		case cJSON_Raw: return j->valuestring ? strlen(j->valuestring) : 0;
		case cJSON_Array:
		case cJSON_Object:
			n = 2;
			for(c = j->child; c; c = c->next){
				if(c != j->child) n++;
				if((j->type & 0xff) == cJSON_Object) n += string_size(c->string) + 1;
				n += c2d_twin_json_size(c);
			}
			return n;
		default:
			return 0;
	}
}

int c2d_twin_apply(struct c2d_twin *tw, enum c2d_twin_section s, const cJSON *patch,
		const struct c2d_twin_limits *limits, const char *now, cJSON **applied,
		char *why, size_t whylen)
{
	const cJSON *jver;
	const char *bad;
	cJSON *clean = NULL, *result = NULL;
	uint64_t want;
	size_t size;
	int rc = 400;

	*applied = NULL;
	if(!cJSON_IsObject(patch)){
		snprintf(why, whylen, "a twin patch must be a JSON object");
		return 400;
	}
	if((bad = reserved_member(patch, true)) != NULL){
		snprintf(why, whylen, "member name '%.64s' is reserved (names starting with '$')", bad);
		return 400;
	}
	jver = cJSON_GetObjectItemCaseSensitive(patch, "$version");
	if(jver){
		if(!get_version(jver, &want)){
			snprintf(why, whylen, "$version must be a whole number >= 0");
			return 400;
		}
		if(want != tw->version[s]){
			snprintf(why, whylen, "version conflict: $version is %llu, the %s version is %llu",
					(unsigned long long)want, section_name[s], (unsigned long long)tw->version[s]);
			return 409;
		}
	}
	clean = cJSON_Duplicate(patch, true);
	if(clean == NULL) goto nomem;
	cJSON_DeleteItemFromObjectCaseSensitive(clean, "$version");
	result = c2d_mpatch_apply(tw->doc[s], clean);
	if(result == NULL) goto nomem;
	if(c2d_json_equal(result, tw->doc[s])){
		/* Nothing changes (a repeated patch, e.g. a QoS 2 retransmission
		 * or a periodic identical report): no new version, and no limit
		 * to check (the section may be over limits lowered since). */
		cJSON_Delete(clean);
		cJSON_Delete(result);
		return 0;
	}
	size = c2d_twin_json_size(result); /* measured, not printed */
	if(size > limits->max_bytes){
		snprintf(why, whylen, "%s would be %zu bytes, over the limit of %zu (plugin_opt_twin_max_bytes)",
				section_name[s], size, limits->max_bytes);
		rc = 413;
		goto fail;
	}
	if(c2d_json_depth(result) > limits->max_depth){
		snprintf(why, whylen, "%s would be nested deeper than %d levels (plugin_opt_twin_max_depth)",
				section_name[s], limits->max_depth);
		goto fail;
	}
	if(meta_merge(tw->meta[s], tw->doc[s], clean, now)) goto nomem;
	cJSON_Delete(tw->doc[s]);
	tw->doc[s] = result;
	tw->version[s]++;
	*applied = clean;
	return 0;

nomem:
	rc = C2D_ENOMEM;
fail:
	cJSON_Delete(clean);
	cJSON_Delete(result);
	return rc;
}

/* Desired members whose values differ from reported; objects recurse. */
static cJSON *delta_of(const cJSON *desired, const cJSON *reported)
{
	cJSON *delta = cJSON_CreateObject(), *sub;
	const cJSON *d, *r;

	if(delta == NULL) return NULL;
	cJSON_ArrayForEach(d, desired){
		r = cJSON_GetObjectItemCaseSensitive(reported, d->string);
		if(r && c2d_json_equal(d, r)) continue;
		if(cJSON_IsObject(d) && cJSON_IsObject(r)){
			sub = delta_of(d, r);
			if(sub && cJSON_GetArraySize(sub) == 0){
				cJSON_Delete(sub);
				continue;
			}
		}else{
			sub = cJSON_Duplicate(d, true);
		}
		if(sub == NULL || !cJSON_AddItemToObject(delta, d->string, sub)){
			cJSON_Delete(sub);
			cJSON_Delete(delta);
			return NULL;
		}
	}
	return delta;
}

cJSON *c2d_twin_delta(const struct c2d_twin *tw)
{
	return delta_of(tw->doc[C2D_TWIN_DESIRED], tw->doc[C2D_TWIN_REPORTED]);
}

cJSON *c2d_twin_full(const struct c2d_twin *tw, bool with_tags)
{
	cJSON *full = cJSON_CreateObject(), *ver, *meta;
	int i, n = with_tags ? C2D_TWIN_SECTIONS : 2;

	if(full == NULL) return NULL;
	for(i = 0; i < n; i++){
		cJSON_AddItemToObject(full, section_name[i], cJSON_Duplicate(tw->doc[i], true));
	}
	cJSON_AddItemToObject(full, "delta", c2d_twin_delta(tw));
	ver = cJSON_AddObjectToObject(full, "version");
	meta = cJSON_AddObjectToObject(full, "$metadata");
	for(i = 0; i < n && ver && meta; i++){
		cJSON_AddNumberToObject(ver, section_name[i], (double)tw->version[i]);
		cJSON_AddItemToObject(meta, section_name[i], cJSON_Duplicate(tw->meta[i], true));
	}
	if(cJSON_GetArraySize(full) != n + 3 || cJSON_GetArraySize(ver) != n || cJSON_GetArraySize(meta) != n){
		cJSON_Delete(full);
		return NULL;
	}
	return full;
}

cJSON *c2d_twin_push(struct c2d_twin *tw, int *err)
{
	const cJSON *desired = tw->doc[C2D_TWIN_DESIRED];
	uint64_t dv = tw->version[C2D_TWIN_DESIRED];
	cJSON *msg, *body;
	bool full;

	*err = 0;
	if(dv == 0 && !tw->has_ack) return NULL;       /* never set: nothing to send */
	if(tw->has_ack && tw->ack == dv) return NULL;  /* acknowledged */
	/* A patch is only valid against what the device holds: the acknowledged
	 * document, unless a later push may have been applied since. */
	full = !tw->has_ack || tw->sent > tw->ack;
	body = full ? cJSON_Duplicate(desired, true) : c2d_mpatch_diff(tw->ack_doc, desired);
	msg = cJSON_CreateObject();
	if(msg == NULL || body == NULL){
		cJSON_Delete(msg);
		cJSON_Delete(body);
		*err = C2D_ENOMEM;
		return NULL;
	}
	cJSON_AddNumberToObject(msg, "version", (double)dv);
	cJSON_AddItemToObject(msg, "desired", body);
	cJSON_AddBoolToObject(msg, "full", full);
	tw->sent = dv;
	return msg;
}

bool c2d_twin_acked(struct c2d_twin *tw, uint64_t version)
{
	cJSON *copy;

	if(version != tw->version[C2D_TWIN_DESIRED]) return false;
	if(tw->has_ack && tw->ack == version) return false;
	copy = cJSON_Duplicate(tw->doc[C2D_TWIN_DESIRED], true);
	if(copy == NULL) return false;
	cJSON_Delete(tw->ack_doc);
	tw->ack_doc = copy;
	tw->ack = version;
	tw->has_ack = true;
	if(tw->sent < version) tw->sent = version;
	return true;
}
