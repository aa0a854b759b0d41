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
 * loop through an eventfd; the loop never waits for one. A thread whose
 * peer never lets go stays blocked (the wait is killable: exit ends it);
 * at most PROCREAD_THREADS run at once, and a read asked for when all of
 * them are taken is refused (-EBUSY), never queued behind them.
 */
#ifndef PVDMAD_PROCREAD_H
#define PVDMAD_PROCREAD_H

#include <stddef.h>
#include <sys/types.h>

#include "evloop.h"

#define PROCREAD_THREADS	8

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
 * when it ends, unless cancelled. The handle, or NULL with -EBUSY (every
 * thread taken) or another negative errno in *@err.
 */
struct procread *procread_start(struct procread_pool *p, const char *path,
				size_t max, procread_fn fn, void *ctx, int *err);

/* @fn will not be called for @r (its thread may still be reading). */
void procread_cancel(struct procread *r);

/* Threads reading now, and reads refused because all were taken. */
unsigned int procread_running(struct procread_pool *p);
unsigned long long procread_refused(const struct procread_pool *p);

#endif /* PVDMAD_PROCREAD_H */
