/* Passthrough: with the plugin loaded, ordinary (non-$c2d) MQTT traffic
 * behaves exactly as on a plain broker: v5 and v3.1.1, QoS 0/1/2, retained
 * messages, v5 properties, acl_file rules, the CLI clients. The same checks
 * on a broker without the plugin prove the harness itself (tcase "harness";
 * the harness features other suites rely on are checked by test_harness.c). */
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

#define WAIT_MS 3000
#define QUIET_MS 500

static const char *proto_name(int protocol)
{
	return protocol == MQTT_PROTOCOL_V5 ? "v5" : "v311";
}

/* v5 and v3.1.1 publishers to v5 and v3.1.1 subscribers at QoS 0/1/2, a
 * binary payload, an empty payload; topics under test/<tag>/. */
static void check_pubsub(struct c2d_broker *b, const char *tag)
{
	static const int protos[] = {MQTT_PROTOCOL_V5, MQTT_PROTOCOL_V311};
	static const char bin[] = {'a', 0, 'b', (char)0xff, 0};
	struct c2d_client *sub[2], *pub[2];
	char *filter = c2d_strf("test/%s/#", tag);
	int i, j, qos;

	for(i = 0; i < 2; i++){
		char *id = c2d_strf("%s-sub-%s", tag, proto_name(protos[i]));
		sub[i] = c2d_client_new_connected(b, id, protos[i], true);
		ck_assert_ptr_nonnull(sub[i]);
		ck_assert_int_eq(c2d_client_subscribe(sub[i], filter, 2), 2);
		free(id);
		id = c2d_strf("%s-pub-%s", tag, proto_name(protos[i]));
		pub[i] = c2d_client_new_connected(b, id, protos[i], true);
		ck_assert_ptr_nonnull(pub[i]);
		free(id);
	}
	for(i = 0; i < 2; i++){
		for(qos = 0; qos <= 2; qos++){
			char *topic = c2d_strf("test/%s/%s/q%d", tag, proto_name(protos[i]), qos);
			char *payload = c2d_strf("hello from %s at qos %d", proto_name(protos[i]), qos);

			ck_assert_int_eq(c2d_client_publish(pub[i], topic, payload, -1, qos, false, NULL), 0);
			for(j = 0; j < 2; j++){
				fx_expect_msg(sub[j], topic, payload, (int)strlen(payload), qos, false);
			}
			free(topic);
			free(payload);
		}
		/* binary payload with NULs, and an empty payload */
		{
			char *topic = c2d_strf("test/%s/%s/bin", tag, proto_name(protos[i]));
			ck_assert_int_eq(c2d_client_publish(pub[i], topic, bin, (int)sizeof(bin), 1, false, NULL), 0);
			ck_assert_int_eq(c2d_client_publish(pub[i], topic, NULL, 0, 1, false, NULL), 0);
			for(j = 0; j < 2; j++){
				fx_expect_msg(sub[j], topic, bin, (int)sizeof(bin), 1, false);
				fx_expect_msg(sub[j], topic, NULL, 0, 1, false);
			}
			free(topic);
		}
	}
	for(i = 0; i < 2; i++){
		ck_assert_msg(c2d_client_expect_none(sub[i], NULL, 100), "unexpected extra message");
		c2d_client_destroy(sub[i]);
		c2d_client_destroy(pub[i]);
	}
	free(filter);
}

/* Retained messages from v5 and v3.1.1 publishers reach later subscribers of
 * both versions with the retain flag; an empty retained publish clears them. */
static void check_retained(struct c2d_broker *b, const char *tag)
{
	static const int protos[] = {MQTT_PROTOCOL_V5, MQTT_PROTOCOL_V311};
	char *filter = c2d_strf("test/%s/retained/#", tag);
	int i, j;

	for(i = 0; i < 2; i++){
		char *id = c2d_strf("%s-rpub-%s", tag, proto_name(protos[i]));
		char *topic = c2d_strf("test/%s/retained/%s", tag, proto_name(protos[i]));
		struct c2d_client *p = c2d_client_new_connected(b, id, protos[i], true);

		ck_assert_ptr_nonnull(p);
		/* nobody subscribes yet: v5 gets 0x10 (success) */
		ck_assert_int_eq(c2d_client_publish(p, topic, "kept", -1, 1, true, NULL),
				protos[i] == MQTT_PROTOCOL_V5 ? MQTT_RC_NO_MATCHING_SUBSCRIBERS : 0);
		c2d_client_destroy(p);
		free(id);
		free(topic);
	}
	for(j = 0; j < 2; j++){
		char *id = c2d_strf("%s-rsub-%s", tag, proto_name(protos[j]));
		struct c2d_client *s = c2d_client_new_connected(b, id, protos[j], true);

		ck_assert_ptr_nonnull(s);
		ck_assert_int_eq(c2d_client_subscribe(s, filter, 1), 1);
		for(i = 0; i < 2; i++){
			char *topic = c2d_strf("test/%s/retained/%s", tag, proto_name(protos[i]));
			fx_expect_msg(s, topic, "kept", 4, 1, true);
			free(topic);
		}
		/* a live publish on a retained topic reaches current subscribers
		 * without the retain flag */
		{
			char *topic = c2d_strf("test/%s/retained/live", tag);
			struct c2d_client *p = c2d_client_new_connected(b, "rlive", MQTT_PROTOCOL_V5, true);
			ck_assert_ptr_nonnull(p);
			ck_assert_int_eq(c2d_client_publish(p, topic, "now", -1, 1, true, NULL), 0);
			fx_expect_msg(s, topic, "now", 3, 1, false);
			ck_assert_int_eq(c2d_client_publish(p, topic, NULL, 0, 1, true, NULL), 0);
			fx_expect_msg(s, topic, NULL, 0, 1, false);
			c2d_client_destroy(p);
			free(topic);
		}
		c2d_client_destroy(s);
		free(id);
	}
	/* clear both, a new subscriber gets nothing */
	{
		struct c2d_client *p = c2d_client_new_connected(b, "rclear", MQTT_PROTOCOL_V311, true);
		struct c2d_client *s;

		ck_assert_ptr_nonnull(p);
		for(i = 0; i < 2; i++){
			char *topic = c2d_strf("test/%s/retained/%s", tag, proto_name(protos[i]));
			ck_assert_int_eq(c2d_client_publish(p, topic, NULL, 0, 1, true, NULL), 0);
			free(topic);
		}
		s = c2d_client_new_connected(b, "rafter", MQTT_PROTOCOL_V5, true);
		ck_assert_ptr_nonnull(s);
		ck_assert_int_eq(c2d_client_subscribe(s, filter, 1), 1);
		ck_assert(c2d_client_expect_none(s, NULL, QUIET_MS));
		c2d_client_destroy(s);
		c2d_client_destroy(p);
	}
	free(filter);
}

/* v5 properties on a non-$c2d topic reach a v5 subscriber unchanged; a
 * v3.1.1 subscriber gets the payload. */
static void check_properties(struct c2d_broker *b)
{
	static const char corr[] = {1, 2, 0, 3};
	struct c2d_client *p, *s5, *s3;
	mosquitto_property *props;
	struct c2d_msg *m;

	p = c2d_client_new_connected(b, "props-pub", MQTT_PROTOCOL_V5, true);
	s5 = c2d_client_new_connected(b, "props-sub5", MQTT_PROTOCOL_V5, true);
	s3 = c2d_client_new_connected(b, "props-sub3", MQTT_PROTOCOL_V311, true);
	ck_assert(p && s5 && s3);
	ck_assert_int_eq(c2d_client_subscribe(s5, "test/props/#", 1), 1);
	ck_assert_int_eq(c2d_client_subscribe(s3, "test/props/#", 1), 1);
	props = c2d_props_build(&(struct c2d_props){
			.response_topic = "test/props/reply",
			.corr = corr,
			.corr_len = (int)sizeof(corr),
			.content_type = "text/plain",
			.expiry = 60,
			.user = (const char *const[]){"a", "1", "b", "2", "a", "3", NULL},
	});
	ck_assert_ptr_nonnull(props);
	ck_assert_int_eq(c2d_client_publish(p, "test/props/x", "with props", -1, 1, false, props), 0);
	mosquitto_property_free_all(&props);

	m = c2d_client_wait_msg(s5, "test/props/x", WAIT_MS);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->payload, "with props");
	ck_assert_pstr_eq(m->response_topic, "test/props/reply");
	ck_assert(c2d_msg_corr_eq(m, corr, (int)sizeof(corr)));
	ck_assert_pstr_eq(m->content_type, "text/plain");
	ck_assert(m->has_expiry);
	ck_assert(m->expiry > 0 && m->expiry <= 60);
	ck_assert_int_eq(m->user_prop_count, 3);
	ck_assert_pstr_eq(c2d_msg_user_prop(m, "a"), "1");
	ck_assert_pstr_eq(c2d_msg_user_prop(m, "b"), "2");
	ck_assert_str_eq(m->user_props[2].key, "a");
	ck_assert_str_eq(m->user_props[2].value, "3");
	ck_assert_ptr_null(c2d_msg_user_prop(m, "c"));
	c2d_msg_free(m);

	m = c2d_client_wait_msg(s3, "test/props/x", WAIT_MS);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->payload, "with props");
	ck_assert_ptr_null(m->response_topic);
	ck_assert_int_eq(m->user_prop_count, 0);
	c2d_msg_free(m);

	/* no subscriber: v5 QoS 1 gets 0x10, which is success */
	ck_assert_int_eq(c2d_client_publish(p, "nobody/listens", "x", -1, 1, false, NULL), MQTT_RC_NO_MATCHING_SUBSCRIBERS);
	c2d_client_destroy(p);
	c2d_client_destroy(s5);
	c2d_client_destroy(s3);
}

/* ---- (1) the plugin loads ---- */

START_TEST(t_plugin_loads)
{
	struct c2d_broker *b = c2d_broker_start(NULL);

	ck_assert_msg(b != NULL, "the broker with %s did not start (see the log above)", C2D_PLUGIN_PATH);
	ck_assert_msg(c2d_broker_log_contains(b, "Loading plugin: " C2D_PLUGIN_PATH), "no plugin load line");
	ck_assert_msg(c2d_broker_wait_log(b, "c2d: ", 2000), "the plugin logged nothing (no \"c2d: \" line)");
	ck_assert(!c2d_broker_log_contains(b, "Error"));
	ck_assert(c2d_broker_alive(b));
	c2d_broker_cleanup(b);
}
END_TEST

/* ---- (2) pub/sub with the plugin ---- */

START_TEST(t_plugin_pubsub)
{
	struct c2d_broker *b = c2d_broker_start(NULL);

	ck_assert_ptr_nonnull(b);
	check_pubsub(b, "plugin");
	ck_assert(c2d_broker_alive(b));
	c2d_broker_cleanup(b);
}
END_TEST

START_TEST(t_plugin_retained)
{
	struct c2d_broker *b = c2d_broker_start(NULL);

	ck_assert_ptr_nonnull(b);
	check_retained(b, "plugin");
	ck_assert(c2d_broker_alive(b));
	c2d_broker_cleanup(b);
}
END_TEST

START_TEST(t_plugin_properties)
{
	struct c2d_broker *b = c2d_broker_start(NULL);

	ck_assert_ptr_nonnull(b);
	check_properties(b);
	c2d_broker_cleanup(b);
}
END_TEST

/* ---- (3) acl_file with the plugin ---- */

static void check_acl(struct c2d_broker *b)
{
	struct c2d_client *s, *p5, *p3, *own;

	s = c2d_client_new_connected(b, "acl-sub", MQTT_PROTOCOL_V5, true);
	p5 = c2d_client_new_connected(b, "acl-pub5", MQTT_PROTOCOL_V5, true);
	p3 = c2d_client_new_connected(b, "acl-pub3", MQTT_PROTOCOL_V311, true);
	own = c2d_client_new_connected(b, "acl-own", MQTT_PROTOCOL_V5, true);
	ck_assert(s && p5 && p3 && own);
	ck_assert_int_eq(c2d_client_subscribe(s, "test/#", 1), 1);
	/* 2.0.11's acl_file does not check SUBSCRIBE; READ is checked on delivery */
	ck_assert_int_ge(c2d_client_subscribe(s, "denied/#", 1), 0);

	/* allowed */
	ck_assert_int_eq(c2d_client_publish(p5, "test/acl/ok5", "ok", -1, 1, false, NULL), 0);
	fx_expect_msg(s, "test/acl/ok5", "ok", 2, 1, false);
	ck_assert_int_eq(c2d_client_publish(p3, "test/acl/ok3", "ok", -1, 2, false, NULL), 0);
	fx_expect_msg(s, "test/acl/ok3", "ok", 2, 1, false); /* subscribed at QoS 1 */

	/* denied: v5 gets 0x87 at QoS 1 and 2, v3.1.1 a normal ack; nothing arrives */
	ck_assert_int_eq(c2d_client_publish(p5, "denied/x", "no", -1, 1, false, NULL), MQTT_RC_NOT_AUTHORIZED);
	ck_assert_int_eq(c2d_client_publish(p5, "denied/y", "no", -1, 2, false, NULL), MQTT_RC_NOT_AUTHORIZED);
	ck_assert_int_eq(c2d_client_publish(p3, "denied/z", "no", -1, 1, false, NULL), 0);
	ck_assert_int_eq(c2d_client_publish(p5, "denied/q0", "no", -1, 0, false, NULL), 0);
	ck_assert(c2d_client_expect_none(s, "denied/#", QUIET_MS));
	/* the denied publishers are still connected and usable */
	ck_assert(c2d_client_is_connected(p5));
	ck_assert(c2d_client_is_connected(p3));
	ck_assert_int_eq(c2d_client_publish(p5, "test/acl/after", "ok", -1, 1, false, NULL), 0);
	fx_expect_msg(s, "test/acl/after", "ok", 2, 1, false);

	/* pattern line: own/%c/# */
	ck_assert_int_eq(c2d_client_subscribe(own, "own/acl-own/#", 1), 1);
	ck_assert_int_eq(c2d_client_publish(own, "own/acl-own/x", "mine", -1, 1, false, NULL), 0);
	fx_expect_msg(own, "own/acl-own/x", "mine", 4, 1, false);
	ck_assert_int_eq(c2d_client_publish(p5, "own/acl-own/x", "not yours", -1, 1, false, NULL),
			MQTT_RC_NOT_AUTHORIZED);
	ck_assert(c2d_client_expect_none(own, NULL, QUIET_MS));

	c2d_client_destroy(s);
	c2d_client_destroy(p5);
	c2d_client_destroy(p3);
	c2d_client_destroy(own);
}

static const char acl_text[] =
		"# clients without a username\n"
		"topic readwrite test/#\n"
		"# every client\n"
		"pattern readwrite own/%c/#\n";

START_TEST(t_plugin_acl)
{
	struct c2d_broker *b = c2d_broker_start(&(struct c2d_broker_opts){.acl = acl_text});

	ck_assert_ptr_nonnull(b);
	check_acl(b);
	ck_assert(c2d_broker_alive(b));
	c2d_broker_cleanup(b);
}
END_TEST

/* ---- (4) the same without the plugin: the harness itself ---- */

START_TEST(t_noplugin_pubsub)
{
	struct c2d_broker *b = c2d_broker_start(&(struct c2d_broker_opts){.no_plugin = true});

	ck_assert_ptr_nonnull(b);
	ck_assert(!c2d_broker_log_contains(b, "c2d: "));
	ck_assert(!c2d_broker_log_contains(b, "Loading plugin"));
	check_pubsub(b, "plain");
	check_retained(b, "plain");
	check_properties(b);
	c2d_broker_cleanup(b);
}
END_TEST

START_TEST(t_noplugin_acl)
{
	struct c2d_broker *b = c2d_broker_start(&(struct c2d_broker_opts){.no_plugin = true, .acl = acl_text});

	ck_assert_ptr_nonnull(b);
	check_acl(b);
	c2d_broker_cleanup(b);
}
END_TEST

/* ---- (5) CLI round trip ---- */

static void check_cli(struct c2d_broker *b)
{
	struct c2d_proc *sub;
	char *cmd, *out = NULL;

	/* v3.1.1 (the CLI default) */
	cmd = c2d_strf("mosquitto_sub -h 127.0.0.1 -p %d -i cli-sub -t test/cli -q 1 -C 1 -W 5", b->port);
	sub = c2d_proc_start(cmd);
	free(cmd);
	ck_assert_ptr_nonnull(sub);
	ck_assert(c2d_broker_wait_log(b, "Sending SUBACK to cli-sub", 5000));
	cmd = c2d_strf("mosquitto_pub -h 127.0.0.1 -p %d -i cli-pub -t test/cli -q 1 -m hello-cli", b->port);
	ck_assert_int_eq(c2d_sh(cmd, 5000, NULL), 0);
	free(cmd);
	ck_assert_int_eq(c2d_proc_wait(sub, 6000, &out), 0);
	ck_assert_str_eq(out, "hello-cli\n");
	free(out);

	/* v5 */
	cmd = c2d_strf("mosquitto_sub -V 5 -h 127.0.0.1 -p %d -i cli-sub5 -t test/cli5 -q 2 -C 1 -W 5", b->port);
	sub = c2d_proc_start(cmd);
	free(cmd);
	ck_assert_ptr_nonnull(sub);
	ck_assert(c2d_broker_wait_log(b, "Sending SUBACK to cli-sub5", 5000));
	cmd = c2d_strf("mosquitto_pub -V 5 -h 127.0.0.1 -p %d -i cli-pub5 -t test/cli5 -q 2 -m hello-v5", b->port);
	ck_assert_int_eq(c2d_sh(cmd, 5000, NULL), 0);
	free(cmd);
	ck_assert_int_eq(c2d_proc_wait(sub, 6000, &out), 0);
	ck_assert_str_eq(out, "hello-v5\n");
	free(out);

	/* mosquitto_rr against a harness responder */
	{
		struct c2d_client *r = c2d_client_new_connected(b, "cli-responder", MQTT_PROTOCOL_V5, true);
		struct c2d_msg *m;
		mosquitto_property *props;

		ck_assert_ptr_nonnull(r);
		ck_assert_int_eq(c2d_client_subscribe(r, "test/cli/rr", 1), 1);
		cmd = c2d_strf("mosquitto_rr -h 127.0.0.1 -p %d -i cli-rr -t test/cli/rr -e test/cli/rr/resp -m ping -W 5",
				b->port);
		sub = c2d_proc_start(cmd);
		free(cmd);
		ck_assert_ptr_nonnull(sub);
		m = c2d_client_wait_msg(r, "test/cli/rr", 5000);
		ck_assert_ptr_nonnull(m);
		ck_assert_str_eq(m->payload, "ping");
		ck_assert_pstr_eq(m->response_topic, "test/cli/rr/resp");
		props = c2d_props_build(&(struct c2d_props){.corr = m->corr, .corr_len = m->corr_len});
		ck_assert_int_eq(c2d_client_publish(r, m->response_topic, "pong", -1, 1, false, props), 0);
		mosquitto_property_free_all(&props);
		c2d_msg_free(m);
		ck_assert_int_eq(c2d_proc_wait(sub, 6000, &out), 0);
		ck_assert_str_eq(out, "pong\n");
		free(out);
		c2d_client_destroy(r);
	}
}

START_TEST(t_plugin_cli)
{
	struct c2d_broker *b = c2d_broker_start(NULL);

	ck_assert_ptr_nonnull(b);
	check_cli(b);
	c2d_broker_cleanup(b);
}
END_TEST

START_TEST(t_noplugin_cli)
{
	struct c2d_broker *b = c2d_broker_start(&(struct c2d_broker_opts){.no_plugin = true});

	ck_assert_ptr_nonnull(b);
	check_cli(b);
	c2d_broker_cleanup(b);
}
END_TEST

static Suite *passthrough_suite(void)
{
	Suite *s = suite_create("passthrough");
	TCase *tc = tcase_create("plugin");
	TCase *th = tcase_create("harness");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, t_plugin_loads);
	tcase_add_test(tc, t_plugin_pubsub);
	tcase_add_test(tc, t_plugin_retained);
	tcase_add_test(tc, t_plugin_properties);
	tcase_add_test(tc, t_plugin_acl);
	tcase_add_test(tc, t_plugin_cli);
	suite_add_tcase(s, tc);

	tcase_set_timeout(th, 60);
	tcase_add_test(th, t_noplugin_pubsub);
	tcase_add_test(th, t_noplugin_acl);
	tcase_add_test(th, t_noplugin_cli);
	suite_add_tcase(s, th);
	return s;
}

int main(void)
{
	return c2d_check_run(passthrough_suite());
}
