/* The durable per-device queue: cloud-to-device messages ($c2d/{dev}/msg) and
 * persistent RPCs ($c2d/{dev}/rpc/{method}, persistent=true) share it.
 *
 * Items. Each accepted request becomes one item keyed (dev, seq), seq taken
 * from the device record's next_seq (1, 2, ...), its wire id "q<seq>". The
 * device record counts the live items (`queued`, bounded by msg_queue_max: a
 * request beyond it gets 429 and nothing is stored) and the items in flight
 * (SENT or DELIVERED, bounded by msg_inflight). An item lives in one of three
 * states and leaves the queue in a final one:
 *
 *   QUEUED --deliver--> SENT --(rpc) 202--> DELIVERED
 *     ^                  |  \                  |
 *     +-- 5xx / timeout -+   +--> final <------+
 *         (retry)
 *
 *   msg finals: completed (2xx) | rejected (4xx) | expired | dead (more than
 *   msg_max_deliveries deliveries); rpc finals: successful (2xx) | failed
 *   (4xx, 5xx without retries) | timeout | expired; both: cancelled, purged
 *   (operators). A final state removes the item from the queue, emits one
 *   event and sends one reply to the requester's response topic (messages:
 *   JSON {"id","state","status"}; RPC results: the device's bytes and status).
 *
 * History. The finished item is kept, with its payload, under the same device
 * at key seq | HISTORY_BIT, its final state, status and time in the record,
 * for history_ttl seconds (a deadline entry at finished + history_ttl), and
 * its dedup entry with it: a duplicate request is answered with the final
 * state, and an operator can retry it (admin retryCommand) or list it. The
 * sweep deletes it and its dedup entry when due. history_ttl 0 keeps nothing
 * (the record and dedup entry go at the final state). History keys sort after
 * every live key, so every scan of the live queue (the pump, the counts)
 * stops at the first history key: history never slows delivery.
 *
 * Delivery (the pump). Whenever something may have freed a slot (enqueue,
 * response, reconnect, timeout) the device's queue is scanned in seq order and
 * QUEUED items are delivered while fewer than msg_inflight are in flight. A
 * reconnect redelivers every SENT item first (the device may have lost it) and
 * gives DELIVERED RPCs their timeout afresh. Each delivery counts; delivering
 * more than msg_max_deliveries times ends the item instead. The scan stops as
 * soon as it has what it needs, so a long queue is not read per response.
 *
 * Deadlines. Every live item has exactly one entry in the store's deadline
 * index, at the earliest of its expiry and its current ack/RPC timeout, in
 * wall-clock ms so that it survives restarts (a history record has one too,
 * at its end). The sweep (each TICK) takes the earliest entries that are
 * due, at most SWEEP_BUDGET entries and a time slice per tick (0.5 ms while
 * publishes flow, 5 ms when the broker is otherwise idle: a mass expiry must
 * not slow live commands down), and resumes at the next tick where it
 * stopped (the index is ordered, there is no cursor to keep). A live item's
 * due entry is either the expiry (final expired, online or not) or a timeout:
 * offline, only the lifetime runs, so the entry moves to the expiry and the
 * reconnect redelivers; online, a message is queued again and redelivered,
 * an RPC is retried while retries remain, else ends as timeout.
 * The pump never delivers an expired item; it leaves it to the sweep.
 *
 * Administration (admin.c): list, cancel, retry, purge, and forgetting a
 * deleted device's queue, through the same transitions.
 *
 * Transactions: every write joins the current event's store transaction
 * (c2d_txn); route.c commits it before the broker's PUBACK, tick.c at the end
 * of the tick, and only then do replies, events and deliveries leave. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "c2d.h"
#include "c2d_qrec.h"
#include "c2d_queue.h"

#define SWEEP_BUDGET 256    /* due entries handled per tick */
#define SWEEP_US_IDLE 5000  /* and at most this long per tick when no publishes flow, */
#define SWEEP_US_BUSY 500   /* this long when they do (every broker loop pass pays it) */
#define DEDUP_KEY_MAX 480   /* c2d_store_dedup_*: longest key */
#define HISTORY_BIT (1ull << 63) /* queue key of a finished item: seq | HISTORY_BIT */

/* What differs between messages and persistent RPCs. */
struct kind_info {
	const char *name;       /* events/{name}, event types c2d.{name}.* */
	uint8_t ok;             /* final state on 2xx */
	uint8_t refused;        /* final state on 4xx (any status not 2xx or 5xx) */
	uint8_t failed;         /* final state on 5xx with no retry left */
	uint8_t timed_out;      /* final state on a timeout with no retry left */
	uint8_t exhausted;      /* final state instead of delivery msg_max_deliveries + 1 */
	bool bounded_retries;   /* retries_left limits retries (else deliveries do) */
	bool device_answer;     /* final replies carry the device's bytes */
	bool accepts_202;       /* 202 = delivered, the result follows */
};

/* A message that may not be retried any more is dead; an RPC delivered too
 * often without an answer timed out. */
static const struct kind_info kinds[C2D_QK__COUNT] = {
	[C2D_QK_MSG] = {"msg", C2D_QS_COMPLETED, C2D_QS_REJECTED, C2D_QS_DEAD, C2D_QS_DEAD, C2D_QS_DEAD,
		false, false, false},
	[C2D_QK_RPC] = {"rpc", C2D_QS_SUCCESSFUL, C2D_QS_FAILED, C2D_QS_FAILED, C2D_QS_TIMEOUT, C2D_QS_TIMEOUT,
		true, true, true},
};

/* Status of each final state (protocol.md); 0 = the device's status. */
static const int final_status[C2D_QS__COUNT] = {
	[C2D_QS_COMPLETED] = C2D_ST_OK,
	[C2D_QS_EXPIRED] = C2D_ST_GONE,
	[C2D_QS_DEAD] = C2D_ST_TIMEOUT,
	[C2D_QS_PURGED] = C2D_ST_GONE,
	[C2D_QS_CANCELLED] = C2D_ST_GONE,
	[C2D_QS_TIMEOUT] = C2D_ST_TIMEOUT,
};

/* The device record while an operation runs on one device. */
struct qdev {
	struct c2d *c2d;
	const char *dev;         /* borrowed */
	struct c2d_devrec rec;
	bool dirty;
	bool forget;             /* the device is being deleted: finals keep no history */
};

/* One item loaded from the store. */
struct qitem {
	uint64_t seq;            /* its id number, without HISTORY_BIT */
	bool history;            /* a finished item, stored at seq | HISTORY_BIT */
	void *buf;               /* owned: the stored record; r points into it */
	struct c2d_qrec r;       /* edited in place, written back by item_save */
	uint64_t due_stored;     /* its entry in the deadline index, 0 = none yet */
	uint8_t state_stored;
};

struct new_item {
	uint8_t kind;
	uint32_t ttl_s;
	uint32_t timeout_ms;
	uint32_t retries;
};

/* ---- device record ---- */

static int dev_load(struct c2d *c2d, const char *dev, struct qdev *d, bool *exists)
{
	struct c2d_idmark mark;
	int rc;

	memset(d, 0, sizeof(*d));
	d->c2d = c2d;
	d->dev = dev;
	rc = c2d_store_dev_get(c2d->store, dev, &d->rec);
	if(exists) *exists = rc == 0;
	if(rc == C2D_ENOTFOUND){
		/* a new record: sequences continue after a deleted device's */
		memset(&d->rec, 0, sizeof(d->rec));
		d->rec.created_ms = c2d->wall_ms;
		rc = c2d_store_idmark_get(c2d->store, dev, &mark);
		if(rc == 0) d->rec.next_seq = mark.next_seq;
	}
	return rc;
}

static int dev_save(struct qdev *d)
{
	int rc;

	if(!d->dirty) return 0;
	rc = c2d_txn(d->c2d);
	if(rc) return rc;
	rc = c2d_store_dev_put(d->c2d->store, d->dev, &d->rec);
	if(rc == 0) d->dirty = false;
	return rc;
}

static uint64_t *dev_counter(struct qdev *d, int index)
{
	d->dirty = true;
	return &d->rec.counters[index];
}

static uint64_t inflight(const struct qdev *d)
{
	return d->rec.counters[C2D_QDEV_INFLIGHT];
}

/* Move the in-flight count by what a state change from `from` to `to` means. */
static void count_flight(struct qdev *d, int from, int to)
{
	uint64_t *n = dev_counter(d, C2D_QDEV_INFLIGHT);

	if(c2d_qrec_in_flight(to) && !c2d_qrec_in_flight(from)) (*n)++;
	if(c2d_qrec_in_flight(from) && !c2d_qrec_in_flight(to) && *n > 0) (*n)--;
}

/* ---- items ---- */

static const struct kind_info *kind_of(const struct qitem *it)
{
	return &kinds[it->r.kind];
}

static void item_id(const struct qitem *it, char *buf, size_t len)
{
	c2d_deliver_id(C2D_QUEUE_LETTER, it->seq, buf, len);
}

static uint64_t item_key(const struct qitem *it)
{
	return it->history ? it->seq | HISTORY_BIT : it->seq;
}

/* Load the live item q{seq} of dev, or its history record. it: filled, free
 * with item_free (also after errors). Returns 0, C2D_ENOTFOUND, C2D_EINVAL
 * (damaged, logged) or a store error. */
static int item_load(struct c2d *c2d, const char *dev, uint64_t seq, bool history, struct qitem *it)
{
	size_t len;
	int rc;

	memset(it, 0, sizeof(*it));
	if(seq == 0 || seq >= HISTORY_BIT) return C2D_ENOTFOUND; /* not an id of ours */
	it->seq = seq;
	it->history = history;
	rc = c2d_store_q_get(c2d->store, dev, item_key(it), &it->buf, &len);
	if(rc) return rc;
	rc = c2d_qrec_decode(&it->r, it->buf, len);
	if(rc){
		c2d_log(C2D_LOG_ERR, "queue item q%" PRIu64 "%s of '%s' is damaged (%zu bytes)", seq,
				history ? " (history)" : "", dev, len);
		return C2D_EINVAL;
	}
	if(it->r.ttl_s == 0){
		/* written before records had the extension: what was asked is what is left */
		it->r.ttl_s = it->r.expires_ms > it->r.created_ms + 1000
				? (uint32_t)((it->r.expires_ms - it->r.created_ms) / 1000) : 1;
		it->r.retries = it->r.retries_left;
	}
	it->due_stored = it->r.due_ms;
	it->state_stored = it->r.state;
	return 0;
}

static void item_free(struct qitem *it)
{
	free(it->buf);
	it->buf = NULL;
}

/* Write the item back (or for the first time), move its deadline entry and
 * the in-flight count. it: borrowed. */
static int item_save(struct qdev *d, struct qitem *it)
{
	struct c2d_store *st = d->c2d->store;
	void *buf;
	size_t len;
	int rc;

	rc = c2d_txn(d->c2d);
	if(rc) return rc;
	rc = c2d_qrec_encode(&it->r, &buf, &len);
	if(rc) return rc;
	rc = c2d_store_q_put(st, d->dev, item_key(it), buf, len);
	free(buf);
	if(rc) return rc;
	if(it->r.due_ms != it->due_stored){
		if(it->due_stored){
			rc = c2d_store_due_del(st, it->due_stored, d->dev, item_key(it));
			if(rc && rc != C2D_ENOTFOUND) return rc;
		}
		rc = c2d_store_due_add(st, it->r.due_ms, d->dev, item_key(it));
		if(rc) return rc;
		if(it->r.due_ms < d->c2d->queue_next_due_ms) d->c2d->queue_next_due_ms = it->r.due_ms;
		it->due_stored = it->r.due_ms;
	}
	if(!it->history) count_flight(d, it->state_stored, it->r.state);
	it->state_stored = it->r.state;
	return 0;
}

/* Dedup key: sender \0 dev \0 correlation data. The device is part of the key
 * so that an application reusing correlation data across devices is not
 * mistaken for a duplicate. Returns its length, 0 when the request has none
 * (no correlation data) or it is too long to index. */
static size_t dedup_key(char *key, const char *sender, const char *dev, const void *corr, size_t corr_len)
{
	size_t slen, dlen;

	if(sender == NULL || corr == NULL || corr_len == 0) return 0;
	slen = strlen(sender);
	dlen = strlen(dev);
	if(slen + dlen + 2 + corr_len > DEDUP_KEY_MAX) return 0;
	memcpy(key, sender, slen + 1);
	memcpy(key + slen + 1, dev, dlen + 1);
	memcpy(key + slen + dlen + 2, corr, corr_len);
	return slen + dlen + 2 + corr_len;
}

/* Remove the item's dedup entry if it still names this item. */
static int dedup_forget(struct qdev *d, const struct qitem *it)
{
	char key[DEDUP_KEY_MAX], dev[C2D_DEV_MAX + 1];
	size_t len = dedup_key(key, it->r.sender, d->dev, it->r.corr, it->r.corr_len);
	uint64_t seq;
	int rc;

	if(len == 0) return 0;
	rc = c2d_store_dedup_get(d->c2d->store, key, len, dev, &seq);
	if(rc == C2D_ENOTFOUND) return 0;
	if(rc) return rc;
	if(seq != it->seq || strcmp(dev, d->dev) != 0) return 0;
	return c2d_store_dedup_del(d->c2d->store, key, len);
}

/* Delete the item's record and its deadline entry; a live item also leaves
 * the device's counts. Its dedup entry stays (item_forget removes it too). */
static int item_drop(struct qdev *d, struct qitem *it)
{
	struct c2d_store *st = d->c2d->store;
	int rc;

	rc = c2d_txn(d->c2d);
	if(!rc) rc = c2d_store_q_del(st, d->dev, item_key(it));
	if(rc && rc != C2D_ENOTFOUND) return rc;
	if(it->due_stored){
		rc = c2d_store_due_del(st, it->due_stored, d->dev, item_key(it));
		if(rc && rc != C2D_ENOTFOUND) return rc;
		it->due_stored = 0;
	}
	if(!it->history){
		count_flight(d, it->state_stored, C2D_QS_QUEUED);
		if(d->rec.queued > 0) d->rec.queued--;
		d->dirty = true;
	}
	return 0;
}

/* Delete the item with its deadline and dedup entries: nothing is left. */
static int item_forget(struct qdev *d, struct qitem *it)
{
	int rc = item_drop(d, it);

	return rc ? rc : dedup_forget(d, it);
}

/* Next deadline of a delivery made now: its timeout, or the expiry if sooner. */
static uint64_t deadline(const struct c2d *c2d, const struct qitem *it)
{
	uint64_t t = c2d->wall_ms + it->r.timeout_ms;

	return t < it->r.expires_ms ? t : it->r.expires_ms;
}

static bool expired(const struct c2d *c2d, const struct qitem *it)
{
	return it->r.expires_ms <= c2d->wall_ms;
}

/* ---- events and replies ---- */

/* {"id","state","status"?,"method"?,"deliveries"} for events. */
static cJSON *item_data(const struct qitem *it, int state, int status)
{
	cJSON *data = cJSON_CreateObject();
	char id[24];

	if(data == NULL) return NULL;
	item_id(it, id, sizeof(id));
	cJSON_AddStringToObject(data, "id", id);
	cJSON_AddStringToObject(data, "state", c2d_qrec_state_name(state));
	if(status) cJSON_AddNumberToObject(data, "status", status);
	if(it->r.method) cJSON_AddStringToObject(data, "method", it->r.method);
	cJSON_AddNumberToObject(data, "deliveries", it->r.deliveries);
	return data;
}

/* item_data of a (re)queued item, with its expiry and sender. */
static cJSON *queued_data(const struct qitem *it)
{
	cJSON *data = item_data(it, C2D_QS_QUEUED, 0);
	char when[32];

	if(data){
		c2d_time_rfc3339(it->r.expires_ms, when, sizeof(when));
		cJSON_AddStringToObject(data, "expires", when);
		if(it->r.sender) cJSON_AddStringToObject(data, "sender", it->r.sender);
	}
	return data;
}

/* Event c2d.{kind}.{what} on events/{kind}. data: consumed. */
static int item_event(struct qdev *d, const struct qitem *it, const char *what, cJSON *data)
{
	char type[48];

	snprintf(type, sizeof(type), "c2d.%s.%s", kind_of(it)->name, what);
	return c2d_event(d->c2d, d->dev, kind_of(it)->name, type, data);
}

/* The one final reply to the requester. resp: the device's answer when the
 * final state comes from it (borrowed), else NULL. */
static int reply_final(struct qdev *d, const struct qitem *it, int state, int status,
		const struct c2d_resp *resp)
{
	const struct c2d_qrec *r = &it->r;
	cJSON *body;
	char *text, id[24];
	int rc;

	if(r->resp_topic == NULL) return 0;
	if(resp && kind_of(it)->device_answer){
		return c2d_reply_to(d->c2d, r->sender, r->resp_topic, r->corr, r->corr_len, status,
				resp->req->payload, resp->req->payloadlen, resp->req->content_type);
	}
	body = cJSON_CreateObject();
	if(body == NULL) return C2D_ENOMEM;
	item_id(it, id, sizeof(id));
	cJSON_AddStringToObject(body, "id", id);
	cJSON_AddStringToObject(body, "state", c2d_qrec_state_name(state));
	cJSON_AddNumberToObject(body, "status", status);
	text = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	if(text == NULL) return C2D_ENOMEM;
	rc = c2d_reply_to(d->c2d, r->sender, r->resp_topic, r->corr, r->corr_len, status, text, strlen(text),
			"application/json");
	cJSON_free(text);
	return rc;
}

/* ---- transitions ---- */

/* The live item leaves the queue in `state`: it becomes history (kept with
 * its dedup entry until history_ttl has passed), or is forgotten at once when
 * no history is kept. it: its record is rewritten in place. */
static int retire(struct qdev *d, struct qitem *it, int state, int status)
{
	struct c2d *c2d = d->c2d;
	int rc;

	if(d->forget || c2d->conf.history_ttl_s == 0) return item_forget(d, it);
	rc = item_drop(d, it);
	if(rc) return rc;
	it->history = true;
	it->r.state = (uint8_t)state;
	it->r.status = (uint32_t)status;
	it->r.finished_ms = c2d->wall_ms;
	it->r.due_ms = c2d->wall_ms + (uint64_t)c2d->conf.history_ttl_s * 1000;
	it->state_stored = it->r.state;
	return item_save(d, it);
}

/* The item reaches a final state: retire it, count, event, reply. The caller
 * pumps the device afterwards. resp: borrowed or NULL (see reply_final). */
static int finish(struct qdev *d, struct qitem *it, int state, const struct c2d_resp *resp)
{
	int status = final_status[state], rc;

	if(status == 0) status = resp ? resp->status : C2D_ST_INTERNAL;
	rc = retire(d, it, state, status);
	if(rc) return rc;
	(*dev_counter(d, state == kind_of(it)->ok ? C2D_QDEV_SUCCEEDED : C2D_QDEV_FAILED))++;
	c2d_log(C2D_LOG_DEBUG, "%s q%" PRIu64 " to '%s': %s (%d)", kind_of(it)->name, it->seq, d->dev,
			c2d_qrec_state_name(state), status);
	rc = item_event(d, it, c2d_qrec_state_name(state), item_data(it, state, status));
	if(!rc) rc = reply_final(d, it, state, status, resp);
	return rc;
}

static bool may_deliver_again(const struct c2d *c2d, const struct qitem *it)
{
	return it->r.deliveries < c2d->conf.msg_max_deliveries;
}

static bool may_retry(const struct c2d *c2d, const struct qitem *it)
{
	return may_deliver_again(c2d, it) && (!kind_of(it)->bounded_retries || it->r.retries_left > 0);
}

/* Back to QUEUED for another delivery (5xx or a timeout). reason: "status" or
 * "timeout", borrowed. */
static int requeue(struct qdev *d, struct qitem *it, const char *reason, int status)
{
	cJSON *data;
	int rc;

	if(kind_of(it)->bounded_retries) it->r.retries_left--;
	it->r.state = C2D_QS_QUEUED;
	it->r.due_ms = it->r.expires_ms;
	rc = item_save(d, it);
	if(rc) return rc;
	data = item_data(it, C2D_QS_QUEUED, status);
	if(data){
		cJSON_AddStringToObject(data, "reason", reason);
		if(kind_of(it)->bounded_retries) cJSON_AddNumberToObject(data, "retriesLeft", it->r.retries_left);
	}
	return item_event(d, it, "retrying", data);
}

/* Deliver now, or end the item if it may not be delivered any more
 * (*finished set). */
static int deliver(struct qdev *d, struct qitem *it, bool *finished)
{
	struct c2d *c2d = d->c2d;
	char path[C2D_NAME_MAX + 8];
	uint32_t expiry_s;
	int rc;

	if(expired(c2d, it)){
		*finished = true;
		return finish(d, it, C2D_QS_EXPIRED, NULL);
	}
	if(!may_deliver_again(c2d, it)){
		*finished = true;
		return finish(d, it, kind_of(it)->exhausted, NULL);
	}
	it->r.deliveries++;
	it->r.state = C2D_QS_SENT;
	it->r.due_ms = deadline(c2d, it);
	rc = item_save(d, it);
	if(rc) return rc;
	(*dev_counter(d, C2D_QDEV_DELIVERIES))++;
	if(it->r.kind == C2D_QK_RPC){
		snprintf(path, sizeof(path), "rpc/%s", it->r.method);
	}else{
		snprintf(path, sizeof(path), "msg");
	}
	expiry_s = (uint32_t)((it->r.expires_ms - c2d->wall_ms + 999) / 1000);
	rc = c2d_deliver(c2d, d->dev, path, C2D_QUEUE_LETTER, it->seq, it->r.payload, it->r.payload_len,
			it->r.content_type, expiry_s);
	if(!rc) rc = item_event(d, it, "sent", item_data(it, C2D_QS_SENT, 0));
	return rc;
}

/* A reconnect restarts the timeout of an RPC the device accepted (202):
 * while it was offline only the lifetime ran. */
static int refresh_delivered(struct qdev *d, struct qitem *it)
{
	it->r.due_ms = deadline(d->c2d, it);
	return item_save(d, it);
}

/* The item's deadline passed before its expiry, the device online. */
static int timed_out(struct qdev *d, struct qitem *it)
{
	if(!c2d_qrec_in_flight(it->r.state)){
		it->r.due_ms = it->r.expires_ms; /* QUEUED: only the expiry is due */
		return item_save(d, it);
	}
	if(may_retry(d->c2d, it)) return requeue(d, it, "timeout", C2D_ST_TIMEOUT);
	return finish(d, it, kind_of(it)->timed_out, NULL);
}

/* ---- the pump ---- */

/* Items picked by a scan (collected first: no writes inside the scan). */
struct pick {
	uint64_t key;             /* queue key: seq, or seq | HISTORY_BIT */
	uint8_t state;
};

struct picks {
	struct pick *v;           /* owned, free() */
	size_t n, cap;
};

static int picks_push(struct picks *p, uint64_t key, uint8_t state)
{
	struct pick *v;

	if(p->n == p->cap){
		p->cap = p->cap ? p->cap * 2 : 16;
		v = realloc(p->v, p->cap * sizeof(*v));
		if(v == NULL) return C2D_ENOMEM;
		p->v = v;
	}
	p->v[p->n].key = key;
	p->v[p->n].state = state;
	p->n++;
	return 0;
}

struct scan {
	uint64_t now;             /* wall clock */
	bool reconnect;           /* pick in-flight items too */
	uint64_t inflight_want;   /* reconnect: the in-flight count to find */
	size_t queued_want;       /* QUEUED items to pick */
	uint64_t seen;            /* items visited */
	uint64_t inflight_seen;
	size_t queued_seen;
	bool stopped;             /* stopped early: the counts are partial */
	int rc;
	struct picks picks;
};

/* q_scan callback. buf: borrowed for the call. */
static int scan_visit(void *ud, uint64_t seq, const void *buf, size_t len)
{
	struct scan *s = ud;
	struct c2d_qrec r;
	bool pick = false;

	if(seq & HISTORY_BIT) return 1; /* the live queue ends here: not stopped early */
	s->seen++;
	if(c2d_qrec_decode(&r, buf, len)) return 0; /* damaged: the sweep removes it */
	if(c2d_qrec_in_flight(r.state)){
		s->inflight_seen++;
		pick = s->reconnect && r.expires_ms > s->now;
	}else if(r.state == C2D_QS_QUEUED && r.expires_ms > s->now && s->queued_seen < s->queued_want){
		s->queued_seen++;
		pick = true;
	}
	if(pick && (s->rc = picks_push(&s->picks, seq, r.state)) != 0) return 1;
	if(s->queued_seen >= s->queued_want && (!s->reconnect || s->inflight_seen >= s->inflight_want)){
		s->stopped = true;
		return 1;
	}
	return 0;
}

/* A scan that reached the end of the queue saw the truth: correct the
 * device record if it drifted (it never should). */
static void repair_counts(struct qdev *d, const struct scan *s)
{
	if(s->inflight_seen != inflight(d)){
		c2d_log(C2D_LOG_WARN, "in-flight count of '%s' was %" PRIu64 ", is %" PRIu64 ": repaired",
				d->dev, inflight(d), s->inflight_seen);
		*dev_counter(d, C2D_QDEV_INFLIGHT) = s->inflight_seen;
	}
	if(s->seen != d->rec.queued){
		c2d_log(C2D_LOG_WARN, "queue length of '%s' was %u, is %" PRIu64 ": repaired",
				d->dev, d->rec.queued, s->seen);
		d->rec.queued = (uint32_t)s->seen;
		d->dirty = true;
	}
}

/* One pass: pick, then deliver / redeliver. *finished: an item ended instead
 * of being delivered (its slot is free for another pass). */
static int pump_pass(struct qdev *d, bool reconnect, bool *finished)
{
	struct c2d *c2d = d->c2d;
	struct scan s;
	struct qitem it;
	size_t i;
	int rc;

	memset(&s, 0, sizeof(s));
	s.now = c2d->wall_ms;
	s.reconnect = reconnect;
	s.inflight_want = inflight(d);
	if(inflight(d) < c2d->conf.msg_inflight) s.queued_want = c2d->conf.msg_inflight - (size_t)inflight(d);
	if(s.queued_want == 0 && !reconnect) return 0;
	rc = c2d_store_q_scan(c2d->store, d->dev, 1, scan_visit, &s);
	if(!rc) rc = s.rc;
	if(!rc && !s.stopped) repair_counts(d, &s);
	for(i = 0; i < s.picks.n && !rc; i++){
		rc = item_load(c2d, d->dev, s.picks.v[i].key, false, &it);
		if(rc == C2D_ENOTFOUND || rc == C2D_EINVAL){
			rc = 0;
		}else if(!rc && it.r.state == C2D_QS_SENT && reconnect){
			rc = deliver(d, &it, finished);
		}else if(!rc && it.r.state == C2D_QS_DELIVERED && reconnect){
			rc = refresh_delivered(d, &it);
		}else if(!rc && it.r.state == C2D_QS_QUEUED && inflight(d) < c2d->conf.msg_inflight){
			rc = deliver(d, &it, finished);
		}
		item_free(&it);
	}
	free(s.picks.v);
	return rc;
}

/* Deliver what the device may have now. reconnect: it just came (back)
 * online, redeliver what it has not answered. */
static int pump(struct qdev *d, bool reconnect)
{
	bool finished;
	int rc;

	if(!c2d_presence_online(d->c2d, d->dev)) return 0;
	do{
		finished = false;
		rc = pump_pass(d, reconnect, &finished);
		reconnect = false;
	}while(!rc && finished);
	return rc;
}

/* ---- requests ---- */

/* Reply 202 for a request already queued (same sender and correlation data),
 * live or finished and still in history: with the existing id and its state
 * (a final one with its status as finalStatus). Returns 1 if it was one
 * (answered), 0 if not, or an error. */
static int duplicate(struct c2d *c2d, struct c2d_req *req, const char *key, size_t keylen)
{
	char dev[C2D_DEV_MAX + 1], id[24];
	struct qitem it;
	cJSON *body;
	uint64_t seq;
	int rc;

	if(keylen == 0) return 0;
	rc = c2d_store_dedup_get(c2d->store, key, keylen, dev, &seq);
	if(rc == C2D_ENOTFOUND) return 0;
	if(rc) return rc;
	rc = item_load(c2d, req->dev, seq, false, &it);
	if(rc == C2D_ENOTFOUND){
		item_free(&it);
		rc = item_load(c2d, req->dev, seq, true, &it);
	}
	if(rc){
		item_free(&it);
		/* gone or damaged: stale, the new item takes the key over */
		return rc == C2D_ENOTFOUND || rc == C2D_EINVAL ? 0 : rc;
	}
	body = cJSON_CreateObject();
	if(body){
		item_id(&it, id, sizeof(id));
		cJSON_AddStringToObject(body, "id", id);
		cJSON_AddStringToObject(body, "state", c2d_qrec_state_name(it.r.state));
		if(it.history) cJSON_AddNumberToObject(body, "finalStatus", it.r.status);
		cJSON_AddBoolToObject(body, "duplicate", true);
	}
	item_free(&it);
	c2d_log(C2D_LOG_DEBUG, "duplicate request on '%s' from '%s': already q%" PRIu64, req->topic,
			req->client_id ? req->client_id : "?", seq);
	rc = c2d_reply_json(c2d, req, C2D_ST_ACCEPTED, body);
	return rc ? rc : 1;
}

/* Refuse a request because the device's queue is full: 429 and an event. */
static int refuse_full(struct c2d *c2d, struct c2d_req *req, const char *kind)
{
	char type[32];
	cJSON *data;
	int rc;

	rc = c2d_reply_error(c2d, req, C2D_ST_TOO_MANY, "the device's queue is full (plugin_opt_msg_queue_max)");
	if(rc) return rc;
	data = cJSON_CreateObject();
	if(data){
		cJSON_AddNumberToObject(data, "status", C2D_ST_TOO_MANY);
		if(req->client_id) cJSON_AddStringToObject(data, "sender", req->client_id);
		if(req->name[0]) cJSON_AddStringToObject(data, "method", req->name);
		cJSON_AddStringToObject(data, "error", "queue full");
	}
	snprintf(type, sizeof(type), "c2d.%s.refused", kind);
	return c2d_event(c2d, req->dev, kind, type, data);
}

/* Store a new item for the request, announce it, deliver it if the device
 * is online. req: borrowed (copied into the record). */
static int enqueue(struct c2d *c2d, struct c2d_req *req, const struct new_item *n)
{
	char key[DEDUP_KEY_MAX], id[24];
	size_t keylen;
	struct qdev d;
	struct qitem it;
	cJSON *body;
	int rc;

	keylen = dedup_key(key, req->client_id, req->dev, req->corr, req->corr_len);
	rc = duplicate(c2d, req, key, keylen);
	if(rc) return rc > 0 ? 0 : rc;
	rc = dev_load(c2d, req->dev, &d, NULL);
	if(rc) return rc;
	if(d.rec.queued >= c2d->conf.msg_queue_max) return refuse_full(c2d, req, kinds[n->kind].name);

	memset(&it, 0, sizeof(it));
	it.seq = d.rec.next_seq ? d.rec.next_seq : 1;
	it.r.kind = n->kind;
	it.r.state = C2D_QS_QUEUED;
	it.r.retries_left = n->retries;
	it.r.retries = n->retries;
	it.r.ttl_s = n->ttl_s;
	it.r.timeout_ms = n->timeout_ms;
	it.r.created_ms = c2d->wall_ms;
	it.r.expires_ms = c2d->wall_ms + (uint64_t)n->ttl_s * 1000;
	it.r.due_ms = it.r.expires_ms;
	it.r.sender = req->client_id;
	it.r.resp_topic = req->resp_topic;
	it.r.corr = req->corr;
	it.r.corr_len = req->corr_len;
	it.r.content_type = req->content_type;
	it.r.method = n->kind == C2D_QK_RPC ? req->name : NULL;
	it.r.payload = req->payload;
	it.r.payload_len = req->payloadlen;
	it.state_stored = C2D_QS_QUEUED;

	d.rec.next_seq = it.seq + 1;
	d.rec.queued++;
	(*dev_counter(&d, C2D_QDEV_ACCEPTED))++;
	rc = item_save(&d, &it);
	if(!rc && keylen) rc = c2d_store_dedup_put(c2d->store, key, keylen, req->dev, it.seq);
	if(rc) return rc;

	rc = item_event(&d, &it, "queued", queued_data(&it));
	if(rc) return rc;
	body = cJSON_CreateObject();
	if(body){
		item_id(&it, id, sizeof(id));
		cJSON_AddStringToObject(body, "id", id);
	}
	rc = c2d_reply_json(c2d, req, C2D_ST_ACCEPTED, body);
	if(!rc) rc = pump(&d, false);
	if(!rc) rc = dev_save(&d);
	return rc;
}

int c2d_queue_on_msg(struct c2d *c2d, struct c2d_req *req)
{
	struct new_item n = {C2D_QK_MSG, c2d->conf.msg_ttl_s, c2d->conf.ack_timeout_s * 1000u, 0};
	char v[32], why[96];

	if(c2d_req_user_prop(req, "ttl", v, sizeof(v)) && !c2d_conf_parse_uint(v, 1, c2d->conf.msg_ttl_max_s, &n.ttl_s)){
		snprintf(why, sizeof(why), "user property ttl must be whole seconds in 1..%u", c2d->conf.msg_ttl_max_s);
		return c2d_reply_error(c2d, req, C2D_ST_BAD_REQUEST, why);
	}
	return enqueue(c2d, req, &n);
}

int c2d_queue_push_rpc(struct c2d *c2d, struct c2d_req *req, const struct c2d_rpc_opts *o)
{
	struct new_item n = {C2D_QK_RPC, o->ttl_s, o->timeout_ms, o->retries};

	return enqueue(c2d, req, &n);
}

/* ---- plane callbacks ---- */

/* The device answered q{seq}. */
static int answer(struct qdev *d, struct qitem *it, const struct c2d_resp *resp)
{
	const struct kind_info *k = kind_of(it);
	int st = resp->status, rc;

	if(st == C2D_ST_ACCEPTED && k->accepts_202){
		it->r.state = C2D_QS_DELIVERED;
		it->r.due_ms = deadline(d->c2d, it);
		rc = item_save(d, it);
		return rc ? rc : item_event(d, it, "delivered", item_data(it, C2D_QS_DELIVERED, st));
	}
	if(st >= 200 && st < 300) return finish(d, it, k->ok, resp);
	if(st >= 500){
		if(may_retry(d->c2d, it)) return requeue(d, it, "status", st);
		return finish(d, it, k->failed, resp);
	}
	return finish(d, it, k->refused, resp);
}

static int queue_on_response(struct c2d *c2d, const struct c2d_resp *resp)
{
	struct qdev d;
	struct qitem it;
	int rc;

	rc = item_load(c2d, resp->dev, resp->num, false, &it);
	if(rc == C2D_ENOTFOUND || rc == C2D_EINVAL || (rc == 0 && it.r.deliveries == 0)){
		/* EINVAL: damaged, logged; the sweep removes it */
		if(rc != C2D_EINVAL){
			c2d_log(C2D_LOG_DEBUG, "answer from '%s' to q%" PRIu64 ", which is not pending (late or unknown): dropped",
					resp->dev, resp->num);
		}
		item_free(&it);
		return 0;
	}
	if(!rc) rc = dev_load(c2d, resp->dev, &d, NULL);
	if(!rc) rc = answer(&d, &it, resp);
	if(!rc) rc = pump(&d, false);
	if(!rc) rc = dev_save(&d);
	item_free(&it);
	return rc;
}

static void queue_on_online(struct c2d *c2d, const char *dev)
{
	struct qdev d;
	bool exists;
	int rc;

	rc = dev_load(c2d, dev, &d, &exists);
	if(!rc && exists) rc = pump(&d, true);
	if(!rc) rc = dev_save(&d);
	if(rc) c2d_log(C2D_LOG_WARN, "queue delivery to '%s' on connect failed (%d); its timeouts retry it", dev, rc);
}

/* A due entry whose item is gone or damaged: drop the entry (and a damaged
 * item, which can never be delivered) so that the sweep moves on. it: the
 * failed load (seq and history set). */
static int sweep_stale(struct qdev *d, uint64_t at, const struct qitem *it, bool damaged)
{
	int rc;

	rc = c2d_store_due_del(d->c2d->store, at, d->dev, item_key(it));
	if(rc && rc != C2D_ENOTFOUND) return rc;
	if(!damaged) return 0;
	c2d_log(C2D_LOG_ERR, "removing damaged queue item q%" PRIu64 "%s of '%s'", it->seq,
			it->history ? " (history)" : "", d->dev);
	rc = c2d_store_q_del(d->c2d->store, d->dev, item_key(it));
	if(rc && rc != C2D_ENOTFOUND) return rc;
	if(it->history) return 0;
	if(d->rec.queued > 0) d->rec.queued--;
	d->dirty = true;
	return dev_save(d);
}

/* One due entry (at, dev, key), at <= now: a live item's expiry or timeout,
 * or the end of a history record. */
static int sweep_one(struct c2d *c2d, uint64_t at, const char *dev, uint64_t key)
{
	bool history = (key & HISTORY_BIT) != 0;
	struct qdev d;
	struct qitem it;
	int rc;

	rc = c2d_txn(c2d);
	if(!rc) rc = dev_load(c2d, dev, &d, NULL);
	if(rc) return rc;
	rc = item_load(c2d, dev, key & ~HISTORY_BIT, history, &it);
	if(rc == C2D_ENOTFOUND || rc == C2D_EINVAL || (rc == 0 && it.r.due_ms != at)){
		it.seq = key & ~HISTORY_BIT; /* item_load may have left them unset */
		it.history = history;
		item_free(&it);
		return sweep_stale(&d, at, &it, rc == C2D_EINVAL);
	}
	if(rc == 0 && history){
		rc = item_forget(&d, &it);
		item_free(&it);
		return rc;
	}
	if(rc == 0){
		if(expired(c2d, &it)){
			rc = finish(&d, &it, C2D_QS_EXPIRED, NULL);
		}else if(!c2d_presence_online(c2d, dev)){
			it.r.due_ms = it.r.expires_ms; /* offline: only the lifetime runs */
			rc = item_save(&d, &it);
		}else{
			rc = timed_out(&d, &it);
		}
	}
	if(!rc) rc = pump(&d, false);
	if(!rc) rc = dev_save(&d);
	item_free(&it);
	return rc;
}

/* The budgeted sweep: the earliest due entries, at most SWEEP_BUDGET. TICK
 * fires thousands of times a second under load, so the sweep remembers when
 * the earliest deadline is (lowered by every new due entry) and does not read
 * the index before then; at most a second late if a commit failed. */
static void queue_on_tick(struct c2d *c2d)
{
	char dev[C2D_DEV_MAX + 1];
	uint64_t at = UINT64_MAX, key, start, slice;
	int n, rc = 0;

	if(c2d->wall_ms < c2d->queue_next_due_ms) return;
	slice = c2d->now_ms < c2d->busy_until_ms ? SWEEP_US_BUSY : SWEEP_US_IDLE;
	start = c2d_mono_us();
	for(n = 0; n < SWEEP_BUDGET; n++){
		rc = c2d_store_due_first(c2d->store, &at, dev, &key);
		if(rc || at > c2d->wall_ms) break;
		rc = sweep_one(c2d, at, dev, key);
		if(rc) break;
		if((n & 7) == 7 && c2d_mono_us() - start >= slice) n = SWEEP_BUDGET - 1; /* time is up */
	}
	if(rc == C2D_ENOTFOUND) at = UINT64_MAX;
	if(rc && rc != C2D_ENOTFOUND) at = 0; /* look again at the next tick */
	else if(n == SWEEP_BUDGET) at = 0;     /* more is due: go on at the next tick */
	c2d->queue_next_due_ms = at < c2d->wall_ms + 1000 ? at : c2d->wall_ms + 1000;
	if(rc && rc != C2D_ENOTFOUND){
		c2d_log(C2D_LOG_WARN, "queue sweep stopped (%d); it resumes at the next tick", rc);
	}
}

/* ---- administration (admin.c) ---- */

/* An operator's command id: "q<seq>" with seq a live key (history keys are
 * never ids; the largest seq is refused so that seq | HISTORY_BIT + 1 fits). */
static bool parse_qid(const char *id, uint64_t *seq)
{
	char letter;

	return id && c2d_deliver_parse_id(id, &letter, seq) == 0 && letter == C2D_QUEUE_LETTER
			&& *seq < HISTORY_BIT - 1;
}

/* Load the operator's command `id`, live or from history. it: filled, free
 * with item_free. Returns 0, C2D_ENOTFOUND, C2D_EINVAL with *why (not an id,
 * a damaged record) or a store error. */
static int op_load(struct c2d *c2d, const char *dev, const char *id, bool history, struct qitem *it,
		const char **why)
{
	uint64_t seq;
	int rc;

	memset(it, 0, sizeof(*it));
	if(!parse_qid(id, &seq)){
		*why = "invalid id";
		return C2D_EINVAL;
	}
	rc = item_load(c2d, dev, seq, history, it);
	if(rc == C2D_EINVAL) *why = "the command's record is damaged";
	return rc;
}

/* The device's queue keys in order, with history or without. */
struct collect {
	bool history;
	int rc;
	struct picks picks;
};

/* q_scan callback. */
static int collect_visit(void *ud, uint64_t key, const void *buf, size_t len)
{
	struct collect *c = ud;

	(void)buf;
	(void)len;
	if((key & HISTORY_BIT) && !c->history) return 1;
	c->rc = picks_push(&c->picks, key, 0);
	return c->rc != 0;
}

/* c->picks: filled, the caller frees c->picks.v (also on failure). */
static int collect(struct c2d *c2d, const char *dev, struct collect *c)
{
	int rc = c2d_store_q_scan(c2d->store, dev, 1, collect_visit, c);

	return rc ? rc : c->rc;
}

struct list_cmds {
	cJSON *arr;              /* borrowed, from data */
	bool history;
	size_t want, got;
	uint64_t last;           /* key of the last one listed */
	bool more;               /* there is more after it */
};

/* One listCommands entry; history ones with their outcome. */
static cJSON *command_json(uint64_t key, const struct c2d_qrec *r)
{
	cJSON *o = cJSON_CreateObject();
	char id[24];

	if(o == NULL) return NULL;
	c2d_deliver_id(C2D_QUEUE_LETTER, key & ~HISTORY_BIT, id, sizeof(id));
	cJSON_AddStringToObject(o, "id", id);
	cJSON_AddStringToObject(o, "kind", c2d_qrec_kind_name(r->kind));
	if(r->method) cJSON_AddStringToObject(o, "method", r->method);
	cJSON_AddStringToObject(o, "state", c2d_qrec_state_name(r->state));
	cJSON_AddNumberToObject(o, "deliveries", r->deliveries);
	if(r->kind == C2D_QK_RPC) cJSON_AddNumberToObject(o, "retriesLeft", r->retries_left);
	cJSON_AddNumberToObject(o, "createdMs", (double)r->created_ms);
	cJSON_AddNumberToObject(o, "expiresMs", (double)r->expires_ms);
	cJSON_AddNumberToObject(o, "payloadBytes", r->payload_len);
	if(key & HISTORY_BIT){
		cJSON_AddStringToObject(o, "finalState", c2d_qrec_state_name(r->state));
		cJSON_AddNumberToObject(o, "status", r->status);
		cJSON_AddNumberToObject(o, "finishedMs", (double)r->finished_ms);
	}
	return o;
}

/* q_scan callback. buf: borrowed for the call. */
static int list_visit(void *ud, uint64_t key, const void *buf, size_t len)
{
	struct list_cmds *lc = ud;
	struct c2d_qrec r;
	cJSON *o;

	if((key & HISTORY_BIT) && !lc->history) return 1;
	if(lc->got >= lc->want){
		lc->more = true;
		return 1;
	}
	if(c2d_qrec_decode(&r, buf, len)) return 0; /* damaged: the sweep removes it */
	o = command_json(key, &r);
	if(o == NULL) return 1;
	cJSON_AddItemToArray(lc->arr, o);
	lc->last = key;
	lc->got++;
	return 0;
}

int c2d_queue_list(struct c2d *c2d, const char *dev, const char *after, size_t count, bool history,
		cJSON *data, const char **why)
{
	struct list_cmds lc = {.history = history, .want = count};
	uint64_t seq, from = 1;
	char id[24];
	void *buf = NULL;
	int rc;

	if(after){
		if(!parse_qid(after, &seq)){
			*why = "invalid after";
			return C2D_EINVAL;
		}
		/* resume where that command is listed now: live, else in history */
		from = seq + 1;
		rc = c2d_store_q_get(c2d->store, dev, seq, &buf, NULL);
		free(buf);
		buf = NULL;
		if(rc == C2D_ENOTFOUND && history){
			rc = c2d_store_q_get(c2d->store, dev, seq | HISTORY_BIT, &buf, NULL);
			free(buf);
			if(rc == 0) from = (seq | HISTORY_BIT) + 1;
		}
		if(rc && rc != C2D_ENOTFOUND) return rc;
	}
	lc.arr = cJSON_AddArrayToObject(data, "commands");
	if(lc.arr == NULL) return C2D_ENOMEM;
	rc = c2d_store_q_scan(c2d->store, dev, from, list_visit, &lc);
	if(rc) return rc;
	if(lc.more){
		c2d_deliver_id(C2D_QUEUE_LETTER, lc.last & ~HISTORY_BIT, id, sizeof(id));
		cJSON_AddStringToObject(data, "next", id);
	}else{
		cJSON_AddNullToObject(data, "next");
	}
	return 0;
}

int c2d_queue_cancel(struct c2d *c2d, const char *dev, const char *id, cJSON *data, const char **why)
{
	struct qdev d;
	struct qitem it;
	int rc;

	rc = op_load(c2d, dev, id, false, &it, why);
	if(rc == C2D_ENOTFOUND){
		*why = "no such live command";
		rc = C2D_EINVAL;
	}
	if(!rc) rc = dev_load(c2d, dev, &d, NULL);
	if(!rc) rc = finish(&d, &it, C2D_QS_CANCELLED, NULL);
	if(!rc) rc = pump(&d, false);
	if(!rc) rc = dev_save(&d);
	if(!rc){
		cJSON_AddStringToObject(data, "id", id);
		cJSON_AddStringToObject(data, "state", c2d_qrec_state_name(C2D_QS_CANCELLED));
	}
	item_free(&it);
	return rc;
}

/* May an operator retry an item that ended in this state? */
static bool retryable(int state)
{
	return state == C2D_QS_TIMEOUT || state == C2D_QS_FAILED || state == C2D_QS_EXPIRED || state == C2D_QS_DEAD;
}

/* The history item goes back into the queue at its own seq, as it was
 * accepted: queued, no deliveries, its retries, its lifetime from now; its
 * dedup entry (kept in history) names it again. */
static int revive(struct qdev *d, struct qitem *it)
{
	struct c2d *c2d = d->c2d;
	int rc;

	rc = item_drop(d, it);
	if(rc) return rc;
	it->history = false;
	it->r.state = C2D_QS_QUEUED;
	it->r.deliveries = 0;
	it->r.retries_left = it->r.retries;
	it->r.status = 0;
	it->r.finished_ms = 0;
	it->r.expires_ms = c2d->wall_ms + (uint64_t)it->r.ttl_s * 1000;
	it->r.due_ms = it->r.expires_ms;
	it->state_stored = C2D_QS_QUEUED;
	d->rec.queued++;
	(*dev_counter(d, C2D_QDEV_ACCEPTED))++;
	rc = item_save(d, it);
	if(rc) return rc;
	c2d_log(C2D_LOG_INFO, "%s q%" PRIu64 " to '%s' retried by an operator", kind_of(it)->name, it->seq, d->dev);
	return item_event(d, it, "retried", queued_data(it));
}

int c2d_queue_retry(struct c2d *c2d, const char *dev, const char *id, cJSON *data, const char **why)
{
	struct qdev d;
	struct qitem it;
	int rc;

	rc = op_load(c2d, dev, id, false, &it, why);
	if(rc == 0){
		*why = "command is still live";
		rc = C2D_EINVAL;
	}else if(rc == C2D_ENOTFOUND){
		item_free(&it);
		rc = op_load(c2d, dev, id, true, &it, why);
		if(rc == C2D_ENOTFOUND){
			*why = "no such finished command";
			rc = C2D_EINVAL;
		}
	}
	if(!rc && !retryable(it.r.state)){
		*why = "only timeout, failed, expired or dead commands can be retried";
		rc = C2D_EINVAL;
	}
	if(!rc) rc = dev_load(c2d, dev, &d, NULL);
	if(!rc && d.rec.queued >= c2d->conf.msg_queue_max){
		*why = "queue full";
		rc = C2D_EINVAL;
	}
	if(!rc) rc = revive(&d, &it);
	if(!rc) rc = pump(&d, false);
	if(!rc) rc = dev_save(&d);
	if(!rc){
		cJSON_AddStringToObject(data, "id", id);
		cJSON_AddStringToObject(data, "state", c2d_qrec_state_name(C2D_QS_QUEUED));
		cJSON_AddNumberToObject(data, "expiresMs", (double)it.r.expires_ms);
	}
	item_free(&it);
	return rc;
}

/* End every live item of the device as purged. *n: how many. */
static int purge_all(struct qdev *d, uint64_t *n)
{
	struct collect c = {.history = false};
	struct qitem it;
	size_t i;
	int rc;

	*n = 0;
	rc = collect(d->c2d, d->dev, &c);
	for(i = 0; i < c.picks.n && !rc; i++){
		rc = item_load(d->c2d, d->dev, c.picks.v[i].key, false, &it);
		if(rc == 0){
			rc = finish(d, &it, C2D_QS_PURGED, NULL);
			if(!rc) (*n)++;
		}else if(rc == C2D_ENOTFOUND || rc == C2D_EINVAL){
			rc = 0; /* gone, or damaged (the sweep removes it) */
		}
		item_free(&it);
	}
	free(c.picks.v);
	return rc;
}

int c2d_queue_purge(struct c2d *c2d, const char *dev, cJSON *data)
{
	struct qdev d;
	uint64_t n = 0;
	int rc;

	rc = dev_load(c2d, dev, &d, NULL);
	if(!rc) rc = purge_all(&d, &n);
	if(!rc) rc = dev_save(&d);
	if(!rc) cJSON_AddNumberToObject(data, "purged", (double)n);
	return rc;
}

int c2d_queue_forget_device(struct c2d *c2d, const char *dev, uint64_t *purged, uint64_t *forgotten)
{
	struct collect c = {.history = true};
	struct qdev d;
	struct qitem it;
	size_t i;
	int rc;

	*forgotten = 0;
	rc = dev_load(c2d, dev, &d, NULL);
	if(rc) return rc;
	d.forget = true;
	rc = purge_all(&d, purged);
	if(!rc) rc = collect(c2d, dev, &c); /* what is left: history (and damaged items) */
	for(i = 0; i < c.picks.n && !rc; i++){
		if(!(c.picks.v[i].key & HISTORY_BIT)) continue; /* damaged: c2d_store_dev_del takes it */
		rc = item_load(c2d, dev, c.picks.v[i].key & ~HISTORY_BIT, true, &it);
		if(rc == 0){
			rc = item_forget(&d, &it);
			if(!rc) (*forgotten)++;
		}else if(rc == C2D_ENOTFOUND || rc == C2D_EINVAL){
			rc = 0; /* c2d_store_dev_del takes it; a due entry left is dropped by the sweep */
		}
		item_free(&it);
	}
	free(c.picks.v);
	/* d is not saved: the caller deletes the device record; its ids are
	 * never used again */
	if(!rc){
		struct c2d_idmark mark = {d.rec.next_seq ? d.rec.next_seq : 1, 0, 0};

		rc = c2d_txn(c2d);
		if(!rc) rc = c2d_store_idmark_raise(c2d->store, dev, &mark);
	}
	return rc;
}

const struct c2d_plane c2d_queue_plane = {
	.letter = C2D_QUEUE_LETTER,
	.name = "queue",
	.group_commit = true,
	.on_response = queue_on_response,
	.on_online = queue_on_online,
	.on_tick = queue_on_tick,
};
