// SPDX-License-Identifier: MIT
/*
 * pvdmad: reading a peer's message that must carry no fds.
 */
#include <errno.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "fdpass.h"

/*
 * An urgent byte (MSG_OOB) heads the queue: a peek stops short of it (the
 * socket stays readable: a loop that took that for "nothing yet" would
 * spin), and a read would drop it, releasing any fds it carries here.
 */
static bool urgent_byte_next(int sock)
{
	char c;

	return recv(sock, &c, 1, MSG_OOB | MSG_PEEK | MSG_DONTWAIT) == 1;
}

/*
 * A peer's fds are never taken in: each needs a free slot of pvdmad's fd
 * table, and those the kernel can't install (the table at RLIMIT_NOFILE)
 * it releases inside recvmsg(), on the loop's thread, whatever room the
 * control buffer has: a lingering socket's last close would run there.
 * So the message is peeked with no room for fds (MSG_CTRUNC: fds ride
 * with it; the peek's own references are copies, never the last), and
 * only bytes the peek saw come without fds are read. Fds stay queued in
 * the connection, which the caller ends: fdcloser_close_socket() gives a
 * socket with data still queued to the closer thread.
 */
ssize_t fdpass_recv_refusing(int sock, void *buf, size_t len, bool *had_fds)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	ssize_t n;
	int err;

	*had_fds = false;
	n = recvmsg(sock, &msg, MSG_PEEK | MSG_DONTWAIT);
	if (n < 0) {
		err = errno == EAGAIN || errno == EINTR ? -EAGAIN : -errno;
		if (err != -EAGAIN || !urgent_byte_next(sock))
			return err;
		/* never read, taken as carrying fds: the caller ends it */
		*had_fds = true;
		return 1;
	}
	if (n > 0 && msg.msg_flags & MSG_CTRUNC) {
		*had_fds = true;
		return n;
	}
	/* Exactly what was peeked: a message queued since may carry fds. */
	if (n > 0) {
		iov.iov_len = (size_t)n;
		msg.msg_flags = 0;
		n = recvmsg(sock, &msg, MSG_DONTWAIT);
	}
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -EAGAIN : -errno;
	/* fds the peek failed to copy (no memory) went here: said */
	*had_fds = n > 0 && msg.msg_flags & MSG_CTRUNC;
	return n;
}
