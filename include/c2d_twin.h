/* Device twin documents (twin_doc.c): pure logic over cJSON, no broker, no
 * LMDB. twin.c is the broker side (topics, store, pushes, events).
 *
 * Stored record (one JSON text per device):
 *   {"desired":{..},"reported":{..},"tags":{..},"dv":N,"rv":M,"tv":T,
 *    "meta":{"desired":{..},"reported":{..},"tags":{..}},
 *    "sent":S,            highest desired version pushed to the device
 *    "ack":A,"ackDoc":{..} desired version the device acknowledged and the
 *                          document at that version (absent: never acked)}
 * Metadata mirrors the document: each member has {"$lastUpdated":RFC3339}
 * plus the metadata of its own members when it is an object. Tags (written
 * by applications, never sent to the device) came later: a record without
 * "tags"/"tv" has empty tags at version 0. */
#ifndef C2D_TWIN_H
#define C2D_TWIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

enum c2d_twin_section { C2D_TWIN_DESIRED = 0, C2D_TWIN_REPORTED = 1, C2D_TWIN_TAGS = 2 };
#define C2D_TWIN_SECTIONS 3

struct c2d_twin {
	cJSON *doc[C2D_TWIN_SECTIONS];   /* desired, reported, tags: objects, owned */
	cJSON *meta[C2D_TWIN_SECTIONS];  /* metadata trees, owned */
	uint64_t version[C2D_TWIN_SECTIONS]; /* dv, rv, tv */
	uint64_t sent;          /* highest desired version pushed */
	bool has_ack;
	uint64_t ack;           /* acknowledged desired version */
	cJSON *ack_doc;         /* desired at `ack`, owned, NULL without ack */
};

struct c2d_twin_limits {
	size_t max_bytes;       /* per section, serialized */
	int max_depth;          /* per section */
};

/* An empty twin (versions 0, empty sections). 0 or C2D_ENOMEM. */
int c2d_twin_init(struct c2d_twin *tw);
/* Parse a stored record (borrowed, len bytes). 0, C2D_ENOMEM, or C2D_EINVAL
 * for a damaged record. On error *tw is left empty-initialised or freed. */
int c2d_twin_load(struct c2d_twin *tw, const char *json, size_t len);
/* Serialize for the store: malloc'd text (cJSON_free), NULL on no memory. */
char *c2d_twin_dump(const struct c2d_twin *tw);
void c2d_twin_free(struct c2d_twin *tw);

/* Apply a merge patch from a client to one section. patch: borrowed, any
 * JSON. Checks, in this order, and changes nothing unless all pass:
 *   400 not an object; a member name starting with '$' (at any depth) other
 *   than a top-level "$version"; "$version" not a whole number >= 0;
 *   409 "$version" present and != the section's version;
 *   413 the patched section serialized is over limits->max_bytes;
 *   400 the patched section is deeper than limits->max_depth.
 * On success the section, its version (+1) and metadata (now: RFC 3339,
 * borrowed) are updated, *applied is set to the patch without "$version"
 * (new, owned by the caller) and 0 returned. A patch that leaves the section
 * as it is (compared as JSON values) changes nothing, not even the version
 * or the metadata times, and passes whatever the limits: 0 with *applied
 * NULL. Otherwise the status is returned
 * with a reason in why. C2D_ENOMEM (negative) on no memory. */
int c2d_twin_apply(struct c2d_twin *tw, enum c2d_twin_section s, const cJSON *patch,
		const struct c2d_twin_limits *limits, const char *now, cJSON **applied,
		char *why, size_t whylen);

/* The length of cJSON_PrintUnformatted(j), computed without printing
 * (c2d_twin_apply's size limit). */
size_t c2d_twin_json_size(const cJSON *j);

/* Desired members whose value differs from reported (AWS shadow delta);
 * nested objects recurse. New object owned by the caller, NULL on no memory. */
cJSON *c2d_twin_delta(const struct c2d_twin *tw);

/* The full twin: {"desired","reported","delta","version":{"desired",
 * "reported"},"$metadata"}; with_tags (applications; never for the device):
 * also "tags", version.tags and $metadata.tags. */
cJSON *c2d_twin_full(const struct c2d_twin *tw, bool with_tags);

/* What to push to the device now: NULL if the device has acknowledged the
 * current desired version (nothing to acknowledge). Else
 * {"version":dv,"desired":...,"full":bool}: a merge patch from the
 * acknowledged document when no later push is outstanding, else (never
 * acknowledged, or a push after the acknowledged one may have been applied)
 * the whole document with full=true. Sets tw->sent = dv. *err = C2D_ENOMEM
 * when NULL is due to memory. */
cJSON *c2d_twin_push(struct c2d_twin *tw, int *err);

/* The device acknowledged desired `version`. Only the current version is
 * taken (older acks are superseded by a push that is already on its way).
 * Returns true if the acknowledged state changed. */
bool c2d_twin_acked(struct c2d_twin *tw, uint64_t version);

#endif
