// SPDX-License-Identifier: MIT
/*
 * A connection's peer pinned with a pidfd (peerpin.h).
 */
#include <errno.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "peerpin.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD	77	/* Linux 6.5 */
#endif

#define PIDFS_MAGIC	0x50494446	/* "PIDF": pidfs, Linux 6.9 */

int host_peer_pidfd(int sock, const struct host_peer *p)
{
	socklen_t len = sizeof(int);
	int fd = -1;

	if (!getsockopt(sock, SOL_SOCKET, SO_PEERPIDFD, &fd, &len))
		return fd;
	/* Linux 6.5 to 6.15 give no pidfd of a reaped peer (EINVAL): it is
	 * gone. Only a kernel without the option falls back. */
	if (errno == EINVAL)
		return -ESRCH;
	if (errno != ENOPROTOOPT)
		return -errno;
	if (p->pid <= 0)
		return -ESRCH;
	fd = syscall(SYS_pidfd_open, p->pid, 0);
	return fd < 0 ? -errno : fd;
}

bool host_pidfds_supported(void)
{
	int fd = syscall(SYS_pidfd_open, getpid(), 0);

	if (fd >= 0)
		close(fd);
	return fd >= 0 || errno != ENOSYS;
}

bool host_peerpidfd_supported(void)
{
	int sv[2], fd = -1;
	socklen_t len = sizeof(fd);
	bool ok;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return false;
	ok = !getsockopt(sv[0], SOL_SOCKET, SO_PEERPIDFD, &fd, &len) ||
	     errno != ENOPROTOOPT;
	if (fd >= 0)
		close(fd);
	close(sv[0]);
	close(sv[1]);
	return ok;
}

/* pidfs numbers each process once; anonymous-inode pidfds share one. */
static uint64_t pin_inode(int fd)
{
	struct statfs sfs;
	struct stat st;

	if (fstatfs(fd, &sfs) || sfs.f_type != PIDFS_MAGIC || fstat(fd, &st))
		return 0;
	return st.st_ino;
}

int host_pin_take(struct host_pin *pin, int sock, const struct host_peer *p)
{
	int fd = host_peer_pidfd(sock, p);

	*pin = (struct host_pin){ .pid = p->pid, .fd = fd };
	if (fd >= 0)
		pin->ino = pin_inode(fd);
	else if (fd != -ESRCH && fd != -ENOSYS)
		return fd;
	return 0;
}

void host_pin_release(struct host_pin *pin)
{
	if (pin->fd >= 0)
		close(pin->fd);
	pin->fd = -ESRCH;
}

bool host_pin_gone(const struct host_pin *pin)
{
	if (pin->fd < 0)
		return pin->fd == -ESRCH;
	/* Signal 0 checks only: EPERM (another user's) is still there. */
	return syscall(SYS_pidfd_send_signal, pin->fd, 0, NULL, 0) < 0 &&
	       errno == ESRCH;
}

enum host_pin_match host_pin_match(const struct host_pin *a,
				   const struct host_pin *b)
{
	if (!a->pid || a->pid != b->pid)
		return HOST_PIN_OTHER;
	if (a->fd == -ENOSYS && b->fd == -ENOSYS)
		return HOST_PIN_SAME;	/* no pidfds: numbers, as before */
	if (host_pin_gone(a))
		return HOST_PIN_GONE;
	if (a->fd < 0 || b->fd < 0)
		return HOST_PIN_OTHER;
	if (a->ino && b->ino)
		return a->ino == b->ino ? HOST_PIN_SAME : HOST_PIN_OTHER;
	/* @b checked after @a: both pinned before, both alive at @a's check. */
	return host_pin_gone(b) ? HOST_PIN_OTHER : HOST_PIN_SAME;
}
