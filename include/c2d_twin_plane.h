/* Device twins, broker side (twin.c). */
#ifndef C2D_TWIN_PLANE_H
#define C2D_TWIN_PLANE_H

#include "c2d.h"

#define C2D_TWIN_LETTER 't'

extern const struct c2d_plane c2d_twin_plane;

int c2d_twin_on_get(struct c2d *c2d, struct c2d_req *req);
int c2d_twin_on_desired(struct c2d *c2d, struct c2d_req *req);
int c2d_twin_on_delete(struct c2d *c2d, struct c2d_req *req);
int c2d_twin_on_reported(struct c2d *c2d, struct c2d_req *req);
int c2d_twin_on_tags(struct c2d *c2d, struct c2d_req *req);
/* The full twin of a device (an empty one if it has none), with its info;
 * for_device leaves the tags out (they are never sent to the device). New
 * object owned by the caller, or NULL with *rc set. */
cJSON *c2d_twin_get_full(struct c2d *c2d, const char *dev, bool for_device, int *rc);
/* Delete the device's twin in the event's transaction, first raising its id
 * mark to the twin's versions (the next twin continues after them).
 * *existed: whether there was one. 0 or a store error. */
int c2d_twin_forget(struct c2d *c2d, const char *dev, bool *existed);
/* A fleet job's desired patch (borrowed) for dev, applied as an
 * application's would be (version, event, push if online). *status: 0, or
 * the refusal (400/413: nothing stored). *version: the desired version that
 * holds the patch; *acked: the device has acknowledged it already (the patch
 * changed nothing). 0 or an error. */
int c2d_twin_job_desired(struct c2d *c2d, const char *dev, const cJSON *patch, uint64_t *version, bool *acked,
		int *status);

#endif
