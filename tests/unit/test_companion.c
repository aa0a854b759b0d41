// SPDX-License-Identifier: MIT
/*
 * pvdmad's request path with hostile inputs: ring indices, slot headers,
 * every field of an entry, requests before HELLO and after RESET, limits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include "harness.h"

static int setup(void **state)
{
	struct harness *h = malloc(sizeof(*h));

	if (!h || harness_init(h))
		return -1;
	*state = h;
	return 0;
}

static int teardown(void **state)
{
	harness_fini(*state);
	free(*state);
	return 0;
}

static u64 live_mappings(struct harness *h)
{
	struct pvdma_iommu_stats st = { 0 };

	h->c.iommu->ops->stats(h->c.iommu, &st);
	return st.live_mappings;
}

static void test_header(void **state)
{
	struct harness *h = *state;
	struct pvdma_shm_header *hdr = harness_hdr(h);

	assert_int_equal(hdr->magic, PVDMA_MAGIC);
	assert_int_equal(hdr->version, PVDMA_PROTO_VERSION);
	assert_int_equal(hdr->host_state, PVDMA_HOST_READY);
	assert_int_equal(hdr->ring_offset, COMPANION_RING_OFFSET);
	assert_int_equal(hdr->ring_slots, 4);
	assert_int_equal(hdr->max_batch, 8);
	assert_int_equal(hdr->slot_size, PVDMA_SLOT_SIZE(8));
	assert_int_equal(hdr->iommu_page_size, H_PAGE);
	assert_int_equal(hdr->max_mappings, 16);
	assert_true(PVDMA_IS_POW2(h->shm_size));
	assert_true(hdr->ring_offset + 4 * hdr->slot_size <= h->shm_size);
}

static void test_not_ready_before_hello(void **state)
{
	struct harness *h = *state;
	u64 bus;

	assert_int_equal(harness_map(h, 0, H_PAGE, H_RW, &bus), PVDMA_ST_NOT_READY);
	assert_int_equal(harness_one(h, PVDMA_OP_UNMAP, 0, 0, H_PAGE, H_PAGE, NULL),
			 PVDMA_ST_NOT_READY);
	assert_int_equal(h->c.stats.rejected[PVDMA_ST_NOT_READY], 2);
	assert_int_equal(harness_hello(h), PVDMA_ST_OK);
	assert_int_equal(harness_map(h, 0, H_PAGE, H_RW, &bus), PVDMA_ST_OK);
	assert_true(bus >= h->cfg.iommu.bus_base && bus < h->cfg.iommu.bus_limit);
	assert_int_equal(bus % H_PAGE, 0);
}

static void test_hello_version(void **state)
{
	struct harness *h = *state;
	struct pvdma_shm_header *hdr = harness_hdr(h);

	hdr->guest_version = (PVDMA_PROTO_VERSION_MAJOR + 1) << 16;
	assert_int_equal(harness_one(h, PVDMA_OP_HELLO, 0, 0, 0, 0, NULL),
			 PVDMA_ST_BAD_VERSION);
	hdr->guest_version = PVDMA_PROTO_VERSION;
	hdr->guest_features = 1u << 31;
	assert_int_equal(harness_one(h, PVDMA_OP_HELLO, 0, 0, 0, 0, NULL),
			 PVDMA_ST_BAD_VERSION);
	assert_int_equal(harness_map(h, 0, H_PAGE, H_RW, NULL), PVDMA_ST_NOT_READY);
	/* a newer minor is fine; known features are accepted */
	hdr->guest_version = PVDMA_PROTO_VERSION + 7;
	hdr->guest_features = PVDMA_FEAT_BATCH_UNMAP;
	assert_int_equal(harness_one(h, PVDMA_OP_HELLO, 0, 0, 0, 0, NULL),
			 PVDMA_ST_OK);
	assert_int_equal(h->c.features, PVDMA_FEAT_BATCH_UNMAP);
	/* HELLO with flags is a bad op */
	assert_int_equal(harness_one(h, PVDMA_OP_HELLO, 1, 0, 0, 0, NULL),
			 PVDMA_ST_BAD_OP);
}

static void test_map_fields(void **state)
{
	struct harness *h = *state;

	assert_int_equal(harness_hello(h), PVDMA_ST_OK);
	assert_int_equal(harness_map(h, 4096, H_PAGE, H_RW, NULL), PVDMA_ST_INVALID);
	assert_int_equal(harness_map(h, 0, 100, H_RW, NULL), PVDMA_ST_INVALID);
	assert_int_equal(harness_map(h, 0, 0, H_RW, NULL), PVDMA_ST_INVALID);
	assert_int_equal(harness_map(h, 0, H_PAGE, 0, NULL), PVDMA_ST_BAD_OP);
	assert_int_equal(harness_map(h, 0, H_PAGE, 0x8001, NULL), PVDMA_ST_BAD_OP);
	assert_int_equal(harness_map(h, ~0ull - H_PAGE + 1, 2 * H_PAGE, H_RW, NULL),
			 PVDMA_ST_INVALID);
	/* outside RAM, straddling its end, far above 4 GiB */
	assert_int_equal(harness_map(h, H_RAM_SIZE, H_PAGE, H_RW, NULL),
			 PVDMA_ST_BAD_GPA);
	assert_int_equal(harness_map(h, H_RAM_SIZE - H_PAGE, 2 * H_PAGE, H_RW, NULL),
			 PVDMA_ST_BAD_GPA);
	assert_int_equal(harness_map(h, 1ull << 40, H_PAGE, H_RW, NULL),
			 PVDMA_ST_BAD_GPA);
	assert_int_equal(harness_one(h, 99, 0, 0, H_PAGE, 0, NULL), PVDMA_ST_BAD_OP);
	assert_int_equal(live_mappings(h), 0);
	assert_int_equal(h->c.stats.rejected[PVDMA_ST_BAD_GPA], 3);
}

static void test_unmap(void **state)
{
	struct harness *h = *state;
	u64 bus;

	assert_int_equal(harness_hello(h), PVDMA_ST_OK);
	assert_int_equal(harness_map(h, 2 * H_PAGE, 2 * H_PAGE, H_RW, &bus),
			 PVDMA_ST_OK);
	assert_int_equal(harness_one(h, PVDMA_OP_UNMAP, 0, 0, 2 * H_PAGE,
				     bus + 64 * H_PAGE, NULL), PVDMA_ST_NOT_MAPPED);
	assert_int_equal(harness_one(h, PVDMA_OP_UNMAP, 0, 0, H_PAGE, bus, NULL),
			 PVDMA_ST_PARTIAL);
	assert_int_equal(harness_one(h, PVDMA_OP_UNMAP, 0, 0, 2 * H_PAGE,
				     bus + H_PAGE, NULL), PVDMA_ST_NOT_MAPPED);
	assert_int_equal(harness_one(h, PVDMA_OP_UNMAP, 4, 0, 2 * H_PAGE, bus, NULL),
			 PVDMA_ST_BAD_OP);
	assert_int_equal(harness_one(h, PVDMA_OP_UNMAP, 0, 0, 2 * H_PAGE, bus + 1,
				     NULL), PVDMA_ST_INVALID);
	assert_int_equal(live_mappings(h), 1);
	assert_int_equal(harness_one(h, PVDMA_OP_UNMAP, 0, 0, 2 * H_PAGE, bus, NULL),
			 PVDMA_ST_OK);
	assert_int_equal(harness_one(h, PVDMA_OP_UNMAP, 0, 0, 2 * H_PAGE, bus, NULL),
			 PVDMA_ST_NOT_MAPPED);
	assert_int_equal(live_mappings(h), 0);
}

static void test_limits(void **state)
{
	struct harness *h = *state;
	u64 bus;
	u32 i;

	assert_int_equal(harness_hello(h), PVDMA_ST_OK);
	/* aperture: 64 pages */
	assert_int_equal(harness_map(h, 0, 65 * H_PAGE, H_RW, NULL),
			 PVDMA_ST_NO_APERTURE);
	/* count: 16 mappings */
	for (i = 0; i < 16; i++)
		assert_int_equal(harness_map(h, i * H_PAGE, H_PAGE, H_RW, &bus),
				 PVDMA_ST_OK);
	assert_int_equal(harness_map(h, 0, H_PAGE, H_RW, NULL), PVDMA_ST_NO_MAPPINGS);
	assert_int_equal(live_mappings(h), 16);
	/* RESET drops them all and counts it */
	assert_int_equal(harness_one(h, PVDMA_OP_RESET, 0, 0, 0, 0, NULL),
			 PVDMA_ST_OK);
	assert_int_equal(live_mappings(h), 0);
	assert_int_equal(h->c.stats.released, 16);
	assert_int_equal(harness_map(h, 0, H_PAGE, H_RW, NULL), PVDMA_ST_OK);
	/* a second HELLO starts a fresh session: old mappings go */
	assert_int_equal(harness_hello(h), PVDMA_ST_OK);
	assert_int_equal(live_mappings(h), 0);
}

static void test_batch(void **state)
{
	struct harness *h = *state;
	struct pvdma_host_op ops[8];
	struct pvdma_slot_hdr *slot;
	struct pvdma_iommu_stats st = { 0 };
	u64 flushes;
	u32 i;

	assert_int_equal(harness_hello(h), PVDMA_ST_OK);
	memset(ops, 0, sizeof(ops));
	for (i = 0; i < 8; i++) {
		ops[i].op = PVDMA_OP_MAP;
		ops[i].flags = PVDMA_MAP_READ;
		ops[i].gpa = i * 2 * H_PAGE;
		ops[i].len = H_PAGE;
	}
	ops[3].gpa = 1;		/* one bad entry does not stop the others */
	slot = harness_post(h, ops, 8);
	assert_int_equal(slot->done_seq, slot->seq);
	assert_int_equal(slot->status, PVDMA_ST_OK);
	assert_int_equal(slot->completed, 8);
	for (i = 0; i < 8; i++)
		assert_int_equal(harness_entry(slot, i)->status,
				 i == 3 ? PVDMA_ST_INVALID : PVDMA_ST_OK);
	/* unmap them all in one batch: one TLB flush */
	h->c.iommu->ops->stats(h->c.iommu, &st);
	flushes = st.tlb_flushes;
	for (i = 0; i < 8; i++) {
		ops[i].op = PVDMA_OP_UNMAP;
		ops[i].flags = 0;
		ops[i].bus = harness_entry(slot, i)->bus;
	}
	ops[3].op = PVDMA_OP_NOP;
	ops[3].bus = 0;
	slot = harness_post(h, ops, 8);
	for (i = 0; i < 8; i++)
		assert_int_equal(harness_entry(slot, i)->status, PVDMA_ST_OK);
	h->c.iommu->ops->stats(h->c.iommu, &st);
	assert_int_equal(st.tlb_flushes, flushes + 1);
	assert_int_equal(live_mappings(h), 0);
}

static void test_bad_slot(void **state)
{
	struct harness *h = *state;
	struct pvdma_host_op op = { .op = PVDMA_OP_NOP };
	struct pvdma_shm_header *hdr = harness_hdr(h);
	struct pvdma_slot_hdr *slot;

	slot = harness_post(h, &op, 0);
	assert_int_equal(slot->status, PVDMA_ST_BAD_SLOT);
	assert_int_equal(slot->done_seq, slot->seq);
	assert_int_equal(slot->completed, 0);
	/* count beyond max_batch: the host never reads past the slot */
	slot = harness_slot(h, hdr->sq_tail);
	slot->seq = 1234;
	slot->count = 9;
	hdr->sq_tail++;
	assert_int_equal(companion_process(&h->c), 1);
	assert_int_equal(slot->status, PVDMA_ST_BAD_SLOT);
	slot = harness_slot(h, hdr->sq_tail);
	slot->seq = 1235;
	slot->count = 1;
	slot->flags = 1;
	hdr->sq_tail++;
	companion_process(&h->c);
	assert_int_equal(slot->status, PVDMA_ST_BAD_SLOT);
	assert_int_equal(hdr->sq_head, 3);
	assert_int_equal(h->c.stats.rejected[PVDMA_ST_BAD_SLOT], 3);
}

static void test_bad_tail(void **state)
{
	struct harness *h = *state;
	struct pvdma_shm_header *hdr = harness_hdr(h);

	hdr->sq_tail = 5;		/* 5 ahead, ring of 4 */
	hdr->sq_head = 77;		/* the guest scribbles on host fields too */
	assert_int_equal(companion_process(&h->c), 0);
	assert_int_equal(h->c.stats.bad_tail, 1);
	assert_int_equal(hdr->sq_head, 0);	/* republished */
	hdr->sq_tail = 0xffffffff;	/* behind head */
	assert_int_equal(companion_process(&h->c), 0);
	assert_int_equal(h->c.stats.bad_tail, 2);
	/* resync: tail = head, and the ring works again */
	hdr->sq_tail = hdr->sq_head;
	assert_int_equal(harness_hello(h), PVDMA_ST_OK);
	assert_int_equal(h->c.stats.slots, 1);
}

static void test_index_wrap(void **state)
{
	struct harness *h = *state;
	struct pvdma_shm_header *hdr = harness_hdr(h);
	u32 i;

	h->c.sq_head = 0xfffffffeu;
	hdr->sq_tail = 0xfffffffeu;
	for (i = 0; i < 5; i++)
		assert_int_equal(harness_hello(h), PVDMA_ST_OK);
	assert_int_equal(hdr->sq_head, 3);
	assert_int_equal(h->c.stats.bad_tail, 0);
}

/* The guest's own copy of host fields is not what the host uses. */
static void test_host_fields_private(void **state)
{
	struct harness *h = *state;
	struct pvdma_shm_header *hdr = harness_hdr(h);

	hdr->ring_offset = 0xfffffff0;
	hdr->ring_slots = 0x10000;
	hdr->max_batch = 0xffff;
	hdr->slot_size = 1;
	assert_int_equal(harness_hello(h), PVDMA_ST_OK);
	assert_int_equal(harness_map(h, 0, H_PAGE, H_RW, NULL), PVDMA_ST_OK);
}

/* Random ring contents, seeded: never a crash, never a stray mapping. */
static void test_random_ring(void **state)
{
	struct harness *h = *state;
	u8 *p = h->shm;
	unsigned int seed = 12345;
	u64 i, round;

	for (round = 0; round < 200; round++) {
		for (i = 128; i < h->shm_size; i += 1 + rand_r(&seed) % 64)
			p[i] = (u8)rand_r(&seed);
		if (round % 3 == 0) {
			harness_hdr(h)->guest_version = PVDMA_PROTO_VERSION;
			harness_hdr(h)->guest_features = 0;
		}
		/* mostly a plausible tail, so slots really run */
		if (round % 4)
			harness_hdr(h)->sq_tail = h->c.sq_head + rand_r(&seed) % 5;
		companion_process(&h->c);
	}
	assert_true(live_mappings(h) <= 16);
	assert_true(h->c.stats.slots > 100);
}

static void test_ram_layout(void **state)
{
	struct guest_ram r;
	u64 off;
	u8 dummy;

	assert_int_equal(guest_ram_default_below_4g(GUEST_RAM_Q35, 1ull << 30), 1ull << 30);
	assert_int_equal(guest_ram_default_below_4g(GUEST_RAM_Q35, 0xafffffffull), 0xafffffffull);
	assert_int_equal(guest_ram_default_below_4g(GUEST_RAM_Q35, 0xb0000000ull), 0x80000000ull);
	assert_int_equal(guest_ram_default_below_4g(GUEST_RAM_PC, 0xdfffffffull), 0xdfffffffull);
	assert_int_equal(guest_ram_default_below_4g(GUEST_RAM_PC, 4ull << 30), 0xc0000000ull);

	/* 3 GiB q35: 2 GiB below, 1 GiB from 4 GiB (no byte is touched) */
	assert_int_equal(guest_ram_init_buffer(&r, &dummy, 3ull << 30, GUEST_RAM_Q35, 0), 0);
	assert_int_equal(r.below_4g, 2ull << 30);
	assert_int_equal(r.above_4g, 1ull << 30);
	assert_int_equal(guest_ram_gpa_to_offset(&r, 0x1000, 0x1000, &off), 0);
	assert_int_equal(off, 0x1000);
	assert_int_equal(guest_ram_gpa_to_offset(&r, 4ull << 30, 0x1000, &off), 0);
	assert_int_equal(off, 2ull << 30);
	assert_int_equal(guest_ram_gpa_to_offset(&r, (5ull << 30) - 0x1000, 0x1000, &off), 0);
	assert_int_equal(off, (3ull << 30) - 0x1000);
	/* the hole, straddling into it, beyond the top, wrap-around */
	assert_int_equal(guest_ram_gpa_to_offset(&r, 3ull << 30, 0x1000, &off), -EFAULT);
	assert_int_equal(guest_ram_gpa_to_offset(&r, (2ull << 30) - 0x1000, 0x2000, &off), -EFAULT);
	assert_int_equal(guest_ram_gpa_to_offset(&r, 5ull << 30, 0x1000, &off), -EFAULT);
	assert_int_equal(guest_ram_gpa_to_offset(&r, ~0ull - 10, 0x1000, &off), -EFAULT);
	assert_int_equal(guest_ram_gpa_to_offset(&r, 0, 0, &off), -EINVAL);
	assert_null(guest_ram_ptr(&r, 3ull << 30, 1));
	assert_null(guest_ram_ptr(&r, ~0ull, 2));
	/* override, clamped to RAM */
	assert_int_equal(guest_ram_init_buffer(&r, &dummy, 3ull << 30, GUEST_RAM_Q35, 1ull << 30), 0);
	assert_int_equal(r.above_4g, 2ull << 30);
	assert_int_equal(guest_ram_init_buffer(&r, &dummy, 1ull << 20, GUEST_RAM_Q35, 1ull << 30), 0);
	assert_int_equal(r.below_4g, 1ull << 20);
	assert_int_equal(guest_ram_init_buffer(&r, &dummy, 0, GUEST_RAM_Q35, 0), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_ready_before_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_fields_private, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_ring, setup, teardown),
		cmocka_unit_test(test_ram_layout),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
