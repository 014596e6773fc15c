/* $c2d topic classification. Pure: no broker, no LMDB. The returned views
 * point into the topic string (borrowed), they are not NUL-terminated. */
#ifndef C2D_TOPIC_H
#define C2D_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

/* Who may publish a topic of a kind. */
enum c2d_writer {
	C2D_W_ANY = 0,       /* pass-through or application topic */
	C2D_W_DEVICE,        /* client id == {dev}, or {dev}'s gateway (gw.c) */
	C2D_W_SELF,          /* only client id == {dev} (a gateway's own announcements) */
	C2D_W_PLUGIN,        /* nobody but the plugin */
	C2D_W_NOBODY,        /* INVALID / BAD_DEVICE: dropped */
};

/* Every topic kind, described once: X(kind, name, writer, adds_data,
 * handler). name: stable, for logs; writer: who may publish it; adds_data:
 * its requests add data to the store (refused with 503 while the map is
 * nearly full; persistent RPC is checked by rpc.c); handler: the function
 * that serves it (route.c; NULL: nothing to serve). The shapes are parsed
 * by topic.c. */
#define C2D_TOPIC_KINDS(X) \
	/* not under $c2d/: pass through untouched */ \
	X(C2D_T_OTHER, "other", C2D_W_ANY, false, NULL) \
	/* under $c2d/ but not a topic of the protocol */ \
	X(C2D_T_INVALID, "invalid", C2D_W_NOBODY, false, NULL) \
	/* a protocol shape whose {dev} level is not a valid device id */ \
	X(C2D_T_BAD_DEVICE, "bad-device", C2D_W_NOBODY, false, NULL) \
	/* application side: any client may write (the broker's ACL decides) */ \
	X(C2D_T_TWIN_GET, "twin/get", C2D_W_ANY, false, c2d_twin_on_get)            /* $c2d/{dev}/twin/get */ \
	X(C2D_T_TWIN_DESIRED, "twin/desired", C2D_W_ANY, true, c2d_twin_on_desired) /* $c2d/{dev}/twin/desired */ \
	X(C2D_T_TWIN_DELETE, "twin/delete", C2D_W_ANY, false, c2d_twin_on_delete)   /* $c2d/{dev}/twin/delete */ \
	X(C2D_T_TWIN_TAGS, "twin/tags", C2D_W_ANY, true, c2d_twin_on_tags)          /* $c2d/{dev}/twin/tags */ \
	X(C2D_T_MSG, "msg", C2D_W_ANY, true, c2d_queue_on_msg)                      /* $c2d/{dev}/msg */ \
	X(C2D_T_RPC, "rpc", C2D_W_ANY, false, c2d_rpc_on_request)     /* $c2d/{dev}/rpc/{method}; name = method */ \
	X(C2D_T_CALLRES, "callres", C2D_W_ANY, false, c2d_calls_on_callres) /* $c2d/{dev}/callres/{cid}; name = cid */ \
	/* device side: only the client whose id is {dev} may write */ \
	/* $c2d/{dev}/out/res/{id}[/{status}]; name = id, status */ \
	X(C2D_T_OUT_RES, "out/res", C2D_W_DEVICE, false, c2d_deliver_on_response) \
	X(C2D_T_OUT_REPORTED, "out/reported", C2D_W_DEVICE, true, c2d_twin_on_reported) /* $c2d/{dev}/out/reported */ \
	/* $c2d/{dev}/out/call/{method}/{rid}; name = method, rid */ \
	X(C2D_T_OUT_CALL, "out/call", C2D_W_DEVICE, false, c2d_calls_on_call) \
	X(C2D_T_OUT_HELLO, "out/hello", C2D_W_DEVICE, false, c2d_hello_on_publish)  /* $c2d/{dev}/out/hello */ \
	/* a gateway's announcements: $c2d/{gw}/out/gw/connect[/{sub}]; name = sub ("" for the list form) */ \
	X(C2D_T_OUT_GW_CONNECT, "out/gw/connect", C2D_W_SELF, false, c2d_gw_on_connect) \
	X(C2D_T_OUT_GW_DISCONNECT, "out/gw/disconnect", C2D_W_SELF, false, c2d_gw_on_disconnect) \
	/* plugin only: no client may write */ \
	X(C2D_T_IN, "in", C2D_W_PLUGIN, false, NULL)                                /* $c2d/{dev}/in/... */ \
	X(C2D_T_EVENTS, "events", C2D_W_PLUGIN, false, NULL)                        /* $c2d/{dev}/events/... */ \
	X(C2D_T_CALL, "call", C2D_W_PLUGIN, false, NULL)                            /* $c2d/{dev}/call/... */

#define C2D_TOPIC_KIND_ENUM(kind, name, writer, adds_data, handler) kind,
enum c2d_topic_kind {
	C2D_TOPIC_KINDS(C2D_TOPIC_KIND_ENUM)
	C2D_T__COUNT
};
#undef C2D_TOPIC_KIND_ENUM

struct c2d_topic {
	enum c2d_topic_kind kind;
	const char *dev;     /* device id view */
	size_t dev_len;
	const char *name;    /* method (RPC, OUT_CALL), id (OUT_RES), cid (CALLRES), sub (OUT_GW_*) */
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

/* Its requests add data to the store (C2D_TOPIC_KINDS). */
bool c2d_topic_adds_data(enum c2d_topic_kind kind);

#endif
