/* Broker test harness: libmosquitto clients (see harness.h).
 * Owns: struct c2d_client (c2d_client_new .. c2d_client_destroy; layout in
 * harness_int.h), its loop thread and the callbacks that fill the connection
 * state, the ack list and the inbox under c->mu, and connecting,
 * disconnecting, dropping and waiting for a disconnect. Publishing,
 * subscribing and the inbox waits are in harness_wait.c.
 */
#include "harness_int.h"

static void done_add(struct c2d_client *c, int mid, int rc)
{
	pthread_mutex_lock(&c->mu);
	if(c->ndone == c->cap_done){
		struct c2d_done *nd;
		c->cap_done = c->cap_done ? c->cap_done * 2 : 16;
		nd = realloc(c->done, c->cap_done * sizeof(*nd));
		if(!nd){
			c2dh_oom();
		}
		c->done = nd;
	}
	c->done[c->ndone].mid = mid;
	c->done[c->ndone].rc = rc;
	c->ndone++;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static void on_connect_v5(struct mosquitto *mosq, void *obj, int rc, int flags, const mosquitto_property *props)
{
	struct c2d_client *c = obj;

	(void)props;
	pthread_mutex_lock(&c->mu);
	c->connack_seen = true;
	c->connack_rc = rc;
	c->connack_flags = flags;
	c->connected = rc == 0;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if(rc != 0){
		/* refused: stop libmosquitto from retrying on its own */
		mosquitto_disconnect(mosq);
	}
}

static void on_disconnect_v5(struct mosquitto *mosq, void *obj, int rc, const mosquitto_property *props)
{
	struct c2d_client *c = obj;

	(void)props;
	pthread_mutex_lock(&c->mu);
	c->connected = false;
	c->ended = true;
	c->disc_count++;
	c->disc_rc = rc;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if(rc != 0){
		/* lost: no automatic reconnect, the test decides */
		mosquitto_disconnect(mosq);
	}
}

static void on_publish_v5(struct mosquitto *mosq, void *obj, int mid, int rc, const mosquitto_property *props)
{
	(void)mosq;
	(void)props;
	done_add(obj, mid, rc);
}

static void on_subscribe_v5(struct mosquitto *mosq, void *obj, int mid, int count, const int *granted,
		const mosquitto_property *props)
{
	(void)mosq;
	(void)props;
	done_add(obj, mid, count > 0 ? granted[0] : C2D_EFAIL);
}

static void on_unsubscribe_v5(struct mosquitto *mosq, void *obj, int mid, const mosquitto_property *props)
{
	(void)mosq;
	(void)props;
	done_add(obj, mid, 0);
}

static void on_message_v5(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
		const mosquitto_property *props)
{
	struct c2d_client *c = obj;
	struct c2d_msg *m = c2dh_msg_copy(msg, props);

	(void)mosq;
	pthread_mutex_lock(&c->mu);
	if(c->tail){
		c->tail->next = m;
	}else{
		c->head = m;
	}
	c->tail = m;
	c->count++;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

struct c2d_client *c2d_client_new(const char *id, int protocol, bool clean)
{
	struct c2d_client *c;
	pthread_condattr_t ca;

	c2dh_init();
	if(protocol != MQTT_PROTOCOL_V5 && protocol != MQTT_PROTOCOL_V311 && protocol != MQTT_PROTOCOL_V31){
		fprintf(stderr, DIAG "client %s: unknown protocol %d\n", id ? id : "(null)", protocol);
		return NULL;
	}
	c = c2dh_xcalloc(1, sizeof(*c));
	c->id = c2dh_xstrdup(id ? id : "");
	c->protocol = protocol;
	c->clean = clean;
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	c->mosq = mosquitto_new(id, clean, c);
	if(!c->mosq){
		fprintf(stderr, DIAG "mosquitto_new(%s, clean %d) failed: %s\n", id ? id : "(null)", clean,
				strerror(errno));
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->cv);
		free(c->id);
		free(c);
		return NULL;
	}
	mosquitto_int_option(c->mosq, MOSQ_OPT_PROTOCOL_VERSION, protocol);
	mosquitto_connect_v5_callback_set(c->mosq, on_connect_v5);
	mosquitto_disconnect_v5_callback_set(c->mosq, on_disconnect_v5);
	mosquitto_publish_v5_callback_set(c->mosq, on_publish_v5);
	mosquitto_subscribe_v5_callback_set(c->mosq, on_subscribe_v5);
	mosquitto_unsubscribe_v5_callback_set(c->mosq, on_unsubscribe_v5);
	mosquitto_message_v5_callback_set(c->mosq, on_message_v5);
	return c;
}

const char *c2d_client_id(const struct c2d_client *c)
{
	return c ? c->id : NULL;
}

struct mosquitto *c2d_client_mosq(struct c2d_client *c)
{
	return c ? c->mosq : NULL;
}

int c2d_client_set_login(struct c2d_client *c, const char *user, const char *pass)
{
	int rc = mosquitto_username_pw_set(c->mosq, user, pass);

	if(rc){
		fprintf(stderr, DIAG "client %s: username_pw_set: %s\n", c->id, mosquitto_strerror(rc));
		return C2D_EFAIL;
	}
	return 0;
}

int c2d_client_set_will(struct c2d_client *c, const char *topic, const void *payload, int len, int qos,
		bool retain, const mosquitto_property *props)
{
	mosquitto_property *copy = NULL;
	int rc;

	if(len < 0){
		len = payload ? (int)strlen(payload) : 0;
	}
	if(props && c2dh_props_append(&copy, props) != MOSQ_ERR_SUCCESS){
		mosquitto_property_free_all(&copy);
		fprintf(stderr, DIAG "client %s: cannot copy the will properties\n", c->id);
		return C2D_EFAIL;
	}
	/* on success the will owns copy */
	rc = mosquitto_will_set_v5(c->mosq, topic, len, payload, qos, retain, copy);
	if(rc){
		mosquitto_property_free_all(&copy);
		fprintf(stderr, DIAG "client %s: will_set on %s: %s\n", c->id, topic, mosquitto_strerror(rc));
		return C2D_EFAIL;
	}
	return 0;
}

void c2d_client_set_session_expiry(struct c2d_client *c, uint32_t seconds)
{
	if(c){
		c->session_expiry = seconds;
	}
}

/* Waits (mu held) until cond(c) holds, the connection generation moves from
 * disc0 (if check_disc), or ms pass. Returns 0, C2D_ENOCONN or
 * C2D_ETIMEDOUT. */
int c2dh_wait_locked(struct c2d_client *c, bool (*cond)(struct c2d_client *, void *), void *arg,
		bool check_disc, unsigned disc0, int ms)
{
	struct timespec dl = c2dh_deadline_in(ms);

	for(;;){
		if(cond(c, arg)){
			return 0;
		}
		if(check_disc && c->disc_count != disc0){
			return C2D_ENOCONN;
		}
		if(pthread_cond_timedwait(&c->cv, &c->mu, &dl) == ETIMEDOUT){
			if(cond(c, arg)){
				return 0;
			}
			return check_disc && c->disc_count != disc0 ? C2D_ENOCONN : C2D_ETIMEDOUT;
		}
	}
}

static bool cond_connack(struct c2d_client *c, void *arg)
{
	(void)arg;
	return c->connack_seen;
}

static bool cond_disc_moved(struct c2d_client *c, void *arg)
{
	return c->disc_count != *(unsigned *)arg;
}

/* Ends the loop thread: DISCONNECT if still connected, join. */
static void client_stop_loop(struct c2d_client *c)
{
	unsigned disc0;
	bool was_connected;
	int rc = 0;

	if(!c->loop_running){
		return;
	}
	pthread_mutex_lock(&c->mu);
	disc0 = c->disc_count;
	was_connected = c->connected || (!c->ended && !c->connack_seen);
	pthread_mutex_unlock(&c->mu);
	/* sets the state to disconnected (so the loop ends) and queues a
	 * DISCONNECT if the socket is open */
	mosquitto_disconnect(c->mosq);
	if(was_connected && mosquitto_socket(c->mosq) >= 0){
		pthread_mutex_lock(&c->mu);
		rc = c2dh_wait_locked(c, cond_disc_moved, &disc0, false, 0, C2D_ACK_TIMEOUT_MS);
		pthread_mutex_unlock(&c->mu);
	}
	if(rc == C2D_ETIMEDOUT){
		fprintf(stderr, DIAG "client %s: the loop did not end after DISCONNECT; cancelling it\n", c->id);
	}
	mosquitto_loop_stop(c->mosq, rc == C2D_ETIMEDOUT);
	c->loop_running = false;
}

int c2d_client_connect_ex(struct c2d_client *c, int port, int keepalive, const mosquitto_property *props)
{
	mosquitto_property *cprops = NULL;
	unsigned disc0;
	int rc;

	if(!c){
		return C2D_EFAIL;
	}
	client_stop_loop(c);
	if(c->protocol == MQTT_PROTOCOL_V5){
		if((props && c2dh_props_append(&cprops, props) != MOSQ_ERR_SUCCESS)
				|| (c->session_expiry
					&& mosquitto_property_add_int32(&cprops, MQTT_PROP_SESSION_EXPIRY_INTERVAL, c->session_expiry))){
			fprintf(stderr, DIAG "client %s: cannot build the CONNECT properties\n", c->id);
			mosquitto_property_free_all(&cprops);
			return C2D_EFAIL;
		}
	}else if(props){
		fprintf(stderr, DIAG "client %s: CONNECT properties need MQTT v5\n", c->id);
		return C2D_EFAIL;
	}
	pthread_mutex_lock(&c->mu);
	c->connack_seen = false;
	c->connack_rc = -1;
	c->connack_flags = 0;
	c->connected = false;
	c->ended = false;
	c->ndone = 0;
	disc0 = c->disc_count;
	pthread_mutex_unlock(&c->mu);

	rc = mosquitto_connect_bind_v5(c->mosq, "127.0.0.1", port, keepalive, NULL, cprops);
	mosquitto_property_free_all(&cprops);
	if(rc){
		fprintf(stderr, DIAG "client %s: connect to 127.0.0.1:%d failed: %s\n", c->id, port,
				rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
		return C2D_EFAIL;
	}
	rc = mosquitto_loop_start(c->mosq);
	if(rc){
		fprintf(stderr, DIAG "client %s: loop_start: %s\n", c->id, mosquitto_strerror(rc));
		return C2D_EFAIL;
	}
	c->loop_running = true;

	pthread_mutex_lock(&c->mu);
	rc = c2dh_wait_locked(c, cond_connack, NULL, true, disc0, C2D_ACK_TIMEOUT_MS);
	if(rc == 0){
		rc = c->connack_rc;
	}
	pthread_mutex_unlock(&c->mu);
	if(rc < 0){
		fprintf(stderr, DIAG "client %s: no CONNACK from 127.0.0.1:%d (%s)\n", c->id, port,
				rc == C2D_ETIMEDOUT ? "timed out" : "connection closed");
	}
	return rc;
}

int c2d_client_connect(struct c2d_client *c, const struct c2d_broker *b)
{
	if(!c || !b){
		return C2D_EFAIL;
	}
	return c2d_client_connect_ex(c, b->port, 60, NULL);
}

struct c2d_client *c2d_client_new_connected(const struct c2d_broker *b, const char *id, int protocol, bool clean)
{
	struct c2d_client *c;
	int rc;

	if(!b){
		return NULL;
	}
	c = c2d_client_new(id, protocol, clean);
	if(!c){
		return NULL;
	}
	rc = c2d_client_connect(c, b);
	if(rc != 0){
		fprintf(stderr, DIAG "client %s: expected CONNACK 0, got %d (0x%02x)\n", c->id, rc, rc < 0 ? 0 : rc);
		c2d_client_destroy(c);
		return NULL;
	}
	return c;
}

bool c2d_client_is_connected(struct c2d_client *c)
{
	bool r;

	if(!c){
		return false;
	}
	pthread_mutex_lock(&c->mu);
	r = c->connected;
	pthread_mutex_unlock(&c->mu);
	return r;
}

bool c2d_client_session_present(struct c2d_client *c)
{
	bool r;

	if(!c){
		return false;
	}
	pthread_mutex_lock(&c->mu);
	r = c->connack_seen && c->connack_rc == 0 && (c->connack_flags & 1);
	pthread_mutex_unlock(&c->mu);
	return r;
}

int c2d_client_disconnect(struct c2d_client *c)
{
	bool was;

	if(!c){
		return C2D_EFAIL;
	}
	pthread_mutex_lock(&c->mu);
	was = c->connected;
	pthread_mutex_unlock(&c->mu);
	client_stop_loop(c);
	return was ? 0 : C2D_ENOCONN;
}

int c2d_client_drop(struct c2d_client *c)
{
	unsigned disc0;
	int fd, rc;

	if(!c){
		return C2D_EFAIL;
	}
	rc = c2dh_require_connected(c, "drop", NULL, &disc0);
	if(rc){
		return rc;
	}
	fd = mosquitto_socket(c->mosq);
	if(fd < 0){
		fprintf(stderr, DIAG "client %s: drop: no socket\n", c->id);
		return C2D_ENOCONN;
	}
	shutdown(fd, SHUT_RDWR);
	pthread_mutex_lock(&c->mu);
	rc = c2dh_wait_locked(c, cond_disc_moved, &disc0, false, 0, C2D_ACK_TIMEOUT_MS);
	pthread_mutex_unlock(&c->mu);
	if(rc){
		fprintf(stderr, DIAG "client %s: drop: the loop did not see the connection end\n", c->id);
		return rc;
	}
	/* the loop thread ends by itself (the callback set the state) */
	mosquitto_loop_stop(c->mosq, false);
	c->loop_running = false;
	return 0;
}

static bool cond_ended(struct c2d_client *c, void *arg)
{
	(void)arg;
	return c->ended;
}

int c2d_client_wait_disconnect(struct c2d_client *c, int timeout_ms)
{
	int rc;

	if(!c){
		return C2D_EFAIL;
	}
	pthread_mutex_lock(&c->mu);
	if(!c->connected && !c->ended){
		pthread_mutex_unlock(&c->mu);
		return C2D_ENOCONN;
	}
	rc = c2dh_wait_locked(c, cond_ended, NULL, false, 0, timeout_ms);
	if(rc == 0){
		rc = c->disc_rc;
	}else{
		fprintf(stderr, DIAG "client %s: still connected after %d ms (expected a disconnect)\n", c->id,
				timeout_ms);
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

void c2d_client_destroy(struct c2d_client *c)
{
	if(!c){
		return;
	}
	client_stop_loop(c);
	mosquitto_destroy(c->mosq);
	c2d_client_inbox_clear(c);
	free(c->done);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c->id);
	free(c);
}
