/* Events: one CloudEvents 1.0 JSON object per state change, published on
 * $c2d/{dev}/events/{kind}, or for a fleet job on $c2d/$jobs/{job}/events
 * (QoS 1, not retained, unbatched). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "c2d.h"

void c2d_time_rfc3339(uint64_t wall_ms, char *buf, size_t len)
{
	time_t s = (time_t)(wall_ms / 1000);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ", tm.tm_year + 1900, tm.tm_mon + 1,
			tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (unsigned)(wall_ms % 1000));
}

/* One CloudEvent about subject on topic (both borrowed). data consumed. */
static int event_on(struct c2d *c2d, enum c2d_out_list list, const char *topic, const char *subject,
		const char *type, cJSON *data)
{
	char id[48], when[32];
	cJSON *ev;
	char *text;
	int rc;

	ev = cJSON_CreateObject();
	if(ev == NULL){
		cJSON_Delete(data);
		return C2D_ENOMEM;
	}
	snprintf(id, sizeof(id), "%llu-%llu", (unsigned long long)c2d->boot_ms,
			(unsigned long long)++c2d->event_seq);
	c2d_time_rfc3339(c2d->wall_ms ? c2d->wall_ms : c2d_wall_ms(), when, sizeof(when));
	cJSON_AddStringToObject(ev, "specversion", "1.0");
	cJSON_AddStringToObject(ev, "id", id);
	cJSON_AddStringToObject(ev, "source", "mosquitto-c2d");
	cJSON_AddStringToObject(ev, "type", type);
	cJSON_AddStringToObject(ev, "subject", subject);
	cJSON_AddStringToObject(ev, "time", when);
	if(data){
		cJSON_AddStringToObject(ev, "datacontenttype", "application/json");
		cJSON_AddItemToObject(ev, "data", data);
	}
	text = cJSON_PrintUnformatted(ev);
	cJSON_Delete(ev);
	if(text == NULL) return C2D_ENOMEM;
	rc = c2d_outbox_add(c2d, list, NULL, topic, text, strlen(text), 1, NULL);
	cJSON_free(text);
	if(rc == 0) c2d->counters[C2D_C_EVENTS]++;
	return rc;
}

static int event_to(struct c2d *c2d, enum c2d_out_list list, const char *dev, const char *kind, const char *type,
		cJSON *data)
{
	char topic[C2D_DEV_MAX + 64];

	snprintf(topic, sizeof(topic), "$c2d/%s/events/%s", dev, kind);
	return event_on(c2d, list, topic, dev, type, data);
}

int c2d_event_job(struct c2d *c2d, const char *job, const char *type, cJSON *data)
{
	char topic[128];

	snprintf(topic, sizeof(topic), "$c2d/$jobs/%s/events", job);
	return event_on(c2d, C2D_OUT_STORED, topic, job, type, data);
}

int c2d_event(struct c2d *c2d, const char *dev, const char *kind, const char *type, cJSON *data)
{
	return event_to(c2d, C2D_OUT_STORED, dev, kind, type, data);
}

int c2d_event_side(struct c2d *c2d, const char *dev, const char *kind, const char *type, cJSON *data)
{
	return event_to(c2d, C2D_OUT_SIDE, dev, kind, type, data);
}

static const char *error_name(int rc)
{
	switch(rc){
		case C2D_EINVAL: return "damaged or invalid record";
		case C2D_ENOTFOUND: return "record missing";
		case C2D_ESCHEMA: return "unknown record layout";
		default: return "store error";
	}
}

void c2d_quarantined(struct c2d *c2d, const char *dev, const char *record, const char *id, int rc, bool moved)
{
	cJSON *data = cJSON_CreateObject();

	c2d_log(C2D_LOG_ERR, "quarantined %s%s%s of '%s' (%s, %d): it is skipped, the rest goes on", record,
			id ? " " : "", id ? id : "", dev, error_name(rc), rc);
	if(data){
		cJSON_AddStringToObject(data, "record", record);
		if(id) cJSON_AddStringToObject(data, "id", id);
		cJSON_AddStringToObject(data, "error", error_name(rc));
	}
	/* nothing moved: a statement about what failed, never rolled back */
	event_to(c2d, moved ? C2D_OUT_STORED : C2D_OUT_SIDE, dev, "device", "c2d.device.quarantined", data);
}
