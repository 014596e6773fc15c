/* query.c: the where language of queryDevices and job targets. */
#include <check.h>
#include <string.h>

#include "c2d_query.h"
#include "../check_main.h"

static const char doc_text[] =
	"{\"device\":\"therm-7\",\"online\":true,"
	"\"tags\":{\"site\":\"berlin\",\"floor\":3,\"ring\":\"canary\",\"loc\":{\"room\":\"lab\"}},"
	"\"desired\":{\"mode\":\"eco\"},\"reported\":{\"fw\":\"2.1.0\",\"temp\":21.5},\"info\":{\"model\":\"T-2\"}}";

static bool match(const char *where_text)
{
	cJSON *where = cJSON_Parse(where_text), *doc = cJSON_Parse(doc_text);
	char why[160] = "";
	bool m;

	ck_assert_msg(where != NULL, "bad test JSON %s", where_text);
	ck_assert_msg(c2d_query_check(where, why, sizeof(why)) == 0, "%s refused: %s", where_text, why);
	m = c2d_query_match(where, doc);
	cJSON_Delete(where);
	cJSON_Delete(doc);
	return m;
}

START_TEST(test_match)
{
	static const char *const yes[] = {"{}", "{\"device\":\"therm-7\"}", "{\"online\":true}",
		"{\"tags.site\":\"berlin\",\"tags.floor\":3}", "{\"tags.loc\":{\"room\":\"lab\"}}",
		"{\"tags.loc.room\":\"lab\"}", "{\"tags.floor\":{\"$gte\":3,\"$lt\":4}}", "{\"tags.floor\":{\"$gt\":2.5}}",
		"{\"reported.fw\":{\"$prefix\":\"2.\"}}", "{\"reported.fw\":{\"$lt\":\"2.2\"}}",
		"{\"tags.ring\":{\"$in\":[\"canary\",\"beta\"]}}", "{\"tags.ring\":{\"$nin\":[\"prod\"]}}",
		"{\"tags.missing\":{\"$ne\":1}}", "{\"tags.missing\":{\"$exists\":false}}", "{\"tags.site\":{\"$exists\":true}}",
		"{\"info.model\":\"T-2\",\"desired.mode\":{\"$eq\":\"eco\"}}", "{\"reported.temp\":{\"$lte\":21.5}}",
		"{\"$or\":[{\"tags.site\":\"paris\"},{\"tags.floor\":3}]}", "{\"device\":{\"$prefix\":\"therm-\"}}"};
	static const char *const no[] = {"{\"device\":\"x\"}", "{\"online\":false}", "{\"tags.site\":\"paris\"}",
		"{\"tags.floor\":\"3\"}", "{\"tags.floor\":{\"$gt\":3}}", "{\"tags.site\":{\"$gt\":1}}",
		"{\"tags.missing\":{\"$eq\":null}}", "{\"tags.missing\":1}", "{\"tags.ring\":{\"$in\":[]}}",
		"{\"tags.site\":{\"$ne\":\"berlin\"}}", "{\"tags.floor\":{\"$prefix\":\"3\"}}",
		"{\"$or\":[{\"tags.site\":\"paris\"},{\"online\":false}]}", "{\"tags.site\":{\"$exists\":false}}",
		"{\"tags.site.x\":\"berlin\"}", "{\"tags.loc\":{\"room\":\"lab\",\"x\":1}}"};
	size_t i;

	for(i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) ck_assert_msg(match(yes[i]), "%s should match", yes[i]);
	for(i = 0; i < sizeof(no) / sizeof(no[0]); i++) ck_assert_msg(!match(no[i]), "%s should not match", no[i]);
}
END_TEST

START_TEST(test_bad)
{
	static const struct {
		const char *where;
		const char *why;
	} bad[] = {
		{"[]", "where must be an object"},
		{"{\"site\":1}", "unknown path 'site' (device, online, tags.*, desired.*, reported.*, info.*)"},
		{"{\"online.x\":1}", "unknown path 'online.x' (device, online, tags.*, desired.*, reported.*, info.*)"},
		{"{\"tags..a\":1}", "bad path 'tags..a' (empty member name or deeper than 16)"},
		{"{\"tags.a.\":1}", "bad path 'tags.a.' (empty member name or deeper than 16)"},
		{"{\"tags.a\":{\"$foo\":1}}", "unknown operator $foo in tags.a"},
		{"{\"tags.a\":{\"$eq\":1,\"b\":2}}", "'b' mixes operators and members in tags.a"},
		{"{\"tags.a\":{\"$in\":1}}", "$in in tags.a takes an array"},
		{"{\"tags.a\":{\"$exists\":1}}", "$exists in tags.a takes true or false"},
		{"{\"tags.a\":{\"$prefix\":1}}", "$prefix in tags.a takes a string"},
		{"{\"tags.a\":{\"$lt\":[1]}}", "$lt in tags.a takes a number or a string"},
		{"{\"$or\":[]}", "$or takes a non-empty array of where objects"},
		{"{\"$or\":{}}", "$or takes a non-empty array of where objects"},
		{"{\"$or\":[{\"nope\":1}]}", "unknown path 'nope' (device, online, tags.*, desired.*, reported.*, info.*)"},
	};
	char why[160];
	cJSON *w;
	size_t i;

	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		w = cJSON_Parse(bad[i].where);
		ck_assert_ptr_nonnull(w);
		ck_assert_msg(c2d_query_check(w, why, sizeof(why)) == -1, "accepted %s", bad[i].where);
		ck_assert_str_eq(why, bad[i].why);
		cJSON_Delete(w);
	}
}
END_TEST

START_TEST(test_needs)
{
	cJSON *w = cJSON_Parse("{\"device\":\"a\",\"$or\":[{\"tags.x\":1},{\"reported.y\":2}]}");

	ck_assert_uint_eq(c2d_query_needs(w), C2D_Q_NEEDS_TAGS | C2D_Q_NEEDS_TWIN);
	cJSON_Delete(w);
	w = cJSON_Parse("{\"info.m\":1,\"online\":true}");
	ck_assert_uint_eq(c2d_query_needs(w), C2D_Q_NEEDS_INFO | C2D_Q_NEEDS_ONLINE);
	cJSON_Delete(w);
	/* online inside $or (continuous jobs are evaluated at connects then) */
	w = cJSON_Parse("{\"tags.s\":1,\"$or\":[{\"online\":false},{\"device\":\"x\"}]}");
	ck_assert_uint_eq(c2d_query_needs(w), C2D_Q_NEEDS_TAGS | C2D_Q_NEEDS_ONLINE);
	cJSON_Delete(w);
	w = cJSON_Parse("{\"onlineSince\":1}"); /* not the path online (refused by the check anyway) */
	ck_assert_uint_eq(c2d_query_needs(w), 0);
	cJSON_Delete(w);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("query");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_match);
	tcase_add_test(tc, test_bad);
	tcase_add_test(tc, test_needs);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
