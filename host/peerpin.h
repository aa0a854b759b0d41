/* SPDX-License-Identifier: MIT */
/*
 * The process at the other end of a connection, pinned with a pidfd for
 * the connection's life. SO_PEERCRED gives a pid number, and a number
 * comes round: a process may connect, leave its socket to a child (fork,
 * SCM_RIGHTS) and exit, and the next process given its pid is then
 * indistinguishable by number. A pidfd names one process for good: it
 * never comes to name another.
 *
 * Pinned at accept, and again when a restarted pvdmad takes a connection
 * back from the fd store: SO_PEERPIDFD (Linux 6.5+) names the process
 * that called connect(), kept by the kernel with the socket, whether it
 * lives or not. Without it, pidfd_open() of the SO_PEERCRED pid: the
 * process holding that pid then, which is the peer unless it exited and
 * its pid was reused between its connect() and the pin (docs/security.md
 * §4). Before Linux 5.3 (no pidfds) nothing is pinned.
 *
 * Two pins name one process when (Linux 6.9+, pidfs) their pidfds' inode
 * numbers are equal: pidfs numbers every process once, never reused; or,
 * with pidfds on one shared anonymous inode, when their pids are equal and
 * both processes are alive (not reaped) when asked, since two live
 * processes never share a pid in one namespace, and each pin named a live
 * process from its pin until that moment.
 */
#ifndef PVDMAD_PEERPIN_H
#define PVDMAD_PEERPIN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "peer_access.h"

/**
 * struct host_pin - a connection's peer, pinned
 * @pid:	its pid (SO_PEERCRED; 0 outside pvdmad's pid namespace)
 * @fd:		its pidfd, or a negative errno: -ESRCH, it was gone when
 *		pinned; -ENOSYS, the kernel has no pidfds (not pinned)
 * @ino:	its pidfs inode number, 0 where the kernel has no pidfs
 */
struct host_pin {
	pid_t pid;
	int fd;
	uint64_t ino;
};

/*
 * host_peer_pidfd - a pidfd of the process that connected @sock (@p, from
 * host_peer_get): SO_PEERPIDFD, else pidfd_open(@p->pid). Returns the fd,
 * or -ESRCH (the peer is gone: its pid names nothing, or someone else),
 * or another negative errno (-ENOSYS: no pidfds, Linux < 5.3).
 * tests/host/oldkernel runs pvdmad as on a kernel without SO_PEERPIDFD
 * (--no-peerpidfd) or without pidfds (--no-pidfd).
 */
int host_peer_pidfd(int sock, const struct host_peer *p);

/* Has the kernel pidfd_open() (Linux 5.3)? Without it nothing is pinned. */
bool host_pidfds_supported(void);

/* Is SO_PEERPIDFD (peerpin.h: the pin of the process that connected)
 * available? */
bool host_peerpidfd_supported(void);

/*
 * host_pin_take - pin the peer of @sock. 0 (*@pin set, also when its
 * process was gone already, -ESRCH in @pin->fd, or the kernel has no
 * pidfds, -ENOSYS), or another negative errno (out of fds: not pinned,
 * the connection should be refused).
 */
int host_pin_take(struct host_pin *pin, int sock, const struct host_peer *p);

/* Close the pidfd (the connection is going). */
void host_pin_release(struct host_pin *pin);

/* Is the pinned process gone (reaped, or already at the pin)? A zombie
 * still holds its pid: not gone. Not pinned: false. */
bool host_pin_gone(const struct host_pin *pin);

enum host_pin_match {
	HOST_PIN_OTHER,		/* another process, or not known to be one */
	HOST_PIN_SAME,		/* one process */
	HOST_PIN_GONE,		/* @a's process is gone: it matches nobody */
};

/*
 * host_pin_match - are @a and @b one process? Different pids, or pid 0
 * (unknown): OTHER, without a system call. Equal pids: @a's process must
 * be alive (else GONE), then @b's inode must be @a's (pidfs) or @b's
 * process alive. On a kernel without pidfds (both -ENOSYS): equal pid
 * numbers, unpinned, as before pins.
 */
enum host_pin_match host_pin_match(const struct host_pin *a,
				   const struct host_pin *b);

#endif /* PVDMAD_PEERPIN_H */
