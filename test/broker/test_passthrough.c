/* Passthrough: with the plugin loaded, ordinary (non-$c2d) MQTT traffic
 * behaves exactly as on a plain broker: v5 and v3.1.1, QoS 0/1/2, retained
 * messages, v5 properties, acl_file rules, the CLI clients. The same checks
 * on a broker without the plugin prove the harness itself (tcase "harness"
 * also exercises the harness features other suites rely on). */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "harness.h"
#include "../check_main.h"

#define WAIT_MS 3000
#define QUIET_MS 500

static const char *proto_name(int protocol)
{
	return protocol == MQTT_PROTOCOL_V5 ? "v5" : "v311";
}

/* Receives the next message on topic at c and checks payload, qos, retain. */
static void expect_msg(struct c2d_client *c, const char *topic, const void *payload, int len, int qos,
		bool retain)
{
	struct c2d_msg *m = c2d_client_wait_msg(c, topic, WAIT_MS);

	ck_assert_msg(m != NULL, "%s: nothing on %s", c2d_client_id(c), topic);
	ck_assert_str_eq(m->topic, topic);
	ck_assert_int_eq(m->payloadlen, len);
	ck_assert_msg(len == 0 || memcmp(m->payload, payload, (size_t)len) == 0, "%s: wrong payload on %s: %s",
			c2d_client_id(c), topic, m->payload);
	ck_assert_int_eq(m->qos, qos);
	ck_assert_int_eq(m->retain, retain);
	c2d_msg_free(m);
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
				expect_msg(sub[j], topic, payload, (int)strlen(payload), qos, false);
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
				expect_msg(sub[j], topic, bin, (int)sizeof(bin), 1, false);
				expect_msg(sub[j], topic, NULL, 0, 1, false);
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
			expect_msg(s, topic, "kept", 4, 1, true);
			free(topic);
		}
		/* a live publish on a retained topic reaches current subscribers
		 * without the retain flag */
		{
			char *topic = c2d_strf("test/%s/retained/live", tag);
			struct c2d_client *p = c2d_client_new_connected(b, "rlive", MQTT_PROTOCOL_V5, true);
			ck_assert_ptr_nonnull(p);
			ck_assert_int_eq(c2d_client_publish(p, topic, "now", -1, 1, true, NULL), 0);
			expect_msg(s, topic, "now", 3, 1, false);
			ck_assert_int_eq(c2d_client_publish(p, topic, NULL, 0, 1, true, NULL), 0);
			expect_msg(s, topic, NULL, 0, 1, false);
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
	expect_msg(s, "test/acl/ok5", "ok", 2, 1, false);
	ck_assert_int_eq(c2d_client_publish(p3, "test/acl/ok3", "ok", -1, 2, false, NULL), 0);
	expect_msg(s, "test/acl/ok3", "ok", 2, 1, false); /* subscribed at QoS 1 */

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
	expect_msg(s, "test/acl/after", "ok", 2, 1, false);

	/* pattern line: own/%c/# */
	ck_assert_int_eq(c2d_client_subscribe(own, "own/acl-own/#", 1), 1);
	ck_assert_int_eq(c2d_client_publish(own, "own/acl-own/x", "mine", -1, 1, false, NULL), 0);
	expect_msg(own, "own/acl-own/x", "mine", 4, 1, false);
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

/* ---- harness features (plain broker) ---- */

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
	expect_msg(obs, "test/will/v5", "gone5", 5, 1, false);
	ck_assert_int_eq(c2d_client_drop(c3), 0);
	expect_msg(obs, "test/will/v3", "gone3", 5, 1, false);
	ck_assert(c2d_client_expect_none(obs, "test/will/clean", QUIET_MS));

	/* a dropped client can connect again */
	ck_assert_int_eq(c2d_client_connect(c5, b), 0);
	ck_assert_int_eq(c2d_client_publish(c5, "test/will/back", "back", -1, 1, false, NULL), 0);
	expect_msg(obs, "test/will/back", "back", 4, 1, false);

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
	expect_msg(c, "test/life", "again", 5, 1, false);

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
	expect_msg(c, "test/persist", "p", 1, 1, false);
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
	m = c2d_client_wait_msg(c, "test/inbox/b", WAIT_MS); /* skips a, which stays */
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
	return c2d_check_run(passthrough_suite());
}
