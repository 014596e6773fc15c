/* libc2d-device connections against the real broker: an MQTT 3.1.1 device,
 * a TLS device with a client certificate (throw-away CA made with openssl),
 * reconnect after a broker restart with hello on every connect and no busy
 * loop while the broker is away, and device calls (time, a custom call
 * served by an application, the library's own timeout, a call made offline). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

START_TEST(mqtt311_device)
{
	struct env e;
	struct tdev *t = env_open(&e, NULL, "old-1", V311);
	struct c2d_msg *m;

	td_start(t, e.mon);
	m = fx_send(e.app, "$c2d/old-1/rpc/ping", "{\"n\":1}", "c1", NULL, "200");
	ck_assert_str_eq(m->payload, "{\"n\":1}");
	c2d_msg_free(m);
	c2d_msg_free(fx_send(e.app, "$c2d/old-1/msg", "m", "m1", NULL, "202"));
	c2d_msg_free(fx_reply(e.app, "m1", "200"));
	c2d_msg_free(fx_send(e.app, "$c2d/old-1/twin/desired", "{\"a\":1}", "d1", NULL, "200"));
	c2d_msg_free(fx_skip_to_event(e.mon, "c2d.twin.desired.acknowledged", NULL));
	ck_assert_int_eq(t->rpcs, 1);
	ck_assert_int_eq(t->msgs, 1);
	ck_assert_int_eq(t->desireds, 1);
	ck_assert_str_eq(t->patch, "{\"a\":1}");
	env_close(&e);
}
END_TEST

/* A CA, a server certificate for 127.0.0.1 and a client certificate for
 * CN tls-dev in a new temp dir. Returns the dir (caller owns, free()). */
static char *make_certs(void)
{
	char tmpl[] = "/tmp/c2d-device-tls-XXXXXX";
	char *dir, *cmd;
	int rc;

	ck_assert_ptr_nonnull(mkdtemp(tmpl));
	dir = strdup(tmpl);
	cmd = c2d_strf("cd %s && K='-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes' && "
			"openssl req -x509 $K -keyout ca.key -out ca.crt -days 1 -subj /CN=c2d-test-ca && "
			"printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\\n' >san.ext && "
			"openssl req $K -keyout server.key -out server.csr -subj /CN=localhost && "
			"openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt "
			"-days 1 -extfile san.ext && "
			"openssl req $K -keyout dev.key -out dev.csr -subj /CN=tls-dev && "
			"openssl x509 -req -in dev.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out dev.crt -days 1",
			dir);
	rc = c2d_sh(cmd, 30000, NULL);
	ck_assert_msg(rc == 0, "openssl failed (%d)", rc);
	free(cmd);
	return dir;
}

START_TEST(tls_client_certificate)
{
	char *dir = make_certs(), *conf, *ca, *crt, *key;
	int tls_port = free_port();
	struct env e;
	struct tdev *t, *nocert;
	struct c2d_msg *m;

	conf = c2d_strf("listener %d 127.0.0.1\ncafile %s/ca.crt\ncertfile %s/server.crt\nkeyfile %s/server.key\n"
			"require_certificate true\n", tls_port, dir, dir, dir);
	env_open(&e, &(struct c2d_broker_opts){.conf = conf}, NULL, V5);
	ca = c2d_strf("%s/ca.crt", dir);
	crt = c2d_strf("%s/dev.crt", dir);
	key = c2d_strf("%s/dev.key", dir);
	t = e.t = td_new("tls-dev", tls_port, V5);
	ck_assert_int_eq(c2d_device_set_tls(t->d, ca, NULL, key), C2D_DEVICE_EINVAL);
	ck_assert_int_eq(c2d_device_set_tls(t->d, "/nonexistent/ca.crt", NULL, NULL), C2D_DEVICE_ETLS);
	ck_assert_int_eq(c2d_device_set_tls(t->d, ca, crt, key), 0);
	td_start(t, e.mon);
	m = fx_send(e.app, "$c2d/tls-dev/rpc/ping", "secure", "c1", NULL, "200");
	ck_assert_str_eq(m->payload, "secure");
	c2d_msg_free(m);
	/* without a client certificate the broker refuses the connection */
	nocert = td_new("tls-nocert", tls_port, V5);
	ck_assert_int_eq(c2d_device_set_tls(nocert->d, ca, NULL, NULL), 0);
	c2d_device_connect(nocert->d);
	td_run(nocert);
	ck_assert(td_wait(nocert, &nocert->drops, 1, TD_WAIT_MS));
	ck_assert_int_eq(nocert->connects, 0);
	td_free(nocert);
	env_close(&e);
	free(conf);
	free(ca);
	free(crt);
	free(key);
	conf = c2d_strf("rm -rf %s", dir);
	c2d_sh(conf, 5000, NULL);
	free(conf);
	free(dir);
}
END_TEST

START_TEST(reconnect_hello_no_busy_loop)
{
	struct c2d_broker *b = fx_start(NULL);
	struct tdev *t = td_new("flap-1", b->port, V5);
	uint64_t end;
	int passes = 0, drops;

	ck_assert_int_eq(c2d_device_set_info(t->d, "[1]"), C2D_DEVICE_EINVAL);
	ck_assert_int_eq(c2d_device_set_info(t->d, "{\"firmware\":\"2.1\"}"), 0);
	td_start(t, NULL);
	ck_assert(c2d_broker_wait_log(b, "'$c2d/flap-1/out/hello', ... (46 bytes)", TD_WAIT_MS));
	/* the broker goes away: the device retries with back-off, sleeping between */
	td_pause(t);
	ck_assert_int_eq(c2d_broker_stop(b), 0);
	end = c2d_now_ms() + 1500;
	while(c2d_now_ms() < end){
		ck_assert_int_eq(c2d_device_loop(t->d, 1000), 0);
		passes++;
	}
	drops = t->drops;
	ck_assert_int_ge(drops, 2); /* the drop, then refused attempts */
	ck_assert_msg(passes <= 4 * drops + 4, "%d loop passes for %d attempts: a busy loop", passes, drops);
	ck_assert_int_eq(c2d_device_is_connected(t->d), 0);
	/* back: it reconnects by itself and says hello again */
	ck_assert_int_eq(c2d_broker_restart(b), 0);
	td_run(t);
	ck_assert(td_wait(t, &t->connects, 2, TD_WAIT_MS));
	ck_assert(c2d_broker_wait_log(b, "'$c2d/flap-1/out/hello', ... (46 bytes)", TD_WAIT_MS));
	td_free(t);
	c2d_broker_cleanup(b);
}
END_TEST

/* An application serving $c2d/{dev}/call/{method}: answers one call with
 * status and body. app: borrowed. */
static void serve_call(struct c2d_client *app, const char *dev, const char *method, const char *status,
		const char *body)
{
	char *topic = c2d_strf("$c2d/%s/call/%s", dev, method);
	struct c2d_msg *req = c2d_client_wait_msg(app, topic, TD_WAIT_MS);
	const char *const user[] = {"status", status, NULL};
	mosquitto_property *props;

	ck_assert_msg(req != NULL, "no call on %s", topic);
	ck_assert_ptr_nonnull(req->response_topic);
	ck_assert_str_eq(req->payload, "{\"unit\":\"C\"}");
	props = c2d_props_build(&(struct c2d_props){.corr = req->corr, .corr_len = req->corr_len, .user = user});
	ck_assert_int_le(c2d_client_publish(app, req->response_topic, body, -1, 1, false, props), 0x10);
	mosquitto_property_free_all(&props);
	c2d_msg_free(req);
	free(topic);
}

START_TEST(calls_time_custom_timeout_offline)
{
	struct env e;
	struct tdev *t = env_open(&e, NULL, "caller-1", V5);
	struct c2d_client *server = fx_subscriber(e.b, "server", "$c2d/+/call/#");

	/* made before connecting: sent on connect */
	ck_assert_int_eq(c2d_device_call(t->d, "time", NULL, 5000, td_on_reply, t), 0);
	td_start(t, e.mon);
	ck_assert(td_wait(t, &t->replies, 1, TD_WAIT_MS));
	ck_assert_int_eq(t->reply_status, 200);
	ck_assert_ptr_nonnull(strstr(t->reply_body, "{\"time\":"));
	/* a custom call: the application's status and body come back */
	td_pause(t);
	ck_assert_int_eq(c2d_device_call(t->d, "bad/method", NULL, 0, td_on_reply, t), C2D_DEVICE_EINVAL);
	ck_assert_int_eq(c2d_device_call(t->d, "config", "{not json", 0, td_on_reply, t), C2D_DEVICE_EINVAL);
	ck_assert_int_eq(c2d_device_call(t->d, "config", "{\"unit\":\"C\"}", 5000, td_on_reply, t), 0);
	td_run(t);
	serve_call(server, "caller-1", "config", "201", "{\"interval\":30}");
	ck_assert(td_wait(t, &t->replies, 2, TD_WAIT_MS));
	ck_assert_int_eq(t->reply_status, 201);
	ck_assert_str_eq(t->reply_body, "{\"interval\":30}");
	/* nobody answers within the call's timeout: 504 from the library */
	td_pause(t);
	ck_assert_int_eq(c2d_device_call(t->d, "unserved", NULL, 300, td_on_reply, t), 0);
	td_run(t);
	ck_assert(td_wait(t, &t->replies, 3, TD_WAIT_MS));
	ck_assert_int_eq(t->reply_status, C2D_STATUS_TIMEOUT);
	/* a disconnect ends a waiting call with 503 */
	td_pause(t);
	ck_assert_int_eq(c2d_device_call(t->d, "unserved", NULL, 60000, td_on_reply, t), 0);
	ck_assert_int_eq(c2d_device_disconnect(t->d), 0);
	ck_assert_int_eq(t->replies, 4);
	ck_assert_int_eq(t->reply_status, C2D_STATUS_CONNECTION_LOST);
	ck_assert_int_eq(c2d_device_loop(t->d, 10), C2D_DEVICE_ECLOSED);
	c2d_client_destroy(server);
	env_close(&e);
}
END_TEST

TCase *tc_connection(void)
{
	TCase *tc = tcase_create("connection");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, mqtt311_device);
	tcase_add_test(tc, tls_client_certificate);
	tcase_add_test(tc, reconnect_hello_no_busy_loop);
	tcase_add_test(tc, calls_time_custom_timeout_offline);
	return tc;
}
