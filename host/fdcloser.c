// SPDX-License-Identifier: MIT
/*
 * The closer thread (fdcloser.h): fd numbers go through a pipe, the thread
 * closes each. It runs with every signal blocked, so the loop's signals
 * (signalfd, the eventfd guard's SIGALRM, SIGBUS) stay the loop's.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fdcloser.h"

static struct {
	bool running;
	int pipe_w;
	int pipe_r;
	pthread_t thread;
	unsigned long long handed;
	unsigned long long leaked;
} fdcloser = { .pipe_w = -1, .pipe_r = -1 };

static void *fdcloser_main(void *arg)
{
	int fd;

	while (read(fdcloser.pipe_r, &fd, sizeof(fd)) == sizeof(fd))
		close(fd);
	close(fdcloser.pipe_r);
	return NULL;
}

int fdcloser_start(bool needed)
{
	sigset_t all, old;
	int p[2], err;

	if (!needed || fdcloser.running)
		return 0;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	/* Only the loop writes; it must never wait for the thread. */
	fcntl(p[1], F_SETFL, O_NONBLOCK);
	fdcloser.pipe_r = p[0];
	fdcloser.pipe_w = p[1];
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&fdcloser.thread, NULL, fdcloser_main, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		close(p[0]);
		close(p[1]);
		fdcloser.pipe_r = fdcloser.pipe_w = -1;
		return -err;
	}
	fdcloser.running = true;
	return 0;
}

void fdcloser_close(int fd)
{
	if (fd < 0)
		return;
	if (!fdcloser.running) {
		close(fd);
		return;
	}
	if (write(fdcloser.pipe_w, &fd, sizeof(fd)) == sizeof(fd)) {
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
	if (!fdcloser.running || shutdown(fd, SHUT_RD) < 0 ||
	    (!ioctl(fd, FIONREAD, &queued) && !queued)) {
		close(fd);
		return;
	}
	fdcloser_close(fd);
}

unsigned long long fdcloser_handed(void)
{
	return fdcloser.handed;
}

unsigned long long fdcloser_leaked(void)
{
	return fdcloser.leaked;
}

void fdcloser_stop(void)
{
	if (!fdcloser.running)
		return;
	close(fdcloser.pipe_w);
	/* Not joined: a thread stuck in a lingering close must not hold up
	 * the exit, which releases what is left without lingering. */
	pthread_detach(fdcloser.thread);
	fdcloser.running = false;
	fdcloser.pipe_w = -1;
}
