/* Application endpoints: RPC, messages, twin, commands, admin. Each becomes
 * the MQTT request an application would send (docs/protocol.md) on the
 * caller's pooled connection; the plugin's reply becomes the HTTP answer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <mqtt_protocol.h>

#include "http.h"
#include "route.h"

bool app_call_as(struct hreq *r, const char *user, const char *pass, const char *topic, const void *payload,
		int len, mosquitto_property *props, bool want_reply, int timeout_ms, hreq_reply_fn fn)
{
	const char *err = NULL;
	struct hconn *c = r->conn;

	/* a request that already has a connection (a second call from its
	 * reply callback) goes on with it */
	if(c == NULL && (c = pool_get(HC_APP, user, pass, NULL, &err)) == NULL){
		mosquitto_property_free_all(&props);
		req_error(r, strstr(err, "reachable") ? 502 : 503, "%s", err);
		return true;
	}
	r->conn = c;
	r->kind = HR_CALL;
	pool_start_call(r, topic, payload, len, props, want_reply, timeout_ms, fn);
	return true;
}

bool app_call(struct hreq *r, const char *topic, const void *payload, int len, mosquitto_property *props,
		bool want_reply, int timeout_ms, hreq_reply_fn fn)
{
	return app_call_as(r, r->user, r->pass, topic, payload, len, props, want_reply, timeout_ms, fn);
}

/* Content type of a reply without one: JSON if it parses, else bytes. */
static const char *guess_type(const struct hmsg *m)
{
	cJSON *doc;

	if(m->len == 0) return NULL;
	doc = cJSON_ParseWithLength(m->payload, (size_t)m->len);
	if(doc == NULL) return "application/octet-stream";
	cJSON_Delete(doc);
	return "application/json";
}

void app_reply_raw(struct hreq *r, int status, const struct hmsg *m)
{
	if(m == NULL){
		req_result(r, 202, "{\"status\":202}", 14, "application/json");
	}else{
		req_result(r, status, m->payload, (size_t)m->len,
				m->content_type ? m->content_type : guess_type(m));
	}
	req_finish(r);
}

/* Adds user property k=v to *props. */
static void uprop(mosquitto_property **props, const char *k, const char *v)
{
	if(v) mosquitto_property_add_string_pair(props, MQTT_PROP_USER_PROPERTY, k, v);
}

static void add_content_type(struct hreq *r, mosquitto_property **props)
{
	const char *ct = MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);

	if(ct && *ct) mosquitto_property_add_string(props, MQTT_PROP_CONTENT_TYPE, ct);
}

static void rpc_reply(struct hreq *r, int status, const struct hmsg *m)
{
	cJSON *doc;
	const cJSON *id;
	char loc[300];

	if(m && status == 202 && (doc = cJSON_ParseWithLength(m->payload, (size_t)m->len)) != NULL){
		id = cJSON_GetObjectItemCaseSensitive(doc, "id");
		if(cJSON_IsString(id)){
			snprintf(loc, sizeof(loc), "/api/v1/devices/%s/commands/%s", r->dev, id->valuestring);
			req_header(r, "Location", loc);
		}
		cJSON_Delete(doc);
	}
	app_reply_raw(r, status, m);
}

bool app_rpc(struct hreq *r, const char *dev, const char *method, const char *timeout, const char *persistent,
		const char *retries, const char *ttl, const void *params, int len, bool oneway)
{
	mosquitto_property *props = NULL;
	char topic[512];
	long wait = g.opt.rpc_timeout;

	if(!dev_id_ok(dev)) return route_bad_device(r, dev);
	if(method[0] == '\0' || strpbrk(method, "/+#") || strlen(method) > 128){
		req_error(r, 400, "invalid method name");
		return true;
	}
	if(timeout) wait = strtol(timeout, NULL, 10);
	if(wait <= 0 || wait > 3600000) wait = g.opt.rpc_timeout;
	uprop(&props, "timeout", timeout);
	uprop(&props, "persistent", persistent);
	uprop(&props, "retries", retries);
	uprop(&props, "ttl", ttl);
	add_content_type(r, &props);
	snprintf(topic, sizeof(topic), "$c2d/%s/rpc/%s", dev, method);
	free(r->dev);
	r->dev = strdup(dev);
	return app_call(r, topic, params, len, props, !oneway, (int)wait + g.opt.request_timeout, rpc_reply);
}

static bool do_rpc(struct hreq *r, char **seg)
{
	if(!route_method(r, "POST")) return true;
	return app_rpc(r, seg[3], seg[5], req_query(r, "timeout"), req_query(r, "persistent"), req_query(r, "retries"),
			req_query(r, "ttl"), r->body, (int)r->body_len, false);
}

static bool do_message(struct hreq *r, const char *dev)
{
	mosquitto_property *props = NULL;
	char topic[512];

	if(!route_method(r, "POST")) return true;
	if(!dev_id_ok(dev)) return route_bad_device(r, dev);
	uprop(&props, "ttl", req_query(r, "ttl"));
	add_content_type(r, &props);
	snprintf(topic, sizeof(topic), "$c2d/%s/msg", dev);
	free(r->dev);
	r->dev = strdup(dev);
	return app_call(r, topic, r->body, (int)r->body_len, props, true, g.opt.request_timeout, rpc_reply);
}

/* The reply's twin version as an ETag ("N"): version.desired of a full twin,
 * version of a patch reply; section: "desired" or "tags". */
static void twin_reply(struct hreq *r, int status, const struct hmsg *m)
{
	cJSON *doc = m ? cJSON_ParseWithLength(m->payload, (size_t)m->len) : NULL;
	const cJSON *v = NULL;
	char etag[32];

	if(doc){
		v = cJSON_GetObjectItemCaseSensitive(doc, "version");
		if(cJSON_IsObject(v)) v = cJSON_GetObjectItemCaseSensitive(v, r->arg ? r->arg : "desired");
		if(cJSON_IsNumber(v) && status < 300){
			snprintf(etag, sizeof(etag), "\"%d\"", v->valueint);
			req_header(r, "ETag", etag);
		}
	}
	/* a failed If-Match precondition is 412 in HTTP; a $version in the body 409 */
	if(status == 409 && r->flag){
		const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "error");
		req_error(r, 412, "%s", cJSON_IsString(e) ? e->valuestring : "precondition failed");
		cJSON_Delete(doc);
		req_finish(r);
		return;
	}
	cJSON_Delete(doc);
	app_reply_raw(r, status, m);
}

/* Parses an If-Match value: N, "N" or W/"N". Returns N or -1. */
static long parse_etag(const char *s)
{
	char *end;
	long v;

	if(strncmp(s, "W/", 2) == 0) s += 2;
	if(*s == '"') s++;
	v = strtol(s, &end, 10);
	if(end == s || v < 0) return -1;
	if(*end == '"') end++;
	return *end ? -1 : v;
}

static bool do_twin_patch(struct hreq *r, const char *dev, const char *section, bool device)
{
	const char *ct = MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
	const char *im = MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, "If-Match");
	cJSON *doc;
	char topic[512], *text;
	long ver = -1;
	bool ok;

	if(!route_method(r, "PATCH")) return true;
	if(!dev_id_ok(dev)) return route_bad_device(r, dev);
	if(ct && strncmp(ct, "application/merge-patch+json", 28) != 0 && strncmp(ct, "application/json", 16) != 0){
		req_error(r, 415, "a twin patch is application/merge-patch+json, not %s", ct);
		return true;
	}
	doc = cJSON_ParseWithLength(r->body, r->body_len);
	if(doc == NULL || !cJSON_IsObject(doc)){
		cJSON_Delete(doc);
		req_error(r, 400, "a twin patch must be a JSON object (RFC 7396 merge patch)");
		return true;
	}
	if(im && strcmp(im, "*") != 0){
		ver = parse_etag(im);
		if(ver < 0){
			cJSON_Delete(doc);
			req_error(r, 400, "If-Match must be a version, e.g. \"3\"");
			return true;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(doc, "$version");
		cJSON_AddNumberToObject(doc, "$version", (double)ver);
		r->flag = true;
	}
	text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	if(text == NULL){
		req_error(r, 500, "out of memory");
		return true;
	}
	free(r->arg);
	r->arg = strdup(section);
	if(device){
		ok = device_call(r, dev, "reported", text, (int)strlen(text), twin_reply);
	}else{
		snprintf(topic, sizeof(topic), "$c2d/%s/twin/%s", dev, section);
		ok = app_call(r, topic, text, (int)strlen(text), NULL, true, g.opt.request_timeout, twin_reply);
	}
	cJSON_free(text);
	return ok;
}

static bool do_twin(struct hreq *r, const char *dev)
{
	char topic[512];
	bool del = strcmp(r->method, "DELETE") == 0;

	if(!del && !route_method(r, "GET, DELETE")) return true;
	if(!dev_id_ok(dev)) return route_bad_device(r, dev);
	snprintf(topic, sizeof(topic), "$c2d/%s/twin/%s", dev, del ? "delete" : "get");
	return app_call(r, topic, NULL, 0, NULL, true, g.opt.request_timeout, del ? app_reply_raw : twin_reply);
}

static bool do_admin(struct hreq *r)
{
	cJSON *doc;

	if(!route_method(r, "POST")) return true;
	doc = cJSON_ParseWithLength(r->body, r->body_len);
	if(doc == NULL || !cJSON_IsObject(doc)){
		cJSON_Delete(doc);
		req_error(r, 400, "the admin body is a JSON object {\"commands\":[...]} (malformed JSON?)");
		return true;
	}
	cJSON_Delete(doc);
	return app_call(r, "$CONTROL/c2d/v1", r->body, (int)r->body_len, NULL, true, g.opt.request_timeout,
			app_reply_raw);
}

bool app_route(struct hreq *r, char **seg, int n)
{
	if(n == 3 && strcmp(seg[2], "admin") == 0) return do_admin(r);
	if(n < 5 || strcmp(seg[2], "devices") != 0) return false;
	if(n == 6 && strcmp(seg[4], "rpc") == 0) return do_rpc(r, seg);
	if(n == 5 && strcmp(seg[4], "messages") == 0) return do_message(r, seg[3]);
	if(n == 5 && strcmp(seg[4], "twin") == 0) return do_twin(r, seg[3]);
	if(n == 6 && strcmp(seg[4], "twin") == 0 && (strcmp(seg[5], "desired") == 0 || strcmp(seg[5], "tags") == 0)){
		return do_twin_patch(r, seg[3], seg[5], false);
	}
	if(n == 6 && strcmp(seg[4], "twin") == 0 && strcmp(seg[5], "reported") == 0){
		return do_twin_patch(r, seg[3], "reported", true);
	}
	return commands_route(r, seg, n);
}
