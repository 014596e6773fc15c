/* Shared by the libFuzzer targets (test/fuzz/fuzz_*.c, built by mk/fuzz.mk).
 * FUZZ_ASSERT aborts with the failed condition, so libFuzzer saves the input
 * as a crash artifact. */
#ifndef C2D_FUZZ_H
#define C2D_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_ASSERT(cond) \
	do{ \
		if(!(cond)){ \
			fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
			abort(); \
		} \
	}while(0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated heap copy of data[0..size) (caller frees). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if(s == NULL) abort();
	if(size) memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif
