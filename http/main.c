/* c2d-http: main, logging, start and orderly stop (SIGINT, SIGTERM). */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "http.h"

/* http/openapi.json, embedded at build time (openapi_doc.c). */
extern const char c2d_openapi_json[];
extern const size_t c2d_openapi_json_len;

struct hglobal g;

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void hlog(bool verbose, const char *fmt, ...)
{
	char ts[32];
	time_t t = time(NULL);
	struct tm tm;
	va_list ap;

	if(verbose && !g.opt.verbose) return;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s c2d-http: ", ts);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Reads a whole file. Returns: caller owns (NUL-terminated), NULL on error
 * (printed). path: borrowed. */
static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	long n;

	if(f == NULL){
		fprintf(stderr, "c2d-http: cannot read %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if(fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0){
		buf = malloc((size_t)n + 1);
		if(buf && fread(buf, 1, (size_t)n, f) == (size_t)n){
			buf[n] = '\0';
		}else{
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	if(buf == NULL) fprintf(stderr, "c2d-http: cannot read %s\n", path);
	return buf;
}

/* Long-polls and the MQTT connections beside them need many descriptors. */
static void raise_fd_limit(void)
{
	struct rlimit rl;

	if(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max){
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	char *cert = NULL, *key = NULL;
	sigset_t set;
	int rc, sig = 0;

	pthread_mutexattr_t ma;

	/* recursive: MHD may free a stream's response inside a locked handler */
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
	pthread_mutex_init(&g.lock, &ma);
	rc = opts_parse(&g.opt, argc, argv);
	if(rc != 0){
		opts_free(&g.opt);
		return rc > 0 ? 0 : 2;
	}
	if(g.opt.tls_cert){
		cert = slurp(g.opt.tls_cert);
		key = slurp(g.opt.tls_key);
		if(cert == NULL || key == NULL) return 2;
	}
	g.openapi = c2d_openapi_json;
	g.openapi_len = c2d_openapi_json_len;
	g.started_ms = now_ms();
	raise_fd_limit();
	mosquitto_lib_init();
	/* signals go to sigwait below, not to the library threads */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if(pool_start() != 0){
		fprintf(stderr, "c2d-http: cannot start the MQTT thread\n");
		return 1;
	}
	if(server_start(cert, key) != 0){
		pool_stop();
		return 1;
	}
	hlog(false, "listening on %s://%s:%d, broker %s:%d", cert ? "https" : "http", g.opt.listen_addr,
			g.opt.listen_port, g.opt.mqtt_host, g.opt.mqtt_port);
	sigwait(&set, &sig);
	hlog(false, "signal %d: stopping", sig);
	/* end every wait, let the resumed requests answer, then stop */
	pthread_mutex_lock(&g.lock);
	pool_abort_all();
	pthread_mutex_unlock(&g.lock);
	pool_wake();
	usleep(300 * 1000);
	MHD_stop_daemon(g.mhd);
	pool_stop();
	mosquitto_lib_cleanup();
	free(cert);
	free(key);
	opts_free(&g.opt);
	return 0;
}
