// SPDX-License-Identifier: MIT
/*
 * Reads of a peer's /proc files on helper threads (procread.h).
 *
 * Each read has a detached thread of its own, so one that never returns
 * holds nothing but itself. A finished read goes on the pool's done list
 * and the eventfd wakes the loop, which calls back and frees it. Reads
 * not yet handed back sit on the loop's live list, and a timerfd armed
 * for the earliest deadline among them ends those that pass it: their
 * caller hears -ETIMEDOUT and the record waits, stuck, for its thread.
 * Each thread is charged to its peer's uid from its start until it ends,
 * given back by the thread itself: a read that ends frees its share at
 * once, not when the loop gets round to it. A read whose uid holds its
 * share waits, without a thread, on the pool's queue (live, so the same
 * timer ends it at its deadline); the loop, woken by the eventfd of a
 * thread that ended, starts the first queued reads that can take a
 * thread then.
 * The pool outlives pvdmad's use of it while threads still run: the last
 * one out frees it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <pvdma/compat.h>

#include "procread.h"
#include "uidquota.h"

_Static_assert(PROCREAD_PER_UID >= 1 && PROCREAD_PER_UID < PROCREAD_THREADS,
	       "a uid's share leaves a reserve for the others");
_Static_assert(PROCREAD_QUEUE_PER_UID >= 1 &&
	       PROCREAD_QUEUE_PER_UID < PROCREAD_QUEUE &&
	       PROCREAD_QUEUE <= UIDQUOTA_MAX_SLOTS,
	       "a uid's places in the queue leave a reserve for the others");

/**
 * struct procread - one read
 * @next:	in the pool's done list
 * @live_next:	in the pool's live list (the loop's alone)
 * @queue_next:	in the pool's queue (the loop's alone)
 * @pool:
 * @path:	what to read
 * @buf:	what was read
 * @max:	its size
 * @n:		bytes read, or a negative errno
 * @fn, @ctx:	the caller's, called on the loop
 * @pidfd:	the process @path is under, or -1
 * @uid:	the peer's, charged with the thread until it ends
 * @deadline_ns: when the caller stops waiting (CLOCK_MONOTONIC)
 * @cancelled:	the caller is gone (the loop's alone)
 * @expired:	the deadline passed: counted stuck until its thread ends
 *		(the loop's alone)
 * @queued:	on the queue, charged to @uid there (the loop's alone)
 * @started:	its thread was made (the loop's alone)
 */
struct procread {
	struct procread *next;
	struct procread *live_next;
	struct procread *queue_next;
	struct procread_pool *pool;
	char path[64];
	char *buf;
	size_t max;
	ssize_t n;
	procread_fn fn;
	void *ctx;
	int pidfd;
	uid_t uid;
	uint64_t deadline_ns;
	bool cancelled;
	bool expired;
	bool queued;
	bool started;
};

/**
 * struct procread_pool - the threads' meeting point with the loop
 * @loop, @watch: the loop, watching @efd
 * @efd:	written by a thread when it adds to @done
 * @tfd, @timer_watch: the deadline timer, on the loop
 * @live:	reads whose caller still waits (the loop's alone)
 * @queue:	reads waiting for a thread, oldest first (the loop's alone)
 * @waiting:	their places, charged to their uids (the loop's alone)
 * @waited:	reads that went through the queue (the loop's)
 * @lock:	guards @done, @running, @closing
 * @done:	reads ended, not yet handed to their callers
 * @running:	threads not yet ended (some may never end), each charged
 *		to its peer's uid
 * @closing:	pvdmad is done with the pool: the last thread frees it
 * @refused:	reads refused because every thread was taken (the loop's)
 * @refused_quota: reads refused because the peer's uid held its share
 *		(the loop's)
 * @stuck:	threads whose read passed its deadline, still running (the
 *		loop's)
 * @timed_out:	reads that passed their deadline (the loop's)
 */
struct procread_pool {
	struct evloop *loop;
	struct evloop_watch watch;
	int efd;
	int tfd;
	struct evloop_watch timer_watch;
	struct procread *live;
	struct procread *queue;
	struct uidquota waiting;
	unsigned long long waited;
	pthread_mutex_t lock;
	struct procread *done;
	struct uidquota running;
	bool closing;
	unsigned long long refused;
	unsigned long long refused_quota;
	unsigned int stuck;
	unsigned long long timed_out;
};

static void procread_free(struct procread *r)
{
	if (r->pidfd >= 0)
		close(r->pidfd);
	free(r->buf);
	free(r);
}

static void procread_pool_destroy(struct procread_pool *p)
{
	close(p->efd);
	if (p->tfd >= 0)
		close(p->tfd);
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

bool procread_pidfd_gone(int pidfd)
{
	/* EPERM (another user's) still means it is there. */
	return syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) < 0 &&
	       errno == ESRCH;
}

static void *procread_main(void *arg)
{
	struct procread *r = arg;
	struct procread_pool *p = r->pool;
	int fd = open(r->path, O_RDONLY | O_CLOEXEC);
	bool last;

	r->n = fd < 0 ? -errno : procread_all(fd, r->buf, r->max);
	/* Checked after the open: the file is then the pinned process's. */
	if (fd >= 0 && r->pidfd >= 0 && procread_pidfd_gone(r->pidfd))
		r->n = -ESRCH;
	if (fd >= 0)
		close(fd);
	pthread_mutex_lock(&p->lock);
	uidquota_put(&p->running, r->uid);
	if (p->closing) {
		last = !p->running.used;
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

/* Off the live list: handed back, cancelled or expired. */
static void procread_unlive(struct procread *r)
{
	struct procread **pp = &r->pool->live;

	while (*pp && *pp != r)
		pp = &(*pp)->live_next;
	if (*pp)
		*pp = r->live_next;
}

/* Off the queue, its place given back. */
static void procread_unqueue(struct procread *r)
{
	struct procread **pp = &r->pool->queue;

	while (*pp && *pp != r)
		pp = &(*pp)->queue_next;
	if (*pp)
		*pp = r->queue_next;
	r->queued = false;
	uidquota_put(&r->pool->waiting, r->uid);
}

/* At the queue's end, if its uid has a place left there and the queue has
 * one; -EDQUOT if not. */
static int procread_queue(struct procread *r)
{
	struct procread_pool *p = r->pool;
	struct procread **pp = &p->queue;

	if (uidquota_take(&p->waiting, r->uid))
		return -EDQUOT;	/* its user's reads can neither run nor wait */
	while (*pp)
		pp = &(*pp)->queue_next;
	r->queue_next = NULL;
	*pp = r;
	r->queued = true;
	p->waited++;
	return 0;
}

/* @r's thread, @r charged to its uid already: 0 or a negative errno. */
static int procread_spawn(struct procread *r)
{
	sigset_t all, old;
	pthread_attr_t attr;
	pthread_t t;
	int err;

	/* No signal for the thread: SIGALRM must reach the loop's (peerfd.c). */
	sigfillset(&all);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = -pthread_create(&t, &attr, procread_main, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (err) {
		pthread_mutex_lock(&r->pool->lock);
		uidquota_put(&r->pool->running, r->uid);
		pthread_mutex_unlock(&r->pool->lock);
		return err;
	}
	r->started = true;
	return 0;
}

/* The oldest queued read that a thread is free for, charged to its uid. */
static struct procread *procread_next_ready(struct procread_pool *p)
{
	struct procread *r;

	pthread_mutex_lock(&p->lock);
	for (r = p->queue; r; r = r->queue_next)
		if (!uidquota_take(&p->running, r->uid))
			break;
	pthread_mutex_unlock(&p->lock);
	return r;
}

/*
 * Start the queued reads threads are free for, oldest first (a uid's in
 * the order asked for). The walk starts over after each: a callback may
 * start or cancel reads.
 */
static void procread_drain(struct procread_pool *p)
{
	struct procread *r;
	int err;

	while ((r = procread_next_ready(p))) {
		procread_unqueue(r);
		err = procread_spawn(r);
		if (!err)
			continue;
		procread_unlive(r);
		r->fn(r->ctx, NULL, err);
		procread_free(r);
	}
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
		if (r->expired)
			p->stuck--;
		if (!r->cancelled) {
			procread_unlive(r);
			r->fn(r->ctx, r->buf, r->n);
		}
		procread_free(r);
	}
	/* threads ended: their places go to the reads waiting for them */
	procread_drain(p);
}

/* The timer for the earliest deadline among the live reads, or none. */
static void procread_arm(struct procread_pool *p)
{
	struct itimerspec its = { 0 };
	struct procread *r;
	uint64_t first = 0;

	for (r = p->live; r; r = r->live_next)
		if (!first || r->deadline_ns < first)
			first = r->deadline_ns;
	if (first) {
		its.it_value.tv_sec = first / 1000000000ull;
		its.it_value.tv_nsec = first % 1000000000ull;
	}
	timerfd_settime(p->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/*
 * Deadlines passed: each such caller hears -ETIMEDOUT, once; the thread
 * goes on (nothing can stop it) and is counted stuck until it ends. The
 * callbacks run after the walk: one may start or cancel another read.
 */
static void procread_on_timer(struct evloop_watch *w, uint32_t events)
{
	struct procread_pool *p = container_of(w, struct procread_pool,
					       timer_watch);
	struct procread **pp = &p->live, *late = NULL, *r;
	uint64_t now = evloop_now_ns(), v;
	ssize_t n = read(p->tfd, &v, sizeof(v));	/* ours, non-blocking */
	bool gone;

	(void)n;	/* the walk below is what counts, not how often */
	while ((r = *pp)) {
		if (r->deadline_ns > now) {
			pp = &r->live_next;
			continue;
		}
		*pp = r->live_next;
		r->live_next = late;
		late = r;
		/* off the queue now: a callback below may start reads */
		if (r->queued)
			procread_unqueue(r);
	}
	procread_arm(p);
	while ((r = late)) {
		late = r->live_next;
		p->timed_out++;
		if (!r->started) {
			/* it never had a thread: nothing left of it */
			if (!r->cancelled)
				r->fn(r->ctx, NULL, -ETIMEDOUT);
			procread_free(r);
			continue;
		}
		gone = r->cancelled;
		procread_cancel(r);
		r->expired = true;
		p->stuck++;
		if (!gone)
			r->fn(r->ctx, NULL, -ETIMEDOUT);
	}
}

struct procread_pool *procread_pool_new(struct evloop *loop)
{
	struct procread_pool *p = calloc(1, sizeof(*p));
	int err;

	if (!p)
		return NULL;
	err = uidquota_init(&p->running, PROCREAD_THREADS, PROCREAD_PER_UID);
	if (!err)
		err = uidquota_init(&p->waiting, PROCREAD_QUEUE,
				    PROCREAD_QUEUE_PER_UID);
	if (err) {
		free(p);
		errno = -err;
		return NULL;
	}
	p->loop = loop;
	p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->efd < 0) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	p->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (p->tfd < 0) {
		err = -errno;
		procread_pool_destroy(p);
		errno = -err;
		return NULL;
	}
	p->watch = (struct evloop_watch){ .fd = p->efd, .fn = procread_on_done };
	p->timer_watch = (struct evloop_watch){ .fd = p->tfd,
						.fn = procread_on_timer };
	err = evloop_add(loop, &p->watch, EPOLLIN);
	if (!err) {
		err = evloop_add(loop, &p->timer_watch, EPOLLIN);
		if (err)
			evloop_del(loop, &p->watch);
	}
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
	evloop_del(p->loop, &p->timer_watch);
	p->live = NULL;		/* their threads free them */
	while ((r = p->queue)) {	/* no thread: ours to free */
		p->queue = r->queue_next;
		procread_free(r);
	}
	pthread_mutex_lock(&p->lock);
	p->closing = true;
	while ((r = p->done)) {
		p->done = r->next;
		procread_free(r);
	}
	last = !p->running.used;
	pthread_mutex_unlock(&p->lock);
	if (last)
		procread_pool_destroy(p);
}

struct procread *procread_start(struct procread_pool *p, const char *path,
				size_t max, unsigned int timeout_ms, int pidfd,
				uid_t uid, procread_fn fn, void *ctx, int *err)
{
	struct procread *r = calloc(1, sizeof(*r));

	*err = -ENOMEM;
	if (r) {
		r->pidfd = pidfd;
		r->buf = malloc(max);
	}
	if (!r || !r->buf) {
		if (r)
			procread_free(r);
		else if (pidfd >= 0)
			close(pidfd);
		return NULL;
	}
	snprintf(r->path, sizeof(r->path), "%s", path);
	r->pool = p;
	r->max = max;
	r->uid = uid;
	r->fn = fn;
	r->ctx = ctx;
	/* A queued read's deadline too: from now, not from its start. */
	r->deadline_ns = evloop_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	/* Behind the uid's reads that wait already: its own stay in order. */
	if (uidquota_held(&p->waiting, uid)) {
		*err = -EDQUOT;
	} else {
		pthread_mutex_lock(&p->lock);
		*err = uidquota_take(&p->running, uid);
		pthread_mutex_unlock(&p->lock);
	}
	/*
	 * Its uid at its share: it waits for one of that uid's threads (a
	 * burst of one user's QEMUs is served), in that uid's few places,
	 * so a user whose peers stall only makes its own wait. Every thread
	 * taken by others: refused, as a full queue is.
	 */
	if (*err == -EDQUOT)
		*err = procread_queue(r);
	if (*err) {
		if (*err == -EDQUOT)
			p->refused_quota++;
		else
			p->refused++;
		procread_free(r);
		return NULL;
	}
	if (!r->queued) {
		*err = procread_spawn(r);
		if (*err) {
			procread_free(r);
			return NULL;
		}
	}
	/* The thread may already be done: the loop hands it back later. */
	r->live_next = p->live;
	p->live = r;
	procread_arm(p);
	return r;
}

void procread_cancel(struct procread *r)
{
	procread_unlive(r);
	r->cancelled = true;
	if (r->queued) {	/* no thread has it: gone now */
		procread_unqueue(r);
		procread_free(r);
	}
}

unsigned int procread_running(struct procread_pool *p)
{
	unsigned int n;

	pthread_mutex_lock(&p->lock);
	n = p->running.used;
	pthread_mutex_unlock(&p->lock);
	return n;
}

unsigned int procread_running_uid(struct procread_pool *p, uid_t uid)
{
	unsigned int n;

	pthread_mutex_lock(&p->lock);
	n = uidquota_held(&p->running, uid);
	pthread_mutex_unlock(&p->lock);
	return n;
}

unsigned long long procread_refused(const struct procread_pool *p)
{
	return p->refused;
}

unsigned long long procread_refused_quota(const struct procread_pool *p)
{
	return p->refused_quota;
}

unsigned int procread_stuck(const struct procread_pool *p)
{
	return p->stuck;
}

unsigned long long procread_timed_out(const struct procread_pool *p)
{
	return p->timed_out;
}

unsigned int procread_queued(const struct procread_pool *p)
{
	return p->waiting.used;
}

unsigned int procread_queued_uid(const struct procread_pool *p, uid_t uid)
{
	return uidquota_held(&p->waiting, uid);
}

unsigned long long procread_waited(const struct procread_pool *p)
{
	return p->waited;
}
