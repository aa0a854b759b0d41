// SPDX-License-Identifier: MIT
/* DMA attribute decoding: each effect, neutral and unknown bits, mixes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pvdma/dma_attrs.h>
#include <pvdma/planner.h>

/* Bits as a 6.18+ kernel numbers them; 0 for one it lacks. */
#define A_WEAK		(1ull << 1)
#define A_SKIP		(1ull << 5)
#define A_NO_WARN	(1ull << 8)
#define A_MMIO		(1ull << 10)
#define A_COHERENT	(1ull << 12)

static const struct pvdma_attr_rule rules[] = {
	{ A_WEAK,	PVDMA_ATTR_EFFECT_NONE },
	{ A_SKIP,	PVDMA_ATTR_EFFECT_SKIP_SYNC },
	{ A_NO_WARN,	PVDMA_ATTR_EFFECT_QUIET },
	{ A_MMIO,	PVDMA_ATTR_EFFECT_MMIO },
	{ A_COHERENT,	PVDMA_ATTR_EFFECT_COHERENT },
	{ 0,		PVDMA_ATTR_EFFECT_MMIO },	/* absent from this kernel */
};

static int decode(u64 attrs, struct pvdma_call_attrs *out)
{
	return pvdma_attrs_decode(rules, sizeof(rules) / sizeof(rules[0]),
				  attrs, out);
}

static void test_none(void **state)
{
	struct pvdma_call_attrs a;

	assert_int_equal(decode(0, &a), 0);
	assert_int_equal(a.planner_attrs, 0);
	assert_false(a.mmio || a.skip_sync || a.quiet);
	assert_int_equal(a.unknown, 0);
	/* Accepted, and changes nothing. */
	assert_int_equal(decode(A_WEAK, &a), 0);
	assert_int_equal(a.planner_attrs, 0);
	assert_false(a.mmio || a.skip_sync || a.quiet);
}

static void test_each_effect(void **state)
{
	struct pvdma_call_attrs a;

	assert_int_equal(decode(A_MMIO, &a), 0);
	assert_true(a.mmio);
	assert_int_equal(a.planner_attrs, PVDMA_ATTR_NO_BOUNCE);
	assert_false(a.skip_sync || a.quiet);

	assert_int_equal(decode(A_COHERENT, &a), 0);
	assert_int_equal(a.planner_attrs, PVDMA_ATTR_NO_BOUNCE);
	assert_false(a.mmio || a.skip_sync || a.quiet);

	assert_int_equal(decode(A_SKIP, &a), 0);
	assert_true(a.skip_sync);
	/* Skipping copies still allows the pool. */
	assert_int_equal(a.planner_attrs, 0);
	assert_false(a.mmio || a.quiet);

	assert_int_equal(decode(A_NO_WARN, &a), 0);
	assert_true(a.quiet);
	assert_int_equal(a.planner_attrs, 0);
}

static void test_mixed(void **state)
{
	struct pvdma_call_attrs a;

	assert_int_equal(decode(A_MMIO | A_SKIP | A_NO_WARN | A_WEAK, &a), 0);
	assert_true(a.mmio && a.skip_sync && a.quiet);
	assert_int_equal(a.planner_attrs, PVDMA_ATTR_NO_BOUNCE);
}

static void test_unknown_refused(void **state)
{
	struct pvdma_call_attrs a;

	assert_int_equal(decode(1ull << 30, &a), -EOPNOTSUPP);
	assert_int_equal(a.unknown, 1ull << 30);
	/* Known bits beside it do not hide it. */
	assert_int_equal(decode(A_SKIP | (1ull << 30) | (1ull << 63), &a),
			 -EOPNOTSUPP);
	assert_int_equal(a.unknown, (1ull << 30) | (1ull << 63));
	/* A bit this kernel lacks (rule bit 0) is unknown too. */
	assert_int_equal(decode(1ull << 13, &a), -EOPNOTSUPP);
	assert_int_equal(a.unknown, 1ull << 13);
}

static void test_bad_rule(void **state)
{
	static const struct pvdma_attr_rule bad[] = {
		{ A_SKIP, PVDMA_ATTR_EFFECT_COUNT },
	};
	struct pvdma_call_attrs a;

	assert_int_equal(pvdma_attrs_decode(bad, 1, 0, &a), -EINVAL);
	assert_int_equal(pvdma_attrs_decode(NULL, 0, 0, &a), 0);
	assert_int_equal(pvdma_attrs_decode(NULL, 0, A_SKIP, &a), -EOPNOTSUPP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_none),
		cmocka_unit_test(test_each_effect),
		cmocka_unit_test(test_mixed),
		cmocka_unit_test(test_unknown_refused),
		cmocka_unit_test(test_bad_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
