/* Logging: the one place that talks to the broker's log (plugin/log.c).
 * Unit tests link test/unit/log_stderr.c instead, which prints to stderr.
 *
 * c2d_log is a macro: a line above c2d_log_max (plugin_opt_log_level) is
 * neither formatted nor are its arguments evaluated. */
#ifndef C2D_LOG_H
#define C2D_LOG_H

#define C2D_LOG_ERR 1
#define C2D_LOG_WARN 2
#define C2D_LOG_NOTICE 3
#define C2D_LOG_INFO 4
#define C2D_LOG_DEBUG 5

/* The most verbose level written (plugin.c sets it from the options). */
extern int c2d_log_max;

void c2d_log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define c2d_log(level, ...) \
	do{ \
		if((level) <= c2d_log_max) c2d_log_write((level), __VA_ARGS__); \
	}while(0)

#endif
