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

#endif
