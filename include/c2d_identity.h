/* Identity bound to credentials (identity.c). */
#ifndef C2D_IDENTITY_H
#define C2D_IDENTITY_H

#include <stddef.h>

struct c2d;
struct mosquitto;

/* May `client` (borrowed) connect with client id `id` (borrowed) under
 * plugin_opt_identity? Returns 0, or C2D_EINVAL with the reason in why. */
int c2d_identity_check(const struct c2d *c2d, const struct mosquitto *client, const char *id,
		char *why, size_t whylen);

#endif
