/* Query benchmark: queryDevices over a fleet of N devices with tags
 * (QUERY_DEVICES, default 100000; QUERY_QUICK=1: 2000). The devices get
 * their tags through the plugin (twin/tags, QoS 1, many in flight), then
 * one operator walks the whole fleet page by page (following "next") with
 * three queries, and, as the baseline of the same run, listDevices (the
 * same walk over the device records without reading any twin):
 *
 *   tags.site == "site-7"     1 % of the fleet matches (twin read per device)
 *   tags.n >= N/2             half the fleet (count 1000 per page)
 *   online == true            no twin read (device records only)
 *
 * Reported: the time for the whole walk, devices examined per second, the
 * slowest single call (the broker is busy for that long) and the ratio to
 * listDevices. Markdown on stdout, progress on stderr. */
#define _GNU_SOURCE

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bench_broker.h"

#define WHO "query_bench"
#define WINDOW 500

struct walk {
	double total_ms, slowest_ms;
	uint64_t examined, matched;
	unsigned calls;
};

/* Walk the fleet with command name and its arguments (JSON members text). */
static int walk(struct rclient *o, const char *name, const char *args, struct walk *w)
{
	char after[160] = "", *cmd, *reply;
	const cJSON *data, *next, *devs;
	uint64_t t0, t;
	cJSON *j;

	memset(w, 0, sizeof(*w));
	t0 = now_ns();
	for(;;){
		if(asprintf(&cmd, "{\"command\":\"%s\",\"count\":1000%s%s%s%s}", name, args[0] ? "," : "", args,
				after[0] ? ",\"after\":" : "", after) < 0) return -1;
		t = now_ns();
		reply = rclient_admin(o, cmd);
		t = now_ns() - t;
		free(cmd);
		if(reply == NULL){
			fprintf(stderr, WHO ": no reply to %s\n", name);
			return -1;
		}
		if((double)t / 1e6 > w->slowest_ms) w->slowest_ms = (double)t / 1e6;
		w->calls++;
		j = cJSON_Parse(reply);
		free(reply);
		data = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "responses"), 0), "data");
		if(data == NULL){
			fprintf(stderr, WHO ": %s failed\n", name);
			cJSON_Delete(j);
			return -1;
		}
		devs = cJSON_GetObjectItem(data, "devices");
		w->matched += (uint64_t)cJSON_GetArraySize(devs);
		w->examined += cJSON_GetObjectItem(data, "scanned") ? (uint64_t)cJSON_GetObjectItem(data, "scanned")->valuedouble
				: (uint64_t)cJSON_GetArraySize(devs);
		next = cJSON_GetObjectItem(data, "next");
		if(!cJSON_IsString(next)){
			cJSON_Delete(j);
			break;
		}
		snprintf(after, sizeof(after), "\"%s\"", next->valuestring);
		cJSON_Delete(j);
	}
	w->total_ms = (double)(now_ns() - t0) / 1e6;
	return 0;
}

int main(void)
{
	const char *plugin = getenv("C2D_PLUGIN") ? getenv("C2D_PLUGIN") : C2D_PLUGIN_PATH;
	unsigned n = getenv("QUERY_QUICK") ? 2000 : 100000, i;
	struct broker b;
	struct rclient o;
	struct walk base, w[3];
	char topic[64], payload[96], args[64];
	const char *names[3] = {"tags.site == \"site-7\" (1 %)", "tags.n >= N/2 (50 %)", "online == true (no twin read)"};
	const char *queries[3];
	uint64_t t0;
	double load_ms;
	FILE *f;

	if(getenv("QUERY_DEVICES")) n = (unsigned)strtoul(getenv("QUERY_DEVICES"), NULL, 10);
	snprintf(args, sizeof(args), "\"where\":{\"tags.n\":{\"$gte\":%u}}", n / 2);
	queries[0] = "\"where\":{\"tags.site\":\"site-7\"}";
	queries[1] = args;
	queries[2] = "\"where\":{\"online\":true}";
	mosquitto_lib_init();
	if(broker_prepare(&b, true, "c2d-query", NULL) || (f = broker_conf_open(&b)) == NULL
			|| broker_conf_close(&b, f, plugin) || broker_launch(&b, "/usr/sbin/mosquitto", 20, WHO, NULL)){
		return 1;
	}
	if(rclient_open(&o, "bench-op", b.port, "bench/admin", WINDOW, WHO)) return 1;
	fprintf(stderr, WHO ": tagging %u devices\n", n);
	t0 = now_ns();
	for(i = 0; i < n; i++){
		snprintf(topic, sizeof(topic), "$c2d/dev%07u/twin/tags", i);
		snprintf(payload, sizeof(payload), "{\"site\":\"site-%u\",\"n\":%u,\"ring\":\"r%u\"}", i % 100, i, i % 3);
		while(i - (unsigned)atomic_load(&o.acked) >= WINDOW) usleep(200);
		mosquitto_publish_v5(o.c.m, NULL, topic, (int)strlen(payload), payload, 1, false, NULL);
	}
	while((unsigned)atomic_load(&o.acked) < n) usleep(1000);
	load_ms = (double)(now_ns() - t0) / 1e6;
	fprintf(stderr, WHO ": tagged in %.0f ms; walking\n", load_ms);
	if(walk(&o, "listDevices", "", &base)) return 1;
	for(i = 0; i < 3; i++){
		if(walk(&o, "queryDevices", queries[i], &w[i])) return 1;
	}
	printf("## Query (queryDevices over %u devices with tags)\n\n", n);
	printf("Tagging them through the plugin (QoS 1, %d in flight, sync periodic): %.1f s (%.0f patches/s).\n"
			"Each row walks the whole fleet page by page (count 1000, following `next`; one call examines at most\n"
			"5000 records, about 14 ms of the broker). Baseline: `listDevices`, the same walk over the device records, in the same run.\n\n",
			WINDOW, load_ms / 1000, n / (load_ms / 1000));
	printf("| walk | calls | matched | whole walk | devices examined/s | slowest call | vs listDevices |\n");
	printf("|---|---|---|---|---|---|---|\n");
	printf("| listDevices (baseline) | %u | %" PRIu64 " | %.0f ms | %.0f | %.1f ms | 1.00x |\n", base.calls, base.matched,
			base.total_ms, base.examined / (base.total_ms / 1000), base.slowest_ms);
	for(i = 0; i < 3; i++){
		printf("| %s | %u | %" PRIu64 " | %.0f ms | %.0f | %.1f ms | %.2fx |\n", names[i], w[i].calls, w[i].matched,
				w[i].total_ms, w[i].examined / (w[i].total_ms / 1000), w[i].slowest_ms, w[i].total_ms / base.total_ms);
	}
	printf("\n");
	tclient_close(&o.c);
	broker_stop(&b);
	mosquitto_lib_cleanup();
	return 0;
}
