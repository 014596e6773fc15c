/* Broker test harness: the broker's log (see harness.h).
 * Owns: the log mark (b->log_mark: the byte offset searches start from),
 * searching, counting and waiting for log lines, and the diagnostic dumps of
 * broker.log and the broker's stderr. Returned texts are caller-owned.
 */
#include "harness_int.h"

#define LOG_DIAG_TAIL 8192

void c2dh_dump_file(const char *title, const char *path, long from)
{
	char *text = c2dh_read_from(path, from, NULL);

	fprintf(stderr, DIAG "---- %s (%s) ----\n%s", title, path, text);
	if(*text && text[strlen(text) - 1] != '\n'){
		fputc('\n', stderr);
	}
	fprintf(stderr, DIAG "---- end of %s ----\n", title);
	free(text);
}

void c2d_broker_dump_log(struct c2d_broker *b)
{
	char errpath[400];

	if(!b){
		return;
	}
	snprintf(errpath, sizeof(errpath), "%s/broker.stderr", b->dir);
	c2dh_dump_file("broker.log", b->log_path, 0);
	c2dh_dump_file("broker stderr", errpath, 0);
}

void c2d_broker_log_mark(struct c2d_broker *b)
{
	if(b){
		b->log_mark = c2dh_file_size(b->log_path);
	}
}

char *c2d_broker_log_text(struct c2d_broker *b)
{
	if(!b){
		return NULL;
	}
	return c2dh_read_from(b->log_path, b->log_mark, NULL);
}

bool c2d_broker_log_contains(struct c2d_broker *b, const char *needle)
{
	char *text;
	bool found;

	if(!b || !needle){
		return false;
	}
	text = c2dh_read_from(b->log_path, b->log_mark, NULL);
	found = strstr(text, needle) != NULL;
	free(text);
	return found;
}

int c2d_broker_log_count(struct c2d_broker *b, const char *needle)
{
	char *text;
	const char *p;
	int n = 0;

	if(!b || !needle || !*needle){
		return 0;
	}
	text = c2dh_read_from(b->log_path, b->log_mark, NULL);
	for(p = strstr(text, needle); p; p = strstr(p + strlen(needle), needle)){
		n++;
	}
	free(text);
	return n;
}

bool c2d_broker_wait_log(struct c2d_broker *b, const char *needle, int timeout_ms)
{
	uint64_t end = c2d_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	bool alive = true;
	char *text;
	size_t len;

	if(!b || !needle){
		return false;
	}
	for(;;){
		if(c2d_broker_log_contains(b, needle)){
			return true;
		}
		if(!alive || c2d_now_ms() >= end){
			break;
		}
		/* if it died, look once more (its last lines) and stop */
		alive = c2d_broker_alive(b);
		if(alive){
			c2d_sleep_ms(10);
		}
	}
	text = c2dh_read_from(b->log_path, b->log_mark, &len);
	fprintf(stderr, DIAG "wait_log: \"%s\" not in the broker log after %d ms (broker %s)\n", needle,
			timeout_ms, alive ? "running" : "exited");
	fprintf(stderr, DIAG "---- broker.log since the mark%s ----\n%s\n" DIAG "---- end ----\n",
			len > LOG_DIAG_TAIL ? " (tail)" : "", len > LOG_DIAG_TAIL ? text + len - LOG_DIAG_TAIL : text);
	free(text);
	return false;
}
