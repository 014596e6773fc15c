/* Unit tests run without a broker: the plugin's log goes to stderr, and the
 * last line is kept so tests can assert that an error was logged. */
#include <stdarg.h>
#include <stdio.h>

#include "c2d_log.h"
#include "log_stderr.h"

char c2d_test_last_log[1024];
int c2d_test_log_count;

int c2d_log_max = C2D_LOG_DEBUG; /* every line counts in the unit tests */

void c2d_log_write(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c2d_test_last_log, sizeof(c2d_test_last_log), fmt, ap);
	va_end(ap);
	c2d_test_log_count++;
	if(level <= C2D_LOG_WARN){
		fprintf(stderr, "log(%d): %s\n", level, c2d_test_last_log);
	}
}
