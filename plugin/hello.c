/* Device hello: $c2d/{dev}/out/hello from the device itself (protocol-v2
 * section 1). Publishing anything confirms the device's presence at once
 * (route.c does that for every publish); hello is the publish meant for it,
 * which the device library sends on every connect, and the way a device that
 * the plugin could not see at CONNECT (use_identity_as_username) announces
 * itself. Its payload, empty or a JSON object, is merged (RFC 7396) into the
 * device's `info` (firmware, model, capabilities ...), stored in LMDB and
 * shown by getDevice and the full twin. Every hello emits
 * c2d.device.hello with the info as it now is. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c2d.h"
#include "c2d_hello.h"
#include "c2d_jobs.h"
#include "c2d_json.h"
#include "c2d_mpatch.h"

cJSON *c2d_hello_info(struct c2d *c2d, const char *dev, int *rc)
{
	char *text = NULL;
	size_t len = 0;
	cJSON *info;
	bool nomem;
	char why[96];

	*rc = c2d_store_info_get(c2d->store, dev, &text, &len);
	if(*rc == C2D_ENOTFOUND){
		*rc = 0;
		return NULL;
	}
	if(*rc) return NULL;
	info = c2d_json_parse(text, len, &nomem, why, sizeof(why));
	free(text);
	if(info == NULL) *rc = nomem ? C2D_ENOMEM : C2D_ESTORE;
	return info;
}

/* The stored info merged with patch (borrowed, an object). Returns the new
 * info (caller owns) or NULL with *rc, or with *status and why (limits). */
static cJSON *merged_info(struct c2d *c2d, const char *dev, const cJSON *patch, int *rc, int *status,
		char *why, size_t whylen)
{
	cJSON *old, *info;
	char *text;
	size_t len;

	old = c2d_hello_info(c2d, dev, rc);
	if(*rc) return NULL;
	info = c2d_mpatch_apply(old ? old : NULL, patch);
	cJSON_Delete(old);
	if(info == NULL || (text = cJSON_PrintUnformatted(info)) == NULL){
		cJSON_Delete(info);
		*rc = C2D_ENOMEM;
		return NULL;
	}
	len = strlen(text);
	cJSON_free(text);
	if(len > c2d->conf.twin_max_bytes || c2d_json_depth(info) > (int)c2d->conf.twin_max_depth){
		cJSON_Delete(info);
		*status = len > c2d->conf.twin_max_bytes ? C2D_ST_TOO_LARGE : C2D_ST_BAD_REQUEST;
		snprintf(why, whylen, "info is over plugin_opt_twin_max_%s", len > c2d->conf.twin_max_bytes ? "bytes" : "depth");
		return NULL;
	}
	return info;
}

int c2d_hello_on_publish(struct c2d *c2d, struct c2d_req *req)
{
	cJSON *patch = NULL, *info = NULL, *data;
	char why[96], *text;
	int rc = 0, status = 0;
	bool nomem;

	if(req->payloadlen){
		if(req->payloadlen > 2 * (size_t)c2d->conf.twin_max_bytes){
			return c2d_reply_error(c2d, req, C2D_ST_TOO_LARGE, "hello is over twice plugin_opt_twin_max_bytes");
		}
		patch = c2d_json_parse(req->payload, req->payloadlen, &nomem, why, sizeof(why));
		if(patch == NULL) return nomem ? C2D_ENOMEM : c2d_reply_error(c2d, req, C2D_ST_BAD_REQUEST, why);
		if(!cJSON_IsObject(patch)){
			cJSON_Delete(patch);
			return c2d_reply_error(c2d, req, C2D_ST_BAD_REQUEST, "hello must be empty or a JSON object");
		}
		info = merged_info(c2d, req->dev, patch, &rc, &status, why, sizeof(why));
		cJSON_Delete(patch);
		if(status) return c2d_reply_error(c2d, req, status, why);
		if(rc) return rc;
		text = cJSON_PrintUnformatted(info);
		rc = text ? c2d_txn(c2d) : C2D_ENOMEM;
		if(!rc) rc = c2d_store_info_put(c2d->store, req->dev, text, strlen(text));
		cJSON_free(text);
	}else{
		info = c2d_hello_info(c2d, req->dev, &rc);
	}
	if(!rc) rc = c2d_txn(c2d);
	if(!rc) rc = c2d_store_dev_ensure(c2d->store, req->dev, c2d->wall_ms); /* a known device from now on */
	if(!rc) rc = c2d_jobs_on_device_change(c2d, req->dev); /* continuous jobs (jobcont.c) */
	if(rc){
		cJSON_Delete(info);
		return rc;
	}
	data = cJSON_CreateObject();
	if(data){
		cJSON_AddNumberToObject(data, "protocolVersion", req->protocol_version);
		cJSON_AddItemToObject(data, "info", info ? info : cJSON_CreateObject());
	}else{
		cJSON_Delete(info);
	}
	rc = c2d_event(c2d, req->dev, "device", "c2d.device.hello", data);
	if(!rc) rc = c2d_reply_json(c2d, req, C2D_ST_OK, NULL);
	return rc;
}
