/* c2d-device: a minimal device for trying mosquitto-c2d from a terminal.
 * Connects as client id DEV, prints every delivery it gets on $c2d/DEV/in/...,
 * and answers it on $c2d/DEV/out/res/{id}/{status} from the same connection:
 * twin pushes and messages with the status, RPCs with the reply payload
 * (default: the params echoed). Built by `make` as build/c2d-device. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mosquitto.h>
#include <mqtt_protocol.h>

struct opts {
	const char *dev, *host, *reply, *call;
	int port, status, count, protocol;
	int seen;
};

static void usage(void)
{
	fprintf(stderr, "usage: c2d-device [-h host] [-p port] [-3] [-s status] [-r reply] [-C count] [-c method] DEV\n"
			"  -3          connect with MQTT 3.1.1 (default MQTT 5)\n"
			"  -s status   status to answer deliveries with (default 200; 202 = accepted only)\n"
			"  -r reply    payload to answer RPCs with (default: echo the params)\n"
			"  -C count    exit after count deliveries (default: run until Ctrl-C)\n"
			"  -c method   call the platform once ($c2d/DEV/out/call/method/r1) and print the reply\n");
}

static void on_connect(struct mosquitto *m, void *ud, int rc)
{
	struct opts *o = ud;
	char topic[512];

	if(rc){
		fprintf(stderr, "c2d-device: connect refused: %s\n", mosquitto_connack_string(rc));
		mosquitto_disconnect(m);
		return;
	}
	fprintf(stderr, "c2d-device: connected as %s\n", o->dev);
	if(o->call){
		snprintf(topic, sizeof(topic), "$c2d/%s/out/call/%s/r1", o->dev, o->call);
		mosquitto_publish(m, NULL, topic, 0, NULL, 1, false);
	}
}

static void on_message(struct mosquitto *m, void *ud, const struct mosquitto_message *msg)
{
	struct opts *o = ud;
	char prefix[300], topic[512];
	const char *rest, *id;
	const void *reply = msg->payload;
	int len = msg->payloadlen;

	printf("%s %.*s\n", msg->topic, msg->payloadlen, (const char *)msg->payload);
	fflush(stdout);
	snprintf(prefix, sizeof(prefix), "$c2d/%s/in/", o->dev);
	if(strncmp(msg->topic, prefix, strlen(prefix)) != 0) return;
	rest = msg->topic + strlen(prefix);
	id = strrchr(msg->topic, '/') + 1;
	if(strncmp(rest, "reply/", 6) != 0){
		if(strncmp(rest, "rpc/", 4) != 0 || o->status == 202){
			reply = NULL;
			len = 0;
		}else if(o->reply){
			reply = o->reply;
			len = (int)strlen(o->reply);
		}
		snprintf(topic, sizeof(topic), "$c2d/%s/out/res/%s/%d", o->dev, id, o->status);
		mosquitto_publish(m, NULL, topic, len, reply, 1, false);
	}
	if(o->count && ++o->seen >= o->count) mosquitto_disconnect(m);
}

int main(int argc, char **argv)
{
	struct opts o = {.host = "127.0.0.1", .port = 1883, .status = 200, .protocol = MQTT_PROTOCOL_V5};
	struct mosquitto *m;
	int c, rc;

	while((c = getopt(argc, argv, "h:p:3s:r:C:c:")) != -1){
		switch(c){
			case 'h': o.host = optarg; break;
			case 'p': o.port = atoi(optarg); break;
			case '3': o.protocol = MQTT_PROTOCOL_V311; break;
			case 's': o.status = atoi(optarg); break;
			case 'r': o.reply = optarg; break;
			case 'C': o.count = atoi(optarg); break;
			case 'c': o.call = optarg; break;
			default: usage(); return 2;
		}
	}
	if(optind != argc - 1 || o.status < 100 || o.status > 599){
		usage();
		return 2;
	}
	o.dev = argv[optind];
	mosquitto_lib_init();
	m = mosquitto_new(o.dev, true, &o);
	if(m == NULL) return 1;
	mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, o.protocol);
	mosquitto_connect_callback_set(m, on_connect);
	mosquitto_message_callback_set(m, on_message);
	rc = mosquitto_connect(m, o.host, o.port, 60);
	if(rc == MOSQ_ERR_SUCCESS) rc = mosquitto_loop_forever(m, -1, 1);
	if(rc && rc != MOSQ_ERR_NO_CONN) fprintf(stderr, "c2d-device: %s\n", mosquitto_strerror(rc));
	mosquitto_destroy(m);
	mosquitto_lib_cleanup();
	return rc && rc != MOSQ_ERR_NO_CONN ? 1 : 0;
}
