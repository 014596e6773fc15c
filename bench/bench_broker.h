/* Brokers, a threaded client and the echo responder for the benchmarks (the programs in bench/): a /usr/sbin/mosquitto in a fresh
 * temp dir on a free loopback port, started with the bench's own config file
 * (each bench writes <dir>/mosquitto.conf between broker_prepare and
 * broker_launch), its log in <dir>/broker.log, stdout and stderr in
 * <dir>/broker.stderr, stopped with SIGTERM and its dir removed (kept with
 * C2D_KEEP=1). Header-only: every bench is one program. Include after the
 * system headers and _XOPEN_SOURCE 700. */
#ifndef C2D_BENCH_BROKER_H
#define C2D_BENCH_BROKER_H

#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <ftw.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

struct broker {
	bool plugin;
	pid_t pid;
	int port;
	char dir[64];
	char extra[256];             /* more config lines after the plugin's (plugin broker only) */
};

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A loopback port nobody listens on now, or -1. */
static inline int free_port(void)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int s, port = -1;

	s = socket(AF_INET, SOCK_STREAM, 0);
	if(s < 0) return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if(bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 && getsockname(s, (struct sockaddr *)&a, &alen) == 0){
		port = ntohs(a.sin_port);
	}
	close(s);
	return port;
}

static inline bool log_says_running(const struct broker *b)
{
	char path[128], line[512];
	bool running = false;
	FILE *f;

	snprintf(path, sizeof(path), "%s/broker.log", b->dir);
	f = fopen(path, "r");
	if(f == NULL) return false;
	while(!running && fgets(line, sizeof(line), f)){
		running = strstr(line, "mosquitto version") && strstr(line, " running");
	}
	fclose(f);
	return running;
}

static inline void broker_print_log(const struct broker *b)
{
	char path[128], line[512];
	const char *names[] = {"broker.log", "broker.stderr"};
	size_t i;
	FILE *f;

	for(i = 0; i < 2; i++){
		snprintf(path, sizeof(path), "%s/%s", b->dir, names[i]);
		f = fopen(path, "r");
		if(f == NULL) continue;
		fprintf(stderr, "---- %s ----\n", path);
		while(fgets(line, sizeof(line), f)) fputs(line, stderr);
		fclose(f);
	}
}

/* Fresh dir (/tmp/<prefix>-XXXXXX) and port. extra: copied, may be NULL. */
static inline int broker_prepare(struct broker *b, bool plugin, const char *prefix, const char *extra)
{
	memset(b, 0, sizeof(*b));
	b->plugin = plugin;
	snprintf(b->extra, sizeof(b->extra), "%s", extra ? extra : "");
	snprintf(b->dir, sizeof(b->dir), "/tmp/%s-XXXXXX", prefix);
	if(mkdtemp(b->dir) == NULL){
		perror("mkdtemp");
		b->dir[0] = '\0';
		return -1;
	}
	b->port = free_port();
	return b->port < 0 ? -1 : 0;
}

/* Create <dir>/mosquitto.conf with what every bench broker has: root stays
 * root, TCP_NODELAY (without it the broker's small writes wait for delayed
 * ACKs, ~40 ms per request/response at one in flight), the loopback
 * listener, anonymous clients, no persistence, the log file. The bench then
 * writes its own broker lines, broker_conf_close adds the plugin. NULL on
 * error. */
static inline FILE *broker_conf_open(const struct broker *b)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/mosquitto.conf", b->dir);
	f = fopen(path, "w");
	if(f == NULL) return NULL;
	if(geteuid() == 0) fprintf(f, "user root\n");
	fprintf(f, "set_tcp_nodelay true\n");
	fprintf(f, "listener %d 127.0.0.1\n", b->port);
	fprintf(f, "allow_anonymous true\npersistence false\n");
	fprintf(f, "log_dest file %s/broker.log\nlog_type error\nlog_type warning\nlog_type notice\n"
			"log_type information\n", b->dir);
	return f;
}

/* For the plugin broker: the plugin (path borrowed) with its db in the dir,
 * sync periodic, then b->extra (plugin brokers only); closes f. 0 or -1. */
static inline int broker_conf_close(const struct broker *b, FILE *f, const char *plugin)
{
	if(b->plugin){
		fprintf(f, "plugin %s\n", plugin);
		fprintf(f, "plugin_opt_db_path %s/db\n", b->dir);
		fprintf(f, "plugin_opt_sync periodic\n");
		fprintf(f, "%s", b->extra);
	}
	return fclose(f) == 0 ? 0 : -1;
}

/* Start (or restart) mosquitto with <dir>/mosquitto.conf and wait up to
 * timeout_s for "running" in its log. *ms (may be NULL): fork to running.
 * On failure prints the log, tagged with who (the bench's name). */
static inline int broker_launch(struct broker *b, const char *mosquitto, int timeout_s, const char *who, double *ms)
{
	char conf[128], path[128];
	pid_t parent = getpid();
	uint64_t t0;
	int errfd, i, st;

	snprintf(path, sizeof(path), "%s/broker.log", b->dir);
	unlink(path);
	snprintf(conf, sizeof(conf), "%s/mosquitto.conf", b->dir);
	snprintf(path, sizeof(path), "%s/broker.stderr", b->dir);
	errfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if(errfd < 0) return -1;
	t0 = now_ns();
	b->pid = fork();
	if(b->pid == 0){
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if(getppid() != parent) _exit(127);
		dup2(errfd, 1);
		dup2(errfd, 2);
		execl(mosquitto, "mosquitto", "-c", conf, (char *)NULL);
		_exit(127);
	}
	close(errfd);
	if(b->pid < 0) return -1;
	for(i = 0; i < timeout_s * 100; i++){
		if(log_says_running(b)){
			if(ms) *ms = (double)(now_ns() - t0) / 1e6;
			return 0;
		}
		if(waitpid(b->pid, &st, WNOHANG) == b->pid){
			b->pid = 0;
			break;
		}
		usleep(10000);
	}
	fprintf(stderr, "%s: the %s broker did not start\n", who, b->plugin ? "plugin" : "plain");
	broker_print_log(b);
	return -1;
}

static inline void broker_kill(struct broker *b)
{
	int st;

	if(b->pid > 0){
		kill(b->pid, SIGTERM);
		waitpid(b->pid, &st, 0);
		b->pid = 0;
	}
}

static inline int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Stop the broker and remove its dir (unless C2D_KEEP is set). */
static inline void broker_stop(struct broker *b)
{
	broker_kill(b);
	if(b->dir[0] && getenv("C2D_KEEP") == NULL) nftw(b->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	b->dir[0] = '\0';
}

/* ---- a threaded MQTT 5 client that waits for its CONNACK ---- */

/* Embed first in a bigger struct when the callbacks need more: the
 * libmosquitto userdata is the struct tclient. obj: free for the bench. */
struct tclient {
	struct mosquitto *m;
	atomic_int connack;          /* -1 until CONNACK */
	atomic_int suback;
	void *obj;
};

static inline void tc_on_connect(struct mosquitto *m, void *obj, int rc, int flags, const mosquitto_property *props)
{
	struct tclient *c = obj;

	(void)m;
	(void)flags;
	(void)props;
	atomic_store(&c->connack, rc);
}

static inline void tc_on_subscribe(struct mosquitto *m, void *obj, int mid, int count, const int *granted,
		const mosquitto_property *props)
{
	struct tclient *c = obj;

	(void)m;
	(void)mid;
	(void)count;
	(void)granted;
	(void)props;
	atomic_store(&c->suback, 1);
}

static inline bool wait_flag(atomic_int *flag, int want, int ms)
{
	int i;

	for(i = 0; i < ms / 5; i++){
		if(atomic_load(flag) == want) return true;
		usleep(5000);
	}
	return atomic_load(flag) == want;
}

/* Connect (MQTT 5, clean start, TCP_NODELAY, window = receive/send maximum)
 * on its own loop thread and subscribe to sub (QoS 1) if not NULL. The
 * callbacks may be NULL. who: the bench's name, for messages. */
static inline int tclient_open(struct tclient *c, const char *id, int port, const char *sub, int window,
		void (*on_message)(struct mosquitto *, void *, const struct mosquitto_message *, const mosquitto_property *),
		void (*on_publish)(struct mosquitto *, void *, int, int, const mosquitto_property *), const char *who)
{
	atomic_store(&c->connack, -1);
	atomic_store(&c->suback, 0);
	c->m = mosquitto_new(id, true, c);
	if(c->m == NULL) return -1;
	mosquitto_int_option(c->m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
	mosquitto_int_option(c->m, MOSQ_OPT_RECEIVE_MAXIMUM, window);
	mosquitto_int_option(c->m, MOSQ_OPT_SEND_MAXIMUM, window);
	mosquitto_int_option(c->m, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_connect_v5_callback_set(c->m, tc_on_connect);
	mosquitto_subscribe_v5_callback_set(c->m, tc_on_subscribe);
	if(on_message) mosquitto_message_v5_callback_set(c->m, on_message);
	if(on_publish) mosquitto_publish_v5_callback_set(c->m, on_publish);
	if(mosquitto_connect_bind_v5(c->m, "127.0.0.1", port, 60, NULL, NULL) != MOSQ_ERR_SUCCESS
			|| mosquitto_loop_start(c->m) != MOSQ_ERR_SUCCESS || !wait_flag(&c->connack, 0, 10000)){
		fprintf(stderr, "%s: %s: no CONNACK 0 from port %d\n", who, id, port);
		return -1;
	}
	if(sub && (mosquitto_subscribe_v5(c->m, NULL, sub, 1, 0, NULL) != MOSQ_ERR_SUCCESS
			|| !wait_flag(&c->suback, 1, 10000))){
		fprintf(stderr, "%s: %s: no SUBACK for %s\n", who, id, sub);
		return -1;
	}
	return 0;
}

static inline void tclient_close(struct tclient *c)
{
	if(c->m == NULL) return;
	mosquitto_disconnect(c->m);
	mosquitto_loop_stop(c->m, false);
	mosquitto_destroy(c->m);
	c->m = NULL;
}

/* The echo device / responder both benches use (a libmosquitto v5 message
 * callback): publish the payload back to the request's Response Topic with
 * its Correlation Data, QoS 1. Through the plugin the response topic is the
 * delivery's $c2d/{dev}/out/res/{id}; in plain MQTT it is the app's own. */
static inline void echo_on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
		const mosquitto_property *props)
{
	mosquitto_property *out = NULL;
	char *resp = NULL;
	void *corr = NULL;
	uint16_t corr_len = 0;

	(void)obj;
	if(mosquitto_property_read_string(props, MQTT_PROP_RESPONSE_TOPIC, &resp, false) == NULL) return;
	if(mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA, &corr, &corr_len, false)){
		mosquitto_property_add_binary(&out, MQTT_PROP_CORRELATION_DATA, corr, corr_len);
	}
	mosquitto_publish_v5(m, NULL, resp, msg->payloadlen, msg->payload, 1, false, out);
	mosquitto_property_free_all(&out);
	free(resp);
	free(corr);
}

/* ---- a client that sends one request at a time and waits for the reply
 * on its own topic (an operator's admin commands, an RPC caller) ---- */

struct rclient {
	struct tclient c;            /* first: the libmosquitto userdata */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	char *reply;                 /* the last reply, owned */
	atomic_int acked;            /* PUBACKs of everything it published */
	const char *reply_topic;     /* borrowed */
};

static inline void rc_on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
		const mosquitto_property *props)
{
	struct rclient *r = obj;
	char *text = malloc((size_t)msg->payloadlen + 1);

	(void)m;
	(void)props;
	if(text == NULL) return;
	memcpy(text, msg->payload, (size_t)msg->payloadlen);
	text[msg->payloadlen] = '\0';
	pthread_mutex_lock(&r->mu);
	free(r->reply);
	r->reply = text;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
}

static inline void rc_on_publish(struct mosquitto *m, void *obj, int mid, int rc, const mosquitto_property *props)
{
	(void)m;
	(void)mid;
	(void)rc;
	(void)props;
	atomic_fetch_add(&((struct rclient *)obj)->acked, 1);
}

/* Connect (tclient_open) subscribed to reply_topic (borrowed, kept). */
static inline int rclient_open(struct rclient *r, const char *id, int port, const char *reply_topic, int window,
		const char *who)
{
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->cv, NULL);
	r->reply = NULL;
	r->reply_topic = reply_topic;
	atomic_store(&r->acked, 0);
	return tclient_open(&r->c, id, port, reply_topic, window, rc_on_message, rc_on_publish, who);
}

/* Publish payload on topic (QoS 1, the reply topic and correlation data as
 * properties) and wait at most timeout_ms for the reply: returned, caller
 * frees; NULL if none came. */
static inline char *rclient_request(struct rclient *r, const char *topic, const char *payload, int timeout_ms)
{
	mosquitto_property *props = NULL;
	struct timespec ts;
	char *reply;

	mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, r->reply_topic);
	mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, "c", 1);
	pthread_mutex_lock(&r->mu);
	free(r->reply);
	r->reply = NULL;
	pthread_mutex_unlock(&r->mu);
	mosquitto_publish_v5(r->c.m, NULL, topic, (int)strlen(payload), payload, 1, false, props);
	mosquitto_property_free_all(&props);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if(ts.tv_nsec >= 1000000000L){
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&r->mu);
	while(r->reply == NULL && pthread_cond_timedwait(&r->cv, &r->mu, &ts) == 0){
	}
	reply = r->reply;
	r->reply = NULL;
	pthread_mutex_unlock(&r->mu);
	return reply;
}

/* One admin command (a JSON object's text) on $CONTROL/c2d/v1, a minute at
 * most: the reply's text (caller frees) or NULL. */
static inline char *rclient_admin(struct rclient *r, const char *cmd)
{
	size_t n = strlen(cmd) + 32;
	char *payload = malloc(n), *reply;

	if(payload == NULL) return NULL;
	snprintf(payload, n, "{\"commands\":[%s]}", cmd);
	reply = rclient_request(r, "$CONTROL/c2d/v1", payload, 60000);
	free(payload);
	return reply;
}

#endif
