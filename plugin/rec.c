/* Record codec: explicit little-endian fields, big-endian key numbers,
 * length-prefixed bytes, checked reading. Pure; layout in c2d_rec.h. */
#include <string.h>

#include "c2d_rec.h"

void c2d_rec_w_init(struct c2d_rec_w *w, void *buf, size_t cap)
{
	w->buf = buf;
	w->cap = buf ? cap : 0;
	w->len = 0;
	w->bad = false;
}

/* Room for n more bytes at w->buf + w->len, or NULL (measuring, or full:
 * then bad). The length grows either way while measuring. */
static unsigned char *room(struct c2d_rec_w *w, size_t n)
{
	unsigned char *p;

	if(w->bad) return NULL;
	if(w->buf == NULL){
		if(n > SIZE_MAX - w->len) w->bad = true;
		else w->len += n;
		return NULL;
	}
	if(n > w->cap - w->len){
		w->bad = true;
		return NULL;
	}
	p = w->buf + w->len;
	w->len += n;
	return p;
}

static void put_le(struct c2d_rec_w *w, uint64_t v, size_t n)
{
	unsigned char *p = room(w, n);
	size_t i;

	if(p) for(i = 0; i < n; i++) p[i] = (unsigned char)(v >> (8 * i));
}

void c2d_rec_put_u8(struct c2d_rec_w *w, uint8_t v)
{
	put_le(w, v, 1);
}

void c2d_rec_put_u32(struct c2d_rec_w *w, uint32_t v)
{
	put_le(w, v, 4);
}

void c2d_rec_put_u64(struct c2d_rec_w *w, uint64_t v)
{
	put_le(w, v, 8);
}

void c2d_rec_put_be64(struct c2d_rec_w *w, uint64_t v)
{
	unsigned char *p = room(w, 8);
	int i;

	if(p) for(i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * (7 - i)));
}

void c2d_rec_put_bytes(struct c2d_rec_w *w, const void *p, size_t n)
{
	unsigned char *to;

	if(n > UINT32_MAX || (p == NULL && n)){
		w->bad = true;
		return;
	}
	put_le(w, (uint32_t)n, 4);
	to = room(w, n);
	if(to && n) memcpy(to, p, n);
}

void c2d_rec_put_text(struct c2d_rec_w *w, const char *s)
{
	c2d_rec_put_bytes(w, s, s ? strlen(s) + 1 : 0);
}

bool c2d_rec_w_ok(const struct c2d_rec_w *w, size_t *len)
{
	if(len) *len = w->len;
	return !w->bad;
}

void c2d_rec_r_init(struct c2d_rec_r *r, const void *buf, size_t len)
{
	r->p = buf;
	r->left = buf ? len : 0;
	r->bad = buf == NULL;
}

static const unsigned char *take(struct c2d_rec_r *r, size_t n)
{
	const unsigned char *p = r->p;

	if(r->bad || n > r->left){
		r->bad = true;
		return NULL;
	}
	r->p += n;
	r->left -= n;
	return p;
}

static uint64_t get_le(struct c2d_rec_r *r, size_t n)
{
	const unsigned char *p = take(r, n);
	uint64_t v = 0;
	size_t i;

	if(p) for(i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
	return v;
}

uint8_t c2d_rec_get_u8(struct c2d_rec_r *r)
{
	return (uint8_t)get_le(r, 1);
}

uint32_t c2d_rec_get_u32(struct c2d_rec_r *r)
{
	return (uint32_t)get_le(r, 4);
}

uint64_t c2d_rec_get_u64(struct c2d_rec_r *r)
{
	return get_le(r, 8);
}

uint64_t c2d_rec_get_be64(struct c2d_rec_r *r)
{
	const unsigned char *p = take(r, 8);
	uint64_t v = 0;
	int i;

	if(p) for(i = 0; i < 8; i++) v = (v << 8) | p[i];
	return v;
}

const void *c2d_rec_get_bytes(struct c2d_rec_r *r, uint32_t *len)
{
	const void *p;

	*len = c2d_rec_get_u32(r);
	if(*len == 0) return NULL;
	p = take(r, *len);
	if(p == NULL) *len = 0;
	return p;
}

const char *c2d_rec_get_text(struct c2d_rec_r *r)
{
	uint32_t len;
	const char *s = c2d_rec_get_bytes(r, &len);

	if(s && (s[len - 1] != '\0' || memchr(s, '\0', len - 1) != NULL)){
		r->bad = true;
		return NULL;
	}
	return s;
}

void c2d_rec_r_fail(struct c2d_rec_r *r)
{
	r->bad = true;
}

bool c2d_rec_r_done(const struct c2d_rec_r *r)
{
	return !r->bad && r->left == 0;
}
