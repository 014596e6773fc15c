/* Long device lists: LIST_ROUNDS msg jobs one after the other, each on a
 * list of LIST_N (10000, the contract's limit) devices, all offline but the
 * last in id order (so dispatched last), online: createJob to that
 * device's delivery. First on an idle broker (no other traffic: Mosquitto
 * 2.0 wakes the plugin every 100 ms then), then with lightweight RPC, one
 * call every SPORADIC_MS (the broker's loop idles between calls), measured
 * before the jobs (quiet: the baseline of the same run) and while they run.
 * Last idle again with WAITING more jobs running whose executions all wait
 * on offline devices (they cost a sleeping job nothing per tick).
 * C2D_PLUGIN: another build of the plugin (before / after).
 *
 * Markdown on stdout, progress on stderr. */
#define _GNU_SOURCE

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bench_broker.h"
#include "bench_lat.h"

#define WHO "list_bench"
#define WINDOW 500
#define RPC_QUIET 500
#define WAITING 40

#define LIST_N 10000
#define LIST_ROUNDS 3
#define SPORADIC_MS 20

/* When the list's last device got its message (now_ns; 0: not yet). */
static atomic_uint_fast64_t last_got_ns;

static void last_on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
		const mosquitto_property *props)
{
	(void)m;
	(void)obj;
	(void)msg;
	(void)props;
	if(atomic_load(&last_got_ns) == 0) atomic_store(&last_got_ns, now_ns());
}

struct list_result {
	double idle_s[LIST_ROUNDS], busy_s[LIST_ROUNDS], waiting_s[LIST_ROUNDS];
	double quiet[3], during[3];
	size_t quiet_calls, during_calls;
	int errors;
};

/* One msg job on LIST_N devices: LIST_N - 1 offline, the last (in id
 * order, so dispatched last) online: createJob to its delivery, in s; -1
 * on failure. */
static double list_round(struct rclient *op, int port, const char *name, char *cmd, size_t cap)
{
	struct tclient last = {0};
	char id[32], sub[48];
	uint64_t t0;
	size_t len;
	cJSON *j;
	int i;

	snprintf(id, sizeof(id), "zz-last-%s", name);
	snprintf(sub, sizeof(sub), "$c2d/%s/in/#", id);
	if(tclient_open(&last, id, port, sub, WINDOW, last_on_message, NULL, WHO)) return -1;
	usleep(300000); /* its presence confirmed (a tick) */
	len = (size_t)snprintf(cmd, cap, "{\"command\":\"createJob\",\"job\":\"%s\",\"target\":{\"devices\":[", name);
	for(i = 0; i < LIST_N - 1; i++) len += (size_t)snprintf(cmd + len, cap - len, "\"off-%s-%05d\",", name, i);
	snprintf(cmd + len, cap - len, "\"%s\"]},\"action\":{\"msg\":{\"payload\":\"reload\",\"ttl\":3600}}}", id);
	atomic_store(&last_got_ns, 0);
	t0 = now_ns();
	j = admin(op, cmd);
	if(num(j, "status", NULL) != 202){
		fprintf(stderr, WHO ": list: createJob failed\n");
		return -1;
	}
	cJSON_Delete(j);
	while(atomic_load(&last_got_ns) == 0){
		if((double)(now_ns() - t0) / 1e9 > 600){
			fprintf(stderr, WHO ": list: the last device got nothing in 10 minutes\n");
			return -1;
		}
		usleep(5000);
	}
	tclient_close(&last);
	fprintf(stderr, WHO ": list %s: the last device after %.2f s\n", name, (double)(atomic_load(&last_got_ns) - t0) / 1e9);
	return (double)(atomic_load(&last_got_ns) - t0) / 1e9;
}

/* LIST_ROUNDS jobs on an idle broker, then LIST_ROUNDS with sporadic
 * lightweight RPC, measured before them (quiet) and while they run. */
static int run_list(const char *plugin, struct list_result *res)
{
	size_t cap = LIST_N * 24 + 256;
	char *cmd = malloc(cap), name[16];
	struct rpc_load d = {.pause_us = SPORADIC_MS * 1000};
	struct rclient op, caller;
	struct tclient echo;
	struct broker b;
	pthread_t th;
	uint64_t ns;
	FILE *f;
	int r, i;

	memset(res, 0, sizeof(*res));
	d.lat.ns = calloc(LAT_MAX, sizeof(uint64_t));
	if(cmd == NULL || d.lat.ns == NULL) return -1;
	if(broker_prepare(&b, true, "c2d-jobl", "plugin_opt_stats_interval 0\n") || (f = broker_conf_open(&b)) == NULL
			|| broker_conf_close(&b, f, plugin) || broker_launch(&b, "/usr/sbin/mosquitto", 20, WHO, NULL)){
		return -1;
	}
	if(rclient_open(&op, "bench-op", b.port, "bench/admin", WINDOW, WHO)) return -1;
	for(r = 0; r < LIST_ROUNDS; r++){
		snprintf(name, sizeof(name), "idle-%d", r);
		if((res->idle_s[r] = list_round(&op, b.port, name, cmd, cap)) < 0) return -1;
	}
	if(tclient_open(&echo, "bench-echo", b.port, "$c2d/bench-echo/in/#", WINDOW, echo_on_message, NULL, WHO)) return -1;
	if(rclient_open(&caller, "bench-caller", b.port, "bench/rpc", WINDOW, WHO)) return -1;
	for(i = 0; i < 100 && rpc_once(&caller, &ns) != 0; i++) usleep(100000);
	d.caller = &caller;
	fprintf(stderr, WHO ": list: quiet sporadic RPC (one every %d ms, %u calls)\n", SPORADIC_MS, RPC_QUIET);
	while(d.lat.n < RPC_QUIET){
		if(rpc_once(&caller, &ns) == 0) d.lat.ns[d.lat.n++] = ns;
		else res->errors++;
		usleep(SPORADIC_MS * 1000);
	}
	res->quiet_calls = d.lat.n;
	pcts(&d.lat, res->quiet);
	d.lat.n = 0;
	pthread_create(&th, NULL, rpc_load_run, &d);
	for(r = 0; r < LIST_ROUNDS; r++){
		snprintf(name, sizeof(name), "rpc-%d", r);
		if((res->busy_s[r] = list_round(&op, b.port, name, cmd, cap)) < 0) return -1;
	}
	atomic_store(&d.stop, 1);
	pthread_join(th, NULL);
	res->during_calls = d.lat.n;
	pcts(&d.lat, res->during);
	res->errors += d.errors;
	/* WAITING more jobs whose executions all wait on offline devices (a
	 * job stays running until they return or their messages expire) */
	for(r = 0; r < WAITING; r++){
		cJSON *j;

		snprintf(cmd, cap, "{\"command\":\"createJob\",\"job\":\"wait-%02d\",\"target\":{\"devices\":[\"w%02d-a\",\"w%02d-b\","
				"\"w%02d-c\"]},\"action\":{\"msg\":{\"payload\":\"x\",\"ttl\":3600}}}", r, r, r, r);
		j = admin(&op, cmd);
		if(num(j, "status", NULL) != 202) return -1;
		cJSON_Delete(j);
	}
	sleep(1);
	for(r = 0; r < LIST_ROUNDS; r++){
		snprintf(name, sizeof(name), "wait-r%d", r);
		if((res->waiting_s[r] = list_round(&op, b.port, name, cmd, cap)) < 0) return -1;
	}
	free(d.lat.ns);
	free(cmd);
	tclient_close(&caller.c);
	tclient_close(&echo);
	tclient_close(&op.c);
	broker_stop(&b);
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void list_row(const char *what, double *t, const struct list_result *l, bool rpc)
{
	qsort(t, LIST_ROUNDS, sizeof(double), cmp_double);
	printf("| %s | %.2f / %.2f / %.2f s | %.0f /s |", what, t[0], t[LIST_ROUNDS / 2], t[LIST_ROUNDS - 1],
			LIST_N / t[LIST_ROUNDS / 2]);
	if(rpc){
		printf(" %.2f / %.2f ms | %.2f / %.2f ms | %.2fx | %zu / %zu | %d |\n", l->quiet[0], l->during[0], l->quiet[1],
				l->during[1], l->quiet[1] > 0 ? l->during[1] / l->quiet[1] : 0, l->quiet_calls, l->during_calls, l->errors);
	}else{
		printf(" - | - | - | - | - |\n");
	}
}

static void list_report(struct list_result *l)
{
	printf("## Long lists\n\n"
			"%d msg jobs one after the other, each on a list of %d devices, all offline but the last in id order\n"
			"(dispatched last): createJob to that device's delivery. First on an idle broker (no other traffic),\n"
			"then with lightweight RPC, one call every %d ms (the broker's loop idles between), measured before\n"
			"the jobs (quiet, the baseline of the same run) and while they run. Last idle again, with %d more\n"
			"jobs running whose executions all wait on offline devices (each job before stays running too).\n\n",
			3 * LIST_ROUNDS, LIST_N, SPORADIC_MS, WAITING);
	printf("| broker | to the last device (min / median / max) | dispatch rate (median) | RPC p50 quiet / during | "
			"RPC p99 quiet / during | p99 ratio | calls quiet / during | errors |\n|---|---|---|---|---|---|---|---|\n");
	list_row("idle", l->idle_s, l, false);
	list_row("sporadic RPC", l->busy_s, l, true);
	list_row("idle, 40 more jobs waiting", l->waiting_s, l, false);
	printf("\n");
}

int main(void)
{
	const char *plugin = getenv("C2D_PLUGIN") ? getenv("C2D_PLUGIN") : C2D_PLUGIN_PATH;
	struct list_result l;

	mosquitto_lib_init();
	if(run_list(plugin, &l)) return 1;
	list_report(&l);
	mosquitto_lib_cleanup();
	return 0;
}
