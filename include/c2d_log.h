/* Logging: the one place that talks to the broker's log (plugin/log.c).
 * Unit tests link test/unit/log_stderr.c instead, which prints to stderr. */
#ifndef C2D_LOG_H
#define C2D_LOG_H

#define C2D_LOG_ERR 1
#define C2D_LOG_WARN 2
#define C2D_LOG_NOTICE 3
#define C2D_LOG_INFO 4
#define C2D_LOG_DEBUG 5

void c2d_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
