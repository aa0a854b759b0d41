/* SPDX-License-Identifier: MIT */
/*
 * One fd riding with a message (SCM_RIGHTS): how pvdmad hands fds to QEMU
 * (ivshmem setup) and to systemd's fd store alike.
 */
#ifndef PVDMAD_FDPASS_H
#define PVDMAD_FDPASS_H

#include <string.h>
#include <sys/socket.h>

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

#endif /* PVDMAD_FDPASS_H */
