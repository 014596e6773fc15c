/* libc2d-device: the memory of recent answers (a ring of at most `cap`
 * entries and `max_bytes` result bytes, oldest out first; the newest entry is
 * kept whatever its size) and the list of calls accepted with 202 that wait
 * for c2d_device_result(). An entry is found by delivery id and a hash and
 * length of the delivery's payload, so an id the platform uses again for
 * other content (after deleteDevice, a twin delete) runs its handler. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

uint64_t ring_hash(const void *p, size_t len)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ull;
	size_t i;

	for(i = 0; i < len; i++){
		h ^= s[i];
		h *= 1099511628211ull;
	}
	return h;
}

int ring_init(struct ring *r, int cap, size_t max_bytes)
{
	memset(r, 0, sizeof(*r));
	r->slot = calloc((size_t)cap, sizeof(*r->slot));
	if(r->slot == NULL) return C2D_DEVICE_ENOMEM;
	r->cap = cap;
	r->max_bytes = max_bytes;
	return 0;
}

void answer_free(struct answer *a)
{
	if(a == NULL) return;
	free(a->id);
	free(a->bytes);
	free(a);
}

/* Empties slot i (frees its id and bytes). */
static void clear_slot(struct ring *r, int i)
{
	struct answer *a = &r->slot[i];

	r->bytes -= a->len;
	free(a->id);
	free(a->bytes);
	memset(a, 0, sizeof(*a));
}

void ring_free(struct ring *r)
{
	struct answer *a, *next;
	int i;

	for(i = 0; r->slot && i < r->cap; i++){
		if(r->slot[i].id) clear_slot(r, i);
	}
	free(r->slot);
	for(a = r->accepted; a; a = next){
		next = a->next;
		answer_free(a);
	}
	memset(r, 0, sizeof(*r));
}

static bool same(const struct answer *a, const char *id, uint64_t hash, size_t plen)
{
	return a->id && a->hash == hash && a->plen == plen && strcmp(a->id, id) == 0;
}

struct answer *ring_find(struct ring *r, const char *id, uint64_t hash, size_t plen)
{
	struct answer *a;
	int i;

	for(i = 0; i < r->cap; i++){
		if(same(&r->slot[i], id, hash, plen)) return &r->slot[i];
	}
	for(a = r->accepted; a; a = a->next){
		if(same(a, id, hash, plen)) return a;
	}
	return NULL;
}

static int oldest(const struct ring *r)
{
	return (r->head - r->count + r->cap) % r->cap;
}

struct answer *ring_add(struct ring *r, const char *id, uint64_t hash, size_t plen, int status, void *bytes,
		size_t len)
{
	struct answer *a;
	char *idc = strdup(id);

	if(idc == NULL){
		free(bytes);
		return NULL;
	}
	if(r->count == r->cap){
		clear_slot(r, r->head);
		r->count--;
	}
	a = &r->slot[r->head];
	*a = (struct answer){.id = idc, .hash = hash, .plen = plen, .status = status, .bytes = bytes, .len = len};
	r->head = (r->head + 1) % r->cap;
	r->count++;
	r->bytes += len;
	while(r->bytes > r->max_bytes && r->count > 1){
		clear_slot(r, oldest(r));
		r->count--;
	}
	return a;
}

struct answer *ring_accept(struct ring *r, const char *id, uint64_t hash, size_t plen)
{
	struct answer *a = calloc(1, sizeof(*a));

	if(a == NULL || (a->id = strdup(id)) == NULL){
		free(a);
		return NULL;
	}
	a->hash = hash;
	a->plen = plen;
	a->status = 202;
	a->next = r->accepted;
	r->accepted = a;
	return a;
}

struct answer *ring_take_accepted(struct ring *r, const char *id)
{
	struct answer **p, *a;

	for(p = &r->accepted; *p; p = &(*p)->next){
		a = *p;
		if(strcmp(a->id, id) == 0){
			*p = a->next;
			a->next = NULL;
			return a;
		}
	}
	return NULL;
}

void ring_flush(struct c2d_device *d)
{
	struct ring *r = &d->ring;
	struct answer *a;
	int i;

	for(i = 0; i < r->count; i++){
		a = &r->slot[(oldest(r) + i) % r->cap];
		if(a->unsent && inbox_answer(d, a->id, a->status, a->bytes, a->len) == 0) a->unsent = false;
	}
}
