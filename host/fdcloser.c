// SPDX-License-Identifier: MIT
/*
 * The closer threads (fdcloser.h): jobs (an fd, and what to unmap before
 * closing it) go through a pipe, a thread does each; one lane for peers'
 * fds, one for pvdmad's own memory. They run with every signal blocked,
 * so the loop's signals (signalfd, the eventfd guard's SIGALRM, SIGBUS)
 * stay the loop's.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdcloser.h"

/* One job, written whole: pipe writes up to PIPE_BUF are atomic. */
struct fdcloser_job {
	int fd;
	void *addr;		/* NULL: nothing to unmap */
	size_t len;
};

/* A thread and the pipe that feeds it. */
struct fdcloser_lane {
	int pipe_w;
	int pipe_r;
	pthread_t thread;
};

/*
 * Two lanes: peers' fds, whose close may wait for good (a lingering
 * socket), and pvdmad's own memory, whose release only takes time: a
 * stuck fd must not keep departed guests' memory behind it.
 */
static struct {
	bool running;
	bool peer_fds;
	struct fdcloser_lane fds;
	struct fdcloser_lane mem;
	unsigned long long handed;
	unsigned long long leaked;
	unsigned long long mem_handed;
	unsigned long long mem_handed_bytes;
} fdcloser = {
	.fds = { .pipe_w = -1, .pipe_r = -1 },
	.mem = { .pipe_w = -1, .pipe_r = -1 },
};

static void *fdcloser_main(void *arg)
{
	struct fdcloser_lane *lane = arg;
	struct fdcloser_job job;

	while (read(lane->pipe_r, &job, sizeof(job)) == sizeof(job)) {
		if (job.addr)
			munmap(job.addr, job.len);
		if (job.fd >= 0)
			close(job.fd);
	}
	close(lane->pipe_r);
	return NULL;
}

static int fdcloser_lane_start(struct fdcloser_lane *lane)
{
	sigset_t all, old;
	int p[2], err;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	/* Only the loop writes; it must never wait for the thread. */
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	lane->pipe_r = p[0];
	lane->pipe_w = p[1];
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&lane->thread, NULL, fdcloser_main, lane);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		close(p[0]);
		close(p[1]);
		lane->pipe_r = lane->pipe_w = -1;
		return -err;
	}
	return 0;
}

static void fdcloser_lane_stop(struct fdcloser_lane *lane)
{
	close(lane->pipe_w);
	/* Not joined: a thread stuck in a lingering close must not hold up
	 * the exit, which releases what is left without lingering. */
	pthread_detach(lane->thread);
	lane->pipe_w = -1;
}

int fdcloser_start(bool peer_fds)
{
	int err;

	fdcloser.peer_fds = peer_fds;
	if (fdcloser.running)
		return 0;
	err = fdcloser_lane_start(&fdcloser.fds);
	if (err)
		return err;
	err = fdcloser_lane_start(&fdcloser.mem);
	if (err) {
		fdcloser_lane_stop(&fdcloser.fds);
		return err;
	}
	fdcloser.running = true;
	return 0;
}

/* Give @job to @lane's thread; false if it is not running or can't take it. */
static bool fdcloser_hand(struct fdcloser_lane *lane,
			  const struct fdcloser_job *job)
{
	return fdcloser.running &&
	       write(lane->pipe_w, job, sizeof(*job)) == sizeof(*job);
}

void fdcloser_close(int fd)
{
	const struct fdcloser_job job = { .fd = fd };

	if (fd < 0)
		return;
	if (!fdcloser.running || !fdcloser.peer_fds) {
		close(fd);
		return;
	}
	if (fdcloser_hand(&fdcloser.fds, &job)) {
		fdcloser.handed++;
		return;
	}
	/* The thread is stuck on an earlier fd: keeping this one open costs
	 * an fd; closing it here could cost the loop. */
	fdcloser.leaked++;
}

void fdcloser_close_socket(int fd)
{
	int queued = 0;

	if (fd < 0)
		return;
	if (!fdcloser.running || !fdcloser.peer_fds ||
	    shutdown(fd, SHUT_RD) < 0 ||
	    (!ioctl(fd, FIONREAD, &queued) && !queued)) {
		close(fd);
		return;
	}
	fdcloser_close(fd);
}

void fdcloser_unmap_close(void *addr, size_t len, int fd)
{
	const struct fdcloser_job job = { .fd = fd, .addr = addr, .len = len };

	if (fdcloser_hand(&fdcloser.mem, &job)) {
		if (addr) {
			fdcloser.mem_handed++;
			fdcloser.mem_handed_bytes += len;
		}
		return;
	}
	if (addr)
		munmap(addr, len);
	if (fd >= 0)
		close(fd);
}

unsigned long long fdcloser_handed(void)
{
	return fdcloser.handed;
}

unsigned long long fdcloser_leaked(void)
{
	return fdcloser.leaked;
}

unsigned long long fdcloser_unmapped(void)
{
	return fdcloser.mem_handed;
}

unsigned long long fdcloser_unmapped_bytes(void)
{
	return fdcloser.mem_handed_bytes;
}

void fdcloser_stop(void)
{
	if (!fdcloser.running)
		return;
	fdcloser_lane_stop(&fdcloser.fds);
	fdcloser_lane_stop(&fdcloser.mem);
	fdcloser.running = false;
}
