/* libc2d-device: lifetime, settings, the connection with its back-off and
 * hello, and the loop (see c2d_device.h for the contract of each function).
 * A gateway's sub-devices (gateway.c) share its connection and its loop. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mqtt_protocol.h>

#include "internal.h"

#define SDK_NAME "libc2d-device/" C2D_DEVICE_VERSION
#define FLUSH_MS 2000 /* how long a clean disconnect may take to write what is queued */

uint64_t dev_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

char *dev_strdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

bool dev_valid_level(const char *s)
{
	size_t len;

	if(s == NULL || s[0] == '\0' || s[0] == '$') return false;
	len = strlen(s);
	return len <= NAME_MAX_LEN && strpbrk(s, "/+#") == NULL;
}

bool dev_valid_id(const char *s)
{
	size_t len;

	if(s == NULL || s[0] == '\0' || s[0] == '$') return false;
	len = strlen(s);
	return len <= DEV_ID_MAX && strpbrk(s, "/+#") == NULL && mosquitto_validate_utf8(s, (int)len) == 0;
}

bool dev_online(const struct c2d_device *d)
{
	if(d->gw) return d->online && d->gw->state == ST_CONNECTED;
	return d->state == ST_CONNECTED;
}

int dev_publish(struct c2d_device *d, const char *suffix, const void *bytes, size_t len)
{
	char topic[DEV_ID_MAX + 3 * NAME_MAX_LEN + 32];
	struct c2d_device *conn = d->gw ? d->gw : d;
	int rc;

	if(!dev_online(d)) return C2D_DEVICE_ESTATE;
	snprintf(topic, sizeof(topic), "$c2d/%s/%s", d->id, suffix);
	rc = mosquitto_publish(conn->mosq, NULL, topic, (int)len, len ? bytes : NULL, 1, false);
	if(rc != MOSQ_ERR_SUCCESS) return C2D_DEVICE_ESTATE;
	conn->unacked++;
	return 0;
}

/* ---- hello ---- */

/* info_json: borrowed, NULL = {}. Returns the hello payload (caller owns;
 * with "sdk" added unless sdk is false), NULL if info_json is not a JSON
 * object or on out of memory (*rc says). */
static char *hello_payload(const char *info_json, bool sdk, int *rc)
{
	cJSON *o = info_json ? cJSON_Parse(info_json) : cJSON_CreateObject();
	char *out = NULL;

	*rc = C2D_DEVICE_EINVAL;
	if(o != NULL && cJSON_IsObject(o)){
		*rc = C2D_DEVICE_ENOMEM;
		if(!sdk || cJSON_GetObjectItemCaseSensitive(o, "sdk") || cJSON_AddStringToObject(o, "sdk", SDK_NAME)){
			out = cJSON_PrintUnformatted(o);
			if(out) *rc = 0;
		}
	}
	cJSON_Delete(o);
	return out;
}

C2D_API int c2d_device_set_info(struct c2d_device *d, const char *info_json)
{
	int rc;
	char *p;

	if(d->gw && info_json == NULL){ /* a sub-device: no hello */
		free(d->info);
		d->info = NULL;
		return 0;
	}
	/* a sub-device runs no SDK of its own: its hello has no "sdk" */
	p = hello_payload(info_json, d->gw == NULL, &rc);
	if(p == NULL) return rc;
	free(d->info);
	d->info = p;
	return 0;
}

/* ---- the connection ---- */

void dev_notify(struct c2d_device *d, int connected, int reason, const char *text)
{
	if(d->conn_fn) d->conn_fn(d, connected, reason, text, d->conn_ud);
}

/* The next retry: the current back-off less up to 25% jitter; the back-off
 * doubles up to its maximum. */
static void schedule_retry(struct c2d_device *d)
{
	int delay = d->backoff_ms - (int)(rand_r(&d->seed) % (unsigned)(d->backoff_ms / 4 + 1));

	d->next_attempt = dev_now_ms() + (uint64_t)delay;
	d->backoff_ms = d->backoff_ms > d->backoff_max / 2 ? d->backoff_max : d->backoff_ms * 2;
	d->state = ST_WAITING;
}

/* A connection or an attempt ended (reason: CONNACK code or mosquitto rc). */
static void lost(struct c2d_device *d, int reason, const char *text)
{
	if(d->state != ST_CONNECTING && d->state != ST_CONNECTED) return;
	schedule_retry(d);
	calls_lost(d, false);
	dev_notify(d, 0, reason, text);
	gateway_lost(d, false, reason, text);
}

static void on_connect(struct mosquitto *m, void *ud, int rc, int flags, const mosquitto_property *props)
{
	struct c2d_device *d = ud;

	(void)m;
	(void)flags;
	(void)props;
	if(rc != 0){
		lost(d, rc, d->protocol == MQTT_PROTOCOL_V5 ? mosquitto_reason_string(rc) : mosquitto_connack_string(rc));
		return;
	}
	d->state = ST_CONNECTED;
	d->unacked = 0;
	d->backoff_ms = d->backoff_min;
	/* A refused hello (a plugin without hello support answers PUBACK 0x87)
	 * changes nothing: the PUBACK's reason is not looked at. */
	dev_publish(d, "out/hello", d->info, strlen(d->info));
	ring_flush(d);
	report_flush(d);
	calls_flush(d);
	dev_notify(d, 1, 0, "connected");
	gateway_connected(d);
}

static void on_disconnect(struct mosquitto *m, void *ud, int rc, const mosquitto_property *props)
{
	struct c2d_device *d = ud;

	(void)m;
	(void)props;
	lost(d, rc, rc == 0 ? "disconnected" : mosquitto_strerror(rc));
}

static void on_message(struct mosquitto *m, void *ud, const struct mosquitto_message *msg,
		const mosquitto_property *props)
{
	struct c2d_device *d = ud;

	(void)m;
	(void)props;
	/* while a disconnect drains nothing new runs: the platform delivers it again */
	if(d->state == ST_CONNECTED) gateway_message(d, msg);
}

static void on_publish(struct mosquitto *m, void *ud, int mid, int reason, const mosquitto_property *props)
{
	struct c2d_device *d = ud;

	(void)m;
	(void)mid;
	(void)reason;
	(void)props;
	if(d->unacked > 0) d->unacked--;
}

/* Starts one attempt. Returns 0 when it is under way, else the libmosquitto
 * error (a retry is scheduled and the callback told). */
static int attempt(struct c2d_device *d)
{
	int rc;

	d->state = ST_CONNECTING;
	rc = mosquitto_reconnect_async(d->mosq);
	if(rc != MOSQ_ERR_SUCCESS){
		lost(d, rc, rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
	}
	return rc;
}

C2D_API int c2d_device_connect(struct c2d_device *d)
{
	int rc;

	if(d->gw || (d->state != ST_IDLE && d->state != ST_CLOSED)) return C2D_DEVICE_ESTATE;
	d->backoff_ms = d->backoff_min;
	d->state = ST_CONNECTING;
	rc = mosquitto_connect_async(d->mosq, d->host, d->port, d->keepalive);
	if(rc == MOSQ_ERR_SUCCESS) return 0;
	lost(d, rc, rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
	return rc == MOSQ_ERR_TLS ? C2D_DEVICE_ETLS : C2D_DEVICE_ECONNECT;
}

/* Lets libmosquitto write what is queued (answers, DISCONNECT) until the
 * socket closes, at most FLUSH_MS. */
static void flush_out(struct c2d_device *d)
{
	uint64_t end = dev_now_ms() + FLUSH_MS;

	while(mosquitto_socket(d->mosq) >= 0 && dev_now_ms() < end){
		if(mosquitto_loop(d->mosq, 100, 1) != MOSQ_ERR_SUCCESS) break;
	}
}

/* Before a clean disconnect: waits (at most FLUSH_MS) until the broker
 * acknowledged every answer, report and call sent. libmosquitto closes the
 * socket right after writing DISCONNECT; if a PUBACK is still on its way
 * then, the close resets the connection and the broker may drop the unread
 * answers. */
static void drain(struct c2d_device *d)
{
	uint64_t end = dev_now_ms() + FLUSH_MS;

	while(d->unacked > 0 && mosquitto_socket(d->mosq) >= 0 && dev_now_ms() < end){
		if(mosquitto_loop(d->mosq, 100, 1) != MOSQ_ERR_SUCCESS) break;
	}
}

static int do_disconnect(struct c2d_device *d)
{
	enum dev_state was = d->state;

	if(was == ST_IDLE || was == ST_CLOSED) return C2D_DEVICE_ESTATE;
	d->state = ST_CLOSED;
	calls_lost(d, true);
	gateway_lost(d, true, 0, "disconnected");
	if(was == ST_CONNECTED) drain(d);
	if(was == ST_CONNECTED || was == ST_CONNECTING){
		mosquitto_disconnect(d->mosq);
		if(was == ST_CONNECTED) dev_notify(d, 0, 0, "disconnected");
	}
	return 0;
}

/* Inside mosquitto_loop() (a handler, a callback) libmosquitto only queues
 * packets; a DISCONNECT queued there would close the socket before the
 * handler's answer is written. So it waits until mosquitto_loop() returns. */
C2D_API int c2d_device_disconnect(struct c2d_device *d)
{
	if(d->in_mosq && d->state != ST_IDLE && d->state != ST_CLOSED){
		d->close_pending = true;
		return 0;
	}
	return do_disconnect(d);
}

C2D_API int c2d_device_is_connected(const struct c2d_device *d)
{
	return dev_online(d);
}

static int min_wait(int wait, uint64_t now, uint64_t due)
{
	if(due == UINT64_MAX) return wait;
	if(due <= now) return 0;
	return due - now < (uint64_t)wait ? (int)(due - now) : wait;
}

C2D_API int c2d_device_loop(struct c2d_device *d, int timeout_ms)
{
	uint64_t now = dev_now_ms();
	int wait, rc;

	if(timeout_ms < 0 || timeout_ms > 60000) return C2D_DEVICE_EINVAL;
	if(d->state == ST_IDLE) return C2D_DEVICE_ESTATE;
	if(d->state == ST_CLOSED){
		flush_out(d);
		return C2D_DEVICE_ECLOSED;
	}
	calls_expire(d, now);
	gateway_expire(d, now);
	if(d->state == ST_WAITING && now >= d->next_attempt) attempt(d);
	wait = min_wait(timeout_ms, now, calls_next_deadline(d));
	wait = min_wait(wait, now, gateway_next_deadline(d));
	if(d->state == ST_WAITING){
		poll(NULL, 0, min_wait(wait, now, d->next_attempt));
	}else if(d->state == ST_CONNECTING || d->state == ST_CONNECTED){
		d->in_mosq = true;
		rc = mosquitto_loop(d->mosq, wait, 1);
		d->in_mosq = false;
		if(rc != MOSQ_ERR_SUCCESS){
			lost(d, rc, rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
		}
		if(d->close_pending){
			d->close_pending = false;
			do_disconnect(d);
		}
	}
	now = dev_now_ms();
	calls_expire(d, now);
	gateway_expire(d, now);
	if(d->state == ST_CLOSED){
		flush_out(d);
		return C2D_DEVICE_ECLOSED;
	}
	return 0;
}

/* ---- lifetime and settings ---- */

C2D_API struct c2d_device *c2d_device_new(const char *device_id, const char *host, int port)
{
	struct c2d_device *d;
	int rc;

	if(!dev_valid_id(device_id) || host == NULL || port < 0 || port > 65535) return NULL;
	d = calloc(1, sizeof(*d));
	if(d == NULL) return NULL;
	mosquitto_lib_init();
	d->id = strdup(device_id);
	d->host = strdup(host);
	d->port = port ? port : 1883;
	d->keepalive = 60;
	d->protocol = MQTT_PROTOCOL_V5;
	d->backoff_min = 1000;
	d->backoff_max = 60000;
	d->seed = (unsigned)dev_now_ms() ^ (unsigned)getpid();
	snprintf(d->call_tag, sizeof(d->call_tag), "%08x", rand_r(&d->seed) & 0xffffffffu);
	snprintf(d->in_prefix, sizeof(d->in_prefix), "$c2d/%s/in/", device_id);
	d->info = hello_payload(NULL, true, &rc);
	d->mosq = mosquitto_new(device_id, true, d);
	if(d->id == NULL || d->host == NULL || d->info == NULL || d->mosq == NULL
			|| ring_init(&d->ring, 64, 65536) != 0){
		c2d_device_free(d);
		return NULL;
	}
	mosquitto_int_option(d->mosq, MOSQ_OPT_PROTOCOL_VERSION, d->protocol);
	mosquitto_connect_v5_callback_set(d->mosq, on_connect);
	mosquitto_disconnect_v5_callback_set(d->mosq, on_disconnect);
	mosquitto_message_v5_callback_set(d->mosq, on_message);
	mosquitto_publish_v5_callback_set(d->mosq, on_publish);
	return d;
}

void dev_free_state(struct c2d_device *d)
{
	struct handler *h, *next;

	for(h = d->handlers; h; h = next){
		next = h->next;
		free(h->method);
		free(h);
	}
	calls_free(d);
	ring_free(&d->ring);
	cJSON_Delete(d->pending_report);
	free(d->info);
	free(d->id);
	free(d->host);
	free(d);
}

C2D_API void c2d_device_free(struct c2d_device *d)
{
	if(d == NULL) return;
	if(d->gw){
		gateway_unlink(d);
		dev_free_state(d);
		return;
	}
	if(d->mosq){
		if(d->state == ST_CONNECTED || d->state == ST_CONNECTING){
			d->conn_fn = NULL;
			calls_free(d); /* no callbacks from free */
			gateway_free_subs(d);
			do_disconnect(d);
			flush_out(d);
		}
		mosquitto_destroy(d->mosq);
	}
	gateway_free_subs(d);
	dev_free_state(d);
	mosquitto_lib_cleanup();
}

C2D_API const char *c2d_device_id(const struct c2d_device *d)
{
	return d->id;
}

/* Connection settings: a gateway or direct device that is not connecting
 * (a sub-device has no connection of its own). */
static bool configurable(const struct c2d_device *d)
{
	return d->gw == NULL && (d->state == ST_IDLE || d->state == ST_CLOSED);
}

C2D_API int c2d_device_set_credentials(struct c2d_device *d, const char *username, const char *password)
{
	if(username == NULL) return C2D_DEVICE_EINVAL;
	if(!configurable(d)) return C2D_DEVICE_ESTATE;
	return mosquitto_username_pw_set(d->mosq, username, password) == MOSQ_ERR_SUCCESS ? 0 : C2D_DEVICE_ENOMEM;
}

static bool readable(const char *path)
{
	return path == NULL || access(path, R_OK) == 0;
}

C2D_API int c2d_device_set_tls(struct c2d_device *d, const char *cafile, const char *certfile, const char *keyfile)
{
	if(cafile == NULL || (certfile == NULL) != (keyfile == NULL)) return C2D_DEVICE_EINVAL;
	if(!configurable(d)) return C2D_DEVICE_ESTATE;
	if(!readable(cafile) || !readable(certfile) || !readable(keyfile)) return C2D_DEVICE_ETLS;
	if(mosquitto_tls_set(d->mosq, cafile, NULL, certfile, keyfile, NULL) != MOSQ_ERR_SUCCESS){
		return C2D_DEVICE_ETLS;
	}
	d->tls = true;
	return 0;
}

C2D_API int c2d_device_set_protocol(struct c2d_device *d, int mqtt_version)
{
	int v = mqtt_version == 5 ? MQTT_PROTOCOL_V5 : mqtt_version == 4 ? MQTT_PROTOCOL_V311 : 0;

	if(v == 0) return C2D_DEVICE_EINVAL;
	if(!configurable(d)) return C2D_DEVICE_ESTATE;
	d->protocol = v;
	mosquitto_int_option(d->mosq, MOSQ_OPT_PROTOCOL_VERSION, v);
	return 0;
}

C2D_API int c2d_device_set_keepalive(struct c2d_device *d, int seconds)
{
	if(seconds < 5 || seconds > 65535) return C2D_DEVICE_EINVAL;
	if(!configurable(d)) return C2D_DEVICE_ESTATE;
	d->keepalive = seconds;
	return 0;
}

C2D_API int c2d_device_set_reconnect(struct c2d_device *d, int min_ms, int max_ms)
{
	if(min_ms < 10 || max_ms < min_ms) return C2D_DEVICE_EINVAL;
	if(d->gw) return C2D_DEVICE_ESTATE;
	d->backoff_min = min_ms;
	d->backoff_max = max_ms;
	if(d->backoff_ms < min_ms || d->backoff_ms > max_ms) d->backoff_ms = min_ms;
	return 0;
}

C2D_API int c2d_device_set_dedup(struct c2d_device *d, int entries, size_t max_bytes)
{
	struct ring r;

	if(entries < 1 || entries > 4096) return C2D_DEVICE_EINVAL;
	if(d->gw ? d->want : !configurable(d)) return C2D_DEVICE_ESTATE;
	if(ring_init(&r, entries, max_bytes) != 0) return C2D_DEVICE_ENOMEM;
	r.accepted = d->ring.accepted;
	d->ring.accepted = NULL;
	ring_free(&d->ring);
	d->ring = r;
	return 0;
}

C2D_API int c2d_device_on_connection(struct c2d_device *d, c2d_conn_fn fn, void *ud)
{
	d->conn_fn = fn;
	d->conn_ud = ud;
	return 0;
}

C2D_API const char *c2d_device_strerror(int rc)
{
	switch(rc){
		case C2D_DEVICE_OK: return "success";
		case C2D_DEVICE_EINVAL: return "invalid argument";
		case C2D_DEVICE_ENOMEM: return "out of memory";
		case C2D_DEVICE_ESTATE: return "not allowed in this state";
		case C2D_DEVICE_ENOTFOUND: return "no accepted delivery with that id";
		case C2D_DEVICE_ETLS: return "TLS set-up failed";
		case C2D_DEVICE_ECONNECT: return "connection attempt failed (retrying)";
		case C2D_DEVICE_EMQTT: return "MQTT library error";
		case C2D_DEVICE_ECLOSED: return "disconnected by the application";
		default: return "unknown error";
	}
}
