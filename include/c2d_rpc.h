/* RPC requests from applications (rpc.c): lightweight in memory, persistent
 * through the durable queue. */
#ifndef C2D_RPC_H
#define C2D_RPC_H

#include "c2d.h"
#include "c2d_queue.h"

extern const struct c2d_plane c2d_lrpc_plane;

/* $c2d/{dev}/rpc/{method}. */
int c2d_rpc_on_request(struct c2d *c2d, struct c2d_req *req);
/* Lightweight RPCs waiting for the device's answer. */
unsigned c2d_rpc_pending_count(struct c2d *c2d, const char *dev);
/* Read and bound the request's user properties. Returns 0, or -1 with a
 * reason in why (the caller answers 400). */
int c2d_rpc_parse_opts(const struct c2d *c2d, const struct c2d_req *req, struct c2d_rpc_opts *o,
		bool *persistent, char *why, size_t whylen);

#endif
