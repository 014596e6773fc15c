/* Commands of a device's queue over HTTP (admin listCommands and
 * cancelCommand on $CONTROL/c2d/v1), and the admin helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "http.h"
#include "route.h"

#define PAGE 1000

bool admin_call(struct hreq *r, const char *user, const char *pass, cJSON *cmd, hreq_reply_fn fn)
{
	cJSON *doc = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(doc, "commands");
	char *text;
	bool ok;

	if(arr == NULL || cmd == NULL){
		cJSON_Delete(cmd);
		cJSON_Delete(doc);
		req_error(r, 500, "out of memory");
		return true;
	}
	cJSON_AddItemToArray(arr, cmd);
	text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	if(text == NULL){
		req_error(r, 500, "out of memory");
		return true;
	}
	ok = app_call_as(r, user, pass, "$CONTROL/c2d/v1", text, (int)strlen(text), NULL, true, g.opt.request_timeout, fn);
	cJSON_free(text);
	return ok;
}

/* HTTP status of an admin error text. */
static int admin_error_status(const char *err)
{
	if(strncmp(err, "no such", 7) == 0) return 404;
	if(strncmp(err, "store unavailable", 17) == 0) return 503;
	if(strcmp(err, "queue full") == 0) return 429;
	if(strstr(err, "still live") || strstr(err, "can be retried")) return 409;
	return 400;
}

cJSON *admin_data(struct hreq *r, int status, const struct hmsg *m, cJSON **doc)
{
	const cJSON *resp, *err, *data;

	*doc = NULL;
	if(m == NULL || status != 200){
		if(m) req_result(r, status, m->payload, (size_t)m->len, "application/json");
		else req_error(r, 502, "no admin reply");
		return NULL;
	}
	*doc = cJSON_ParseWithLength(m->payload, (size_t)m->len);
	resp = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(*doc, "responses"), 0);
	err = cJSON_GetObjectItemCaseSensitive(resp, "error");
	data = cJSON_GetObjectItemCaseSensitive(resp, "data");
	if(cJSON_IsString(err)){
		req_error(r, admin_error_status(err->valuestring), "%s", err->valuestring);
		return NULL;
	}
	if(!cJSON_IsObject(data)){
		req_error(r, 502, "unexpected admin reply");
		return NULL;
	}
	return (cJSON *)data;
}

/* Answers with the first admin response's data (200) or its error. */
static void data_reply(struct hreq *r, int status, const struct hmsg *m)
{
	cJSON *doc, *data = admin_data(r, status, m, &doc);

	if(data){
		cJSON_DetachItemViaPointer(cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "responses"), 0), data);
		req_json(r, 200, data);
	}
	cJSON_Delete(doc);
	req_finish(r);
}

static cJSON *command(const char *name, const char *dev)
{
	cJSON *cmd = cJSON_CreateObject();

	cJSON_AddStringToObject(cmd, "command", name);
	cJSON_AddStringToObject(cmd, "device", dev);
	return cmd;
}

static bool do_list(struct hreq *r, const char *dev)
{
	const char *after = req_query(r, "after"), *hist = req_query(r, "history");
	long count;
	cJSON *cmd;

	if(!route_method(r, "GET")) return true;
	if(req_query_int(r, "count", 1, PAGE, 100, &count)) return true;
	if(hist && strcmp(hist, "true") != 0 && strcmp(hist, "false") != 0){
		req_error(r, 400, "query history must be true or false");
		return true;
	}
	cmd = command("listCommands", dev);
	cJSON_AddNumberToObject(cmd, "count", (double)count);
	if(after) cJSON_AddStringToObject(cmd, "after", after);
	if(hist) cJSON_AddBoolToObject(cmd, "history", strcmp(hist, "true") == 0);
	return admin_call(r, r->user, r->pass, cmd, data_reply);
}

static void find_reply(struct hreq *r, int status, const struct hmsg *m);

/* One page of listCommands (live then history) after `after` (NULL: first). */
static bool find_page(struct hreq *r, const char *after)
{
	cJSON *cmd = command("listCommands", r->dev);

	cJSON_AddNumberToObject(cmd, "count", PAGE);
	cJSON_AddBoolToObject(cmd, "history", true);
	if(after) cJSON_AddStringToObject(cmd, "after", after);
	return admin_call(r, r->user, r->pass, cmd, find_reply);
}

/* Looks for r->arg in a page; asks for the next page if there is one. */
static void find_reply(struct hreq *r, int status, const struct hmsg *m)
{
	cJSON *doc, *data = admin_data(r, status, m, &doc), *it, *next;

	if(data == NULL){
		cJSON_Delete(doc);
		req_finish(r);
		return;
	}
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(data, "commands")){
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
		if(cJSON_IsString(id) && strcmp(id->valuestring, r->arg) == 0){
			cJSON_DetachItemViaPointer(cJSON_GetObjectItemCaseSensitive(data, "commands"), it);
			req_json(r, 200, it);
			cJSON_Delete(doc);
			req_finish(r);
			return;
		}
	}
	next = cJSON_GetObjectItemCaseSensitive(data, "next");
	if(!cJSON_IsString(next) || ++r->ival > 20){
		req_error(r, 404, "no such command: %s", r->arg);
		cJSON_Delete(doc);
		req_finish(r);
		return;
	}
	/* the next page, on the same connection */
	find_page(r, next->valuestring);
	cJSON_Delete(doc);
}

static bool do_one(struct hreq *r, const char *dev, const char *id)
{
	cJSON *cmd;

	if(id[0] != 'q' || strspn(id + 1, "0123456789") != strlen(id + 1) || id[1] == '\0'){
		req_error(r, 400, "a command id is q<number>, not '%.32s'", id);
		return true;
	}
	free(r->dev);
	free(r->arg);
	r->dev = strdup(dev);
	r->arg = strdup(id);
	if(strcmp(r->method, "DELETE") == 0){
		cmd = command("cancelCommand", dev);
		cJSON_AddStringToObject(cmd, "id", id);
		return admin_call(r, r->user, r->pass, cmd, data_reply);
	}
	if(!route_method(r, "GET, DELETE")) return true;
	return find_page(r, NULL);
}

bool commands_route(struct hreq *r, char **seg, int n)
{
	if(n < 5 || strcmp(seg[4], "commands") != 0) return false;
	if(!dev_id_ok(seg[3])) return route_bad_device(r, seg[3]);
	if(n == 5) return do_list(r, seg[3]);
	if(n == 6) return do_one(r, seg[3], seg[5]);
	return false;
}
