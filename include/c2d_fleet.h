/* The fleet: device records and device queries (fleet.c). */
#ifndef C2D_FLEET_H
#define C2D_FLEET_H

#include "c2d.h"

/* Records examined by one queryDevices call at the most (a page may then
 * hold fewer matches than asked: continue from its "next"). */
#define C2D_QUERY_SCAN_MAX 5000

/* Admin command queryDevices {"where","count","after","select"}: matching
 * devices in id order. cmd: borrowed; data: filled. Returns NULL or the
 * error (valid until the next call). */
const char *c2d_fleet_query(struct c2d *c2d, const cJSON *cmd, cJSON *data);
/* Does device dev (borrowed) match the checked query where (borrowed)?
 * Loads only what the query reads. 0 or a store error / C2D_ENOMEM. */
int c2d_fleet_match(struct c2d *c2d, const cJSON *where, const char *dev, bool *match);

#endif
