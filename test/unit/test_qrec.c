/* Queue item records (qrec.c): round trips, damaged input, state names.
 * Every decode reads from a heap buffer of exactly the tested size, so
 * valgrind sees any read past the end. */
#define _GNU_SOURCE /* memmem */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "c2d_err.h"
#include "c2d_qrec.h"
#include "c2d_rec.h"
#include "../check_main.h"

static const unsigned char corr_bin[] = {0x00, 0xff, 0x10, 0x00, 0x7f};
static const unsigned char payload_bin[] = {0x01, 0x00, 0x02, 0xfe, 0x00};

static struct c2d_qrec full_rpc(void)
{
	struct c2d_qrec r = {
		.kind = C2D_QK_RPC,
		.state = C2D_QS_DELIVERED,
		.deliveries = 3,
		.retries_left = 2,
		.timeout_ms = 4000000001u,
		.created_ms = 1795460000123ull,
		.expires_ms = 1795460360123ull,
		.due_ms = 0x0102030405060708ull,
		.sender = "app-\xC3\xA9",
		.resp_topic = "replies/app/1",
		.corr = corr_bin,
		.corr_len = sizeof(corr_bin),
		.content_type = "application/octet-stream",
		.method = "reboot",
		.payload = payload_bin,
		.payload_len = sizeof(payload_bin),
		.retries = 4,
		.ttl_s = 360,
		.status = 0,
		.finished_ms = 0,
	};
	return r;
}

/* Encode r; the caller frees. */
static void *enc(const struct c2d_qrec *r, size_t *len)
{
	void *buf = NULL;

	ck_assert_int_eq(c2d_qrec_encode(r, &buf, len), 0);
	ck_assert_ptr_nonnull(buf);
	return buf;
}

/* Decode a heap copy of exactly len bytes of buf. The copy stays alive in
 * *keep (the record points into it); the caller frees it. */
static int dec(struct c2d_qrec *r, const void *buf, size_t len, void **keep)
{
	void *copy = malloc(len ? len : 1);

	ck_assert_ptr_nonnull(copy);
	if(len) memcpy(copy, buf, len);
	*keep = copy;
	return c2d_qrec_decode(r, copy, len);
}

static void assert_text_eq(const char *got, const char *want)
{
	if(want == NULL){
		ck_assert_ptr_null(got);
	}else{
		ck_assert_ptr_nonnull(got);
		ck_assert_str_eq(got, want);
	}
}

static void assert_same(const struct c2d_qrec *a, const struct c2d_qrec *b)
{
	ck_assert_uint_eq(a->kind, b->kind);
	ck_assert_uint_eq(a->state, b->state);
	ck_assert_uint_eq(a->deliveries, b->deliveries);
	ck_assert_uint_eq(a->retries_left, b->retries_left);
	ck_assert_uint_eq(a->timeout_ms, b->timeout_ms);
	ck_assert_uint_eq(a->created_ms, b->created_ms);
	ck_assert_uint_eq(a->expires_ms, b->expires_ms);
	ck_assert_uint_eq(a->due_ms, b->due_ms);
	assert_text_eq(a->sender, b->sender);
	assert_text_eq(a->resp_topic, b->resp_topic);
	assert_text_eq(a->content_type, b->content_type);
	assert_text_eq(a->method, b->method);
	ck_assert_uint_eq(a->corr_len, b->corr_len);
	if(b->corr_len) ck_assert_mem_eq(a->corr, b->corr, b->corr_len);
	else ck_assert_ptr_null(a->corr);
	ck_assert_uint_eq(a->retries, b->retries);
	ck_assert_uint_eq(a->ttl_s, b->ttl_s);
	ck_assert_uint_eq(a->status, b->status);
	ck_assert_uint_eq(a->finished_ms, b->finished_ms);
	/* the state record keeps the payload's size, not its bytes */
	ck_assert_uint_eq(a->payload_len, b->payload_len);
	ck_assert_ptr_null(a->payload);
}

START_TEST(round_trip_every_field)
{
	struct c2d_qrec r = full_rpc(), out;
	void *buf, *keep;
	size_t len;

	buf = enc(&r, &len);
	ck_assert_int_eq(dec(&out, buf, len, &keep), 0);
	assert_same(&out, &r);
	/* the texts point into the buffer and are terminated there */
	ck_assert((const char *)out.method > (const char *)keep);
	ck_assert((const char *)out.method < (const char *)keep + len);
	free(keep);
	free(buf);
}
END_TEST

START_TEST(round_trip_minimal_message)
{
	struct c2d_qrec r = {.kind = C2D_QK_MSG, .state = C2D_QS_QUEUED}, out;
	void *buf, *keep;
	size_t len;

	buf = enc(&r, &len);
	ck_assert_uint_eq(len, C2D_QREC_HEADER + 5 * 4);
	ck_assert_int_eq(dec(&out, buf, len, &keep), 0);
	assert_same(&out, &r);
	free(keep);
	free(buf);
}
END_TEST

/* An empty payload given as a pointer with length 0 decodes as absent. */
START_TEST(round_trip_empty_payload)
{
	struct c2d_qrec r = full_rpc(), out;
	void *buf, *keep;
	size_t len;

	r.kind = C2D_QK_MSG;
	r.state = C2D_QS_SENT;
	r.method = NULL;
	r.payload = "";
	r.payload_len = 0;
	r.content_type = NULL;
	buf = enc(&r, &len);
	ck_assert_int_eq(dec(&out, buf, len, &keep), 0);
	ck_assert_ptr_null(out.payload);
	ck_assert_uint_eq(out.payload_len, 0);
	ck_assert_ptr_null(out.method);
	ck_assert_ptr_null(out.content_type);
	ck_assert_uint_eq(out.corr_len, sizeof(corr_bin));
	ck_assert_mem_eq(out.corr, corr_bin, sizeof(corr_bin));
	free(keep);
	free(buf);
}
END_TEST

/* Every live state of both kinds, and the largest correlation data. */
START_TEST(round_trip_states_and_large_corr)
{
	static unsigned char corr[65535];
	struct c2d_qrec r = full_rpc(), out;
	void *buf, *keep;
	size_t len;
	int kind, state;

	memset(corr, 0xa5, sizeof(corr));
	r.corr = corr;
	r.corr_len = sizeof(corr);
	for(kind = 0; kind < C2D_QK__COUNT; kind++){
		for(state = 0; state < C2D_QS__COUNT; state++){
			if(!c2d_qrec_state_valid(kind, state)) continue;
			r.kind = (uint8_t)kind;
			r.state = (uint8_t)state;
			buf = enc(&r, &len);
			ck_assert_int_eq(dec(&out, buf, len, &keep), 0);
			assert_same(&out, &r);
			free(keep);
			free(buf);
		}
	}
}
END_TEST

START_TEST(encode_refuses)
{
	struct c2d_qrec r = full_rpc();
	void *buf = (void *)1;
	size_t len = 1;

	r.state = C2D_QS_COMPLETED; /* a message state */
	ck_assert_int_eq(c2d_qrec_encode(&r, &buf, &len), C2D_EINVAL);
	ck_assert_ptr_null(buf);
	ck_assert_uint_eq(len, 0);
	r = full_rpc();
	r.method = NULL;
	ck_assert_int_eq(c2d_qrec_encode(&r, &buf, &len), C2D_EINVAL);
	r.method = "";
	ck_assert_int_eq(c2d_qrec_encode(&r, &buf, &len), C2D_EINVAL);
	r = full_rpc();
	r.kind = C2D_QK__COUNT;
	ck_assert_int_eq(c2d_qrec_encode(&r, &buf, &len), C2D_EINVAL);
	r = full_rpc();
	r.corr_len = 65536;
	ck_assert_int_eq(c2d_qrec_encode(&r, &buf, &len), C2D_EINVAL);
}
END_TEST

/* Every proper prefix, and one byte too many, is an error. */
START_TEST(truncations_are_errors)
{
	struct c2d_qrec r = full_rpc(), out;
	unsigned char *buf, *longer;
	void *keep;
	size_t len, cut;

	buf = enc(&r, &len);
	for(cut = 0; cut < len; cut++){
		ck_assert_msg(dec(&out, buf, cut, &keep) == C2D_EINVAL, "prefix of %zu bytes decoded", cut);
		ck_assert_ptr_null(out.sender);
		ck_assert_ptr_null(out.payload);
		free(keep);
	}
	longer = malloc(len + 1);
	ck_assert_ptr_nonnull(longer);
	memcpy(longer, buf, len);
	longer[len] = 0;
	ck_assert_int_eq(dec(&out, longer, len + 1, &keep), C2D_EINVAL);
	free(keep);
	free(longer);
	ck_assert_int_eq(c2d_qrec_decode(&out, NULL, 0), C2D_EINVAL);
	free(buf);
}
END_TEST

/* Patch one byte of a valid record at `off`; the decode must fail. */
static void assert_patch_fails(size_t off, unsigned char value, const char *what)
{
	struct c2d_qrec r = full_rpc(), out;
	unsigned char *buf;
	void *keep;
	size_t len;

	buf = enc(&r, &len);
	ck_assert_uint_lt(off, len);
	buf[off] = value;
	ck_assert_msg(dec(&out, buf, len, &keep) == C2D_EINVAL, "%s decoded", what);
	free(keep);
	free(buf);
}

START_TEST(damaged_headers_and_fields)
{
	struct c2d_qrec r = full_rpc();
	size_t sender_at = C2D_QREC_HEADER + 4;
	size_t sender_len = strlen(r.sender) + 1;
	size_t method_len_at;

	assert_patch_fails(0, 2, "version 2 (schema 1.x)");
	assert_patch_fails(0, 4, "version 4");
	assert_patch_fails(0, 0, "version 0");
	assert_patch_fails(1, C2D_QK__COUNT, "unknown kind");
	assert_patch_fails(2, C2D_QS__COUNT, "unknown state");
	assert_patch_fails(2, C2D_QS_COMPLETED, "a message state in an rpc");
	assert_patch_fails(3, 1, "reserved byte set");
	assert_patch_fails(sender_at + sender_len - 1, 'x', "text without its NUL");
	assert_patch_fails(sender_at + 1, 0, "text with a NUL inside");
	assert_patch_fails(C2D_QREC_HEADER, 0xff, "length past the end");
	assert_patch_fails(C2D_QREC_HEADER + 3, 0x80, "huge length");
	/* the method's length (fifth field) set to 0: an rpc without a method */
	method_len_at = C2D_QREC_HEADER + 4 + sender_len + 4 + strlen(r.resp_topic) + 1 + 4 + r.corr_len
			+ 4 + strlen(r.content_type) + 1;
	assert_patch_fails(method_len_at, 0, "rpc without a method");
}
END_TEST

/* Random bytes, also behind a valid header, never decode and never crash. */
START_TEST(garbage_is_an_error)
{
	struct c2d_qrec r = full_rpc(), out;
	unsigned char *valid, *g;
	void *keep;
	size_t vlen, len, i;
	unsigned seed = 12345;
	int n;

	valid = enc(&r, &vlen);
	g = malloc(vlen + 512);
	ck_assert_ptr_nonnull(g);
	srand(seed);
	for(n = 0; n < 20000; n++){
		len = (size_t)rand() % (vlen + 512);
		for(i = 0; i < len; i++) g[i] = (unsigned char)rand();
		if(n % 2 && len > C2D_QREC_HEADER){
			memcpy(g, valid, C2D_QREC_HEADER); /* plausible header, random fields */
		}
		ck_assert_msg(dec(&out, g, len, &keep) == C2D_EINVAL, "garbage #%d (%zu bytes) decoded", n, len);
		free(keep);
	}
	/* Random single-byte changes of a valid record: any result, no crash. */
	for(n = 0; n < 5000; n++){
		memcpy(g, valid, vlen);
		g[(size_t)rand() % vlen] = (unsigned char)rand();
		if(dec(&out, g, vlen, &keep) == 0){
			ck_assert(c2d_qrec_state_valid(out.kind, out.state));
		}
		free(keep);
	}
	free(g);
	free(valid);
}
END_TEST

/* decode -> encode gives the same bytes (history's fields included), and
 * the payload's bytes are never in the record. */
START_TEST(canonical_and_without_payload)
{
	struct c2d_qrec r = full_rpc(), out;
	void *buf, *again, *keep;
	size_t len, len2;

	r.state = C2D_QS_TIMEOUT;
	r.status = 504;
	r.finished_ms = 1795460370000ull;
	buf = enc(&r, &len);
	ck_assert_ptr_null(memmem(buf, len, payload_bin, sizeof(payload_bin)));
	ck_assert_int_eq(dec(&out, buf, len, &keep), 0);
	assert_same(&out, &r);
	again = enc(&out, &len2);
	ck_assert_uint_eq(len2, len);
	ck_assert_mem_eq(again, buf, len);
	free(again);
	free(keep);
	free(buf);
}
END_TEST

/* A schema 1.x record (version 1 or 2, payload inline), written here field
 * by field as the 1.x code did: decode_old reads it, decode refuses it, and
 * decode_old refuses a version 3 record. */
static void *old_record(int version, const struct c2d_qrec *r, size_t *len)
{
	struct c2d_rec_w w;
	void *buf;
	int pass;

	for(pass = 0; pass < 2; pass++){
		buf = pass ? malloc(*len) : NULL;
		c2d_rec_w_init(&w, buf, *len);
		c2d_rec_put_u8(&w, (uint8_t)version);
		c2d_rec_put_u8(&w, r->kind);
		c2d_rec_put_u8(&w, r->state);
		c2d_rec_put_u8(&w, 0);
		c2d_rec_put_u32(&w, r->deliveries);
		c2d_rec_put_u32(&w, r->retries_left);
		c2d_rec_put_u32(&w, r->timeout_ms);
		c2d_rec_put_u64(&w, r->created_ms);
		c2d_rec_put_u64(&w, r->expires_ms);
		c2d_rec_put_u64(&w, r->due_ms);
		if(version == 2){
			c2d_rec_put_u32(&w, r->retries);
			c2d_rec_put_u32(&w, r->ttl_s);
			c2d_rec_put_u32(&w, r->status);
			c2d_rec_put_u64(&w, r->finished_ms);
		}
		c2d_rec_put_text(&w, r->sender);
		c2d_rec_put_text(&w, r->resp_topic);
		c2d_rec_put_bytes(&w, r->corr, r->corr_len);
		c2d_rec_put_text(&w, r->content_type);
		c2d_rec_put_text(&w, r->method);
		c2d_rec_put_bytes(&w, r->payload, r->payload_len);
		ck_assert(c2d_rec_w_ok(&w, len));
	}
	return buf;
}

START_TEST(old_records_for_the_upgrade)
{
	struct c2d_qrec r = full_rpc(), out;
	void *buf, *keep;
	size_t len;
	int v;

	for(v = 1; v <= 2; v++){
		buf = old_record(v, &r, &len);
		ck_assert_uint_eq(len, (v == 1 ? C2D_QREC_OLD_HEADER : C2D_QREC_OLD_HEADER + 20) + 6 * 4
				+ strlen(r.sender) + 1 + strlen(r.resp_topic) + 1 + r.corr_len + strlen(r.content_type) + 1
				+ strlen(r.method) + 1 + r.payload_len);
		ck_assert_int_eq(dec(&out, buf, len, &keep), C2D_EINVAL);
		free(keep);
		keep = malloc(len);
		memcpy(keep, buf, len);
		ck_assert_int_eq(c2d_qrec_decode_old(&out, keep, len), 0);
		ck_assert_str_eq(out.method, "reboot");
		ck_assert_uint_eq(out.payload_len, sizeof(payload_bin));
		ck_assert_mem_eq(out.payload, payload_bin, sizeof(payload_bin));
		ck_assert_uint_eq(out.ttl_s, v == 2 ? r.ttl_s : 0);
		ck_assert_int_eq(c2d_qrec_decode_old(&out, keep, len - 1), C2D_EINVAL);
		free(keep);
		free(buf);
	}
	buf = enc(&r, &len);
	ck_assert_int_eq(c2d_qrec_decode_old(&out, buf, len), C2D_EINVAL);
	free(buf);
}
END_TEST

START_TEST(state_names)
{
	static const char *const want[C2D_QS__COUNT] = {"queued", "sent", "delivered", "completed",
		"rejected", "expired", "dead", "purged", "cancelled", "successful", "timeout", "failed"};
	int s;

	for(s = 0; s < C2D_QS__COUNT; s++){
		ck_assert_str_eq(c2d_qrec_state_name(s), want[s]);
		ck_assert(c2d_qrec_final(s) == (s >= C2D_QS_COMPLETED));
		ck_assert(c2d_qrec_in_flight(s) == (s == C2D_QS_SENT || s == C2D_QS_DELIVERED));
	}
	ck_assert_str_eq(c2d_qrec_state_name(-1), "?");
	ck_assert_str_eq(c2d_qrec_state_name(C2D_QS__COUNT), "?");
	ck_assert(!c2d_qrec_final(C2D_QS__COUNT));
	ck_assert_str_eq(c2d_qrec_kind_name(C2D_QK_MSG), "msg");
	ck_assert_str_eq(c2d_qrec_kind_name(C2D_QK_RPC), "rpc");
	ck_assert_str_eq(c2d_qrec_kind_name(7), "?");
	/* which kind may be in which state */
	ck_assert(c2d_qrec_state_valid(C2D_QK_MSG, C2D_QS_DEAD));
	ck_assert(!c2d_qrec_state_valid(C2D_QK_MSG, C2D_QS_DELIVERED));
	ck_assert(!c2d_qrec_state_valid(C2D_QK_MSG, C2D_QS_SUCCESSFUL));
	ck_assert(c2d_qrec_state_valid(C2D_QK_RPC, C2D_QS_DELIVERED));
	ck_assert(c2d_qrec_state_valid(C2D_QK_RPC, C2D_QS_TIMEOUT));
	ck_assert(!c2d_qrec_state_valid(C2D_QK_RPC, C2D_QS_DEAD));
	ck_assert(!c2d_qrec_state_valid(C2D_QK_RPC, C2D_QS_REJECTED));
	ck_assert(!c2d_qrec_state_valid(2, C2D_QS_QUEUED));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("qrec");
	TCase *tc = tcase_create("record");

	tcase_set_timeout(tc, 60); /* valgrind */
	tcase_add_test(tc, round_trip_every_field);
	tcase_add_test(tc, round_trip_minimal_message);
	tcase_add_test(tc, round_trip_empty_payload);
	tcase_add_test(tc, round_trip_states_and_large_corr);
	tcase_add_test(tc, encode_refuses);
	tcase_add_test(tc, truncations_are_errors);
	tcase_add_test(tc, damaged_headers_and_fields);
	tcase_add_test(tc, garbage_is_an_error);
	tcase_add_test(tc, canonical_and_without_payload);
	tcase_add_test(tc, old_records_for_the_upgrade);
	tcase_add_test(tc, state_names);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
