/* libc2d-device internals shared by its modules (not installed).
 * device.c: lifetime, settings, connection, loop, back-off, hello.
 * inbox.c: deliveries ($c2d/{dev}/in/...) to handlers, answers.
 * ring.c: the memory of recent answers and the accepted (202) calls.
 * calls.c: device-originated calls and their replies and timeouts.
 * report.c: reported state (sent now or merged while offline).
 * gateway.c: gateway mode: sub-devices, their announcements, routing of
 *   $c2d/{sub}/in/... to them.
 *
 * A sub-device is a struct c2d_device without a connection of its own
 * (mosq NULL, state ST_IDLE): it has its own handlers, memory of answers,
 * calls and pending report, and publishes through its gateway's connection
 * (dev_publish) while it is announced there. */
#ifndef C2D_DEVICE_INTERNAL_H
#define C2D_DEVICE_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <mosquitto.h>

#include "c2d_device.h"

#define C2D_API __attribute__((visibility("default")))

#define DEV_ID_MAX 128 /* bytes, as the plugin's C2D_DEV_MAX */
#define NAME_MAX_LEN 128 /* method, delivery id, rid: as C2D_NAME_MAX */

/* A remembered answer (ring) or an accepted call waiting for its result
 * (accepted list). Owns id and bytes. */
struct answer {
	char *id;
	uint64_t hash;  /* FNV-1a of the delivery's payload */
	size_t plen;    /* the delivery's payload length */
	int status;
	void *bytes;
	size_t len;
	bool unsent;    /* not handed to libmosquitto yet (offline): sent at connect */
	struct answer *next; /* accepted list link */
};

struct ring {
	struct answer *slot; /* cap entries; an entry with id NULL is free */
	int cap, head, count; /* head: the next slot to fill (oldest when full) */
	size_t bytes, max_bytes;
	struct answer *accepted; /* 202 answers waiting for c2d_device_result */
};

struct call {
	char rid[48];
	char *method;
	char *params;     /* NULL: empty */
	uint64_t deadline; /* monotonic ms */
	bool sent;
	c2d_call_fn fn;
	void *ud;
	struct call *next;
};

struct handler {
	char *method; /* NULL: the default handler */
	c2d_rpc_fn fn;
	void *ud;
	struct handler *next;
};

struct c2d_result {
	const char *id;
	void *bytes;
	size_t len;
	bool nomem;
};

enum dev_state {
	ST_IDLE,       /* not connecting (new, or after disconnect) */
	ST_WAITING,    /* a retry is due at next_attempt */
	ST_CONNECTING, /* TCP/TLS/CONNECT under way */
	ST_CONNECTED,  /* CONNACK accepted */
	ST_CLOSED,     /* c2d_device_disconnect() ended it */
};

struct c2d_device {
	char *id, *host;
	int port, keepalive, protocol;
	struct mosquitto *mosq;
	enum dev_state state;
	bool tls;
	uint64_t next_attempt;
	int backoff_ms, backoff_min, backoff_max;
	unsigned int seed;
	char *info; /* hello payload */

	struct handler *handlers;
	c2d_msg_fn msg_fn;
	void *msg_ud;
	c2d_desired_fn desired_fn;
	void *desired_ud;
	c2d_conn_fn conn_fn;
	void *conn_ud;
	long long desired_version;

	struct ring ring;
	struct call *calls;
	unsigned long long call_seq;
	char call_tag[12]; /* per-process part of call rids */
	cJSON *pending_report; /* merged reports made while offline */
	bool in_mosq;          /* inside mosquitto_loop() (handlers, callbacks) */
	bool close_pending;    /* c2d_device_disconnect() called there */
	int unacked;           /* QoS 1 publishes without PUBACK on this connection */
	char in_prefix[DEV_ID_MAX + 16]; /* "$c2d/{dev}/in/" */

	/* gateway mode (gateway.c) */
	struct c2d_device *gw;       /* a sub-device: its gateway (which owns it); NULL otherwise */
	struct c2d_device *subs;     /* a gateway: its sub-devices (owned), in creation order */
	struct c2d_device *next_sub; /* a sub-device: link in gw->subs */
	bool want;                   /* a sub-device: the application announced it */
	bool online;                 /* a sub-device: announced on the gateway's current connection, not refused */
};

/* ---- device.c ---- */
/* Monotonic milliseconds. */
uint64_t dev_now_ms(void);
/* True if d can publish now: connected, or for a sub-device, announced on
 * its connected gateway. */
bool dev_online(const struct c2d_device *d);
/* Publishes len bytes (borrowed) on $c2d/{dev}/{suffix} at QoS 1 (a
 * sub-device: on $c2d/{sub}/{suffix} through its gateway's connection).
 * Returns 0, or C2D_DEVICE_ESTATE when not online / libmosquitto refused
 * (the caller keeps what it must send later). */
int dev_publish(struct c2d_device *d, const char *suffix, const void *bytes, size_t len);
/* Runs d's connection callback, if any. text: borrowed. */
void dev_notify(struct c2d_device *d, int connected, int reason, const char *text);
/* True if s is a valid device id (1..128 bytes of UTF-8, no '/', '+', '#',
 * not starting with '$'). s: borrowed. */
bool dev_valid_id(const char *s);
/* Frees what a device holds besides its connection (handlers, ring, calls
 * without callbacks, report, strings) and d itself. */
void dev_free_state(struct c2d_device *d);
/* True if s is a valid method / id / rid level (1..128 bytes, no '/', '+',
 * '#', not starting with '$'). s: borrowed. */
bool dev_valid_level(const char *s);
/* strdup that returns NULL on NULL. */
char *dev_strdup(const char *s);

/* ---- inbox.c ---- */
/* Handles one message from the broker for d (topic under d->in_prefix).
 * m: borrowed. */
void inbox_message(struct c2d_device *d, const struct mosquitto_message *m);
/* Sends the answer for delivery id: status, len bytes (borrowed). Returns
 * what dev_publish returns. */
int inbox_answer(struct c2d_device *d, const char *id, int status, const void *bytes, size_t len);

/* ---- ring.c ---- */
/* Sets up an empty ring of cap entries and max_bytes. Returns 0 or ENOMEM. */
int ring_init(struct ring *r, int cap, size_t max_bytes);
/* Frees what r holds (not r). */
void ring_free(struct ring *r);
/* FNV-1a 64 of len bytes. */
uint64_t ring_hash(const void *p, size_t len);
/* The remembered answer or accepted call for (id, hash, plen), NULL if
 * none. Returns: owned by r. */
struct answer *ring_find(struct ring *r, const char *id, uint64_t hash, size_t plen);
/* Remembers an answer: id copied, bytes consumed (malloc'ed or NULL).
 * Returns: the entry (owned by r), NULL on out of memory (bytes freed). */
struct answer *ring_add(struct ring *r, const char *id, uint64_t hash, size_t plen, int status, void *bytes,
		size_t len);
/* Remembers a 202-accepted call: id copied. Returns: owned by r, NULL on
 * out of memory. */
struct answer *ring_accept(struct ring *r, const char *id, uint64_t hash, size_t plen);
/* Removes the accepted call id and returns it (caller owns: ring_add it or
 * answer_free it), NULL if there is none. */
struct answer *ring_take_accepted(struct ring *r, const char *id);
/* Frees a (its id and bytes too); NULL is fine. */
void answer_free(struct answer *a);
/* Sends every answer marked unsent (after a connect). */
void ring_flush(struct c2d_device *d);

/* ---- calls.c ---- */
/* Sends the calls not sent yet (after a connect). */
void calls_flush(struct c2d_device *d);
/* A reply on in/reply/{rest}: rest borrowed ("rid/status"), payload len bytes. */
void calls_reply(struct c2d_device *d, const char *rest, const void *payload, size_t len);
/* Runs the callbacks of calls past their deadline (now, monotonic ms). */
void calls_expire(struct c2d_device *d, uint64_t now);
/* The earliest deadline of a pending call, UINT64_MAX if none. */
uint64_t calls_next_deadline(const struct c2d_device *d);
/* The connection dropped: calls already sent (all: every call) end with 503. */
void calls_lost(struct c2d_device *d, bool all);
/* Frees every call without running callbacks. */
void calls_free(struct c2d_device *d);

/* ---- report.c ---- */
/* Sends the reports merged while offline (after a connect). */
void report_flush(struct c2d_device *d);

/* ---- gateway.c ---- */
/* A message on the gateway's connection: to the sub-device its topic's
 * device level names, the platform's refusals of sub-devices
 * ($c2d/{gw}/in/reply/gw/...), or the gateway itself (inbox_message).
 * gw, m: borrowed. */
void gateway_message(struct c2d_device *gw, const struct mosquitto_message *m);
/* The gateway's connection was accepted (its own hello and flush done):
 * announces every sub-device the application announced, sends what each
 * kept while offline, and tells their connection callbacks. */
void gateway_connected(struct c2d_device *gw);
/* The gateway's connection ended (reason, text borrowed): every online
 * sub-device goes offline, its calls in flight end with 503 (all: every
 * call, as for c2d_device_disconnect), its callback is told. */
void gateway_lost(struct c2d_device *gw, bool all, int reason, const char *text);
/* Runs the sub-devices' expired calls (now, monotonic ms). */
void gateway_expire(struct c2d_device *gw, uint64_t now);
/* The earliest call deadline of any sub-device, UINT64_MAX if none. */
uint64_t gateway_next_deadline(const struct c2d_device *gw);
/* Frees every sub-device of gw (no callbacks, nothing sent). */
void gateway_free_subs(struct c2d_device *gw);
/* Unlinks sub from its gateway, withdrawing it first if online. */
void gateway_unlink(struct c2d_device *sub);

#endif
