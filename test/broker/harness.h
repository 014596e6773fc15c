/* Broker test harness: a real /usr/sbin/mosquitto per test (fresh temp dir,
 * free loopback port, generated config, the plugin loaded unless told not
 * to), real libmosquitto clients on their own loop threads with an inbox,
 * and a shell helper for the CLI clients.
 *
 * Conventions:
 * - Every wait has a timeout; on failure a function returns NULL/false/a
 *   negative C2D_E* value and prints what it expected and what it saw to
 *   stderr (prefix "c2d-harness:"). Tests assert on the return value.
 * - Ownership is stated per function: "borrowed" (caller keeps it, only read
 *   during the call), "copied", "consumed" (the callee frees it), "caller
 *   owns"/"owned by X" for results.
 * - A broker is killed when the test process ends (parent-death signal; Check
 *   also kills the test's process group). A test that ends without
 *   c2d_broker_cleanup (a failed ck_assert) keeps the broker dir and a
 *   watcher prints its path and the end of broker.log. C2D_KEEP=1 in the
 *   environment keeps every dir; C2D_VERBOSE=1 prints each broker's pid,
 *   port, dir and start time.
 * - Start a fresh broker per test; Check forks each test.
 * - Clients never reconnect on their own: after a refused CONNECT, a drop, a
 *   kick or a broker restart the client stays disconnected until the test
 *   calls c2d_client_connect again (same client, same id, same session).
 * - Threads: callbacks run on each client's loop thread and only fill the
 *   inbox/ack state under the client's mutex. Use one client from one test
 *   thread at a time (different clients on different threads are fine);
 *   call the broker functions from the thread that started the broker.
 */
#ifndef C2D_HARNESS_H
#define C2D_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <mosquitto.h>

/* Harness errors (negative; broker reason codes are >= 0). */
#define C2D_EFAIL (-1)     /* a local call failed (see stderr) */
#define C2D_ETIMEDOUT (-2) /* nothing arrived in time */
#define C2D_ENOCONN (-3)   /* not connected, or the connection was lost */

/* Default wait for CONNACK, SUBACK, PUBACK/PUBCOMP, UNSUBACK, DISCONNECT. */
#define C2D_ACK_TIMEOUT_MS 5000
/* How long a broker gets to log "running" (start, restart). */
#define C2D_START_TIMEOUT_MS 10000

#ifndef C2D_MOSQUITTO_BIN
#define C2D_MOSQUITTO_BIN "/usr/sbin/mosquitto"
#endif

/* ---- time ---- */

/* Monotonic milliseconds. */
uint64_t c2d_now_ms(void);
/* Sleeps ms milliseconds. */
void c2d_sleep_ms(int ms);
/* printf into a new string. Returns: caller owns (free()); never NULL
 * (aborts on out of memory). */
char *c2d_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- broker ---- */

/* A port that was free on 127.0.0.1 a moment ago (for a second listener
 * in opts->conf); -1 on error. */
int c2d_free_port(void);

/* A file written into the broker dir before the broker starts. */
struct c2d_broker_file {
	const char *name;    /* relative to the broker dir */
	const char *content; /* "@DIR@" is replaced by the broker dir */
};

/* Start options, all optional (zero = default). Every text field may use
 * "@DIR@" for the broker's temp dir. All borrowed during start. */
struct c2d_broker_opts {
	bool no_plugin;           /* do not load C2D_PLUGIN_PATH */
	const char *plugin_opts;  /* extra "plugin_opt_x y\n" lines */
	const char *conf_pre;     /* lines before the listener (per_listener_settings true) */
	const char *conf;         /* lines after the plugin (and acl_file) lines */
	const char *acl;          /* content of <dir>/acl, adds "acl_file <dir>/acl" */
	const struct c2d_broker_file *files; /* written before start; ends at name NULL */
	bool expect_fail;         /* the broker is expected to exit before "running" */
	bool write_faults;        /* preload C2D_FAULTFS_PATH: c2d_broker_fail_writes works */
};

/* A broker process and its dir. Fields are read-only for tests. */
struct c2d_broker {
	pid_t pid;        /* running process, 0 when not running */
	int port;         /* listener port on 127.0.0.1 */
	int exit_status;  /* last exit: exit code, or 128+signal; -1 = never exited */
	bool keep;        /* set to keep the dir at cleanup */
	char dir[256];    /* temp dir: conf, broker.log, broker.stderr, db/ */
	char conf_path[320];
	char log_path[320];
	char db_path[320]; /* passed as plugin_opt_db_path */
	long log_mark;    /* log searches start at this byte offset */
	/* internal */
	bool write_faults;
	pid_t watcher_pid;
	int watcher_fd;
	char **paths;
	size_t npaths;
};

/* Creates the dir and config and starts the broker; waits until the log says
 * "mosquitto version ... running" (C2D_START_TIMEOUT_MS) or the process exits.
 * opts: borrowed, NULL = defaults (plugin loaded).
 * Returns: caller owns (c2d_broker_cleanup). NULL when it did not start (the
 * log and the broker's stderr are printed). With opts->expect_fail: returns
 * the stopped broker (pid 0, exit_status set, log readable) when it failed as
 * expected, NULL (and a diagnostic) when it ran. */
struct c2d_broker *c2d_broker_start(const struct c2d_broker_opts *opts);

/* SIGTERM, wait up to 10 s, then SIGKILL. b: borrowed.
 * Returns: the broker's exit code after SIGTERM (0 = clean), -1 if it was
 * not running or had to be killed. */
int c2d_broker_stop(struct c2d_broker *b);

/* SIGKILL and reap (a crash). b: borrowed. Returns 0, -1 if not running. */
int c2d_broker_kill9(struct c2d_broker *b);

/* Starts the broker again with the same dir, port, db and config (stops it
 * first if it is running) and waits for "running" logged after the restart.
 * Moves the log mark to the restart. b: borrowed. Returns 0, -1 on failure
 * (log printed). */
int c2d_broker_restart(struct c2d_broker *b);

/* SIGHUP (config reload) and wait until the broker logs "Reloading config."
 * (the reload finishes later in that loop pass). b: borrowed.
 * Returns 0, -1 on failure. */
int c2d_broker_sighup(struct c2d_broker *b);

/* True while the process runs (reaps it, setting exit_status, if it ended).
 * b: borrowed. */
bool c2d_broker_alive(struct c2d_broker *b);

/* Log searches (contains, wait, count, text) only look at text written after
 * this point. b: borrowed. */
void c2d_broker_log_mark(struct c2d_broker *b);

/* True if the log after the mark contains needle. Both borrowed. */
bool c2d_broker_log_contains(struct c2d_broker *b, const char *needle);

/* Waits up to timeout_ms until the log after the mark contains needle.
 * Returns early (false) if the broker exits without it. On failure prints the
 * log after the mark. Both borrowed. */
bool c2d_broker_wait_log(struct c2d_broker *b, const char *needle, int timeout_ms);

/* Number of occurrences of needle in the log after the mark. Both borrowed. */
int c2d_broker_log_count(struct c2d_broker *b, const char *needle);

/* The log text after the mark. Returns: caller owns (free()); "" if empty,
 * NULL on error. b: borrowed. */
char *c2d_broker_log_text(struct c2d_broker *b);

/* Which of the broker's writes to data.mdb fail (test/broker/faultfs.c). */
enum c2d_write_fault {
	C2D_WRITES_OK,     /* none */
	C2D_WRITES_ENOSPC, /* data pages, ENOSPC: a full disk */
	C2D_WRITES_META,   /* meta pages only, EIO: LMDB's environment fails */
};

/* With opts->write_faults: from the broker's next write on, the writes of
 * `which` fail. b: borrowed. */
void c2d_broker_fail_writes(struct c2d_broker *b, enum c2d_write_fault which);

/* Prints the whole log and the broker's stderr to stderr. b: borrowed. */
void c2d_broker_dump_log(struct c2d_broker *b);

/* Writes content to <dir>/name (replacing it; e.g. an acl file before a
 * SIGHUP). Both borrowed. Returns: the path, owned by b (valid until
 * cleanup), NULL on error. */
const char *c2d_broker_write_file(struct c2d_broker *b, const char *name, const char *content);

/* Stops the broker if running, removes the dir (kept and printed if b->keep or
 * C2D_KEEP=1) and frees b. b: consumed; NULL is fine. */
void c2d_broker_cleanup(struct c2d_broker *b);

/* ---- messages ---- */

struct c2d_user_prop {
	char *key;
	char *value;
};

/* A received message; owns copies of everything. v5-only fields are
 * NULL/0/false when absent (always for a v3.1.1 client). */
struct c2d_msg {
	char *topic;
	char *payload;         /* payloadlen bytes plus a NUL (text convenience) */
	int payloadlen;
	int qos;
	bool retain;
	int mid;
	void *corr;            /* correlation data */
	int corr_len;
	char *response_topic;
	char *content_type;
	bool has_expiry;       /* message expiry interval present */
	uint32_t expiry;       /* remaining seconds as sent by the broker */
	struct c2d_user_prop *user_props; /* in arrival order */
	int user_prop_count;
	mosquitto_property *props; /* full copy of the v5 properties */
	struct c2d_msg *next;  /* internal (inbox link) */
};

/* First user property named key. m, key: borrowed. Returns: owned by m,
 * NULL if absent. */
const char *c2d_msg_user_prop(const struct c2d_msg *m, const char *key);

/* True if m's correlation data equals corr/len. Borrowed. */
bool c2d_msg_corr_eq(const struct c2d_msg *m, const void *corr, int len);

/* Frees m. m: consumed; NULL is fine. */
void c2d_msg_free(struct c2d_msg *m);

/* ---- v5 properties ---- */

/* Convenience publish properties; zero fields are left out. Borrowed. */
struct c2d_props {
	const char *response_topic;
	const void *corr;       /* correlation data */
	int corr_len;           /* 0 with corr set: strlen(corr) */
	const char *content_type;
	uint32_t expiry;        /* message expiry interval, 0 = none */
	const char *const *user; /* key, value, key, value, ..., NULL */
};

/* Builds a property list from p (borrowed). Returns: caller owns
 * (mosquitto_property_free_all); NULL if p has nothing or on error (printed). */
mosquitto_property *c2d_props_build(const struct c2d_props *p);

/* ---- clients ---- */

struct c2d_client;

/* A libmosquitto client (not connected yet). id: copied; NULL only with
 * clean (broker-assigned id). protocol: MQTT_PROTOCOL_V5 or MQTT_PROTOCOL_V311.
 * Returns: caller owns (c2d_client_destroy), NULL on error. */
struct c2d_client *c2d_client_new(const char *id, int protocol, bool clean);

/* Username/password for the next connect. Copied; pass may be NULL.
 * Returns 0 or C2D_EFAIL. */
int c2d_client_set_login(struct c2d_client *c, const char *user, const char *pass);

/* Will for the next connect. topic, payload (len bytes, len < 0: strlen),
 * props (v5 only): copied. Returns 0 or C2D_EFAIL. */
int c2d_client_set_will(struct c2d_client *c, const char *topic, const void *payload, int len,
		int qos, bool retain, const mosquitto_property *props);

/* v5: session expiry interval sent with the next connect (0 = none). */
void c2d_client_set_session_expiry(struct c2d_client *c, uint32_t seconds);

/* Connects to 127.0.0.1:b->port (keepalive 60) and waits for CONNACK.
 * b: borrowed. A client that is already connected is disconnected first.
 * Returns the CONNACK reason code (0 = accepted; v5 e.g. 0x87, v3 e.g. 5),
 * or C2D_EFAIL (TCP connect failed), C2D_ETIMEDOUT, C2D_ENOCONN (closed
 * before CONNACK). */
int c2d_client_connect(struct c2d_client *c, const struct c2d_broker *b);

/* As c2d_client_connect with an explicit port, keepalive (seconds) and v5
 * CONNECT properties (borrowed, may be NULL). */
int c2d_client_connect_ex(struct c2d_client *c, int port, int keepalive, const mosquitto_property *props);

/* new + connect, requiring CONNACK 0. id: copied. Returns: caller owns,
 * NULL on any failure (printed). */
struct c2d_client *c2d_client_new_connected(const struct c2d_broker *b, const char *id, int protocol, bool clean);

/* True between a successful CONNACK and the connection's end. */
bool c2d_client_is_connected(struct c2d_client *c);

/* Session-present flag of the last CONNACK. */
bool c2d_client_session_present(struct c2d_client *c);

/* The client id. Returns: owned by c. */
const char *c2d_client_id(const struct c2d_client *c);

/* The libmosquitto handle (its loop runs on another thread). Owned by c. */
struct mosquitto *c2d_client_mosq(struct c2d_client *c);

/* Subscribes and waits for SUBACK. filter: borrowed.
 * Returns the granted QoS (0..2), the broker's failure code (>= 0x80), or a
 * negative C2D_E*. */
int c2d_client_subscribe(struct c2d_client *c, const char *filter, int qos);

/* As c2d_client_subscribe with v5 subscription options (MQTT_SUB_OPT_*) and
 * properties (borrowed, may be NULL). */
int c2d_client_subscribe_v5(struct c2d_client *c, const char *filter, int qos, int options,
		const mosquitto_property *props);

/* Unsubscribes and waits for UNSUBACK. filter: borrowed. Returns 0 or C2D_E*. */
int c2d_client_unsubscribe(struct c2d_client *c, const char *filter);

/* Publishes payload (len bytes; len < 0: strlen(payload); NULL/0: empty)
 * with props (v5 only, may be NULL). topic, payload, props: borrowed.
 * QoS 0 waits until it is written, QoS 1/2 until PUBACK/PUBCOMP.
 * Returns the reason code: 0 success, 0x10 no matching subscribers,
 * 0x87 not authorized (v3.1.1 always 0); or a negative C2D_E*. */
int c2d_client_publish(struct c2d_client *c, const char *topic, const void *payload, int len,
		int qos, bool retain, const mosquitto_property *props);

/* Waits up to timeout_ms for a message whose topic matches filter (NULL:
 * any), removing it from the inbox (earlier non-matching ones stay).
 * filter: borrowed. Returns: caller owns (c2d_msg_free), NULL on timeout
 * (prints what is in the inbox). */
struct c2d_msg *c2d_client_wait_msg(struct c2d_client *c, const char *filter, int timeout_ms);

/* As c2d_client_wait_msg, also requiring correlation data corr/len
 * (borrowed). */
struct c2d_msg *c2d_client_wait_corr(struct c2d_client *c, const char *filter, const void *corr, int len,
		int timeout_ms);

/* True if no message matching filter (NULL: any) is in the inbox or arrives
 * within ms; otherwise prints it (and leaves it in the inbox). */
bool c2d_client_expect_none(struct c2d_client *c, const char *filter, int ms);

/* Messages waiting in the inbox. */
size_t c2d_client_inbox_count(struct c2d_client *c);

/* Drops every message in the inbox. */
void c2d_client_inbox_clear(struct c2d_client *c);

/* A request for c2d_client_request. In fields borrowed during the call. */
struct c2d_request {
	const char *topic;
	const void *payload;
	int len;                       /* < 0: strlen(payload) */
	int qos;
	const char *response_topic;    /* NULL: a fresh c2d-test/reply/<pid>/<n> */
	const mosquitto_property *props; /* extra properties (user properties...), copied */
	int timeout_ms;                /* for the reply; 0: 5000 */
	int puback_rc;                 /* out: c2d_client_publish's result */
};

/* v5 request/response: subscribes to the response topic (QoS 1), publishes
 * with it and fresh correlation data, and waits for a message on the
 * response topic carrying the same correlation data. req: borrowed, its
 * puback_rc is set. Returns: caller owns the reply, NULL on failure. */
struct c2d_msg *c2d_client_request(struct c2d_client *c, struct c2d_request *req);

/* Clean DISCONNECT (no will); waits for the loop to end. The client can
 * connect again. Returns 0, C2D_ENOCONN if it was not connected. */
int c2d_client_disconnect(struct c2d_client *c);

/* Closes the connection without DISCONNECT (shutdown() of the socket): the
 * broker sees the connection end and publishes the will. Waits until the
 * client saw it. The client can connect again. Returns 0 or C2D_E*. */
int c2d_client_drop(struct c2d_client *c);

/* Waits up to timeout_ms until the connection made by the last connect ends
 * (e.g. the broker kicks the client); returns at once if it already ended.
 * Returns libmosquitto's disconnect rc (0 clean, 7 connection lost, a v5
 * DISCONNECT reason code from the broker), C2D_ETIMEDOUT, or C2D_ENOCONN if
 * the client never connected. */
int c2d_client_wait_disconnect(struct c2d_client *c, int timeout_ms);

/* Disconnects cleanly if connected, stops the loop, frees c and its inbox.
 * c: consumed; NULL is fine. */
void c2d_client_destroy(struct c2d_client *c);

/* ---- shell (mosquitto_pub, mosquitto_sub, mosquitto_rr) ---- */

struct c2d_proc;

/* Runs cmd with /bin/sh -c in the background, capturing its stdout (stderr
 * passes through). cmd: borrowed. Returns: caller owns (c2d_proc_wait),
 * NULL on error. */
struct c2d_proc *c2d_proc_start(const char *cmd);

/* Collects stdout until the command ends or timeout_ms passes (then its
 * process group is killed). p: consumed. out: if not NULL, set to the
 * captured stdout (caller owns, free()), even on timeout.
 * Returns the exit code (0..255, 128+signal), C2D_ETIMEDOUT or C2D_EFAIL. */
int c2d_proc_wait(struct c2d_proc *p, int timeout_ms, char **out);

/* c2d_proc_start + c2d_proc_wait. */
int c2d_sh(const char *cmd, int timeout_ms, char **out);

/* ---- suite helpers (crash, resources, isolation; usable by any suite) ---- */

/* Hashes a password file: plain_lines ("user:password" lines, borrowed) go
 * through mosquitto_passwd -U in a temp dir. Returns the content for a
 * password_file (caller owns, free()), NULL on failure (printed). */
char *c2d_passwd_hash(const char *plain_lines);

/* The queue depth of device dev from the admin API ($CONTROL/c2d/v1
 * getDevice), asked by op (a v5 client allowed to write $CONTROL/c2d/v1).
 * Both borrowed. Returns the depth (>= 0) or C2D_EFAIL (printed). */
long c2d_admin_queue_depth(struct c2d_client *op, const char *dev);

/* What a device received while draining its queue. All owned by the struct
 * (c2d_drain_free). */
struct c2d_drain {
	char **msgs;        /* payloads of in/msg deliveries, in arrival order */
	int *msg_lens;
	size_t nmsgs;
	size_t ntwin;       /* in/twin deliveries */
	char *twin;         /* payload of the last in/twin delivery, NULL if none */
	size_t nother;      /* other deliveries (in/rpc/...) */
};

/* Acts as the device the connected client dev is (its client id): answers
 * every delivery on $c2d/{id}/in/# with 200 (v5 on the delivery's response
 * topic, v3.1.1 on $c2d/{id}/out/res/{delivery id}) and appends it to out,
 * until no delivery arrived for quiet_ms and (op not NULL) the admin API
 * reports queue depth 0 for the device, or `limit` deliveries were answered
 * (0 = no limit), or timeout_ms pass. dev, op: borrowed; out: zeroed by the
 * caller before the first call (calls append), freed with c2d_drain_free
 * (also after a failure). Returns 0 when drained or at the limit,
 * C2D_ETIMEDOUT, or the failed answer's C2D_E* / reason code (printed). */
int c2d_device_drain(struct c2d_client *dev, struct c2d_client *op, int quiet_ms, int timeout_ms,
		size_t limit, struct c2d_drain *out);

/* Frees what d holds (not d itself); d may be NULL. */
void c2d_drain_free(struct c2d_drain *d);

#endif
