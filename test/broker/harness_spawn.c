/* Broker test harness: the broker process (see harness.h).
 * Owns: the broker's environment (write-fault and libfaketime preloads and
 * their trigger files' paths), fork/exec of the broker with the parent-death
 * signal, the watcher shell that reports a test that ended without
 * c2d_broker_cleanup, and reaping (b->pid, b->exit_status). The struct
 * c2d_broker itself is owned by harness_broker.c.
 */
#include "harness_int.h"

#ifndef C2D_FAULTFS_PATH
#error "C2D_FAULTFS_PATH (absolute path of build/test/libc2d_faultfs.so) must be defined"
#endif
#ifndef C2D_FAKETIME_LIB
/* Debian's libfaketime (package libfaketime); the MT build: the plugin's
 * periodic sync runs on a worker thread */
#define C2D_FAKETIME_LIB "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
#endif

extern char **environ;

char *c2dh_fault_trigger(const struct c2d_broker *b)
{
	return c2d_strf("%s/fail-writes", b->dir);
}

char *c2dh_faketime_file(const struct c2d_broker *b)
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
	env = c2dh_xcalloc(n + 7, sizeof(*env));
	for(i = 0; i < n; i++){
		if(own_preload && !strncmp(environ[i], "LD_PRELOAD=", 11)) continue;
		if(b->write_faults && !strncmp(environ[i], "C2D_FAULTFS_TRIGGER=", 20)) continue;
		if(b->fake_time && !strncmp(environ[i], "FAKETIME", 8)) continue;
		env[k++] = c2dh_xstrdup(environ[i]);
	}
	preload = c2dh_xstrdup(pre && *pre && own_preload ? pre : "");
	if(b->write_faults){
		trigger = c2dh_fault_trigger(b);
		env[k++] = c2d_strf("C2D_FAULTFS_TRIGGER=%s", trigger);
		free(trigger);
		trigger = c2d_strf("%s%s%s", preload, *preload ? " " : "", C2D_FAULTFS_PATH);
		free(preload);
		preload = trigger;
	}
	if(b->fake_time){
		trigger = c2dh_faketime_file(b);
		env[k++] = c2d_strf("FAKETIME_TIMESTAMP_FILE=%s", trigger);
		free(trigger);
		env[k++] = c2dh_xstrdup("FAKETIME_NO_CACHE=1");
		env[k++] = c2dh_xstrdup("FAKETIME_DONT_FAKE_MONOTONIC=1");
		trigger = c2d_strf("%s%s%s", preload, *preload ? " " : "", C2D_FAKETIME_LIB);
		free(preload);
		preload = trigger;
	}
	if(own_preload) env[k++] = c2d_strf("LD_PRELOAD=%s", preload);
	free(preload);
	return env;
}

static void env_free(char **env)
{
	size_t i;

	for(i = 0; env[i]; i++) free(env[i]);
	free(env);
}

/* Forks and execs the broker; its stdout/stderr go to <dir>/broker.stderr.
 * It gets SIGTERM when the test process (thread) that started it ends. */
int c2dh_broker_spawn(struct c2d_broker *b)
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
		c2dh_close_from(3);
		c2dh_child_reset_signals();
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
void c2dh_watcher_start(struct c2d_broker *b)
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
		c2dh_close_from(3);
		c2dh_child_reset_signals();
		execl("/bin/sh", "sh", "-c", script, "c2d-watcher", b->dir, (char *)NULL);
		_exit(127);
	}
	close(fds[0]);
	b->watcher_pid = pid;
	b->watcher_fd = fds[1];
}

void c2dh_watcher_done(struct c2d_broker *b)
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
bool c2dh_broker_reap(struct c2d_broker *b, int options)
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
		b->exit_status = c2dh_decode_status(st);
	}
	b->pid = 0;
	return false;
}

bool c2d_broker_alive(struct c2d_broker *b)
{
	return b && c2dh_broker_reap(b, WNOHANG);
}
