/* $c2d topic classification. Pure: no broker, no LMDB. The returned views
 * point into the topic string (borrowed), they are not NUL-terminated. */
#ifndef C2D_TOPIC_H
#define C2D_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

enum c2d_topic_kind {
	C2D_T_OTHER = 0,     /* not under $c2d/: pass through untouched */
	C2D_T_INVALID,       /* under $c2d/ but not a topic of the protocol */
	C2D_T_BAD_DEVICE,    /* a protocol shape whose {dev} level is not a valid device id */
	/* application side: any client may write (the broker's ACL decides) */
	C2D_T_TWIN_GET,      /* $c2d/{dev}/twin/get */
	C2D_T_TWIN_DESIRED,  /* $c2d/{dev}/twin/desired */
	C2D_T_TWIN_DELETE,   /* $c2d/{dev}/twin/delete */
	C2D_T_TWIN_TAGS,     /* $c2d/{dev}/twin/tags */
	C2D_T_MSG,           /* $c2d/{dev}/msg */
	C2D_T_RPC,           /* $c2d/{dev}/rpc/{method} ; name = method */
	C2D_T_CALLRES,       /* $c2d/{dev}/callres/{cid} ; name = cid */
	/* device side: only the client whose id is {dev} may write */
	C2D_T_OUT_RES,       /* $c2d/{dev}/out/res/{id}[/{status}] ; name = id, status */
	C2D_T_OUT_REPORTED,  /* $c2d/{dev}/out/reported */
	C2D_T_OUT_CALL,      /* $c2d/{dev}/out/call/{method}/{rid} ; name = method, rid */
	C2D_T_OUT_HELLO,     /* $c2d/{dev}/out/hello */
	/* plugin only: no client may write */
	C2D_T_IN,            /* $c2d/{dev}/in/... */
	C2D_T_EVENTS,        /* $c2d/{dev}/events/... */
	C2D_T_CALL,          /* $c2d/{dev}/call/... */
};

/* Who may publish a topic of a kind. */
enum c2d_writer {
	C2D_W_ANY = 0,       /* pass-through or application topic */
	C2D_W_DEVICE,        /* only client id == {dev} */
	C2D_W_PLUGIN,        /* nobody but the plugin */
	C2D_W_NOBODY,        /* INVALID / BAD_DEVICE: dropped */
};

struct c2d_topic {
	enum c2d_topic_kind kind;
	const char *dev;     /* device id view */
	size_t dev_len;
	const char *name;    /* method (RPC, OUT_CALL), id (OUT_RES), cid (CALLRES) */
	size_t name_len;
	const char *rid;     /* OUT_CALL request id */
	size_t rid_len;
	int status;          /* OUT_RES: status from the topic level, 0 when absent */
};

#define C2D_DEV_MAX 128   /* bytes */
#define C2D_NAME_MAX 128  /* bytes: method, delivery id, rid, cid */

/* Classify `topic` (NUL-terminated, borrowed). Fills *out and returns out->kind.
 * Never fails: anything unexpected under $c2d/ is C2D_T_INVALID, a bad {dev}
 * in an otherwise valid shape is C2D_T_BAD_DEVICE (with dev/dev_len set).
 * Method, id, rid and cid levels must be 1..C2D_NAME_MAX bytes, not start with
 * '$'; a status level must be 3 decimal digits 100..599. */
enum c2d_topic_kind c2d_topic_parse(const char *topic, struct c2d_topic *out);

/* Who may write topics of this kind. */
enum c2d_writer c2d_topic_writer(enum c2d_topic_kind kind);

/* Valid device id per protocol.md: 1..128 bytes of UTF-8, no '/', '+', '#',
 * NUL, not starting with '$'. `id` borrowed, `len` bytes. */
bool c2d_topic_valid_dev(const char *id, size_t len);

/* Valid single topic level for method / id / rid / cid (rules above). */
bool c2d_topic_valid_name(const char *s, size_t len);

/* Short stable name of a kind, for logs ("twin/desired", "out/res", ...). */
const char *c2d_topic_kind_name(enum c2d_topic_kind kind);

#endif
