/* The outbox: the only code that calls mosquitto_broker_publish. Handlers
 * append while their unit's store transaction is open; the unit (unit.c)
 * flushes after the commit, so a reply or delivery never announces
 * uncommitted state. Two lists: C2D_OUT_STORED (rolled back with a failed
 * unit) and C2D_OUT_SIDE (states no stored fact: never rolled back).
 * Payloads are mosquitto_malloc memory because the broker frees them (never
 * mosquitto_broker_publish_copy: it corrupts the broker's memory accounting). */
#include <stdio.h>
#include <string.h>

#include "c2d.h"

static void out_free(struct c2d_outbox *ob, struct c2d_out *o)
{
	/* topic and clientid live in o's own block */
	mosquitto_free(o->payload);
	mosquitto_property_free_all(&o->props);
	if(o->pooled && ob->spare_count < C2D_OUT_SPARE){
		o->next = ob->spare;
		ob->spare = o;
		ob->spare_count++;
		return;
	}
	mosquitto_free(o);
}

/* An entry with room for need bytes after it: a spare pooled block, a new
 * pooled one, or (too big for a block) one of its own size. Zeroed. */
static struct c2d_out *out_alloc(struct c2d_outbox *ob, size_t need)
{
	struct c2d_out *o;

	if(sizeof(*o) + need > C2D_OUT_BLOCK) return mosquitto_calloc(1, sizeof(*o) + need);
	o = ob->spare;
	if(o){
		ob->spare = o->next;
		ob->spare_count--;
	}else{
		o = mosquitto_malloc(C2D_OUT_BLOCK);
		if(o == NULL) return NULL;
	}
	memset(o, 0, sizeof(*o));
	o->pooled = true;
	return o;
}

int c2d_outbox_add_owned(struct c2d *c2d, enum c2d_out_list list, const char *clientid, const char *topic,
		void *payload, size_t len, int qos, mosquitto_property *props)
{
	struct c2d_outbox *ob = &c2d->outbox;
	size_t tlen = strlen(topic), clen = clientid ? strlen(clientid) : 0;
	struct c2d_out *o;

	/* one allocation: the entry, its topic and client id (the broker
	 * copies both; it takes the payload and properties) */
	o = out_alloc(ob, tlen + 1 + (clientid ? clen + 1 : 0));
	if(o == NULL) goto fail;
	o->topic = (char *)(o + 1);
	memcpy(o->topic, topic, tlen + 1);
	if(clientid){
		o->clientid = o->topic + tlen + 1;
		memcpy(o->clientid, clientid, clen + 1);
	}
	o->payload = payload;
	o->payloadlen = (uint32_t)len;
	o->qos = (uint8_t)qos;
	o->props = props;
	if(list == C2D_OUT_SIDE){
		if(ob->side_tail == NULL) ob->side_tail = &ob->side_head;
		*ob->side_tail = o;
		ob->side_tail = &o->next;
		return 0;
	}
	if(ob->tail == NULL) ob->tail = &ob->head;
	*ob->tail = o;
	ob->tail = &o->next;
	ob->count++;
	return 0;
fail:
	mosquitto_free(payload);
	mosquitto_property_free_all(&props);
	c2d_log(C2D_LOG_ERR, "out of memory queueing a publish to '%s'", topic);
	return C2D_ENOMEM;
}

int c2d_outbox_add(struct c2d *c2d, enum c2d_out_list list, const char *clientid, const char *topic,
		const void *payload, size_t len, int qos, mosquitto_property *props)
{
	void *copy = NULL;

	if(len){
		copy = mosquitto_malloc(len);
		if(copy == NULL){
			mosquitto_property_free_all(&props);
			return C2D_ENOMEM;
		}
		memcpy(copy, payload, len);
	}
	return c2d_outbox_add_owned(c2d, list, clientid, topic, copy, len, qos, props);
}

size_t c2d_outbox_mark(struct c2d *c2d)
{
	return c2d->outbox.count;
}

/* Drop the entries appended after `mark` (their count when it was taken). */
void c2d_outbox_rollback(struct c2d *c2d, size_t mark)
{
	struct c2d_outbox *ob = &c2d->outbox;
	struct c2d_out **pp = &ob->head, *o, *next;
	size_t i;

	for(i = 0; i < mark && *pp; i++) pp = &(*pp)->next;
	for(o = *pp; o; o = next){
		next = o->next;
		out_free(ob, o);
	}
	*pp = NULL;
	ob->tail = pp;
	ob->count = mark;
}

void c2d_outbox_to_side(struct c2d *c2d, size_t mark)
{
	struct c2d_outbox *ob = &c2d->outbox;
	struct c2d_out **pp = &ob->head;
	size_t i;

	for(i = 0; i < mark && *pp; i++) pp = &(*pp)->next;
	if(*pp == NULL) return;
	if(ob->side_tail == NULL) ob->side_tail = &ob->side_head;
	*ob->side_tail = *pp;
	ob->side_tail = ob->tail;
	*pp = NULL;
	ob->tail = pp;
	ob->count = i;
}

static void publish_all(struct c2d_outbox *ob, struct c2d_out *head)
{
	struct c2d_out *o, *next;
	int rc;

	for(o = head; o; o = next){
		next = o->next;
		rc = mosquitto_broker_publish(o->clientid, o->topic, (int)o->payloadlen, o->payload,
				o->qos, false, o->props);
		if(rc == MOSQ_ERR_SUCCESS){
			/* The broker owns payload and properties now. */
			o->payload = NULL;
			o->props = NULL;
			ob->published++;
		}else{
			ob->failed++;
			c2d_log(C2D_LOG_WARN, "publish to '%s'%s%s failed: %s", o->topic,
					o->clientid ? " for client " : "", o->clientid ? o->clientid : "",
					mosquitto_strerror(rc));
		}
		out_free(ob, o);
	}
}

void c2d_outbox_flush(struct c2d *c2d)
{
	struct c2d_outbox *ob = &c2d->outbox;
	struct c2d_out *side = ob->side_head, *main = ob->head;

	ob->side_head = NULL;
	ob->side_tail = &ob->side_head;
	ob->head = NULL;
	ob->tail = &ob->head;
	ob->count = 0;
	publish_all(ob, side);
	publish_all(ob, main);
}

void c2d_outbox_clear(struct c2d *c2d)
{
	struct c2d_outbox *ob = &c2d->outbox;
	struct c2d_out *o, *next;

	c2d_outbox_rollback(c2d, 0);
	for(o = ob->side_head; o; o = next){
		next = o->next;
		out_free(ob, o);
	}
	ob->side_head = NULL;
	ob->side_tail = &ob->side_head;
	while((o = ob->spare) != NULL){
		ob->spare = o->next;
		mosquitto_free(o);
	}
	ob->spare_count = 0;
}
