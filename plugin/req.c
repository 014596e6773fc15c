/* What every request handler shares: its MQTT 5 properties, the wire
 * status of a store error, and the admission check for requests that add
 * data (the map's room). Used by the planes and route.c alike; calls none
 * of them. */
#include <string.h>

#include "c2d.h"

static const char *const uprop_keys[C2D_REQ_UPROPS] = C2D_REQ_UPROP_KEYS;

static int uprop_index(const char *key)
{
	int i;

	for(i = 0; i < C2D_REQ_UPROPS; i++){
		if(strcmp(uprop_keys[i], key) == 0) return i;
	}
	return -1;
}

/* One user property at p: kept when its name is a key handlers read and
 * that key has no value yet (the first match counts), else freed. */
static void read_uprop(struct c2d_req *req, const mosquitto_property *p)
{
	char *name = NULL, *value = NULL;
	int i;

	if(mosquitto_property_read_string_pair(p, MQTT_PROP_USER_PROPERTY, &name, &value, false) == NULL) return;
	i = uprop_index(name);
	mosquitto_free(name);
	if(i >= 0 && req->uprops[i] == NULL){
		req->uprops[i] = value;
	}else{
		mosquitto_free(value);
	}
}

void c2d_req_read_props(struct c2d_req *req)
{
	const mosquitto_property *p;

	/* mosquitto_property_read_* with skip_first false read p itself when it
	 * has the identifier asked for: one walk, each property read once */
	for(p = req->props; p; p = mosquitto_property_next(p)){
		switch(mosquitto_property_identifier(p)){
			case MQTT_PROP_RESPONSE_TOPIC:
				if(req->resp_topic == NULL) mosquitto_property_read_string(p, MQTT_PROP_RESPONSE_TOPIC, &req->resp_topic, false);
				break;
			case MQTT_PROP_CORRELATION_DATA:
				if(req->corr == NULL){
					mosquitto_property_read_binary(p, MQTT_PROP_CORRELATION_DATA, &req->corr, &req->corr_len, false);
				}
				break;
			case MQTT_PROP_CONTENT_TYPE:
				if(req->content_type == NULL){
					mosquitto_property_read_string(p, MQTT_PROP_CONTENT_TYPE, &req->content_type, false);
				}
				break;
			case MQTT_PROP_USER_PROPERTY:
				read_uprop(req, p);
				break;
			default:
				break;
		}
	}
}

void c2d_req_free_props(struct c2d_req *req)
{
	int i;

	mosquitto_free(req->resp_topic);
	mosquitto_free(req->corr);
	mosquitto_free(req->content_type);
	req->resp_topic = NULL;
	req->corr = NULL;
	req->content_type = NULL;
	for(i = 0; i < C2D_REQ_UPROPS; i++){
		mosquitto_free(req->uprops[i]);
		req->uprops[i] = NULL;
	}
}

/* A key outside C2D_REQ_UPROP_KEYS: walk the properties (copies each). */
static bool scan_user_prop(const struct c2d_req *req, const char *key, const char **found_value, char **owned)
{
	const mosquitto_property *p;
	char *name = NULL, *value = NULL;
	bool skip = false;

	for(p = req->props; p; skip = true){
		p = mosquitto_property_read_string_pair(p, MQTT_PROP_USER_PROPERTY, &name, &value, skip);
		if(p == NULL) break;
		if(strcmp(name, key) == 0){
			mosquitto_free(name);
			*found_value = *owned = value;
			return true;
		}
		mosquitto_free(name);
		mosquitto_free(value);
	}
	return false;
}

bool c2d_req_user_prop(const struct c2d_req *req, const char *key, char *buf, size_t len)
{
	const char *value = NULL;
	char *owned = NULL;
	int i = uprop_index(key);

	if(i >= 0){
		value = req->uprops[i];
	}else if(!scan_user_prop(req, key, &value, &owned)){
		return false;
	}
	if(value == NULL) return false;
	/* Too long for any valid value: "" (which no option accepts), never
	 * "absent", so that the request is refused and no default is used
	 * instead. */
	if(strlen(value) < len){
		strcpy(buf, value);
	}else if(len){
		buf[0] = '\0';
	}
	mosquitto_free(owned);
	return true;
}

int c2d_status_of(int rc)
{
	switch(rc){
		case C2D_EFULL:
		case C2D_ESTORE:
		case C2D_ETXN:
		case C2D_ESCHEMA:
			return C2D_ST_UNAVAILABLE;
		default:
			return C2D_ST_INTERNAL;
	}
}

/* The reserve: 10% of the map, at least 512 KiB. */
static uint64_t room_reserve(uint64_t map)
{
	return map / 10 < 512 * 1024 ? 512 * 1024 : map / 10;
}

bool c2d_room_low(struct c2d *c2d)
{
	uint64_t used, map;
	bool was = c2d->room_low;

	if(c2d->room_checked_ms && c2d->now_ms - c2d->room_checked_ms < 250) return c2d->room_low;
	c2d->room_checked_ms = c2d->now_ms;
	/* LMDB's high-water mark bounds the use from above: far from the limit
	 * (the common case) that settles it without walking the free list */
	if(c2d_store_usage_bound(c2d->store, &used, &map)) return c2d->room_low = false; /* the write itself will tell */
	if(used + room_reserve(map) > map && c2d_store_usage(c2d->store, &used, &map)) return c2d->room_low = false;
	c2d->room_low = used + room_reserve(map) > map;
	if(c2d->room_low && !was){
		c2d_log(C2D_LOG_ERR, "LMDB map nearly full (%llu of %llu KiB used): new commands and twin changes get 503 "
				"until space is freed; raise plugin_opt_map_size", (unsigned long long)used / 1024,
				(unsigned long long)map / 1024);
	}else if(was && !c2d->room_low){
		c2d_log(C2D_LOG_NOTICE, "LMDB map has room again (%llu of %llu KiB used)", (unsigned long long)used / 1024,
				(unsigned long long)map / 1024);
	}
	return c2d->room_low;
}
