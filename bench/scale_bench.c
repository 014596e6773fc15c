/* Scale benchmark: the plugin with many devices.
 *
 *   1. twins:     N devices get a desired twin patch (QoS 1, many in flight,
 *                 one client); broker RSS after the load, restart time,
 *                 RSS after the restart, LMDB file size.
 *   3. expiry:    M messages to 1000 offline devices, all expiring in the
 *                 same second (their own ttl, real clock), while lightweight
 *                 RPCs run at one in flight against an online echo device:
 *                 RPC p50/p99 before and during the expiry sweep, the sweep's
 *                 duration and the broker's RSS after it. (expiry_bench
 *                 measures RPC during a mass expiry with a stepped clock and
 *                 a baseline plugin, but not the sweep from ttls nor the RSS.)
 *
 * Scenario 2, the reconnect storm, is bench/storm_bench.c (numbers kept).
 *
 * Brokers are started here (temp dir, free loopback port), the plugin with
 * sync periodic (fsync out of the way). Sizes: SCALE_DEVICES (100000),
 * SCALE_EXPIRE (1000000, scaled down to what loads in about 3 minutes),
 * SCALE_QUICK=1 tiny sizes, SCALE_PLUGIN another build of the plugin (the
 * previous release, for before/after), SCALE_ONLY=1 or 3 one scenario.
 * Markdown on stdout, progress on stderr. */
#define BENCH_NAME "scale_bench"

#include "scale_common.h"

#define EXPIRE_DEVS 1000
#define LOAD_BUDGET_S 170.0         /* scenario 3: the load must fit in ~3 min */
#define RPC_SAMPLES_MAX 4000000u

struct opts {
	unsigned devices, expire;
};

static struct opts o;

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- scenario 1: twins at scale ---- */

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
	fprintf(stderr, BENCH_NAME ": 1. %u twins...\n", o.devices);
	if(broker_start(&b, true, NULL)) goto out;
	rss_text(b.pid, rss0, sizeof(rss0));
	took = load(b.port, "scale-twins", o.devices, make_twin, NULL, &failed);
	if(took < 0) goto out;
	sleep(1); /* one periodic sync, the tick settles */
	rss_text(b.pid, rss_load, sizeof(rss_load));
	broker_kill(&b);
	if(broker_launch(&b, cfg.mosquitto, 600, BENCH_NAME, &restart_ms)) goto out;
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
	unsigned cal = cfg.quick ? 500 : 20000, devs = cfg.quick ? 50 : EXPIRE_DEVS;
	uint64_t m = o.expire, failed = 0, t_sweep_end = 0, before_from;
	double rate, est, took, margin_s = cfg.quick ? 15 : 30, p50b, p99b, p50d, p99d;
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
	fprintf(stderr, BENCH_NAME ": 3. expiry: calibrating the load rate with %u messages...\n", cal);
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
	fprintf(stderr, BENCH_NAME ": 3. %.0f msg/s: loading %" PRIu64 " messages (about %.0f s), all expire in %.0f s\n",
			rate, m, est, (double)(plan.expiry_ms - wall_ms()) / 1000.0);
	took = load(b.port, "scale-app", m, make_expiring, &plan, &failed);
	if(took <= 0 || failed) goto out;
	if(wall_ms() + 5000 > plan.expiry_ms){
		fprintf(stderr, BENCH_NAME ": the load ended too late (%.0f s)\n", took);
		goto out;
	}
	if(tclient_open(&echo, "echo-dev", b.port, NULL, WINDOW, echo_on_message, NULL, BENCH_NAME)
			|| tclient_open(&w.c, "scale-watch", b.port, "$c2d/+/events/msg", WINDOW, watch_on_message, NULL, BENCH_NAME)
			|| tclient_open(&r.c, "scale-rpc", b.port, "scale/reply", WINDOW, rpc_on_message, NULL, BENCH_NAME)){
		goto out;
	}
	sleep(1); /* the plugin confirms the echo device at its next tick */
	before_from = now_ns();
	if(pthread_create(&th, NULL, rpc_thread, &r)) goto out;
	th_started = true;
	fprintf(stderr, BENCH_NAME ": 3. RPCs running; waiting for the expiry...\n");
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
		fprintf(stderr, BENCH_NAME ": only %lu of %" PRIu64 " expiry events\n", atomic_load(&w.expired), m);
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
	int rc = 0;

	(void)argv;
	if(argc > 1){
		fprintf(stderr, "usage: scale_bench (sizes: SCALE_DEVICES, SCALE_EXPIRE, SCALE_QUICK=1)\n");
		return 2;
	}
	scale_init();
	if(getenv("SCALE_ONLY") && strchr(getenv("SCALE_ONLY"), '2')){
		fprintf(stderr, BENCH_NAME ": scenario 2 (reconnect storm) is build/bench/storm_bench now\n");
	}
	o.devices = env_uint("SCALE_DEVICES", cfg.quick ? 1000 : 100000);
	o.expire = env_uint("SCALE_EXPIRE", cfg.quick ? 5000 : 1000000);
	signal(SIGPIPE, SIG_IGN);
	mosquitto_lib_init();
	printf("## Scale\n\nSizes: %u twins, %u expiring messages requested%s.\n\n", o.devices, o.expire,
			cfg.quick ? " (SCALE_QUICK)" : "");
	if(run_it('1') && scenario_twins()) rc = 1;
	if(run_it('3') && scenario_expire()) rc = 1;
	mosquitto_lib_cleanup();
	return rc;
}
