// SPDX-License-Identifier: MIT
/*
 * Unit tests of lib/include/pvdma/prng.h: the stream is splitmix64 to the
 * bit (so every seeded workload stays what it was), below() stays in range.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <pvdma/prng.h>

/* splitmix64's published first outputs for seed 0 and seed 1234567. */
static void test_reference_stream(void **state)
{
	static const u64 seed0[] = {
		0xe220a8397b1dcdafull, 0x6e789e6aa1b965f4ull,
		0x06c45d188009454full, 0xf88bb8a8724c81ecull,
	};
	static const u64 seed1234567[] = {
		6457827717110365317ull, 3203168211198807973ull,
		9817491932198370423ull, 4593380528125082431ull,
		16408922859458223821ull,
	};
	struct pvdma_prng r;
	unsigned int i;

	pvdma_prng_seed(&r, 0);
	for (i = 0; i < 4; i++)
		assert_int_equal(pvdma_prng_next(&r), seed0[i]);
	pvdma_prng_seed(&r, 1234567);
	for (i = 0; i < 5; i++)
		assert_int_equal(pvdma_prng_next(&r), seed1234567[i]);
}

static void test_same_seed_same_stream(void **state)
{
	struct pvdma_prng a, b;
	unsigned int i;

	pvdma_prng_seed(&a, 42);
	pvdma_prng_seed(&b, 42);
	for (i = 0; i < 1000; i++)
		assert_int_equal(pvdma_prng_next(&a), pvdma_prng_next(&b));
	pvdma_prng_seed(&b, 43);
	assert_int_not_equal(pvdma_prng_next(&a), pvdma_prng_next(&b));
}

static void test_below(void **state)
{
	struct pvdma_prng r, copy;
	unsigned int seen = 0, i;
	u64 v;

	pvdma_prng_seed(&r, 7);
	copy = r;
	assert_int_equal(pvdma_prng_below(&r, 0), 0);
	assert_int_equal(r.state, copy.state);	/* n = 0 draws nothing */
	for (i = 0; i < 10000; i++) {
		v = pvdma_prng_below(&r, 11);
		assert_true(v < 11);
		seen |= 1u << v;
	}
	assert_int_equal(seen, (1u << 11) - 1);	/* every value comes up */
	assert_int_equal(pvdma_prng_below(&r, 1), 0);
}

/* mix() is next()'s output for the state it is given. */
static void test_mix_is_the_finaliser(void **state)
{
	struct pvdma_prng r;

	pvdma_prng_seed(&r, 99);
	assert_int_equal(pvdma_prng_next(&r),
			 pvdma_prng_mix(99 + 0x9e3779b97f4a7c15ull));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reference_stream),
		cmocka_unit_test(test_same_seed_same_stream),
		cmocka_unit_test(test_below),
		cmocka_unit_test(test_mix_is_the_finaliser),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
