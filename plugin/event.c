/* Events: one CloudEvents 1.0 JSON object per state change, published on
 * $c2d/{dev}/events/{kind}, or for a fleet job on $c2d/$jobs/{job}/events
 * (QoS 1, not retained, unbatched). */
#include <stdio.h>
#include <stdlib.h>
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

/* Text built for one event: a stack buffer while it fits, else the heap. */
struct etext {
	char *p;
	size_t len, cap;
	bool heap, nomem;
	char stack[512];
};

static void et_put(struct etext *t, const char *s, size_t n)
{
	if(t->nomem) return;
	if(t->len + n + 1 > t->cap){
		size_t cap = (t->len + n + 1) * 2;
		char *p = t->heap ? realloc(t->p, cap) : malloc(cap);

		if(p == NULL){
			t->nomem = true;
			return;
		}
		if(!t->heap) memcpy(p, t->p, t->len);
		t->p = p;
		t->cap = cap;
		t->heap = true;
	}
	memcpy(t->p + t->len, s, n);
	t->len += n;
	t->p[t->len] = '\0';
}

static void et_str(struct etext *t, const char *s)
{
	et_put(t, s, strlen(s));
}

/* s as a JSON string, escaped as cJSON prints it (RFC 8259 section 7). */
static void et_quoted(struct etext *t, const char *s)
{
	const char *run = s;
	char esc[8];

	et_put(t, "\"", 1);
	for(; *s; s++){
		unsigned char c = (unsigned char)*s;

		if(c >= 0x20 && c != '"' && c != '\\') continue;
		et_put(t, run, (size_t)(s - run));
		switch(c){
			case '"': et_put(t, "\\\"", 2); break;
			case '\\': et_put(t, "\\\\", 2); break;
			case '\b': et_put(t, "\\b", 2); break;
			case '\f': et_put(t, "\\f", 2); break;
			case '\n': et_put(t, "\\n", 2); break;
			case '\r': et_put(t, "\\r", 2); break;
			case '\t': et_put(t, "\\t", 2); break;
			default:
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				et_put(t, esc, 6);
		}
		run = s + 1;
	}
	et_put(t, run, (size_t)(s - run));
	et_put(t, "\"", 1);
}

/* One CloudEvent about subject on topic (both borrowed). data consumed. The
 * envelope is printed directly (an event is built on every state change,
 * most often with nobody subscribed: a cJSON tree of it cost about 15
 * allocations); only data goes through cJSON. Same keys, order and escaping
 * as cJSON_PrintUnformatted of the envelope. */
static int event_on(struct c2d *c2d, enum c2d_out_list list, const char *topic, const char *subject,
		const char *type, cJSON *data)
{
	char id[48], when[32];
	char *dtext = NULL;
	struct etext t;
	int rc;

	if(data){
		dtext = cJSON_PrintUnformatted(data);
		cJSON_Delete(data);
		if(dtext == NULL) return C2D_ENOMEM;
	}
	memset(&t, 0, sizeof(t) - sizeof(t.stack));
	t.p = t.stack;
	t.cap = sizeof(t.stack);
	t.stack[0] = '\0';
	snprintf(id, sizeof(id), "%llu-%llu", (unsigned long long)c2d->boot_ms,
			(unsigned long long)++c2d->event_seq);
	c2d_time_rfc3339(c2d->wall_ms ? c2d->wall_ms : c2d_wall_ms(), when, sizeof(when));
	et_str(&t, "{\"specversion\":\"1.0\",\"id\":\"");
	et_str(&t, id);
	et_str(&t, "\",\"source\":\"mosquitto-c2d\",\"type\":");
	et_quoted(&t, type);
	et_str(&t, ",\"subject\":");
	et_quoted(&t, subject);
	et_str(&t, ",\"time\":\"");
	et_str(&t, when);
	et_str(&t, "\"");
	if(dtext){
		et_str(&t, ",\"datacontenttype\":\"application/json\",\"data\":");
		et_str(&t, dtext);
		cJSON_free(dtext);
	}
	et_str(&t, "}");
	rc = t.nomem ? C2D_ENOMEM : c2d_outbox_add(c2d, list, NULL, topic, t.p, t.len, 1, NULL);
	if(t.heap) free(t.p);
	if(rc == 0) c2d->counters[C2D_C_EVENTS]++;
	return rc;
}

bool c2d_event_wanted(const struct c2d *c2d, const char *kind)
{
	return c2d_conf_event_on(&c2d->conf, kind);
}

/* A family switched off (option events): data freed, nothing built. */
static int event_off(const struct c2d *c2d, const char *kind, cJSON *data)
{
	if(c2d_event_wanted(c2d, kind)) return 0;
	cJSON_Delete(data);
	return 1;
}

static int event_to(struct c2d *c2d, enum c2d_out_list list, const char *dev, const char *kind, const char *type,
		cJSON *data)
{
	char topic[C2D_DEV_MAX + 64];

	if(event_off(c2d, kind, data)) return 0;
	snprintf(topic, sizeof(topic), "$c2d/%s/events/%s", dev, kind);
	return event_on(c2d, list, topic, dev, type, data);
}

int c2d_event_job(struct c2d *c2d, const char *job, const char *type, cJSON *data)
{
	char topic[128];

	if(event_off(c2d, "job", data)) return 0;
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
