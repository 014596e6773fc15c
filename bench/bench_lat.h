/* Latency samples, a lightweight RPC load and admin replies for the
 * benchmarks that measure RPC while the plugin works (job_bench,
 * list_bench): an echo device "bench-echo" (bench_broker.h's
 * echo_on_message) answers $c2d/bench-echo/rpc/echo. Header-only; include
 * after bench_broker.h and cjson. */
#ifndef C2D_BENCH_LAT_H
#define C2D_BENCH_LAT_H

#define LAT_MAX 200000

static inline int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Latencies in ns (ns: LAT_MAX entries, the caller's). */
struct lat {
	uint64_t *ns;
	size_t n;
};

/* One lightweight RPC to the echo device; 0 and its latency, or -1. */
static inline int rpc_once(struct rclient *caller, uint64_t *ns)
{
	uint64_t t0 = now_ns();
	char *reply = rclient_request(caller, "$c2d/bench-echo/rpc/echo", "{\"ping\":1}", 10000);
	int ok = reply && strcmp(reply, "{\"ping\":1}") == 0;

	*ns = now_ns() - t0;
	free(reply);
	return ok ? 0 : -1;
}

static inline double pct(const struct lat *l, double q)
{
	return l->n ? (double)l->ns[(size_t)(q * (double)(l->n - 1) + 0.5)] / 1e6 : 0;
}

/* p[0..2]: p50, p99, p99.9 in ms (sorts l). */
static inline void pcts(struct lat *l, double *p)
{
	qsort(l->ns, l->n, sizeof(l->ns[0]), cmp_u64);
	p[0] = pct(l, 0.50);
	p[1] = pct(l, 0.99);
	p[2] = pct(l, 0.999);
}

/* An RPC load on its own thread (rpc_load_run): one call in flight,
 * pause_us between calls (0: none), until stop. */
struct rpc_load {
	struct rclient *caller;
	struct lat lat;
	unsigned pause_us;
	atomic_int stop;
	int errors;
};

static inline void *rpc_load_run(void *arg)
{
	struct rpc_load *d = arg;
	uint64_t ns;

	while(!atomic_load(&d->stop) && d->lat.n < LAT_MAX){
		if(rpc_once(d->caller, &ns) == 0) d->lat.ns[d->lat.n++] = ns;
		else d->errors++;
		if(d->pause_us) usleep(d->pause_us);
	}
	return NULL;
}

/* The data of the admin command's reply (new object) or NULL. */
static inline cJSON *admin(struct rclient *op, const char *cmd)
{
	char *reply = rclient_admin(op, cmd);
	cJSON *j, *data;

	j = reply ? cJSON_Parse(reply) : NULL;
	free(reply);
	data = cJSON_DetachItemFromObject(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "responses"), 0), "data");
	cJSON_Delete(j);
	return data;
}

/* o.a (or o.a.b) as a number, -1 if absent. */
static inline double num(const cJSON *o, const char *a, const char *b)
{
	const cJSON *j = cJSON_GetObjectItem(o, a);

	if(b) j = cJSON_GetObjectItem(j, b);
	return cJSON_IsNumber(j) ? j->valuedouble : -1;
}

#endif
