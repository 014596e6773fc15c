/* Twin pushes lost while the device stays online, against the real broker
 * (ack_timeout 1 s): an unanswered push `$c2d/{dev}/in/twin/t{version}` is
 * pushed again after ack_timeout with the current version and the full /
 * patch rule of a reconnect, at most once per ack_timeout (no storm), and
 * not any more once acknowledged or rejected, or after a disconnect.
 * Devices are v5 and v3.1.1 (loop tests). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <mqtt_protocol.h>

#include "fixture.h"
#include "harness.h"
#include "../check_main.h"

static const int protocols[] = {MQTT_PROTOCOL_V5, MQTT_PROTOCOL_V311};

/* The next push to dev within wait_ms, skipping re-pushes of older
 * versions that were on their way (a loaded machine may be slower than
 * ack_timeout): its topic must end in t{version} and its payload carry
 * that version and `full`. Returns the payload's "desired" (caller owns). */
static cJSON *expect_push(struct c2d_client *dev, const char *devid, int version, bool full, int wait_ms)
{
	char *filter = c2d_strf("$c2d/%s/in/twin/#", devid), *topic = c2d_strf("$c2d/%s/in/twin/t%d", devid, version);
	uint64_t end = c2d_now_ms() + (uint64_t)wait_ms;
	struct c2d_msg *m;
	const char *t;
	cJSON *j, *desired;

	for(;;){
		m = c2d_client_wait_msg(dev, filter, (int)(end > c2d_now_ms() ? end - c2d_now_ms() : 0) + 1);
		if(m == NULL || (t = strrchr(m->topic, '/')) == NULL || t[1] != 't' || atoi(t + 2) >= version) break;
		c2d_msg_free(m);
	}
	ck_assert_msg(m != NULL, "no push t%d to %s within %d ms", version, devid, wait_ms);
	ck_assert_str_eq(m->topic, topic);
	j = fx_json(m);
	ck_assert_int_eq(cJSON_GetObjectItem(j, "version")->valueint, version);
	ck_assert_msg(cJSON_IsBool(cJSON_GetObjectItem(j, "full")) && cJSON_IsTrue(cJSON_GetObjectItem(j, "full")) == full,
			"push %s: full is not %d", m->payload, full);
	desired = cJSON_DetachItemFromObject(j, "desired");
	cJSON_Delete(j);
	c2d_msg_free(m);
	free(filter);
	free(topic);
	return desired;
}

/* Pushes arriving on dev within ms (each removed from the inbox). */
static int count_pushes(struct c2d_client *dev, const char *devid, int ms)
{
	char *filter = c2d_strf("$c2d/%s/in/twin/#", devid);
	uint64_t end = c2d_now_ms() + (uint64_t)ms;
	struct c2d_msg *m;
	int n = 0;

	while(c2d_now_ms() < end){
		m = c2d_client_wait_msg(dev, filter, (int)(end - c2d_now_ms()) + 1);
		if(m == NULL) break;
		c2d_msg_free(m);
		n++;
	}
	free(filter);
	return n;
}

/* Unanswered: pushed again after ack_timeout, full (the device may hold
 * the first push or not), bounded; acknowledged: quiet. The next change
 * is a patch; unanswered it comes again, full, with its version. */
START_TEST(unanswered_push_is_repeated)
{
	int proto = protocols[_i];
	struct c2d_broker *b = fx_start("plugin_opt_ack_timeout 1\n");
	struct c2d_client *app = fx_app(b, FX_REPLIES), *mon = fx_monitor(b, "$c2d/+/events/twin");
	struct c2d_client *dev = fx_device(b, NULL, "tw1", proto);
	uint64_t t0;
	int n;
	cJSON *d;

	fx_desired(app, "tw1", "{\"led\":\"on\"}", "200");
	t0 = c2d_now_ms();
	cJSON_Delete(expect_push(dev, "tw1", 1, true, FX_WAIT_MS));
	d = expect_push(dev, "tw1", 1, true, 3000);
	ck_assert_uint_ge(c2d_now_ms() - t0, 800);
	ck_assert_str_eq(cJSON_GetObjectItem(d, "led")->valuestring, "on");
	cJSON_Delete(d);
	/* no storm: one per ack_timeout (3.5 s: at most 4 with slack) */
	n = count_pushes(dev, "tw1", 3500);
	ck_assert_msg(n >= 2 && n <= 4, "%d pushes in 3.5 s with ack_timeout 1 s", n);

	fx_answer(dev, "tw1", "t1", 200);
	cJSON_Delete(fx_expect_event(mon, "tw1", "twin", "c2d.twin.desired.changed"));
	cJSON_Delete(fx_expect_event(mon, "tw1", "twin", "c2d.twin.desired.acknowledged"));
	c2d_client_inbox_clear(dev);
	ck_assert(c2d_client_expect_none(dev, "$c2d/tw1/in/twin/#", 2500));

	fx_desired(app, "tw1", "{\"fan\":2}", "200");
	d = expect_push(dev, "tw1", 2, false, FX_WAIT_MS); /* a patch from the acknowledged t1 */
	ck_assert_int_eq(cJSON_GetObjectItem(d, "fan")->valueint, 2);
	ck_assert_ptr_null(cJSON_GetObjectItem(d, "led"));
	cJSON_Delete(d);
	d = expect_push(dev, "tw1", 2, true, 3000); /* again: the whole document */
	ck_assert_str_eq(cJSON_GetObjectItem(d, "led")->valuestring, "on");
	ck_assert_int_eq(cJSON_GetObjectItem(d, "fan")->valueint, 2);
	cJSON_Delete(d);
	fx_answer(dev, "tw1", "t2", 200);
	cJSON_Delete(fx_expect_event(mon, "tw1", "twin", "c2d.twin.desired.changed"));
	cJSON_Delete(fx_expect_event(mon, "tw1", "twin", "c2d.twin.desired.acknowledged"));
	c2d_client_inbox_clear(dev);
	ck_assert(c2d_client_expect_none(dev, "$c2d/tw1/in/twin/#", 2500));

	c2d_client_destroy(dev);
	c2d_client_destroy(mon);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

/* A change while a push is out: the re-push carries the current version;
 * a rejection (4xx) ends the re-pushes; so does a disconnect, and the
 * reconnect pushes once. */
START_TEST(repush_current_version_until_rejected)
{
	int proto = protocols[_i];
	struct c2d_broker *b = fx_start("plugin_opt_ack_timeout 1\n");
	struct c2d_client *app = fx_app(b, FX_REPLIES), *dev = fx_device(b, NULL, "tw2", proto);

	fx_desired(app, "tw2", "{\"a\":1}", "200");
	cJSON_Delete(expect_push(dev, "tw2", 1, true, FX_WAIT_MS));
	fx_desired(app, "tw2", "{\"b\":2}", "200");
	cJSON_Delete(expect_push(dev, "tw2", 2, true, FX_WAIT_MS));
	cJSON_Delete(expect_push(dev, "tw2", 2, true, 3000));
	fx_answer(dev, "tw2", "t2", 422);
	c2d_client_inbox_clear(dev);
	ck_assert(c2d_client_expect_none(dev, "$c2d/tw2/in/twin/#", 2500));

	fx_desired(app, "tw2", "{\"c\":3}", "200");
	cJSON_Delete(expect_push(dev, "tw2", 3, true, FX_WAIT_MS));
	fx_offline(dev);
	c2d_sleep_ms(1500); /* the re-push would have been due */
	ck_assert_int_eq(c2d_client_connect(dev, b), 0);
	cJSON_Delete(expect_push(dev, "tw2", 3, true, FX_WAIT_MS));
	fx_answer(dev, "tw2", "t3", 200);
	c2d_client_inbox_clear(dev);
	ck_assert(c2d_client_expect_none(dev, "$c2d/tw2/in/twin/#", 2500));

	c2d_client_destroy(dev);
	c2d_client_destroy(app);
	c2d_broker_cleanup(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("repush");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, unanswered_push_is_repeated, 0, 2);
	tcase_add_loop_test(tc, repush_current_version_until_rejected, 0, 2);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
