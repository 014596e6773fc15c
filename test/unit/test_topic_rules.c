/* topic.c, rules: which device ids and names are valid (a table, and only
 * len bytes counting), who may write each kind of topic (c2d_topic_writer)
 * and each kind's name. */
#include <check.h>
#include <stdbool.h>
#include <stddef.h>

#include "c2d_topic.h"
#include "../check_main.h"

struct vcase {
	const char *s;
	size_t len;
	bool dev, name;
};

#define V(lit, d, n) {lit, sizeof(lit) - 1, d, n}

static const struct vcase vcases[] = {
	V("d1", true, true),
	V("a", true, true),
	V("a$", true, true),
	V("a$b", true, true),
	V("with space", true, true),
	V("-_.:;@!%&*()=~", true, true),
	V("d\xC3\xA9v", true, true),
	V("\xE2\x82\xAC", true, true),
	V("\xF0\x9F\x98\x80", true, true),
	V("\xF4\x8F\xBF\xBF", true, true),
	V("\xEF\xBF\xBF", true, true),
	V("\x7F", true, true),
	V("\x01", true, true),
	V("", false, false),
	V("$", false, false),
	V("$d", false, false),
	V("$SYS", false, false),
	V("a/b", false, false),
	V("/", false, false),
	V("a/", false, false),
	V("+", false, false),
	V("a+", false, false),
	V("#", false, false),
	V("a#b", false, false),
	V("a\0b", false, false),
	V("\0", false, false),
	V("a\0", false, false),
	V("\xC0\xAF", false, false),
	V("\xC0\x80", false, false),
	V("\xC1\xBF", false, false),
	V("\xE0\x80\xAF", false, false),
	V("\xE0\x9F\xBF", false, false),
	V("\xF0\x80\x80\xAF", false, false),
	V("\xF0\x8F\xBF\xBF", false, false),
	V("\xED\xA0\x80", false, false),
	V("\xED\xAF\xBF\xED\xB0\x80", false, false),
	V("\xED\xBF\xBF", false, false),
	V("\xF4\x90\x80\x80", false, false),
	V("\xF7\xBF\xBF\xBF", false, false),
	V("\xF8\x88\x80\x80\x80", false, false),
	V("\xFC\x84\x80\x80\x80\x80", false, false),
	V("\xFE", false, false),
	V("\xFF", false, false),
	V("\x80", false, false),
	V("a\x80", false, false),
	V("\xBF", false, false),
	V("\xC3", false, false),
	V("a\xC3", false, false),
	V("\xE2\x82", false, false),
	V("\xF0\x9F\x98", false, false),
	V("\xC3z", false, false),
	V("\xE2z\xAC", false, false),
	V("\xC3\xA9\xA9", false, false),
};

START_TEST(test_valid)
{
	const struct vcase *v = &vcases[_i];

	ck_assert_msg(c2d_topic_valid_dev(v->s, v->len) == v->dev, "valid_dev case %d", _i);
	ck_assert_msg(c2d_topic_valid_name(v->s, v->len) == v->name, "valid_name case %d", _i);
}
END_TEST

START_TEST(test_valid_len)
{
	/* only len bytes count, whatever follows */
	ck_assert(c2d_topic_valid_dev("abc$", 3));
	ck_assert(c2d_topic_valid_dev("a/b", 1));
	ck_assert(c2d_topic_valid_name("m+", 1));
	ck_assert(!c2d_topic_valid_dev("\xC3\xA9", 1));
	ck_assert(!c2d_topic_valid_name("\xF0\x9F\x98\x80", 3));
	ck_assert(!c2d_topic_valid_dev("abc", 0));
	ck_assert(!c2d_topic_valid_dev(NULL, 0));
	ck_assert(!c2d_topic_valid_name(NULL, 0));
}
END_TEST

START_TEST(test_writer)
{
	static const struct {
		enum c2d_topic_kind kind;
		enum c2d_writer w;
	} w[] = {
		{C2D_T_OTHER, C2D_W_ANY},
		{C2D_T_INVALID, C2D_W_NOBODY},
		{C2D_T_BAD_DEVICE, C2D_W_NOBODY},
		{C2D_T_TWIN_GET, C2D_W_ANY},
		{C2D_T_TWIN_DESIRED, C2D_W_ANY},
		{C2D_T_TWIN_DELETE, C2D_W_ANY},
		{C2D_T_TWIN_TAGS, C2D_W_ANY},
		{C2D_T_MSG, C2D_W_ANY},
		{C2D_T_RPC, C2D_W_ANY},
		{C2D_T_CALLRES, C2D_W_ANY},
		{C2D_T_OUT_RES, C2D_W_DEVICE},
		{C2D_T_OUT_REPORTED, C2D_W_DEVICE},
		{C2D_T_OUT_CALL, C2D_W_DEVICE},
		{C2D_T_OUT_HELLO, C2D_W_DEVICE},
		{C2D_T_OUT_GW_CONNECT, C2D_W_SELF},
		{C2D_T_OUT_GW_DISCONNECT, C2D_W_SELF},
		{C2D_T_IN, C2D_W_PLUGIN},
		{C2D_T_EVENTS, C2D_W_PLUGIN},
		{C2D_T_CALL, C2D_W_PLUGIN},
	};
	size_t i;

	ck_assert_uint_eq(sizeof(w) / sizeof(w[0]), C2D_T_CALL + 1);
	for(i = 0; i < sizeof(w) / sizeof(w[0]); i++){
		ck_assert_uint_eq(w[i].kind, i);
		ck_assert_int_eq(c2d_topic_writer(w[i].kind), w[i].w);
	}
	ck_assert_int_eq(c2d_topic_writer((enum c2d_topic_kind)(C2D_T_CALL + 1)), C2D_W_NOBODY);
	ck_assert_int_eq(c2d_topic_writer((enum c2d_topic_kind)-1), C2D_W_NOBODY);
}
END_TEST

START_TEST(test_kind_name)
{
	static const char *const want[] = {"other", "invalid", "bad-device", "twin/get",
		"twin/desired", "twin/delete", "twin/tags", "msg", "rpc", "callres", "out/res",
		"out/reported", "out/call", "out/hello", "out/gw/connect", "out/gw/disconnect", "in", "events", "call"};
	size_t i;

	ck_assert_uint_eq(sizeof(want) / sizeof(want[0]), C2D_T_CALL + 1);
	for(i = 0; i < sizeof(want) / sizeof(want[0]); i++){
		ck_assert_str_eq(c2d_topic_kind_name((enum c2d_topic_kind)i), want[i]);
	}
	ck_assert_str_eq(c2d_topic_kind_name((enum c2d_topic_kind)(C2D_T_CALL + 1)), "?");
	ck_assert_str_eq(c2d_topic_kind_name((enum c2d_topic_kind)-1), "?");
}
END_TEST

static Suite *topic_rules_suite(void)
{
	Suite *s = suite_create("topic_rules");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_valid, 0, (int)(sizeof(vcases) / sizeof(vcases[0])));
	tcase_add_test(tc, test_valid_len);
	tcase_add_test(tc, test_writer);
	tcase_add_test(tc, test_kind_name);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return c2d_check_run(topic_rules_suite());
}
