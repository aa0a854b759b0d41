// SPDX-License-Identifier: MIT
/*
 * The eventfd guard (host/peerfd.c) against the race it exists for: a
 * peer sharing the open file description turns O_NONBLOCK off and on
 * without pause (a thread here, with SIGALRM blocked so the guard's
 * signal reaches the caller's thread, as pvdmad's loop), so now and then
 * the flag passes the check and is gone for the call. A read of an empty
 * counter must then not wait at all (RWF_NOWAIT); a write into a full one
 * waits, and the guard must end it within a few of its periods, not the
 * 50 ms it used to take. Each test runs until it has seen the race won
 * enough times or for a few seconds (the read's race is won more rarely
 * than the write's); one where the thread never cleared the flag is
 * skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "host/peerfd.h"

#define RACE_SECONDS	3	/* a test gives up after this long */
#define RACE_WINS	20	/* blocked calls seen: enough */

struct toggler {
	pthread_t thread;
	int fd;
	bool stop;	/* both atomic: the thread and the test share them */
	bool running;
};

static void *toggle(void *arg)
{
	struct toggler *t = arg;

	__atomic_store_n(&t->running, true, __ATOMIC_RELEASE);
	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
		fcntl(t->fd, F_SETFL, 0);
		fcntl(t->fd, F_SETFL, O_NONBLOCK);
	}
	return NULL;
}

static void toggler_start(struct toggler *t, int fd)
{
	sigset_t all, old;

	t->fd = fd;
	t->stop = false;
	t->running = false;
	/* the thread inherits the mask: the guard's signal is ours */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	assert_int_equal(pthread_create(&t->thread, NULL, toggle, t), 0);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	while (!__atomic_load_n(&t->running, __ATOMIC_ACQUIRE))
		sched_yield();
}

static void toggler_stop(struct toggler *t)
{
	__atomic_store_n(&t->stop, true, __ATOMIC_RELEASE);
	pthread_join(t->thread, NULL);
	fcntl(t->fd, F_SETFL, O_NONBLOCK);
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * An empty counter read while the flag flips, for RACE_SECONDS: -EAGAIN
 * (the flag seen) or -EPERM (seen cleared), never a wait the guard had to
 * end (that is a race won: the flag gone between the check and the read).
 */
static void test_read_never_waits(void **state)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	unsigned int i, refused = 0, timed_out = 0;
	struct toggler t;
	uint64_t v, end;
	int err;

	assert_true(fd >= 0);
	assert_int_equal(peerfd_init(), 0);
	toggler_start(&t, fd);
	end = now_us() + RACE_SECONDS * 1000000u;
	for (i = 0; timed_out < RACE_WINS && (i & 1023 || now_us() < end); i++) {
		err = peerfd_eventfd_read(fd, &v);
		refused += err == -EPERM;
		timed_out += err == -ETIMEDOUT;
	}
	toggler_stop(&t);
	close(fd);
	printf("read: %u calls, %u saw the flag cleared, %u ended by the guard\n",
	       i, refused, timed_out);
	if (!refused)
		skip();
	assert_int_equal(timed_out, 0);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * A full counter written while the flag flips: a call that passed the
 * check with the flag then gone waits, and the guard ends it. The median
 * such wait must stay near the guard's period (the median: a loaded
 * machine may wake the caller late now and then).
 */
static void test_write_wait_bounded(void **state)
{
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	uint64_t full = 0xfffffffffffffffeull, t0, dt, end, waits[RACE_WINS];
	unsigned int i, timed_out = 0;
	struct toggler t;
	int err;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, &full, sizeof(full)), (ssize_t)sizeof(full));
	assert_int_equal(peerfd_init(), 0);
	toggler_start(&t, fd);
	end = now_us() + RACE_SECONDS * 1000000u;
	for (i = 0; timed_out < RACE_WINS && (i & 1023 || now_us() < end); i++) {
		t0 = now_us();
		err = peerfd_eventfd_write(fd, 1);
		dt = now_us() - t0;
		if (err == -ETIMEDOUT)
			waits[timed_out++] = dt;
	}
	toggler_stop(&t);
	close(fd);
	if (!timed_out)
		skip();
	qsort(waits, timed_out, sizeof(waits[0]), cmp_u64);
	printf("write: %u calls ended by the guard, after %llu us (median), %llu us (longest)\n",
	       timed_out, (unsigned long long)waits[timed_out / 2],
	       (unsigned long long)waits[timed_out - 1]);
	/* every wait of the old guard was 50 ms or more; one of this one's
	 * periods and a loaded machine's late wake-up stay well under */
	assert_true(waits[timed_out / 2] < 40 * PEERFD_GUARD_US);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_never_waits),
		cmocka_unit_test(test_write_wait_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
