/* Operators' API on $CONTROL/c2d/v1 and statistics on $SYS (admin.c). */
#ifndef C2D_ADMIN_H
#define C2D_ADMIN_H

#include "c2d.h"

#define C2D_ADMIN_TOPIC "$CONTROL/c2d/v1"
#define C2D_ADMIN_RESPONSE_TOPIC "$CONTROL/c2d/v1/response"

extern const struct c2d_plane c2d_admin_plane;

/* MOSQ_EVT_CONTROL for C2D_ADMIN_TOPIC. Always returns success: a non-zero
 * return would disconnect the operator's client. */
int c2d_admin_on_control(struct c2d *c2d, struct mosquitto_evt_control *ed);

#endif
