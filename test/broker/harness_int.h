/* Broker test harness, private: what the harness_*.c files share and tests
 * never see (tests include harness.h only). The API and its conventions are
 * in harness.h; each harness_*.c file states what it owns:
 *   harness_util.c    allocation, clocks, strings, small file and fork helpers
 *   harness_spawn.c   the broker process: environment, fork/exec, watcher, reap
 *   harness_broker.c  struct c2d_broker: start, stop, restart, SIGHUP, cleanup
 *   harness_log.c     the broker log: mark, search, wait, dumps
 *   harness_store.c   the broker's LMDB store, fake clock and write faults
 *   harness_msg.c     received messages and MQTT v5 properties
 *   harness_client.c  struct c2d_client: loop thread, callbacks, connections
 *   harness_wait.c    publish/subscribe with acks, inbox waits, requests
 *   harness_proc.c    shell commands and mosquitto_passwd
 *   harness_drain.c   device-side helpers: admin queue depth, queue drain
 * Shared helpers are named c2dh_*.
 */
#ifndef C2D_HARNESS_INT_H
#define C2D_HARNESS_INT_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <lmdb.h>
#include <mosquitto.h>
#include <mqtt_protocol.h>

#include "harness.h"

#define DIAG "c2d-harness: "

/* A message acknowledged (PUBACK/PUBCOMP, SUBACK, UNSUBACK, written QoS 0):
 * its mid and result, until a waiter takes it. */
struct c2d_done {
	int mid;
	int rc;
};

/* A test client. Owned by the test (c2d_client_new .. c2d_client_destroy);
 * the fields under mu are written by the loop thread's callbacks. */
struct c2d_client {
	struct mosquitto *mosq;
	char *id;
	int protocol;
	bool clean;
	uint32_t session_expiry;
	bool loop_running; /* test thread only */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	/* under mu */
	bool connack_seen;
	int connack_rc;
	int connack_flags;
	bool connected;
	bool ended;        /* the connection since the last connect ended */
	unsigned disc_count;
	int disc_rc;
	struct c2d_done *done;
	size_t ndone, cap_done;
	struct c2d_msg *head, *tail;
	size_t count;
};

/* harness_client.c */
/* Waits (mu held) until cond(c) holds, the connection generation moves from
 * disc0 (if check_disc), or ms pass. Returns 0, C2D_ENOCONN or
 * C2D_ETIMEDOUT. */
int c2dh_wait_locked(struct c2d_client *c, bool (*cond)(struct c2d_client *, void *), void *arg,
		bool check_disc, unsigned disc0, int ms);

/* harness_log.c */
/* Prints path from byte `from` on to stderr between title lines. */
void c2dh_dump_file(const char *title, const char *path, long from);

/* harness_msg.c */
/* Appends a copy of every property of src to *dst using the add functions,
 * so the result is "client generated" (mosquitto_property_copy_all's result
 * is not, and mosquitto_publish_v5 then sends only its first property).
 * Returns MOSQ_ERR_SUCCESS or an error. */
int c2dh_props_append(mosquitto_property **dst, const mosquitto_property *src);
/* Copies a received message and its properties. Returns: caller owns. */
struct c2d_msg *c2dh_msg_copy(const struct mosquitto_message *src, const mosquitto_property *props);
/* One line describing m for diagnostics. */
void c2dh_msg_describe(FILE *f, const struct c2d_msg *m);

/* harness_spawn.c */
/* The write-fault trigger file and the libfaketime offset file in b's dir.
 * Returns: caller owns. */
char *c2dh_fault_trigger(const struct c2d_broker *b);
char *c2dh_faketime_file(const struct c2d_broker *b);
/* Forks and execs the broker; its stdout/stderr go to <dir>/broker.stderr.
 * It gets SIGTERM when the test process (thread) that started it ends. */
int c2dh_broker_spawn(struct c2d_broker *b);
/* The watcher: a shell in its own session reading a pipe until EOF. If the
 * test process ends without c2d_broker_cleanup (a failed assert exits the
 * test), it prints the kept dir and the end of the log. */
void c2dh_watcher_start(struct c2d_broker *b);
void c2dh_watcher_done(struct c2d_broker *b);
/* Reaps the broker if it ended. Returns true if it still runs. */
bool c2dh_broker_reap(struct c2d_broker *b, int options);

/* harness_util.c */
__attribute__((noreturn)) void c2dh_oom(void);
void *c2dh_xmalloc(size_t n);
void *c2dh_xcalloc(size_t n, size_t size);
char *c2dh_xstrdup(const char *s);
/* Absolute CLOCK_MONOTONIC deadline ms from now, for pthread_cond_timedwait. */
struct timespec c2dh_deadline_in(int ms);
/* Replaces every "@DIR@" in s with dir. Returns: caller owns; NULL for NULL. */
char *c2dh_subst_dir(const char *s, const char *dir);
/* Writes text (may be NULL) to f, ending it with a newline. */
void c2dh_put_lines(FILE *f, const char *text);
/* Writes content to path. Returns 0, -1 (printed). */
int c2dh_write_text(const char *path, const char *content);
/* Reads path from byte offset `from` to the end. Returns: caller owns,
 * NUL-terminated ("" if the file is missing or shorter); *len set if len. */
char *c2dh_read_from(const char *path, long from, size_t *len);
long c2dh_file_size(const char *path);
/* Removes path and everything under it. */
void c2dh_rm_rf(const char *path);
/* In a forked child, before exec: close every fd from lowfd up. */
void c2dh_close_from(int lowfd);
/* In a forked child, before exec: default signal dispositions and mask. */
void c2dh_child_reset_signals(void);
void c2dh_init(void);
/* Decodes a wait status: exit code, or 128+signal. */
int c2dh_decode_status(int st);

/* harness_wait.c */
/* Checks the client is connected; returns its connection generation in
 * *disc0. Returns 0 or C2D_ENOCONN (printed with what). */
int c2dh_require_connected(struct c2d_client *c, const char *what, const char *topic, unsigned *disc0);

#endif
