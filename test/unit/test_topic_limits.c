/* topic.c, limits: device id and name lengths at and around the maximum
 * (ASCII and ending in a multi-byte character), long topics and topics of
 * many levels, each classified by the parse. The parse check: topic_fx.h. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "c2d_topic.h"
#include "topic_fx.h"
#include "../check_main.h"

/* malloc'd: prefix + n copies of c + suffix. */
static char *build(const char *prefix, char c, size_t n, const char *suffix)
{
	size_t pl = strlen(prefix), sl = strlen(suffix);
	char *s = malloc(pl + n + sl + 1);

	ck_assert_ptr_nonnull(s);
	memcpy(s, prefix, pl);
	memset(s + pl, c, n);
	memcpy(s + pl + n, suffix, sl + 1);
	return s;
}

/* malloc'd: a + b + c. */
static char *join(const char *a, const char *b, const char *c)
{
	size_t al = strlen(a), bl = strlen(b), cl = strlen(c);
	char *s = malloc(al + bl + cl + 1);

	ck_assert_ptr_nonnull(s);
	memcpy(s, a, al);
	memcpy(s + al, b, bl);
	memcpy(s + al + bl, c, cl + 1);
	return s;
}

/* malloc'd: prefix + n copies of level joined by '/' + suffix. */
static char *build_levels(const char *prefix, const char *level, size_t n, const char *suffix)
{
	size_t pl = strlen(prefix), ll = strlen(level), sl = strlen(suffix), i;
	char *s = malloc(pl + n * (ll + 1) + sl + 1), *p;

	ck_assert_ptr_nonnull(s);
	p = s;
	memcpy(p, prefix, pl);
	p += pl;
	for(i = 0; i < n; i++){
		if(i) *p++ = '/';
		memcpy(p, level, ll);
		p += ll;
	}
	memcpy(p, suffix, sl + 1);
	return s;
}

/* A device id of len bytes: 'a's, ending in "\xC3\xA9" if utf8. malloc'd. */
static char *long_id(size_t len, int utf8)
{
	char *s = build("", 'a', len, "");

	if(utf8){
		s[len - 2] = '\xC3';
		s[len - 1] = '\xA9';
	}
	return s;
}

START_TEST(test_dev_length)
{
	static const size_t lens[] = {1, 127, 128, 129, 200};
	char *dev, *topic;
	size_t i;
	int utf8;

	for(i = 0; i < sizeof(lens) / sizeof(lens[0]); i++){
		for(utf8 = 0; utf8 <= (lens[i] >= 2); utf8++){
			enum c2d_topic_kind want = lens[i] <= C2D_DEV_MAX ? C2D_T_MSG : C2D_T_BAD_DEVICE;

			dev = long_id(lens[i], utf8);
			topic = join("$c2d/", dev, "/msg");
			check_parse(topic, want, dev, NULL, NULL, 0);
			free(topic);
			topic = join("$c2d/", dev, "/out/res/1/200");
			check_parse(topic, want == C2D_T_MSG ? C2D_T_OUT_RES : want, dev, "1", NULL, 200);
			free(topic);
			ck_assert(c2d_topic_valid_dev(dev, strlen(dev)) == (lens[i] <= C2D_DEV_MAX));
			free(dev);
		}
	}
}
END_TEST

START_TEST(test_name_length)
{
	static const struct {
		const char *pre, *post;
		enum c2d_topic_kind kind;
		int which; /* 0: name, 1: rid */
	} shapes[] = {
		{"$c2d/d1/rpc/", "", C2D_T_RPC, 0},
		{"$c2d/d1/callres/", "", C2D_T_CALLRES, 0},
		{"$c2d/d1/out/res/", "", C2D_T_OUT_RES, 0},
		{"$c2d/d1/out/res/", "/204", C2D_T_OUT_RES, 0},
		{"$c2d/d1/out/call/", "/r", C2D_T_OUT_CALL, 0},
		{"$c2d/d1/out/call/m/", "", C2D_T_OUT_CALL, 1},
	};
	static const size_t lens[] = {1, 128, 129};
	char *name, *topic;
	size_t i, j;

	for(i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++){
		for(j = 0; j < sizeof(lens) / sizeof(lens[0]); j++){
			bool ok = lens[j] <= C2D_NAME_MAX;
			const char *other = shapes[i].kind == C2D_T_OUT_CALL ? (shapes[i].which ? "m" : "r") : NULL;

			name = long_id(lens[j], lens[j] >= 2);
			topic = join(shapes[i].pre, name, shapes[i].post);
			if(!ok){
				check_parse(topic, C2D_T_INVALID, NULL, NULL, NULL, 0);
			}else if(shapes[i].which){
				check_parse(topic, shapes[i].kind, "d1", other, name, 0);
			}else{
				check_parse(topic, shapes[i].kind, "d1", name, other,
						strcmp(shapes[i].post, "/204") == 0 ? 204 : 0);
			}
			ck_assert(c2d_topic_valid_name(name, strlen(name)) == ok);
			free(topic);
			free(name);
		}
	}
}
END_TEST

#define BIG (64 * 1024)

START_TEST(test_long_topics)
{
	char *t, *dev;

	t = build("$c2d/d1/in/", 'a', BIG, "");
	check_parse(t, C2D_T_IN, "d1", NULL, NULL, 0);
	free(t);
	t = build("$c2d/d1/events/", 'a', BIG, "");
	check_parse(t, C2D_T_EVENTS, "d1", NULL, NULL, 0);
	free(t);
	t = build("$c2d/d1/rpc/", 'a', BIG, "");
	check_parse(t, C2D_T_INVALID, NULL, NULL, NULL, 0);
	free(t);
	t = build("$c2d/d1/out/res/", 'a', BIG, "/200");
	check_parse(t, C2D_T_INVALID, NULL, NULL, NULL, 0);
	free(t);
	t = build("$c2d/d1/out/call/m/", 'a', BIG, "");
	check_parse(t, C2D_T_INVALID, NULL, NULL, NULL, 0);
	free(t);
	t = build("$c2d/", 'a', BIG, "/msg");
	dev = build("", 'a', BIG, "");
	check_parse(t, C2D_T_BAD_DEVICE, dev, NULL, NULL, 0);
	free(dev);
	free(t);
	t = build("$c2d/", 'a', BIG, "");
	check_parse(t, C2D_T_INVALID, NULL, NULL, NULL, 0);
	free(t);
	t = build("$c2d/d1/in/", '/', BIG, "");
	check_parse(t, C2D_T_INVALID, NULL, NULL, NULL, 0);
	free(t);
	t = build("$c2d/", '/', BIG, "");
	check_parse(t, C2D_T_INVALID, NULL, NULL, NULL, 0);
	free(t);
	t = build("sensors/", 'a', BIG, "");
	check_parse(t, C2D_T_OTHER, NULL, NULL, NULL, 0);
	free(t);
	t = build("$c2d/d1/twin/", 'a', BIG, "");
	check_parse(t, C2D_T_INVALID, NULL, NULL, NULL, 0);
	free(t);
}
END_TEST

START_TEST(test_many_levels)
{
	static const struct {
		const char *pre, *post;
		enum c2d_topic_kind kind;
	} cases[] = {
		{"$c2d/d1/in/", "", C2D_T_IN},
		{"$c2d/d1/events/", "", C2D_T_EVENTS},
		{"$c2d/d1/call/", "", C2D_T_CALL},
		{"$c2d/d1/in/", "/", C2D_T_INVALID},
		{"$c2d/d1/in/", "//x", C2D_T_INVALID},
		{"$c2d/d1/twin/get/", "", C2D_T_INVALID},
		{"$c2d/d1/msg/", "", C2D_T_INVALID},
		{"$c2d/d1/rpc/m/", "", C2D_T_INVALID},
		{"$c2d/d1/out/res/1/200/", "", C2D_T_INVALID},
		{"$c2d/d1/out/call/m/r/", "", C2D_T_INVALID},
		{"$c2d/d1/unknown/", "", C2D_T_INVALID},
		{"$c2d/", "", C2D_T_INVALID},
		{"a/", "", C2D_T_OTHER},
	};
	char *t;
	size_t i;

	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++){
		t = build_levels(cases[i].pre, "x", 20000, cases[i].post);
		if(cases[i].kind == C2D_T_INVALID || cases[i].kind == C2D_T_OTHER){
			check_parse(t, cases[i].kind, NULL, NULL, NULL, 0);
		}else{
			check_parse(t, cases[i].kind, "d1", NULL, NULL, 0);
		}
		free(t);
	}
}
END_TEST


static Suite *topic_limits_suite(void)
{
	Suite *s = suite_create("topic_limits");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_dev_length);
	tcase_add_test(tc, test_name_length);
	tcase_add_test(tc, test_long_topics);
	tcase_add_test(tc, test_many_levels);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return c2d_check_run(topic_limits_suite());
}
