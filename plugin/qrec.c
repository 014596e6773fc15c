/* Queue item records: encoding, checked decoding, state names. Pure (no
 * broker, no LMDB); the layout is described in c2d_qrec.h. */
#include <stdlib.h>
#include <string.h>

#include "c2d_err.h"
#include "c2d_qrec.h"

#define FIELD_COUNT 6

static const char *const state_names[C2D_QS__COUNT] = {
	[C2D_QS_QUEUED] = "queued",
	[C2D_QS_SENT] = "sent",
	[C2D_QS_DELIVERED] = "delivered",
	[C2D_QS_COMPLETED] = "completed",
	[C2D_QS_REJECTED] = "rejected",
	[C2D_QS_EXPIRED] = "expired",
	[C2D_QS_DEAD] = "dead",
	[C2D_QS_PURGED] = "purged",
	[C2D_QS_CANCELLED] = "cancelled",
	[C2D_QS_SUCCESSFUL] = "successful",
	[C2D_QS_TIMEOUT] = "timeout",
	[C2D_QS_FAILED] = "failed",
};

/* Which states each kind may be in (bit per state). */
#define BIT(s) (1u << (s))
#define LIVE (BIT(C2D_QS_QUEUED) | BIT(C2D_QS_SENT))
static const unsigned kind_states[C2D_QK__COUNT] = {
	[C2D_QK_MSG] = LIVE | BIT(C2D_QS_COMPLETED) | BIT(C2D_QS_REJECTED) | BIT(C2D_QS_EXPIRED)
			| BIT(C2D_QS_DEAD) | BIT(C2D_QS_PURGED) | BIT(C2D_QS_CANCELLED),
	[C2D_QK_RPC] = LIVE | BIT(C2D_QS_DELIVERED) | BIT(C2D_QS_SUCCESSFUL) | BIT(C2D_QS_TIMEOUT)
			| BIT(C2D_QS_EXPIRED) | BIT(C2D_QS_FAILED) | BIT(C2D_QS_PURGED) | BIT(C2D_QS_CANCELLED),
};

const char *c2d_qrec_state_name(int state)
{
	if(state < 0 || state >= C2D_QS__COUNT) return "?";
	return state_names[state];
}

const char *c2d_qrec_kind_name(int kind)
{
	switch(kind){
		case C2D_QK_MSG: return "msg";
		case C2D_QK_RPC: return "rpc";
		default: return "?";
	}
}

bool c2d_qrec_final(int state)
{
	return state >= C2D_QS_COMPLETED && state < C2D_QS__COUNT;
}

bool c2d_qrec_in_flight(int state)
{
	return state == C2D_QS_SENT || state == C2D_QS_DELIVERED;
}

bool c2d_qrec_state_valid(int kind, int state)
{
	if(kind < 0 || kind >= C2D_QK__COUNT || state < 0 || state >= C2D_QS__COUNT) return false;
	return (kind_states[kind] & BIT(state)) != 0;
}

/* ---- writing ---- */

static unsigned char *put_u32(unsigned char *p, uint32_t v)
{
	int i;

	for(i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i));
	return p + 4;
}

static unsigned char *put_u64(unsigned char *p, uint64_t v)
{
	int i;

	for(i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
	return p + 8;
}

/* The six fields of r as (pointer, stored length); texts include their NUL. */
struct field {
	const void *p;
	size_t len;
};

static void fields_of(const struct c2d_qrec *r, struct field f[FIELD_COUNT])
{
	const char *text[] = {r->sender, r->resp_topic, NULL, r->content_type, r->method};
	size_t i;

	for(i = 0; i < 5; i++){
		f[i].p = text[i];
		f[i].len = text[i] ? strlen(text[i]) + 1 : 0;
	}
	f[2].p = r->corr;
	f[2].len = r->corr ? r->corr_len : 0;
	f[5].p = r->payload;
	f[5].len = r->payload ? r->payload_len : 0;
}

/* The extension is written (version 2) only when it says something. */
static bool has_ext(const struct c2d_qrec *r)
{
	return r->retries || r->ttl_s || r->status || r->finished_ms;
}

int c2d_qrec_encode(const struct c2d_qrec *r, void **out, size_t *len)
{
	struct field f[FIELD_COUNT];
	unsigned char *buf, *p;
	bool ext = has_ext(r);
	size_t total = C2D_QREC_HEADER + (ext ? C2D_QREC_EXT : 0), i;

	*out = NULL;
	*len = 0;
	if(!c2d_qrec_state_valid(r->kind, r->state)) return C2D_EINVAL;
	if(r->corr_len > UINT16_MAX) return C2D_EINVAL;
	if(r->kind == C2D_QK_RPC && (r->method == NULL || r->method[0] == '\0')) return C2D_EINVAL;
	fields_of(r, f);
	for(i = 0; i < FIELD_COUNT; i++){
		if(f[i].len > UINT32_MAX || total > SIZE_MAX - 4 - f[i].len) return C2D_EINVAL;
		total += 4 + f[i].len;
	}
	buf = malloc(total);
	if(buf == NULL) return C2D_ENOMEM;
	p = buf;
	*p++ = ext ? C2D_QREC_VERSION_EXT : C2D_QREC_VERSION;
	*p++ = r->kind;
	*p++ = r->state;
	*p++ = 0;
	p = put_u32(p, r->deliveries);
	p = put_u32(p, r->retries_left);
	p = put_u32(p, r->timeout_ms);
	p = put_u64(p, r->created_ms);
	p = put_u64(p, r->expires_ms);
	p = put_u64(p, r->due_ms);
	if(ext){
		p = put_u32(p, r->retries);
		p = put_u32(p, r->ttl_s);
		p = put_u32(p, r->status);
		p = put_u64(p, r->finished_ms);
	}
	for(i = 0; i < FIELD_COUNT; i++){
		p = put_u32(p, (uint32_t)f[i].len);
		if(f[i].len) memcpy(p, f[i].p, f[i].len);
		p += f[i].len;
	}
	*out = buf;
	*len = total;
	return 0;
}

/* ---- reading: a cursor that never passes its end ---- */

struct cur {
	const unsigned char *p;
	size_t left;
	bool bad;
};

static const unsigned char *take(struct cur *c, size_t n)
{
	const unsigned char *p = c->p;

	if(c->bad || n > c->left){
		c->bad = true;
		return NULL;
	}
	c->p += n;
	c->left -= n;
	return p;
}

static uint64_t get_le(struct cur *c, size_t n)
{
	const unsigned char *p = take(c, n);
	uint64_t v = 0;
	size_t i;

	if(p == NULL) return 0;
	for(i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* A length-prefixed field: bytes (NULL when empty). */
static const void *get_field(struct cur *c, uint32_t *len)
{
	*len = (uint32_t)get_le(c, 4);
	if(*len == 0) return NULL;
	return take(c, *len);
}

/* A text field: empty, or NUL-terminated with no NUL inside. */
static const char *get_text(struct cur *c)
{
	uint32_t len;
	const char *s = get_field(c, &len);

	if(s && (s[len - 1] != '\0' || memchr(s, '\0', len - 1) != NULL)) c->bad = true;
	return s;
}

int c2d_qrec_decode(struct c2d_qrec *r, const void *buf, size_t len)
{
	struct cur c = {buf, len, buf == NULL};
	uint32_t version, reserved;

	memset(r, 0, sizeof(*r));
	version = (uint32_t)get_le(&c, 1);
	r->kind = (uint8_t)get_le(&c, 1);
	r->state = (uint8_t)get_le(&c, 1);
	reserved = (uint32_t)get_le(&c, 1);
	r->deliveries = (uint32_t)get_le(&c, 4);
	r->retries_left = (uint32_t)get_le(&c, 4);
	r->timeout_ms = (uint32_t)get_le(&c, 4);
	r->created_ms = get_le(&c, 8);
	r->expires_ms = get_le(&c, 8);
	r->due_ms = get_le(&c, 8);
	if(version == C2D_QREC_VERSION_EXT){
		r->retries = (uint32_t)get_le(&c, 4);
		r->ttl_s = (uint32_t)get_le(&c, 4);
		r->status = (uint32_t)get_le(&c, 4);
		r->finished_ms = get_le(&c, 8);
		if(!has_ext(r)) c.bad = true; /* not canonical: that is version 1 */
	}
	r->sender = get_text(&c);
	r->resp_topic = get_text(&c);
	r->corr = get_field(&c, &r->corr_len);
	r->content_type = get_text(&c);
	r->method = get_text(&c);
	r->payload = get_field(&c, &r->payload_len);
	if(c.bad || c.left != 0 || (version != C2D_QREC_VERSION && version != C2D_QREC_VERSION_EXT) || reserved != 0
			|| r->corr_len > UINT16_MAX || !c2d_qrec_state_valid(r->kind, r->state)
			|| (r->kind == C2D_QK_RPC && (r->method == NULL || r->method[0] == '\0'))){
		memset(r, 0, sizeof(*r));
		return C2D_EINVAL;
	}
	return 0;
}
