/* JSON text from clients (json.c). Pure: cJSON only. */
#ifndef C2D_JSON_H
#define C2D_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* Length of the well-formed UTF-8 sequence at s[0..avail) (avail >= 1), or
 * 0 if it is malformed: truncated, a stray continuation byte, an overlong
 * form, a surrogate (U+D800..U+DFFF) or beyond U+10FFFF (RFC 3629). */
size_t c2d_utf8_seq(const unsigned char *s, size_t avail);

/* True if buf (len bytes, borrowed) is well-formed UTF-8 (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF) without NUL. Any
 * length; control characters are left to the JSON grammar. */
bool c2d_utf8_valid(const void *buf, size_t len);

/* Parse a whole JSON text (RFC 8259) of len bytes (borrowed, need not be
 * NUL-terminated): any value, any white space (CR, LF, tab), nothing after
 * the value but white space, every number finite as a double (1e999 is
 * refused, never stored as null). Returns the document (caller owns,
 * cJSON_Delete), or NULL with a one-line reason in why ("payload is not
 * valid JSON", ...); *nomem is set when NULL is due to memory. */
cJSON *c2d_json_parse(const void *buf, size_t len, bool *nomem, char *why, size_t whylen);

#endif
