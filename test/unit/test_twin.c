/* Twin documents (twin_doc.c): versions, limits, metadata, delta, catch-up. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "c2d_err.h"
#include "c2d_mpatch.h"
#include "c2d_twin.h"
#include "../check_main.h"

static const struct c2d_twin_limits limits = {32768, 10};
static const char *const T1 = "2026-11-23T10:00:00.000Z";
static const char *const T2 = "2026-11-23T11:00:00.000Z";

static cJSON *J(const char *text)
{
	cJSON *j = cJSON_Parse(text);
	ck_assert_msg(j != NULL, "bad test JSON: %s", text);
	return j;
}

static void assert_json(const cJSON *got, const char *want)
{
	cJSON *w = J(want);
	char *g = cJSON_PrintUnformatted(got);
	ck_assert_msg(c2d_json_equal(got, w), "got %s, want %s", g, want);
	cJSON_free(g);
	cJSON_Delete(w);
}

/* Apply a patch text; returns the status (0 ok). */
static int patch(struct c2d_twin *tw, enum c2d_twin_section s, const char *text, const char *now)
{
	char why[200];
	cJSON *p = J(text), *applied = NULL;
	int rc = c2d_twin_apply(tw, s, p, &limits, now, &applied, why, sizeof(why));

	cJSON_Delete(p);
	cJSON_Delete(applied);
	ck_assert_msg(rc == 0 || why[0], "status %d without a reason", rc);
	return rc;
}

/* Acknowledge what a push delivered, as a device would. */
static void deliver_and_ack(struct c2d_twin *tw)
{
	int err;
	cJSON *msg = c2d_twin_push(tw, &err);

	ck_assert_ptr_nonnull(msg);
	ck_assert(c2d_twin_acked(tw, (uint64_t)cJSON_GetObjectItem(msg, "version")->valuedouble));
	cJSON_Delete(msg);
}

START_TEST(versions_and_apply)
{
	struct c2d_twin tw;
	ck_assert_int_eq(c2d_twin_init(&tw), 0);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"a\":1,\"b\":{\"c\":2}}", T1), 0);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"b\":{\"c\":null,\"d\":3}}", T1), 0);
	ck_assert_uint_eq(tw.version[C2D_TWIN_DESIRED], 2);
	ck_assert_uint_eq(tw.version[C2D_TWIN_REPORTED], 0);
	assert_json(tw.doc[C2D_TWIN_DESIRED], "{\"a\":1,\"b\":{\"d\":3}}");
	ck_assert_int_eq(patch(&tw, C2D_TWIN_REPORTED, "{\"x\":true}", T1), 0);
	ck_assert_uint_eq(tw.version[C2D_TWIN_REPORTED], 1);
	c2d_twin_free(&tw);
}
END_TEST

START_TEST(version_precondition)
{
	struct c2d_twin tw;
	ck_assert_int_eq(c2d_twin_init(&tw), 0);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"$version\":0,\"a\":1}", T1), 0);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"$version\":0,\"a\":2}", T1), 409);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"$version\":1,\"a\":2}", T1), 0);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"$version\":-1}", T1), 400);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"$version\":1.5}", T1), 400);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"$version\":\"2\"}", T1), 400);
	/* a second "$version" would survive into the document (found by fuzzing) */
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"$version\":2,\"$version\":2,\"a\":3}", T1), 400);
	assert_json(tw.doc[C2D_TWIN_DESIRED], "{\"a\":2}");
	ck_assert_uint_eq(tw.version[C2D_TWIN_DESIRED], 2);
	c2d_twin_free(&tw);
}
END_TEST

START_TEST(bad_patches_change_nothing)
{
	struct c2d_twin tw;
	struct c2d_twin_limits small = {40, 3};
	char why[200];
	cJSON *p, *applied = NULL;

	ck_assert_int_eq(c2d_twin_init(&tw), 0);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"a\":1}", T1), 0);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "[1]", T1), 400);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "\"x\"", T1), 400);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "null", T1), 400);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"$x\":1}", T1), 400);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"a\":{\"$metadata\":1}}", T1), 400);

	p = J("{\"long\":\"0123456789012345678901234567890123456789\"}");
	ck_assert_int_eq(c2d_twin_apply(&tw, C2D_TWIN_DESIRED, p, &small, T1, &applied, why, sizeof(why)), 413);
	ck_assert_ptr_null(applied);
	ck_assert_ptr_nonnull(strstr(why, "twin_max_bytes"));
	cJSON_Delete(p);
	p = J("{\"a\":{\"b\":{\"c\":{}}}}");
	ck_assert_int_eq(c2d_twin_apply(&tw, C2D_TWIN_DESIRED, p, &small, T1, &applied, why, sizeof(why)), 400);
	ck_assert_ptr_nonnull(strstr(why, "twin_max_depth"));
	cJSON_Delete(p);
	p = J("{\"a\":{\"b\":{}}}");
	ck_assert_int_eq(c2d_twin_apply(&tw, C2D_TWIN_DESIRED, p, &small, T1, &applied, why, sizeof(why)), 0);
	cJSON_Delete(p);
	cJSON_Delete(applied);

	assert_json(tw.doc[C2D_TWIN_DESIRED], "{\"a\":{\"b\":{}}}");
	ck_assert_uint_eq(tw.version[C2D_TWIN_DESIRED], 2);
	c2d_twin_free(&tw);
}
END_TEST

/* A patch that leaves the section as it is changes nothing: no version, no
 * metadata time, no applied patch (a QoS 2 retransmission, a periodic
 * identical report). The same patch after a real change applies again. */
START_TEST(unchanging_patch_no_version)
{
	struct c2d_twin tw;
	char why[200], *before, *after;
	cJSON *p, *applied = NULL;

	ck_assert_int_eq(c2d_twin_init(&tw), 0);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"a\":1,\"b\":{\"c\":[1,2]}}", T1), 0);
	before = cJSON_PrintUnformatted(tw.meta[C2D_TWIN_DESIRED]);
	p = J("{\"b\":{\"c\":[1,2]},\"a\":1,\"gone\":null}");
	ck_assert_int_eq(c2d_twin_apply(&tw, C2D_TWIN_DESIRED, p, &limits, T2, &applied, why, sizeof(why)), 0);
	ck_assert_ptr_null(applied);
	cJSON_Delete(p);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{}", T2), 0);
	ck_assert_uint_eq(tw.version[C2D_TWIN_DESIRED], 1);
	after = cJSON_PrintUnformatted(tw.meta[C2D_TWIN_DESIRED]);
	ck_assert_str_eq(after, before);
	cJSON_free(before);
	cJSON_free(after);
	/* a precondition is still checked first */
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"$version\":0,\"a\":1}", T2), 409);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"a\":2}", T2), 0);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"a\":1}", T2), 0);
	ck_assert_uint_eq(tw.version[C2D_TWIN_DESIRED], 3);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_REPORTED, "{\"x\":1}", T1), 0);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_REPORTED, "{\"x\":1}", T2), 0);
	ck_assert_uint_eq(tw.version[C2D_TWIN_REPORTED], 1);
	c2d_twin_free(&tw);
}
END_TEST

START_TEST(metadata)
{
	struct c2d_twin tw;
	ck_assert_int_eq(c2d_twin_init(&tw), 0);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"a\":1,\"b\":{\"c\":2,\"d\":3}}", T1), 0);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"a\":null,\"b\":{\"d\":4}}", T2), 0);
	assert_json(tw.meta[C2D_TWIN_DESIRED],
			"{\"b\":{\"$lastUpdated\":\"2026-11-23T11:00:00.000Z\","
			"\"c\":{\"$lastUpdated\":\"2026-11-23T10:00:00.000Z\"},"
			"\"d\":{\"$lastUpdated\":\"2026-11-23T11:00:00.000Z\"}}}");
	/* an object replaced by a scalar and back loses the nested metadata */
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"b\":5}", T1), 0);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"b\":{\"e\":1}}", T2), 0);
	assert_json(tw.meta[C2D_TWIN_DESIRED],
			"{\"b\":{\"$lastUpdated\":\"2026-11-23T11:00:00.000Z\","
			"\"e\":{\"$lastUpdated\":\"2026-11-23T11:00:00.000Z\"}}}");
	c2d_twin_free(&tw);
}
END_TEST

START_TEST(delta_and_full)
{
	struct c2d_twin tw;
	cJSON *full;

	ck_assert_int_eq(c2d_twin_init(&tw), 0);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"a\":1,\"b\":{\"c\":2,\"d\":3},\"e\":[1]}", T1), 0);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_REPORTED, "{\"a\":1,\"b\":{\"c\":2,\"d\":4},\"e\":[2],\"z\":0}", T1), 0);
	full = c2d_twin_full(&tw, false);
	ck_assert_ptr_nonnull(full);
	assert_json(cJSON_GetObjectItem(full, "delta"), "{\"b\":{\"d\":3},\"e\":[1]}");
	assert_json(cJSON_GetObjectItem(full, "version"), "{\"desired\":1,\"reported\":1}");
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(cJSON_GetObjectItem(full, "$metadata"), "reported"));
	ck_assert_ptr_null(cJSON_GetObjectItem(full, "tags"));
	cJSON_Delete(full);
	/* tags: a section of their own, in the applications' view only */
	ck_assert_int_eq(patch(&tw, C2D_TWIN_TAGS, "{\"site\":\"berlin\"}", T1), 0);
	full = c2d_twin_full(&tw, true);
	ck_assert_ptr_nonnull(full);
	assert_json(cJSON_GetObjectItem(full, "tags"), "{\"site\":\"berlin\"}");
	assert_json(cJSON_GetObjectItem(full, "version"), "{\"desired\":1,\"reported\":1,\"tags\":1}");
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(cJSON_GetObjectItem(full, "$metadata"), "tags"));
	cJSON_Delete(full);
	c2d_twin_free(&tw);
}
END_TEST

/* The contract's catch-up: acked v1, three patches offline (one deleting a
 * key) -> one merged patch from the acked document to the current one. */
START_TEST(catch_up_is_one_merged_patch)
{
	struct c2d_twin tw;
	cJSON *msg;
	int err;

	ck_assert_int_eq(c2d_twin_init(&tw), 0);
	ck_assert_ptr_null(c2d_twin_push(&tw, &err)); /* nothing ever set */
	ck_assert_int_eq(err, 0);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"a\":1,\"b\":2,\"n\":{\"x\":1,\"y\":2}}", T1), 0);
	msg = c2d_twin_push(&tw, &err); /* first time: the whole document */
	assert_json(msg, "{\"version\":1,\"desired\":{\"a\":1,\"b\":2,\"n\":{\"x\":1,\"y\":2}},\"full\":true}");
	cJSON_Delete(msg);
	ck_assert(c2d_twin_acked(&tw, 1));
	ck_assert_ptr_null(c2d_twin_push(&tw, &err)); /* acknowledged: nothing */

	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"a\":10}", T1), 0);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"b\":null,\"n\":{\"y\":null}}", T1), 0);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"c\":3,\"a\":11}", T1), 0);
	msg = c2d_twin_push(&tw, &err);
	assert_json(msg, "{\"version\":4,\"desired\":{\"a\":11,\"b\":null,\"c\":3,\"n\":{\"y\":null}},\"full\":false}");
	cJSON_Delete(msg);
	ck_assert(c2d_twin_acked(&tw, 4));
	ck_assert_ptr_null(c2d_twin_push(&tw, &err));
	c2d_twin_free(&tw);
}
END_TEST

/* A push after the acknowledged one may have been applied: a patch from the
 * acked document would be wrong (a -> 2 -> 1 would leave 2), so send full. */
START_TEST(unacked_push_forces_full)
{
	struct c2d_twin tw;
	cJSON *msg;
	int err;

	ck_assert_int_eq(c2d_twin_init(&tw), 0);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"a\":1}", T1), 0);
	deliver_and_ack(&tw);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"a\":2}", T1), 0);
	msg = c2d_twin_push(&tw, &err);
	assert_json(msg, "{\"version\":2,\"desired\":{\"a\":2},\"full\":false}");
	cJSON_Delete(msg);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"a\":1}", T1), 0);
	msg = c2d_twin_push(&tw, &err);
	assert_json(msg, "{\"version\":3,\"desired\":{\"a\":1},\"full\":true}");
	cJSON_Delete(msg);
	ck_assert(!c2d_twin_acked(&tw, 2)); /* stale ack: superseded */
	ck_assert(c2d_twin_acked(&tw, 3));
	ck_assert(!c2d_twin_acked(&tw, 3)); /* twice: no change */
	c2d_twin_free(&tw);
}
END_TEST

START_TEST(dump_and_load)
{
	struct c2d_twin tw, back;
	char *text, *again;

	ck_assert_int_eq(c2d_twin_init(&tw), 0);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_DESIRED, "{\"a\":{\"b\":[1,2]}}", T1), 0);
	deliver_and_ack(&tw);
	ck_assert_int_eq(patch(&tw, C2D_TWIN_REPORTED, "{\"r\":\"x\"}", T2), 0);
	text = c2d_twin_dump(&tw);
	ck_assert_ptr_nonnull(text);
	ck_assert_int_eq(c2d_twin_load(&back, text, strlen(text)), 0);
	again = c2d_twin_dump(&back);
	ck_assert_str_eq(text, again);
	ck_assert(back.has_ack);
	ck_assert_uint_eq(back.ack, 1);
	ck_assert_uint_eq(back.sent, 1);
	cJSON_free(text);
	cJSON_free(again);
	c2d_twin_free(&back);
	c2d_twin_free(&tw);
}
END_TEST

/* A record written before tags existed loads with empty tags at version 0. */
START_TEST(load_before_tags)
{
	static const char old[] = "{\"desired\":{\"a\":1},\"reported\":{},\"dv\":1,\"rv\":0,"
		"\"meta\":{\"desired\":{\"a\":{\"$lastUpdated\":\"2026-11-01T00:00:00.000Z\"}},\"reported\":{}},\"sent\":1}";
	struct c2d_twin tw;

	ck_assert_int_eq(c2d_twin_load(&tw, old, strlen(old)), 0);
	ck_assert_uint_eq(tw.version[C2D_TWIN_TAGS], 0);
	ck_assert_ptr_nonnull(tw.doc[C2D_TWIN_TAGS]);
	ck_assert_ptr_null(tw.doc[C2D_TWIN_TAGS]->child);
	ck_assert_uint_eq(tw.version[C2D_TWIN_DESIRED], 1);
	c2d_twin_free(&tw);
}
END_TEST

START_TEST(load_damaged)
{
	static const char *const bad[] = {"", "x", "[]", "{}", "{\"desired\":{},\"reported\":{}}",
		"{\"desired\":[],\"reported\":{},\"dv\":0,\"rv\":0,\"sent\":0}",
		"{\"desired\":{},\"reported\":{},\"dv\":-1,\"rv\":0,\"sent\":0}",
		"{\"desired\":{},\"reported\":{},\"dv\":0,\"rv\":0,\"sent\":0,\"ack\":1}",
		"{\"desired\":{},\"reported\":{},\"dv\":0,\"rv\":0,\"sent\":0,\"tags\":[]}",
		"{\"desired\":{},\"reported\":{},\"dv\":0,\"rv\":0,\"sent\":0,\"tags\":{}}",
		"{\"desired\":{},\"reported\":{},\"dv\":0,\"rv\":0,\"sent\":0,\"tv\":1}"};
	struct c2d_twin tw;
	size_t i;

	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		ck_assert_int_eq(c2d_twin_load(&tw, bad[i], strlen(bad[i])), C2D_EINVAL);
		ck_assert_ptr_nonnull(tw.doc[0]); /* left empty-initialised */
		c2d_twin_free(&tw);
	}
}
END_TEST

/* The measured size of a section is exactly what cJSON prints, for every
 * kind of value: numbers that print as integers, with 15 or 17 digits, not
 * finite; strings with every escape; nesting; empty containers. */
START_TEST(json_size_is_the_printed_size)
{
	static const char *const docs[] = {
		"{}", "[]", "{\"a\":null,\"b\":true,\"c\":false}", "{\"n\":[0,-0.0,1,-1,2147483647,-2147483648,2147483648]}",
		"{\"f\":[0.1,1.5,3.141592653589793,1e300,-2.5e-300,123456789012345678,0.30000000000000004]}",
		"{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u0001\\u001f\\u00e9\\u20ac x\"}", "{\"\\n\\u0002k\":{\"x\":{\"y\":[[],{},\"\"]}}}",
		"[1,[2,[3,[4]]],{\"a\":{\"b\":{\"c\":\"d\"}}}]", "\"plain\"", "12.75",
	};
	size_t i;
	cJSON *j;
	char *text;

	for(i = 0; i < sizeof(docs) / sizeof(docs[0]); i++){
		j = cJSON_Parse(docs[i]);
		ck_assert_msg(j != NULL, "%s", docs[i]);
		text = cJSON_PrintUnformatted(j);
		ck_assert_uint_eq(c2d_twin_json_size(j), strlen(text));
		cJSON_free(text);
		cJSON_Delete(j);
	}
	j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "inf", 1.0 / 0.0);
	cJSON_AddNumberToObject(j, "third", 1.0 / 3.0);
	cJSON_AddStringToObject(j, "ctl", "\x01\x7f\xff");
	text = cJSON_PrintUnformatted(j);
	ck_assert_uint_eq(c2d_twin_json_size(j), strlen(text));
	cJSON_free(text);
	cJSON_Delete(j);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("twin");
	TCase *tc = tcase_create("doc");

	tcase_add_test(tc, versions_and_apply);
	tcase_add_test(tc, version_precondition);
	tcase_add_test(tc, bad_patches_change_nothing);
	tcase_add_test(tc, unchanging_patch_no_version);
	tcase_add_test(tc, metadata);
	tcase_add_test(tc, delta_and_full);
	tcase_add_test(tc, catch_up_is_one_merged_patch);
	tcase_add_test(tc, unacked_push_forces_full);
	tcase_add_test(tc, dump_and_load);
	tcase_add_test(tc, load_damaged);
	tcase_add_test(tc, load_before_tags);
	tcase_add_test(tc, json_size_is_the_printed_size);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
