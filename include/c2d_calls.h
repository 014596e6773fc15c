/* Device-originated calls (calls.c). */
#ifndef C2D_CALLS_H
#define C2D_CALLS_H

#include "c2d.h"

extern const struct c2d_plane c2d_calls_plane;

/* $c2d/{dev}/out/call/{method}/{rid} from the device. */
int c2d_calls_on_call(struct c2d *c2d, struct c2d_req *req);
/* $c2d/{dev}/callres/{cid} from an application. */
int c2d_calls_on_callres(struct c2d *c2d, struct c2d_req *req);

#endif
