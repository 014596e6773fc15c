/* Gateways (protocol-v2 section 4; Hono's "via", ThingsBoard's gateway API).
 *
 * A gateway is a device that the registry (store_gw.c, admin setGateway /
 * clearGateway) lets act for sub-devices. It announces them on
 * $c2d/{gw}/out/gw/connect/{sub} and .../disconnect/{sub}, or with a JSON
 * array of ids on $c2d/{gw}/out/gw/connect (disconnect). An announced
 * sub-device is online through the gateway's connection (presence.c keeps
 * that, in memory), gets its catch-up (twin, queue) at once, and every
 * delivery for it goes to the gateway's client id on the sub-device's own
 * topics (c2d_presence_client, used by deliver.c and calls.c). The gateway
 * answers, reports and calls on $c2d/{sub}/out/... (route.c's guard asks
 * c2d_gw_may_write).
 *
 * Refusals (an announcement or an out/ write for a device that is not
 * assigned to the gateway): nothing changes, a log line, and a reply
 * addressed to the gateway on $c2d/{gw}/in/reply/gw/{sub}/403 (MQTT 3.1.1
 * and 5), plus the usual reply on a v5 request's Response Topic (or the
 * event c2d.device.refused without one). */
#include <stdio.h>
#include <string.h>

#include "c2d.h"
#include "c2d_gw.h"
#include "c2d_json.h"

/* ---- refusals ---- */

/* Tell the gateway (client) that sub was refused, on its own in/ topic;
 * states no stored fact: the side list. All borrowed. */
static void refuse_one(struct c2d *c2d, const struct c2d_req *req, const char *sub, const char *why)
{
	char topic[2 * C2D_DEV_MAX + 48];
	cJSON *body = cJSON_CreateObject();
	char *text;

	c2d->counters[C2D_C_DENIED]++;
	c2d_log(C2D_LOG_INFO, "gateway '%s' refused for '%s' (%s): %s", req->client_id, sub, req->topic, why);
	if(body == NULL) return;
	cJSON_AddNumberToObject(body, "status", C2D_ST_FORBIDDEN);
	cJSON_AddStringToObject(body, "device", sub);
	cJSON_AddStringToObject(body, "error", why);
	text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	if(text == NULL) return;
	snprintf(topic, sizeof(topic), "$c2d/%s/in/reply/gw/%s/%d", req->client_id, sub, C2D_ST_FORBIDDEN);
	c2d_reply_list(c2d, C2D_OUT_SIDE, req->client_id, topic, req->corr, req->corr_len, C2D_ST_FORBIDDEN, text,
			strlen(text), "application/json");
	cJSON_free(text);
}

/* Is sub assigned to gw? 0 with *yes set, or a store error. */
static int assigned(struct c2d *c2d, const char *sub, const char *gw, bool *yes)
{
	char got[C2D_DEV_MAX + 1];
	int rc = c2d_store_gw_get(c2d->store, sub, got);

	*yes = rc == 0 && strcmp(got, gw) == 0;
	return rc == C2D_ENOTFOUND ? 0 : rc;
}

enum c2d_gw_write c2d_gw_may_write(struct c2d *c2d, const struct c2d_req *req)
{
	uint64_t subs = 0;
	bool yes;

	if(req->client_id == NULL) return C2D_GW_NO;
	if(c2d_presence_announced_by(c2d, req->dev, req->client)) return C2D_GW_YES;
	if(assigned(c2d, req->dev, req->client_id, &yes)) return C2D_GW_NO; /* store trouble: fail closed */
	if(yes) return C2D_GW_YES;
	if(c2d_store_gw_count(c2d->store, req->client_id, 1, &subs) || subs == 0) return C2D_GW_NO;
	refuse_one(c2d, req, req->dev, "this device is not assigned to the gateway");
	c2d_reply_error(c2d, req, C2D_ST_FORBIDDEN, "this device is not assigned to the gateway");
	return C2D_GW_REFUSED;
}

/* ---- announcements ---- */

/* One sub-device announced (connect) or withdrawn; adds it to ok or refused
 * (arrays, may be NULL). Returns 0 or an error for the unit. */
static int announce_one(struct c2d *c2d, const struct c2d_req *req, const char *sub, bool connect, cJSON *ok,
		cJSON *refused, unsigned *caught)
{
	bool yes = false;
	int rc;

	if(!c2d_topic_valid_dev(sub, strlen(sub)) || strcmp(sub, req->dev) == 0){
		refuse_one(c2d, req, sub, "not a valid sub-device id");
		if(refused) cJSON_AddItemToArray(refused, cJSON_CreateString(sub));
		return 0;
	}
	if(!connect && c2d_presence_unannounce(c2d, req->client, sub)){
		if(ok) cJSON_AddItemToArray(ok, cJSON_CreateString(sub));
		return 0;
	}
	rc = assigned(c2d, sub, req->dev, &yes);
	if(rc) return rc;
	if(!yes){
		refuse_one(c2d, req, sub, "this device is not assigned to the gateway");
		if(refused) cJSON_AddItemToArray(refused, cJSON_CreateString(sub));
		return 0;
	}
	if(connect){
		rc = c2d_presence_announce(c2d, req->client, sub);
		if(rc) return rc;
		/* catch-up now, in this unit, for the first C2D_CATCHUP_MAX; the
		 * rest at the next ticks (presence's due list) */
		if((*caught)++ < C2D_CATCHUP_MAX) c2d_presence_catch_up(c2d, sub, 1);
	}
	if(ok) cJSON_AddItemToArray(ok, cJSON_CreateString(sub));
	return 0;
}

/* The announcing connection is not one presence tracks (a publish made in
 * the window of a SIGHUP's re-authentication): nothing changed, try again. */
static int not_confirmed(struct c2d *c2d, const struct c2d_req *req)
{
	return c2d_reply_error(c2d, req, C2D_ST_UNAVAILABLE,
			"the gateway's connection is not confirmed yet: nothing changed, announce again");
}

/* The list form: a JSON array of 1..C2D_GW_BATCH_MAX sub-device ids. */
static int announce_list(struct c2d *c2d, struct c2d_req *req, bool connect)
{
	cJSON *list, *body, *ok, *refused;
	const cJSON *j;
	char why[96];
	unsigned caught = 0;
	bool nomem;
	int rc = 0, n;

	list = c2d_json_parse(req->payload, req->payloadlen, &nomem, why, sizeof(why));
	if(list == NULL) return nomem ? C2D_ENOMEM : c2d_reply_error(c2d, req, C2D_ST_BAD_REQUEST, why);
	n = cJSON_GetArraySize(list);
	if(!cJSON_IsArray(list) || n < 1 || n > C2D_GW_BATCH_MAX){
		cJSON_Delete(list);
		return c2d_reply_error(c2d, req, C2D_ST_BAD_REQUEST, "the list form takes a JSON array of 1..1000 device ids");
	}
	cJSON_ArrayForEach(j, list){
		if(!cJSON_IsString(j)){
			cJSON_Delete(list);
			return c2d_reply_error(c2d, req, C2D_ST_BAD_REQUEST, "the list form takes a JSON array of device ids");
		}
	}
	body = cJSON_CreateObject();
	ok = body ? cJSON_AddArrayToObject(body, connect ? "connected" : "disconnected") : NULL;
	refused = body ? cJSON_AddArrayToObject(body, "refused") : NULL;
	if(refused == NULL) rc = C2D_ENOMEM;
	cJSON_ArrayForEach(j, list){
		if(rc) break;
		rc = announce_one(c2d, req, j->valuestring, connect, ok, refused, &caught);
	}
	cJSON_Delete(list);
	if(rc){
		cJSON_Delete(body);
		return rc == C2D_EINVAL ? not_confirmed(c2d, req) : rc;
	}
	if(cJSON_GetArraySize(refused) > 0){
		cJSON_AddStringToObject(body, "error", "some devices are not assigned to the gateway");
		return c2d_reply_json(c2d, req, C2D_ST_FORBIDDEN, body);
	}
	return c2d_reply_json(c2d, req, C2D_ST_OK, body);
}

static int on_announce(struct c2d *c2d, struct c2d_req *req, bool connect)
{
	cJSON *refused, *body;
	unsigned caught = 0;
	int rc;

	if(req->name[0] == '\0') return announce_list(c2d, req, connect);
	refused = cJSON_CreateArray();
	if(refused == NULL) return C2D_ENOMEM;
	rc = announce_one(c2d, req, req->name, connect, NULL, refused, &caught);
	if(rc == C2D_EINVAL){
		rc = not_confirmed(c2d, req);
	}else if(!rc && cJSON_GetArraySize(refused) > 0){
		rc = c2d_reply_error(c2d, req, C2D_ST_FORBIDDEN, "this device is not assigned to the gateway");
	}else if(!rc){
		body = cJSON_CreateObject();
		if(body){
			cJSON_AddStringToObject(body, "device", req->name);
			cJSON_AddBoolToObject(body, "online", c2d_presence_online(c2d, req->name));
		}
		rc = c2d_reply_json(c2d, req, C2D_ST_OK, body);
	}
	cJSON_Delete(refused);
	return rc;
}

int c2d_gw_on_connect(struct c2d *c2d, struct c2d_req *req)
{
	return on_announce(c2d, req, true);
}

int c2d_gw_on_disconnect(struct c2d *c2d, struct c2d_req *req)
{
	return on_announce(c2d, req, false);
}

/* ---- the registry commands ---- */

/* The command's "devices": an array of 1..C2D_GW_BATCH_MAX valid ids. */
static const char *devices_arg(const cJSON *cmd, const cJSON **out)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(cmd, "devices"), *j;
	int n = cJSON_GetArraySize(arr);

	if(!cJSON_IsArray(arr) || n < 1 || n > C2D_GW_BATCH_MAX) return "devices must be an array of 1..1000 device ids";
	cJSON_ArrayForEach(j, arr){
		if(!cJSON_IsString(j) || !c2d_topic_valid_dev(j->valuestring, strlen(j->valuestring))){
			return "devices must be an array of valid device ids";
		}
	}
	*out = arr;
	return NULL;
}

static cJSON *gw_data(const char *gw, const char *previous)
{
	cJSON *d = cJSON_CreateObject();

	if(d) cJSON_AddStringToObject(d, "gateway", gw);
	if(d && previous) cJSON_AddStringToObject(d, "previous", previous);
	return d;
}

/* Checks before any write: no nesting, the per-gateway limit. */
static const char *set_check(struct c2d *c2d, const char *gw, const cJSON *arr)
{
	char other[C2D_DEV_MAX + 1];
	uint64_t have = 0, subs;
	const cJSON *j;
	unsigned added = 0;
	int rc;

	rc = c2d_store_gw_get(c2d->store, gw, other);
	if(rc == 0) return "the gateway is itself a sub-device (gateways do not nest)";
	if(rc != C2D_ENOTFOUND) return "store unavailable";
	if(c2d_store_gw_count(c2d->store, gw, C2D_GW_SUBS_MAX + 1, &have)) return "store unavailable";
	cJSON_ArrayForEach(j, arr){
		if(strcmp(j->valuestring, gw) == 0) return "a gateway cannot be its own sub-device";
		if(c2d_store_gw_count(c2d->store, j->valuestring, 1, &subs)) return "store unavailable";
		if(subs) return "a device in devices is a gateway (gateways do not nest)";
		rc = c2d_store_gw_get(c2d->store, j->valuestring, other);
		if(rc && rc != C2D_ENOTFOUND) return "store unavailable";
		if(rc || strcmp(other, gw) != 0) added++;
	}
	if(have + added > C2D_GW_SUBS_MAX) return "too many sub-devices for one gateway (at most 10000)";
	return NULL;
}

const char *c2d_gw_set(struct c2d *c2d, const cJSON *cmd, cJSON *data)
{
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(cmd, "gateway"), *arr = NULL, *j;
	char old[C2D_DEV_MAX + 1];
	const char *gw, *err, *via;
	unsigned changed = 0;
	size_t mark;
	int rc, got;

	if(!cJSON_IsString(g) || !c2d_topic_valid_dev(g->valuestring, strlen(g->valuestring))) return "missing or invalid gateway";
	gw = g->valuestring;
	err = devices_arg(cmd, &arr);
	if(err == NULL) err = set_check(c2d, gw, arr);
	if(err) return err;
	rc = c2d_item_begin(c2d, &mark);
	cJSON_ArrayForEach(j, arr){
		if(rc) break;
		got = c2d_store_gw_get(c2d->store, j->valuestring, old);
		if(got == 0 && strcmp(old, gw) == 0) continue;
		if(got && got != C2D_ENOTFOUND){
			rc = got;
			break;
		}
		rc = c2d_store_gw_set(c2d->store, j->valuestring, gw);
		if(!rc) rc = c2d_event(c2d, j->valuestring, "gateway", "c2d.gateway.assigned", gw_data(gw, got ? NULL : old));
		if(!rc) changed++;
	}
	rc = c2d_item_end(c2d, mark, rc);
	if(rc) return rc == C2D_ENOMEM ? "out of memory" : "store unavailable";
	/* a sub-device another gateway announced is no longer its to announce */
	cJSON_ArrayForEach(j, arr){
		via = c2d_presence_via(c2d, j->valuestring);
		if(via && strcmp(via, gw) != 0) c2d_presence_unannounce(c2d, NULL, j->valuestring);
	}
	c2d_log(C2D_LOG_NOTICE, "gateway '%s': %u sub-devices assigned by an operator", gw, changed);
	cJSON_AddStringToObject(data, "gateway", gw);
	cJSON_AddNumberToObject(data, "assigned", changed);
	cJSON_AddNumberToObject(data, "unchanged", cJSON_GetArraySize(arr) - (int)changed);
	return NULL;
}

const char *c2d_gw_clear(struct c2d *c2d, const cJSON *cmd, cJSON *data)
{
	const cJSON *arr = NULL, *j;
	char old[C2D_DEV_MAX + 1];
	const char *err;
	unsigned cleared = 0;
	size_t mark;
	int rc, got;

	err = devices_arg(cmd, &arr);
	if(err) return err;
	rc = c2d_item_begin(c2d, &mark);
	cJSON_ArrayForEach(j, arr){
		if(rc) break;
		got = c2d_store_gw_del(c2d->store, j->valuestring, old);
		if(got == C2D_ENOTFOUND) continue;
		rc = got;
		if(!rc) rc = c2d_event(c2d, j->valuestring, "gateway", "c2d.gateway.cleared", gw_data(old, NULL));
		if(!rc) cleared++;
	}
	rc = c2d_item_end(c2d, mark, rc);
	if(rc) return rc == C2D_ENOMEM ? "out of memory" : "store unavailable";
	cJSON_ArrayForEach(j, arr){
		c2d_presence_unannounce(c2d, NULL, j->valuestring);
	}
	c2d_log(C2D_LOG_NOTICE, "%u sub-devices cleared from their gateway by an operator", cleared);
	cJSON_AddNumberToObject(data, "cleared", cleared);
	cJSON_AddNumberToObject(data, "unchanged", cJSON_GetArraySize(arr) - (int)cleared);
	return NULL;
}

void c2d_gw_describe(struct c2d *c2d, const char *dev, cJSON *data)
{
	char gw[C2D_DEV_MAX + 1];
	const char *via = c2d_presence_via(c2d, dev);
	uint64_t subs = 0;

	if(c2d_store_gw_get(c2d->store, dev, gw) == 0) cJSON_AddStringToObject(data, "gateway", gw);
	else cJSON_AddNullToObject(data, "gateway");
	if(via) cJSON_AddStringToObject(data, "via", via);
	else cJSON_AddNullToObject(data, "via");
	if(c2d_store_gw_count(c2d->store, dev, C2D_GW_SUBS_MAX, &subs) == 0) cJSON_AddNumberToObject(data, "subDevices", (double)subs);
}
