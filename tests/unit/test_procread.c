// SPDX-License-Identifier: MIT
/*
 * Reads off the loop (host/procread.c): a read's bytes come back on the
 * loop, a cancelled read's never do, a read past its deadline is ended
 * on the loop and its thread counted stuck until it ends, and a read
 * asked for while every thread is taken by other users (stuck ones too)
 * is refused; one user's reads hold at most its share of the threads
 * (stuck ones too), its next ones wait, in order, for one of its threads
 * (a burst all served; behind stuck ones, timed out at the deadline they
 * were asked with) while other users' run, and past its places in the
 * queue are refused; a cancelled waiting read leaves the queue; a read
 * pinned to a process with a pidfd is not believed once that process is
 * gone (its pid may be another's). A FIFO nobody opens for
 * writing stands in for a peer that holds its command line: the thread's
 * open waits until the test lets it go.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/procread.h"

#define LONG_MS	60000	/* a deadline no test reaches */
#define UID_A	1000	/* the peers' users */
#define UID_B	1001

struct got {
	int calls;
	ssize_t n;
	uint64_t at;	/* when it was called back */
	char buf[64];
};

static void got_read(void *ctx, const char *buf, ssize_t n)
{
	struct got *g = ctx;

	g->calls++;
	g->n = n;
	g->at = evloop_now_ns();
	if (n > 0)
		memcpy(g->buf, buf, (size_t)n < sizeof(g->buf) ? (size_t)n :
		       sizeof(g->buf));
}

struct fixture {
	struct evloop loop;
	struct procread_pool *pool;
	char dir[64];
};

static struct fixture *fixture_new(void)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(evloop_init(&f->loop), 0);
	f->pool = procread_pool_new(&f->loop);
	assert_non_null(f->pool);
	strcpy(f->dir, "/tmp/pvdma-procread-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	return f;
}

static void fixture_free(struct fixture *f)
{
	procread_pool_free(f->pool);
	evloop_fini(&f->loop);
	rmdir(f->dir);
	free(f);
}

/* A FIFO in the fixture's directory; its path in @path. */
static void fifo_make(struct fixture *f, const char *name, char *path,
		      size_t len)
{
	snprintf(path, len, "%s/%s", f->dir, name);
	assert_int_equal(mkfifo(path, 0600), 0);
}

/* Let the reader of @path go: open its writing end, write @n bytes of
 * @s, close.
 */
static void fifo_release(const char *path, const char *s, size_t n)
{
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, s, n), (ssize_t)n);
	close(fd);
}

/* Run the loop until every thread is done, no read waits for one, and
 * what they read handed back (or a few seconds passed).
 */
static void loop_settle(struct fixture *f)
{
	int i;

	for (i = 0; i < 300 && (procread_running(f->pool) ||
				procread_queued(f->pool)); i++) {
		evloop_run_once(&f->loop, 10);
		evloop_turn_end(&f->loop);
	}
	for (i = 0; i < 5; i++) {
		evloop_run_once(&f->loop, 10);
		evloop_turn_end(&f->loop);
	}
	assert_int_equal(procread_running(f->pool), 0);
	assert_int_equal(procread_queued(f->pool), 0);
}

/* Run the loop for @ms. */
static void loop_for(struct fixture *f, int ms)
{
	uint64_t end = evloop_now_ns() + (uint64_t)ms * 1000000ull;

	while (evloop_now_ns() < end) {
		evloop_run_once(&f->loop, 10);
		evloop_turn_end(&f->loop);
	}
}

static void test_read_comes_back(void **state)
{
	struct fixture *f = fixture_new();
	struct got g = { 0 };
	char path[96];
	int err = 0;

	fifo_make(f, "a", path, sizeof(path));
	assert_non_null(procread_start(f->pool, path, 64, LONG_MS, -1, UID_A,
				       got_read, &g, &err));
	/* the loop does not wait for the read */
	evloop_run_once(&f->loop, 0);
	evloop_turn_end(&f->loop);
	assert_int_equal(g.calls, 0);
	fifo_release(path, "qemu\0-m\0", 8);
	loop_settle(f);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.n, 8);
	assert_memory_equal(g.buf, "qemu\0-m\0", 8);
	unlink(path);
	fixture_free(f);
}

static void test_cancelled_read_never_comes_back(void **state)
{
	struct fixture *f = fixture_new();
	struct got g = { 0 };
	struct procread *r;
	char path[96];
	int err = 0;

	fifo_make(f, "b", path, sizeof(path));
	r = procread_start(f->pool, path, 64, LONG_MS, -1, UID_A, got_read, &g,
			   &err);
	assert_non_null(r);
	procread_cancel(r);		/* its client went */
	fifo_release(path, "qemu", 4);
	loop_settle(f);
	assert_int_equal(g.calls, 0);
	unlink(path);
	fixture_free(f);
}

/*
 * Take every reader thread: a read of its own FIFO each (named @prefix
 * and a number, into @path), nobody writing, deadline @ms; each user
 * (UID_B and on) takes its share, as many users as it takes.
 */
static void readers_fill(struct fixture *f, struct got *g,
			 char path[][96], const char *prefix, int ms)
{
	char name[16];
	int i, err = 0;

	memset(g, 0, (PROCREAD_THREADS + 1) * sizeof(*g));
	for (i = 0; i < PROCREAD_THREADS; i++) {
		snprintf(name, sizeof(name), "%s%d", prefix, i);
		fifo_make(f, name, path[i], sizeof(path[i]));
		assert_non_null(procread_start(f->pool, path[i], 64, ms, -1,
					       UID_B + i / PROCREAD_PER_UID,
					       got_read, &g[i], &err));
	}
}

static void test_busy_refused(void **state)
{
	struct fixture *f = fixture_new();
	struct got g[PROCREAD_THREADS + 1];
	char path[PROCREAD_THREADS][96];
	int i, err = 0;

	readers_fill(f, g, path, "f", LONG_MS);
	/* a user holding nothing: no thread left for it */
	assert_null(procread_start(f->pool, path[0], 64, LONG_MS, -1, UID_A,
				   got_read, &g[PROCREAD_THREADS], &err));
	assert_int_equal(err, -EBUSY);
	assert_int_equal(procread_refused(f->pool), 1);
	assert_int_equal(procread_refused_quota(f->pool), 0);
	/* a user holding its share waits for one of its own, full pool or
	 * not */
	assert_non_null(procread_start(f->pool, "/proc/self/cmdline", 64,
				       LONG_MS, -1, UID_B, got_read,
				       &g[PROCREAD_THREADS], &err));
	assert_int_equal(procread_queued(f->pool), 1);
	assert_int_equal(procread_refused(f->pool), 1);
	assert_int_equal(procread_refused_quota(f->pool), 0);
	loop_for(f, 20);
	assert_int_equal(g[PROCREAD_THREADS].calls, 0);
	for (i = 0; i < PROCREAD_THREADS; i++)
		fifo_release(path[i], "x", 1);
	loop_settle(f);
	for (i = 0; i < PROCREAD_THREADS; i++) {
		assert_int_equal(g[i].calls, 1);
		unlink(path[i]);
	}
	assert_int_equal(g[PROCREAD_THREADS].calls, 1);
	assert_true(g[PROCREAD_THREADS].n > 0);
	assert_int_equal(procread_waited(f->pool), 1);
	fixture_free(f);
}

static void test_deadline_ends_the_wait(void **state)
{
	struct fixture *f = fixture_new();
	struct got g = { 0 }, late = { 0 };
	char path[96];
	int err = 0;

	fifo_make(f, "d", path, sizeof(path));
	assert_non_null(procread_start(f->pool, path, 64, 50, -1, UID_A,
				       got_read, &g, &err));
	loop_for(f, 20);
	assert_int_equal(g.calls, 0);
	loop_for(f, 200);
	/* the caller heard of it once, on the loop; the thread still waits */
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.n, -ETIMEDOUT);
	assert_int_equal(procread_running(f->pool), 1);
	assert_int_equal(procread_stuck(f->pool), 1);
	assert_int_equal(procread_timed_out(f->pool), 1);
	/* a read that ends in time is not touched by the timer */
	assert_non_null(procread_start(f->pool, "/proc/self/cmdline", 64,
				       LONG_MS, -1, UID_A, got_read, &late,
				       &err));
	fifo_release(path, "qemu", 4);
	loop_settle(f);
	assert_int_equal(g.calls, 1);		/* never again */
	assert_int_equal(late.calls, 1);
	assert_true(late.n > 0);
	assert_int_equal(procread_stuck(f->pool), 0);
	assert_int_equal(procread_timed_out(f->pool), 1);
	unlink(path);
	fixture_free(f);
}

/* Stuck threads hold their places: past the cap, a read is refused. */
static void test_stuck_count_toward_the_cap(void **state)
{
	struct fixture *f = fixture_new();
	struct got g[PROCREAD_THREADS + 1];
	char path[PROCREAD_THREADS][96];
	int i, err = 0;

	readers_fill(f, g, path, "s", 20);
	loop_for(f, 100);
	assert_int_equal(procread_stuck(f->pool), PROCREAD_THREADS);
	assert_null(procread_start(f->pool, "/proc/self/cmdline", 64,
				   LONG_MS, -1, UID_A, got_read,
				   &g[PROCREAD_THREADS], &err));
	assert_int_equal(err, -EBUSY);
	for (i = 0; i < PROCREAD_THREADS; i++) {
		assert_int_equal(g[i].calls, 1);
		assert_int_equal(g[i].n, -ETIMEDOUT);
		fifo_release(path[i], "x", 1);
	}
	loop_settle(f);
	assert_int_equal(procread_stuck(f->pool), 0);
	/* places back: reads run again */
	assert_non_null(procread_start(f->pool, "/proc/self/cmdline", 64,
				       LONG_MS, -1, UID_B, got_read,
				       &g[PROCREAD_THREADS], &err));
	loop_settle(f);
	assert_int_equal(g[PROCREAD_THREADS].calls, 1);
	for (i = 0; i < PROCREAD_THREADS; i++) {
		assert_int_equal(g[i].calls, 1);
		unlink(path[i]);
	}
	fixture_free(f);
}

#define WAIT_MS	300	/* the deadline of reads that wait behind stuck ones */

/*
 * One user's peers that never let go: once they hold its share (stuck
 * past their deadline, too), its next reads wait for its threads, as
 * many as its places in the queue, the one after them is refused at once
 * (counted apart from a full pool); another user's read still runs and
 * comes back meanwhile, and the waiting reads end at the deadline they
 * were asked with, never started, not stuck. Its reads end: its share is
 * free again.
 */
static void test_one_user_held_to_its_share(void **state)
{
	struct fixture *f = fixture_new();
	struct got g[PROCREAD_PER_UID], q[PROCREAD_QUEUE_PER_UID];
	struct got refused = { 0 }, other = { 0 };
	char path[PROCREAD_PER_UID][96], name[16];
	uint64_t asked;
	int i, err = 0;

	memset(g, 0, sizeof(g));
	memset(q, 0, sizeof(q));
	for (i = 0; i < PROCREAD_PER_UID; i++) {
		snprintf(name, sizeof(name), "q%d", i);
		fifo_make(f, name, path[i], sizeof(path[i]));
		assert_non_null(procread_start(f->pool, path[i], 64, 20, -1,
					       UID_A, got_read, &g[i], &err));
	}
	assert_int_equal(procread_running_uid(f->pool, UID_A),
			 PROCREAD_PER_UID);
	loop_for(f, 100);
	assert_int_equal(procread_stuck(f->pool), PROCREAD_PER_UID);
	asked = evloop_now_ns();
	for (i = 0; i < PROCREAD_QUEUE_PER_UID; i++)
		assert_non_null(procread_start(f->pool, "/proc/self/cmdline",
					       64, WAIT_MS, -1, UID_A,
					       got_read, &q[i], &err));
	assert_int_equal(procread_queued_uid(f->pool, UID_A),
			 PROCREAD_QUEUE_PER_UID);
	assert_int_equal(procread_waited(f->pool), PROCREAD_QUEUE_PER_UID);
	/* its places taken: refused at once */
	assert_null(procread_start(f->pool, "/proc/self/cmdline", 64, LONG_MS,
				   -1, UID_A, got_read, &refused, &err));
	assert_int_equal(err, -EDQUOT);
	assert_int_equal(procread_refused_quota(f->pool), 1);
	assert_int_equal(procread_refused(f->pool), 0);
	/* the reserve: another user is served meanwhile, not queued */
	assert_non_null(procread_start(f->pool, "/proc/self/cmdline", 64,
				       LONG_MS, -1, UID_B, got_read, &other,
				       &err));
	assert_int_equal(procread_queued_uid(f->pool, UID_B), 0);
	for (i = 0; i < 50 && !other.calls; i++)
		loop_for(f, 10);
	assert_int_equal(other.calls, 1);
	assert_true(other.n > 0);
	assert_int_equal(procread_running_uid(f->pool, UID_B), 0);
	/* the waiting reads: never started, each ended once at its deadline */
	for (i = 0; i < 300 && procread_queued(f->pool); i++)
		loop_for(f, 10);
	loop_for(f, 20);
	for (i = 0; i < PROCREAD_QUEUE_PER_UID; i++) {
		assert_int_equal(q[i].calls, 1);
		assert_int_equal(q[i].n, -ETIMEDOUT);
		assert_true(q[i].at >= asked + WAIT_MS * 1000000ull);
	}
	assert_int_equal(procread_queued(f->pool), 0);
	assert_int_equal(procread_stuck(f->pool), PROCREAD_PER_UID);
	assert_int_equal(procread_timed_out(f->pool),
			 PROCREAD_PER_UID + PROCREAD_QUEUE_PER_UID);
	/* its stuck reads end: the user's reads run again */
	for (i = 0; i < PROCREAD_PER_UID; i++)
		fifo_release(path[i], "x", 1);
	loop_settle(f);
	assert_int_equal(procread_running_uid(f->pool, UID_A), 0);
	assert_non_null(procread_start(f->pool, "/proc/self/cmdline", 64,
				       LONG_MS, -1, UID_A, got_read, &refused,
				       &err));
	loop_settle(f);
	assert_int_equal(refused.calls, 1);
	assert_true(refused.n > 0);
	for (i = 0; i < PROCREAD_PER_UID; i++) {
		assert_int_equal(g[i].calls, 1);
		assert_int_equal(g[i].n, -ETIMEDOUT);
		unlink(path[i]);
	}
	for (i = 0; i < PROCREAD_QUEUE_PER_UID; i++)
		assert_int_equal(q[i].calls, 1);	/* never again */
	fixture_free(f);
}

#define BURST	(PROCREAD_PER_UID + PROCREAD_QUEUE_PER_UID)

/*
 * One user's QEMUs started together (libvirt runs them all as one uid):
 * more reads asked for back to back, with no loop turn between, than its
 * share of the threads. Quick reads: all served, none refused.
 */
static void test_burst_of_one_user_served(void **state)
{
	struct fixture *f = fixture_new();
	struct got g[BURST];
	int i, err = 0;

	memset(g, 0, sizeof(g));
	for (i = 0; i < BURST; i++)
		assert_non_null(procread_start(f->pool, "/proc/self/cmdline",
					       64, LONG_MS, -1, UID_A,
					       got_read, &g[i], &err));
	loop_settle(f);
	for (i = 0; i < BURST; i++) {
		assert_int_equal(g[i].calls, 1);
		assert_true(g[i].n > 0);
	}
	assert_int_equal(procread_refused_quota(f->pool), 0);
	assert_int_equal(procread_refused(f->pool), 0);
	fixture_free(f);
}

/*
 * The same burst behind reads that take a while (held on FIFOs, let go
 * one at a time): the rest surely wait, and start as the user's threads
 * end, in the order asked for; a waiting read cancelled (its QEMU went)
 * is never called back and gives its place to the next read asked for.
 */
static void test_waiting_reads_start_as_threads_end(void **state)
{
	struct fixture *f = fixture_new();
	struct got g[PROCREAD_PER_UID], q[PROCREAD_QUEUE_PER_UID + 1];
	struct procread *r[PROCREAD_QUEUE_PER_UID];
	char path[PROCREAD_PER_UID][96], name[16];
	int i, err = 0;

	memset(g, 0, sizeof(g));
	memset(q, 0, sizeof(q));
	for (i = 0; i < PROCREAD_PER_UID; i++) {
		snprintf(name, sizeof(name), "w%d", i);
		fifo_make(f, name, path[i], sizeof(path[i]));
		assert_non_null(procread_start(f->pool, path[i], 64, LONG_MS,
					       -1, UID_A, got_read, &g[i],
					       &err));
	}
	for (i = 0; i < PROCREAD_QUEUE_PER_UID; i++) {
		r[i] = procread_start(f->pool, "/proc/self/cmdline", 64,
				      LONG_MS, -1, UID_A, got_read, &q[i],
				      &err);
		assert_non_null(r[i]);
	}
	assert_int_equal(procread_queued(f->pool), PROCREAD_QUEUE_PER_UID);
	/* the first waiting read's QEMU goes: its place is free again */
	procread_cancel(r[0]);
	assert_int_equal(procread_queued(f->pool), PROCREAD_QUEUE_PER_UID - 1);
	assert_non_null(procread_start(f->pool, "/proc/self/cmdline", 64,
				       LONG_MS, -1, UID_A, got_read,
				       &q[PROCREAD_QUEUE_PER_UID], &err));
	assert_int_equal(procread_queued(f->pool), PROCREAD_QUEUE_PER_UID);
	assert_int_equal(procread_refused_quota(f->pool), 0);
	loop_for(f, 20);
	for (i = 0; i <= PROCREAD_QUEUE_PER_UID; i++)
		assert_int_equal(q[i].calls, 0);
	/* one of its threads ends: the waiting reads go through it */
	fifo_release(path[0], "x", 1);
	for (i = 0; i < 300 && procread_queued(f->pool); i++)
		loop_for(f, 10);
	loop_for(f, 20);
	assert_int_equal(g[0].calls, 1);
	assert_int_equal(g[1].calls, 0);
	assert_int_equal(q[0].calls, 0);	/* cancelled: never */
	for (i = 1; i <= PROCREAD_QUEUE_PER_UID; i++) {
		assert_int_equal(q[i].calls, 1);
		assert_true(q[i].n > 0);
		/* one thread free: one at a time, in the order asked for */
		if (i > 1)
			assert_true(q[i].at > q[i - 1].at);
	}
	for (i = 1; i < PROCREAD_PER_UID; i++)
		fifo_release(path[i], "x", 1);
	loop_settle(f);
	for (i = 0; i < PROCREAD_PER_UID; i++) {
		assert_int_equal(g[i].calls, 1);
		unlink(path[i]);
	}
	assert_int_equal(q[0].calls, 0);
	assert_int_equal(procread_waited(f->pool), PROCREAD_QUEUE_PER_UID + 1);
	fixture_free(f);
}

/*
 * pvdmad done with the pool while reads wait: they go with it, never
 * called back (no thread will free them).
 */
static void test_pool_freed_with_reads_waiting(void **state)
{
	struct fixture *f = fixture_new();
	struct got g[PROCREAD_PER_UID], q = { 0 };
	char path[PROCREAD_PER_UID][96], name[16];
	int i, err = 0;

	memset(g, 0, sizeof(g));
	for (i = 0; i < PROCREAD_PER_UID; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		fifo_make(f, name, path[i], sizeof(path[i]));
		assert_non_null(procread_start(f->pool, path[i], 64, LONG_MS,
					       -1, UID_A, got_read, &g[i],
					       &err));
	}
	assert_non_null(procread_start(f->pool, "/proc/self/cmdline", 64,
				       LONG_MS, -1, UID_A, got_read, &q, &err));
	assert_int_equal(procread_queued(f->pool), 1);
	procread_pool_free(f->pool);
	f->pool = NULL;
	for (i = 0; i < PROCREAD_PER_UID; i++) {
		fifo_release(path[i], "x", 1);
		unlink(path[i]);
	}
	usleep(50000);	/* the threads end and the last frees the pool */
	assert_int_equal(q.calls, 0);
	for (i = 0; i < PROCREAD_PER_UID; i++)
		assert_int_equal(g[i].calls, 0);
	evloop_fini(&f->loop);
	rmdir(f->dir);
	free(f);
}

/* A child that waits to be killed, and a pidfd of it. */
static pid_t child_pinned(int *pidfd)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	*pidfd = syscall(SYS_pidfd_open, pid, 0);
	assert_true(*pidfd >= 0);
	return pid;
}

static void child_reap(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	assert_int_equal(waitpid(pid, &status, 0), pid);
}

static void test_pinned_process_alive(void **state)
{
	struct fixture *f = fixture_new();
	struct got g = { 0 };
	char path[64];
	int pidfd, err = 0;
	pid_t pid = child_pinned(&pidfd);

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	assert_non_null(procread_start(f->pool, path, 64, LONG_MS, pidfd,
				       UID_A, got_read, &g, &err));
	loop_settle(f);
	assert_int_equal(g.calls, 1);
	assert_true(g.n > 0);
	child_reap(pid);
	fixture_free(f);
}

/*
 * The pinned process reaped: whatever /proc/PID is now (nothing, or a
 * process that took the pid), its read is not believed. /proc/self
 * stands in for the process that took the pid: it opens fine.
 */
static void test_pinned_process_gone(void **state)
{
	struct fixture *f = fixture_new();
	struct got g = { 0 };
	int pidfd, err = 0;
	pid_t pid = child_pinned(&pidfd);

	child_reap(pid);
	assert_true(procread_pidfd_gone(pidfd));
	assert_non_null(procread_start(f->pool, "/proc/self/cmdline", 64,
				       LONG_MS, pidfd, UID_A, got_read, &g,
				       &err));
	loop_settle(f);
	assert_int_equal(g.calls, 1);
	assert_int_equal(g.n, -ESRCH);
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_comes_back),
		cmocka_unit_test(test_cancelled_read_never_comes_back),
		cmocka_unit_test(test_busy_refused),
		cmocka_unit_test(test_deadline_ends_the_wait),
		cmocka_unit_test(test_stuck_count_toward_the_cap),
		cmocka_unit_test(test_one_user_held_to_its_share),
		cmocka_unit_test(test_burst_of_one_user_served),
		cmocka_unit_test(test_waiting_reads_start_as_threads_end),
		cmocka_unit_test(test_pool_freed_with_reads_waiting),
		cmocka_unit_test(test_pinned_process_alive),
		cmocka_unit_test(test_pinned_process_gone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
