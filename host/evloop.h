/* SPDX-License-Identifier: MIT */
/*
 * A minimal epoll loop: each watched fd carries its handler. The daemon's
 * main owns the loop; the servers only add and remove watches.
 *
 * Deferred release: a handler may end any watch, including one whose event
 * is still waiting later in the same batch. The owner hands its memory to
 * evloop_release_later(); the loop frees it after the batch, so no handler
 * is ever reached through freed memory.
 */
#ifndef PVDMAD_EVLOOP_H
#define PVDMAD_EVLOOP_H

#include <stdint.h>

struct evloop_watch;
typedef void (*evloop_fn)(struct evloop_watch *w, uint32_t events);
typedef void (*evloop_release_fn)(struct evloop_watch *w);

/**
 * struct evloop_watch - one fd in the loop, embedded in its owner
 * @fd:		the fd (not owned by the loop); -1 once removed
 * @fn:		called with the epoll events when it is ready
 * @release:	frees the owner, called after the batch (deferred release)
 * @dead_next:	in the loop's list of watches waiting for @release
 */
struct evloop_watch {
	int fd;
	evloop_fn fn;
	evloop_release_fn release;
	struct evloop_watch *dead_next;
};

/**
 * struct evloop_stats - the watchdog's figures
 * @turns:		batches dispatched
 * @longest_turn_ns:	the longest turn: from epoll_wait's return to
 *			evloop_turn_end() (handlers and the owner's work)
 * @last_turn_ns:	the latest turn
 * @longest_turn_cpu_ns: the most CPU time the loop's thread spent in one
 *			turn (the work alone: a busy machine's preemption
 *			is in the wall times, not here)
 */
struct evloop_stats {
	uint64_t turns;
	uint64_t longest_turn_ns;
	uint64_t last_turn_ns;
	uint64_t longest_turn_cpu_ns;
};

/**
 * struct evloop - the loop
 * @epfd:	epoll instance
 * @dead:	watches released during the current batch
 * @turn_start_ns: when the current turn began (0: none open)
 * @turn_start_cpu_ns: the loop thread's CPU time then
 * @stats:	watchdog figures
 */
struct evloop {
	int epfd;
	struct evloop_watch *dead;
	uint64_t turn_start_ns;
	uint64_t turn_start_cpu_ns;
	struct evloop_stats stats;
};

int evloop_init(struct evloop *l);
/* Frees every watch still waiting for release, closes the epoll fd. */
void evloop_fini(struct evloop *l);
/* Watch @w->fd for @events (EPOLLIN...). 0 or a negative errno. */
int evloop_add(struct evloop *l, struct evloop_watch *w, uint32_t events);
/* Change the events of a watched fd. 0 or a negative errno. */
int evloop_mod(struct evloop *l, struct evloop_watch *w, uint32_t events);
/* Stop watching (the fd stays open, @w->fd is kept). */
void evloop_del(struct evloop *l, struct evloop_watch *w);
/*
 * Stop watching @w (if it still has an fd: the caller closes it first or
 * after, the loop never touches it again) and call @release on it once the
 * current batch is over, or at evloop_fini().
 */
void evloop_release_later(struct evloop *l, struct evloop_watch *w,
			  evloop_release_fn release);
/*
 * Wait up to @timeout_ms and dispatch, then release what handlers ended.
 * Opens a turn when events came (closed by evloop_turn_end()).
 * Returns events dispatched, or a negative errno (-EINTR is not an error).
 */
int evloop_run_once(struct evloop *l, int timeout_ms);
/* Close the turn opened by evloop_run_once(): the watchdog figures. */
void evloop_turn_end(struct evloop *l);
uint64_t evloop_now_ns(void);

#endif /* PVDMAD_EVLOOP_H */
