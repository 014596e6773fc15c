/* Who is reachable, and how: the read side of presence's tables
 * (presence_int.h). presence.c changes them on broker events; the planes,
 * the delivery core (deliver.c: which client id a delivery goes to) and the
 * admin commands read them here, so that the delivery core does not call
 * back up into presence.c. Read only: no allocation, no publish. */
#include <string.h>

#include "c2d.h"
#include "presence_int.h"

bool c2d_presence_online(const struct c2d *c2d, const char *dev)
{
	return c2d_presence_protocol(c2d, dev) != 0;
}

int c2d_presence_protocol(const struct c2d *c2d, const char *dev)
{
	struct c2d_devp *d = NULL;

	HASH_FIND_STR(c2d->presence.devs, dev, d);
	if(d == NULL) return 0;
	if(d->online) return d->protocol_version;
	return d->via ? d->via->protocol_version : 0;
}

const char *c2d_presence_client(const struct c2d *c2d, const char *dev)
{
	struct c2d_devp *d = NULL;

	HASH_FIND_STR(c2d->presence.devs, dev, d);
	return d && !d->online && d->via ? d->via->dev : dev;
}

const char *c2d_presence_via(const struct c2d *c2d, const char *dev)
{
	struct c2d_devp *d = NULL;

	HASH_FIND_STR(c2d->presence.devs, dev, d);
	return d && d->via ? d->via->dev : NULL;
}

bool c2d_presence_announced_by(const struct c2d *c2d, const char *dev, const struct mosquitto *client)
{
	struct c2d_devp *d = NULL;

	HASH_FIND_STR(c2d->presence.devs, dev, d);
	return d && d->via && d->via->client == client;
}

void c2d_presence_each(const struct c2d *c2d, void (*cb)(void *ud, const char *dev), void *ud)
{
	struct c2d_devp *d, *tmp;

	HASH_ITER(hh, c2d->presence.devs, d, tmp){
		if(reachable(d)) cb(ud, d->dev);
	}
}
