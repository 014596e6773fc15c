/* One unit of work per broker event (see c2d_unit.h): the one owner of the
 * event's store transaction, the outbox mark and the answer batch.
 *
 * A unit begins when the broker calls the plugin and ends before the plugin
 * returns; its writes form one LMDB write transaction, opened lazily on the
 * first write (c2d_txn) and committed by c2d_unit_commit before anything it
 * announces leaves the outbox (c2d_unit_close), so a PUBACK or a reply never
 * announces what is not stored. Items inside a unit (one answer, one due
 * entry, one device's catch-up) run in nested transactions (c2d_item_begin /
 * c2d_item_end): a failing item is undone alone, writes and publishes.
 *
 * Group commit. An answer unit (C2D_UNIT_ANSWER: a device's out/res to a
 * plane that declares group_commit) leaves its transaction open; answers of
 * the same loop pass join it and the TICK unit, which Mosquitto runs at the
 * end of every pass, stores them all with the tick's own work. A request
 * (C2D_UNIT_REQUEST) that begins while the batch is open joins it too, as
 * long as it neither writes nor reads the store: a denied publish, a
 * lightweight RPC, a device call or its answer cost no commit (and no
 * fsync). The first write (c2d_txn, c2d_item_begin) or a read that needs a
 * consistent view (c2d_unit_view, route.c) stores the batch first, on its
 * own, so that the request's own failure cannot take the batch down and its
 * PUBACK still follows its own commit. A joined request that ends without
 * writing moves its publishes to the side list (they state no stored fact)
 * and leaves them for the tick's flush, so that a failed batch commit does
 * not drop them and nothing of the batch leaves before its commit. Any
 * other unit stores the batch first. A failed batch commit drops the
 * batch's publishes: the answered deliveries stay SENT in the store and are
 * delivered again.
 *
 * Publishes that state no stored fact go to the outbox's side list (the
 * callers say so: C2D_OUT_SIDE), which neither abort nor a failed commit
 * touches. */
#include "c2d.h"

static int commit(struct c2d *c2d, size_t mark);

/* A joined request needs its own transaction (or a consistent view): store
 * the batch first, on its own. */
static int split(struct c2d *c2d)
{
	struct c2d_unit *u = &c2d->unit;

	if(!u->joined) return 0;
	u->joined = false;
	return commit(c2d, u->mark);
}

int c2d_txn(struct c2d *c2d)
{
	int rc = split(c2d);

	if(rc) return rc;
	if(c2d_store_in_txn(c2d->store)) return 0;
	return c2d_store_begin(c2d->store);
}

int c2d_unit_view(struct c2d *c2d)
{
	return split(c2d);
}

static void run_hooks(struct c2d *c2d, bool committed)
{
	size_t i;

	for(i = 0; i < c2d->unit.hook_count; i++) c2d->unit.hooks[i](c2d, committed);
}

int c2d_unit_hook(struct c2d *c2d, void (*fn)(struct c2d *c2d, bool committed))
{
	struct c2d_unit *u = &c2d->unit;

	if(u->hook_count == sizeof(u->hooks) / sizeof(u->hooks[0])) return C2D_ENOMEM;
	u->hooks[u->hook_count++] = fn;
	return 0;
}

/* Commit the open transaction; on failure drop the outbox back to mark (or
 * the batch's start) and say that the batch was lost. */
static int commit(struct c2d *c2d, size_t mark)
{
	struct c2d_unit *u = &c2d->unit;
	int rc = 0;

	if(c2d_store_in_txn(c2d->store)){
		if(u->batch_open && u->batch_mark < mark) mark = u->batch_mark;
		rc = c2d_store_commit(c2d->store);
		if(rc == 0){
			c2d->counters[C2D_C_COMMITS]++;
		}else{
			c2d->counters[C2D_C_STORE_ERRORS]++;
			c2d_outbox_rollback(c2d, mark);
			if(u->batch_open){
				c2d_log(C2D_LOG_WARN, "%u device answer(s) were not stored; those deliveries will be repeated",
						u->batch_count);
			}
		}
	}
	u->batch_open = false;
	run_hooks(c2d, rc == 0);
	return rc;
}

void c2d_unit_begin(struct c2d *c2d, enum c2d_unit_kind kind)
{
	struct c2d_unit *u = &c2d->unit;

	c2d_clock_update(c2d);
	/* answers and the tick share the batch's transaction; a request joins
	 * it until it writes or needs a consistent view (split) */
	u->joined = u->batch_open && kind == C2D_UNIT_REQUEST;
	if(u->batch_open && kind != C2D_UNIT_ANSWER && kind != C2D_UNIT_TICK && !u->joined){
		commit(c2d, c2d_outbox_mark(c2d));
	}
	u->kind = kind;
	u->mark = c2d_outbox_mark(c2d);
}

int c2d_unit_commit(struct c2d *c2d)
{
	if(c2d->unit.joined) return 0; /* nothing of its own: the batch is the tick's */
	return commit(c2d, c2d->unit.mark);
}

void c2d_unit_abort(struct c2d *c2d)
{
	struct c2d_unit *u = &c2d->unit;
	size_t mark = u->mark;

	if(u->joined){
		/* it wrote nothing: only its own publishes go */
		c2d_outbox_rollback(c2d, mark);
		return;
	}
	if(u->batch_open){
		/* an answer's or the tick's own error takes the batch with it */
		if(u->batch_mark < mark) mark = u->batch_mark;
		c2d_log(C2D_LOG_WARN, "%u device answer(s) were not stored; those deliveries will be repeated",
				u->batch_count);
		u->batch_open = false;
	}
	c2d_store_abort(c2d->store);
	c2d_outbox_rollback(c2d, mark);
	run_hooks(c2d, false);
}

void c2d_unit_close(struct c2d *c2d, bool answered)
{
	struct c2d_unit *u = &c2d->unit;

	if(u->kind == C2D_UNIT_ANSWER && c2d_store_in_txn(c2d->store)){
		/* stored (and its publishes sent) by the next unit that commits */
		if(!u->batch_open){
			u->batch_open = true;
			u->batch_mark = u->mark;
			u->batch_count = 0;
		}
		if(answered) u->batch_count++;
		return;
	}
	if(u->joined){
		/* wrote nothing; the batch's publishes wait for its commit at the
		 * tick, this unit's leave with them, never rolled back */
		c2d_outbox_to_side(c2d, u->mark);
		u->joined = false;
		return;
	}
	if(u->kind == C2D_UNIT_ANSWER) run_hooks(c2d, true); /* nothing was written */
	c2d_outbox_flush(c2d);
}

int c2d_item_begin(struct c2d *c2d, size_t *mark)
{
	int rc = split(c2d);

	*mark = c2d_outbox_mark(c2d);
	if(rc) return rc;
	return c2d_store_nest_begin(c2d->store);
}

int c2d_item_end(struct c2d *c2d, size_t mark, int rc)
{
	if(rc == 0 && c2d_store_in_nest(c2d->store)) rc = c2d_store_nest_commit(c2d->store);
	if(rc){
		c2d_store_nest_abort(c2d->store);
		c2d_outbox_rollback(c2d, mark);
	}
	return rc;
}

bool c2d_transient(const struct c2d *c2d, int rc)
{
	return rc == C2D_EFULL || rc == C2D_ENOMEM || rc == C2D_ETXN || c2d_store_failed(c2d->store);
}
