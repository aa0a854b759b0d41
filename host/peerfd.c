// SPDX-License-Identifier: MIT
/*
 * Guarded eventfd access (peerfd.h). SIGALRM from ITIMER_REAL is the
 * guard: the loop's thread is the only one that takes signals (the closer
 * thread blocks them all), so the signal interrupts the call that blocked,
 * and its handler does nothing but exist. One that arrives after the call
 * returned finds the loop in epoll_wait at worst: an EINTR it ignores.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include "peerfd.h"

static void peerfd_on_alarm(int sig)
{
}

int peerfd_init(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = peerfd_on_alarm;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;	/* no SA_RESTART: a blocked call returns EINTR */
	return sigaction(SIGALRM, &sa, NULL) < 0 ? -errno : 0;
}

/*
 * Arm the guard, or disarm it (0). It fires again every period until
 * disarmed: a first signal taken before the call began (the loop
 * preempted in between) leaves the next one to end the call.
 */
static void peerfd_arm(long us)
{
	struct timeval tv = { .tv_sec = us / 1000000, .tv_usec = us % 1000000 };
	struct itimerval it = { .it_value = tv, .it_interval = tv };

	setitimer(ITIMER_REAL, &it, NULL);
}

/*
 * A read that never waits, whatever the description's flags say: an
 * eventfd takes RWF_NOWAIT (Linux 5.12+), so a peer that clears
 * O_NONBLOCK after our check and drains the counter gets us -EAGAIN,
 * not a blocked loop. Older kernels: a plain read, under the guard alone.
 */
static ssize_t peerfd_read_nowait(int fd, uint64_t *v)
{
	struct iovec iov = { .iov_base = v, .iov_len = sizeof(*v) };
	ssize_t n = preadv2(fd, &iov, 1, -1, RWF_NOWAIT);

	if (n < 0 && (errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL))
		n = read(fd, v, sizeof(*v));
	return n;
}

/* One 8-byte read or write, guarded. */
static int peerfd_io(int fd, uint64_t *v, bool write_it)
{
	int flags = fcntl(fd, F_GETFL);
	ssize_t n;
	int err;

	if (flags < 0)
		return -errno;
	if (!(flags & O_NONBLOCK))
		return -EPERM;
	peerfd_arm(PEERFD_GUARD_US);
	n = write_it ? write(fd, v, sizeof(*v)) : peerfd_read_nowait(fd, v);
	err = n < 0 ? errno : 0;
	peerfd_arm(0);
	if (n == sizeof(*v))
		return 0;
	if (err == EAGAIN)
		return -EAGAIN;
	if (err == EINTR)
		return -ETIMEDOUT;
	return err ? -err : -EIO;
}

int peerfd_eventfd_read(int fd, uint64_t *count)
{
	return peerfd_io(fd, count, false);
}

int peerfd_eventfd_write(int fd, uint64_t v)
{
	return peerfd_io(fd, &v, true);
}
