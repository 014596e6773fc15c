/* libc2d-device: deliveries on $c2d/{dev}/in/{kind}/{id} to the handlers,
 * and their answers on $c2d/{dev}/out/res/{id}/{status}.
 *
 * Kinds: twin/t{version} (desired pushes), msg/q{n} (messages),
 * rpc/{method}/{q|l}{n} (persistent / lightweight RPC), reply/{rid}/{status}
 * (answers to the device's calls, calls.c). A delivery whose id and payload
 * match a remembered answer (ring.c) is answered again without running the
 * handler. Lightweight ids (l{n}) are never remembered: the platform never
 * delivers them twice, and it numbers them afresh after a restart. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum kind { K_TWIN, K_MSG, K_RPC };

int inbox_answer(struct c2d_device *d, const char *id, int status, const void *bytes, size_t len)
{
	char suffix[NAME_MAX_LEN + 32];

	snprintf(suffix, sizeof(suffix), "out/res/%s/%d", id, status);
	return dev_publish(d, suffix, bytes, len);
}

static int valid_status(int status)
{
	return status >= 100 && status <= 599 ? status : 500;
}

/* A desired push {"version":N,"desired":{...},"full":bool}: payload borrowed. */
static int run_desired(struct c2d_device *d, const char *payload)
{
	cJSON *o = cJSON_Parse(payload), *v, *des, *full;
	char *patch;
	int status = 400;

	v = cJSON_GetObjectItemCaseSensitive(o, "version");
	des = cJSON_GetObjectItemCaseSensitive(o, "desired");
	full = cJSON_GetObjectItemCaseSensitive(o, "full");
	if(cJSON_IsNumber(v) && cJSON_IsObject(des)){
		patch = cJSON_PrintUnformatted(des);
		status = 500;
		if(patch){
			status = valid_status(d->desired_fn(d, (long long)v->valuedouble, patch, cJSON_IsTrue(full),
					d->desired_ud));
			if(status >= 200 && status <= 299) d->desired_version = (long long)v->valuedouble;
			free(patch);
		}
	}
	cJSON_Delete(o);
	return status;
}

static struct handler *find_handler(struct c2d_device *d, const char *method)
{
	struct handler *h, *def = NULL;

	for(h = d->handlers; h; h = h->next){
		if(h->method == NULL){
			def = h;
		}else if(strcmp(h->method, method) == 0){
			return h;
		}
	}
	return def;
}

/* Runs the handler of one delivery. method: RPC only; payload: len bytes
 * plus a NUL; res: filled by RPC handlers. Returns the status. */
static int run(struct c2d_device *d, enum kind k, const char *method, const char *payload, size_t len,
		struct c2d_result *res)
{
	struct handler *h;

	switch(k){
		case K_TWIN:
			return d->desired_fn ? run_desired(d, payload) : C2D_STATUS_NOT_IMPLEMENTED;
		case K_MSG:
			if(d->msg_fn == NULL) return C2D_STATUS_NOT_IMPLEMENTED;
			return valid_status(d->msg_fn(d, res->id, payload, len, d->msg_ud));
		case K_RPC:
			h = find_handler(d, method);
			if(h == NULL) return C2D_STATUS_NOT_IMPLEMENTED;
			return valid_status(h->fn(d, method, payload, len, res, h->ud));
	}
	return 500;
}

static void deliver(struct c2d_device *d, enum kind k, const char *method, const char *id, const char *payload,
		size_t len)
{
	struct c2d_result res = {.id = id};
	uint64_t hash = ring_hash(payload, len);
	bool remember = id[0] != 'l';
	struct answer *a = ring_find(&d->ring, id, hash, len);
	int status, rc;

	if(a){ /* a redelivery: the same answer again, the handler does not run */
		inbox_answer(d, id, a->status, a->bytes, a->len);
		return;
	}
	status = run(d, k, method, payload, len, &res);
	if(res.nomem){
		status = 500;
		free(res.bytes);
		res.bytes = NULL;
		res.len = 0;
	}
	if(status == 202 && k == K_RPC){
		free(res.bytes);
		if(ring_accept(&d->ring, id, hash, len) == NULL) status = 500;
		inbox_answer(d, id, status, NULL, 0);
		return;
	}
	rc = inbox_answer(d, id, status, res.bytes, res.len);
	if(!remember){
		free(res.bytes);
		return;
	}
	a = ring_add(&d->ring, id, hash, len, status, res.bytes, res.len);
	if(a && rc != 0) a->unsent = true;
}

void inbox_message(struct c2d_device *d, const struct mosquitto_message *m)
{
	size_t plen = strlen(d->in_prefix);
	const char *rest, *payload = m->payload ? m->payload : "";
	size_t len = m->payload ? (size_t)m->payloadlen : 0;
	char method[NAME_MAX_LEN + 1];
	const char *id, *slash;
	enum kind k;

	if(strncmp(m->topic, d->in_prefix, plen) != 0) return;
	rest = m->topic + plen;
	if(strncmp(rest, "reply/", 6) == 0){
		calls_reply(d, rest + 6, payload, len);
		return;
	}
	method[0] = '\0';
	if(strncmp(rest, "twin/", 5) == 0){
		k = K_TWIN;
		id = rest + 5;
	}else if(strncmp(rest, "msg/", 4) == 0){
		k = K_MSG;
		id = rest + 4;
	}else if(strncmp(rest, "rpc/", 4) == 0){
		k = K_RPC;
		slash = strchr(rest + 4, '/');
		if(slash == NULL || (size_t)(slash - (rest + 4)) > NAME_MAX_LEN) return;
		memcpy(method, rest + 4, (size_t)(slash - (rest + 4)));
		method[slash - (rest + 4)] = '\0';
		id = slash + 1;
		if(!dev_valid_level(method)) return;
	}else{
		return; /* not a delivery (e.g. a reply topic the application chose) */
	}
	if(!dev_valid_level(id)) return;
	deliver(d, k, method, id, payload, len);
}

/* ---- the public side ---- */

C2D_API void c2d_result_set(struct c2d_result *res, const void *bytes, size_t len)
{
	void *copy = NULL;

	if(len > 0){
		copy = malloc(len);
		if(copy == NULL){
			res->nomem = true;
			return;
		}
		memcpy(copy, bytes, len);
	}
	free(res->bytes);
	res->bytes = copy;
	res->len = len;
	res->nomem = false;
}

C2D_API const char *c2d_result_id(const struct c2d_result *res)
{
	return res->id;
}

C2D_API int c2d_device_result(struct c2d_device *d, const char *id, int status, const void *bytes, size_t len)
{
	struct answer *a, *kept;
	void *copy = NULL;
	int rc;

	if(!dev_valid_level(id) || status < 100 || status > 599 || status == 202 || (len && bytes == NULL)){
		return C2D_DEVICE_EINVAL;
	}
	if(len){
		copy = malloc(len);
		if(copy == NULL) return C2D_DEVICE_ENOMEM;
		memcpy(copy, bytes, len);
	}
	a = ring_take_accepted(&d->ring, id);
	if(a == NULL){
		free(copy);
		return C2D_DEVICE_ENOTFOUND;
	}
	rc = inbox_answer(d, id, status, copy, len);
	if(id[0] == 'l'){ /* a lightweight call does not outlive the connection */
		free(copy);
	}else{
		kept = ring_add(&d->ring, id, a->hash, a->plen, status, copy, len);
		if(kept && rc != 0) kept->unsent = true;
	}
	answer_free(a);
	return 0;
}

C2D_API int c2d_device_on_rpc(struct c2d_device *d, const char *method, c2d_rpc_fn fn, void *ud)
{
	struct handler **p, *h;

	if(method && !dev_valid_level(method)) return C2D_DEVICE_EINVAL;
	for(p = &d->handlers; *p; p = &(*p)->next){
		h = *p;
		if((method == NULL && h->method == NULL) || (method && h->method && strcmp(method, h->method) == 0)){
			if(fn == NULL){
				*p = h->next;
				free(h->method);
				free(h);
			}else{
				h->fn = fn;
				h->ud = ud;
			}
			return 0;
		}
	}
	if(fn == NULL) return 0;
	h = calloc(1, sizeof(*h));
	if(h == NULL || (method && (h->method = strdup(method)) == NULL)){
		free(h);
		return C2D_DEVICE_ENOMEM;
	}
	h->fn = fn;
	h->ud = ud;
	h->next = d->handlers;
	d->handlers = h;
	return 0;
}

C2D_API int c2d_device_on_message(struct c2d_device *d, c2d_msg_fn fn, void *ud)
{
	d->msg_fn = fn;
	d->msg_ud = ud;
	return 0;
}

C2D_API int c2d_device_on_desired(struct c2d_device *d, c2d_desired_fn fn, void *ud)
{
	d->desired_fn = fn;
	d->desired_ud = ud;
	return 0;
}

C2D_API long long c2d_device_desired_version(const struct c2d_device *d)
{
	return d->desired_version;
}
