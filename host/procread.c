// SPDX-License-Identifier: MIT
/*
 * Reads of a peer's /proc files on helper threads (procread.h).
 *
 * Each read has a detached thread of its own, so one that never returns
 * holds nothing but itself. A finished read goes on the pool's done list
 * and the eventfd wakes the loop, which calls back and frees it. The
 * pool outlives pvdmad's use of it while threads still run: the last one
 * out frees it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <pvdma/compat.h>

#include "procread.h"

/**
 * struct procread - one read
 * @next:	in the pool's done list
 * @pool:
 * @path:	what to read
 * @buf:	what was read
 * @max:	its size
 * @n:		bytes read, or a negative errno
 * @fn, @ctx:	the caller's, called on the loop
 * @cancelled:	the caller is gone (the loop's alone)
 */
struct procread {
	struct procread *next;
	struct procread_pool *pool;
	char path[64];
	char *buf;
	size_t max;
	ssize_t n;
	procread_fn fn;
	void *ctx;
	bool cancelled;
};

/**
 * struct procread_pool - the threads' meeting point with the loop
 * @loop, @watch: the loop, watching @efd
 * @efd:	written by a thread when it adds to @done
 * @lock:	guards @done, @running, @closing
 * @done:	reads ended, not yet handed to their callers
 * @running:	threads not yet ended (some may never end)
 * @closing:	pvdmad is done with the pool: the last thread frees it
 * @refused:	reads refused because every thread was taken (the loop's)
 */
struct procread_pool {
	struct evloop *loop;
	struct evloop_watch watch;
	int efd;
	pthread_mutex_t lock;
	struct procread *done;
	unsigned int running;
	bool closing;
	unsigned long long refused;
};

static void procread_free(struct procread *r)
{
	free(r->buf);
	free(r);
}

static void procread_pool_destroy(struct procread_pool *p)
{
	close(p->efd);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static ssize_t procread_all(int fd, char *buf, size_t max)
{
	size_t got = 0;
	ssize_t n;

	while (got < max) {
		n = read(fd, buf + got, max - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return got ? (ssize_t)got : -errno;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

static void *procread_main(void *arg)
{
	struct procread *r = arg;
	struct procread_pool *p = r->pool;
	int fd = open(r->path, O_RDONLY | O_CLOEXEC);
	bool last;

	r->n = fd < 0 ? -errno : procread_all(fd, r->buf, r->max);
	if (fd >= 0)
		close(fd);
	pthread_mutex_lock(&p->lock);
	p->running--;
	if (p->closing) {
		last = !p->running;
		pthread_mutex_unlock(&p->lock);
		procread_free(r);
		if (last)
			procread_pool_destroy(p);
		return NULL;
	}
	r->next = p->done;
	p->done = r;
	/* under the lock: the pool can't close @efd meanwhile */
	eventfd_write(p->efd, 1);
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void procread_on_done(struct evloop_watch *w, uint32_t events)
{
	struct procread_pool *p = container_of(w, struct procread_pool, watch);
	struct procread *list, *r;
	eventfd_t v;

	eventfd_read(p->efd, &v);	/* ours alone, non-blocking */
	pthread_mutex_lock(&p->lock);
	list = p->done;
	p->done = NULL;
	pthread_mutex_unlock(&p->lock);
	while ((r = list)) {
		list = r->next;
		if (!r->cancelled)
			r->fn(r->ctx, r->buf, r->n);
		procread_free(r);
	}
}

struct procread_pool *procread_pool_new(struct evloop *loop)
{
	struct procread_pool *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		return NULL;
	p->loop = loop;
	p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->efd < 0) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	p->watch = (struct evloop_watch){ .fd = p->efd, .fn = procread_on_done };
	err = evloop_add(loop, &p->watch, EPOLLIN);
	if (err) {
		procread_pool_destroy(p);
		errno = -err;
		return NULL;
	}
	return p;
}

void procread_pool_free(struct procread_pool *p)
{
	struct procread *r;
	bool last;

	if (!p)
		return;
	evloop_del(p->loop, &p->watch);
	pthread_mutex_lock(&p->lock);
	p->closing = true;
	while ((r = p->done)) {
		p->done = r->next;
		procread_free(r);
	}
	last = !p->running;
	pthread_mutex_unlock(&p->lock);
	if (last)
		procread_pool_destroy(p);
}

struct procread *procread_start(struct procread_pool *p, const char *path,
				size_t max, procread_fn fn, void *ctx, int *err)
{
	struct procread *r = calloc(1, sizeof(*r));
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t t;
	bool full;

	*err = -ENOMEM;
	if (r)
		r->buf = malloc(max);
	if (!r || !r->buf) {
		free(r);
		return NULL;
	}
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->pool = p;
	r->max = max;
	r->fn = fn;
	r->ctx = ctx;
	pthread_mutex_lock(&p->lock);
	full = p->running >= PROCREAD_THREADS;
	if (!full)
		p->running++;
	pthread_mutex_unlock(&p->lock);
	if (full) {
		p->refused++;
		procread_free(r);
		*err = -EBUSY;
		return NULL;
	}
	/* No signal for the thread: SIGALRM must reach the loop's (peerfd.c). */
	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	*err = -pthread_create(&t, &attr, procread_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (*err) {
		pthread_mutex_lock(&p->lock);
		p->running--;
		pthread_mutex_unlock(&p->lock);
		procread_free(r);
		return NULL;
	}
	return r;
}

void procread_cancel(struct procread *r)
{
	r->cancelled = true;
}

unsigned int procread_running(struct procread_pool *p)
{
	unsigned int n;

	pthread_mutex_lock(&p->lock);
	n = p->running;
	pthread_mutex_unlock(&p->lock);
	return n;
}

unsigned long long procread_refused(const struct procread_pool *p)
{
	return p->refused;
}
