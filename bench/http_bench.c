/* HTTP benchmark: lightweight RPC through c2d-http against the same RPC over
 * MQTT 5, in the same run, against the same broker + plugin and the same echo
 * device; then N concurrent ttd long-polls held by c2d-http (memory).
 *
 *   mqtt: app -> $c2d/bench-dev/rpc/echo -> plugin -> device -> plugin -> app
 *   http: POST /api/v1/devices/bench-dev/rpc/echo (keep-alive) -> c2d-http
 *         -> the same MQTT path -> HTTP answer
 *
 * One request in flight (closed loop). Markdown on stdout, progress on stderr.
 * Options: -n requests (2000), -w warm-up (200), -p long-polls (1000). */
#define _XOPEN_SOURCE 700


#include <errno.h>
#include <getopt.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>

#include "bench_broker.h"

#ifndef C2D_PLUGIN_PATH
#define C2D_PLUGIN_PATH "build/mosquitto_c2d.so"
#endif
#ifndef C2D_HTTP_PATH
#define C2D_HTTP_PATH "build/c2d-http"
#endif
#define WHO "http_bench"

static atomic_int replies;

static void app_on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
		const mosquitto_property *props)
{
	(void)m;
	(void)obj;
	(void)msg;
	(void)props;
	atomic_fetch_add(&replies, 1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct result {
	double rps, p50, p99;
};

static void summarize(double *lat, unsigned n, double secs, struct result *r)
{
	qsort(lat, n, sizeof(*lat), cmp_double);
	r->rps = n / secs;
	r->p50 = lat[n / 2];
	r->p99 = lat[(n * 99) / 100];
}

/* MQTT: publish, wait for the reply (spin-free: 50 us sleeps, bounded). */
static int run_mqtt(struct tclient *app, unsigned warm, unsigned n, double *lat, struct result *res)
{
	mosquitto_property *props = NULL;
	unsigned i;
	uint64_t t0 = 0, t;
	int want;

	mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, "bench/reply/app");
	mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, "c", 1);
	for(i = 0; i < warm + n; i++){
		if(i == warm) t0 = now_ns();
		want = atomic_load(&replies) + 1;
		t = now_ns();
		mosquitto_publish_v5(app->m, NULL, "$c2d/bench-dev/rpc/echo", 16, "0123456789abcdef", 1, false, props);
		while(atomic_load(&replies) < want){
			if(now_ns() - t > 10000000000ull){
				fprintf(stderr, WHO ": MQTT reply %u did not come\n", i);
				mosquitto_property_free_all(&props);
				return -1;
			}
			usleep(20);
		}
		if(i >= warm) lat[i - warm] = (double)(now_ns() - t) / 1e6;
	}
	summarize(lat, n, (double)(now_ns() - t0) / 1e9, res);
	mosquitto_property_free_all(&props);
	return 0;
}

static int tcp_connect(int port)
{
	struct sockaddr_in a;
	int s = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if(s < 0) return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if(connect(s, (struct sockaddr *)&a, sizeof(a)) != 0){
		close(s);
		return -1;
	}
	return s;
}

/* Reads one HTTP response (Content-Length bodies) from s. Returns its status or -1. */
static int read_response(int s, char *buf, size_t cap)
{
	size_t got = 0;
	char *end, *cl;
	ssize_t k;
	long body;

	for(;;){
		k = read(s, buf + got, cap - got - 1);
		if(k <= 0) return -1;
		got += (size_t)k;
		buf[got] = '\0';
		end = strstr(buf, "\r\n\r\n");
		if(end == NULL) continue;
		cl = strstr(buf, "Content-Length:");
		body = cl ? strtol(cl + 15, NULL, 10) : 0;
		if(got >= (size_t)(end + 4 - buf) + (size_t)body) break;
	}
	return atoi(buf + 9);
}

static int run_http(int port, unsigned warm, unsigned n, double *lat, struct result *res)
{
	static const char req[] = "POST /api/v1/devices/bench-dev/rpc/echo HTTP/1.1\r\nHost: b\r\n"
			"Content-Length: 16\r\n\r\n0123456789abcdef";
	char buf[4096];
	unsigned i;
	uint64_t t0 = 0, t;
	int s = tcp_connect(port), st;

	if(s < 0) return -1;
	for(i = 0; i < warm + n; i++){
		if(i == warm) t0 = now_ns();
		t = now_ns();
		if(write(s, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1) || (st = read_response(s, buf, sizeof(buf))) != 200){
			fprintf(stderr, WHO ": HTTP request %u failed: %.200s\n", i, buf);
			close(s);
			return -1;
		}
		if(i >= warm) lat[i - warm] = (double)(now_ns() - t) / 1e6;
	}
	summarize(lat, n, (double)(now_ns() - t0) / 1e9, res);
	close(s);
	return 0;
}

static long rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if(f == NULL) return -1;
	while(fgets(line, sizeof(line), f)){
		if(strncmp(line, "VmRSS:", 6) == 0) kb = strtol(line + 6, NULL, 10);
	}
	fclose(f);
	return kb;
}

/* longPolls from /healthz, or -1. */
static long held_polls(int port)
{
	static const char req[] = "GET /healthz HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n";
	char buf[2048], *p;
	int s = tcp_connect(port);
	long n = -1;

	if(s < 0) return -1;
	if(write(s, req, sizeof(req) - 1) == (ssize_t)(sizeof(req) - 1) && read_response(s, buf, sizeof(buf)) == 200
			&& (p = strstr(buf, "\"longPolls\":")) != NULL){
		n = strtol(p + 12, NULL, 10);
	}
	close(s);
	return n;
}

static pid_t start_http(int port, int mqtt_port, unsigned polls)
{
	char p[16], mp[16], mx[16], mm[16];
	pid_t pid;
	int i;

	snprintf(p, sizeof(p), "%d", port);
	snprintf(mp, sizeof(mp), "%d", mqtt_port);
	snprintf(mx, sizeof(mx), "%u", polls + 16);
	snprintf(mm, sizeof(mm), "%u", polls + 64);
	pid = fork();
	if(pid == 0){
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execl(C2D_HTTP_PATH, "c2d-http", "--port", p, "--mqtt-port", mp, "--max-polls", mx, "--max-mqtt", mm,
				(char *)NULL);
		_exit(127);
	}
	for(i = 0; i < 200; i++){
		int s = tcp_connect(port);
		if(s >= 0){
			close(s);
			return pid;
		}
		usleep(50000);
	}
	kill(pid, SIGTERM);
	return -1;
}

int main(int argc, char **argv)
{
	unsigned n = 2000, warm = 200, polls = 1000, i;
	struct broker b;
	struct tclient dev = {0}, app = {0};
	struct result mq, ht;
	double *lat;
	pid_t http;
	int hport, opt, *socks, st = 1;
	long rss0, rss1, held = -1;
	FILE *f;

	while((opt = getopt(argc, argv, "n:w:p:r:")) != -1){
		if(opt == 'n') n = (unsigned)atoi(optarg);
		else if(opt == 'w') warm = (unsigned)atoi(optarg);
		else if(opt == 'p') polls = (unsigned)atoi(optarg);
		else if(opt != 'r'){
			fprintf(stderr, "usage: http_bench [-n requests] [-w warmup] [-p long-polls]\n");
			return 2;
		}
	}
	if(n < 10) n = 10;
	lat = calloc(n, sizeof(*lat));
	socks = calloc(polls ? polls : 1, sizeof(*socks));
	mosquitto_lib_init();
	if(lat == NULL || socks == NULL || broker_prepare(&b, true, "c2d-http-bench", NULL) != 0) return 1;
	f = broker_conf_open(&b);
	if(f == NULL || broker_conf_close(&b, f, C2D_PLUGIN_PATH) != 0
			|| broker_launch(&b, "/usr/sbin/mosquitto", 10, WHO, NULL) != 0){
		broker_stop(&b);
		return 1;
	}
	hport = free_port();
	http = start_http(hport, b.port, polls);
	if(http < 0 || tclient_open(&dev, "bench-dev", b.port, NULL, 16, echo_on_message, NULL, WHO)
			|| tclient_open(&app, "bench-app", b.port, "bench/reply/app", 16, app_on_message, NULL, WHO)){
		goto out;
	}
	usleep(300000); /* the plugin confirms the device at its next tick */
	fprintf(stderr, WHO ": %u RPCs (+%u warm-up) over MQTT, then over HTTP\n", n, warm);
	if(run_mqtt(&app, warm, n, lat, &mq) || run_http(hport, warm, n, lat, &ht)) goto out;
	printf("## c2d-http: lightweight RPC, 1 in flight (%u requests, 16-byte params)\n\n", n);
	printf("| path | req/s | p50 ms | p99 ms |\n|---|---:|---:|---:|\n");
	printf("| MQTT 5 (plugin) | %.0f | %.3f | %.3f |\n", mq.rps, mq.p50, mq.p99);
	printf("| HTTP (c2d-http) | %.0f | %.3f | %.3f |\n\n", ht.rps, ht.p50, ht.p99);
	printf("HTTP/MQTT throughput %.2fx (target >= 0.5x); p50 difference %+.3f ms (target <= +0.3 ms): %s.\n\n",
			ht.rps / mq.rps, ht.p50 - mq.p50, ht.rps >= 0.5 * mq.rps && ht.p50 <= mq.p50 + 0.3 ? "met" : "NOT met");
	rss0 = rss_kb(http);
	fprintf(stderr, WHO ": opening %u long-polls (ttd 30)\n", polls);
	for(i = 0; i < polls; i++){
		char req[160];
		int k = snprintf(req, sizeof(req), "GET /api/v1/devices/lp-%u/commands/next?ttd=30 HTTP/1.1\r\nHost: b\r\n\r\n", i);
		socks[i] = tcp_connect(hport);
		if(socks[i] < 0 || write(socks[i], req, (size_t)k) != k){
			fprintf(stderr, WHO ": long-poll %u: %s\n", i, strerror(errno));
			goto out;
		}
	}
	for(i = 0; i < 600 && (held = held_polls(hport)) != (long)polls; i++) usleep(100000);
	rss1 = rss_kb(http);
	printf("## c2d-http: %u concurrent ttd long-polls\n\n", polls);
	printf("held at once: %ld of %u; c2d-http RSS %ld KiB before, %ld KiB while holding them (%.1f KiB each,"
			" each with its device's MQTT connection).\n", held, polls, rss0, rss1,
			polls ? (double)(rss1 - rss0) / polls : 0.0);
	st = held == (long)polls ? 0 : 1;
out:
	for(i = 0; i < polls; i++){
		if(socks[i] > 0) close(socks[i]);
	}
	tclient_close(&app);
	tclient_close(&dev);
	if(http > 0){
		kill(http, SIGTERM);
		waitpid(http, NULL, 0);
	}
	broker_stop(&b);
	free(lat);
	free(socks);
	mosquitto_lib_cleanup();
	return st;
}
