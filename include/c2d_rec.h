/* Record codec (rec.c): the one way the store's records are laid out on
 * disk, so that no C struct is ever stored as it is in memory. Pure: no
 * broker, no LMDB.
 *
 * A record is a sequence of explicit fields written by a writer and read
 * back by a checked reader:
 *   u8, u32 and u64 little-endian (the record's own numbers), u64
 *   big-endian (numbers inside keys, which must sort as bytes), and
 *   length-prefixed bytes (u32 LE length, then the bytes). A text is bytes
 *   with its terminating NUL (length 0 = absent), so a decoded text points
 *   straight into the record.
 * Every record begins with a u8 version byte chosen by its owner (the
 * module that defines the record); an unknown version does not decode.
 *
 * Writer: over a caller's buffer of cap bytes; past cap it stops writing and
 * is marked bad (nothing beyond cap is touched). With buf NULL it only
 * measures (len grows, nothing is written, never bad): measure, allocate,
 * write.
 * Reader: never reads past its end; a read beyond it marks it bad and
 * returns 0 / NULL. c2d_rec_r_done() says whether every read succeeded and
 * the record ended exactly there. */
#ifndef C2D_REC_H
#define C2D_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct c2d_rec_w {
	unsigned char *buf;      /* borrowed; NULL: measure only */
	size_t cap;
	size_t len;              /* bytes written (or measured) so far */
	bool bad;                /* a write did not fit */
};

struct c2d_rec_r {
	const unsigned char *p;  /* borrowed: the next byte */
	size_t left;
	bool bad;                /* a read went past the end, or a field was malformed */
};

void c2d_rec_w_init(struct c2d_rec_w *w, void *buf, size_t cap);
void c2d_rec_put_u8(struct c2d_rec_w *w, uint8_t v);
void c2d_rec_put_u32(struct c2d_rec_w *w, uint32_t v);
void c2d_rec_put_u64(struct c2d_rec_w *w, uint64_t v);
void c2d_rec_put_be64(struct c2d_rec_w *w, uint64_t v);
/* u32 length, then n bytes of p (borrowed; may be NULL when n is 0).
 * n over UINT32_MAX marks the writer bad. */
void c2d_rec_put_bytes(struct c2d_rec_w *w, const void *p, size_t n);
/* A text with its NUL; NULL is written as length 0. */
void c2d_rec_put_text(struct c2d_rec_w *w, const char *s);
/* The record is complete and fitted: true, *len (may be NULL) its size. */
bool c2d_rec_w_ok(const struct c2d_rec_w *w, size_t *len);

void c2d_rec_r_init(struct c2d_rec_r *r, const void *buf, size_t len);
uint8_t c2d_rec_get_u8(struct c2d_rec_r *r);
uint32_t c2d_rec_get_u32(struct c2d_rec_r *r);
uint64_t c2d_rec_get_u64(struct c2d_rec_r *r);
uint64_t c2d_rec_get_be64(struct c2d_rec_r *r);
/* Length-prefixed bytes: a pointer into the record, NULL when empty (*len 0). */
const void *c2d_rec_get_bytes(struct c2d_rec_r *r, uint32_t *len);
/* A text: empty (NULL), or NUL-terminated with no NUL inside (else bad). */
const char *c2d_rec_get_text(struct c2d_rec_r *r);
/* Mark the reader bad (a field's value is out of range for its owner). */
void c2d_rec_r_fail(struct c2d_rec_r *r);
/* Every read succeeded and nothing is left. */
bool c2d_rec_r_done(const struct c2d_rec_r *r);

#endif
