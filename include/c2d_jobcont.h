/* Continuous jobs (jobcont.c): devices that start to match a running
 * continuous job's where target get an execution. */
#ifndef C2D_JOBCONT_H
#define C2D_JOBCONT_H

#include "c2d.h"

/* Register the device-change hook and learn the active continuous jobs
 * (the jobs plane's init). 0 or a store error. */
int c2d_jobcont_init(struct c2d *c2d);
void c2d_jobcont_cleanup(void);
/* createJob made a continuous job (job borrowed). */
void c2d_jobcont_add(const char *job);

#endif
