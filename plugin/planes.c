/* The planes, listed once. A plane (struct c2d_plane, described in its own
 * file) owns one id letter of deliveries and the hooks the broker events
 * drive: answers, a device coming online or going away, its timed work,
 * init and cleanup. Admin has no deliveries (letter 0): it is a plane for
 * its init and cleanup (the $SYS statistics timer). deliver.c finds the
 * plane of an answer by its letter; tick.c and presence.c walk them all. */
#include "c2d.h"
#include "c2d_admin.h"
#include "c2d_calls.h"
#include "c2d_jobs.h"
#include "c2d_queue.h"
#include "c2d_rpc.h"
#include "c2d_twin_plane.h"

static const struct c2d_plane *const planes[] = {
	&c2d_twin_plane,
	&c2d_calls_plane,
	&c2d_lrpc_plane,
	&c2d_queue_plane,
	&c2d_admin_plane,
	&c2d_jobs_plane,
};

int c2d_planes_init(struct c2d *c2d)
{
	size_t i;
	int rc;

	for(i = 0; i < sizeof(planes) / sizeof(planes[0]); i++){
		if(i >= C2D_MAX_PLANES) return C2D_EINVAL;
		c2d->planes[i] = planes[i];
		c2d->plane_count = i + 1;
		if(planes[i]->init && (rc = planes[i]->init(c2d)) != 0) return rc;
	}
	return 0;
}

void c2d_planes_cleanup(struct c2d *c2d)
{
	size_t i;

	for(i = 0; i < c2d->plane_count; i++){
		if(c2d->planes[i]->cleanup) c2d->planes[i]->cleanup(c2d);
	}
	c2d->plane_count = 0;
}
