// SPDX-License-Identifier: MIT
/* DART model: limits, host-chosen addresses, exact unmaps, faults, flushes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include <pvdma/dart.h>
#include <pvdma/prng.h>
#include <pvdma/proto.h>

/* The one stream of this file's random runs, seeded by each. */
static struct pvdma_prng rng;

#define PAGE	PVDMA_DART_PAGE_SIZE
#define RW	(PVDMA_MAP_READ | PVDMA_MAP_WRITE)

static struct pvdma_dart_mapping records[64];

static void small_dart(struct pvdma_dart *d, u64 aperture, u32 max)
{
	struct pvdma_dart_config cfg;

	pvdma_dart_default_config(&cfg);
	cfg.aperture_bytes = aperture;
	cfg.max_mappings = max;
	assert_int_equal(pvdma_dart_init(d, &cfg, records, 64), 0);
}

static void test_map_translate_unmap(void **state)
{
	struct pvdma_dart d;
	u64 bus, host;

	small_dart(&d, 16 * PAGE, 8);
	assert_int_equal(pvdma_dart_map(&d, 0x100000, 2 * PAGE, RW, &bus), 0);
	assert_true(bus >= PVDMA_DART_DEFAULT_BUS_BASE);
	assert_int_equal(bus % PAGE, 0);
	assert_int_equal(pvdma_dart_translate(&d, bus + 100, 50, PVDMA_MAP_READ,
					      &host), 0);
	assert_int_equal(host, 0x100000 + 100);
	/* the last byte inside, one past it outside */
	assert_int_equal(pvdma_dart_translate(&d, bus, 2 * PAGE, RW, &host), 0);
	assert_int_equal(pvdma_dart_translate(&d, bus, 2 * PAGE + 1, RW, &host),
			 -EFAULT);
	assert_int_equal(d.stats.faults, 1);
	assert_int_equal(pvdma_dart_unmap(&d, bus, PAGE), -ERANGE);
	assert_int_equal(pvdma_dart_unmap(&d, bus + PAGE, PAGE), -ENOENT);
	assert_int_equal(pvdma_dart_unmap(&d, bus, 2 * PAGE), 0);
	assert_int_equal(pvdma_dart_unmap(&d, bus, 2 * PAGE), -ENOENT);
	assert_int_equal(pvdma_dart_translate(&d, bus, 1, RW, &host), -EFAULT);
	assert_int_equal(d.stats.unmap_errors, 3);
	assert_int_equal(d.stats.live_mappings, 0);
	assert_int_equal(d.stats.peak_bytes, 2 * PAGE);
}

static void test_limits(void **state)
{
	struct pvdma_dart d;
	u64 bus[8];

	small_dart(&d, 4 * PAGE, 3);
	assert_int_equal(pvdma_dart_map(&d, 0, 3 * PAGE, RW, &bus[0]), 0);
	assert_int_equal(pvdma_dart_map(&d, 0, 2 * PAGE, RW, &bus[1]), -ENOSPC);
	assert_int_equal(pvdma_dart_map(&d, 0, PAGE, RW, &bus[1]), 0);
	assert_int_equal(pvdma_dart_unmap(&d, bus[0], 3 * PAGE), 0);
	assert_int_equal(pvdma_dart_map(&d, 0, PAGE, RW, &bus[2]), 0);
	assert_int_equal(pvdma_dart_map(&d, 0, PAGE, RW, &bus[3]), 0);
	assert_int_equal(pvdma_dart_map(&d, 0, PAGE, RW, &bus[4]), -EMFILE);
	/* misaligned, zero, bad permissions, wrapping */
	assert_int_equal(pvdma_dart_map(&d, 1, PAGE, RW, &bus[4]), -EINVAL);
	assert_int_equal(pvdma_dart_map(&d, 0, 0, RW, &bus[4]), -EINVAL);
	assert_int_equal(pvdma_dart_map(&d, 0, PAGE, 0, &bus[4]), -EINVAL);
	assert_int_equal(pvdma_dart_map(&d, 0, PAGE, 8, &bus[4]), -EINVAL);
	assert_int_equal(pvdma_dart_map(&d, (u64)-PAGE, 2 * PAGE, RW, &bus[4]),
			 -EINVAL);
	assert_int_equal(d.stats.peak_mappings, 3);
}

static void test_permissions(void **state)
{
	struct pvdma_dart d;
	u64 bus, host;

	small_dart(&d, 4 * PAGE, 4);
	assert_int_equal(pvdma_dart_map(&d, 0, PAGE, PVDMA_MAP_READ, &bus), 0);
	assert_int_equal(pvdma_dart_translate(&d, bus, 8, PVDMA_MAP_READ, &host), 0);
	assert_int_equal(pvdma_dart_translate(&d, bus, 8, PVDMA_MAP_WRITE, &host),
			 -EFAULT);
}

static void test_flush_once_per_batch(void **state)
{
	struct pvdma_dart d;
	u64 a, b;

	small_dart(&d, 8 * PAGE, 8);
	pvdma_dart_flush(&d);
	assert_int_equal(d.stats.tlb_flushes, 0);	/* nothing to flush */
	assert_int_equal(pvdma_dart_map(&d, 0, PAGE, RW, &a), 0);
	assert_int_equal(pvdma_dart_map(&d, 0, PAGE, RW, &b), 0);
	assert_int_equal(pvdma_dart_unmap(&d, a, PAGE), 0);
	assert_int_equal(pvdma_dart_unmap(&d, b, PAGE), 0);
	pvdma_dart_flush(&d);
	assert_int_equal(d.stats.tlb_flushes, 1);
}

static void test_reset(void **state)
{
	struct pvdma_dart d;
	u64 bus;
	int i;

	u64 old[10];

	small_dart(&d, 16 * PAGE, 16);
	for (i = 0; i < 10; i++)
		assert_int_equal(pvdma_dart_map(&d, i * PAGE, PAGE, RW, &old[i]), 0);
	assert_int_equal(pvdma_dart_unmap(&d, old[3], PAGE), 0);
	pvdma_dart_reset(&d);
	assert_int_equal(d.stats.live_mappings, 0);
	assert_int_equal(d.stats.live_bytes, 0);
	assert_int_equal(d.stats.unmap_calls, 10);
	assert_int_equal(d.stats.peak_mappings, 10);
	assert_int_equal(d.stats.tlb_flushes, 1);
	for (i = 0; i < 10; i++) {
		assert_null(pvdma_dart_lookup(&d, old[i]));
		assert_int_equal(pvdma_dart_translate(&d, old[i], PAGE, RW, &bus),
				 -EFAULT);
	}
	/* the table went whole (no walk of the mappings): records are handed
	 * out in order again, none of the old ones on a free list */
	assert_int_equal(d.free_record, 0);
	assert_int_equal(d.fresh_record, 0);
	pvdma_dart_reset(&d);		/* empty: nothing to flush */
	assert_int_equal(d.stats.tlb_flushes, 1);
	/* everything is usable again, and addresses start low: the lowest
	 * one that keeps host 0's 256 KiB alignment */
	assert_int_equal(pvdma_dart_map(&d, 0, 16 * PAGE, RW, &bus), 0);
	assert_int_equal(bus, 16 * PAGE);
}

#define A64K	(64ull << 10)
#define A2M	(2ull << 20)

/* Bus ≡ hint modulo the largest power of two <= len, capped at 2 MiB. */
static void test_alignment_kept(void **state)
{
	struct pvdma_dart d;
	u64 bus;

	small_dart(&d, 64ull << 20, 64);
	/* 4 MiB at 6 MiB + 64 KiB: 2 MiB alignment (the cap) */
	assert_int_equal(pvdma_dart_map(&d, (6ull << 20) + A64K, 4ull << 20, RW, &bus), 0);
	assert_int_equal(bus % A2M, A64K);
	/* 64 KiB at 0x130000: 64 KiB */
	assert_int_equal(pvdma_dart_map(&d, 0x130000, A64K, RW, &bus), 0);
	assert_int_equal(bus % A64K, 0);
	/* 48 KiB at 0x1a4000: 32 KiB (the largest power of two <= 48 KiB) */
	assert_int_equal(pvdma_dart_map(&d, 0x1a4000, 3 * PAGE, RW, &bus), 0);
	assert_int_equal(bus % (32 << 10), 0x1a4000 % (32 << 10));
	/* the hint is the guest-physical address, whatever host_addr is */
	assert_int_equal(pvdma_dart_map_placed(&d, 0x8000, A2M, RW,
					       (1ull << 30) + 0x1c000, &bus), 0);
	assert_int_equal(bus % A2M, 0x1c000);
	/* one page: nothing to keep, nothing counted */
	assert_int_equal(pvdma_dart_map(&d, 0x4000, PAGE, RW, &bus), 0);
	assert_int_equal(d.stats.aligned_maps, 4);
	assert_int_equal(d.stats.align_fallbacks, 0);
}

/* align_max 0 is IOKit's plain lowest fit. */
static void test_alignment_off(void **state)
{
	struct pvdma_dart_config cfg;
	struct pvdma_dart d;
	u64 bus;

	pvdma_dart_default_config(&cfg);
	cfg.align_max = 0;
	cfg.max_mappings = 64;
	assert_int_equal(pvdma_dart_init(&d, &cfg, records, 64), 0);
	assert_int_equal(pvdma_dart_map(&d, A2M + A64K, A2M, RW, &bus), 0);
	assert_int_equal(bus, PVDMA_DART_DEFAULT_BUS_BASE);
	assert_int_equal(d.stats.aligned_maps + d.stats.align_fallbacks, 0);
}

/*
 * A bus space with no 2 MiB-aligned room left: the map still succeeds,
 * keeping the largest alignment that fits, and is counted.
 */
static void test_alignment_fallback(void **state)
{
	struct pvdma_dart_config cfg;
	struct pvdma_dart d;
	u64 bus, hole;

	pvdma_dart_default_config(&cfg);
	cfg.bus_base = PAGE;
	cfg.bus_limit = 4 * A2M;
	cfg.aperture_bytes = 4 * A2M;
	cfg.max_mappings = 64;
	assert_int_equal(pvdma_dart_init(&d, &cfg, records, 64), 0);
	/* one page at each 2 MiB boundary: 2 MiB-aligned room is gone */
	for (hole = A2M; hole < 4 * A2M; hole += A2M)
		assert_int_equal(pvdma_dart_map_at(&d, hole, 0, PAGE, RW), 0);
	/* 1 MiB + 16 KiB wants 1 MiB alignment: no gap holds that anywhere;
	 * 512 KiB is kept instead */
	assert_int_equal(pvdma_dart_map(&d, 0, A2M / 2 + PAGE, RW, &bus), 0);
	assert_true(bus % (A2M / 2) != 0);
	assert_int_equal(bus % (A2M / 4), 0);
	assert_int_equal(d.stats.align_fallbacks, 1);
	assert_int_equal(d.stats.aligned_maps, 0);
	/* a 1 MiB map still finds 1 MiB-aligned room: kept, not counted */
	assert_int_equal(pvdma_dart_map(&d, 0, A2M / 2, RW, &bus), 0);
	assert_int_equal(bus % (A2M / 2), 0);
	assert_int_equal(d.stats.aligned_maps, 1);
	assert_int_equal(d.stats.align_fallbacks, 1);
}

/* Random maps: every bus address keeps its hint's alignment or is counted. */
static void test_alignment_random(void **state)
{
	static struct pvdma_dart_mapping many[4096];
	struct pvdma_dart_config cfg;
	struct pvdma_dart d;
	u64 live[256] = { 0 }, len[256] = { 0 }, kept = 0, maps = 0, wanting = 0;
	int i;

	pvdma_prng_seed(&rng, 7);
	pvdma_dart_default_config(&cfg);
	cfg.aperture_bytes = 256ull << 20;
	cfg.bus_limit = cfg.bus_base + (512ull << 20);
	cfg.max_mappings = 4096;
	assert_int_equal(pvdma_dart_init(&d, &cfg, many, 4096), 0);
	for (i = 0; i < 20000; i++) {
		int k = (int)pvdma_prng_below(&rng, 256);
		u64 bus, l = (u64)(1 + pvdma_prng_below(&rng, 256)) * PAGE;
		u64 hint = pvdma_prng_below(&rng, 65536) * PAGE, a;

		if (live[k]) {
			assert_int_equal(pvdma_dart_unmap(&d, live[k], len[k]), 0);
			live[k] = 0;
			continue;
		}
		if (pvdma_dart_map(&d, hint, l, RW, &bus))
			continue;
		live[k] = bus;
		len[k] = l;
		maps++;
		for (a = A2M; a > l; a >>= 1)
			;
		if (a <= PAGE)
			continue;
		wanting++;
		if ((bus - hint) % a == 0)
			kept++;
	}
	assert_true(maps > 5000);
	assert_int_equal(kept, d.stats.aligned_maps);
	assert_int_equal(wanting, d.stats.aligned_maps + d.stats.align_fallbacks);
}

/* Random maps/unmaps: counters agree with a recount, translations hold. */
static void test_random(void **state)
{
	enum { N = 48 };
	struct pvdma_dart d;
	u64 bus[N], len[N], host[N], live = 0;
	int mapped[N] = { 0 }, i, round, count = 0;

	small_dart(&d, 64 * PAGE, 40);
	pvdma_prng_seed(&rng, 3);
	for (round = 0; round < 20000; round++) {
		i = pvdma_prng_below(&rng, N);
		if (mapped[i]) {
			assert_int_equal(pvdma_dart_unmap(&d, bus[i], len[i]), 0);
			mapped[i] = 0;
			live -= len[i];
			count--;
		} else {
			len[i] = (1 + pvdma_prng_below(&rng, 4)) * PAGE;
			host[i] = pvdma_prng_below(&rng, 1000) * PAGE;
			if (pvdma_dart_map(&d, host[i], len[i], RW, &bus[i]))
				continue;
			mapped[i] = 1;
			live += len[i];
			count++;
		}
		pvdma_dart_flush(&d);
		assert_int_equal(d.stats.live_bytes, live);
		assert_int_equal(d.stats.live_mappings, count);
		assert_true(live <= 64 * PAGE);
		for (int j = 0; j < N; j++) {
			u64 h;

			if (!mapped[j])
				continue;
			assert_int_equal(pvdma_dart_translate(&d, bus[j] + len[j] - 1,
							      1, RW, &h), 0);
			assert_int_equal(h, host[j] + len[j] - 1);
		}
	}
}

/*
 * Re-creating a domain with map_at, in another order, gives the same
 * domain: translations, counters, and the addresses later maps pick (the
 * allocator's gap bookkeeping is the same as if it had mapped them).
 */
static struct pvdma_dart_mapping records2[64];

static void test_map_at_rebuilds(void **state)
{
	enum { N = 40 };
	struct pvdma_dart a, b;
	struct pvdma_dart_config cfg;
	u64 bus[N], len[N], host[N], h, ba, bb;
	int live[N] = { 0 }, i, j;

	small_dart(&a, 256 * PAGE, 64);
	cfg = a.cfg;
	assert_int_equal(pvdma_dart_init(&b, &cfg, records2, 64), 0);
	pvdma_prng_seed(&rng, 11);
	for (i = 0; i < N; i++) {
		len[i] = (1 + pvdma_prng_below(&rng, 3)) * PAGE;
		host[i] = pvdma_prng_below(&rng, 500) * PAGE;
		assert_int_equal(pvdma_dart_map(&a, host[i], len[i], RW, &bus[i]), 0);
		live[i] = 1;
	}
	for (i = 0; i < N; i += 3) {	/* holes of several sizes */
		assert_int_equal(pvdma_dart_unmap(&a, bus[i], len[i]), 0);
		live[i] = 0;
	}
	for (i = N - 1; i >= 0; i--)	/* the other order */
		if (live[i])
			assert_int_equal(pvdma_dart_map_at(&b, bus[i], host[i],
							   len[i], RW), 0);
	assert_int_equal(a.stats.live_mappings, b.stats.live_mappings);
	assert_int_equal(a.stats.live_bytes, b.stats.live_bytes);
	assert_int_equal(pvdma_iova_largest_gap(&a.bus), pvdma_iova_largest_gap(&b.bus));
	for (i = 0; i < N; i++) {
		if (!live[i])
			continue;
		assert_int_equal(pvdma_dart_translate(&b, bus[i] + len[i] - 1, 1,
						      RW, &h), 0);
		assert_int_equal(h, host[i] + len[i] - 1);
		/* taken: the same range, one overlapping page, or inside */
		assert_int_equal(pvdma_dart_map_at(&b, bus[i], 0, PAGE, RW),
				 -EADDRNOTAVAIL);
		assert_int_equal(pvdma_dart_map_at(&b, bus[i] + len[i] - PAGE, 0,
						   2 * PAGE, RW), -EADDRNOTAVAIL);
	}
	for (j = 0; j < 8; j++) {
		u64 l = (1 + j % 3) * PAGE;

		assert_int_equal(pvdma_dart_map(&a, 0, l, RW, &ba), 0);
		assert_int_equal(pvdma_dart_map(&b, 0, l, RW, &bb), 0);
		assert_int_equal(ba, bb);
	}
	/* outside the bus space, misaligned, over the aperture */
	assert_int_equal(pvdma_dart_map_at(&b, 0, 0, PAGE, RW), -EADDRNOTAVAIL);
	assert_int_equal(pvdma_dart_map_at(&b, cfg.bus_limit, 0, PAGE, RW),
			 -EADDRNOTAVAIL);
	assert_int_equal(pvdma_dart_map_at(&b, cfg.bus_limit - PAGE, 0, 300 * PAGE,
					   RW), -ENOSPC);
	assert_int_equal(pvdma_dart_map_at(&b, cfg.bus_limit - PAGE, 1, PAGE, RW),
			 -EINVAL);
	assert_int_equal(pvdma_dart_map_at(&b, cfg.bus_limit - PAGE + 1, 0, PAGE,
					   RW), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_translate_unmap),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_permissions),
		cmocka_unit_test(test_flush_once_per_batch),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_alignment_kept),
		cmocka_unit_test(test_alignment_off),
		cmocka_unit_test(test_alignment_fallback),
		cmocka_unit_test(test_alignment_random),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_map_at_rebuilds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
