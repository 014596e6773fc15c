/* Clocks (clock.c), the ground floor: no other module of the plugin is
 * called from here. Each broker event reads them once into struct c2d. */
#ifndef C2D_CLOCK_H
#define C2D_CLOCK_H

#include <stdint.h>

struct c2d;

uint64_t c2d_mono_ms(void);
uint64_t c2d_mono_us(void);
uint64_t c2d_wall_ms(void);
/* Read both clocks into c2d->now_ms / c2d->wall_ms, and c2d->tmo_ms.
 * The timeout clock (ack and RPC timeouts) runs with CLOCK_MONOTONIC, so
 * wall-clock steps do not move it; it starts at the later of the wall clock
 * and its value stored with the last timeout entry (c2d_store_tmo_add). */
void c2d_clock_update(struct c2d *c2d);
/* At init, after the store is open: boot time and the timeout clock's start. */
void c2d_clock_start(struct c2d *c2d);

#endif
