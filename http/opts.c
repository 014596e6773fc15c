/* c2d-http options: one table for the command line (--name value) and the
 * config file (lines "name value", # comments); the command line wins. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

enum otype { O_STR, O_INT, O_BOOL };

struct odef {
	const char *name;
	enum otype type;
	size_t off;
	long min, max;
	const char *help;
};

#define OFF(f) offsetof(struct hopts, f)

/* Where `make install` puts web/ (mk/web.mk sets it from PREFIX). */
#ifndef C2D_WEB_DIR
#define C2D_WEB_DIR "/usr/local/share/mosquitto-c2d/web"
#endif

static const struct odef defs[] = {
	{"listen", O_STR, OFF(listen_addr), 0, 0, "HTTP address to listen on (127.0.0.1)"},
	{"port", O_INT, OFF(listen_port), 0, 65535, "HTTP port (8080; 0 = any free port, printed)"},
	{"tls-cert", O_STR, OFF(tls_cert), 0, 0, "PEM certificate file: serve HTTPS (with --tls-key)"},
	{"tls-key", O_STR, OFF(tls_key), 0, 0, "PEM private key file"},
	{"mqtt-host", O_STR, OFF(mqtt_host), 0, 0, "broker address (127.0.0.1)"},
	{"mqtt-port", O_INT, OFF(mqtt_port), 1, 65535, "broker port (1883)"},
	{"max-body", O_INT, OFF(max_body), 1, 16 * 1024 * 1024, "largest request body in bytes (65536): 413 beyond"},
	{"http-timeout", O_INT, OFF(http_timeout), 1, 3600, "seconds an idle or slow HTTP connection may stay (30)"},
	{"max-polls", O_INT, OFF(max_polls), 1, 100000, "concurrent long-polls and SSE streams (1000): 503 beyond"},
	{"max-mqtt", O_INT, OFF(max_mqtt), 1, 100000, "MQTT connections to the broker (2000): 503 beyond"},
	{"idle-timeout", O_INT, OFF(idle_timeout), 0, 86400, "seconds an unused application connection stays open (60)"},
	{"request-timeout", O_INT, OFF(request_timeout), 100, 600000, "ms to wait for the plugin's reply (15000)"},
	{"rpc-timeout", O_INT, OFF(rpc_timeout), 1, 3600000, "ms an RPC waits when the request names none (10000, the plugin's rpc_timeout)"},
	{"ttd-max", O_INT, OFF(ttd_max), 0, 3600, "longest ttd in seconds a device may ask for (300)"},
	{"device-grace", O_INT, OFF(device_grace), 0, 600000, "ms a device connection stays open after handing out a delivery (10000)"},
	{"device-linger", O_INT, OFF(device_linger), 0, 600000, "ms it stays open after a poll ends or an answer (1000)"},
	{"device-hold", O_INT, OFF(device_hold), 0, 1000, "deliveries held for the device's next poll (16)"},
	{"sse-heartbeat", O_INT, OFF(sse_heartbeat), 1, 3600, "seconds between SSE keep-alive comments (15)"},
	{"sse-buffer", O_INT, OFF(sse_buffer), 1024, 64 * 1024 * 1024, "unsent bytes an SSE stream may have before it is closed (262144)"},
	{"telemetry-topic", O_STR, OFF(telemetry_topic), 0, 0, "topic of device telemetry, {dev} = the device (devices/{dev}/telemetry)"},
	{"reply-prefix", O_STR, OFF(reply_prefix), 0, 0, "response topic prefix of application connections, %u = username (replies/%u/c2d-http/)"},
	{"metrics-user", O_STR, OFF(metrics_user), 0, 0, "MQTT username for /metrics (getStats); unset: the caller's credentials"},
	{"metrics-password", O_STR, OFF(metrics_password), 0, 0, "its password"},
	{"web-dir", O_STR, OFF(web_dir), 0, 0, "directory of the dashboard served at / (" C2D_WEB_DIR "; \"\" = none)"},
	{"verbose", O_BOOL, OFF(verbose), 0, 1, "log every request (-v)"},
};
#define NDEFS (sizeof(defs) / sizeof(defs[0]))

void opts_usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: c2d-http [--config FILE] [--name value ...]\n"
			"HTTP endpoint of mosquitto-c2d: applications call devices, HTTP devices poll (docs/http.md).\n"
			"Every HTTP caller's Basic credentials become its MQTT connection to the broker.\n\n"
			"  --config FILE         read options from FILE (lines \"name value\", # comments)\n"
			"  -h, --help            this text\n");
	for(i = 0; i < NDEFS; i++){
		fprintf(f, "  --%-20s %s\n", defs[i].name, defs[i].help);
	}
}

static void set_defaults(struct hopts *o)
{
	memset(o, 0, sizeof(*o));
	o->listen_addr = strdup("127.0.0.1");
	o->listen_port = 8080;
	o->mqtt_host = strdup("127.0.0.1");
	o->mqtt_port = 1883;
	o->max_body = 65536;
	o->http_timeout = 30;
	o->max_polls = 1000;
	o->max_mqtt = 2000;
	o->idle_timeout = 60;
	o->request_timeout = 15000;
	o->rpc_timeout = 10000;
	o->ttd_max = 300;
	o->device_grace = 10000;
	o->device_linger = 1000;
	o->device_hold = 16;
	o->sse_heartbeat = 15;
	o->sse_buffer = 262144;
	o->telemetry_topic = strdup("devices/{dev}/telemetry");
	o->reply_prefix = strdup("replies/%u/c2d-http/");
	o->web_dir = strdup(C2D_WEB_DIR);
}

void opts_free(struct hopts *o)
{
	size_t i;

	for(i = 0; i < NDEFS; i++){
		if(defs[i].type == O_STR){
			char **p = (char **)((char *)o + defs[i].off);
			free(*p);
			*p = NULL;
		}
	}
}

static const struct odef *find(const char *name)
{
	size_t i;

	for(i = 0; i < NDEFS; i++){
		if(strcmp(defs[i].name, name) == 0) return &defs[i];
	}
	return NULL;
}

/* Sets option d from text value (borrowed). where: for messages. */
static int set(struct hopts *o, const struct odef *d, const char *value, const char *where)
{
	char *end;
	long v;

	if(d->type == O_STR){
		char **p = (char **)((char *)o + d->off);
		free(*p);
		*p = strdup(value);
		return *p ? 0 : -1;
	}
	if(d->type == O_BOOL){
		bool *p = (bool *)((char *)o + d->off);
		if(strcmp(value, "true") == 0 || strcmp(value, "1") == 0) *p = true;
		else if(strcmp(value, "false") == 0 || strcmp(value, "0") == 0) *p = false;
		else{
			fprintf(stderr, "c2d-http: %s: --%s must be true or false, not '%s'\n", where, d->name, value);
			return -1;
		}
		return 0;
	}
	errno = 0;
	v = strtol(value, &end, 10);
	if(errno || end == value || *end || v < d->min || v > d->max){
		fprintf(stderr, "c2d-http: %s: --%s must be an integer in %ld..%ld, not '%s'\n", where, d->name,
				d->min, d->max, value);
		return -1;
	}
	*(int *)((char *)o + d->off) = (int)v;
	return 0;
}

static int read_file(struct hopts *o, const char *path)
{
	char line[1024], where[PATH_MAX + 32], *k, *v, *e;
	const struct odef *d;
	int n = 0, rc = 0;
	FILE *f = fopen(path, "r");

	if(f == NULL){
		fprintf(stderr, "c2d-http: cannot read config file %s: %s\n", path, strerror(errno));
		return -1;
	}
	while(fgets(line, sizeof(line), f)){
		n++;
		snprintf(where, sizeof(where), "%s:%d", path, n);
		k = line + strspn(line, " \t");
		e = k + strlen(k);
		while(e > k && (e[-1] == '\n' || e[-1] == '\r' || e[-1] == ' ' || e[-1] == '\t')) *--e = '\0';
		if(*k == '\0' || *k == '#') continue;
		v = k + strcspn(k, " \t");
		if(*v) *v++ = '\0';
		v += strspn(v, " \t");
		for(e = k; *e; e++){
			if(*e == '_') *e = '-';
		}
		d = find(k);
		if(d == NULL){
			fprintf(stderr, "c2d-http: %s: unknown option '%s' (c2d-http --help lists them)\n", where, k);
			rc = -1;
			break;
		}
		if(*v == '\0' && d->type == O_BOOL) v = "true";
		if(*v == '\0'){
			fprintf(stderr, "c2d-http: %s: option '%s' needs a value\n", where, k);
			rc = -1;
			break;
		}
		if(set(o, d, v, where)){
			rc = -1;
			break;
		}
	}
	fclose(f);
	return rc;
}

static int check(struct hopts *o)
{
	if((o->tls_cert == NULL) != (o->tls_key == NULL)){
		fprintf(stderr, "c2d-http: --tls-cert and --tls-key go together\n");
		return -1;
	}
	if((o->metrics_user == NULL) != (o->metrics_password == NULL)){
		fprintf(stderr, "c2d-http: --metrics-user and --metrics-password go together\n");
		return -1;
	}
	if(strstr(o->telemetry_topic, "{dev}") == NULL || strpbrk(o->telemetry_topic, "+#")){
		fprintf(stderr, "c2d-http: --telemetry-topic must contain {dev} and no wildcards\n");
		return -1;
	}
	if(o->reply_prefix[0] == '$' || strpbrk(o->reply_prefix, "+#")){
		fprintf(stderr, "c2d-http: --reply-prefix must not start with $ nor contain wildcards\n");
		return -1;
	}
	return 0;
}

int opts_parse(struct hopts *o, int argc, char **argv)
{
	const struct odef *d;
	const char *cfg = NULL, *name;
	int i;

	set_defaults(o);
	/* the config file first, so that the command line wins */
	for(i = 1; i < argc; i++){
		if(strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0){
			opts_usage(stdout);
			return 1;
		}
		if(strcmp(argv[i], "--config") == 0){
			if(i + 1 >= argc){
				fprintf(stderr, "c2d-http: --config needs a file\n");
				return -1;
			}
			cfg = argv[++i];
		}
	}
	if(cfg && read_file(o, cfg)) return -1;
	for(i = 1; i < argc; i++){
		if(strcmp(argv[i], "--config") == 0){
			i++;
			continue;
		}
		if(strcmp(argv[i], "-v") == 0){
			o->verbose = true;
			continue;
		}
		if(strncmp(argv[i], "--", 2) != 0){
			fprintf(stderr, "c2d-http: unexpected argument '%s' (options are --name value; see --help)\n", argv[i]);
			return -1;
		}
		name = argv[i] + 2;
		d = find(name);
		if(d == NULL){
			fprintf(stderr, "c2d-http: unknown option '%s' (see --help)\n", argv[i]);
			return -1;
		}
		if(d->type == O_BOOL && (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0)){
			if(set(o, d, "true", "command line")) return -1;
			continue;
		}
		if(i + 1 >= argc){
			fprintf(stderr, "c2d-http: %s needs a value\n", argv[i]);
			return -1;
		}
		if(set(o, d, argv[++i], "command line")) return -1;
	}
	return check(o);
}
