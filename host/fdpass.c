// SPDX-License-Identifier: MIT
/*
 * pvdmad: reading a peer's message that must carry no fds.
 */
#include <errno.h>
#include <stdbool.h>
#include <sys/socket.h>

#include "fdcloser.h"
#include "fdpass.h"

/*
 * The kernel's SCM_MAX_FD: a control buffer this large takes every fd of a
 * message, so none is dropped (and released) inside recvmsg on the loop.
 */
#define FDPASS_MAX_FDS	253

ssize_t fdpass_recv_refusing(int sock, void *buf, size_t len, bool *had_fds)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(FDPASS_MAX_FDS * sizeof(int))];
	} control;
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf, .msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg;
	size_t i, nfds;
	ssize_t n;
	int *fds;

	*had_fds = false;
	n = recvmsg(sock, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return errno == EAGAIN || errno == EINTR ? -EAGAIN : -errno;
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
		if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
			continue;
		fds = (int *)CMSG_DATA(cmsg);
		nfds = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < nfds; i++)
			fdcloser_close(fds[i]);
		*had_fds = true;
	}
	return n;
}
