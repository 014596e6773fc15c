/* GET /metrics (Prometheus text exposition from the plugin's getStats and
 * c2d-http's own counters) and GET /healthz (is the broker reachable). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "http.h"
#include "route.h"

/* getStats counter names and their help text. */
static const struct {
	const char *name, *metric, *help;
} counters[] = {
	{"connects", "c2d_connects_total", "Device connections the plugin confirmed."},
	{"disconnects", "c2d_disconnects_total", "Device disconnections."},
	{"requests", "c2d_requests_total", "Requests the plugin handled (twin, msg, rpc, calls, admin)."},
	{"denied", "c2d_denied_total", "Publishes the plugin refused (0x87)."},
	{"badRequests", "c2d_bad_requests_total", "Requests answered 400."},
	{"deliveries", "c2d_deliveries_total", "Deliveries to devices."},
	{"responses", "c2d_responses_total", "Device answers received."},
	{"storeErrors", "c2d_store_errors_total", "LMDB errors."},
	{"events", "c2d_events_total", "Events published."},
	{"storeCommits", "c2d_store_commits_total", "LMDB commits."},
};

/* Appends printf text to buf (grown as needed). */
static void put(char **buf, size_t *len, size_t *cap, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void put(char **buf, size_t *len, size_t *cap, const char *fmt, ...)
{
	va_list ap;
	int n;

	for(;;){
		va_start(ap, fmt);
		n = vsnprintf(*buf ? *buf + *len : NULL, *buf ? *cap - *len : 0, fmt, ap);
		va_end(ap);
		if(n < 0) return;
		if(*buf && *len + (size_t)n < *cap){
			*len += (size_t)n;
			return;
		}
		*cap = (*len + (size_t)n) * 2 + 1024;
		*buf = realloc(*buf, *cap);
		if(*buf == NULL) return;
	}
}

static void metric(char **b, size_t *l, size_t *c, const char *name, const char *type, const char *help, double v)
{
	put(b, l, c, "# HELP %s %s\n# TYPE %s %s\n%s %.17g\n", name, help, name, type, name, v);
}

static void stats_reply(struct hreq *r, int status, const struct hmsg *m)
{
	cJSON *doc, *data = admin_data(r, status, m, &doc);
	const cJSON *cs, *st, *v;
	char *b = NULL;
	size_t l = 0, cap = 0, i;
	static const char *const cls[] = {"", "1xx", "2xx", "3xx", "4xx", "5xx"};

	if(data == NULL){
		cJSON_Delete(doc);
		req_finish(r);
		return;
	}
	v = cJSON_GetObjectItemCaseSensitive(data, "devicesOnline");
	metric(&b, &l, &cap, "c2d_devices_online", "gauge", "Devices connected now.", cJSON_IsNumber(v) ? v->valuedouble : 0);
	v = cJSON_GetObjectItemCaseSensitive(data, "twins");
	if(cJSON_IsNumber(v)) metric(&b, &l, &cap, "c2d_twins", "gauge", "Stored device twins.", v->valuedouble);
	cs = cJSON_GetObjectItemCaseSensitive(data, "counters");
	for(i = 0; i < sizeof(counters) / sizeof(counters[0]); i++){
		v = cJSON_GetObjectItemCaseSensitive(cs, counters[i].name);
		if(cJSON_IsNumber(v)) metric(&b, &l, &cap, counters[i].metric, "counter", counters[i].help, v->valuedouble);
	}
	st = cJSON_GetObjectItemCaseSensitive(data, "store");
	v = cJSON_GetObjectItemCaseSensitive(st, "usedBytes");
	if(cJSON_IsNumber(v)) metric(&b, &l, &cap, "c2d_store_used_bytes", "gauge", "LMDB bytes in use.", v->valuedouble);
	v = cJSON_GetObjectItemCaseSensitive(st, "mapBytes");
	if(cJSON_IsNumber(v)) metric(&b, &l, &cap, "c2d_store_map_bytes", "gauge", "LMDB map size.", v->valuedouble);
	cJSON_Delete(doc);
	metric(&b, &l, &cap, "c2d_http_requests_total", "counter", "HTTP requests c2d-http received.",
			(double)g.http_requests);
	put(&b, &l, &cap, "# HELP c2d_http_responses_total HTTP responses by status class.\n"
			"# TYPE c2d_http_responses_total counter\n");
	for(i = 1; i <= 5; i++) put(&b, &l, &cap, "c2d_http_responses_total{class=\"%s\"} %llu\n", cls[i],
			(unsigned long long)g.http_class[i]);
	metric(&b, &l, &cap, "c2d_http_long_polls", "gauge", "Device long-polls and SSE streams held now.", g.npolls);
	put(&b, &l, &cap, "# HELP c2d_http_mqtt_connections MQTT connections of c2d-http by kind.\n"
			"# TYPE c2d_http_mqtt_connections gauge\n"
			"c2d_http_mqtt_connections{kind=\"app\"} %d\nc2d_http_mqtt_connections{kind=\"device\"} %d\n"
			"c2d_http_mqtt_connections{kind=\"sse\"} %d\n", pool_count(HC_APP), pool_count(HC_DEVICE),
			pool_count(HC_SSE));
	metric(&b, &l, &cap, "c2d_http_uptime_seconds", "gauge", "Seconds since c2d-http started.",
			(double)(now_ms() - g.started_ms) / 1000.0);
	if(b) req_result(r, 200, b, l, "text/plain; version=0.0.4; charset=utf-8");
	else req_error(r, 500, "out of memory");
	free(b);
	req_finish(r);
}

/* True if a TCP connection to the broker opens within 1 s. */
static bool broker_reachable(void)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
	struct pollfd pfd;
	char port[16];
	int s, err = 0;
	socklen_t el = sizeof(err);
	bool ok = false;

	snprintf(port, sizeof(port), "%d", g.opt.mqtt_port);
	if(getaddrinfo(g.opt.mqtt_host, port, &hints, &ai) != 0 || ai == NULL) return false;
	s = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if(s >= 0){
		if(connect(s, ai->ai_addr, ai->ai_addrlen) == 0){
			ok = true;
		}else if(errno == EINPROGRESS){
			pfd.fd = s;
			pfd.events = POLLOUT;
			ok = poll(&pfd, 1, 1000) == 1 && getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err == 0;
		}
		close(s);
	}
	freeaddrinfo(ai);
	return ok;
}

bool metrics_route(struct hreq *r, char **seg, int n)
{
	cJSON *doc, *cmd;

	if(n != 1) return false;
	if(strcmp(seg[0], "healthz") == 0){
		if(!route_method(r, "GET")) return true;
		if(!broker_reachable()){
			req_error(r, 503, "the broker at %s:%d is not reachable", g.opt.mqtt_host, g.opt.mqtt_port);
			return true;
		}
		doc = cJSON_CreateObject();
		cJSON_AddNumberToObject(doc, "status", 200);
		cJSON_AddStringToObject(doc, "broker", "reachable");
		cJSON_AddNumberToObject(doc, "longPolls", g.npolls);
		cJSON_AddNumberToObject(doc, "mqttConnections", g.nconns);
		cJSON_AddNumberToObject(doc, "uptimeSeconds", (double)((now_ms() - g.started_ms) / 1000));
		req_json(r, 200, doc);
		return true;
	}
	if(strcmp(seg[0], "metrics") != 0) return false;
	if(!route_method(r, "GET")) return true;
	cmd = cJSON_CreateObject();
	cJSON_AddStringToObject(cmd, "command", "getStats");
	if(g.opt.metrics_user) return admin_call(r, g.opt.metrics_user, g.opt.metrics_password, cmd, stats_reply);
	return admin_call(r, r->user, r->pass, cmd, stats_reply);
}
