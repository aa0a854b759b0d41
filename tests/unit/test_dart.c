// SPDX-License-Identifier: MIT
/* DART model: limits, host-chosen addresses, exact unmaps, faults, flushes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include <pvdma/dart.h>
#include <pvdma/proto.h>

#define PAGE	PVDMA_DART_PAGE_SIZE
#define RW	(PVDMA_MAP_READ | PVDMA_MAP_WRITE)

static struct pvdma_dart_mapping slots[64];

static void small_dart(struct pvdma_dart *d, u64 aperture, u32 max)
{
	struct pvdma_dart_config cfg;

	pvdma_dart_default_config(&cfg);
	cfg.aperture_bytes = aperture;
	cfg.max_mappings = max;
	assert_int_equal(pvdma_dart_init(d, &cfg, slots, 64), 0);
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

	small_dart(&d, 16 * PAGE, 16);
	for (i = 0; i < 10; i++)
		assert_int_equal(pvdma_dart_map(&d, i * PAGE, PAGE, RW, &bus), 0);
	pvdma_dart_reset(&d);
	assert_int_equal(d.stats.live_mappings, 0);
	assert_int_equal(d.stats.live_bytes, 0);
	assert_int_equal(d.stats.tlb_flushes, 1);
	/* everything is usable again, and addresses start low */
	assert_int_equal(pvdma_dart_map(&d, 0, 16 * PAGE, RW, &bus), 0);
	assert_int_equal(bus, PVDMA_DART_DEFAULT_BUS_BASE);
}

/* Random maps/unmaps: counters agree with a recount, translations hold. */
static void test_random(void **state)
{
	enum { N = 48 };
	struct pvdma_dart d;
	u64 bus[N], len[N], host[N], live = 0;
	int mapped[N] = { 0 }, i, round, count = 0;

	small_dart(&d, 64 * PAGE, 40);
	srand(3);
	for (round = 0; round < 20000; round++) {
		i = rand() % N;
		if (mapped[i]) {
			assert_int_equal(pvdma_dart_unmap(&d, bus[i], len[i]), 0);
			mapped[i] = 0;
			live -= len[i];
			count--;
		} else {
			len[i] = (1 + rand() % 4) * PAGE;
			host[i] = (u64)(rand() % 1000) * PAGE;
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
static struct pvdma_dart_mapping slots2[64];

static void test_map_at_rebuilds(void **state)
{
	enum { N = 40 };
	struct pvdma_dart a, b;
	struct pvdma_dart_config cfg;
	u64 bus[N], len[N], host[N], h, ba, bb;
	int live[N] = { 0 }, i, j;

	small_dart(&a, 256 * PAGE, 64);
	cfg = a.cfg;
	assert_int_equal(pvdma_dart_init(&b, &cfg, slots2, 64), 0);
	srand(11);
	for (i = 0; i < N; i++) {
		len[i] = (1 + rand() % 3) * PAGE;
		host[i] = (u64)(rand() % 500) * PAGE;
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
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_map_at_rebuilds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
