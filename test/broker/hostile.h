/* Check helpers shared by the hostile-input suites (test_hostile.c,
 * test_hostile_mqtt.c). Header-only. */
#ifndef C2D_HOSTILE_H
#define C2D_HOSTILE_H

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness.h"

/* Asserts the broker still runs and c (borrowed) is still connected. */
static inline void assert_alive(struct c2d_broker *b, struct c2d_client *c)
{
	ck_assert_msg(c2d_broker_alive(b), "the broker is gone (exit status %d)", b->exit_status);
	ck_assert_msg(c2d_client_is_connected(c), "client %s was disconnected", c2d_client_id(c));
}

/* A request with a len-byte payload; checks the reply's status and that the
 * reply says why when it is an error. Returns the reply (caller frees). */
static inline struct c2d_msg *request_len(struct c2d_client *c, const char *topic, const void *payload, int len,
		const char *status)
{
	struct c2d_request rq = {.topic = topic, .payload = payload, .len = len, .qos = 1, .timeout_ms = 10000};
	struct c2d_msg *m = c2d_client_request(c, &rq);
	const char *st;

	ck_assert_msg(m != NULL, "no reply on %s (PUBACK %d)", topic, rq.puback_rc);
	st = c2d_msg_user_prop(m, "status");
	ck_assert_msg(st && strcmp(st, status) == 0, "%s: status %s, want %s (%.200s)", topic, st ? st : "(none)",
			status, m->payload);
	if(status[0] != '2') ck_assert_msg(strstr(m->payload, "\"error\"") != NULL, "no reason: %s", m->payload);
	return m;
}

static inline void request_ok(struct c2d_client *c, const char *topic, const char *payload, const char *status)
{
	c2d_msg_free(request_len(c, topic, payload, -1, status));
}

/* The desired and reported versions of dev's twin, asked by c. */
static inline void twin_versions(struct c2d_client *c, const char *dev, double *dv, double *rv)
{
	char *topic = c2d_strf("$c2d/%s/twin/get", dev);
	struct c2d_msg *m = request_len(c, topic, "", 0, "200");
	cJSON *j = cJSON_Parse(m->payload), *ver = cJSON_GetObjectItem(j, "version");

	ck_assert_msg(cJSON_IsObject(ver), "no version in %s", m->payload);
	*dv = cJSON_GetObjectItem(ver, "desired")->valuedouble;
	if(rv) *rv = cJSON_GetObjectItem(ver, "reported")->valuedouble;
	cJSON_Delete(j);
	c2d_msg_free(m);
	free(topic);
}

#endif
