/* What the hot paths leave in the store (schema 2.0), read from the
 * broker's LMDB while it runs (c2d_broker_db_get): a queue item is a small
 * state record plus its payload stored once apart; a delivery or an answer
 * leaves the payload as it was; a finished item keeps its payload in
 * history only when retryCommand can use it; a twin catch-up notes what it
 * sent in the sent mark and leaves the twin document untouched. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mqtt_protocol.h>

#include "fixture.h"
#include "harness.h"
#include "../check_main.h"

static const int protocols[] = {MQTT_PROTOCOL_V5, MQTT_PROTOCOL_V311};

/* dev \0 seq(be64) into key; returns its length. */
static size_t qkey(unsigned char *key, const char *dev, uint64_t seq)
{
	size_t n = strlen(dev) + 1;
	int i;

	memcpy(key, dev, n);
	for(i = 0; i < 8; i++) key[n + i] = (unsigned char)(seq >> (8 * (7 - i)));
	return n + 8;
}

/* The value of table[dev, seq] (caller frees), NULL when absent. */
static char *qget(struct c2d_broker *b, const char *table, const char *dev, uint64_t seq, size_t *len)
{
	unsigned char key[160];
	void *val = NULL;

	if(c2d_broker_db_get(b, table, key, qkey(key, dev, seq), &val, len) != 0) return NULL;
	return val;
}

static bool contains(const char *buf, size_t len, const char *s)
{
	size_t n = strlen(s), i;

	for(i = 0; i + n <= len; i++){
		if(memcmp(buf + i, s, n) == 0) return true;
	}
	return false;
}

static void send(struct c2d_client *app, const char *dev, const char *payload, const char *corr, const char *ttl)
{
	const char *user[] = {"ttl", ttl, NULL};
	char *topic = c2d_strf("$c2d/%s/msg", dev);

	c2d_msg_free(fx_send(app, topic, payload, corr, user, "202"));
	free(topic);
}

#define HIST (1ull << 63)

START_TEST(payload_apart_from_state)
{
	int proto = protocols[_i];
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *dev = fx_device(b, NULL, "d1", proto);
	struct c2d_msg *m;
	char *state, *pay;
	size_t len, plen;

	send(app, "d1", "payload-one", "c1", "60");
	m = c2d_client_wait_msg(dev, "$c2d/d1/in/msg/q1", FX_WAIT_MS);
	ck_assert_ptr_nonnull(m);
	c2d_msg_free(m);
	/* delivered: the state record says sent, without the payload's bytes */
	state = qget(b, "queue", "d1", 1, &len);
	ck_assert_ptr_nonnull(state);
	ck_assert_uint_eq((unsigned char)state[0], 3);  /* record version */
	ck_assert_uint_eq((unsigned char)state[2], 1);  /* sent */
	ck_assert(!contains(state, len, "payload-one"));
	free(state);
	pay = qget(b, "qpayload", "d1", 1, &plen);
	ck_assert_ptr_nonnull(pay);
	ck_assert_uint_eq(plen, 11);
	ck_assert_mem_eq(pay, "payload-one", 11);
	free(pay);

	/* completed: history's state record, no payload kept (it cannot be retried) */
	fx_answer(dev, "d1", "q1", 200);
	fx_final(app, "c1", "completed", 200, FX_WAIT_MS);
	ck_assert_ptr_null(qget(b, "queue", "d1", 1, &len));
	state = qget(b, "queue", "d1", 1 | HIST, &len);
	ck_assert_ptr_nonnull(state);
	ck_assert_uint_eq((unsigned char)state[2], 3); /* completed */
	free(state);
	ck_assert_ptr_null(qget(b, "qpayload", "d1", 1, &plen));

	/* expired (offline): history keeps the payload, retryCommand delivers it */
	fx_offline(dev);
	send(app, "d1", "payload-two", "c2", "1");
	fx_final(app, "c2", "expired", 410, 8000);
	pay = qget(b, "qpayload", "d1", 2, &plen);
	ck_assert_ptr_nonnull(pay);
	free(pay);
	c2d_msg_free(fx_request(app, "$CONTROL/c2d/v1",
			"{\"commands\":[{\"command\":\"retryCommand\",\"device\":\"d1\",\"id\":\"q2\"}]}", NULL));
	ck_assert_int_eq(c2d_client_connect(dev, b), 0);
	m = c2d_client_wait_msg(dev, "$c2d/d1/in/msg/q2", FX_WAIT_MS);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->payload, "payload-two");
	c2d_msg_free(m);

	c2d_client_destroy(dev);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

START_TEST(catch_up_leaves_the_twin_as_it_is)
{
	int proto = protocols[_i];
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES), *dev;
	struct c2d_msg *m;
	void *before, *after, *sent;
	size_t blen, alen, slen;

	c2d_msg_free(fx_request(app, "$c2d/d2/twin/desired", "{\"led\":\"on\",\"rate\":5}", "200"));
	ck_assert_int_eq(c2d_broker_db_get(b, "twins", "d2", 2, &before, &blen), 0);
	ck_assert_int_ne(c2d_broker_db_get(b, "twinsent", "d2", 2, &sent, &slen), 0);
	dev = fx_client(b, "d2", proto);
	m = c2d_client_wait_msg(dev, "$c2d/d2/in/twin/t1", FX_WAIT_MS);
	ck_assert_ptr_nonnull(m);
	c2d_msg_free(m);
	/* the push is noted in the sent mark (version 1, version 1 of the record) */
	ck_assert_int_eq(c2d_broker_db_get(b, "twinsent", "d2", 2, &sent, &slen), 0);
	ck_assert_uint_eq(slen, 9);
	ck_assert_mem_eq(sent, "\x01\x01\x00\x00\x00\x00\x00\x00\x00", 9);
	free(sent);
	ck_assert_int_eq(c2d_broker_db_get(b, "twins", "d2", 2, &after, &alen), 0);
	ck_assert_uint_eq(alen, blen);
	ck_assert_mem_eq(after, before, blen);
	free(after);
	free(before);
	/* and the mark counts: after an acknowledged t1, t2 goes as a patch;
	 * unacknowledged, it was noted in the mark only, so the next connect
	 * sends the whole document (the device may have applied t2) */
	fx_answer(dev, "d2", "t1", 200);
	ck_assert_int_eq(c2d_client_disconnect(dev), 0);
	c2d_msg_free(fx_request(app, "$c2d/d2/twin/desired", "{\"rate\":6}", "200"));
	ck_assert_int_eq(c2d_client_connect(dev, b), 0);
	m = c2d_client_wait_msg(dev, "$c2d/d2/in/twin/t2", FX_WAIT_MS);
	ck_assert_ptr_nonnull(m);
	ck_assert_msg(strstr(m->payload, "\"full\":false") != NULL, "%s", m->payload);
	c2d_msg_free(m);
	ck_assert_int_eq(c2d_client_disconnect(dev), 0);
	ck_assert_int_eq(c2d_client_connect(dev, b), 0);
	m = c2d_client_wait_msg(dev, "$c2d/d2/in/twin/t2", FX_WAIT_MS);
	ck_assert_ptr_nonnull(m);
	ck_assert_msg(strstr(m->payload, "\"full\":true") != NULL, "%s", m->payload);
	c2d_msg_free(m);

	c2d_client_destroy(dev);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("records");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, payload_apart_from_state, 0, 2);
	tcase_add_loop_test(tc, catch_up_leaves_the_twin_as_it_is, 0, 2);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
