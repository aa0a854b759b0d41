/* SPDX-License-Identifier: MIT */
/*
 * accept() that cannot spin: out of fds, a level-triggered listener would
 * wake the loop again at once for the connection it could not take, so a
 * reserve fd is given up to take it off the queue and drop it.
 */
#ifndef PVDMAD_ACCEPT_RESERVE_H
#define PVDMAD_ACCEPT_RESERVE_H

#include <stdbool.h>

/**
 * struct host_fd_reserve - an fd kept to be given up when accept() runs out
 * @fd:		/dev/null, while @held
 * @held:	false in a zeroed struct: taken at the first shortage
 * @out_of_fds:	connections dropped for want of an fd, on every socket
 *		accepting through this reserve
 */
struct host_fd_reserve {
	int fd;
	bool held;
	unsigned long long out_of_fds;
};

/*
 * host_accept - accept one connection, non-blocking and close-on-exec.
 * Out of fds (EMFILE/ENFILE), the pending connection is still taken off the
 * queue and closed through a reserve fd, so a level-triggered listener
 * doesn't wake the loop again at once: no spinning, the peer sees EOF.
 * Returns the fd, or a negative errno (-EMFILE then; -EAGAIN: nothing).
 */
int host_accept(struct host_fd_reserve *reserve, int listen_fd);

/* Open the reserve if it is not held: before the first shortage, not in it. */
void host_fd_reserve_take(struct host_fd_reserve *reserve);

/* Close the reserve (the daemon is going). */
void host_fd_reserve_release(struct host_fd_reserve *reserve);

#endif /* PVDMAD_ACCEPT_RESERVE_H */
