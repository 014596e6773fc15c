/* Helpers shared by the route modules (app.c, commands.c, device.c, tb.c). */
#ifndef C2D_HTTP_ROUTE_H
#define C2D_HTTP_ROUTE_H

#include <stdbool.h>

#include "http.h"

/* True if r's method is one of allow ("GET" or "GET, DELETE": the first
 * word is checked, the whole list goes into Allow); else sets 405. */
bool route_method(struct hreq *r, const char *allow);
/* Sets 400 "invalid device id"; returns true (handled). */
bool route_bad_device(struct hreq *r, const char *dev);
/* app.c: an RPC to dev (borrowed strings; NULL = not given); params
 * copied. oneway: no reply, 202 after the broker took it. */
bool app_rpc(struct hreq *r, const char *dev, const char *method, const char *timeout, const char *persistent,
		const char *retries, const char *ttl, const void *params, int len, bool oneway);
/* commands.c: GET /devices/{dev}/commands[/{id}], DELETE .../{id}. */
bool commands_route(struct hreq *r, char **seg, int n);
/* device.c: publishes payload (copied) on $c2d/{dev}/out/{what} as the
 * device itself, waiting for the plugin's reply (fn). */
bool device_call(struct hreq *r, const char *dev, const char *what, const void *payload, int len, hreq_reply_fn fn);

#endif
