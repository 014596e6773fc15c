/* Broker test harness: utilities every part uses (see harness.h).
 * Owns: the out-of-memory policy (abort), clocks and sleeps, formatted
 * strings, small file helpers (whole-file write, read from an offset, size,
 * recursive remove), the fork-child helpers (close fds, reset signals, decode
 * a wait status) and the once-per-process init (SIGPIPE ignored,
 * mosquitto_lib_init). Results of the x* and read helpers are caller-owned.
 */
#include "harness_int.h"

static long g_open_max = 1024;

void c2dh_oom(void)
{
	fprintf(stderr, DIAG "out of memory\n");
	abort();
}

void *c2dh_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if(!p){
		c2dh_oom();
	}
	return p;
}

void *c2dh_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if(!p){
		c2dh_oom();
	}
	return p;
}

char *c2dh_xstrdup(const char *s)
{
	char *d = strdup(s);
	if(!d){
		c2dh_oom();
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
		return c2dh_xstrdup("");
	}
	va_start(ap, fmt);
	n = vsnprintf(probe, sizeof(probe), fmt, ap);
	va_end(ap);
	if(n < 0){
		c2dh_oom();
	}
	s = c2dh_xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* Absolute CLOCK_MONOTONIC deadline ms from now, for pthread_cond_timedwait. */
struct timespec c2dh_deadline_in(int ms)
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
char *c2dh_subst_dir(const char *s, const char *dir)
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
	out = c2dh_xmalloc(strlen(s) + n * dirlen + 1);
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
void c2dh_put_lines(FILE *f, const char *text)
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
int c2dh_write_text(const char *path, const char *content)
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
char *c2dh_read_from(const char *path, long from, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n = 0, cap = 4096, r;

	buf = c2dh_xmalloc(cap);
	if(f){
		if(fseek(f, from, SEEK_SET) == 0){
			while((r = fread(buf + n, 1, cap - n - 1, f)) > 0){
				n += r;
				if(cap - n - 1 == 0){
					char *nb = realloc(buf, cap * 2);
					if(!nb){
						c2dh_oom();
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

long c2dh_file_size(const char *path)
{
	struct stat st;

	if(stat(path, &st) != 0){
		return 0;
	}
	return (long)st.st_size;
}

/* Removes path and everything under it. */
void c2dh_rm_rf(const char *path)
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
				c2dh_rm_rf(sub);
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
void c2dh_close_from(int lowfd)
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
void c2dh_child_reset_signals(void)
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

void c2dh_init(void)
{
	pthread_once(&g_once, init_once);
}

/* Decodes a wait status: exit code, or 128+signal. */
int c2dh_decode_status(int st)
{
	if(WIFEXITED(st)){
		return WEXITSTATUS(st);
	}
	if(WIFSIGNALED(st)){
		return 128 + WTERMSIG(st);
	}
	return -1;
}
