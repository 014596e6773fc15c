/* What the gateway suites share (test_gateway.c, test_gw_guard.c): a
 * broker with an application and a monitor, admin helpers, announcements,
 * deliveries and refusals, built on fixture.h. Header-only (static inline:
 * each suite uses what it needs); the helpers assert. */
#ifndef C2D_GW_FIXTURE_H
#define C2D_GW_FIXTURE_H

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
#define QUIET_MS 500

static const int protocols[] = {V5, V311}; /* loop tests: _i */

struct world {
	struct c2d_broker *b;
	struct c2d_client *app; /* application and operator, v5 */
	struct c2d_client *mon; /* $c2d/+/events/# */
};

static inline void world_start(struct world *w)
{
	w->b = fx_start(NULL);
	w->app = fx_app(w->b, FX_REPLIES);
	w->mon = fx_monitor(w->b, "$c2d/+/events/#");
}

static inline void world_end(struct world *w)
{
	c2d_client_destroy(w->app);
	c2d_client_destroy(w->mon);
	c2d_broker_cleanup(w->b);
}

/* One admin command through app; it must succeed. Returns its data (a
 * duplicate, caller owns). */
static inline cJSON *admin_ok(struct c2d_client *app, const char *cmd)
{
	cJSON *resp, *root = fx_admin(app, cmd, &resp), *data;

	ck_assert_msg(cJSON_GetObjectItem(resp, "error") == NULL, "%s: %s", cmd,
			cJSON_GetStringValue(cJSON_GetObjectItem(resp, "error")));
	data = cJSON_Duplicate(cJSON_GetObjectItem(resp, "data"), true);
	cJSON_Delete(root);
	ck_assert_ptr_nonnull(data);
	return data;
}

/* One admin command that must fail with an error containing want. */
static inline void admin_err(struct c2d_client *app, const char *cmd, const char *want)
{
	cJSON *resp, *root = fx_admin(app, cmd, &resp);
	const char *err = cJSON_GetStringValue(cJSON_GetObjectItem(resp, "error"));

	ck_assert_msg(err && strstr(err, want), "%s: error %s, want %s", cmd, err ? err : "(none)", want);
	cJSON_Delete(root);
}

static inline void set_gateway(struct world *w, const char *gw, const char *devices)
{
	char *cmd = c2d_strf("{\"command\":\"setGateway\",\"gateway\":\"%s\",\"devices\":%s}", gw, devices);

	cJSON_Delete(admin_ok(w->app, cmd));
	free(cmd);
}

/* getDevice dev: the data (caller owns). */
static inline cJSON *get_device(struct world *w, const char *dev)
{
	char *cmd = c2d_strf("{\"command\":\"getDevice\",\"device\":\"%s\"}", dev);
	cJSON *d = admin_ok(w->app, cmd);

	free(cmd);
	return d;
}

/* getDevice says dev is online (or not), through via (NULL: not through a
 * gateway). */
static inline void expect_online(struct world *w, const char *dev, bool online, const char *via)
{
	cJSON *d = get_device(w, dev);
	const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(d, "via"));

	ck_assert_msg(cJSON_IsTrue(cJSON_GetObjectItem(d, "online")) == online, "%s online: want %d", dev, online);
	if(via) ck_assert_pstr_eq(v, via);
	else ck_assert_ptr_null(v);
	cJSON_Delete(d);
}

/* The next presence event of dev is `type` with data.via == via. */
static inline void expect_presence(struct world *w, const char *dev, const char *type, const char *via)
{
	cJSON *ev = fx_expect_event(w->mon, dev, "presence", type);
	cJSON *data = cJSON_GetObjectItem(ev, "data");

	ck_assert_pstr_eq(cJSON_GetStringValue(cJSON_GetObjectItem(data, "via")), via);
	cJSON_Delete(ev);
}

static inline void publish(struct c2d_client *c, const char *topic, const char *payload)
{
	int rc = c2d_client_publish(c, topic, payload, payload ? -1 : 0, 1, false, NULL);

	ck_assert_msg(rc >= 0 && rc < 0x80, "publish %s: %d", topic, rc);
}

/* gw (client gwid) announces sub: single form; waits for its presence. */
static inline void announce(struct world *w, struct c2d_client *gw, const char *gwid, const char *sub)
{
	char *topic = c2d_strf("$c2d/%s/out/gw/connect/%s", gwid, sub);

	publish(gw, topic, NULL);
	expect_presence(w, sub, "c2d.presence.connected", gwid);
	free(topic);
}

/* A delivery on $c2d/{dev}/in/{path}/+ reaching client c. Returns its id
 * (caller frees). */
static inline char *delivered(struct c2d_client *c, const char *dev, const char *path)
{
	char *filter = c2d_strf("$c2d/%s/in/%s/+", dev, path), *id;
	struct c2d_msg *m = c2d_client_wait_msg(c, filter, FX_WAIT_MS);

	ck_assert_msg(m != NULL, "%s: no delivery on %s", c2d_client_id(c), filter);
	id = strdup(strrchr(m->topic, '/') + 1);
	c2d_msg_free(m);
	free(filter);
	return id;
}

/* c answers delivery id (consumed) of sub with 200 and body, as the
 * sub-device or its gateway. */
static inline void answer_body(struct c2d_client *c, const char *sub, char *id, const char *body)
{
	char *topic = c2d_strf("$c2d/%s/out/res/%s/200", sub, id);

	publish(c, topic, body);
	free(topic);
	free(id);
}

/* An application request with correlation data corr and user properties
 * (NULL-terminated pairs, may be NULL), without waiting for a reply. */
static inline void send_req(struct world *w, const char *topic, const char *payload, const char *corr, const char *const *user)
{
	struct c2d_props p = {.response_topic = FX_REPLIES, .corr = corr, .user = user};
	mosquitto_property *props = c2d_props_build(&p);

	ck_assert_int_lt(c2d_client_publish(w->app, topic, payload, -1, 1, false, props), 0x80);
	mosquitto_property_free_all(&props);
}

/* The gateway's refusal for sub on $c2d/{gw}/in/reply/gw/{sub}/403. */
static inline void expect_refused(struct c2d_client *gw, const char *gwid, const char *sub)
{
	char *topic = c2d_strf("$c2d/%s/in/reply/gw/%s/403", gwid, sub);
	struct c2d_msg *m = c2d_client_wait_msg(gw, topic, FX_WAIT_MS);
	cJSON *j;

	ck_assert_msg(m != NULL, "no refusal on %s", topic);
	j = fx_json(m);
	ck_assert_int_eq(cJSON_GetObjectItem(j, "status")->valueint, 403);
	ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(j, "device")), sub);
	cJSON_Delete(j);
	c2d_msg_free(m);
	free(topic);
}

#endif
