/* Store benchmark: the write path against raw LMDB, and start-up and memory
 * against the number of stored items.
 *
 *   1. enqueue:  ENQ messages (32-byte payloads, QoS 1, 64 in flight, one
 *                client) to 100 offline devices through the plugin with
 *                `sync full`: accepted messages per second. Baseline, same
 *                disk, same run: raw LMDB, one transaction per put of a
 *                small record (a 24-byte key, 96 bytes), each commit synced
 *                (LMDB's default). Median of 3.
 *   2. start-up: a schema 1.3 store with N items (N/10 devices, 10 queued
 *                messages each, as release 1.3 lays them out: its raw device
 *                struct, version 1 item records, due entries), written here
 *                with raw LMDB, for N = 10000 and ITEMS (1000000). The
 *                plugin opens it: the first start includes the upgrade to
 *                2.0; then restarts (median of 3): fork to "running", and
 *                the broker's anonymous RSS (RssAnon) after start.
 *
 * STORE_PLUGIN: the plugin to measure (default: this tree's build), so the
 * same program measures another build (docs/benchmarks.md runs it on the
 * previous release for "before"; a 1.3 plugin reads the 1.3 store as it is).
 * STORE_ENQ (3000), STORE_ITEMS (1000000), STORE_QUICK=1 (tiny). Markdown
 * on stdout, progress on stderr. */
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "bench_broker.h"

#ifndef C2D_PLUGIN_PATH
#define C2D_PLUGIN_PATH "build/mosquitto_c2d.so"
#endif

#define WINDOW 64
#define ENQ_DEVS 100
#define PER_DEV 10
#define RUNS 3

static const char *plugin_path, *mosquitto_path = "/usr/sbin/mosquitto";

static unsigned env_uint(const char *name, unsigned def)
{
	const char *s = getenv(name);
	unsigned long v;
	char *end;

	if(s == NULL || *s == '\0') return def;
	errno = 0;
	v = strtoul(s, &end, 10);
	return errno || *end || v == 0 || v > 100000000ul ? def : (unsigned)v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

/* mosquitto.conf for a plugin broker with its db in dir/db. */
static int write_conf(const struct broker *b, const char *sync, const char *map_mib)
{
	FILE *f = broker_conf_open(b);

	if(f == NULL) return -1;
	fprintf(f, "max_inflight_messages %d\n", WINDOW);
	fprintf(f, "plugin %s\nplugin_opt_db_path %s/db\nplugin_opt_sync %s\nplugin_opt_map_size %s\n"
			"plugin_opt_msg_queue_max 100000\n", plugin_path, b->dir, sync, map_mib);
	return fclose(f) == 0 ? 0 : -1;
}

/* ---- 1. enqueue ---- */

struct pub {
	struct tclient c;
	atomic_ulong acked;
};

static void pub_on_publish(struct mosquitto *m, void *obj, int mid, int reason, const mosquitto_property *props)
{
	struct pub *p = obj;

	(void)m;
	(void)mid;
	(void)props;
	if(reason < 0x80) atomic_fetch_add(&p->acked, 1);
}

static double enqueue_run(unsigned n)
{
	struct broker b;
	struct pub p;
	char topic[64], payload[33];
	uint64_t t0, t1;
	unsigned sent = 0;
	double rate = -1;

	memset(payload, 'p', 32);
	payload[32] = '\0';
	if(broker_prepare(&b, true, "c2d-store", NULL) || write_conf(&b, "full", "1024")
			|| broker_launch(&b, mosquitto_path, 60, "store_bench", NULL)){
		broker_stop(&b);
		return -1;
	}
	memset(&p, 0, sizeof(p));
	atomic_store(&p.acked, 0);
	if(tclient_open(&p.c, "app", b.port, NULL, WINDOW, NULL, pub_on_publish, "store_bench") == 0){
		t0 = now_ns();
		while(atomic_load(&p.acked) < n){
			while(sent < n && sent - atomic_load(&p.acked) < WINDOW){
				snprintf(topic, sizeof(topic), "$c2d/dev%u/msg", sent % ENQ_DEVS);
				if(mosquitto_publish_v5(p.c.m, NULL, topic, 32, payload, 1, false, NULL) != MOSQ_ERR_SUCCESS) break;
				sent++;
			}
			usleep(200);
			if((now_ns() - t0) / 1000000000ull > 300) break;
		}
		t1 = now_ns();
		if(atomic_load(&p.acked) >= n) rate = n / ((double)(t1 - t0) / 1e9);
	}
	tclient_close(&p.c);
	broker_stop(&b);
	return rate;
}

static double raw_lmdb_run(unsigned n)
{
	char dir[64] = "/tmp/c2d-rawlmdb-XXXXXX", key[32], val[96];
	MDB_env *env = NULL;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k, v;
	uint64_t t0;
	double rate = -1;
	unsigned i;

	if(mkdtemp(dir) == NULL) return -1;
	memset(val, 'v', sizeof(val));
	if(mdb_env_create(&env) || mdb_env_set_mapsize(env, (size_t)1 << 30) || mdb_env_open(env, dir, MDB_NOTLS, 0600)){
		goto out;
	}
	if(mdb_txn_begin(env, NULL, 0, &txn) || mdb_dbi_open(txn, NULL, 0, &dbi) || mdb_txn_commit(txn)) goto out;
	t0 = now_ns();
	for(i = 0; i < n; i++){
		snprintf(key, sizeof(key), "dev%06u-%016u", i % ENQ_DEVS, i);
		k.mv_data = key;
		k.mv_size = strlen(key);
		v.mv_data = val;
		v.mv_size = sizeof(val);
		if(mdb_txn_begin(env, NULL, 0, &txn)) goto out;
		if(mdb_put(txn, dbi, &k, &v, 0) || mdb_txn_commit(txn)) goto out;
	}
	rate = n / ((double)(now_ns() - t0) / 1e9);
out:
	if(env) mdb_env_close(env);
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return rate;
}

static void scenario_enqueue(unsigned n)
{
	double plug[RUNS], raw[RUNS], p, r;
	int i;

	for(i = 0; i < RUNS; i++){
		fprintf(stderr, "store_bench: enqueue run %d\n", i + 1);
		plug[i] = enqueue_run(n);
		raw[i] = raw_lmdb_run(n);
	}
	p = median(plug, RUNS);
	r = median(raw, RUNS);
	printf("## store: `sync full` enqueue vs raw LMDB (%u messages, median of %d)\n\n", n, RUNS);
	printf("| | per second |\n|---|---|\n");
	printf("| plugin enqueue (`sync full`, 64 in flight) | %.0f |\n", p);
	printf("| raw LMDB: one small put + synced commit per transaction | %.0f |\n", r);
	printf("| ratio (target >= 0.9) | %.2f |\n\n", r > 0 ? p / r : 0);
}

/* ---- 2. start-up ---- */

static void put_le(unsigned char *p, uint64_t v, int n)
{
	int i;

	for(i = 0; i < n; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static void put_be(unsigned char *p, uint64_t v)
{
	int i;

	for(i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * (7 - i)));
}

/* A schema 1.3 store of n items at dir/db, as release 1.3 writes it. */
static int make_store(const char *dir, unsigned n)
{
	static const char *const tables[] = {"meta", "devices", "twins", "queue", "due", "dedup", "info", "idmark",
		"timeout", "quarantine", "jobs", "jactive", "jexec", "jref"};
	char path[128], dev[32];
	unsigned char rec[160], key[64], dkey[80];
	MDB_dbi dbi[14];
	MDB_env *env;
	MDB_txn *txn;
	MDB_val k, v;
	uint64_t now = (uint64_t)time(NULL) * 1000, exp = now + 86400000ull * 300;
	unsigned d, s, devs = n / PER_DEV, i;
	size_t dl, rl;
	int rc = 0;

	snprintf(path, sizeof(path), "%s/db", dir);
	mkdir(path, 0700);
	if(mdb_env_create(&env) || mdb_env_set_mapsize(env, (size_t)4 << 30) || mdb_env_set_maxdbs(env, 32)
			|| mdb_env_open(env, path, MDB_NOSYNC, 0600) || mdb_txn_begin(env, NULL, 0, &txn)){
		return -1;
	}
	for(i = 0; i < 14 && rc == 0; i++) rc = mdb_dbi_open(txn, tables[i], MDB_CREATE, &dbi[i]);
	k.mv_data = "schema";
	k.mv_size = 6;
	v.mv_data = "1.3";
	v.mv_size = 3;
	if(rc == 0) rc = mdb_put(txn, dbi[0], &k, &v, 0);
	for(d = 0; d < devs && rc == 0; d++){
		dl = (size_t)snprintf(dev, sizeof(dev), "dev%07u", d);
		/* struct c2d_devrec of 1.3, raw: u32 version 1, u32 queued, u64 next_seq, u64 created, 16 u64 */
		memset(rec, 0, 152);
		put_le(rec, 1, 4);
		put_le(rec + 4, PER_DEV, 4);
		put_le(rec + 8, PER_DEV + 1, 8);
		put_le(rec + 16, now, 8);
		put_le(rec + 24 + 8, PER_DEV, 8); /* counters[1]: accepted */
		k.mv_data = dev;
		k.mv_size = dl;
		v.mv_data = rec;
		v.mv_size = 152;
		rc = mdb_put(txn, dbi[1], &k, &v, 0);
		for(s = 1; s <= PER_DEV && rc == 0; s++){
			/* item record version 1: header, then 6 fields (sender "app", no
			 * response topic, no corr, no content type, no method, 32 bytes) */
			memset(rec, 0, sizeof(rec));
			rec[0] = 1;
			put_le(rec + 12, 30000, 4);
			put_le(rec + 16, now, 8);
			put_le(rec + 24, exp, 8);
			put_le(rec + 32, exp, 8);
			rl = 40;
			put_le(rec + rl, 4, 4);
			memcpy(rec + rl + 4, "app", 4);
			rl += 8;
			rl += 4 * 4;
			put_le(rec + rl, 32, 4);
			memset(rec + rl + 4, 'p', 32);
			rl += 36;
			memcpy(key, dev, dl + 1);
			put_be(key + dl + 1, s);
			k.mv_data = key;
			k.mv_size = dl + 9;
			v.mv_data = rec;
			v.mv_size = rl;
			rc = mdb_put(txn, dbi[3], &k, &v, 0);
			put_be(dkey, exp);
			memcpy(dkey + 8, key, dl + 9);
			k.mv_data = dkey;
			k.mv_size = dl + 17;
			v.mv_size = 0;
			if(rc == 0) rc = mdb_put(txn, dbi[4], &k, &v, 0);
		}
	}
	if(rc == 0) rc = mdb_txn_commit(txn);
	else mdb_txn_abort(txn);
	if(rc == 0) rc = mdb_env_sync(env, 1);
	mdb_env_close(env);
	return rc ? -1 : 0;
}

static void startup(unsigned n)
{
	struct broker b;
	double first = -1, ms[RUNS], rss[RUNS];
	int i;

	fprintf(stderr, "store_bench: a 1.3 store of %u items\n", n);
	if(broker_prepare(&b, true, "c2d-store", NULL) || make_store(b.dir, n) || write_conf(&b, "periodic", "4096")){
		fprintf(stderr, "store_bench: cannot make the store\n");
		broker_stop(&b);
		return;
	}
	if(broker_launch(&b, mosquitto_path, 600, "store_bench", &first) == 0){
		for(i = 0; i < RUNS; i++){
			broker_kill(&b);
			ms[i] = rss[i] = -1;
			if(broker_launch(&b, mosquitto_path, 600, "store_bench", &ms[i])) break;
			usleep(300000); /* the first tick */
			rss[i] = -1;
			{
				char path[64], line[256];
				FILE *f;

				snprintf(path, sizeof(path), "/proc/%d/status", (int)b.pid);
				f = fopen(path, "r");
				while(f && fgets(line, sizeof(line), f)){
					if(strncmp(line, "RssAnon:", 8) == 0) rss[i] = strtod(line + 8, NULL) / 1024;
				}
				if(f) fclose(f);
			}
		}
		printf("| %u | %.0f | %.0f | %.2f |\n", n, first, median(ms, RUNS), median(rss, RUNS));
	}
	broker_stop(&b);
}

int main(void)
{
	bool quick = getenv("STORE_QUICK") && strcmp(getenv("STORE_QUICK"), "1") == 0;
	unsigned enq = env_uint("STORE_ENQ", quick ? 200 : 3000), items = env_uint("STORE_ITEMS", quick ? 20000 : 1000000);

	plugin_path = getenv("STORE_PLUGIN") && *getenv("STORE_PLUGIN") ? getenv("STORE_PLUGIN") : C2D_PLUGIN_PATH;
	signal(SIGPIPE, SIG_IGN);
	mosquitto_lib_init();
	printf("plugin: `%s`\n\n", plugin_path);
	scenario_enqueue(enq);
	printf("## store: start-up with a schema 1.3 store (%u items per device)\n\n", PER_DEV);
	printf("| items | first start, ms (upgrade included) | restart, ms (median of %d) | RssAnon after start, MiB |\n"
			"|---|---|---|---|\n", RUNS);
	startup(10000);
	startup(items);
	printf("\n");
	mosquitto_lib_cleanup();
	return 0;
}
