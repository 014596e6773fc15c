/* Device queries: checking a `where` object once, then matching device
 * documents against it (see c2d_query.h for the language). Pure. */
#include <stdio.h>
#include <string.h>

#include "c2d_mpatch.h"
#include "c2d_query.h"

#define PATH_MAX_DEPTH 16
#define OR_MAX_DEPTH 8

static const char *const sections[] = {"tags", "desired", "reported", "info", NULL};
static const char *const operators[] = {"$eq", "$ne", "$in", "$nin", "$exists", "$lt", "$lte", "$gt", "$gte",
	"$prefix", NULL};

static bool in_list(const char *s, size_t len, const char *const *list)
{
	size_t i;

	for(i = 0; list[i]; i++){
		if(strlen(list[i]) == len && memcmp(list[i], s, len) == 0) return true;
	}
	return false;
}

/* A path: device | online | section(.member)*, members non-empty. */
static int check_path(const char *path, char *why, size_t whylen)
{
	const char *dot = strchr(path, '.'), *p;
	size_t depth = 0;

	if(strcmp(path, "device") == 0 || strcmp(path, "online") == 0) return 0;
	if(!in_list(path, dot ? (size_t)(dot - path) : strlen(path), sections)){
		snprintf(why, whylen, "unknown path '%s' (device, online, tags.*, desired.*, reported.*, info.*)", path);
		return -1;
	}
	for(p = dot; p; p = strchr(p + 1, '.')){
		if(p[1] == '\0' || p[1] == '.' || ++depth > PATH_MAX_DEPTH){
			snprintf(why, whylen, "bad path '%s' (empty member name or deeper than %d)", path, PATH_MAX_DEPTH);
			return -1;
		}
	}
	return 0;
}

static bool is_operator_object(const cJSON *v)
{
	return cJSON_IsObject(v) && v->child && v->child->string && v->child->string[0] == '$';
}

static int check_operators(const char *path, const cJSON *ops, char *why, size_t whylen)
{
	const cJSON *op;
	const char *name;

	cJSON_ArrayForEach(op, ops){
		name = op->string;
		if(name[0] != '$'){
			snprintf(why, whylen, "'%s' mixes operators and members in %s", name, path);
			return -1;
		}
		if(!in_list(name, strlen(name), operators)){
			snprintf(why, whylen, "unknown operator %s in %s", name, path);
			return -1;
		}
		if((!strcmp(name, "$in") || !strcmp(name, "$nin")) && !cJSON_IsArray(op)){
			snprintf(why, whylen, "%s in %s takes an array", name, path);
			return -1;
		}
		if(!strcmp(name, "$exists") && !cJSON_IsBool(op)){
			snprintf(why, whylen, "$exists in %s takes true or false", path);
			return -1;
		}
		if(!strcmp(name, "$prefix") && !cJSON_IsString(op)){
			snprintf(why, whylen, "$prefix in %s takes a string", path);
			return -1;
		}
		if(name[1] == 'l' || name[1] == 'g'){
			if(!cJSON_IsNumber(op) && !cJSON_IsString(op)){
				snprintf(why, whylen, "%s in %s takes a number or a string", name, path);
				return -1;
			}
		}
	}
	return 0;
}

static int check_where(const cJSON *where, int depth, char *why, size_t whylen)
{
	const cJSON *kv, *alt;

	if(!cJSON_IsObject(where)){
		snprintf(why, whylen, "where must be an object");
		return -1;
	}
	cJSON_ArrayForEach(kv, where){
		if(strcmp(kv->string, "$or") == 0){
			if(!cJSON_IsArray(kv) || cJSON_GetArraySize(kv) == 0){
				snprintf(why, whylen, "$or takes a non-empty array of where objects");
				return -1;
			}
			if(depth >= OR_MAX_DEPTH){
				snprintf(why, whylen, "$or nested deeper than %d", OR_MAX_DEPTH);
				return -1;
			}
			cJSON_ArrayForEach(alt, kv){
				if(check_where(alt, depth + 1, why, whylen)) return -1;
			}
			continue;
		}
		if(check_path(kv->string, why, whylen)) return -1;
		if(is_operator_object(kv) && check_operators(kv->string, kv, why, whylen)) return -1;
	}
	return 0;
}

int c2d_query_check(const cJSON *where, char *why, size_t whylen)
{
	if(where == NULL) return 0;
	return check_where(where, 0, why, whylen);
}

unsigned c2d_query_needs(const cJSON *where)
{
	const cJSON *kv, *alt;
	unsigned needs = 0;

	cJSON_ArrayForEach(kv, where){
		if(strcmp(kv->string, "$or") == 0){
			cJSON_ArrayForEach(alt, kv) needs |= c2d_query_needs(alt);
		}else if(strcmp(kv->string, "online") == 0){
			needs |= C2D_Q_NEEDS_ONLINE;
		}else if(strncmp(kv->string, "tags", 4) == 0){
			needs |= C2D_Q_NEEDS_TAGS;
		}else if(strncmp(kv->string, "info", 4) == 0){
			needs |= C2D_Q_NEEDS_INFO;
		}else if(strncmp(kv->string, "desired", 7) == 0 || strncmp(kv->string, "reported", 8) == 0){
			needs |= C2D_Q_NEEDS_TWIN;
		}
	}
	return needs;
}

/* The value at path in doc (borrowed), NULL when absent. */
static const cJSON *resolve(const cJSON *doc, const char *path)
{
	char name[256];
	const char *p = path, *dot;
	const cJSON *v = doc;
	size_t n;

	while(v && *p){
		dot = strchr(p, '.');
		n = dot ? (size_t)(dot - p) : strlen(p);
		if(n >= sizeof(name) || !cJSON_IsObject(v)) return NULL;
		memcpy(name, p, n);
		name[n] = '\0';
		v = cJSON_GetObjectItemCaseSensitive(v, name);
		p += n + (dot != NULL);
	}
	return v;
}

/* <0, 0, >0, or 2 when the two cannot be ordered. */
static int order(const cJSON *a, const cJSON *b)
{
	int c;

	if(cJSON_IsNumber(a) && cJSON_IsNumber(b)){
		return a->valuedouble < b->valuedouble ? -1 : a->valuedouble > b->valuedouble;
	}
	if(cJSON_IsString(a) && cJSON_IsString(b)){
		c = strcmp(a->valuestring, b->valuestring);
		return c < 0 ? -1 : c > 0;
	}
	return 2;
}

static bool in_array(const cJSON *v, const cJSON *arr)
{
	const cJSON *e;

	cJSON_ArrayForEach(e, arr){
		if(c2d_json_equal(v, e)) return true;
	}
	return false;
}

static bool op_holds(const char *op, const cJSON *v, const cJSON *arg)
{
	int c;

	if(!strcmp(op, "$exists")) return cJSON_IsTrue(arg) == (v != NULL);
	if(!strcmp(op, "$ne")) return v == NULL || !c2d_json_equal(v, arg);
	if(!strcmp(op, "$nin")) return v == NULL || !in_array(v, arg);
	if(v == NULL) return false;
	if(!strcmp(op, "$eq")) return c2d_json_equal(v, arg);
	if(!strcmp(op, "$in")) return in_array(v, arg);
	if(!strcmp(op, "$prefix")){
		return cJSON_IsString(v) && strncmp(v->valuestring, arg->valuestring, strlen(arg->valuestring)) == 0;
	}
	c = order(v, arg);
	if(c == 2) return false;
	if(!strcmp(op, "$lt")) return c < 0;
	if(!strcmp(op, "$lte")) return c <= 0;
	if(!strcmp(op, "$gt")) return c > 0;
	return c >= 0; /* $gte */
}

bool c2d_query_match(const cJSON *where, const cJSON *doc)
{
	const cJSON *kv, *alt, *op, *v;
	bool any;

	cJSON_ArrayForEach(kv, where){
		if(strcmp(kv->string, "$or") == 0){
			any = false;
			cJSON_ArrayForEach(alt, kv){
				if(c2d_query_match(alt, doc)){
					any = true;
					break;
				}
			}
			if(!any) return false;
			continue;
		}
		v = resolve(doc, kv->string);
		if(is_operator_object(kv)){
			cJSON_ArrayForEach(op, kv){
				if(!op_holds(op->string, v, op)) return false;
			}
		}else if(v == NULL || !c2d_json_equal(v, kv)){
			return false;
		}
	}
	return true;
}
