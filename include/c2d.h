/* mosquitto-c2d: the plugin's state and the interfaces between its broker-side
 * modules. Everything here runs on the broker's thread.
 *
 * Ownership words in function comments: borrowed (caller keeps it), copied
 * (callee keeps its own copy), consumed (callee takes it and frees it). */
#ifndef C2D_H
#define C2D_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "c2d_clock.h"
#include "c2d_duty.h"
#include "c2d_conf.h"
#include "c2d_err.h"
#include "c2d_log.h"
#include "c2d_store.h"
#include "c2d_topic.h"
#include "c2d_unit.h"

struct c2d;
struct c2d_conn;
struct c2d_devp;

/* ---- statuses on the wire (protocol.md) ---- */
#define C2D_ST_OK 200
#define C2D_ST_ACCEPTED 202
#define C2D_ST_BAD_REQUEST 400
#define C2D_ST_FORBIDDEN 403
#define C2D_ST_OFFLINE 404
#define C2D_ST_CONFLICT 409
#define C2D_ST_GONE 410
#define C2D_ST_TOO_LARGE 413
#define C2D_ST_TOO_MANY 429
#define C2D_ST_INTERNAL 500
#define C2D_ST_UNAVAILABLE 503
#define C2D_ST_TIMEOUT 504

/* ---- a request: one client PUBLISH on a $c2d topic (route.c) ---- */
/* The user properties a handler may read (rpc.c, qreq.c, deliver.c, calls.c). */
#define C2D_REQ_UPROP_KEYS {"persistent", "timeout", "retries", "ttl", "status"}
#define C2D_REQ_UPROPS 5
struct c2d_req {
	struct mosquitto *client;           /* borrowed from the event */
	const char *client_id;              /* borrowed */
	int protocol_version;               /* 3, 4 or 5 */
	struct c2d_topic t;                 /* views into topic */
	const char *topic;                  /* borrowed */
	char dev[C2D_DEV_MAX + 1];          /* t.dev as a string */
	char name[C2D_NAME_MAX + 1];        /* t.name as a string ("" if none) */
	char rid[C2D_NAME_MAX + 1];         /* t.rid as a string ("" if none) */
	const void *payload;                /* borrowed */
	uint32_t payloadlen;
	int qos;
	const mosquitto_property *props;    /* borrowed */
	char *resp_topic;                   /* v5 Response Topic, owned copy, or NULL */
	void *corr;                         /* v5 Correlation Data, owned copy, or NULL */
	uint16_t corr_len;
	char *content_type;                 /* owned copy or NULL */
	char *uprops[C2D_REQ_UPROPS];       /* the user properties handlers read (req.c), owned copies or NULL */
};

/* Read the v5 properties handlers need (Response Topic, Correlation Data,
 * Content Type and the user properties of C2D_REQ_UPROP_KEYS, first match
 * each) in one pass over req->props, copying each once. */
void c2d_req_read_props(struct c2d_req *req);
/* Free what c2d_req_read_props copied. */
void c2d_req_free_props(struct c2d_req *req);
/* Copy the v5 user property `key` (first match) into buf (NUL-terminated).
 * Returns true if present; a value that does not fit is given as "" (no
 * option accepts it, so the request is refused rather than defaulted).
 * A key read by c2d_req_read_props costs no allocation and no property walk. */
bool c2d_req_user_prop(const struct c2d_req *req, const char *key, char *buf, size_t len);

/* ---- outbox (outbox.c): the one place that publishes ----
 * Handlers append; the unit (unit.c) flushes after the store commit, so
 * nothing is announced that is not durable. On a failed commit the appends
 * since the unit's mark are discarded and an error reply is sent instead.
 * Publishes that announce no store state (presence events, refusals,
 * lightweight RPC and call timeouts, $SYS statistics) go to the side list
 * (C2D_OUT_SIDE): a rollback never drops them; a flush sends them first. */
enum c2d_out_list {
	C2D_OUT_STORED = 0,          /* announces what the unit stores: rolled back with it */
	C2D_OUT_SIDE,                /* states no stored fact: never rolled back */
};
struct c2d_out {
	struct c2d_out *next;
	char *topic;                 /* in the entry's own block */
	char *clientid;              /* in the entry's own block; NULL = normal broadcast */
	void *payload;               /* owned, mosquitto_malloc memory */
	uint32_t payloadlen;
	uint8_t qos;
	bool pooled;                 /* a C2D_OUT_BLOCK block, kept for reuse when freed */
	mosquitto_property *props;   /* owned */
};
/* Entries whose topic and client id fit in this block are reused (up to
 * C2D_OUT_SPARE of them kept): a lightweight RPC's two publishes allocate no
 * entry. */
#define C2D_OUT_BLOCK 384
#define C2D_OUT_SPARE 32
struct c2d_outbox {
	struct c2d_out *head;
	struct c2d_out **tail;
	size_t count;
	struct c2d_out *side_head;   /* not rolled back */
	struct c2d_out **side_tail;
	struct c2d_out *spare;       /* freed pooled entries (owned) */
	unsigned spare_count;
	uint64_t published;          /* lifetime counters */
	uint64_t failed;
};

/* Append a publish. topic, clientid, payload: copied; props: consumed (also on
 * failure). Returns 0 or C2D_ENOMEM. */
int c2d_outbox_add(struct c2d *c2d, enum c2d_out_list list, const char *clientid, const char *topic,
		const void *payload, size_t len, int qos, mosquitto_property *props);
/* Same, payload consumed (mosquitto_malloc memory). */
int c2d_outbox_add_owned(struct c2d *c2d, enum c2d_out_list list, const char *clientid, const char *topic,
		void *payload, size_t len, int qos, mosquitto_property *props);
size_t c2d_outbox_mark(struct c2d *c2d);
/* Drop the stored-list entries appended after mark (the side list stays). */
void c2d_outbox_rollback(struct c2d *c2d, size_t mark);
/* Move the stored-list entries appended after mark to the end of the side
 * list (a unit that stored nothing: they state no stored fact). */
void c2d_outbox_to_side(struct c2d *c2d, size_t mark);
void c2d_outbox_flush(struct c2d *c2d);
void c2d_outbox_clear(struct c2d *c2d);

/* Reply to a request on its v5 Response Topic, with its correlation data and
 * user property status, addressed to the requester's client id. body: consumed (may be NULL: {"status":N} is sent; a
 * body gets "status" added). No response topic: nothing is sent (v3.1.1
 * applications follow events). Returns 0 or an error. */
int c2d_reply_json(struct c2d *c2d, const struct c2d_req *req, int status, cJSON *body);
/* Reply with the given bytes (copied) and content type (borrowed, may be NULL). */
int c2d_reply_raw(struct c2d *c2d, const struct c2d_req *req, int status,
		const void *payload, size_t len, const char *content_type);
/* Reply {"status":N,"error":reason} and log the reason at info. A sender
 * without a response topic (3.1.1, v5 one-way) gets the event
 * c2d.device.refused instead (side list). */
int c2d_reply_error(struct c2d *c2d, const struct c2d_req *req, int status, const char *reason);
/* Reply to a stored requester: addressed to its client id `requester`, on
 * its response topic, with its correlation data (all borrowed). A reply is
 * never broadcast: without a requester nothing is sent. */
int c2d_reply_to(struct c2d *c2d, const char *requester, const char *resp_topic, const void *corr,
		size_t corr_len, int status, const void *payload, size_t len, const char *content_type);
/* The same on the given outbox list. */
int c2d_reply_list(struct c2d *c2d, enum c2d_out_list list, const char *requester, const char *resp_topic,
		const void *corr, size_t corr_len, int status, const void *payload, size_t len, const char *content_type);
/* Properties of a reply: correlation data (copied, may be NULL), user
 * property status, content type (may be NULL). NULL on no memory. */
mosquitto_property *c2d_reply_props(const void *corr, size_t corr_len, int status, const char *content_type);

/* ---- events (event.c): CloudEvents 1.0 on $c2d/{dev}/events/{kind} ----
 * kind: "presence" | "twin" | "msg" | "rpc" | "device" | "gateway" | "job"; type: e.g. "c2d.msg.expired";
 * data: consumed (NULL = no data). */
int c2d_event(struct c2d *c2d, const char *dev, const char *kind, const char *type, cJSON *data);
/* The same for a change that is not stored (presence, a refusal, a
 * timeout of something in memory): the outbox's side list. */
int c2d_event_side(struct c2d *c2d, const char *dev, const char *kind, const char *type, cJSON *data);
/* A job-level event on $c2d/$jobs/{job}/events, subject the job id (a
 * valid job id, borrowed); data consumed. */
int c2d_event_job(struct c2d *c2d, const char *job, const char *type, cJSON *data);
/* Whether events of kind (borrowed) are published (option events). Callers
 * check it before building data; the functions above also check it and then
 * only free data and return 0. */
bool c2d_event_wanted(const struct c2d *c2d, const char *kind);
/* RFC 3339 UTC with milliseconds into buf (>= 32 bytes). */
void c2d_time_rfc3339(uint64_t wall_ms, char *buf, size_t len);

/* ---- presence (presence.c) ---- */
struct c2d_presence {
	struct c2d_conn *conns;      /* by client pointer (uthash) */
	struct c2d_devp *devs;       /* by device id (uthash) */
	struct c2d_conn *pending_list; /* conns awaiting confirmation at TICK (utlist) */
	struct c2d_devp *due_list;   /* devices whose on_online is due, oldest first (utlist) */
	struct c2d_devp *caught_list; /* due devices whose on_online ran in the open transaction */
	bool reauth;                 /* between MOSQ_EVT_RELOAD and the next TICK */
	uint64_t online;             /* devices online now */
};
/* Register with the unit (catch-ups count once their commit holds). */
int c2d_presence_init(struct c2d *c2d);
int c2d_presence_on_auth(struct c2d *c2d, struct mosquitto *client);
void c2d_presence_on_disconnect(struct c2d *c2d, struct mosquitto *client);
void c2d_presence_on_reload(struct c2d *c2d);
/* A PUBLISH from `client` proves it is connected: confirm it now. */
void c2d_presence_touch(struct c2d *c2d, struct mosquitto *client);
/* Confirm connections that survived the refused-connect window (TICK). */
void c2d_presence_confirm(struct c2d *c2d);
/* Run the planes' on_online for devices that came online, at most budget
 * (capped at C2D_CATCHUP_MAX) devices, in the current unit's transaction
 * (they stay due until its commit holds); only: that device alone
 * (borrowed), NULL: any, in the order they came online. */
#define C2D_CATCHUP_MAX 64
void c2d_presence_catch_up(struct c2d *c2d, const char *only, unsigned budget);
bool c2d_presence_online(const struct c2d *c2d, const char *dev);
/* Protocol version of the device's newest connection, 0 when offline. */
int c2d_presence_protocol(const struct c2d *c2d, const char *dev);
/* Gateways (gw.c decides who may; presence keeps who is reachable how).
 * The client id deliveries to dev go to: dev itself while it has its own
 * confirmed connection, else the gateway that announced it, else dev
 * (dev borrowed; the result is borrowed until the next presence change). */
const char *c2d_presence_client(const struct c2d *c2d, const char *dev);
/* The gateway that announced dev (borrowed as above), or NULL. */
const char *c2d_presence_via(const struct c2d *c2d, const char *dev);
/* True if client's connection announced dev. */
bool c2d_presence_announced_by(const struct c2d *c2d, const char *dev, const struct mosquitto *client);
/* client (a confirmed connection of a gateway) announces sub: sub is online
 * through it (event c2d.presence.connected with "via", catch-up due) unless
 * it has its own connection. 0 (also when already announced by it),
 * C2D_EINVAL (client not confirmed, or sub is the gateway), C2D_ENOMEM. */
int c2d_presence_announce(struct c2d *c2d, struct mosquitto *client, const char *sub);
/* The announcement of sub ends (client: only if that connection made it;
 * NULL: whichever did). Unless sub has its own connection it goes offline
 * (event with "via", the planes' on_offline). True if it was announced. */
bool c2d_presence_unannounce(struct c2d *c2d, const struct mosquitto *client, const char *sub);
/* Visit online devices (admin/statistics). */
void c2d_presence_each(const struct c2d *c2d, void (*cb)(void *ud, const char *dev), void *ud);
void c2d_presence_free(struct c2d *c2d);

/* ---- delivery core (deliver.c) ----
 * Every plane (twin, queue, lightweight RPC) delivers to devices through here:
 * topic $c2d/{dev}/in/{path}/{id}, QoS 1, addressed to the client id (no
 * subscription needed); for v5 also Correlation Data = id and Response Topic
 * $c2d/{dev}/out/res/{id}. An id is the plane's letter followed by a decimal
 * number, so a response on out/res/{id} goes back to the plane that owns it. */
struct c2d_resp {
	const struct c2d_req *req;   /* the device's publish */
	const char *dev;             /* == req->dev */
	char plane;                  /* id letter */
	uint64_t num;                /* id number */
	int status;                  /* topic level, else user property, else 200 */
};
struct c2d_plane {
	char letter;                 /* id prefix, unique */
	const char *name;
	/* Its answers only change the store and publish what they stored
	 * (settlement events, replies, next deliveries): they may be
	 * group-committed at the end of the broker's loop pass (route.c). */
	bool group_commit;
	/* Its answers neither read nor write the store (in-memory pending
	 * tables): they may join an open answer batch without storing it
	 * (unit.c). */
	bool store_free;
	/* A device answered a delivery of this plane. */
	int (*on_response)(struct c2d *c2d, const struct c2d_resp *resp);
	/* A device came online (confirmed connection) / went offline. */
	void (*on_online)(struct c2d *c2d, const char *dev);
	void (*on_offline)(struct c2d *c2d, const char *dev);
	/* Called at every TICK with the clocks and a work budget. */
	void (*on_tick)(struct c2d *c2d);
	/* Create the plane's state at init / free it at cleanup. */
	int (*init)(struct c2d *c2d);
	void (*cleanup)(struct c2d *c2d);
};
/* Publish one delivery. path: "twin", "msg", "rpc/reboot" (borrowed);
 * payload copied; content_type borrowed or NULL; expiry_s > 0 adds Message
 * Expiry for v5. Returns 0 or an error (nothing queued). */
int c2d_deliver(struct c2d *c2d, const char *dev, const char *path, char letter, uint64_t num,
		const void *payload, size_t len, const char *content_type, uint32_t expiry_s);
/* True if an answer with this id (borrowed, e.g. "q17") goes to a plane
 * whose answers may be group-committed. */
bool c2d_deliver_group_commit(const struct c2d *c2d, const char *id);
/* True if an answer with this id (borrowed) goes to a store_free plane. */
bool c2d_deliver_store_free(const struct c2d *c2d, const char *id);
/* Format an id ("q17") into buf (>= 24 bytes). */
void c2d_deliver_id(char letter, uint64_t num, char *buf, size_t len);
/* Parse an id: letter + 1..20 decimal digits, no leading zero. */
int c2d_deliver_parse_id(const char *id, char *letter, uint64_t *num);
/* Route an out/res publish to its plane. */
int c2d_deliver_on_response(struct c2d *c2d, struct c2d_req *req);
void c2d_deliver_online(struct c2d *c2d, const char *dev);
/* Create the planes' state (planes.c: the one list of planes) / free it. */
int c2d_planes_init(struct c2d *c2d);
void c2d_planes_cleanup(struct c2d *c2d);
void c2d_deliver_offline(struct c2d *c2d, const char *dev);

/* ---- the request handlers, one per topic kind (route.c dispatches) ---- */
typedef int (*c2d_handler)(struct c2d *c2d, struct c2d_req *req);

/* ---- timers (tick.c) ---- */
/* TICK: its unit of work (presence confirmation, catch-ups, timers, the
 * planes' timed work, the answer batch). */
void c2d_tick(struct c2d *c2d);
/* Background work's duty cycle (c2d_duty.h), one per kind: the expiry
 * sweep at most conf.sweep_share %, the jobs' slices conf.job_share % of
 * each C2D_BG_WINDOW_US window of CLOCK_MONOTONIC.
 * c2d_bg_allowance_us: what is left of the current window (0: wait for the
 * next one; time used beyond a window's share is owed by the next ones).
 * c2d_bg_charge: time spent; wrote: it wrote in the tick's transaction (the
 * tick then charges its commit too). */
#define C2D_BG_WINDOW_US 100000
enum c2d_bg_kind { C2D_BG_SWEEP, C2D_BG_JOBS, C2D_BG_KINDS };
uint64_t c2d_bg_allowance_us(struct c2d *c2d, enum c2d_bg_kind kind);
void c2d_bg_charge(struct c2d *c2d, enum c2d_bg_kind kind, uint64_t us, bool wrote);
/* Open the timer loop and the periodic sync timer; close them again. */
int c2d_tick_init(struct c2d *c2d);
void c2d_tick_cleanup(struct c2d *c2d);

/* ---- store transaction of the current unit (unit.c owns it) ---- */
/* Open the unit's write transaction if it is not open yet. 0 or error. */
int c2d_txn(struct c2d *c2d);
/* One item's work (an answer, a due entry, a device's catch-up) isolated
 * from the rest of the event's transaction: c2d_item_begin opens a nested
 * store transaction (and the event's one first if needed) and takes the
 * outbox mark; c2d_item_end(rc) keeps the item's writes and publishes when
 * rc is 0, else drops both, and nothing else. Returns rc, or the merge's
 * error. */
int c2d_item_begin(struct c2d *c2d, size_t *mark);
int c2d_item_end(struct c2d *c2d, size_t mark, int rc);
/* An error that would hit any item alike (map full, no memory, a failed
 * LMDB environment): stop and try again later. Any other error is the
 * item's own: quarantine it so that the others proceed. */
bool c2d_transient(const struct c2d *c2d, int rc);
/* Say that a record of dev (borrowed) could not be processed and was put
 * aside: log line and event c2d.device.quarantined {"record","id","error"}.
 * record, id (may be NULL): borrowed. moved: the caller moved a record in
 * the open transaction (the event follows its commit); else nothing was
 * stored and the event is never rolled back. */
void c2d_quarantined(struct c2d *c2d, const char *dev, const char *record, const char *id, int rc, bool moved);
/* Map a store error to a wire status (EFULL/ESTORE -> 503, ENOMEM -> 500). */
int c2d_status_of(int rc);
/* True while the LMDB map's free room is under the reserve (10% of map_size,
 * at least 512 KiB): requests that add data are then refused with 503, so
 * what is stored can still be delivered, completed and purged (every LMDB
 * write, a delete too, needs free pages). Checked at most every 250 ms,
 * cheaply (LMDB's high-water mark) unless that is within the reserve of the
 * limit: only then is the free list walked. */
bool c2d_room_low(struct c2d *c2d);

/* ---- plugin-wide counters (admin getStats, $SYS) ---- */
enum c2d_counter {
	C2D_C_CONNECTS,
	C2D_C_DISCONNECTS,
	C2D_C_REQUESTS,
	C2D_C_DENIED,
	C2D_C_BAD_REQUESTS,
	C2D_C_DELIVERIES,
	C2D_C_RESPONSES,
	C2D_C_STORE_ERRORS,
	C2D_C_EVENTS,
	C2D_C_COMMITS,
	C2D_C__COUNT
};

/* ---- the one state struct, the plugin's userdata ---- */
#define C2D_MAX_PLANES 8
struct c2d {
	mosquitto_plugin_id_t *pid;
	struct c2d_conf conf;
	struct c2d_store *store;
	struct c2d_outbox outbox;
	struct c2d_presence presence;
	const struct c2d_plane *planes[C2D_MAX_PLANES];
	size_t plane_count;
	struct c2d_calls *calls;     /* calls.c */
	struct c2d_lrpc *lrpc;       /* rpc.c, lightweight */
	struct c2d_queue *queue;     /* queue.c: messages and persistent RPC */
	struct c2d_admin *admin;     /* admin.c */
	uv_loop_t loop;              /* private timer heap, advanced at TICK */
	bool loop_open;
	uv_timer_t sync_timer;       /* sync periodic */
	uv_work_t sync_work;         /* the periodic fsync, on libuv's thread pool */
	bool sync_busy;              /* sync_work queued or running */
	bool sync_again;             /* a sync came due while it ran: one more */
	atomic_bool sync_finished;   /* set by the worker when its fsync returned (tick.c) */
	bool synced_once;
	uint64_t sync_commits;       /* counters[C2D_C_COMMITS] when the last sync started */
	int sync_rc;                 /* its LMDB result, read after it finished */
	uint64_t reopen_at_ms;       /* a failed store is reopened at most once a second */
	struct c2d_duty bg[C2D_BG_KINDS]; /* background duty cycles (CLOCK_MONOTONIC, tick.c) */
	bool bg_wrote[C2D_BG_KINDS]; /* that kind wrote in the current tick's transaction */
	uint64_t now_ms;             /* CLOCK_MONOTONIC at the current TICK/event */
	uint64_t wall_ms;            /* CLOCK_REALTIME at the current TICK/event */
	uint64_t tmo_ms;             /* the timeout clock at the current TICK/event (clock.c) */
	uint64_t tmo_offset;         /* tmo_ms - now_ms, fixed at start */
	uint64_t boot_ms;            /* wall clock at init, event id prefix */
	uint64_t event_seq;
	uint64_t room_checked_ms;    /* c2d_room_low's cache */
	struct c2d_twin_waits *twin_waits; /* twin.c: unacknowledged pushes of online devices */
	bool room_low;
	struct c2d_unit unit;        /* the current unit of work and the answer batch (unit.c) */
	uint64_t counters[C2D_C__COUNT];
};

#endif
