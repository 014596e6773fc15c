/* Test helpers for the libc2d-device suite: see util.h. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

static void copy_text(char *dst, size_t cap, const void *src, size_t len)
{
	if(len >= cap) len = cap - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

static int on_rpc(struct c2d_device *d, const char *method, const void *params, size_t len,
		struct c2d_result *res, void *ud)
{
	struct tdev *t = ud;

	(void)d;
	pthread_mutex_lock(&t->mu);
	t->rpcs++;
	copy_text(t->method, sizeof(t->method), method, strlen(method));
	copy_text(t->id, sizeof(t->id), c2d_result_id(res), strlen(c2d_result_id(res)));
	copy_text(t->payload, sizeof(t->payload), params, len);
	pthread_mutex_unlock(&t->mu);
	if(t->rpc_reply){
		c2d_result_set(res, t->rpc_reply, strlen(t->rpc_reply));
	}else{
		c2d_result_set(res, params, len);
	}
	return t->rpc_status;
}

static int on_msg(struct c2d_device *d, const char *id, const void *payload, size_t len, void *ud)
{
	struct tdev *t = ud;

	(void)d;
	pthread_mutex_lock(&t->mu);
	t->msgs++;
	copy_text(t->id, sizeof(t->id), id, strlen(id));
	copy_text(t->payload, sizeof(t->payload), payload, len);
	pthread_mutex_unlock(&t->mu);
	return t->msg_status;
}

static int on_desired(struct c2d_device *d, long long version, const char *patch, int full, void *ud)
{
	struct tdev *t = ud;

	(void)d;
	pthread_mutex_lock(&t->mu);
	t->desireds++;
	t->version = version;
	t->full = full;
	copy_text(t->patch, sizeof(t->patch), patch, strlen(patch));
	pthread_mutex_unlock(&t->mu);
	return t->desired_status;
}

static void on_conn(struct c2d_device *d, int connected, int reason, const char *text, void *ud)
{
	struct tdev *t = ud;

	(void)d;
	(void)text;
	pthread_mutex_lock(&t->mu);
	if(connected){
		t->connects++;
	}else{
		t->drops++;
		t->last_reason = reason;
	}
	pthread_mutex_unlock(&t->mu);
}

void td_on_reply(struct c2d_device *d, int status, const void *body, size_t len, void *ud)
{
	struct tdev *t = ud;

	(void)d;
	pthread_mutex_lock(&t->mu);
	t->replies++;
	t->reply_status = status;
	copy_text(t->reply_body, sizeof(t->reply_body), body, len);
	pthread_mutex_unlock(&t->mu);
}

/* A tdev recording the handlers of d (borrowed until td_free). */
static struct tdev *td_wrap(struct c2d_device *d)
{
	struct tdev *t = calloc(1, sizeof(*t));

	ck_assert_ptr_nonnull(t);
	ck_assert_ptr_nonnull(d);
	pthread_mutex_init(&t->mu, NULL);
	t->rpc_status = t->msg_status = t->desired_status = 200;
	t->d = d;
	ck_assert_int_eq(c2d_device_on_rpc(t->d, NULL, on_rpc, t), 0);
	ck_assert_int_eq(c2d_device_on_message(t->d, on_msg, t), 0);
	ck_assert_int_eq(c2d_device_on_desired(t->d, on_desired, t), 0);
	ck_assert_int_eq(c2d_device_on_connection(t->d, on_conn, t), 0);
	return t;
}

struct tdev *td_new(const char *id, int port, int protocol)
{
	struct tdev *t = td_wrap(c2d_device_new(id, "127.0.0.1", port));

	ck_assert_int_eq(c2d_device_set_protocol(t->d, protocol == V311 ? 4 : 5), 0);
	ck_assert_int_eq(c2d_device_set_reconnect(t->d, 100, 400), 0);
	return t;
}

struct tdev *td_sub(struct tdev *gw, const char *sub)
{
	struct tdev *t = td_wrap(c2d_device_gateway_sub(gw->d, sub));

	t->sub = true;
	ck_assert_ptr_eq(c2d_device_gateway(t->d), gw->d);
	return t;
}

static void *loop_main(void *arg)
{
	struct tdev *t = arg;

	while(!t->stop){
		if(c2d_device_loop(t->d, 50) != 0) break;
	}
	return NULL;
}

void td_run(struct tdev *t)
{
	if(t->running) return;
	t->stop = 0;
	ck_assert_int_eq(pthread_create(&t->th, NULL, loop_main, t), 0);
	t->running = true;
}

void td_pause(struct tdev *t)
{
	if(!t->running) return;
	t->stop = 1;
	pthread_join(t->th, NULL);
	t->running = false;
}

void td_start(struct tdev *t, struct c2d_client *mon)
{
	int before;

	pthread_mutex_lock(&t->mu);
	before = t->connects;
	pthread_mutex_unlock(&t->mu);
	if(mon) c2d_client_inbox_clear(mon);
	ck_assert_int_eq(c2d_device_connect(t->d), 0);
	td_run(t);
	ck_assert_msg(td_wait(t, &t->connects, before + 1, TD_WAIT_MS), "device %s did not connect",
			c2d_device_id(t->d));
	if(mon){
		char *topic = c2d_strf("$c2d/%s/events/presence", c2d_device_id(t->d));
		struct c2d_msg *m = c2d_client_wait_msg(mon, topic, TD_WAIT_MS);

		ck_assert_msg(m != NULL, "no presence event for %s", c2d_device_id(t->d));
		ck_assert_ptr_nonnull(strstr(m->payload, "c2d.presence.connected"));
		c2d_msg_free(m);
		free(topic);
	}
}

void td_free(struct tdev *t)
{
	if(t == NULL) return;
	td_pause(t);
	if(!t->sub) c2d_device_free(t->d);
	pthread_mutex_destroy(&t->mu);
	free(t);
}

bool td_wait(struct tdev *t, const int *counter, int n, int timeout_ms)
{
	uint64_t end = c2d_now_ms() + (uint64_t)timeout_ms;
	int v;

	for(;;){
		pthread_mutex_lock(&t->mu);
		v = *counter;
		pthread_mutex_unlock(&t->mu);
		if(v >= n) return true;
		if(c2d_now_ms() >= end) return false;
		c2d_sleep_ms(20);
	}
}

struct tdev *env_open(struct env *e, const struct c2d_broker_opts *opts, const char *id, int protocol)
{
	e->b = opts ? c2d_broker_start(opts) : fx_start(NULL);
	ck_assert_ptr_nonnull(e->b);
	e->mon = fx_monitor(e->b, EVENTS);
	e->app = fx_app(e->b, FX_REPLIES);
	e->t = id ? td_new(id, e->b->port, protocol) : NULL;
	return e->t;
}

void env_close(struct env *e)
{
	td_free(e->t);
	c2d_client_destroy(e->app);
	c2d_client_destroy(e->mon);
	c2d_broker_cleanup(e->b);
}

int free_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port = -1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if(s >= 0 && bind(s, (struct sockaddr *)&a, sizeof(a)) == 0
			&& getsockname(s, (struct sockaddr *)&a, &len) == 0){
		port = ntohs(a.sin_port);
	}
	if(s >= 0) close(s);
	ck_assert_int_gt(port, 0);
	return port;
}

long json_long(const struct c2d_msg *m, const char *key)
{
	cJSON *o = fx_json(m);
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	long n;

	ck_assert_msg(cJSON_IsNumber(v), "no number %s in %s", key, m->payload);
	n = (long)v->valuedouble;
	cJSON_Delete(o);
	return n;
}

cJSON *get_twin(struct c2d_client *app, const char *dev)
{
	char *topic = c2d_strf("$c2d/%s/twin/get", dev);
	struct c2d_msg *m = fx_request(app, topic, "", "200");
	cJSON *o = fx_json(m);

	c2d_msg_free(m);
	free(topic);
	return o;
}
