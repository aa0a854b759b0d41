// SPDX-License-Identifier: MIT
/* Range allocator: first fit, alignment, and a brute-force reference. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pvdma/iova.h>
#include <pvdma/prng.h>

/* The one stream of this file's random runs, seeded by each. */
static struct pvdma_prng rng;

#define PAGE	16384ull

static void test_first_fit_and_reuse(void **state)
{
	struct pvdma_iova io;
	struct pvdma_iova_node a, b, c, d;

	pvdma_iova_init(&io, PAGE, 64 * PAGE, PAGE);
	assert_int_equal(pvdma_iova_alloc(&io, &a, PAGE, 0, 0), 0);
	assert_int_equal(a.start, PAGE);
	assert_int_equal(pvdma_iova_alloc(&io, &b, 3 * PAGE, 0, 0), 0);
	assert_int_equal(b.start, 2 * PAGE);
	assert_int_equal(pvdma_iova_alloc(&io, &c, 1, 0, 0), 0); /* rounds up */
	assert_int_equal(c.end - c.start, PAGE);
	pvdma_iova_free(&io, &b);
	/* the hole b left is the lowest fit */
	assert_int_equal(pvdma_iova_alloc(&io, &d, 2 * PAGE, 0, 0), 0);
	assert_int_equal(d.start, 2 * PAGE);
	assert_ptr_equal(pvdma_iova_find(&io, 3 * PAGE + 5), &d);
	assert_null(pvdma_iova_find(&io, 4 * PAGE));
	assert_int_equal(io.used, 4 * PAGE);
	assert_int_equal(io.count, 3);
}

static void test_alignment_and_offset(void **state)
{
	struct pvdma_iova io;
	struct pvdma_iova_node a, b;

	pvdma_iova_init(&io, 0, 1 << 20, 64);
	assert_int_equal(pvdma_iova_alloc(&io, &a, 100, 0, 0), 0);
	assert_int_equal(pvdma_iova_alloc(&io, &b, 4096, 4096, 128), 0);
	assert_int_equal(b.start % 4096, 128);
	assert_true(b.start >= a.end);
	assert_int_equal(pvdma_iova_alloc(&io, &b, 64, 4096, 100), -EINVAL);
	assert_int_equal(pvdma_iova_alloc(&io, &b, 64, 3000, 0), -EINVAL);
	assert_int_equal(pvdma_iova_alloc(&io, &b, 0, 0, 0), -EINVAL);
}

static void test_full(void **state)
{
	struct pvdma_iova io;
	struct pvdma_iova_node n[4];

	pvdma_iova_init(&io, 0, 4 * PAGE, PAGE);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pvdma_iova_alloc(&io, &n[i], PAGE, 0, 0), 0);
	assert_int_equal(pvdma_iova_alloc(&io, &n[0], PAGE, 0, 0), -ENOSPC);
	assert_int_equal(pvdma_iova_largest_gap(&io), 0);
	pvdma_iova_free(&io, &n[1]);
	pvdma_iova_free(&io, &n[2]);
	assert_int_equal(pvdma_iova_largest_gap(&io), 2 * PAGE);
}

/*
 * A gap shorter than size + align - granule may still hold the aligned
 * range exactly where it lands: it is found, and an offset that does not
 * fit it is refused.
 */
static void test_alignment_exact_fit(void **state)
{
	struct pvdma_iova io;
	struct pvdma_iova_node a, b, c, n;

	pvdma_iova_init(&io, 0, 4ull << 20, PAGE);
	assert_int_equal(pvdma_iova_alloc(&io, &a, 1ull << 20, 0, 0), 0);
	assert_int_equal(pvdma_iova_alloc(&io, &b, 1ull << 20, 0, 0), 0);
	assert_int_equal(pvdma_iova_alloc(&io, &c, 2ull << 20, 0, 0), 0);
	pvdma_iova_free(&io, &b);
	/* the only room: [1 MiB, 2 MiB), shorter than 1 MiB + 1 MiB - 16 KiB */
	assert_int_equal(pvdma_iova_alloc(&io, &n, 1ull << 20, 1ull << 20, PAGE),
			 -ENOSPC);
	assert_int_equal(pvdma_iova_alloc(&io, &n, 1ull << 20, 1ull << 20, 0), 0);
	assert_int_equal(n.start, 1ull << 20);
	assert_int_equal(io.used, 4ull << 20);
}

/*
 * Random aligned allocations: always aligned, never overlapping, and found
 * whenever one fits (fewer live ranges than the exact search walks, so it
 * sees every gap).
 */
static void test_random_aligned(void **state)
{
	enum { PAGES = 96, N = 60 };
	static struct pvdma_iova_node nodes[N];
	static int live[N];
	static unsigned char used[PAGES];
	struct pvdma_iova io;
	int round;

	pvdma_prng_seed(&rng, 11);
	memset(used, 0, sizeof(used));
	memset(live, 0, sizeof(live));
	pvdma_iova_init(&io, 0, PAGES * PAGE, PAGE);
	for (round = 0; round < 50000; round++) {
		int i = pvdma_prng_below(&rng, N);
		u64 p;

		if (live[i]) {
			for (p = nodes[i].start / PAGE; p < nodes[i].end / PAGE; p++)
				used[p] = 0;
			pvdma_iova_free(&io, &nodes[i]);
			live[i] = 0;
		} else {
			u64 pages = 1 + pvdma_prng_below(&rng, 8),
			    align = 1ull << pvdma_prng_below(&rng, 4);
			u64 off = pvdma_prng_below(&rng, align), first = PAGES, q;
			int ret = pvdma_iova_alloc(&io, &nodes[i], pages * PAGE,
						   align * PAGE, off * PAGE);

			for (p = off; p + pages <= PAGES; p += align) {	/* reference */
				for (q = p; q < p + pages && !used[q]; q++)
					;
				if (q == p + pages) {
					first = p;
					break;
				}
			}
			if (ret) {
				assert_int_equal(ret, -ENOSPC);
				assert_int_equal(first, PAGES);
				continue;
			}
			assert_int_equal(nodes[i].start % (align * PAGE), off * PAGE);
			for (p = nodes[i].start / PAGE; p < nodes[i].end / PAGE; p++) {
				assert_int_equal(used[p], 0);
				used[p] = 1;
			}
			live[i] = 1;
		}
	}
}

/* Random alloc/free against a page bitmap: no overlap, first fit. */
static void test_random_against_bitmap(void **state)
{
	enum { PAGES = 512, N = 300 };
	static struct pvdma_iova_node nodes[N];
	static int live[N];
	static unsigned char used[PAGES];
	struct pvdma_iova io;
	int round;

	pvdma_prng_seed(&rng, 7);
	memset(used, 0, sizeof(used));
	pvdma_iova_init(&io, 0, PAGES * PAGE, PAGE);
	for (round = 0; round < 50000; round++) {
		int i = pvdma_prng_below(&rng, N);
		u64 p;

		if (live[i]) {
			for (p = nodes[i].start / PAGE; p < nodes[i].end / PAGE; p++)
				used[p] = 0;
			pvdma_iova_free(&io, &nodes[i]);
			live[i] = 0;
		} else {
			u64 pages = 1 + pvdma_prng_below(&rng, 8), first = PAGES, run = 0;
			int ret = pvdma_iova_alloc(&io, &nodes[i], pages * PAGE, 0, 0);

			for (p = 0; p < PAGES; p++) {	/* reference first fit */
				run = used[p] ? 0 : run + 1;
				if (run == pages) {
					first = p + 1 - pages;
					break;
				}
			}
			if (first == PAGES) {
				assert_int_equal(ret, -ENOSPC);
				continue;
			}
			assert_int_equal(ret, 0);
			assert_int_equal(nodes[i].start, first * PAGE);
			for (p = first; p < first + pages; p++) {
				assert_int_equal(used[p], 0);
				used[p] = 1;
			}
			live[i] = 1;
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_fit_and_reuse),
		cmocka_unit_test(test_alignment_and_offset),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_random_against_bitmap),
		cmocka_unit_test(test_alignment_exact_fit),
		cmocka_unit_test(test_random_aligned),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
