// SPDX-License-Identifier: MIT
/*
 * Peers pinned with pidfds (host/peerpin.c), on real processes: two
 * connections of one process are one process; of two processes, not;
 * a process that connected and then exited (reaped) matches nobody, even
 * a live process given its pid number, which stands in for pid reuse
 * (forcing a real reuse needs a pid namespace: run-attack "bindreuse");
 * a zombie still holds its pid. Both ways of telling (pidfs inodes, and
 * liveness where pidfds share one inode) are run.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/peerpin.h"

struct peer {
	pid_t pid;
	int go;		/* write end: a byte on it ends the child */
};

struct server {
	int fd;
	struct sockaddr_un addr;
};

static void server_open(struct server *s)
{
	s->addr = (struct sockaddr_un){ .sun_family = AF_UNIX };
	snprintf(s->addr.sun_path, sizeof(s->addr.sun_path),
		 "/tmp/pvdma-peerpin-%d.sock", (int)getpid());
	unlink(s->addr.sun_path);
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->fd >= 0);
	assert_int_equal(bind(s->fd, (struct sockaddr *)&s->addr,
			      sizeof(s->addr)), 0);
	assert_int_equal(listen(s->fd, 8), 0);
}

static void server_close(struct server *s)
{
	close(s->fd);
	unlink(s->addr.sun_path);
}

/* A child that connects @n times, then waits for a byte on its pipe. */
static struct peer peer_start(struct server *s, int n)
{
	struct peer p;
	int pipefd[2], i, fd;
	char c;

	assert_int_equal(pipe(pipefd), 0);
	p.pid = fork();
	assert_true(p.pid >= 0);
	if (!p.pid) {
		close(pipefd[1]);
		for (i = 0; i < n; i++) {
			fd = socket(AF_UNIX, SOCK_STREAM, 0);
			if (fd < 0 || connect(fd, (struct sockaddr *)&s->addr,
					      sizeof(s->addr)))
				_exit(1);
		}
		_exit(read(pipefd[0], &c, 1) < 0);
	}
	close(pipefd[0]);
	p.go = pipefd[1];
	return p;
}

/* The child exits; reaped if @reap (else a zombie until peer_reap). */
static void peer_end(struct peer *p, bool reap)
{
	siginfo_t si;

	/* A byte, not EOF: a child forked later holds this pipe too. */
	assert_int_equal(write(p->go, "x", 1), 1);
	close(p->go);
	/* WNOWAIT: exited, left a zombie. */
	assert_int_equal(waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOWAIT), 0);
	if (reap)
		assert_int_equal(waitpid(p->pid, NULL, 0), p->pid);
}

/* Accept one connection and pin its peer, as pvdmad does. */
static int pin_next(struct server *s, struct host_pin *pin)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct host_peer peer;
	int fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC);

	assert_true(fd >= 0);
	/* SO_PEERCRED, as host_peer_get() (peer_access.c) reads it */
	assert_int_equal(getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len), 0);
	peer = (struct host_peer){ .pid = cred.pid, .uid = cred.uid,
				   .gid = cred.gid };
	assert_int_equal(host_pin_take(pin, fd, &peer), 0);
	return fd;
}

static void test_one_process_is_one(void **state)
{
	struct host_pin a, b;
	struct server s;
	struct peer p;
	int fa, fb;

	server_open(&s);
	p = peer_start(&s, 2);
	fa = pin_next(&s, &a);
	fb = pin_next(&s, &b);
	assert_int_equal(a.pid, p.pid);
	assert_true(a.fd >= 0 && b.fd >= 0);
	assert_int_equal(host_pin_match(&a, &b), HOST_PIN_SAME);
	assert_int_equal(host_pin_match(&b, &a), HOST_PIN_SAME);
	assert_true(a.ino == b.ino);	/* pidfs: one number per process */
	/* Told by liveness too (pidfds on one anonymous inode). */
	a.ino = b.ino = 0;
	assert_int_equal(host_pin_match(&a, &b), HOST_PIN_SAME);
	/* A zombie holds its pid still: the same process, not gone. */
	peer_end(&p, false);
	assert_false(host_pin_gone(&a));
	assert_int_equal(host_pin_match(&a, &b), HOST_PIN_SAME);
	assert_int_equal(waitpid(p.pid, NULL, 0), p.pid);
	host_pin_release(&a);
	host_pin_release(&b);
	close(fa);
	close(fb);
	server_close(&s);
}

static void test_two_processes_are_two(void **state)
{
	struct host_pin a, b;
	struct server s;
	struct peer p, q;
	int fa, fb;

	server_open(&s);
	p = peer_start(&s, 1);
	fa = pin_next(&s, &a);
	q = peer_start(&s, 1);
	fb = pin_next(&s, &b);
	assert_int_equal(host_pin_match(&a, &b), HOST_PIN_OTHER);
	/* Another process given the same number: the pidfs inodes differ. */
	b.pid = a.pid;
	if (a.ino && b.ino) {
		assert_true(a.ino != b.ino);
		assert_int_equal(host_pin_match(&a, &b), HOST_PIN_OTHER);
	}
	/* pid 0 (outside pvdmad's pid namespace): nobody. */
	a.pid = b.pid = 0;
	assert_int_equal(host_pin_match(&a, &b), HOST_PIN_OTHER);
	peer_end(&p, true);
	peer_end(&q, true);
	host_pin_release(&a);
	host_pin_release(&b);
	close(fa);
	close(fb);
	server_close(&s);
}

/*
 * The attack: a process connects, leaves its socket to another and exits;
 * a live process is then given its pid number (faked here: b.pid = a.pid)
 * and connects. Its pin's process is gone: it matches nobody, told by
 * pidfs inodes and by liveness alike; the live one's other connections
 * still match each other.
 */
static void test_gone_matches_nobody(void **state)
{
	struct host_pin a, b, b2;
	struct server s;
	struct peer p, q;
	int fa, fb, fb2;
	int round;

	for (round = 0; round < 2; round++) {
		server_open(&s);
		p = peer_start(&s, 1);
		fa = pin_next(&s, &a);
		peer_end(&p, true);
		assert_true(host_pin_gone(&a));
		q = peer_start(&s, 2);
		fb = pin_next(&s, &b);
		fb2 = pin_next(&s, &b2);
		b.pid = b2.pid = a.pid;
		if (round)	/* no pidfs: liveness alone */
			a.ino = b.ino = b2.ino = 0;
		assert_int_equal(host_pin_match(&a, &b), HOST_PIN_GONE);
		assert_int_equal(host_pin_match(&b, &a), HOST_PIN_OTHER);
		assert_int_equal(host_pin_match(&b, &b2), HOST_PIN_SAME);
		peer_end(&q, true);
		/* Gone too, now: b matches nobody either. */
		assert_int_equal(host_pin_match(&b, &b2), HOST_PIN_GONE);
		host_pin_release(&a);
		host_pin_release(&b);
		host_pin_release(&b2);
		close(fa);
		close(fb);
		close(fb2);
		server_close(&s);
	}
}

/* Connected, then gone before the accept: pinned as gone either way
 * (-ESRCH, or a pidfd of a reaped process on Linux 6.16+). */
static void test_gone_before_accept(void **state)
{
	struct host_pin a;
	struct server s;
	struct peer p;
	int fa;

	server_open(&s);
	p = peer_start(&s, 1);
	peer_end(&p, true);
	fa = pin_next(&s, &a);
	assert_true(host_pin_gone(&a));
	host_pin_release(&a);
	assert_int_equal(a.fd, -ESRCH);		/* released: nothing to close */
	close(fa);
	server_close(&s);
}

/* A kernel without pidfds pins nothing: pid numbers, as before pins. */
static void test_no_pidfds_compares_numbers(void **state)
{
	struct host_pin a = { .pid = 42, .fd = -ENOSYS };
	struct host_pin b = { .pid = 42, .fd = -ENOSYS };
	struct host_pin gone = { .pid = 42, .fd = -ESRCH };

	assert_int_equal(host_pin_match(&a, &b), HOST_PIN_SAME);
	b.pid = 43;
	assert_int_equal(host_pin_match(&a, &b), HOST_PIN_OTHER);
	assert_false(host_pin_gone(&a));
	assert_true(host_pin_gone(&gone));
	assert_int_equal(host_pin_match(&gone, &a), HOST_PIN_GONE);
	assert_int_equal(host_pin_match(&a, &gone), HOST_PIN_OTHER);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_process_is_one),
		cmocka_unit_test(test_two_processes_are_two),
		cmocka_unit_test(test_gone_matches_nobody),
		cmocka_unit_test(test_gone_before_accept),
		cmocka_unit_test(test_no_pidfds_compares_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
