/* Broker test harness: device-side helpers over the c2d protocol (see
 * harness.h).
 * Owns: the admin queue-depth query and struct c2d_drain (what a device
 * received while draining its queue; c2d_drain_free), acking each delivery
 * as it arrives.
 */
#include "harness_int.h"

long c2d_admin_queue_depth(struct c2d_client *op, const char *dev)
{
	struct c2d_request rq = {.topic = "$CONTROL/c2d/v1", .len = -1, .qos = 1};
	char *payload;
	struct c2d_msg *m;
	cJSON *root, *r, *depth;
	long n = C2D_EFAIL;

	if(!op || !dev){
		return C2D_EFAIL;
	}
	payload = c2d_strf("{\"commands\":[{\"command\":\"getDevice\",\"device\":\"%s\"}]}", dev);
	rq.payload = payload;
	m = c2d_client_request(op, &rq);
	free(payload);
	if(!m){
		return C2D_EFAIL;
	}
	root = cJSON_Parse(m->payload);
	r = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "responses"), 0);
	depth = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "queue"), "depth");
	if(cJSON_IsNumber(depth)){
		n = (long)depth->valuedouble;
	}else{
		fprintf(stderr, DIAG "admin getDevice %s: no queue depth in %s\n", dev, m->payload);
	}
	cJSON_Delete(root);
	c2d_msg_free(m);
	return n;
}

/* Records delivery m in d. m: borrowed. */
static void drain_record(struct c2d_drain *d, const struct c2d_msg *m, const char *kind)
{
	if(!strcmp(kind, "msg")){
		d->msgs = realloc(d->msgs, (d->nmsgs + 1) * sizeof(*d->msgs));
		d->msg_lens = realloc(d->msg_lens, (d->nmsgs + 1) * sizeof(*d->msg_lens));
		if(!d->msgs || !d->msg_lens){
			c2dh_oom();
		}
		d->msgs[d->nmsgs] = c2dh_xmalloc((size_t)m->payloadlen + 1);
		memcpy(d->msgs[d->nmsgs], m->payload, (size_t)m->payloadlen + 1);
		d->msg_lens[d->nmsgs] = m->payloadlen;
		d->nmsgs++;
	}else if(!strcmp(kind, "twin")){
		free(d->twin);
		d->twin = c2dh_xstrdup(m->payload);
		d->ntwin++;
	}else{
		d->nother++;
	}
}

/* Answers delivery m (on $c2d/{dev}/in/{kind}/.../{id}) with 200 and
 * records it. Returns 0 or what the answer's publish returned. */
static int drain_one(struct c2d_client *c, struct c2d_drain *d, const struct c2d_msg *m)
{
	size_t prefix = strlen("$c2d/") + strlen(c->id) + strlen("/in/");
	const char *kind_end, *id;
	char kind[16], *topic;
	int rc;

	id = strrchr(m->topic, '/');
	kind_end = strlen(m->topic) > prefix ? strchr(m->topic + prefix, '/') : NULL;
	if(!id || !kind_end || (size_t)(kind_end - m->topic) - prefix >= sizeof(kind)){
		fprintf(stderr, DIAG "drain %s: unexpected delivery topic %s\n", c->id, m->topic);
		return C2D_EFAIL;
	}
	memcpy(kind, m->topic + prefix, (size_t)(kind_end - m->topic) - prefix);
	kind[(size_t)(kind_end - m->topic) - prefix] = '\0';
	drain_record(d, m, kind);
	if(c->protocol == MQTT_PROTOCOL_V5 && m->response_topic){
		topic = c2dh_xstrdup(m->response_topic);
	}else{
		topic = c2d_strf("$c2d/%s/out/res/%s", c->id, id + 1);
	}
	rc = c2d_client_publish(c, topic, NULL, 0, 1, false, NULL);
	if(rc >= 0 && rc < 0x80){
		rc = 0;
	}else{
		fprintf(stderr, DIAG "drain %s: answering %s on %s returned %d\n", c->id, m->topic, topic, rc);
	}
	free(topic);
	return rc;
}

int c2d_device_drain(struct c2d_client *dev, struct c2d_client *op, int quiet_ms, int timeout_ms,
		size_t limit, struct c2d_drain *out)
{
	uint64_t end = c2d_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0), last;
	char *filter;
	struct c2d_msg *m;
	long depth = -1;
	size_t n0;
	int rc = C2D_ETIMEDOUT;

	if(!dev || !out){
		return C2D_EFAIL;
	}
	n0 = out->nmsgs + out->ntwin + out->nother;
	filter = c2d_strf("$c2d/%s/in/#", dev->id);
	last = c2d_now_ms();
	while(c2d_now_ms() < end){
		/* poll the inbox: waiting with c2d_client_wait_msg would print the
		 * (expected) silence at the end as a failure */
		if(c2d_client_inbox_count(dev) > 0 && (m = c2d_client_wait_msg(dev, filter, 1000)) != NULL){
			rc = drain_one(dev, out, m);
			c2d_msg_free(m);
			if(rc || (limit && out->nmsgs + out->ntwin + out->nother - n0 >= limit)){
				break;
			}
			rc = C2D_ETIMEDOUT;
			last = c2d_now_ms();
			continue;
		}
		if(c2d_now_ms() - last < (uint64_t)quiet_ms){
			c2d_sleep_ms(5);
			continue;
		}
		depth = op ? c2d_admin_queue_depth(op, dev->id) : 0;
		if(depth == 0 && c2d_client_inbox_count(dev) == 0){
			rc = 0;
			break;
		}
		last = c2d_now_ms();
	}
	if(rc == C2D_ETIMEDOUT){
		fprintf(stderr, DIAG "drain %s: not drained within %d ms (last queue depth %ld, %zu messages received)\n",
				dev->id, timeout_ms, depth, out->nmsgs);
	}
	free(filter);
	return rc;
}

void c2d_drain_free(struct c2d_drain *d)
{
	size_t i;

	if(!d){
		return;
	}
	for(i = 0; i < d->nmsgs; i++){
		free(d->msgs[i]);
	}
	free(d->msgs);
	free(d->msg_lens);
	free(d->twin);
	memset(d, 0, sizeof(*d));
}
