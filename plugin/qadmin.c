/* Administration of the queue, for admin.c: list a device's commands (live,
 * then history), cancel a live one, retry a finished one (revive), purge the
 * queue, and forget a deleted device's queue. Each goes through the state
 * machine's transitions (c2d_qitem_on), so it stores, announces and replies
 * like any other end of an item. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "queue_int.h"

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
	rc = c2d_qitem_load(c2d, dev, seq, history, it);
	if(rc == C2D_EINVAL) *why = "the command's record is damaged";
	return rc;
}

/* Carry out an operator's event (enum c2d_qevent) on the loaded item, then
 * pump and save the device. data: gets the command's {"id","state"} on
 * success; id: borrowed. */
static int op_apply(struct qdev *d, struct qitem *it, int event, const char *id, cJSON *data)
{
	int rc = c2d_qitem_on(d, it, event, NULL, NULL);

	if(!rc) rc = c2d_qpump(d, false);
	if(!rc) rc = c2d_qdev_save(d);
	if(!rc){
		cJSON_AddStringToObject(data, "id", id);
		cJSON_AddStringToObject(data, "state", c2d_qrec_state_name(it->r.state));
	}
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
	c->rc = c2d_qpicks_push(&c->picks, key, 0);
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
	if(!rc) rc = c2d_qdev_load(c2d, dev, &d, NULL);
	if(!rc) rc = op_apply(&d, &it, C2D_QE_CANCEL, id, data);
	c2d_qitem_free(&it);
	return rc;
}

int c2d_queue_cancel_queued(struct c2d *c2d, const char *dev, uint64_t seq, bool *cancelled)
{
	struct qdev d;
	struct qitem it;
	int rc;

	*cancelled = false;
	rc = c2d_qitem_load(c2d, dev, seq, false, &it);
	if(rc == C2D_ENOTFOUND || rc == C2D_EINVAL || (rc == 0 && it.r.state != C2D_QS_QUEUED)){
		c2d_qitem_free(&it);
		return 0; /* sent, finished or damaged: not ours to cancel */
	}
	if(!rc) rc = c2d_qdev_load(c2d, dev, &d, NULL);
	if(!rc) rc = c2d_qitem_on(&d, &it, C2D_QE_CANCEL, NULL, NULL);
	if(!rc) rc = c2d_qpump(&d, false);
	if(!rc) rc = c2d_qdev_save(&d);
	if(!rc) *cancelled = true;
	c2d_qitem_free(&it);
	return rc;
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
		c2d_qitem_free(&it);
		rc = op_load(c2d, dev, id, true, &it, why);
		if(rc == C2D_ENOTFOUND){
			*why = "no such finished command";
			rc = C2D_EINVAL;
		}
	}
	if(!rc && !c2d_qstate_revivable(it.r.state)){
		*why = "only timeout, failed, expired or dead commands can be retried";
		rc = C2D_EINVAL;
	}
	if(!rc) rc = c2d_qdev_load(c2d, dev, &d, NULL);
	if(!rc && d.rec.queued >= c2d->conf.msg_queue_max){
		*why = "queue full";
		rc = C2D_EINVAL;
	}
	if(!rc) rc = op_apply(&d, &it, C2D_QE_REVIVE, id, data);
	if(!rc) cJSON_AddNumberToObject(data, "expiresMs", (double)it.r.expires_ms);
	c2d_qitem_free(&it);
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
		rc = c2d_qitem_load(d->c2d, d->dev, c.picks.v[i].key, false, &it);
		if(rc == 0){
			rc = c2d_qitem_on(d, &it, C2D_QE_PURGE, NULL, NULL);
			if(!rc) (*n)++;
		}else if(rc == C2D_ENOTFOUND || rc == C2D_EINVAL){
			rc = 0; /* gone, or damaged (the sweep removes it) */
		}
		c2d_qitem_free(&it);
	}
	free(c.picks.v);
	return rc;
}

int c2d_queue_purge(struct c2d *c2d, const char *dev, cJSON *data)
{
	struct qdev d;
	uint64_t n = 0;
	int rc;

	rc = c2d_qdev_load(c2d, dev, &d, NULL);
	if(!rc) rc = purge_all(&d, &n);
	if(!rc) rc = c2d_qdev_save(&d);
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
	rc = c2d_qdev_load(c2d, dev, &d, NULL);
	if(rc) return rc;
	d.forget = true;
	rc = purge_all(&d, purged);
	if(!rc) rc = collect(c2d, dev, &c); /* what is left: history (and damaged items) */
	for(i = 0; i < c.picks.n && !rc; i++){
		if(!(c.picks.v[i].key & HISTORY_BIT)) continue; /* damaged: c2d_store_dev_del takes it */
		rc = c2d_qitem_load(c2d, dev, c.picks.v[i].key & ~HISTORY_BIT, true, &it);
		if(rc == 0){
			rc = c2d_qitem_forget(&d, &it);
			if(!rc) (*forgotten)++;
		}else if(rc == C2D_ENOTFOUND || rc == C2D_EINVAL){
			rc = 0; /* c2d_store_dev_del takes it; a due entry left is dropped by the sweep */
		}
		c2d_qitem_free(&it);
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
