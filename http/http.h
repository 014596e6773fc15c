/* c2d-http: the HTTP daemon beside the broker (docs/http.md).
 *
 * Threads: libmicrohttpd's internal polling thread runs the HTTP side
 * (server.c and the route handlers); one MQTT thread (pool.c) drives every
 * MQTT connection with poll() and runs the timers. Everything shared lives
 * under one mutex, g.lock: handlers take it while they work, the MQTT thread
 * while it reads, writes and runs callbacks. A request that waits for the
 * broker is suspended (MHD_suspend_connection, under the lock); whoever
 * finishes it (req_finish, under the lock) queues it for MHD_resume_connection,
 * which the MQTT thread calls after dropping the lock.
 *
 * Ownership words in the comments: borrowed (the callee only reads it during
 * the call), copied, consumed (the callee frees it), "caller owns". */
#ifndef C2D_HTTP_H
#define C2D_HTTP_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <microhttpd.h>
#include <mosquitto.h>

#define HTTP_MAX_HEADERS 8

/* ---- options (opts.c) ---- */

struct hopts {
	char *listen_addr;        /* HTTP address, "127.0.0.1" */
	int listen_port;          /* 8080 */
	char *tls_cert, *tls_key; /* PEM files; both set = HTTPS */
	char *mqtt_host;          /* broker, "127.0.0.1" */
	int mqtt_port;            /* 1883 */
	int max_body;             /* request body bytes, 65536 */
	int http_timeout;         /* s an idle HTTP connection may stay, 30 */
	int max_polls;            /* concurrent long-polls (ttd + SSE), 1000 */
	int max_mqtt;             /* MQTT connections, 2000 */
	int idle_timeout;         /* s an unused application connection stays, 60 */
	int request_timeout;      /* ms to wait for a reply (non-RPC), 15000 */
	int rpc_timeout;          /* ms default RPC timeout (the plugin's rpc_timeout), 10000 */
	int ttd_max;              /* s longest ttd, 300 */
	int device_grace;         /* ms a device connection stays after a delivery, 10000 */
	int device_linger;        /* ms it stays after a poll or an answer, 1000 */
	int device_hold;          /* deliveries held for the next poll, 16 */
	int sse_heartbeat;        /* s between SSE comments, 15 */
	int sse_buffer;           /* bytes an SSE stream may have unsent, 262144 */
	char *telemetry_topic;    /* "devices/{dev}/telemetry" */
	char *reply_prefix;       /* application response topics: "replies/%u/c2d-http/" */
	char *metrics_user, *metrics_password; /* for /metrics (getStats); NULL = the caller's */
	char *web_dir;            /* static files served at / (the dashboard); "" = none */
	bool verbose;
};

/* Parses argv (and a --config file, command line wins). o: filled with
 * defaults first; strings are caller owned (opts_free). Returns 0, 1 when
 * --help was printed, -1 on a bad option (message on stderr). */
int opts_parse(struct hopts *o, int argc, char **argv);
void opts_free(struct hopts *o);
void opts_usage(FILE *f);

/* ---- requests (req.c) ---- */

struct hconn;
struct cJSON;
struct hreq;
struct hmsg;

/* What a waiting request does with the broker's answer: status is the
 * reply's status user property (200 if absent), m the reply (borrowed), or
 * status < 0 and m NULL for "PUBACK without a reply expected". */
typedef void (*hreq_reply_fn)(struct hreq *r, int status, const struct hmsg *m);

enum hreq_kind { HR_PLAIN, HR_CALL, HR_POLL, HR_SSE };

struct hheader {
	char *name, *value;
};

/* One HTTP request (MHD's con_cls). */
struct hreq {
	struct MHD_Connection *mc;
	enum hreq_kind kind;
	char *method, *url;
	char *body;               /* NUL-terminated, body_len bytes */
	size_t body_len;
	bool too_large;
	char *user, *pass;        /* Basic credentials, NULL = none */
	/* waiting */
	bool suspended, done, resume_queued;
	struct hconn *conn;       /* the connection it waits on (a user of it) */
	struct hreq *wnext;       /* in conn->waiting / conn->polls */
	bool in_wait;             /* linked into one of those lists */
	int mid;                  /* publish in flight, 0 = none */
	bool want_reply;          /* a reply (correlation data corr) ends it */
	bool acked;
	char corr[24];
	uint64_t deadline_ms;
	hreq_reply_fn on_reply;
	/* what to publish once the connection is up (consumed then) */
	char *pub_topic;
	void *pub_payload;
	int pub_len;
	mosquitto_property *pub_props;
	char *topic;              /* the request topic (messages) */
	/* route data */
	char *dev, *arg;          /* device, method/id */
	int ival;                 /* route integer (If-Match, page) */
	bool flag;                /* route flag (If-Match given, ThingsBoard) */
	/* result */
	int status;
	char *resp;
	size_t resp_len;
	char *resp_type;          /* content type */
	struct hheader headers[HTTP_MAX_HEADERS];
	int nheaders;
	void *sse;                /* struct sse_stream, for HR_SSE */
	struct hreq *rnext;       /* in the resume list */
};

/* A received MQTT message, as the connection callbacks pass it (borrowed). */
struct hmsg {
	const char *topic;
	const void *payload;
	int len;
	const char *content_type;
	const mosquitto_property *props;
};

/* Sets the result to a JSON error {"status":N,"error":"..."} (fmt is
 * printf-style). r: borrowed. */
void req_error(struct hreq *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Sets the result: status, body (copied, len bytes), content type (copied, may be NULL). */
void req_result(struct hreq *r, int status, const void *body, size_t len, const char *type);
/* Sets the result to a JSON document (consumed). */
void req_json(struct hreq *r, int status, struct cJSON *doc);
/* Adds a response header (both copied). */
void req_header(struct hreq *r, const char *name, const char *value);
/* Marks r done; if it is suspended, queues it for resumption. Unlinks it from
 * its connection's wait lists. Under g.lock. */
void req_finish(struct hreq *r);
/* Frees r and everything it owns (r consumed). Under g.lock. */
void req_free(struct hreq *r);
/* The value of query argument name (owned by MHD), or NULL. */
const char *req_query(struct hreq *r, const char *name);
/* Parses a query integer in [min,max]; missing = def. Returns 0, or -1 after
 * setting a 400 result. */
int req_query_int(struct hreq *r, const char *name, long min, long max, long def, long *out);
/* Queues the result on MHD. Returns MHD's result. */
enum MHD_Result req_send(struct hreq *r);

/* ---- MQTT connections (pool.c; the calls in flight: pool_call.c) ---- */

enum hconn_kind { HC_APP, HC_DEVICE, HC_SSE };
enum hconn_state { HCS_CONNECTING, HCS_READY, HCS_REFUSED, HCS_CLOSED };

struct hconn {
	struct hconn *next;
	enum hconn_kind kind;
	enum hconn_state state;
	struct mosquitto *mosq;
	char *user, *pass;        /* NULL user: anonymous */
	char *client_id;
	char *device;             /* HC_DEVICE: the device id (= client id) */
	char *reply_topic;        /* response topic of its requests */
	int connack;              /* CONNACK reason code */
	int users;                /* requests holding it */
	uint64_t idle_since;      /* ms, when users dropped to 0 */
	uint64_t keep_until;      /* HC_DEVICE: ms it stays open without polls */
	unsigned corr_seq;
	struct hreq *waiting;     /* calls in flight */
	struct hreq *pending;     /* requests waiting for CONNACK */
	/* HC_DEVICE */
	struct hreq *polls;       /* polls waiting, oldest first */
	struct held *held;        /* deliveries nobody took yet, oldest first */
	int nheld;
	int outstanding;          /* handed out and not answered */
	/* HC_SSE */
	struct hreq *stream;
	char *sub_filter;
	bool sub_jobs;             /* also $c2d/$jobs/+/events (refusal tolerated) */
	bool closing;
};

/* Finds or makes a connection. kind HC_APP: pooled per (user, pass);
 * HC_DEVICE: per (device, user, pass), client id = device; HC_SSE: always a
 * new one. user, pass, device: borrowed (copied). Returns the connection
 * with its user count raised (pool_release), or NULL when the limit is
 * reached or libmosquitto failed (err set to a reason). Under g.lock. */
struct hconn *pool_get(enum hconn_kind kind, const char *user, const char *pass, const char *device,
		const char **err);
/* Drops one user of c (the connection stays pooled until idle). Under g.lock. */
void pool_release(struct hconn *c);
/* Publishes r's pub_* on c now (ready) or when its CONNACK arrives; with
 * want_reply the response topic and correlation data are added. r's
 * pub_* are consumed. The request ends by its on_reply, a PUBACK 0x87 (403),
 * a refused connection (401), a lost one (502) or its deadline (504).
 * Returns 0, or -1 with r's result set (publish failed). Under g.lock. */
int pool_call(struct hconn *c, struct hreq *r);
/* Sets r's call (topic, payload copied; props consumed; a reply callback fn,
 * a deadline timeout_ms from now) and starts it with pool_call on r->conn;
 * on failure r is finished with its error. Under g.lock. */
void pool_start_call(struct hreq *r, const char *topic, const void *payload, int len, mosquitto_property *props,
		bool want_reply, int timeout_ms, hreq_reply_fn fn);
/* Starts the MQTT thread. Returns 0 or -1. */
int pool_start(void);
/* Stops the thread, closes every connection. */
void pool_stop(void);
/* Wakes the MQTT thread (after queueing writes or new connections). */
void pool_wake(void);
/* Counters for /metrics. Under g.lock. */
int pool_count(enum hconn_kind kind);
/* Ends every wait of every connection (shutdown). Under g.lock. */
void pool_abort_all(void);

/* ---- routes ---- */

/* app.c: application endpoints. Return true if they handled (or started) r.
 * Under g.lock; r's result is set or r waits. */
bool app_route(struct hreq *r, char **seg, int nseg);
/* tb.c: the ThingsBoard alias. */
bool tb_route(struct hreq *r, char **seg, int nseg);
/* device.c: ttd device endpoints. */
bool device_route(struct hreq *r, char **seg, int nseg);
/* device.c: a delivery arrived on a device connection (m borrowed). */
void device_on_delivery(struct hconn *c, const struct hmsg *m);
/* device.c: the MQTT thread's timer pass for device connections. */
void device_tick(struct hconn *c, uint64_t now);
/* device.c: frees what a device connection holds. */
void device_conn_free(struct hconn *c);
/* sse.c: GET /api/v1/events. */
bool sse_route(struct hreq *r, char **seg, int nseg);
void sse_on_message(struct hconn *c, const struct hmsg *m);
void sse_tick(struct hconn *c, uint64_t now);
void sse_conn_lost(struct hconn *c, int status, const char *msg);
/* sse.c: r (with a stream) is being freed. Under g.lock. */
void sse_req_gone(struct hreq *r);
/* sse.c: called on MHD's thread when r's response must be made (SUBACK ok). */
struct MHD_Response *sse_response(struct hreq *r);
/* metrics.c: /metrics, /healthz. */
bool metrics_route(struct hreq *r, char **seg, int nseg);
/* static.c: GET/HEAD of a file under --web-dir (the dashboard); false when
 * there is no such file (the caller answers 404). */
bool static_route(struct hreq *r, char **seg, int nseg);

/* Shared helpers of the routes (app.c). */
/* Starts a call on the caller's application connection: topic (copied),
 * payload (copied, len bytes), props (consumed), reply callback. Returns
 * true (r waits or has its result). */
bool app_call(struct hreq *r, const char *topic, const void *payload, int len, mosquitto_property *props,
		bool want_reply, int timeout_ms, hreq_reply_fn fn);
/* As app_call on the connection of user/pass (borrowed) instead of the caller's. */
bool app_call_as(struct hreq *r, const char *user, const char *pass, const char *topic, const void *payload,
		int len, mosquitto_property *props, bool want_reply, int timeout_ms, hreq_reply_fn fn);
/* An admin request {"commands":[cmd]} (cmd consumed) as the caller; fn gets
 * the reply. */
bool admin_call(struct hreq *r, const char *user, const char *pass, struct cJSON *cmd, hreq_reply_fn fn);
/* The first response of an admin reply: its "data" (owned by *doc, which the
 * caller frees with cJSON_Delete) or NULL with r's result set to the error. */
struct cJSON *admin_data(struct hreq *r, int status, const struct hmsg *m, struct cJSON **doc);
/* The reply's bytes as the HTTP result, its status as the HTTP status. */
void app_reply_raw(struct hreq *r, int status, const struct hmsg *m);
/* True if the device id is valid (1..128 bytes, no / + #, not starting with $). */
bool dev_id_ok(const char *dev);

/* server.c: starts libmicrohttpd on g.opt's address (cert, key: PEM text or
 * NULL, borrowed). Sets g.opt.listen_port to the bound port. Returns 0/-1. */
int server_start(const char *cert, const char *key);

/* ---- globals ---- */

struct hglobal {
	pthread_mutex_t lock;
	struct hopts opt;
	struct MHD_Daemon *mhd;
	struct hconn *conns;
	int nconns;
	int npolls;               /* long-polls + SSE streams */
	struct hreq *resume;      /* to resume after dropping the lock */
	uint64_t started_ms;
	uint64_t http_requests, http_class[6]; /* total, answered by class 1xx..5xx */
	volatile int stop;
	const char *openapi;
	size_t openapi_len;
};
extern struct hglobal g;

uint64_t now_ms(void);
/* Logs to stderr with a timestamp (verbose messages only with -v). */
void hlog(bool verbose, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
