/* Broker test harness: shell commands (see harness.h).
 * Owns: struct c2d_proc (a command under /bin/sh with its output on a pipe;
 * c2d_proc_wait reaps and frees it), c2d_sh and the mosquitto_passwd helper
 * (its temp dir is removed before it returns).
 */
#include "harness_int.h"

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

	c2dh_init();
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
		c2dh_close_from(3);
		c2dh_child_reset_signals();
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	setpgid(pid, pid);
	close(fds[1]);
	if(nullfd >= 0){
		close(nullfd);
	}
	p = c2dh_xcalloc(1, sizeof(*p));
	p->pid = pid;
	p->fd = fds[0];
	p->cmd = c2dh_xstrdup(cmd);
	return p;
}

int c2d_proc_wait(struct c2d_proc *p, int timeout_ms, char **out)
{
	uint64_t end = c2d_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	size_t n = 0, cap = 1024;
	char *buf = c2dh_xmalloc(cap);
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
					c2dh_oom();
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
		rc = c2dh_decode_status(st);
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
	if(c2dh_write_text(path, plain_lines) == 0){
		rc = c2d_sh(cmd, 10000, &out);
		if(rc == 0){
			hashed = c2dh_read_from(path, 0, NULL);
		}else{
			fprintf(stderr, DIAG "passwd_hash: mosquitto_passwd -U exited %d: %s\n", rc, out ? out : "");
		}
	}
	free(out);
	free(cmd);
	free(path);
	c2dh_rm_rf(dir);
	return hashed;
}
