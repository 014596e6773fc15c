/* json.c: UTF-8 rules and whole-text JSON parsing of client payloads. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "c2d_json.h"
#include "../check_main.h"

static bool utf8(const char *s, size_t len)
{
	return c2d_utf8_valid(s, len);
}

START_TEST(test_utf8)
{
	static const char big_ok[] = "\xf0\x9f\x98\x80"; /* U+1F600 */
	char *big;

	ck_assert(utf8("", 0));
	ck_assert(utf8("plain\r\n\t", 8));
	ck_assert(utf8("\xc3\xa9", 2));                 /* é */
	ck_assert(utf8("\xe2\x82\xac", 3));             /* € */
	ck_assert(utf8(big_ok, 4));
	ck_assert(utf8("\xf4\x8f\xbf\xbf", 4));         /* U+10FFFF */
	ck_assert(!utf8("a\0b", 3));                    /* NUL */
	ck_assert(!utf8("\xc0\xaf", 2));                /* overlong '/' */
	ck_assert(!utf8("\xe0\x80\xaf", 3));            /* overlong */
	ck_assert(!utf8("\xed\xa0\x80", 3));            /* surrogate D800 */
	ck_assert(!utf8("\xf4\x90\x80\x80", 4));        /* above U+10FFFF */
	ck_assert(!utf8("\xc3", 1));                    /* truncated */
	ck_assert(!utf8("\xe2\x82", 2));
	ck_assert(!utf8("\x80", 1));                    /* lone continuation */
	ck_assert(!utf8("\xff", 1));
	ck_assert(!utf8("\xc3\x28", 2));                /* bad continuation */
	/* no 64 KiB limit */
	big = malloc(200000);
	ck_assert_ptr_nonnull(big);
	memset(big, 'a', 200000);
	ck_assert(utf8(big, 200000));
	free(big);
}
END_TEST

static cJSON *parse(const char *s, char *why)
{
	bool nomem = true;
	cJSON *j = c2d_json_parse(s, strlen(s), &nomem, why, 96);

	ck_assert(!nomem);
	return j;
}

START_TEST(test_parse_ok)
{
	static const char *const good[] = {"{}", "{\r\n\t\"a\": 1,\n  \"b\": [1, 2]\r\n}\n", " 3 ", "\"x\"",
		"null", "[1e308, -1e308, 5e-324]", "{\"s\":\"\\u00e9\\n\"}"};
	char why[96];
	size_t i;
	cJSON *j;

	for(i = 0; i < sizeof(good) / sizeof(good[0]); i++){
		j = parse(good[i], why);
		ck_assert_msg(j != NULL, "%s: %s", good[i], why);
		cJSON_Delete(j);
	}
}
END_TEST

START_TEST(test_parse_bad)
{
	static const struct {
		const char *text;
		const char *why;
	} bad[] = {
		{"{\"a\":1} x", "payload is not valid JSON"},
		{"{\"a\":1}{}", "payload is not valid JSON"},
		{"{\"a\":\"line\nbreak\"}", "payload is not valid JSON"},
		{"{\"a\":", "payload is not valid JSON"},
		{"{\"a\":1e999}", "a number is out of range (JSON numbers must fit a double)"},
		{"[-1e400]", "a number is out of range (JSON numbers must fit a double)"},
		{"{\"a\":{\"b\":[1,2,1e999]}}", "a number is out of range (JSON numbers must fit a double)"},
		{"{\"a\":\"\xc3\"}", "payload is not UTF-8"},
		{"", "payload is empty: a JSON text is required"},
	};
	char why[96];
	size_t i;

	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++){
		ck_assert_msg(parse(bad[i].text, why) == NULL, "accepted %s", bad[i].text);
		ck_assert_str_eq(why, bad[i].why);
	}
	/* a NUL inside the length ends nothing: refused */
	{
		bool nomem;
		ck_assert_ptr_null(c2d_json_parse("{}\0{}", 5, &nomem, why, sizeof(why)));
		ck_assert_str_eq(why, "payload is not UTF-8");
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_utf8);
	tcase_add_test(tc, test_parse_ok);
	tcase_add_test(tc, test_parse_bad);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
