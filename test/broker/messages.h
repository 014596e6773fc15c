/* Check helpers shared by the message suites (test_messages.c,
 * test_messages_queue.c). Header-only. */
#ifndef C2D_MESSAGES_H
#define C2D_MESSAGES_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <mqtt_protocol.h>

#include "fixture.h"
#include "harness.h"

#define V5 MQTT_PROTOCOL_V5
#define V311 MQTT_PROTOCOL_V311
#define MSG_EVENTS "$c2d/+/events/msg" /* the monitor's filter */

/* String member of a JSON payload, copied (caller frees). */
static inline char *member(const struct c2d_msg *m, const char *name)
{
	cJSON *j = fx_json(m), *v = cJSON_GetObjectItem(j, name);
	char *s;

	ck_assert_msg(cJSON_IsString(v), "no \"%s\" in %s", name, m->payload);
	s = strdup(v->valuestring);
	cJSON_Delete(j);
	return s;
}

/* Send a message to dev with correlation data corr (a string) and user
 * properties (key, value, ..., NULL or NULL itself); returns the reply,
 * whose status must be `status`. Caller frees. */
static inline struct c2d_msg *send_msg(struct c2d_client *app, const char *dev, const char *payload,
		const char *corr, const char *const *user, const char *status)
{
	char *topic = c2d_strf("$c2d/%s/msg", dev);
	struct c2d_msg *m = fx_send(app, topic, payload, corr, user, status);

	free(topic);
	return m;
}

/* Send and expect 202 with id `want_id`. */
static inline void accept_msg(struct c2d_client *app, const char *dev, const char *payload, const char *corr,
		const char *want_id)
{
	struct c2d_msg *m = send_msg(app, dev, payload, corr, NULL, "202");
	char *id = member(m, "id");

	ck_assert_str_eq(id, want_id);
	free(id);
	c2d_msg_free(m);
}


static inline void expect_event(struct c2d_client *mon, const char *type, const char *id)
{
	c2d_msg_free(fx_skip_to_event(mon, type, id));
}

/* The next delivery to the device must be message `id` with `payload`. */
static inline void expect_delivery(struct c2d_client *dev, const char *devid, const char *id, const char *payload)
{
	char *filter = c2d_strf("$c2d/%s/in/#", devid), *topic = c2d_strf("$c2d/%s/in/msg/%s", devid, id);
	struct c2d_msg *m = c2d_client_wait_msg(dev, filter, FX_WAIT_MS);

	ck_assert_msg(m != NULL, "no delivery to %s (want %s)", devid, id);
	ck_assert_str_eq(m->topic, topic);
	ck_assert_str_eq(m->payload, payload);
	ck_assert_int_eq(m->qos, 1);
	c2d_msg_free(m);
	free(filter);
	free(topic);
}

#endif
