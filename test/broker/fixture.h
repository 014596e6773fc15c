/* Check-aware fixtures shared by the broker suites (test/broker/test_*.c),
 * built on harness.h. Unlike the harness, these helpers assert: a failure
 * ends the test through ck_assert/ck_abort_msg with a message, so they may
 * only be called from a Check test (or what it calls).
 *
 * Ownership is stated per function as in harness.h: "borrowed" (caller keeps
 * it, only read during the call), "copied", "consumed" (the callee frees
 * it), "caller owns" for results. Per-suite specifics (payload shapes, the
 * feature under test) stay in the suites. */
#ifndef C2D_FIXTURE_H
#define C2D_FIXTURE_H

#include <cjson/cJSON.h>

#include "harness.h"

/* The reply topic of the application made by fx_app and used by fx_send and
 * fx_reply. */
#define FX_REPLIES "replies/app"
/* How long the fixtures wait for a reply, event or delivery. */
#define FX_WAIT_MS 3000

/* ---- broker and clients ---- */

/* Starts a broker with the plugin and extra plugin options (borrowed, NULL =
 * none); asserts it started. Returns: caller owns (c2d_broker_cleanup). */
struct c2d_broker *fx_start(const char *plugin_opts);

/* Starts a broker with the plugin whose clients log in: a password_file
 * made from plain_lines ("user:password\n" lines, hashed as by fx_passwd),
 * acl as the acl_file (NULL: none) and conf_extra after the password_file
 * line (NULL: none). All borrowed. Asserts it started. Returns: caller owns
 * (c2d_broker_cleanup). */
struct c2d_broker *fx_start_login(const char *plain_lines, const char *acl, const char *conf_extra);

/* A clean-session client connected to b (borrowed); id copied. Asserts
 * CONNACK 0. Returns: caller owns (c2d_client_destroy). */
struct c2d_client *fx_client(struct c2d_broker *b, const char *id, int protocol);

/* A v5 client `id` (copied) subscribed to filter (borrowed) at QoS 1 (asserts
 * granted QoS 1). Returns: caller owns. */
struct c2d_client *fx_subscriber(struct c2d_broker *b, const char *id, const char *filter);

/* The application: v5 client "app" subscribed to reply_topic (borrowed;
 * usually FX_REPLIES). Returns: caller owns. */
struct c2d_client *fx_app(struct c2d_broker *b, const char *reply_topic);

/* A monitor: v5 client "mon" subscribed to the event filter (borrowed), e.g.
 * "$c2d/+/events/#". Returns: caller owns. */
struct c2d_client *fx_monitor(struct c2d_broker *b, const char *filter);

/* A clean-session device `id` (copied) connected to b. With mon (borrowed,
 * subscribed to the device's presence events; NULL: do not wait), the
 * monitor's inbox is cleared first and the call returns only once the plugin
 * confirmed the device online (c2d.presence.connected). Returns: caller owns. */
struct c2d_client *fx_device(struct c2d_broker *b, struct c2d_client *mon, const char *id, int protocol);

/* A clean-session client `id` (copied) logging in as user `id` with
 * password pass (copied); asserts CONNACK 0. Returns: caller owns. */
struct c2d_client *fx_login(struct c2d_broker *b, const char *id, const char *pass, int protocol);

/* Disconnects dev (borrowed; asserts a clean DISCONNECT) and gives the broker
 * 150 ms to see it. */
void fx_offline(struct c2d_client *dev);

/* A password_file for plain_lines ("user:password\n" lines, borrowed), hashed
 * by c2d_passwd_hash; asserts it worked. Returns: caller owns (free()). */
char *fx_passwd(const char *plain_lines);

/* ---- payloads and requests ---- */

/* m's payload parsed as JSON; asserts it is JSON. m: borrowed.
 * Returns: caller owns (cJSON_Delete). */
cJSON *fx_json(const struct c2d_msg *m);

/* Receives the next message on topic (borrowed) at c within FX_WAIT_MS and
 * asserts its topic, payload (len bytes), qos and retain flag. */
void fx_expect_msg(struct c2d_client *c, const char *topic, const void *payload, int len, int qos, bool retain);

/* c2d_client_request on topic with payload (both borrowed), QoS 1, the
 * harness's reply topic; asserts a reply came and, unless expect_status is
 * NULL, that its "status" user property is expect_status.
 * Returns: the reply, caller owns (c2d_msg_free). */
struct c2d_msg *fx_request(struct c2d_client *app, const char *topic, const char *payload,
		const char *expect_status);

/* Publishes payload to topic at QoS 1 with response topic FX_REPLIES,
 * correlation data corr (a string) and user properties (key, value, ...,
 * NULL; or NULL); asserts the PUBACK and a reply for corr whose "status" is
 * expect_status. All borrowed. Returns: the reply, caller owns. */
struct c2d_msg *fx_send(struct c2d_client *app, const char *topic, const char *payload, const char *corr,
		const char *const *user, const char *expect_status);

/* Waits for the next reply for corr (borrowed) on FX_REPLIES (a later one:
 * final feedback, an RPC result) and asserts its "status" is expect_status.
 * Returns: the reply, caller owns. */
struct c2d_msg *fx_reply(struct c2d_client *app, const char *corr, const char *expect_status);

/* The plugin's final reply for corr (borrowed) on FX_REPLIES: JSON
 * {"id","state","status"} with that id, state (borrowed) and status, as
 * application/json. */
void fx_expect_final(struct c2d_client *app, const char *corr, const char *id, const char *state, int status);

/* Waits up to wait_ms for the plugin's final feedback for corr (borrowed)
 * on FX_REPLIES, {"id","state","status"}, and asserts its state (borrowed)
 * and status (user property and member). */
void fx_final(struct c2d_client *app, const char *corr, const char *state, int status, int wait_ms);

/* One admin command (a JSON object's text, borrowed) on $CONTROL/c2d/v1
 * through app; asserts a reply. Returns the reply's root (caller owns,
 * cJSON_Delete) and *resp its first response (owned by the root). */
cJSON *fx_admin(struct c2d_client *app, const char *cmd, cJSON **resp);

/* A whole admin payload (borrowed) on $CONTROL/c2d/v1 through op (v5, QoS
 * 1); asserts a reply with a responses array. Returns the reply's root
 * (caller owns, cJSON_Delete). */
cJSON *fx_admin_all(struct c2d_client *op, const char *payload);

/* The i-th response of root (borrowed); asserts its command name and that it
 * has no error. Returns its data (owned by root). */
const cJSON *fx_ok_response(const cJSON *root, int i, const char *command);

/* The i-th response's error string (owned by root); asserts it has one. */
const char *fx_error_of(const cJSON *root, int i);

/* Sets dev's desired twin with patch (borrowed) through app, QoS 1, and
 * asserts the reply's status when expect_status is not NULL. */
void fx_desired(struct c2d_client *app, const char *dev, const char *patch, const char *expect_status);

/* ---- devices ---- */

/* The device answers delivery id with status in the topic
 * ($c2d/{devid}/out/res/{id}/{status}), as any device can. All borrowed. */
void fx_answer(struct c2d_client *dev, const char *devid, const char *id, int status);

/* ---- events ---- */

/* Waits for the next event of dev on $c2d/{dev}/events/{kind} and asserts a
 * CloudEvents 1.0 envelope: type, subject dev, id and time present. All
 * borrowed. Returns: the event, caller owns (cJSON_Delete). */
cJSON *fx_expect_event(struct c2d_client *mon, const char *dev, const char *kind, const char *type);

/* Skips the monitor's events (any topic) until one of `type` whose data.id is
 * id (NULL: any id); fails after FX_WAIT_MS. All borrowed. Returns: that
 * event's message, caller owns (c2d_msg_free). */
struct c2d_msg *fx_skip_to_event(struct c2d_client *mon, const char *type, const char *id);

#endif
