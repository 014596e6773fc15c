/* Expiry benchmark: lightweight RPC latency to an online device while a
 * mass expiry runs, against the same RPCs on the same full store before it
 * (quiet), and how late the expiry is.
 *
 *   fill:   N messages (-n, 1000000) for D offline devices (-d, 1000), round
 *           robin, ttl 3600 s, through the broker like any application
 *           (QoS 1 publishes to $c2d/dev-{i}/msg, -w in flight), so the store
 *           holds exactly what the plugin writes for them (records, due
 *           index, counts). The broker runs under libfaketime with its
 *           monotonic clock real (the offset file is read at most once a
 *           second: FAKETIME_CACHE_DURATION=1).
 *   quiet:  lightweight RPCs to the online echo device bench-dev, one in
 *           flight (closed loop), for -q seconds.
 *   expiry: the broker's wall clock steps +2 h: every stored message is due
 *           at once. RPCs go on as before until the sampled devices
 *           (dev-0..dev-{S-1}, -s 10) have reported every one of their
 *           messages expired (c2d.msg.expired on $c2d/dev-{k}/events/msg), or
 *           -T seconds. Their messages are spread over the whole due order
 *           (round robin), so the last one's delay is the sweep's length.
 *
 * Lateness: an expired event's arrival minus the step (every item was due
 * at the step). RPC latency: publish to reply, p50 and p99 per phase. The
 * plugin under test is -p (build/mosquitto_c2d.so); -b adds a baseline
 * plugin (e.g. main's, built in a temp tree) run the same way after it.
 * Markdown on stdout, progress on stderr. */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "bench_broker.h"

#ifndef C2D_PLUGIN_PATH
#define C2D_PLUGIN_PATH "build/mosquitto_c2d.so"
#endif
#define FAKETIME_LIB "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
#define DEV_ID "bench-dev"
#define REPLY_TOPIC "bench/reply/app"
#define MAX_LAT 4000000

struct opts {
	unsigned n, devs, window, samples, quiet_s, timeout_s;
	const char *mosquitto, *plugin, *baseline;
};

static uint64_t mono_ns(void)
{
	return now_ns();
}

/* ---- the filler: keeps window publishes in flight ---- */

struct filler {
	struct tclient c;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned inflight, acked, failed;
};

static void fill_on_publish(struct mosquitto *m, void *obj, int mid, int reason, const mosquitto_property *props)
{
	struct filler *f = (struct filler *)obj;

	(void)m;
	(void)mid;
	(void)props;
	pthread_mutex_lock(&f->mu);
	f->inflight--;
	f->acked++;
	if(reason >= 0x80) f->failed++;
	pthread_cond_signal(&f->cv);
	pthread_mutex_unlock(&f->mu);
}

static int fill(const struct broker *b, const struct opts *o, double *secs)
{
	struct filler f;
	mosquitto_property *props = NULL;
	char topic[64];
	uint64_t t0 = mono_ns();
	unsigned i;
	int rc = 0;

	memset(&f, 0, sizeof(f));
	pthread_mutex_init(&f.mu, NULL);
	pthread_cond_init(&f.cv, NULL);
	mosquitto_property_add_string_pair(&props, MQTT_PROP_USER_PROPERTY, "ttl", "3600");
	if(tclient_open(&f.c, "bench-filler", b->port, NULL, (int)o->window, NULL, fill_on_publish, "expiry_bench")){
		rc = -1;
		goto out;
	}
	for(i = 0; i < o->n && rc == 0; i++){
		pthread_mutex_lock(&f.mu);
		while(f.inflight >= o->window) pthread_cond_wait(&f.cv, &f.mu);
		f.inflight++;
		pthread_mutex_unlock(&f.mu);
		snprintf(topic, sizeof(topic), "$c2d/dev-%u/msg", i % o->devs);
		rc = mosquitto_publish_v5(f.c.m, NULL, topic, 8, "payload!", 1, false, props) ? -1 : 0;
		if(i % 100000 == 99999) fprintf(stderr, "expiry_bench: %u stored\n", i + 1);
	}
	pthread_mutex_lock(&f.mu);
	while(f.inflight > 0 && rc == 0) pthread_cond_wait(&f.cv, &f.mu);
	if(f.failed){
		fprintf(stderr, "expiry_bench: %u of %u publishes refused\n", f.failed, f.acked);
		rc = -1;
	}
	pthread_mutex_unlock(&f.mu);
out:
	*secs = (double)(mono_ns() - t0) / 1e9;
	tclient_close(&f.c);
	mosquitto_property_free_all(&props);
	return rc;
}

/* ---- RPC load and the expiry samples ---- */

struct load {
	struct tclient app, watch;
	pthread_mutex_t mu;
	uint64_t sent_ns;
	uint32_t seq;
	bool stop;
	uint64_t *lat, *at;          /* latency and when the reply came */
	size_t nlat;
	uint64_t step_ns;            /* when the clock stepped, 0 before */
	uint64_t *late;              /* sampled expired events: arrival - step */
	size_t nlate, want_late;
	uint32_t errors;
};

static void send_rpc(struct load *l)
{
	mosquitto_property *props = NULL;
	uint32_t seq;

	pthread_mutex_lock(&l->mu);
	if(l->stop){
		pthread_mutex_unlock(&l->mu);
		return;
	}
	seq = ++l->seq;
	l->sent_ns = mono_ns();
	pthread_mutex_unlock(&l->mu);
	mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, REPLY_TOPIC);
	mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, &seq, sizeof(seq));
	mosquitto_publish_v5(l->app.m, NULL, "$c2d/" DEV_ID "/rpc/echo", 8, "rpc-ping", 1, false, props);
	mosquitto_property_free_all(&props);
}

static void app_on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
		const mosquitto_property *props)
{
	struct load *l = ((struct tclient *)obj)->obj;
	uint64_t t = mono_ns();

	(void)m;
	(void)msg;
	(void)props;
	pthread_mutex_lock(&l->mu);
	if(l->nlat < MAX_LAT){
		l->lat[l->nlat] = t - l->sent_ns;
		l->at[l->nlat++] = t;
	}
	if(msg->payloadlen != 8) l->errors++;
	pthread_mutex_unlock(&l->mu);
	send_rpc(l);
}

static void watch_on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
		const mosquitto_property *props)
{
	struct load *l = ((struct tclient *)obj)->obj;
	uint64_t t = mono_ns();

	(void)m;
	(void)props;
	if(msg->payloadlen <= 0 || strstr(msg->payload, "c2d.msg.expired") == NULL) return;
	pthread_mutex_lock(&l->mu);
	if(l->step_ns && l->nlate < l->want_late) l->late[l->nlate++] = t - l->step_ns;
	pthread_mutex_unlock(&l->mu);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* p50 and p99 (ms) of the latencies whose reply came in [from, to). */
static void pcts(const struct load *l, uint64_t from, uint64_t to, double *p50, double *p99, size_t *n)
{
	uint64_t *v = malloc(sizeof(uint64_t) * (l->nlat + 1));
	size_t i, k = 0;

	for(i = 0; v && i < l->nlat; i++){
		if(l->at[i] >= from && l->at[i] < to) v[k++] = l->lat[i];
	}
	*n = k;
	*p50 = *p99 = 0;
	if(k){
		qsort(v, k, sizeof(v[0]), cmp_u64);
		*p50 = (double)v[(size_t)(0.50 * (double)(k - 1) + 0.5)] / 1e6;
		*p99 = (double)v[(size_t)(0.99 * (double)(k - 1) + 0.5)] / 1e6;
	}
	free(v);
}

struct result {
	bool ok;
	double fill_s, fill_rate;
	double quiet_p50, quiet_p99, exp_p50, exp_p99;
	size_t quiet_n, exp_n;
	double late_p50_s, late_max_s, expiry_rate;
	size_t late_n, late_want;
	uint32_t errors;
};

static int shift_clock(const struct broker *b, long seconds)
{
	char path[128], tmp[140];
	FILE *f;

	snprintf(path, sizeof(path), "%s/faketime", b->dir);
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	f = fopen(tmp, "w");
	if(f == NULL) return -1;
	fprintf(f, "%+ld\n", seconds);
	if(fclose(f) != 0) return -1;
	return rename(tmp, path);
}

static int start_broker(struct broker *b, const struct opts *o, const char *plugin)
{
	char extra[256], path[160];
	FILE *f;
	int rc;

	snprintf(extra, sizeof(extra), "plugin_opt_msg_queue_max %u\nplugin_opt_map_size 8192\n"
			"plugin_opt_rpc_inflight 1000\n", o->n / o->devs + 1);
	if(broker_prepare(b, true, "c2d-expiry", extra)) return -1;
	f = broker_conf_open(b);
	if(f == NULL) return -1;
	fprintf(f, "max_inflight_messages 1000\nmax_queued_messages 100000\n");
	if(broker_conf_close(b, f, plugin)) return -1;
	if(shift_clock(b, 0)) return -1;
	snprintf(path, sizeof(path), "%s/faketime", b->dir);
	setenv("LD_PRELOAD", FAKETIME_LIB, 1);
	setenv("FAKETIME_TIMESTAMP_FILE", path, 1);
	setenv("FAKETIME_CACHE_DURATION", "1", 1);
	setenv("FAKETIME_DONT_FAKE_MONOTONIC", "1", 1);
	rc = broker_launch(b, o->mosquitto, 30, "expiry_bench", NULL);
	unsetenv("LD_PRELOAD");
	unsetenv("FAKETIME_TIMESTAMP_FILE");
	unsetenv("FAKETIME_CACHE_DURATION");
	unsetenv("FAKETIME_DONT_FAKE_MONOTONIC");
	return rc;
}

static struct result run(const struct opts *o, const char *plugin)
{
	struct result r = {0};
	struct broker b;
	struct tclient dev = {0};
	struct load l;
	uint64_t t_quiet, t_step, t_end, deadline;
	char filter[64];
	unsigned k;
	bool done;

	memset(&l, 0, sizeof(l));
	pthread_mutex_init(&l.mu, NULL);
	l.lat = malloc(sizeof(uint64_t) * MAX_LAT);
	l.at = malloc(sizeof(uint64_t) * MAX_LAT);
	l.want_late = (size_t)o->samples * (o->n / o->devs) + (o->n % o->devs < o->samples ? o->n % o->devs : o->samples);
	l.late = malloc(sizeof(uint64_t) * (l.want_late + 1));
	if(l.lat == NULL || l.at == NULL || l.late == NULL || start_broker(&b, o, plugin)) goto out;
	fprintf(stderr, "expiry_bench: %s: storing %u messages for %u offline devices\n", plugin, o->n, o->devs);
	if(fill(&b, o, &r.fill_s)) goto out;
	r.fill_rate = o->n / r.fill_s;
	l.app.obj = &l;
	l.watch.obj = &l;
	if(tclient_open(&dev, DEV_ID, b.port, NULL, 1000, echo_on_message, NULL, "expiry_bench")
			|| tclient_open(&l.watch, "bench-watch", b.port, NULL, 1000, watch_on_message, NULL, "expiry_bench")
			|| tclient_open(&l.app, "bench-app", b.port, REPLY_TOPIC, 1000, app_on_message, NULL, "expiry_bench")){
		goto out;
	}
	for(k = 0; k < o->samples; k++){
		snprintf(filter, sizeof(filter), "$c2d/dev-%u/events/msg", k);
		mosquitto_subscribe_v5(l.watch.m, NULL, filter, 1, 0, NULL);
	}
	sleep(5); /* the fill's last sync is done, the device confirmed, the subscriptions in */
	send_rpc(&l);
	sleep(1); /* warm-up */
	t_quiet = mono_ns();
	fprintf(stderr, "expiry_bench: quiet RPCs for %u s\n", o->quiet_s);
	sleep(o->quiet_s);
	pthread_mutex_lock(&l.mu);
	t_step = l.step_ns = mono_ns();
	pthread_mutex_unlock(&l.mu);
	if(shift_clock(&b, 7200)) goto out;
	fprintf(stderr, "expiry_bench: clock +2 h, waiting for %zu sampled expiries\n", l.want_late);
	deadline = t_step + (uint64_t)o->timeout_s * 1000000000ull;
	do{
		usleep(100000);
		pthread_mutex_lock(&l.mu);
		done = l.nlate >= l.want_late;
		pthread_mutex_unlock(&l.mu);
	}while(!done && mono_ns() < deadline);
	pthread_mutex_lock(&l.mu);
	l.stop = true;
	t_end = mono_ns();
	pcts(&l, t_quiet, t_step, &r.quiet_p50, &r.quiet_p99, &r.quiet_n);
	pcts(&l, t_step, t_end, &r.exp_p50, &r.exp_p99, &r.exp_n);
	r.late_n = l.nlate;
	r.late_want = l.want_late;
	r.errors = l.errors;
	if(l.nlate){
		qsort(l.late, l.nlate, sizeof(l.late[0]), cmp_u64);
		r.late_p50_s = (double)l.late[l.nlate / 2] / 1e9;
		r.late_max_s = (double)l.late[l.nlate - 1] / 1e9;
		r.expiry_rate = done ? o->n / r.late_max_s : 0;
	}
	pthread_mutex_unlock(&l.mu);
	r.ok = done && r.quiet_n > 0 && r.exp_n > 0;
	if(!done) fprintf(stderr, "expiry_bench: %zu of %zu sampled expiries within %u s\n", l.nlate, l.want_late, o->timeout_s);
out:
	tclient_close(&l.app);
	tclient_close(&l.watch);
	tclient_close(&dev);
	broker_stop(&b);
	free(l.lat);
	free(l.at);
	free(l.late);
	pthread_mutex_destroy(&l.mu);
	return r;
}

static void print_row(const char *name, const struct result *r)
{
	if(!r->ok && r->quiet_n == 0){
		printf("| %s | failed | - | - | - | - | - | - | - |\n", name);
		return;
	}
	printf("| %s | %.0f | %.3f / %.3f | %.3f / %.3f | %.2f | %.1f | %s%.1f | %.0f | %u |\n", name, r->fill_rate,
			r->quiet_p50, r->quiet_p99, r->exp_p50, r->exp_p99, r->exp_p99 / r->quiet_p99, r->late_p50_s,
			r->ok ? "" : ">", r->late_max_s, r->expiry_rate, r->errors);
}

static void usage(void)
{
	fprintf(stderr, "usage: expiry_bench [-n messages] [-d devices] [-w window] [-s sampled devices] [-q quiet s]\n"
			"                    [-T timeout s] [-m mosquitto] [-p plugin] [-b baseline plugin]\n");
}

int main(int argc, char **argv)
{
	struct opts o = {1000000, 1000, 500, 10, 10, 1200, "/usr/sbin/mosquitto", C2D_PLUGIN_PATH, NULL};
	struct result now, base = {0};
	struct utsname u;
	int c;

	while((c = getopt(argc, argv, "n:d:w:s:q:T:m:p:b:h")) != -1){
		switch(c){
			case 'n': o.n = (unsigned)strtoul(optarg, NULL, 10); break;
			case 'd': o.devs = (unsigned)strtoul(optarg, NULL, 10); break;
			case 'w': o.window = (unsigned)strtoul(optarg, NULL, 10); break;
			case 's': o.samples = (unsigned)strtoul(optarg, NULL, 10); break;
			case 'q': o.quiet_s = (unsigned)strtoul(optarg, NULL, 10); break;
			case 'T': o.timeout_s = (unsigned)strtoul(optarg, NULL, 10); break;
			case 'm': o.mosquitto = optarg; break;
			case 'p': o.plugin = optarg; break;
			case 'b': o.baseline = optarg; break;
			default: usage(); return 2;
		}
	}
	if(o.n == 0 || o.devs == 0 || o.window == 0 || o.samples == 0 || o.samples > o.devs || o.window > 1000){
		usage();
		return 2;
	}
	if(access(FAKETIME_LIB, R_OK) != 0){
		fprintf(stderr, "expiry_bench: needs libfaketime (%s)\n", FAKETIME_LIB);
		return 1;
	}
	mosquitto_lib_init();
	now = run(&o, o.plugin);
	if(o.baseline) base = run(&o, o.baseline);
	mosquitto_lib_cleanup();
	uname(&u);
	printf("## Expiry under load: RPC latency during a mass expiry\n\n");
	printf("%s %s, %ld CPUs. %u messages for %u offline devices (ttl 3600 s, stored through the broker, %u in "
			"flight), then the broker's wall clock +2 h; lightweight RPC to an online device, 1 in flight, "
			"%u s quiet, then during the expiry. Lateness from %u sampled devices' c2d.msg.expired events.\n\n",
			u.sysname, u.release, sysconf(_SC_NPROCESSORS_ONLN), o.n, o.devs, o.window, o.quiet_s, o.samples);
	printf("| plugin | fill msg/s | quiet RPC p50 / p99 ms | expiry RPC p50 / p99 ms | p99 expiry/quiet | "
			"lateness p50 s | lateness max s | expired/s | errors |\n");
	printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	print_row("this tree", &now);
	if(o.baseline) print_row("baseline", &base);
	printf("\n");
	return now.ok && (!o.baseline || base.ok) ? 0 : 1;
}
