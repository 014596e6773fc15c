/* Replies to requesters: on the request's MQTT 5 Response Topic, with its
 * correlation data and user property status, always addressed to the
 * requester's client id (the plugin publishes as a super-user: a broadcast
 * on a topic the requester chose would give it the plugin's rights). A
 * refusal that the requester cannot see (no response topic: MQTT 3.1.1 or a
 * v5 one-way request) is an event instead. Built on the outbox and events. */
#include <stdio.h>
#include <string.h>

#include "c2d.h"

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
