/* Test helpers for the libc2d-device suite (device/test/): a device made
 * with the library, run by its own loop thread, with handlers that count
 * and record what they saw. Real broker and plugin (test/broker/harness.h).
 *
 * Threads: while a tdev runs (td_run), only its thread touches the
 * c2d_device; the test thread reads the records under td->mu (td_get...
 * helpers) and must td_pause() before calling library functions itself.
 * Ownership as in harness.h. Helpers assert (Check), so call them from tests. */
#ifndef C2D_DEVICE_TEST_UTIL_H
#define C2D_DEVICE_TEST_UTIL_H

#include <pthread.h>
#include <stdbool.h>

#include <mqtt_protocol.h>

#include "c2d_device.h"
#include "fixture.h"
#include "harness.h"

#define V5 MQTT_PROTOCOL_V5
#define V311 MQTT_PROTOCOL_V311
#define TD_WAIT_MS 5000
#define EVENTS "$c2d/+/events/#"

struct tdev {
	struct c2d_device *d;
	pthread_t th;
	bool running;
	bool sub; /* a gateway's sub-device (td_sub): its gateway's thread runs it */
	volatile int stop;
	pthread_mutex_t mu;
	/* set before td_run: what the handlers answer */
	int rpc_status, msg_status, desired_status;
	const char *rpc_reply; /* NULL: echo the params */
	/* records (under mu) */
	int connects, drops, last_reason;
	int rpcs, msgs, desireds, replies;
	char method[130], id[130], payload[2048], patch[2048];
	long long version;
	int full;
	int reply_status;
	char reply_body[2048];
};

/* A device `id` (copied) for broker port `port`, protocol 5 or 4, with the
 * default RPC handler, message, desired and connection callbacks recording
 * into the tdev, back-off 100..400 ms. Returns: caller owns (td_free). */
struct tdev *td_new(const char *id, int port, int protocol);
/* A recording tdev for the sub-device `sub` of gateway gw (a td_new), owned
 * by gw's device: td_free it before gw; while gw's thread runs, pause gw
 * before calling library functions on it. Returns: caller owns (td_free). */
struct tdev *td_sub(struct tdev *gw, const char *sub);
/* Connects and runs the loop thread; waits until the connection callback
 * said connected and (mon not NULL, subscribed to presence events) the
 * plugin confirmed presence. */
void td_start(struct tdev *t, struct c2d_client *mon);
/* Starts the loop thread (again). */
void td_run(struct tdev *t);
/* Stops the loop thread (the device stays as it is). */
void td_pause(struct tdev *t);
/* Stops the thread and frees the device. t: consumed; NULL is fine. */
void td_free(struct tdev *t);
/* Waits until *counter (a field of t, read under mu) reaches n. Returns
 * true if it did within timeout_ms. */
bool td_wait(struct tdev *t, const int *counter, int n, int timeout_ms);
/* A call callback recording into t (ud = t). */
void td_on_reply(struct c2d_device *d, int status, const void *body, size_t len, void *ud);

/* A test's broker, event monitor ("$c2d/+/events/#"), application (on
 * FX_REPLIES) and device. */
struct env {
	struct c2d_broker *b;
	struct c2d_client *mon, *app;
	struct tdev *t;
};

/* Starts a broker with opts (borrowed; NULL: the plugin with defaults), the
 * monitor and the application, and (id not NULL) td_new(id, port, protocol)
 * not yet started. Asserts each step. Returns e->t. */
struct tdev *env_open(struct env *e, const struct c2d_broker_opts *opts, const char *id, int protocol);
/* Frees the device, the clients and the broker of e. */
void env_close(struct env *e);

/* A loopback port that was free a moment ago. */
int free_port(void);
/* The JSON member `key` of the reply's payload as a long (asserts it is a number). */
long json_long(const struct c2d_msg *m, const char *key);
/* The full twin of dev through app (twin/get). Returns: caller owns (cJSON_Delete). */
cJSON *get_twin(struct c2d_client *app, const char *dev);

/* Suites' test cases. */
TCase *tc_handlers(void);
TCase *tc_connection(void);
TCase *tc_programs(void);
TCase *tc_api(void);
TCase *tc_gateway(void);

#endif
