/* The programs built on libc2d-device, run as processes against the real
 * broker: the terminal device (scripts/c2d device) prints deliveries as
 * "topic payload" and answers them; the thermostat examples in C and in
 * Python (paho-mqtt) and the gateway example do what docs/device-library.md
 * says. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define PROC_WAIT_MS 30000

static const char *const PERSISTENT[] = {"persistent", "true", NULL};

START_TEST(terminal_device)
{
	struct c2d_broker *b = fx_start(NULL);
	struct c2d_client *app = fx_app(b, FX_REPLIES);
	char *cmd, *out = NULL;

	c2d_msg_free(fx_send(app, "$c2d/lamp-1/twin/desired", "{\"power\":\"on\",\"level\":70}", "d1", NULL, "200"));
	c2d_msg_free(fx_send(app, "$c2d/lamp-1/msg", "hello lamp", "m1", NULL, "202"));
	cmd = c2d_strf("%s -p %d -C 2 lamp-1", C2D_DEVICE_BIN, b->port);
	ck_assert_int_eq(c2d_sh(cmd, PROC_WAIT_MS, &out), 0);
	ck_assert_str_eq(out, "$c2d/lamp-1/in/twin/t1 {\"version\":1,\"desired\":{\"power\":\"on\",\"level\":70},\"full\":true}\n"
			"$c2d/lamp-1/in/msg/q1 hello lamp\n");
	c2d_msg_free(fx_reply(app, "m1", "200"));
	free(out);
	free(cmd);
	cmd = c2d_strf("%s --help", C2D_DEVICE_BIN);
	ck_assert_int_eq(c2d_sh(cmd, PROC_WAIT_MS, &out), 0);
	ck_assert_ptr_nonnull(strstr(out, "usage: c2d-device"));
	free(out);
	free(cmd);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* The next twin event of dev of type `type` within ms (others skipped).
 * Returns: caller owns, NULL if none came. */
static struct c2d_msg *twin_event(struct c2d_client *mon, const char *dev, const char *type, int ms)
{
	char *topic = c2d_strf("$c2d/%s/events/twin", dev);
	uint64_t end = c2d_now_ms() + (uint64_t)ms;
	struct c2d_msg *m = NULL;

	while(c2d_now_ms() < end){
		m = c2d_client_wait_msg(mon, topic, (int)(end - c2d_now_ms()) + 1);
		if(m == NULL || strstr(m->payload, type)) break;
		c2d_msg_free(m);
		m = NULL;
	}
	free(topic);
	return m;
}

/* The thermostat walkthrough of docs/device-library.md against the program
 * started by `prog` (a printf format taking the port). */
static void thermostat(const char *prog, const char *dev)
{
	struct env e;
	char *cmd, *topic, *out = NULL;
	struct c2d_proc *p;
	struct c2d_msg *m;
	cJSON *twin, *sp;

	env_open(&e, NULL, NULL, V5);
	topic = c2d_strf("$c2d/%s/twin/desired", dev);
	c2d_msg_free(fx_send(e.app, topic, "{\"setpoint\":23}", "d1", NULL, "200"));
	cmd = c2d_strf(prog, e.b->port);
	p = c2d_proc_start(cmd);
	ck_assert_ptr_nonnull(p);
	m = twin_event(e.mon, dev, "c2d.twin.desired.acknowledged", 10000);
	ck_assert_msg(m != NULL, "the thermostat did not acknowledge the setpoint");
	c2d_msg_free(m);
	free(topic);
	topic = c2d_strf("$c2d/%s/rpc/getTemperature", dev);
	m = fx_send(e.app, topic, "", "g1", NULL, "200");
	ck_assert_ptr_nonnull(strstr(m->payload, "\"temperature\":"));
	c2d_msg_free(m);
	free(topic);
	topic = c2d_strf("$c2d/%s/rpc/reboot", dev);
	c2d_msg_free(fx_send(e.app, topic, "", "r1", PERSISTENT, "202"));
	m = c2d_client_wait_corr(e.app, FX_REPLIES, "r1", 2, 10000);
	ck_assert_msg(m != NULL, "no reboot result");
	ck_assert_str_eq(c2d_msg_user_prop(m, "status"), "200");
	ck_assert_str_eq(m->payload, "{\"rebooted\":true}");
	c2d_msg_free(m);
	free(topic);
	topic = c2d_strf("$c2d/%s/twin/desired", dev);
	c2d_msg_free(fx_send(e.app, topic, "{\"setpoint\":99}", "d2", NULL, "200"));
	m = twin_event(e.mon, dev, "c2d.twin.desired.rejected", 5000);
	ck_assert_msg(m != NULL && strstr(m->payload, "\"status\":400"), "out-of-range setpoint not rejected");
	c2d_msg_free(m);
	m = twin_event(e.mon, dev, "c2d.twin.reported.changed", 10000);
	ck_assert_msg(m != NULL, "no reported state");
	c2d_msg_free(m);
	twin = get_twin(e.app, dev);
	sp = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(twin, "reported"), "setpoint");
	ck_assert(cJSON_IsNumber(sp) && sp->valuedouble == 23);
	cJSON_Delete(twin);
	ck_assert_int_eq(c2d_proc_wait(p, PROC_WAIT_MS, &out), 0);
	ck_assert_msg(strstr(out, "desired v1 (full): setpoint 23.0\n") && strstr(out, "reboot q1 accepted\n")
			&& strstr(out, "reboot q1 done\n") && strstr(out, "time: platform clock offset "),
			"unexpected output:\n%s", out);
	free(out);
	free(topic);
	free(cmd);
	env_close(&e);
}

START_TEST(thermostat_c)
{
	thermostat(C2D_EXAMPLES_DIR "/thermostat -p %d -n 12 thermo-c", "thermo-c");
}
END_TEST

START_TEST(thermostat_python)
{
	thermostat("/usr/bin/python3 -u " C2D_SRCDIR "/examples/thermostat.py -p %d -n 12 thermo-py", "thermo-py");
}
END_TEST

/* The gateway walkthrough of docs/device-library.md: lamps lamp-a and
 * lamp-b assigned to gw-ex, lamp-x not. */
START_TEST(gateway_example)
{
	struct env e;
	char *cmd, *out = NULL;
	struct c2d_proc *p;
	struct c2d_msg *m;
	cJSON *resp, *j, *twin, *power;

	env_open(&e, NULL, NULL, V5);
	j = fx_admin(e.app, "{\"command\":\"setGateway\",\"gateway\":\"gw-ex\",\"devices\":[\"lamp-a\",\"lamp-b\"]}",
			&resp);
	ck_assert_msg(cJSON_GetObjectItem(resp, "error") == NULL, "setGateway refused");
	cJSON_Delete(j);
	c2d_msg_free(fx_send(e.app, "$c2d/lamp-a/twin/desired", "{\"power\":\"on\"}", "d1", NULL, "200"));
	cmd = c2d_strf(C2D_EXAMPLES_DIR "/lamp-gateway -p %d -n 6 gw-ex lamp-a lamp-b lamp-x", e.b->port);
	p = c2d_proc_start(cmd);
	ck_assert_ptr_nonnull(p);
	m = twin_event(e.mon, "lamp-a", "c2d.twin.desired.acknowledged", 10000);
	ck_assert_msg(m != NULL, "the gateway did not acknowledge lamp-a's desired state");
	c2d_msg_free(m);
	m = fx_send(e.app, "$c2d/lamp-b/rpc/blink", "{\"times\":3}", "b1", NULL, "200");
	ck_assert_str_eq(m->payload, "{\"blinked\":3}");
	c2d_msg_free(m);
	c2d_msg_free(fx_send(e.app, "$c2d/lamp-x/rpc/blink", "{}", "b2", NULL, "404"));
	c2d_msg_free(fx_send(e.app, "$c2d/lamp-b/msg", "hello lamp", "m1", NULL, "202"));
	c2d_msg_free(fx_reply(e.app, "m1", "200"));
	/* reported by the desired handler before it acknowledged: stored by now */
	twin = get_twin(e.app, "lamp-a");
	power = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(twin, "reported"), "power");
	ck_assert(cJSON_IsString(power) && strcmp(power->valuestring, "on") == 0);
	cJSON_Delete(twin);
	ck_assert_int_eq(c2d_proc_wait(p, PROC_WAIT_MS, &out), 0);
	ck_assert_msg(strstr(out, "gw-ex: online\n") && strstr(out, "lamp-a: online via gw-ex\n")
			&& strstr(out, "lamp-a: desired v1: power on\n") && strstr(out, "lamp-b: blink 3\n")
			&& strstr(out, "lamp-b: message q1: hello lamp\n") && strstr(out, "lamp-x: refused (403): "),
			"unexpected output:\n%s", out);
	free(out);
	free(cmd);
	env_close(&e);
}
END_TEST

TCase *tc_programs(void)
{
	TCase *tc = tcase_create("programs");

	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, terminal_device);
	tcase_add_test(tc, thermostat_c);
	tcase_add_test(tc, thermostat_python);
	tcase_add_test(tc, gateway_example);
	return tc;
}
