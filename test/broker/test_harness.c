/* The harness itself (harness.h), on a broker without the plugin: wills on a
 * drop, the broker lifecycle (stop, kill -9, restart, SIGHUP, cleanup), the
 * broker options (files, conf, acl, expect_fail), c2d_client_request against
 * a responder thread and the shell helper, and refused connections. The
 * features every other suite relies on; ordinary MQTT traffic through the
 * plugin is test_passthrough.c. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "fixture.h"
#include "harness.h"
#include "../check_main.h"

#define QUIET_MS 500

/* A will fires on c2d_client_drop (v5 and v3.1.1), not on a clean
 * disconnect. */
START_TEST(t_harness_will)
{
	struct c2d_broker *b = c2d_broker_start(&(struct c2d_broker_opts){.no_plugin = true});
	struct c2d_client *obs, *c5, *c3, *clean;

	ck_assert_ptr_nonnull(b);
	obs = c2d_client_new_connected(b, "will-obs", MQTT_PROTOCOL_V5, true);
	ck_assert_ptr_nonnull(obs);
	ck_assert_int_eq(c2d_client_subscribe(obs, "test/will/#", 1), 1);

	c5 = c2d_client_new("will-v5", MQTT_PROTOCOL_V5, true);
	c3 = c2d_client_new("will-v3", MQTT_PROTOCOL_V311, true);
	clean = c2d_client_new("will-clean", MQTT_PROTOCOL_V5, true);
	ck_assert(c5 && c3 && clean);
	ck_assert_int_eq(c2d_client_set_will(c5, "test/will/v5", "gone5", -1, 1, false, NULL), 0);
	ck_assert_int_eq(c2d_client_set_will(c3, "test/will/v3", "gone3", -1, 1, false, NULL), 0);
	ck_assert_int_eq(c2d_client_set_will(clean, "test/will/clean", "gone", -1, 1, false, NULL), 0);
	ck_assert_int_eq(c2d_client_connect(c5, b), 0);
	ck_assert_int_eq(c2d_client_connect(c3, b), 0);
	ck_assert_int_eq(c2d_client_connect(clean, b), 0);

	ck_assert_int_eq(c2d_client_disconnect(clean), 0);
	ck_assert(!c2d_client_is_connected(clean));
	ck_assert_int_eq(c2d_client_drop(c5), 0);
	ck_assert(!c2d_client_is_connected(c5));
	fx_expect_msg(obs, "test/will/v5", "gone5", 5, 1, false);
	ck_assert_int_eq(c2d_client_drop(c3), 0);
	fx_expect_msg(obs, "test/will/v3", "gone3", 5, 1, false);
	ck_assert(c2d_client_expect_none(obs, "test/will/clean", QUIET_MS));

	/* a dropped client can connect again */
	ck_assert_int_eq(c2d_client_connect(c5, b), 0);
	ck_assert_int_eq(c2d_client_publish(c5, "test/will/back", "back", -1, 1, false, NULL), 0);
	fx_expect_msg(obs, "test/will/back", "back", 4, 1, false);

	c2d_client_destroy(c5);
	c2d_client_destroy(c3);
	c2d_client_destroy(clean);
	c2d_client_destroy(obs);
	c2d_broker_cleanup(b);
}
END_TEST

/* stop/kill9/restart keep the port; clients see the loss and reconnect;
 * a persistent v3.1.1 session keeps its subscription across a SIGHUP. */
START_TEST(t_harness_lifecycle)
{
	struct c2d_broker *b = c2d_broker_start(&(struct c2d_broker_opts){.no_plugin = true});
	struct c2d_client *c;
	int port, rc;

	ck_assert_ptr_nonnull(b);
	port = b->port;
	c = c2d_client_new_connected(b, "life", MQTT_PROTOCOL_V5, true);
	ck_assert_ptr_nonnull(c);

	ck_assert_int_eq(c2d_broker_kill9(b), 0);
	ck_assert(!c2d_broker_alive(b));
	ck_assert_int_eq(b->exit_status, 128 + 9);
	rc = c2d_client_wait_disconnect(c, 5000);
	ck_assert_msg(rc > 0, "disconnect rc %d", rc);
	ck_assert(!c2d_client_is_connected(c));
	ck_assert_int_eq(c2d_client_publish(c, "test/x", "x", -1, 1, false, NULL), C2D_ENOCONN);

	ck_assert_int_eq(c2d_broker_restart(b), 0);
	ck_assert_int_eq(b->port, port);
	ck_assert(c2d_broker_log_contains(b, "running"));
	ck_assert_int_eq(c2d_broker_log_count(b, "mosquitto version"), 2); /* starting + running */
	ck_assert_int_eq(c2d_client_connect(c, b), 0);
	ck_assert_int_eq(c2d_client_subscribe(c, "test/life", 1), 1);
	ck_assert_int_eq(c2d_client_publish(c, "test/life", "again", -1, 1, false, NULL), 0);
	fx_expect_msg(c, "test/life", "again", 5, 1, false);

	/* clean stop, restart */
	ck_assert_int_eq(c2d_broker_stop(b), 0);
	ck_assert_int_eq(c2d_client_wait_disconnect(c, 5000) >= 0, 1);
	ck_assert_int_eq(c2d_broker_restart(b), 0);
	ck_assert_int_eq(c2d_client_connect(c, b), 0);
	c2d_client_destroy(c);

	/* SIGHUP: persistent session and subscription survive */
	c = c2d_client_new("life-persist", MQTT_PROTOCOL_V311, false);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c2d_client_connect(c, b), 0);
	ck_assert(!c2d_client_session_present(c));
	ck_assert_int_eq(c2d_client_subscribe(c, "test/persist", 1), 1);
	c2d_broker_log_mark(b);
	ck_assert_int_eq(c2d_broker_sighup(b), 0);
	ck_assert(c2d_broker_log_contains(b, "Reloading config."));
	ck_assert(c2d_broker_alive(b));
	ck_assert_int_eq(c2d_client_disconnect(c), 0);
	ck_assert_int_eq(c2d_client_connect(c, b), 0);
	ck_assert(c2d_client_session_present(c));
	ck_assert_int_eq(c2d_client_publish(c, "test/persist", "p", -1, 1, false, NULL), 0);
	fx_expect_msg(c, "test/persist", "p", 1, 1, false);
	c2d_client_destroy(c);
	c2d_broker_cleanup(b);
}
END_TEST

/* expect_fail, files + @DIR@, write_file, log marks, wait_log timeout. */
START_TEST(t_harness_broker_opts)
{
	static const struct c2d_broker_file files[] = {
			{"myacl", "topic readwrite test/#\n"},
			{NULL, NULL},
	};
	struct c2d_broker *b;
	struct c2d_client *c;
	const char *path;
	char *text;

	b = c2d_broker_start(&(struct c2d_broker_opts){.no_plugin = true, .conf = "no_such_option 1\n",
		.expect_fail = true});
	ck_assert_ptr_nonnull(b);
	ck_assert_int_eq(b->pid, 0);
	ck_assert_int_ne(b->exit_status, 0);
	ck_assert(!c2d_broker_alive(b));
	c2d_broker_cleanup(b);

	/* a broker that starts is not an expected failure */
	ck_assert_ptr_null(c2d_broker_start(&(struct c2d_broker_opts){.no_plugin = true, .expect_fail = true}));

	b = c2d_broker_start(&(struct c2d_broker_opts){.no_plugin = true, .files = files,
		.conf = "acl_file @DIR@/myacl\n"});
	ck_assert_ptr_nonnull(b);
	c = c2d_client_new_connected(b, "opts-client", MQTT_PROTOCOL_V5, true);
	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c2d_client_publish(c, "test/opts", "x", -1, 1, false, NULL), MQTT_RC_NO_MATCHING_SUBSCRIBERS);
	ck_assert_int_eq(c2d_client_publish(c, "other/opts", "x", -1, 1, false, NULL), MQTT_RC_NOT_AUTHORIZED);

	/* rewrite the acl and reload */
	path = c2d_broker_write_file(b, "myacl", "topic readwrite other/#\n");
	ck_assert_ptr_nonnull(path);
	ck_assert_str_eq(path + strlen(b->dir), "/myacl");
	ck_assert_int_eq(c2d_broker_sighup(b), 0);
	ck_assert_int_eq(c2d_client_publish(c, "other/opts", "x", -1, 1, false, NULL), MQTT_RC_NO_MATCHING_SUBSCRIBERS);
	ck_assert_int_eq(c2d_client_publish(c, "test/opts", "x", -1, 1, false, NULL), MQTT_RC_NOT_AUTHORIZED);

	/* log marks */
	ck_assert(c2d_broker_log_contains(b, "running"));
	c2d_broker_log_mark(b);
	ck_assert(!c2d_broker_log_contains(b, "running"));
	text = c2d_broker_log_text(b);
	ck_assert_ptr_nonnull(text);
	ck_assert_str_eq(text, "");
	free(text);
	ck_assert(!c2d_broker_wait_log(b, "never logged", 200));
	c2d_client_destroy(c);
	ck_assert(c2d_broker_wait_log(b, "opts-client", 2000));
	c = c2d_client_new_connected(b, "opts-client2", MQTT_PROTOCOL_V311, true);
	ck_assert_ptr_nonnull(c);
	ck_assert(c2d_broker_wait_log(b, "New client connected", 2000));
	ck_assert_int_eq(c2d_broker_log_count(b, "New client connected"), 1);
	c2d_client_destroy(c);
	c2d_broker_cleanup(b);
}
END_TEST

struct responder {
	struct c2d_client *c;
	const char *topic;
	int handled;
};

static void *responder_main(void *arg)
{
	struct responder *r = arg;
	struct c2d_msg *m = c2d_client_wait_msg(r->c, r->topic, 5000);

	if(m && m->response_topic){
		mosquitto_property *props = c2d_props_build(&(struct c2d_props){
				.corr = m->corr,
				.corr_len = m->corr_len,
				.user = (const char *const[]){"status", "200", NULL},
		});
		char *reply = c2d_strf("echo:%s", m->payload);
		if(c2d_client_publish(r->c, m->response_topic, reply, -1, 1, false, props) == 0){
			r->handled = 1;
		}
		free(reply);
		mosquitto_property_free_all(&props);
	}
	c2d_msg_free(m);
	return NULL;
}

/* c2d_client_request against a responder thread; shell helper exit codes
 * and timeouts. */
START_TEST(t_harness_request_shell)
{
	struct c2d_broker *b = c2d_broker_start(&(struct c2d_broker_opts){.no_plugin = true});
	struct responder r = {NULL, "test/svc/echo", 0};
	struct c2d_client *c;
	struct c2d_request req = {.topic = "test/svc/echo", .payload = "hi", .len = -1, .qos = 1};
	struct c2d_msg *m;
	pthread_t th;
	char *out = NULL;
	uint64_t t0;

	ck_assert_ptr_nonnull(b);
	r.c = c2d_client_new_connected(b, "responder", MQTT_PROTOCOL_V5, true);
	c = c2d_client_new_connected(b, "requester", MQTT_PROTOCOL_V5, true);
	ck_assert(r.c && c);
	ck_assert_int_eq(c2d_client_subscribe(r.c, r.topic, 1), 1);
	ck_assert_int_eq(pthread_create(&th, NULL, responder_main, &r), 0);
	m = c2d_client_request(c, &req);
	pthread_join(th, NULL);
	ck_assert_int_eq(r.handled, 1);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(req.puback_rc, 0);
	ck_assert_str_eq(m->payload, "echo:hi");
	ck_assert_pstr_eq(c2d_msg_user_prop(m, "status"), "200");
	c2d_msg_free(m);
	ck_assert_uint_eq(c2d_client_inbox_count(c), 0);

	/* no responder: NULL after the timeout, puback 0x10 (nobody listens) */
	req.topic = "test/svc/nobody";
	req.timeout_ms = 300;
	ck_assert_ptr_null(c2d_client_request(c, &req));
	ck_assert_int_eq(req.puback_rc, MQTT_RC_NO_MATCHING_SUBSCRIBERS);

	/* inbox bookkeeping */
	ck_assert_int_eq(c2d_client_subscribe(c, "test/inbox/#", 0), 0);
	ck_assert_int_eq(c2d_client_publish(c, "test/inbox/a", "1", -1, 0, false, NULL), 0);
	ck_assert_int_eq(c2d_client_publish(c, "test/inbox/b", "2", -1, 0, false, NULL), 0);
	m = c2d_client_wait_msg(c, "test/inbox/b", FX_WAIT_MS); /* skips a, which stays */
	ck_assert_ptr_nonnull(m);
	c2d_msg_free(m);
	ck_assert_uint_eq(c2d_client_inbox_count(c), 1);
	ck_assert(!c2d_client_expect_none(c, "test/inbox/a", 10));
	c2d_client_inbox_clear(c);
	ck_assert_uint_eq(c2d_client_inbox_count(c), 0);
	ck_assert_ptr_null(c2d_client_wait_msg(c, NULL, 50));
	ck_assert_int_eq(c2d_client_unsubscribe(c, "test/inbox/#"), 0);
	ck_assert_int_eq(c2d_client_publish(c, "test/inbox/c", "3", -1, 1, false, NULL), MQTT_RC_NO_MATCHING_SUBSCRIBERS);

	/* shell */
	ck_assert_int_eq(c2d_sh("echo hi; echo err >&2; exit 3", 2000, &out), 3);
	ck_assert_str_eq(out, "hi\n");
	free(out);
	t0 = c2d_now_ms();
	ck_assert_int_eq(c2d_sh("echo start; sleep 10", 300, &out), C2D_ETIMEDOUT);
	ck_assert(c2d_now_ms() - t0 < 2000);
	ck_assert_str_eq(out, "start\n");
	free(out);

	c2d_client_destroy(c);
	c2d_client_destroy(r.c);
	c2d_broker_cleanup(b);
}
END_TEST

/* A refused CONNECT returns the reason code and does not retry. */
START_TEST(t_harness_refused)
{
	struct c2d_broker *b = c2d_broker_start(&(struct c2d_broker_opts){.no_plugin = true,
			.conf = "password_file @DIR@/passwd\n",
			.files = (const struct c2d_broker_file[]){{"passwd", ""}, {NULL, NULL}}});
	struct c2d_client *c5, *c3;

	ck_assert_ptr_nonnull(b);
	c5 = c2d_client_new("refused5", MQTT_PROTOCOL_V5, true);
	c3 = c2d_client_new("refused3", MQTT_PROTOCOL_V311, true);
	ck_assert(c5 && c3);
	ck_assert_int_eq(c2d_client_set_login(c5, "nobody", "wrong"), 0);
	ck_assert_int_eq(c2d_client_set_login(c3, "nobody", "wrong"), 0);
	ck_assert_int_eq(c2d_client_connect(c5, b), MQTT_RC_NOT_AUTHORIZED);
	ck_assert_int_eq(c2d_client_connect(c3, b), CONNACK_REFUSED_NOT_AUTHORIZED);
	ck_assert(!c2d_client_is_connected(c5));
	/* libmosquitto would retry after 1 s */
	c2d_broker_log_mark(b);
	c2d_sleep_ms(1500);
	ck_assert(!c2d_broker_log_contains(b, "refused"));
	c2d_client_destroy(c5);
	c2d_client_destroy(c3);
	c2d_broker_cleanup(b);
}
END_TEST

static Suite *harness_suite(void)
{
	Suite *s = suite_create("harness");
	TCase *th = tcase_create("harness");

	tcase_set_timeout(th, 60);
	tcase_add_test(th, t_harness_will);
	tcase_add_test(th, t_harness_lifecycle);
	tcase_add_test(th, t_harness_broker_opts);
	tcase_add_test(th, t_harness_request_shell);
	tcase_add_test(th, t_harness_refused);
	suite_add_tcase(s, th);
	return s;
}

int main(void)
{
	return c2d_check_run(harness_suite());
}
