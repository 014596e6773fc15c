/* Gateway benchmark (docs/gateways.md): N sub-devices (GW_DEVICES, default
 * 1000; GW_QUICK=1: 100), each with a queued message and a desired twin
 * patch waiting, reached
 *
 *   1. through one gateway: it connects and announces all N at once (the
 *      list form), then answers every delivery on the sub-device's topic;
 *   2. directly, the same N devices in the same run (each with a new
 *      message and patch waiting): N clients connect at once (at most 16
 *      handshakes in progress) and answer every delivery.
 *
 * Reported: the time from the first connect to all 2 N answers
 * acknowledged (the plugin read them), and the ratio of the two. One
 * broker for both (the plugin, sync periodic, max_queued_messages raised
 * as docs/gateways.md advises for gateways; GW_BROKER_DEFAULTS=1: the
 * broker's defaults). Markdown on stdout, progress on stderr. */
#define _GNU_SOURCE

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench_broker.h"

#define WHO "gw_bench"
#define WINDOW 500
#define BURST 16
#define GW "gw-bench"

struct dev {
	struct mosquitto *m;
	bool up;
};

static atomic_ulong answered, received, acked, failed;
static char *admin_reply;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;

static double secs(uint64_t a, uint64_t b)
{
	return (double)(b - a) / 1e9;
}

/* Any delivery $c2d/{dev}/in/.../{id}: answer 200 on $c2d/{dev}/out/res/{id}
 * (the device's own topic; a gateway answers for its sub-device the same way). */
static void on_delivery(struct mosquitto *m, void *obj, const struct mosquitto_message *msg)
{
	const char *dev = msg->topic + 5, *slash = strchr(dev, '/'), *id = strrchr(msg->topic, '/');
	char topic[192];

	(void)obj;
	if(strncmp(msg->topic, "$c2d/", 5) || slash == NULL || id == NULL) return;
	atomic_fetch_add(&received, 1);
	snprintf(topic, sizeof(topic), "$c2d/%.*s/out/res/%s/200", (int)(slash - dev), dev, id + 1);
	if(mosquitto_publish(m, NULL, topic, 0, NULL, 1, false)) atomic_fetch_add(&failed, 1);
}

static void on_answer_acked(struct mosquitto *m, void *obj, int mid)
{
	(void)m;
	(void)obj;
	(void)mid;
	atomic_fetch_add(&answered, 1);
}

static void dev_on_connect(struct mosquitto *m, void *obj, int rc)
{
	struct dev *d = obj;

	(void)m;
	if(rc == 0) d->up = true;
}

/* The operator's loader and admin client (threaded, v5). */
static void op_on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg,
		const mosquitto_property *props)
{
	char *text = strndup(msg->payload, (size_t)msg->payloadlen);

	(void)m;
	(void)obj;
	(void)props;
	pthread_mutex_lock(&mu);
	free(admin_reply);
	admin_reply = text;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
}

static void op_on_publish(struct mosquitto *m, void *obj, int mid, int rc, const mosquitto_property *props)
{
	(void)m;
	(void)obj;
	(void)mid;
	(void)props;
	if(rc >= 0x80) atomic_fetch_add(&failed, 1); /* 0x10: no subscriber, consumed by the plugin */
	atomic_fetch_add(&acked, 1);
}

/* setGateway for devices 0..n-1 (n <= 1000: one call). 0 or -1. */
static int set_gateway(struct tclient *op, unsigned n)
{
	size_t len = 128 + (size_t)n * 12;
	char *cmd = malloc(len), *reply;
	mosquitto_property *props = NULL;
	struct timespec ts;
	unsigned i;
	int ok;

	if(cmd == NULL) return -1;
	snprintf(cmd, len, "{\"commands\":[{\"command\":\"setGateway\",\"gateway\":\"" GW "\",\"devices\":[");
	for(i = 0; i < n; i++) snprintf(cmd + strlen(cmd), len - strlen(cmd), "%s\"s%05u\"", i ? "," : "", i);
	snprintf(cmd + strlen(cmd), len - strlen(cmd), "]}]}");
	mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, "bench/admin");
	mosquitto_publish_v5(op->m, NULL, "$CONTROL/c2d/v1", (int)strlen(cmd), cmd, 1, false, props);
	mosquitto_property_free_all(&props);
	free(cmd);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 30;
	pthread_mutex_lock(&mu);
	while(admin_reply == NULL && pthread_cond_timedwait(&cv, &mu, &ts) == 0){
	}
	reply = admin_reply;
	admin_reply = NULL;
	pthread_mutex_unlock(&mu);
	ok = reply && strstr(reply, "\"assigned\"") && !strstr(reply, "\"error\"");
	if(!ok) fprintf(stderr, WHO ": setGateway failed: %s\n", reply ? reply : "(no reply)");
	free(reply);
	return ok ? 0 : -1;
}

/* A message and a twin patch for each of the n devices (QoS 1, WINDOW in flight). */
static int load(struct tclient *op, unsigned n, unsigned round)
{
	unsigned long base = atomic_load(&acked), sent = 0;
	char topic[64], payload[64];
	uint64_t t0 = now_ns();
	unsigned i, k;

	for(i = 0; i < n; i++){
		for(k = 0; k < 2; k++){
			snprintf(topic, sizeof(topic), "$c2d/s%05u/%s", i, k ? "twin/desired" : "msg");
			snprintf(payload, sizeof(payload), k ? "{\"round\":%u}" : "{\"cmd\":\"set\",\"round\":%u}", round);
			while(sent - (atomic_load(&acked) - base) >= WINDOW) usleep(200);
			mosquitto_publish_v5(op->m, NULL, topic, (int)strlen(payload), payload, 1, false, NULL);
			sent++;
		}
	}
	while(atomic_load(&acked) - base < sent){
		if(secs(t0, now_ns()) > 60) return -1;
		usleep(1000);
	}
	return 0;
}

static struct mosquitto *dev_new(const char *id, struct dev *d, int protocol)
{
	struct mosquitto *m = mosquitto_new(id, true, d);

	if(m == NULL) return NULL;
	mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, protocol);
	mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
	mosquitto_connect_callback_set(m, dev_on_connect);
	mosquitto_message_callback_set(m, on_delivery);
	mosquitto_publish_callback_set(m, on_answer_acked);
	d->m = m;
	return m;
}

/* Drive the clients with poll until `want` answers were acknowledged (or
 * 120 s). Connects at most BURST at a time; after each CONNACK calls
 * on_up(i) once. Returns the seconds, -1 on timeout. */
static double drive(struct dev *d, unsigned n, int port, unsigned long want, void (*on_up)(struct dev *d))
{
	struct pollfd *pfd = calloc(n, sizeof(*pfd));
	unsigned *map = calloc(n, sizeof(*map));
	bool *upcalled = calloc(n, sizeof(*upcalled));
	unsigned long base = atomic_load(&answered);
	uint64_t t0 = now_ns(), misc = now_ns();
	unsigned i, k, inprog;
	double t = -1;

	if(pfd == NULL || map == NULL || upcalled == NULL) goto out;
	while(atomic_load(&answered) - base < want){
		if(secs(t0, now_ns()) > 120){
			fprintf(stderr, WHO ": %lu of %lu answers after 120 s (%lu deliveries received)\n",
					atomic_load(&answered) - base, want, atomic_load(&received));
			goto out;
		}
		for(i = 0, inprog = 0; i < n; i++){
			if(!d[i].up && mosquitto_socket(d[i].m) >= 0) inprog++;
		}
		for(i = 0; i < n && inprog < BURST; i++){
			if(!d[i].up && mosquitto_socket(d[i].m) < 0){
				if(mosquitto_connect_async(d[i].m, "127.0.0.1", port, 120) == MOSQ_ERR_SUCCESS) inprog++;
			}
		}
		for(i = 0, k = 0; i < n; i++){
			int s = mosquitto_socket(d[i].m);

			if(d[i].up && !upcalled[i] && on_up){
				upcalled[i] = true;
				on_up(&d[i]);
			}
			if(s < 0) continue;
			pfd[k].fd = s;
			pfd[k].events = POLLIN | (mosquitto_want_write(d[i].m) ? POLLOUT : 0);
			pfd[k].revents = 0;
			map[k++] = i;
		}
		if(poll(pfd, k, 5) < 0 && errno != EINTR) goto out;
		for(i = 0; i < k; i++){
			struct mosquitto *m = d[map[i]].m;

			if(pfd[i].revents & (POLLIN | POLLERR | POLLHUP)) mosquitto_loop_read(m, 1);
			if((pfd[i].revents & POLLOUT) && mosquitto_socket(m) >= 0) mosquitto_loop_write(m, 1);
		}
		if(now_ns() - misc > 200000000u){
			misc = now_ns();
			for(i = 0; i < n; i++) mosquitto_loop_misc(d[i].m);
		}
	}
	t = secs(t0, now_ns());
out:
	free(pfd);
	free(map);
	free(upcalled);
	return t;
}

static unsigned n_subs;

/* The gateway is up: announce every sub-device at once (the list form). */
static void announce_all(struct dev *gw)
{
	size_t len = 16 + (size_t)n_subs * 10;
	char *list = malloc(len);
	unsigned i;

	if(list == NULL) return;
	snprintf(list, len, "[");
	for(i = 0; i < n_subs; i++) snprintf(list + strlen(list), len - strlen(list), "%s\"s%05u\"", i ? "," : "", i);
	snprintf(list + strlen(list), len - strlen(list), "]");
	mosquitto_publish(gw->m, NULL, "$c2d/" GW "/out/gw/connect", (int)strlen(list), list, 1, false);
	free(list);
}

static void close_all(struct dev *d, unsigned n)
{
	unsigned i;

	for(i = 0; i < n; i++){
		if(d[i].up){
			mosquitto_disconnect(d[i].m);
			mosquitto_loop_write(d[i].m, 1);
		}
		mosquitto_destroy(d[i].m);
	}
}

int main(void)
{
	const char *plugin = getenv("C2D_PLUGIN") ? getenv("C2D_PLUGIN") : C2D_PLUGIN_PATH;
	unsigned n = getenv("GW_QUICK") ? 100 : 1000, i;
	struct broker b;
	struct tclient op;
	struct dev gw = {0}, *direct;
	struct rlimit rl;
	double t_gw, t_direct;
	char id[32];
	FILE *f;

	if(getenv("GW_DEVICES")) n = (unsigned)strtoul(getenv("GW_DEVICES"), NULL, 10);
	if(n < 1 || n > 1000){
		fprintf(stderr, WHO ": GW_DEVICES must be 1..1000 (one setGateway call)\n");
		return 1;
	}
	n_subs = n;
	if(getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max){
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	mosquitto_lib_init();
	if(broker_prepare(&b, true, "c2d-gw", NULL) || (f = broker_conf_open(&b)) == NULL) return 1;
	if(getenv("GW_BROKER_DEFAULTS") == NULL) fprintf(f, "max_queued_messages 100000\nmax_inflight_messages 100\n");
	if(broker_conf_close(&b, f, plugin) || broker_launch(&b, "/usr/sbin/mosquitto", 20, WHO, NULL)) return 1;
	if(tclient_open(&op, "bench-op", b.port, "bench/admin", WINDOW, op_on_message, op_on_publish, WHO)) return 1;
	if(set_gateway(&op, n)) return 1;

	fprintf(stderr, WHO ": %u sub-devices, a message and a patch each; through the gateway\n", n);
	if(load(&op, n, 1)) return 1;
	if(dev_new(GW, &gw, MQTT_PROTOCOL_V311) == NULL) return 1;
	t_gw = drive(&gw, 1, b.port, 2ul * n + 1, announce_all); /* + the announcement's PUBACK */
	close_all(&gw, 1);
	if(t_gw < 0) return 1;
	usleep(300000);

	fprintf(stderr, WHO ": the same %u devices connecting directly\n", n);
	if(load(&op, n, 2)) return 1;
	direct = calloc(n, sizeof(*direct));
	if(direct == NULL) return 1;
	for(i = 0; i < n; i++){
		snprintf(id, sizeof(id), "s%05u", i);
		if(dev_new(id, &direct[i], MQTT_PROTOCOL_V311) == NULL) return 1;
	}
	t_direct = drive(direct, n, b.port, 2ul * n, NULL);
	close_all(direct, n);
	free(direct);
	if(t_direct < 0) return 1;

	printf("## Gateways (`bench/gw_bench`)\n\n");
	printf("%u sub-devices, each with a queued message and a desired twin patch waiting; the time from the\n"
			"first connect until all %u answers were acknowledged. Same broker, same run (plugin, sync periodic,\n"
			"%s); MQTT 3.1.1 clients; %lu publishes failed.\n\n", n, 2 * n,
			getenv("GW_BROKER_DEFAULTS") ? "the broker's default queue limits"
					: "max_queued_messages 100000, max_inflight_messages 100",
			atomic_load(&failed));
	printf("| reached | clients | all answered | answers/s | vs direct |\n|---|---|---|---|---|\n");
	printf("| directly (baseline) | %u | %.2f s | %.0f | 1.00x |\n", n, t_direct, 2 * n / t_direct);
	printf("| through one gateway (list announcement) | 1 | %.2f s | %.0f | %.2fx |\n\n", t_gw, 2 * n / t_gw,
			t_gw / t_direct);
	tclient_close(&op);
	broker_stop(&b);
	mosquitto_lib_cleanup();
	return 0;
}
