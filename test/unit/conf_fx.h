/* The fixture of the conf suites (test_conf*.c): the parsed conf (freed by
 * teardown, the suites' checked fixture), its error buffer, a parse of
 * db_path=/tmp/c2d plus given options, and expectations of success and of
 * failure with an exact message. Header-only, static inline: each suite is
 * its own binary with its own copy of the state. */
#ifndef C2D_CONF_FX_H
#define C2D_CONF_FX_H

#include <check.h>
#include <string.h>

#include "c2d_conf.h"
#include "c2d_err.h"

#define MAXOPTS 16

static struct c2d_conf conf;
static char err[256];

/* Parse db_path=/tmp/c2d plus the given key/value pairs (NULL-terminated
 * list). Returns what c2d_conf_parse returned. */
static inline int parse_with_path(const char *const *kv)
{
	struct c2d_opt opts[MAXOPTS];
	int n = 0;

	opts[n].key = "db_path";
	opts[n++].value = "/tmp/c2d";
	for(; kv && kv[0]; kv += 2){
		ck_assert_int_lt(n, MAXOPTS);
		opts[n].key = kv[0];
		opts[n++].value = kv[1];
	}
	memset(err, 'x', sizeof(err));
	err[sizeof(err) - 1] = '\0';
	return c2d_conf_parse(&conf, opts, n, err, sizeof(err));
}

/* Expect failure with exactly this message; conf must be back to defaults. */
static inline void expect_err(const char *const *kv, const char *msg)
{
	struct c2d_conf def;

	ck_assert_int_eq(parse_with_path(kv), C2D_EINVAL);
	ck_assert_str_eq(err, msg);
	ck_assert_ptr_null(conf.db_path);
	c2d_conf_defaults(&def);
	ck_assert(memcmp(&conf, &def, sizeof(def)) == 0);
}

static inline void expect_ok(const char *const *kv)
{
	int rc = parse_with_path(kv);

	ck_assert_msg(rc == 0, "rc %d: %s", rc, err);
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(conf.db_path, "/tmp/c2d");
}

static inline void teardown(void)
{
	c2d_conf_free(&conf);
}

#endif
