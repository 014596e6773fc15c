/* One unit of work per broker event (unit.c). The unit module owns the
 * event's store write transaction, the outbox mark, the group-commit batch
 * of device answers and the hooks that learn whether a commit held: nothing
 * else commits or aborts a transaction.
 *
 * Every entry point (MESSAGE, TICK, DISCONNECT, CONTROL, BASIC_AUTH, and
 * cleanup) does the same:
 *
 *   c2d_unit_begin(c2d, kind);      clocks read, the answer batch stored
 *                                   first unless this event joins it
 *   ... handlers: c2d_txn() opens the transaction lazily, c2d_item_begin /
 *       c2d_item_end isolate one item in a nested transaction, publishes
 *       go to the outbox ...
 *   rc = c2d_unit_commit(c2d);      or c2d_unit_abort(c2d) on an error
 *   c2d_unit_close(c2d);            the outbox leaves (an answer unit keeps
 *                                   its transaction open: C2D_UNIT_ANSWER)
 */
#ifndef C2D_UNIT_H
#define C2D_UNIT_H

#include <stdbool.h>
#include <stddef.h>

struct c2d;

enum c2d_unit_kind {
	C2D_UNIT_REQUEST,    /* a client's publish on a $c2d topic */
	C2D_UNIT_ANSWER,     /* a device's answer that may be group-committed */
	C2D_UNIT_TICK,       /* the end of the broker's loop pass: stores the batch */
	C2D_UNIT_DISCONNECT,
	C2D_UNIT_CONTROL,    /* $CONTROL/c2d/v1 */
	C2D_UNIT_AUTH,       /* BASIC_AUTH: no store writes */
	C2D_UNIT_CLEANUP,    /* plugin cleanup: stores what is open */
};

/* The unit's state (in struct c2d). */
struct c2d_unit {
	enum c2d_unit_kind kind;
	size_t mark;                 /* outbox entries before the unit's own */
	/* Group commit: device answers leave their writes in the open
	 * transaction; the next TICK (the end of the broker's loop pass) or the
	 * next unit that does not join the batch stores them all at once, then
	 * their publishes leave (the broker sends plugin publishes only in its
	 * next pass anyway). */
	bool batch_open;
	size_t batch_mark;           /* outbox mark before the batch's first answer */
	unsigned batch_count;        /* answers in the batch */
	/* A request that began while the batch was open and has neither
	 * written nor asked for a consistent view: it commits nothing. */
	bool joined;
	void (*hooks[4])(struct c2d *c2d, bool committed);
	size_t hook_count;
};

void c2d_unit_begin(struct c2d *c2d, enum c2d_unit_kind kind);
/* A request about to read the store: a joined request stores the batch
 * first (its reads and replies then see only committed state). 0 or the
 * batch commit's error. */
int c2d_unit_view(struct c2d *c2d);
/* Commit what the unit wrote (and the batch it shares). On failure the
 * transaction's publishes are dropped from the outbox (an open batch's too:
 * logged, its deliveries are repeated) and the error returned (C2D_EFULL,
 * C2D_ESTORE ...). Hooks learn the outcome. 0 when nothing was open. */
int c2d_unit_commit(struct c2d *c2d);
/* Undo what the unit wrote: the transaction is aborted and the unit's
 * publishes are dropped (the side list stays). */
void c2d_unit_abort(struct c2d *c2d);
/* End the unit: flush the outbox. An answer unit (C2D_UNIT_ANSWER) instead
 * keeps its writes in the batch (answered: it counts) and sends nothing; a
 * joined request (no writes) moves its publishes to the side list, which
 * the tick flushes after storing the batch. */
void c2d_unit_close(struct c2d *c2d, bool answered);
/* Call fn after every commit or abort of a transaction (committed: it
 * held). At most 4 hooks; registered at init. 0 or C2D_ENOMEM. */
int c2d_unit_hook(struct c2d *c2d, void (*fn)(struct c2d *c2d, bool committed));

#endif
