/* The fleet: which devices are known (a device record exists once a device
 * has a twin, a queue or said hello), and queryDevices over them (the where
 * language of query.c). A query walks the device records in id order from
 * `after`, loading for each only what the query reads (the twin record for
 * tags, desired, reported; the info record for info), and stops at `count`
 * matches or after C2D_QUERY_SCAN_MAX records, whichever comes first, so one
 * call never holds the broker for long: the answer's "next" says where to
 * go on (null: the end). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c2d.h"
#include "c2d_fleet.h"
#include "c2d_hello.h"
#include "c2d_query.h"
#include "c2d_twin.h"

struct query {
	struct c2d *c2d;
	const cJSON *where;
	const cJSON *select;   /* array of paths, or NULL */
	unsigned needs;
	size_t want, got, scanned;
	cJSON *arr;
	char last[C2D_DEV_MAX + 1];
	int rc;
};

/* The device document the query language reads. Returns it (caller owns)
 * or NULL with q->rc. */
static cJSON *device_doc(struct query *q, const char *dev)
{
	cJSON *doc = cJSON_CreateObject(), *info;
	struct c2d_twin tw;
	char *json = NULL;
	size_t len = 0;
	int i, rc;

	if(doc == NULL) goto nomem;
	cJSON_AddStringToObject(doc, "device", dev);
	cJSON_AddBoolToObject(doc, "online", c2d_presence_online(q->c2d, dev));
	if(q->needs & (C2D_Q_NEEDS_TAGS | C2D_Q_NEEDS_TWIN)){
		rc = c2d_store_twin_get(q->c2d->store, dev, &json, &len);
		if(rc == 0){
			rc = c2d_twin_load(&tw, json, len);
			free(json);
			if(rc == C2D_ENOMEM) goto nomem;
			if(rc == 0){
				static const char *const names[] = {"desired", "reported", "tags"};

				for(i = 0; i < C2D_TWIN_SECTIONS; i++){
					cJSON_AddItemToObject(doc, names[i], tw.doc[i]);
					tw.doc[i] = NULL; /* moved */
				}
				c2d_twin_free(&tw);
			}
		}else if(rc != C2D_ENOTFOUND){
			q->rc = rc;
			cJSON_Delete(doc);
			return NULL;
		}
	}
	if(q->needs & C2D_Q_NEEDS_INFO){
		info = c2d_hello_info(q->c2d, dev, &rc);
		if(rc){
			q->rc = rc;
			cJSON_Delete(doc);
			return NULL;
		}
		if(info) cJSON_AddItemToObject(doc, "info", info);
	}
	return doc;
nomem:
	cJSON_Delete(doc);
	q->rc = C2D_ENOMEM;
	return NULL;
}

/* {"device":id,"online":b, path:value for each selected path present}. */
static cJSON *result_of(const struct query *q, const cJSON *doc)
{
	cJSON *r = cJSON_CreateObject();
	const cJSON *p, *v;
	char name[256], *dot;

	if(r == NULL) return NULL;
	cJSON_AddItemToObject(r, "device", cJSON_Duplicate(cJSON_GetObjectItem(doc, "device"), false));
	cJSON_AddItemToObject(r, "online", cJSON_Duplicate(cJSON_GetObjectItem(doc, "online"), false));
	cJSON_ArrayForEach(p, q->select){
		v = doc;
		snprintf(name, sizeof(name), "%s", p->valuestring);
		for(char *s = name; v && s; s = dot ? dot + 1 : NULL){
			dot = strchr(s, '.');
			if(dot) *dot = '\0';
			v = cJSON_GetObjectItemCaseSensitive(v, s);
		}
		if(v) cJSON_AddItemToObject(r, p->valuestring, cJSON_Duplicate(v, true));
	}
	return r;
}

static int query_one(void *ud, const char *dev, const struct c2d_devrec *rec)
{
	struct query *q = ud;
	cJSON *doc, *r;

	(void)rec;
	snprintf(q->last, sizeof(q->last), "%s", dev);
	q->scanned++;
	doc = device_doc(q, dev);
	if(doc == NULL) return 1;
	if(c2d_query_match(q->where, doc)){
		r = result_of(q, doc);
		if(r == NULL){
			q->rc = C2D_ENOMEM;
			cJSON_Delete(doc);
			return 1;
		}
		cJSON_AddItemToArray(q->arr, r);
		q->got++;
	}
	cJSON_Delete(doc);
	return q->got >= q->want || q->scanned >= C2D_QUERY_SCAN_MAX;
}

int c2d_fleet_match(struct c2d *c2d, const cJSON *where, const char *dev, bool *match)
{
	struct query q = {.c2d = c2d, .needs = c2d_query_needs(where)};
	cJSON *doc = device_doc(&q, dev);

	*match = false;
	if(doc == NULL) return q.rc;
	*match = c2d_query_match(where, doc);
	cJSON_Delete(doc);
	return 0;
}

static int probe_one(void *ud, const char *dev, const struct c2d_devrec *rec)
{
	(void)rec;
	snprintf(ud, C2D_DEV_MAX + 1, "%s", dev);
	return 1;
}

const char *c2d_fleet_query(struct c2d *c2d, const cJSON *cmd, cJSON *data)
{
	/* the broker runs one command at a time: the reason lives until the next */
	static char why[200];
	const cJSON *after = cJSON_GetObjectItemCaseSensitive(cmd, "after");
	const cJSON *count = cJSON_GetObjectItemCaseSensitive(cmd, "count"), *p;
	struct query q = {.c2d = c2d, .want = 100};
	char probe[C2D_DEV_MAX + 1] = "";
	int rc;

	q.where = cJSON_GetObjectItemCaseSensitive(cmd, "where");
	q.select = cJSON_GetObjectItemCaseSensitive(cmd, "select");
	if(c2d_query_check(q.where, why, sizeof(why))) return why;
	if(count && (!cJSON_IsNumber(count) || count->valuedouble < 1 || count->valuedouble > 1000)){
		return "count must be 1..1000";
	}
	if(count) q.want = (size_t)count->valuedouble;
	if(after && !cJSON_IsNull(after)
			&& (!cJSON_IsString(after) || !c2d_topic_valid_dev(after->valuestring, strlen(after->valuestring)))){
		return "after must be a device id";
	}
	if(q.select && !cJSON_IsArray(q.select)) return "select must be an array of paths";
	cJSON_ArrayForEach(p, q.select){
		cJSON *w;

		if(!cJSON_IsString(p) || strlen(p->valuestring) >= 256) return "select must be an array of paths";
		/* a selected path must be one the language knows */
		w = cJSON_CreateObject();
		if(w == NULL) return "out of memory";
		cJSON_AddNullToObject(w, p->valuestring);
		rc = c2d_query_check(w, why, sizeof(why));
		q.needs |= c2d_query_needs(w);
		cJSON_Delete(w);
		if(rc) return why;
	}
	q.needs |= c2d_query_needs(q.where);
	q.arr = cJSON_AddArrayToObject(data, "devices");
	if(q.arr == NULL) return "out of memory";
	rc = c2d_store_dev_scan(c2d->store, cJSON_IsString(after) ? after->valuestring : NULL, 0, query_one, &q);
	if(rc || q.rc) return q.rc == C2D_ENOMEM || rc == C2D_ENOMEM ? "out of memory" : "store unavailable";
	cJSON_AddNumberToObject(data, "scanned", (double)q.scanned);
	/* more to come unless the walk ran off the end: probe one record */
	if((q.got >= q.want || q.scanned >= C2D_QUERY_SCAN_MAX)
			&& c2d_store_dev_scan(c2d->store, q.last, 1, probe_one, probe) == 0 && probe[0]){
		cJSON_AddStringToObject(data, "next", q.last);
	}else{
		cJSON_AddNullToObject(data, "next");
	}
	return NULL;
}
