/* The delivery core shared by twins, messages and RPC.
 *
 * A delivery is a QoS 1 publish addressed to the device's client id (no
 * subscription needed, READ ACLs bypassed) on $c2d/{dev}/in/{path}/{id}. The
 * id is the owning plane's letter and a decimal number ("t7", "q42"); v5
 * devices also get it as Correlation Data with Response Topic
 * $c2d/{dev}/out/res/{id}, v3.1.1 devices read it from the last topic level.
 * The device answers on $c2d/{dev}/out/res/{id}[/{status}]; the status comes
 * from the topic level, else the v5 user property "status", else 200, and the
 * answer goes to the plane whose letter starts the id. A sub-device announced
 * by a gateway gets its deliveries through the gateway's client id, on its
 * own topics (c2d_presence_client). */
#include <stdlib.h>
#include <string.h>

#include "c2d.h"

/* The parts (up to a NULL) one after the other in dst, cut at cap - 1 like
 * snprintf. Every delivery builds three names: no format parsing for them. */
static void join(char *dst, size_t cap, const char *const *parts)
{
	size_t at = 0, n;

	if(cap == 0) return;
	for(; *parts; parts++){
		n = strlen(*parts);
		if(n > cap - 1 - at) n = cap - 1 - at;
		memcpy(dst + at, *parts, n);
		at += n;
	}
	dst[at] = '\0';
}

void c2d_deliver_id(char letter, uint64_t num, char *buf, size_t len)
{
	char digits[21], *d = digits + sizeof(digits);
	const char *parts[3] = {(char[2]){letter, '\0'}, NULL, NULL};

	*--d = '\0';
	do{
		*--d = (char)('0' + num % 10);
		num /= 10;
	}while(num);
	parts[1] = d;
	join(buf, len, parts);
}

int c2d_deliver_parse_id(const char *id, char *letter, uint64_t *num)
{
	uint64_t n = 0;
	const char *p;

	if(id[0] < 'a' || id[0] > 'z') return C2D_EINVAL;
	if(id[1] < '1' || id[1] > '9') return C2D_EINVAL;
	for(p = id + 1; *p; p++){
		if(*p < '0' || *p > '9') return C2D_EINVAL;
		if(n > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) return C2D_EINVAL;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	*letter = id[0];
	*num = n;
	return 0;
}

int c2d_deliver(struct c2d *c2d, const char *dev, const char *path, char letter, uint64_t num,
		const void *payload, size_t len, const char *content_type, uint32_t expiry_s)
{
	char id[24], topic[C2D_DEV_MAX + C2D_NAME_MAX + 64], resp[C2D_DEV_MAX + 64];
	mosquitto_property *props = NULL;
	int rc;

	c2d_deliver_id(letter, num, id, sizeof(id));
	join(topic, sizeof(topic), (const char *const[]){"$c2d/", dev, "/in/", path, "/", id, NULL});
	join(resp, sizeof(resp), (const char *const[]){"$c2d/", dev, "/out/res/", id, NULL});
	rc = mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, id, (uint16_t)strlen(id));
	if(!rc) rc = mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, resp);
	if(!rc && content_type) rc = mosquitto_property_add_string(&props, MQTT_PROP_CONTENT_TYPE, content_type);
	if(!rc && expiry_s) rc = mosquitto_property_add_int32(&props, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, expiry_s);
	if(rc){
		mosquitto_property_free_all(&props);
		return C2D_ENOMEM;
	}
	/* the one place deliveries pick their client: the device's own
	 * connection, else the gateway that announced it (presence.c) */
	rc = c2d_outbox_add(c2d, C2D_OUT_STORED, c2d_presence_client(c2d, dev), topic, payload, len, 1, props);
	if(rc == 0) c2d->counters[C2D_C_DELIVERIES]++;
	return rc;
}

static const struct c2d_plane *plane_of(const struct c2d *c2d, char letter, size_t *index)
{
	size_t i;

	for(i = 0; i < c2d->plane_count; i++){
		if(c2d->planes[i]->letter == letter){
			if(index) *index = i;
			return c2d->planes[i];
		}
	}
	return NULL;
}

bool c2d_deliver_group_commit(const struct c2d *c2d, const char *id)
{
	const struct c2d_plane *p = plane_of(c2d, id[0], NULL);

	return p && p->group_commit;
}

bool c2d_deliver_store_free(const struct c2d *c2d, const char *id)
{
	const struct c2d_plane *p = plane_of(c2d, id[0], NULL);

	return p && p->store_free;
}

/* Status of a response: topic level, else user property "status", else 200.
 * Returns 0 if the user property is present but not a status 100..599. */
static int response_status(const struct c2d_req *req)
{
	char buf[8], *end;
	long v;

	if(req->t.status) return req->t.status;
	if(!c2d_req_user_prop(req, "status", buf, sizeof(buf))) return C2D_ST_OK;
	v = strtol(buf, &end, 10);
	if(end == buf || *end != '\0' || v < 100 || v > 599) return 0;
	return (int)v;
}

int c2d_deliver_on_response(struct c2d *c2d, struct c2d_req *req)
{
	const struct c2d_plane *plane;
	struct c2d_resp resp;

	memset(&resp, 0, sizeof(resp));
	resp.req = req;
	resp.dev = req->dev;
	if(c2d_deliver_parse_id(req->name, &resp.plane, &resp.num)){
		c2d_log(C2D_LOG_INFO, "response from '%s' to unknown delivery id '%s' dropped", req->dev, req->name);
		return 0;
	}
	resp.status = response_status(req);
	if(resp.status == 0){
		c2d_log(C2D_LOG_INFO, "response from '%s' to '%s' has an invalid status property: dropped",
				req->dev, req->name);
		return 0;
	}
	plane = plane_of(c2d, resp.plane, NULL);
	if(plane == NULL || plane->on_response == NULL){
		c2d_log(C2D_LOG_INFO, "response from '%s' to delivery '%s': no such delivery, dropped",
				req->dev, req->name);
		return 0;
	}
	c2d->counters[C2D_C_RESPONSES]++;
	return plane->on_response(c2d, &resp);
}

void c2d_deliver_online(struct c2d *c2d, const char *dev)
{
	size_t i;

	for(i = 0; i < c2d->plane_count; i++){
		if(c2d->planes[i]->on_online) c2d->planes[i]->on_online(c2d, dev);
	}
}

void c2d_deliver_offline(struct c2d *c2d, const char *dev)
{
	size_t i;

	for(i = 0; i < c2d->plane_count; i++){
		if(c2d->planes[i]->on_offline) c2d->planes[i]->on_offline(c2d, dev);
	}
}
