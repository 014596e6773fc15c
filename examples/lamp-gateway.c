/* A gateway on libc2d-device (docs/device-library.md, "Gateway mode"): one
 * MQTT connection for lamps that cannot speak MQTT themselves (think of a
 * BLE or Modbus bridge; here they are simulated).
 *
 * Each lamp named on the command line is a sub-device of the gateway,
 * announced on the gateway's connection, with its own handlers:
 * - desired "power" ("on" / "off"), acknowledged, then reported
 * - RPC "blink" {"times":N}: answers {"blinked":N}
 * - messages: printed, completed
 * - info {"model":"lamp-sim"} (its hello, sent by the gateway)
 * A lamp the platform has not assigned to this gateway is refused (403) and
 * the program says so.
 *
 * Build: cc lamp-gateway.c $(pkg-config --cflags --libs c2d-device libcjson)
 * Run:   lamp-gateway [-h host] [-p port] [-3] [-n seconds] GW LAMP... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "c2d_device.h"
#include "example_util.h"

#define LAMPS_MAX 16

struct lamp {
	struct c2d_device *sub; /* owned by the gateway */
	int on;
};

static void report(struct lamp *l)
{
	c2d_device_report(l->sub, l->on ? "{\"power\":\"on\"}" : "{\"power\":\"off\"}");
}

/* Desired state of one lamp: {"power":"on"|"off"}. */
static int on_desired(struct c2d_device *d, long long version, const char *patch, int full, void *ud)
{
	struct lamp *l = ud;
	cJSON *p = cJSON_Parse(patch);
	cJSON *power = cJSON_GetObjectItemCaseSensitive(p, "power");
	int status = 200;

	(void)full;
	if(cJSON_IsString(power) && (strcmp(power->valuestring, "on") == 0 || strcmp(power->valuestring, "off") == 0)){
		l->on = strcmp(power->valuestring, "on") == 0;
		printf("%s: desired v%lld: power %s\n", c2d_device_id(d), version, power->valuestring);
		report(l);
	}else if(power != NULL && !cJSON_IsNull(power)){
		status = 400;
	}
	fflush(stdout);
	cJSON_Delete(p);
	return status;
}

static int on_blink(struct c2d_device *d, const char *method, const void *params, size_t len,
		struct c2d_result *res, void *ud)
{
	cJSON *p = cJSON_Parse(params);
	cJSON *times = cJSON_GetObjectItemCaseSensitive(p, "times");
	int n = cJSON_IsNumber(times) ? (int)times->valuedouble : 1;
	char json[48];

	(void)method;
	(void)len;
	(void)ud;
	cJSON_Delete(p);
	snprintf(json, sizeof(json), "{\"blinked\":%d}", n);
	c2d_result_set(res, json, strlen(json));
	printf("%s: blink %d\n", c2d_device_id(d), n);
	fflush(stdout);
	return 200;
}

static int on_message(struct c2d_device *d, const char *id, const void *payload, size_t len, void *ud)
{
	(void)ud;
	printf("%s: message %s: %.*s\n", c2d_device_id(d), id, (int)len, (const char *)payload);
	fflush(stdout);
	return 200;
}

/* The gateway's and each lamp's connection changes. */
static void on_connection(struct c2d_device *d, int connected, int reason, const char *text, void *ud)
{
	struct lamp *l = ud;

	if(connected){
		printf("%s: online%s%s\n", c2d_device_id(d), c2d_device_gateway(d) ? " via " : "",
				c2d_device_gateway(d) ? c2d_device_id(c2d_device_gateway(d)) : "");
		if(l) report(l);
	}else if(reason >= 400){
		printf("%s: refused (%d): %s\n", c2d_device_id(d), reason, text);
	}else{
		printf("%s: offline (%s)\n", c2d_device_id(d), text);
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static const char usage[] = "usage: lamp-gateway [-h host] [-p port] [-3] [-n seconds] GW LAMP...\n";
	struct lamp lamps[LAMPS_MAX] = {{0}};
	struct example_opts o;
	int first = example_options(argc, argv, usage, &o), i, n, rc;
	struct c2d_device *gw;

	if(first < 0) return 2;
	n = argc - first - 1;
	if(n < 1 || n > LAMPS_MAX || (gw = c2d_device_new(argv[first], o.host, o.port)) == NULL){
		fputs(usage, stderr);
		return 2;
	}
	c2d_device_set_protocol(gw, o.protocol);
	c2d_device_set_info(gw, "{\"model\":\"gateway-example\"}");
	c2d_device_on_connection(gw, on_connection, NULL);
	for(i = 0; i < n; i++){
		struct lamp *l = &lamps[i];

		l->sub = c2d_device_gateway_sub(gw, argv[first + 1 + i]);
		if(l->sub == NULL){
			fprintf(stderr, "lamp-gateway: invalid lamp id '%s'\n", argv[first + 1 + i]);
			c2d_device_free(gw);
			return 2;
		}
		c2d_device_set_info(l->sub, "{\"model\":\"lamp-sim\"}"); /* its hello, after each announcement */
		c2d_device_on_desired(l->sub, on_desired, l);
		c2d_device_on_rpc(l->sub, "blink", on_blink, l);
		c2d_device_on_message(l->sub, on_message, l);
		c2d_device_on_connection(l->sub, on_connection, l);
		c2d_device_gateway_announce(l->sub); /* sent at connect, and after every reconnect */
	}
	example_catch_signals(&o);
	rc = c2d_device_connect(gw);
	if(rc) fprintf(stderr, "lamp-gateway: %s\n", c2d_device_strerror(rc));
	while(example_running(&o)){
		if(c2d_device_loop(gw, 200) != 0) break;
	}
	c2d_device_free(gw); /* disconnects (every lamp goes offline) and frees the lamps' handles */
	return 0;
}
