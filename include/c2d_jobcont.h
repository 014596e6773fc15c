/* Continuous jobs (jobcont.c): devices that start to match a running
 * continuous job's where target get an execution. */
#ifndef C2D_JOBCONT_H
#define C2D_JOBCONT_H

#include "c2d.h"

/* Register the device-change hook and learn the active continuous jobs
 * (the jobs plane's init). 0 or a store error. */
int c2d_jobcont_init(struct c2d *c2d);
void c2d_jobcont_cleanup(void);
/* createJob made a continuous job (job, where: its target, borrowed). */
void c2d_jobcont_add(const char *job, const cJSON *where);
/* dev came online (the jobs plane's on_online, in the open transaction):
 * running continuous jobs whose where reads `online` give it an
 * execution if it matches now. 0 or a store error. */
int c2d_jobcont_on_online(struct c2d *c2d, const char *dev);
/* Is any continuous job's where reading `online` (else on_online has
 * nothing to do)? */
bool c2d_jobcont_wants_online(void);

#endif
