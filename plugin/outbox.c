/* The outbox: the only code that calls mosquitto_broker_publish. Handlers
 * append while their store transaction is open; route.c and tick.c flush after
 * the commit, so a reply or delivery never announces uncommitted state.
 * Payloads are mosquitto_malloc memory because the broker frees them (never
 * mosquitto_broker_publish_copy: it corrupts the broker's memory accounting). */
#include <stdio.h>
#include <string.h>

#include "c2d.h"

static void out_free(struct c2d_out *o)
{
	mosquitto_free(o->topic);
	mosquitto_free(o->clientid);
	mosquitto_free(o->payload);
	mosquitto_property_free_all(&o->props);
	mosquitto_free(o);
}

int c2d_outbox_add_owned(struct c2d *c2d, enum c2d_out_list list, const char *clientid, const char *topic,
		void *payload, size_t len, int qos, mosquitto_property *props)
{
	struct c2d_outbox *ob = &c2d->outbox;
	struct c2d_out *o;

	o = mosquitto_calloc(1, sizeof(*o));
	if(o == NULL) goto fail;
	o->topic = mosquitto_strdup(topic);
	o->clientid = clientid ? mosquitto_strdup(clientid) : NULL;
	if(o->topic == NULL || (clientid && o->clientid == NULL)){
		mosquitto_free(o->topic);
		mosquitto_free(o->clientid);
		mosquitto_free(o);
		goto fail;
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
		out_free(o);
	}
	*pp = NULL;
	ob->tail = pp;
	ob->count = mark;
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
		out_free(o);
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
		out_free(o);
	}
	ob->side_head = NULL;
	ob->side_tail = &ob->side_head;
}

mosquitto_property *c2d_reply_props(const void *corr, size_t corr_len, int status, const char *content_type)
{
	mosquitto_property *props = NULL;
	char st[8];
	int rc = 0;

	snprintf(st, sizeof(st), "%d", status);
	if(corr && corr_len) rc = mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, corr, (uint16_t)corr_len);
	if(!rc) rc = mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, "status", st);
	if(!rc && content_type) rc = mosquitto_property_add_string(&props, MQTT_PROP_CONTENT_TYPE, content_type);
	if(rc){
		mosquitto_property_free_all(&props);
		return NULL;
	}
	return props;
}

int c2d_reply_list(struct c2d *c2d, enum c2d_out_list list, const char *requester, const char *resp_topic,
		const void *corr, size_t corr_len, int status, const void *payload, size_t len, const char *content_type)
{
	mosquitto_property *props;

	if(resp_topic == NULL || resp_topic[0] == '\0') return 0;
	if(requester == NULL || requester[0] == '\0'){
		/* Never broadcast a reply: the plugin's rights are not the requester's. */
		c2d_log(C2D_LOG_INFO, "not replying on '%s': the requester is not known", resp_topic);
		return 0;
	}
	if(mosquitto_pub_topic_check(resp_topic) != MOSQ_ERR_SUCCESS){
		c2d_log(C2D_LOG_INFO, "not replying to invalid response topic '%s'", resp_topic);
		return 0;
	}
	props = c2d_reply_props(corr, corr_len, status, content_type);
	if(props == NULL) return C2D_ENOMEM;
	/* Addressed to the requester's client id: the broker hands it to that
	 * client only (queued if its session is offline and persistent, dropped
	 * if it is gone), whoever else subscribes to the response topic. */
	return c2d_outbox_add(c2d, list, requester, resp_topic, payload, len, 1, props);
}

int c2d_reply_to(struct c2d *c2d, const char *requester, const char *resp_topic, const void *corr,
		size_t corr_len, int status, const void *payload, size_t len, const char *content_type)
{
	return c2d_reply_list(c2d, C2D_OUT_STORED, requester, resp_topic, corr, corr_len, status, payload, len,
			content_type);
}

int c2d_reply_raw(struct c2d *c2d, const struct c2d_req *req, int status,
		const void *payload, size_t len, const char *content_type)
{
	return c2d_reply_to(c2d, req->client_id, req->resp_topic, req->corr, req->corr_len, status, payload, len, content_type);
}

int c2d_reply_json(struct c2d *c2d, const struct c2d_req *req, int status, cJSON *body)
{
	char *text;
	int rc;

	if(req->resp_topic == NULL){
		cJSON_Delete(body);
		return 0;
	}
	if(body == NULL) body = cJSON_CreateObject();
	if(body == NULL) return C2D_ENOMEM;
	cJSON_DeleteItemFromObjectCaseSensitive(body, "status");
	cJSON_AddNumberToObject(body, "status", status);
	text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	if(text == NULL) return C2D_ENOMEM;
	rc = c2d_reply_raw(c2d, req, status, text, strlen(text), "application/json");
	cJSON_free(text);
	return rc;
}

/* Nothing is refused in silence: a sender without a response topic (MQTT
 * 3.1.1, or a v5 one-way request) cannot get the status, so an event on the
 * device's events/device says what was refused and why. It states no stored
 * fact: the side list, which a rollback never drops. */
static void refused_event(struct c2d *c2d, const struct c2d_req *req, int status, const char *reason)
{
	cJSON *data;

	if(req->resp_topic || status < 400 || !c2d_topic_valid_dev(req->t.dev, req->t.dev_len)) return;
	data = cJSON_CreateObject();
	if(data == NULL) return;
	cJSON_AddStringToObject(data, "topic", req->topic);
	if(req->client_id) cJSON_AddStringToObject(data, "sender", req->client_id);
	cJSON_AddNumberToObject(data, "protocolVersion", req->protocol_version);
	cJSON_AddNumberToObject(data, "status", status);
	cJSON_AddStringToObject(data, "error", reason);
	c2d_event_side(c2d, req->dev, "device", "c2d.device.refused", data);
}

int c2d_reply_error(struct c2d *c2d, const struct c2d_req *req, int status, const char *reason)
{
	cJSON *body;

	c2d_log(C2D_LOG_INFO, "%d for '%s' from '%s': %s", status, req->topic,
			req->client_id ? req->client_id : "?", reason);
	if(status >= 400 && status < 500) c2d->counters[C2D_C_BAD_REQUESTS]++;
	refused_event(c2d, req, status, reason);
	body = cJSON_CreateObject();
	if(body == NULL) return C2D_ENOMEM;
	cJSON_AddStringToObject(body, "error", reason);
	return c2d_reply_json(c2d, req, status, body);
}
