/* The durable per-device queue (queue.c): cloud-to-device messages and
 * persistent RPCs share it. Deliveries use plane letter 'q' and the item's
 * sequence number: $c2d/{dev}/in/msg/q{seq}, $c2d/{dev}/in/rpc/{method}/q{seq}. */
#ifndef C2D_QUEUE_H
#define C2D_QUEUE_H

#include "c2d.h"

#define C2D_QUEUE_LETTER 'q'

/* Options of an RPC request, parsed and bounded by rpc.c. */
struct c2d_rpc_opts {
	uint32_t timeout_ms;   /* per delivery */
	uint32_t retries;      /* attempts after the first (persistent only) */
	uint32_t ttl_s;        /* lifetime of a persistent RPC */
	bool two_way;          /* the request has a response topic */
};

extern const struct c2d_plane c2d_queue_plane;

/* $c2d/{dev}/msg: enqueue a message (reply 202 {"id":"q<seq>"}). */
int c2d_queue_on_msg(struct c2d *c2d, struct c2d_req *req);
/* $c2d/{dev}/rpc/{method} with persistent=true: store and answer 202. */
int c2d_queue_push_rpc(struct c2d *c2d, struct c2d_req *req, const struct c2d_rpc_opts *o);

/* An item a fleet job asks for (jobrun.c); all borrowed. */
struct c2d_qjob {
	const char *dev;
	bool rpc;                  /* persistent RPC, else a message */
	const char *method;        /* rpc */
	const void *payload;
	size_t len;
	const char *content_type;  /* or NULL */
	uint32_t ttl_s, timeout_ms, retries;
};
/* Enqueue it like a request without a requester: *seq = the item's seq,
 * or 0 when the device's queue is full (nothing stored). 0 or an error. */
int c2d_queue_push_job(struct c2d *c2d, const struct c2d_qjob *j, uint64_t *seq);
/* Cancel item seq of dev if it is still queued (never sent): *cancelled
 * says whether it was. Its final transition tells its job. */
int c2d_queue_cancel_queued(struct c2d *c2d, const char *dev, uint64_t seq, bool *cancelled);

/* ---- administration (admin.c) ----
 * dev: a valid device id; id, after: a command id "q<seq>" as given by the
 * operator (checked here); all borrowed. data: the command's response object,
 * filled on success. Return 0, C2D_EINVAL with *why set to the operator's
 * error (a static text; bad id, unknown command, wrong state, queue full), or
 * another error (store, memory; *why untouched). Writes join the event's
 * store transaction; replies, events and deliveries go to the outbox. */

/* listCommands: data.commands = the live items in seq order, then (history)
 * the finished ones kept in history, at most count, after the command
 * `after` (NULL: from the start); data.next = the id to pass as after for the
 * next page, or null. */
int c2d_queue_list(struct c2d *c2d, const char *dev, const char *after, size_t count, bool history,
		cJSON *data, const char **why);
/* cancelCommand: a live item ends as cancelled (410 to its sender, event). */
int c2d_queue_cancel(struct c2d *c2d, const char *dev, const char *id, cJSON *data, const char **why);
/* retryCommand: a finished item in history whose final state is timeout,
 * failed, expired or dead is queued again at its own seq (deliveries 0,
 * retries as requested, its lifetime from now), event c2d.{kind}.retried,
 * delivered at once if the device is online. msg_queue_max applies. */
int c2d_queue_retry(struct c2d *c2d, const char *dev, const char *id, cJSON *data, const char **why);
/* purgeQueue: every live item ends as purged; data.purged = how many. */
int c2d_queue_purge(struct c2d *c2d, const char *dev, cJSON *data);
/* deleteDevice, the queue's part: every live item ends as purged (410 to its
 * sender, event) and keeps no history; history records go too; with them
 * their deadline and dedup entries. *purged: live items ended; *forgotten:
 * history records dropped. The device record is left for the caller, who
 * deletes it with the rest (c2d_store_dev_del) in the same transaction. */
int c2d_queue_forget_device(struct c2d *c2d, const char *dev, uint64_t *purged, uint64_t *forgotten);

#endif
