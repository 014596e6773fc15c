/* HTTP requests: results, JSON errors, finishing a waiting request. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "http.h"

static void clear_result(struct hreq *r)
{
	free(r->resp);
	free(r->resp_type);
	r->resp = NULL;
	r->resp_type = NULL;
	r->resp_len = 0;
}

void req_result(struct hreq *r, int status, const void *body, size_t len, const char *type)
{
	clear_result(r);
	r->status = status;
	r->resp_type = type ? strdup(type) : NULL;
	if(len){
		r->resp = malloc(len);
		if(r->resp == NULL){
			r->status = 500;
			return;
		}
		memcpy(r->resp, body, len);
		r->resp_len = len;
	}
}

void req_json(struct hreq *r, int status, cJSON *doc)
{
	char *text = doc ? cJSON_PrintUnformatted(doc) : NULL;

	cJSON_Delete(doc);
	if(text == NULL){
		req_result(r, 500, "{\"status\":500,\"error\":\"out of memory\"}", 38, "application/json");
		return;
	}
	req_result(r, status, text, strlen(text), "application/json");
	cJSON_free(text);
}

void req_error(struct hreq *r, int status, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	cJSON *doc = cJSON_CreateObject();

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	cJSON_AddNumberToObject(doc, "status", status);
	cJSON_AddStringToObject(doc, "error", msg);
	req_json(r, status, doc);
	/* A script that signs in itself (the dashboard) says so with
	 * X-Requested-With: it gets the 401 without the challenge, so the
	 * browser shows no login dialog of its own. */
	if(status == 401 && !MHD_lookup_connection_value(r->mc, MHD_HEADER_KIND, "X-Requested-With")){
		req_header(r, "WWW-Authenticate", "Basic realm=\"mosquitto-c2d\"");
	}
	hlog(true, "%s %s -> %d %s", r->method, r->url, status, msg);
}

void req_header(struct hreq *r, const char *name, const char *value)
{
	if(r->nheaders >= HTTP_MAX_HEADERS) return;
	r->headers[r->nheaders].name = strdup(name);
	r->headers[r->nheaders].value = strdup(value);
	r->nheaders++;
}

/* Unlinks r from the list at *head (if it is there). */
static void unlink_from(struct hreq **head, struct hreq *r)
{
	struct hreq **p;

	for(p = head; *p; p = &(*p)->wnext){
		if(*p == r){
			*p = r->wnext;
			r->wnext = NULL;
			return;
		}
	}
}

void req_finish(struct hreq *r)
{
	struct hconn *c = r->conn;

	if(r->done) return;
	r->done = true;
	if(c){
		if(r->in_wait){
			unlink_from(&c->waiting, r);
			unlink_from(&c->pending, r);
			unlink_from(&c->polls, r);
			r->in_wait = false;
		}
		if(r->kind == HR_POLL){
			g.npolls--;
		}
		r->conn = NULL;
		pool_release(c);
	}
	if(r->suspended && !r->resume_queued){
		r->resume_queued = true;
		r->rnext = g.resume;
		g.resume = r;
		pool_wake();
	}
}

void req_free(struct hreq *r)
{
	int i;

	if(r == NULL) return;
	if(!r->done) req_finish(r);
	if(r->sse) sse_req_gone(r);
	free(r->method);
	free(r->url);
	free(r->body);
	free(r->user);
	free(r->pass);
	free(r->pub_topic);
	free(r->pub_payload);
	mosquitto_property_free_all(&r->pub_props);
	free(r->topic);
	free(r->dev);
	free(r->arg);
	free(r->resp);
	free(r->resp_type);
	for(i = 0; i < r->nheaders; i++){
		free(r->headers[i].name);
		free(r->headers[i].value);
	}
	free(r);
}

const char *req_query(struct hreq *r, const char *name)
{
	return MHD_lookup_connection_value(r->mc, MHD_GET_ARGUMENT_KIND, name);
}

int req_query_int(struct hreq *r, const char *name, long min, long max, long def, long *out)
{
	const char *v = req_query(r, name);
	char *end;
	long n;

	if(v == NULL){
		*out = def;
		return 0;
	}
	errno = 0;
	n = strtol(v, &end, 10);
	if(errno || end == v || *end || n < min || n > max){
		req_error(r, 400, "query %s must be an integer in %ld..%ld", name, min, max);
		return -1;
	}
	*out = n;
	return 0;
}

enum MHD_Result req_send(struct hreq *r)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	int i, cls;

	resp = MHD_create_response_from_buffer(r->resp_len, r->resp ? r->resp : (void *)"", MHD_RESPMEM_MUST_COPY);
	if(resp == NULL) return MHD_NO;
	if(r->resp_type && r->resp_len) MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->resp_type);
	for(i = 0; i < r->nheaders; i++){
		MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
	}
	if(r->status == 0) r->status = 500;
	cls = r->status / 100;
	if(cls >= 1 && cls <= 5) g.http_class[cls]++;
	ret = MHD_queue_response(r->mc, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	if(g.opt.verbose) hlog(true, "%s %s -> %d", r->method, r->url, r->status);
	return ret;
}
