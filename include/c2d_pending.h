/* In-memory requests waiting for an answer, with a timeout (pending.c):
 * lightweight RPCs waiting for the device, device calls waiting for an
 * application. Nothing here is durable: a broker restart forgets them (the
 * requesters see no answer; persistent RPC is the durable kind).
 *
 * Each entry has a number unique in its table (the id on the wire), the
 * device, where the answer goes (topic + correlation data), and a libuv timer
 * on the plugin's private loop that calls on_timeout once. Timers and device
 * entries are kept for reuse (up to C2D_PENDING_SPARE timers, one device
 * entry per table): an answered RPC then frees one block and closes no
 * libuv handle, so the tick after it has nothing to run. */
#ifndef C2D_PENDING_H
#define C2D_PENDING_H

#include <stdint.h>

#include <uthash.h>

#include "c2d.h"

struct c2d_pending;
struct c2d_pending_dev;
struct c2d_pending_timer;

#define C2D_PENDING_SPARE 64

struct c2d_pending_table {
	struct c2d *c2d;
	struct c2d_pending *items;       /* by id (uthash) */
	struct c2d_pending_dev *devs;    /* entries per device (uthash) */
	uint64_t next_id;
	struct c2d_pending_timer *spare; /* stopped timers for reuse (owned) */
	unsigned spare_count;
	struct c2d_pending_dev *spare_dev; /* a device entry for reuse (owned), or NULL */
	void (*on_timeout)(struct c2d *c2d, struct c2d_pending *p); /* p is freed after */
};

struct c2d_pending {
	uint64_t id;
	char dev[C2D_DEV_MAX + 1];
	char *requester;             /* client id the answer is addressed to (in data) */
	char *reply_topic;           /* in data */
	void *corr;                  /* in data, may be NULL */
	uint16_t corr_len;
	char *note;                  /* in data: method / rid, for logs and events */
	uint64_t started_ms;         /* monotonic */
	struct c2d_pending_timer *tm; /* its running timer (the table's, reused) */
	struct c2d_pending_table *table;
	struct c2d_pending_dev *devent; /* its device's entry */
	struct c2d_pending *prev, *next; /* that device's list (utlist) */
	UT_hash_handle hh;
	char data[];                 /* the strings and corr above: one allocation with the entry */
};

void c2d_pending_init(struct c2d_pending_table *t, struct c2d *c2d,
		void (*on_timeout)(struct c2d *c2d, struct c2d_pending *p));
/* Add an entry; all strings and corr copied. Returns it (owned by the table)
 * or NULL on no memory. Ids start at boot_ms * 1000 + 1, so they do not repeat
 * across restarts either. */
struct c2d_pending *c2d_pending_add(struct c2d_pending_table *t, const char *dev,
		const char *requester, const char *reply_topic, const void *corr, uint16_t corr_len, const char *note,
		uint32_t timeout_ms);
struct c2d_pending *c2d_pending_find(struct c2d_pending_table *t, uint64_t id);
/* Entries pending for a device. */
unsigned c2d_pending_count(struct c2d_pending_table *t, const char *dev);
/* Remove and free an entry (its timer is stopped). */
void c2d_pending_done(struct c2d_pending *p);
/* Call cb for every entry of a device (cb may call c2d_pending_done on it);
 * walks that device's entries only. */
void c2d_pending_each_dev(struct c2d_pending_table *t, const char *dev,
		void (*cb)(struct c2d *c2d, struct c2d_pending *p));
/* Remove everything (cleanup). */
void c2d_pending_clear(struct c2d_pending_table *t);

#endif
