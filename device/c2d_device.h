/* libc2d-device: the device side of mosquitto-c2d on libmosquitto.
 *
 * A device registers handlers (RPC by method name, messages, desired state),
 * connects once and calls c2d_device_loop() in its main loop. The library
 * parses $c2d/{dev}/in/... deliveries, runs the handler, answers on
 * $c2d/{dev}/out/res/{id}/{status}, sends hello on every connect, reconnects
 * with back-off, answers redeliveries from its memory of recent answers, and
 * keeps reported state and results made while offline until it is back.
 * docs/device-library.md walks through every function with examples.
 *
 * Conventions (as in LMDB's lmdb.h):
 * - Functions returning int return 0 (C2D_DEVICE_OK) on success or one of the
 *   C2D_DEVICE_E* codes below; c2d_device_strerror() names them.
 * - Every pointer argument is borrowed (only read during the call) and every
 *   string is copied when the library keeps it, unless a comment says
 *   otherwise. Pointers handed to callbacks are valid during the callback
 *   only: copy what you keep.
 * - A struct c2d_device is single-threaded: call its functions from one
 *   thread. Callbacks run inside c2d_device_loop() (and, for the connection
 *   callback, inside c2d_device_connect()/c2d_device_disconnect()), on that
 *   thread; they may call any function of the same device except
 *   c2d_device_loop() and c2d_device_free().
 * - Statuses are HTTP-like as in docs/protocol.md: 2xx done (202 = accepted,
 *   the result follows), 4xx rejected, 5xx failed; handlers return one in
 *   100..599 (anything else is sent as 500).
 */
#ifndef C2D_DEVICE_H
#define C2D_DEVICE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define C2D_DEVICE_VERSION "1.0.0"

/* Return codes. */
#define C2D_DEVICE_OK 0
#define C2D_DEVICE_EINVAL 1    /* an invalid argument (id, method, JSON, range) */
#define C2D_DEVICE_ENOMEM 2    /* out of memory */
#define C2D_DEVICE_ESTATE 3    /* not allowed now (e.g. a setter after connect, loop before connect) */
#define C2D_DEVICE_ENOTFOUND 4 /* no accepted delivery with that id */
#define C2D_DEVICE_ETLS 5      /* TLS set-up failed (unreadable or mismatched files) */
#define C2D_DEVICE_ECONNECT 6  /* the connection attempt failed at once (the device keeps trying) */
#define C2D_DEVICE_EMQTT 7     /* libmosquitto refused the operation */
#define C2D_DEVICE_ECLOSED 8   /* c2d_device_disconnect() was called: the loop has ended */

/* Statuses the library makes itself (no handler ran or no reply came). */
#define C2D_STATUS_NOT_IMPLEMENTED 501 /* a delivery without a handler */
#define C2D_STATUS_CONNECTION_LOST 503 /* a call in flight when the connection dropped */
#define C2D_STATUS_TIMEOUT 504         /* a call without a reply within its timeout */

struct c2d_device;
struct c2d_result;

/* ---- lifetime and settings ---- */

/* A device with client id device_id (1..128 bytes, no '/', '+', '#', not
 * starting with '$') that will connect to host:port (port 0: 1883). Nothing
 * is sent before c2d_device_connect(). device_id, host: copied.
 * Returns: caller owns (c2d_device_free); NULL for an invalid id, a NULL
 * host or out of memory. */
struct c2d_device *c2d_device_new(const char *device_id, const char *host, int port);

/* MQTT CONNECT username/password. Both copied; password may be NULL.
 * Errors: EINVAL (username NULL), ESTATE (after connect), ENOMEM. */
int c2d_device_set_credentials(struct c2d_device *d, const char *username, const char *password);

/* TLS: verify the broker with cafile (PEM; required) and, when certfile and
 * keyfile are given (both or neither), present that client certificate.
 * The files are read at each connect; the broker's certificate must name
 * the host (subjectAltName DNS or IP). Paths copied.
 * Errors: EINVAL (cafile NULL, only one of certfile/keyfile), ETLS (a file
 * cannot be read), ESTATE (after connect). */
int c2d_device_set_tls(struct c2d_device *d, const char *cafile, const char *certfile, const char *keyfile);

/* MQTT version: 5 (the default) or 4 (3.1.1; ids come from topics, nothing
 * else changes for handlers). Errors: EINVAL, ESTATE (after connect). */
int c2d_device_set_protocol(struct c2d_device *d, int mqtt_version);

/* Keepalive in seconds (5..65535, default 60). Errors: EINVAL, ESTATE. */
int c2d_device_set_keepalive(struct c2d_device *d, int seconds);

/* Reconnect back-off: the first retry after min_ms, doubling up to max_ms,
 * each delay with up to 25% random jitter subtracted; back to min_ms after a
 * connection was accepted. Defaults 1000 and 60000; 10 <= min_ms <= max_ms.
 * May be called at any time. Errors: EINVAL. */
int c2d_device_set_reconnect(struct c2d_device *d, int min_ms, int max_ms);

/* The JSON object sent as hello on every connect ($c2d/{dev}/out/hello,
 * QoS 1), merged by the platform into the device's info (firmware, model,
 * capabilities). The library adds "sdk":"libc2d-device/<version>" unless
 * the object has "sdk". info_json: copied; NULL sends only the sdk member.
 * May be called at any time (used from the next connect). A sub-device
 * (gateway mode) sends its hello, without "sdk", after each announcement,
 * and none without info (NULL: none again). Errors: EINVAL (not a JSON
 * object), ENOMEM. */
int c2d_device_set_info(struct c2d_device *d, const char *info_json);

/* Memory of recent answers for redeliveries: at most `entries` answered
 * deliveries (1..4096, default 64) holding at most `max_bytes` result bytes
 * in all (default 65536; the newest answer is always kept, whatever its
 * size). Oldest first out. Errors: EINVAL, ESTATE (after connect). */
int c2d_device_set_dedup(struct c2d_device *d, int entries, size_t max_bytes);

/* Disconnects (if connected) and frees d and everything it holds; handlers
 * and callbacks are not called, pending calls are dropped without their
 * callback. d: consumed; NULL is fine. */
void c2d_device_free(struct c2d_device *d);

/* The device id. Returns: owned by d. */
const char *c2d_device_id(const struct c2d_device *d);

/* ---- handlers ---- */

/* An RPC handler. method: the called method; params: len bytes (not
 * NUL-terminated in general: the library adds a NUL after them, so JSON
 * text can be read as a string). Set the result bytes with
 * c2d_result_set(res, ...). Returns the status: 2xx sends the result, 202
 * accepts the call and the result follows later with c2d_device_result()
 * (keep c2d_result_id(res)), 4xx/5xx send the result as the error. All
 * pointers valid during the call only. */
typedef int (*c2d_rpc_fn)(struct c2d_device *d, const char *method, const void *params, size_t len,
		struct c2d_result *res, void *ud);

/* Sets the result bytes of the delivery being handled (len bytes, copied;
 * NULL/0: empty). Calling it again replaces them. Out of memory: the answer
 * is sent with status 500 and no bytes. */
void c2d_result_set(struct c2d_result *res, const void *bytes, size_t len);

/* The delivery id ("q7", "l3") of the call being handled. Returns: owned by
 * res, valid during the handler (copy it to answer later). */
const char *c2d_result_id(const struct c2d_result *res);

/* Registers fn for RPC method (1..128 bytes, a single topic level not
 * starting with '$'), or with method NULL the default handler for every
 * method without its own. Registering a method again replaces its handler;
 * fn NULL removes it. method: copied; ud: borrowed (passed to fn).
 * A call without any handler is answered 501. Errors: EINVAL, ENOMEM. */
int c2d_device_on_rpc(struct c2d_device *d, const char *method, c2d_rpc_fn fn, void *ud);

/* A message handler (a queued message from $c2d/{dev}/msg). id: the
 * delivery id; payload: len bytes plus a NUL. Returns the outcome: 2xx
 * completed, 4xx rejected (not redelivered), 5xx failed (delivered again
 * later by the platform). */
typedef int (*c2d_msg_fn)(struct c2d_device *d, const char *id, const void *payload, size_t len, void *ud);

/* Sets (fn NULL: removes) the message handler; without one messages are
 * answered 501. ud: borrowed. Errors: none (returns 0). */
int c2d_device_on_message(struct c2d_device *d, c2d_msg_fn fn, void *ud);

/* A desired-state handler. version: the desired version this brings the
 * device to; patch_json: an RFC 7396 merge patch from the last version the
 * device acknowledged (null members delete), or with full = 1 the whole
 * desired document (replace your copy). After an offline period this is
 * one call with every change merged. Returns the status: 2xx acknowledges
 * the version (the platform then sends only later changes), 4xx/5xx reject
 * it (the same changes come again with the next push or reconnect). */
typedef int (*c2d_desired_fn)(struct c2d_device *d, long long version, const char *patch_json, int full,
		void *ud);

/* Sets (fn NULL: removes) the desired-state handler; without one pushes are
 * answered 501 (not acknowledged). ud: borrowed. Errors: none (returns 0). */
int c2d_device_on_desired(struct c2d_device *d, c2d_desired_fn fn, void *ud);

/* The last desired version a handler acknowledged in this process (0 at
 * first). */
long long c2d_device_desired_version(const struct c2d_device *d);

/* Connection changes: connected = 1 after the broker accepted the CONNECT
 * (hello already sent), 0 when a connection ends or an attempt fails.
 * reason: 0, a CONNACK reason code (e.g. 0x87 / 5 not authorized), or a
 * libmosquitto error code when the connection was lost; text says it in
 * words. Pointers valid during the call. */
typedef void (*c2d_conn_fn)(struct c2d_device *d, int connected, int reason, const char *text, void *ud);

/* Sets (fn NULL: removes) the connection callback. ud: borrowed. Returns 0. */
int c2d_device_on_connection(struct c2d_device *d, c2d_conn_fn fn, void *ud);

/* ---- answers, state and calls ---- */

/* Sends the final result of a call its handler accepted with 202. id: from
 * c2d_result_id() (copied); status 100..599 (not 202); bytes: len bytes,
 * copied. While offline the result is kept and sent on the next connect.
 * Errors: EINVAL, ENOTFOUND (no accepted call with that id), ENOMEM. */
int c2d_device_result(struct c2d_device *d, const char *id, int status, const void *bytes, size_t len);

/* Reports state: patch_json is an RFC 7396 merge patch of reported
 * properties (copied). Sent at once when connected (QoS 1 on
 * $c2d/{dev}/out/reported); reports made while offline are merged into one
 * patch that is sent on the next connect. Errors: EINVAL (not a JSON
 * object), ENOMEM. */
int c2d_device_report(struct c2d_device *d, const char *patch_json);

/* A reply to a device call. status: the platform's or application's status,
 * or C2D_STATUS_TIMEOUT / C2D_STATUS_CONNECTION_LOST made by the library;
 * body: len bytes plus a NUL, valid during the call. */
typedef void (*c2d_call_fn)(struct c2d_device *d, int status, const void *body, size_t len, void *ud);

/* Calls the platform: method "time" ({"time":<epoch ms>}), "twin" (the full
 * twin) or any other method, which applications serve on
 * $c2d/{dev}/call/{method}. params_json: JSON text or NULL (empty), copied.
 * timeout_ms: 1..3600000 (0: 10000). fn (required) runs exactly once, inside
 * c2d_device_loop(): with the reply, with 504 when none came in time, with
 * 503 when the connection dropped after the call was sent. A call made while
 * offline is sent on the next connect (its timeout runs from now).
 * ud: borrowed. Errors: EINVAL, ENOMEM. */
int c2d_device_call(struct c2d_device *d, const char *method, const char *params_json, int timeout_ms,
		c2d_call_fn fn, void *ud);

/* ---- connection and loop ---- */

/* Starts connecting (clean session). From then on the device stays
 * connected: c2d_device_loop() reconnects with back-off after a failure or a
 * drop, and sends hello on every connect. Returns 0 when the first attempt
 * is under way; ECONNECT when it failed at once (e.g. connection refused,
 * unknown host) while the device still retries in c2d_device_loop(); ETLS
 * (TLS set-up), ESTATE (already connected or connecting). */
int c2d_device_connect(struct c2d_device *d);

/* One pass, like mosquitto_loop(): waits up to timeout_ms (0..60000) for
 * network traffic, the next reconnect attempt or the next call timeout,
 * runs what is due (handlers, callbacks) and returns. Never busy: with
 * nothing to do it sleeps until timeout_ms or the next due time. Returns 0
 * (also while disconnected and retrying), ESTATE before
 * c2d_device_connect(), ECLOSED after c2d_device_disconnect(), EINVAL. */
int c2d_device_loop(struct c2d_device *d, int timeout_ms);

/* Disconnects cleanly and stops reconnecting; pending calls get 503.
 * c2d_device_connect() may start again. Errors: ESTATE (not connecting). */
int c2d_device_disconnect(struct c2d_device *d);

/* 1 while connected (CONNACK accepted and not lost), else 0. */
int c2d_device_is_connected(const struct c2d_device *d);

/* A text for rc (0 and every C2D_DEVICE_E* code). Returns: static text. */
const char *c2d_device_strerror(int rc);

/* ---- gateway mode (protocol v2 section 4; docs/device-library.md) ----
 *
 * A gateway is a device (c2d_device_new as usual) whose connection also
 * carries sub-devices that the platform's registry assigned to it
 * (setGateway). A sub-device handle takes every handler, callback, answer,
 * report and call function above; they run inside the gateway's
 * c2d_device_loop() and publish on $c2d/{sub}/out/... through the
 * gateway's connection while the sub-device is announced. Connection and
 * loop functions and the connection settings (credentials, TLS, protocol,
 * keepalive, reconnect) return ESTATE for a sub-device.
 * c2d_device_is_connected(sub) is 1 while it is announced on the connected
 * gateway. Its connection callback gets connected = 1 at each announcement
 * (also the ones after a gateway reconnect), and 0 with reason 0 when it is
 * withdrawn or the gateway disconnected, the gateway's reason when the
 * gateway's connection was lost, or the platform's status (403: not
 * assigned to this gateway) when the platform refused the sub-device (its
 * announcement or a write for it), with the platform's error as text. */

/* The sub-device sub_id of gateway gw (an id as for c2d_device_new, not
 * gw's own; copied), created on the first call (not announced), the same
 * handle on later calls. gw may be connected. Returns: owned by gw (freed
 * with it, or earlier with c2d_device_free(sub), which withdraws it); NULL
 * for an invalid id, gw's own id, gw a sub-device, or out of memory. */
struct c2d_device *c2d_device_gateway_sub(struct c2d_device *gw, const char *sub_id);

/* The gateway of a sub-device; NULL for a device that is not one.
 * Returns: borrowed. */
struct c2d_device *c2d_device_gateway(const struct c2d_device *sub);

/* Announces sub online ($c2d/{gw}/out/gw/connect/{sub}) now if the gateway
 * is connected, and again after every connect of the gateway (all its
 * announced sub-devices in one list-form publish, $c2d/{gw}/out/gw/connect
 * ["s1",...]), until withdrawn; then sends its hello (if it has info, see
 * c2d_device_set_info) and what sub kept while offline (results, the merged
 * report, calls). Announcing an online sub-device
 * again sends nothing; a refused one is announced again. Errors: EINVAL
 * (not a sub-device). */
int c2d_device_gateway_announce(struct c2d_device *sub);

/* Withdraws sub ($c2d/{gw}/out/gw/disconnect/{sub} if it is online) and
 * stops announcing it; its pending calls get 503. Errors: EINVAL (not a
 * sub-device). */
int c2d_device_gateway_withdraw(struct c2d_device *sub);

#ifdef __cplusplus
}
#endif

#endif
