/* Check-aware fixtures shared by the broker suites: see fixture.h. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mqtt_protocol.h>

#include "fixture.h"

struct c2d_broker *fx_start(const char *plugin_opts)
{
	struct c2d_broker_opts o = {.plugin_opts = plugin_opts};
	struct c2d_broker *b = c2d_broker_start(&o);

	ck_assert_ptr_nonnull(b);
	return b;
}

struct c2d_broker *fx_start_login(const char *plain_lines, const char *acl, const char *conf_extra)
{
	char *hashed = fx_passwd(plain_lines);
	char *conf = c2d_strf("password_file @DIR@/passwd\n%s", conf_extra ? conf_extra : "");
	struct c2d_broker_file files[] = {{"passwd", hashed}, {NULL, NULL}};
	struct c2d_broker_opts o = {.files = files, .conf = conf, .acl = acl};
	struct c2d_broker *b = c2d_broker_start(&o);

	free(conf);
	free(hashed);
	ck_assert_ptr_nonnull(b);
	return b;
}

struct c2d_client *fx_client(struct c2d_broker *b, const char *id, int protocol)
{
	struct c2d_client *c = c2d_client_new_connected(b, id, protocol, true);

	ck_assert_msg(c != NULL, "client %s could not connect", id);
	return c;
}

struct c2d_client *fx_subscriber(struct c2d_broker *b, const char *id, const char *filter)
{
	struct c2d_client *c = fx_client(b, id, MQTT_PROTOCOL_V5);

	ck_assert_int_eq(c2d_client_subscribe(c, filter, 1), 1);
	return c;
}

struct c2d_client *fx_app(struct c2d_broker *b, const char *reply_topic)
{
	return fx_subscriber(b, "app", reply_topic);
}

struct c2d_client *fx_monitor(struct c2d_broker *b, const char *filter)
{
	return fx_subscriber(b, "mon", filter);
}

struct c2d_client *fx_device(struct c2d_broker *b, struct c2d_client *mon, const char *id, int protocol)
{
	struct c2d_client *d;

	if(mon == NULL) return fx_client(b, id, protocol);
	d = c2d_client_new(id, protocol, true);
	ck_assert_ptr_nonnull(d);
	c2d_client_inbox_clear(mon);
	ck_assert_int_eq(c2d_client_connect(d, b), 0);
	cJSON_Delete(fx_expect_event(mon, id, "presence", "c2d.presence.connected"));
	return d;
}

struct c2d_client *fx_login(struct c2d_broker *b, const char *id, const char *pass, int protocol)
{
	struct c2d_client *c = c2d_client_new(id, protocol, true);

	ck_assert_ptr_nonnull(c);
	ck_assert_int_eq(c2d_client_set_login(c, id, pass), 0);
	ck_assert_msg(c2d_client_connect(c, b) == 0, "%s could not log in", id);
	return c;
}

void fx_offline(struct c2d_client *dev)
{
	ck_assert_int_eq(c2d_client_disconnect(dev), 0);
	c2d_sleep_ms(150); /* the broker sees the disconnect */
}

char *fx_passwd(const char *plain_lines)
{
	char *hashed = c2d_passwd_hash(plain_lines);

	ck_assert_ptr_nonnull(hashed);
	return hashed;
}

cJSON *fx_json(const struct c2d_msg *m)
{
	cJSON *j = cJSON_Parse(m->payload);

	ck_assert_msg(j != NULL, "not JSON on %s: %s", m->topic, m->payload);
	return j;
}

/* Asserts m's "status" user property is status; what names the request. */
static void check_status(const struct c2d_msg *m, const char *what, const char *status)
{
	const char *st = c2d_msg_user_prop(m, "status");

	ck_assert_msg(st != NULL && strcmp(st, status) == 0, "%s: status %s, want %s: %s", what,
			st ? st : "(none)", status, m->payload);
}

void fx_expect_msg(struct c2d_client *c, const char *topic, const void *payload, int len, int qos,
		bool retain)
{
	struct c2d_msg *m = c2d_client_wait_msg(c, topic, FX_WAIT_MS);

	ck_assert_msg(m != NULL, "%s: nothing on %s", c2d_client_id(c), topic);
	ck_assert_str_eq(m->topic, topic);
	ck_assert_int_eq(m->payloadlen, len);
	ck_assert_msg(len == 0 || memcmp(m->payload, payload, (size_t)len) == 0, "%s: wrong payload on %s: %s",
			c2d_client_id(c), topic, m->payload);
	ck_assert_int_eq(m->qos, qos);
	ck_assert_int_eq(m->retain, retain);
	c2d_msg_free(m);
}

struct c2d_msg *fx_request(struct c2d_client *app, const char *topic, const char *payload,
		const char *expect_status)
{
	struct c2d_request rq = {.topic = topic, .payload = payload, .len = -1, .qos = 1};
	struct c2d_msg *m = c2d_client_request(app, &rq);

	ck_assert_msg(m != NULL, "no reply on %s (%s)", topic, payload ? payload : "");
	if(expect_status) check_status(m, topic, expect_status);
	return m;
}

struct c2d_msg *fx_send(struct c2d_client *app, const char *topic, const char *payload, const char *corr,
		const char *const *user, const char *expect_status)
{
	struct c2d_props p = {.response_topic = FX_REPLIES, .corr = corr, .user = user};
	mosquitto_property *props = c2d_props_build(&p);
	struct c2d_msg *m;

	ck_assert_int_lt(c2d_client_publish(app, topic, payload, -1, 1, false, props), 0x80);
	mosquitto_property_free_all(&props);
	m = c2d_client_wait_corr(app, FX_REPLIES, corr, (int)strlen(corr), FX_WAIT_MS);
	ck_assert_msg(m != NULL, "no reply to %s (%s)", topic, corr);
	check_status(m, topic, expect_status);
	return m;
}

struct c2d_msg *fx_reply(struct c2d_client *app, const char *corr, const char *expect_status)
{
	struct c2d_msg *m = c2d_client_wait_corr(app, FX_REPLIES, corr, (int)strlen(corr), FX_WAIT_MS);

	ck_assert_msg(m != NULL, "no reply for %s (want status %s)", corr, expect_status);
	check_status(m, corr, expect_status);
	return m;
}

void fx_final(struct c2d_client *app, const char *corr, const char *state, int status, int wait_ms)
{
	char st[8];
	struct c2d_msg *m = c2d_client_wait_corr(app, FX_REPLIES, corr, (int)strlen(corr), wait_ms);
	cJSON *j, *v;

	snprintf(st, sizeof(st), "%d", status);
	ck_assert_msg(m != NULL, "no final reply for %s within %d ms (want %s, %d)", corr, wait_ms, state, status);
	check_status(m, corr, st);
	j = fx_json(m);
	v = cJSON_GetObjectItem(j, "state");
	ck_assert_msg(cJSON_IsString(v) && strcmp(v->valuestring, state) == 0, "final for %s: %s, want state %s", corr,
			m->payload, state);
	cJSON_Delete(j);
	c2d_msg_free(m);
}

void fx_answer(struct c2d_client *dev, const char *devid, const char *id, int status)
{
	char *topic = c2d_strf("$c2d/%s/out/res/%s/%d", devid, id, status);

	ck_assert_int_lt(c2d_client_publish(dev, topic, NULL, 0, 1, false, NULL), 0x80);
	free(topic);
}

cJSON *fx_expect_event(struct c2d_client *mon, const char *dev, const char *kind, const char *type)
{
	char *topic = c2d_strf("$c2d/%s/events/%s", dev, kind);
	struct c2d_msg *m = c2d_client_wait_msg(mon, topic, FX_WAIT_MS);
	cJSON *ev;

	ck_assert_msg(m != NULL, "no event on %s (want %s)", topic, type);
	ev = fx_json(m);
	ck_assert_str_eq(cJSON_GetObjectItem(ev, "specversion")->valuestring, "1.0");
	ck_assert_str_eq(cJSON_GetObjectItem(ev, "type")->valuestring, type);
	ck_assert_str_eq(cJSON_GetObjectItem(ev, "subject")->valuestring, dev);
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(ev, "id"));
	ck_assert_ptr_nonnull(cJSON_GetObjectItem(ev, "time"));
	c2d_msg_free(m);
	free(topic);
	return ev;
}

struct c2d_msg *fx_skip_to_event(struct c2d_client *mon, const char *type, const char *id)
{
	uint64_t end = c2d_now_ms() + FX_WAIT_MS;
	struct c2d_msg *m;
	cJSON *ev, *data;
	bool hit;

	while(c2d_now_ms() < end){
		m = c2d_client_wait_msg(mon, NULL, (int)(end - c2d_now_ms()) + 1);
		if(m == NULL) break;
		ev = fx_json(m);
		data = cJSON_GetObjectItem(ev, "data");
		hit = strcmp(cJSON_GetObjectItem(ev, "type")->valuestring, type) == 0
				&& (id == NULL || strcmp(cJSON_GetObjectItem(data, "id")->valuestring, id) == 0);
		cJSON_Delete(ev);
		if(hit) return m;
		c2d_msg_free(m);
	}
	ck_abort_msg("no event %s %s", type, id ? id : "");
	return NULL;
}

cJSON *fx_admin(struct c2d_client *app, const char *cmd, cJSON **resp)
{
	char *payload = c2d_strf("{\"commands\":[%s]}", cmd);
	struct c2d_msg *m = fx_request(app, "$CONTROL/c2d/v1", payload, NULL);
	cJSON *j = fx_json(m);

	*resp = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "responses"), 0);
	ck_assert_ptr_nonnull(*resp);
	c2d_msg_free(m);
	free(payload);
	return j;
}

cJSON *fx_admin_all(struct c2d_client *op, const char *payload)
{
	struct c2d_request rq = {.topic = "$CONTROL/c2d/v1", .payload = payload, .len = -1, .qos = 1};
	struct c2d_msg *m = c2d_client_request(op, &rq);
	cJSON *j;

	ck_assert_msg(m != NULL, "no admin reply to %s", payload);
	j = cJSON_Parse(m->payload);
	ck_assert_msg(cJSON_IsArray(cJSON_GetObjectItem(j, "responses")), "bad reply %s", m->payload);
	c2d_msg_free(m);
	return j;
}

const cJSON *fx_ok_response(const cJSON *root, int i, const char *command)
{
	const cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "responses"), i);
	const cJSON *err = cJSON_GetObjectItem(r, "error");

	ck_assert_ptr_nonnull(r);
	ck_assert_str_eq(cJSON_GetObjectItem(r, "command")->valuestring, command);
	ck_assert_msg(err == NULL, "%s failed: %s", command, err ? err->valuestring : "");
	return cJSON_GetObjectItem(r, "data");
}

const char *fx_error_of(const cJSON *root, int i)
{
	const cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "responses"), i);
	const cJSON *err = cJSON_GetObjectItem(r, "error");

	ck_assert_msg(cJSON_IsString(err), "response %d has no error", i);
	return err->valuestring;
}

void fx_desired(struct c2d_client *app, const char *dev, const char *patch, const char *expect_status)
{
	char *topic = c2d_strf("$c2d/%s/twin/desired", dev);

	c2d_msg_free(fx_request(app, topic, patch, expect_status));
	free(topic);
}

void fx_expect_final(struct c2d_client *app, const char *corr, const char *id, const char *state, int status)
{
	char st[8];
	struct c2d_msg *m;
	cJSON *j;

	snprintf(st, sizeof(st), "%d", status);
	m = fx_reply(app, corr, st);
	j = fx_json(m);
	ck_assert_str_eq(cJSON_GetObjectItem(j, "id")->valuestring, id);
	ck_assert_str_eq(cJSON_GetObjectItem(j, "state")->valuestring, state);
	ck_assert_int_eq(cJSON_GetObjectItem(j, "status")->valueint, status);
	ck_assert_str_eq(m->content_type, "application/json");
	cJSON_Delete(j);
	c2d_msg_free(m);
}
