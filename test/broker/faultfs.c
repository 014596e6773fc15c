/* Disk-write fault injection for the broker suites: preloaded into
 * /usr/sbin/mosquitto (LD_PRELOAD, see c2d_broker_opts.write_faults), it
 * makes LMDB's writes to data.mdb fail while the file named by
 * C2D_FAULTFS_TRIGGER exists (c2d_broker_fail_writes):
 * - by default the data pages fail with ENOSPC, as on a full disk when a
 *   commit needs new blocks; the two meta pages at the start of the file
 *   are left alone (overwriting them needs no new blocks);
 * - when the trigger file holds "meta", only the meta page writes fail
 *   (EIO): the commit's data reached the file, its meta page did not, and
 *   LMDB marks its environment unusable (MDB_PANIC).
 * Every other write passes through unchanged. */
#define _GNU_SOURCE /* RTLD_NEXT */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#define META_BYTES (2 * 4096) /* LMDB's two meta pages (page size 4096) */
#define DB_NAME "/data.mdb"

/* 0 if this write goes through, else the errno it fails with. */
static int fault(int fd, off_t off)
{
	const char *trigger = getenv("C2D_FAULTFS_TRIGGER");
	char link[64], path[512], mode[8] = "";
	ssize_t n;
	size_t len = strlen(DB_NAME);
	int tfd;

	if(trigger == NULL) return 0;
	tfd = open(trigger, O_RDONLY | O_CLOEXEC);
	if(tfd < 0) return 0;
	n = read(tfd, mode, sizeof(mode) - 1);
	close(tfd);
	mode[n > 0 ? n : 0] = '\0';
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, path, sizeof(path) - 1);
	if(n < (ssize_t)len) return 0;
	path[n] = '\0';
	if(strcmp(path + n - len, DB_NAME) != 0) return 0;
	if(strncmp(mode, "meta", 4) == 0) return off < META_BYTES ? EIO : 0;
	return off >= META_BYTES ? ENOSPC : 0;
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t off)
{
	static ssize_t (*next)(int, const void *, size_t, off_t);
	int e = fault(fd, off);

	if(next == NULL) next = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite");
	if(e){
		errno = e;
		return -1;
	}
	return next(fd, buf, count, off);
}

ssize_t writev(int fd, const struct iovec *iov, int iovcnt)
{
	static ssize_t (*next)(int, const struct iovec *, int);
	int e = fault(fd, lseek(fd, 0, SEEK_CUR));

	if(next == NULL) next = (ssize_t (*)(int, const struct iovec *, int))dlsym(RTLD_NEXT, "writev");
	if(e){
		errno = e;
		return -1;
	}
	return next(fd, iov, iovcnt);
}
