/* Resource exhaustion against the real broker: a full LMDB map (map_size 1
 * MiB) and a full disk (the database on a small tmpfs). Either way a write
 * gets 503 with nothing changed, the publisher stays connected, reads keep
 * working, everything accepted before is delivered intact and in order, and
 * writes are accepted again once space is free. */
#define _GNU_SOURCE /* unshare */
#include <check.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <mqtt_protocol.h>

#include "fixture.h"
#include "harness.h"
#include "../check_main.h"

#define V5 MQTT_PROTOCOL_V5
#define V311 MQTT_PROTOCOL_V311
#define DEV "big-1"
#define REPLIES "replies/app"
#define BIG 60000            /* bytes per message */
#define MAX_MSGS 200         /* far more than fit */
#define WAIT 5000
/* room for every message, and a completed message frees its space */
/* msg_inflight 1: each delivery rewrites its record (payload too), so the room
 * kept back must hold msg_inflight records (docs/operations.md, map_size). */
#define QUEUE_OPTS "plugin_opt_msg_queue_max 10000\nplugin_opt_history_ttl 0\nplugin_opt_msg_inflight 1\n"

/* Everything accepted, in order: payloads (owned). */
struct accepted {
	char *payload[MAX_MSGS];
	int n;
};

static void accepted_free(struct accepted *a)
{
	int i;

	for(i = 0; i < a->n; i++){
		free(a->payload[i]);
	}
	a->n = 0;
}

/* A BIG-byte payload that names its number and differs per message. */
static char *big_payload(int i)
{
	char *p = malloc(BIG + 1);
	int k;

	ck_assert_ptr_nonnull(p);
	k = snprintf(p, BIG + 1, "m%04d:", i);
	for(; k < BIG; k++){
		p[k] = (char)('a' + (i + k) % 26);
	}
	p[BIG] = '\0';
	return p;
}

/* A v5 request from app with correlation data "c<i>"; returns the reply's
 * status (user property) and, if body, the reply (caller frees). The
 * publisher must stay connected whatever the answer. */
static int request(struct c2d_client *app, const char *topic, const char *payload, int i, struct c2d_msg **body)
{
	char corr[16];
	struct c2d_props p = {.response_topic = REPLIES, .corr = corr};
	mosquitto_property *props;
	struct c2d_msg *m;
	int rc, status;

	snprintf(corr, sizeof(corr), "c%d", i);
	props = c2d_props_build(&p);
	rc = c2d_client_publish(app, topic, payload, -1, 1, false, props);
	mosquitto_property_free_all(&props);
	ck_assert_msg(rc >= 0 && rc < 0x80, "publish to %s: %d", topic, rc);
	m = c2d_client_wait_corr(app, REPLIES, corr, (int)strlen(corr), WAIT);
	ck_assert_msg(m != NULL, "no reply to %s (%s)", topic, corr);
	ck_assert_ptr_nonnull(c2d_msg_user_prop(m, "status"));
	status = atoi(c2d_msg_user_prop(m, "status"));
	ck_assert(c2d_client_is_connected(app));
	if(body){
		*body = m;
	}else{
		c2d_msg_free(m);
	}
	return status;
}

/* Send big messages until one gets 503; returns that reply (caller frees).
 * Every earlier one must get 202. */
static struct c2d_msg *fill(struct c2d_client *app, struct accepted *a, int *corr)
{
	struct c2d_msg *m = NULL;
	char *payload;
	int status;

	while(a->n < MAX_MSGS){
		payload = big_payload(a->n + 1);
		status = request(app, "$c2d/" DEV "/msg", payload, ++*corr, &m);
		if(status == 503){
			free(payload);
			return m;
		}
		ck_assert_msg(status == 202, "message %d: status %d: %s", a->n + 1, status, m->payload);
		a->payload[a->n++] = payload;
		c2d_msg_free(m);
	}
	ck_abort_msg("%d messages of %d bytes accepted, never a 503", a->n, BIG);
	return NULL;
}

/* twin/get answers 200 with desired version `version`. */
static void expect_twin(struct c2d_client *app, int *corr, int version)
{
	struct c2d_msg *m;
	cJSON *j, *v;

	ck_assert_int_eq(request(app, "$c2d/" DEV "/twin/get", "", ++*corr, &m), 200);
	j = cJSON_Parse(m->payload);
	v = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "version"), "desired");
	ck_assert_msg(cJSON_IsNumber(v) && v->valueint == version, "twin: %s", m->payload);
	cJSON_Delete(j);
	c2d_msg_free(m);
}

/* The device gets every accepted message, intact and in order, answers
 * each (which deletes it), and its queue ends empty. */
static void expect_delivered(struct c2d_broker *b, struct c2d_client *app, const struct accepted *a, int protocol)
{
	struct c2d_client *dev = c2d_client_new_connected(b, DEV, protocol, true);
	struct c2d_drain d;
	int i, rc;

	ck_assert_ptr_nonnull(dev);
	memset(&d, 0, sizeof(d));
	rc = c2d_device_drain(dev, app, 300, 8000, 0, &d);
	ck_assert_msg(rc == 0 && (int)d.nmsgs == a->n,
			"the device got %zu of the %d accepted messages, its queue did not drain (%d); a store "
			"without room blocks deliveries and answers (docs/reliability.md, Resources)", d.nmsgs, a->n, rc);
	for(i = 0; i < a->n; i++){
		ck_assert_int_eq(d.msg_lens[i], BIG);
		ck_assert_msg(memcmp(d.msgs[i], a->payload[i], BIG) == 0, "delivery %d is not message %d (%.6s)", i + 1,
				i + 1, d.msgs[i]);
	}
	ck_assert_int_eq(c2d_admin_queue_depth(app, DEV), 0);
	c2d_drain_free(&d);
	c2d_client_destroy(dev);
}

/* One run against a store that fills up. */
struct fillup {
	struct c2d_broker *b;
	struct c2d_client *app;
	struct accepted a;
	int corr;
	int version;             /* the twin's desired version */
};

/* Fill the device's queue until 503 and check what must still work: the
 * log names the cause, the broker and the publisher go on, reads work,
 * nothing changed. */
static void fill_up(struct fillup *f, struct c2d_broker *b, const char *log_needle)
{
	struct c2d_msg *m;
	char *payload;
	int status;

	memset(f, 0, sizeof(*f));
	f->b = b;
	f->app = c2d_client_new_connected(b, "app", V5, true);
	ck_assert_ptr_nonnull(f->app);
	ck_assert_int_eq(c2d_client_subscribe(f->app, REPLIES, 1), 1);
	ck_assert_int_eq(request(f->app, "$c2d/" DEV "/twin/desired", "{\"a\":1}", ++f->corr, NULL), 200);
	f->version = 1;
	c2d_broker_log_mark(b);

	m = fill(f->app, &f->a, &f->corr);
	ck_assert_msg(f->a.n >= 2, "only %d messages fit", f->a.n);
	ck_assert_ptr_nonnull(strstr(m->payload, "\"status\":503"));
	ck_assert_ptr_nonnull(strstr(m->payload, "nothing was changed"));
	c2d_msg_free(m);
	ck_assert(c2d_broker_wait_log(b, log_needle, WAIT));
	printf("resources: \"%s\" logged after %d messages of %d bytes, then 503\n", log_needle, f->a.n, BIG);
	fflush(stdout);

	/* a write that needs the space gets 503 again, a small one may fit */
	ck_assert(c2d_broker_alive(b));
	expect_twin(f->app, &f->corr, f->version);
	payload = big_payload(0);
	ck_assert_int_eq(request(f->app, "$c2d/" DEV "/msg", payload, ++f->corr, NULL), 503);
	/* a 3.1.1 sender cannot get the 503: an event says it */
	{
		struct c2d_client *mon = fx_monitor(b, "$c2d/" DEV "/events/device");
		struct c2d_client *app3 = c2d_client_new_connected(b, "app3", V311, true);
		cJSON *ev;

		ck_assert_int_eq(c2d_client_publish(app3, "$c2d/" DEV "/msg", payload, -1, 1, false, NULL), 0);
		ev = fx_expect_event(mon, DEV, "device", "c2d.device.refused");
		ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "data"), "status")->valueint, 503);
		cJSON_Delete(ev);
		c2d_client_destroy(app3);
		c2d_client_destroy(mon);
	}
	free(payload);
	status = request(f->app, "$c2d/" DEV "/twin/desired", "{\"a\":2}", ++f->corr, NULL);
	ck_assert_msg(status == 200 || status == 503, "small twin patch: %d", status);
	f->version += status == 200;
	expect_twin(f->app, &f->corr, f->version);
	ck_assert_int_eq(c2d_admin_queue_depth(f->app, DEV), f->a.n);
}

/* Everything accepted reaches the device; its answers free the space and
 * new writes are accepted again. */
static void drain_and_write(struct fillup *f, int protocol)
{
	struct c2d_msg *m = NULL;

	expect_delivered(f->b, f->app, &f->a, protocol);
	ck_assert_int_eq(request(f->app, "$c2d/" DEV "/msg", "again", ++f->corr, &m), 202);
	c2d_msg_free(m);
	ck_assert_int_eq(request(f->app, "$c2d/" DEV "/twin/desired", "{\"a\":3}", ++f->corr, NULL), 200);
	expect_twin(f->app, &f->corr, f->version + 1);
	ck_assert(c2d_broker_alive(f->b));
}

static void fillup_free(struct fillup *f)
{
	accepted_free(&f->a);
	c2d_client_destroy(f->app);
}

static struct c2d_broker *start_small_map(void)
{
	struct c2d_broker_opts o = {.plugin_opts = "plugin_opt_map_size 1\n" QUEUE_OPTS};
	struct c2d_broker *b = c2d_broker_start(&o);

	ck_assert_ptr_nonnull(b);
	return b;
}

/* The operator's remedy: a bigger map_size and a restart. */
static void raise_map_size(struct c2d_broker *b)
{
	char *conf = NULL, *cmd = c2d_strf("sed 's/^plugin_opt_map_size 1$/plugin_opt_map_size 8/' '%s'", b->conf_path);

	ck_assert_int_eq(c2d_sh(cmd, 5000, &conf), 0);
	ck_assert_ptr_nonnull(strstr(conf, "plugin_opt_map_size 8\n"));
	ck_assert_int_eq(c2d_broker_stop(b), 0);
	ck_assert_ptr_nonnull(c2d_broker_write_file(b, "mosquitto.conf", conf));
	ck_assert_int_eq(c2d_broker_restart(b), 0);
	ck_assert(c2d_broker_wait_log(b, "map_size 8 MiB", WAIT));
	free(conf);
	free(cmd);
}

/* 503 while full; nothing accepted is lost when the map is raised. */
START_TEST(map_full_is_503)
{
	struct c2d_broker *b = start_small_map();
	struct fillup f;

	fill_up(&f, b, "raise plugin_opt_map_size");
	raise_map_size(b);
	ck_assert_int_eq(c2d_client_connect(f.app, b), 0);
	ck_assert_int_eq(c2d_client_subscribe(f.app, REPLIES, 1), 1);
	drain_and_write(&f, V5);
	fillup_free(&f);
	c2d_broker_cleanup(b);
}
END_TEST

/* After a 503 for a full map, the queue still drains and frees space
 * without a restart. */
START_TEST(map_full_queue_drains)
{
	struct c2d_broker *b = start_small_map();
	struct fillup f;

	fill_up(&f, b, "raise plugin_opt_map_size");
	drain_and_write(&f, V311);
	fillup_free(&f);
	c2d_broker_cleanup(b);
}
END_TEST

/* ---- a full disk: the database on a 4 MiB tmpfs with a 2.5 MiB ballast
 * file, LMDB map 64 MiB ---- */

#define TMPFS_SIZE "4m"
#define BALLAST_BYTES (2560 * 1024) /* freeing it leaves room to deliver */

static const char *ballast_path(struct c2d_broker *b)
{
	static char path[400];

	snprintf(path, sizeof(path), "%s/ballast", b->db_path);
	return path;
}

/* Operators free disk space: the ballast file goes. */
static void drop_ballast(struct c2d_broker *b)
{
	ck_assert_int_eq(unlink(ballast_path(b)), 0);
}

/* Mount a tmpfs on the broker's db dir, in a mount namespace of this test
 * process only (the broker, its child, shares it; nothing outlives the
 * test). Returns false (and says why) where the sandbox does not allow it. */
static bool mount_small_disk(struct c2d_broker *b)
{
	char *cmd;
	int rc;

	if(unshare(CLONE_NEWNS) != 0){
		printf("resources: disk full: SKIPPED, unshare(CLONE_NEWNS): %s\n", strerror(errno));
		return false;
	}
	if(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0
			|| mount("tmpfs", b->db_path, "tmpfs", 0, "size=" TMPFS_SIZE ",mode=0700") != 0){
		printf("resources: disk full: SKIPPED, mount -t tmpfs: %s\n", strerror(errno));
		return false;
	}
	cmd = c2d_strf("head -c %d /dev/zero > '%s'", BALLAST_BYTES, ballast_path(b));
	rc = c2d_sh(cmd, 5000, NULL);
	free(cmd);
	ck_assert_int_eq(rc, 0);
	return true;
}

START_TEST(disk_full_is_503_then_recovers)
{
	struct c2d_broker_opts o = {.plugin_opts = "plugin_opt_map_size 64\n" QUEUE_OPTS};
	struct c2d_broker *b = c2d_broker_start(&o);
	struct fillup f;
	bool mounted;

	ck_assert_ptr_nonnull(b);
	/* the database moves to the small disk: stop, mount, start again */
	ck_assert_int_eq(c2d_broker_stop(b), 0);
	mounted = mount_small_disk(b);
	if(mounted){
		ck_assert_int_eq(c2d_broker_restart(b), 0);
		fill_up(&f, b, "LMDB commit failed");
		drop_ballast(b);
		drain_and_write(&f, V311);
		fillup_free(&f);
		ck_assert_int_eq(c2d_broker_stop(b), 0);
		ck_assert_int_eq(umount(b->db_path), 0);
	}
	fflush(stdout);
	c2d_broker_cleanup(b);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("resources");
	TCase *tc = tcase_create("broker");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, map_full_is_503);
	tcase_add_test(tc, map_full_queue_drains);
	tcase_add_test(tc, disk_full_is_503_then_recovers);
	suite_add_tcase(s, tc);
	return c2d_check_run(s);
}
