/* Hostile MQTT-level input against the real broker: wildcard, invalid and
 * other devices' response topics, maximal correlation data, a QoS 2 patch
 * sent twice (DUP) from a raw 3.1.1 client and a flood of 2000 publishes
 * from one client. After each case the broker must still run and the
 * hostile client still be connected. Hostile payloads and device ids are
 * test_hostile.c. */
#include <check.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cjson/cJSON.h>
#include <mqtt_protocol.h>

#include "fixture.h"
#include "harness.h"
#include "hostile.h"
#include "../check_main.h"

#define V5 MQTT_PROTOCOL_V5
#define V311 MQTT_PROTOCOL_V311

/* A request with response topic rt is refused (0x87, not processed) and no
 * reply goes anywhere (a watcher subscribed to "#" and to the $ topics
 * named sees none). */
static void request_bad_rt(struct c2d_client *c, struct c2d_client *watch, const char *topic,
		const char *payload, const char *rt)
{
	mosquitto_property *props = NULL;
	int rc;

	ck_assert_int_eq(mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, rt), 0);
	ck_assert_int_eq(mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, "k", 1), 0);
	rc = c2d_client_publish(c, topic, payload, -1, 1, false, props);
	mosquitto_property_free_all(&props);
	ck_assert_msg(rc == 0x87, "publish with response topic '%s': %d, want 0x87", rt, rc);
	ck_assert(c2d_client_expect_none(watch, NULL, 300));
}

START_TEST(bad_response_topic)
{
	static const char *const topics[] = {"replies/+/x", "replies/#", "+", "#", "replies/a+b/#", "$SYS/x",
		"$c2d/app/events/twin", "$c2d/other/in/x"};
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = c2d_client_new_connected(b, "app", V5, true);
	struct c2d_client *watch = c2d_client_new_connected(b, "watch", V5, true);
	double dv;
	size_t i;

	ck_assert_ptr_nonnull(app);
	ck_assert_ptr_nonnull(watch);
	ck_assert_int_eq(c2d_client_subscribe(watch, "#", 1), 1);
	ck_assert_int_eq(c2d_client_subscribe(watch, "$c2d/+/in/#", 1), 1);
	ck_assert_int_eq(c2d_client_subscribe(watch, "$c2d/app/events/twin", 1), 1);
	ck_assert_int_eq(c2d_client_subscribe(watch, "$SYS/x", 1), 1);
	for(i = 0; i < sizeof(topics) / sizeof(topics[0]); i++){
		c2d_broker_log_mark(b);
		request_bad_rt(app, watch, "$c2d/dev-r/twin/desired", "{\"a\":1}", topics[i]);
		request_bad_rt(app, watch, "$c2d/dev-r/twin/get", "", topics[i]);
		request_bad_rt(app, watch, "$c2d/dev-r/twin/desired", "[1]", topics[i]);
		ck_assert_msg(c2d_broker_log_contains(b, "does not reply to response topic"),
				"no log line for response topic '%s'", topics[i]);
		assert_alive(b, app);
	}
	/* nothing was applied */
	c2d_client_inbox_clear(watch);
	twin_versions(app, "dev-r", &dv, NULL);
	ck_assert(dv == 0);
	assert_alive(b, app);
	assert_alive(b, watch);
	c2d_client_destroy(watch);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* A response topic inside another device's plugin-only in/ tree: the plugin
 * must not publish there for the requester (one writer per topic). A device
 * naming its own in/ topic (protocol.md's mosquitto_rr example) is served. */
START_TEST(response_topic_of_other_device)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = c2d_client_new_connected(b, "app", V5, true);
	struct c2d_client *victim = c2d_client_new_connected(b, "victim", V5, true);
	struct c2d_client *dev = c2d_client_new_connected(b, "lamp-1", V5, true);
	struct c2d_request rq = {.topic = "$c2d/lamp-1/out/reported", .payload = "{\"temp\":21.5}", .len = -1,
		.qos = 1, .response_topic = "$c2d/lamp-1/in/rep"};
	mosquitto_property *props = NULL;
	struct c2d_msg *m;
	int rc;

	ck_assert_ptr_nonnull(app);
	ck_assert_ptr_nonnull(victim);
	ck_assert_ptr_nonnull(dev);
	ck_assert_int_eq(c2d_client_subscribe(victim, "$c2d/victim/in/#", 1), 1);
	ck_assert_int_eq(mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, "$c2d/victim/in/twin/t99"), 0);
	rc = c2d_client_publish(app, "$c2d/attacker/twin/desired", "{\"desired\":{\"unlock\":true}}", -1, 1, false, props);
	ck_assert_int_eq(rc, 0x87);
	rc = c2d_client_publish(app, "$c2d/attacker/twin/get", NULL, 0, 1, false, props);
	ck_assert_int_eq(rc, 0x87);
	mosquitto_property_free_all(&props);
	ck_assert_msg(c2d_client_expect_none(victim, NULL, 700), "a reply on another device's plugin-only topic");
	assert_alive(b, app);
	assert_alive(b, victim);

	m = c2d_client_request(dev, &rq);
	ck_assert_msg(m != NULL, "a device gets no reply on its own in/ topic");
	ck_assert_str_eq(c2d_msg_user_prop(m, "status"), "200");
	c2d_msg_free(m);
	assert_alive(b, dev);
	c2d_client_destroy(dev);
	c2d_client_destroy(victim);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* The largest correlation data MQTT allows (65535 bytes) comes back whole,
 * on an immediate reply and on a queued message's reply. */
START_TEST(max_correlation_data)
{
	const int n = 65535;
	unsigned char *corr = malloc((size_t)n);
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = c2d_client_new_connected(b, "app", V5, true);
	mosquitto_property *props = NULL;
	struct c2d_msg *m;
	int i, rc;

	ck_assert_ptr_nonnull(corr);
	ck_assert_ptr_nonnull(app);
	for(i = 0; i < n; i++) corr[i] = (unsigned char)(i * 7 + 3);
	ck_assert_int_eq(c2d_client_subscribe(app, "replies/big", 1), 1);
	ck_assert_int_eq(mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, "replies/big"), 0);
	ck_assert_int_eq(mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, corr, (uint16_t)n), 0);

	rc = c2d_client_publish(app, "$c2d/dev-c/twin/desired", "{\"a\":1}", -1, 1, false, props);
	ck_assert_int_lt(rc, 0x80);
	m = c2d_client_wait_corr(app, "replies/big", corr, n, 5000);
	ck_assert_msg(m != NULL, "no reply with the 65535-byte correlation data (twin)");
	ck_assert_str_eq(c2d_msg_user_prop(m, "status"), "200");
	c2d_msg_free(m);
	assert_alive(b, app);

	rc = c2d_client_publish(app, "$c2d/dev-c/msg", "hello", -1, 1, false, props);
	ck_assert_int_lt(rc, 0x80);
	m = c2d_client_wait_corr(app, "replies/big", corr, n, 5000);
	ck_assert_msg(m != NULL, "no reply with the 65535-byte correlation data (msg)");
	ck_assert_msg(c2d_msg_user_prop(m, "status")[0] == '2', "msg: status %s (%s)",
			c2d_msg_user_prop(m, "status"), m->payload);
	c2d_msg_free(m);
	assert_alive(b, app);

	mosquitto_property_free_all(&props);
	free(corr);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* ---- a raw MQTT 3.1.1 client, to send a QoS 2 PUBLISH twice (DUP) ---- */

static int raw_connect(int port, const char *id)
{
	struct sockaddr_in a;
	unsigned char pkt[64];
	size_t idlen = strlen(id), n = 0;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	ck_assert_uint_lt(idlen, 32);
	pkt[n++] = 0x10;
	pkt[n++] = (unsigned char)(12 + idlen);
	memcpy(pkt + n, "\0\4MQTT\4\2\0\74", 10); /* protocol, level 4, clean session, keepalive 60 */
	n += 10;
	pkt[n++] = 0;
	pkt[n++] = (unsigned char)idlen;
	memcpy(pkt + n, id, idlen);
	n += idlen;
	ck_assert_int_eq(write(fd, pkt, n), (ssize_t)n);
	return fd;
}

/* Reads exactly 4 bytes (every ack used here is 4 bytes) within 5 s. */
static void raw_read4(int fd, unsigned char *buf)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	size_t got = 0;
	ssize_t r;

	while(got < 4){
		ck_assert_msg(poll(&p, 1, 5000) == 1, "raw client: nothing from the broker");
		r = read(fd, buf + got, 4 - got);
		ck_assert_msg(r > 0, "raw client: connection closed (%s)", r < 0 ? strerror(errno) : "EOF");
		got += (size_t)r;
	}
}

static void raw_expect(int fd, unsigned char type, uint16_t pid)
{
	unsigned char buf[4];

	raw_read4(fd, buf);
	ck_assert_msg(buf[0] == type && buf[1] == 2 && (pid == 0 || (buf[2] == pid >> 8 && buf[3] == (pid & 0xFF))),
			"raw client: got %02x %02x %02x %02x, want %02x for packet id %u", buf[0], buf[1], buf[2], buf[3],
			type, pid);
}

static void raw_publish_qos2(int fd, const char *topic, const char *payload, uint16_t pid, bool dup)
{
	size_t tlen = strlen(topic), plen = strlen(payload), rl = 2 + tlen + 2 + plen, n = 0;
	unsigned char *pkt = malloc(rl + 5);

	ck_assert_ptr_nonnull(pkt);
	ck_assert_uint_lt(rl, 16384);
	pkt[n++] = dup ? 0x3C : 0x34;
	if(rl < 128){
		pkt[n++] = (unsigned char)rl;
	}else{
		pkt[n++] = (unsigned char)(0x80 | (rl & 0x7F));
		pkt[n++] = (unsigned char)(rl >> 7);
	}
	pkt[n++] = (unsigned char)(tlen >> 8);
	pkt[n++] = (unsigned char)tlen;
	memcpy(pkt + n, topic, tlen);
	n += tlen;
	pkt[n++] = (unsigned char)(pid >> 8);
	pkt[n++] = (unsigned char)pid;
	memcpy(pkt + n, payload, plen);
	n += plen;
	ck_assert_int_eq(write(fd, pkt, n), (ssize_t)n);
	free(pkt);
}

START_TEST(qos2_patch_applied_once)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = c2d_client_new_connected(b, "app", V5, true);
	unsigned char pubrel[4] = {0x62, 0x02, 0x00, 0x07};
	double dv;
	int fd;

	ck_assert_ptr_nonnull(app);
	/* an ordinary QoS 2 patch: one version */
	ck_assert_int_lt(c2d_client_publish(app, "$c2d/dev-q/twin/desired", "{\"n\":1}", -1, 2, false, NULL), 0x80);
	twin_versions(app, "dev-q", &dv, NULL);
	ck_assert(dv == 1);

	/* a QoS 2 patch retransmitted (same packet id, DUP) before PUBREL: the
	 * broker must hand it to the plugin once, so one version again */
	fd = raw_connect(b->port, "raw-app");
	raw_expect(fd, 0x20, 0); /* CONNACK */
	raw_publish_qos2(fd, "$c2d/dev-q/twin/desired", "{\"n\":2}", 7, false);
	raw_expect(fd, 0x50, 7); /* PUBREC */
	raw_publish_qos2(fd, "$c2d/dev-q/twin/desired", "{\"n\":2}", 7, true);
	raw_expect(fd, 0x50, 7);
	ck_assert_int_eq(write(fd, pubrel, 4), 4);
	raw_expect(fd, 0x70, 7); /* PUBCOMP */
	/* Mosquitto 2.0.11 hands the DUP to the plugin again (its message event
	 * carries no packet id or DUP flag to tell); the copy changes nothing, so
	 * it makes no new version (and no push or event). */
	twin_versions(app, "dev-q", &dv, NULL);
	ck_assert_msg(dv == 2, "a retransmitted QoS 2 patch was applied %g times", dv - 1);
	close(fd);
	assert_alive(b, app);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* 2000 QoS 0 publishes to $c2d topics from one client, as fast as it can
 * write them: patches, gets without a response topic, invalid topics and
 * plugin-only topics. The broker stays up, the flooder stays connected and
 * every patch is applied; another client is served meanwhile. */
START_TEST(flood)
{
	struct c2d_broker *b = fx_start("plugin_opt_sync periodic\n");
	struct c2d_client *fl = c2d_client_new_connected(b, "flooder", V5, true);
	struct c2d_client *other = c2d_client_new_connected(b, "other", V5, true);
	struct mosquitto *mosq;
	char payload[32];
	int i, rc, patches = 0;
	double dv;

	ck_assert_ptr_nonnull(fl);
	ck_assert_ptr_nonnull(other);
	mosq = c2d_client_mosq(fl);
	for(i = 0; i < 2000; i++){
		switch(i % 5){
			case 0:
				snprintf(payload, sizeof(payload), "{\"n\":%d}", i);
				rc = mosquitto_publish_v5(mosq, NULL, "$c2d/dev-f/twin/desired", (int)strlen(payload), payload, 0,
						false, NULL);
				patches++;
				break;
			case 1:
				rc = mosquitto_publish_v5(mosq, NULL, "$c2d/dev-f/twin/get", 0, NULL, 0, false, NULL);
				break;
			case 2:
				rc = mosquitto_publish_v5(mosq, NULL, "$c2d/dev-f/bogus", 1, "x", 0, false, NULL);
				break;
			case 3:
				rc = mosquitto_publish_v5(mosq, NULL, "$c2d/dev-f/in/twin/t1", 1, "x", 0, false, NULL);
				break;
			default:
				rc = mosquitto_publish_v5(mosq, NULL, "$c2d//msg", 1, "x", 0, false, NULL);
				break;
		}
		ck_assert_int_eq(rc, MOSQ_ERR_SUCCESS);
		if(i == 1000){
			/* another client is served in the middle of it */
			twin_versions(other, "dev-o", &dv, NULL);
		}
	}
	/* the flooder's own request queues behind its flood: every patch is in */
	twin_versions(fl, "dev-f", &dv, NULL);
	ck_assert_msg(dv == patches, "%g of %d patches applied", dv, patches);
	twin_versions(other, "dev-f", &dv, NULL);
	ck_assert(dv == patches);
	assert_alive(b, fl);
	assert_alive(b, other);
	c2d_client_destroy(other);
	c2d_client_destroy(fl);
	c2d_broker_cleanup(b);
}
END_TEST

static Suite *hostile_mqtt_suite(void)
{
	Suite *s = suite_create("hostile_mqtt");
	TCase *tc = tcase_create("broker");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, bad_response_topic);
	tcase_add_test(tc, response_topic_of_other_device);
	tcase_add_test(tc, max_correlation_data);
	tcase_add_test(tc, qos2_patch_applied_once);
	tcase_add_test(tc, flood);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return c2d_check_run(hostile_mqtt_suite());
}
