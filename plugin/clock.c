/* Clocks: CLOCK_MONOTONIC for the plugin's own time, CLOCK_REALTIME for
 * lifetimes and timestamps, and the timeout clock (monotonic, carried across
 * restarts) for ack and RPC timeouts. Mosquitto 2.0 passes no time with its
 * events, so each event reads the clocks once (c2d_clock_update). The ground
 * floor: nothing here calls another module but the store's clock record. */
#include <time.h>

#include "c2d.h"

static uint64_t clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t c2d_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

uint64_t c2d_wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

uint64_t c2d_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void c2d_clock_update(struct c2d *c2d)
{
	c2d->now_ms = c2d_mono_ms();
	c2d->wall_ms = c2d_wall_ms();
	c2d->tmo_ms = c2d->now_ms + c2d->tmo_offset;
}

/* The timeout clock resumes at the later of the wall clock and the value
 * stored with the newest timeout entry: a restart never makes an entry wait
 * longer than it was set for, even after the wall clock was stepped back
 * (the time the broker was down counts when the wall clock says so). */
void c2d_clock_start(struct c2d *c2d)
{
	uint64_t stored = 0, start;
	int rc;

	c2d_clock_update(c2d);
	c2d->boot_ms = c2d->wall_ms;
	rc = c2d_store_clock_get(c2d->store, &stored);
	if(rc && rc != C2D_ENOTFOUND) stored = 0; /* logged; the wall clock it is */
	start = stored > c2d->wall_ms ? stored : c2d->wall_ms;
	c2d->tmo_offset = start - c2d->now_ms;
	c2d->tmo_ms = start;
	if(stored > c2d->wall_ms){
		c2d_log(C2D_LOG_NOTICE, "timeout clock resumes %llu ms ahead of the wall clock",
				(unsigned long long)(stored - c2d->wall_ms));
	}
}
