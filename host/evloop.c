// SPDX-License-Identifier: MIT
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "evloop.h"

#define EVLOOP_BATCH	32

int evloop_init(struct evloop *l)
{
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd < 0 ? -errno : 0;
}

void evloop_fini(struct evloop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
}

int evloop_add(struct evloop *l, struct evloop_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	return epoll_ctl(l->epfd, EPOLL_CTL_ADD, w->fd, &ev) < 0 ? -errno : 0;
}

void evloop_del(struct evloop *l, struct evloop_watch *w)
{
	if (w->fd >= 0)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, w->fd, NULL);
}

int evloop_run_once(struct evloop *l, int timeout_ms)
{
	struct epoll_event ev[EVLOOP_BATCH];
	struct evloop_watch *w;
	int n, i;

	n = epoll_wait(l->epfd, ev, EVLOOP_BATCH, timeout_ms);
	if (n < 0)
		return -errno;
	for (i = 0; i < n; i++) {
		w = ev[i].data.ptr;
		/* A watch removed earlier in this round has fd -1. */
		if (w->fd >= 0)
			w->fn(w, ev[i].events);
	}
	return n;
}
