/* Identity bound to credentials, device hello, bounded device calls and the
 * $SYS statistics (protocol-v2 section 1), against the real broker:
 * plugin_opt_identity username with a password_file, plugin_opt_identity
 * certificate with a TLS listener (require_certificate true) and a throw-away
 * CA and client certificates made with openssl for each test. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mqtt_protocol.h>

#include "fixture.h"
#include "harness.h"
#include "../check_main.h"

#define V5 MQTT_PROTOCOL_V5
#define V3 MQTT_PROTOCOL_V311

/* ---- identity username ---- */

START_TEST(test_identity_username)
{
	int protocol = _i ? V3 : V5;
	struct c2d_broker *b;
	struct c2d_client *c;
	char *pw = fx_passwd("dev-1:pw1\ndev-2:pw2\n");
	struct c2d_broker_file files[] = {{"passwd", pw}, {NULL, NULL}};
	struct c2d_broker_opts o = {.plugin_opts = "plugin_opt_identity username\n",
		.conf = "password_file @DIR@/passwd\n", .files = files};
	int rc;

	b = c2d_broker_start(&o);
	ck_assert_ptr_nonnull(b);
	ck_assert(c2d_broker_log_contains(b, "identity username"));
	/* its own name: accepted */
	c = c2d_client_new("dev-1", protocol, true);
	ck_assert_int_eq(c2d_client_set_login(c, "dev-1", "pw1"), 0);
	ck_assert_int_eq(c2d_client_connect(c, b), 0);
	c2d_client_destroy(c);
	/* dev-1's valid credentials with dev-2's id: refused at CONNECT */
	c = c2d_client_new("dev-2", protocol, true);
	ck_assert_int_eq(c2d_client_set_login(c, "dev-1", "pw1"), 0);
	rc = c2d_client_connect(c, b);
	ck_assert_int_eq(rc, protocol == V5 ? 0x87 : 5);
	ck_assert(c2d_broker_wait_log(b, "refused the connection of 'dev-2'", FX_WAIT_MS));
	ck_assert(c2d_broker_log_contains(b, "its username 'dev-1' is not its client id"));
	c2d_client_destroy(c);
	/* no username at all: refused */
	c = c2d_client_new("dev-1", protocol, true);
	ck_assert_int_ne(c2d_client_connect(c, b), 0);
	c2d_client_destroy(c);
	c2d_broker_cleanup(b);
	free(pw);
}
END_TEST

/* ---- identity certificate ---- */

/* A CA and client certificates (CN = each name) in dir, made with openssl:
 * dir/ca.crt, dir/server.{crt,key}, dir/{name}.{crt,key}. */
static void make_certs(const char *dir, const char *const *names)
{
	char *cmd;
	size_t i;

	cmd = c2d_strf("cd %s && openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=c2d-test-ca "
			"-keyout ca.key -out ca.crt 2>/dev/null"
			" && openssl req -newkey rsa:2048 -nodes -subj /CN=localhost -keyout server.key -out server.csr 2>/dev/null"
			" && printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' > san.ext"
			" && openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 "
			"-extfile san.ext -out server.crt 2>/dev/null", dir);
	ck_assert_int_eq(c2d_sh(cmd, 60000, NULL), 0);
	free(cmd);
	for(i = 0; names[i]; i++){
		cmd = c2d_strf("cd %s && openssl req -newkey rsa:2048 -nodes -subj /CN=%s -keyout %s.key -out %s.csr 2>/dev/null"
				" && openssl x509 -req -in %s.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -out %s.crt 2>/dev/null",
				dir, names[i], names[i], names[i], names[i], names[i]);
		ck_assert_int_eq(c2d_sh(cmd, 60000, NULL), 0);
		free(cmd);
	}
}

struct tls_world {
	struct c2d_broker *b;
	int tls_port;
	char certs[300];
};

static void tls_start(struct tls_world *w, const char *plugin_opts)
{
	static const char *const names[] = {"dev-a", "dev-b", "app", NULL};
	char *conf;
	struct c2d_broker_opts o = {0};

	snprintf(w->certs, sizeof(w->certs), "/tmp/c2d-certs-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(w->certs));
	make_certs(w->certs, names);
	w->tls_port = c2d_free_port();
	conf = c2d_strf("listener %d 127.0.0.1\ncafile %s/ca.crt\ncertfile %s/server.crt\nkeyfile %s/server.key\n"
			"require_certificate true\n", w->tls_port, w->certs, w->certs, w->certs);
	o.plugin_opts = plugin_opts;
	o.conf = conf;
	w->b = c2d_broker_start(&o);
	ck_assert_ptr_nonnull(w->b);
	free(conf);
}

static void tls_free(struct tls_world *w)
{
	char *cmd = c2d_strf("rm -rf %s", w->certs);

	c2d_broker_cleanup(w->b);
	c2d_sh(cmd, 10000, NULL);
	free(cmd);
}

/* A TLS client `id` presenting the certificate of `cert` (NULL: none).
 * Returns the client (caller owns) and the CONNACK code in *rc. */
static struct c2d_client *tls_client(struct tls_world *w, const char *id, const char *cert, int protocol, int *rc)
{
	struct c2d_client *c = c2d_client_new(id, protocol, true);
	char *ca = c2d_strf("%s/ca.crt", w->certs), *crt = NULL, *key = NULL;

	ck_assert_ptr_nonnull(c);
	if(cert){
		crt = c2d_strf("%s/%s.crt", w->certs, cert);
		key = c2d_strf("%s/%s.key", w->certs, cert);
	}
	ck_assert_int_eq(mosquitto_tls_set(c2d_client_mosq(c), ca, NULL, crt, key, NULL), MOSQ_ERR_SUCCESS);
	*rc = c2d_client_connect_ex(c, w->tls_port, 60, NULL);
	free(ca);
	free(crt);
	free(key);
	return c;
}

/* dev-a with its own certificate is online at CONNECT without publishing:
 * it gets its queued message and answers a lightweight RPC. */
START_TEST(test_identity_certificate_online)
{
	int protocol = _i ? V3 : V5;
	struct tls_world w;
	struct c2d_client *app, *dev;
	struct c2d_msg *m, *call;
	struct c2d_props p = {.response_topic = "replies/app", .corr = "r1"};
	mosquitto_property *props = c2d_props_build(&p);
	char *topic;
	int rc;

	tls_start(&w, "plugin_opt_identity certificate\n");
	app = tls_client(&w, "app", "app", V5, &rc);
	ck_assert_int_eq(rc, 0);
	c2d_msg_free(fx_send(app, "$c2d/dev-a/msg", "queued-before", "m1", NULL, "202"));
	dev = tls_client(&w, "dev-a", "dev-a", protocol, &rc);
	ck_assert_int_eq(rc, 0);
	m = c2d_client_wait_msg(dev, "$c2d/dev-a/in/msg/q1", FX_WAIT_MS);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->payload, "queued-before");
	c2d_msg_free(m);
	/* the device has published nothing: presence came from its CONNECT */
	ck_assert_int_eq(c2d_client_subscribe(app, "replies/app", 1), 1);
	ck_assert_int_ge(c2d_client_publish(app, "$c2d/dev-a/rpc/ping", "{}", -1, 1, false, props), 0);
	mosquitto_property_free_all(&props);
	call = c2d_client_wait_msg(dev, "$c2d/dev-a/in/rpc/ping/#", FX_WAIT_MS);
	ck_assert_ptr_nonnull(call);
	topic = c2d_strf("$c2d/dev-a/out/res/%s/200", strrchr(call->topic, '/') + 1);
	ck_assert_int_ge(c2d_client_publish(dev, topic, "pong", -1, 1, false, NULL), 0);
	m = c2d_client_wait_corr(app, "replies/app", "r1", 2, FX_WAIT_MS);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->payload, "pong");
	c2d_msg_free(m);
	c2d_msg_free(call);
	free(topic);
	c2d_client_destroy(dev);
	c2d_client_destroy(app);
	tls_free(&w);
}
END_TEST

/* Another device's certificate, or another device's id with one's own: refused. */
START_TEST(test_identity_certificate_refused)
{
	int protocol = _i ? V3 : V5, refused = _i ? 5 : 0x87;
	struct tls_world w;
	struct c2d_client *c;
	int rc;

	tls_start(&w, "plugin_opt_identity certificate\n");
	c = tls_client(&w, "dev-b", "dev-a", protocol, &rc); /* dev-a's certificate as dev-b */
	ck_assert_int_eq(rc, refused);
	c2d_client_destroy(c);
	ck_assert(c2d_broker_wait_log(w.b, "its certificate's CN 'dev-a' is not its client id", FX_WAIT_MS));
	c = tls_client(&w, "dev-a", "dev-b", protocol, &rc); /* dev-a's id with dev-b's certificate */
	ck_assert_int_eq(rc, refused);
	c2d_client_destroy(c);
	/* the plain listener: no certificate at all */
	c = c2d_client_new("dev-a", protocol, true);
	ck_assert_int_eq(c2d_client_connect(c, w.b), refused);
	c2d_client_destroy(c);
	ck_assert(c2d_broker_wait_log(w.b, "presented no client certificate", FX_WAIT_MS));
	tls_free(&w);
}
END_TEST

/* ---- hello ---- */

/* hello confirms presence at once and merges its object into info, shown by
 * getDevice and the full twin; a bad hello is refused (v5: 400 reply). */
START_TEST(test_hello_info)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *mon = fx_monitor(b, "$c2d/h1/events/#"), *app = fx_app(b, FX_REPLIES);
	struct c2d_client *dev = c2d_client_new_connected(b, "h1", V5, true);
	struct c2d_msg *m;
	cJSON *ev;

	/* right after CONNECT, before any tick could confirm it */
	c2d_msg_free(fx_send(dev, "$c2d/h1/out/hello", "{\"fw\":\"1.0\",\"model\":\"t-2\"}", "h", NULL, "200"));
	cJSON_Delete(fx_expect_event(mon, "h1", "presence", "c2d.presence.connected"));
	ev = fx_expect_event(mon, "h1", "device", "c2d.device.hello");
	ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "data"), "info"), "fw")->valuestring,
			"1.0");
	cJSON_Delete(ev);
	/* a second hello merges: fw changes, model stays, a null removes */
	c2d_msg_free(fx_send(dev, "$c2d/h1/out/hello", "{\"fw\":\"1.1\",\"caps\":[\"ota\"],\"x\":null}", "h2", NULL, "200"));
	m = fx_request(app, "$CONTROL/c2d/v1", "{\"commands\":[{\"command\":\"getDevice\",\"device\":\"h1\"}]}", NULL);
	ck_assert_msg(strstr(m->payload, "\"info\":{\"fw\":\"1.1\",\"model\":\"t-2\",\"caps\":[\"ota\"]}") != NULL, "%s",
			m->payload);
	ck_assert_ptr_nonnull(strstr(m->payload, "\"known\":true"));
	c2d_msg_free(m);
	m = fx_request(app, "$c2d/h1/twin/get", "", "200");
	ck_assert_msg(strstr(m->payload, "\"info\":{\"fw\":\"1.1\",\"model\":\"t-2\",\"caps\":[\"ota\"]}") != NULL, "%s",
			m->payload);
	c2d_msg_free(m);
	/* an empty hello changes nothing; bad ones are refused */
	c2d_msg_free(fx_send(dev, "$c2d/h1/out/hello", "", "h3", NULL, "200"));
	c2d_msg_free(fx_send(dev, "$c2d/h1/out/hello", "[1]", "h4", NULL, "400"));
	c2d_msg_free(fx_send(dev, "$c2d/h1/out/hello", "{\"a\":", "h5", NULL, "400"));
	/* nobody else may say hello for h1 */
	ck_assert_int_eq(c2d_client_publish(app, "$c2d/h1/out/hello", "{\"fw\":\"evil\"}", -1, 1, false, NULL), 0x87);
	m = fx_request(app, "$c2d/h1/twin/get", "", "200");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"fw\":\"1.1\""));
	c2d_msg_free(m);
	c2d_client_destroy(dev);
	c2d_client_destroy(app);
	c2d_client_destroy(mon);
	c2d_broker_cleanup(b);
}
END_TEST

/* A v3.1.1 device's bad hello gets no status: c2d.device.refused says it. */
START_TEST(test_hello_refused_v3)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *mon = fx_monitor(b, "$c2d/h3/events/device");
	struct c2d_client *dev = c2d_client_new_connected(b, "h3", V3, true);
	cJSON *ev;
	const cJSON *data;

	ck_assert_int_eq(c2d_client_publish(dev, "$c2d/h3/out/hello", "\"just a string\"", -1, 1, false, NULL), 0);
	ev = fx_expect_event(mon, "h3", "device", "c2d.device.refused");
	data = cJSON_GetObjectItem(ev, "data");
	ck_assert_int_eq(cJSON_GetObjectItem(data, "status")->valueint, 400);
	ck_assert_str_eq(cJSON_GetObjectItem(data, "error")->valuestring, "hello must be empty or a JSON object");
	ck_assert_str_eq(cJSON_GetObjectItem(data, "topic")->valuestring, "$c2d/h3/out/hello");
	cJSON_Delete(ev);
	c2d_client_destroy(dev);
	c2d_client_destroy(mon);
	c2d_broker_cleanup(b);
}
END_TEST

/* ---- device calls bounded ---- */

START_TEST(test_calls_bounded)
{
	struct c2d_broker *b = fx_start("plugin_opt_calls_inflight 2\n");
	struct c2d_client *dev = c2d_client_new_connected(b, "cb1", _i ? V3 : V5, true);
	struct c2d_msg *m;

	/* nobody serves "lookup": two calls wait, the third is refused at once */
	ck_assert_int_ge(c2d_client_publish(dev, "$c2d/cb1/out/call/lookup/r1", "{}", -1, 1, false, NULL), 0);
	ck_assert_int_ge(c2d_client_publish(dev, "$c2d/cb1/out/call/lookup/r2", "{}", -1, 1, false, NULL), 0);
	ck_assert_int_ge(c2d_client_publish(dev, "$c2d/cb1/out/call/lookup/r3", "{}", -1, 1, false, NULL), 0);
	m = c2d_client_wait_msg(dev, "$c2d/cb1/in/reply/r3/429", FX_WAIT_MS);
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(strstr(m->payload, "plugin_opt_calls_inflight"));
	c2d_msg_free(m);
	ck_assert(c2d_client_expect_none(dev, "$c2d/cb1/in/reply/+/#", 300));
	/* built-in calls are answered at once and are not bounded */
	ck_assert_int_ge(c2d_client_publish(dev, "$c2d/cb1/out/call/time/t1", NULL, 0, 1, false, NULL), 0);
	c2d_msg_free(c2d_client_wait_msg(dev, "$c2d/cb1/in/reply/t1/200", FX_WAIT_MS));
	c2d_client_destroy(dev);
	c2d_broker_cleanup(b);
}
END_TEST

/* ---- $SYS statistics ---- */

START_TEST(test_sys_statistics)
{
	struct c2d_broker *b = fx_start("plugin_opt_stats_interval 1\n");
	struct c2d_client *sub = fx_subscriber(b, "sys", "$SYS/broker/c2d/#");
	struct c2d_client *dev = c2d_client_new_connected(b, "s1", V5, true);
	struct c2d_msg *m;
	uint64_t until = c2d_now_ms() + 5000;
	bool online_seen = false;

	ck_assert_int_ge(c2d_client_publish(dev, "$c2d/s1/out/hello", NULL, 0, 1, false, NULL), 0);
	/* devices/online reaches 2 (sys and s1 are both clients, so both count) */
	while(!online_seen && c2d_now_ms() < until){
		m = c2d_client_wait_msg(sub, "$SYS/broker/c2d/devices/online", 2500);
		if(m && strcmp(m->payload, "2") == 0) online_seen = true;
		c2d_msg_free(m);
	}
	ck_assert(online_seen);
	m = c2d_client_wait_msg(sub, "$SYS/broker/c2d/store/map_bytes", 2500);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->payload, "1073741824");
	c2d_msg_free(m);
	c2d_msg_free(c2d_client_wait_msg(sub, "$SYS/broker/c2d/requests", 2500));
	c2d_client_destroy(dev);
	c2d_client_destroy(sub);
	c2d_broker_cleanup(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("identity");
	TCase *tc = tcase_create("broker");

	tcase_set_timeout(tc, 90);
	tcase_add_loop_test(tc, test_identity_username, 0, 2);
	tcase_add_loop_test(tc, test_identity_certificate_online, 0, 2);
	tcase_add_loop_test(tc, test_identity_certificate_refused, 0, 2);
	tcase_add_test(tc, test_hello_info);
	tcase_add_test(tc, test_hello_refused_v3);
	tcase_add_loop_test(tc, test_calls_bounded, 0, 2);
	tcase_add_test(tc, test_sys_statistics);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
