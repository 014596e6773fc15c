/* Queue item records: encoding, checked decoding, state names. Pure (no
 * broker, no LMDB); the layout is described in c2d_qrec.h. */
#include <stdlib.h>
#include <string.h>

#include "c2d_err.h"
#include "c2d_qrec.h"
#include "c2d_rec.h"

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

static bool encodable(const struct c2d_qrec *r)
{
	return c2d_qrec_state_valid(r->kind, r->state) && r->corr_len <= UINT16_MAX
			&& (r->kind != C2D_QK_RPC || (r->method && r->method[0]));
}

static void write_rec(struct c2d_rec_w *w, const struct c2d_qrec *r)
{
	c2d_rec_put_u8(w, C2D_QREC_VERSION);
	c2d_rec_put_u8(w, r->kind);
	c2d_rec_put_u8(w, r->state);
	c2d_rec_put_u8(w, 0);
	c2d_rec_put_u32(w, r->deliveries);
	c2d_rec_put_u32(w, r->retries_left);
	c2d_rec_put_u32(w, r->timeout_ms);
	c2d_rec_put_u64(w, r->created_ms);
	c2d_rec_put_u64(w, r->expires_ms);
	c2d_rec_put_u64(w, r->due_ms);
	c2d_rec_put_u32(w, r->retries);
	c2d_rec_put_u32(w, r->ttl_s);
	c2d_rec_put_u32(w, r->status);
	c2d_rec_put_u64(w, r->finished_ms);
	c2d_rec_put_u32(w, r->payload_len);
	c2d_rec_put_text(w, r->sender);
	c2d_rec_put_text(w, r->resp_topic);
	c2d_rec_put_bytes(w, r->corr, r->corr ? r->corr_len : 0);
	c2d_rec_put_text(w, r->content_type);
	c2d_rec_put_text(w, r->method);
}

int c2d_qrec_encode(const struct c2d_qrec *r, void **out, size_t *len)
{
	struct c2d_rec_w w;
	size_t total;
	void *buf;

	*out = NULL;
	*len = 0;
	if(!encodable(r)) return C2D_EINVAL;
	c2d_rec_w_init(&w, NULL, 0);
	write_rec(&w, r);
	if(!c2d_rec_w_ok(&w, &total)) return C2D_EINVAL;
	buf = malloc(total);
	if(buf == NULL) return C2D_ENOMEM;
	c2d_rec_w_init(&w, buf, total);
	write_rec(&w, r);
	*out = buf;
	*len = total;
	return 0;
}

/* ---- reading ---- */

static void read_head(struct c2d_rec_r *c, struct c2d_qrec *r, uint8_t *reserved)
{
	r->kind = c2d_rec_get_u8(c);
	r->state = c2d_rec_get_u8(c);
	*reserved = c2d_rec_get_u8(c);
	r->deliveries = c2d_rec_get_u32(c);
	r->retries_left = c2d_rec_get_u32(c);
	r->timeout_ms = c2d_rec_get_u32(c);
	r->created_ms = c2d_rec_get_u64(c);
	r->expires_ms = c2d_rec_get_u64(c);
	r->due_ms = c2d_rec_get_u64(c);
}

static void read_ext(struct c2d_rec_r *c, struct c2d_qrec *r)
{
	r->retries = c2d_rec_get_u32(c);
	r->ttl_s = c2d_rec_get_u32(c);
	r->status = c2d_rec_get_u32(c);
	r->finished_ms = c2d_rec_get_u64(c);
}

static void read_fields(struct c2d_rec_r *c, struct c2d_qrec *r)
{
	r->sender = c2d_rec_get_text(c);
	r->resp_topic = c2d_rec_get_text(c);
	r->corr = c2d_rec_get_bytes(c, &r->corr_len);
	r->content_type = c2d_rec_get_text(c);
	r->method = c2d_rec_get_text(c);
}

/* The checks every decoded record passes; zeroes *r when it does not. */
static int checked(struct c2d_qrec *r, const struct c2d_rec_r *c, uint8_t reserved)
{
	if(!c2d_rec_r_done(c) || reserved != 0 || !encodable(r)){
		memset(r, 0, sizeof(*r));
		return C2D_EINVAL;
	}
	return 0;
}

int c2d_qrec_decode(struct c2d_qrec *r, const void *buf, size_t len)
{
	struct c2d_rec_r c;
	uint8_t reserved;

	memset(r, 0, sizeof(*r));
	c2d_rec_r_init(&c, buf, len);
	if(c2d_rec_get_u8(&c) != C2D_QREC_VERSION) c2d_rec_r_fail(&c);
	read_head(&c, r, &reserved);
	read_ext(&c, r);
	r->payload_len = c2d_rec_get_u32(&c);
	read_fields(&c, r);
	return checked(r, &c, reserved);
}

/* Schema 1.x: version 2 carried the extension only when it was not all 0. */
static bool has_ext(const struct c2d_qrec *r)
{
	return r->retries || r->ttl_s || r->status || r->finished_ms;
}

int c2d_qrec_decode_old(struct c2d_qrec *r, const void *buf, size_t len)
{
	struct c2d_rec_r c;
	uint8_t version, reserved;

	memset(r, 0, sizeof(*r));
	c2d_rec_r_init(&c, buf, len);
	version = c2d_rec_get_u8(&c);
	read_head(&c, r, &reserved);
	if(version == C2D_QREC_OLD_V2){
		read_ext(&c, r);
		if(!has_ext(r)) c2d_rec_r_fail(&c);
	}else if(version != C2D_QREC_OLD_V1){
		c2d_rec_r_fail(&c);
	}
	read_fields(&c, r);
	r->payload = c2d_rec_get_bytes(&c, &r->payload_len);
	return checked(r, &c, reserved);
}
