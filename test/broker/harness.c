/* Broker test harness: see harness.h. */
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

#ifndef C2D_PLUGIN_PATH
#error "C2D_PLUGIN_PATH (absolute path of build/mosquitto_c2d.so) must be defined"
#endif
#ifndef C2D_FAULTFS_PATH
#error "C2D_FAULTFS_PATH (absolute path of build/test/libc2d_faultfs.so) must be defined"
#endif
#ifndef C2D_FAKETIME_LIB
/* Debian's libfaketime (package libfaketime); the MT build: the plugin's
 * periodic sync runs on a worker thread */
#define C2D_FAKETIME_LIB "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
#endif

extern char **environ;

#define DIAG "c2d-harness: "
#define STOP_TIMEOUT_MS 10000
#define LOG_DIAG_TAIL 8192

/* ================================================================== */
/* Utilities                                                           */
/* ================================================================== */

static long g_open_max = 1024;

static void oom(void)
{
	fprintf(stderr, DIAG "out of memory\n");
	abort();
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if(!p){
		oom();
	}
	return p;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if(!p){
		oom();
	}
	return p;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);
	if(!d){
		oom();
	}
	return d;
}

uint64_t c2d_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void c2d_sleep_ms(int ms)
{
	struct timespec ts;

	if(ms <= 0){
		return;
	}
	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while(nanosleep(&ts, &ts) == -1 && errno == EINTR){
	}
}

char *c2d_strf(const char *fmt, ...)
{
	va_list ap;
	char probe[1];
	int n;
	char *s;

	if(!fmt){
		return xstrdup("");
	}
	va_start(ap, fmt);
	n = vsnprintf(probe, sizeof(probe), fmt, ap);
	va_end(ap);
	if(n < 0){
		oom();
	}
	s = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* Absolute CLOCK_MONOTONIC deadline ms from now, for pthread_cond_timedwait. */
static struct timespec deadline_in(int ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	if(ms < 0){
		ms = 0;
	}
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if(ts.tv_nsec >= 1000000000L){
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* Replaces every "@DIR@" in s with dir. Returns: caller owns; NULL for NULL. */
static char *subst_dir(const char *s, const char *dir)
{
	const char *tag = "@DIR@";
	size_t taglen = strlen(tag), dirlen = strlen(dir), n = 0;
	const char *p;
	char *out, *o;

	if(!s){
		return NULL;
	}
	for(p = strstr(s, tag); p; p = strstr(p + taglen, tag)){
		n++;
	}
	out = xmalloc(strlen(s) + n * dirlen + 1);
	o = out;
	while((p = strstr(s, tag)) != NULL){
		memcpy(o, s, (size_t)(p - s));
		o += p - s;
		memcpy(o, dir, dirlen);
		o += dirlen;
		s = p + taglen;
	}
	strcpy(o, s);
	return out;
}

/* Writes text (may be NULL) to f, ending it with a newline. */
static void put_lines(FILE *f, const char *text)
{
	size_t n;

	if(!text || !*text){
		return;
	}
	n = strlen(text);
	fputs(text, f);
	if(text[n - 1] != '\n'){
		fputc('\n', f);
	}
}

/* Writes content to path. Returns 0, -1 (printed). */
static int write_text(const char *path, const char *content)
{
	FILE *f = fopen(path, "w");
	int rc = 0;

	if(!f){
		fprintf(stderr, DIAG "cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	if(content && fputs(content, f) == EOF){
		rc = -1;
	}
	if(fclose(f) != 0){
		rc = -1;
	}
	if(rc){
		fprintf(stderr, DIAG "cannot write %s: %s\n", path, strerror(errno));
	}
	return rc;
}

/* Reads path from byte offset `from` to the end. Returns: caller owns,
 * NUL-terminated ("" if the file is missing or shorter); *len set if len. */
static char *read_from(const char *path, long from, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n = 0, cap = 4096, r;

	buf = xmalloc(cap);
	if(f){
		if(fseek(f, from, SEEK_SET) == 0){
			while((r = fread(buf + n, 1, cap - n - 1, f)) > 0){
				n += r;
				if(cap - n - 1 == 0){
					char *nb = realloc(buf, cap * 2);
					if(!nb){
						oom();
					}
					buf = nb;
					cap *= 2;
				}
			}
		}
		fclose(f);
	}
	buf[n] = '\0';
	if(len){
		*len = n;
	}
	return buf;
}

static long file_size(const char *path)
{
	struct stat st;

	if(stat(path, &st) != 0){
		return 0;
	}
	return (long)st.st_size;
}

/* Removes path and everything under it. */
static void rm_rf(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *e;

	if(lstat(path, &st) != 0){
		return;
	}
	if(S_ISDIR(st.st_mode)){
		d = opendir(path);
		if(d){
			while((e = readdir(d)) != NULL){
				char *sub;
				if(!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")){
					continue;
				}
				sub = c2d_strf("%s/%s", path, e->d_name);
				rm_rf(sub);
				free(sub);
			}
			closedir(d);
		}
		rmdir(path);
	}else{
		unlink(path);
	}
}

/* In a forked child, before exec: close every fd from lowfd up. */
static void close_from(int lowfd)
{
	int fd;

#ifdef SYS_close_range
	if(syscall(SYS_close_range, (unsigned)lowfd, ~0U, 0) == 0){
		return;
	}
#endif
	for(fd = lowfd; fd < g_open_max; fd++){
		close(fd);
	}
}

/* In a forked child, before exec: default signal dispositions and mask. */
static void child_reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void init_once(void)
{
	struct sigaction sa;
	long m = sysconf(_SC_OPEN_MAX);

	if(m > 0){
		g_open_max = m > 65536 ? 65536 : m;
	}
	/* libmosquitto writes to sockets with write(): a broker that goes away
	 * must not kill the test with SIGPIPE. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
	mosquitto_lib_init();
}

static void harness_init(void)
{
	pthread_once(&g_once, init_once);
}

/* Decodes a wait status: exit code, or 128+signal. */
static int decode_status(int st)
{
	if(WIFEXITED(st)){
		return WEXITSTATUS(st);
	}
	if(WIFSIGNALED(st)){
		return 128 + WTERMSIG(st);
	}
	return -1;
}

/* ================================================================== */
/* Broker                                                              */
/* ================================================================== */

/* A port that was free on 127.0.0.1 a moment ago; -1 on error. */
int c2d_free_port(void)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int s, port = -1;

	s = socket(AF_INET, SOCK_STREAM, 0);
	if(s < 0){
		return -1;
	}
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = 0;
	if(bind(s, (struct sockaddr *)&a, sizeof(a)) == 0
			&& getsockname(s, (struct sockaddr *)&a, &alen) == 0){
		port = ntohs(a.sin_port);
	}
	close(s);
	return port;
}

static int write_conf(struct c2d_broker *b, const struct c2d_broker_opts *o)
{
	FILE *f;
	char *t;

	f = fopen(b->conf_path, "w");
	if(!f){
		fprintf(stderr, DIAG "cannot write %s: %s\n", b->conf_path, strerror(errno));
		return -1;
	}
	fprintf(f, "# generated by test/broker/harness.c\n");
	if(geteuid() == 0){
		/* else the broker drops to user mosquitto and cannot write the dir */
		fprintf(f, "user root\n");
	}
	t = subst_dir(o->conf_pre, b->dir);
	put_lines(f, t);
	free(t);
	fprintf(f, "listener %d 127.0.0.1\n", b->port);
	fprintf(f, "allow_anonymous true\n");
	fprintf(f, "log_dest file %s\n", b->log_path);
	fprintf(f, "log_type all\n");
	fprintf(f, "persistence false\n");
	if(!o->no_plugin){
		fprintf(f, "plugin %s\n", C2D_PLUGIN_PATH);
		fprintf(f, "plugin_opt_db_path %s\n", b->db_path);
		/* the broker logs everything (log_type all): the plugin too; a
		 * test's own plugin_opt_log_level (below) wins */
		fprintf(f, "plugin_opt_log_level debug\n");
		t = subst_dir(o->plugin_opts, b->dir);
		put_lines(f, t);
		free(t);
	}
	if(o->acl){
		fprintf(f, "acl_file %s/acl\n", b->dir);
	}
	t = subst_dir(o->conf, b->dir);
	put_lines(f, t);
	free(t);
	if(fclose(f) != 0){
		fprintf(stderr, DIAG "cannot write %s: %s\n", b->conf_path, strerror(errno));
		return -1;
	}
	return 0;
}

static char *fault_trigger(const struct c2d_broker *b)
{
	return c2d_strf("%s/fail-writes", b->dir);
}

static char *faketime_file(const struct c2d_broker *b)
{
	return c2d_strf("%s/faketime", b->dir);
}

/* The broker's environment: ours, plus (with write faults) the fault library
 * after whatever LD_PRELOAD already holds (the sanitizer runtime must stay
 * first) and its trigger file, plus (with fake_time) libfaketime reading
 * its offset from a file at every call, the monotonic clock left real.
 * Returns: caller owns (env_free). */
static char **broker_env(const struct c2d_broker *b)
{
	const char *pre = getenv("LD_PRELOAD");
	char *trigger, *preload;
	char **env;
	size_t n = 0, k = 0, i;
	bool own_preload = b->write_faults || b->fake_time;

	while(environ[n]) n++;
	env = xcalloc(n + 7, sizeof(*env));
	for(i = 0; i < n; i++){
		if(own_preload && !strncmp(environ[i], "LD_PRELOAD=", 11)) continue;
		if(b->write_faults && !strncmp(environ[i], "C2D_FAULTFS_TRIGGER=", 20)) continue;
		if(b->fake_time && !strncmp(environ[i], "FAKETIME", 8)) continue;
		env[k++] = xstrdup(environ[i]);
	}
	preload = xstrdup(pre && *pre && own_preload ? pre : "");
	if(b->write_faults){
		trigger = fault_trigger(b);
		env[k++] = c2d_strf("C2D_FAULTFS_TRIGGER=%s", trigger);
		free(trigger);
		trigger = c2d_strf("%s%s%s", preload, *preload ? " " : "", C2D_FAULTFS_PATH);
		free(preload);
		preload = trigger;
	}
	if(b->fake_time){
		trigger = faketime_file(b);
		env[k++] = c2d_strf("FAKETIME_TIMESTAMP_FILE=%s", trigger);
		free(trigger);
		env[k++] = xstrdup("FAKETIME_NO_CACHE=1");
		env[k++] = xstrdup("FAKETIME_DONT_FAKE_MONOTONIC=1");
		trigger = c2d_strf("%s%s%s", preload, *preload ? " " : "", C2D_FAKETIME_LIB);
		free(preload);
		preload = trigger;
	}
	if(own_preload) env[k++] = c2d_strf("LD_PRELOAD=%s", preload);
	free(preload);
	return env;
}

/* ---- the broker's LMDB store, from the test process ---- */

/* Opens b's environment and table in a transaction. Returns 0 or -1. */
static int db_open(struct c2d_broker *b, const char *table, unsigned int flags, MDB_env **env,
		MDB_txn **txn, MDB_dbi *dbi)
{
	int rc = mdb_env_create(env);

	if(rc == 0) rc = mdb_env_set_maxdbs(*env, 16);
	if(rc == 0) rc = mdb_env_open(*env, b->db_path, MDB_NOTLS, 0600);
	if(rc == 0) rc = mdb_txn_begin(*env, NULL, flags, txn);
	if(rc == 0){
		rc = mdb_dbi_open(*txn, table, 0, dbi);
		if(rc) mdb_txn_abort(*txn);
	}
	if(rc){
		fprintf(stderr, DIAG "LMDB %s, table %s: %s\n", b->db_path, table, mdb_strerror(rc));
		mdb_env_close(*env);
		return -1;
	}
	return 0;
}

/* put (val not NULL) or del (val NULL) in one write transaction. */
static int db_write(struct c2d_broker *b, const char *table, const void *key, size_t klen,
		const void *val, size_t vlen)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {klen, (void *)key}, v = {vlen, (void *)val};
	int rc;

	if(db_open(b, table, 0, &env, &txn, &dbi)) return -1;
	rc = val ? mdb_put(txn, dbi, &k, &v, 0) : mdb_del(txn, dbi, &k, NULL);
	if(rc == MDB_NOTFOUND && val == NULL) rc = 0;
	if(rc == 0){
		rc = mdb_txn_commit(txn);
	}else{
		mdb_txn_abort(txn);
	}
	mdb_env_close(env);
	if(rc) fprintf(stderr, DIAG "LMDB %s in %s: %s\n", val ? "put" : "del", table, mdb_strerror(rc));
	return rc ? -1 : 0;
}

int c2d_broker_db_put(struct c2d_broker *b, const char *table, const void *key, size_t klen,
		const void *val, size_t vlen)
{
	return db_write(b, table, key, klen, val ? val : "", vlen);
}

int c2d_broker_db_del(struct c2d_broker *b, const char *table, const void *key, size_t klen)
{
	return db_write(b, table, key, klen, NULL, 0);
}

int c2d_broker_db_get(struct c2d_broker *b, const char *table, const void *key, size_t klen,
		void **val, size_t *len)
{
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k = {klen, (void *)key}, v;
	int rc;

	*val = NULL;
	*len = 0;
	if(db_open(b, table, MDB_RDONLY, &env, &txn, &dbi)) return -1;
	rc = mdb_get(txn, dbi, &k, &v);
	if(rc == 0){
		*val = xcalloc(1, v.mv_size + 1);
		memcpy(*val, v.mv_data, v.mv_size);
		*len = v.mv_size;
	}else{
		fprintf(stderr, DIAG "LMDB get in %s: %s\n", table, mdb_strerror(rc));
	}
	mdb_txn_abort(txn);
	mdb_env_close(env);
	return rc ? -1 : 0;
}

int c2d_broker_shift_clock(struct c2d_broker *b, long seconds)
{
	char *path = faketime_file(b);
	char *tmp = c2d_strf("%s.new", path);
	FILE *f = fopen(tmp, "w");
	int rc = -1;

	/* renamed into place: the broker never reads a half-written offset */
	if(f && fprintf(f, "%+ld\n", seconds) > 0 && fclose(f) == 0){
		f = NULL;
		rc = rename(tmp, path) == 0 ? 0 : -1;
	}
	if(f) fclose(f);
	if(rc) fprintf(stderr, DIAG "cannot write %s: %s\n", path, strerror(errno));
	free(tmp);
	free(path);
	return rc;
}

static void env_free(char **env)
{
	size_t i;

	for(i = 0; env[i]; i++) free(env[i]);
	free(env);
}

void c2d_broker_fail_writes(struct c2d_broker *b, enum c2d_write_fault which)
{
	char *trigger = fault_trigger(b);
	char *tmp = c2d_strf("%s.new", trigger);
	FILE *f;

	if(which == C2D_WRITES_OK){
		unlink(trigger);
	}else{
		/* renamed into place: the broker never reads a half-written mode */
		f = fopen(tmp, "w");
		if(f){
			fputs(which == C2D_WRITES_META ? "meta" : "enospc", f);
			fclose(f);
			rename(tmp, trigger);
		}
	}
	free(tmp);
	free(trigger);
}

/* Forks and execs the broker; its stdout/stderr go to <dir>/broker.stderr.
 * It gets SIGTERM when the test process (thread) that started it ends. */
static int broker_spawn(struct c2d_broker *b)
{
	char errpath[400];
	pid_t parent = getpid(), pid;
	int errfd, nullfd;
	char **env;

	snprintf(errpath, sizeof(errpath), "%s/broker.stderr", b->dir);
	errfd = open(errpath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if(errfd < 0 || nullfd < 0){
		fprintf(stderr, DIAG "cannot open %s or /dev/null: %s\n", errpath, strerror(errno));
		if(errfd >= 0){
			close(errfd);
		}
		if(nullfd >= 0){
			close(nullfd);
		}
		return -1;
	}
	env = broker_env(b);
	pid = fork();
	if(pid < 0){
		fprintf(stderr, DIAG "fork: %s\n", strerror(errno));
		close(errfd);
		close(nullfd);
		env_free(env);
		return -1;
	}
	if(pid == 0){
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if(getppid() != parent){
			_exit(127);
		}
		dup2(nullfd, 0);
		dup2(errfd, 1);
		dup2(errfd, 2);
		close_from(3);
		child_reset_signals();
		execle(C2D_MOSQUITTO_BIN, "mosquitto", "-c", b->conf_path, (char *)NULL, env);
		_exit(127);
	}
	env_free(env);
	close(errfd);
	close(nullfd);
	b->pid = pid;
	b->exit_status = -1;
	return 0;
}

/* The watcher: a shell in its own session reading a pipe until EOF. If the
 * test process ends without c2d_broker_cleanup (a failed assert exits the
 * test), it prints the kept dir and the end of the log. */
static void watcher_start(struct c2d_broker *b)
{
	static const char script[] =
			"if [ \"$(cat)\" != done ]; then\n"
			"  { echo \"c2d-harness: the test ended without c2d_broker_cleanup (failed?); broker dir kept: $1\"\n"
			"    echo \"c2d-harness: ---- last 60 lines of $1/broker.log ----\"\n"
			"    tail -n 60 \"$1/broker.log\" 2>/dev/null\n"
			"    echo \"c2d-harness: ---- end of broker.log ----\"; } >&2\n"
			"fi\n";
	int fds[2];
	pid_t pid;

	b->watcher_pid = 0;
	b->watcher_fd = -1;
	if(pipe(fds) != 0){
		return;
	}
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	pid = fork();
	if(pid < 0){
		close(fds[0]);
		close(fds[1]);
		return;
	}
	if(pid == 0){
		setsid(); /* out of the test's process group: survives Check's killpg */
		dup2(fds[0], 0);
		close_from(3);
		child_reset_signals();
		execl("/bin/sh", "sh", "-c", script, "c2d-watcher", b->dir, (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	b->watcher_pid = pid;
	b->watcher_fd = fds[1];
}

static void watcher_done(struct c2d_broker *b)
{
	if(b->watcher_fd >= 0){
		if(write(b->watcher_fd, "done", 4) != 4){
			/* the watcher is gone; nothing to tell */
		}
		close(b->watcher_fd);
		b->watcher_fd = -1;
	}
	if(b->watcher_pid > 0){
		waitpid(b->watcher_pid, NULL, 0);
		b->watcher_pid = 0;
	}
}

/* Reaps the broker if it ended. Returns true if it still runs. */
static bool broker_reap(struct c2d_broker *b, int options)
{
	int st;
	pid_t r;

	if(b->pid <= 0){
		return false;
	}
	do{
		r = waitpid(b->pid, &st, options);
	}while(r < 0 && errno == EINTR);
	if(r == 0){
		return true;
	}
	if(r == b->pid){
		b->exit_status = decode_status(st);
	}
	b->pid = 0;
	return false;
}

bool c2d_broker_alive(struct c2d_broker *b)
{
	return b && broker_reap(b, WNOHANG);
}

/* True if text has the broker's "mosquitto version X running" line. */
static bool has_running_line(const char *text)
{
	const char *p = text;

	while((p = strstr(p, " running")) != NULL){
		const char *end = p + strlen(" running");
		const char *bol = p;
		while(bol > text && bol[-1] != '\n'){
			bol--;
		}
		if((*end == '\n' || *end == '\0') && strstr(bol, "mosquitto version ") != NULL
				&& strstr(bol, "mosquitto version ") < p){
			return true;
		}
		p = end;
	}
	return false;
}

/* Waits for the running line after byte `from`. Returns 0 running, -1 the
 * process exited, -2 timed out (still running). */
static int broker_wait_running(struct c2d_broker *b, long from, int timeout_ms)
{
	uint64_t end = c2d_now_ms() + (uint64_t)timeout_ms;

	for(;;){
		char *text = read_from(b->log_path, from, NULL);
		bool ok = has_running_line(text);
		free(text);
		if(ok){
			return 0;
		}
		if(!c2d_broker_alive(b)){
			/* one more look: the line may have been written just before exit */
			text = read_from(b->log_path, from, NULL);
			ok = has_running_line(text);
			free(text);
			return ok ? 0 : -1;
		}
		if(c2d_now_ms() >= end){
			return -2;
		}
		c2d_sleep_ms(5);
	}
}

static void dump_file(const char *title, const char *path, long from)
{
	char *text = read_from(path, from, NULL);

	fprintf(stderr, DIAG "---- %s (%s) ----\n%s", title, path, text);
	if(*text && text[strlen(text) - 1] != '\n'){
		fputc('\n', stderr);
	}
	fprintf(stderr, DIAG "---- end of %s ----\n", title);
	free(text);
}

void c2d_broker_dump_log(struct c2d_broker *b)
{
	char errpath[400];

	if(!b){
		return;
	}
	snprintf(errpath, sizeof(errpath), "%s/broker.stderr", b->dir);
	dump_file("broker.log", b->log_path, 0);
	dump_file("broker stderr", errpath, 0);
}

/* Writes opts' files and acl before the first start. */
static int write_start_files(struct c2d_broker *b, const struct c2d_broker_opts *o)
{
	const struct c2d_broker_file *f;
	int rc = 0;

	for(f = o->files; f && f->name; f++){
		char *content = subst_dir(f->content ? f->content : "", b->dir);
		if(!c2d_broker_write_file(b, f->name, content)){
			rc = -1;
		}
		free(content);
	}
	if(o->acl){
		char *content = subst_dir(o->acl, b->dir);
		if(!c2d_broker_write_file(b, "acl", content)){
			rc = -1;
		}
		free(content);
	}
	return rc;
}

struct c2d_broker *c2d_broker_start(const struct c2d_broker_opts *opts)
{
	static const struct c2d_broker_opts defaults;
	const char *tmp = getenv("TMPDIR");
	struct c2d_broker *b;
	uint64_t t0 = c2d_now_ms();
	long from = 0;
	int attempt, rc = -1;

	harness_init();
	if(!opts){
		opts = &defaults;
	}
	b = xcalloc(1, sizeof(*b));
	b->exit_status = -1;
	b->watcher_fd = -1;
	b->write_faults = opts->write_faults;
	b->fake_time = opts->fake_time;
	snprintf(b->dir, sizeof(b->dir), "%s/c2d-broker-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if(!mkdtemp(b->dir)){
		fprintf(stderr, DIAG "mkdtemp %s: %s\n", b->dir, strerror(errno));
		free(b);
		return NULL;
	}
	snprintf(b->conf_path, sizeof(b->conf_path), "%s/mosquitto.conf", b->dir);
	snprintf(b->log_path, sizeof(b->log_path), "%s/broker.log", b->dir);
	snprintf(b->db_path, sizeof(b->db_path), "%s/db", b->dir);
	if(mkdir(b->db_path, 0700) != 0 || write_start_files(b, opts) != 0
			|| (b->fake_time && c2d_broker_shift_clock(b, 0) != 0)){
		fprintf(stderr, DIAG "cannot prepare %s\n", b->dir);
		b->keep = true;
		c2d_broker_cleanup(b);
		return NULL;
	}
	watcher_start(b);

	/* The port is free when picked but may be taken before the broker binds:
	 * try again with another one if that is why it failed. */
	for(attempt = 0; attempt < 3; attempt++){
		char *text;
		bool in_use;

		b->port = c2d_free_port();
		if(b->port <= 0 || write_conf(b, opts) != 0){
			fprintf(stderr, DIAG "cannot pick a port or write %s\n", b->conf_path);
			rc = -1;
			break;
		}
		from = file_size(b->log_path);
		if(broker_spawn(b) != 0){
			rc = -1;
			break;
		}
		rc = broker_wait_running(b, from, C2D_START_TIMEOUT_MS);
		if(rc != -1){
			break;
		}
		text = read_from(b->log_path, from, NULL);
		in_use = strstr(text, "Address already in use") != NULL;
		free(text);
		if(!in_use){
			break;
		}
		fprintf(stderr, DIAG "port %d was taken before the broker bound it; trying another\n", b->port);
	}
	b->log_mark = from;

	if(opts->expect_fail){
		if(rc == -1){
			return b;
		}
		fprintf(stderr, DIAG "expected the broker to fail to start, but it %s (dir %s)\n",
				rc == 0 ? "runs" : "neither ran nor exited", b->dir);
		c2d_broker_dump_log(b);
		c2d_broker_cleanup(b);
		return NULL;
	}
	if(rc != 0){
		if(rc == -2){
			fprintf(stderr, DIAG "broker did not log \"running\" within %d ms; killing it\n",
					C2D_START_TIMEOUT_MS);
			c2d_broker_kill9(b);
		}else{
			fprintf(stderr, DIAG "broker failed to start (exit status %d)\n", b->exit_status);
		}
		c2d_broker_dump_log(b);
		fprintf(stderr, DIAG "broker dir kept: %s\n", b->dir);
		b->keep = true;
		c2d_broker_cleanup(b);
		return NULL;
	}
	if(getenv("C2D_VERBOSE")){
		fprintf(stderr, DIAG "broker pid %d port %d dir %s started in %llu ms\n", (int)b->pid, b->port,
				b->dir, (unsigned long long)(c2d_now_ms() - t0));
	}
	return b;
}

int c2d_broker_stop(struct c2d_broker *b)
{
	uint64_t end;

	if(!b || !c2d_broker_alive(b)){
		return -1;
	}
	kill(b->pid, SIGTERM);
	end = c2d_now_ms() + STOP_TIMEOUT_MS;
	while(c2d_now_ms() < end){
		if(!broker_reap(b, WNOHANG)){
			return b->exit_status >= 0 && b->exit_status < 128 ? b->exit_status : -1;
		}
		c2d_sleep_ms(5);
	}
	fprintf(stderr, DIAG "broker pid %d did not stop within %d ms of SIGTERM; SIGKILL\n", (int)b->pid,
			STOP_TIMEOUT_MS);
	c2d_broker_kill9(b);
	return -1;
}

int c2d_broker_kill9(struct c2d_broker *b)
{
	if(!b || !c2d_broker_alive(b)){
		return -1;
	}
	kill(b->pid, SIGKILL);
	broker_reap(b, 0);
	return 0;
}

int c2d_broker_restart(struct c2d_broker *b)
{
	long from;
	int rc;

	if(!b){
		return -1;
	}
	if(c2d_broker_alive(b)){
		c2d_broker_stop(b);
	}
	from = file_size(b->log_path);
	b->log_mark = from;
	if(broker_spawn(b) != 0){
		return -1;
	}
	rc = broker_wait_running(b, from, C2D_START_TIMEOUT_MS);
	if(rc == 0){
		return 0;
	}
	if(rc == -2){
		fprintf(stderr, DIAG "restarted broker did not log \"running\" within %d ms; killing it\n",
				C2D_START_TIMEOUT_MS);
		c2d_broker_kill9(b);
	}else{
		fprintf(stderr, DIAG "restarted broker exited (status %d)\n", b->exit_status);
	}
	dump_file("broker.log since the restart", b->log_path, from);
	return -1;
}

int c2d_broker_sighup(struct c2d_broker *b)
{
	uint64_t end;
	long from;

	if(!b || !c2d_broker_alive(b)){
		fprintf(stderr, DIAG "sighup: broker not running\n");
		return -1;
	}
	from = file_size(b->log_path);
	kill(b->pid, SIGHUP);
	end = c2d_now_ms() + C2D_ACK_TIMEOUT_MS;
	for(;;){
		char *text = read_from(b->log_path, from, NULL);
		bool ok = strstr(text, "Reloading config.") != NULL;
		free(text);
		if(ok){
			return 0;
		}
		if(!c2d_broker_alive(b) || c2d_now_ms() >= end){
			break;
		}
		c2d_sleep_ms(5);
	}
	fprintf(stderr, DIAG "sighup: no \"Reloading config.\" in the log (broker %s)\n",
			b->pid ? "running" : "exited");
	dump_file("broker.log since the SIGHUP", b->log_path, from);
	return -1;
}

void c2d_broker_log_mark(struct c2d_broker *b)
{
	if(b){
		b->log_mark = file_size(b->log_path);
	}
}

char *c2d_broker_log_text(struct c2d_broker *b)
{
	if(!b){
		return NULL;
	}
	return read_from(b->log_path, b->log_mark, NULL);
}

bool c2d_broker_log_contains(struct c2d_broker *b, const char *needle)
{
	char *text;
	bool found;

	if(!b || !needle){
		return false;
	}
	text = read_from(b->log_path, b->log_mark, NULL);
	found = strstr(text, needle) != NULL;
	free(text);
	return found;
}

int c2d_broker_log_count(struct c2d_broker *b, const char *needle)
{
	char *text;
	const char *p;
	int n = 0;

	if(!b || !needle || !*needle){
		return 0;
	}
	text = read_from(b->log_path, b->log_mark, NULL);
	for(p = strstr(text, needle); p; p = strstr(p + strlen(needle), needle)){
		n++;
	}
	free(text);
	return n;
}

bool c2d_broker_wait_log(struct c2d_broker *b, const char *needle, int timeout_ms)
{
	uint64_t end = c2d_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	bool alive = true;
	char *text;
	size_t len;

	if(!b || !needle){
		return false;
	}
	for(;;){
		if(c2d_broker_log_contains(b, needle)){
			return true;
		}
		if(!alive || c2d_now_ms() >= end){
			break;
		}
		/* if it died, look once more (its last lines) and stop */
		alive = c2d_broker_alive(b);
		if(alive){
			c2d_sleep_ms(10);
		}
	}
	text = read_from(b->log_path, b->log_mark, &len);
	fprintf(stderr, DIAG "wait_log: \"%s\" not in the broker log after %d ms (broker %s)\n", needle,
			timeout_ms, alive ? "running" : "exited");
	fprintf(stderr, DIAG "---- broker.log since the mark%s ----\n%s\n" DIAG "---- end ----\n",
			len > LOG_DIAG_TAIL ? " (tail)" : "", len > LOG_DIAG_TAIL ? text + len - LOG_DIAG_TAIL : text);
	free(text);
	return false;
}

const char *c2d_broker_write_file(struct c2d_broker *b, const char *name, const char *content)
{
	char *path, **np;

	if(!b || !name){
		return NULL;
	}
	path = c2d_strf("%s/%s", b->dir, name);
	if(write_text(path, content) != 0){
		free(path);
		return NULL;
	}
	np = realloc(b->paths, (b->npaths + 1) * sizeof(*np));
	if(!np){
		oom();
	}
	b->paths = np;
	b->paths[b->npaths++] = path;
	return path;
}

void c2d_broker_cleanup(struct c2d_broker *b)
{
	const char *keep_env = getenv("C2D_KEEP");
	size_t i;

	if(!b){
		return;
	}
	if(c2d_broker_alive(b)){
		c2d_broker_stop(b);
	}
	watcher_done(b);
	if(b->keep || (keep_env && !strcmp(keep_env, "1"))){
		fprintf(stderr, DIAG "broker dir kept: %s\n", b->dir);
	}else{
		rm_rf(b->dir);
	}
	for(i = 0; i < b->npaths; i++){
		free(b->paths[i]);
	}
	free(b->paths);
	free(b);
}

/* ================================================================== */
/* Messages and properties                                             */
/* ================================================================== */

const char *c2d_msg_user_prop(const struct c2d_msg *m, const char *key)
{
	int i;

	if(!m || !key){
		return NULL;
	}
	for(i = 0; i < m->user_prop_count; i++){
		if(!strcmp(m->user_props[i].key, key)){
			return m->user_props[i].value;
		}
	}
	return NULL;
}

bool c2d_msg_corr_eq(const struct c2d_msg *m, const void *corr, int len)
{
	if(!m || !m->corr || !corr){
		return false;
	}
	return m->corr_len == len && memcmp(m->corr, corr, (size_t)len) == 0;
}

void c2d_msg_free(struct c2d_msg *m)
{
	int i;

	if(!m){
		return;
	}
	free(m->topic);
	free(m->payload);
	free(m->corr);
	free(m->response_topic);
	free(m->content_type);
	for(i = 0; i < m->user_prop_count; i++){
		free(m->user_props[i].key);
		free(m->user_props[i].value);
	}
	free(m->user_props);
	mosquitto_property_free_all(&m->props);
	free(m);
}

/* Appends a copy of every property of src to *dst using the add functions,
 * so the result is "client generated" (mosquitto_property_copy_all's result
 * is not, and mosquitto_publish_v5 then sends only its first property).
 * Returns MOSQ_ERR_SUCCESS or an error. */
static int props_append(mosquitto_property **dst, const mosquitto_property *src)
{
	const mosquitto_property *p;
	int rc = MOSQ_ERR_SUCCESS;

	for(p = src; p && rc == MOSQ_ERR_SUCCESS; p = mosquitto_property_next(p)){
		int id = mosquitto_property_identifier(p);
		uint8_t u8;
		uint16_t u16;
		uint32_t u32;
		void *bin = NULL;
		char *s = NULL, *v = NULL;

		if(mosquitto_property_read_byte(p, id, &u8, false)){
			rc = mosquitto_property_add_byte(dst, id, u8);
		}else if(mosquitto_property_read_int16(p, id, &u16, false)){
			rc = mosquitto_property_add_int16(dst, id, u16);
		}else if(mosquitto_property_read_int32(p, id, &u32, false)){
			rc = mosquitto_property_add_int32(dst, id, u32);
		}else if(mosquitto_property_read_varint(p, id, &u32, false)){
			rc = mosquitto_property_add_varint(dst, id, u32);
		}else if(mosquitto_property_read_binary(p, id, &bin, &u16, false)){
			rc = mosquitto_property_add_binary(dst, id, bin, u16);
			free(bin);
		}else if(mosquitto_property_read_string_pair(p, id, &s, &v, false)){
			rc = mosquitto_property_add_string_pair(dst, id, s, v);
			free(s);
			free(v);
		}else if(mosquitto_property_read_string(p, id, &s, false)){
			rc = mosquitto_property_add_string(dst, id, s);
			free(s);
		}else{
			rc = MOSQ_ERR_INVAL;
		}
	}
	return rc;
}

mosquitto_property *c2d_props_build(const struct c2d_props *p)
{
	mosquitto_property *pr = NULL;
	int rc = MOSQ_ERR_SUCCESS;
	const char *const *u;

	if(!p){
		return NULL;
	}
	if(p->response_topic){
		rc = mosquitto_property_add_string(&pr, MQTT_PROP_RESPONSE_TOPIC, p->response_topic);
	}
	if(!rc && p->corr){
		int len = p->corr_len > 0 ? p->corr_len : (int)strlen(p->corr);
		rc = mosquitto_property_add_binary(&pr, MQTT_PROP_CORRELATION_DATA, p->corr, (uint16_t)len);
	}
	if(!rc && p->content_type){
		rc = mosquitto_property_add_string(&pr, MQTT_PROP_CONTENT_TYPE, p->content_type);
	}
	if(!rc && p->expiry){
		rc = mosquitto_property_add_int32(&pr, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, p->expiry);
	}
	for(u = p->user; !rc && u && u[0]; u += 2){
		if(!u[1]){
			fprintf(stderr, DIAG "c2d_props_build: user property \"%s\" has no value\n", u[0]);
			rc = MOSQ_ERR_INVAL;
			break;
		}
		rc = mosquitto_property_add_string_pair(&pr, MQTT_PROP_USER_PROPERTY, u[0], u[1]);
	}
	if(rc){
		fprintf(stderr, DIAG "c2d_props_build: %s\n", mosquitto_strerror(rc));
		mosquitto_property_free_all(&pr);
		return NULL;
	}
	return pr;
}

/* Copies a received message and its properties. Returns: caller owns. */
static struct c2d_msg *msg_copy(const struct mosquitto_message *src, const mosquitto_property *props)
{
	struct c2d_msg *m = xcalloc(1, sizeof(*m));
	const mosquitto_property *p;
	char *k = NULL, *v = NULL;
	uint16_t blen = 0;
	int cap = 0;

	m->topic = xstrdup(src->topic ? src->topic : "");
	m->payloadlen = src->payloadlen;
	m->payload = xmalloc((size_t)src->payloadlen + 1);
	if(src->payloadlen > 0){
		memcpy(m->payload, src->payload, (size_t)src->payloadlen);
	}
	m->payload[src->payloadlen] = '\0';
	m->qos = src->qos;
	m->retain = src->retain;
	m->mid = src->mid;
	if(!props){
		return m;
	}
	if(props_append(&m->props, props) != MOSQ_ERR_SUCCESS){
		fprintf(stderr, DIAG "could not copy the properties of a message on %s\n", m->topic);
	}
	if(mosquitto_property_read_binary(props, MQTT_PROP_CORRELATION_DATA, &m->corr, &blen, false)){
		m->corr_len = blen;
	}
	mosquitto_property_read_string(props, MQTT_PROP_RESPONSE_TOPIC, &m->response_topic, false);
	mosquitto_property_read_string(props, MQTT_PROP_CONTENT_TYPE, &m->content_type, false);
	if(mosquitto_property_read_int32(props, MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, &m->expiry, false)){
		m->has_expiry = true;
	}
	p = mosquitto_property_read_string_pair(props, MQTT_PROP_USER_PROPERTY, &k, &v, false);
	while(p){
		if(m->user_prop_count == cap){
			struct c2d_user_prop *nu;
			cap = cap ? cap * 2 : 4;
			nu = realloc(m->user_props, (size_t)cap * sizeof(*nu));
			if(!nu){
				oom();
			}
			m->user_props = nu;
		}
		m->user_props[m->user_prop_count].key = k;
		m->user_props[m->user_prop_count].value = v;
		m->user_prop_count++;
		k = v = NULL;
		p = mosquitto_property_read_string_pair(p, MQTT_PROP_USER_PROPERTY, &k, &v, true);
	}
	return m;
}

/* One line describing m for diagnostics. */
static void msg_describe(FILE *f, const struct c2d_msg *m)
{
	int i, n = m->payloadlen > 80 ? 80 : m->payloadlen;

	fprintf(f, "    topic \"%s\" qos %d%s payload(%d) \"", m->topic, m->qos, m->retain ? " retained" : "",
			m->payloadlen);
	for(i = 0; i < n; i++){
		unsigned char ch = (unsigned char)m->payload[i];
		fputc(ch >= 0x20 && ch < 0x7f ? ch : '.', f);
	}
	fprintf(f, "%s\"", m->payloadlen > n ? "..." : "");
	if(m->corr){
		fprintf(f, " corr(%d)", m->corr_len);
	}
	if(m->response_topic){
		fprintf(f, " response_topic \"%s\"", m->response_topic);
	}
	for(i = 0; i < m->user_prop_count; i++){
		fprintf(f, " %s=%s", m->user_props[i].key, m->user_props[i].value);
	}
	fputc('\n', f);
}

/* ================================================================== */
/* Clients                                                             */
/* ================================================================== */

struct c2d_done {
	int mid;
	int rc;
};

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

static void done_add(struct c2d_client *c, int mid, int rc)
{
	pthread_mutex_lock(&c->mu);
	if(c->ndone == c->cap_done){
		struct c2d_done *nd;
		c->cap_done = c->cap_done ? c->cap_done * 2 : 16;
		nd = realloc(c->done, c->cap_done * sizeof(*nd));
		if(!nd){
			oom();
		}
		c->done = nd;
	}
	c->done[c->ndone].mid = mid;
	c->done[c->ndone].rc = rc;
	c->ndone++;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

static void on_connect_v5(struct mosquitto *mosq, void *obj, int rc, int flags, const mosquitto_property *props)
{
	struct c2d_client *c = obj;

	(void)props;
	pthread_mutex_lock(&c->mu);
	c->connack_seen = true;
	c->connack_rc = rc;
	c->connack_flags = flags;
	c->connected = rc == 0;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if(rc != 0){
		/* refused: stop libmosquitto from retrying on its own */
		mosquitto_disconnect(mosq);
	}
}

static void on_disconnect_v5(struct mosquitto *mosq, void *obj, int rc, const mosquitto_property *props)
{
	struct c2d_client *c = obj;

	(void)props;
	pthread_mutex_lock(&c->mu);
	c->connected = false;
	c->ended = true;
	c->disc_count++;
	c->disc_rc = rc;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	if(rc != 0){
		/* lost: no automatic reconnect, the test decides */
		mosquitto_disconnect(mosq);
	}
}

static void on_publish_v5(struct mosquitto *mosq, void *obj, int mid, int rc, const mosquitto_property *props)
{
	(void)mosq;
	(void)props;
	done_add(obj, mid, rc);
}

static void on_subscribe_v5(struct mosquitto *mosq, void *obj, int mid, int count, const int *granted,
		const mosquitto_property *props)
{
	(void)mosq;
	(void)props;
	done_add(obj, mid, count > 0 ? granted[0] : C2D_EFAIL);
}

static void on_unsubscribe_v5(struct mosquitto *mosq, void *obj, int mid, const mosquitto_property *props)
{
	(void)mosq;
	(void)props;
	done_add(obj, mid, 0);
}

static void on_message_v5(struct mosquitto *mosq, void *obj, const struct mosquitto_message *msg,
		const mosquitto_property *props)
{
	struct c2d_client *c = obj;
	struct c2d_msg *m = msg_copy(msg, props);

	(void)mosq;
	pthread_mutex_lock(&c->mu);
	if(c->tail){
		c->tail->next = m;
	}else{
		c->head = m;
	}
	c->tail = m;
	c->count++;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

struct c2d_client *c2d_client_new(const char *id, int protocol, bool clean)
{
	struct c2d_client *c;
	pthread_condattr_t ca;

	harness_init();
	if(protocol != MQTT_PROTOCOL_V5 && protocol != MQTT_PROTOCOL_V311 && protocol != MQTT_PROTOCOL_V31){
		fprintf(stderr, DIAG "client %s: unknown protocol %d\n", id ? id : "(null)", protocol);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->id = xstrdup(id ? id : "");
	c->protocol = protocol;
	c->clean = clean;
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	c->mosq = mosquitto_new(id, clean, c);
	if(!c->mosq){
		fprintf(stderr, DIAG "mosquitto_new(%s, clean %d) failed: %s\n", id ? id : "(null)", clean,
				strerror(errno));
		pthread_mutex_destroy(&c->mu);
		pthread_cond_destroy(&c->cv);
		free(c->id);
		free(c);
		return NULL;
	}
	mosquitto_int_option(c->mosq, MOSQ_OPT_PROTOCOL_VERSION, protocol);
	mosquitto_connect_v5_callback_set(c->mosq, on_connect_v5);
	mosquitto_disconnect_v5_callback_set(c->mosq, on_disconnect_v5);
	mosquitto_publish_v5_callback_set(c->mosq, on_publish_v5);
	mosquitto_subscribe_v5_callback_set(c->mosq, on_subscribe_v5);
	mosquitto_unsubscribe_v5_callback_set(c->mosq, on_unsubscribe_v5);
	mosquitto_message_v5_callback_set(c->mosq, on_message_v5);
	return c;
}

const char *c2d_client_id(const struct c2d_client *c)
{
	return c ? c->id : NULL;
}

struct mosquitto *c2d_client_mosq(struct c2d_client *c)
{
	return c ? c->mosq : NULL;
}

int c2d_client_set_login(struct c2d_client *c, const char *user, const char *pass)
{
	int rc = mosquitto_username_pw_set(c->mosq, user, pass);

	if(rc){
		fprintf(stderr, DIAG "client %s: username_pw_set: %s\n", c->id, mosquitto_strerror(rc));
		return C2D_EFAIL;
	}
	return 0;
}

int c2d_client_set_will(struct c2d_client *c, const char *topic, const void *payload, int len, int qos,
		bool retain, const mosquitto_property *props)
{
	mosquitto_property *copy = NULL;
	int rc;

	if(len < 0){
		len = payload ? (int)strlen(payload) : 0;
	}
	if(props && props_append(&copy, props) != MOSQ_ERR_SUCCESS){
		mosquitto_property_free_all(&copy);
		fprintf(stderr, DIAG "client %s: cannot copy the will properties\n", c->id);
		return C2D_EFAIL;
	}
	/* on success the will owns copy */
	rc = mosquitto_will_set_v5(c->mosq, topic, len, payload, qos, retain, copy);
	if(rc){
		mosquitto_property_free_all(&copy);
		fprintf(stderr, DIAG "client %s: will_set on %s: %s\n", c->id, topic, mosquitto_strerror(rc));
		return C2D_EFAIL;
	}
	return 0;
}

void c2d_client_set_session_expiry(struct c2d_client *c, uint32_t seconds)
{
	if(c){
		c->session_expiry = seconds;
	}
}

/* Waits (mu held) until cond(c) holds, the connection generation moves from
 * disc0 (if check_disc), or ms pass. Returns 0, C2D_ENOCONN or
 * C2D_ETIMEDOUT. */
static int wait_locked(struct c2d_client *c, bool (*cond)(struct c2d_client *, void *), void *arg,
		bool check_disc, unsigned disc0, int ms)
{
	struct timespec dl = deadline_in(ms);

	for(;;){
		if(cond(c, arg)){
			return 0;
		}
		if(check_disc && c->disc_count != disc0){
			return C2D_ENOCONN;
		}
		if(pthread_cond_timedwait(&c->cv, &c->mu, &dl) == ETIMEDOUT){
			if(cond(c, arg)){
				return 0;
			}
			return check_disc && c->disc_count != disc0 ? C2D_ENOCONN : C2D_ETIMEDOUT;
		}
	}
}

static bool cond_connack(struct c2d_client *c, void *arg)
{
	(void)arg;
	return c->connack_seen;
}

static bool cond_disc_moved(struct c2d_client *c, void *arg)
{
	return c->disc_count != *(unsigned *)arg;
}

struct done_arg {
	int mid;
	int rc;
};

static bool cond_done(struct c2d_client *c, void *arg)
{
	struct done_arg *d = arg;
	size_t i;

	for(i = 0; i < c->ndone; i++){
		if(c->done[i].mid == d->mid){
			d->rc = c->done[i].rc;
			c->done[i] = c->done[--c->ndone];
			return true;
		}
	}
	return false;
}

/* Ends the loop thread: DISCONNECT if still connected, join. */
static void client_stop_loop(struct c2d_client *c)
{
	unsigned disc0;
	bool was_connected;
	int rc = 0;

	if(!c->loop_running){
		return;
	}
	pthread_mutex_lock(&c->mu);
	disc0 = c->disc_count;
	was_connected = c->connected || (!c->ended && !c->connack_seen);
	pthread_mutex_unlock(&c->mu);
	/* sets the state to disconnected (so the loop ends) and queues a
	 * DISCONNECT if the socket is open */
	mosquitto_disconnect(c->mosq);
	if(was_connected && mosquitto_socket(c->mosq) >= 0){
		pthread_mutex_lock(&c->mu);
		rc = wait_locked(c, cond_disc_moved, &disc0, false, 0, C2D_ACK_TIMEOUT_MS);
		pthread_mutex_unlock(&c->mu);
	}
	if(rc == C2D_ETIMEDOUT){
		fprintf(stderr, DIAG "client %s: the loop did not end after DISCONNECT; cancelling it\n", c->id);
	}
	mosquitto_loop_stop(c->mosq, rc == C2D_ETIMEDOUT);
	c->loop_running = false;
}

int c2d_client_connect_ex(struct c2d_client *c, int port, int keepalive, const mosquitto_property *props)
{
	mosquitto_property *cprops = NULL;
	unsigned disc0;
	int rc;

	if(!c){
		return C2D_EFAIL;
	}
	client_stop_loop(c);
	if(c->protocol == MQTT_PROTOCOL_V5){
		if((props && props_append(&cprops, props) != MOSQ_ERR_SUCCESS)
				|| (c->session_expiry
					&& mosquitto_property_add_int32(&cprops, MQTT_PROP_SESSION_EXPIRY_INTERVAL, c->session_expiry))){
			fprintf(stderr, DIAG "client %s: cannot build the CONNECT properties\n", c->id);
			mosquitto_property_free_all(&cprops);
			return C2D_EFAIL;
		}
	}else if(props){
		fprintf(stderr, DIAG "client %s: CONNECT properties need MQTT v5\n", c->id);
		return C2D_EFAIL;
	}
	pthread_mutex_lock(&c->mu);
	c->connack_seen = false;
	c->connack_rc = -1;
	c->connack_flags = 0;
	c->connected = false;
	c->ended = false;
	c->ndone = 0;
	disc0 = c->disc_count;
	pthread_mutex_unlock(&c->mu);

	rc = mosquitto_connect_bind_v5(c->mosq, "127.0.0.1", port, keepalive, NULL, cprops);
	mosquitto_property_free_all(&cprops);
	if(rc){
		fprintf(stderr, DIAG "client %s: connect to 127.0.0.1:%d failed: %s\n", c->id, port,
				rc == MOSQ_ERR_ERRNO ? strerror(errno) : mosquitto_strerror(rc));
		return C2D_EFAIL;
	}
	rc = mosquitto_loop_start(c->mosq);
	if(rc){
		fprintf(stderr, DIAG "client %s: loop_start: %s\n", c->id, mosquitto_strerror(rc));
		return C2D_EFAIL;
	}
	c->loop_running = true;

	pthread_mutex_lock(&c->mu);
	rc = wait_locked(c, cond_connack, NULL, true, disc0, C2D_ACK_TIMEOUT_MS);
	if(rc == 0){
		rc = c->connack_rc;
	}
	pthread_mutex_unlock(&c->mu);
	if(rc < 0){
		fprintf(stderr, DIAG "client %s: no CONNACK from 127.0.0.1:%d (%s)\n", c->id, port,
				rc == C2D_ETIMEDOUT ? "timed out" : "connection closed");
	}
	return rc;
}

int c2d_client_connect(struct c2d_client *c, const struct c2d_broker *b)
{
	if(!c || !b){
		return C2D_EFAIL;
	}
	return c2d_client_connect_ex(c, b->port, 60, NULL);
}

struct c2d_client *c2d_client_new_connected(const struct c2d_broker *b, const char *id, int protocol, bool clean)
{
	struct c2d_client *c;
	int rc;

	if(!b){
		return NULL;
	}
	c = c2d_client_new(id, protocol, clean);
	if(!c){
		return NULL;
	}
	rc = c2d_client_connect(c, b);
	if(rc != 0){
		fprintf(stderr, DIAG "client %s: expected CONNACK 0, got %d (0x%02x)\n", c->id, rc, rc < 0 ? 0 : rc);
		c2d_client_destroy(c);
		return NULL;
	}
	return c;
}

bool c2d_client_is_connected(struct c2d_client *c)
{
	bool r;

	if(!c){
		return false;
	}
	pthread_mutex_lock(&c->mu);
	r = c->connected;
	pthread_mutex_unlock(&c->mu);
	return r;
}

bool c2d_client_session_present(struct c2d_client *c)
{
	bool r;

	if(!c){
		return false;
	}
	pthread_mutex_lock(&c->mu);
	r = c->connack_seen && c->connack_rc == 0 && (c->connack_flags & 1);
	pthread_mutex_unlock(&c->mu);
	return r;
}

/* Checks the client is connected; returns its connection generation in
 * *disc0. Returns 0 or C2D_ENOCONN (printed with what). */
static int require_connected(struct c2d_client *c, const char *what, const char *topic, unsigned *disc0)
{
	bool ok;

	pthread_mutex_lock(&c->mu);
	ok = c->connected;
	*disc0 = c->disc_count;
	pthread_mutex_unlock(&c->mu);
	if(!ok){
		fprintf(stderr, DIAG "client %s: %s %s: not connected\n", c->id, what, topic ? topic : "");
		return C2D_ENOCONN;
	}
	return 0;
}

/* Waits for the ack of mid. Returns its rc or C2D_E* (printed). */
static int wait_ack(struct c2d_client *c, int mid, unsigned disc0, const char *what, const char *topic)
{
	struct done_arg d = {mid, 0};
	int rc;

	pthread_mutex_lock(&c->mu);
	rc = wait_locked(c, cond_done, &d, true, disc0, C2D_ACK_TIMEOUT_MS);
	pthread_mutex_unlock(&c->mu);
	if(rc == 0){
		return d.rc;
	}
	fprintf(stderr, DIAG "client %s: no %s for %s (mid %d): %s\n", c->id, what, topic, mid,
			rc == C2D_ETIMEDOUT ? "timed out" : "connection lost");
	return rc;
}

int c2d_client_subscribe_v5(struct c2d_client *c, const char *filter, int qos, int options,
		const mosquitto_property *props)
{
	unsigned disc0;
	int mid = 0, rc;

	if(!c || !filter){
		return C2D_EFAIL;
	}
	rc = require_connected(c, "subscribe", filter, &disc0);
	if(rc){
		return rc;
	}
	rc = mosquitto_subscribe_v5(c->mosq, &mid, filter, qos, options, props);
	if(rc){
		fprintf(stderr, DIAG "client %s: subscribe %s: %s\n", c->id, filter, mosquitto_strerror(rc));
		return C2D_EFAIL;
	}
	return wait_ack(c, mid, disc0, "SUBACK", filter);
}

int c2d_client_subscribe(struct c2d_client *c, const char *filter, int qos)
{
	return c2d_client_subscribe_v5(c, filter, qos, 0, NULL);
}

int c2d_client_unsubscribe(struct c2d_client *c, const char *filter)
{
	unsigned disc0;
	int mid = 0, rc;

	if(!c || !filter){
		return C2D_EFAIL;
	}
	rc = require_connected(c, "unsubscribe", filter, &disc0);
	if(rc){
		return rc;
	}
	rc = mosquitto_unsubscribe_v5(c->mosq, &mid, filter, NULL);
	if(rc){
		fprintf(stderr, DIAG "client %s: unsubscribe %s: %s\n", c->id, filter, mosquitto_strerror(rc));
		return C2D_EFAIL;
	}
	return wait_ack(c, mid, disc0, "UNSUBACK", filter);
}

int c2d_client_publish(struct c2d_client *c, const char *topic, const void *payload, int len, int qos,
		bool retain, const mosquitto_property *props)
{
	unsigned disc0;
	int mid = 0, rc;

	if(!c || !topic){
		return C2D_EFAIL;
	}
	if(len < 0){
		len = payload ? (int)strlen(payload) : 0;
	}
	if(props && c->protocol != MQTT_PROTOCOL_V5){
		fprintf(stderr, DIAG "client %s: publish %s: properties need MQTT v5\n", c->id, topic);
		return C2D_EFAIL;
	}
	rc = require_connected(c, "publish", topic, &disc0);
	if(rc){
		return rc;
	}
	rc = mosquitto_publish_v5(c->mosq, &mid, topic, len, len ? payload : NULL, qos, retain, props);
	if(rc){
		fprintf(stderr, DIAG "client %s: publish %s: %s\n", c->id, topic, mosquitto_strerror(rc));
		return C2D_EFAIL;
	}
	return wait_ack(c, mid, disc0, qos == 0 ? "write" : qos == 1 ? "PUBACK" : "PUBCOMP", topic);
}

struct match_arg {
	const char *filter;
	const void *corr;
	int corr_len;
	bool unlink;
	struct c2d_msg *found;
};

static bool msg_matches(const struct c2d_msg *m, const struct match_arg *a)
{
	bool res = false;

	if(a->filter && (mosquitto_topic_matches_sub(a->filter, m->topic, &res) != MOSQ_ERR_SUCCESS || !res)){
		return false;
	}
	if(a->corr && !c2d_msg_corr_eq(m, a->corr, a->corr_len)){
		return false;
	}
	return true;
}

static bool cond_msg(struct c2d_client *c, void *arg)
{
	struct match_arg *a = arg;
	struct c2d_msg *m, *prev = NULL;

	for(m = c->head; m; prev = m, m = m->next){
		if(!msg_matches(m, a)){
			continue;
		}
		if(a->unlink){
			if(prev){
				prev->next = m->next;
			}else{
				c->head = m->next;
			}
			if(c->tail == m){
				c->tail = prev;
			}
			m->next = NULL;
			c->count--;
		}
		a->found = m;
		return true;
	}
	return false;
}

/* Prints the inbox (mu held). */
static void inbox_describe(struct c2d_client *c)
{
	const struct c2d_msg *m;

	fprintf(stderr, DIAG "client %s inbox (%zu message%s)%s\n", c->id, c->count, c->count == 1 ? "" : "s",
			c->count ? ":" : "");
	for(m = c->head; m; m = m->next){
		msg_describe(stderr, m);
	}
}

struct c2d_msg *c2d_client_wait_corr(struct c2d_client *c, const char *filter, const void *corr, int len,
		int timeout_ms)
{
	struct match_arg a = {filter, corr, len, true, NULL};
	int rc;

	if(!c){
		return NULL;
	}
	pthread_mutex_lock(&c->mu);
	rc = wait_locked(c, cond_msg, &a, false, 0, timeout_ms);
	if(rc != 0){
		fprintf(stderr, DIAG "client %s: no message on \"%s\"%s within %d ms (%s)\n", c->id,
				filter ? filter : "(any)", corr ? " with the expected correlation data" : "", timeout_ms,
				c->connected ? "connected" : "NOT connected");
		inbox_describe(c);
	}
	pthread_mutex_unlock(&c->mu);
	return rc == 0 ? a.found : NULL;
}

struct c2d_msg *c2d_client_wait_msg(struct c2d_client *c, const char *filter, int timeout_ms)
{
	return c2d_client_wait_corr(c, filter, NULL, 0, timeout_ms);
}

bool c2d_client_expect_none(struct c2d_client *c, const char *filter, int ms)
{
	struct match_arg a = {filter, NULL, 0, false, NULL};
	int rc;

	if(!c){
		return false;
	}
	pthread_mutex_lock(&c->mu);
	rc = wait_locked(c, cond_msg, &a, false, 0, ms);
	if(rc == 0){
		fprintf(stderr, DIAG "client %s: expected no message on \"%s\" for %d ms, but got:\n", c->id,
				filter ? filter : "(any)", ms);
		msg_describe(stderr, a.found);
	}
	pthread_mutex_unlock(&c->mu);
	return rc != 0;
}

size_t c2d_client_inbox_count(struct c2d_client *c)
{
	size_t n;

	if(!c){
		return 0;
	}
	pthread_mutex_lock(&c->mu);
	n = c->count;
	pthread_mutex_unlock(&c->mu);
	return n;
}

void c2d_client_inbox_clear(struct c2d_client *c)
{
	struct c2d_msg *m;

	if(!c){
		return;
	}
	pthread_mutex_lock(&c->mu);
	m = c->head;
	c->head = c->tail = NULL;
	c->count = 0;
	pthread_mutex_unlock(&c->mu);
	while(m){
		struct c2d_msg *next = m->next;
		c2d_msg_free(m);
		m = next;
	}
}

struct c2d_msg *c2d_client_request(struct c2d_client *c, struct c2d_request *req)
{
	static atomic_uint seq;
	unsigned n = atomic_fetch_add(&seq, 1) + 1;
	mosquitto_property *props = NULL;
	char *resp, *corr;
	struct c2d_msg *m = NULL;
	int rc, timeout;

	if(!c || !req || !req->topic){
		return NULL;
	}
	req->puback_rc = C2D_EFAIL;
	if(c->protocol != MQTT_PROTOCOL_V5){
		fprintf(stderr, DIAG "client %s: request/response needs MQTT v5\n", c->id);
		return NULL;
	}
	timeout = req->timeout_ms > 0 ? req->timeout_ms : 5000;
	resp = req->response_topic ? xstrdup(req->response_topic) : c2d_strf("c2d-test/reply/%d/%u", (int)getpid(), n);
	corr = c2d_strf("c2d-corr-%d-%u", (int)getpid(), n);

	rc = c2d_client_subscribe(c, resp, 1);
	if(rc < 0 || rc > 2){
		fprintf(stderr, DIAG "client %s: request: cannot subscribe to the response topic %s (%d)\n", c->id, resp,
				rc);
		goto out;
	}
	if(mosquitto_property_add_string(&props, MQTT_PROP_RESPONSE_TOPIC, resp)
			|| mosquitto_property_add_binary(&props, MQTT_PROP_CORRELATION_DATA, corr, (uint16_t)strlen(corr))
			|| props_append(&props, req->props)){
		fprintf(stderr, DIAG "client %s: request: cannot build the properties\n", c->id);
		goto out;
	}
	rc = c2d_client_publish(c, req->topic, req->payload, req->len, req->qos, false, props);
	req->puback_rc = rc;
	if(rc < 0 || rc >= 0x80){
		fprintf(stderr, DIAG "client %s: request on %s: publish returned %d (0x%02x)\n", c->id, req->topic, rc,
				rc < 0 ? 0 : rc);
		goto out;
	}
	m = c2d_client_wait_corr(c, resp, corr, (int)strlen(corr), timeout);
	if(!m){
		fprintf(stderr, DIAG "client %s: no reply to the request on %s (response topic %s, corr %s)\n", c->id,
				req->topic, resp, corr);
	}
out:
	mosquitto_property_free_all(&props);
	free(resp);
	free(corr);
	return m;
}

int c2d_client_disconnect(struct c2d_client *c)
{
	bool was;

	if(!c){
		return C2D_EFAIL;
	}
	pthread_mutex_lock(&c->mu);
	was = c->connected;
	pthread_mutex_unlock(&c->mu);
	client_stop_loop(c);
	return was ? 0 : C2D_ENOCONN;
}

int c2d_client_drop(struct c2d_client *c)
{
	unsigned disc0;
	int fd, rc;

	if(!c){
		return C2D_EFAIL;
	}
	rc = require_connected(c, "drop", NULL, &disc0);
	if(rc){
		return rc;
	}
	fd = mosquitto_socket(c->mosq);
	if(fd < 0){
		fprintf(stderr, DIAG "client %s: drop: no socket\n", c->id);
		return C2D_ENOCONN;
	}
	shutdown(fd, SHUT_RDWR);
	pthread_mutex_lock(&c->mu);
	rc = wait_locked(c, cond_disc_moved, &disc0, false, 0, C2D_ACK_TIMEOUT_MS);
	pthread_mutex_unlock(&c->mu);
	if(rc){
		fprintf(stderr, DIAG "client %s: drop: the loop did not see the connection end\n", c->id);
		return rc;
	}
	/* the loop thread ends by itself (the callback set the state) */
	mosquitto_loop_stop(c->mosq, false);
	c->loop_running = false;
	return 0;
}

static bool cond_ended(struct c2d_client *c, void *arg)
{
	(void)arg;
	return c->ended;
}

int c2d_client_wait_disconnect(struct c2d_client *c, int timeout_ms)
{
	int rc;

	if(!c){
		return C2D_EFAIL;
	}
	pthread_mutex_lock(&c->mu);
	if(!c->connected && !c->ended){
		pthread_mutex_unlock(&c->mu);
		return C2D_ENOCONN;
	}
	rc = wait_locked(c, cond_ended, NULL, false, 0, timeout_ms);
	if(rc == 0){
		rc = c->disc_rc;
	}else{
		fprintf(stderr, DIAG "client %s: still connected after %d ms (expected a disconnect)\n", c->id,
				timeout_ms);
	}
	pthread_mutex_unlock(&c->mu);
	return rc;
}

void c2d_client_destroy(struct c2d_client *c)
{
	if(!c){
		return;
	}
	client_stop_loop(c);
	mosquitto_destroy(c->mosq);
	c2d_client_inbox_clear(c);
	free(c->done);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c->id);
	free(c);
}

/* ================================================================== */
/* Shell                                                               */
/* ================================================================== */

struct c2d_proc {
	pid_t pid;
	int fd;
	char *cmd;
};

struct c2d_proc *c2d_proc_start(const char *cmd)
{
	struct c2d_proc *p;
	int fds[2], nullfd;
	pid_t pid;

	harness_init();
	if(!cmd){
		return NULL;
	}
	if(pipe(fds) != 0){
		fprintf(stderr, DIAG "pipe: %s\n", strerror(errno));
		return NULL;
	}
	fcntl(fds[0], F_SETFD, FD_CLOEXEC);
	fcntl(fds[1], F_SETFD, FD_CLOEXEC);
	nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	pid = fork();
	if(pid < 0){
		fprintf(stderr, DIAG "fork: %s\n", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		if(nullfd >= 0){
			close(nullfd);
		}
		return NULL;
	}
	if(pid == 0){
		setpgid(0, 0); /* so a timeout can kill the whole command */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if(nullfd >= 0){
			dup2(nullfd, 0);
		}
		dup2(fds[1], 1);
		close_from(3);
		child_reset_signals();
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	close(fds[1]);
	if(nullfd >= 0){
		close(nullfd);
	}
	p = xcalloc(1, sizeof(*p));
	p->pid = pid;
	p->fd = fds[0];
	p->cmd = xstrdup(cmd);
	return p;
}

int c2d_proc_wait(struct c2d_proc *p, int timeout_ms, char **out)
{
	uint64_t end = c2d_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	size_t n = 0, cap = 1024;
	char *buf = xmalloc(cap);
	bool timed_out = false, eof = false;
	int st = 0, rc;
	pid_t r = 0;

	if(!p){
		free(buf);
		if(out){
			*out = NULL;
		}
		return C2D_EFAIL;
	}
	for(;;){
		uint64_t now = c2d_now_ms();
		struct pollfd pfd = {p->fd, POLLIN, 0};

		if(eof){
			r = waitpid(p->pid, &st, WNOHANG);
			if(r == p->pid || (r < 0 && errno != EINTR)){
				break;
			}
		}
		if(now >= end){
			timed_out = true;
			break;
		}
		if(eof){
			c2d_sleep_ms(5);
			continue;
		}
		if(poll(&pfd, 1, (int)(end - now)) > 0){
			ssize_t k;
			if(cap - n < 512){
				char *nb = realloc(buf, cap * 2);
				if(!nb){
					oom();
				}
				buf = nb;
				cap *= 2;
			}
			k = read(p->fd, buf + n, cap - n - 1);
			if(k > 0){
				n += (size_t)k;
			}else if(k == 0 || errno != EINTR){
				eof = true;
			}
		}
	}
	buf[n] = '\0';
	if(timed_out){
		kill(-p->pid, SIGKILL);
		kill(p->pid, SIGKILL);
		while(waitpid(p->pid, &st, 0) < 0 && errno == EINTR){
		}
		fprintf(stderr, DIAG "command timed out after %d ms (killed): %s\n" DIAG "its stdout so far: \"%s\"\n",
				timeout_ms, p->cmd, buf);
		rc = C2D_ETIMEDOUT;
	}else if(r == p->pid){
		rc = decode_status(st);
	}else{
		rc = C2D_EFAIL;
	}
	close(p->fd);
	free(p->cmd);
	free(p);
	if(out){
		*out = buf;
	}else{
		free(buf);
	}
	return rc;
}

int c2d_sh(const char *cmd, int timeout_ms, char **out)
{
	struct c2d_proc *p = c2d_proc_start(cmd);

	if(!p){
		if(out){
			*out = NULL;
		}
		return C2D_EFAIL;
	}
	return c2d_proc_wait(p, timeout_ms, out);
}

/* ================================================================== */
/* Suite helpers                                                       */
/* ================================================================== */

char *c2d_passwd_hash(const char *plain_lines)
{
	const char *tmp = getenv("TMPDIR");
	char dir[256], *path, *cmd, *out = NULL, *hashed = NULL;
	int rc;

	snprintf(dir, sizeof(dir), "%s/c2d-passwd-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if(!plain_lines || !mkdtemp(dir)){
		fprintf(stderr, DIAG "passwd_hash: cannot make a temp dir: %s\n", strerror(errno));
		return NULL;
	}
	path = c2d_strf("%s/passwd", dir);
	cmd = c2d_strf("mosquitto_passwd -U '%s'", path);
	if(write_text(path, plain_lines) == 0){
		rc = c2d_sh(cmd, 10000, &out);
		if(rc == 0){
			hashed = read_from(path, 0, NULL);
		}else{
			fprintf(stderr, DIAG "passwd_hash: mosquitto_passwd -U exited %d: %s\n", rc, out ? out : "");
		}
	}
	free(out);
	free(cmd);
	free(path);
	rm_rf(dir);
	return hashed;
}

long c2d_admin_queue_depth(struct c2d_client *op, const char *dev)
{
	struct c2d_request rq = {.topic = "$CONTROL/c2d/v1", .len = -1, .qos = 1};
	char *payload;
	struct c2d_msg *m;
	cJSON *root, *r, *depth;
	long n = C2D_EFAIL;

	if(!op || !dev){
		return C2D_EFAIL;
	}
	payload = c2d_strf("{\"commands\":[{\"command\":\"getDevice\",\"device\":\"%s\"}]}", dev);
	rq.payload = payload;
	m = c2d_client_request(op, &rq);
	free(payload);
	if(!m){
		return C2D_EFAIL;
	}
	root = cJSON_Parse(m->payload);
	r = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "responses"), 0);
	depth = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(r, "data"), "queue"), "depth");
	if(cJSON_IsNumber(depth)){
		n = (long)depth->valuedouble;
	}else{
		fprintf(stderr, DIAG "admin getDevice %s: no queue depth in %s\n", dev, m->payload);
	}
	cJSON_Delete(root);
	c2d_msg_free(m);
	return n;
}

/* Records delivery m in d. m: borrowed. */
static void drain_record(struct c2d_drain *d, const struct c2d_msg *m, const char *kind)
{
	if(!strcmp(kind, "msg")){
		d->msgs = realloc(d->msgs, (d->nmsgs + 1) * sizeof(*d->msgs));
		d->msg_lens = realloc(d->msg_lens, (d->nmsgs + 1) * sizeof(*d->msg_lens));
		if(!d->msgs || !d->msg_lens){
			oom();
		}
		d->msgs[d->nmsgs] = xmalloc((size_t)m->payloadlen + 1);
		memcpy(d->msgs[d->nmsgs], m->payload, (size_t)m->payloadlen + 1);
		d->msg_lens[d->nmsgs] = m->payloadlen;
		d->nmsgs++;
	}else if(!strcmp(kind, "twin")){
		free(d->twin);
		d->twin = xstrdup(m->payload);
		d->ntwin++;
	}else{
		d->nother++;
	}
}

/* Answers delivery m (on $c2d/{dev}/in/{kind}/.../{id}) with 200 and
 * records it. Returns 0 or what the answer's publish returned. */
static int drain_one(struct c2d_client *c, struct c2d_drain *d, const struct c2d_msg *m)
{
	size_t prefix = strlen("$c2d/") + strlen(c->id) + strlen("/in/");
	const char *kind_end, *id;
	char kind[16], *topic;
	int rc;

	id = strrchr(m->topic, '/');
	kind_end = strlen(m->topic) > prefix ? strchr(m->topic + prefix, '/') : NULL;
	if(!id || !kind_end || (size_t)(kind_end - m->topic) - prefix >= sizeof(kind)){
		fprintf(stderr, DIAG "drain %s: unexpected delivery topic %s\n", c->id, m->topic);
		return C2D_EFAIL;
	}
	memcpy(kind, m->topic + prefix, (size_t)(kind_end - m->topic) - prefix);
	kind[(size_t)(kind_end - m->topic) - prefix] = '\0';
	drain_record(d, m, kind);
	if(c->protocol == MQTT_PROTOCOL_V5 && m->response_topic){
		topic = xstrdup(m->response_topic);
	}else{
		topic = c2d_strf("$c2d/%s/out/res/%s", c->id, id + 1);
	}
	rc = c2d_client_publish(c, topic, NULL, 0, 1, false, NULL);
	if(rc >= 0 && rc < 0x80){
		rc = 0;
	}else{
		fprintf(stderr, DIAG "drain %s: answering %s on %s returned %d\n", c->id, m->topic, topic, rc);
	}
	free(topic);
	return rc;
}

int c2d_device_drain(struct c2d_client *dev, struct c2d_client *op, int quiet_ms, int timeout_ms,
		size_t limit, struct c2d_drain *out)
{
	uint64_t end = c2d_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0), last;
	char *filter;
	struct c2d_msg *m;
	long depth = -1;
	size_t n0;
	int rc = C2D_ETIMEDOUT;

	if(!dev || !out){
		return C2D_EFAIL;
	}
	n0 = out->nmsgs + out->ntwin + out->nother;
	filter = c2d_strf("$c2d/%s/in/#", dev->id);
	last = c2d_now_ms();
	while(c2d_now_ms() < end){
		/* poll the inbox: waiting with c2d_client_wait_msg would print the
		 * (expected) silence at the end as a failure */
		if(c2d_client_inbox_count(dev) > 0 && (m = c2d_client_wait_msg(dev, filter, 1000)) != NULL){
			rc = drain_one(dev, out, m);
			c2d_msg_free(m);
			if(rc || (limit && out->nmsgs + out->ntwin + out->nother - n0 >= limit)){
				break;
			}
			rc = C2D_ETIMEDOUT;
			last = c2d_now_ms();
			continue;
		}
		if(c2d_now_ms() - last < (uint64_t)quiet_ms){
			c2d_sleep_ms(5);
			continue;
		}
		depth = op ? c2d_admin_queue_depth(op, dev->id) : 0;
		if(depth == 0 && c2d_client_inbox_count(dev) == 0){
			rc = 0;
			break;
		}
		last = c2d_now_ms();
	}
	if(rc == C2D_ETIMEDOUT){
		fprintf(stderr, DIAG "drain %s: not drained within %d ms (last queue depth %ld, %zu messages received)\n",
				dev->id, timeout_ms, depth, out->nmsgs);
	}
	free(filter);
	return rc;
}

void c2d_drain_free(struct c2d_drain *d)
{
	size_t i;

	if(!d){
		return;
	}
	for(i = 0; i < d->nmsgs; i++){
		free(d->msgs[i]);
	}
	free(d->msgs);
	free(d->msg_lens);
	free(d->twin);
	memset(d, 0, sizeof(*d));
}
