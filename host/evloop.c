// SPDX-License-Identifier: MIT
/*
 * pvdmad's event loop: one epoll set, each fd a watch with its handler;
 * a watch ended inside a batch is freed after that batch (evloop.h).
 */
#include <errno.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "evloop.h"

#define EVLOOP_BATCH	32

static uint64_t evloop_clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t evloop_now_ns(void)
{
	return evloop_clock_ns(CLOCK_MONOTONIC);
}

/*
 * The loop thread's CPU time: a turn's wall time also counts whatever
 * preempted the loop on a busy machine, its CPU time only the loop's work.
 */
static uint64_t evloop_cpu_ns(void)
{
	return evloop_clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

int evloop_init(struct evloop *l)
{
	*l = (struct evloop){ .epfd = -1 };
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd < 0 ? -errno : 0;
}

static void evloop_release_dead(struct evloop *l)
{
	struct evloop_watch *w;

	while ((w = l->dead)) {
		l->dead = w->dead_next;
		w->release(w);
	}
}

void evloop_fini(struct evloop *l)
{
	evloop_release_dead(l);
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}

int evloop_add(struct evloop *l, struct evloop_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, w->fd, &ev) < 0 ? -errno : 0;
}

int evloop_mod(struct evloop *l, struct evloop_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0 ? -errno : 0;
}

void evloop_del(struct evloop *l, struct evloop_watch *w)
{
	if (w->fd >= 0)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

void evloop_release_later(struct evloop *l, struct evloop_watch *w,
			  evloop_release_fn release)
{
	evloop_del(l, w);
	w->fd = -1;
	w->release = release;
	w->dead_next = l->dead;
	l->dead = w;
}

int evloop_run_once(struct evloop *l, int timeout_ms)
{
	struct epoll_event ev[EVLOOP_BATCH];
	struct evloop_watch *w;
	int n, i;

	n = epoll_wait(l->epfd, ev, EVLOOP_BATCH, timeout_ms);
	if (n < 0)
		return -errno;
	l->turn_start_ns = evloop_now_ns();
	l->turn_start_cpu_ns = evloop_cpu_ns();
	for (i = 0; i < n; i++) {
		w = ev[i].data.ptr;
		/* A watch removed earlier in this batch has fd -1; its memory
		 * stays valid until evloop_release_dead() below. */
		if (w->fd >= 0)
			w->fn(w, ev[i].events);
	}
	evloop_release_dead(l);
	return n;
}

void evloop_turn_end(struct evloop *l)
{
	uint64_t ns, cpu;

	if (!l->turn_start_ns)
		return;
	ns = evloop_now_ns() - l->turn_start_ns;
	cpu = evloop_cpu_ns() - l->turn_start_cpu_ns;
	l->turn_start_ns = 0;
	l->stats.turns++;
	l->stats.last_turn_ns = ns;
	if (ns > l->stats.longest_turn_ns)
		l->stats.longest_turn_ns = ns;
	if (cpu > l->stats.longest_turn_cpu_ns)
		l->stats.longest_turn_cpu_ns = cpu;
}
