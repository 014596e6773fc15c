/* Routing of client publishes on $c2d topics (route.c): classify, guard the
 * one-writer rules, run the topic's handler inside the event's unit of work
 * (unit.c), commit, then publish what the handler queued. */
#ifndef C2D_ROUTE_H
#define C2D_ROUTE_H

#include "c2d.h"

/* MOSQ_EVT_MESSAGE. ed: borrowed. Returns SUCCESS (continue), or ACL_DENIED
 * (drop) for writes that violate the one-writer rules. Never anything else:
 * any other code disconnects the publisher. */
int c2d_route_message(struct c2d *c2d, struct mosquitto_evt_message *ed);

#endif
