/* Device twins, broker side: $c2d/{dev}/twin/get|desired|delete from
 * applications, out/reported from the device, pushes on in/twin/{id} and their
 * acknowledgements (plane letter 't', id number = desired version). The
 * document logic is in twin_doc.c.
 *
 * A push the device does not acknowledge within ack_timeout while it stays
 * online is pushed again (the current version, by c2d_twin_push's full /
 * patch rule), at most once per ack_timeout per device. The waits are kept
 * in memory: a list in push order, which is due order since every wait is
 * ack_timeout long, and a hash by device; a reconnect pushes anyway. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uthash.h>
#include <utlist.h>

#include "c2d.h"
#include "c2d_hello.h"
#include "c2d_jobs.h"
#include "c2d_json.h"
#include "c2d_twin.h"
#include "c2d_twin_plane.h"

/* Load the device's twin; a device without one gets an empty twin and
 * *exists = false. tw: filled, the caller frees with c2d_twin_free. */
static int twin_load(struct c2d *c2d, const char *dev, struct c2d_twin *tw, bool *exists);

/* A twin that is not stored: empty, its versions continuing from the
 * device's id mark (a deleted twin's pushes t1.. are never reused). */
static int twin_new(struct c2d *c2d, const char *dev, struct c2d_twin *tw)
{
	struct c2d_idmark m;
	int rc;

	rc = c2d_twin_init(tw);
	if(rc) return rc;
	rc = c2d_store_idmark_get(c2d->store, dev, &m);
	if(rc){
		c2d_twin_free(tw);
		return rc;
	}
	tw->version[C2D_TWIN_DESIRED] = m.desired;
	tw->version[C2D_TWIN_REPORTED] = m.reported;
	tw->sent = m.desired;
	return 0;
}

int c2d_twin_forget(struct c2d *c2d, const char *dev, bool *existed)
{
	struct c2d_idmark m = {0, 0, 0};
	struct c2d_twin tw;
	bool exists;
	int rc;

	*existed = false;
	rc = twin_load(c2d, dev, &tw, &exists);
	if(rc) return rc;
	m.desired = tw.version[C2D_TWIN_DESIRED];
	m.reported = tw.version[C2D_TWIN_REPORTED];
	c2d_twin_free(&tw);
	if(!exists) return 0;
	rc = c2d_txn(c2d);
	if(!rc) rc = c2d_store_idmark_raise(c2d->store, dev, &m);
	if(!rc) rc = c2d_store_twin_del(c2d->store, dev);
	if(!rc) *existed = true;
	return rc;
}

static int twin_load(struct c2d *c2d, const char *dev, struct c2d_twin *tw, bool *exists)
{
	char *json = NULL;
	size_t len = 0;
	uint64_t sent;
	int rc;

	*exists = false;
	rc = c2d_store_twin_get(c2d->store, dev, &json, &len);
	if(rc == C2D_ENOTFOUND) return twin_new(c2d, dev, tw);
	if(rc) return rc;
	rc = c2d_twin_load(tw, json, len);
	free(json);
	if(rc == C2D_EINVAL){
		c2d_log(C2D_LOG_ERR, "twin record of '%s' is damaged; refusing to overwrite it", dev);
		c2d_twin_free(tw);
		return C2D_ESTORE;
	}
	if(rc == 0){
		/* a catch-up notes what it sent apart from the document */
		rc = c2d_store_twin_sent_get(c2d->store, dev, &sent);
		if(rc) c2d_twin_free(tw);
		else if(sent > tw->sent) tw->sent = sent;
	}
	*exists = rc == 0;
	return rc;
}

/* A device with a twin is a known device (admin listDevices): twin_save
 * makes sure it has a device record. */
static int twin_save(struct c2d *c2d, const char *dev, const struct c2d_twin *tw)
{
	char *text;
	int rc;

	rc = c2d_txn(c2d);
	if(!rc) rc = c2d_store_dev_ensure(c2d->store, dev, c2d->wall_ms);
	if(rc) return rc;
	text = c2d_twin_dump(tw);
	if(text == NULL) return C2D_ENOMEM;
	rc = c2d_store_twin_put(c2d->store, dev, text, strlen(text));
	cJSON_free(text);
	if(!rc) rc = c2d_jobs_on_device_change(c2d, dev); /* continuous jobs (jobcont.c) */
	return rc;
}

#define REPUSH_BUDGET 64 /* re-pushes per tick */

struct twin_wait {
	char dev[C2D_DEV_MAX + 1];
	uint64_t due_ms;             /* monotonic: push again at this time */
	struct twin_wait *prev, *next; /* c2d_twin_waits.list, in due order */
	UT_hash_handle hh;
};

struct c2d_twin_waits {
	struct twin_wait *by_dev;    /* uthash */
	struct twin_wait *list;      /* utlist, oldest first */
};

/* The device has a push out: wait ack_timeout from now for its answer.
 * dev: borrowed (copied). Without memory the push is just not repeated. */
static void wait_start(struct c2d *c2d, const char *dev)
{
	struct c2d_twin_waits *tws = c2d->twin_waits;
	struct twin_wait *w = NULL;

	if(tws == NULL) return;
	HASH_FIND_STR(tws->by_dev, dev, w);
	if(w){
		DL_DELETE(tws->list, w);
	}else{
		w = calloc(1, sizeof(*w));
		if(w == NULL) return;
		snprintf(w->dev, sizeof(w->dev), "%s", dev);
		HASH_ADD_STR(tws->by_dev, dev, w);
	}
	w->due_ms = c2d->now_ms + (uint64_t)c2d->conf.ack_timeout_s * 1000;
	DL_APPEND(tws->list, w);
}

static void wait_free(struct c2d_twin_waits *tws, struct twin_wait *w)
{
	HASH_DEL(tws->by_dev, w);
	DL_DELETE(tws->list, w);
	free(w);
}

/* No answer is awaited any more (acknowledged, rejected, offline). */
static void wait_end(struct c2d *c2d, const char *dev)
{
	struct twin_wait *w = NULL;

	if(c2d->twin_waits == NULL) return;
	HASH_FIND_STR(c2d->twin_waits->by_dev, dev, w);
	if(w) wait_free(c2d->twin_waits, w);
}

/* Push what the device has not acknowledged, if it is online, and wait for
 * its answer. */
static int twin_push(struct c2d *c2d, const char *dev, struct c2d_twin *tw)
{
	cJSON *msg;
	char *text;
	int rc = 0;

	if(!c2d_presence_online(c2d, dev)) return 0;
	msg = c2d_twin_push(tw, &rc);
	if(msg == NULL) return rc;
	text = cJSON_PrintUnformatted(msg);
	cJSON_Delete(msg);
	if(text == NULL) return C2D_ENOMEM;
	rc = c2d_deliver(c2d, dev, "twin", C2D_TWIN_LETTER, tw->version[C2D_TWIN_DESIRED],
			text, strlen(text), "application/json", 0);
	cJSON_free(text);
	if(rc == 0) wait_start(c2d, dev);
	return rc;
}

static cJSON *version_data(uint64_t version, cJSON *patch)
{
	cJSON *data = cJSON_CreateObject();

	if(data == NULL){
		cJSON_Delete(patch);
		return NULL;
	}
	cJSON_AddNumberToObject(data, "version", (double)version);
	if(patch) cJSON_AddItemToObject(data, "patch", patch);
	return data;
}

/* Parse and validate a patch payload; replies itself on bad input.
 * Returns the document, or NULL after replying (*rc = 0) or on error (*rc). */
static cJSON *parse_patch(struct c2d *c2d, const struct c2d_req *req, int *rc)
{
	cJSON *patch;
	char why[96];
	bool nomem;

	*rc = 0;
	if(req->payloadlen > 2 * (size_t)c2d->conf.twin_max_bytes){
		*rc = c2d_reply_error(c2d, req, C2D_ST_TOO_LARGE, "patch is over twice plugin_opt_twin_max_bytes");
		return NULL;
	}
	patch = c2d_json_parse(req->payload, req->payloadlen, &nomem, why, sizeof(why));
	if(patch == NULL){
		*rc = nomem ? C2D_ENOMEM : c2d_reply_error(c2d, req, C2D_ST_BAD_REQUEST, why);
	}
	return patch;
}

static const char *const changed_type[C2D_TWIN_SECTIONS] = {"c2d.twin.desired.changed",
	"c2d.twin.reported.changed", "c2d.twin.tags.changed"};

/* Merge patch (borrowed) into dev's section s: version, event, push
 * (desired only: tags never reach the device). *tw: loaded here, the
 * caller frees it. Returns 0 with *status 0 (applied; *changed whether
 * anything changed) or a refusal status with why, or an error. */
static int patch_apply(struct c2d *c2d, const char *dev, enum c2d_twin_section s, const cJSON *patch,
		struct c2d_twin *tw, bool *changed, int *status, char *why, size_t whylen)
{
	struct c2d_twin_limits limits = {c2d->conf.twin_max_bytes, (int)c2d->conf.twin_max_depth};
	cJSON *applied = NULL;
	char now[32];
	bool exists;
	int rc;

	*status = 0;
	*changed = false;
	rc = twin_load(c2d, dev, tw, &exists);
	if(rc) return rc;
	c2d_time_rfc3339(c2d->wall_ms, now, sizeof(now));
	rc = c2d_twin_apply(tw, s, patch, &limits, now, &applied, why, whylen);
	if(rc < 0) return rc;
	if(rc > 0){
		*status = rc;
		return 0;
	}
	if(applied == NULL) return 0; /* nothing changed: no version, push or event */
	*changed = true;
	if(s == C2D_TWIN_DESIRED) rc = twin_push(c2d, dev, tw);
	if(!rc) rc = twin_save(c2d, dev, tw);
	if(!rc && c2d_event_wanted(c2d, "twin")){
		return c2d_event(c2d, dev, "twin", changed_type[s], version_data(tw->version[s], applied));
	}
	cJSON_Delete(applied);
	return rc;
}

/* desired, tags (application) or reported (device): patch_apply, reply. */
static int twin_patch(struct c2d *c2d, struct c2d_req *req, enum c2d_twin_section s)
{
	struct c2d_twin tw;
	cJSON *patch, *body;
	char why[200];
	bool changed;
	int rc, status;

	patch = parse_patch(c2d, req, &rc);
	if(patch == NULL) return rc;
	memset(&tw, 0, sizeof(tw));
	rc = patch_apply(c2d, req->dev, s, patch, &tw, &changed, &status, why, sizeof(why));
	cJSON_Delete(patch);
	if(!rc && status) rc = c2d_reply_error(c2d, req, status, why);
	else if(!rc){
		body = cJSON_CreateObject();
		if(body){
			cJSON_AddNumberToObject(body, "version", (double)tw.version[s]);
			if(!changed) cJSON_AddFalseToObject(body, "changed");
		}
		rc = c2d_reply_json(c2d, req, C2D_ST_OK, body);
	}
	c2d_twin_free(&tw);
	return rc;
}

int c2d_twin_job_desired(struct c2d *c2d, const char *dev, const cJSON *patch, uint64_t *version, bool *acked,
		int *status)
{
	struct c2d_twin tw;
	char why[200];
	bool changed;
	int rc;

	memset(&tw, 0, sizeof(tw));
	rc = patch_apply(c2d, dev, C2D_TWIN_DESIRED, patch, &tw, &changed, status, why, sizeof(why));
	if(!rc && *status) c2d_log(C2D_LOG_INFO, "job patch for '%s' refused: %s", dev, why);
	*version = tw.version[C2D_TWIN_DESIRED];
	*acked = !rc && !*status && tw.has_ack && tw.ack >= *version;
	c2d_twin_free(&tw);
	return rc;
}

int c2d_twin_on_desired(struct c2d *c2d, struct c2d_req *req)
{
	return twin_patch(c2d, req, C2D_TWIN_DESIRED);
}

int c2d_twin_on_reported(struct c2d *c2d, struct c2d_req *req)
{
	return twin_patch(c2d, req, C2D_TWIN_REPORTED);
}

int c2d_twin_on_tags(struct c2d *c2d, struct c2d_req *req)
{
	return twin_patch(c2d, req, C2D_TWIN_TAGS);
}

cJSON *c2d_twin_get_full(struct c2d *c2d, const char *dev, bool for_device, int *rc)
{
	struct c2d_twin tw;
	cJSON *full, *info;
	bool exists;

	*rc = twin_load(c2d, dev, &tw, &exists);
	if(*rc) return NULL;
	full = c2d_twin_full(&tw, !for_device);
	c2d_twin_free(&tw);
	if(full == NULL){
		*rc = C2D_ENOMEM;
		return NULL;
	}
	info = c2d_hello_info(c2d, dev, rc);
	if(*rc){
		cJSON_Delete(full);
		return NULL;
	}
	cJSON_AddItemToObject(full, "info", info ? info : cJSON_CreateObject());
	return full;
}

int c2d_twin_on_get(struct c2d *c2d, struct c2d_req *req)
{
	cJSON *full;
	int rc;

	full = c2d_twin_get_full(c2d, req->dev, false, &rc);
	if(full == NULL) return rc;
	return c2d_reply_json(c2d, req, C2D_ST_OK, full);
}

int c2d_twin_on_delete(struct c2d *c2d, struct c2d_req *req)
{
	cJSON *body;
	int rc;

	bool existed;

	rc = c2d_twin_forget(c2d, req->dev, &existed);
	if(rc) return rc;
	if(existed){
		rc = c2d_event(c2d, req->dev, "twin", "c2d.twin.deleted", NULL);
		if(rc) return rc;
	}
	body = cJSON_CreateObject();
	if(body) cJSON_AddBoolToObject(body, "deleted", existed);
	return c2d_reply_json(c2d, req, C2D_ST_OK, body);
}

/* out/res/t{version}: 2xx acknowledges that desired version. */
static int twin_on_response(struct c2d *c2d, const struct c2d_resp *resp)
{
	struct c2d_twin tw;
	bool exists;
	cJSON *data;
	int rc;

	rc = twin_load(c2d, resp->dev, &tw, &exists);
	if(rc) return rc;
	/* the current version answered (or an older one rejected): no re-push;
	 * an older version's 2xx leaves the newer push waiting */
	if(!exists || resp->num >= tw.version[C2D_TWIN_DESIRED] || resp->status >= 300) wait_end(c2d, resp->dev);
	if(resp->status >= 200 && resp->status < 300){
		if(exists && c2d_twin_acked(&tw, resp->num)){
			rc = twin_save(c2d, resp->dev, &tw);
			if(!rc && c2d_event_wanted(c2d, "twin")){
				rc = c2d_event(c2d, resp->dev, "twin", "c2d.twin.desired.acknowledged",
						version_data(resp->num, NULL));
			}
			if(!rc) rc = c2d_jobs_on_twin_ack(c2d, resp->dev, resp->num);
		}
	}else{
		c2d_log(C2D_LOG_INFO, "device '%s' answered twin version %llu with status %d",
				resp->dev, (unsigned long long)resp->num, resp->status);
		data = version_data(resp->num, NULL);
		if(data) cJSON_AddNumberToObject(data, "status", resp->status);
		rc = c2d_event(c2d, resp->dev, "twin", "c2d.twin.desired.rejected", data);
	}
	c2d_twin_free(&tw);
	return rc;
}

/* One delivery of everything the device has not acknowledged. What was
 * sent is noted in the twin's sent mark (a few bytes), not by rewriting
 * the twin: the document itself did not change. */
static int catch_up(struct c2d *c2d, const char *dev)
{
	struct c2d_twin tw;
	bool exists;
	uint64_t sent;
	int rc;

	rc = twin_load(c2d, dev, &tw, &exists);
	if(rc || !exists){
		if(!rc) c2d_twin_free(&tw);
		return rc;
	}
	sent = tw.sent;
	rc = twin_push(c2d, dev, &tw);
	if(!rc && tw.sent != sent){
		rc = c2d_txn(c2d);
		if(!rc) rc = c2d_store_twin_sent_put(c2d->store, dev, tw.sent);
	}
	c2d_twin_free(&tw);
	return rc;
}

/* A device came online: catch up, alone (a failure leaves nothing half done
 * in the shared transaction). */
static void twin_on_online(struct c2d *c2d, const char *dev)
{
	size_t mark;
	int rc;

	rc = c2d_item_begin(c2d, &mark);
	if(!rc) rc = catch_up(c2d, dev);
	rc = c2d_item_end(c2d, mark, rc);
	if(rc) c2d_log(C2D_LOG_WARN, "twin catch-up for '%s' failed (%d); retried at its next connect", dev, rc);
}

static void twin_on_offline(struct c2d *c2d, const char *dev)
{
	wait_end(c2d, dev);
}

/* Pushes unanswered for ack_timeout while the device stayed online go
 * again, each in a nested transaction: a twin record that cannot be read
 * is reported (quarantined, the record left as it is) and not retried; a
 * store-wide failure retries after another ack_timeout. */
static void twin_on_tick(struct c2d *c2d)
{
	struct c2d_twin_waits *tws = c2d->twin_waits;
	struct twin_wait *w;
	char dev[C2D_DEV_MAX + 1];
	size_t mark;
	int n, rc;

	for(n = 0; tws && tws->list && tws->list->due_ms <= c2d->now_ms && n < REPUSH_BUDGET; n++){
		w = tws->list;
		snprintf(dev, sizeof(dev), "%s", w->dev);
		wait_free(tws, w); /* a push made now waits again */
		if(!c2d_presence_online(c2d, dev)) continue;
		c2d_log(C2D_LOG_DEBUG, "twin push to '%s' unanswered for %u s: pushing again", dev,
				(unsigned)c2d->conf.ack_timeout_s);
		rc = c2d_item_begin(c2d, &mark);
		if(!rc) rc = catch_up(c2d, dev);
		rc = c2d_item_end(c2d, mark, rc);
		if(rc && c2d_transient(c2d, rc)){
			wait_start(c2d, dev);
		}else if(rc){
			c2d_quarantined(c2d, dev, "twin", NULL, rc, false);
		}
	}
}

static int twin_init(struct c2d *c2d)
{
	c2d->twin_waits = calloc(1, sizeof(*c2d->twin_waits));
	return c2d->twin_waits ? 0 : C2D_ENOMEM;
}

static void twin_cleanup(struct c2d *c2d)
{
	struct c2d_twin_waits *tws = c2d->twin_waits;
	struct twin_wait *w, *tmp;

	if(tws == NULL) return;
	HASH_ITER(hh, tws->by_dev, w, tmp){
		wait_free(tws, w);
	}
	free(tws);
	c2d->twin_waits = NULL;
}

const struct c2d_plane c2d_twin_plane = {
	.letter = C2D_TWIN_LETTER,
	.name = "twin",
	.group_commit = true,
	.on_response = twin_on_response,
	.on_online = twin_on_online,
	.on_offline = twin_on_offline,
	.on_tick = twin_on_tick,
	.init = twin_init,
	.cleanup = twin_cleanup,
};
