/* Broker glue: the three exported entry points. Parses options, opens the
 * store, registers the callbacks from one table, and undoes a partial init with
 * the same code as cleanup. Nothing else lives here. */
#include <stdlib.h>
#include <string.h>

#include "c2d.h"
#include "c2d_admin.h"
#include "c2d_route.h"

#define C2D_EXPORT __attribute__((visibility("default")))

static int on_basic_auth(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_basic_auth *ed = event_data;
	int rc;

	(void)event;
	c2d_unit_begin(userdata, C2D_UNIT_AUTH);
	rc = c2d_presence_on_auth(userdata, ed->client);
	c2d_unit_commit(userdata); /* nothing is written here: the unit only brackets */
	c2d_unit_close(userdata, false);
	return rc;
}

static int on_disconnect(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_disconnect *ed = event_data;
	struct c2d *c2d = userdata;

	(void)event;
	c2d_unit_begin(c2d, C2D_UNIT_DISCONNECT); /* stores an answer batch on its own first */
	c2d_presence_on_disconnect(c2d, ed->client);
	c2d_unit_commit(c2d);
	c2d_unit_close(c2d, false);
	return MOSQ_ERR_SUCCESS;
}

static int on_reload(int event, void *event_data, void *userdata)
{
	(void)event;
	(void)event_data;
	c2d_presence_on_reload(userdata);
	/* Any other return cuts the broker's reload loop short. */
	return MOSQ_ERR_PLUGIN_DEFER;
}

static int on_message(int event, void *event_data, void *userdata)
{
	(void)event;
	return c2d_route_message(userdata, event_data);
}

static int on_control(int event, void *event_data, void *userdata)
{
	(void)event;
	return c2d_admin_on_control(userdata, event_data);
}

static int on_tick(int event, void *event_data, void *userdata)
{
	(void)event;
	(void)event_data;
	c2d_tick(userdata);
	return MOSQ_ERR_SUCCESS;
}

static const struct {
	int event;
	MOSQ_FUNC_generic_callback cb;
	const char *data;
} callbacks[] = {
	{MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL},
	{MOSQ_EVT_DISCONNECT, on_disconnect, NULL},
	{MOSQ_EVT_RELOAD, on_reload, NULL},
	{MOSQ_EVT_MESSAGE, on_message, NULL},
	{MOSQ_EVT_TICK, on_tick, NULL},
	{MOSQ_EVT_CONTROL, on_control, C2D_ADMIN_TOPIC},
};
#define CALLBACK_COUNT (sizeof(callbacks) / sizeof(callbacks[0]))

/* Undo whatever init got to; safe on a partly built state. c2d: consumed. */
static void teardown(struct c2d *c2d)
{
	size_t i;

	if(c2d->pid){
		for(i = 0; i < CALLBACK_COUNT; i++){
			mosquitto_callback_unregister(c2d->pid, callbacks[i].event, callbacks[i].cb, callbacks[i].data);
		}
	}
	c2d_unit_begin(c2d, C2D_UNIT_CLEANUP); /* stores an answer batch still open */
	c2d_unit_close(c2d, false);
	c2d_planes_cleanup(c2d);
	c2d_presence_free(c2d);
	c2d_outbox_clear(c2d);
	c2d_tick_cleanup(c2d);
	c2d_store_close(c2d->store);
	c2d_conf_free(&c2d->conf);
	free(c2d);
}

C2D_EXPORT int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	int i;

	for(i = 0; i < supported_version_count; i++){
		if(supported_versions[i] == 5) return 5;
	}
	return -1;
}

/* 2.0.x: struct mosquitto_plugin_id_t { struct mosquitto__listener *listener; }.
 * The listener is set only with per_listener_settings true, where TICK never
 * fires in 2.0.11 (src/plugin.c: "FIXME - iterate over all listeners"). */
static bool per_listener(mosquitto_plugin_id_t *identifier)
{
	void *listener;

	memcpy(&listener, identifier, sizeof(listener));
	return listener != NULL;
}

C2D_EXPORT int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
		struct mosquitto_opt *options, int option_count)
{
	struct c2d *c2d;
	char err[256];
	size_t i;
	int rc;

	if(per_listener(identifier)){
		c2d_log(C2D_LOG_ERR, "refusing to start: per_listener_settings true is not supported "
				"(Mosquitto 2.0 never sends TICK to per-listener plugins, so timeouts and expiry "
				"would never run). Remove per_listener_settings or set it to false.");
		return MOSQ_ERR_NOT_SUPPORTED;
	}
	c2d = calloc(1, sizeof(*c2d));
	if(c2d == NULL) return MOSQ_ERR_NOMEM;

	/* struct mosquitto_opt and struct c2d_opt are both {char *key; char *value;} */
	rc = c2d_conf_parse(&c2d->conf, (const struct c2d_opt *)options, option_count, err, sizeof(err));
	if(rc){
		c2d_log(C2D_LOG_ERR, "refusing to start: %s", err);
		goto fail_conf;
	}
	c2d_log_max = C2D_LOG_ERR + (int)c2d->conf.log_level;
	rc = c2d_store_open(&c2d->store, &c2d->conf, err, sizeof(err));
	if(rc){
		c2d_log(C2D_LOG_ERR, "refusing to start: %s", err);
		goto fail;
	}
	c2d_clock_start(c2d);
	rc = c2d_tick_init(c2d);
	if(!rc) rc = c2d_presence_init(c2d);
	if(rc) goto fail;
	rc = c2d_planes_init(c2d);
	if(rc) goto fail;

	c2d->pid = identifier;
	for(i = 0; i < CALLBACK_COUNT; i++){
		rc = mosquitto_callback_register(identifier, callbacks[i].event, callbacks[i].cb, callbacks[i].data, c2d);
		if(rc){
			c2d_log(C2D_LOG_ERR, "refusing to start: cannot register callback for event %d (%s)",
					callbacks[i].event, mosquitto_strerror(rc));
			goto fail;
		}
	}
	c2d_log(C2D_LOG_NOTICE, "mosquitto-c2d loaded: db_path %s, map_size %lu MiB, sync %s, identity %s",
			c2d->conf.db_path, (unsigned long)c2d->conf.map_size_mib, c2d_conf_sync_name(c2d->conf.sync),
			c2d_conf_identity_name(c2d->conf.identity));
	*userdata = c2d;
	return MOSQ_ERR_SUCCESS;

fail_conf:
	free(c2d);
	return MOSQ_ERR_INVAL;
fail:
	teardown(c2d);
	return rc == C2D_ENOMEM ? MOSQ_ERR_NOMEM : MOSQ_ERR_INVAL;
}

C2D_EXPORT int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count)
{
	(void)options;
	(void)option_count;
	if(userdata){
		teardown(userdata);
		c2d_log(C2D_LOG_NOTICE, "mosquitto-c2d unloaded");
	}
	return MOSQ_ERR_SUCCESS;
}
