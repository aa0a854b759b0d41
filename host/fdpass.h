/* SPDX-License-Identifier: MIT */
/*
 * Fds riding with a message (SCM_RIGHTS): how pvdmad hands one to QEMU
 * (ivshmem setup) and to systemd's fd store alike, and how it reads a
 * peer's message that must carry none.
 */
#ifndef PVDMAD_FDPASS_H
#define PVDMAD_FDPASS_H

#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Room for one fd's control message, aligned as the kernel wants it. */
union fdpass_cmsg {
	struct cmsghdr align;
	char buf[CMSG_SPACE(sizeof(int))];
};

/* Attach @fd to @msg, its control message in @control (kept until sent). */
static inline void fdpass_attach(struct msghdr *msg, union fdpass_cmsg *control,
				 int fd)
{
	struct cmsghdr *cmsg;

	memset(control, 0, sizeof(*control));
	msg->msg_control = control->buf;
	msg->msg_controllen = sizeof(control->buf);
	cmsg = CMSG_FIRSTHDR(msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
}

/*
 * Read up to @len bytes of @sock's next message without blocking. Fds
 * riding with it are never taken (nor released by the kernel on the
 * loop's thread): *@had_fds says they are there (or may be: an urgent
 * byte, MSG_OOB, is never read), the message is left queued with them,
 * and the caller must end the connection through fdcloser_close_socket().
 * Returns the bytes read (peeked, with fds), 0 at end of stream, -EAGAIN
 * if nothing yet, or another negative errno.
 */
ssize_t fdpass_recv_refusing(int sock, void *buf, size_t len, bool *had_fds);

#endif /* PVDMAD_FDPASS_H */
