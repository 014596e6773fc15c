/* What the example devices share (thermostat.c, lamp-gateway.c): their
 * command-line options and stopping cleanly on SIGINT/SIGTERM. Header-only:
 * an example still builds with one cc line. */
#ifndef C2D_EXAMPLE_UTIL_H
#define C2D_EXAMPLE_UTIL_H

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* -h host, -p port, -3 (MQTT 3.1.1; else v5), -n seconds (0: until a signal). */
struct example_opts {
	const char *host;
	int port;
	int protocol; /* 5 or 4 (3.1.1), for c2d_device_set_protocol */
	int seconds;
	time_t start; /* set by example_catch_signals */
};

static volatile sig_atomic_t example_stop;

static void example_on_signal(int sig)
{
	(void)sig;
	example_stop = 1;
}

/* Parses the options into o (defaults 127.0.0.1:1883, v5, no time limit).
 * Returns the index of the first operand, or -1 after printing usage. */
static inline int example_options(int argc, char **argv, const char *usage, struct example_opts *o)
{
	int c;

	o->host = "127.0.0.1";
	o->port = 1883;
	o->protocol = 5;
	o->seconds = 0;
	while((c = getopt(argc, argv, "h:p:3n:")) != -1){
		switch(c){
			case 'h': o->host = optarg; break;
			case 'p': o->port = atoi(optarg); break;
			case '3': o->protocol = 4; break;
			case 'n': o->seconds = atoi(optarg); break;
			default: fputs(usage, stderr); return -1;
		}
	}
	return optind;
}

/* SIGINT and SIGTERM end the run (example_running turns false); the run's
 * time limit counts from now. */
static inline void example_catch_signals(struct example_opts *o)
{
	signal(SIGINT, example_on_signal);
	signal(SIGTERM, example_on_signal);
	o->start = time(NULL);
}

/* False once a signal came or -n seconds have passed. */
static inline int example_running(const struct example_opts *o)
{
	return !example_stop && (o->seconds == 0 || time(NULL) - o->start < o->seconds);
}

#endif
