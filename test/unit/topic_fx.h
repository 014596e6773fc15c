/* The parse check of the topic suites (test_topic*.c): c2d_topic_parse into
 * a struct full of garbage, then every field against what is wanted (kind,
 * the dev/name/rid views, which must lie inside the topic, and status).
 * Header-only, static inline: each suite is its own binary. */
#ifndef C2D_TOPIC_FX_H
#define C2D_TOPIC_FX_H

#include <check.h>
#include <string.h>

#include "c2d_topic.h"

/* The view (p, len) must be NULL/0 when want is NULL, else equal want and lie
 * inside topic. */
static inline void check_view(const char *what, const char *topic, const char *p, size_t len, const char *want)
{
	if(want == NULL){
		ck_assert_msg(p == NULL && len == 0, "%s: %s should be unset", topic, what);
		return;
	}
	ck_assert_msg(p != NULL, "%s: %s unset", topic, what);
	ck_assert_msg(len == strlen(want) && memcmp(p, want, len) == 0,
			"%s: %s is '%.*s', want '%s'", topic, what, (int)len, p, want);
	ck_assert_msg(p >= topic && p + len <= topic + strlen(topic), "%s: %s not a view into the topic", topic, what);
}

/* Parse topic into a struct full of garbage and check every field. */
static inline void check_parse(const char *topic, enum c2d_topic_kind kind, const char *dev,
		const char *name, const char *rid, int status)
{
	struct c2d_topic t;

	memset(&t, 0x5A, sizeof(t));
	ck_assert_msg(c2d_topic_parse(topic, &t) == kind, "%.200s: kind %s, want %s", topic,
			c2d_topic_kind_name(t.kind), c2d_topic_kind_name(kind));
	ck_assert_int_eq(t.kind, kind);
	check_view("dev", topic, t.dev, t.dev_len, dev);
	check_view("name", topic, t.name, t.name_len, name);
	check_view("rid", topic, t.rid, t.rid_len, rid);
	ck_assert_msg(t.status == status, "%s: status %d, want %d", topic, t.status, status);
}

#endif
