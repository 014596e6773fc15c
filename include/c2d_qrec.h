/* Queue items (qrec.c): the record of one cloud-to-device message or
 * persistent RPC as stored in the queue database, its binary encoding and its
 * states. Pure: no broker, no LMDB.
 *
 * Encoding (integers little-endian):
 *   u8 version, u8 kind, u8 state, u8 reserved (0),
 *   u32 deliveries, u32 retries_left, u32 timeout_ms,
 *   u64 created_ms, u64 expires_ms, u64 due_ms,
 *   version 2 only: u32 retries, u32 ttl_s, u32 status, u64 finished_ms,
 *   then six fields, each u32 length + bytes, in this order:
 *   sender, resp_topic, corr, content_type, method, payload.
 * Version 1 is version 2 without the extension (all four 0). The encoding is
 * canonical: a record whose extension is all 0 is written as version 1, and a
 * version 2 record with an all-0 extension does not decode, so decode ->
 * encode gives the same bytes back.
 * Text fields are stored with their terminating NUL (length 0 = absent), so a
 * decoded record points straight into the buffer. Decoding checks every length
 * and that the fields end exactly at the end of the buffer: a damaged or
 * truncated record is C2D_EINVAL, never a read outside the buffer. */
#ifndef C2D_QREC_H
#define C2D_QREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define C2D_QREC_VERSION 1    /* without the extension */
#define C2D_QREC_VERSION_EXT 2
#define C2D_QREC_HEADER 40    /* bytes before the first field (version 1) */
#define C2D_QREC_EXT 20       /* bytes of the version 2 extension */

enum c2d_qkind {
	C2D_QK_MSG = 0, /* $c2d/{dev}/msg */
	C2D_QK_RPC,     /* $c2d/{dev}/rpc/{method} with persistent=true */
	C2D_QK__COUNT
};

/* Live states first, then the finals (an item in a final state leaves the
 * queue; queue.c may keep it as history for a while). Wire names are the
 * lower-case names ("queued", "successful", ...). */
enum c2d_qstate {
	C2D_QS_QUEUED = 0,  /* waiting for delivery */
	C2D_QS_SENT,        /* delivered, unanswered */
	C2D_QS_DELIVERED,   /* RPC: the device answered 202, the result follows */
	C2D_QS_COMPLETED,   /* msg: 2xx */
	C2D_QS_REJECTED,    /* msg: 4xx */
	C2D_QS_EXPIRED,     /* msg and rpc: lifetime over */
	C2D_QS_DEAD,        /* msg: more than msg_max_deliveries deliveries */
	C2D_QS_PURGED,      /* msg: queue purged by an operator */
	C2D_QS_CANCELLED,   /* msg and rpc: cancelled by an operator */
	C2D_QS_SUCCESSFUL,  /* rpc: 2xx other than 202 */
	C2D_QS_TIMEOUT,     /* rpc: no answer in time, retries used up */
	C2D_QS_FAILED,      /* rpc: 4xx, or 5xx with no retry left */
	C2D_QS__COUNT
};

/* Per-device counters kept by the queue in c2d_devrec.counters (index: meaning).
 * INFLIGHT is state (items SENT or DELIVERED, for the msg_inflight bound); the
 * others are lifetime totals for administration. */
#define C2D_QDEV_INFLIGHT 0   /* items SENT or DELIVERED now */
#define C2D_QDEV_ACCEPTED 1   /* items queued, ever */
#define C2D_QDEV_DELIVERIES 2 /* deliveries made, ever (redeliveries included) */
#define C2D_QDEV_SUCCEEDED 3  /* finals completed / successful */
#define C2D_QDEV_FAILED 4     /* every other final */

/* One item. Pointers are borrowed: from the buffer after c2d_qrec_decode,
 * from the caller before c2d_qrec_encode. Text fields are NUL-terminated or
 * NULL; corr and payload are bytes (NULL only with length 0). */
struct c2d_qrec {
	uint8_t kind;           /* enum c2d_qkind */
	uint8_t state;          /* enum c2d_qstate; a final one in history */
	uint32_t deliveries;    /* deliveries made so far */
	uint32_t retries_left;  /* rpc: retries still allowed */
	uint32_t timeout_ms;    /* per delivery: ack timeout (msg) / rpc timeout */
	uint64_t created_ms;    /* wall clock, ms since epoch */
	uint64_t expires_ms;    /* end of the lifetime (TTL) */
	uint64_t due_ms;        /* its one entry in the deadline index */
	const char *sender;     /* client id of the requester */
	const char *resp_topic; /* v5 Response Topic of the request */
	const void *corr;       /* v5 Correlation Data */
	uint32_t corr_len;      /* <= 65535 */
	const char *content_type;
	const char *method;     /* rpc */
	const void *payload;
	uint32_t payload_len;
	/* the version 2 extension; all 0 in a version 1 record */
	uint32_t retries;       /* rpc: retries as requested */
	uint32_t ttl_s;         /* lifetime as requested, s */
	uint32_t status;        /* history: the final state's status; 0 while live */
	uint64_t finished_ms;   /* history: when the final state was reached; 0 while live */
};

/* Encode r (borrowed). *out: caller frees with free(); *len its size.
 * Returns 0, C2D_EINVAL (kind/state out of range or not a state of the kind,
 * corr over 65535 bytes, an rpc without a method), or C2D_ENOMEM. */
int c2d_qrec_encode(const struct c2d_qrec *r, void **out, size_t *len);

/* Decode buf (len bytes, borrowed) into *r, whose pointers then point into buf.
 * Returns 0 or C2D_EINVAL (damaged: *r is zeroed). */
int c2d_qrec_decode(struct c2d_qrec *r, const void *buf, size_t len);

/* "queued", "sent", ... ; "?" out of range. */
const char *c2d_qrec_state_name(int state);
/* "msg" / "rpc" ; "?" out of range. */
const char *c2d_qrec_kind_name(int kind);
/* A final state (the item leaves the queue). */
bool c2d_qrec_final(int state);
/* SENT or DELIVERED: counts toward msg_inflight. */
bool c2d_qrec_in_flight(int state);
/* The state may occur for the kind (e.g. SUCCESSFUL only for rpc). */
bool c2d_qrec_state_valid(int kind, int state);

#endif
