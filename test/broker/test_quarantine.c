/* One bad record must not undo or block the others, against the real
 * broker. The test opens the broker's LMDB store from its own process while
 * the broker runs (c2d_broker_db_put: LMDB is multi-process safe) and plants
 * what the plugin would never write: a damaged twin record, device record,
 * queue record or deadline key. Then:
 * - a device's answer that fails on its damaged twin does not take the
 *   other answer of the same batch (same socket read, same loop pass) with
 *   it; the bad answer is quarantined with an event;
 * - a due entry whose device record is damaged does not block the sweep:
 *   later deadlines (another device's ack timeout, another device's TTL)
 *   still fire; the entry and its item go to quarantine with an event;
 * - a damaged queue record goes to quarantine with an event;
 * - an unreadable deadline key is moved aside and the sweep goes on.
 * Devices are v5 and v3.1.1 (loop tests). */
#include <check.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <mqtt_protocol.h>

#include "fixture.h"
#include "harness.h"
#include "../check_main.h"

#define DEV_EVENTS "$c2d/+/events/device"

static const int protocols[] = {MQTT_PROTOCOL_V5, MQTT_PROTOCOL_V311};

/* Queue key of the store: dev \0 seq(be64). buf: >= strlen(dev) + 9. */
static size_t queue_key(unsigned char *buf, const char *dev, uint64_t seq)
{
	size_t n = strlen(dev), i;

	memcpy(buf, dev, n + 1);
	for(i = 0; i < 8; i++) buf[n + 1 + i] = (unsigned char)(seq >> (56 - 8 * i));
	return n + 9;
}

/* Sends payload to dev's queue with a ttl (seconds, NULL: default) and
 * expects 202 {"id":want_id}. All borrowed. */
static void accept_msg(struct c2d_client *app, const char *dev, const char *corr, const char *ttl, const char *want_id)
{
	const char *const user[] = {"ttl", ttl, NULL};
	char *topic = c2d_strf("$c2d/%s/msg", dev), *want = c2d_strf("{\"id\":\"%s\",\"status\":202}", want_id);
	struct c2d_msg *m = fx_send(app, topic, "payload", corr, ttl ? user : NULL, "202");

	ck_assert_str_eq(m->payload, want);
	c2d_msg_free(m);
	free(topic);
	free(want);
}

/* The next c2d.device.quarantined event of dev: record and id (NULL: none). */
static void expect_quarantined(struct c2d_client *mon, const char *dev, const char *record, const char *id)
{
	cJSON *ev = fx_expect_event(mon, dev, "device", "c2d.device.quarantined");
	cJSON *data = cJSON_GetObjectItem(ev, "data"), *v;

	ck_assert_ptr_nonnull(data);
	ck_assert_str_eq(cJSON_GetObjectItem(data, "record")->valuestring, record);
	v = cJSON_GetObjectItem(data, "id");
	if(id){
		ck_assert_msg(cJSON_IsString(v) && strcmp(v->valuestring, id) == 0, "quarantined id is not %s", id);
	}
	ck_assert(cJSON_IsString(cJSON_GetObjectItem(data, "error")));
	cJSON_Delete(ev);
}

/* The next delivery to dev is `id` (topic ends with /id). */
static void expect_delivery(struct c2d_client *dev, const char *devid, const char *id)
{
	char *filter = c2d_strf("$c2d/%s/in/#", devid);
	struct c2d_msg *m = c2d_client_wait_msg(dev, filter, FX_WAIT_MS);
	size_t n, k = strlen(id);

	ck_assert_msg(m != NULL, "no delivery of %s to %s", id, devid);
	n = strlen(m->topic);
	ck_assert_msg(n > k && strcmp(m->topic + n - k, id) == 0 && m->topic[n - k - 1] == '/',
			"delivery %s, want %s", m->topic, id);
	c2d_msg_free(m);
	free(filter);
}

/* d1 answers q1 and d2 answers t1 while the broker is stopped (SIGSTOP):
 * on SIGCONT both sockets are ready in one loop pass, so both answers join
 * one group commit (Mosquitto reads one packet per socket per pass). d2's
 * answer fails (its twin record is damaged); before isolation it took d1's
 * settlement down with it. */
START_TEST(failing_answer_leaves_the_batch)
{
	int proto = protocols[_i];
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *mon = fx_monitor(b, DEV_EVENTS);
	struct c2d_client *d1 = fx_device(b, NULL, "d1", proto), *d2 = fx_device(b, NULL, "d2", proto);
	struct c2d_msg *m;

	accept_msg(app, "d1", "c1", NULL, "q1");
	expect_delivery(d1, "d1", "q1");
	m = fx_request(app, "$c2d/d2/twin/desired", "{\"led\":\"on\"}", "200");
	c2d_msg_free(m);
	expect_delivery(d2, "d2", "t1");
	ck_assert_int_eq(c2d_broker_db_put(b, "twins", "d2", 2, "{damaged", 8), 0);

	c2d_broker_log_mark(b);
	ck_assert_int_eq(kill(b->pid, SIGSTOP), 0);
	ck_assert_int_eq(mosquitto_publish(c2d_client_mosq(d1), NULL, "$c2d/d1/out/res/q1/200", 2, "ok", 1, false),
			MOSQ_ERR_SUCCESS);
	ck_assert_int_eq(mosquitto_publish(c2d_client_mosq(d2), NULL, "$c2d/d2/out/res/t1/200", 0, NULL, 1, false),
			MOSQ_ERR_SUCCESS);
	c2d_sleep_ms(200); /* both are in the broker's socket buffers */
	ck_assert_int_eq(kill(b->pid, SIGCONT), 0);
	fx_final(app, "c1", "completed", 200, FX_WAIT_MS);
	expect_quarantined(mon, "d2", "answer", "t1");
	ck_assert(c2d_broker_wait_log(b, "quarantined answer t1 of 'd2'", FX_WAIT_MS));
	ck_assert(!c2d_broker_log_contains(b, "will be repeated"));
	/* q1 is settled for good: no redelivery */
	ck_assert(c2d_client_expect_none(d1, "$c2d/d1/in/msg/#", 300));

	c2d_client_destroy(d2);
	c2d_client_destroy(d1);
	c2d_client_destroy(mon);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* "bad" has the earliest deadline (its message's TTL) and a damaged device
 * record: that entry fails every time. Before isolation the sweep stopped
 * at it forever; now it is quarantined and the later deadlines fire. */
START_TEST(failing_deadline_leaves_the_sweep)
{
	int proto = protocols[_i];
	struct c2d_broker *b = fx_start("plugin_opt_ack_timeout 2\n");
	struct c2d_client *app = fx_app(b, FX_REPLIES), *mon = fx_monitor(b, DEV_EVENTS);
	struct c2d_client *bad = fx_device(b, NULL, "bad", proto), *good;
	unsigned char key[32];
	void *gone;
	size_t len;
	uint64_t t0;

	fx_offline(bad);
	accept_msg(app, "bad", "c1", "1", "q1");
	ck_assert_int_eq(c2d_broker_db_put(b, "devices", "bad", 3, "xx", 2), 0);
	accept_msg(app, "idle", "c2", "2", "q1"); /* offline: expires after bad's deadline */
	good = fx_device(b, NULL, "good", proto);
	accept_msg(app, "good", "c3", NULL, "q1");
	t0 = c2d_now_ms();
	expect_delivery(good, "good", "q1");

	fx_final(app, "c2", "expired", 410, FX_WAIT_MS);      /* the due index goes on */
	expect_delivery(good, "good", "q1");          /* the ack timeout too */
	ck_assert_uint_ge(c2d_now_ms() - t0, 1500);
	expect_quarantined(mon, "bad", "queue deadline", "q1");
	fx_answer(good, "good", "q1", 200);
	fx_final(app, "c3", "completed", 200, FX_WAIT_MS);
	/* the item left the queue for quarantine */
	ck_assert_int_ne(c2d_broker_db_get(b, "queue", key, queue_key(key, "bad", 1), &gone, &len), 0);
	ck_assert(c2d_broker_log_contains(b, "quarantined queue deadline q1 of 'bad'"));

	c2d_client_destroy(good);
	c2d_client_destroy(bad);
	c2d_client_destroy(mon);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* A queue record that does not decode is moved to quarantine (not deleted
 * in silence) with an event; the device's queue count follows. */
START_TEST(damaged_queue_record_is_quarantined)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *mon = fx_monitor(b, DEV_EVENTS);
	unsigned char key[32];
	size_t klen = queue_key(key, "dq", 1);

	accept_msg(app, "dq", "c1", "1", "q1");
	accept_msg(app, "dq", "c2", "30", "q2");
	ck_assert_int_eq(c2d_admin_queue_depth(app, "dq"), 2);
	ck_assert_int_eq(c2d_broker_db_put(b, "queue", key, klen, "garbage", 7), 0);
	expect_quarantined(mon, "dq", "queue item", "q1");
	ck_assert_int_eq(c2d_admin_queue_depth(app, "dq"), 1);
	ck_assert(c2d_broker_log_contains(b, "queue item q1 of 'dq' is damaged"));
	/* operators see it in the statistics: its state record and, with it,
	 * its payload (stored apart, moved along) */
	{
		struct c2d_msg *m = fx_request(app, "$CONTROL/c2d/v1", "{\"commands\":[{\"command\":\"getStats\"}]}", NULL);

		ck_assert_msg(strstr(m->payload, "\"quarantined\":2") != NULL, "%s", m->payload);
		c2d_msg_free(m);
	}

	c2d_client_destroy(mon);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* A deadline key that cannot be read (too short: no device, no seq) sorts
 * first; the sweep moves it aside and the TTL behind it still fires. */
START_TEST(unreadable_deadline_key_is_moved)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES);
	const unsigned char bad_key[1] = {0};

	ck_assert_int_eq(c2d_broker_db_put(b, "due", bad_key, 1, NULL, 0), 0);
	accept_msg(app, "d9", "c1", "1", "q1");
	fx_final(app, "c1", "expired", 410, FX_WAIT_MS);
	ck_assert(c2d_broker_log_contains(b, "moved an unreadable entry of due to quarantine"));

	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("quarantine");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, failing_answer_leaves_the_batch, 0, 2);
	tcase_add_loop_test(tc, failing_deadline_leaves_the_sweep, 0, 2);
	tcase_add_test(tc, damaged_queue_record_is_quarantined);
	tcase_add_test(tc, unreadable_deadline_key_is_moved);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
