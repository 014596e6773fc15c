/* ThingsBoard-compatible RPC: POST /api/plugins/rpc/{oneway|twoway}/{dev}
 * with {"method","params","timeout","persistent","retries","expirationTime"},
 * mapped onto the plugin's RPC exactly like POST /api/v1/devices/{dev}/rpc. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "http.h"
#include "route.h"

/* The number item name of doc as decimal text into buf, or NULL if absent.
 * Sets *bad if it is there but not a whole number. */
static const char *num(const cJSON *doc, const char *name, char *buf, size_t n, bool *bad)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, name);

	if(v == NULL || cJSON_IsNull(v)) return NULL;
	if(!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || fabs(v->valuedouble) > 1e15){
		*bad = true;
		return NULL;
	}
	snprintf(buf, n, "%.0f", v->valuedouble);
	return buf;
}

bool tb_route(struct hreq *r, char **seg, int n)
{
	cJSON *doc;
	const cJSON *method, *params, *pers;
	char tbuf[32], rbuf[32], ebuf[32], lbuf[32], *ptext = NULL;
	const char *timeout, *retries, *exp, *ttl = NULL;
	bool bad = false, oneway, ok;
	struct timespec now;

	if(n != 5 || strcmp(seg[0], "api") != 0 || strcmp(seg[1], "plugins") != 0 || strcmp(seg[2], "rpc") != 0) return false;
	oneway = strcmp(seg[3], "oneway") == 0;
	if(!oneway && strcmp(seg[3], "twoway") != 0) return false;
	if(!route_method(r, "POST")) return true;
	doc = cJSON_ParseWithLength(r->body, r->body_len);
	method = cJSON_GetObjectItemCaseSensitive(doc, "method");
	if(!cJSON_IsObject(doc) || !cJSON_IsString(method)){
		cJSON_Delete(doc);
		req_error(r, 400, "the body is {\"method\":\"...\",\"params\":...} (malformed JSON or no method)");
		return true;
	}
	timeout = num(doc, "timeout", tbuf, sizeof(tbuf), &bad);
	retries = num(doc, "retries", rbuf, sizeof(rbuf), &bad);
	exp = num(doc, "expirationTime", ebuf, sizeof(ebuf), &bad);
	pers = cJSON_GetObjectItemCaseSensitive(doc, "persistent");
	if(bad || (pers && !cJSON_IsBool(pers))){
		cJSON_Delete(doc);
		req_error(r, 400, "timeout, retries, expirationTime are whole numbers, persistent true or false");
		return true;
	}
	if(exp){
		/* expirationTime is epoch ms: the remaining lifetime in whole seconds */
		long long left;
		clock_gettime(CLOCK_REALTIME, &now);
		left = (atoll(exp) - ((long long)now.tv_sec * 1000 + now.tv_nsec / 1000000) + 999) / 1000;
		if(left <= 0){
			cJSON_Delete(doc);
			req_error(r, 400, "expirationTime is in the past");
			return true;
		}
		snprintf(lbuf, sizeof(lbuf), "%lld", left);
		ttl = lbuf;
	}
	params = cJSON_GetObjectItemCaseSensitive(doc, "params");
	if(params) ptext = cJSON_PrintUnformatted(params);
	r->flag = true;
	ok = app_rpc(r, seg[4], method->valuestring, timeout, cJSON_IsTrue(pers) ? "true" : NULL, retries, ttl, ptext,
			ptext ? (int)strlen(ptext) : 0, oneway && !cJSON_IsTrue(pers));
	cJSON_free(ptext);
	cJSON_Delete(doc);
	return ok;
}
