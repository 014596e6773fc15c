/* Scale benchmark: the plugin with many devices, against plain Mosquitto
 * where a comparison makes sense.
 *
 *   1. twins:     N devices get a desired twin patch (QoS 1, many in flight,
 *                 one client); broker RSS after the load, restart time,
 *                 RSS after the restart, LMDB file size.
 *   2. reconnect: R devices, each with a pending twin patch and 10 queued
 *                 messages, connect at once and answer every delivery; the
 *                 time until all R * 11 answers are acknowledged. Plain
 *                 Mosquitto: the same devices with persistent sessions
 *                 (clean session false, subscribed, QoS 1) receive 10 queued
 *                 messages each.
 *   3. expiry:    M messages to 1000 offline devices, all expiring in the
 *                 same second, while lightweight RPCs run at one in flight
 *                 against an online echo device: RPC p50/p99 before and
 *                 during the expiry sweep, and the sweep's duration.
 *
 * Brokers are started here (temp dir, free loopback port), the plugin with
 * sync periodic (fsync out of the way). Sizes: SCALE_DEVICES (100000),
 * SCALE_RECONNECT (10000), SCALE_EXPIRE (1000000, scaled down to what loads
 * in about 3 minutes), SCALE_QUICK=1 tiny sizes, SCALE_PLUGIN another build of
 * the plugin (the previous release, for before/after), SCALE_ONLY=2 one
 * scenario, SCALE_C2D_ONLY=1 the c2d storm without the plain ones,
 * SCALE_EVENTS=none the c2d storm's plugin_opt_events. Markdown on stdout,
 * progress on stderr. */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "bench_broker.h"

#ifndef C2D_PLUGIN_PATH
#define C2D_PLUGIN_PATH "build/mosquitto_c2d.so"
#endif

#define POOL_PROCS 4
#define CONNECT_BURST 16          /* handshakes in progress per worker: 64 in all, under
                                    * Mosquitto's listen backlog of 100 */
#define WINDOW 1000                 /* QoS 1 publishes in flight while loading */
#define MSGS_PER_DEV 10
#define EXPIRE_DEVS 1000
#define LOAD_BUDGET_S 170.0         /* scenario 3: the load must fit in ~3 min */
#define RPC_SAMPLES_MAX 4000000u
#define TWIN_PATCH "{\"fw\":\"1.2.3\",\"interval\":60}"

struct opts {
	unsigned devices, reconnect, expire;
	int answer_qos;              /* scenario 2: QoS of the devices' answers (SCALE_ANSWER_QOS) */
	bool quick;
	bool c2d_only;               /* scenario 2: the c2d storm only (SCALE_C2D_ONLY=1) */
	const char *events;          /* scenario 2: plugin_opt_events of the c2d storm (SCALE_EVENTS), NULL: not set */
	const char *mosquitto, *plugin;
};

static struct opts o;

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static double secs(uint64_t a, uint64_t b)
{
	return (double)(b - a) / 1e9;
}

static unsigned env_uint(const char *name, unsigned def)
{
	const char *s = getenv(name);
	char *end;
	unsigned long v;

	if(s == NULL || *s == '\0') return def;
	errno = 0;
	v = strtoul(s, &end, 10);
	if(errno || *end || v == 0 || v > 100000000ul){
		fprintf(stderr, "scale_bench: ignoring %s=%s\n", name, s);
		return def;
	}
	return (unsigned)v;
}

/* ---- brokers ---- */

static int write_conf(const struct broker *b)
{
	FILE *f = broker_conf_open(b);

	if(f == NULL) return -1;
	fprintf(f, "max_connections -1\nconnection_messages false\nsys_interval 1\n");
	fprintf(f, "max_inflight_messages %d\nmax_queued_messages 1000\n", WINDOW);
	return broker_conf_close(b, f, o.plugin);
}

static int broker_start(struct broker *b, bool plugin, const char *extra)
{
	if(broker_prepare(b, plugin, "c2d-scale", extra) || write_conf(b)) return -1;
	return broker_launch(b, o.mosquitto, 600, "scale_bench", NULL);
}

/* A field of /proc/<pid>/status ("VmRSS:") in MiB, or -1. */
static double status_mib(pid_t pid, const char *field)
{
	char path[64], line[256];
	double kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if(f == NULL) return -1;
	while(fgets(line, sizeof(line), f)){
		if(strncmp(line, field, strlen(field)) == 0){
			kib = strtod(line + strlen(field), NULL);
			break;
		}
	}
	fclose(f);
	return kib < 0 ? -1 : kib / 1024.0;
}

static double rss_mib(pid_t pid)
{
	return status_mib(pid, "VmRSS:");
}

/* "75.8 MiB (anon 20.1, file 55.0)": file = LMDB's mapped pages */
static const char *rss_text(pid_t pid, char *buf, size_t len)
{
	snprintf(buf, len, "%.1f MiB (anon %.1f, file %.1f)", rss_mib(pid), status_mib(pid, "RssAnon:"),
			status_mib(pid, "RssFile:"));
	return buf;
}

/* ---- the loader: total QoS 1 publishes, WINDOW in flight ---- */

struct loader;
typedef void (*make_fn)(struct loader *l, uint64_t k, char *topic, size_t tlen, const char **payload,
		mosquitto_property **props);

struct loader {
	struct tclient c;            /* first */
	pthread_mutex_t mu;
	uint64_t total, next, acked, failed;
	make_fn make;
	void *arg;
};

static void loader_send(struct loader *l, uint64_t k)
{
	mosquitto_property *props = NULL;
	const char *payload = "";
	char topic[256];

	l->make(l, k, topic, sizeof(topic), &payload, &props);
	if(mosquitto_publish_v5(l->c.m, NULL, topic, (int)strlen(payload), payload, 1, false, props)){
		pthread_mutex_lock(&l->mu);
		l->failed++;
		l->acked++;
		pthread_mutex_unlock(&l->mu);
	}
	mosquitto_property_free_all(&props);
}

static void loader_on_publish(struct mosquitto *m, void *obj, int mid, int reason, const mosquitto_property *props)
{
	struct loader *l = obj;
	uint64_t k = 0;
	bool more;

	(void)m;
	(void)mid;
	(void)props;
	pthread_mutex_lock(&l->mu);
	l->acked++;
	if(reason >= 0x80) l->failed++;
	more = l->next < l->total;
	if(more) k = l->next++;
	pthread_mutex_unlock(&l->mu);
	if(more) loader_send(l, k);
}

/* Publish total messages; returns the seconds it took, or -1. */
static double load(int port, const char *id, uint64_t total, make_fn make, void *arg, uint64_t *failed)
{
	struct loader l;
	uint64_t t0, k, acked = 0;
	unsigned i;
	double took = -1;

	memset(&l, 0, sizeof(l));
	pthread_mutex_init(&l.mu, NULL);
	l.total = total;
	l.make = make;
	l.arg = arg;
	if(tclient_open(&l.c, id, port, NULL, WINDOW, NULL, loader_on_publish, "scale_bench")) goto out;
	t0 = now_ns();
	for(i = 0; i < WINDOW; i++){
		bool more;

		pthread_mutex_lock(&l.mu);
		more = l.next < l.total;
		k = l.next++;
		pthread_mutex_unlock(&l.mu);
		if(!more) break;
		loader_send(&l, k);
	}
	for(i = 0; i < 60000; i++){ /* 600 s */
		pthread_mutex_lock(&l.mu);
		acked = l.acked;
		pthread_mutex_unlock(&l.mu);
		if(acked >= total) break;
		usleep(10000);
	}
	if(acked >= total) took = secs(t0, now_ns());
	else fprintf(stderr, "scale_bench: %s: only %" PRIu64 " of %" PRIu64 " acknowledged\n", id, acked, total);
	if(failed) *failed = l.failed;
out:
	tclient_close(&l.c);
	pthread_mutex_destroy(&l.mu);
	return took;
}

/* ---- scenario 1: twins at scale ---- */

static void make_twin(struct loader *l, uint64_t k, char *topic, size_t tlen, const char **payload,
		mosquitto_property **props)
{
	(void)l;
	(void)props;
	snprintf(topic, tlen, "$c2d/dev-%" PRIu64 "/twin/desired", k);
	*payload = TWIN_PATCH;
}

static void dir_size(const char *path, double *apparent_mib, double *alloc_mib)
{
	struct stat st;

	*apparent_mib = *alloc_mib = -1;
	if(stat(path, &st) == 0){
		*apparent_mib = (double)st.st_size / 1048576.0;
		*alloc_mib = (double)st.st_blocks * 512.0 / 1048576.0;
	}
}

static int scenario_twins(void)
{
	struct broker b;
	char path[128];
	double took, restart_ms, app, alloc;
	char rss0[64], rss_load[64], rss_restart[64];
	uint64_t failed = 0;
	int rc = -1;

	memset(&b, 0, sizeof(b));
	fprintf(stderr, "scale_bench: 1. %u twins...\n", o.devices);
	if(broker_start(&b, true, NULL)) goto out;
	rss_text(b.pid, rss0, sizeof(rss0));
	took = load(b.port, "scale-twins", o.devices, make_twin, NULL, &failed);
	if(took < 0) goto out;
	sleep(1); /* one periodic sync, the tick settles */
	rss_text(b.pid, rss_load, sizeof(rss_load));
	broker_kill(&b);
	if(broker_launch(&b, o.mosquitto, 600, "scale_bench", &restart_ms)) goto out;
	sleep(1);
	rss_text(b.pid, rss_restart, sizeof(rss_restart));
	snprintf(path, sizeof(path), "%s/db/data.mdb", b.dir);
	dir_size(path, &app, &alloc);

	printf("## Scale 1: %u device twins\n\n", o.devices);
	printf("Plugin broker, `plugin_opt_sync periodic`; one client writes `%s` to "
			"`$c2d/dev-<i>/twin/desired`, QoS 1, %d in flight.\n\n", TWIN_PATCH, WINDOW);
	printf("| metric | value |\n|---|---:|\n");
	printf("| twins written | %u (%" PRIu64 " refused) |\n", o.devices, failed);
	printf("| load time | %.1f s (%.0f patches/s) |\n", took, o.devices / took);
	printf("| broker RSS, empty | %s |\n", rss0);
	printf("| broker RSS after load | %s |\n", rss_load);
	printf("| restart (exec to \"running\" logged) | %.0f ms |\n", restart_ms);
	printf("| broker RSS after restart | %s |\n", rss_restart);
	printf("| data.mdb size (apparent / allocated) | %.1f / %.1f MiB |\n\n", app, alloc);
	fflush(stdout);
	rc = failed ? -1 : 0;
out:
	broker_stop(&b);
	return rc;
}

/* ---- scenario 2: R devices reconnecting at once ---- */

enum { POOL_IDLE, POOL_CONNECT, POOL_DISCONNECT };

struct pool;

struct pdev {
	struct mosquitto *m;
	struct pool *pool;
	unsigned idx;
	bool want;                   /* should be connected */
	bool up;                     /* CONNACK seen, not disconnected since */
	uint64_t retry_ns;           /* next (re)connect attempt */
};

/* Shared between the bench and its POOL_PROCS worker processes (a shared
 * anonymous mapping): libmosquitto takes three descriptors per client (its
 * socket and a socketpair), so 10000 clients do not fit one process's
 * RLIMIT_NOFILE. Worker w drives devices w, w + POOL_PROCS, ... */
struct pool {
	unsigned n;
	bool c2d;
	int port;
	pid_t pid[POOL_PROCS];
	atomic_int cmd;
	atomic_uint gen, done_gen;
	atomic_bool stop, subscribe;
	bool plain_answers;          /* plain devices publish a result per message too */
	atomic_int answer_qos;
	atomic_ulong connected, subscribed, received, answered, closed, failed;
	atomic_ulong sent;           /* answers written (QoS 0: on_publish fires once written) */
	atomic_ullong last_connack_ns; /* CLOCK_MONOTONIC of the latest CONNACK, any process */
};

static void pd_on_connect(struct mosquitto *m, void *obj, int rc)
{
	struct pdev *d = obj;
	char topic[64];
	unsigned long long t = now_ns(), seen;

	if(rc) return;
	d->up = true;
	atomic_fetch_add(&d->pool->connected, 1);
	seen = atomic_load(&d->pool->last_connack_ns);
	while(seen < t && !atomic_compare_exchange_weak(&d->pool->last_connack_ns, &seen, t)){
	}
	if(atomic_load(&d->pool->subscribe)){
		snprintf(topic, sizeof(topic), "plain/dev-%u/#", d->idx);
		mosquitto_subscribe(m, NULL, topic, 1);
	}
}

static void pd_on_subscribe(struct mosquitto *m, void *obj, int mid, int count, const int *granted)
{
	struct pdev *d = obj;

	(void)m;
	(void)mid;
	(void)count;
	(void)granted;
	atomic_fetch_add(&d->pool->subscribed, 1);
}

static void pd_on_disconnect(struct mosquitto *m, void *obj, int rc)
{
	struct pdev *d = obj;

	(void)m;
	(void)rc;
	if(d->up && !d->want) atomic_fetch_add(&d->pool->closed, 1);
	d->up = false;
}

static void pd_on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
	struct pdev *d = obj;
	const char *id;
	char topic[128];

	atomic_fetch_add(&d->pool->received, 1);
	if(!d->pool->c2d && !d->pool->plain_answers) return;
	id = strrchr(msg->topic, '/');
	if(id == NULL) return;
	if(d->pool->c2d){
		snprintf(topic, sizeof(topic), "$c2d/dev-%u/out/res/%s", d->idx, id + 1);
	}else{
		/* the same answer on a plain topic nobody subscribes to */
		snprintf(topic, sizeof(topic), "plainres/dev-%u/%d", d->idx, msg->mid);
	}
	if(mosquitto_publish(m, NULL, topic, 0, NULL, atomic_load(&d->pool->answer_qos), false)) atomic_fetch_add(&d->pool->failed, 1);
}

/* QoS 1: the answer's PUBACK; QoS 0: the answer was written. */
static void pd_on_publish(struct mosquitto *m, void *obj, int mid)
{
	struct pdev *d = obj;

	(void)m;
	(void)mid;
	atomic_fetch_add(&d->pool->sent, 1);
	if(atomic_load(&d->pool->answer_qos)) atomic_fetch_add(&d->pool->answered, 1);
}

/* Worker process w: its devices, driven with poll on non-blocking sockets. */
static void pool_worker(struct pool *p, unsigned w)
{
	unsigned seen = 0, i, k, n = 0;
	struct pdev *d;
	struct pollfd *pfd;
	unsigned *map;
	uint64_t last_misc = now_ns();

	d = calloc(p->n / POOL_PROCS + 1, sizeof(*d));
	pfd = calloc(p->n / POOL_PROCS + 1, sizeof(*pfd));
	map = calloc(p->n / POOL_PROCS + 1, sizeof(*map));
	if(d == NULL || pfd == NULL || map == NULL) _exit(1);
	for(i = w; i < p->n; i += POOL_PROCS, n++){
		char id[32];

		snprintf(id, sizeof(id), "dev-%u", i);
		d[n].pool = p;
		d[n].idx = i;
		/* plain: a persistent session (MQTT 3.1.1, clean session false) */
		d[n].m = mosquitto_new(id, p->c2d, &d[n]);
		if(d[n].m == NULL){
			fprintf(stderr, "scale_bench: worker %u: mosquitto_new failed at %u\n", w, n);
			_exit(1);
		}
		mosquitto_connect_callback_set(d[n].m, pd_on_connect);
		mosquitto_subscribe_callback_set(d[n].m, pd_on_subscribe);
		mosquitto_disconnect_callback_set(d[n].m, pd_on_disconnect);
		mosquitto_message_callback_set(d[n].m, pd_on_message);
		mosquitto_publish_callback_set(d[n].m, pd_on_publish);
	}
	atomic_fetch_add(&p->done_gen, 1);
	while(!atomic_load(&p->stop) && getppid() != 1){
		unsigned g = atomic_load(&p->gen);

		if(g != seen){
			int cmd = atomic_load(&p->cmd);

			seen = g;
			for(i = 0; i < n; i++){
				if(cmd == POOL_CONNECT){
					d[i].want = true;
					d[i].retry_ns = 0;
				}else if(cmd == POOL_DISCONNECT){
					d[i].want = false;
					mosquitto_disconnect(d[i].m);
				}
			}
			atomic_fetch_add(&p->done_gen, 1);
		}
		/* (re)connect: at most CONNECT_BURST handshakes in progress, so
		 * that no SYN is dropped at the broker's full listen backlog (the
		 * kernel would retry after 1, 3, 7... s); a refused or reset
		 * attempt is tried again after 100 ms */
		for(i = 0, k = 0; i < n; i++){
			if(d[i].want && !d[i].up && mosquitto_socket(d[i].m) >= 0) k++;
		}
		for(i = 0; i < n && k < CONNECT_BURST; i++){
			if(d[i].want && !d[i].up && mosquitto_socket(d[i].m) < 0 && now_ns() >= d[i].retry_ns){
				d[i].retry_ns = now_ns() + 100000000u;
				k++;
				if(mosquitto_connect_async(d[i].m, "127.0.0.1", p->port, 120)) atomic_fetch_add(&p->failed, 1);
			}
		}
		k = 0;
		for(i = 0; i < n; i++){
			int s = mosquitto_socket(d[i].m);

			if(s < 0) continue;
			pfd[k].fd = s;
			pfd[k].events = POLLIN | (mosquitto_want_write(d[i].m) ? POLLOUT : 0);
			pfd[k].revents = 0;
			map[k++] = i;
		}
		if(k == 0){
			usleep(5000);
			continue;
		}
		if(poll(pfd, k, 5) < 0 && errno != EINTR) break;
		for(i = 0; i < k; i++){
			struct mosquitto *m = d[map[i]].m;

			if(pfd[i].revents & (POLLIN | POLLERR | POLLHUP)) mosquitto_loop_read(m, 1);
			if((pfd[i].revents & POLLOUT) && mosquitto_socket(m) >= 0) mosquitto_loop_write(m, 1);
		}
		if(now_ns() - last_misc > 200000000u){
			last_misc = now_ns();
			for(i = 0; i < n; i++) mosquitto_loop_misc(d[i].m);
		}
	}
	for(i = 0; i < n; i++) mosquitto_destroy(d[i].m);
	_exit(0);
}

static void pool_close(struct pool *p)
{
	unsigned i;
	int st;

	if(p == NULL) return;
	atomic_store(&p->stop, true);
	for(i = 0; i < POOL_PROCS; i++){
		if(p->pid[i] > 0) waitpid(p->pid[i], &st, 0);
	}
	munmap(p, sizeof(*p));
}

static struct pool *pool_open(unsigned n, bool c2d, int port)
{
	struct pool *p;
	pid_t parent = getpid();
	unsigned i;

	p = mmap(NULL, sizeof(*p), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if(p == MAP_FAILED) return NULL;
	memset(p, 0, sizeof(*p));
	p->n = n;
	p->c2d = c2d;
	p->port = port;
	fflush(stdout);
	fflush(stderr);
	for(i = 0; i < POOL_PROCS; i++){
		p->pid[i] = fork();
		if(p->pid[i] == 0){
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			if(getppid() != parent) _exit(1);
			pool_worker(p, i);
		}
		if(p->pid[i] < 0){
			pool_close(p);
			return NULL;
		}
	}
	for(i = 0; i < 30000 && atomic_load(&p->done_gen) < POOL_PROCS; i++) usleep(1000);
	if(atomic_load(&p->done_gen) < POOL_PROCS){
		pool_close(p);
		return NULL;
	}
	return p;
}

static void pool_command(struct pool *p, int cmd)
{
	unsigned want = atomic_load(&p->done_gen) + POOL_PROCS;
	int i;

	atomic_store(&p->cmd, cmd);
	atomic_fetch_add(&p->gen, 1);
	for(i = 0; i < 60000 && atomic_load(&p->done_gen) < want; i++) usleep(1000);
}

/* Wait until *counter >= want, at most s seconds; returns the seconds. */
static double wait_count(atomic_ulong *counter, unsigned long want, double s, const char *what)
{
	uint64_t t0 = now_ns();

	while(atomic_load(counter) < want){
		if(secs(t0, now_ns()) > s){
			fprintf(stderr, "scale_bench: %s: %lu of %lu after %.0f s\n", what, atomic_load(counter), want, s);
			return -1;
		}
		usleep(2000);
	}
	return secs(t0, now_ns());
}

static void make_patch(struct loader *l, uint64_t k, char *topic, size_t tlen, const char **payload,
		mosquitto_property **props)
{
	(void)l;
	(void)props;
	snprintf(topic, tlen, "$c2d/dev-%" PRIu64 "/twin/desired", k);
	*payload = "{\"interval\":30}";
}

static void make_msg(struct loader *l, uint64_t k, char *topic, size_t tlen, const char **payload,
		mosquitto_property **props)
{
	unsigned r = *(unsigned *)l->arg;

	(void)props;
	snprintf(topic, tlen, "$c2d/dev-%" PRIu64 "/msg", k % r);
	*payload = "{\"cmd\":\"set\",\"value\":42}";
}

static void make_plain(struct loader *l, uint64_t k, char *topic, size_t tlen, const char **payload,
		mosquitto_property **props)
{
	unsigned r = *(unsigned *)l->arg;

	(void)props;
	snprintf(topic, tlen, "plain/dev-%" PRIu64 "/m", k % r);
	*payload = "{\"cmd\":\"set\",\"value\":42}";
}

/* One of the plugin's getStats counters ("storeCommits", "responses"; admin
 * getStats, asked with mosquitto_rr), or -1. getStats writes nothing. */
static long long c2d_stat(int port, const char *name)
{
	char cmd[256], out[2048], key[64];
	const char *p;
	size_t n;
	FILE *f;

	snprintf(cmd, sizeof(cmd), "mosquitto_rr -V 5 -h 127.0.0.1 -p %d -t '$CONTROL/c2d/v1' "
			"-e '$CONTROL/c2d/v1/response' -m '{\"commands\":[{\"command\":\"getStats\"}]}' -W 5 2>/dev/null", port);
	f = popen(cmd, "r");
	if(f == NULL) return -1;
	n = fread(out, 1, sizeof(out) - 1, f);
	pclose(f);
	out[n] = '\0';
	snprintf(key, sizeof(key), "\"%s\":", name);
	for(p = strstr(out, key); p; p = strstr(p + 1, key)){ /* the counter, not {"responses":[ */
		if(p[strlen(key)] >= '0' && p[strlen(key)] <= '9') return atoll(p + strlen(key));
	}
	return -1;
}

/* The broker's packet counters ($SYS/broker/messages/received and /sent:
 * every MQTT packet read or written, any type), as last published (the bench
 * brokers run with sys_interval 1). 0 on success. */
static int sys_packets(int port, long long *rx, long long *tx)
{
	char cmd[256], line[256];
	FILE *f;
	int got = 0;

	*rx = *tx = -1;
	snprintf(cmd, sizeof(cmd), "mosquitto_sub -h 127.0.0.1 -p %d -v -C 2 -W 5 -t '$SYS/broker/messages/received' "
			"-t '$SYS/broker/messages/sent' 2>/dev/null", port);
	f = popen(cmd, "r");
	if(f == NULL) return -1;
	while(fgets(line, sizeof(line), f)){
		if(strncmp(line, "$SYS/broker/messages/received ", 30) == 0) *rx = atoll(line + 30), got++;
		if(strncmp(line, "$SYS/broker/messages/sent ", 26) == 0) *tx = atoll(line + 26), got++;
	}
	pclose(f);
	return got == 2 ? 0 : -1;
}

enum storm_kind { STORM_C2D, STORM_PLAIN, STORM_PLAIN_ANSWERS };

struct storm {
	double t;                    /* seconds to the end (see reconnect_run), -1: failed */
	double conn_s;               /* to the last CONNACK */
	long long commits;           /* c2d: store commits during the storm, -1: unknown */
	long long events;            /* c2d: events published during the storm, -1: unknown */
	double dev_rx, dev_tx;       /* packets per device read / written by the devices */
	double brk_rx, brk_tx;       /* packets per device read / written by the broker ($SYS), -1: unknown */
};

/* One storm. The time runs from the connect command to: c2d with QoS 1
 * answers, the last answer's PUBACK; c2d with QoS 0 answers, the plugin
 * having counted every answer (getStats "responses", polled once the last
 * answer was written); plain, the last message received (and, with answers,
 * the last answer written). */
static void reconnect_run(enum storm_kind kind, double *prep_s, struct storm *st)
{
	bool c2d = kind == STORM_C2D;
	struct broker b;
	struct pool *p = NULL;
	unsigned r = o.reconnect;
	unsigned long want;
	uint64_t t0, failed = 0;
	char extra[128];
	long long c0 = -1, ev0 = -1, resp0 = -1, rx0 = -1, tx0 = -1, rx1, tx1;

	memset(st, 0, sizeof(*st));
	st->t = st->conn_s = st->brk_rx = st->brk_tx = -1;
	st->commits = st->events = -1;
	memset(&b, 0, sizeof(b));
	snprintf(extra, sizeof(extra), "plugin_opt_msg_queue_max %d\n%s%s%s", MSGS_PER_DEV * 2,
			o.events ? "plugin_opt_events " : "", o.events ? o.events : "", o.events ? "\n" : "");
	t0 = now_ns();
	if(broker_start(&b, c2d, extra)) goto out;
	p = pool_open(r, c2d, b.port);
	if(p == NULL) goto out;
	p->plain_answers = kind == STORM_PLAIN_ANSWERS;
	atomic_store(&p->answer_qos, 1); /* preparation: every first twin answer acknowledged */
	if(c2d){
		/* each device acknowledges its twin once, then goes offline */
		if(load(b.port, "scale-app", r, make_twin, NULL, &failed) < 0 || failed) goto out;
		pool_command(p, POOL_CONNECT);
		if(wait_count(&p->answered, r, 120, "first twin acknowledgements") < 0) goto out;
	}else{
		atomic_store(&p->subscribe, true);
		pool_command(p, POOL_CONNECT);
		if(wait_count(&p->subscribed, r, 120, "subscriptions") < 0) goto out;
		atomic_store(&p->subscribe, false);
	}
	usleep(300000);
	pool_command(p, POOL_DISCONNECT);
	if(wait_count(&p->closed, r, 60, "disconnects") < 0) goto out;
	sleep(1); /* presence sees every device go */
	if(c2d){
		if(load(b.port, "scale-app", r, make_patch, NULL, &failed) < 0 || failed) goto out;
		if(load(b.port, "scale-app", (uint64_t)r * MSGS_PER_DEV, make_msg, &r, &failed) < 0 || failed) goto out;
		want = (unsigned long)r * (MSGS_PER_DEV + 1);
	}else{
		if(load(b.port, "scale-app", (uint64_t)r * MSGS_PER_DEV, make_plain, &r, &failed) < 0 || failed) goto out;
		want = (unsigned long)r * MSGS_PER_DEV;
	}
	*prep_s = secs(t0, now_ns());
	atomic_store(&p->answer_qos, o.answer_qos);
	atomic_store(&p->answered, 0);
	atomic_store(&p->received, 0);
	atomic_store(&p->sent, 0);
	atomic_store(&p->connected, 0);
	if(c2d){
		c0 = c2d_stat(b.port, "storeCommits");
		resp0 = c2d_stat(b.port, "responses");
		ev0 = c2d_stat(b.port, "events");
	}
	usleep(2500000); /* $SYS settles (sys_interval 1: an update every 2 s) */
	sys_packets(b.port, &rx0, &tx0);
	fprintf(stderr, "scale_bench: 2. %s: %u devices reconnect...\n",
			c2d ? "c2d" : kind == STORM_PLAIN ? "plain" : "plain with answers", r);
	t0 = now_ns();
	pool_command(p, POOL_CONNECT);
	for(;;){
		bool done;

		if(c2d && o.answer_qos) done = atomic_load(&p->answered) >= want;
		else if(c2d) done = atomic_load(&p->sent) >= want;
		else done = atomic_load(&p->received) >= want && (kind == STORM_PLAIN || atomic_load(&p->sent) >= want);
		if(done || secs(t0, now_ns()) >= 300) break;
		usleep(2000);
	}
	while(c2d && !o.answer_qos && atomic_load(&p->sent) >= want && secs(t0, now_ns()) < 300){
		long long n = c2d_stat(b.port, "responses");

		if(n < 0 || resp0 < 0 || n - resp0 >= (long long)want) break;
		usleep(5000);
	}
	if(atomic_load(&p->connected) >= r) st->conn_s = secs(t0, atomic_load(&p->last_connack_ns));
	if(secs(t0, now_ns()) < 300){
		st->t = secs(t0, now_ns());
		if(c2d && c0 >= 0 && (st->commits = c2d_stat(b.port, "storeCommits")) >= 0) st->commits -= c0;
		if(c2d && ev0 >= 0 && (st->events = c2d_stat(b.port, "events")) >= 0) st->events -= ev0;
		/* per device: CONNECT, PUBACK per delivery, the answers; CONNACK,
		 * the deliveries, a PUBACK per QoS 1 answer */
		st->dev_tx = 1 + (double)(atomic_load(&p->received) + atomic_load(&p->sent)) / r;
		st->dev_rx = 1 + (double)(atomic_load(&p->received) + atomic_load(&p->answered)) / r;
		usleep(2500000);
		if(rx0 >= 0 && sys_packets(b.port, &rx1, &tx1) == 0){
			/* minus the getStats / $SYS clients' own few packets */
			st->brk_rx = (double)(rx1 - rx0) / r;
			st->brk_tx = (double)(tx1 - tx0) / r;
		}
	}else{
		fprintf(stderr, "scale_bench: %lu answered, %lu sent, %lu received of %lu after 300 s\n",
				atomic_load(&p->answered), atomic_load(&p->sent), atomic_load(&p->received), want);
	}
	if(atomic_load(&p->failed)) fprintf(stderr, "scale_bench: %lu client failures\n", atomic_load(&p->failed));
out:
	if(failed) fprintf(stderr, "scale_bench: %" PRIu64 " publishes refused\n", failed);
	pool_close(p);
	broker_stop(&b);
}

static void storm_row(const char *name, unsigned deliveries, const struct storm *s)
{
	if(s->t <= 0){
		printf("| %s | %u | - | failed | - | - | - |\n", name, deliveries);
		return;
	}
	printf("| %s | %u | %.2f s | %.2f s | %.0f | %.1f + %.1f | ", name, deliveries, s->conn_s, s->t,
			deliveries / s->t, s->dev_tx, s->dev_rx);
	if(s->brk_rx >= 0) printf("%.1f + %.1f |\n", s->brk_rx, s->brk_tx);
	else printf("- |\n");
}

static int scenario_reconnect(void)
{
	struct storm c, pl, pa;
	double prep;
	unsigned r = o.reconnect;

	fprintf(stderr, "scale_bench: 2. c2d, %u devices, answers at QoS %d, preparing...\n", r, o.answer_qos);
	reconnect_run(STORM_C2D, &prep, &c);
	memset(&pl, 0, sizeof(pl));
	memset(&pa, 0, sizeof(pa));
	if(!o.c2d_only){
		fprintf(stderr, "scale_bench: 2. plain, %u devices, preparing...\n", r);
		reconnect_run(STORM_PLAIN, &prep, &pl);
		fprintf(stderr, "scale_bench: 2. plain with answers, %u devices, preparing...\n", r);
		reconnect_run(STORM_PLAIN_ANSWERS, &prep, &pa);
	}

	printf("## Scale 2: %u devices reconnecting at once\n\n", r);
	printf("Each device is offline with a pending twin patch and %d queued QoS 1 messages (c2d), or with %d "
			"messages queued in its persistent session (plain: MQTT 3.1.1, clean session false, subscribed "
			"at QoS 1). All connect at once from %d client processes (libmosquitto, non-blocking sockets, poll). "
			"c2d devices answer every delivery on `out/res/{id}` at QoS %d (SCALE_ANSWER_QOS); the time runs to %s. "
			"Plain devices PUBACK each message; the time runs to the last message received. \"plain + answers\": "
			"each plain device also publishes a QoS %d result per message to a topic nobody subscribes to.\n\n",
			MSGS_PER_DEV, MSGS_PER_DEV, POOL_PROCS, o.answer_qos,
			o.answer_qos ? "the last answer's PUBACK" : "the plugin having counted every answer (getStats)",
			o.answer_qos);
	printf("Packets per device: written + read by the devices (their own counts), and read + written by the "
			"broker (`$SYS/broker/messages/received`, `sent`: every packet of any type, the bench's few "
			"getStats/$SYS packets included).\n\n");
	printf("| broker | deliveries | all CONNACKed in | all done in | deliveries/s | device packets, tx + rx "
			"| broker packets, rx + tx |\n|---|---:|---:|---:|---:|---:|---:|\n");
	storm_row("c2d", r * (MSGS_PER_DEV + 1), &c);
	if(o.events) printf("(c2d with `plugin_opt_events %s`)\n\n", o.events);
	if(!o.c2d_only){
		storm_row("plain", r * MSGS_PER_DEV, &pl);
		storm_row("plain + answers", r * MSGS_PER_DEV, &pa);
	}
	if(c.t > 0 && pl.t > 0) printf("\nTime ratio c2d/plain: **%.2f**", c.t / pl.t);
	if(c.t > 0 && pa.t > 0) printf("; c2d/(plain + answers): **%.2f**", c.t / pa.t);
	printf(" (c2d also pushes and gets answers for %u twin patches).\n\n", r);
	if(c.commits >= 0){
		printf("The plugin's store commits during the c2d storm (admin `getStats` `storeCommits`): %lld for %u "
				"answers (%.3f per answer; connect-time catch-ups included).\n\n", c.commits,
				r * (MSGS_PER_DEV + 1), (double)c.commits / (r * (MSGS_PER_DEV + 1)));
	}
	if(c.events >= 0){
		printf("Events the plugin published during the c2d storm (getStats `events`; nobody subscribes to them, "
				"the broker still routes each): %lld, %.1f per device.\n\n", c.events, (double)c.events / r);
	}
	fflush(stdout);
	return c.t > 0 && (o.c2d_only || (pl.t > 0 && pa.t > 0)) ? 0 : -1;
}

/* ---- scenario 3: mass expiry under RPC load ---- */

struct rpc {
	struct tclient c;            /* first */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	uint32_t seq;
	bool got;
	uint64_t *t_ns, *lat_ns;     /* send time (monotonic), latency; 0 = lost */
	size_t n;
	atomic_bool stop;
	unsigned errors;
};

static void rpc_on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
		const mosquitto_property *props)
{
	struct rpc *r = obj;
	void *corr = NULL;
	uint16_t len = 0;
	uint32_t seq;

	(void)m;
	(void)msg;
	if(mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA, &corr, &len, false) == NULL) return;
	if(len == 4){
		memcpy(&seq, corr, 4);
		pthread_mutex_lock(&r->mu);
		if(seq == r->seq){
			r->got = true;
			pthread_cond_signal(&r->cv);
		}
		pthread_mutex_unlock(&r->mu);
	}
	free(corr);
}

/* One in flight until stopped or the sample buffer is full. */
static void *rpc_thread(void *arg)
{
	struct rpc *r = arg;
	mosquitto_property *props = NULL;
	struct timespec ts;

	while(!atomic_load(&r->stop) && r->n < RPC_SAMPLES_MAX){
		uint64_t t0;
		bool got;

		pthread_mutex_lock(&r->mu);
		r->seq++;
		r->got = false;
		pthread_mutex_unlock(&r->mu);
		props = NULL;
		mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, "scale/reply");
		mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, &r->seq, 4);
		t0 = now_ns();
		if(mosquitto_publish_v5(r->c.m, NULL, "$c2d/echo-dev/rpc/echo", 16, "0123456789abcdef", 1, false, props)){
			r->errors++;
		}
		mosquitto_property_free_all(&props);
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 5;
		pthread_mutex_lock(&r->mu);
		while(!r->got){
			if(pthread_cond_timedwait(&r->cv, &r->mu, &ts) == ETIMEDOUT) break;
		}
		got = r->got;
		pthread_mutex_unlock(&r->mu);
		r->t_ns[r->n] = t0;
		r->lat_ns[r->n] = got ? now_ns() - t0 : 0;
		if(!got) r->errors++;
		r->n++;
	}
	return NULL;
}

struct watch {
	struct tclient c;            /* first */
	atomic_ulong expired;
	atomic_ullong first_ns, last_ns;
};

static bool has(const void *buf, size_t len, const char *needle)
{
	size_t n = strlen(needle), i;

	for(i = 0; i + n <= len; i++){
		if(memcmp((const char *)buf + i, needle, n) == 0) return true;
	}
	return false;
}

static void watch_on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
		const mosquitto_property *props)
{
	struct watch *w = obj;
	uint64_t t = now_ns();
	unsigned long long zero = 0;

	(void)m;
	(void)props;
	if(msg->payload == NULL || !has(msg->payload, (size_t)msg->payloadlen, "c2d.msg.expired")) return;
	if(strncmp(msg->topic, "$c2d/exp-", 9) != 0) return;
	atomic_compare_exchange_strong(&w->first_ns, &zero, t);
	atomic_store(&w->last_ns, t);
	atomic_fetch_add(&w->expired, 1);
}

struct expire_plan {
	uint64_t expiry_ms;          /* wall clock: every message expires then */
	unsigned ttl_fixed;          /* calibration: this ttl */
	char prefix[8];
	unsigned devs;
};

static void make_expiring(struct loader *l, uint64_t k, char *topic, size_t tlen, const char **payload,
		mosquitto_property **props)
{
	const struct expire_plan *p = l->arg;
	char ttl[16];
	uint64_t now = wall_ms();
	unsigned v;

	snprintf(topic, tlen, "$c2d/%s-%" PRIu64 "/msg", p->prefix, k % p->devs);
	*payload = "{\"cmd\":\"set\",\"value\":42}";
	if(p->ttl_fixed) v = p->ttl_fixed;
	else v = p->expiry_ms > now + 1000 ? (unsigned)((p->expiry_ms - now + 999) / 1000) : 1;
	snprintf(ttl, sizeof(ttl), "%u", v);
	mosquitto_property_add_string_pair(props, MQTT_PROP_USER_PROPERTY, "ttl", ttl);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* p50/p99 (ms) of the RPCs sent in [from, to); *count. */
static void window_pct(const struct rpc *r, uint64_t from, uint64_t to, double *p50, double *p99, size_t *count,
		unsigned *lost)
{
	uint64_t *v = malloc((r->n + 1) * sizeof(*v));
	size_t i, n = 0;

	*p50 = *p99 = -1;
	*lost = 0;
	if(v == NULL) return;
	for(i = 0; i < r->n; i++){
		if(r->t_ns[i] < from || r->t_ns[i] >= to) continue;
		if(r->lat_ns[i] == 0) (*lost)++;
		else v[n++] = r->lat_ns[i];
	}
	*count = n;
	if(n){
		qsort(v, n, sizeof(*v), cmp_u64);
		*p50 = (double)v[(size_t)(0.50 * (double)(n - 1) + 0.5)] / 1e6;
		*p99 = (double)v[(size_t)(0.99 * (double)(n - 1) + 0.5)] / 1e6;
	}
	free(v);
}

static int scenario_expire(void)
{
	struct broker b;
	struct tclient echo;
	struct rpc r;
	struct watch w;
	struct expire_plan plan;
	pthread_t th;
	bool th_started = false;
	char extra[256], rssbuf[64];
	unsigned cal = o.quick ? 500 : 20000, devs = o.quick ? 50 : EXPIRE_DEVS;
	uint64_t m = o.expire, failed = 0, t_sweep_end = 0, before_from;
	double rate, est, took, margin_s = o.quick ? 15 : 30, p50b, p99b, p50d, p99d;
	size_t nb = 0, nd = 0;
	unsigned lostb, lostd;
	int rc = -1;
	bool scaled = false;

	memset(&b, 0, sizeof(b));
	memset(&echo, 0, sizeof(echo));
	memset(&r, 0, sizeof(r));
	memset(&w, 0, sizeof(w));
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cv, NULL);
	r.t_ns = calloc(RPC_SAMPLES_MAX, sizeof(uint64_t));
	r.lat_ns = calloc(RPC_SAMPLES_MAX, sizeof(uint64_t));
	if(r.t_ns == NULL || r.lat_ns == NULL) goto out;
	snprintf(extra, sizeof(extra), "plugin_opt_msg_queue_max 10000000\nplugin_opt_map_size 8192\n"
			"plugin_opt_rpc_timeout 5000\n"
			/* later lines win: the events watcher gets every event */
			"max_queued_messages 0\n");
	fprintf(stderr, "scale_bench: 3. expiry: calibrating the load rate with %u messages...\n", cal);
	if(broker_start(&b, true, extra)) goto out;

	memset(&plan, 0, sizeof(plan));
	snprintf(plan.prefix, sizeof(plan.prefix), "cal");
	plan.ttl_fixed = 1;
	plan.devs = 100;
	took = load(b.port, "scale-app", cal, make_expiring, &plan, &failed);
	if(took <= 0 || failed) goto out;
	rate = cal / took;
	est = (double)m / rate;
	if(est > LOAD_BUDGET_S){
		m = (uint64_t)(rate * LOAD_BUDGET_S);
		m -= m % devs;
		scaled = true;
		est = LOAD_BUDGET_S;
	}
	/* every message expires at the same second: margin_s after the expected
	 * end of the load (+25% slack) */
	snprintf(plan.prefix, sizeof(plan.prefix), "exp");
	plan.ttl_fixed = 0;
	plan.devs = devs;
	plan.expiry_ms = wall_ms() + (uint64_t)((est * 1.25 + margin_s) * 1000.0);
	fprintf(stderr, "scale_bench: 3. %.0f msg/s: loading %" PRIu64 " messages (about %.0f s), all expire in %.0f s\n",
			rate, m, est, (double)(plan.expiry_ms - wall_ms()) / 1000.0);
	took = load(b.port, "scale-app", m, make_expiring, &plan, &failed);
	if(took <= 0 || failed) goto out;
	if(wall_ms() + 5000 > plan.expiry_ms){
		fprintf(stderr, "scale_bench: the load ended too late (%.0f s)\n", took);
		goto out;
	}
	if(tclient_open(&echo, "echo-dev", b.port, NULL, WINDOW, echo_on_message, NULL, "scale_bench")
			|| tclient_open(&w.c, "scale-watch", b.port, "$c2d/+/events/msg", WINDOW, watch_on_message, NULL, "scale_bench")
			|| tclient_open(&r.c, "scale-rpc", b.port, "scale/reply", WINDOW, rpc_on_message, NULL, "scale_bench")){
		goto out;
	}
	sleep(1); /* the plugin confirms the echo device at its next tick */
	before_from = now_ns();
	if(pthread_create(&th, NULL, rpc_thread, &r)) goto out;
	th_started = true;
	fprintf(stderr, "scale_bench: 3. RPCs running; waiting for the expiry...\n");
	/* until every expiry was seen, or none came for 20 s after the first */
	while(wall_ms() < plan.expiry_ms + 600000 && atomic_load(&w.expired) < m){
		uint64_t last = atomic_load(&w.last_ns);

		if(last && now_ns() - last > 20000000000u) break;
		usleep(20000);
	}
	t_sweep_end = atomic_load(&w.last_ns);
	sleep(2);
	atomic_store(&r.stop, true);
	pthread_join(th, NULL);
	th_started = false;
	if(atomic_load(&w.expired) < m){
		fprintf(stderr, "scale_bench: only %lu of %" PRIu64 " expiry events\n", atomic_load(&w.expired), m);
	}
	window_pct(&r, before_from, atomic_load(&w.first_ns), &p50b, &p99b, &nb, &lostb);
	window_pct(&r, atomic_load(&w.first_ns), t_sweep_end, &p50d, &p99d, &nd, &lostd);

	printf("## Scale 3: %" PRIu64 " messages expiring at once under RPC load\n\n", m);
	printf("Plugin broker, `plugin_opt_sync periodic`. %" PRIu64 " messages (%s) queued for %u offline devices "
			"(%" PRIu64 " each) at %.0f msg/s in %.0f s, each with user property `ttl` chosen so that all "
			"expire in the same second, %.0f s after the expected end of the load. Meanwhile lightweight RPCs "
			"run at 1 in flight against an online echo device; an events subscriber (QoS 0, "
			"`$c2d/+/events/msg`) times the sweep from the first to the last `c2d.msg.expired`.\n\n",
			m, scaled ? "scaled down from the requested count to what loads in about 3 minutes" : "as requested",
			devs, m / devs, (double)m / took, took, margin_s);
	printf("| metric | value |\n|---|---:|\n");
	printf("| expired events seen | %lu of %" PRIu64 " |\n", atomic_load(&w.expired), m);
	if(atomic_load(&w.first_ns)){
		printf("| sweep duration (first to last expiry event) | %.1f s (%.0f expiries/s) |\n",
				secs(atomic_load(&w.first_ns), t_sweep_end),
				atomic_load(&w.expired) / (secs(atomic_load(&w.first_ns), t_sweep_end) + 1e-9));
		printf("| first expiry event after the planned second | %.2f s |\n",
				((double)wall_ms() - (double)(now_ns() - atomic_load(&w.first_ns)) / 1e6
				- (double)plan.expiry_ms) / 1000.0);
		printf("| RPC baseline window | %.0f s |\n", secs(before_from, atomic_load(&w.first_ns)));
	}
	printf("| RPC before the sweep: count, p50, p99 | %zu, %.3f ms, %.3f ms (%u lost) |\n", nb, p50b, p99b, lostb);
	printf("| RPC during the sweep: count, p50, p99 | %zu, %.3f ms, %.3f ms (%u lost) |\n", nd, p50d, p99d, lostd);
	printf("| broker RSS after the sweep | %s |\n\n", rss_text(b.pid, rssbuf, sizeof(rssbuf)));
	fflush(stdout);
	rc = atomic_load(&w.expired) >= m ? 0 : -1;
out:
	if(th_started){
		atomic_store(&r.stop, true);
		pthread_join(th, NULL);
	}
	tclient_close(&r.c);
	tclient_close(&w.c);
	tclient_close(&echo);
	broker_stop(&b);
	free(r.t_ns);
	free(r.lat_ns);
	pthread_mutex_destroy(&r.mu);
	pthread_cond_destroy(&r.cv);
	return rc;
}

/* SCALE_ONLY=13: scenarios 1 and 3 only */
static bool run_it(char n)
{
	const char *only = getenv("SCALE_ONLY");

	return only == NULL || *only == '\0' || strchr(only, n) != NULL;
}

int main(int argc, char **argv)
{
	struct rlimit rl;
	int rc = 0;

	(void)argv;
	if(argc > 1){
		fprintf(stderr, "usage: scale_bench (sizes: SCALE_DEVICES, SCALE_RECONNECT, SCALE_EXPIRE, SCALE_QUICK=1)\n");
		return 2;
	}
	o.quick = getenv("SCALE_QUICK") && strcmp(getenv("SCALE_QUICK"), "1") == 0;
	o.devices = env_uint("SCALE_DEVICES", o.quick ? 1000 : 100000);
	o.reconnect = env_uint("SCALE_RECONNECT", o.quick ? 200 : 10000);
	o.expire = env_uint("SCALE_EXPIRE", o.quick ? 5000 : 1000000);
	o.answer_qos = getenv("SCALE_ANSWER_QOS") && strcmp(getenv("SCALE_ANSWER_QOS"), "1") == 0 ? 1 : 0;
	o.events = getenv("SCALE_EVENTS") && *getenv("SCALE_EVENTS") ? getenv("SCALE_EVENTS") : NULL;
	o.c2d_only = getenv("SCALE_C2D_ONLY") && strcmp(getenv("SCALE_C2D_ONLY"), "1") == 0;
	o.mosquitto = getenv("SCALE_MOSQUITTO") ? getenv("SCALE_MOSQUITTO") : "/usr/sbin/mosquitto";
	o.plugin = getenv("SCALE_PLUGIN") && *getenv("SCALE_PLUGIN") ? getenv("SCALE_PLUGIN") : C2D_PLUGIN_PATH; /* another build: "before" */
	if(getrlimit(RLIMIT_NOFILE, &rl) == 0){
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		if(rl.rlim_cur < (rlim_t)o.reconnect + 100){
			fprintf(stderr, "scale_bench: RLIMIT_NOFILE %lu < SCALE_RECONNECT; lowering it\n",
					(unsigned long)rl.rlim_cur);
			o.reconnect = (unsigned)rl.rlim_cur - 100;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	mosquitto_lib_init();
	printf("## Scale\n\nSizes: %u twins, %u reconnecting devices, %u expiring messages requested%s.\n\n", o.devices,
			o.reconnect, o.expire, o.quick ? " (SCALE_QUICK)" : "");
	if(run_it('1') && scenario_twins()) rc = 1;
	if(run_it('2') && scenario_reconnect()) rc = 1;
	if(run_it('3') && scenario_expire()) rc = 1;
	mosquitto_lib_cleanup();
	return rc;
}
