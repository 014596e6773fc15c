/* Fuzz target: queue item records (plugin/qrec.c).
 *
 * 1. The input as a stored record: decoding must never read outside it
 *    (libFuzzer's buffer is exactly `size` bytes, so ASan sees any over-read).
 *    When it decodes, encoding the record gives the same bytes back (the
 *    encoding is canonical) and decoding those gives an equal record.
 * 2. The input as the values of a record (kind, state, counters, the
 *    history fields, texts, correlation data, payload size): encode must accept exactly the records the
 *    header allows, and encode -> decode must give the record back (the
 *    payload's size, never its bytes: they are stored apart).
 * 3. The input as a schema 1.x record (c2d_qrec_decode_old): never a read
 *    outside it; when it decodes, its payload lies inside the input. */
#include <stdbool.h>

#include "c2d_err.h"
#include "c2d_qrec.h"
#include "fuzz.h"

static bool text_eq(const char *a, const char *b)
{
	if(a == NULL || b == NULL) return a == b;
	return strcmp(a, b) == 0;
}

/* Byte fields: (NULL, 0) and (p, 0) are both "absent". */
static bool bytes_eq(const void *a, uint32_t alen, const void *b, uint32_t blen)
{
	if(alen != blen) return false;
	if(alen == 0) return true;
	return a && b && memcmp(a, b, alen) == 0;
}

static void assert_same(const struct c2d_qrec *a, const struct c2d_qrec *b)
{
	FUZZ_ASSERT(a->kind == b->kind && a->state == b->state);
	FUZZ_ASSERT(a->deliveries == b->deliveries && a->retries_left == b->retries_left);
	FUZZ_ASSERT(a->timeout_ms == b->timeout_ms && a->created_ms == b->created_ms);
	FUZZ_ASSERT(a->expires_ms == b->expires_ms && a->due_ms == b->due_ms);
	FUZZ_ASSERT(text_eq(a->sender, b->sender) && text_eq(a->resp_topic, b->resp_topic));
	FUZZ_ASSERT(text_eq(a->content_type, b->content_type) && text_eq(a->method, b->method));
	FUZZ_ASSERT(bytes_eq(a->corr, a->corr_len, b->corr, b->corr_len));
	FUZZ_ASSERT(a->payload_len == b->payload_len);
	FUZZ_ASSERT(a->retries == b->retries && a->ttl_s == b->ttl_s);
	FUZZ_ASSERT(a->status == b->status && a->finished_ms == b->finished_ms);
}

/* encode r, decode the result from an exact-size buffer, compare. */
static void roundtrip(const struct c2d_qrec *r, const void *orig, size_t orig_len)
{
	struct c2d_qrec back;
	void *buf = NULL;
	size_t len = 0;

	FUZZ_ASSERT(c2d_qrec_encode(r, &buf, &len) == 0);
	FUZZ_ASSERT(buf != NULL && len >= C2D_QREC_HEADER);
	FUZZ_ASSERT(((const uint8_t *)buf)[0] == C2D_QREC_VERSION);
	if(orig){
		FUZZ_ASSERT(len == orig_len && memcmp(buf, orig, len) == 0);
	}
	FUZZ_ASSERT(c2d_qrec_decode(&back, buf, len) == 0);
	assert_same(r, &back);
	free(buf);
}

/* ---- 2: a record from the input's bytes ---- */

struct src {
	const uint8_t *p;
	size_t left;
};

static uint64_t take(struct src *s, size_t n)
{
	uint64_t v = 0;
	size_t i;

	for(i = 0; i < n && s->left; i++, s->p++, s->left--) v |= (uint64_t)*s->p << (8 * i);
	return v;
}

/* A text: one length byte (0xFF = absent), then that many bytes, cut at a
 * NUL. Heap copy, caller frees; NULL when absent. */
static char *take_text(struct src *s)
{
	size_t n = (size_t)take(s, 1), i;
	char *t;

	if(n == 0xFF) return NULL;
	if(n > s->left) n = s->left;
	t = malloc(n + 1);
	FUZZ_ASSERT(t != NULL);
	for(i = 0; i < n; i++) t[i] = (char)take(s, 1);
	t[n] = '\0';
	return t;
}

/* Bytes: a u32 length (mostly small), filled from the input cyclically so
 * that lengths over 65535 can be tried cheaply. Heap, caller frees. */
static void *take_bytes(struct src *s, uint32_t *len)
{
	uint32_t n = (uint32_t)take(s, 4);
	uint8_t *b;
	uint32_t i;

	if(n & 0x80000000u){
		n = 65530 + (n & 15); /* around the 65535 bound */
	}else{
		n &= 0xFF;
	}
	*len = n;
	if(n == 0) return NULL;
	b = malloc(n);
	FUZZ_ASSERT(b != NULL);
	for(i = 0; i < n; i++) b[i] = s->left ? (uint8_t)take(s, 1) : (uint8_t)i;
	return b;
}

static bool ref_state_valid(int kind, int state)
{
	switch(state){
		case C2D_QS_QUEUED:
		case C2D_QS_SENT:
		case C2D_QS_EXPIRED:
		case C2D_QS_PURGED:
		case C2D_QS_CANCELLED:
			return kind == C2D_QK_MSG || kind == C2D_QK_RPC;
		case C2D_QS_COMPLETED:
		case C2D_QS_REJECTED:
		case C2D_QS_DEAD:
			return kind == C2D_QK_MSG;
		case C2D_QS_DELIVERED:
		case C2D_QS_SUCCESSFUL:
		case C2D_QS_TIMEOUT:
		case C2D_QS_FAILED:
			return kind == C2D_QK_RPC;
		default:
			return false;
	}
}

static void from_values(const uint8_t *data, size_t size)
{
	struct src s = {data, size};
	struct c2d_qrec r;
	char *sender, *resp, *ctype, *method;
	void *corr, *payload, *buf = NULL;
	size_t len = 99;
	bool ok;
	int rc;

	memset(&r, 0, sizeof(r));
	r.kind = (uint8_t)(take(&s, 1) % 4);   /* mostly valid, sometimes not */
	r.state = (uint8_t)(take(&s, 1) % 14);
	r.deliveries = (uint32_t)take(&s, 4);
	r.retries_left = (uint32_t)take(&s, 4);
	r.timeout_ms = (uint32_t)take(&s, 4);
	r.created_ms = take(&s, 8);
	r.expires_ms = take(&s, 8);
	r.due_ms = take(&s, 8);
	if(take(&s, 1) & 1){ /* the version 2 extension */
		r.retries = (uint32_t)take(&s, 4);
		r.ttl_s = (uint32_t)take(&s, 4);
		r.status = (uint32_t)take(&s, 4);
		r.finished_ms = take(&s, 8);
	}
	r.sender = sender = take_text(&s);
	r.resp_topic = resp = take_text(&s);
	r.content_type = ctype = take_text(&s);
	r.method = method = take_text(&s);
	r.corr = corr = take_bytes(&s, &r.corr_len);
	r.payload = payload = take_bytes(&s, &r.payload_len);

	ok = ref_state_valid(r.kind, r.state) && r.corr_len <= 65535
			&& (r.kind != C2D_QK_RPC || (r.method && r.method[0]));
	FUZZ_ASSERT(c2d_qrec_state_valid(r.kind, r.state) == ref_state_valid(r.kind, r.state));
	rc = c2d_qrec_encode(&r, &buf, &len);
	if(ok){
		FUZZ_ASSERT(rc == 0);
		free(buf);
		roundtrip(&r, NULL, 0);
	}else{
		FUZZ_ASSERT(rc == C2D_EINVAL && buf == NULL && len == 0);
	}
	free(sender);
	free(resp);
	free(ctype);
	free(method);
	free(corr);
	free(payload);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct c2d_qrec r;
	int i;

	/* 1 */
	if(c2d_qrec_decode(&r, data, size) == 0){
		FUZZ_ASSERT(c2d_qrec_state_valid(r.kind, r.state));
		FUZZ_ASSERT(r.corr_len <= 65535);
		FUZZ_ASSERT((r.corr == NULL) == (r.corr_len == 0));
		FUZZ_ASSERT(r.payload == NULL);
		if(r.kind == C2D_QK_RPC) FUZZ_ASSERT(r.method && r.method[0]);
		FUZZ_ASSERT(data[0] == C2D_QREC_VERSION);
		roundtrip(&r, data, size);
	}else{
		static const struct c2d_qrec zero;

		FUZZ_ASSERT(memcmp(&r, &zero, sizeof(r)) == 0);
	}
	/* 3 */
	if(c2d_qrec_decode_old(&r, data, size) == 0){
		FUZZ_ASSERT(data[0] == C2D_QREC_OLD_V1 || data[0] == C2D_QREC_OLD_V2);
		FUZZ_ASSERT((r.payload == NULL) == (r.payload_len == 0));
		if(r.payload) FUZZ_ASSERT((const uint8_t *)r.payload + r.payload_len <= data + size);
	}
	/* 2 */
	from_values(data, size);

	for(i = -2; i < C2D_QS__COUNT + 2; i++){
		FUZZ_ASSERT(c2d_qrec_state_name(i) != NULL && c2d_qrec_kind_name(i) != NULL);
		FUZZ_ASSERT(!c2d_qrec_final(i) || !c2d_qrec_in_flight(i));
	}
	return 0;
}
