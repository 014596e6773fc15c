/* Device queries (query.c, protocol-v2 section 2). Pure: cJSON only.
 *
 * A `where` object: every key must hold (AND). A key is a path: `device`,
 * `online`, or a section (`tags`, `desired`, `reported`, `info`) followed by
 * dot-separated member names (`tags.site`, `reported.fw.major`); `$or`
 * takes a non-empty array of where objects (one must hold). A value is
 * either a JSON value (equality, objects and arrays compared whole) or an
 * object of operators: $eq $ne $in $nin $exists $lt $lte $gt $gte $prefix.
 * $ne and $nin also match a path that is absent; the order operators compare
 * numbers with numbers and strings with strings (bytes), other pairs do not
 * match; $prefix matches strings. */
#ifndef C2D_QUERY_H
#define C2D_QUERY_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* Sections a query reads (c2d_query_needs), so a caller loads only those. */
#define C2D_Q_NEEDS_TAGS 0x1
#define C2D_Q_NEEDS_TWIN 0x2  /* desired or reported */
#define C2D_Q_NEEDS_INFO 0x4
#define C2D_Q_NEEDS_ONLINE 0x8 /* reads `online`: a connect or disconnect may change the match */

/* Check a where object (borrowed). Returns 0, or -1 with a one-line reason
 * in why ("unknown operator $foo in tags.site", ...). NULL or {} matches
 * every device. */
int c2d_query_check(const cJSON *where, char *why, size_t whylen);

/* Which sections the (checked) query reads: C2D_Q_NEEDS_* bits. */
unsigned c2d_query_needs(const cJSON *where);

/* Does the device document doc (borrowed: {"device":"id","online":bool,
 * "tags":{},"desired":{},"reported":{},"info":{}}, absent sections count as
 * {}) match the checked query where (borrowed)? */
bool c2d_query_match(const cJSON *where, const cJSON *doc);

#endif
