/* In-memory requests waiting for an answer (see c2d_pending.h). Timers run on
 * the plugin's private libuv loop, which TICK advances. An entry is freed at
 * once when it is done; its timer is stopped and kept for the next entry
 * (a closed one is freed in its close callback, as libuv requires). */
#include <stdlib.h>
#include <string.h>

#include <utlist.h>

#include "c2d_pending.h"

struct c2d_pending_dev {
	char dev[C2D_DEV_MAX + 1];   /* key */
	unsigned count;
	struct c2d_pending *list;    /* its entries (utlist, borrowed from items) */
	UT_hash_handle hh;
};

void c2d_pending_init(struct c2d_pending_table *t, struct c2d *c2d,
		void (*on_timeout)(struct c2d *c2d, struct c2d_pending *p))
{
	memset(t, 0, sizeof(*t));
	t->c2d = c2d;
	t->on_timeout = on_timeout;
	/* Ids must not repeat across broker restarts: an answer to a call made
	 * before a restart must not reach a new requester. Start each run at the
	 * boot time in ms times 1000 (room for 1000 ids per ms between restarts). */
	t->next_id = c2d->boot_ms * 1000 + 1;
}

/* A stopped timer kept open for the next entry: a closed one would cost a
 * libuv close pass and an allocation per request. */
struct c2d_pending_timer {
	uv_timer_t timer;
	struct c2d_pending *p;          /* the entry it runs for, NULL while spare */
	struct c2d_pending_timer *next; /* the spare list */
};

/* Link p into its device's entry, creating it (or taking the spare one).
 * 0 or C2D_ENOMEM. */
static int dev_link(struct c2d_pending_table *t, struct c2d_pending *p)
{
	struct c2d_pending_dev *d = NULL;

	HASH_FIND_STR(t->devs, p->dev, d);
	if(d == NULL){
		if(t->spare_dev){
			d = t->spare_dev;
			t->spare_dev = NULL;
			memset(d, 0, sizeof(*d));
		}else{
			d = calloc(1, sizeof(*d));
			if(d == NULL) return C2D_ENOMEM;
		}
		strcpy(d->dev, p->dev); /* c2d_pending_add checked its length */
		HASH_ADD_STR(t->devs, dev, d);
	}
	DL_APPEND(d->list, p);
	d->count++;
	p->devent = d;
	return 0;
}

static void dev_unlink(struct c2d_pending_table *t, struct c2d_pending *p)
{
	struct c2d_pending_dev *d = p->devent;

	DL_DELETE(d->list, p);
	p->devent = NULL;
	if(--d->count == 0){
		HASH_DEL(t->devs, d);
		if(t->spare_dev == NULL){
			t->spare_dev = d;
		}else{
			free(d);
		}
	}
}

unsigned c2d_pending_count(struct c2d_pending_table *t, const char *dev)
{
	struct c2d_pending_dev *d = NULL;

	HASH_FIND_STR(t->devs, dev, d);
	return d ? d->count : 0;
}

static void timer_closed(uv_handle_t *h)
{
	free(h->data);
}

static void timer_close(struct c2d_pending_timer *tm)
{
	tm->timer.data = tm;
	uv_close((uv_handle_t *)&tm->timer, timer_closed);
}

static void on_timer(uv_timer_t *timer);

/* A timer for p, started: a spare one, else a new one. 0 or C2D_ENOMEM. */
static int timer_take(struct c2d_pending_table *t, struct c2d_pending *p, uint32_t timeout_ms)
{
	struct c2d_pending_timer *tm = t->spare;

	if(tm){
		t->spare = tm->next;
		t->spare_count--;
	}else{
		tm = malloc(sizeof(*tm));
		if(tm == NULL) return C2D_ENOMEM;
		uv_timer_init(&t->c2d->loop, &tm->timer);
	}
	tm->p = p;
	tm->next = NULL;
	tm->timer.data = tm;
	p->tm = tm;
	uv_timer_start(&tm->timer, on_timer, timeout_ms, 0);
	return 0;
}

/* p's timer stopped and kept for reuse (closed beyond C2D_PENDING_SPARE). */
static void timer_give(struct c2d_pending_table *t, struct c2d_pending *p)
{
	struct c2d_pending_timer *tm = p->tm;

	p->tm = NULL;
	uv_timer_stop(&tm->timer);
	tm->p = NULL;
	if(t->spare_count >= C2D_PENDING_SPARE){
		timer_close(tm);
		return;
	}
	tm->next = t->spare;
	t->spare = tm;
	t->spare_count++;
}

void c2d_pending_done(struct c2d_pending *p)
{
	struct c2d_pending_table *t = p->table;

	HASH_DEL(t->items, p);
	dev_unlink(t, p);
	timer_give(t, p);
	free(p); /* one block with its strings */
}

static void on_timer(uv_timer_t *timer)
{
	struct c2d_pending_timer *tm = timer->data;
	struct c2d_pending *p = tm->p;
	struct c2d_pending_table *t = p->table;

	t->on_timeout(t->c2d, p);
	c2d_pending_done(p);
}

/* Copy len bytes of src (may be NULL) to *at, NUL-terminated; NULL when src is. */
static char *put(char **at, const void *src, size_t len)
{
	char *dst = *at;

	if(src == NULL) return NULL;
	memcpy(dst, src, len);
	dst[len] = '\0';
	*at += len + 1;
	return dst;
}

static size_t len_or_0(const char *s)
{
	return s ? strlen(s) : 0;
}

struct c2d_pending *c2d_pending_add(struct c2d_pending_table *t, const char *dev,
		const char *requester, const char *reply_topic, const void *corr, uint16_t corr_len,
		const char *note, uint32_t timeout_ms)
{
	size_t lr = len_or_0(requester), lt = len_or_0(reply_topic), ln = len_or_0(note);
	struct c2d_pending *p;
	char *at;

	if(strlen(dev) > C2D_DEV_MAX) return NULL;
	/* one allocation: the entry, then its strings and correlation data */
	p = calloc(1, sizeof(*p) + lr + lt + ln + corr_len + 4);
	if(p == NULL) return NULL;
	strcpy(p->dev, dev);
	at = p->data;
	p->requester = put(&at, requester, lr);
	p->reply_topic = put(&at, reply_topic, lt);
	p->note = put(&at, note, ln);
	if(corr && corr_len){
		p->corr = put(&at, corr, corr_len);
		p->corr_len = corr_len;
	}
	if(dev_link(t, p)){
		free(p);
		return NULL;
	}
	p->id = t->next_id++;
	p->table = t;
	p->started_ms = t->c2d->now_ms;
	if(timer_take(t, p, timeout_ms)){
		dev_unlink(t, p);
		free(p);
		return NULL;
	}
	HASH_ADD(hh, t->items, id, sizeof(p->id), p);
	return p;
}

struct c2d_pending *c2d_pending_find(struct c2d_pending_table *t, uint64_t id)
{
	struct c2d_pending *p = NULL;

	HASH_FIND(hh, t->items, &id, sizeof(id), p);
	return p;
}

void c2d_pending_each_dev(struct c2d_pending_table *t, const char *dev,
		void (*cb)(struct c2d *c2d, struct c2d_pending *p))
{
	struct c2d_pending_dev *d = NULL;
	struct c2d_pending *p, *tmp;
	unsigned left;

	HASH_FIND_STR(t->devs, dev, d);
	if(d == NULL) return;
	/* cb may free p and, with the last entry, d itself: count down instead
	 * of reading d after the last call. */
	left = d->count;
	DL_FOREACH_SAFE(d->list, p, tmp){
		cb(t->c2d, p);
		if(--left == 0) break;
	}
}

void c2d_pending_clear(struct c2d_pending_table *t)
{
	struct c2d_pending *p, *tmp;

	struct c2d_pending_timer *tm;

	HASH_ITER(hh, t->items, p, tmp){
		c2d_pending_done(p);
	}
	/* the loop runs the close callbacks (c2d_tick_cleanup) */
	while((tm = t->spare) != NULL){
		t->spare = tm->next;
		timer_close(tm);
	}
	t->spare_count = 0;
	free(t->spare_dev);
	t->spare_dev = NULL;
}
