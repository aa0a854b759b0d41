// SPDX-License-Identifier: MIT
/*
 * accept() with a reserve fd (accept_reserve.h): out of fds, a pending
 * connection is still taken off the queue and dropped.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "accept_reserve.h"
#include "fdcloser.h"

void host_fd_reserve_take(struct host_fd_reserve *r)
{
	if (r->held)
		return;
	r->fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	r->held = r->fd >= 0;
}

void host_fd_reserve_release(struct host_fd_reserve *r)
{
	if (r->held)
		close(r->fd);
	r->held = false;
}

int host_accept(struct host_fd_reserve *r, int listen_fd)
{
	int fd, err;

	fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd >= 0)
		return fd;
	err = errno;
	if (err != EMFILE && err != ENFILE)
		return -err;
	r->out_of_fds++;
	/* A reserve lost earlier (its fd went to the closer thread) may be
	 * back; without one the connection waits for a free fd. */
	host_fd_reserve_take(r);
	if (!r->held)
		return -err;
	host_fd_reserve_release(r);
	fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
	fdcloser_close_socket(fd);
	host_fd_reserve_take(r);
	return -err;
}
