/* RPC benchmark: lightweight RPC through the plugin against plain MQTT 5
 * request/response through the same Mosquitto binary without it.
 *
 *   c2d:   app -> $c2d/{dev}/rpc/echo -> plugin -> $c2d/{dev}/in/rpc/echo/l{n}
 *          -> device -> $c2d/{dev}/out/res/l{n} -> plugin -> app's response topic
 *   plain: app -> req/{dev}/echo -> responder (subscribed to req/#)
 *          -> app's response topic
 *
 * The same two clients do both: the application publishes requests (QoS 1,
 * Response Topic + Correlation Data = a sequence number) and keeps a fixed
 * number in flight (closed loop: each reply sends the next request); the
 * responder answers every message it gets by publishing the same payload to
 * the message's Response Topic with its Correlation Data (QoS 1). Both
 * brokers are started here (temp dir, free loopback port) with the same
 * settings. Per scenario: a warm-up, then a fixed number of requests; the
 * throughput is measured from the end of the warm-up to the last reply, the
 * latency is publish-to-reply per request. Each scenario runs in several
 * rounds (alternating which broker goes first); the table shows the median
 * round. The result is a markdown table on stdout; progress goes to stderr. */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
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

#define DEV_ID "bench-dev"
#define REPLY_TOPIC "bench/reply/app"
#define MAX_INFLIGHT_LEVELS 8
#define MAX_ROUNDS 15

struct opts {
	unsigned count;              /* measured requests per scenario */
	unsigned warmup;             /* requests before measuring */
	unsigned rounds;
	unsigned size;               /* payload bytes */
	unsigned inflight[MAX_INFLIGHT_LEVELS];
	unsigned ninflight;
	unsigned timeout_s;          /* per scenario */
	const char *mosquitto;
	const char *plugin;
};

/* One scenario's run: the application's bookkeeping, shared between the
 * main thread and the application client's loop thread (under mu). */
struct run {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct mosquitto *app;
	const char *req_topic;
	const unsigned char *payload;
	int payloadlen;
	uint32_t total;              /* requests in this phase */
	uint32_t warm;               /* replies before the measurement starts */
	uint32_t next;               /* next sequence number to send */
	uint32_t done;               /* replies received */
	uint32_t errors;             /* replies with a status other than 200 */
	uint32_t send_failures;
	uint64_t *sent_ns;           /* per request */
	uint64_t *lat_ns;            /* per request, 0 = no reply yet */
	uint64_t t_start, t_end;
	bool stop;
};

struct result {
	bool ok;
	double rps;
	double p50_ms, p99_ms;
	uint32_t errors;
};

static void deadline_in_ms(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if(ts->tv_nsec >= 1000000000L){
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* ---- brokers ---- */

static int write_conf(const struct broker *b, const struct opts *o)
{
	FILE *f = broker_conf_open(b);

	if(f == NULL) return -1;
	/* both brokers: room for every request in flight */
	fprintf(f, "max_inflight_messages 1000\n");
	return broker_conf_close(b, f, o->plugin);
}

static int broker_start(struct broker *b, bool plugin, const struct opts *o)
{
	if(broker_prepare(b, plugin, "c2d-bench", plugin ? "plugin_opt_rpc_inflight 1000\n" : NULL) || write_conf(b, o)){
		fprintf(stderr, "rpc_bench: cannot prepare the %s broker\n", plugin ? "plugin" : "plain");
		return -1;
	}
	return broker_launch(b, o->mosquitto, 10, "rpc_bench", NULL);
}

/* ---- the application ---- */

/* Publish request seq. Called without mu. */
static void send_request(struct run *r, uint32_t seq)
{
	mosquitto_property *props = NULL;
	unsigned char corr[4] = {(unsigned char)(seq >> 24), (unsigned char)(seq >> 16), (unsigned char)(seq >> 8),
		(unsigned char)seq};
	int rc;

	rc = mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, REPLY_TOPIC);
	if(!rc) rc = mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, corr, sizeof(corr));
	if(!rc) rc = mosquitto_publish_v5(r->app, NULL, r->req_topic, r->payloadlen, r->payload, 1, false, props);
	mosquitto_property_free_all(&props);
	if(rc){
		pthread_mutex_lock(&r->mu);
		r->send_failures++;
		r->stop = true;
		pthread_cond_broadcast(&r->cv);
		pthread_mutex_unlock(&r->mu);
	}
}

/* Take the next sequence number and stamp it (mu held). Returns false when
 * the phase has sent everything or stopped. */
static bool take_next(struct run *r, uint32_t *seq)
{
	if(r->stop || r->next >= r->total) return false;
	*seq = r->next++;
	r->sent_ns[*seq] = now_ns();
	return true;
}

/* True if the reply's user property status is absent or 200. */
static bool status_ok(const mosquitto_property *props)
{
	const mosquitto_property *p;
	char *name = NULL, *value = NULL;
	bool ok = true, skip = false;

	for(p = props; p; skip = true){
		p = mosquitto_property_read_string_pair(p, MQTT_PROP_USER_PROPERTY, &name, &value, skip);
		if(p == NULL) break;
		if(strcmp(name, "status") == 0) ok = strcmp(value, "200") == 0;
		free(name);
		free(value);
	}
	return ok;
}

static void app_on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
		const mosquitto_property *props)
{
	struct run *r = ((struct tclient *)obj)->obj;
	void *corr = NULL;
	uint16_t corr_len = 0;
	uint32_t seq, next;
	uint64_t t = now_ns();
	bool more;

	(void)mosq;
	(void)msg;
	if(mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA, &corr, &corr_len, false) == NULL) return;
	if(corr_len != 4){
		free(corr);
		return;
	}
	seq = (uint32_t)((unsigned char *)corr)[0] << 24 | (uint32_t)((unsigned char *)corr)[1] << 16
			| (uint32_t)((unsigned char *)corr)[2] << 8 | ((unsigned char *)corr)[3];
	free(corr);
	pthread_mutex_lock(&r->mu);
	if(seq >= r->next || r->lat_ns[seq] != 0){ /* not ours, or a duplicate */
		pthread_mutex_unlock(&r->mu);
		return;
	}
	r->lat_ns[seq] = t - r->sent_ns[seq];
	r->done++;
	if(!status_ok(props)) r->errors++;
	if(r->done == r->warm) r->t_start = t;
	if(r->done == r->total){
		r->t_end = t;
		pthread_cond_broadcast(&r->cv);
	}
	more = take_next(r, &next);
	pthread_mutex_unlock(&r->mu);
	if(more) send_request(r, next);
}

/* Send total requests keeping inflight outstanding; wait until every reply
 * came, or timeout_ms. Returns true if all came. */
static bool run_phase(struct run *r, uint32_t total, uint32_t warm, unsigned inflight, int timeout_ms)
{
	struct timespec ts;
	uint32_t seq, i;
	bool all;

	pthread_mutex_lock(&r->mu);
	r->total = total;
	r->warm = warm;
	r->next = r->done = r->errors = r->send_failures = 0;
	r->t_start = r->t_end = 0;
	r->stop = false;
	memset(r->lat_ns, 0, sizeof(r->lat_ns[0]) * total);
	pthread_mutex_unlock(&r->mu);

	for(i = 0; i < inflight; i++){
		pthread_mutex_lock(&r->mu);
		all = take_next(r, &seq);
		pthread_mutex_unlock(&r->mu);
		if(!all) break;
		send_request(r, seq);
	}
	deadline_in_ms(&ts, timeout_ms);
	pthread_mutex_lock(&r->mu);
	while(r->done < r->total && !r->stop){
		if(pthread_cond_timedwait(&r->cv, &r->mu, &ts) == ETIMEDOUT) break;
	}
	all = r->done == r->total;
	r->stop = true; /* late replies send nothing more */
	pthread_mutex_unlock(&r->mu);
	return all;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static double pct_ms(const uint64_t *sorted, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);

	return (double)sorted[i] / 1e6;
}

/* One scenario on broker b: connect the responder and the application, wait
 * until a request gets a 200 (the plugin confirms a device at its next tick),
 * warm up, measure. */
static struct result scenario(const struct broker *b, unsigned inflight, const struct opts *o, unsigned char *payload,
		uint64_t *sent_ns, uint64_t *lat_ns)
{
	struct result res = {0};
	struct tclient app, dev;
	struct run r;
	uint32_t total = o->warmup + o->count;
	int tries;

	memset(&r, 0, sizeof(r));
	memset(&app, 0, sizeof(app));
	memset(&dev, 0, sizeof(dev));
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cv, NULL);
	r.req_topic = b->plugin ? "$c2d/" DEV_ID "/rpc/echo" : "req/" DEV_ID "/echo";
	r.payload = payload;
	r.payloadlen = (int)o->size;
	r.sent_ns = sent_ns;
	r.lat_ns = lat_ns;

	app.obj = &r;
	if(tclient_open(&dev, DEV_ID, b->port, b->plugin ? NULL : "req/#", 1000, echo_on_message, NULL, "rpc_bench")
			|| tclient_open(&app, "bench-app", b->port, REPLY_TOPIC, 1000, app_on_message, NULL, "rpc_bench")){
		goto out;
	}
	r.app = app.m;
	for(tries = 0; tries < 50; tries++){
		if(run_phase(&r, 1, 0, 1, 2000) && r.errors == 0) break;
		usleep(100000);
	}
	if(tries == 50){
		fprintf(stderr, "rpc_bench: no 200 reply on %s\n", r.req_topic);
		goto out;
	}
	if(!run_phase(&r, total, o->warmup, inflight, (int)o->timeout_s * 1000)){
		fprintf(stderr, "rpc_bench: %s, %u in flight: aborted after %u s with %u of %u replies\n",
				b->plugin ? "c2d" : "plain", inflight, o->timeout_s, r.done, total);
		goto out;
	}
	qsort(lat_ns + o->warmup, o->count, sizeof(lat_ns[0]), cmp_u64);
	res.ok = r.send_failures == 0;
	res.rps = (double)(total - o->warmup) / ((double)(r.t_end - r.t_start) / 1e9);
	res.p50_ms = pct_ms(lat_ns + o->warmup, o->count, 0.50);
	res.p99_ms = pct_ms(lat_ns + o->warmup, o->count, 0.99);
	res.errors = r.errors;
out:
	tclient_close(&app);
	tclient_close(&dev);
	pthread_mutex_destroy(&r.mu);
	pthread_cond_destroy(&r.cv);
	return res;
}

/* ---- report ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of the rounds, metric by metric; not ok if any round failed. */
static struct result median(const struct result *rounds, unsigned n)
{
	struct result m = {.ok = true};
	double v[3][MAX_ROUNDS];
	unsigned i;

	for(i = 0; i < n; i++){
		if(!rounds[i].ok) m.ok = false;
		v[0][i] = rounds[i].rps;
		v[1][i] = rounds[i].p50_ms;
		v[2][i] = rounds[i].p99_ms;
		m.errors += rounds[i].errors;
	}
	for(i = 0; i < 3; i++) qsort(v[i], n, sizeof(double), cmp_double);
	m.rps = v[0][n / 2];
	m.p50_ms = v[1][n / 2];
	m.p99_ms = v[2][n / 2];
	return m;
}

/* The ratio c2d/plain of one metric round by round (both brokers ran one
 * after the other in a round, so a change of the shared machine's regime
 * between rounds cancels): its median, lowest and highest. */
struct paired {
	double median, lo, hi;
};

static struct paired paired_ratio(const struct result (*rounds)[MAX_ROUNDS], unsigned n, int metric)
{
	struct paired pr = {0, 0, 0};
	double v[MAX_ROUNDS], a, b;
	unsigned i;

	for(i = 0; i < n; i++){
		a = metric == 0 ? rounds[1][i].rps : rounds[1][i].p50_ms;
		b = metric == 0 ? rounds[0][i].rps : rounds[0][i].p50_ms;
		v[i] = b > 0 ? a / b : 0;
	}
	qsort(v, n, sizeof(double), cmp_double);
	pr.median = v[n / 2];
	pr.lo = v[0];
	pr.hi = v[n - 1];
	return pr;
}

static void print_report(const struct opts *o, struct result (*res)[2],
		const struct result (*rounds)[2][MAX_ROUNDS])
{
	struct utsname u;
	unsigned i, k;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	uname(&u);
	printf("## RPC: plugin vs plain MQTT 5 request/response\n\n");
	printf("%s %s, %ld CPUs, libmosquitto %d.%d.%d clients, broker %s. Payload %u bytes, QoS 1 both ways, "
			"%u requests per scenario after %u warm-up, median of %u round%s.\n\n",
			u.sysname, u.release, cpus, LIBMOSQUITTO_MAJOR, LIBMOSQUITTO_MINOR, LIBMOSQUITTO_REVISION, o->mosquitto,
			o->size, o->count, o->warmup, o->rounds, o->rounds == 1 ? "" : "s");
	printf("| scenario | in flight | req/s | p50 ms | p99 ms | errors |\n");
	printf("|---|---:|---:|---:|---:|---:|\n");
	for(i = 0; i < o->ninflight; i++){
		for(k = 0; k < 2; k++){
			const struct result *r = &res[i][k];
			const char *name = k ? "c2d lightweight RPC" : "plain MQTT 5 req/resp";

			if(r->ok){
				printf("| %s | %u | %.0f | %.3f | %.3f | %u |\n", name, o->inflight[i], r->rps, r->p50_ms,
						r->p99_ms, r->errors);
			}else{
				printf("| %s | %u | aborted | - | - | - |\n", name, o->inflight[i]);
			}
		}
	}
	/* issue 14's targets: >= 1.0x plain throughput, p50 <= 1.0x plain */
	printf("\n| in flight | throughput c2d/plain | p50 c2d/plain | p99 c2d/plain | paired throughput (range) | "
			"paired p50 (range) | >= 1.0x throughput | <= 1.0x p50 |\n");
	printf("|---:|---:|---:|---:|---:|---:|:---:|:---:|\n");
	for(i = 0; i < o->ninflight; i++){
		const struct result *p = &res[i][0], *c = &res[i][1];
		struct paired pt, pl;
		double tr, lr, l99;

		if(!p->ok || !c->ok){
			printf("| %u | - | - | - | - | - | - | - |\n", o->inflight[i]);
			continue;
		}
		tr = c->rps / p->rps;
		lr = c->p50_ms / p->p50_ms;
		l99 = c->p99_ms / p->p99_ms;
		pt = paired_ratio(rounds[i], o->rounds, 0);
		pl = paired_ratio(rounds[i], o->rounds, 1);
		printf("| %u | %.2f | %.2f | %.2f | %.2f (%.2f-%.2f) | %.2f (%.2f-%.2f) | %s | %s |\n", o->inflight[i], tr,
				lr, l99, pt.median, pt.lo, pt.hi, pl.median, pl.lo, pl.hi, pt.median >= 1.0 ? "yes" : "no",
				pl.median <= 1.0 ? "yes" : "no");
	}
	printf("\nPaired: the c2d/plain ratio of each round (the two brokers ran one after the other), "
			"median of the rounds; the targets are judged on it.\n");
}

/* ---- main ---- */

static void usage(void)
{
	fprintf(stderr,
			"usage: rpc_bench [-n requests] [-w warmup] [-r rounds] [-s payload_bytes] [-i inflight,...]\n"
			"                 [-T scenario_timeout_s] [-m mosquitto] [-p plugin.so]\n"
			"defaults: -n 20000 -w 2000 -r 3 -s 64 -i 1,64 -T 60 -m /usr/sbin/mosquitto -p %s\n",
			C2D_PLUGIN_PATH);
}

static bool parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if(errno || end == s || *end || v < min || v > max) return false;
	*out = (unsigned)v;
	return true;
}

static bool parse_list(char *s, struct opts *o)
{
	char *tok, *save = NULL;

	o->ninflight = 0;
	for(tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)){
		if(o->ninflight == MAX_INFLIGHT_LEVELS || !parse_uint(tok, 1, 1000, &o->inflight[o->ninflight])) return false;
		o->ninflight++;
	}
	return o->ninflight > 0;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	int ch;

	*o = (struct opts){.count = 20000, .warmup = 2000, .rounds = 3, .size = 64, .inflight = {1, 64},
		.ninflight = 2, .timeout_s = 60, .mosquitto = "/usr/sbin/mosquitto", .plugin = C2D_PLUGIN_PATH};
	while((ch = getopt(argc, argv, "n:w:r:s:i:T:m:p:h")) != -1){
		bool ok = true;

		switch(ch){
			case 'n': ok = parse_uint(optarg, 1, 10000000, &o->count); break;
			case 'w': ok = parse_uint(optarg, 0, 10000000, &o->warmup); break;
			case 'r': ok = parse_uint(optarg, 1, MAX_ROUNDS, &o->rounds); break;
			case 's': ok = parse_uint(optarg, 0, 1000000, &o->size); break;
			case 'i': ok = parse_list(optarg, o); break;
			case 'T': ok = parse_uint(optarg, 1, 3600, &o->timeout_s); break;
			case 'm': o->mosquitto = optarg; break;
			case 'p': o->plugin = optarg; break;
			default: ok = false; break;
		}
		if(!ok){
			usage();
			return -1;
		}
	}
	if(optind != argc){
		usage();
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct result (*res)[2] = NULL, rounds[MAX_INFLIGHT_LEVELS][2][MAX_ROUNDS];
	struct broker brokers[2];
	unsigned char *payload = NULL;
	uint64_t *sent_ns = NULL, *lat_ns = NULL;
	struct opts o;
	unsigned i, k, round, which;
	int rc = EXIT_FAILURE;

	if(parse_args(argc, argv, &o)) return 2;
	signal(SIGPIPE, SIG_IGN);
	mosquitto_lib_init();
	memset(brokers, 0, sizeof(brokers));
	payload = malloc(o.size ? o.size : 1);
	sent_ns = calloc(o.warmup + o.count, sizeof(*sent_ns));
	lat_ns = calloc(o.warmup + o.count, sizeof(*lat_ns));
	res = calloc(o.ninflight, sizeof(*res));
	if(payload == NULL || sent_ns == NULL || lat_ns == NULL || res == NULL) goto out;
	for(i = 0; i < o.size; i++) payload[i] = (unsigned char)('a' + i % 26);
	if(broker_start(&brokers[0], false, &o) || broker_start(&brokers[1], true, &o)) goto out;

	for(round = 0; round < o.rounds; round++){
		for(i = 0; i < o.ninflight; i++){
			for(k = 0; k < 2; k++){
				which = (round + k) % 2; /* alternate who goes first */
				fprintf(stderr, "rpc_bench: round %u, %s, %u in flight...\n", round + 1,
						which ? "c2d" : "plain", o.inflight[i]);
				rounds[i][which][round] = scenario(&brokers[which], o.inflight[i], &o, payload, sent_ns, lat_ns);
				if(!rounds[i][which][round].ok) fprintf(stderr, "rpc_bench: scenario failed\n");
			}
		}
	}
	rc = EXIT_SUCCESS;
	for(i = 0; i < o.ninflight; i++){
		for(k = 0; k < 2; k++){
			res[i][k] = median(rounds[i][k], o.rounds);
			if(!res[i][k].ok) rc = EXIT_FAILURE;
		}
	}
	print_report(&o, res, (const struct result(*)[2][MAX_ROUNDS])rounds);
out:
	broker_stop(&brokers[0]);
	broker_stop(&brokers[1]);
	mosquitto_lib_cleanup();
	free(res);
	free(lat_ns);
	free(sent_ns);
	free(payload);
	return rc;
}
