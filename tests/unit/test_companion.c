// SPDX-License-Identifier: MIT
/*
 * pvdmad's request path with hostile inputs: ring indices, slot headers,
 * every field of an entry, requests before HELLO and after RESET, limits.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pvdma/dart.h>
#include <pvdma/prng.h>

#include "harness.h"
#include "race_iommu.h"
#include "host/log.h"

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

/* PVDMA_OP_TRIM: a partial unmap, hostile fields refused. */
static void test_trim(void **state)
{
	struct harness *h = *state;
	u64 bus;

	assert_int_equal(harness_one(h, PVDMA_OP_TRIM, 0, 0, H_PAGE, H_PAGE,
				     NULL), PVDMA_ST_NOT_READY);
	assert_int_equal(harness_hello(h), PVDMA_ST_OK);
	assert_true(pvdma_le32(harness_hdr(h)->host_features) &
		    PVDMA_FEAT_TRIM);
	assert_int_equal(harness_map(h, 2 * H_PAGE, 8 * H_PAGE, H_RW, &bus),
			 PVDMA_ST_OK);
	/* nothing mapped there; past the end; all of it; bad fields */
	assert_int_equal(harness_one(h, PVDMA_OP_TRIM, 0, 0, H_PAGE,
				     bus + 64 * H_PAGE, NULL), PVDMA_ST_NOT_MAPPED);
	assert_int_equal(harness_one(h, PVDMA_OP_TRIM, 0, 0, 2 * H_PAGE,
				     bus + 7 * H_PAGE, NULL), PVDMA_ST_PARTIAL);
	assert_int_equal(harness_one(h, PVDMA_OP_TRIM, 0, 0, 8 * H_PAGE, bus,
				     NULL), PVDMA_ST_PARTIAL);
	assert_int_equal(harness_one(h, PVDMA_OP_TRIM, 2, 0, H_PAGE, bus, NULL),
			 PVDMA_ST_BAD_OP);
	assert_int_equal(harness_one(h, PVDMA_OP_TRIM, 0, 0, 0, bus, NULL),
			 PVDMA_ST_INVALID);
	assert_int_equal(harness_one(h, PVDMA_OP_TRIM, 0, 0, H_PAGE, bus + 1,
				     NULL), PVDMA_ST_INVALID);
	assert_int_equal(harness_one(h, PVDMA_OP_TRIM, 0, 0, 2 * H_PAGE,
				     ~0ull - H_PAGE + 1, NULL), PVDMA_ST_INVALID);
	assert_int_equal(live_mappings(h), 1);
	/* the head, then a hole: three pieces' worth in two mappings */
	assert_int_equal(harness_one(h, PVDMA_OP_TRIM, 0, 0, H_PAGE, bus, NULL),
			 PVDMA_ST_OK);
	assert_int_equal(harness_one(h, PVDMA_OP_TRIM, 0, 0, 2 * H_PAGE,
				     bus + 3 * H_PAGE, NULL), PVDMA_ST_OK);
	assert_int_equal(live_mappings(h), 2);
	/* each piece is a mapping of its own: unmapped whole, not as one */
	assert_int_equal(harness_one(h, PVDMA_OP_UNMAP, 0, 0, 7 * H_PAGE,
				     bus + H_PAGE, NULL), PVDMA_ST_PARTIAL);
	assert_int_equal(harness_one(h, PVDMA_OP_UNMAP, 0, 0, 2 * H_PAGE,
				     bus + H_PAGE, NULL), PVDMA_ST_OK);
	assert_int_equal(harness_one(h, PVDMA_OP_UNMAP, 0, 0, 3 * H_PAGE,
				     bus + 5 * H_PAGE, NULL), PVDMA_ST_OK);
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
	struct pvdma_request ops[8];
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
	struct pvdma_request op = { .op = PVDMA_OP_NOP };
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
	/* seq 0: its completion could not be told from "not done yet" */
	slot = harness_slot(h, hdr->sq_tail);
	slot->seq = 0;
	slot->count = 1;
	slot->flags = 0;
	hdr->sq_tail++;
	companion_process(&h->c);
	assert_int_equal(slot->status, PVDMA_ST_BAD_SLOT);
	assert_int_equal(h->c.stats.rejected[PVDMA_ST_BAD_SLOT], 4);
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
	assert_int_equal(hdr->ring_errors, 1);	/* and the guest can tell */
	hdr->sq_tail = 0xffffffff;	/* behind head */
	assert_int_equal(companion_process(&h->c), 0);
	assert_int_equal(h->c.stats.bad_tail, 2);
	assert_int_equal(hdr->ring_errors, 2);
	/* resync: tail = head, and the ring works again */
	hdr->sq_tail = hdr->sq_head;
	assert_int_equal(harness_hello(h), PVDMA_ST_OK);
	assert_int_equal(h->c.stats.slots, 1);
}

/*
 * A slice stops once its budget is spent (a slot's entries plus one for
 * itself), always after a whole slot, and what is left runs next time:
 * one doorbell's ring never has to run in one go.
 */
static void test_process_slice(void **state)
{
	struct harness *h = *state;
	struct pvdma_shm_header *hdr = harness_hdr(h);
	struct pvdma_request ops[8];
	bool more;
	u32 i;

	assert_int_equal(harness_hello(h), PVDMA_ST_OK);
	memset(ops, 0, sizeof(ops));
	for (i = 0; i < 8; i++)
		ops[i].op = PVDMA_OP_RESET;
	for (i = 0; i < 4; i++) {	/* the whole ring: 4 slots of 8 */
		producer_write_slot(harness_slot(h, hdr->sq_tail), ops, 8, ++h->seq);
		producer_publish(&hdr->sq_tail, hdr->sq_tail + 1);
	}
	/* 9 per slot, entries counted one by one: a budget of 18 runs two
	 * slots, of 9 one, of 1 one entry of the next (a slice stops inside
	 * a slot), and 8 the rest of it */
	assert_int_equal(companion_process_slice(&h->c, 18, &more), 2);
	assert_true(more);
	assert_int_equal(hdr->sq_head, 3);
	assert_int_equal(companion_process_slice(&h->c, 9, &more), 1);
	assert_true(more);
	assert_int_equal(companion_process_slice(&h->c, 1, &more), 0);
	assert_true(more);
	assert_int_equal(hdr->sq_head, 4);
	assert_int_equal(companion_process_slice(&h->c, 8, &more), 1);
	assert_true(more);	/* spent as it finished: the next slice sees */
	assert_int_equal(companion_process_slice(&h->c, 10, &more), 0);
	assert_false(more);
	assert_int_equal(hdr->sq_head, 5);
	assert_int_equal(harness_slot(h, 4)->done_seq, h->seq);
	assert_int_equal(harness_slot(h, 4)->completed, 8);
	/* a bad slot is charged too: one for itself */
	for (i = 0; i < 2; i++) {
		producer_write_slot(harness_slot(h, hdr->sq_tail), ops, 0, ++h->seq);
		producer_publish(&hdr->sq_tail, hdr->sq_tail + 1);
	}
	assert_int_equal(companion_process_slice(&h->c, 1, &more), 1);
	assert_true(more);
	assert_int_equal(companion_process_slice(&h->c, 1, &more), 1);
	assert_false(more);
	assert_int_equal(h->c.stats.rejected[PVDMA_ST_BAD_SLOT], 2);
}

/*
 * A slot split across slices runs what was snapshotted when it was taken:
 * the guest rewriting its header, its entries and sq_tail between the
 * pieces changes nothing; each entry's status is written once, and the
 * completion (done_seq, completed, sq_head) once, after the last entry.
 */
static void test_slot_split(void **state)
{
	struct harness *h = *state;
	struct pvdma_shm_header *hdr = harness_hdr(h);
	struct pvdma_request ops[8] = {
		{ .op = PVDMA_OP_NOP }, { .op = PVDMA_OP_RESET }, { .op = 77 },
		{ .op = PVDMA_OP_NOP }, { .op = PVDMA_OP_RESET }, { .op = 77 },
		{ .op = PVDMA_OP_NOP }, { .op = PVDMA_OP_RESET },
	};
	struct pvdma_request nops[8] = { { .op = PVDMA_OP_NOP } };
	struct pvdma_slot_hdr *slot;
	u64 slots, resets;
	u32 head, seq, i;
	bool more;

	assert_int_equal(harness_hello(h), PVDMA_ST_OK);
	head = hdr->sq_head;
	slots = h->c.stats.slots;
	resets = h->c.stats.resets;
	slot = harness_slot(h, hdr->sq_tail);
	memset(slot, 0, PVDMA_SLOT_SIZE(h->cfg.max_batch));
	seq = ++h->seq;
	producer_write_slot(slot, ops, 8, seq);
	for (i = 0; i < 8; i++)
		harness_entry(slot, i)->status = 0xdead;
	producer_publish(&hdr->sq_tail, hdr->sq_tail + 1);

	assert_int_equal(companion_process_slice(&h->c, 3, &more), 0);
	assert_true(more);
	assert_int_equal(hdr->sq_head, head);
	assert_int_equal(slot->done_seq, 0);
	assert_int_equal(h->c.stats.slots, slots);
	for (i = 0; i < 8; i++)
		assert_int_equal(harness_entry(slot, i)->status,
				 i < 3 ? (i == 2 ? PVDMA_ST_BAD_OP : PVDMA_ST_OK)
				       : 0xdead);
	/* the guest rewrites the slot (one NOP, another seq, a bad flag)
	 * and takes it back from sq_tail: it was taken already */
	producer_write_slot(slot, nops, 1, seq + 100);
	slot->flags = 1;
	for (i = 0; i < 8; i++)
		harness_entry(slot, i)->status = 0xbeef;
	producer_publish(&hdr->sq_tail, head);
	assert_int_equal(companion_process_slice(&h->c, 3, &more), 0);
	assert_true(more);
	assert_int_equal(slot->done_seq, 0);
	assert_int_equal(companion_process_slice(&h->c, 100, &more), 1);
	assert_false(more);
	assert_int_equal(hdr->sq_head, head + 1);
	assert_int_equal(slot->done_seq, seq);
	assert_int_equal(slot->completed, 8);
	assert_int_equal(slot->status, PVDMA_ST_OK);
	for (i = 0; i < 8; i++)
		assert_int_equal(harness_entry(slot, i)->status,
				 i < 3 ? 0xbeef :
				 i == 5 ? PVDMA_ST_BAD_OP : PVDMA_ST_OK);
	assert_int_equal(h->c.stats.slots, slots + 1);
	assert_int_equal(h->c.stats.resets, resets + 3);
	/* the guest's sq_tail, behind the host's head once the slot was
	 * done, was an impossible one (counted by the slice that finished
	 * it): ignored until the guest takes the head back */
	assert_int_equal(h->c.stats.bad_tail, 1);
	producer_publish(&hdr->sq_tail, head + 1);
	assert_int_equal(harness_one(h, PVDMA_OP_NOP, 0, 0, 0, 0, NULL), PVDMA_ST_OK);
	assert_int_equal(hdr->sq_head, head + 2);
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
	struct pvdma_prng rng = { 12345 };
	u64 i, round;

	for (round = 0; round < 200; round++) {
		for (i = 128; i < h->shm_size; i += 1 + pvdma_prng_below(&rng, 64))
			p[i] = (u8)pvdma_prng_next(&rng);
		if (round % 3 == 0) {
			harness_hdr(h)->guest_version = PVDMA_PROTO_VERSION;
			harness_hdr(h)->guest_features = 0;
		}
		/* mostly a plausible tail, so slots really run */
		if (round % 4)
			harness_hdr(h)->sq_tail = h->c.sq_head +
						  (u32)pvdma_prng_below(&rng, 5);
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
	assert_int_equal(r.nblocks, 2);
	assert_int_equal(r.blocks[0].len, 2ull << 30);
	assert_int_equal(r.blocks[1].gpa, GUEST_RAM_4G);
	assert_int_equal(r.blocks[1].len, 1ull << 30);
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
	assert_int_equal(r.blocks[1].len, 2ull << 30);
	assert_int_equal(guest_ram_init_buffer(&r, &dummy, 1ull << 20, GUEST_RAM_Q35, 1ull << 30), 0);
	assert_int_equal(r.nblocks, 1);
	assert_int_equal(r.blocks[0].len, 1ull << 20);
	assert_int_equal(guest_ram_init_buffer(&r, &dummy, 0, GUEST_RAM_Q35, 0), -EINVAL);
}

/* -machine virt: one block from 1 GiB, no hole; nothing below 1 GiB. */
static void test_ram_layout_virt(void **state)
{
	struct guest_ram r;
	u64 off, g1 = 1ull << 30;
	u8 dummy;

	assert_int_equal(guest_ram_machine_parse("virt"), GUEST_RAM_VIRT);
	assert_int_equal(guest_ram_machine_parse("q35"), GUEST_RAM_Q35);
	assert_int_equal(guest_ram_machine_parse("virt-9.0"), -1);
	assert_string_equal(guest_ram_machine_name(GUEST_RAM_VIRT), "virt");
	/* 6 GiB: one block [1 GiB, 7 GiB), across 4 GiB without a hole */
	assert_int_equal(guest_ram_init_buffer(&r, &dummy, 6ull << 30, GUEST_RAM_VIRT, 0), 0);
	assert_int_equal(r.nblocks, 1);
	assert_int_equal(r.blocks[0].gpa, g1);
	assert_int_equal(guest_ram_gpa_to_offset(&r, g1, 0x1000, &off), 0);
	assert_int_equal(off, 0);
	assert_int_equal(guest_ram_gpa_to_offset(&r, GUEST_RAM_4G - 0x1000, 0x2000, &off), 0);
	assert_int_equal(off, GUEST_RAM_4G - 0x1000 - g1);
	assert_int_equal(guest_ram_gpa_to_offset(&r, (7ull << 30) - 0x1000, 0x1000, &off), 0);
	assert_int_equal(off, (6ull << 30) - 0x1000);
	/* below 1 GiB (flash, GIC, PCIe MMIO), straddling in, beyond the top */
	assert_int_equal(guest_ram_gpa_to_offset(&r, 0, 0x1000, &off), -EFAULT);
	assert_int_equal(guest_ram_gpa_to_offset(&r, 0x1000000, 0x1000, &off), -EFAULT);
	assert_int_equal(guest_ram_gpa_to_offset(&r, g1 - 0x1000, 0x2000, &off), -EFAULT);
	assert_int_equal(guest_ram_gpa_to_offset(&r, 7ull << 30, 0x1000, &off), -EFAULT);
	/* x86 split options do not apply to virt */
	assert_int_equal(guest_ram_init_buffer(&r, &dummy, 6ull << 30, GUEST_RAM_VIRT, 1ull << 30), -EINVAL);
	assert_int_equal(guest_ram_init_buffer(&r, &dummy, 1ull << 30, GUEST_RAM_MACHINES, 0), -EINVAL);
}

/*
 * The bus address keeps the guest-physical address's alignment, not the
 * file offset's: here RAM above 4 GiB starts at file offset 1 MiB + 16 KiB.
 */
static void test_map_keeps_gpa_alignment(void **state)
{
	struct harness *h = *state;
	u64 bus, high = GUEST_RAM_4G, len = 64 * 1024;

	pvdma_iommu_destroy(h->c.iommu);
	h->cfg.iommu.align_max = 2ull << 20;
	h->c.iommu = pvdma_iommu_dart_create(&h->cfg.iommu);
	assert_non_null(h->c.iommu);
	assert_int_equal(guest_ram_init_buffer(&h->c.ram, h->ram, H_RAM_SIZE,
					       GUEST_RAM_Q35, (1 << 20) + H_PAGE), 0);
	assert_int_equal(harness_hello(h), PVDMA_ST_OK);
	assert_int_equal(harness_map(h, high, len, H_RW, &bus), PVDMA_ST_OK);
	assert_int_equal(bus % len, 0);
	assert_int_equal(harness_map(h, high + 2 * len + H_PAGE * 2, 2 * H_PAGE,
				     H_RW, &bus), PVDMA_ST_OK);
	assert_int_equal(bus % (2 * H_PAGE), 0);
	assert_int_equal(harness_map(h, 3 * H_PAGE, 2 * H_PAGE, H_RW, &bus),
			 PVDMA_ST_OK);
	assert_int_equal(bus % (2 * H_PAGE), H_PAGE);
}

/* QEMU's command line (NUL-separated, as /proc/PID/cmdline) against ours. */
static int qemu_check(const struct guest_ram_config *cfg, u64 file_size,
		      const char *args, size_t len, char *why)
{
	why[0] = 0;
	return guest_ram_check_qemu_args(cfg, file_size, args, len, why, 256);
}

#define ARGS(s)	s, sizeof(s)

static void test_qemu_args(void **state)
{
	struct guest_ram_config q35 = { .machine = GUEST_RAM_Q35 };
	struct guest_ram_config virt = { .machine = GUEST_RAM_VIRT };
	struct guest_ram_config split = { .machine = GUEST_RAM_Q35,
					  .below_4g = 256ull << 20 };
	u64 m512 = 512ull << 20;
	char why[256];

	/* the same layout */
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu-system-x86_64\0-machine\0q35,memory-backend=ram\0-m\0" "512M"), why), 0);
	assert_int_equal(qemu_check(&virt, m512, ARGS("qemu-system-aarch64\0-M\0virt,memory-backend=ram\0-m\0" "512"), why), 0);
	/* small RAM lies below 4 GiB on pc and q35 alike */
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-machine\0type=pc-i440fx-7.2\0-m\0size=512M"), why), 0);
	/* another machine's layout: named both ways */
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-M\0virt\0-m\0" "512M"), why), -EINVAL);
	assert_non_null(strstr(why, "-machine virt: [0x40000000, 0x60000000)"));
	assert_non_null(strstr(why, "-machine q35: [0, 0x20000000)"));
	assert_int_equal(qemu_check(&virt, m512, ARGS("qemu\0-machine\0type=pc-q35-7.2\0-m\0" "512M"), why), -EINVAL);
	/* QEMU's max-ram-below-4g against --ram-below-4g */
	assert_int_equal(qemu_check(&split, m512, ARGS("qemu\0-machine\0q35,max-ram-below-4g=256M\0-m\0" "512M"), why), 0);
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-machine\0q35,max-ram-below-4g=256M\0-m\0" "512M"), why), -EINVAL);
	assert_non_null(strstr(why, "[0x100000000, 0x110000000)"));
	assert_int_equal(qemu_check(&split, m512, ARGS("qemu\0-machine\0q35\0-m\0" "512M"), why), -EINVAL);
	/* -m against the RAM file and --ram-size */
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-m\0size=1G,slots=2,maxmem=4G"), why), -EINVAL);
	assert_non_null(strstr(why, "-m 1073741824"));
	assert_non_null(strstr(why, "536870912"));
	virt.size = 256ull << 20;
	assert_int_equal(qemu_check(&virt, 0, ARGS("qemu\0-M\0virt\0-m\0" "512M"), why), -EINVAL);
	assert_non_null(strstr(why, "--ram-size 268435456"));
	virt.size = 0;
	/* what it does not name passes: no machine, an unknown one, no size */
	assert_int_equal(qemu_check(&virt, m512, ARGS("qemu-system-x86_64\0-m\0" "512M"), why), 0);
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-M\0microvm\0-m\0" "512M"), why), 0);
	assert_int_equal(qemu_check(&q35, 0, ARGS("qemu\0-M\0virt"), why), 0);
	/* malformed: cut short, an option with no value, bad sizes */
	assert_int_equal(qemu_check(&q35, m512, "qemu\0-M\0vi", 11, why), 0);
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-m"), why), 0);
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-m\0" "512Q\0-m\0" "99999999999999999999G"), why), 0);
	assert_int_equal(qemu_check(&q35, m512, "", 0, why), 0);
}

/*
 * The spellings QEMU accepts for the same layout (system/vl.c): one extra
 * leading dash, key=value lists with an implied first key, ",," escapes,
 * size suffixes in either case, the last setting winning, RAM sized by
 * its memory backend, and options whose values look like options.
 */
static void test_qemu_args_spellings(void **state)
{
	struct guest_ram_config q35 = { .machine = GUEST_RAM_Q35 };
	struct guest_ram_config virt = { .machine = GUEST_RAM_VIRT };
	struct guest_ram_config split = { .machine = GUEST_RAM_Q35,
					  .below_4g = 256ull << 20 };
	u64 m512 = 512ull << 20, g4 = 4ull << 30;
	char why[256];

	/* "--opt" is "-opt"; two extra dashes is not an option QEMU knows */
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0--M\0virt"), why), -EINVAL);
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0--machine\0type=virt"), why), -EINVAL);
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0--m\0" "1G"), why), -EINVAL);
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0---M\0virt"), why), 0);
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0--\0-M\0virt"), why), -EINVAL);
	/* the implied key, other keys beside it, versioned names */
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-machine\0type=q35,accel=tcg\0-m\0" "512M"), why), 0);
	assert_string_equal(why, "");
	assert_int_equal(qemu_check(&virt, m512, ARGS("qemu\0-machine\0q35,accel=tcg"), why), -EINVAL);
	assert_int_equal(qemu_check(&virt, m512, ARGS("qemu\0-M\0pc-q35-9.2"), why), -EINVAL);
	assert_int_equal(qemu_check(&virt, m512, ARGS("qemu\0-M\0accel=kvm,type=virt-9.2"), why), 0);
	/* -m: MiB without a suffix, suffixes in either case, size= */
	assert_int_equal(qemu_check(&q35, g4, ARGS("qemu\0-M\0q35\0-m\0" "4096"), why), 0);
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-m\0" "4096"), why), -EINVAL);
	assert_non_null(strstr(why, "-m 4294967296"));
	assert_int_equal(qemu_check(&q35, g4, ARGS("qemu\0-m\0size=4G,slots=2,maxmem=8G"), why), 0);
	assert_int_equal(qemu_check(&q35, g4, ARGS("qemu\0-m\0slots=2,size=4g"), why), 0);
	assert_int_equal(qemu_check(&q35, g4, ARGS("qemu\0-m\0" "4194304k"), why), 0);
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-m\0" "1p"), why), -EINVAL);
	assert_non_null(strstr(why, "-m 1125899906842624"));
	/* QEMU keeps RAM in 8 KiB units */
	assert_int_equal(qemu_check(&q35, 8192, ARGS("qemu\0-m\0" "5k"), why), 0);
	/* a size QEMU takes but pvdmad does not read: said, not guessed */
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-M\0q35\0-m\0" "0.5G"), why), 0);
	assert_non_null(strstr(why, "-m 0.5G not understood"));
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-M\0q35\0-m\0" "0x20000000\0-machine\0memory.size=1G"), why), 0);
	assert_non_null(strstr(why, "-m 0x20000000 not understood"));
	assert_int_equal(qemu_check(&split, m512, ARGS("qemu\0-machine\0q35,max-ram-below-4g=0x10000000\0-m\0" "512M"), why), 0);
	assert_non_null(strstr(why, "max-ram-below-4g not understood"));
	assert_int_equal(qemu_check(&virt, m512, ARGS("qemu\0-machine\0q35,max-ram-below-4g=0x10000000\0-m\0" "512M"), why), -EINVAL);
	/* the last setting wins, key by key */
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-m\0" "1G\0-m\0" "512M"), why), 0);
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-m\0" "512M\0-m\0" "1G"), why), -EINVAL);
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-m\0" "1G\0-m\0slots=2"), why), -EINVAL);
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-M\0virt\0-M\0q35"), why), 0);
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-M\0q35\0-M\0virt"), why), -EINVAL);
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-M\0virt\0-M\0accel=tcg"), why), -EINVAL);
	/* -m over -machine memory.size, which counts without it */
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-machine\0q35,memory.size=1G"), why), -EINVAL);
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-machine\0q35,memory.size=1G\0-m\0" "512"), why), 0);
	/* RAM sized by the memory backend -machine names (",," a comma) */
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-machine\0q35,memory-backend=mem\0-object\0memory-backend-file,id=mem,size=1G,mem-path=/dev/shm/r"), why), -EINVAL);
	assert_non_null(strstr(why, "-m 1073741824"));
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-object\0memory-backend-memfd,id=a,,b,size=512M\0-object\0memory-backend-ram,id=a,size=1G\0-machine\0q35,memory-backend=a,,b"), why), 0);
	assert_string_equal(why, "");
	assert_int_equal(qemu_check(&q35, 0, ARGS("qemu\0-machine\0q35,memory-backend=m\0-m\0" "512M\0-object\0memory-backend-ram,id=m,size=1G"), why), -EINVAL);
	assert_non_null(strstr(why, "memory-backend m"));
	/* one not on the command line (JSON, -readconfig): its size unknown */
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-machine\0q35,memory-backend=m\0-object\0{\"qom-type\":\"memory-backend-ram\",\"id\":\"m\",\"size\":1073741824}"), why), 0);
	assert_non_null(strstr(why, "the size of memory-backend m"));
	/* as libvirt writes it: the backend as JSON, -m holding it to its size */
	assert_int_equal(qemu_check(&q35, m512, ARGS("/usr/bin/qemu-system-x86_64\0-name\0guest=vm0,debug-threads=on\0-S\0-machine\0pc-q35-8.2,usb=off,dump-guest-core=off,memory-backend=pc.ram\0-accel\0kvm\0-m\0size=524288k\0-object\0{\"qom-type\":\"memory-backend-file\",\"id\":\"pc.ram\",\"size\":536870912}\0-overcommit\0mem-lock=off\0-no-user-config\0-nodefaults\0-no-shutdown\0-boot\0strict=on"), why), 0);
	assert_string_equal(why, "");
	assert_int_equal(qemu_check(&virt, m512, ARGS("/usr/bin/qemu-system-x86_64\0-name\0guest=vm0,debug-threads=on\0-S\0-machine\0pc-q35-8.2,usb=off,dump-guest-core=off,memory-backend=pc.ram\0-accel\0kvm\0-m\0size=524288k\0-object\0{\"qom-type\":\"memory-backend-file\",\"id\":\"pc.ram\",\"size\":536870912}\0-overcommit\0mem-lock=off\0-no-user-config\0-nodefaults\0-no-shutdown\0-boot\0strict=on"), why), -EINVAL);
	/* a value is a value, whatever it looks like; a disk image has none;
	 * a flag takes none */
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-append\0-M\0virt"), why), 0);
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-name\0-m\0" "2G"), why), 0);
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0disk.img\0-M\0virt"), why), -EINVAL);
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-nographic\0-M\0virt"), why), -EINVAL);
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0--enable-kvm\0-m\0" "1G"), why), -EINVAL);
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-accel\0tcg\0-M\0virt"), why), -EINVAL);
	/* -readconfig: what comes after it is sure; what it may override is
	 * said; what was read before it and contradicts is still refused */
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-readconfig\0vm.cfg\0-M\0virt"), why), -EINVAL);
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-M\0virt\0-readconfig\0vm.cfg"), why), -EINVAL);
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-M\0q35\0-m\0" "512M\0-readconfig\0vm.cfg"), why), 0);
	assert_non_null(strstr(why, "-readconfig may set type"));
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-readconfig\0vm.cfg\0-machine\0q35,max-ram-below-4g=4G,memory-backend=m\0-m\0" "512M\0-object\0memory-backend-ram,id=m,size=512M"), why), 0);
	assert_string_equal(why, "");
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-readconfig\0vm.cfg\0-M\0q35\0-m\0" "512M"), why), 0);
	assert_non_null(strstr(why, "-readconfig may set max-ram-below-4g memory-backend"));
	assert_null(strstr(why, "memory.size"));
	/* cut short (pvdmad reads 64 KiB): the rest could say anything */
	assert_int_equal(qemu_check(&q35, m512, "qemu\0-M\0q35\0-m\0" "51", 17, why), 0);
	assert_non_null(strstr(why, "the unread rest of the command line may set"));
	/* no machine named: QEMU's default is not pvdmad's to guess */
	assert_int_equal(qemu_check(&q35, m512, ARGS("qemu\0-m\0" "512M"), why), 0);
	assert_non_null(strstr(why, "no -machine type"));
}

/* A RAM file that does not match the layout is refused, naming both. */
static void test_ram_open_mismatch(void **state)
{
	char path[] = "/tmp/pvdma-test-ram.XXXXXX";
	struct guest_ram_config cfg = { .path = path, .machine = GUEST_RAM_VIRT };
	struct guest_ram r;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 64ull << 20), 0);
	/* the size QEMU was told differs from the file's */
	cfg.size = 128ull << 20;
	assert_int_equal(guest_ram_open(&r, &cfg), -EINVAL);
	assert_non_null(strstr(guest_ram_strerror(&r, -EINVAL), "67108864 bytes"));
	assert_non_null(strstr(guest_ram_strerror(&r, -EINVAL), "-m 134217728"));
	assert_non_null(strstr(guest_ram_strerror(&r, -EINVAL), "-machine virt"));
	/* a below-4G split on a machine without one */
	cfg.size = 0;
	cfg.below_4g = 32ull << 20;
	assert_int_equal(guest_ram_open(&r, &cfg), -EINVAL);
	assert_non_null(strstr(guest_ram_strerror(&r, -EINVAL), "--ram-below-4g"));
	/* not whole pages */
	cfg.below_4g = 0;
	assert_int_equal(ftruncate(fd, (64ull << 20) + 100), 0);
	assert_int_equal(guest_ram_open(&r, &cfg), -EINVAL);
	assert_non_null(strstr(guest_ram_strerror(&r, -EINVAL), "4 KiB pages"));
	/* matching: mapped, and no message left */
	assert_int_equal(ftruncate(fd, 64ull << 20), 0);
	cfg.size = 64ull << 20;
	assert_int_equal(guest_ram_open(&r, &cfg), 0);
	assert_int_equal(r.blocks[0].gpa, 1ull << 30);
	assert_string_equal(r.why, "");
	guest_ram_close(&r);
	/* a missing file: the errno's text */
	unlink(path);
	assert_int_equal(guest_ram_open(&r, &cfg), -ENOENT);
	assert_string_equal(guest_ram_strerror(&r, -ENOENT), strerror(ENOENT));
	close(fd);
}

/*
 * q35 with SMM firmware (--tseg): every SMRAM window is refused, not TSEG
 * alone: the default SMBASE window [0x30000, 0x50000) too (OVMF locks it
 * for CPU hotplug; QEMU then hides it from devices). Without --tseg both
 * are RAM, as SeaBIOS leaves them.
 */
static void test_ram_smram_hidden(void **state)
{
	char path[] = "/tmp/pvdma-test-ram.XXXXXX";
	struct guest_ram_config cfg = { .path = path, .machine = GUEST_RAM_Q35,
					.tseg = 1ull << 20 };
	struct guest_ram r;
	int fd = mkstemp(path);
	u64 off;

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 64ull << 20), 0);
	assert_int_equal(guest_ram_open(&r, &cfg), 0);
	/* TSEG, the top MiB of low RAM */
	assert_int_equal(guest_ram_gpa_to_offset(&r, 63ull << 20, 0x1000, &off), -EFAULT);
	assert_int_equal(guest_ram_gpa_to_offset(&r, (63ull << 20) - 0x1000, 0x1000, &off), 0);
	/* the SMBASE window: its first and last page, a range running into
	 * it, one running out of it, one over it whole */
	assert_int_equal(guest_ram_gpa_to_offset(&r, 0x30000, 0x1000, &off), -EFAULT);
	assert_int_equal(guest_ram_gpa_to_offset(&r, 0x4f000, 0x1000, &off), -EFAULT);
	assert_int_equal(guest_ram_gpa_to_offset(&r, 0x2f000, 0x2000, &off), -EFAULT);
	assert_int_equal(guest_ram_gpa_to_offset(&r, 0x4f000, 0x2000, &off), -EFAULT);
	assert_int_equal(guest_ram_gpa_to_offset(&r, 0x10000, 0x80000, &off), -EFAULT);
	/* RAM on either side still maps */
	assert_int_equal(guest_ram_gpa_to_offset(&r, 0x2f000, 0x1000, &off), 0);
	assert_int_equal(off, 0x2f000);
	assert_int_equal(guest_ram_gpa_to_offset(&r, 0x50000, 0x1000, &off), 0);
	guest_ram_close(&r);
	/* no SMM firmware: ordinary RAM (the VGA window stays hidden) */
	cfg.tseg = 0;
	assert_int_equal(guest_ram_open(&r, &cfg), 0);
	assert_int_equal(guest_ram_gpa_to_offset(&r, 0x30000, 0x1000, &off), 0);
	assert_int_equal(guest_ram_gpa_to_offset(&r, 63ull << 20, 0x1000, &off), 0);
	assert_int_equal(guest_ram_gpa_to_offset(&r, 0xa0000, 0x1000, &off), -EFAULT);
	guest_ram_close(&r);
	unlink(path);
	close(fd);
}

/*
 * What the gate judges is what gets mapped: the path is swapped for
 * another file while the gate runs (a peer racing its own directory), and
 * the mapping is still of the file the gate saw. A FIFO (or a device) put
 * at the path is refused before the gate, without ever being opened for
 * I/O: inotify sees no open of it.
 */
struct ram_swap {
	const char *path;
	const char *other;
	ino_t seen;
	int calls;
};

static int ram_swap_gate(void *ctx, int fd, const struct stat *st)
{
	struct ram_swap *sw = ctx;

	sw->calls++;
	sw->seen = st->st_ino;
	assert_int_equal(rename(sw->other, sw->path), 0);
	return 0;
}

static int ram_refuse_gate(void *ctx, int fd, const struct stat *st)
{
	return -EACCES;
}

static void test_ram_open_judges_what_it_maps(void **state)
{
	char path[] = "/tmp/pvdma-test-ram.XXXXXX";
	char other[] = "/tmp/pvdma-test-ram2.XXXXXX";
	struct guest_ram_config cfg = { .path = path, .machine = GUEST_RAM_VIRT };
	struct ram_swap sw = { .path = path, .other = other };
	char ev[sizeof(struct inotify_event) + 256];
	struct guest_ram r;
	struct stat st;
	int fd = mkstemp(path), fd2 = mkstemp(other), in;

	assert_true(fd >= 0 && fd2 >= 0);
	assert_int_equal(ftruncate(fd, 4ull << 20), 0);
	assert_int_equal(ftruncate(fd2, 4ull << 20), 0);
	assert_int_equal(pwrite(fd, "A", 1, 0), 1);
	assert_int_equal(pwrite(fd2, "B", 1, 0), 1);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(guest_ram_open_gated(&r, &cfg, ram_swap_gate, &sw), 0);
	assert_int_equal(sw.calls, 1);
	assert_int_equal(sw.seen, st.st_ino);
	assert_int_equal(r.base[0], 'A');
	guest_ram_close(&r);
	/* the gate's refusal is the answer; nothing stays mapped */
	assert_int_equal(guest_ram_open_gated(&r, &cfg, ram_refuse_gate, NULL),
			 -EACCES);
	assert_null(r.base);
	assert_false(r.mapped);
	/* a FIFO in its place: refused before the gate, never opened */
	unlink(path);
	assert_int_equal(mkfifo(path, 0600), 0);
	in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	assert_true(in >= 0 && inotify_add_watch(in, path, IN_OPEN) >= 0);
	sw.calls = 0;
	assert_int_equal(guest_ram_open_gated(&r, &cfg, ram_swap_gate, &sw),
			 -EINVAL);
	assert_int_equal(sw.calls, 0);
	assert_string_equal(guest_ram_strerror(&r, -EINVAL), "not a regular file");
	assert_true(read(in, ev, sizeof(ev)) < 0 && errno == EAGAIN);
	close(in);
	unlink(path);
	close(fd);
	close(fd2);
}

/*
 * The RAM file's directories: one another user could write (group or
 * other write bit without the sticky bit, or another owner) is refused
 * with its name and the fix, at stat, probe and open; a sticky one only
 * with the file in it another user's. Root's test: the owner cases need
 * chown.
 */
static void test_ram_dir_others_can_write(void **state)
{
	char dir[] = "/tmp/pvdma-test-ramdir.XXXXXX";
	char sub[64], path[80];
	uid_t nobody = 65534;
	struct guest_ram_config cfg = { .path = path, .machine = GUEST_RAM_VIRT };
	struct guest_ram r;
	struct stat st;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/vm", dir);
	snprintf(path, sizeof(path), "%s/ram", sub);
	assert_int_equal(mkdir(sub, 0700), 0);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0 && !ftruncate(fd, 4ull << 20));
	close(fd);
	assert_int_equal(guest_ram_stat(&cfg, &st), 0);

	assert_int_equal(chmod(sub, 0777), 0);
	assert_int_equal(guest_ram_stat(&cfg, &st), -EPERM);
	assert_int_equal(guest_ram_probe(&r, &cfg), -EPERM);
	assert_non_null(strstr(r.why, sub));
	assert_non_null(strstr(r.why, "writable by every user"));
	assert_non_null(strstr(r.why, "chmod go-w"));
	assert_int_equal(guest_ram_open(&r, &cfg), -EPERM);
	assert_null(r.base);
	assert_int_equal(chmod(sub, 0770), 0);
	assert_int_equal(guest_ram_probe(&r, &cfg), -EPERM);
	assert_non_null(strstr(r.why, "writable by its group"));
	assert_int_equal(chmod(sub, 01777), 0);	/* sticky: the file is ours */
	assert_int_equal(guest_ram_stat(&cfg, &st), 0);
	assert_int_equal(chmod(sub, 0700), 0);
	/* a directory higher up counts as much */
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(guest_ram_probe(&r, &cfg), -EPERM);
	assert_non_null(strstr(r.why, dir));
	assert_int_equal(chmod(dir, 0700), 0);
	assert_int_equal(guest_ram_stat(&cfg, &st), 0);

	if (geteuid() == 0) {
		assert_int_equal(chmod(sub, 01777), 0);
		assert_int_equal(chown(path, nobody, nobody), 0);
		assert_int_equal(guest_ram_probe(&r, &cfg), -EPERM);
		assert_non_null(strstr(r.why, "belongs to uid 65534"));
		cfg.trusted = &nobody;		/* --allow-uid 65534 */
		cfg.ntrusted = 1;
		assert_int_equal(guest_ram_stat(&cfg, &st), 0);
		cfg.ntrusted = 0;
		assert_int_equal(chmod(sub, 0700), 0);
		assert_int_equal(chown(sub, nobody, nobody), 0);
		assert_int_equal(guest_ram_probe(&r, &cfg), -EPERM);
		assert_non_null(strstr(r.why, "belongs to uid 65534"));
		cfg.ntrusted = 1;
		assert_int_equal(guest_ram_stat(&cfg, &st), 0);
	} else {
		print_message("  (not root: the owner cases not run)\n");
	}
	unlink(path);
	rmdir(sub);
	rmdir(dir);
}

/*
 * The RAM path never leads off its directory's file system: a symlink to
 * a file on another mount (for an attacker, a FUSE file it serves) is
 * refused with EXDEV by the stat at connect and by the open at HELLO, as
 * is one to anywhere out of its directory; a symlink to another entry of
 * the directory is followed.
 */
static void test_ram_path_stays_on_its_fs(void **state)
{
	char dir[] = "/tmp/pvdma-test-ramdir.XXXXXX";
	char far[] = "/dev/shm/pvdma-test-ram.XXXXXX";
	char link[64], near[64], sub[64], link2[64];
	struct guest_ram_config cfg = { .path = link, .machine = GUEST_RAM_VIRT };
	struct stat a, b;
	struct guest_ram r;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(link, sizeof(link), "%s/ram", dir);
	snprintf(near, sizeof(near), "%s/real", dir);
	snprintf(link2, sizeof(link2), "%s/link2", dir);
	fd = open(near, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0 && !ftruncate(fd, 4ull << 20));
	close(fd);
	assert_int_equal(symlink("real", link), 0);
	assert_int_equal(guest_ram_stat(&cfg, &a), 0);
	assert_int_equal(guest_ram_open(&r, &cfg), 0);
	guest_ram_close(&r);
	unlink(link);
	/*
	 * Out of its directory, even on the same file system: refused before
	 * anything is looked up there (a directory on the way could be swapped
	 * for a mount of the link's writer between the check and the open).
	 */
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(symlink("sub/../real", link), 0);
	assert_int_equal(guest_ram_stat(&cfg, &a), -EXDEV);
	assert_int_equal(guest_ram_open(&r, &cfg), -EXDEV);
	assert_null(r.base);
	assert_non_null(strstr(r.why, "a symlink to sub/../real"));
	unlink(link);
	/* a chain of links within the directory is followed */
	assert_int_equal(symlink("link2", link), 0);
	assert_int_equal(symlink("real", link2), 0);
	assert_int_equal(guest_ram_stat(&cfg, &b), 0);
	assert_int_equal(stat(near, &a), 0);
	assert_true(a.st_ino == b.st_ino);
	unlink(link);
	unlink(link2);
	rmdir(sub);
	fd = mkstemp(far);
	if (fd >= 0 && !ftruncate(fd, 4ull << 20) && !stat(dir, &a) &&
	    !stat(far, &b) && a.st_dev != b.st_dev) {
		assert_int_equal(symlink(far, link), 0);
		assert_int_equal(guest_ram_stat(&cfg, &a), -EXDEV);
		assert_int_equal(guest_ram_open(&r, &cfg), -EXDEV);
		assert_null(r.base);
		unlink(link);
	} else {
		print_message("  (/dev/shm and /tmp are one file system: cross-mount case not run)\n");
	}
	if (fd >= 0) {
		close(fd);
		unlink(far);
	}
	unlink(near);
	rmdir(dir);
}

/* ---- the hostile-guest catalogue (docs/security.md), more rows ---- */

/* RAM of 2 MiB below 4 GiB and 2 MiB from 4 GiB: the PCI hole between. */
static void use_split_ram(struct harness *h)
{
	assert_int_equal(guest_ram_init_buffer(&h->c.ram, h->ram, H_RAM_SIZE,
					       GUEST_RAM_Q35, H_RAM_SIZE / 2), 0);
}

static void test_map_hole(void **state)
{
	struct harness *h = *state;
	u64 low_end = H_RAM_SIZE / 2, high = GUEST_RAM_4G;

	use_split_ram(h);
	assert_int_equal(harness_hello(h), PVDMA_ST_OK);
	/* from the last low page into the hole */
	assert_int_equal(harness_map(h, low_end - H_PAGE, 2 * H_PAGE, H_RW, NULL),
			 PVDMA_ST_BAD_GPA);
	/* inside the hole, and from the hole into high RAM */
	assert_int_equal(harness_map(h, 3ull << 30, H_PAGE, H_RW, NULL),
			 PVDMA_ST_BAD_GPA);
	assert_int_equal(harness_map(h, high - H_PAGE, 2 * H_PAGE, H_RW, NULL),
			 PVDMA_ST_BAD_GPA);
	/* the file offset of high RAM is not a GPA */
	assert_int_equal(harness_map(h, low_end, H_PAGE, H_RW, NULL),
			 PVDMA_ST_BAD_GPA);
	/* across the top of high RAM; the whole of both blocks at once */
	assert_int_equal(harness_map(h, high + low_end - H_PAGE, 2 * H_PAGE, H_RW,
				     NULL), PVDMA_ST_BAD_GPA);
	assert_int_equal(harness_map(h, 0, high + low_end, H_RW, NULL),
			 PVDMA_ST_BAD_GPA);
	assert_int_equal(live_mappings(h), 0);
	/* each block on its own is fine */
	assert_int_equal(harness_map(h, low_end - H_PAGE, H_PAGE, H_RW, NULL),
			 PVDMA_ST_OK);
	assert_int_equal(harness_map(h, high, H_PAGE, H_RW, NULL), PVDMA_ST_OK);
	assert_int_equal(h->c.stats.rejected[PVDMA_ST_BAD_GPA], 6);
}

static void test_huge_lengths(void **state)
{
	struct harness *h = *state;

	assert_int_equal(harness_hello(h), PVDMA_ST_OK);
	/* aligned, no wrap, but far beyond RAM */
	assert_int_equal(harness_map(h, 0, 1ull << 63, H_RW, NULL), PVDMA_ST_BAD_GPA);
	assert_int_equal(harness_map(h, 1ull << 63, 1ull << 63, H_RW, NULL),
			 PVDMA_ST_INVALID);	/* gpa + len wraps to 0 */
	assert_int_equal(harness_map(h, H_PAGE, ~0ull & ~(H_PAGE - 1), H_RW, NULL),
			 PVDMA_ST_INVALID);
	/* all of RAM: real RAM, but four times the aperture */
	assert_int_equal(harness_map(h, 0, H_RAM_SIZE, H_RW, NULL),
			 PVDMA_ST_NO_APERTURE);
	/* exactly the aperture fits */
	assert_int_equal(harness_map(h, 0, 64 * H_PAGE, H_RW, NULL), PVDMA_ST_OK);
	assert_int_equal(harness_map(h, 0, H_PAGE, H_RW, NULL), PVDMA_ST_NO_APERTURE);
	assert_int_equal(live_mappings(h), 1);
}

static void test_unmap_fields(void **state)
{
	struct harness *h = *state;
	struct pvdma_request ops[3] = { 0 };
	struct pvdma_slot_hdr *slot;
	u64 a, b;

	assert_int_equal(harness_hello(h), PVDMA_ST_OK);
	assert_int_equal(harness_map(h, 0, H_PAGE, H_RW, &a), PVDMA_ST_OK);
	assert_int_equal(harness_map(h, 8 * H_PAGE, H_PAGE, H_RW, &b), PVDMA_ST_OK);
	assert_int_equal(b, a + H_PAGE);	/* adjacent in bus space */
	/* zero, odd and wrapping lengths */
	assert_int_equal(harness_one(h, PVDMA_OP_UNMAP, 0, 0, 0, a, NULL),
			 PVDMA_ST_INVALID);
	assert_int_equal(harness_one(h, PVDMA_OP_UNMAP, 0, 0, H_PAGE + 512, a, NULL),
			 PVDMA_ST_INVALID);
	assert_int_equal(harness_one(h, PVDMA_OP_UNMAP, 0, 0, 2 * H_PAGE,
				     ~0ull & ~(H_PAGE - 1), NULL), PVDMA_ST_INVALID);
	/* one UNMAP over two adjacent mappings is refused, not half done */
	assert_int_equal(harness_one(h, PVDMA_OP_UNMAP, 0, 0, 2 * H_PAGE, a, NULL),
			 PVDMA_ST_PARTIAL);
	/* a GPA where a bus address belongs */
	assert_int_equal(harness_one(h, PVDMA_OP_UNMAP, 0, 0, H_PAGE, 8 * H_PAGE,
				     NULL), PVDMA_ST_NOT_MAPPED);
	assert_int_equal(live_mappings(h), 2);
	/* a double unmap inside one slot: the second one finds nothing */
	ops[0] = (struct pvdma_request){ .op = PVDMA_OP_UNMAP, .len = H_PAGE, .bus = a };
	ops[1] = ops[0];
	ops[2] = (struct pvdma_request){ .op = PVDMA_OP_UNMAP, .len = H_PAGE, .bus = b };
	slot = harness_post(h, ops, 3);
	assert_int_equal(harness_entry(slot, 0)->status, PVDMA_ST_OK);
	assert_int_equal(harness_entry(slot, 1)->status, PVDMA_ST_NOT_MAPPED);
	assert_int_equal(harness_entry(slot, 2)->status, PVDMA_ST_OK);
	assert_int_equal(slot->completed, 3);
	assert_int_equal(live_mappings(h), 0);
}

static void test_reset_session(void **state)
{
	struct harness *h = *state;
	u64 bus, again;

	/* RESET is allowed before HELLO, and does not make the guest ready */
	assert_int_equal(harness_one(h, PVDMA_OP_RESET, 0, 0, 0, 0, NULL), PVDMA_ST_OK);
	assert_int_equal(harness_map(h, 0, H_PAGE, H_RW, NULL), PVDMA_ST_NOT_READY);
	assert_int_equal(harness_hello(h), PVDMA_ST_OK);
	assert_int_equal(harness_map(h, 0, H_PAGE, H_RW, &bus), PVDMA_ST_OK);
	assert_int_equal(harness_one(h, PVDMA_OP_RESET, 0, 0, 0, 0, NULL), PVDMA_ST_OK);
	/* after RESET: the old id is gone, the session goes on */
	assert_int_equal(harness_one(h, PVDMA_OP_UNMAP, 0, 0, H_PAGE, bus, NULL),
			 PVDMA_ST_NOT_MAPPED);
	assert_int_equal(harness_map(h, 0, H_PAGE, H_RW, &again), PVDMA_ST_OK);
	assert_int_equal(h->c.stats.resets, 2);
	assert_int_equal(h->c.stats.released, 1);
	/* a HELLO that lies about its version ends the session and its maps */
	harness_hdr(h)->guest_version = 0;
	assert_int_equal(harness_one(h, PVDMA_OP_HELLO, 0, 0, 0, 0, NULL),
			 PVDMA_ST_BAD_VERSION);
	assert_int_equal(live_mappings(h), 0);
	assert_false(h->c.ready);
	assert_int_equal(harness_one(h, PVDMA_OP_UNMAP, 0, 0, H_PAGE, again, NULL),
			 PVDMA_ST_NOT_READY);
}

/* Counts beyond the batch; host-written fields prefilled by the guest. */
static void test_slot_fields(void **state)
{
	struct harness *h = *state;
	struct pvdma_shm_header *hdr = harness_hdr(h);
	struct pvdma_slot_hdr *slot = harness_slot(h, hdr->sq_tail);
	struct pvdma_entry *e = harness_entry(slot, 0);
	struct pvdma_request op = { .op = PVDMA_OP_MAP, .flags = H_RW, .len = H_PAGE };

	assert_int_equal(harness_hello(h), PVDMA_ST_OK);
	slot = harness_slot(h, hdr->sq_tail);
	memset(slot, 0, sizeof(*slot));
	slot->seq = 40;
	slot->count = 0xffff;
	hdr->sq_tail++;
	assert_int_equal(companion_process(&h->c), 1);
	assert_int_equal(slot->status, PVDMA_ST_BAD_SLOT);
	assert_int_equal(slot->done_seq, 40);
	/* the guest fills status, completed, done_seq and a MAP's bus itself */
	slot = harness_slot(h, hdr->sq_tail);
	e = harness_entry(slot, 0);
	pvdma_entry_encode(e, &op);
	e->status = 0x55;
	e->bus = 0x1000;
	slot->status = 0x66;
	slot->completed = 0x77;
	slot->done_seq = 41;
	slot->seq = 41;
	slot->count = 1;
	hdr->sq_tail++;
	companion_process(&h->c);
	assert_int_equal(e->status, PVDMA_ST_OK);
	assert_int_not_equal(e->bus, 0x1000);
	assert_int_equal(e->bus % H_PAGE, 0);
	assert_int_equal(slot->status, PVDMA_ST_OK);
	assert_int_equal(slot->completed, 1);
}

/* The bus space runs out before the aperture and the count do. */
static void test_no_bus_space(void **state)
{
	struct harness *h = *state;
	u64 bus[4];
	int i;

	h->cfg.iommu.bus_limit = h->cfg.iommu.bus_base + 4 * H_PAGE;
	assert_int_equal(harness_reset(h), 0);
	assert_int_equal(harness_hello(h), PVDMA_ST_OK);
	for (i = 0; i < 4; i++)
		assert_int_equal(harness_map(h, i * H_PAGE, H_PAGE, H_RW, &bus[i]),
				 PVDMA_ST_OK);
	assert_int_equal(harness_map(h, 0, H_PAGE, H_RW, NULL), PVDMA_ST_NO_BUS_SPACE);
	/* two free pages, not adjacent: still no room for two */
	assert_int_equal(harness_one(h, PVDMA_OP_UNMAP, 0, 0, H_PAGE, bus[0], NULL),
			 PVDMA_ST_OK);
	assert_int_equal(harness_one(h, PVDMA_OP_UNMAP, 0, 0, H_PAGE, bus[2], NULL),
			 PVDMA_ST_OK);
	assert_int_equal(harness_map(h, 0, 2 * H_PAGE, H_RW, NULL),
			 PVDMA_ST_NO_BUS_SPACE);
	assert_int_equal(harness_map(h, 0, H_PAGE, H_RW, NULL), PVDMA_ST_OK);
}

/*
 * A guest CPU rewrites the ring while the host is inside a slot: it moves
 * sq_tail, rewrites the entries not yet run, the slot's count and its
 * version. The host acts on what it read once: the pending count taken at
 * the start, the entries snapshotted with the header.
 */
struct ring_race {
	struct harness *h;
	struct pvdma_slot_hdr *slot;
	int fired;
};

static void ring_race_hook(void *ctx)
{
	struct ring_race *r = ctx;
	struct pvdma_shm_header *hdr = harness_hdr(r->h);
	struct pvdma_request bad = { .op = 99 };
	u32 i;

	if (r->fired++)
		return;
	hdr->sq_tail += 1000;
	hdr->guest_version = 0xdead0000;
	r->slot->count = 0xffff;
	r->slot->flags = 3;
	for (i = 0; i < 4; i++)
		pvdma_entry_encode(harness_entry(r->slot, i), &bad);
}

static void test_race_ring(void **state)
{
	struct harness *h = *state;
	struct pvdma_shm_header *hdr = harness_hdr(h);
	struct race_iommu *ri = race_iommu_wrap(h->c.iommu);
	struct pvdma_request ops[4];
	struct ring_race r = { .h = h };
	u32 i;

	assert_non_null(ri);
	h->c.iommu = &ri->iommu;
	assert_int_equal(harness_hello(h), PVDMA_ST_OK);
	for (i = 0; i < 4; i++)
		ops[i] = (struct pvdma_request){ .op = PVDMA_OP_MAP, .flags = H_RW,
						 .gpa = i * H_PAGE, .len = H_PAGE };
	r.slot = harness_slot(h, hdr->sq_tail);
	ri->hook = ring_race_hook;
	ri->ctx = &r;
	harness_post(h, ops, 4);
	assert_int_equal(r.fired, 4);
	for (i = 0; i < 4; i++)
		assert_int_equal(harness_entry(r.slot, i)->status, PVDMA_ST_OK);
	assert_int_equal(r.slot->completed, 4);
	assert_int_equal(r.slot->status, PVDMA_ST_OK);
	assert_int_equal(live_mappings(h), 4);
	/* one slot was posted, one consumed; the moved tail is bad next time */
	assert_int_equal(hdr->sq_head, 2);
	assert_int_equal(h->c.stats.bad_tail, 0);
	assert_int_equal(companion_process(&h->c), 0);
	assert_int_equal(h->c.stats.bad_tail, 1);
	ri->hook = NULL;
}

/* Post one entry of @op to a bare companion's ring; returns its status. */
static u32 ring_one_op(struct pvdma_companion *c, u16 op)
{
	struct pvdma_shm_header *hdr = c->shm;
	struct pvdma_slot_hdr *slot = (struct pvdma_slot_hdr *)((u8 *)c->shm +
		COMPANION_RING_OFFSET +
		(u64)(hdr->sq_tail & (c->ring_slots - 1)) * c->slot_size);
	struct pvdma_entry *e = (struct pvdma_entry *)(slot + 1);
	struct pvdma_request o = { .op = op };

	memset(slot, 0, c->slot_size);
	pvdma_entry_encode(e, &o);
	slot->seq = hdr->sq_tail + 1;
	slot->count = 1;
	hdr->sq_tail++;
	companion_process(c);
	return e->status;
}

/*
 * A companion with a small ring (4 slots of 8) over a 4 MiB RAM file at
 * @path (made by mkstemp, its fd returned), its shared region in *@shm,
 * the guest's version written.
 */
static int ram_file_companion(struct pvdma_companion *c, char *path,
			      struct companion_config *cfg, void **shm)
{
	struct pvdma_shm_header *hdr;
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 4 << 20), 0);
	memset(cfg, 0, sizeof(*cfg));
	cfg->ring_slots = 4;
	cfg->max_batch = 8;
	pvdma_iommu_default_config(&cfg->iommu);
	cfg->ram.path = path;
	*shm = calloc(1, companion_shm_size(cfg));
	assert_int_equal(companion_init(c, *shm, companion_shm_size(cfg), cfg,
					pvdma_iommu_dart_create(&cfg->iommu), 0, 3), 0);
	hdr = *shm;
	hdr->guest_version = PVDMA_PROTO_VERSION;
	return fd;
}

/* The RAM file shrinks under pvdmad: the next HELLO is refused with IO. */
static void test_ram_shrunk(void **state)
{
	char path[] = "/tmp/pvdma-ram.XXXXXX";
	struct companion_config cfg;
	struct pvdma_companion c;
	void *shm;
	int fd = ram_file_companion(&c, path, &cfg, &shm);

	assert_int_equal(ring_one_op(&c, PVDMA_OP_HELLO), PVDMA_ST_OK);
	assert_int_equal(c.ram.size, 4 << 20);
	/* growing is harmless; shrinking would SIGBUS the DMA model */
	assert_int_equal(ftruncate(fd, 8 << 20), 0);
	assert_int_equal(ring_one_op(&c, PVDMA_OP_HELLO), PVDMA_ST_OK);
	assert_int_equal(ftruncate(fd, 2 << 20), 0);
	assert_int_equal(ring_one_op(&c, PVDMA_OP_HELLO), PVDMA_ST_IO);
	assert_false(c.ready);
	companion_destroy(&c);
	free(shm);
	close(fd);
	unlink(path);
}

/* What guest_ram_close_with() handed over, and how often. */
static struct {
	int calls;
	void *addr;
	size_t len;
	int fd;
} ram_handed;

static void ram_hand_record(void *addr, size_t len, int fd)
{
	ram_handed.calls++;
	ram_handed.addr = addr;
	ram_handed.len = len;
	ram_handed.fd = fd;
	munmap(addr, len);
	if (fd >= 0)
		close(fd);
}

/*
 * A companion's guest RAM mapping goes to the release whole, once, and
 * the companion holds none after (pvdmad's release is the closer
 * thread: the mapping's page tables are as large as the RAM its DMA
 * moved); closing again finds nothing to release.
 */
static void test_ram_close_hands_the_mapping_over(void **state)
{
	char path[] = "/tmp/pvdma-ram.XXXXXX";
	struct companion_config cfg;
	struct pvdma_companion c;
	void *shm, *base;
	int fd = ram_file_companion(&c, path, &cfg, &shm), ram_fd;

	assert_int_equal(ring_one_op(&c, PVDMA_OP_HELLO), PVDMA_ST_OK);
	base = c.ram.base;
	ram_fd = c.ram.fd;
	guest_ram_close_with(&c.ram, ram_hand_record);
	assert_int_equal(ram_handed.calls, 1);
	assert_ptr_equal(ram_handed.addr, base);
	assert_int_equal(ram_handed.len, 4 << 20);
	assert_int_equal(ram_handed.fd, ram_fd);
	assert_false(guest_ram_is_open(&c.ram));
	guest_ram_close_with(&c.ram, ram_hand_record);
	assert_int_equal(ram_handed.calls, 1);
	companion_destroy(&c);
	free(shm);
	close(fd);
	unlink(path);
}

/*
 * A domain's DART records (80 bytes for each mapping the guest may hold:
 * 80 MiB at --max-mappings 1048576, 5 ms to unmap) go to the same release
 * at destroy, whole, once, not freed by whoever destroys it (the loop).
 */
static void test_dart_records_handed_over(void **state)
{
	struct pvdma_iommu_config cfg;
	struct pvdma_iommu *iommu;
	u64 bus;

	pvdma_iommu_default_config(&cfg);
	cfg.max_mappings = 1024;
	iommu = pvdma_iommu_dart_create(&cfg);
	assert_non_null(iommu);
	assert_int_equal(iommu->ops->map(iommu, 0x100000, 16384, PVDMA_MAP_READ,
					 0x100000, &bus), 0);
	memset(&ram_handed, 0, sizeof(ram_handed));
	pvdma_iommu_dart_unmap_with(iommu, ram_hand_record);
	pvdma_iommu_destroy(iommu);
	assert_int_equal(ram_handed.calls, 1);
	assert_non_null(ram_handed.addr);
	assert_int_equal(ram_handed.len, 1024 * sizeof(struct pvdma_dart_mapping));
	assert_int_equal(ram_handed.fd, -1);
}

/* A slot of 8 HELLOs at the ring's tail (4 slots), published: the slot. */
static struct pvdma_slot_hdr *post_hellos(const struct pvdma_companion *c,
					  void *shm)
{
	struct pvdma_shm_header *hdr = shm;
	struct pvdma_request ops[8];
	struct pvdma_slot_hdr *slot;
	u32 i;

	memset(ops, 0, sizeof(ops));
	for (i = 0; i < 8; i++)
		ops[i].op = PVDMA_OP_HELLO;
	slot = (struct pvdma_slot_hdr *)((u8 *)shm + COMPANION_RING_OFFSET +
		(u64)(hdr->sq_tail & 3) * c->slot_size);
	producer_write_slot(slot, ops, 8, hdr->sq_tail + 1);
	producer_publish(&hdr->sq_tail, hdr->sq_tail + 1);
	return slot;
}

/*
 * A HELLO checks the RAM file's size (a system call) and logs the layout:
 * once a slot, whatever number of HELLOs it holds; each slot checks anew,
 * so a file that shrank between two slots is still seen.
 */
static void test_hello_checks_once_a_slot(void **state)
{
	char path[] = "/tmp/pvdma-ram.XXXXXX";
	struct companion_config cfg;
	struct pvdma_companion c;
	struct pvdma_slot_hdr *slot;
	bool more;
	void *shm;
	u32 i, s;
	int fd = ram_file_companion(&c, path, &cfg, &shm);

	for (s = 0; s < 2; s++) {
		slot = post_hellos(&c, shm);
		if (s)
			assert_int_equal(ftruncate(fd, 2 << 20), 0);
		assert_int_equal(companion_process_slice(&c, ~0ull, &more), 1);
		assert_int_equal(c.ram_checks, s + 1);
		for (i = 0; i < 8; i++)
			assert_int_equal(producer_entry(slot, i)->status,
					 s ? PVDMA_ST_IO : PVDMA_ST_OK);
	}
	assert_false(c.ready);
	companion_destroy(&c);
	free(shm);
	close(fd);
	unlink(path);
}

static int refusing_gate(void *ctx, int fd, const struct stat *st)
{
	(*(int *)ctx)++;
	return -EACCES;
}

/*
 * A HELLO whose RAM open is refused (here by the gate, which counts its
 * calls) walks the whole path: tried once a slot, however many HELLOs it
 * holds, and each try charged COMPANION_RAM_OPEN_COST in the slice.
 */
static void test_ram_refused_once_a_slot(void **state)
{
	char path[] = "/tmp/pvdma-ram.XXXXXX";
	struct companion_config cfg;
	struct pvdma_companion c;
	struct pvdma_slot_hdr *slot;
	int tries = 0, fd;
	bool more;
	u32 i;
	void *shm;

	fd = ram_file_companion(&c, path, &cfg, &shm);
	c.ram_gate = refusing_gate;
	c.ram_gate_ctx = &tries;
	/* the whole ring: 4 slots of 8 HELLOs */
	for (i = 0; i < 4; i++)
		slot = post_hellos(&c, shm);
	/* the open's charge spends a budget of 20 at the first HELLO: the
	 * slice stops inside the slot, and the rest of it, in the next
	 * slice, is not tried again (the same slot): 7 entries and the slot */
	assert_int_equal(companion_process_slice(&c, 20, &more), 0);
	assert_true(more);
	assert_int_equal(tries, 1);
	slot = (struct pvdma_slot_hdr *)((u8 *)shm + COMPANION_RING_OFFSET);
	assert_int_equal(slot->done_seq, 0);
	assert_int_equal(companion_process_slice(&c, 8, &more), 1);
	assert_true(more);
	assert_int_equal(tries, 1);
	assert_int_equal(slot->completed, 8);
	for (i = 0; i < 8; i++)
		assert_int_equal(producer_entry(slot, i)->status, PVDMA_ST_IO);
	assert_int_equal(companion_process_slice(&c, ~0ull, &more), 3);
	assert_false(more);
	assert_int_equal(tries, 4);
	assert_int_equal(c.stats.rejected[PVDMA_ST_IO], 32);
	assert_false(c.ready);
	/* allowed again: the next slot opens it */
	c.ram_gate = NULL;
	assert_int_equal(ring_one_op(&c, PVDMA_OP_HELLO), PVDMA_ST_OK);
	assert_true(c.ready);
	companion_destroy(&c);
	free(shm);
	close(fd);
	unlink(path);
}

/*
 * QEMU's command line is the peer's to write, and a refusal or a note
 * quotes pieces of it: logged, each message stays one line of text. A
 * newline in a -machine value forged a line of pvdmad's own in the log
 * file (an escape byte drove a terminal).
 */
static void test_peer_bytes_logged_as_one_line(void **state)
{
	static const char args[] = "qemu\0-machine\0q35\n2026 pvdmad[1]: \x1b[2Jforged\0-m\0" "512M";
	struct guest_ram_config q35 = { .machine = GUEST_RAM_Q35 };
	char dir[] = "/tmp/pvdma-log-XXXXXX", path[64], buf[1024], why[256];
	ssize_t n, i;
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/log", dir);
	assert_int_equal(qemu_check(&q35, 512ull << 20, args, sizeof(args), why), 0);
	assert_non_null(strchr(why, '\n'));	/* the peer's bytes, as given */
	assert_int_equal(pvdmad_log_open(path, false), 0);
	pvdmad_log(PVDMAD_LOG_ERR, "companion: pid %d: QEMU's RAM layout %s", 1, why);
	pvdmad_log_close();
	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf));
	close(fd);
	unlink(path);
	rmdir(dir);
	assert_true(n > 0);
	assert_int_equal(buf[n - 1], '\n');
	for (i = 0; i < n - 1; i++)
		assert_false((unsigned char)buf[i] < 0x20 || buf[i] == 0x7f);
	buf[n - 1] = '\0';
	assert_non_null(strstr(buf, "pvdmad[1]: ?[2Jforged"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_ready_before_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_trim, setup, teardown),
		cmocka_unit_test_setup_teardown(test_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_slot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_process_slice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slot_split, setup, teardown),
		cmocka_unit_test_setup_teardown(test_index_wrap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_fields_private, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_ring, setup, teardown),
		cmocka_unit_test(test_ram_layout),
		cmocka_unit_test(test_ram_layout_virt),
		cmocka_unit_test(test_ram_open_mismatch),
		cmocka_unit_test(test_ram_smram_hidden),
		cmocka_unit_test(test_ram_open_judges_what_it_maps),
		cmocka_unit_test(test_ram_path_stays_on_its_fs),
		cmocka_unit_test(test_ram_dir_others_can_write),
		cmocka_unit_test(test_qemu_args),
		cmocka_unit_test(test_peer_bytes_logged_as_one_line),
		cmocka_unit_test(test_qemu_args_spellings),
		cmocka_unit_test_setup_teardown(test_map_keeps_gpa_alignment, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_map_hole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_lengths, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmap_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slot_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_bus_space, setup, teardown),
		cmocka_unit_test_setup_teardown(test_race_ring, setup, teardown),
		cmocka_unit_test(test_ram_shrunk),
		cmocka_unit_test(test_ram_close_hands_the_mapping_over),
		cmocka_unit_test(test_dart_records_handed_over),
		cmocka_unit_test(test_hello_checks_once_a_slot),
		cmocka_unit_test(test_ram_refused_once_a_slot),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
