/* SPDX-License-Identifier: MIT */
/*
 * I/O on eventfds whose open file description a peer shares. The eventfds
 * pvdmad hands to QEMU over SCM_RIGHTS are the same file description as
 * pvdmad's own: the peer can clear O_NONBLOCK, fill the counter (a write
 * then blocks) or drain it (a read then blocks). Neither may stall the
 * loop, so every such access:
 *   - checks O_NONBLOCK first: cleared means the peer tampered (-EPERM);
 *   - runs under a short interval timer whose signal (no SA_RESTART) ends
 *     a blocking call with EINTR, for the peer that clears the flag between
 *     the check and the call (-ETIMEDOUT); a read is RWF_NOWAIT besides,
 *     where the kernel takes it, so it never waits at all;
 *   - takes EAGAIN as "nothing to read" or "counter full, the other side
 *     will see it anyway" (-EAGAIN, not an error).
 * The caller disconnects a peer that tampered.
 */
#ifndef PVDMAD_PEERFD_H
#define PVDMAD_PEERFD_H

#include <stdint.h>

/*
 * The longest one access may block, and the guard's period after it. An
 * access that doesn't wait is never interrupted, however short this is;
 * one that waits is a peer's doing, which each win of that race (its
 * flag cleared between our check and our call) buys a stall this long.
 */
#define PEERFD_GUARD_US	1000

/* Install the guard's signal handler (once per process). 0 or -errno. */
int peerfd_init(void);

/* Read an eventfd's counter: 0, -EAGAIN, -EPERM, -ETIMEDOUT or -errno. */
int peerfd_eventfd_read(int fd, uint64_t *count);

/* Add @v to an eventfd: 0, -EAGAIN, -EPERM, -ETIMEDOUT or -errno. */
int peerfd_eventfd_write(int fd, uint64_t v);

#endif /* PVDMAD_PEERFD_H */
