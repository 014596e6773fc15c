/* Duty-cycle accounting for background work (duty.c, pure: no clock of its
 * own, no broker). A kind of background work (the expiry sweep, the jobs'
 * dispatch) may use at most `share` us of each `window` us of a monotonic
 * clock, however often it is offered a turn: under load TICK fires
 * thousands of times a second, so a fixed slice per tick would add up to
 * most of the broker's time. Time used beyond a window's share (a slice
 * cannot stop mid-item, a commit is charged after the fact) is owed by the
 * next windows; whole windows that pass idle pay it off. Owned by its
 * caller (tick.c keeps one per kind in struct c2d). */
#ifndef C2D_DUTY_H
#define C2D_DUTY_H

#include <stdint.h>

struct c2d_duty {
	uint64_t window_us;          /* start of the current window (the caller's clock, us) */
	uint64_t used_us;            /* time used in it (may exceed the share: owed) */
};

/* What is left of the current window at now_us (0: wait for the next one),
 * starting a new window when window_us have passed since the last. */
uint64_t c2d_duty_allowance(struct c2d_duty *d, uint64_t now_us, uint64_t window_us, uint64_t share_us);
/* us spent (charged to the current window). */
void c2d_duty_charge(struct c2d_duty *d, uint64_t us);

#endif
