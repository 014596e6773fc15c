/* Device hello and info (hello.c). */
#ifndef C2D_HELLO_H
#define C2D_HELLO_H

#include "c2d.h"

/* $c2d/{dev}/out/hello (the guard lets only the device through). */
int c2d_hello_on_publish(struct c2d *c2d, struct c2d_req *req);
/* The device's stored info object (caller owns), NULL when it has none
 * (*rc 0) or on error (*rc set). */
cJSON *c2d_hello_info(struct c2d *c2d, const char *dev, int *rc);

#endif
