// SPDX-License-Identifier: MIT
/* Unit tests of common/size.c: the one size grammar, its edges and refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "size.h"

static uint64_t parsed(const char *s)
{
	uint64_t v = 0xdeadull;

	assert_true(size_parse(s, &v));
	return v;
}

static void refused(const char *s)
{
	uint64_t v = 0xdeadull;

	assert_false(size_parse(s, &v));
	assert_int_equal(v, 0xdeadull);	/* untouched on refusal */
}

static void test_plain_numbers(void **state)
{
	assert_int_equal(parsed("0"), 0);
	assert_int_equal(parsed("4096"), 4096);
	assert_int_equal(parsed("0x4000"), 0x4000);
	assert_int_equal(parsed("0XfF"), 255);
	/* leading zeros are decimal, not octal */
	assert_int_equal(parsed("010"), 10);
	assert_int_equal(parsed("18446744073709551615"), UINT64_MAX);
	assert_int_equal(parsed("0xffffffffffffffff"), UINT64_MAX);
}

static void test_suffixes(void **state)
{
	assert_int_equal(parsed("16K"), 16384);
	assert_int_equal(parsed("16k"), 16384);
	assert_int_equal(parsed("1536M"), 1536ull << 20);
	assert_int_equal(parsed("1536m"), 1536ull << 20);
	assert_int_equal(parsed("2G"), 2ull << 30);
	assert_int_equal(parsed("2g"), 2ull << 30);
	assert_int_equal(parsed("1T"), 1ull << 40);
	assert_int_equal(parsed("1t"), 1ull << 40);
	assert_int_equal(parsed("2KiB"), 2048);
	assert_int_equal(parsed("64MB"), 64ull << 20);
	assert_int_equal(parsed("0x10M"), 16ull << 20);
	assert_int_equal(parsed("0x1g"), 1ull << 30);
	assert_int_equal(parsed("0K"), 0);
	assert_int_equal(parsed("16777215T"), 16777215ull << 40);
}

static void test_refusals(void **state)
{
	static const char *const bad[] = {
		"", "-1", "+1", " 1", "1 ", "0x", "0xg", "1.5G", "1P", "1KB ",
		"1Kib", "1KiBB", "1iB", "4096B", "K", "1KK", "12abc", "0xfz",
		"09x", "1e3",
	};
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i]);
	assert_false(size_parse(NULL, &(uint64_t){ 0 }));
}

static void test_overflow_refused(void **state)
{
	refused("18446744073709551616");	/* 2^64 */
	refused("0x10000000000000000");
	refused("99999999999999999999999");
	refused("16777216T");			/* 2^64 exactly */
	refused("17179869184G");
	refused("18014398509481984K");
	/* the largest that fits with each suffix */
	assert_int_equal(parsed("18014398509481983K"), 18014398509481983ull << 10);
}

static void test_range(void **state)
{
	uint64_t v = 7;

	assert_true(size_parse_range("4K", 4096, 4096, &v));
	assert_int_equal(v, 4096);
	assert_false(size_parse_range("4K", 4097, 1 << 20, &v));
	assert_false(size_parse_range("2M", 0, 1 << 20, &v));
	assert_false(size_parse_range("x", 0, 1 << 20, &v));
	assert_int_equal(v, 4096);
}

/* A good value comes back; a bad one ends the program with status 2. */
static void test_arg(void **state)
{
	int status;
	pid_t pid;

	assert_int_equal(size_arg("test", "ops", "2M"), 2ull << 20);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		freopen("/dev/null", "w", stderr);
		size_arg("test", "ops", "2X");
		_exit(0);	/* not reached if size_arg refuses */
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_numbers),
		cmocka_unit_test(test_suffixes),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_overflow_refused),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_arg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
