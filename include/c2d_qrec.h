/* Queue items (qrec.c): the record of one cloud-to-device message or
 * persistent RPC as stored in the queue database, its binary encoding and its
 * states. Pure: no broker, no LMDB.
 *
 * Encoding (version 3, the store's since schema 2.0; c2d_rec.h fields,
 * integers little-endian):
 *   u8 version (3), u8 kind, u8 state, u8 reserved (0),
 *   u32 deliveries, u32 retries_left, u32 timeout_ms,
 *   u64 created_ms, u64 expires_ms, u64 due_ms,
 *   u32 retries, u32 ttl_s, u32 status, u64 finished_ms, u32 payload_len,
 *   then five length-prefixed fields: sender, resp_topic, corr,
 *   content_type, method.
 * This is the item's small state record: the payload is not in it. The
 * queue stores the payload once, apart (qitem.c), and a delivery or an
 * answer rewrites only this record. Decoding a version 3 record gives
 * payload NULL and payload_len as stored; encoding ignores r->payload.
 * Every field is written, so decode -> encode gives the same bytes back.
 *
 * Versions 1 and 2 (schema 1.x) held the payload inline as a sixth field
 * (version 2 with the four fields from retries to finished_ms, version 1
 * without, payload_len absent); c2d_qrec_decode_old reads them for the
 * upgrade of a 1.x store (store_upgrade.c), nothing else does.
 * Text fields are stored with their terminating NUL (length 0 = absent), so a
 * decoded record points straight into the buffer. Decoding checks every length
 * and that the fields end exactly at the end of the buffer: a damaged or
 * truncated record is C2D_EINVAL, never a read outside the buffer. */
#ifndef C2D_QREC_H
#define C2D_QREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define C2D_QREC_VERSION 3      /* the state record, payload apart */
#define C2D_QREC_HEADER 64      /* bytes before the first field */
#define C2D_QREC_OLD_V1 1       /* schema 1.x, payload inline */
#define C2D_QREC_OLD_V2 2       /* schema 1.x with the extension */
#define C2D_QREC_OLD_HEADER 40  /* bytes before an old record's first field (v1) */

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
	const void *payload;    /* NULL after c2d_qrec_decode: stored apart */
	uint32_t payload_len;
	uint32_t retries;       /* rpc: retries as requested */
	uint32_t ttl_s;         /* lifetime as requested, s */
	uint32_t status;        /* history: the final state's status; 0 while live */
	uint64_t finished_ms;   /* history: when the final state was reached; 0 while live */
};

/* Encode r's state record (borrowed; r->payload is not read). *out: caller
 * frees with free(); *len its size.
 * Returns 0, C2D_EINVAL (kind/state out of range or not a state of the kind,
 * corr over 65535 bytes, an rpc without a method), or C2D_ENOMEM. */
int c2d_qrec_encode(const struct c2d_qrec *r, void **out, size_t *len);

/* Decode a version 3 record buf (len bytes, borrowed) into *r, whose
 * pointers then point into buf (payload NULL). Returns 0 or C2D_EINVAL
 * (damaged or another version: *r is zeroed). */
int c2d_qrec_decode(struct c2d_qrec *r, const void *buf, size_t len);
/* Decode a schema 1.x record (version 1 or 2), its payload inline: r->payload
 * points into buf. 0 or C2D_EINVAL. */
int c2d_qrec_decode_old(struct c2d_qrec *r, const void *buf, size_t len);

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
