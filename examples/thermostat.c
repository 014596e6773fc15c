/* A thermostat on libc2d-device (docs/device-library.md walks through it).
 *
 * - desired "setpoint" (°C) from the twin; the heater drives the simulated
 *   room temperature toward it by 0.5 °C a second
 * - reported "temperature", "setpoint" and "heating", every 5 s (merged and
 *   sent on reconnect while offline)
 * - RPC "reboot": accepted at once (202), the result follows when the
 *   "reboot" is done 2 s later (a long-running call)
 * - RPC "getTemperature": answers {"temperature":...} at once
 * - a "time" call at start sets the clock offset
 *
 * Build: cc thermostat.c $(pkg-config --cflags --libs c2d-device libcjson)
 * Run:   thermostat [-h host] [-p port] [-3] [-n seconds] DEV */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "c2d_device.h"
#include "example_util.h"

struct thermostat {
	double setpoint, temperature;
	long long clock_offset_ms; /* platform time - local time */
	char reboot_id[130];       /* the accepted reboot call, "" if none */
	time_t reboot_done;
};

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Desired state: {"setpoint":21.5} (a patch, or with full the whole desired). */
static int on_desired(struct c2d_device *d, long long version, const char *patch, int full, void *ud)
{
	struct thermostat *t = ud;
	cJSON *p = cJSON_Parse(patch);
	cJSON *sp = cJSON_GetObjectItemCaseSensitive(p, "setpoint");
	int status = 200;

	(void)d;
	if(cJSON_IsNumber(sp) && sp->valuedouble >= 5 && sp->valuedouble <= 30){
		t->setpoint = sp->valuedouble;
		printf("desired v%lld%s: setpoint %.1f\n", version, full ? " (full)" : "", t->setpoint);
	}else if(sp != NULL && !cJSON_IsNull(sp)){
		status = 400; /* out of range: rejected, the twin shows it was not applied */
		printf("desired v%lld: setpoint out of range, rejected\n", version);
	}
	fflush(stdout);
	cJSON_Delete(p);
	return status;
}

static void report(struct c2d_device *d, const struct thermostat *t)
{
	char json[160];

	snprintf(json, sizeof(json), "{\"temperature\":%.1f,\"setpoint\":%.1f,\"heating\":%s}", t->temperature,
			t->setpoint, t->temperature < t->setpoint ? "true" : "false");
	c2d_device_report(d, json);
}

/* RPC reboot: accept now, answer when done. */
static int on_reboot(struct c2d_device *d, const char *method, const void *params, size_t len,
		struct c2d_result *res, void *ud)
{
	struct thermostat *t = ud;

	(void)d;
	(void)method;
	(void)params;
	(void)len;
	if(t->reboot_id[0]){
		c2d_result_set(res, "{\"error\":\"already rebooting\"}", 29);
		return 409;
	}
	snprintf(t->reboot_id, sizeof(t->reboot_id), "%s", c2d_result_id(res));
	t->reboot_done = time(NULL) + 2;
	printf("reboot %s accepted\n", t->reboot_id);
	fflush(stdout);
	return 202;
}

static int on_get_temperature(struct c2d_device *d, const char *method, const void *params, size_t len,
		struct c2d_result *res, void *ud)
{
	struct thermostat *t = ud;
	char json[64];
	int n = snprintf(json, sizeof(json), "{\"temperature\":%.1f}", t->temperature);

	(void)d;
	(void)method;
	(void)params;
	(void)len;
	c2d_result_set(res, json, (size_t)n);
	return 200;
}

static void on_time(struct c2d_device *d, int status, const void *body, size_t len, void *ud)
{
	struct thermostat *t = ud;
	cJSON *o = cJSON_Parse(body);
	cJSON *ms = cJSON_GetObjectItemCaseSensitive(o, "time");

	(void)d;
	(void)len;
	if(status == 200 && cJSON_IsNumber(ms)){
		t->clock_offset_ms = (long long)ms->valuedouble - now_ms();
		printf("time: platform clock offset %lld ms\n", t->clock_offset_ms);
	}else{
		printf("time: call failed with %d\n", status);
	}
	fflush(stdout);
	cJSON_Delete(o);
}

/* One simulated second: the heater, the pending reboot. */
static void tick(struct c2d_device *d, struct thermostat *t)
{
	static const char done[] = "{\"rebooted\":true}";

	if(t->temperature < t->setpoint - 0.25){
		t->temperature += 0.5;
	}else if(t->temperature > t->setpoint + 0.25){
		t->temperature -= 0.5;
	}
	if(t->reboot_id[0] && time(NULL) >= t->reboot_done){
		c2d_device_result(d, t->reboot_id, 200, done, sizeof(done) - 1);
		printf("reboot %s done\n", t->reboot_id);
		fflush(stdout);
		t->reboot_id[0] = '\0';
	}
}

int main(int argc, char **argv)
{
	struct thermostat t = {.setpoint = 20, .temperature = 18};
	static const char usage[] = "usage: thermostat [-h host] [-p port] [-3] [-n seconds] DEV\n";
	struct example_opts o;
	int first = example_options(argc, argv, usage, &o), i, rc;
	time_t last = 0;
	struct c2d_device *d;

	if(first < 0) return 2;
	if(first != argc - 1 || (d = c2d_device_new(argv[first], o.host, o.port)) == NULL){
		fputs(usage, stderr);
		return 2;
	}
	c2d_device_set_protocol(d, o.protocol);
	c2d_device_set_info(d, "{\"model\":\"thermostat-example\",\"firmware\":\"1.0\"}");
	c2d_device_on_desired(d, on_desired, &t);
	c2d_device_on_rpc(d, "reboot", on_reboot, &t);
	c2d_device_on_rpc(d, "getTemperature", on_get_temperature, &t);
	c2d_device_call(d, "time", NULL, 5000, on_time, &t);
	example_catch_signals(&o);
	rc = c2d_device_connect(d);
	if(rc) fprintf(stderr, "thermostat: %s\n", c2d_device_strerror(rc));
	while(example_running(&o)){
		if(c2d_device_loop(d, 200) != 0) break;
		if(time(NULL) != last){
			last = time(NULL);
			tick(d, &t);
			if(last % 5 == 0) report(d, &t);
		}
	}
	for(i = 0; i < 5 && c2d_device_is_connected(d); i++) c2d_device_loop(d, 100); /* flush */
	c2d_device_free(d);
	return 0;
}
