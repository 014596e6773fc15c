/* Private to pool.c and pool_call.c: the connection pool's parts that the
 * calls in flight share with the connections (see both files). */
#ifndef C2D_HTTP_POOL_H
#define C2D_HTTP_POOL_H

#include "http.h"

/* Publishes r's pub_* on c (ready) and links r on c->waiting. Returns 0 or
 * -1 (r's result set; the caller finishes r). */
int pool_publish(struct hconn *c, struct hreq *r);

/* The connection is gone (refused, lost, closed): ends what waits on it
 * with status/msg (borrowed). */
void pool_conn_ended(struct hconn *c, int status, const char *msg);

/* libmosquitto's publish and message callbacks of every connection. */
void pool_on_publish(struct mosquitto *mosq, void *obj, int mid, int reason, const mosquitto_property *props);
void pool_on_message(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
		const mosquitto_property *props);

#endif
