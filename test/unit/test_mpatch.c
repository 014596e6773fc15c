/* mpatch.c: RFC 7396 merge patch apply and diff, depth, deep equality. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c2d_mpatch.h"
#include "../check_main.h"

#ifdef C2D_SRCDIR
#define RFC_VECTORS C2D_SRCDIR "/test/data/rfc7396-appendix-a.json"
#else
#define RFC_VECTORS "test/data/rfc7396-appendix-a.json"
#endif
#define RFC_MIN_VECTORS 15

static cJSON *parse(const char *text)
{
	cJSON *j = cJSON_Parse(text);

	ck_assert_msg(j != NULL, "test JSON does not parse: %s", text);
	return j;
}

/* Unformatted text of j (NULL for NULL), owned by the caller (cJSON_free). */
static char *show(const cJSON *j)
{
	char *s;

	if(j == NULL) return NULL;
	s = cJSON_PrintUnformatted(j);
	ck_assert_ptr_nonnull(s);
	return s;
}

/* Equality on parsed text, both ways round. */
static bool eq_text(const char *a, const char *b)
{
	cJSON *ja = parse(a), *jb = parse(b);
	bool r = c2d_json_equal(ja, jb), r2 = c2d_json_equal(jb, ja);

	ck_assert_msg(r == r2, "equal(%s, %s) is not symmetric", a, b);
	cJSON_Delete(ja);
	cJSON_Delete(jb);
	return r;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t len = 0, cap = 0, n;

	if(f == NULL) return NULL;
	do{
		if(cap - len < 4096){
			cap = cap ? cap * 2 : 8192;
			buf = realloc(buf, cap + 1);
			ck_assert_ptr_nonnull(buf);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	}while(n > 0);
	fclose(f);
	buf[len] = '\0';
	return buf;
}

/* apply(target, patch) must equal want and leave both inputs as they were.
 * target may be NULL. */
static void check_apply(const cJSON *target, const cJSON *patch, const cJSON *want, const char *what)
{
	char *t0 = show(target), *p0 = show(patch), *t1, *p1, *g;
	cJSON *got = c2d_mpatch_apply(target, patch);

	ck_assert_msg(got != NULL, "%s: apply returned NULL", what);
	g = show(got);
	ck_assert_msg(c2d_json_equal(got, want), "%s: apply(%s, %s) gave %s", what, t0, p0, g);
	t1 = show(target);
	p1 = show(patch);
	ck_assert_pstr_eq(t0, t1);
	ck_assert_pstr_eq(p0, p1);
	cJSON_free(t0);
	cJSON_free(p0);
	cJSON_free(t1);
	cJSON_free(p1);
	cJSON_free(g);
	cJSON_Delete(got);
}

static void check_apply_text(const char *target, const char *patch, const char *want)
{
	cJSON *t = parse(target), *p = parse(patch), *w = parse(want);

	check_apply(t, p, w, patch);
	cJSON_Delete(t);
	cJSON_Delete(p);
	cJSON_Delete(w);
}

/* diff(from, to) must round-trip through apply, leave its inputs alone and,
 * if want is not NULL, equal want. Returns nothing; asserts. */
static void check_diff(const cJSON *from, const cJSON *to, const cJSON *want, const char *what)
{
	char *f0 = show(from), *t0 = show(to), *f1, *t1, *d, *g;
	cJSON *patch = c2d_mpatch_diff(from, to), *got;

	ck_assert_msg(patch != NULL, "%s: diff returned NULL", what);
	d = show(patch);
	if(want){
		ck_assert_msg(c2d_json_equal(patch, want), "%s: diff(%s, %s) gave %s", what, f0, t0, d);
	}
	got = c2d_mpatch_apply(from, patch);
	ck_assert_msg(got != NULL, "%s: apply returned NULL", what);
	g = show(got);
	if(to){
		ck_assert_msg(c2d_json_equal(got, to), "%s: apply(%s, diff %s) gave %s, want %s", what, f0, d, g, t0);
	}else{
		ck_assert_msg(cJSON_IsObject(got) && cJSON_GetArraySize(got) == 0, "%s: gave %s, want {}", what, g);
	}
	f1 = show(from);
	t1 = show(to);
	ck_assert_pstr_eq(f0, f1);
	ck_assert_pstr_eq(t0, t1);
	cJSON_free(f0);
	cJSON_free(t0);
	cJSON_free(f1);
	cJSON_free(t1);
	cJSON_free(d);
	cJSON_free(g);
	cJSON_Delete(patch);
	cJSON_Delete(got);
}

/* ---- apply ---- */

START_TEST(test_rfc_vectors)
{
	char *text = read_file(RFC_VECTORS), what[32];
	cJSON *all, *v;
	int n = 0;

	ck_assert_msg(text != NULL, "cannot read %s", RFC_VECTORS);
	all = cJSON_Parse(text);
	free(text);
	ck_assert_msg(cJSON_IsArray(all), "%s is not a JSON array", RFC_VECTORS);
	ck_assert_int_ge(cJSON_GetArraySize(all), RFC_MIN_VECTORS);
	cJSON_ArrayForEach(v, all){
		cJSON *target = cJSON_GetObjectItemCaseSensitive(v, "target");
		cJSON *patch = cJSON_GetObjectItemCaseSensitive(v, "patch");
		cJSON *result = cJSON_GetObjectItemCaseSensitive(v, "result");

		snprintf(what, sizeof(what), "vector %d", n);
		ck_assert_msg(target && patch && result, "%s lacks target, patch or result", what);
		check_apply(target, patch, result, what);
		n++;
	}
	ck_assert_int_ge(n, RFC_MIN_VECTORS);
	cJSON_Delete(all);
}
END_TEST

START_TEST(test_apply_more)
{
	/* nested merge into an existing object, siblings kept */
	check_apply_text("{\"a\":{\"b\":1,\"c\":{\"d\":2,\"e\":3}},\"f\":4}",
			"{\"a\":{\"c\":{\"d\":null,\"x\":[1]},\"g\":true}}",
			"{\"a\":{\"b\":1,\"c\":{\"e\":3,\"x\":[1]},\"g\":true},\"f\":4}");
	/* object patch over a scalar member: merged into {} (nulls vanish) */
	check_apply_text("{\"a\":5}", "{\"a\":{\"b\":null,\"c\":1}}", "{\"a\":{\"c\":1}}");
	/* deleting a member that is not there */
	check_apply_text("{\"a\":1}", "{\"zz\":null}", "{\"a\":1}");
	/* empty patch: no change */
	check_apply_text("{\"a\":{\"b\":[1,2]}}", "{}", "{\"a\":{\"b\":[1,2]}}");
	/* object patch on a scalar root */
	check_apply_text("7", "{\"a\":1,\"b\":null}", "{\"a\":1}");
	/* keys are case-sensitive */
	check_apply_text("{\"a\":1}", "{\"A\":2}", "{\"a\":1,\"A\":2}");
	/* unicode keys */
	check_apply_text("{\"\xC3\xA9t\xC3\xA9\":1,\"\xE6\x97\xA5\":{\"x\":1}}",
			"{\"\xC3\xA9t\xC3\xA9\":null,\"\xE6\x97\xA5\":{\"y\":2}}",
			"{\"\xE6\x97\xA5\":{\"x\":1,\"y\":2}}");
}
END_TEST

START_TEST(test_apply_null_inputs)
{
	cJSON *t = parse("{\"a\":1}"), *p = parse("{\"b\":2}"), *r;

	/* NULL target: as absent */
	r = c2d_mpatch_apply(NULL, p);
	ck_assert(c2d_json_equal(r, p));
	ck_assert_ptr_ne(r, p);
	cJSON_Delete(r);
	/* NULL patch: no change */
	r = c2d_mpatch_apply(t, NULL);
	ck_assert(c2d_json_equal(r, t));
	ck_assert_ptr_ne(r, t);
	cJSON_Delete(r);
	r = c2d_mpatch_apply(NULL, NULL);
	ck_assert(cJSON_IsNull(r));
	cJSON_Delete(r);
	/* JSON null patch: a null node */
	cJSON_Delete(p);
	p = cJSON_CreateNull();
	r = c2d_mpatch_apply(NULL, p);
	ck_assert(cJSON_IsNull(r));
	cJSON_Delete(r);
	cJSON_Delete(t);
	cJSON_Delete(p);
}
END_TEST

/* The result shares nothing with the inputs: it outlives them. */
START_TEST(test_apply_independent)
{
	cJSON *t = parse("{\"a\":{\"b\":[1,{\"c\":\"x\"}]},\"k\":\"v\"}");
	cJSON *p = parse("{\"a\":{\"n\":{\"m\":[true]}},\"s\":\"str\"}");
	cJSON *r = c2d_mpatch_apply(t, p), *w;

	cJSON_Delete(t);
	cJSON_Delete(p);
	w = parse("{\"a\":{\"b\":[1,{\"c\":\"x\"}],\"n\":{\"m\":[true]}},\"k\":\"v\",\"s\":\"str\"}");
	ck_assert(c2d_json_equal(r, w));
	cJSON_Delete(r);
	cJSON_Delete(w);
}
END_TEST

/* ---- diff ---- */

struct dcase {
	const char *from;
	const char *to;
	const char *patch; /* the exact expected patch (member order aside) */
};

static const struct dcase dcases[] = {
	{"{}", "{}", "{}"},
	{"{\"a\":1}", "{\"a\":1}", "{}"},
	{"{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}", "{}"},
	{"{\"a\":{\"b\":{\"c\":[1,{\"d\":true}]}}}", "{\"a\":{\"b\":{\"c\":[1,{\"d\":true}]}}}", "{}"},
	/* added, changed, removed */
	{"{\"a\":1}", "{\"a\":1,\"b\":\"x\"}", "{\"b\":\"x\"}"},
	{"{\"a\":1}", "{\"a\":2}", "{\"a\":2}"},
	{"{\"a\":1,\"b\":2}", "{\"b\":2}", "{\"a\":null}"},
	{"{\"a\":null}", "{}", "{\"a\":null}"},
	/* nested deletes become nested nulls */
	{"{\"a\":{\"b\":1,\"c\":2}}", "{\"a\":{\"b\":1}}", "{\"a\":{\"c\":null}}"},
	{"{\"a\":{\"b\":{\"c\":{\"d\":1,\"e\":2}}}}", "{\"a\":{\"b\":{\"c\":{\"d\":1,\"e\":3}}}}",
			"{\"a\":{\"b\":{\"c\":{\"e\":3}}}}"},
	{"{\"a\":{\"b\":{}}}", "{\"a\":{}}", "{\"a\":{\"b\":null}}"},
	/* a whole nested object removed */
	{"{\"a\":{\"b\":1},\"x\":1}", "{\"x\":1}", "{\"a\":null}"},
	{"{\"a\":{\"b\":{\"c\":1}}}", "{}", "{\"a\":null}"},
	/* arrays are replaced whole */
	{"{\"a\":[1,2,3]}", "{\"a\":[1,2]}", "{\"a\":[1,2]}"},
	{"{\"a\":[1,{\"b\":1}]}", "{\"a\":[1,{\"b\":2}]}", "{\"a\":[1,{\"b\":2}]}"},
	{"{\"a\":[1,2]}", "{\"a\":[2,1]}", "{\"a\":[2,1]}"},
	{"{\"a\":[1,2]}", "{\"a\":[1,2]}", "{}"},
	{"{\"a\":[]}", "{\"a\":[{}]}", "{\"a\":[{}]}"},
	/* type changes */
	{"{\"a\":{\"b\":1}}", "{\"a\":5}", "{\"a\":5}"},
	{"{\"a\":5}", "{\"a\":{\"b\":1}}", "{\"a\":{\"b\":1}}"},
	{"{\"a\":[1]}", "{\"a\":{\"b\":1}}", "{\"a\":{\"b\":1}}"},
	{"{\"a\":{\"b\":1}}", "{\"a\":[1]}", "{\"a\":[1]}"},
	{"{\"a\":\"1\"}", "{\"a\":1}", "{\"a\":1}"},
	{"{\"a\":0}", "{\"a\":false}", "{\"a\":false}"},
	{"{\"a\":true}", "{\"a\":false}", "{\"a\":false}"},
	{"{\"a\":{}}", "{\"a\":\"\"}", "{\"a\":\"\"}"},
	/* numbers by value */
	{"{\"a\":1}", "{\"a\":1.0}", "{}"},
	{"{\"a\":100}", "{\"a\":1e2}", "{}"},
	{"{\"a\":1}", "{\"a\":1.5}", "{\"a\":1.5}"},
	{"{\"a\":-0.25}", "{\"a\":0.25}", "{\"a\":0.25}"},
	/* empty object vs missing member */
	{"{\"a\":{}}", "{}", "{\"a\":null}"},
	{"{}", "{\"a\":{}}", "{\"a\":{}}"},
	{"{\"a\":{}}", "{\"a\":{}}", "{}"},
	{"{\"a\":{\"b\":{}}}", "{\"a\":{\"b\":{},\"c\":{}}}", "{\"a\":{\"c\":{}}}"},
	/* keys: case-sensitive, unicode, empty */
	{"{\"a\":1}", "{\"A\":1}", "{\"A\":1,\"a\":null}"},
	{"{\"\xC3\xA9\":1,\"\xE6\x97\xA5\xE6\x9C\xAC\":{\"x\":1}}",
			"{\"\xC3\xA9\":2,\"\xE6\x97\xA5\xE6\x9C\xAC\":{\"y\":1}}",
			"{\"\xC3\xA9\":2,\"\xE6\x97\xA5\xE6\x9C\xAC\":{\"x\":null,\"y\":1}}"},
	{"{\"\\u00e9\":1}", "{\"\xC3\xA9\":1}", "{}"},
	{"{\"\":1}", "{\"\":{\"\":2}}", "{\"\":{\"\":2}}"},
	/* non-object roots: a non-object `to` is a whole replacement, a
	 * non-object `from` counts as {} */
	{"{\"a\":1}", "[1,2]", "[1,2]"},
	{"[1]", "{\"a\":1}", "{\"a\":1}"},
	{"5", "\"x\"", "\"x\""},
	{"\"x\"", "\"x\"", "\"x\""},
	{"{\"a\":1}", "null", "null"},
	{"null", "{\"a\":{\"b\":1}}", "{\"a\":{\"b\":1}}"},
	{"[1,2]", "{}", "{}"},
};
#define DCASE_COUNT ((int)(sizeof(dcases) / sizeof(dcases[0])))

START_TEST(test_diff_table)
{
	const struct dcase *c = &dcases[_i];
	cJSON *f = parse(c->from), *t = parse(c->to), *w = parse(c->patch);
	char what[32];

	snprintf(what, sizeof(what), "diff case %d", _i);
	check_diff(f, t, w, what);
	cJSON_Delete(f);
	cJSON_Delete(t);
	cJSON_Delete(w);
}
END_TEST

START_TEST(test_diff_null_inputs)
{
	cJSON *a = parse("{\"a\":1}"), *empty = parse("{}");
	cJSON *del = parse("{\"a\":null}");

	check_diff(NULL, a, a, "NULL from");
	check_diff(a, NULL, del, "NULL to");
	check_diff(NULL, NULL, empty, "both NULL");
	check_diff(NULL, empty, empty, "NULL from, {} to");
	cJSON_Delete(a);
	cJSON_Delete(empty);
	cJSON_Delete(del);
}
END_TEST

/* ---- generated round trips ---- */

static const char *const gen_keys[] = {"a", "b", "c", "d", "e", "k\xC3\xA9", ""};
#define GEN_KEYS ((int)(sizeof(gen_keys) / sizeof(gen_keys[0])))
#define GEN_PAIRS 200

static cJSON *gen_object(int depth);

/* A random non-null value; nested objects while depth > 0. */
static cJSON *gen_value(int depth)
{
	static const char *const strs[] = {"", "x", "y", "\xE2\x82\xAC"};
	cJSON *arr;
	int i, n;

	switch(rand() % (depth > 0 ? 7 : 5)){
		case 0:
			return cJSON_CreateNumber((double)(rand() % 4));
		case 1:
			return cJSON_CreateString(strs[rand() % 4]);
		case 2:
			return cJSON_CreateBool(rand() % 2);
		case 3:
			return cJSON_CreateNumber((rand() % 8) / 4.0);
		case 4:
			arr = cJSON_CreateArray();
			n = rand() % 3;
			for(i = 0; i < n; i++){
				cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)(rand() % 3)));
			}
			if(depth > 0 && rand() % 4 == 0){
				cJSON_AddItemToArray(arr, gen_object(depth - 1));
			}
			return arr;
		default:
			return gen_object(depth - 1);
	}
}

/* Set obj[key], replacing any member of that name (no duplicates). */
static void gen_set(cJSON *obj, const char *key, cJSON *v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	cJSON_AddItemToObject(obj, key, v);
}

static cJSON *gen_object(int depth)
{
	cJSON *o = cJSON_CreateObject();
	int i, n = rand() % 5;

	for(i = 0; i < n; i++){
		gen_set(o, gen_keys[rand() % GEN_KEYS], gen_value(depth));
	}
	return o;
}

/* Randomly edit obj in place: delete, replace, add, or recurse. */
static void gen_mutate(cJSON *obj, int depth)
{
	cJSON *m;
	const char *key;
	int i, n = 1 + rand() % 3;

	for(i = 0; i < n; i++){
		key = gen_keys[rand() % GEN_KEYS];
		m = cJSON_GetObjectItemCaseSensitive(obj, key);
		switch(rand() % 4){
			case 0:
				cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
				break;
			case 1:
				if(cJSON_IsObject(m) && depth > 0){
					gen_mutate(m, depth - 1);
					break;
				}
				/* fall through */
			default:
				gen_set(obj, key, gen_value(depth));
				break;
		}
	}
}

START_TEST(test_diff_generated)
{
	cJSON *from, *to, *self, *empty = cJSON_CreateObject();
	char what[32];
	int i;

	srand(7396);
	for(i = 0; i < GEN_PAIRS; i++){
		snprintf(what, sizeof(what), "generated pair %d", i);
		from = gen_object(4);
		if(i % 3 == 0){
			to = gen_object(4); /* unrelated */
		}else{
			to = cJSON_Duplicate(from, true);
			gen_mutate(to, 4);
		}
		ck_assert_ptr_nonnull(from);
		ck_assert_ptr_nonnull(to);
		check_diff(from, to, NULL, what);
		check_diff(to, from, NULL, what);
		check_diff(from, from, empty, what);
		/* a diff never reaches deeper than the documents */
		self = c2d_mpatch_diff(from, to);
		ck_assert_int_le(c2d_json_depth(self),
				c2d_json_depth(from) > c2d_json_depth(to) ? c2d_json_depth(from) : c2d_json_depth(to));
		cJSON_Delete(self);
		cJSON_Delete(from);
		cJSON_Delete(to);
	}
	cJSON_Delete(empty);
}
END_TEST

/* ---- depth ---- */

struct depthcase {
	const char *json;
	int depth;
};

static const struct depthcase depthcases[] = {
	{"0", 0},
	{"\"s\"", 0},
	{"null", 0},
	{"true", 0},
	{"{}", 1},
	{"[]", 1},
	{"{\"a\":1,\"b\":\"x\"}", 1},
	{"[1,2,3]", 1},
	{"{\"a\":{}}", 2},
	{"[[]]", 2},
	{"{\"a\":[1,[2]]}", 3},
	{"[[[]]]", 3},
	{"{\"a\":1,\"b\":{\"c\":{\"d\":{}}},\"e\":{}}", 4},
	{"[{\"a\":[{}]}]", 4},
	{"[1,{\"a\":[{}]},[]]", 4},
};

START_TEST(test_depth)
{
	cJSON *j = parse(depthcases[_i].json);

	ck_assert_msg(c2d_json_depth(j) == depthcases[_i].depth, "depth(%s) is %d, want %d",
			depthcases[_i].json, c2d_json_depth(j), depthcases[_i].depth);
	cJSON_Delete(j);
}
END_TEST

START_TEST(test_depth_null)
{
	ck_assert_int_eq(c2d_json_depth(NULL), 0);
}
END_TEST

/* ---- equality ---- */

START_TEST(test_equal)
{
	cJSON *n1, *n2;

	/* member order does not matter, at any level */
	ck_assert(eq_text("{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}"));
	ck_assert(eq_text("{\"x\":{\"a\":[1],\"b\":{}}}", "{\"x\":{\"b\":{},\"a\":[1]}}"));
	/* array order does */
	ck_assert(!eq_text("[1,2]", "[2,1]"));
	ck_assert(!eq_text("[1,2]", "[1,2,3]"));
	ck_assert(!eq_text("[]", "[null]"));
	ck_assert(eq_text("[{\"a\":1,\"b\":2}]", "[{\"b\":2,\"a\":1}]"));
	/* types */
	ck_assert(!eq_text("\"1\"", "1"));
	ck_assert(!eq_text("0", "false"));
	ck_assert(!eq_text("null", "false"));
	ck_assert(!eq_text("[]", "{}"));
	ck_assert(!eq_text("true", "false"));
	ck_assert(!eq_text("\"\"", "null"));
	ck_assert(eq_text("null", "null"));
	ck_assert(eq_text("true", "true"));
	ck_assert(eq_text("{}", "{}"));
	ck_assert(eq_text("[]", "[]"));
	/* numbers by value */
	ck_assert(eq_text("1", "1.0"));
	ck_assert(eq_text("100", "1e2"));
	ck_assert(eq_text("0", "-0"));
	ck_assert(!eq_text("1", "1.0000001"));
	/* strings */
	ck_assert(eq_text("\"\xC3\xA9\"", "\"\\u00e9\""));
	ck_assert(!eq_text("\"a\"", "\"A\""));
	ck_assert(!eq_text("\"ab\"", "\"a\""));
	/* members */
	ck_assert(!eq_text("{\"a\":1}", "{\"a\":1,\"b\":2}"));
	ck_assert(!eq_text("{\"a\":1}", "{\"b\":1}"));
	ck_assert(!eq_text("{\"a\":1}", "{\"A\":1}"));
	ck_assert(!eq_text("{\"a\":null}", "{}"));
	ck_assert(!eq_text("{\"a\":{}}", "{}"));
	ck_assert(!eq_text("{\"a\":{\"b\":1}}", "{\"a\":{\"b\":2}}"));
	/* duplicate names cannot fake equality */
	ck_assert(!eq_text("{\"a\":1,\"a\":1}", "{\"a\":1,\"b\":2}"));
	/* NULL */
	n1 = cJSON_CreateNull();
	n2 = cJSON_CreateNull();
	ck_assert(c2d_json_equal(n1, n2));
	ck_assert(c2d_json_equal(n1, n1));
	ck_assert(c2d_json_equal(NULL, NULL));
	ck_assert(!c2d_json_equal(NULL, n1));
	ck_assert(!c2d_json_equal(n1, NULL));
	cJSON_Delete(n1);
	cJSON_Delete(n2);
}
END_TEST

static Suite *mpatch_suite(void)
{
	Suite *s = suite_create("mpatch");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_rfc_vectors);
	tcase_add_test(tc, test_apply_more);
	tcase_add_test(tc, test_apply_null_inputs);
	tcase_add_test(tc, test_apply_independent);
	tcase_add_loop_test(tc, test_diff_table, 0, DCASE_COUNT);
	tcase_add_test(tc, test_diff_null_inputs);
	tcase_add_test(tc, test_diff_generated);
	tcase_add_loop_test(tc, test_depth, 0, (int)(sizeof(depthcases) / sizeof(depthcases[0])));
	tcase_add_test(tc, test_depth_null);
	tcase_add_test(tc, test_equal);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return c2d_check_run(mpatch_suite());
}
