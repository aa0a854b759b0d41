// SPDX-License-Identifier: MIT
/*
 * Unit tests of the failure-reason table (lib/planner.c): every reason has
 * one key and one description, keys are names (debugfs file names, counter
 * names), neither repeats, and anything out of range is "unknown".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include <pvdma/planner.h>

static bool is_key(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || *s == '_'))
			return false;
	return true;
}

static void test_every_reason_named(void **state)
{
	u32 i;

	for (i = 0; i < PVDMA_FAIL_COUNT; i++) {
		assert_true(is_key(pvdma_fail_reason_key(i)));
		assert_string_not_equal(pvdma_fail_reason_key(i), "unknown");
		assert_string_not_equal(pvdma_fail_reason_name(i), "unknown");
		assert_true(strlen(pvdma_fail_reason_name(i)) > 0);
	}
}

static void test_no_repeats(void **state)
{
	u32 i, j;

	for (i = 0; i < PVDMA_FAIL_COUNT; i++)
		for (j = i + 1; j < PVDMA_FAIL_COUNT; j++) {
			assert_string_not_equal(pvdma_fail_reason_key(i),
						pvdma_fail_reason_key(j));
			assert_string_not_equal(pvdma_fail_reason_name(i),
						pvdma_fail_reason_name(j));
		}
}

/* The spellings other programs and docs rely on. */
static void test_known_spellings(void **state)
{
	assert_string_equal(pvdma_fail_reason_key(PVDMA_FAIL_BUS_SPACE),
			    "bus_space");
	assert_string_equal(pvdma_fail_reason_name(PVDMA_FAIL_APERTURE),
			    "aperture full");
	assert_string_equal(pvdma_fail_reason_key(PVDMA_FAIL_NO_RECORDS),
			    "no_records");
}

static void test_out_of_range(void **state)
{
	assert_string_equal(pvdma_fail_reason_key(PVDMA_FAIL_COUNT), "unknown");
	assert_string_equal(pvdma_fail_reason_name(PVDMA_FAIL_COUNT), "unknown");
	assert_string_equal(pvdma_fail_reason_key(~0u), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_reason_named),
		cmocka_unit_test(test_no_repeats),
		cmocka_unit_test(test_known_spellings),
		cmocka_unit_test(test_out_of_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
