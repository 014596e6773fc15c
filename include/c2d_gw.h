/* Gateways (gw.c, protocol-v2 section 4): the registry commands, the
 * announcements, and who may write a sub-device's out/ topics. */
#ifndef C2D_GW_H
#define C2D_GW_H

#include "c2d.h"

/* Limits (docs/gateways.md). */
#define C2D_GW_BATCH_MAX 1000   /* devices in one setGateway / clearGateway / list announcement */
#define C2D_GW_SUBS_MAX 10000   /* sub-devices assigned to one gateway */

/* $c2d/{gw}/out/gw/connect[/{sub}] and .../disconnect[/{sub}] (the guard
 * lets only {gw} itself through). */
int c2d_gw_on_connect(struct c2d *c2d, struct c2d_req *req);
int c2d_gw_on_disconnect(struct c2d *c2d, struct c2d_req *req);

/* Admin commands (admin.c's table): setGateway {"gateway","devices":[...]},
 * clearGateway {"devices":[...]}. An error text, or NULL with data filled. */
const char *c2d_gw_set(struct c2d *c2d, const cJSON *cmd, cJSON *data);
const char *c2d_gw_clear(struct c2d *c2d, const cJSON *cmd, cJSON *data);
/* getDevice's part: "gateway" (assigned), "via" (announced by), "subDevices". */
void c2d_gw_describe(struct c2d *c2d, const char *dev, cJSON *data);

/* May req's client, which is not {dev}, write {dev}'s out/ topics? */
enum c2d_gw_write {
	C2D_GW_NO = 0,      /* not {dev}'s gateway and no gateway at all: the plain guard's answer */
	C2D_GW_YES,         /* {dev}'s gateway (announced it, or the registry says so) */
	C2D_GW_REFUSED,     /* a gateway, but {dev} is not assigned to it: refused with 403 (done) */
};
enum c2d_gw_write c2d_gw_may_write(struct c2d *c2d, const struct c2d_req *req);

#endif
