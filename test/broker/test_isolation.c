/* Isolation between devices and applications against the real broker, with
 * the broker's own authorization: (a) acl_file + password_file using the
 * recommended lines of conf/acl.example, (b) the dynamic-security plugin
 * configured with mosquitto_ctrl as docs/operations.md shows. One set of
 * checks runs against both: a device cannot read, answer or forge another
 * device's traffic, cannot read its events without a grant, applications
 * command only what they are granted, and replies reach only the requester.
 * Under dynamic-security (no %c) every device may write $c2d/+/out/#, so the
 * plugin's one-writer guard is what stops device A writing B's topics. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mqtt_protocol.h>

#include "fixture.h"
#include "harness.h"
#include "../check_main.h"

#define V5 MQTT_PROTOCOL_V5
#define WAIT 3000
#define QUIET 400
#define DYNSEC_SO "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so"
#define DYNSEC_ADMIN "-u admin-user -P admin-pass"

/* Every client logs in as user = client id, password "pw-" + id. */
static const char *const users[] = {"devA", "devB", "sensor-1", "sensor-2", "operator", "nogrant", "reboot-app",
	NULL};

/* The clients of one broker, all MQTT 5 (so that a denial is visible as
 * PUBACK 0x87). */
struct world {
	struct c2d_broker *b;
	bool dynsec;             /* the plugin's guard, not the ACL, stops devA */
	struct c2d_client *devA, *devB, *s1, *s2;
	struct c2d_client *op;       /* may command every device, read events */
	struct c2d_client *nogrant;  /* may command nothing */
	struct c2d_client *reboot;   /* may only call $c2d/sensor-1/rpc/reboot */
};

static struct c2d_client *login(struct c2d_broker *b, const char *id)
{
	char *pass = c2d_strf("pw-%s", id);
	struct c2d_client *c = fx_login(b, id, pass, V5);

	free(pass);
	return c;
}

static void world_connect(struct world *w)
{
	w->devA = login(w->b, "devA");
	w->devB = login(w->b, "devB");
	w->s1 = login(w->b, "sensor-1");
	w->s2 = login(w->b, "sensor-2");
	w->op = login(w->b, "operator");
	w->nogrant = login(w->b, "nogrant");
	w->reboot = login(w->b, "reboot-app");
}

static void world_free(struct world *w)
{
	c2d_client_destroy(w->reboot);
	c2d_client_destroy(w->nogrant);
	c2d_client_destroy(w->op);
	c2d_client_destroy(w->s2);
	c2d_client_destroy(w->s1);
	c2d_client_destroy(w->devB);
	c2d_client_destroy(w->devA);
	c2d_broker_cleanup(w->b);
}

/* Publish with a response topic and correlation data (strings). Returns the
 * PUBACK reason code. */
static int publish_req(struct c2d_client *c, const char *topic, const char *payload, const char *resp,
		const char *corr)
{
	struct c2d_props p = {.response_topic = resp, .corr = corr};
	mosquitto_property *props = c2d_props_build(&p);
	int rc = c2d_client_publish(c, topic, payload, -1, 1, false, props);

	mosquitto_property_free_all(&props);
	return rc;
}

/* The operator's request on its own reply topic; the reply's payload must
 * contain `want`. */
static void op_request(struct world *w, const char *topic, const char *payload, const char *want)
{
	struct c2d_request rq = {.topic = topic, .payload = payload, .len = -1, .qos = 1,
		.response_topic = "replies/operator/req"};
	struct c2d_msg *m = c2d_client_request(w->op, &rq);

	ck_assert_msg(m != NULL, "operator: no reply to %s", topic);
	ck_assert_msg(strstr(m->payload, want) != NULL, "operator: %s answered %s, want %s", topic, m->payload, want);
	c2d_msg_free(m);
}

/* A publish the broker must refuse (0x87) and the plugin must not act on. */
static void expect_denied(struct c2d_client *c, const char *topic, const char *payload)
{
	int rc = c2d_client_publish(c, topic, payload, -1, 1, false, NULL);

	ck_assert_msg(rc == 0x87, "%s publishing %s: %d, want 0x87", c2d_client_id(c), topic, rc);
}

/* Under dynamic-security the ACL lets devA write any out/ topic: the log
 * must show that the plugin's guard dropped it. */
static void expect_guard(struct world *w, const char *topic)
{
	char *line;

	if(!w->dynsec) return;
	line = c2d_strf("c2d: dropped publish to '%s' from 'devA': only the device itself may write it", topic);
	ck_assert(c2d_broker_wait_log(w->b, line, WAIT));
	free(line);
}

/* Device A neither sees B's deliveries nor completes them, and cannot write
 * B's reported state; B itself can. */
static void check_device_to_device(struct world *w)
{
	struct c2d_msg *m;
	int rc;

	/* acl_file (2.0) grants every subscription and checks reads;
	 * dynamic-security refuses what no role allows */
	rc = c2d_client_subscribe(w->devA, "$c2d/devB/in/#", 1);
	ck_assert(!w->dynsec || rc == 0x87);
	ck_assert_int_eq(c2d_client_subscribe(w->op, "replies/operator/msg", 1), 1);
	ck_assert_int_lt(publish_req(w->op, "$c2d/devB/msg", "for B only", "replies/operator/msg", "m1"), 0x80);
	m = c2d_client_wait_corr(w->op, "replies/operator/msg", "m1", 2, WAIT);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->payload, "{\"id\":\"q1\",\"status\":202}");
	c2d_msg_free(m);
	m = c2d_client_wait_msg(w->devB, "$c2d/devB/in/#", WAIT);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->topic, "$c2d/devB/in/msg/q1");
	ck_assert_str_eq(m->payload, "for B only");
	c2d_msg_free(m);
	ck_assert(c2d_client_expect_none(w->devA, NULL, QUIET));

	/* A answers B's delivery: refused, and q1 stays pending */
	c2d_broker_log_mark(w->b);
	expect_denied(w->devA, "$c2d/devB/out/res/q1", "");
	expect_guard(w, "$c2d/devB/out/res/q1");
	expect_denied(w->devA, "$c2d/devB/out/res/q1/200", "");
	expect_guard(w, "$c2d/devB/out/res/q1/200");
	ck_assert(c2d_client_expect_none(w->op, "replies/operator/msg", QUIET));
	ck_assert_int_lt(c2d_client_publish(w->devB, "$c2d/devB/out/res/q1/200", NULL, 0, 1, false, NULL), 0x80);
	m = c2d_client_wait_corr(w->op, "replies/operator/msg", "m1", 2, WAIT);
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(strstr(m->payload, "\"state\":\"completed\""));
	c2d_msg_free(m);

	/* A forges B's reported state: refused, nothing changed; A's own works */
	c2d_broker_log_mark(w->b);
	expect_denied(w->devA, "$c2d/devB/out/reported", "{\"forged\":true}");
	expect_guard(w, "$c2d/devB/out/reported");
	op_request(w, "$c2d/devB/twin/get", "", "\"reported\":{}");
	ck_assert_int_lt(c2d_client_publish(w->devA, "$c2d/devA/out/reported", "{\"own\":1}", -1, 1, false, NULL),
			0x80);
	op_request(w, "$c2d/devA/twin/get", "", "\"own\":1");
}

/* B's events reach a client granted them (the operator), not device A. */
static void check_events(struct world *w)
{
	struct c2d_msg *m;
	int rc;

	rc = c2d_client_subscribe(w->devA, "$c2d/devB/events/#", 1);
	ck_assert(!w->dynsec || rc == 0x87);
	ck_assert_int_eq(c2d_client_subscribe(w->op, "$c2d/devB/events/twin", 1), 1);
	op_request(w, "$c2d/devB/twin/desired", "{\"mode\":\"eco\"}", "\"status\":200");
	m = c2d_client_wait_msg(w->op, "$c2d/devB/events/twin", WAIT);
	ck_assert_ptr_nonnull(m);
	ck_assert_ptr_nonnull(strstr(m->payload, "c2d.twin.desired.changed"));
	c2d_msg_free(m);
	ck_assert(c2d_client_expect_none(w->devA, "$c2d/devB/events/#", QUIET));
	c2d_client_inbox_clear(w->devB); /* the twin push */
}

/* An application without a grant commands nothing: the broker refuses the
 * publish and the device receives nothing. */
static void check_no_grant(struct world *w)
{
	expect_denied(w->nogrant, "$c2d/devB/rpc/x", "{}");
	expect_denied(w->nogrant, "$c2d/devB/msg", "hello");
	expect_denied(w->nogrant, "$c2d/devB/twin/desired", "{\"a\":1}");
	expect_denied(w->nogrant, "$c2d/devB/twin/get", "");
	ck_assert(c2d_client_expect_none(w->devB, NULL, QUIET));
}

/* Granted exactly $c2d/sensor-1/rpc/reboot: that call works and its reply
 * goes to the requester's response topic only; other methods and devices
 * are refused. */
static void check_per_method(struct world *w)
{
	struct c2d_msg *m;

	ck_assert_int_eq(c2d_client_subscribe(w->reboot, "replies/reboot-app/r1", 1), 1);
	ck_assert_int_eq(c2d_client_subscribe(w->op, "replies/operator/#", 1), 1);
	c2d_client_subscribe(w->nogrant, "replies/reboot-app/#", 1); /* an eavesdropper: refused or unread */
	c2d_client_inbox_clear(w->op);

	ck_assert_int_lt(publish_req(w->reboot, "$c2d/sensor-1/rpc/reboot", "{\"delay\":1}", "replies/reboot-app/r1",
			"r1"), 0x80);
	m = c2d_client_wait_msg(w->s1, "$c2d/sensor-1/in/#", WAIT);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->payload, "{\"delay\":1}");
	ck_assert_ptr_nonnull(strstr(m->topic, "$c2d/sensor-1/in/rpc/reboot/"));
	ck_assert_ptr_nonnull(m->response_topic);
	ck_assert_int_lt(c2d_client_publish(w->s1, m->response_topic, "rebooting", -1, 1, false, NULL), 0x80);
	c2d_msg_free(m);
	m = c2d_client_wait_corr(w->reboot, "replies/reboot-app/r1", "r1", 2, WAIT);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->payload, "rebooting");
	ck_assert_str_eq(c2d_msg_user_prop(m, "status"), "200");
	c2d_msg_free(m);
	ck_assert(c2d_client_expect_none(w->op, NULL, QUIET));
	ck_assert(c2d_client_expect_none(w->nogrant, NULL, 1));

	expect_denied(w->reboot, "$c2d/sensor-1/rpc/other", "{}");
	expect_denied(w->reboot, "$c2d/sensor-2/rpc/reboot", "{}");
	expect_denied(w->reboot, "$c2d/sensor-1/msg", "x");
	ck_assert(c2d_client_expect_none(w->s1, NULL, QUIET));
	ck_assert(c2d_client_expect_none(w->s2, NULL, 1));
}

static void check_all(struct world *w)
{
	world_connect(w);
	check_device_to_device(w);
	check_events(w);
	check_no_grant(w);
	check_per_method(w);
}

/* The password lines ("user:pw-user") for every user (caller frees). */
static char *passwd_lines(void)
{
	char *plain = c2d_strf("%s", ""), *next;
	int i;

	for(i = 0; users[i]; i++){
		next = c2d_strf("%s%s:pw-%s\n", plain, users[i], users[i]);
		free(plain);
		plain = next;
	}
	return plain;
}

/* conf/acl.example plus the two applications this suite adds. Caller frees. */
static char *acl_file(void)
{
	char *cmd = c2d_strf("cat '%s/conf/acl.example'", C2D_SRCDIR), *example = NULL, *acl;

	ck_assert_int_eq(c2d_sh(cmd, 5000, &example), 0);
	ck_assert_ptr_nonnull(strstr(example, "pattern write $c2d/%c/out/#"));
	acl = c2d_strf("%s\n# added by test_isolation.c\n"
			"user nogrant\ntopic readwrite replies/nogrant/#\n"
			"user reboot-app\ntopic write $c2d/sensor-1/rpc/reboot\ntopic readwrite replies/reboot-app/#\n",
			example);
	free(example);
	free(cmd);
	return acl;
}

START_TEST(acl_file_isolates)
{
	struct world w = {.dynsec = false};
	char *plain = passwd_lines(), *acl = acl_file();

	w.b = fx_start_login(plain, acl, NULL);
	check_all(&w);
	world_free(&w);
	free(acl);
	free(plain);
}
END_TEST

/* The mosquitto_ctrl commands of docs/operations.md, plus this suite's
 * clients and reply-topic roles. */
static const char *const dynsec_cmds[] = {
	"createRole c2d-device",
	"addRoleACL c2d-device publishClientSend '$c2d/+/out/#' allow 5",
	"createRole c2d-app",
	"addRoleACL c2d-app publishClientSend '$c2d/+/twin/#' allow 5",
	"addRoleACL c2d-app publishClientSend '$c2d/+/msg' allow 5",
	"addRoleACL c2d-app publishClientSend '$c2d/+/rpc/#' allow 5",
	"addRoleACL c2d-app subscribePattern '$c2d/+/events/#' allow 5",
	"addRoleACL c2d-app publishClientReceive '$c2d/+/events/#' allow 5",
	"createRole c2d-operator",
	"addRoleACL c2d-operator publishClientSend '$CONTROL/c2d/v1' allow 5",
	"addRoleACL c2d-operator subscribePattern '$CONTROL/c2d/v1/response' allow 5",
	"addRoleACL c2d-operator publishClientReceive '$CONTROL/c2d/v1/response' allow 5",
	"createRole replies-operator",
	"addRoleACL replies-operator subscribePattern 'replies/operator/#' allow 5",
	"createRole reboot-sensor-1",
	"addRoleACL reboot-sensor-1 publishClientSend '$c2d/sensor-1/rpc/reboot' allow 5",
	"addRoleACL reboot-sensor-1 subscribePattern 'replies/reboot-app/#' allow 5",
	"createClient devA -c devA -p pw-devA",
	"createClient devB -c devB -p pw-devB",
	"createClient sensor-1 -c sensor-1 -p pw-sensor-1",
	"createClient sensor-2 -c sensor-2 -p pw-sensor-2",
	"createClient operator -p pw-operator",
	"createClient nogrant -p pw-nogrant",
	"createClient reboot-app -p pw-reboot-app",
	"addClientRole devA c2d-device",
	"addClientRole devB c2d-device",
	"addClientRole sensor-1 c2d-device",
	"addClientRole sensor-2 c2d-device",
	"addClientRole operator c2d-app",
	"addClientRole operator c2d-operator",
	"addClientRole operator replies-operator",
	"addClientRole reboot-app reboot-sensor-1",
	NULL
};

/* A dynamic-security config file with only the admin user (caller frees). */
static char *dynsec_init(void)
{
	char *out = NULL;
	int rc = c2d_sh("d=$(mktemp -d) && mosquitto_ctrl dynsec init $d/dynsec.json admin-user admin-pass >/dev/null"
			" && cat $d/dynsec.json; rc=$?; rm -rf \"$d\"; exit $rc", 10000, &out);

	ck_assert_msg(rc == 0 && strstr(out, "admin-user") != NULL, "mosquitto_ctrl dynsec init: %d", rc);
	return out;
}

/* Runs every dynsec_cmds line with mosquitto_ctrl against the broker. */
static void dynsec_configure(struct c2d_broker *b)
{
	char *script = c2d_strf("set -e\n"), *next, *out = NULL;
	int i, rc;

	for(i = 0; dynsec_cmds[i]; i++){
		next = c2d_strf("%smosquitto_ctrl -h 127.0.0.1 -p %d " DYNSEC_ADMIN " dynsec %s 2>&1\n", script, b->port,
				dynsec_cmds[i]);
		free(script);
		script = next;
	}
	rc = c2d_sh(script, 30000, &out);
	ck_assert_msg(rc == 0, "mosquitto_ctrl failed (%d): %s", rc, out);
	free(out);
	free(script);
}

START_TEST(dynsec_isolates)
{
	struct c2d_broker_file files[] = {{"dynsec.json", NULL}, {NULL, NULL}};
	struct c2d_broker_opts o = {.files = files,
		.conf = "plugin " DYNSEC_SO "\nplugin_opt_config_file @DIR@/dynsec.json\n"};
	struct world w = {.dynsec = true};
	char *json;

	if(access(DYNSEC_SO, R_OK) != 0){
		printf("isolation: dynamic-security: SKIPPED, %s is not installed\n", DYNSEC_SO);
		return;
	}
	json = dynsec_init();
	files[0].content = json;
	w.b = c2d_broker_start(&o);
	ck_assert_ptr_nonnull(w.b);
	dynsec_configure(w.b);
	check_all(&w);
	world_free(&w);
	free(json);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("isolation");
	TCase *tc = tcase_create("broker");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, acl_file_isolates);
	tcase_add_test(tc, dynsec_isolates);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
