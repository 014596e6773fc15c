/* JSON predicates shared by the fuzz targets that build documents with
 * cJSON (fuzz_mpatch.c, fuzz_twin.c). */
#ifndef C2D_FUZZ_JSON_H
#define C2D_FUZZ_JSON_H

#include <stdbool.h>
#include <string.h>

#include <cjson/cJSON.h>

/* Any object (at any depth, also inside arrays) with two members of the
 * same name: the modules document such input as unsupported. j: borrowed. */
static inline bool has_dups(const cJSON *j)
{
	const cJSON *a, *b;

	if(!cJSON_IsObject(j) && !cJSON_IsArray(j)) return false;
	for(a = j->child; a; a = a->next){
		if(cJSON_IsObject(j)){
			for(b = a->next; b; b = b->next){
				if(strcmp(a->string, b->string) == 0) return true;
			}
		}
		if(has_dups(a)) return true;
	}
	return false;
}

/* No member of j, or of an object member of j (arrays are replaced whole,
 * so nulls inside them do not matter), is null. j: borrowed. */
static inline bool no_null_members(const cJSON *j)
{
	const cJSON *c;

	cJSON_ArrayForEach(c, j){
		if(cJSON_IsNull(c)) return false;
		if(cJSON_IsObject(c) && !no_null_members(c)) return false;
	}
	return true;
}

#endif
