/* The HTTP side: libmicrohttpd's access handler, bodies with a size limit,
 * Basic credentials, routing, suspending requests that wait for the broker. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "http.h"
#include "route.h"

#define MAX_SEG 8

bool dev_id_ok(const char *dev)
{
	size_t n = strlen(dev);

	return n >= 1 && n <= 128 && dev[0] != '$' && strpbrk(dev, "/+#") == NULL;
}

/* Splits path (modified in place) into at most MAX_SEG segments; returns the
 * count, -1 if there are more or one is empty. */
static int split(char *path, char **seg)
{
	int n = 0;
	char *p = path;

	if(*p == '/') p++;
	if(*p == '\0') return 0;
	while(p){
		char *slash = strchr(p, '/');
		if(slash) *slash = '\0';
		if(*p == '\0' || n >= MAX_SEG) return -1;
		seg[n++] = p;
		p = slash ? slash + 1 : NULL;
	}
	return n;
}

static bool openapi_route(struct hreq *r, char **seg, int nseg)
{
	if(nseg != 3 || strcmp(seg[2], "openapi.json") != 0) return false;
	if(strcmp(r->method, "GET") != 0){
		req_header(r, "Allow", "GET");
		req_error(r, 405, "method %s not allowed here", r->method);
		return true;
	}
	req_result(r, 200, g.openapi, g.openapi_len, "application/json");
	return true;
}

/* Runs the route for r (under g.lock): r gets a result or waits. */
static void dispatch(struct hreq *r)
{
	char *path = strdup(r->url), *seg[MAX_SEG];
	int n = path ? split(path, seg) : -1;

	if(n < 0){
		req_error(r, 404, "no such path: %s", r->url);
	}else if(metrics_route(r, seg, n)){
	}else if(n >= 2 && strcmp(seg[0], "api") == 0 && strcmp(seg[1], "v1") == 0){
		if(!openapi_route(r, seg, n) && !sse_route(r, seg, n) && !device_route(r, seg, n) && !app_route(r, seg, n)){
			req_error(r, 404, "no such path: %s", r->url);
		}
	}else if(!tb_route(r, seg, n) && !static_route(r, seg, n)){
		req_error(r, 404, "no such path: %s", r->url);
	}
	free(path);
}

static void read_credentials(struct hreq *r)
{
	char *pass = NULL, *user = MHD_basic_auth_get_username_password(r->mc, &pass);

	if(user){
		r->user = strdup(user);
		r->pass = strdup(pass ? pass : "");
	}
	if(user) MHD_free(user);
	if(pass) MHD_free(pass);
}

static enum MHD_Result first_call(struct MHD_Connection *mc, const char *url, const char *method, void **con_cls)
{
	struct hreq *r = calloc(1, sizeof(*r));
	const char *cl, *auth;
	enum MHD_Result ret = MHD_YES;

	if(r == NULL) return MHD_NO;
	r->mc = mc;
	r->method = strdup(method);
	r->url = strdup(url);
	if(r->method == NULL || r->url == NULL){
		req_free(r);
		return MHD_NO;
	}
	*con_cls = r;
	read_credentials(r);
	cl = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
	auth = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
	pthread_mutex_lock(&g.lock);
	g.http_requests++;
	if(cl && strtoull(cl, NULL, 10) > (unsigned long long)g.opt.max_body){
		/* answered before the body is read; MHD then closes the connection */
		req_error(r, 413, "request body over %d bytes (max-body)", g.opt.max_body);
		r->done = true;
		ret = req_send(r);
	}else if(auth && r->user == NULL){
		req_error(r, 401, "only Basic credentials are accepted");
		r->done = true;
		ret = req_send(r);
	}
	pthread_mutex_unlock(&g.lock);
	return ret;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *mc, const char *url, const char *method,
		const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct hreq *r = *con_cls;
	enum MHD_Result ret;

	(void)cls;
	(void)version;
	if(r == NULL) return first_call(mc, url, method, con_cls);
	if(r->done && !r->suspended){
		*upload_size = 0; /* answered in the first call (413, 401): discard the rest */
		return MHD_YES;
	}
	if(*upload_size){
		if(!r->too_large){
			char *b;
			if(r->body_len + *upload_size > (size_t)g.opt.max_body){
				r->too_large = true;
				free(r->body);
				r->body = NULL;
				r->body_len = 0;
			}else if((b = realloc(r->body, r->body_len + *upload_size + 1)) != NULL){
				memcpy(b + r->body_len, upload, *upload_size);
				r->body = b;
				r->body_len += *upload_size;
				b[r->body_len] = '\0';
			}else{
				return MHD_NO;
			}
		}
		*upload_size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&g.lock);
	if(r->suspended){
		/* resumed: the result is there (or the SSE stream starts) */
		r->suspended = false;
		r->resume_queued = false;
		if(r->kind == HR_SSE && r->status == 200 && r->resp == NULL){
			struct MHD_Response *resp = sse_response(r);
			ret = resp ? MHD_queue_response(mc, 200, resp) : MHD_NO;
			if(resp) MHD_destroy_response(resp);
			if(resp) g.http_class[2]++;
		}else{
			ret = req_send(r);
		}
		pthread_mutex_unlock(&g.lock);
		return ret;
	}
	if(r->done){
		pthread_mutex_unlock(&g.lock);
		return MHD_YES;
	}
	if(r->too_large){
		req_error(r, 413, "request body over %d bytes (max-body)", g.opt.max_body);
	}else{
		if(r->body == NULL) r->body = calloc(1, 1);
		dispatch(r);
	}
	if(!r->done && r->conn && r->status == 0){
		r->suspended = true;
		MHD_suspend_connection(mc);
		pthread_mutex_unlock(&g.lock);
		return MHD_YES;
	}
	req_finish(r);
	ret = req_send(r);
	pthread_mutex_unlock(&g.lock);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *mc, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct hreq *r = *con_cls;

	(void)cls;
	(void)mc;
	(void)toe;
	if(r == NULL) return;
	pthread_mutex_lock(&g.lock);
	req_free(r);
	pthread_mutex_unlock(&g.lock);
	*con_cls = NULL;
}

int server_start(const char *cert, const char *key)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	struct sockaddr_storage ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	const union MHD_DaemonInfo *info;

	memset(&ss, 0, sizeof(ss));
	if(inet_pton(AF_INET, g.opt.listen_addr, &a4->sin_addr) == 1){
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)g.opt.listen_port);
	}else if(inet_pton(AF_INET6, g.opt.listen_addr, &a6->sin6_addr) == 1){
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)g.opt.listen_port);
		flags |= MHD_USE_IPv6;
	}else{
		fprintf(stderr, "c2d-http: --listen must be a numeric IPv4 or IPv6 address, not '%s'\n", g.opt.listen_addr);
		return -1;
	}
	if(cert) flags |= MHD_USE_TLS;
	g.mhd = MHD_start_daemon(flags, 0, NULL, NULL, handler, NULL,
			MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
			MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)g.opt.http_timeout,
			MHD_OPTION_CONNECTION_LIMIT, (unsigned)(g.opt.max_polls + 256),
			MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
			cert ? MHD_OPTION_HTTPS_MEM_CERT : MHD_OPTION_END, cert,
			MHD_OPTION_HTTPS_MEM_KEY, key,
			MHD_OPTION_END);
	if(g.mhd == NULL){
		fprintf(stderr, "c2d-http: cannot listen on %s:%d (in use, or bad TLS files?)\n", g.opt.listen_addr,
				g.opt.listen_port);
		return -1;
	}
	info = MHD_get_daemon_info(g.mhd, MHD_DAEMON_INFO_BIND_PORT);
	if(info) g.opt.listen_port = info->port;
	return 0;
}

bool route_method(struct hreq *r, const char *allow)
{
	size_t n = strlen(r->method);
	const char *p = allow;

	while((p = strstr(p, r->method)) != NULL){
		if((p == allow || p[-1] == ' ') && (p[n] == '\0' || p[n] == ',')) return true;
		p += n;
	}
	req_header(r, "Allow", allow);
	req_error(r, 405, "method %s not allowed on %s (allowed: %s)", r->method, r->url, allow);
	return false;
}

bool route_bad_device(struct hreq *r, const char *dev)
{
	req_error(r, 400, "invalid device id '%.64s' (1..128 bytes, no / + #, not starting with $)", dev);
	return true;
}
