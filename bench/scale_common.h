/* Shared parts of the scale benchmarks (scale_bench: twins and mass expiry;
 * storm_bench: the reconnect storm): the SCALE_* settings both read, the
 * broker configuration they start, RSS readings and the QoS 1 loader.
 * Header only (static inline): the Makefile builds every bench/<name>.c as its
 * own program. Define BENCH_NAME (the program's name, for messages) before
 * including it. */
#ifndef SCALE_COMMON_H
#define SCALE_COMMON_H

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

#define WINDOW 1000                 /* QoS 1 publishes in flight while loading */

/* Settings both programs read (scale_init): SCALE_QUICK=1, SCALE_MOSQUITTO,
 * SCALE_PLUGIN (another build of the plugin: "before"). */
struct scale_cfg {
	bool quick;
	const char *mosquitto, *plugin;
};

static struct scale_cfg cfg;

static inline void scale_init(void)
{
	cfg.quick = getenv("SCALE_QUICK") && strcmp(getenv("SCALE_QUICK"), "1") == 0;
	cfg.mosquitto = getenv("SCALE_MOSQUITTO") ? getenv("SCALE_MOSQUITTO") : "/usr/sbin/mosquitto";
	cfg.plugin = getenv("SCALE_PLUGIN") && *getenv("SCALE_PLUGIN") ? getenv("SCALE_PLUGIN") : C2D_PLUGIN_PATH;
}

static inline double secs(uint64_t a, uint64_t b)
{
	return (double)(b - a) / 1e9;
}

static inline unsigned env_uint(const char *name, unsigned def)
{
	const char *s = getenv(name);
	char *end;
	unsigned long v;

	if(s == NULL || *s == '\0') return def;
	errno = 0;
	v = strtoul(s, &end, 10);
	if(errno || *end || v == 0 || v > 100000000ul){
		fprintf(stderr, BENCH_NAME ": ignoring %s=%s\n", name, s);
		return def;
	}
	return (unsigned)v;
}

/* ---- brokers ---- */

static inline int write_conf(const struct broker *b)
{
	FILE *f = broker_conf_open(b);

	if(f == NULL) return -1;
	fprintf(f, "max_connections -1\nconnection_messages false\nsys_interval 1\n");
	fprintf(f, "max_inflight_messages %d\nmax_queued_messages 1000\n", WINDOW);
	return broker_conf_close(b, f, cfg.plugin);
}

static inline int broker_start(struct broker *b, bool plugin, const char *extra)
{
	if(broker_prepare(b, plugin, "c2d-scale", extra) || write_conf(b)) return -1;
	return broker_launch(b, cfg.mosquitto, 600, BENCH_NAME, NULL);
}

/* A field of /proc/<pid>/status ("VmRSS:") in MiB, or -1. */
static inline double status_mib(pid_t pid, const char *field)
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

static inline double rss_mib(pid_t pid)
{
	return status_mib(pid, "VmRSS:");
}

/* "75.8 MiB (anon 20.1, file 55.0)": file = LMDB's mapped pages */
static inline const char *rss_text(pid_t pid, char *buf, size_t len)
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

static inline void loader_send(struct loader *l, uint64_t k)
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

static inline void loader_on_publish(struct mosquitto *m, void *obj, int mid, int reason, const mosquitto_property *props)
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
static inline double load(int port, const char *id, uint64_t total, make_fn make, void *arg, uint64_t *failed)
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
	if(tclient_open(&l.c, id, port, NULL, WINDOW, NULL, loader_on_publish, BENCH_NAME)) goto out;
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
	else fprintf(stderr, BENCH_NAME ": %s: only %" PRIu64 " of %" PRIu64 " acknowledged\n", id, acked, total);
	if(failed) *failed = l.failed;
out:
	tclient_close(&l.c);
	pthread_mutex_destroy(&l.mu);
	return took;
}

#define TWIN_PATCH "{\"fw\":\"1.2.3\",\"interval\":60}"

/* A desired twin patch for dev-<k> (scale_bench scenario 1, storm_bench's first
 * patch). */
static inline void make_twin(struct loader *l, uint64_t k, char *topic, size_t tlen, const char **payload,
		mosquitto_property **props)
{
	(void)l;
	(void)props;
	snprintf(topic, tlen, "$c2d/dev-%" PRIu64 "/twin/desired", k);
	*payload = TWIN_PATCH;
}

#endif
