/* The plugin's log goes to the broker's log. Mosquitto 2.0 does not tell a
 * plugin which log types the broker writes, so the plugin has its own
 * level (plugin_opt_log_level): c2d_log (a macro, c2d_log.h) formats
 * nothing above it. */
#include <stdarg.h>
#include <stdio.h>

#include <mosquitto_broker.h>
#include <mosquitto.h>

#include "c2d_log.h"

static int broker_level(int level)
{
	switch(level){
		case C2D_LOG_ERR: return MOSQ_LOG_ERR;
		case C2D_LOG_WARN: return MOSQ_LOG_WARNING;
		case C2D_LOG_NOTICE: return MOSQ_LOG_NOTICE;
		case C2D_LOG_INFO: return MOSQ_LOG_INFO;
		default: return MOSQ_LOG_DEBUG;
	}
}

int c2d_log_max = C2D_LOG_INFO;

void c2d_log_write(int level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	mosquitto_log_printf(broker_level(level), "c2d: %s", buf);
}
