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

/* How long one slice may run when the last turn was gap_us ago: a slice
 * holds up whatever arrives while it runs, so on a busy loop (turns close
 * together) it is short, floor_us; after an idle gap (the broker's loop
 * slept: Mosquitto 2.0 sends TICK only every 100 ms when nothing happens)
 * it may take gap_us / C2D_DUTY_IDLE_DIV of it, at most cap_us. */
#define C2D_DUTY_IDLE_DIV 100
uint64_t c2d_duty_slice_us(uint64_t gap_us, uint64_t floor_us, uint64_t cap_us);

#endif
