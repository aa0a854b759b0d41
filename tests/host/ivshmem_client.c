// SPDX-License-Identifier: MIT
/*
 * QEMU's side of the ivshmem-doorbell protocol (see ivshmem_client.h).
 */
#include "ivshmem_client.h"

#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <pvdma/proto.h>

int ivs_recv(int sock, int64_t *value, int *fd)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	u64 le;
	struct iovec iov = { .iov_base = &le, .iov_len = sizeof(le) };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf, .msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg;
	ssize_t n;

	*fd = -1;
	n = recvmsg(sock, &msg, MSG_WAITALL | MSG_CMSG_CLOEXEC);
	if (n != sizeof(le))
		return -1;
	for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg))
		if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS)
			memcpy(fd, CMSG_DATA(cmsg), sizeof(int));
	*value = (int64_t)pvdma_le64(le);
	return 0;
}

int ivs_unix_connect(const char *path, int recv_timeout_s)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = recv_timeout_s };
	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (sock < 0 || connect(sock, (struct sockaddr *)&addr, sizeof(addr))) {
		perror(path);
		if (sock >= 0)
			close(sock);
		return -1;
	}
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return sock;
}

int ivs_connect(struct ivs_dev *d, const char *path, int recv_timeout_s)
{
	return ivs_setup(d, ivs_unix_connect(path, recv_timeout_s));
}

int ivs_setup(struct ivs_dev *d, int sock)
{
	int64_t v;
	int fd;
	struct stat st;

	memset(d, 0, sizeof(*d));
	d->bell_fd = d->irq_fd = d->shm_fd = -1;
	d->sock = sock;
	if (d->sock < 0)
		return -1;
	if (ivs_recv(d->sock, &v, &fd) || v != 0 || fd >= 0)
		return -1;
	if (ivs_recv(d->sock, &d->id, &fd) || d->id < 0 || fd >= 0)
		return -1;
	if (ivs_recv(d->sock, &v, &d->shm_fd) || v != -1 || d->shm_fd < 0)
		return -1;
	if (ivs_recv(d->sock, &d->host_peer, &d->bell_fd) || d->bell_fd < 0)
		return -1;
	if (ivs_recv(d->sock, &v, &d->irq_fd) || v != d->id || d->irq_fd < 0)
		return -1;
	if (fstat(d->shm_fd, &st) || !PVDMA_IS_POW2((u64)st.st_size))
		return -1;
	d->shm_size = st.st_size;
	d->shm = mmap(NULL, d->shm_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		      d->shm_fd, 0);
	return d->shm == MAP_FAILED ? -1 : 0;
}

void ivs_close(struct ivs_dev *d)
{
	if (d->shm && d->shm != MAP_FAILED)
		munmap(d->shm, d->shm_size);
	if (d->shm_fd >= 0)
		close(d->shm_fd);
	if (d->bell_fd >= 0)
		close(d->bell_fd);
	if (d->irq_fd >= 0)
		close(d->irq_fd);
	if (d->sock >= 0)
		close(d->sock);
	memset(d, 0, sizeof(*d));
}

int ivs_ring(struct ivs_dev *d)
{
	u64 one = 1;

	return write(d->bell_fd, &one, sizeof(one)) == sizeof(one) ? 0 : -1;
}

static u64 ivs_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec;
}

static int ivs_ms_left(u64 deadline_ns)
{
	u64 now = ivs_now_ns();

	return now >= deadline_ns ? 0 : (int)((deadline_ns - now) / 1000000) + 1;
}

enum ivs_wait ivs_wait_done(struct ivs_dev *d, const u32 *done_seq, u32 seq,
			    int timeout_ms)
{
	struct pollfd p = { .fd = d->irq_fd, .events = POLLIN };
	u64 deadline = ivs_now_ns() + (u64)timeout_ms * 1000000ull, count;
	int ms;

	while ((ms = ivs_ms_left(deadline)) > 0) {
		if (poll(&p, 1, ms) != 1)
			continue;
		if (read(d->irq_fd, &count, sizeof(count)) != sizeof(count))
			continue;
		if (__atomic_load_n(done_seq, __ATOMIC_ACQUIRE) == seq)
			return IVS_DONE;
	}
	return __atomic_load_n(done_seq, __ATOMIC_ACQUIRE) == seq ?
	       IVS_NOT_SIGNALLED : IVS_NO_ANSWER;
}
