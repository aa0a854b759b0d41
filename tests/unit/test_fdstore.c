// SPDX-License-Identifier: MIT
/*
 * pvdmad's side of systemd's fd store (host/fdstore.c): the datagrams it
 * sends are what sd_notify(3) specifies (FDSTORE=1 + FDNAME= with the fd
 * as SCM_RIGHTS, FDSTOREREMOVE=1, READY=1), and what it takes at start is
 * what sd_listen_fds(3) hands over (fds from 3, LISTEN_PID must be ours,
 * LISTEN_FDNAMES split on ':'), listening sockets found by path; an fd
 * taken back passes only if it is what pvdmad made (type, flags, seals).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "host/fdstore.h"

/* The keeper's end: a datagram socket at a path in a fresh directory. */
struct keeper {
	char dir[64];
	char path[96];
	int sock;
};

static void keeper_open(struct keeper *k)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	snprintf(k->dir, sizeof(k->dir), "/tmp/pvdma-fdstore.XXXXXX");
	assert_non_null(mkdtemp(k->dir));
	snprintf(k->path, sizeof(k->path), "%s/notify", k->dir);
	strcpy(a.sun_path, k->path);
	k->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(k->sock >= 0);
	assert_int_equal(bind(k->sock, (struct sockaddr *)&a, sizeof(a)), 0);
}

static void keeper_close(struct keeper *k)
{
	close(k->sock);
	unlink(k->path);
	rmdir(k->dir);
}

/* One datagram: its text, and the fd it carried (-1: none). */
static int keeper_recv(struct keeper *k, char *text, size_t size)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} c;
	struct iovec iov = { .iov_base = text, .iov_len = size - 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
			    .msg_control = c.buf, .msg_controllen = sizeof(c.buf) };
	struct cmsghdr *cm;
	ssize_t n = recvmsg(k->sock, &m, MSG_DONTWAIT);
	int fd = -1;

	assert_true(n > 0);
	text[n] = '\0';
	for (cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
		if (cm->cmsg_type == SCM_RIGHTS)
			memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	return fd;
}

static bool same_file(int a, int b)
{
	struct stat sa, sb;

	return !fstat(a, &sa) && !fstat(b, &sb) && sa.st_ino == sb.st_ino &&
	       sa.st_dev == sb.st_dev;
}

static void test_notify_messages(void **state)
{
	struct keeper k;
	struct fdstore st;
	char text[512];
	int p[2], fd;

	keeper_open(&k);
	setenv("NOTIFY_SOCKET", k.path, 1);
	unsetenv("LISTEN_PID");
	assert_int_equal(fdstore_open(&st), 0);
	assert_true(fdstore_kept(&st));
	assert_null(getenv("NOTIFY_SOCKET"));	/* no child inherits it */
	assert_int_equal(pipe(p), 0);

	assert_int_equal(fdstore_push(&st, "companion.3.shm", p[0]), 0);
	fd = keeper_recv(&k, text, sizeof(text));
	assert_string_equal(text, "FDSTORE=1\nFDNAME=companion.3.shm");
	assert_true(fd >= 0 && same_file(fd, p[0]));
	close(fd);

	assert_int_equal(fdstore_remove(&st, "companion.3.shm"), 0);
	assert_int_equal(keeper_recv(&k, text, sizeof(text)), -1);
	assert_string_equal(text, "FDSTOREREMOVE=1\nFDNAME=companion.3.shm");

	assert_int_equal(fdstore_notify(&st, "READY=1"), 0);
	keeper_recv(&k, text, sizeof(text));
	assert_string_equal(text, "READY=1");

	/* names systemd would refuse are refused here */
	assert_int_equal(fdstore_push(&st, "a:b", p[0]), -EINVAL);
	assert_int_equal(fdstore_push(&st, "with space", p[0]), -EINVAL);
	assert_int_equal(fdstore_push(&st, "", p[0]), -EINVAL);
	fdstore_close(&st);
	close(p[0]);
	close(p[1]);
	keeper_close(&k);
}

/* Fill the keeper's queue from another socket; how many it took. */
static int keeper_fill(struct keeper *k)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int n = 0;

	strcpy(a.sun_path, k->path);
	assert_true(s >= 0);
	while (sendto(s, "X=1", 3, 0, (struct sockaddr *)&a, sizeof(a)) == 3)
		n++;
	assert_int_equal(errno, EAGAIN);
	close(s);
	return n;
}

/* Take every message the keeper holds; how many. */
static int keeper_drain(struct keeper *k)
{
	char text[512];
	int n = 0;

	while (recv(k->sock, text, sizeof(text), MSG_DONTWAIT) > 0)
		n++;
	return n;
}

/* Take every message the keeper holds, counting those that are @want. */
static void keeper_drain_into(struct keeper *k, const char *want, int *count)
{
	char text[512];
	ssize_t n;

	while ((n = recv(k->sock, text, sizeof(text) - 1, MSG_DONTWAIT)) > 0) {
		text[n] = '\0';
		*count += !strcmp(text, want);
	}
}

static int open_fds(void)
{
	struct dirent *e;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * $NOTIFY_SOCKET is open to every local user, who can keep its queue
 * (net.unix.max_dgram_qlen) full: no message may wait for room. One that
 * finds none waits in the outbox, in order, and goes when there is room;
 * FDSTORE=1 keeps its fd alive meanwhile and is never silently lost.
 */
static void test_keeper_full(void **state)
{
	struct keeper k;
	struct fdstore st;
	char text[512];
	int i, fds, p[2], keep, fd;
	uint64_t t0;

	keeper_open(&k);
	setenv("NOTIFY_SOCKET", k.path, 1);
	unsetenv("LISTEN_PID");
	assert_int_equal(fdstore_open(&st), 0);
	assert_int_equal(pipe(p), 0);
	keep = dup(p[0]);
	fds = open_fds();
	assert_true(keeper_fill(&k) > 0);

	t0 = now_ms();
	assert_int_equal(fdstore_push(&st, "companion.3.shm", p[0]), 0);
	assert_int_equal(fdstore_push(&st, "companion.3.sock", p[1]), 0);
	assert_int_equal(fdstore_notify(&st, "READY=1"), 0);
	assert_true(now_ms() - t0 < 100);	/* no wait for the keeper */
	assert_int_equal(st.waiting, 3);
	/* a remove takes back its push still waiting: neither is sent */
	assert_int_equal(fdstore_remove(&st, "companion.3.sock"), 0);
	assert_int_equal(st.waiting, 2);
	assert_int_equal(st.stats.cancelled, 1);
	close(p[0]);		/* the caller's own: the waiting dup stays */
	assert_int_equal(fdstore_flush(&st), 2);	/* still full */

	assert_true(keeper_drain(&k) > 0);
	assert_int_equal(fdstore_flush(&st), 0);
	fd = keeper_recv(&k, text, sizeof(text));
	assert_string_equal(text, "FDSTORE=1\nFDNAME=companion.3.shm");
	assert_true(fd >= 0 && same_file(fd, keep));
	close(fd);
	assert_int_equal(keeper_recv(&k, text, sizeof(text)), -1);
	assert_string_equal(text, "READY=1");
	assert_int_equal(keeper_drain(&k), 0);	/* nothing else */
	assert_int_equal(st.stats.waited, 2);
	assert_int_equal(open_fds(), fds - 1);	/* p[0] gone, no dup left */

	/* a keeper that takes nothing: the outbox stays bounded, and a push
	 * it can't hold is refused, not lost unsaid */
	keeper_fill(&k);
	for (i = 0; i < FDSTORE_OUTBOX_MAX; i++)
		assert_int_equal(fdstore_notify(&st, "X=2"), 0);
	assert_int_equal(fdstore_push(&st, "companion.4.shm", p[1]), -ENOBUFS);
	assert_int_equal(st.stats.dropped, 1);
	/* at exit a bounded wait, then dropped */
	t0 = now_ms();
	fdstore_close(&st);
	assert_true(now_ms() - t0 >= FDSTORE_DRAIN_MS &&
		    now_ms() - t0 < 2 * FDSTORE_DRAIN_MS);
	assert_int_equal(st.stats.dropped, 1 + FDSTORE_OUTBOX_MAX);
	close(p[1]);
	close(keep);
	keeper_close(&k);
}

/*
 * A remove lost leaves a departed guest's fd in the store, handed back at
 * the next start: a full outbox refuses pushes and state lines, never a
 * remove. Bounded all the same: one per name the keeper was sent, none
 * for a name it never got.
 */
static void test_remove_never_dropped(void **state)
{
	struct keeper k;
	struct fdstore st;
	char text[512];
	int i, p[2], removes = 0, fd;

	keeper_open(&k);
	setenv("NOTIFY_SOCKET", k.path, 1);
	unsetenv("LISTEN_PID");
	assert_int_equal(fdstore_open(&st), 0);
	assert_int_equal(pipe(p), 0);
	assert_int_equal(fdstore_push(&st, "companion.5.shm", p[0]), 0);
	close(keeper_recv(&k, text, sizeof(text)));	/* the keeper holds it */
	assert_int_equal(st.nheld, 1);

	keeper_fill(&k);
	for (i = 0; i < FDSTORE_OUTBOX_MAX; i++)
		assert_int_equal(fdstore_notify(&st, "X=2"), 0);
	assert_int_equal(fdstore_push(&st, "companion.6.shm", p[1]), -ENOBUFS);
	assert_int_equal(st.nheld, 1);		/* refused: not held */

	/* the guest leaves while the outbox is full: its remove waits */
	assert_int_equal(fdstore_remove(&st, "companion.5.shm"), 0);
	assert_int_equal(st.waiting, FDSTORE_OUTBOX_MAX + 1);
	/* a remove twice, of a refused push, of a name never pushed: none
	 * sent, so removes can't grow the outbox past what the keeper got */
	assert_int_equal(fdstore_remove(&st, "companion.5.shm"), 0);
	assert_int_equal(fdstore_remove(&st, "companion.6.shm"), 0);
	assert_int_equal(fdstore_remove(&st, "companion.7.shm"), 0);
	assert_int_equal(st.waiting, FDSTORE_OUTBOX_MAX + 1);
	assert_int_equal(st.stats.unheld, 3);
	assert_int_equal(st.nheld, 0);

	/* the socket drains: the remove arrives, last, once */
	do {
		keeper_drain_into(&k, "FDSTOREREMOVE=1\nFDNAME=companion.5.shm",
				  &removes);
	} while (fdstore_flush(&st));
	keeper_drain_into(&k, "FDSTOREREMOVE=1\nFDNAME=companion.5.shm",
			  &removes);
	assert_int_equal(removes, 1);
	assert_int_equal(st.stats.dropped, 1);	/* the push, said so */

	/* a push refused, then sent: its name is held again, removed once */
	assert_int_equal(fdstore_push(&st, "companion.6.shm", p[1]), 0);
	fd = keeper_recv(&k, text, sizeof(text));
	close(fd);
	assert_int_equal(fdstore_remove(&st, "companion.6.shm"), 0);
	assert_int_equal(keeper_recv(&k, text, sizeof(text)), -1);
	assert_string_equal(text, "FDSTOREREMOVE=1\nFDNAME=companion.6.shm");
	fdstore_close(&st);
	close(p[0]);
	close(p[1]);
	keeper_close(&k);
}

/*
 * A keeper that reads as fast as pvdmad sends (systemd on another core)
 * after a flood kept its queue full: the outbox (FDSTORE_OUTBOX_MAX
 * pushes, each with an fd) drains through flushes. How long a flush takes
 * is printed, not asserted (the machine's load): it is a loop turn.
 */
static void test_flush_time(void **state)
{
	struct keeper k;
	struct fdstore st;
	char name[32];
	uint64_t t0, t, cpu, longest = 0, total = 0;
	unsigned int left, most = 0;
	int i, p[2], flushes = 0;
	pid_t reader;

	keeper_open(&k);
	setenv("NOTIFY_SOCKET", k.path, 1);
	unsetenv("LISTEN_PID");
	assert_int_equal(fdstore_open(&st), 0);
	assert_int_equal(pipe(p), 0);
	keeper_fill(&k);
	for (i = 0; i < FDSTORE_OUTBOX_MAX; i++) {
		snprintf(name, sizeof(name), "companion.%d.shm", i);
		assert_int_equal(fdstore_push(&st, name, p[0]), 0);
	}
	assert_int_equal(st.waiting, FDSTORE_OUTBOX_MAX);
	reader = fork();
	assert_true(reader >= 0);
	if (!reader) {
		char text[512];

		/* the keeper: the flood, and every push (20 s at most) */
		alarm(20);
		for (i = 0; i < FDSTORE_OUTBOX_MAX;)
			if (recv(k.sock, text, sizeof(text), 0) > 0)
				i += !strncmp(text, "FDSTORE=1", 9);
		_exit(0);
	}
	t0 = now_ms();
	while ((left = st.waiting) && now_ms() - t0 < 10000) {
		t = cpu_ns();
		left -= fdstore_flush(&st);
		cpu = cpu_ns() - t;
		if (!left)
			continue;	/* the keeper's queue still full */
		total += cpu;
		longest = cpu > longest ? cpu : longest;
		most = left > most ? left : most;
		flushes++;
	}
	printf("fdstore: %d messages with an fd sent by %d flushes (at most %u a flush), CPU: the longest flush %.3f ms, %.2f us a message\n",
	       FDSTORE_OUTBOX_MAX, flushes, most, longest / 1e6,
	       total / 1e3 / FDSTORE_OUTBOX_MAX);
	assert_int_equal(st.stats.waited, FDSTORE_OUTBOX_MAX);
	waitpid(reader, NULL, 0);
	fdstore_close(&st);
	close(p[0]);
	close(p[1]);
	keeper_close(&k);
}

/*
 * One flush is one loop turn: it sends at most flush_max messages, the
 * rest on later flushes, in order, none lost. A bound of 4, below what
 * the keeper's queue holds (net.unix.max_dgram_qlen: 10 by default, 512
 * under systemd), so only the bound stops a flush.
 */
static void test_flush_bounded(void **state)
{
	enum { BOUND = 4, PUSHES = 3 * BOUND + 1 };
	struct keeper k;
	struct fdstore st;
	char name[64], text[512];
	unsigned int before;
	int i, p[2], fd, got = 0;

	keeper_open(&k);
	setenv("NOTIFY_SOCKET", k.path, 1);
	unsetenv("LISTEN_PID");
	assert_int_equal(fdstore_open(&st), 0);
	assert_int_equal(st.flush_max, FDSTORE_FLUSH_MAX);
	st.flush_max = BOUND;
	assert_int_equal(pipe(p), 0);
	keeper_fill(&k);
	for (i = 0; i < PUSHES; i++) {
		snprintf(name, sizeof(name), "companion.%d.shm", i);
		assert_int_equal(fdstore_push(&st, name, p[0]), 0);
	}
	assert_int_equal(st.waiting, PUSHES);
	keeper_drain(&k);
	while (st.waiting) {
		before = st.waiting;
		fdstore_flush(&st);
		/* the keeper had room for more: the bound stopped it */
		assert_int_equal(before - st.waiting,
				 before < BOUND ? before : BOUND);
		while (recv(k.sock, text, 0, MSG_PEEK | MSG_DONTWAIT) >= 0) {
			fd = keeper_recv(&k, text, sizeof(text));
			snprintf(name, sizeof(name), "FDSTORE=1\nFDNAME=companion.%d.shm",
				 got++);
			assert_string_equal(text, name);
			assert_true(fd >= 0 && same_file(fd, p[0]));
			close(fd);
		}
	}
	assert_int_equal(got, PUSHES);
	assert_int_equal(st.stats.waited, PUSHES);
	assert_int_equal(st.stats.dropped, 0);
	fdstore_close(&st);
	close(p[0]);
	close(p[1]);
	keeper_close(&k);
}

static void test_no_keeper(void **state)
{
	struct fdstore st;
	int p[2];

	unsetenv("NOTIFY_SOCKET");
	unsetenv("LISTEN_PID");
	assert_int_equal(fdstore_open(&st), 0);
	assert_false(fdstore_kept(&st));
	assert_int_equal(pipe(p), 0);
	assert_int_equal(fdstore_push(&st, "x", p[0]), 0);	/* nothing to do */
	assert_int_equal(fdstore_take(&st, "x"), -ENOENT);
	fdstore_close(&st);
	close(p[0]);
	close(p[1]);
	setenv("NOTIFY_SOCKET", "relative/path", 1);
	assert_int_equal(fdstore_open(&st), -EINVAL);
}

/* Put @n fds at 3.. as a keeper would; returns the listening socket's
 * path in @path (fd 3 listens there, fd 4 is a pipe, fd 5 a memfd). */
static void hand_over(char *path, size_t size)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int l, p[2], m;

	snprintf(path, size, "/tmp/pvdma-fdstore-l.%d", (int)getpid());
	unlink(path);
	strcpy(a.sun_path, path);
	l = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(pipe(p), 0);
	m = memfd_create("t", 0);
	/* above the targets first, then into place */
	l = fcntl(l, F_DUPFD, 20);
	p[0] = fcntl(p[0], F_DUPFD, 20);
	m = fcntl(m, F_DUPFD, 20);
	assert_int_equal(dup2(l, 3), 3);
	assert_int_equal(dup2(p[0], 4), 4);
	assert_int_equal(dup2(m, 5), 5);
	close(l);
	close(p[0]);
	close(p[1]);
	close(m);
}

static void test_listen_fds(void **state)
{
	char path[64], pid[16];
	struct fdstore st;
	int fd;

	hand_over(path, sizeof(path));
	unsetenv("NOTIFY_SOCKET");
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "3", 1);
	setenv("LISTEN_FDNAMES", "sockunit:companion.7.bell0", 1);	/* one short */
	assert_int_equal(fdstore_open(&st), 0);
	assert_null(getenv("LISTEN_FDS"));
	assert_true(fcntl(4, F_GETFD) & FD_CLOEXEC);
	/* the listener by its path, whatever its name */
	assert_int_equal(fdstore_take_socket(&st, "/tmp/no-such"), -ENOENT);
	assert_int_equal(fdstore_take_socket(&st, path), 3);
	assert_int_equal(fdstore_take(&st, "sockunit"), -ENOENT);	/* taken */
	assert_string_equal(fdstore_next_untaken(&st, "companion."),
			    "companion.7.bell0");
	assert_int_equal(fdstore_take(&st, "companion.7.bell0"), 4);
	assert_null(fdstore_next_untaken(&st, "companion."));
	assert_string_equal(fdstore_next_untaken(&st, ""), "unknown");
	fd = fdstore_take(&st, "unknown");
	assert_int_equal(fd, 5);
	close(3);
	close(4);
	close(5);
	fdstore_close(&st);

	/* LISTEN_PID of another process: not ours, nothing taken */
	hand_over(path, sizeof(path));
	setenv("LISTEN_PID", "1", 1);
	setenv("LISTEN_FDS", "3", 1);
	assert_int_equal(fdstore_open(&st), 0);
	assert_null(fdstore_next_untaken(&st, ""));
	fdstore_close(&st);
	close(3);
	close(4);
	close(5);
	unlink(path);
}

#define SEALS	(F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)

/* A memfd of @size bytes with @seals added (-1: made without sealing). */
static int memfd_sealed(size_t size, int seals)
{
	int fd = memfd_create("t", seals < 0 ? 0 : MFD_ALLOW_SEALING);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)size), 0);
	if (seals > 0)
		assert_int_equal(fcntl(fd, F_ADD_SEALS, seals), 0);
	return fd;
}

/* @fd opened again through /proc, with @flags: another open file. */
static int reopen(int fd, int flags)
{
	char path[32];
	int r;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	r = open(path, flags);
	assert_true(r >= 0);
	return r;
}

/*
 * Every kind of fd pvdmad takes back is checked as when it made it: a
 * region without its seals (shrinkable under pvdmad: SIGBUS) or with
 * others, a pipe for an eventfd, a blocking one, a listener for a
 * connection, another path for a listener: each refused (-EBADFD). What
 * pvdmad makes passes.
 */
static void test_taken_fds_checked(void **state)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int fd, p[2], sv[2];
	char path[64];

	/* regions: sealed as pvdmad seals them, and the ledger (no sealing) */
	fd = memfd_sealed(4096, SEALS);
	assert_int_equal(fdstore_check_memfd(fd, "r", 4096, SEALS), 0);
	assert_int_equal(fdstore_check_memfd(fd, "r", 8192, SEALS), -ESTALE);
	close(fd);
	fd = memfd_sealed(4096, -1);
	assert_int_equal(fdstore_check_memfd(fd, "l", 4096, F_SEAL_SEAL), 0);
	assert_int_equal(fdstore_check_memfd(fd, "r", 4096, SEALS), -EBADFD);
	close(fd);
	fd = memfd_sealed(4096, 0);		/* no seals: shrinkable */
	assert_int_equal(fdstore_check_memfd(fd, "r", 4096, SEALS), -EBADFD);
	assert_int_equal(fdstore_check_memfd(fd, "l", 4096, F_SEAL_SEAL), -EBADFD);
	close(fd);
	fd = memfd_sealed(4096, F_SEAL_SHRINK | F_SEAL_GROW);	/* not final */
	assert_int_equal(fdstore_check_memfd(fd, "r", 4096, SEALS), -EBADFD);
	close(fd);
	fd = memfd_sealed(4096, SEALS | F_SEAL_WRITE);	/* more: unwritable */
	assert_int_equal(fdstore_check_memfd(fd, "r", 4096, SEALS), -EBADFD);
	close(fd);
	fd = memfd_sealed(4096, SEALS);
	p[0] = reopen(fd, O_RDONLY);
	assert_int_equal(fdstore_check_memfd(p[0], "r", 4096, SEALS), -EBADFD);
	close(p[0]);
	close(fd);
	/* a tmpfs file has F_SEAL_SEAL too, and a path others may open */
	snprintf(path, sizeof(path), "/dev/shm/pvdma-fdstore.%d", (int)getpid());
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd >= 0) {
		unlink(path);
		assert_int_equal(ftruncate(fd, 4096), 0);
		assert_int_equal(fcntl(fd, F_GET_SEALS), F_SEAL_SEAL);
		assert_int_equal(fdstore_check_memfd(fd, "l", 4096, F_SEAL_SEAL), -EBADFD);
		close(fd);
	}
	assert_int_equal(pipe(p), 0);
	assert_int_equal(fdstore_check_memfd(p[0], "r", 4096, SEALS), -EBADFD);

	/* eventfds: non-blocking, read-write */
	assert_int_equal(fdstore_check_eventfd(p[0], "e"), -EBADFD);
	close(p[0]);
	close(p[1]);
	fd = eventfd(0, EFD_NONBLOCK);
	assert_int_equal(fdstore_check_eventfd(fd, "e"), 0);
	assert_int_equal(fdstore_check_memfd(fd, "r", 4096, SEALS), -EBADFD);
	close(fd);
	fd = eventfd(0, 0);
	assert_int_equal(fdstore_check_eventfd(fd, "e"), -EBADFD);
	close(fd);
	fd = memfd_sealed(8, SEALS);
	assert_int_equal(fdstore_check_eventfd(fd, "e"), -EBADFD);
	close(fd);

	/* connections: AF_UNIX stream, non-blocking, not listening */
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	assert_int_equal(fdstore_check_socket(sv[0], "s", NULL), 0);
	assert_int_equal(fdstore_check_socket(sv[0], "s", "/nowhere"), -EBADFD);
	assert_int_equal(fdstore_check_eventfd(sv[0], "e"), -EBADFD);
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(fdstore_check_socket(sv[0], "s", NULL), -EBADFD);
	close(sv[0]);
	close(sv[1]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	assert_int_equal(fdstore_check_socket(sv[0], "s", NULL), -EBADFD);
	close(sv[0]);
	close(sv[1]);

	/* listeners: bound to the path configured */
	snprintf(path, sizeof(path), "/tmp/pvdma-fdstore-c.%d", (int)getpid());
	unlink(path);
	strcpy(a.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(fdstore_check_socket(fd, "l", path), -EBADFD);	/* not yet */
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(fdstore_check_socket(fd, "l", path), 0);
	assert_int_equal(fdstore_check_socket(fd, "l", "/tmp/elsewhere"), -EBADFD);
	assert_int_equal(fdstore_check_socket(fd, "s", NULL), -EBADFD);
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_notify_messages),
		cmocka_unit_test(test_keeper_full),
		cmocka_unit_test(test_remove_never_dropped),
		cmocka_unit_test(test_flush_bounded),
		cmocka_unit_test(test_flush_time),
		cmocka_unit_test(test_no_keeper),
		cmocka_unit_test(test_listen_fds),
		cmocka_unit_test(test_taken_fds_checked),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
