// SPDX-License-Identifier: MIT
/*
 * Unit tests of common/size.c: the one size grammar, its edges and
 * refusals; the one printer of sizes for people.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <pvdma/prng.h>

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

/* Plain decimals: ids, pids and counts; nothing a size may add. */
static void test_decimal(void **state)
{
	static const char *const bad[] = {
		"", "-1", "+1", " 1", "1 ", "0x10", "4K", "1.0", "12a",
		"18446744073709551616",
	};
	uint64_t v = 7;
	unsigned int i;

	assert_true(size_parse_decimal("0", 10, &v));
	assert_int_equal(v, 0);
	assert_true(size_parse_decimal("010", 10, &v));	/* not octal */
	assert_int_equal(v, 10);
	assert_true(size_parse_decimal("18446744073709551615", UINT64_MAX, &v));
	assert_int_equal(v, UINT64_MAX);
	v = 7;
	assert_false(size_parse_decimal("11", 10, &v));	/* over @max */
	assert_false(size_parse_decimal(NULL, 10, &v));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(size_parse_decimal(bad[i], UINT64_MAX, &v));
	assert_int_equal(v, 7);
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

/*
 * A second reading of the grammar, built on strtoull instead of a digit
 * loop, for the differential test below: they must agree on every input.
 */
static bool reference_parse(const char *s, uint64_t *out)
{
	static const char suffixes[] = "kmgt";
	bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	const char *digits = hex ? s + 2 : s;
	const char *letter;
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	if (!(hex ? strchr("0123456789abcdefABCDEF", *digits) :
		    strchr("0123456789", *digits)) || !*digits)
		return false;
	errno = 0;
	v = strtoull(digits, &end, hex ? 16 : 10);
	if (errno == ERANGE)
		return false;
	if (*end) {
		char c = (char)(*end | 0x20);

		letter = strchr(suffixes, c);
		if (!letter || !c)
			return false;
		shift = 10 * (unsigned int)(letter - suffixes + 1);
		end++;
		if (*end && strcmp(end, "B") && strcmp(end, "iB"))
			return false;
		if (v > (UINT64_MAX >> shift))
			return false;
	}
	*out = (uint64_t)v << shift;
	return true;
}

static void expect_agree(const char *s)
{
	uint64_t a = 1, b = 2;
	bool ok_a = size_parse(s, &a), ok_b = reference_parse(s, &b);

	if (ok_a != ok_b || (ok_a && a != b))
		fail_msg("size_parse and the reference disagree on '%s'", s);
}

/* Random strings over the grammar's alphabet and its near misses. */
static void test_differential_random(void **state)
{
	static const char alphabet[] = "0123456789012345abcdefxXkKmMgGtTiBb -+.";
	struct pvdma_prng r;
	char buf[32];
	unsigned int i, len, k;

	pvdma_prng_seed(&r, 2026);
	for (i = 0; i < 200000; i++) {
		len = (unsigned int)pvdma_prng_below(&r, sizeof(buf) - 1);
		for (k = 0; k < len; k++)
			buf[k] = alphabet[pvdma_prng_below(&r, sizeof(alphabet) - 1)];
		buf[len] = 0;
		expect_agree(buf);
	}
}

/* Numbers of every magnitude, both bases, every suffix: overflow edges. */
static void test_differential_numbers(void **state)
{
	static const char *const tails[] = { "", "K", "m", "G", "t", "KiB", "MB" };
	struct pvdma_prng r;
	char buf[48];
	unsigned int i;
	uint64_t v;

	pvdma_prng_seed(&r, 7);
	for (i = 0; i < 100000; i++) {
		v = pvdma_prng_next(&r) >> pvdma_prng_below(&r, 64);
		snprintf(buf, sizeof(buf), pvdma_prng_below(&r, 2) ? "%llu%s" :
			 "0x%llx%s", (unsigned long long)v,
			 tails[pvdma_prng_below(&r, 7)]);
		expect_agree(buf);
	}
}

static void human_is(uint64_t bytes, const char *want)
{
	char buf[32];

	assert_ptr_equal(size_human(bytes, buf, sizeof(buf)), buf);
	assert_string_equal(buf, want);
}

/* Units step at 1024, two decimals below 10 of a unit, one from 10. */
static void test_human(void **state)
{
	char small[4];

	human_is(0, "0 B");
	human_is(1023, "1023 B");
	human_is(1024, "1.00 KiB");
	human_is(10 * 1024, "10.0 KiB");
	human_is(1536ull << 20, "1.50 GiB");
	human_is(3ull << 40, "3.00 TiB");
	human_is(UINT64_MAX, "16777216.0 TiB");	/* no unit past TiB */
	/* a short buffer is cut, never overrun */
	assert_string_equal(size_human(1536, small, sizeof(small)), "1.5");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_numbers),
		cmocka_unit_test(test_suffixes),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_overflow_refused),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_decimal),
		cmocka_unit_test(test_arg),
		cmocka_unit_test(test_differential_random),
		cmocka_unit_test(test_differential_numbers),
		cmocka_unit_test(test_human),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
