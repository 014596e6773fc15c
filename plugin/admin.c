/* The operators' API, in the style of Mosquitto's dynamic-security plugin:
 * a publish to $CONTROL/c2d/v1 carries {"commands":[{"command":..., ...}]};
 * each command gets one response {"command":..., "data":{...}} or
 * {"command":..., "error":"..."}, echoing its "correlationData", all in one
 * {"responses":[...]} on $CONTROL/c2d/v1/response and on the request's MQTT 5
 * response topic. Who may use it is the broker's ACL on $CONTROL/c2d/v1.
 * Statistics go to $SYS/broker/c2d/... every stats_interval seconds. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c2d.h"
#include "c2d_admin.h"
#include "c2d_fleet.h"
#include "c2d_gw.h"
#include "c2d_hello.h"
#include "c2d_jobs.h"
#include "c2d_pending.h"
#include "c2d_queue.h"
#include "c2d_rpc.h"
#include "c2d_twin.h"
#include "c2d_twin_plane.h"

struct c2d_admin {
	uv_timer_t stats_timer;
	bool timer_on;
};

/* A command's handler: fills data or returns an error text (static string). */
typedef const char *(*admin_fn)(struct c2d *c2d, const cJSON *cmd, cJSON *data);

static const char *str_arg(const cJSON *cmd, const char *name)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(cmd, name);

	return cJSON_IsString(j) ? j->valuestring : NULL;
}

/* The command's "device", validated; NULL and *err set if missing or bad. */
static const char *device_arg(const cJSON *cmd, const char **err)
{
	const char *dev = str_arg(cmd, "device");

	if(dev == NULL){
		*err = "missing device";
	}else if(!c2d_topic_valid_dev(dev, strlen(dev))){
		*err = "invalid device id";
		dev = NULL;
	}
	return dev;
}

/* The command's "id"; NULL and *err set if missing. */
static const char *id_arg(const cJSON *cmd, const char **err)
{
	const char *id = str_arg(cmd, "id");

	if(id == NULL) *err = "missing id";
	return id;
}

/* The command's "count" (default 100) into *count; an error text if bad. */
static const char *count_arg(const cJSON *cmd, size_t *count)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(cmd, "count");

	*count = 100;
	if(j == NULL) return NULL;
	if(!cJSON_IsNumber(j) || j->valuedouble < 1 || j->valuedouble > 1000) return "count must be 1..1000";
	*count = (size_t)j->valuedouble;
	return NULL;
}

/* A queue operation's outcome as the command's error (NULL: it succeeded).
 * why: the queue's own text for the operator, or NULL. */
static const char *queue_error(int rc, const char *why)
{
	if(rc == 0) return NULL;
	if(why) return why;
	return rc == C2D_ENOMEM ? "out of memory" : "store unavailable";
}

/* Twin versions of a device, or NULL when it has none. */
/* The twin's versions (and, into data, its tags); NULL without a twin. */
static cJSON *twin_summary(struct c2d *c2d, const char *dev, cJSON *data)
{
	struct c2d_twin tw;
	char *json = NULL;
	size_t len = 0;
	cJSON *j;

	if(c2d_store_twin_get(c2d->store, dev, &json, &len)) return NULL;
	if(c2d_twin_load(&tw, json, len)){
		free(json);
		return NULL;
	}
	free(json);
	j = cJSON_CreateObject();
	if(j){
		cJSON_AddNumberToObject(j, "desired", (double)tw.version[C2D_TWIN_DESIRED]);
		cJSON_AddNumberToObject(j, "reported", (double)tw.version[C2D_TWIN_REPORTED]);
		cJSON_AddNumberToObject(j, "tags", (double)tw.version[C2D_TWIN_TAGS]);
		if(tw.has_ack) cJSON_AddNumberToObject(j, "acknowledged", (double)tw.ack);
		else cJSON_AddNullToObject(j, "acknowledged");
	}
	cJSON_AddItemToObject(data, "tags", cJSON_Duplicate(tw.doc[C2D_TWIN_TAGS], true));
	c2d_twin_free(&tw);
	return j;
}

static const char *cmd_get_device(struct c2d *c2d, const cJSON *cmd, cJSON *data)
{
	const char *err = NULL, *dev = device_arg(cmd, &err);
	struct c2d_devrec rec;
	cJSON *twin, *q, *info;
	int rc, rc2;

	if(dev == NULL) return err;
	memset(&rec, 0, sizeof(rec));
	rc = c2d_store_dev_get(c2d->store, dev, &rec);
	if(rc && rc != C2D_ENOTFOUND) return "store unavailable";
	info = c2d_hello_info(c2d, dev, &rc2);
	if(rc2) return "store unavailable";
	twin = twin_summary(c2d, dev, data);
	cJSON_AddStringToObject(data, "device", dev);
	cJSON_AddBoolToObject(data, "online", c2d_presence_online(c2d, dev));
	cJSON_AddNumberToObject(data, "protocolVersion", c2d_presence_protocol(c2d, dev));
	cJSON_AddBoolToObject(data, "known", rc == 0 || twin != NULL || info != NULL);
	if(twin) cJSON_AddItemToObject(data, "twin", twin);
	else cJSON_AddNullToObject(data, "twin");
	q = cJSON_AddObjectToObject(data, "queue");
	if(q){
		cJSON_AddNumberToObject(q, "depth", rec.queued);
		cJSON_AddNumberToObject(q, "nextId", (double)(rec.next_seq ? rec.next_seq : 1));
	}
	cJSON_AddNumberToObject(data, "lightweightRpcsPending", c2d_rpc_pending_count(c2d, dev));
	c2d_gw_describe(c2d, dev, data);
	cJSON_AddItemToObject(data, "info", info ? info : cJSON_CreateObject());
	if(rec.created_ms) cJSON_AddNumberToObject(data, "createdMs", (double)rec.created_ms);
	return NULL;
}

struct list_ctx {
	struct c2d *c2d;
	cJSON *arr;
	int filter;  /* 0 all, 1 online, 2 offline */
	size_t want, got;
	char last[C2D_DEV_MAX + 1];
};

static int list_one(void *ud, const char *dev, const struct c2d_devrec *rec)
{
	struct list_ctx *lc = ud;
	bool online = c2d_presence_online(lc->c2d, dev);
	cJSON *d;

	snprintf(lc->last, sizeof(lc->last), "%s", dev);
	if((lc->filter == 1 && !online) || (lc->filter == 2 && online)) return 0;
	d = cJSON_CreateObject();
	if(d == NULL) return 1;
	cJSON_AddStringToObject(d, "device", dev);
	cJSON_AddBoolToObject(d, "online", online);
	cJSON_AddNumberToObject(d, "queued", rec->queued);
	cJSON_AddItemToArray(lc->arr, d);
	return ++lc->got >= lc->want;
}

/* listDevices {"after":"dev","count":N,"filter":"all|online|offline"}: known
 * devices (with a twin or a queue record) in id order, paged. */
static const char *cmd_list_devices(struct c2d *c2d, const cJSON *cmd, cJSON *data)
{
	const char *after = str_arg(cmd, "after"), *filter = str_arg(cmd, "filter");
	const char *err;
	struct list_ctx lc = {.c2d = c2d};
	int rc;

	err = count_arg(cmd, &lc.want);
	if(err) return err;
	if(filter == NULL || strcmp(filter, "all") == 0) lc.filter = 0;
	else if(strcmp(filter, "online") == 0) lc.filter = 1;
	else if(strcmp(filter, "offline") == 0) lc.filter = 2;
	else return "filter must be all, online or offline";
	if(after && after[0] && !c2d_topic_valid_dev(after, strlen(after))) return "invalid after";
	lc.arr = cJSON_AddArrayToObject(data, "devices");
	if(lc.arr == NULL) return "out of memory";
	rc = c2d_store_dev_scan(c2d->store, after, 0, list_one, &lc);
	if(rc) return "store unavailable";
	if(lc.got >= lc.want) cJSON_AddStringToObject(data, "next", lc.last);
	else cJSON_AddNullToObject(data, "next");
	return NULL;
}

/* listCommands {"device","after"?,"count"?,"history"?}: the device's queue,
 * then its history if asked. */
static const char *cmd_list_commands(struct c2d *c2d, const cJSON *cmd, cJSON *data)
{
	const char *err = NULL, *why = NULL, *dev = device_arg(cmd, &err);
	const cJSON *after = cJSON_GetObjectItemCaseSensitive(cmd, "after");
	const cJSON *history = cJSON_GetObjectItemCaseSensitive(cmd, "history");
	size_t count;
	int rc;

	if(dev == NULL) return err;
	if(after && !cJSON_IsString(after)) return "after must be a command id";
	if(history && !cJSON_IsBool(history)) return "history must be true or false";
	err = count_arg(cmd, &count);
	if(err) return err;
	rc = c2d_queue_list(c2d, dev, after ? after->valuestring : NULL, count, cJSON_IsTrue(history), data, &why);
	return queue_error(rc, why);
}

/* cancelCommand {"device","id"}: a live command ends as cancelled. */
static const char *cmd_cancel_command(struct c2d *c2d, const cJSON *cmd, cJSON *data)
{
	const char *err = NULL, *why = NULL, *dev = device_arg(cmd, &err), *id;
	int rc;

	if(dev == NULL) return err;
	id = id_arg(cmd, &err);
	if(id == NULL) return err;
	rc = c2d_queue_cancel(c2d, dev, id, data, &why);
	return queue_error(rc, why);
}

/* retryCommand {"device","id"}: a timed-out, failed, expired or dead command
 * is queued again. */
static const char *cmd_retry_command(struct c2d *c2d, const cJSON *cmd, cJSON *data)
{
	const char *err = NULL, *why = NULL, *dev = device_arg(cmd, &err), *id;
	int rc;

	if(dev == NULL) return err;
	id = id_arg(cmd, &err);
	if(id == NULL) return err;
	rc = c2d_queue_retry(c2d, dev, id, data, &why);
	return queue_error(rc, why);
}

/* purgeQueue {"device"}: every live command ends as purged. */
static const char *cmd_purge_queue(struct c2d *c2d, const cJSON *cmd, cJSON *data)
{
	const char *err = NULL, *dev = device_arg(cmd, &err);

	if(dev == NULL) return err;
	return queue_error(c2d_queue_purge(c2d, dev, data), NULL);
}

/* deleteDevice {"device"}: purge its queue, drop its history, twin and
 * record; event c2d.device.deleted. Lightweight RPCs in flight (memory only)
 * are left alone; a connected device stays connected. */
static const char *cmd_delete_device(struct c2d *c2d, const cJSON *cmd, cJSON *data)
{
	const char *err = NULL, *dev = device_arg(cmd, &err);
	uint64_t purged = 0, forgotten = 0;
	bool twin = false;
	cJSON *ev;
	int rc;

	if(dev == NULL) return err;
	rc = c2d_queue_forget_device(c2d, dev, &purged, &forgotten);
	if(!rc) rc = c2d_twin_forget(c2d, dev, &twin);
	if(!rc) rc = c2d_store_dev_del(c2d->store, dev);
	if(rc == C2D_ENOTFOUND && twin) rc = 0;
	if(rc == C2D_ENOTFOUND && purged + forgotten == 0) return "no such device";
	if(rc && rc != C2D_ENOTFOUND) return queue_error(rc, NULL);
	cJSON_AddBoolToObject(data, "deleted", true);
	cJSON_AddNumberToObject(data, "purged", (double)purged);
	ev = cJSON_CreateObject();
	if(ev) cJSON_AddNumberToObject(ev, "purged", (double)purged);
	c2d_log(C2D_LOG_NOTICE, "device '%s' deleted by an operator (%" PRIu64 " commands purged)", dev, purged);
	return queue_error(c2d_event(c2d, dev, "device", "c2d.device.deleted", ev), NULL);
}

static const char *cmd_get_stats(struct c2d *c2d, const cJSON *cmd, cJSON *data)
{
	static const char *const names[C2D_C__COUNT] = {"connects", "disconnects", "requests", "denied",
		"badRequests", "deliveries", "responses", "storeErrors", "events", "storeCommits"};
	uint64_t used = 0, map = 0, twins = 0, quarantined = 0;
	cJSON *counters, *store;
	int i;

	(void)cmd;
	cJSON_AddNumberToObject(data, "devicesOnline", (double)c2d->presence.online);
	if(c2d_store_twin_count(c2d->store, &twins) == 0) cJSON_AddNumberToObject(data, "twins", (double)twins);
	counters = cJSON_AddObjectToObject(data, "counters");
	for(i = 0; counters && i < C2D_C__COUNT; i++){
		cJSON_AddNumberToObject(counters, names[i], (double)c2d->counters[i]);
	}
	store = cJSON_AddObjectToObject(data, "store");
	if(store && c2d_store_usage(c2d->store, &used, &map) == 0){
		cJSON_AddNumberToObject(store, "usedBytes", (double)used);
		cJSON_AddNumberToObject(store, "mapBytes", (double)map);
		cJSON_AddNumberToObject(store, "usedPercent", map ? (double)(used * 1000 / map) / 10.0 : 0);
	}
	if(store && c2d_store_quarantine_count(c2d->store, &quarantined) == 0){
		cJSON_AddNumberToObject(store, "quarantined", (double)quarantined);
	}
	return NULL;
}

static const struct {
	const char *name;
	admin_fn fn;
	bool writes;   /* needs the event's store transaction */
} commands[] = {
	{"listDevices", cmd_list_devices, false},
	{"getDevice", cmd_get_device, false},
	{"getStats", cmd_get_stats, false},
	{"listCommands", cmd_list_commands, false},
	{"cancelCommand", cmd_cancel_command, true},
	{"retryCommand", cmd_retry_command, true},
	{"purgeQueue", cmd_purge_queue, true},
	{"deleteDevice", cmd_delete_device, true},
	{"queryDevices", c2d_fleet_query, false},
	{"createJob", c2d_jobs_create, true},
	{"getJob", c2d_jobs_get, false},
	{"listJobs", c2d_jobs_list, false},
	{"cancelJob", c2d_jobs_cancel, true},
	{"listJobDevices", c2d_jobs_list_devices, false},
	{"setGateway", c2d_gw_set, true},
	{"clearGateway", c2d_gw_clear, true},
};

/* Run one command; returns its response object. */
static cJSON *run_command(struct c2d *c2d, const cJSON *cmd)
{
	const char *name = str_arg(cmd, "command"), *err = "Unknown command";
	const cJSON *corr = cJSON_GetObjectItemCaseSensitive(cmd, "correlationData");
	cJSON *resp = cJSON_CreateObject(), *data;
	size_t i;

	if(resp == NULL) return NULL;
	cJSON_AddStringToObject(resp, "command", name ? name : "");
	data = cJSON_CreateObject();
	for(i = 0; name && data && i < sizeof(commands) / sizeof(commands[0]); i++){
		if(strcmp(commands[i].name, name) == 0){
			if(commands[i].writes && c2d_txn(c2d)) err = "store unavailable";
			else err = commands[i].fn(c2d, cmd, data);
			break;
		}
	}
	if(err){
		cJSON_AddStringToObject(resp, "error", err);
		/* a command that states its status (the job commands) keeps it */
		if(data && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(data, "status"))){
			cJSON_AddItemToObject(resp, "status", cJSON_DetachItemFromObjectCaseSensitive(data, "status"));
		}
		cJSON_Delete(data);
		c2d_log(C2D_LOG_INFO, "admin command '%s' failed: %s", name ? name : "?", err);
	}else{
		cJSON_AddItemToObject(resp, "data", data);
	}
	if(cJSON_IsString(corr)) cJSON_AddStringToObject(resp, "correlationData", corr->valuestring);
	return resp;
}

/* The responses go to $CONTROL/c2d/v1/response (as dynamic security's do:
 * the ACL on that topic decides who reads them) and, for a v5 request with
 * another Response Topic, to the requester alone on that topic. */
static void send_responses(struct c2d *c2d, cJSON *root, const char *requester, const mosquitto_property *props)
{
	char *resp_topic = NULL, *text;
	void *corr = NULL;
	uint16_t corr_len = 0;
	size_t len;

	text = cJSON_PrintUnformatted(root);
	if(text == NULL) return;
	len = strlen(text);
	c2d_outbox_add(c2d, C2D_OUT_STORED, NULL, C2D_ADMIN_RESPONSE_TOPIC, text, len, 1, NULL);
	mosquitto_property_read_string(props, MQTT_PROP_RESPONSE_TOPIC, &resp_topic, false);
	mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA, &corr, &corr_len, false);
	if(resp_topic && strcmp(resp_topic, C2D_ADMIN_RESPONSE_TOPIC) != 0){
		c2d_reply_to(c2d, requester, resp_topic, corr, corr_len, C2D_ST_OK, text, len, "application/json");
	}
	mosquitto_free(resp_topic);
	mosquitto_free(corr);
	cJSON_free(text);
}

int c2d_admin_on_control(struct c2d *c2d, struct mosquitto_evt_control *ed)
{
	cJSON *req, *root, *arr, *resp;
	const cJSON *cmds, *cmd;

	/* the unit stores an open answer batch first: the commands read it */
	c2d_unit_begin(c2d, C2D_UNIT_CONTROL);
	root = cJSON_CreateObject();
	arr = root ? cJSON_AddArrayToObject(root, "responses") : NULL;
	if(arr == NULL){
		cJSON_Delete(root);
		c2d_unit_close(c2d, false);
		return MOSQ_ERR_SUCCESS;
	}
	req = cJSON_ParseWithLength(ed->payload, ed->payloadlen);
	cmds = cJSON_GetObjectItemCaseSensitive(req, "commands");
	if(!cJSON_IsArray(cmds)){
		resp = cJSON_CreateObject();
		cJSON_AddStringToObject(resp, "command", "");
		cJSON_AddStringToObject(resp, "error", req ? "payload must have a commands array" : "payload is not valid JSON");
		cJSON_AddItemToArray(arr, resp);
	}else{
		cJSON_ArrayForEach(cmd, cmds){
			resp = run_command(c2d, cmd);
			if(resp) cJSON_AddItemToArray(arr, resp);
		}
	}
	if(c2d_unit_commit(c2d)){
		/* Nothing the commands changed was kept: say so in every response. */
		cJSON_ArrayForEach(resp, arr){
			cJSON_DeleteItemFromObjectCaseSensitive(resp, "data");
			if(!cJSON_GetObjectItemCaseSensitive(resp, "error")) cJSON_AddStringToObject(resp, "error", "store unavailable: nothing was changed");
		}
	}
	send_responses(c2d, root, mosquitto_client_id(ed->client), ed->properties);
	cJSON_Delete(req);
	cJSON_Delete(root);
	c2d_unit_close(c2d, false);
	return MOSQ_ERR_SUCCESS;
}

/* ---- $SYS statistics ---- */

static void publish_stat(struct c2d *c2d, const char *name, uint64_t value)
{
	char topic[96], text[32];

	snprintf(topic, sizeof(topic), "$SYS/broker/c2d/%s", name);
	snprintf(text, sizeof(text), "%" PRIu64, value);
	c2d_outbox_add(c2d, C2D_OUT_SIDE, NULL, topic, text, strlen(text), 0, NULL); /* no stored fact */
}

static void on_stats_timer(uv_timer_t *timer)
{
	struct c2d *c2d = timer->data;
	uint64_t used = 0, map = 0, twins = 0, quarantined = 0;

	publish_stat(c2d, "devices/online", c2d->presence.online);
	if(c2d_store_twin_count(c2d->store, &twins) == 0) publish_stat(c2d, "twins", twins);
	publish_stat(c2d, "requests", c2d->counters[C2D_C_REQUESTS]);
	publish_stat(c2d, "denied", c2d->counters[C2D_C_DENIED]);
	publish_stat(c2d, "deliveries", c2d->counters[C2D_C_DELIVERIES]);
	publish_stat(c2d, "responses", c2d->counters[C2D_C_RESPONSES]);
	publish_stat(c2d, "events", c2d->counters[C2D_C_EVENTS]);
	publish_stat(c2d, "store/errors", c2d->counters[C2D_C_STORE_ERRORS]);
	publish_stat(c2d, "store/commits", c2d->counters[C2D_C_COMMITS]);
	if(c2d_store_usage(c2d->store, &used, &map) == 0){
		publish_stat(c2d, "store/used_bytes", used);
		publish_stat(c2d, "store/map_bytes", map);
	}
	if(c2d_store_quarantine_count(c2d->store, &quarantined) == 0) publish_stat(c2d, "store/quarantined", quarantined);
}

static int admin_init(struct c2d *c2d)
{
	struct c2d_admin *ad = calloc(1, sizeof(*ad));

	if(ad == NULL) return C2D_ENOMEM;
	c2d->admin = ad;
	if(c2d->conf.stats_interval_s){
		uv_timer_init(&c2d->loop, &ad->stats_timer);
		ad->stats_timer.data = c2d;
		uv_timer_start(&ad->stats_timer, on_stats_timer, c2d->conf.stats_interval_s * 1000ull,
				c2d->conf.stats_interval_s * 1000ull);
		ad->timer_on = true;
	}
	return 0;
}

static void admin_cleanup(struct c2d *c2d)
{
	struct c2d_admin *ad = c2d->admin;

	if(ad == NULL) return;
	if(ad->timer_on){
		/* the handle is embedded in ad: free after libuv closed it */
		uv_timer_stop(&ad->stats_timer);
		uv_close((uv_handle_t *)&ad->stats_timer, NULL);
		uv_run(&c2d->loop, UV_RUN_NOWAIT);
	}
	free(ad);
	c2d->admin = NULL;
}

const struct c2d_plane c2d_admin_plane = {
	.letter = 0,
	.name = "admin",
	.init = admin_init,
	.cleanup = admin_cleanup,
};
