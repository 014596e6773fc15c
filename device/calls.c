/* libc2d-device: calls from the device to the platform,
 * $c2d/{dev}/out/call/{method}/{rid}, answered on
 * $c2d/{dev}/in/reply/{rid}/{status}. Each call's callback runs exactly once:
 * with the reply, 504 at its deadline, or 503 when the connection dropped
 * after it was sent (the reply would go to the old connection). rids are
 * "r{process tag}-{n}", so a late reply meant for another process is not
 * taken for one of ours. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define DEFAULT_TIMEOUT_MS 10000
#define MAX_TIMEOUT_MS 3600000

static const char TIMEOUT_BODY[] = "{\"error\":\"no reply in time\"}";
static const char LOST_BODY[] = "{\"error\":\"connection lost\"}";

static void call_free(struct call *c)
{
	free(c->method);
	free(c->params);
	free(c);
}

static int send_call(struct c2d_device *d, struct call *c)
{
	char suffix[2 * NAME_MAX_LEN + 32];
	int rc;

	snprintf(suffix, sizeof(suffix), "out/call/%s/%s", c->method, c->rid);
	rc = dev_publish(d, suffix, c->params, c->params ? strlen(c->params) : 0);
	if(rc == 0) c->sent = true;
	return rc;
}

/* Unlinks c from the list and runs its callback (which may make new calls),
 * then frees it. */
static void finish(struct c2d_device *d, struct call *c, int status, const void *body, size_t len)
{
	struct call **p;

	for(p = &d->calls; *p; p = &(*p)->next){
		if(*p == c){
			*p = c->next;
			break;
		}
	}
	c->fn(d, status, body, len, c->ud);
	call_free(c);
}

C2D_API int c2d_device_call(struct c2d_device *d, const char *method, const char *params_json, int timeout_ms,
		c2d_call_fn fn, void *ud)
{
	struct call *c, **p;
	cJSON *check;

	if(!dev_valid_level(method) || fn == NULL || timeout_ms < 0 || timeout_ms > MAX_TIMEOUT_MS){
		return C2D_DEVICE_EINVAL;
	}
	if(params_json){
		check = cJSON_Parse(params_json);
		if(check == NULL) return C2D_DEVICE_EINVAL;
		cJSON_Delete(check);
	}
	c = calloc(1, sizeof(*c));
	if(c == NULL) return C2D_DEVICE_ENOMEM;
	c->method = strdup(method);
	c->params = dev_strdup(params_json);
	if(c->method == NULL || (params_json && c->params == NULL)){
		call_free(c);
		return C2D_DEVICE_ENOMEM;
	}
	snprintf(c->rid, sizeof(c->rid), "r%s-%llu", d->call_tag, ++d->call_seq);
	c->deadline = dev_now_ms() + (uint64_t)(timeout_ms ? timeout_ms : DEFAULT_TIMEOUT_MS);
	c->fn = fn;
	c->ud = ud;
	for(p = &d->calls; *p; p = &(*p)->next){
	}
	*p = c; /* in call order, so calls made offline go out in order */
	if(dev_online(d)) send_call(d, c);
	return 0;
}

void calls_flush(struct c2d_device *d)
{
	struct call *c;

	for(c = d->calls; c; c = c->next){
		if(!c->sent) send_call(d, c);
	}
}

void calls_reply(struct c2d_device *d, const char *rest, const void *payload, size_t len)
{
	const char *slash = strchr(rest, '/');
	struct call *c;
	size_t n;

	if(slash == NULL) return;
	n = (size_t)(slash - rest);
	for(c = d->calls; c; c = c->next){
		if(c->sent && strlen(c->rid) == n && memcmp(c->rid, rest, n) == 0){
			finish(d, c, atoi(slash + 1), payload, len);
			return;
		}
	}
}

void calls_expire(struct c2d_device *d, uint64_t now)
{
	struct call *c;

again:
	for(c = d->calls; c; c = c->next){
		if(c->deadline <= now){
			finish(d, c, C2D_STATUS_TIMEOUT, TIMEOUT_BODY, sizeof(TIMEOUT_BODY) - 1);
			goto again; /* the callback may have changed the list */
		}
	}
}

uint64_t calls_next_deadline(const struct c2d_device *d)
{
	const struct call *c;
	uint64_t min = UINT64_MAX;

	for(c = d->calls; c; c = c->next){
		if(c->deadline < min) min = c->deadline;
	}
	return min;
}

void calls_lost(struct c2d_device *d, bool all)
{
	struct call *c;

again:
	for(c = d->calls; c; c = c->next){
		if(c->sent || all){
			finish(d, c, C2D_STATUS_CONNECTION_LOST, LOST_BODY, sizeof(LOST_BODY) - 1);
			goto again;
		}
	}
}

void calls_free(struct c2d_device *d)
{
	struct call *c, *next;

	for(c = d->calls; c; c = next){
		next = c->next;
		call_free(c);
	}
	d->calls = NULL;
}
