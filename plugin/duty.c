/* Duty-cycle accounting (c2d_duty.h): pure arithmetic on the caller's
 * monotonic microseconds. tick.c keeps the state of each kind of
 * background work; qsweep.c and jobrun.c ask it for their allowance. */
#include "c2d_duty.h"

uint64_t c2d_duty_allowance(struct c2d_duty *d, uint64_t now_us, uint64_t window_us, uint64_t share_us)
{
	if(window_us == 0) return share_us;
	if(now_us < d->window_us) d->window_us = now_us; /* never before the window: a fresh state */
	if(now_us - d->window_us >= window_us){
		/* a new window; what the last ones overran is owed, whole windows
		 * that passed idle pay it off */
		uint64_t windows = (now_us - d->window_us) / window_us;
		uint64_t paid = windows > UINT64_MAX / (share_us ? share_us : 1) ? UINT64_MAX : windows * share_us;

		d->used_us = d->used_us > paid ? d->used_us - paid : 0;
		d->window_us = now_us;
	}
	return d->used_us < share_us ? share_us - d->used_us : 0;
}

void c2d_duty_charge(struct c2d_duty *d, uint64_t us)
{
	d->used_us = d->used_us > UINT64_MAX - us ? UINT64_MAX : d->used_us + us;
}

uint64_t c2d_duty_slice_us(uint64_t gap_us, uint64_t floor_us, uint64_t cap_us)
{
	uint64_t us = gap_us / C2D_DUTY_IDLE_DIV;

	if(us > cap_us) us = cap_us;
	return us > floor_us ? us : floor_us;
}
