/* c2d-device: a device for trying mosquitto-c2d from a terminal, built on
 * libc2d-device (device/c2d_device.h). Connects as client id DEV, prints
 * every delivery as "topic payload" (as it arrived on $c2d/DEV/in/...) and
 * answers it with the status (default 200): RPCs with the reply payload
 * (default: the params echoed), messages and twin pushes with the status
 * alone. Reconnects with back-off until Ctrl-C or -C deliveries. Built by
 * `make` as build/c2d-device; `scripts/c2d device` runs it. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c2d_device.h"

struct opts {
	const char *dev, *host, *reply, *call, *user, *pass, *cafile, *cert, *key, *info;
	int port, status, count, protocol, verbose;
	int seen;
};

static volatile sig_atomic_t stop;

static void usage(FILE *f)
{
	fprintf(f, "usage: c2d-device [options] DEV\n"
			"  -h host     broker host (default 127.0.0.1)\n"
			"  -p port     broker port (default 1883)\n"
			"  -3          connect with MQTT 3.1.1 (default MQTT 5)\n"
			"  -s status   status to answer deliveries with (default 200; 202 = accepted only)\n"
			"  -r reply    payload to answer RPCs with (default: echo the params)\n"
			"  -C count    exit after count deliveries and replies (default: run until Ctrl-C)\n"
			"  -c method   call the platform once ($c2d/DEV/out/call/method/...) and print the reply\n"
			"  -u user     username (-P password)\n"
			"  -A cafile   TLS: verify the broker with this CA (-E certfile -K keyfile: client certificate)\n"
			"  -i json     hello info object (firmware, model, ...)\n"
			"  -v          print connection changes\n"
			"  --help      this text\n");
}

/* Counts a delivery or reply; ends the loop after -C of them. */
static void seen(struct c2d_device *d, struct opts *o)
{
	if(o->count && ++o->seen >= o->count) c2d_device_disconnect(d);
}

static void print(const struct opts *o, const char *path, const void *payload, size_t len)
{
	printf("$c2d/%s/in/%s %.*s\n", o->dev, path, (int)len, (const char *)payload);
	fflush(stdout);
}

static int on_rpc(struct c2d_device *d, const char *method, const void *params, size_t len,
		struct c2d_result *res, void *ud)
{
	struct opts *o = ud;
	char path[300];

	snprintf(path, sizeof(path), "rpc/%s/%s", method, c2d_result_id(res));
	print(o, path, params, len);
	if(o->reply){
		c2d_result_set(res, o->reply, strlen(o->reply));
	}else{
		c2d_result_set(res, params, len);
	}
	seen(d, o);
	return o->status;
}

static int on_message(struct c2d_device *d, const char *id, const void *payload, size_t len, void *ud)
{
	struct opts *o = ud;
	char path[300];

	snprintf(path, sizeof(path), "msg/%s", id);
	print(o, path, payload, len);
	seen(d, o);
	return o->status;
}

static int on_desired(struct c2d_device *d, long long version, const char *patch, int full, void *ud)
{
	struct opts *o = ud;

	printf("$c2d/%s/in/twin/t%lld {\"version\":%lld,\"desired\":%s,\"full\":%s}\n", o->dev, version, version,
			patch, full ? "true" : "false");
	fflush(stdout);
	seen(d, o);
	return o->status;
}

static void on_reply(struct c2d_device *d, int status, const void *body, size_t len, void *ud)
{
	struct opts *o = ud;

	printf("call %s: %d %.*s\n", o->call, status, (int)len, (const char *)body);
	fflush(stdout);
	seen(d, o);
}

static void on_connection(struct c2d_device *d, int connected, int reason, const char *text, void *ud)
{
	struct opts *o = ud;

	(void)d;
	if(connected){
		fprintf(stderr, "c2d-device: connected as %s\n", o->dev);
	}else if(o->verbose || reason != 0){
		fprintf(stderr, "c2d-device: not connected (%d: %s), retrying\n", reason, text);
	}
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* Applies the options to d. Returns 0 or the failing call's code (printed). */
static int setup(struct c2d_device *d, struct opts *o)
{
	int rc = 0;

	if(o->protocol == 4) rc = c2d_device_set_protocol(d, 4);
	if(rc == 0 && o->user) rc = c2d_device_set_credentials(d, o->user, o->pass);
	if(rc == 0 && (o->cafile || o->cert || o->key)) rc = c2d_device_set_tls(d, o->cafile, o->cert, o->key);
	if(rc == 0 && o->info) rc = c2d_device_set_info(d, o->info);
	if(rc == 0) rc = c2d_device_on_rpc(d, NULL, on_rpc, o);
	if(rc == 0) rc = c2d_device_on_message(d, on_message, o);
	if(rc == 0) rc = c2d_device_on_desired(d, on_desired, o);
	if(rc == 0) rc = c2d_device_on_connection(d, on_connection, o);
	if(rc == 0 && o->call) rc = c2d_device_call(d, o->call, NULL, 10000, on_reply, o);
	if(rc) fprintf(stderr, "c2d-device: %s\n", c2d_device_strerror(rc));
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {{"help", no_argument, NULL, 'H'}, {NULL, 0, NULL, 0}};
	struct opts o = {.host = "127.0.0.1", .port = 1883, .status = 200, .protocol = 5};
	struct c2d_device *d;
	int c, rc;

	while((c = getopt_long(argc, argv, "h:p:3s:r:C:c:u:P:A:E:K:i:v", longopts, NULL)) != -1){
		switch(c){
			case 'h': o.host = optarg; break;
			case 'p': o.port = atoi(optarg); break;
			case '3': o.protocol = 4; break;
			case 's': o.status = atoi(optarg); break;
			case 'r': o.reply = optarg; break;
			case 'C': o.count = atoi(optarg); break;
			case 'c': o.call = optarg; break;
			case 'u': o.user = optarg; break;
			case 'P': o.pass = optarg; break;
			case 'A': o.cafile = optarg; break;
			case 'E': o.cert = optarg; break;
			case 'K': o.key = optarg; break;
			case 'i': o.info = optarg; break;
			case 'v': o.verbose = 1; break;
			case 'H': usage(stdout); return 0;
			default: usage(stderr); return 2;
		}
	}
	if(optind != argc - 1 || o.status < 100 || o.status > 599 || o.port <= 0 || o.port > 65535){
		usage(stderr);
		return 2;
	}
	o.dev = argv[optind];
	d = c2d_device_new(o.dev, o.host, o.port);
	if(d == NULL){
		fprintf(stderr, "c2d-device: invalid device id '%s'\n", o.dev);
		return 2;
	}
	if(setup(d, &o) != 0){
		c2d_device_free(d);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rc = c2d_device_connect(d);
	if(rc == C2D_DEVICE_ETLS){
		fprintf(stderr, "c2d-device: %s\n", c2d_device_strerror(rc));
		c2d_device_free(d);
		return 1;
	}
	while(!stop && c2d_device_loop(d, 1000) == 0){
	}
	c2d_device_free(d);
	return 0;
}
