/* JSON text from clients (json.c). Pure: cJSON only. */
#ifndef C2D_JSON_H
#define C2D_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

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
