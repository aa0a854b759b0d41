/* SPDX-License-Identifier: MIT */
/*
 * A minimal epoll loop: each watched fd carries its handler. The daemon's
 * main owns the loop; the servers only add and remove watches.
 */
#ifndef PVDMAD_EVLOOP_H
#define PVDMAD_EVLOOP_H

#include <stdint.h>

struct evloop_watch;
typedef void (*evloop_fn)(struct evloop_watch *w, uint32_t events);

/**
 * struct evloop_watch - one fd in the loop, embedded in its owner
 * @fd:		the fd (not owned by the loop)
 * @fn:		called with the epoll events when it is ready
 */
struct evloop_watch {
	int fd;
	evloop_fn fn;
};

struct evloop {
	int epfd;
};

int evloop_init(struct evloop *l);
void evloop_fini(struct evloop *l);
/* Watch @w->fd for @events (EPOLLIN...). 0 or a negative errno. */
int evloop_add(struct evloop *l, struct evloop_watch *w, uint32_t events);
void evloop_del(struct evloop *l, struct evloop_watch *w);
/*
 * Wait up to @timeout_ms and dispatch. A handler may delete watches,
 * including ones with events still pending in this round only if their
 * memory stays valid until evloop_run_once() returns (owners defer frees).
 * Returns events dispatched, or a negative errno (-EINTR is not an error).
 */
int evloop_run_once(struct evloop *l, int timeout_ms);

#endif /* PVDMAD_EVLOOP_H */
