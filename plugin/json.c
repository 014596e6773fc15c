/* JSON text from clients: UTF-8 checked here (mosquitto_validate_utf8 is
 * the MQTT rule for topics: it refuses control characters, so CR, LF and
 * tab of a pretty-printed document, and anything over 64 KiB), raw control
 * characters inside strings refused (cJSON would take them), then parsed
 * whole by cJSON, then numbers checked (cJSON turns 1e999 into infinity,
 * which it would print as null). Pure: no broker, no LMDB. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c2d_json.h"

size_t c2d_utf8_seq(const unsigned char *s, size_t avail)
{
	static const unsigned long min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
	unsigned long cp;
	size_t n, i;

	if(s[0] < 0x80) return 1;
	if((s[0] & 0xE0) == 0xC0){
		n = 2;
	}else if((s[0] & 0xF0) == 0xE0){
		n = 3;
	}else if((s[0] & 0xF8) == 0xF0){
		n = 4;
	}else{
		return 0; /* a continuation byte, or 0xF8..0xFF */
	}
	if(avail < n) return 0;
	cp = s[0] & (0x7F >> n);
	for(i = 1; i < n; i++){
		if((s[i] & 0xC0) != 0x80) return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if(cp < min_cp[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
	return n;
}

bool c2d_utf8_valid(const void *buf, size_t len)
{
	const unsigned char *s = buf;
	size_t i, n;

	for(i = 0; i < len; i += n){
		if(s[i] == 0) return false;
		n = c2d_utf8_seq(s + i, len - i);
		if(n == 0) return false;
	}
	return true;
}

/* RFC 8259 section 7: control characters inside strings must be escaped
 * (cJSON takes them raw). s: NUL-terminated, borrowed. */
static bool strings_escaped(const char *s)
{
	bool in = false;

	for(; *s; s++){
		if(!in){
			in = *s == '"';
		}else if(*s == '\\'){
			if(s[1] == '\0') return false;
			s++;
		}else if(*s == '"'){
			in = false;
		}else if((unsigned char)*s < 0x20){
			return false;
		}
	}
	return true;
}

static bool all_finite(const cJSON *j)
{
	const cJSON *c;

	if(cJSON_IsNumber(j)) return isfinite(j->valuedouble);
	for(c = j ? j->child : NULL; c; c = c->next){
		if(!all_finite(c)) return false;
	}
	return true;
}

cJSON *c2d_json_parse(const void *buf, size_t len, bool *nomem, char *why, size_t whylen)
{
	char *text;
	cJSON *j;

	*nomem = false;
	if(len == 0 || !c2d_utf8_valid(buf, len)){
		snprintf(why, whylen, len ? "payload is not UTF-8" : "payload is empty: a JSON text is required");
		return NULL;
	}
	/* cJSON needs the NUL inside the length to refuse trailing bytes */
	text = malloc(len + 1);
	if(text == NULL){
		*nomem = true;
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	memcpy(text, buf, len);
	text[len] = '\0';
	j = strings_escaped(text) ? cJSON_ParseWithLengthOpts(text, len + 1, NULL, true) : NULL;
	free(text);
	if(j == NULL){
		snprintf(why, whylen, "payload is not valid JSON");
		return NULL;
	}
	if(!all_finite(j)){
		cJSON_Delete(j);
		snprintf(why, whylen, "a number is out of range (JSON numbers must fit a double)");
		return NULL;
	}
	return j;
}
