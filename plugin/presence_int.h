/* presence_int.h: the presence tables, shared by presence.c (which
 * changes them on broker events) and reach.c (the lookups every plane and
 * the delivery core use). Private to those two files. Everything here is
 * in memory and grows with connections and online devices only. */
#ifndef C2D_PRESENCE_INT_H
#define C2D_PRESENCE_INT_H

#include <stdbool.h>

#include <uthash.h>

#include "c2d.h"

enum conn_state { CONN_PENDING, CONN_ONLINE };

struct c2d_conn {
	struct mosquitto *client;    /* key */
	char *dev;                   /* owned */
	enum conn_state state;
	int protocol_version;
	struct c2d_conn *pprev, *pnext; /* in presence.pending_list while pending */
	struct c2d_devp *subs;       /* sub-devices this gateway connection announced (utlist, not owned) */
	UT_hash_handle hh;
};

struct c2d_devp {
	char *dev;                   /* key, owned */
	unsigned online;             /* confirmed connections */
	unsigned pending;            /* connections awaiting confirmation */
	int protocol_version;        /* of the newest confirmed connection */
	uint64_t since_ms;           /* wall clock of the last change */
	bool catchup;                /* came online: the planes' on_online is due */
	struct c2d_devp *dprev, *dnext; /* in presence.due_list while catchup */
	bool caught;                 /* on_online ran in the open transaction: due until it commits */
	struct c2d_devp *cprev, *cnext; /* in presence.caught_list while caught */
	struct c2d_conn *via;        /* the gateway connection that announced it, or NULL */
	struct c2d_devp *vprev, *vnext; /* in via->subs */
	UT_hash_handle hh;
};

/* Online: its own confirmed connection, or announced by a gateway's. */
static inline bool reachable(const struct c2d_devp *d)
{
	return d->online || d->via;
}

#endif
