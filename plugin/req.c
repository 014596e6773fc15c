/* What every request handler shares: its MQTT 5 user properties, the wire
 * status of a store error, and the admission check for requests that add
 * data (the map's room). Used by the planes and route.c alike; calls none
 * of them. */
#include <string.h>

#include "c2d.h"

bool c2d_req_user_prop(const struct c2d_req *req, const char *key, char *buf, size_t len)
{
	const mosquitto_property *p;
	char *name = NULL, *value = NULL;
	bool found = false, skip = false;

	for(p = req->props; p && !found; skip = true){
		p = mosquitto_property_read_string_pair(p, MQTT_PROP_USER_PROPERTY, &name, &value, skip);
		if(p == NULL) break;
		if(strcmp(name, key) == 0){
			/* Too long for any valid value: "" (which no option accepts),
			 * never "absent", so that the request is refused and no
			 * default is used instead. */
			if(strlen(value) < len){
				strcpy(buf, value);
			}else if(len){
				buf[0] = '\0';
			}
			found = true;
		}
		mosquitto_free(name);
		mosquitto_free(value);
	}
	return found;
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

bool c2d_room_low(struct c2d *c2d)
{
	uint64_t used, map, reserve;
	bool was = c2d->room_low;

	if(c2d->room_checked_ms && c2d->now_ms - c2d->room_checked_ms < 250) return c2d->room_low;
	c2d->room_checked_ms = c2d->now_ms;
	if(c2d_store_usage(c2d->store, &used, &map)) return c2d->room_low = false; /* the write itself will tell */
	reserve = map / 10 < 512 * 1024 ? 512 * 1024 : map / 10;
	c2d->room_low = used + reserve > map;
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
