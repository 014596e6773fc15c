/* TICK: the plugin's own clock and timers. Mosquitto 2.0 sends TICK about
 * every 100 ms when idle and far more often under load, with no time in it,
 * so each tick reads CLOCK_MONOTONIC and CLOCK_REALTIME itself, confirms
 * pending connections, advances the private libuv loop (an in-memory timer
 * heap, never run with blocking modes), and gives each plane a budgeted turn.
 * Background work runs on duty cycles (duty.c): the expiry sweep at most
 * sweep_share %, the jobs job_share % of each 100 ms of CLOCK_MONOTONIC,
 * whatever the tick rate
 * (under load TICK fires thousands of times a second: a fixed slice per tick
 * would take most of the broker's time).
 * Everything a tick writes, with the answers of the loop pass it ends, is
 * one unit of work (unit.c): one store transaction, committed before its
 * publishes leave. */
#include <string.h>

#include "c2d.h"

/* sync periodic: the fdatasync of everything committed since the last one
 * runs on a worker thread, so the broker's loop does not wait for the disk
 * (after a burst of writes that can take tens of milliseconds). LMDB's
 * mdb_env_sync is an fsync of the data file that does not interact with
 * transactions: what was committed before it started is on disk when it
 * returns (Howard Chu, openldap-technical, 2015-12). */
static void sync_work(uv_work_t *req)
{
	struct c2d *c2d = req->data;

	c2d->sync_rc = c2d_store_sync_worker(c2d->store);
	atomic_store(&c2d->sync_finished, true);
}

static void start_sync(struct c2d *c2d);

static void sync_done(uv_work_t *req, int status)
{
	struct c2d *c2d = req->data;

	c2d->sync_busy = false;
	atomic_store(&c2d->sync_finished, false);
	if(status == 0) c2d_store_sync_report(c2d->store, c2d->sync_rc);
	if(c2d->sync_again && status == 0){
		/* what was committed while it ran must not wait a whole interval */
		c2d->sync_again = false;
		start_sync(c2d);
	}
}

static void on_sync_timer(uv_timer_t *timer)
{
	start_sync(timer->data);
}

static void start_sync(struct c2d *c2d)
{
	if(c2d->sync_busy){
		c2d->sync_again = true; /* the last one is still writing */
		return;
	}
	/* nothing committed since the last one started (every commit is the
	 * unit's, which counts it): no fsync, no worker wake-up */
	if(c2d->synced_once && c2d->counters[C2D_C_COMMITS] == c2d->sync_commits) return;
	c2d->synced_once = true;
	c2d->sync_commits = c2d->counters[C2D_C_COMMITS];
	c2d->sync_work.data = c2d;
	if(uv_queue_work(&c2d->loop, &c2d->sync_work, sync_work, sync_done) == 0){
		c2d->sync_busy = true;
	}else{
		c2d_store_sync(c2d->store); /* no worker: do it here */
	}
}

int c2d_tick_init(struct c2d *c2d)
{
	int rc;

	rc = uv_loop_init(&c2d->loop);
	if(rc){
		c2d_log(C2D_LOG_ERR, "cannot create the timer loop: %s", uv_strerror(rc));
		return C2D_ENOMEM;
	}
	c2d->loop_open = true;
	c2d->loop.data = c2d;
	if(c2d->conf.sync == C2D_SYNC_PERIODIC){
		uv_timer_init(&c2d->loop, &c2d->sync_timer);
		c2d->sync_timer.data = c2d;
		uv_timer_start(&c2d->sync_timer, on_sync_timer, c2d->conf.sync_interval_ms, c2d->conf.sync_interval_ms);
	}
	return 0;
}

static void close_walk(uv_handle_t *handle, void *arg)
{
	(void)arg;
	if(!uv_is_closing(handle)) uv_close(handle, NULL);
}

void c2d_tick_cleanup(struct c2d *c2d)
{
	if(!c2d->loop_open) return;
	c2d->sync_again = false; /* the sync below covers it */
	if(c2d->conf.sync == C2D_SYNC_PERIODIC && c2d->store) c2d_store_sync(c2d->store);
	uv_walk(&c2d->loop, close_walk, NULL);
	/* runs the close callbacks and waits for a sync still on its worker */
	uv_run(&c2d->loop, UV_RUN_DEFAULT);
	if(uv_loop_close(&c2d->loop) != 0){
		c2d_log(C2D_LOG_WARN, "timer loop closed with handles still open");
	}
	c2d->loop_open = false;
}

static uint64_t bg_share_us(const struct c2d *c2d, enum c2d_bg_kind kind)
{
	return (uint64_t)C2D_BG_WINDOW_US * (kind == C2D_BG_JOBS ? c2d->conf.job_share : c2d->conf.sweep_share) / 100;
}

uint64_t c2d_bg_allowance_us(struct c2d *c2d, enum c2d_bg_kind kind)
{
	return c2d_duty_allowance(&c2d->bg[kind], c2d_mono_us(), C2D_BG_WINDOW_US, bg_share_us(c2d, kind));
}

void c2d_bg_charge(struct c2d *c2d, enum c2d_bg_kind kind, uint64_t us, bool wrote)
{
	c2d_duty_charge(&c2d->bg[kind], us);
	if(wrote) c2d->bg_wrote[kind] = true;
}

/* Whether the private loop has anything to run: a due timer, a closing
 * handle, a finished sync. uv_run(NOWAIT) costs an epoll_wait (libuv's
 * threadpool handle is always registered) and TICK runs at the end of every
 * broker loop pass, just before the pass's plugin publishes leave: skipping
 * it when nothing is due takes a system call off every lightweight RPC hop. */
static bool loop_due(struct c2d *c2d)
{
	/* a finished sync's completion arrives through libuv's async handle */
	if(c2d->sync_busy && atomic_load(&c2d->sync_finished)) return true;
	uv_update_time(&c2d->loop);
	return uv_backend_timeout(&c2d->loop) == 0;
}

void c2d_tick(struct c2d *c2d)
{
	uint64_t t0;
	size_t i;
	bool store_ok;

	c2d_unit_begin(c2d, C2D_UNIT_TICK); /* shares the answer batch's transaction */
	/* a failed store (MDB_PANIC) is reopened, at most once a second and not
	 * under the sync worker; until then the timed store work waits */
	if(c2d_store_failed(c2d->store) && !c2d->sync_busy && c2d->now_ms >= c2d->reopen_at_ms){
		c2d->reopen_at_ms = c2d->now_ms + 1000;
		c2d_store_reopen(c2d->store);
	}
	store_ok = !c2d_store_failed(c2d->store);
	c2d_presence_confirm(c2d);
	if(store_ok) c2d_presence_catch_up(c2d, NULL, C2D_CATCHUP_MAX);
	/* timers publish no stored state (lightweight RPC and call timeouts,
	 * $SYS statistics): they use the outbox's side list */
	if(loop_due(c2d)) uv_run(&c2d->loop, UV_RUN_NOWAIT);
	memset(c2d->bg_wrote, 0, sizeof(c2d->bg_wrote));
	for(i = 0; store_ok && i < c2d->plane_count; i++){
		if(c2d->planes[i]->on_tick) c2d->planes[i]->on_tick(c2d);
	}
	t0 = c2d_mono_us();
	if(c2d_unit_commit(c2d)){
		c2d_log(C2D_LOG_WARN, "timed work not committed; it is retried at the next tick");
	}
	/* background work wrote in this transaction: its commit is its cost
	 * (each kind that wrote is charged the whole of it) */
	t0 = c2d_mono_us() - t0;
	for(i = 0; i < C2D_BG_KINDS; i++){
		if(c2d->bg_wrote[i]) c2d_bg_charge(c2d, (enum c2d_bg_kind)i, t0, false);
	}
	c2d_unit_close(c2d, false);
}
