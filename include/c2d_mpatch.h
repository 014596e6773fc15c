/* RFC 7396 JSON merge patch: apply and diff. Pure (cJSON only). */
#ifndef C2D_MPATCH_H
#define C2D_MPATCH_H

#include <cjson/cJSON.h>
#include <stdbool.h>

/* Apply `patch` to `target` per RFC 7396 section 2 and return the result as a
 * new document. target: borrowed, may be NULL (treated as absent/null).
 * patch: borrowed. Returns: new document owned by the caller (cJSON_Delete),
 * or NULL on out of memory. A patch that is JSON null yields a cJSON null node.
 * A NULL patch means no patch: the result is a copy of target (a null node if
 * target is NULL too). */
cJSON *c2d_mpatch_apply(const cJSON *target, const cJSON *patch);

/* Generate the merge patch that turns `from` into `to`, so that
 * c2d_mpatch_apply(from, diff) equals `to`. from, to: borrowed; both objects
 * (NULL counts as an empty object). Removed members become null; changed
 * non-object values (and arrays) are replaced whole; nested objects recurse.
 * Returns: new object owned by the caller; an empty object when nothing
 * differs; NULL on out of memory. Limitation inherent to RFC 7396: a member
 * whose value is null in `to` cannot be expressed (null means delete), so
 * callers store no null values.
 * Non-object roots: a `to` that is not an object (and not NULL) can only be
 * reached by whole replacement, so the patch is then a copy of `to` (not an
 * object); a `from` that is not an object counts as {}, as in apply. */
cJSON *c2d_mpatch_diff(const cJSON *from, const cJSON *to);

/* Nesting depth of a document: a scalar is 0, {} or [] is 1, {"a":{}} is 2.
 * j: borrowed; NULL is 0. */
int c2d_json_depth(const cJSON *j);

/* Deep equality (number, string, bool, null, array order, object members in
 * any order; numbers by value, so 1 equals 1.0). Both borrowed; NULL equals
 * only NULL, never a JSON null node. */
bool c2d_json_equal(const cJSON *a, const cJSON *b);

#endif
