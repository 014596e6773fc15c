/* Fleet job benchmark: a twin job over a fleet of N devices (JOB_DEVICES,
 * default 100000), compared with a fleet of N/10 in the same run (memory
 * must not grow with the target size). JOB_ONLINE (default 1000) of them,
 * spread over the id range, are real libmosquitto clients (MQTT 3.1.1, one
 * poll loop thread) that acknowledge every twin push; the rest are
 * offline. JOB_QUICK=1: 5000 devices, 200 online.
 *
 * Devices are created through the plugin: one twin/tags patch each
 * ({"fleet":"b"}, QoS 1, 500 in flight). Then createJob
 * {"target":{"where":{"tags.fleet":"b"}},"action":{"twin":{"desired":{...}}}}
 * (no rollout limits) and, measured:
 *
 *   - createJob to every online device acknowledged (the devices' clock)
 *   - createJob to every execution dispatched (getJob: queued 0, resolved),
 *     the dispatch rate (N / that time)
 *   - the broker's anonymous memory (/proc/PID/smaps_rollup "Anonymous:")
 *     before the job, the largest seen while it runs, and after
 *   - lightweight RPC p50/p99 (one in flight, to an online echo device)
 *     while the job dispatches, against the same before the job (quiet)
 *
 * Then the N-device job again at maxPerMinute JOB_RATE (default 60000),
 * measured for its first 10 s (JOB_QUICK: 3 s): a paced rollout
 * (JOB_PACED_ONLY=1: that one alone). JOB_RPC_QUIET: the quiet calls
 * (default 5000); p50, p99 and p99.9 are reported. JOB_SHARE: the
 * broker's plugin_opt_job_share (default 20).
 * Long lists: bench/list_bench.c.
 *
 * Markdown on stdout, progress on stderr. */
#define _GNU_SOURCE

#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bench_broker.h"
#include "bench_lat.h"

#define WHO "job_bench"
#define WINDOW 500

/* ---- the online devices: many clients, one poll loop ---- */

struct fleet {
	unsigned n;
	struct mosquitto **m;
	char (*id)[16];
	atomic_int connected, subscribed, acks;
	atomic_uint_fast64_t last_ack_ns;
	atomic_int stop;
	pthread_t thread;
	void *ud;                    /* the struct dev_ud array */
};

struct dev_ud {
	struct fleet *f;
	unsigned i;
};

static void dev_on_connect(struct mosquitto *m, void *obj, int rc)
{
	struct dev_ud *u = obj;
	char filter[40];

	if(rc) return;
	atomic_fetch_add(&u->f->connected, 1);
	snprintf(filter, sizeof(filter), "$c2d/%s/in/#", u->f->id[u->i]);
	mosquitto_subscribe(m, NULL, filter, 1);
}

static void dev_on_subscribe(struct mosquitto *m, void *obj, int mid, int count, const int *granted)
{
	(void)m;
	(void)mid;
	(void)count;
	(void)granted;
	atomic_fetch_add(&((struct dev_ud *)obj)->f->subscribed, 1);
}

/* A twin push $c2d/{dev}/in/twin/{id}: acknowledge it (status 200). */
static void dev_on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
	struct dev_ud *u = obj;
	const char *id = strrchr(msg->topic, '/');
	char topic[96];

	if(id == NULL || strstr(msg->topic, "/in/twin/") == NULL) return;
	snprintf(topic, sizeof(topic), "$c2d/%s/out/res/%s/200", u->f->id[u->i], id + 1);
	mosquitto_publish(m, NULL, topic, 0, NULL, 1, false);
	atomic_fetch_add(&u->f->acks, 1);
	atomic_store(&u->f->last_ack_ns, now_ns());
}

static void *fleet_loop(void *arg)
{
	struct fleet *f = arg;
	struct pollfd *p = calloc(f->n, sizeof(*p));
	uint64_t misc = 0;
	unsigned i;

	if(p == NULL) return NULL;
	while(!atomic_load(&f->stop)){
		for(i = 0; i < f->n; i++){
			p[i].fd = mosquitto_socket(f->m[i]);
			p[i].events = POLLIN | (mosquitto_want_write(f->m[i]) ? POLLOUT : 0);
			p[i].revents = 0;
		}
		if(poll(p, f->n, 50) < 0) continue;
		for(i = 0; i < f->n; i++){
			if(p[i].revents & POLLIN) mosquitto_loop_read(f->m[i], 1);
			if((p[i].revents & POLLOUT) || mosquitto_want_write(f->m[i])) mosquitto_loop_write(f->m[i], 1);
		}
		if(now_ns() - misc > 1000000000ull){
			for(i = 0; i < f->n; i++) mosquitto_loop_misc(f->m[i]);
			misc = now_ns();
		}
	}
	free(p);
	return NULL;
}

/* Connect the k online devices among n (ids dev%07u, spread evenly). */
static int fleet_open(struct fleet *f, unsigned k, unsigned n, int port)
{
	struct dev_ud *u;
	unsigned i;

	memset(f, 0, sizeof(*f));
	f->n = k;
	f->m = calloc(k, sizeof(*f->m));
	f->id = calloc(k, sizeof(*f->id));
	u = calloc(k, sizeof(*u));
	f->ud = u;
	if(f->m == NULL || f->id == NULL || u == NULL) return -1;
	for(i = 0; i < k; i++){
		snprintf(f->id[i], sizeof(f->id[i]), "dev%07u", (unsigned)((uint64_t)i * n / k));
		u[i].f = f;
		u[i].i = i;
		f->m[i] = mosquitto_new(f->id[i], true, &u[i]);
		if(f->m[i] == NULL) return -1;
		mosquitto_connect_callback_set(f->m[i], dev_on_connect);
		mosquitto_subscribe_callback_set(f->m[i], dev_on_subscribe);
		mosquitto_message_callback_set(f->m[i], dev_on_message);
		if(mosquitto_connect(f->m[i], "127.0.0.1", port, 60) != MOSQ_ERR_SUCCESS){
			fprintf(stderr, WHO ": %s could not connect\n", f->id[i]);
			return -1;
		}
	}
	if(pthread_create(&f->thread, NULL, fleet_loop, f)) return -1;
	for(i = 0; i < 2000 && (unsigned)atomic_load(&f->subscribed) < k; i++) usleep(10000);
	if((unsigned)atomic_load(&f->subscribed) < k){
		fprintf(stderr, WHO ": only %d of %u devices subscribed\n", atomic_load(&f->subscribed), k);
		return -1;
	}
	return 0;
}

static void fleet_close(struct fleet *f)
{
	unsigned i;

	atomic_store(&f->stop, 1);
	pthread_join(f->thread, NULL);
	for(i = 0; i < f->n; i++){
		mosquitto_disconnect(f->m[i]);
		mosquitto_loop_write(f->m[i], 1);
		mosquitto_destroy(f->m[i]);
	}
	free(f->ud);
	free(f->m);
	free(f->id);
}

/* ---- measurements ---- */

/* The broker's anonymous memory in KiB (smaps_rollup), or -1. */
static long anon_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", (int)pid);
	f = fopen(path, "r");
	if(f == NULL) return -1;
	while(fgets(line, sizeof(line), f)){
		if(sscanf(line, "Anonymous: %ld kB", &kb) == 1) break;
	}
	fclose(f);
	return kb;
}

struct result {
	unsigned n, online, rate;
	double dispatched;           /* executions dispatched when measuring stopped */
	double tag_s, acked_s, dispatched_s;
	long anon_before, anon_max, anon_after;
	double quiet[3], during[3];  /* p50, p99, p99.9 ms */
	size_t during_calls;
	int errors;
	double succeeded, in_progress;
	int acks;                    /* online devices that acknowledged */
};

/* One broker, n devices (online of them connected), one twin job; rate:
 * its maxPerMinute (0: none; then measured until every execution is
 * dispatched, else for window_s seconds). */
static unsigned rpc_quiet = 5000;

static int run(const char *plugin, unsigned n, unsigned online, unsigned rate, double window_s, struct result *res)
{
	char cmd[320], rollout[64], extra[96];
	struct broker b;
	struct rclient op, caller;
	struct tclient echo;
	struct fleet fl;
	struct rpc_load d = {0};
	pthread_t th;
	char topic[64];
	const char *tags = "{\"fleet\":\"b\"}";
	uint64_t t0, ns;
	unsigned i;
	long kb;
	cJSON *job;
	FILE *f;

	memset(res, 0, sizeof(*res));
	res->n = n;
	res->online = online;
	res->rate = rate;
	snprintf(extra, sizeof(extra), "plugin_opt_stats_interval 0\n%s%s%s", getenv("JOB_SHARE") ? "plugin_opt_job_share " : "",
			getenv("JOB_SHARE") ? getenv("JOB_SHARE") : "", getenv("JOB_SHARE") ? "\n" : "");
	if(broker_prepare(&b, true, "c2d-job", extra) || (f = broker_conf_open(&b)) == NULL
			|| broker_conf_close(&b, f, plugin) || broker_launch(&b, "/usr/sbin/mosquitto", 20, WHO, NULL)){
		return -1;
	}
	if(rclient_open(&op, "bench-op", b.port, "bench/admin", WINDOW, WHO)) return -1;
	fprintf(stderr, WHO ": %u devices: tagging\n", n);
	t0 = now_ns();
	for(i = 0; i < n; i++){
		snprintf(topic, sizeof(topic), "$c2d/dev%07u/twin/tags", i);
		while(i - (unsigned)atomic_load(&op.acked) >= WINDOW) usleep(200);
		mosquitto_publish_v5(op.c.m, NULL, topic, (int)strlen(tags), tags, 1, false, NULL);
	}
	while((unsigned)atomic_load(&op.acked) < n) usleep(1000);
	res->tag_s = (double)(now_ns() - t0) / 1e9;
	fprintf(stderr, WHO ": tagged in %.1f s; connecting %u devices and the echo device\n", res->tag_s, online);
	if(tclient_open(&echo, "bench-echo", b.port, "$c2d/bench-echo/in/#", WINDOW, echo_on_message, NULL, WHO)) return -1;
	/* the threaded clients first: libmosquitto's loop thread uses select(),
	 * which takes no descriptor past FD_SETSIZE */
	if(rclient_open(&caller, "bench-caller", b.port, "bench/rpc", WINDOW, WHO)) return -1;
	if(fleet_open(&fl, online, n, b.port)) return -1;
	for(i = 0; i < 100 && rpc_once(&caller, &ns) != 0; i++) usleep(100000); /* the plugin confirms at a tick */
	d.caller = &caller;
	d.lat.ns = calloc(LAT_MAX, sizeof(uint64_t));
	if(d.lat.ns == NULL) return -1;
	for(i = 0; i < 200; i++) rpc_once(&caller, &ns); /* warm up */
	for(i = 0; i < rpc_quiet; i++){
		if(rpc_once(&caller, &ns) == 0) d.lat.ns[d.lat.n++] = ns;
		else res->errors++;
	}
	pcts(&d.lat, res->quiet);
	d.lat.n = 0;
	res->anon_before = anon_kb(b.pid);
	res->anon_max = res->anon_before;
	fprintf(stderr, WHO ": createJob\n");
	t0 = now_ns();
	snprintf(rollout, sizeof(rollout), ",\"rollout\":{\"maxPerMinute\":%u}", rate);
	snprintf(cmd, sizeof(cmd), "{\"command\":\"createJob\",\"job\":\"bench\",\"target\":{\"where\":{\"tags.fleet\":\"b\"}},"
			"\"action\":{\"twin\":{\"desired\":{\"cfg\":{\"rate\":5,\"mode\":\"eco\"}}}}%s}", rate ? rollout : "");
	job = admin(&op, cmd);
	if(num(job, "status", NULL) != 202){
		fprintf(stderr, WHO ": createJob failed\n");
		return -1;
	}
	cJSON_Delete(job);
	pthread_create(&th, NULL, rpc_load_run, &d);
	for(;;){
		usleep(200000);
		kb = getenv("JOB_NO_SAMPLE") ? -1 : anon_kb(b.pid);
		if(kb > res->anon_max) res->anon_max = kb;
		job = admin(&op, "{\"command\":\"getJob\",\"job\":\"bench\"}");
		if(job == NULL) return -1;
		res->succeeded = num(job, "counts", "succeeded");
		res->in_progress = num(job, "counts", "in_progress");
		res->dispatched = num(job, "total", NULL) - num(job, "counts", "queued");
		if(res->dispatched_s == 0 && cJSON_IsTrue(cJSON_GetObjectItem(job, "resolved"))
				&& num(job, "counts", "queued") == 0){
			res->dispatched_s = (double)(now_ns() - t0) / 1e9;
			atomic_store(&d.stop, 1);
		}
		cJSON_Delete(job);
		if(rate && (double)(now_ns() - t0) / 1e9 >= window_s){
			res->dispatched_s = window_s; /* measured for the window */
			atomic_store(&d.stop, 1);
			break;
		}
		if(res->dispatched_s > 0 && (unsigned)atomic_load(&fl.acks) >= online) break;
		if((double)(now_ns() - t0) / 1e9 > 600){
			fprintf(stderr, WHO ": the job did not finish in 10 minutes\n");
			return -1;
		}
	}
	pthread_join(th, NULL);
	res->acked_s = (double)(atomic_load(&fl.last_ack_ns) - t0) / 1e9;
	res->acks = atomic_load(&fl.acks);
	pcts(&d.lat, res->during);
	res->during_calls = d.lat.n;
	res->errors += d.errors;
	fprintf(stderr, WHO ": dispatched in %.1f s, online acknowledged in %.1f s\n", res->dispatched_s, res->acked_s);
	sleep(1);
	res->anon_after = anon_kb(b.pid);
	free(d.lat.ns);
	fleet_close(&fl);
	tclient_close(&caller.c);
	tclient_close(&echo);
	tclient_close(&op.c);
	broker_stop(&b);
	return 0;
}

static void row(const struct result *r)
{
	if(r->rate){
		printf("| %u, maxPerMinute %u, first %.0f s | %.1f s | %d of %u acked | %.0f dispatched | %.0f /s |", r->n, r->rate,
				r->dispatched_s, r->tag_s, r->acks, r->online, r->dispatched, r->dispatched / r->dispatched_s);
	}else{
		printf("| %u | %.1f s | ", r->n, r->tag_s);
		if(r->online) printf("%.1f s", r->acked_s);
		else printf("- (none online)");
		printf(" | %.1f s | %.0f /s |", r->dispatched_s, r->n / r->dispatched_s);
	}
	printf(" %.1f / %.1f / %.1f MiB | %.2f / %.2f ms | %.2f / %.2f ms | %.2f / %.2f ms | %.2fx | %zu | %d |\n",
			r->anon_before / 1024.0, r->anon_max / 1024.0, r->anon_after / 1024.0, r->quiet[0], r->during[0], r->quiet[1],
			r->during[1], r->quiet[2], r->during[2], r->quiet[1] > 0 ? r->during[1] / r->quiet[1] : 0, r->during_calls,
			r->errors);
}

int main(void)
{
	const char *plugin = getenv("C2D_PLUGIN") ? getenv("C2D_PLUGIN") : C2D_PLUGIN_PATH;
	bool quick = getenv("JOB_QUICK") != NULL;
	unsigned n = quick ? 5000 : 100000, online = quick ? 200 : 1000, rate = 60000, i;
	double window = quick ? 3 : 10;
	struct result r[3];
	bool paced_only;

	if(getenv("JOB_DEVICES")) n = (unsigned)strtoul(getenv("JOB_DEVICES"), NULL, 10);
	if(getenv("JOB_ONLINE")) online = (unsigned)strtoul(getenv("JOB_ONLINE"), NULL, 10);
	if(getenv("JOB_RATE")) rate = (unsigned)strtoul(getenv("JOB_RATE"), NULL, 10);
	if(getenv("JOB_RPC_QUIET")) rpc_quiet = (unsigned)strtoul(getenv("JOB_RPC_QUIET"), NULL, 10);
	paced_only = getenv("JOB_PACED_ONLY") != NULL && rate;
	if(online > n / 10) online = n / 10;
	mosquitto_lib_init();
	if((!paced_only && (run(plugin, n / 10, online, 0, 0, &r[0]) || run(plugin, n, online, 0, 0, &r[1])))
			|| (rate && run(plugin, n, online, rate, window, &r[2]))){
		return 1;
	}
	printf("## Jobs (a twin job over %u devices, %u online)\n\n", n, online);
	printf("Devices created through the plugin (one twin/tags patch each, QoS 1, %d in flight); %u of them\n"
			"online (libmosquitto 3.1.1 clients acknowledging every twin push), the rest offline; a twin job on\n"
			"`tags.fleet == \"b\"` (all of them), without rollout limits and then at maxPerMinute %u (measured for\n"
			"its first %.0f s). The first row (N/10) is the baseline of the same run. RPC: lightweight, one in flight,\n"
			"to an online echo device, quiet (before the job, %u calls) and while the job dispatches.\n\n",
			WINDOW, online, rate, window, rpc_quiet);
	printf("| target | tagging | createJob to all online acked | to all dispatched | dispatch rate | anon before / max / after | "
			"RPC p50 quiet / during | RPC p99 quiet / during | RPC p99.9 quiet / during | p99 ratio | calls during | "
			"errors |\n");
	printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
	for(i = paced_only ? 2u : 0u; i < (rate ? 3u : 2u); i++) row(&r[i]);
	if(paced_only){
		printf("\n");
		mosquitto_lib_cleanup();
		return 0;
	}
	printf("\nAnonymous memory during the job, %u-device target vs %u-device target: %.2fx (must stay about 1).\n"
			"At the end of the %u-device job: %.0f succeeded (the online devices), %.0f in progress (offline: each gets\n"
			"the patch when it returns).\n\n",
			r[1].n, r[0].n, r[0].anon_max > 0 ? (double)r[1].anon_max / (double)r[0].anon_max : 0, r[1].n, r[1].succeeded,
			r[1].in_progress);
	mosquitto_lib_cleanup();
	return 0;
}
