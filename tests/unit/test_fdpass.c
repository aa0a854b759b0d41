// SPDX-License-Identifier: MIT
/*
 * Reading a peer's message that must carry no fds (host/fdpass.c), over a
 * socketpair, as on a kernel without SO_PASSRIGHTS (the pair passes fds).
 * An fd riding with a message must never be received: not installed in
 * our fd table (a full table makes the kernel release, inside recvmsg()
 * on the caller's thread, what it can't install: a lingering socket's
 * close would run there), left queued for whoever closes the connection.
 * The fd sent is a pipe's read end whose only other copy we close: its
 * write end sees EPIPE once it is released, so the test sees whether the
 * read let go of it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "host/fdcloser.h"
#include "host/fdpass.h"

static int fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

/* @n copies of @fd with @len bytes of @data, in one message. */
static void send_fds_with(int sock, const char *data, size_t len, int fd,
			  int n, int flags)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(253 * sizeof(int))];
	} control;
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf,
		.msg_controllen = CMSG_SPACE(n * sizeof(int)),
	};
	struct cmsghdr *cmsg;
	int i;

	memset(&control, 0, sizeof(control));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(n * sizeof(int));
	for (i = 0; i < n; i++)
		memcpy(CMSG_DATA(cmsg) + i * sizeof(int), &fd, sizeof(int));
	assert_int_equal(sendmsg(sock, &msg, MSG_NOSIGNAL | flags), (ssize_t)len);
}

/* A pipe whose read end is in flight only: 0 while it is held. */
static int released(int wr)
{
	return write(wr, "p", 1) < 0 && errno == EPIPE;
}

/*
 * A new pipe @p whose read end rides in one message of @data from sv[1]
 * (@n copies, @flags MSG_OOB for an urgent byte) and nowhere else: p[1]
 * then tells whether the read let go of it (released()).
 */
static void send_pipe_fds(int sv[2], int p[2], const char *data, size_t len,
			  int n, int flags)
{
	assert_int_equal(pipe(p), 0);
	send_fds_with(sv[1], data, len, p[0], n, flags);
	close(p[0]);
}

/* The fds sent stay in the connection until sv[0] is closed; all closed. */
static void close_releases(int sv[2], int p[2])
{
	assert_false(released(p[1]));
	close(sv[0]);
	assert_true(released(p[1]));
	close(sv[1]);
	close(p[1]);
}

static int queued(int sock)
{
	int n = -1;

	assert_int_equal(ioctl(sock, FIONREAD, &n), 0);
	return n;
}

static void pair(int sv[2])
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
				    SOCK_NONBLOCK, 0, sv), 0);
}

/* Bytes alone are read; a message with fds is never received. */
static void test_bytes_then_fds(void **state)
{
	int sv[2], p[2], before, i;
	char buf[64];
	ssize_t n;
	bool fds;

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	pair(sv);
	assert_int_equal(fdpass_recv_refusing(sv[0], buf, sizeof(buf), &fds),
			 -EAGAIN);
	assert_int_equal(send(sv[1], "stats\n", 6, 0), 6);
	assert_int_equal(fdpass_recv_refusing(sv[0], buf, sizeof(buf), &fds), 6);
	assert_false(fds);
	assert_memory_equal(buf, "stats\n", 6);

	assert_int_equal(send(sv[1], "abc", 3, 0), 3);
	send_pipe_fds(sv, p, "x", 1, 1, 0);
	before = fd_count();
	/* the bytes before the fds may be read first (a peek may see the fds
	 * of the message after the bytes it asked for), never past them */
	for (i = 0; i < 4; i++) {
		n = fdpass_recv_refusing(sv[0], buf, 2, &fds);
		assert_true(n > 0);
		if (fds)
			break;
		assert_memory_equal(buf, "abc" + 2 * i, (size_t)n);
	}
	assert_true(fds);
	assert_int_equal(fd_count(), before);
	assert_true(queued(sv[0]) > 0);
	close_releases(sv, p);
}

/* SCM_MAX_FD fds into a table with room for a few: none installed, none
 * released on our thread. */
static void test_full_table(void **state)
{
	struct rlimit old, low;
	int sv[2], p[2];
	char buf[64];
	bool fds;

	(void)state;
	pair(sv);
	send_pipe_fds(sv, p, "x", 1, 253, 0);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)fd_count() + 8;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	assert_int_equal(fdpass_recv_refusing(sv[0], buf, sizeof(buf), &fds), 1);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	assert_true(fds);
	close_releases(sv, p);
}

/* An urgent byte (MSG_OOB) with an fd: a peek stops short of it and a
 * read drops it, releasing the fd on the reading thread. It is reported
 * (a read that says nothing would leave the socket readable: a spin),
 * and stays queued with its fd. */
static void test_urgent_byte(void **state)
{
	int sv[2], p[2];
	char buf[64];
	bool fds;

	(void)state;
	pair(sv);
	assert_int_equal(send(sv[1], "ab", 2, 0), 2);
	send_pipe_fds(sv, p, "u", 1, 1, MSG_OOB);
	assert_int_equal(fdpass_recv_refusing(sv[0], buf, sizeof(buf), &fds), 2);
	assert_false(fds);
	assert_true(fdpass_recv_refusing(sv[0], buf, sizeof(buf), &fds) > 0);
	assert_true(fds);
	assert_true(queued(sv[0]) > 0);
	close_releases(sv, p);
}

/*
 * A TCP socket whose close waits @secs: unsent data, SO_LINGER, a peer
 * that never reads (the listener never accepts). Its listener in *@l.
 */
static int lingering_socket(int secs, int *l)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct linger lg = { .l_onoff = 1, .l_linger = secs };
	socklen_t alen = sizeof(a);
	static char junk[65536];
	int small = 4096, s;

	*l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(*l >= 0);
	setsockopt(*l, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	assert_int_equal(bind(*l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(*l, 1), 0);
	assert_int_equal(getsockname(*l, (struct sockaddr *)&a, &alen), 0);
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s >= 0);
	assert_int_equal(connect(s, (struct sockaddr *)&a, sizeof(a)), 0);
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	while (send(s, junk, sizeof(junk), MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
		;
	return s;
}

static bool mapped(void *addr)
{
	unsigned char v;

	return mincore(addr, 4096, &v) == 0;
}

/*
 * Memory handed to the closer (a departing guest's ledger, region, RAM
 * mapping) is released while a peer's fd before it still lingers in its
 * close: one lane never waits for the other.
 */
static void test_memory_not_behind_a_stuck_fd(void **state)
{
	struct timespec ms = { 0, 10 * 1000 * 1000 };
	int listener, stuck = lingering_socket(3, &listener), i;
	void *mem = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(mem != MAP_FAILED);
	memset(mem, 1, 1 << 20);
	assert_int_equal(fdcloser_start(true), 0);
	fdcloser_close(stuck);		/* its close waits 3 s */
	nanosleep(&ms, NULL);		/* the closer is in it */
	fdcloser_unmap_close(mem, 1 << 20, -1);
	for (i = 0; i < 100 && mapped(mem); i++)
		nanosleep(&ms, NULL);
	assert_false(mapped(mem));	/* within 1 s, not after 3 */
	fdcloser_stop();
	close(listener);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bytes_then_fds),
		cmocka_unit_test(test_full_table),
		cmocka_unit_test(test_urgent_byte),
		cmocka_unit_test(test_memory_not_behind_a_stuck_fd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
