/* Presence: which device ids are connected, on Mosquitto 2.0 which has no
 * CONNECT event (see ../shared/design/mosquitto-2.0.md):
 *
 * - BASIC_AUTH fires on every CONNECT, before CONNACK and before a session
 *   takeover. The connection may still be refused by a later plugin or the
 *   password file (then DISCONNECT fires with the same client pointer), so a
 *   new connection is only "pending" until the next TICK confirms it. A PUBLISH
 *   from the client confirms it at once (proof of life).
 * - Connections are tracked by client pointer, never by id: on takeover the old
 *   context's DISCONNECT arrives after the new client's BASIC_AUTH, same id.
 *   DISCONNECT of a pointer we do not know (port probes, sessions we never saw)
 *   is ignored.
 * - SIGHUP re-runs BASIC_AUTH for every session, offline ones included. RELOAD
 *   fires just before that and TICK right after, so BASIC_AUTH between RELOAD
 *   and TICK is a re-authentication and changes nothing.
 *
 * A device is online while it has at least one confirmed connection. Going
 * from 0 to 1 or a new connection replacing the old one emits
 * c2d.presence.connected and calls the planes' on_online (redelivery, twin
 * catch-up); the last connection closing emits c2d.presence.disconnected.
 *
 * Gateways (protocol-v2 section 4, gw.c checks the registry): a confirmed
 * connection of a gateway announces sub-devices; each is then online "via"
 * that connection (struct c2d_devp.via, listed in the connection's subs)
 * until the gateway announces its disconnect or that connection ends (clean,
 * socket error, keepalive, takeover: it is the old context's DISCONNECT),
 * which takes all of them offline. A sub-device's own connection takes
 * precedence: deliveries go to its client id while it has one, and to its
 * gateway again when it closes and the announcement still holds. Memory
 * grows with announced (online) sub-devices only. */
#include <stdlib.h>
#include <string.h>

#include <uthash.h>
#include <utlist.h>

#include "c2d.h"
#include "c2d_identity.h"
#include "presence_int.h"

static struct c2d_devp *devp_get(struct c2d *c2d, const char *dev, bool create)
{
	struct c2d_devp *d = NULL;

	HASH_FIND_STR(c2d->presence.devs, dev, d);
	if(d || !create) return d;
	d = calloc(1, sizeof(*d));
	if(d == NULL) return NULL;
	d->dev = strdup(dev);
	if(d->dev == NULL){
		free(d);
		return NULL;
	}
	HASH_ADD_KEYPTR(hh, c2d->presence.devs, d->dev, strlen(d->dev), d);
	return d;
}

/* The lists keep TICK's work proportional to what changed, not to the
 * number of connections: a reconnect storm of N devices is O(N), not O(N^2). */
static void set_due(struct c2d *c2d, struct c2d_devp *d, bool due)
{
	if(d->catchup == due) return;
	d->catchup = due;
	if(due){
		DL_APPEND2(c2d->presence.due_list, d, dprev, dnext);
	}else{
		DL_DELETE2(c2d->presence.due_list, d, dprev, dnext);
	}
}

static void set_pending(struct c2d *c2d, struct c2d_conn *cn, bool pending)
{
	if((cn->state == CONN_PENDING) == pending) return;
	cn->state = pending ? CONN_PENDING : CONN_ONLINE;
	if(pending){
		DL_APPEND2(c2d->presence.pending_list, cn, pprev, pnext);
	}else{
		DL_DELETE2(c2d->presence.pending_list, cn, pprev, pnext);
	}
}

static void set_caught(struct c2d *c2d, struct c2d_devp *d, bool caught)
{
	if(d->caught == caught) return;
	d->caught = caught;
	if(caught){
		DL_APPEND2(c2d->presence.caught_list, d, cprev, cnext);
	}else{
		DL_DELETE2(c2d->presence.caught_list, d, cprev, cnext);
	}
}

static void devp_release(struct c2d *c2d, struct c2d_devp *d)
{
	if(d->online || d->pending || d->via) return;
	set_due(c2d, d, false);
	set_caught(c2d, d, false);
	HASH_DEL(c2d->presence.devs, d);
	free(d->dev);
	free(d);
}

static void conn_free(struct c2d *c2d, struct c2d_conn *cn)
{
	set_pending(c2d, cn, false);
	HASH_DEL(c2d->presence.conns, cn);
	free(cn->dev);
	free(cn);
}

static cJSON *presence_data(const struct c2d_conn *cn, struct mosquitto *client)
{
	cJSON *data = cJSON_CreateObject();
	const char *addr = client ? mosquitto_client_address(client) : NULL;

	if(data == NULL) return NULL;
	cJSON_AddNumberToObject(data, "protocolVersion", cn->protocol_version);
	if(addr) cJSON_AddStringToObject(data, "address", addr);
	return data;
}

/* Presence events state no stored fact: the outbox's side list, so that a
 * failed commit of someone else's writes cannot drop them. */
static void presence_event(struct c2d *c2d, const struct c2d_conn *cn, const char *type, struct mosquitto *client)
{
	if(c2d_event_wanted(c2d, "presence")) c2d_event_side(c2d, cn->dev, "presence", type, presence_data(cn, client));
}

/* A pending connection is real: count it, announce it, let the planes deliver. */
static void confirm(struct c2d *c2d, struct c2d_conn *cn)
{
	struct c2d_devp *d = devp_get(c2d, cn->dev, false);

	if(d == NULL || cn->state != CONN_PENDING) return;
	set_pending(c2d, cn, false);
	d->pending--;
	if(!reachable(d)) c2d->presence.online++;
	d->online++;
	d->protocol_version = cn->protocol_version;
	d->since_ms = c2d->wall_ms;
	c2d->counters[C2D_C_CONNECTS]++;
	c2d_log(C2D_LOG_DEBUG, "device '%s' online (MQTT v%d)", cn->dev, cn->protocol_version);
	presence_event(c2d, cn, "c2d.presence.connected", cn->client);
	set_due(c2d, d, true);
}

/* A sub-device's presence events carry the gateway ("via"). */
static void via_event(struct c2d *c2d, const struct c2d_devp *d, const struct c2d_conn *gw, const char *type)
{
	cJSON *data = cJSON_CreateObject();

	if(data){
		cJSON_AddNumberToObject(data, "protocolVersion", gw->protocol_version);
		cJSON_AddStringToObject(data, "via", gw->dev);
	}
	c2d_event_side(c2d, d->dev, "presence", type, data);
}

/* The announcement of d ends. Unless d has its own connection it goes
 * offline: event, the planes' on_offline (pending lightweight RPCs fail at
 * once), and d is freed when nothing else holds it. */
static void via_clear(struct c2d *c2d, struct c2d_devp *d)
{
	struct c2d_conn *gw = d->via;

	DL_DELETE2(gw->subs, d, vprev, vnext);
	d->via = NULL;
	if(d->online) return; /* its own connection serves it: nothing changes */
	c2d->presence.online--;
	d->since_ms = c2d->wall_ms;
	c2d->counters[C2D_C_DISCONNECTS]++;
	c2d_log(C2D_LOG_DEBUG, "device '%s' offline (was announced by gateway '%s')", d->dev, gw->dev);
	via_event(c2d, d, gw, "c2d.presence.disconnected");
	c2d_deliver_offline(c2d, d->dev);
	devp_release(c2d, d);
}

/* The gateway connection cn ends: every sub-device it announced goes. */
static void drop_subs(struct c2d *c2d, struct c2d_conn *cn)
{
	while(cn->subs) via_clear(c2d, cn->subs);
}

int c2d_presence_on_auth(struct c2d *c2d, struct mosquitto *client)
{
	struct c2d_conn *cn = NULL;
	struct c2d_devp *d;
	const char *id;
	char why[C2D_DEV_MAX + 128];

	if(c2d->presence.reauth) return MOSQ_ERR_PLUGIN_DEFER;
	id = mosquitto_client_id(client);
	if(id == NULL || !c2d_topic_valid_dev(id, strlen(id))) return MOSQ_ERR_PLUGIN_DEFER;
	HASH_FIND_PTR(c2d->presence.conns, &client, cn);
	if(cn) return MOSQ_ERR_PLUGIN_DEFER; /* re-authentication of a live connection */
	if(c2d_identity_check(c2d, client, id, why, sizeof(why))){
		c2d_log(C2D_LOG_NOTICE, "refused the connection of '%s' from %s: %s", id,
				mosquitto_client_address(client) ? mosquitto_client_address(client) : "?", why);
		c2d->counters[C2D_C_DENIED]++;
		return MOSQ_ERR_AUTH;
	}

	cn = calloc(1, sizeof(*cn));
	d = devp_get(c2d, id, true);
	if(cn == NULL || d == NULL || (cn->dev = strdup(id)) == NULL){
		free(cn);
		if(d) devp_release(c2d, d);
		c2d_log(C2D_LOG_ERR, "out of memory tracking the connection of '%s'", id);
		return MOSQ_ERR_PLUGIN_DEFER;
	}
	cn->client = client;
	cn->state = CONN_ONLINE; /* set_pending below makes it pending */
	cn->protocol_version = mosquitto_client_protocol_version(client);
	HASH_ADD_PTR(c2d->presence.conns, client, cn);
	set_pending(c2d, cn, true);
	d->pending++;
	return MOSQ_ERR_PLUGIN_DEFER;
}

void c2d_presence_on_disconnect(struct c2d *c2d, struct mosquitto *client)
{
	struct c2d_conn *cn = NULL;
	struct c2d_devp *d;

	HASH_FIND_PTR(c2d->presence.conns, &client, cn);
	if(cn == NULL) return;
	drop_subs(c2d, cn);
	d = devp_get(c2d, cn->dev, false);
	if(d == NULL){
		conn_free(c2d, cn);
		return;
	}
	if(cn->state == CONN_PENDING){
		/* Refused by a later plugin or closed before we confirmed it. */
		d->pending--;
	}else{
		d->online--;
		c2d->counters[C2D_C_DISCONNECTS]++;
		if(d->online == 0 && d->pending == 0 && d->via){
			/* Its gateway still announces it: reached through the gateway
			 * again. What was sent to the closed connection is sent again
			 * (catch-up); lightweight RPCs sent to it fail at once. */
			d->since_ms = c2d->wall_ms;
			c2d_log(C2D_LOG_DEBUG, "device '%s' closed its connection: reached through gateway '%s' again",
					cn->dev, d->via->dev);
			via_event(c2d, d, d->via, "c2d.presence.connected");
			c2d_deliver_offline(c2d, cn->dev);
			set_due(c2d, d, true);
		}else if(d->online == 0 && d->pending == 0){
			/* A pending connection with the same id is a takeover: the device
			 * stays reachable and is announced again when that one confirms. */
			c2d->presence.online--;
			d->since_ms = c2d->wall_ms;
			c2d_log(C2D_LOG_DEBUG, "device '%s' offline", cn->dev);
			presence_event(c2d, cn, "c2d.presence.disconnected", NULL);
			c2d_deliver_offline(c2d, cn->dev);
		}else if(d->online == 0 && !d->via){
			c2d->presence.online--;
		}
	}
	conn_free(c2d, cn);
	devp_release(c2d, d);
}

void c2d_presence_on_reload(struct c2d *c2d)
{
	c2d->presence.reauth = true;
}

void c2d_presence_touch(struct c2d *c2d, struct mosquitto *client)
{
	struct c2d_conn *cn = NULL;

	HASH_FIND_PTR(c2d->presence.conns, &client, cn);
	if(cn){
		if(cn->state == CONN_PENDING) confirm(c2d, cn);
		return;
	}
	/* A client whose CONNECT we did not see (an earlier plugin answered its
	 * BASIC_AUTH): its publish proves it is connected. */
	c2d_presence_on_auth(c2d, client);
	HASH_FIND_PTR(c2d->presence.conns, &client, cn);
	if(cn) confirm(c2d, cn);
}

void c2d_presence_confirm(struct c2d *c2d)
{
	struct c2d_conn *cn, *tmp;

	c2d->presence.reauth = false;
	DL_FOREACH_SAFE2(c2d->presence.pending_list, cn, tmp, pnext){
		confirm(c2d, cn);
	}
}

/* Each device that came online gets the planes' on_online (twin catch-up,
 * queue redelivery), each plane's part in a nested transaction of the
 * current unit (a damaged record of one device is that device's trouble
 * alone). The device stays due until the unit's commit holds: the unit
 * tells (presence_committed); if the commit fails (a full map, say), the
 * device goes to the back of the due list and is tried again at the next
 * tick. At most `budget` (capped at C2D_CATCHUP_MAX) devices per call, in
 * the order they came online; only: just that device (NULL: any). */
static void catch_up_one(struct c2d *c2d, struct c2d_devp *d)
{
	c2d_deliver_online(c2d, d->dev);
	set_caught(c2d, d, true);
}

static void presence_committed(struct c2d *c2d, bool committed)
{
	struct c2d_devp *d, *tmp;

	DL_FOREACH_SAFE2(c2d->presence.caught_list, d, tmp, cnext){
		set_caught(c2d, d, false);
		if(committed){
			set_due(c2d, d, false);
			continue;
		}
		c2d_log(C2D_LOG_WARN, "delivery to '%s' after its connect was not stored; tried again at the next tick",
				d->dev);
		/* to the back: the others go first */
		DL_DELETE2(c2d->presence.due_list, d, dprev, dnext);
		DL_APPEND2(c2d->presence.due_list, d, dprev, dnext);
	}
}

int c2d_presence_init(struct c2d *c2d)
{
	return c2d_unit_hook(c2d, presence_committed);
}

void c2d_presence_catch_up(struct c2d *c2d, const char *only, unsigned budget)
{
	struct c2d_devp *d = NULL, *tmp;
	unsigned n = 0;

	if(c2d->presence.due_list == NULL || budget == 0) return;
	if(only){
		HASH_FIND_STR(c2d->presence.devs, only, d);
		if(d && d->catchup && reachable(d) && !d->caught) catch_up_one(c2d, d);
		return;
	}
	if(budget > C2D_CATCHUP_MAX) budget = C2D_CATCHUP_MAX;
	DL_FOREACH_SAFE2(c2d->presence.due_list, d, tmp, dnext){
		if(!reachable(d) || d->caught) continue; /* a takeover still pending; done in this transaction */
		catch_up_one(c2d, d);
		if(++n == budget) break;
	}
}

int c2d_presence_announce(struct c2d *c2d, struct mosquitto *client, const char *sub)
{
	struct c2d_conn *cn = NULL, *old;
	struct c2d_devp *d;
	bool was;

	HASH_FIND_PTR(c2d->presence.conns, &client, cn);
	if(cn == NULL || cn->state != CONN_ONLINE || strcmp(cn->dev, sub) == 0) return C2D_EINVAL;
	d = devp_get(c2d, sub, true);
	if(d == NULL) return C2D_ENOMEM;
	if(d->via == cn) return 0; /* announced again: nothing changes */
	was = reachable(d);
	old = d->via;
	if(old) DL_DELETE2(old->subs, d, vprev, vnext); /* moved to another gateway (the registry changed) */
	d->via = cn;
	DL_APPEND2(cn->subs, d, vprev, vnext);
	if(d->online) return 0; /* its own connection takes precedence */
	if(!was) c2d->presence.online++;
	d->since_ms = c2d->wall_ms;
	c2d->counters[C2D_C_CONNECTS]++;
	c2d_log(C2D_LOG_DEBUG, "device '%s' online through gateway '%s' (MQTT v%d)", sub, cn->dev, cn->protocol_version);
	if(old) c2d_deliver_offline(c2d, sub); /* what waited on the old gateway fails at once */
	via_event(c2d, d, cn, "c2d.presence.connected");
	set_due(c2d, d, true);
	return 0;
}

bool c2d_presence_unannounce(struct c2d *c2d, const struct mosquitto *client, const char *sub)
{
	struct c2d_devp *d = NULL;

	HASH_FIND_STR(c2d->presence.devs, sub, d);
	if(d == NULL || d->via == NULL || (client && d->via->client != client)) return false;
	via_clear(c2d, d);
	return true;
}

void c2d_presence_free(struct c2d *c2d)
{
	struct c2d_conn *cn, *ctmp;
	struct c2d_devp *d, *dtmp;

	HASH_ITER(hh, c2d->presence.conns, cn, ctmp){
		conn_free(c2d, cn);
	}
	HASH_ITER(hh, c2d->presence.devs, d, dtmp){
		HASH_DEL(c2d->presence.devs, d);
		free(d->dev);
		free(d);
	}
	memset(&c2d->presence, 0, sizeof(c2d->presence));
}
