/* Record codec (rec.c): every field type round-trips with its exact byte
 * layout, the writer never writes past its buffer, measuring gives the
 * written size, and the reader refuses what is short, long or malformed.
 * Decodes read heap buffers of exactly the tested size (valgrind sees any
 * read past the end). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "c2d_rec.h"
#include "../check_main.h"

static void write_all(struct c2d_rec_w *w)
{
	c2d_rec_put_u8(w, 0xab);
	c2d_rec_put_u32(w, 0x01020304u);
	c2d_rec_put_u64(w, 0x1122334455667788ull);
	c2d_rec_put_be64(w, 0x1122334455667788ull);
	c2d_rec_put_bytes(w, "\x00\xff", 2);
	c2d_rec_put_text(w, "hi");
	c2d_rec_put_text(w, NULL);
}

static const unsigned char want_bytes[] = {
	0xab,
	0x04, 0x03, 0x02, 0x01,
	0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11,
	0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
	0x02, 0, 0, 0, 0x00, 0xff,
	0x03, 0, 0, 0, 'h', 'i', 0,
	0, 0, 0, 0,
};

START_TEST(layout_and_round_trip)
{
	unsigned char buf[64];
	struct c2d_rec_w w;
	struct c2d_rec_r r;
	unsigned char *copy;
	const unsigned char *b;
	uint32_t n;
	size_t len, measured;

	c2d_rec_w_init(&w, NULL, 0);
	write_all(&w);
	ck_assert(c2d_rec_w_ok(&w, &measured));
	ck_assert_uint_eq(measured, sizeof(want_bytes));

	c2d_rec_w_init(&w, buf, sizeof(buf));
	write_all(&w);
	ck_assert(c2d_rec_w_ok(&w, &len));
	ck_assert_uint_eq(len, sizeof(want_bytes));
	ck_assert_mem_eq(buf, want_bytes, len);

	copy = malloc(len);
	memcpy(copy, buf, len);
	c2d_rec_r_init(&r, copy, len);
	ck_assert_uint_eq(c2d_rec_get_u8(&r), 0xab);
	ck_assert_uint_eq(c2d_rec_get_u32(&r), 0x01020304u);
	ck_assert_uint_eq(c2d_rec_get_u64(&r), 0x1122334455667788ull);
	ck_assert_uint_eq(c2d_rec_get_be64(&r), 0x1122334455667788ull);
	b = c2d_rec_get_bytes(&r, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert(b == copy + 25); /* points into the record */
	ck_assert_str_eq(c2d_rec_get_text(&r), "hi");
	ck_assert_ptr_null(c2d_rec_get_text(&r));
	ck_assert(c2d_rec_r_done(&r));
	free(copy);
}
END_TEST

/* A buffer one byte short of every prefix length: the writer goes bad and
 * touches nothing past cap. */
START_TEST(writer_stops_at_cap)
{
	unsigned char buf[sizeof(want_bytes) + 8];
	struct c2d_rec_w w;
	size_t cap, i;

	for(cap = 0; cap < sizeof(want_bytes); cap++){
		memset(buf, 0x5a, sizeof(buf));
		c2d_rec_w_init(&w, buf, cap);
		write_all(&w);
		ck_assert(!c2d_rec_w_ok(&w, NULL));
		for(i = cap; i < sizeof(buf); i++) ck_assert_uint_eq(buf[i], 0x5a);
	}
}
END_TEST

/* Every truncation of a valid record fails, and so does one byte too many. */
START_TEST(reader_refuses_short_and_long)
{
	struct c2d_rec_r r;
	unsigned char *copy;
	size_t len;

	for(len = 0; len <= sizeof(want_bytes) + 1; len++){
		if(len == sizeof(want_bytes)) continue;
		copy = malloc(len ? len : 1);
		memcpy(copy, want_bytes, len < sizeof(want_bytes) ? len : sizeof(want_bytes));
		if(len > sizeof(want_bytes)) copy[len - 1] = 0;
		c2d_rec_r_init(&r, copy, len);
		c2d_rec_get_u8(&r);
		c2d_rec_get_u32(&r);
		c2d_rec_get_u64(&r);
		c2d_rec_get_be64(&r);
		(void)c2d_rec_get_bytes(&r, &(uint32_t){0});
		(void)c2d_rec_get_text(&r);
		(void)c2d_rec_get_text(&r);
		ck_assert_msg(!c2d_rec_r_done(&r), "length %zu accepted", len);
		free(copy);
	}
}
END_TEST

START_TEST(reader_refuses_bad_fields)
{
	/* a length past the end, a text without its NUL, a text with a NUL inside */
	static const unsigned char huge[] = {0xff, 0xff, 0xff, 0x7f, 'x'};
	static const unsigned char no_nul[] = {2, 0, 0, 0, 'h', 'i'};
	static const unsigned char inner_nul[] = {3, 0, 0, 0, 'h', 0, 0};
	struct c2d_rec_r r;
	uint32_t n;

	c2d_rec_r_init(&r, huge, sizeof(huge));
	ck_assert_ptr_null(c2d_rec_get_bytes(&r, &n));
	ck_assert_uint_eq(n, 0);
	ck_assert(!c2d_rec_r_done(&r));
	c2d_rec_r_init(&r, no_nul, sizeof(no_nul));
	ck_assert_ptr_null(c2d_rec_get_text(&r));
	ck_assert(!c2d_rec_r_done(&r));
	c2d_rec_r_init(&r, inner_nul, sizeof(inner_nul));
	ck_assert_ptr_null(c2d_rec_get_text(&r));
	ck_assert(!c2d_rec_r_done(&r));
	c2d_rec_r_init(&r, NULL, 0);
	ck_assert(!c2d_rec_r_done(&r));
	c2d_rec_r_init(&r, huge, 0);
	ck_assert(c2d_rec_r_done(&r)); /* an empty record read as empty is fine */
	c2d_rec_r_fail(&r);
	ck_assert(!c2d_rec_r_done(&r));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("rec");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, layout_and_round_trip);
	tcase_add_test(tc, writer_stops_at_cap);
	tcase_add_test(tc, reader_refuses_short_and_long);
	tcase_add_test(tc, reader_refuses_bad_fields);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
