/* Broker test harness: publishing, subscribing and waiting for messages
 * (see harness.h).
 * Owns: SUBSCRIBE/UNSUBSCRIBE/PUBLISH with the wait for their acks, the
 * inbox waits (a message taken from the inbox is caller-owned; the others
 * stay owned by the client) and the request/response helper. The client and
 * its inbox are owned by harness_client.c.
 */
#include "harness_int.h"

struct done_arg {
	int mid;
	int rc;
};

static bool cond_done(struct c2d_client *c, void *arg)
{
	struct done_arg *d = arg;
	size_t i;

	for(i = 0; i < c->ndone; i++){
		if(c->done[i].mid == d->mid){
			d->rc = c->done[i].rc;
			c->done[i] = c->done[--c->ndone];
			return true;
		}
	}
	return false;
}

/* Checks the client is connected; returns its connection generation in
 * *disc0. Returns 0 or C2D_ENOCONN (printed with what). */
int c2dh_require_connected(struct c2d_client *c, const char *what, const char *topic, unsigned *disc0)
{
	bool ok;

	pthread_mutex_lock(&c->mu);
	ok = c->connected;
	*disc0 = c->disc_count;
	pthread_mutex_unlock(&c->mu);
	if(!ok){
		fprintf(stderr, DIAG "client %s: %s %s: not connected\n", c->id, what, topic ? topic : "");
		return C2D_ENOCONN;
	}
	return 0;
}

/* Waits for the ack of mid. Returns its rc or C2D_E* (printed). */
static int wait_ack(struct c2d_client *c, int mid, unsigned disc0, const char *what, const char *topic)
{
	struct done_arg d = {mid, 0};
	int rc;

	pthread_mutex_lock(&c->mu);
	rc = c2dh_wait_locked(c, cond_done, &d, true, disc0, C2D_ACK_TIMEOUT_MS);
	pthread_mutex_unlock(&c->mu);
	if(rc == 0){
		return d.rc;
	}
	fprintf(stderr, DIAG "client %s: no %s for %s (mid %d): %s\n", c->id, what, topic, mid,
			rc == C2D_ETIMEDOUT ? "timed out" : "connection lost");
	return rc;
}

int c2d_client_subscribe_v5(struct c2d_client *c, const char *filter, int qos, int options,
		const mosquitto_property *props)
{
	unsigned disc0;
	int mid = 0, rc;

	if(!c || !filter){
		return C2D_EFAIL;
	}
	rc = c2dh_require_connected(c, "subscribe", filter, &disc0);
	if(rc){
		return rc;
	}
	rc = mosquitto_subscribe_v5(c->mosq, &mid, filter, qos, options, props);
	if(rc){
		fprintf(stderr, DIAG "client %s: subscribe %s: %s\n", c->id, filter, mosquitto_strerror(rc));
		return C2D_EFAIL;
	}
	return wait_ack(c, mid, disc0, "SUBACK", filter);
}

int c2d_client_subscribe(struct c2d_client *c, const char *filter, int qos)
{
	return c2d_client_subscribe_v5(c, filter, qos, 0, NULL);
}

int c2d_client_unsubscribe(struct c2d_client *c, const char *filter)
{
	unsigned disc0;
	int mid = 0, rc;

	if(!c || !filter){
		return C2D_EFAIL;
	}
	rc = c2dh_require_connected(c, "unsubscribe", filter, &disc0);
	if(rc){
		return rc;
	}
	rc = mosquitto_unsubscribe_v5(c->mosq, &mid, filter, NULL);
	if(rc){
		fprintf(stderr, DIAG "client %s: unsubscribe %s: %s\n", c->id, filter, mosquitto_strerror(rc));
		return C2D_EFAIL;
	}
	return wait_ack(c, mid, disc0, "UNSUBACK", filter);
}

int c2d_client_publish(struct c2d_client *c, const char *topic, const void *payload, int len, int qos,
		bool retain, const mosquitto_property *props)
{
	unsigned disc0;
	int mid = 0, rc;

	if(!c || !topic){
		return C2D_EFAIL;
	}
	if(len < 0){
		len = payload ? (int)strlen(payload) : 0;
	}
	if(props && c->protocol != MQTT_PROTOCOL_V5){
		fprintf(stderr, DIAG "client %s: publish %s: properties need MQTT v5\n", c->id, topic);
		return C2D_EFAIL;
	}
	rc = c2dh_require_connected(c, "publish", topic, &disc0);
	if(rc){
		return rc;
	}
	rc = mosquitto_publish_v5(c->mosq, &mid, topic, len, len ? payload : NULL, qos, retain, props);
	if(rc){
		fprintf(stderr, DIAG "client %s: publish %s: %s\n", c->id, topic, mosquitto_strerror(rc));
		return C2D_EFAIL;
	}
	return wait_ack(c, mid, disc0, qos == 0 ? "write" : qos == 1 ? "PUBACK" : "PUBCOMP", topic);
}

struct match_arg {
	const char *filter;
	const void *corr;
	int corr_len;
	bool unlink;
	struct c2d_msg *found;
};

static bool msg_matches(const struct c2d_msg *m, const struct match_arg *a)
{
	bool res = false;

	if(a->filter && (mosquitto_topic_matches_sub(a->filter, m->topic, &res) != MOSQ_ERR_SUCCESS || !res)){
		return false;
	}
	if(a->corr && !c2d_msg_corr_eq(m, a->corr, a->corr_len)){
		return false;
	}
	return true;
}

static bool cond_msg(struct c2d_client *c, void *arg)
{
	struct match_arg *a = arg;
	struct c2d_msg *m, *prev = NULL;

	for(m = c->head; m; prev = m, m = m->next){
		if(!msg_matches(m, a)){
			continue;
		}
		if(a->unlink){
			if(prev){
				prev->next = m->next;
			}else{
				c->head = m->next;
			}
			if(c->tail == m){
				c->tail = prev;
			}
			m->next = NULL;
			c->count--;
		}
		a->found = m;
		return true;
	}
	return false;
}

/* Prints the inbox (mu held). */
static void inbox_describe(struct c2d_client *c)
{
	const struct c2d_msg *m;

	fprintf(stderr, DIAG "client %s inbox (%zu message%s)%s\n", c->id, c->count, c->count == 1 ? "" : "s",
			c->count ? ":" : "");
	for(m = c->head; m; m = m->next){
		c2dh_msg_describe(stderr, m);
	}
}

struct c2d_msg *c2d_client_wait_corr(struct c2d_client *c, const char *filter, const void *corr, int len,
		int timeout_ms)
{
	struct match_arg a = {filter, corr, len, true, NULL};
	int rc;

	if(!c){
		return NULL;
	}
	pthread_mutex_lock(&c->mu);
	rc = c2dh_wait_locked(c, cond_msg, &a, false, 0, timeout_ms);
	if(rc != 0){
		fprintf(stderr, DIAG "client %s: no message on \"%s\"%s within %d ms (%s)\n", c->id,
				filter ? filter : "(any)", corr ? " with the expected correlation data" : "", timeout_ms,
				c->connected ? "connected" : "NOT connected");
		inbox_describe(c);
	}
	pthread_mutex_unlock(&c->mu);
	return rc == 0 ? a.found : NULL;
}

struct c2d_msg *c2d_client_wait_msg(struct c2d_client *c, const char *filter, int timeout_ms)
{
	return c2d_client_wait_corr(c, filter, NULL, 0, timeout_ms);
}

bool c2d_client_expect_none(struct c2d_client *c, const char *filter, int ms)
{
	struct match_arg a = {filter, NULL, 0, false, NULL};
	int rc;

	if(!c){
		return false;
	}
	pthread_mutex_lock(&c->mu);
	rc = c2dh_wait_locked(c, cond_msg, &a, false, 0, ms);
	if(rc == 0){
		fprintf(stderr, DIAG "client %s: expected no message on \"%s\" for %d ms, but got:\n", c->id,
				filter ? filter : "(any)", ms);
		c2dh_msg_describe(stderr, a.found);
	}
	pthread_mutex_unlock(&c->mu);
	return rc != 0;
}

size_t c2d_client_inbox_count(struct c2d_client *c)
{
	size_t n;

	if(!c){
		return 0;
	}
	pthread_mutex_lock(&c->mu);
	n = c->count;
	pthread_mutex_unlock(&c->mu);
	return n;
}

void c2d_client_inbox_clear(struct c2d_client *c)
{
	struct c2d_msg *m;

	if(!c){
		return;
	}
	pthread_mutex_lock(&c->mu);
	m = c->head;
	c->head = c->tail = NULL;
	c->count = 0;
	pthread_mutex_unlock(&c->mu);
	while(m){
		struct c2d_msg *next = m->next;
		c2d_msg_free(m);
		m = next;
	}
}

struct c2d_msg *c2d_client_request(struct c2d_client *c, struct c2d_request *req)
{
	static atomic_uint seq;
	unsigned n = atomic_fetch_add(&seq, 1) + 1;
	mosquitto_property *props = NULL;
	char *resp, *corr;
	struct c2d_msg *m = NULL;
	int rc, timeout;

	if(!c || !req || !req->topic){
		return NULL;
	}
	req->puback_rc = C2D_EFAIL;
	if(c->protocol != MQTT_PROTOCOL_V5){
		fprintf(stderr, DIAG "client %s: request/response needs MQTT v5\n", c->id);
		return NULL;
	}
	timeout = req->timeout_ms > 0 ? req->timeout_ms : 5000;
	resp = req->response_topic ? c2dh_xstrdup(req->response_topic) : c2d_strf("c2d-test/reply/%d/%u", (int)getpid(), n);
	corr = c2d_strf("c2d-corr-%d-%u", (int)getpid(), n);

	rc = c2d_client_subscribe(c, resp, 1);
	if(rc < 0 || rc > 2){
		fprintf(stderr, DIAG "client %s: request: cannot subscribe to the response topic %s (%d)\n", c->id, resp,
				rc);
		goto out;
	}
	if(mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, resp)
			|| mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, corr, (uint16_t)strlen(corr))
			|| c2dh_props_append(&props, req->props)){
		fprintf(stderr, DIAG "client %s: request: cannot build the properties\n", c->id);
		goto out;
	}
	rc = c2d_client_publish(c, req->topic, req->payload, req->len, req->qos, false, props);
	req->puback_rc = rc;
	if(rc < 0 || rc >= 0x80){
		fprintf(stderr, DIAG "client %s: request on %s: publish returned %d (0x%02x)\n", c->id, req->topic, rc,
				rc < 0 ? 0 : rc);
		goto out;
	}
	m = c2d_client_wait_corr(c, resp, corr, (int)strlen(corr), timeout);
	if(!m){
		fprintf(stderr, DIAG "client %s: no reply to the request on %s (response topic %s, corr %s)\n", c->id,
				req->topic, resp, corr);
	}
out:
	mosquitto_property_free_all(&props);
	free(resp);
	free(corr);
	return m;
}
