/* SPDX-License-Identifier: MIT */
/*
 * Reads of a peer's /proc/PID/cmdline, off the loop.
 *
 * The kernel copies another process's arguments out of that process's
 * memory under its mmap lock (fs/proc/base.c, get_mm_cmdline, through
 * access_remote_vm), and the process can hold its own lock as long as it
 * likes: one of its threads faults, through /proc/self/mem, on a page of
 * a FUSE file it serves and never answers, and holds the lock for read;
 * another's mmap() then waits for it, and every later reader queues
 * behind that writer (run-attack "cmdline", tests/host/stallfs.c). So
 * each read runs on a thread of its own and its result comes back to the
 * loop through an eventfd; the loop never waits for one. Each read has a
 * deadline: past it the caller hears -ETIMEDOUT (on the loop, from a
 * timerfd) and never hears of the read again. A thread whose peer never
 * lets go can't be stopped (the wait is killable: only exit ends it), so
 * it is counted as stuck until it ends on its own; at most
 * PROCREAD_THREADS run at once, stuck ones included, and a read asked
 * for when all of them are taken by other users is refused (-EBUSY).
 * Each read is charged, until its thread ends, to the uid of the peer it
 * is for (uidquota.h): a uid holding PROCREAD_PER_UID threads has its
 * next read wait, in order, until one of that uid's threads ends (a
 * burst of one user's QEMUs started together is served: each read takes
 * microseconds), its deadline running from when it was asked for; so
 * one user's stuck peers keep the rest of the pool free for other
 * users' QEMUs and make only that user's later reads wait and time out.
 * Past the queue's bounds (PROCREAD_QUEUE_PER_UID for the uid,
 * PROCREAD_QUEUE in all) the read is refused at once (-EDQUOT).
 */
#ifndef PVDMAD_PROCREAD_H
#define PVDMAD_PROCREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "evloop.h"

#define PROCREAD_THREADS	8
/*
 * Threads one uid may hold: a quarter, so one user stalling its own
 * peers leaves three quarters of the pool to every other user, and it
 * takes four such users together to fill it. A peer that lets its line
 * be read frees its thread within microseconds (the charge ends on the
 * thread, with the read), so one user's well-behaved QEMUs, even started
 * together, hardly ever hold two at once.
 */
#define PROCREAD_PER_UID	(PROCREAD_THREADS / 4 ? PROCREAD_THREADS / 4 : 1)
/*
 * Reads that may wait for a thread of their uid's share: twice the
 * threads in all (at most UIDQUOTA_MAX_SLOTS), a quarter of them to one
 * uid, as the threads are shared, so it takes four users whose peers
 * stall their own reads to fill the queue as well. One user then has up
 * to 2 + 4 command lines asked for at the same moment served, more than
 * VMs started together put on the loop within the tens of microseconds
 * a read takes; a stalling user's waiting reads end at their deadline.
 * A waiting read holds its record and its pidfd, no thread.
 */
#define PROCREAD_QUEUE		(2 * PROCREAD_THREADS)
#define PROCREAD_QUEUE_PER_UID	(PROCREAD_QUEUE / 4 ? PROCREAD_QUEUE / 4 : 1)

struct procread;
struct procread_pool;

/* A read ended: @n bytes in @buf (@n <= 0: none; -errno of the failure). */
typedef void (*procread_fn)(void *ctx, const char *buf, ssize_t n);

/* The pool, watched on @loop; NULL (errno set) if it can't be made. */
struct procread_pool *procread_pool_new(struct evloop *loop);

/*
 * Stop watching and forget every read not delivered; the pool's memory
 * goes with its last thread. The loop must be alive (the watch is
 * removed from it).
 */
void procread_pool_free(struct procread_pool *p);

/*
 * Read up to @max bytes of @path on a thread; @fn(@ctx, ...) on the loop
 * when it ends, or with -ETIMEDOUT once @timeout_ms passed, unless
 * cancelled; only once. @pidfd (taken, -1 for none) pins the process
 * @path is under: if it is gone once @path is open, its pid may name
 * another process by then, and the read ends -ESRCH instead (a live or
 * zombie process keeps its pid, so after that check the open file is
 * its). The thread is charged to @uid, the peer's, until it ends; with
 * @uid holding PROCREAD_PER_UID threads (or reads of it waiting) the
 * read waits for one of them to end, after @uid's earlier ones, and
 * @timeout_ms counts from now. The handle (valid until @fn is called),
 * or NULL with -EDQUOT (@uid at its share and the queue holding
 * PROCREAD_QUEUE_PER_UID reads of it or PROCREAD_QUEUE in all), -EBUSY
 * (every thread taken, by other uids) or another negative errno in *@err.
 */
struct procread *procread_start(struct procread_pool *p, const char *path,
				size_t max, unsigned int timeout_ms, int pidfd,
				uid_t uid, procread_fn fn, void *ctx, int *err);

/* Is the process of @pidfd gone (reaped)? pidfd_send_signal(2), signal 0. */
bool procread_pidfd_gone(int pidfd);

/* @fn will not be called for @r (its thread may still be reading; a
 * read still waiting leaves the queue). */
void procread_cancel(struct procread *r);

/* Threads reading now (stuck ones included), and those of them past their
 * deadline. */
unsigned int procread_running(struct procread_pool *p);
unsigned int procread_stuck(const struct procread_pool *p);
/* Threads charged to @uid now (stuck ones included). */
unsigned int procread_running_uid(struct procread_pool *p, uid_t uid);
/* Reads waiting for a thread now; those of @uid. */
unsigned int procread_queued(const struct procread_pool *p);
unsigned int procread_queued_uid(const struct procread_pool *p, uid_t uid);
/*
 * Reads refused because all threads were taken; because the peer's uid
 * held its share and could wait no more; reads past deadline (waiting
 * ones too); reads that waited.
 */
unsigned long long procread_refused(const struct procread_pool *p);
unsigned long long procread_refused_quota(const struct procread_pool *p);
unsigned long long procread_timed_out(const struct procread_pool *p);
unsigned long long procread_waited(const struct procread_pool *p);

#endif /* PVDMAD_PROCREAD_H */
