/* Reconnect storm benchmark: the plugin against plain Mosquitto.
 *
 *   R devices, each with a pending twin patch and 10 queued messages,
 *   connect at once and answer every delivery; the time until all R * 11
 *   answers are acknowledged. Plain Mosquitto: the same devices with
 *   persistent sessions (clean session false, subscribed, QoS 1) receive 10
 *   queued messages each ("plain + answers": and publish a result for each).
 *
 * Brokers are started here (temp dir, free loopback port), the plugin with
 * sync periodic (fsync out of the way). Size: SCALE_RECONNECT (10000),
 * SCALE_QUICK=1 a tiny one, SCALE_PLUGIN another build of the plugin (the
 * previous release, for before/after), SCALE_C2D_ONLY=1 the c2d storm
 * without the plain ones, SCALE_EVENTS=none the c2d storm's
 * plugin_opt_events, SCALE_ANSWER_QOS=1 the devices answer at QoS 1.
 * Was scenario 2 of scale_bench (its table keeps the title "Scale 2").
 * Markdown on stdout, progress on stderr. */
#define BENCH_NAME "storm_bench"

#include "scale_common.h"

#define POOL_PROCS 4
#define CONNECT_BURST 16          /* handshakes in progress per worker: 64 in all, under
                                    * Mosquitto's listen backlog of 100 */
#define MSGS_PER_DEV 10

struct opts {
	unsigned reconnect;
	int answer_qos;              /* QoS of the devices' answers (SCALE_ANSWER_QOS) */
	bool c2d_only;               /* the c2d storm only (SCALE_C2D_ONLY=1) */
	const char *events;          /* plugin_opt_events of the c2d storm (SCALE_EVENTS), NULL: not set */
};

static struct opts o;

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
			fprintf(stderr, BENCH_NAME ": worker %u: mosquitto_new failed at %u\n", w, n);
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
			fprintf(stderr, BENCH_NAME ": %s: %lu of %lu after %.0f s\n", what, atomic_load(counter), want, s);
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
	fprintf(stderr, BENCH_NAME ": 2. %s: %u devices reconnect...\n",
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
		fprintf(stderr, BENCH_NAME ": %lu answered, %lu sent, %lu received of %lu after 300 s\n",
				atomic_load(&p->answered), atomic_load(&p->sent), atomic_load(&p->received), want);
	}
	if(atomic_load(&p->failed)) fprintf(stderr, BENCH_NAME ": %lu client failures\n", atomic_load(&p->failed));
out:
	if(failed) fprintf(stderr, BENCH_NAME ": %" PRIu64 " publishes refused\n", failed);
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

	fprintf(stderr, BENCH_NAME ": 2. c2d, %u devices, answers at QoS %d, preparing...\n", r, o.answer_qos);
	reconnect_run(STORM_C2D, &prep, &c);
	memset(&pl, 0, sizeof(pl));
	memset(&pa, 0, sizeof(pa));
	if(!o.c2d_only){
		fprintf(stderr, BENCH_NAME ": 2. plain, %u devices, preparing...\n", r);
		reconnect_run(STORM_PLAIN, &prep, &pl);
		fprintf(stderr, BENCH_NAME ": 2. plain with answers, %u devices, preparing...\n", r);
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

int main(int argc, char **argv)
{
	struct rlimit rl;
	int rc = 0;

	(void)argv;
	if(argc > 1){
		fprintf(stderr, "usage: storm_bench (size: SCALE_RECONNECT, SCALE_QUICK=1)\n");
		return 2;
	}
	scale_init();
	o.reconnect = env_uint("SCALE_RECONNECT", cfg.quick ? 200 : 10000);
	o.answer_qos = getenv("SCALE_ANSWER_QOS") && strcmp(getenv("SCALE_ANSWER_QOS"), "1") == 0 ? 1 : 0;
	o.events = getenv("SCALE_EVENTS") && *getenv("SCALE_EVENTS") ? getenv("SCALE_EVENTS") : NULL;
	o.c2d_only = getenv("SCALE_C2D_ONLY") && strcmp(getenv("SCALE_C2D_ONLY"), "1") == 0;
	if(getrlimit(RLIMIT_NOFILE, &rl) == 0){
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		if(rl.rlim_cur < (rlim_t)o.reconnect + 100){
			fprintf(stderr, BENCH_NAME ": RLIMIT_NOFILE %lu < SCALE_RECONNECT; lowering it\n",
					(unsigned long)rl.rlim_cur);
			o.reconnect = (unsigned)rl.rlim_cur - 100;
		}
	}
	signal(SIGPIPE, SIG_IGN);
	mosquitto_lib_init();
	printf("## Reconnect storm\n\nSize: %u reconnecting devices%s.\n\n", o.reconnect,
			cfg.quick ? " (SCALE_QUICK)" : "");
	if(scenario_reconnect()) rc = 1;
	mosquitto_lib_cleanup();
	return rc;
}
