/* MQTT connections of c2d-http and the thread that drives them.
 *
 * Application connections are pooled per Basic credential (closed after
 * idle_timeout unused); a device connection is the device itself (client id
 * = device id, the caller's credentials); an SSE stream has its own. The
 * broker authenticates each CONNECT: a refused CONNACK is the HTTP caller's
 * 401, a PUBACK 0x87 (ACL or the plugin's guard) its 403.
 *
 * Only this thread frees connections; handlers create them (pool_get) and
 * queue publishes (pool_call), waking the thread through an eventfd. The
 * calls in flight on a connection (publish, PUBACK, reply) are pool_call.c. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <unistd.h>

#include <mqtt_protocol.h>

#include "http.h"
#include "pool.h"

static int wake_fd = -1;
static pthread_t thread;
static bool thread_started;

void pool_wake(void)
{
	uint64_t one = 1;

	if(wake_fd >= 0 && write(wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN){
		hlog(false, "eventfd write: %s", strerror(errno));
	}
}

static bool streq(const char *a, const char *b)
{
	if(a == NULL || b == NULL) return a == b;
	return strcmp(a, b) == 0;
}

int pool_count(enum hconn_kind kind)
{
	struct hconn *c;
	int n = 0;

	for(c = g.conns; c; c = c->next){
		if(c->kind == kind && c->state != HCS_CLOSED) n++;
	}
	return n;
}

/* "c2d-http-" + 12 random hex digits (+ tag). Returns: caller owns. */
static char *random_id(const char *tag)
{
	unsigned char b[6];
	char *s;
	size_t i;

	if(getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)){
		for(i = 0; i < sizeof(b); i++) b[i] = (unsigned char)rand();
	}
	s = malloc(40);
	if(s == NULL) return NULL;
	snprintf(s, 40, "c2d-http-%s%02x%02x%02x%02x%02x%02x", tag, b[0], b[1], b[2], b[3], b[4], b[5]);
	return s;
}

/* The application response topic: reply_prefix with %u = user (topic
 * characters replaced), then the client id. Returns: caller owns. */
static char *app_reply_topic(const char *user, const char *client_id)
{
	const char *p, *u = user ? user : "anonymous";
	size_t n = strlen(g.opt.reply_prefix) + strlen(u) * 2 + strlen(client_id) + 1, o = 0;
	char *s = malloc(n), ch;

	if(s == NULL) return NULL;
	for(p = g.opt.reply_prefix; *p; p++){
		if(p[0] == '%' && p[1] == 'u'){
			const char *q;
			for(q = u; *q; q++){
				ch = *q;
				s[o++] = (ch == '/' || ch == '+' || ch == '#') ? '_' : ch;
			}
			p++;
		}else{
			s[o++] = *p;
		}
	}
	strcpy(s + o, client_id);
	return s;
}

static struct hconn *conn_of(void *obj)
{
	return obj;
}

static void on_connect(struct mosquitto *mosq, void *obj, int rc, int flags, const mosquitto_property *props)
{
	struct hconn *c = conn_of(obj);
	struct hreq *r;
	char msg[128];

	(void)flags;
	(void)props;
	c->connack = rc;
	if(rc != 0){
		c->state = HCS_REFUSED;
		snprintf(msg, sizeof(msg), "the broker refused the connection: %s", mosquitto_reason_string(rc));
		pool_conn_ended(c, rc == MQTT_RC_CLIENTID_NOT_VALID ? 400 : 401, msg);
		return;
	}
	c->state = HCS_READY;
	if(c->kind == HC_SSE){
		/* the fleet stream also carries the jobs' own events; only the
		 * first filter's refusal decides the 403 (on_subscribe) */
		char *filters[2] = { c->sub_filter, "$c2d/$jobs/+/events" };
		mosquitto_subscribe_multiple(mosq, NULL, c->sub_jobs ? 2 : 1, filters, 1, 0, NULL);
	}else{
		/* Replies come here until the plugin sends them to the client id;
		 * a refused subscription is tolerated (then only targeted ones). */
		char *filter = NULL;
		if(c->kind == HC_DEVICE){
			size_t n = strlen(c->device) + 16;
			filter = malloc(n);
			if(filter) snprintf(filter, n, "$c2d/%s/in/rep/#", c->device);
		}
		mosquitto_subscribe_v5(mosq, NULL, filter ? filter : c->reply_topic, 1, 0, NULL);
		free(filter);
	}
	while((r = c->pending) != NULL){
		c->pending = r->wnext;
		r->wnext = NULL;
		r->in_wait = false;
		if(pool_publish(c, r)) req_finish(r);
	}
	pool_wake();
}

static void on_subscribe(struct mosquitto *mosq, void *obj, int mid, int n, const int *granted,
		const mosquitto_property *props)
{
	struct hconn *c = conn_of(obj);

	(void)mosq;
	(void)mid;
	(void)props;
	if(c->kind != HC_SSE || c->stream == NULL) return;
	if(n < 1 || granted[0] >= 0x80){
		req_error(c->stream, 403, "not authorized to subscribe to %s", c->sub_filter);
	}else{
		c->stream->status = 200;
	}
	req_finish(c->stream);
}

static void on_disconnect(struct mosquitto *mosq, void *obj, int rc, const mosquitto_property *props)
{
	struct hconn *c = conn_of(obj);

	(void)mosq;
	(void)rc;
	(void)props;
	if(c->state == HCS_CONNECTING || c->state == HCS_READY){
		pool_conn_ended(c, 502, "connection to the broker closed");
	}
}

static struct hconn *conn_new(enum hconn_kind kind, const char *user, const char *pass, const char *device,
		const char **err)
{
	struct hconn *c = calloc(1, sizeof(*c));
	int rc;

	*err = "out of memory";
	if(c == NULL) return NULL;
	c->kind = kind;
	c->state = HCS_CONNECTING;
	c->user = user ? strdup(user) : NULL;
	c->pass = pass ? strdup(pass) : NULL;
	if(kind == HC_DEVICE){
		size_t n = strlen(device) + 24;
		c->device = strdup(device);
		c->client_id = strdup(device);
		c->reply_topic = malloc(n);
		if(c->reply_topic) snprintf(c->reply_topic, n, "$c2d/%s/in/rep/http", device);
	}else{
		c->client_id = random_id(kind == HC_SSE ? "sse-" : "");
		c->reply_topic = c->client_id ? app_reply_topic(user, c->client_id) : NULL;
	}
	if(c->client_id == NULL || c->reply_topic == NULL) goto fail;
	c->mosq = mosquitto_new(c->client_id, true, c);
	if(c->mosq == NULL) goto fail;
	mosquitto_int_option(c->mosq, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	/* small request/response packets: without it each waits for a delayed ACK */
	mosquitto_int_option(c->mosq, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_threaded_set(c->mosq, true);
	mosquitto_connect_v5_callback_set(c->mosq, on_connect);
	mosquitto_publish_v5_callback_set(c->mosq, pool_on_publish);
	mosquitto_message_v5_callback_set(c->mosq, pool_on_message);
	mosquitto_subscribe_v5_callback_set(c->mosq, on_subscribe);
	mosquitto_disconnect_v5_callback_set(c->mosq, on_disconnect);
	if(c->user && mosquitto_username_pw_set(c->mosq, c->user, c->pass) != MOSQ_ERR_SUCCESS) goto fail;
	rc = mosquitto_connect_bind_v5(c->mosq, g.opt.mqtt_host, g.opt.mqtt_port, 60, NULL, NULL);
	if(rc != MOSQ_ERR_SUCCESS){
		*err = "the broker is not reachable";
		hlog(false, "connect to %s:%d: %s", g.opt.mqtt_host, g.opt.mqtt_port,
				rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
		goto fail;
	}
	c->next = g.conns;
	g.conns = c;
	g.nconns++;
	pool_wake();
	return c;
fail:
	if(c->mosq) mosquitto_destroy(c->mosq);
	free(c->user);
	free(c->pass);
	free(c->device);
	free(c->client_id);
	free(c->reply_topic);
	free(c);
	return NULL;
}

struct hconn *pool_get(enum hconn_kind kind, const char *user, const char *pass, const char *device,
		const char **err)
{
	struct hconn *c = NULL;

	if(kind != HC_SSE){
		for(c = g.conns; c; c = c->next){
			if(c->kind != kind || c->closing) continue;
			if(c->state != HCS_READY && c->state != HCS_CONNECTING) continue;
			if(!streq(c->user, user) || !streq(c->pass, pass)) continue;
			if(kind == HC_DEVICE && strcmp(c->device, device) != 0) continue;
			break;
		}
	}
	if(c == NULL){
		if(g.nconns >= g.opt.max_mqtt){
			*err = "too many MQTT connections (max-mqtt)";
			return NULL;
		}
		c = conn_new(kind, user, pass, device, err);
		if(c == NULL) return NULL;
	}
	c->users++;
	return c;
}

void pool_release(struct hconn *c)
{
	if(--c->users == 0) c->idle_since = now_ms();
}

/* Whether c has nothing to do any more and may be closed now. */
static bool conn_idle(struct hconn *c, uint64_t now)
{
	if(c->users > 0 || c->waiting || c->pending) return false;
	if(c->state == HCS_CLOSED || c->state == HCS_REFUSED || c->closing) return true;
	if(c->kind == HC_APP) return now >= c->idle_since + (uint64_t)g.opt.idle_timeout * 1000;
	if(c->kind == HC_DEVICE) return c->polls == NULL && now >= c->keep_until;
	return true;
}

static void conn_free(struct hconn *c)
{
	if(c->state == HCS_READY){
		mosquitto_disconnect_v5(c->mosq, 0, NULL);
		mosquitto_loop_write(c->mosq, 1);
	}
	mosquitto_destroy(c->mosq);
	if(c->kind == HC_DEVICE) device_conn_free(c);
	free(c->user);
	free(c->pass);
	free(c->device);
	free(c->client_id);
	free(c->reply_topic);
	free(c->sub_filter);
	free(c);
	g.nconns--;
}

/* Deadlines of calls, device and SSE timers, closing idle connections. */
static void timers(uint64_t now)
{
	struct hconn **pc = &g.conns, *c;
	struct hreq *r, *next;

	while((c = *pc) != NULL){
		for(r = c->waiting; r; r = next){
			next = r->wnext;
			if(r->deadline_ms && now >= r->deadline_ms){
				req_error(r, 504, "no answer from the broker in time");
				req_finish(r);
			}
		}
		for(r = c->pending; r; r = next){
			next = r->wnext;
			if(r->deadline_ms && now >= r->deadline_ms){
				req_error(r, 504, "the broker did not accept the connection in time");
				req_finish(r);
			}
		}
		if(c->kind == HC_DEVICE) device_tick(c, now);
		if(c->kind == HC_SSE) sse_tick(c, now);
		if(conn_idle(c, now)){
			*pc = c->next;
			conn_free(c);
			continue;
		}
		pc = &c->next;
	}
}

/* Resumes the requests finished under the lock (called without it). */
static void resume_all(struct hreq *list)
{
	struct hreq *r, *next;

	for(r = list; r; r = next){
		next = r->rnext;
		MHD_resume_connection(r->mc);
	}
}

static void *loop(void *arg)
{
	struct pollfd *fds = NULL;
	struct hconn **cs = NULL;
	size_t cap = 0, n, i;
	struct hconn *c;
	struct hreq *res;
	uint64_t drain;
	int rc;

	(void)arg;
	while(!g.stop){
		pthread_mutex_lock(&g.lock);
		if(cap < (size_t)g.nconns + 1){
			cap = (size_t)g.nconns * 2 + 16;
			fds = realloc(fds, cap * sizeof(*fds));
			cs = realloc(cs, cap * sizeof(*cs));
			if(fds == NULL || cs == NULL) abort();
		}
		fds[0].fd = wake_fd;
		fds[0].events = POLLIN;
		n = 1;
		for(c = g.conns; c; c = c->next){
			int s = mosquitto_socket(c->mosq);
			if(s < 0) continue;
			fds[n].fd = s;
			fds[n].events = POLLIN | (mosquitto_want_write(c->mosq) ? POLLOUT : 0);
			fds[n].revents = 0;
			cs[n++] = c;
		}
		pthread_mutex_unlock(&g.lock);
		rc = poll(fds, n, 100);
		if(rc < 0 && errno != EINTR) hlog(false, "poll: %s", strerror(errno));
		if(rc > 0 && (fds[0].revents & POLLIN)){
			if(read(wake_fd, &drain, sizeof(drain)) < 0) drain = 0;
		}
		pthread_mutex_lock(&g.lock);
		for(i = 1; i < n; i++){
			c = cs[i];
			if(fds[i].revents & (POLLIN | POLLERR | POLLHUP)) mosquitto_loop_read(c->mosq, 16);
			if(mosquitto_socket(c->mosq) >= 0 && mosquitto_want_write(c->mosq)) mosquitto_loop_write(c->mosq, 16);
			if(mosquitto_socket(c->mosq) >= 0) mosquitto_loop_misc(c->mosq);
			if(mosquitto_socket(c->mosq) < 0 && (c->state == HCS_READY || c->state == HCS_CONNECTING)){
				pool_conn_ended(c, 502, "connection to the broker closed");
			}
		}
		/* connections made since the poll set was built may have queued packets */
		for(c = g.conns; c; c = c->next){
			if(mosquitto_socket(c->mosq) >= 0 && mosquitto_want_write(c->mosq)) mosquitto_loop_write(c->mosq, 16);
		}
		timers(now_ms());
		res = g.resume;
		g.resume = NULL;
		pthread_mutex_unlock(&g.lock);
		resume_all(res);
	}
	free(fds);
	free(cs);
	return NULL;
}

int pool_start(void)
{
	wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if(wake_fd < 0) return -1;
	if(pthread_create(&thread, NULL, loop, NULL) != 0) return -1;
	thread_started = true;
	return 0;
}

void pool_abort_all(void)
{
	struct hconn *c;

	for(c = g.conns; c; c = c->next){
		c->closing = true;
		pool_conn_ended(c, 503, "c2d-http is shutting down");
	}
}

void pool_stop(void)
{
	struct hconn *c;

	if(thread_started){
		g.stop = 1;
		pool_wake();
		pthread_join(thread, NULL);
		thread_started = false;
	}
	while((c = g.conns) != NULL){
		g.conns = c->next;
		conn_free(c);
	}
	if(wake_fd >= 0) close(wake_fd);
	wake_fd = -1;
}
