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
 *     the check and the call (-ETIMEDOUT);
 *   - takes EAGAIN as "nothing to read" or "counter full, the other side
 *     will see it anyway" (-EAGAIN, not an error).
 * The caller disconnects a peer that tampered.
 */
#ifndef PVDMAD_PEERFD_H
#define PVDMAD_PEERFD_H

#include <stdint.h>

#define PEERFD_GUARD_MS	50	/* the longest one access may block */

/* Install the guard's signal handler (once per process). 0 or -errno. */
int peerfd_init(void);

/* Read an eventfd's counter: 0, -EAGAIN, -EPERM, -ETIMEDOUT or -errno. */
int peerfd_eventfd_read(int fd, uint64_t *count);

/* Add @v to an eventfd: 0, -EAGAIN, -EPERM, -ETIMEDOUT or -errno. */
int peerfd_eventfd_write(int fd, uint64_t v);

#endif /* PVDMAD_PEERFD_H */
