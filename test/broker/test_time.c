/* Wall-clock steps against the real broker run under libfaketime
 * (c2d_broker_opts.fake_time: the broker's CLOCK_REALTIME, time() and
 * gettimeofday read an offset from a file at every call; CLOCK_MONOTONIC
 * stays real, as with an NTP step). Ack and persistent RPC timeouts run on
 * the plugin's timeout clock, TTLs on the wall clock:
 * - +1 h: an unanswered message is not delivered again before its
 *   ack_timeout has passed in real time; a message with ttl 600 expires;
 * - -1 h: an ack timeout and a persistent RPC timeout still fire after
 *   their real duration (before, they waited an hour more);
 * - -1 h and a restart: the timeout clock resumes where it was, not at the
 *   (earlier) wall clock;
 * - a store written before the timeout index (schema 1.1, one wall-clock
 *   `due` entry per item) opens and its entries still fire;
 * - +1 h with a backlog of expired items the duty-cycled sweep has not
 *   reached yet: an expired item is not delivered when its slot frees, and
 *   its expiry is reported later.
 * Devices are v5 and v3.1.1 (loop tests). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <mqtt_protocol.h>

#include "fixture.h"
#include "harness.h"
#include "../check_main.h"

#define HOUR 3600
#define ACK_S 4 /* ack_timeout of these brokers */

static const int protocols[] = {MQTT_PROTOCOL_V5, MQTT_PROTOCOL_V311};

/* A broker under libfaketime with ack_timeout ACK_S and extra options
 * (borrowed, NULL: none). Caller owns. */
static struct c2d_broker *start_faked(const char *extra)
{
	char *opts = c2d_strf("plugin_opt_ack_timeout %d\n%s", ACK_S, extra ? extra : "");
	struct c2d_broker_opts o = {.plugin_opts = opts, .fake_time = true};
	struct c2d_broker *b = c2d_broker_start(&o);

	ck_assert_msg(b != NULL, "broker under libfaketime did not start");
	free(opts);
	return b;
}

static void send_msg(struct c2d_client *app, const char *dev, const char *corr, const char *ttl)
{
	const char *const user[] = {"ttl", ttl, NULL};
	char *topic = c2d_strf("$c2d/%s/msg", dev);

	c2d_msg_free(fx_send(app, topic, "payload", corr, user, "202"));
	free(topic);
}

/* Waits up to wait_ms for a delivery on topic (borrowed); returns when it
 * came (c2d_now_ms), asserting it did. */
static uint64_t delivered_at(struct c2d_client *dev, const char *topic, int wait_ms)
{
	struct c2d_msg *m = c2d_client_wait_msg(dev, topic, wait_ms);
	uint64_t t = c2d_now_ms();

	ck_assert_msg(m != NULL, "no delivery on %s within %d ms", topic, wait_ms);
	c2d_msg_free(m);
	return t;
}

/* The device answers id with 200; the message sent with corr completes. */
static void complete(struct c2d_client *dev, const char *devid, const char *id, struct c2d_client *app, const char *corr)
{
	fx_answer(dev, devid, id, 200);
	fx_final(app, corr, "completed", 200, FX_WAIT_MS);
}

static void finish(struct c2d_broker *b, struct c2d_client *app, struct c2d_client *dev)
{
	c2d_client_destroy(dev);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}

/* +1 h: the delivery's ack timeout runs on in real time. Before, its
 * wall-clock deadline was an hour overdue at once: redelivered within a
 * tick. And a message with ttl 600 now expires at once. */
START_TEST(forward_step_redelivers_nothing_early)
{
	int proto = protocols[_i];
	struct c2d_broker *b = start_faked(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *dev = fx_device(b, NULL, "d1", proto);
	uint64_t first, again;

	send_msg(app, "d1", "c1", "7200");
	first = delivered_at(dev, "$c2d/d1/in/msg/q1", FX_WAIT_MS);
	send_msg(app, "d9", "c2", "600"); /* d9 is offline */
	ck_assert_int_eq(c2d_broker_shift_clock(b, HOUR), 0);
	fx_final(app, "c2", "expired", 410, FX_WAIT_MS); /* the step reached the broker */
	again = delivered_at(dev, "$c2d/d1/in/msg/q1", (ACK_S + 4) * 1000);
	ck_assert_msg(again - first >= (ACK_S - 1) * 1000u, "redelivered %llu ms after the delivery (ack_timeout %d s)",
			(unsigned long long)(again - first), ACK_S);
	complete(dev, "d1", "q1", app, "c1");
	finish(b, app, dev);
}
END_TEST

/* TTLs follow the wall clock: after +1 h a message with ttl 600 has
 * expired, whether queued for an offline device or in flight. */
START_TEST(forward_step_expires_ttl)
{
	int proto = protocols[_i];
	struct c2d_broker *b = start_faked("plugin_opt_msg_inflight 1\n");
	struct c2d_client *app = fx_app(b, FX_REPLIES), *dev = fx_device(b, NULL, "d1", proto);

	send_msg(app, "d1", "c1", "600");
	delivered_at(dev, "$c2d/d1/in/msg/q1", FX_WAIT_MS); /* in flight, unanswered */
	send_msg(app, "d2", "c2", "600");                   /* d2 is offline */
	send_msg(app, "d1", "c3", "7200");                  /* waits behind q1 */
	ck_assert_int_eq(c2d_broker_shift_clock(b, HOUR), 0);
	fx_final(app, "c1", "expired", 410, FX_WAIT_MS);
	fx_final(app, "c2", "expired", 410, FX_WAIT_MS);
	/* the slot q1 held goes to the next message, which lives on */
	delivered_at(dev, "$c2d/d1/in/msg/q2", FX_WAIT_MS);
	complete(dev, "d1", "q2", app, "c3");
	finish(b, app, dev);
}
END_TEST

#define BACKLOG 3000 /* expired items ahead of the one under test in the sweep's order */

/* Expired but not swept yet: never delivered. With sweep_share 1 (1 ms per
 * 100 ms) the sweep needs seconds for BACKLOG items of an offline device
 * (about 2.4 s here).
 * d1 (msg_inflight 1) has q1 in flight and q2 queued (ttl 3000, after the
 * backlog's ttl 600 in the due index); +1 h expires all; d1 answers q1: its
 * free slot must not take the expired q2, which the sweep reports later. */
START_TEST(expired_unswept_not_delivered)
{
	const char *const user[] = {"ttl", "600", NULL};
	struct c2d_props pp = {.user = user};
	mosquitto_property *props = c2d_props_build(&pp);
	struct c2d_broker *b = start_faked("plugin_opt_msg_inflight 1\nplugin_opt_sweep_share 1\n"
			"plugin_opt_sync periodic\nplugin_opt_history_ttl 0\nplugin_opt_msg_queue_max 5000\n");
	struct c2d_client *app = fx_app(b, FX_REPLIES), *dev = fx_device(b, NULL, "d1", MQTT_PROTOCOL_V5);
	int i, rc;

	send_msg(app, "d1", "c1", "7200");
	delivered_at(dev, "$c2d/d1/in/msg/q1", FX_WAIT_MS); /* in flight, unanswered */
	send_msg(app, "d1", "c2", "3000");                  /* queued behind q1 */
	for(i = 0; i < BACKLOG; i++){
		rc = c2d_client_publish(app, "$c2d/d9/msg", "x", 1, 1, false, props);
		ck_assert_msg(rc == 0 || rc == 0x10, "backlog publish %d: %d", i, rc);
	}
	ck_assert_int_eq(c2d_broker_shift_clock(b, HOUR), 0);
	fx_answer(dev, "d1", "q1", 200);
	fx_final(app, "c1", "completed", 200, FX_WAIT_MS);
	/* q2's end would have left with q1's feedback had the pump touched it */
	ck_assert_msg(c2d_client_expect_none(app, FX_REPLIES, 200),
			"q2 ended with q1's answer: the pump touched it, or the sweep got there first (raise BACKLOG)");
	ck_assert_msg(c2d_client_expect_none(dev, "$c2d/d1/in/#", 500), "the expired q2 was delivered");
	fx_final(app, "c2", "expired", 410, 60000);
	ck_assert(c2d_client_expect_none(dev, "$c2d/d1/in/#", 0));
	mosquitto_property_free_all(&props);
	finish(b, app, dev);
}
END_TEST

/* -1 h: the ack timeout and a persistent RPC's timeout fire after their
 * real durations. Before, both waited an hour longer. */
START_TEST(backward_step_stalls_nothing)
{
	static const char *const rpc_user[] = {"persistent", "true", "timeout", "2500", NULL};
	int proto = protocols[_i];
	struct c2d_broker *b = start_faked(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *dev = fx_device(b, NULL, "d1", proto);
	uint64_t first, again, t0;

	send_msg(app, "d1", "c1", "7200");
	first = delivered_at(dev, "$c2d/d1/in/msg/q1", FX_WAIT_MS);
	c2d_msg_free(fx_send(app, "$c2d/d1/rpc/reboot", "{}", "c2", rpc_user, "202"));
	delivered_at(dev, "$c2d/d1/in/rpc/reboot/q2", FX_WAIT_MS);
	fx_answer(dev, "d1", "q2", 202); /* accepted: the result is due within 2.5 s */
	t0 = c2d_now_ms();
	ck_assert_int_eq(c2d_broker_shift_clock(b, -HOUR), 0);

	again = delivered_at(dev, "$c2d/d1/in/msg/q1", (ACK_S + 4) * 1000);
	ck_assert_uint_ge(again - first, (ACK_S - 1) * 1000u);
	fx_final(app, "c2", "timeout", 504, 8000);
	ck_assert_uint_ge(c2d_now_ms() - t0, 2000);
	complete(dev, "d1", "q1", app, "c1");
	finish(b, app, dev);
}
END_TEST

/* -1 h, then a restart (the broker's wall clock still an hour behind): the
 * timeout clock resumes at its stored value, an hour ahead of the wall
 * clock, and the redelivery after the reconnect still comes after its
 * real ack_timeout. */
START_TEST(restart_resumes_the_timeout_clock)
{
	int proto = protocols[_i];
	struct c2d_broker *b = start_faked(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *dev = fx_device(b, NULL, "d1", proto);
	uint64_t first, again;

	ck_assert_int_eq(c2d_broker_shift_clock(b, -HOUR), 0);
	c2d_sleep_ms(200);
	send_msg(app, "d1", "c1", "7200");
	delivered_at(dev, "$c2d/d1/in/msg/q1", FX_WAIT_MS);
	ck_assert_int_eq(c2d_broker_restart(b), 0);
	ck_assert(c2d_broker_wait_log(b, "timeout clock resumes", FX_WAIT_MS));
	ck_assert(c2d_broker_log_contains(b, "timeout clock resumes 35") || c2d_broker_log_contains(b, "timeout clock resumes 36"));
	ck_assert_int_eq(c2d_client_connect(app, b), 0);
	ck_assert_int_eq(c2d_client_subscribe(app, FX_REPLIES, 1), 1);
	ck_assert_int_eq(c2d_client_connect(dev, b), 0);
	first = delivered_at(dev, "$c2d/d1/in/msg/q1", FX_WAIT_MS); /* the reconnect redelivers */
	again = delivered_at(dev, "$c2d/d1/in/msg/q1", (ACK_S + 4) * 1000);
	ck_assert_uint_ge(again - first, (ACK_S - 1) * 1000u);
	complete(dev, "d1", "q1", app, "c1");
	finish(b, app, dev);
}
END_TEST

/* ---- a store from before the timeout index ---- */

static void put_be64(unsigned char *p, uint64_t x)
{
	int i;

	for(i = 0; i < 8; i++) p[i] = (unsigned char)(x >> (56 - 8 * i));
}

static uint64_t get_le64(const unsigned char *p)
{
	uint64_t x = 0;
	int i;

	for(i = 7; i >= 0; i--) x = (x << 8) | p[i];
	return x;
}

static void put_le64(unsigned char *p, uint64_t x)
{
	int i;

	for(i = 0; i < 8; i++) p[i] = (unsigned char)(x >> (8 * i));
}

/* Deadline key at_ms(be64) dev \0 seq(be64) into buf; returns its length. */
static size_t deadline_key(unsigned char *buf, uint64_t at, const char *dev, uint64_t seq)
{
	size_t n = strlen(dev);

	put_be64(buf, at);
	memcpy(buf + 8, dev, n + 1);
	put_be64(buf + 9 + n, seq);
	return n + 17;
}

/* Rewrites dev's in-flight item q1 as the code before the timeout index
 * wrote it (the broker stopped): one `due` entry at the earlier of its
 * timeout and its expiry, in wall-clock ms, its record's due_ms naming it
 * (c2d_qrec.h: u64 due_ms at byte 32, little-endian; bit 63 set is the new
 * form), no `timeout` entry, no clock record, schema 1.1. */
static void make_old_style(struct c2d_broker *b, const char *dev, uint64_t due_wall_ms)
{
	unsigned char qkey[64], key[80];
	unsigned char *rec;
	size_t qlen = strlen(dev) + 9, len;
	uint64_t due, expires;

	memcpy(qkey, dev, strlen(dev) + 1);
	put_be64(qkey + strlen(dev) + 1, 1);
	ck_assert_int_eq(c2d_broker_db_get(b, "queue", qkey, qlen, (void **)&rec, &len), 0);
	ck_assert_uint_ge(len, 40);
	due = get_le64(rec + 32);
	expires = get_le64(rec + 24);
	ck_assert_msg(due >> 63, "q1 of %s is not in flight with a timeout entry", dev);
	ck_assert_int_eq(c2d_broker_db_del(b, "timeout", key, deadline_key(key, due & ~(1ull << 63), dev, 1)), 0);
	ck_assert_int_eq(c2d_broker_db_del(b, "due", key, deadline_key(key, expires, dev, 1)), 0);
	ck_assert_int_eq(c2d_broker_db_put(b, "due", key, deadline_key(key, due_wall_ms, dev, 1), NULL, 0), 0);
	put_le64(rec + 32, due_wall_ms);
	ck_assert_int_eq(c2d_broker_db_put(b, "queue", qkey, qlen, rec, len), 0);
	free(rec);
	ck_assert_int_eq(c2d_broker_db_del(b, "meta", "clock", 5), 0);
	ck_assert_int_eq(c2d_broker_db_put(b, "meta", "schema", 6, "1.1", 3), 0);
}

/* A store written before the timeout index opens (upgraded to 1.2) and its
 * entries keep working: a queued message's expiry, and an in-flight
 * message's wall-clock timeout entry (its device offline at the restart:
 * the entry fires, moves the item to its expiry, and the reconnect
 * redelivers it, now with a timeout in the new index). */
START_TEST(store_from_before_the_timeout_index)
{
	int proto = protocols[_i];
	struct c2d_broker *b = fx_start("plugin_opt_ack_timeout 60\n");
	struct c2d_client *app = fx_app(b, FX_REPLIES), *dev = fx_device(b, NULL, "d1", proto);
	struct timespec now;
	uint64_t wall;
	unsigned char key[80];
	void *val;
	size_t len;

	send_msg(app, "d1", "c1", "7200");
	delivered_at(dev, "$c2d/d1/in/msg/q1", FX_WAIT_MS);
	send_msg(app, "d2", "c2", "4"); /* offline: one due entry at its expiry, the same in both forms */
	c2d_client_destroy(dev);
	ck_assert_int_eq(c2d_broker_stop(b), 0);
	clock_gettime(CLOCK_REALTIME, &now);
	wall = (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_nsec / 1000000 + 1500;
	make_old_style(b, "d1", wall);

	ck_assert_int_eq(c2d_broker_restart(b), 0);
	ck_assert(c2d_broker_wait_log(b, "schema 1.1 upgraded to 2.1", FX_WAIT_MS));
	ck_assert_int_eq(c2d_client_connect(app, b), 0);
	ck_assert_int_eq(c2d_client_subscribe(app, FX_REPLIES, 1), 1);
	fx_final(app, "c2", "expired", 410, 8000);
	/* d1's old entry has fired by now (1.5 s after the stop): gone */
	ck_assert_int_ne(c2d_broker_db_get(b, "due", key, deadline_key(key, wall, "d1", 1), &val, &len), 0);
	dev = c2d_client_new("d1", proto, true);
	ck_assert_int_eq(c2d_client_connect(dev, b), 0);
	delivered_at(dev, "$c2d/d1/in/msg/q1", FX_WAIT_MS);
	complete(dev, "d1", "q1", app, "c1");
	finish(b, app, dev);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("time");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 90);
	tcase_add_loop_test(tc, forward_step_redelivers_nothing_early, 0, 2);
	tcase_add_loop_test(tc, forward_step_expires_ttl, 0, 2);
	tcase_add_loop_test(tc, backward_step_stalls_nothing, 0, 2);
	tcase_add_loop_test(tc, restart_resumes_the_timeout_clock, 0, 2);
	tcase_add_loop_test(tc, store_from_before_the_timeout_index, 0, 2);
	tcase_add_test(tc, expired_unswept_not_delivered);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
