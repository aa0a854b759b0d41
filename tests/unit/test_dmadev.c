// SPDX-License-Identifier: MIT
/*
 * The DMA device model with hostile commands: every range is translated
 * through the bound companion's IOMMU domain; a fault changes no byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pvdma/prng.h>
#include "harness.h"
#include "race_iommu.h"

static int setup(void **state)
{
	struct harness *h = malloc(sizeof(*h));
	u64 i;

	if (!h || harness_init(h))
		return -1;
	for (i = 0; i < H_RAM_SIZE; i++)
		h->ram[i] = (u8)(i * 7 + (i >> 12));
	if (harness_hello(h) != PVDMA_ST_OK)
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

static u64 map_ok(struct harness *h, u64 gpa, u64 len, u16 perm)
{
	u64 bus = 0;

	assert_int_equal(harness_map(h, gpa, len, perm, &bus), PVDMA_ST_OK);
	return bus;
}

static void test_header(void **state)
{
	struct harness *h = *state;
	struct pvdma_dev_header *dh = harness_dhdr(h);

	assert_int_equal(dh->magic, PVDMA_DEV_MAGIC);
	assert_int_equal(dh->version, PVDMA_DEV_VERSION);
	assert_int_equal(dh->queue_offset, DMADEV_QUEUE_OFFSET);
	assert_int_equal(dh->queue_entries, 8);
	assert_int_equal(dh->max_len, 256 << 10);
	assert_true(PVDMA_IS_POW2(h->dshm_size));
}

static void test_fill_copy_checksum(void **state)
{
	struct harness *h = *state;
	u64 src = map_ok(h, 0x10000, 2 * H_PAGE, PVDMA_MAP_READ);
	u64 dst = map_ok(h, 0x40000, 2 * H_PAGE, PVDMA_MAP_WRITE);
	struct pvdma_dev_cmd *cmd;
	u64 i;

	cmd = harness_dma(h, PVDMA_DEV_FILL, 0, dst + 100, 5000, 0x1a5);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_OK);
	assert_int_equal(cmd->done_seq, cmd->seq);
	for (i = 0; i < 5000; i++)
		assert_int_equal(h->ram[0x40000 + 100 + i], 0xa5);
	assert_int_not_equal(h->ram[0x40000 + 99], 0xa5);
	assert_int_not_equal(h->ram[0x40000 + 5100], 0xa5);

	cmd = harness_dma(h, PVDMA_DEV_COPY, src + 3, dst, 2 * H_PAGE - 3, 0);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_OK);
	assert_memory_equal(h->ram + 0x40000, h->ram + 0x10003, 2 * H_PAGE - 3);

	/* the checksum reads through a READ mapping */
	cmd = harness_dma(h, PVDMA_DEV_CHECKSUM, src, 0, 2 * H_PAGE, 0);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_OK);
	assert_true(cmd->result == pvdma_checksum(PVDMA_CHECKSUM_SEED,
						  h->ram + 0x10000, 2 * H_PAGE));
	assert_int_equal(h->c.stats.dma_cmds, 3);
	assert_int_equal(h->dev.stats.bytes, 5000 + 2 * H_PAGE - 3 + 2 * H_PAGE);
}

/* Two mappings adjacent in bus space, far apart in RAM: one command. */
static void test_span_mappings(void **state)
{
	struct harness *h = *state;
	u64 a = map_ok(h, 0x100000, H_PAGE, H_RW);
	u64 b = map_ok(h, 0x300000, H_PAGE, H_RW);
	u64 dst = map_ok(h, 0x200000, 2 * H_PAGE, H_RW);
	struct pvdma_dev_cmd *cmd;

	assert_int_equal(b, a + H_PAGE);
	cmd = harness_dma(h, PVDMA_DEV_COPY, a + 10, dst, H_PAGE + 20, 0);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_OK);
	assert_memory_equal(h->ram + 0x200000, h->ram + 0x100000 + 10, H_PAGE - 10);
	assert_memory_equal(h->ram + 0x200000 + H_PAGE - 10, h->ram + 0x300000, 30);
}

static void test_fault_changes_nothing(void **state)
{
	struct harness *h = *state;
	u64 src = map_ok(h, 0x10000, H_PAGE, H_RW);
	u64 dst = map_ok(h, 0x80000, H_PAGE, H_RW);
	u8 *before = malloc(H_RAM_SIZE);
	struct pvdma_dev_cmd *cmd;

	memcpy(before, h->ram, H_RAM_SIZE);
	/* the destination runs one byte past its mapping */
	cmd = harness_dma(h, PVDMA_DEV_COPY, src, dst + 1, H_PAGE, 0);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_FAULT);
	assert_int_equal(cmd->fault_bus, dst + H_PAGE);
	/* FILL of an unmapped bus address, FILL running off the end */
	cmd = harness_dma(h, PVDMA_DEV_FILL, 0, 0x7000000, 10, 0xff);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_FAULT);
	assert_int_equal(cmd->fault_bus, 0x7000000);
	cmd = harness_dma(h, PVDMA_DEV_FILL, 0, dst, 2 * H_PAGE, 0xff);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_FAULT);
	/* source unmapped */
	cmd = harness_dma(h, PVDMA_DEV_CHECKSUM, 0, 0, 16, 0);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_FAULT);
	assert_int_equal(cmd->fault_bus, 0);
	assert_memory_equal(before, h->ram, H_RAM_SIZE);
	assert_int_equal(h->c.stats.dma_faults, 4);
	assert_int_equal(h->dev.stats.faults, 4);
	free(before);
}

static void test_permissions(void **state)
{
	struct harness *h = *state;
	u64 ro = map_ok(h, 0x10000, H_PAGE, PVDMA_MAP_READ);
	u64 wo = map_ok(h, 0x20000, H_PAGE, PVDMA_MAP_WRITE);
	struct pvdma_dev_cmd *cmd;

	cmd = harness_dma(h, PVDMA_DEV_FILL, 0, ro, 16, 1);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_FAULT);
	cmd = harness_dma(h, PVDMA_DEV_CHECKSUM, wo, 0, 16, 0);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_FAULT);
	cmd = harness_dma(h, PVDMA_DEV_COPY, wo, ro, 16, 0);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_FAULT);
	assert_int_equal(cmd->fault_bus, wo);
	cmd = harness_dma(h, PVDMA_DEV_COPY, ro, wo, 16, 0);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_OK);
}

static void test_invalid(void **state)
{
	struct harness *h = *state;
	u64 bus = map_ok(h, 0x10000, H_PAGE, H_RW);
	struct pvdma_dev_cmd *cmd;

	assert_int_equal(harness_dma(h, PVDMA_DEV_FILL, 0, bus, 0, 0)->status,
			 PVDMA_DEV_ST_INVALID);
	assert_int_equal(harness_dma(h, PVDMA_DEV_FILL, 0, bus, (256 << 10) + 1, 0)->status,
			 PVDMA_DEV_ST_INVALID);
	assert_int_equal(harness_dma(h, 77, bus, bus, 16, 0)->status,
			 PVDMA_DEV_ST_INVALID);
	assert_int_equal(harness_dma(h, PVDMA_DEV_COPY, ~0ull - 4, bus, 16, 0)->status,
			 PVDMA_DEV_ST_INVALID);
	assert_int_equal(harness_dma(h, PVDMA_DEV_FILL, 0, ~0ull - 4, 16, 0)->status,
			 PVDMA_DEV_ST_INVALID);
	cmd = harness_dma(h, PVDMA_DEV_NOP, 0, 0, 0, 0);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_OK);
	/* flags must be zero */
	cmd = (struct pvdma_dev_cmd *)((u8 *)h->dshm + DMADEV_QUEUE_OFFSET) +
	      (harness_dhdr(h)->sq_tail & 7);
	memset(cmd, 0, sizeof(*cmd));
	cmd->op = PVDMA_DEV_FILL;
	cmd->flags = 1;
	cmd->dst = bus;
	cmd->len = 1;
	harness_dhdr(h)->sq_tail++;
	dmadev_process(&h->dev);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_INVALID);
	assert_int_equal(h->dev.stats.invalid, 6);
}

static void test_not_bound(void **state)
{
	struct harness *h = *state;
	struct pvdma_dev_header *dh = harness_dhdr(h);
	struct pvdma_dev_cmd *cmd = (struct pvdma_dev_cmd *)((u8 *)h->dshm +
		DMADEV_QUEUE_OFFSET);
	u64 bus = map_ok(h, 0x10000, H_PAGE, H_RW);

	cmd->op = PVDMA_DEV_FILL;
	cmd->dst = bus;
	cmd->len = 1;
	cmd->seq = 5;
	dh->domain_peer = 12345;
	dh->sq_tail = 1;
	assert_int_equal(dmadev_process(&h->dev), 1);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_NOT_BOUND);
	assert_int_equal(cmd->done_seq, 5);
	/* after the companion's RESET its old bus addresses fault */
	assert_int_equal(harness_one(h, PVDMA_OP_RESET, 0, 0, 0, 0, NULL), PVDMA_ST_OK);
	cmd = harness_dma(h, PVDMA_DEV_FILL, 0, bus, 1, 0);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_FAULT);
}

/* The identity binding's resolver: the harness companion's RAM. */
static struct dma_domain *identity_resolve(void *ctx, u32 peer)
{
	struct harness *h = ctx;

	return peer == PVDMA_DEV_DOMAIN_IDENTITY ?
	       companion_dma_domain(&h->c, true) : NULL;
}

static void test_identity(void **state)
{
	struct harness *h = *state;
	const u32 id = PVDMA_DEV_DOMAIN_IDENTITY;
	struct pvdma_dev_cmd *cmd;
	u8 before = h->ram[0x20000];

	/* refused unless pvdmad allows it (--dma-identity) */
	cmd = harness_dma_peer(h, id, PVDMA_DEV_FILL, 0, 0x20000, 100, 0x5a);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_NOT_BOUND);
	assert_int_equal(h->ram[0x20000], before);
	h->dev.resolve = identity_resolve;
	cmd = harness_dma_peer(h, id, PVDMA_DEV_FILL, 0, 0x20000, 100, 0x5a);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_NOT_BOUND);

	/* allowed: bus is a guest-physical address, nothing mapped */
	h->dev.identity = true;
	cmd = harness_dma_peer(h, id, PVDMA_DEV_FILL, 0, 0x20000, 100, 0x5a);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_OK);
	assert_int_equal(h->ram[0x20000 + 99], 0x5a);
	assert_int_not_equal(h->ram[0x20000 + 100], 0x5a);
	cmd = harness_dma_peer(h, id, PVDMA_DEV_COPY, 0x10001, 0x30000,
		       3 * H_PAGE + 5, 0);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_OK);
	assert_memory_equal(h->ram + 0x30000, h->ram + 0x10001, 3 * H_PAGE + 5);
	cmd = harness_dma_peer(h, id, PVDMA_DEV_CHECKSUM, 0x30000, 0, 4096, 0);
	assert_true(cmd->result == pvdma_checksum(PVDMA_CHECKSUM_SEED,
						  h->ram + 0x30000, 4096));

	/* but only guest RAM: past its end is a fault that changes nothing */
	before = h->ram[H_RAM_SIZE - 1];
	cmd = harness_dma_peer(h, id, PVDMA_DEV_FILL, 0, H_RAM_SIZE - 1, 2, 0x77);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_FAULT);
	assert_int_equal(h->ram[H_RAM_SIZE - 1], before);

	/* the IOMMU domain still works beside it */
	cmd = harness_dma_peer(h, h->c.id, PVDMA_DEV_FILL, 0, 0x20000, 1, 0);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_NOT_BOUND);
	h->dev.resolve = harness_resolve;
	cmd = harness_dma(h, PVDMA_DEV_FILL, 0, 0x20000, 1, 0);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_FAULT);
}

static void test_bad_tail(void **state)
{
	struct harness *h = *state;
	struct pvdma_dev_header *dh = harness_dhdr(h);

	dh->sq_tail = 9;
	dh->sq_head = 1000;
	assert_int_equal(dmadev_process(&h->dev), 0);
	assert_int_equal(h->dev.stats.bad_tail, 1);
	assert_int_equal(dh->sq_head, 0);
	dh->sq_tail = 0;
	assert_int_equal(harness_dma(h, PVDMA_DEV_NOP, 0, 0, 0, 0)->status,
			 PVDMA_DEV_ST_OK);
}

/* Post a FILL of @len at @bus without running the queue. */
static void post_fill(struct harness *h, u64 bus, u64 len)
{
	struct pvdma_dev_header *dh = harness_dhdr(h);
	struct pvdma_dev_cmd *cmd = (struct pvdma_dev_cmd *)((u8 *)h->dshm +
		DMADEV_QUEUE_OFFSET) + (dh->sq_tail & (h->dcfg.queue_entries - 1));

	memset(cmd, 0, sizeof(*cmd));
	cmd->op = PVDMA_DEV_FILL;
	cmd->dst = bus;
	cmd->len = len;
	cmd->pattern = 0x77;
	cmd->seq = ++h->seq;
	dh->domain_peer = h->c.id;
	dh->sq_tail++;
}

/* Slices: at least one command, then until the byte budget is spent. */
static void test_slices(void **state)
{
	struct harness *h = *state;
	u64 page = h->cfg.iommu.page_size, bus = map_ok(h, 1 << 20, 4 * page,
							 PVDMA_MAP_WRITE);
	bool more;
	int i;

	for (i = 0; i < 4; i++)
		post_fill(h, bus + i * page, page);
	assert_int_equal(dmadev_process_slice(&h->dev, 1, &more), 1);
	assert_true(more);
	assert_int_equal(harness_dhdr(h)->sq_head, 1);
	assert_int_equal(dmadev_process_slice(&h->dev, 2 * page, &more), 2);
	assert_true(more);
	assert_int_equal(dmadev_process_slice(&h->dev, ~0ull, &more), 1);
	assert_false(more);
	assert_int_equal(harness_dhdr(h)->sq_head, 4);
	assert_int_equal(h->dev.stats.ok, 4);
	assert_int_equal(dmadev_process_slice(&h->dev, ~0ull, &more), 0);
	assert_false(more);
}

/* Post one command without running the queue. */
static struct pvdma_dev_cmd *post_cmd(struct harness *h, u16 op, u64 src,
				      u64 dst, u64 len)
{
	struct pvdma_dev_header *dh = harness_dhdr(h);
	struct pvdma_dev_cmd *cmd = producer_write_cmd(
		(struct pvdma_dev_cmd *)((u8 *)h->dshm + DMADEV_QUEUE_OFFSET),
		h->dcfg.queue_entries, dh->sq_tail, op, src, dst, len, 0,
		++h->seq);

	dh->domain_peer = h->c.id;
	producer_publish(&dh->sq_tail, dh->sq_tail + 1);
	return cmd;
}

/* Slices of @budget until @cmd is answered: how many it took. */
static int slices_until_done(struct harness *h, struct pvdma_dev_cmd *cmd,
			     u64 budget)
{
	bool more = true;
	int n = 0;

	while (cmd->done_seq != cmd->seq && n < 1000) {
		dmadev_process_slice(&h->dev, budget, &more);
		n++;
		if (cmd->done_seq != cmd->seq) {
			assert_true(more);
			assert_int_equal(harness_dhdr(h)->sq_head, h->dev.sq_head);
		}
	}
	return n;
}

/*
 * A command longer than a slice's budget moves across slices, a chunk
 * (an IOMMU page here) at least each, and ends as a whole run would: the
 * same checksum, the same bytes copied. It was run whole in one slice,
 * however long (--dma-max-len): one long loop turn.
 */
static void test_slices_split_a_command(void **state)
{
	struct harness *h = *state;
	u64 page = h->cfg.iommu.page_size, len = 8 * page;
	u64 src = map_ok(h, 0x100000, len, H_RW);
	u64 dst = map_ok(h, 0x200000, len, H_RW);
	struct pvdma_dev_cmd *cmd;
	u64 whole;
	u32 i;

	for (i = 0; i < len; i++)
		h->ram[0x100000 + i] = (u8)(i * 131 + (i >> 9));
	cmd = harness_dma(h, PVDMA_DEV_CHECKSUM, src, 0, len, 0);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_OK);
	whole = cmd->result;
	cmd = post_cmd(h, PVDMA_DEV_CHECKSUM, src, 0, len);
	assert_int_equal(slices_until_done(h, cmd, page), 8);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_OK);
	assert_int_equal(cmd->result, whole);
	cmd = post_cmd(h, PVDMA_DEV_COPY, src, dst, len);
	assert_int_equal(slices_until_done(h, cmd, 3 * page), 3);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_OK);
	assert_memory_equal(h->ram + 0x200000, h->ram + 0x100000, len);
	assert_int_equal(h->dev.stats.bytes, 3 * len);
	assert_int_equal(h->dev.stats.ok, 3);
}

/*
 * Commands that move nothing are charged too: a FILL faulting after the
 * pages it checked costs its length (its translations), so a queue of
 * them can't run unbudgeted in one slice.
 */
static void test_slices_charge_checks(void **state)
{
	struct harness *h = *state;
	u64 page = h->cfg.iommu.page_size, bus = map_ok(h, 1 << 20, 4 * page,
							 PVDMA_MAP_WRITE);
	bool more;
	int i;

	for (i = 0; i < 4; i++)
		post_fill(h, bus, 8 * page);	/* faults at bus + 4 pages */
	assert_int_equal(dmadev_process_slice(&h->dev, 16 * page, &more), 2);
	assert_true(more);
	assert_int_equal(h->dev.stats.faults, 2);
	assert_int_equal(h->dev.stats.bytes, 0);
	assert_int_equal(dmadev_process_slice(&h->dev, 1, &more), 1);
	assert_true(more);
	assert_int_equal(dmadev_process_slice(&h->dev, ~0ull, &more), 1);
	assert_false(more);
	assert_int_equal(h->dev.stats.faults, 4);
}

/* Random commands near one WRITE mapping: no byte outside it changes. */
static void test_random_commands(void **state)
{
	struct harness *h = *state;
	u64 win = map_ok(h, 0x200000, 4 * H_PAGE, H_RW);
	u64 ro = map_ok(h, 0x100000, 4 * H_PAGE, PVDMA_MAP_READ);
	u8 *before = malloc(H_RAM_SIZE);
	struct pvdma_prng rng = { 99 };
	u64 addr[4], len;
	int i;

	memcpy(before, h->ram, H_RAM_SIZE);
	for (i = 0; i < 2000; i++) {
		addr[0] = win + pvdma_prng_below(&rng, 6 * H_PAGE) - H_PAGE;
		addr[1] = ro + pvdma_prng_below(&rng, 6 * H_PAGE) - H_PAGE;
		addr[2] = pvdma_prng_next(&rng);
		addr[3] = ~0ull - pvdma_prng_below(&rng, 4096);
		len = pvdma_prng_below(&rng, 3) ?
		      pvdma_prng_below(&rng, 2 * H_PAGE) : pvdma_prng_next(&rng);
		harness_dma(h, (u16)pvdma_prng_below(&rng, 5),
			    addr[pvdma_prng_below(&rng, 4)],
			    addr[pvdma_prng_below(&rng, 4)], len,
			    pvdma_prng_next(&rng));
	}
	assert_memory_equal(before, h->ram, 0x200000);
	assert_memory_equal(before + 0x200000 + 4 * H_PAGE,
			    h->ram + 0x200000 + 4 * H_PAGE,
			    H_RAM_SIZE - 0x200000 - 4 * H_PAGE);
	assert_true(h->dev.stats.ok > 0 && h->dev.stats.faults > 0);
	free(before);
}

/* ---- the hostile-guest catalogue (docs/security.md), more rows ---- */

/* Lengths and addresses at the edges of u64 and of max_len. */
static void test_edges(void **state)
{
	struct harness *h = *state;
	u64 bus = map_ok(h, 0x10000, H_PAGE, H_RW);

	/* src + len ends exactly at 2^64: wraps to 0, refused */
	assert_int_equal(harness_dma(h, PVDMA_DEV_CHECKSUM, 0ull - 16, 0, 16, 0)->status,
			 PVDMA_DEV_ST_INVALID);
	assert_int_equal(harness_dma(h, PVDMA_DEV_COPY, bus, 0ull - 16, 16, 0)->status,
			 PVDMA_DEV_ST_INVALID);
	/* max_len exactly is allowed (and faults here: not all mapped) */
	assert_int_equal(harness_dma(h, PVDMA_DEV_FILL, 0, bus, 256 << 10, 0)->status,
			 PVDMA_DEV_ST_FAULT);
	assert_int_equal(harness_dma(h, PVDMA_DEV_FILL, 0, bus, ~0ull, 0)->status,
			 PVDMA_DEV_ST_INVALID);
	/* FILL ignores src and CHECKSUM ignores dst, whatever they hold */
	assert_int_equal(harness_dma(h, PVDMA_DEV_FILL, ~0ull, bus, 16, 0)->status,
			 PVDMA_DEV_ST_OK);
	assert_int_equal(harness_dma(h, PVDMA_DEV_CHECKSUM, bus, ~0ull, 16, 0)->status,
			 PVDMA_DEV_ST_OK);
	/* a DMA into the bus address just below the first mapping */
	assert_int_equal(harness_dma(h, PVDMA_DEV_FILL, 0, bus - 1, 2, 0)->status,
			 PVDMA_DEV_ST_FAULT);
}

/* Overlapping COPY inside one page behaves as memmove. */
static void test_overlap(void **state)
{
	struct harness *h = *state;
	u64 bus = map_ok(h, 0x10000, H_PAGE, H_RW);
	u8 expect[1000];

	memcpy(expect, h->ram + 0x10000 + 100, sizeof(expect));
	assert_int_equal(harness_dma(h, PVDMA_DEV_COPY, bus + 100, bus + 300,
				     sizeof(expect), 0)->status, PVDMA_DEV_ST_OK);
	assert_memory_equal(h->ram + 0x10000 + 300, expect, sizeof(expect));
	memcpy(expect, h->ram + 0x10000 + 300, sizeof(expect));
	assert_int_equal(harness_dma(h, PVDMA_DEV_COPY, bus + 300, bus + 50,
				     sizeof(expect), 0)->status, PVDMA_DEV_ST_OK);
	assert_memory_equal(h->ram + 0x10000 + 50, expect, sizeof(expect));
}

/* The companion went away (QEMU closed it): its devices are not bound. */
static void test_companion_gone(void **state)
{
	struct harness *h = *state;
	u64 bus = map_ok(h, 0x10000, H_PAGE, H_RW);

	companion_destroy(&h->c);
	assert_int_equal(harness_dma(h, PVDMA_DEV_FILL, 0, bus, 16, 0)->status,
			 PVDMA_DEV_ST_NOT_BOUND);
	assert_int_equal(h->dev.stats.not_bound, 1);
}

static bool all_equal(const u8 *p, u64 len, u8 v)
{
	u64 i;

	for (i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

/*
 * A command split across slices reads the binding again each slice (the
 * guest's to change, its companion free to go): the rest moves only
 * through a domain the device may use now. A domain kept from the first
 * slice was one whose companion, IOMMU and RAM mapping were freed.
 */
static void test_split_command_loses_its_domain(void **state)
{
	struct harness *h = *state;
	u64 page = h->cfg.iommu.page_size, len = 8 * page;
	u64 bus = map_ok(h, 0x100000, len, H_RW);
	struct pvdma_dev_header *dh = harness_dhdr(h);
	struct pvdma_dev_cmd *cmd;
	bool more;

	memset(h->ram + 0x100000, 0, len);
	/* rebound to a domain it may not use: not bound from there on */
	cmd = post_cmd(h, PVDMA_DEV_FILL, 0, bus, len);
	cmd->pattern = 0x77;
	dmadev_process_slice(&h->dev, 1, &more);
	assert_true(more);
	dh->domain_peer = 12345;
	assert_int_equal(slices_until_done(h, cmd, ~0ull), 1);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_NOT_BOUND);
	assert_true(all_equal(h->ram + 0x100000, page, 0x77));
	assert_true(all_equal(h->ram + 0x100000 + page, len - page, 0));
	/* its companion gone between two slices (QEMU closed it) */
	cmd = post_cmd(h, PVDMA_DEV_FILL, 0, bus, len);
	cmd->pattern = 0x66;
	dmadev_process_slice(&h->dev, 1, &more);
	assert_true(more);
	companion_destroy(&h->c);
	assert_int_equal(slices_until_done(h, cmd, ~0ull), 1);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_NOT_BOUND);
	assert_true(all_equal(h->ram + 0x100000 + page, len - page, 0));
	assert_int_equal(h->dev.stats.not_bound, 2);
}

/*
 * A guest CPU rewrites a command (longer, elsewhere, another op), the
 * queue tail and the binding while the device is translating it: the
 * device acts on its snapshot and touches only the bytes first asked for.
 */
struct dma_race {
	struct harness *h;
	struct pvdma_dev_cmd *cmd;
	u64 evil;
	int fired;
};

static void dma_race_hook(void *ctx)
{
	struct dma_race *r = ctx;
	struct pvdma_dev_header *dh = harness_dhdr(r->h);

	if (r->fired++)
		return;
	r->cmd->op = PVDMA_DEV_FILL;
	r->cmd->dst = r->evil;
	r->cmd->len = 4 * H_PAGE;
	r->cmd->seq = 999;
	dh->sq_tail += 100;
	dh->domain_peer = 12345;
}

static void test_race_command(void **state)
{
	struct harness *h = *state;
	struct pvdma_dev_header *dh = harness_dhdr(h);
	struct race_iommu *ri = race_iommu_wrap(h->c.iommu);
	u64 dst = map_ok(h, 0x40000, H_PAGE, H_RW);
	struct dma_race r = { .h = h };
	struct pvdma_dev_cmd *cmd;
	u8 *before = malloc(H_RAM_SIZE);

	assert_non_null(ri);
	assert_non_null(before);
	h->c.iommu = &ri->iommu;
	r.evil = map_ok(h, 0x80000, 4 * H_PAGE, H_RW);
	memcpy(before, h->ram, H_RAM_SIZE);
	cmd = (struct pvdma_dev_cmd *)((u8 *)h->dshm + DMADEV_QUEUE_OFFSET) +
	      (dh->sq_tail & (h->dcfg.queue_entries - 1));
	r.cmd = cmd;
	ri->hook = dma_race_hook;
	ri->ctx = &r;
	cmd = harness_dma(h, PVDMA_DEV_FILL, 0, dst, 64, 0x3c);
	ri->hook = NULL;
	assert_true(r.fired > 0);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_OK);
	assert_int_equal(cmd->done_seq, h->seq);	/* the seq it read */
	assert_true(all_equal(h->ram + 0x40000, 64, 0x3c));
	assert_memory_equal(before, h->ram, 0x40000);
	assert_memory_equal(before + 0x40000 + 64, h->ram + 0x40000 + 64,
			    H_RAM_SIZE - 0x40000 - 64);
	/* one command consumed; the tail it moved is refused next time */
	assert_int_equal(dh->sq_head, h->dev.sq_head);
	assert_int_equal(dmadev_process(&h->dev), 0);
	assert_int_equal(h->dev.stats.bad_tail, 1);
	free(before);
}

/* A ledger for the device, as pvdmad keeps one (no fd store here), from
 * its first command on. */
static struct ledger *dev_ledger(struct harness *h)
{
	struct ledger_geometry geo;
	struct ledger *l = NULL;

	dmadev_ledger_geometry(&h->dcfg, h->dev.id, &geo);
	assert_int_equal(ledger_keep(NULL, "dma", &geo, &l), 0);
	h->dev.ledger = l;
	return l;
}

/* pvdmad killed and started again: what the process held is gone, the
 * region and the ledger are kept. */
static void dev_restart(struct harness *h)
{
	struct ledger *l = h->dev.ledger;

	assert_int_equal(dmadev_init(&h->dev, h->dshm, h->dshm_size, &h->dcfg,
				     0, 9, harness_resolve, h), 0);
	dmadev_resume(&h->dev, l);
}

#define CUT_SRC		0x100000ull	/* the command's buffer */
#define CUT_REF		0x200000ull	/* the same bytes, run without a cut */
#define CUT_SHIFT	100		/* dst = src + this: chunks overlap */

/*
 * Two mappings of 8 pages with the same bytes; on the second, an
 * overlapping COPY run whole: what a cut run on the first must end as.
 * Returns the first's bus address.
 */
static u64 cut_setup(struct harness *h, u64 len)
{
	u64 page = h->cfg.iommu.page_size, i;
	u64 bus = map_ok(h, CUT_SRC, 8 * page, H_RW);
	u64 ref = map_ok(h, CUT_REF, 8 * page, H_RW);

	for (i = 0; i < 8 * page; i++)
		h->ram[CUT_SRC + i] = h->ram[CUT_REF + i] = (u8)(i * 131 + (i >> 9));
	assert_int_equal(harness_dma(h, PVDMA_DEV_COPY, ref, ref + CUT_SHIFT,
				     len, 0)->status, PVDMA_DEV_ST_OK);
	return bus;
}

/* pvdmad restarted under the cut COPY @cmd: it goes on from where it was
 * cut, once, and ends as the reference run did. */
/* Bytes of @l's memfd that hold memory: the header page, and the stage's
 * pages while a command needs them. */
static u64 ledger_allocated(const struct ledger *l)
{
	struct stat st;

	assert_int_equal(fstat(l->fd, &st), 0);
	return (u64)st.st_blocks * 512;
}

/* ... and once the command is committed, the stage's pages are given back. */
static void cut_restart(struct harness *h, struct pvdma_dev_cmd *cmd, u64 len)
{
	dev_restart(h);
	assert_int_equal(slices_until_done(h, cmd, ~0ull), 1);
	assert_int_equal(cmd->status, PVDMA_DEV_ST_OK);
	assert_int_equal(h->dev.resumed, 1);
	assert_memory_equal(h->ram + CUT_SRC, h->ram + CUT_REF, len + CUT_SHIFT);
	assert_true(ledger_allocated(h->dev.ledger) <= 4096);
}

/*
 * pvdmad killed between two chunks of an overlapping COPY: the next one
 * goes on from the ledger's progress. Run again from its start (as it
 * was), it read bytes it had written already: other bytes than a run
 * without the kill.
 */
static void test_restart_resumes_copy(void **state)
{
	struct harness *h = *state;
	struct ledger *l = dev_ledger(h);
	u64 len = 6 * h->cfg.iommu.page_size, bus = cut_setup(h, len);
	struct pvdma_dev_cmd *cmd;
	bool more;

	cmd = post_cmd(h, PVDMA_DEV_COPY, bus, bus + CUT_SHIFT, len);
	dmadev_process_slice(&h->dev, 1, &more);	/* a chunk a slice */
	dmadev_process_slice(&h->dev, 1, &more);
	assert_true(more);
	assert_int_not_equal(cmd->done_seq, cmd->seq);
	cut_restart(h, cmd, len);
	ledger_leave(l);
}

/*
 * Killed inside a chunk whose source and destination overlap, once its
 * source was staged (the destination half written, its source changed
 * under it): the next pvdmad writes it again from the stage.
 */
static void test_restart_inside_a_chunk(void **state)
{
	struct harness *h = *state;
	struct ledger *l = dev_ledger(h);
	u64 page = h->cfg.iommu.page_size, len = 6 * page, stage_len;
	u64 bus = cut_setup(h, len), n = page - CUT_SHIFT;
	struct pvdma_dev_cmd *cmd;
	u8 *stage = ledger_stage(l, &stage_len), *s, *d;
	bool more;

	cmd = post_cmd(h, PVDMA_DEV_COPY, bus, bus + CUT_SHIFT, len);
	dmadev_process_slice(&h->dev, 1, &more);	/* [0, page - 100) */
	/* the one it ran was staged: its source is in the stage */
	assert_non_null(stage);
	assert_memory_equal(stage, h->ram + CUT_REF + CUT_SHIFT, n);
	dmadev_process_slice(&h->dev, 1, &more);	/* [page - 100, page) */
	/* The next chunk, [page, 2 page - 100), cut once staged and its
	 * destination half written: as dmadev_copy() leaves it. */
	s = h->ram + CUT_SRC + page;
	d = s + CUT_SHIFT;
	memcpy(stage, s, n);
	ledger_progress(l, &(struct ledger_progress){ .moved = page, .staged = n });
	memmove(d, s, n / 2);
	assert_true(ledger_allocated(l) >= 4096 + n);
	cut_restart(h, cmd, len);
	ledger_leave(l);
}

/*
 * Killed after the commit of an overlapping COPY, before the stage was
 * punched (the stage still holds the last chunk's source): the next
 * pvdmad, taking the ledger back, gives its pages back; the command is
 * not run again.
 */
static void test_restart_gives_the_stage_back(void **state)
{
	struct harness *h = *state;
	struct ledger *l = dev_ledger(h), *again = calloc(1, sizeof(*again));
	u64 len = 2 * h->cfg.iommu.page_size, bus = cut_setup(h, len), stage_len;
	struct ledger_geometry geo;
	struct pvdma_dev_cmd *cmd;
	u8 *stage = ledger_stage(l, &stage_len);

	assert_non_null(again);
	cmd = post_cmd(h, PVDMA_DEV_COPY, bus, bus + CUT_SHIFT, len);
	assert_int_equal(slices_until_done(h, cmd, ~0ull), 1);
	assert_true(ledger_allocated(l) <= 4096);
	memset(stage, 0xa5, stage_len);
	assert_true(ledger_allocated(l) >= 4096 + stage_len);
	dmadev_ledger_geometry(&h->dcfg, h->dev.id, &geo);
	assert_int_equal(ledger_adopt(again, dup(l->fd), &geo), 0);
	h->dev.ledger = again;
	dev_restart(h);
	assert_true(ledger_allocated(again) <= 4096);
	assert_int_equal(h->dev.resumed, 0);
	assert_int_equal(cmd->done_seq, cmd->seq);
	assert_memory_equal(h->ram + CUT_SRC, h->ram + CUT_REF, len + CUT_SHIFT);
	ledger_leave(again);
	ledger_leave(l);
}

/*
 * A progress the command can't have (past its end, more staged than is
 * left of it) is refused, not trusted: the command runs
 * again from its start, and moves what it names.
 */
static void test_restart_forged_progress(void **state)
{
	struct harness *h = *state;
	u64 page = h->cfg.iommu.page_size, len = 4 * page;
	u64 src = map_ok(h, CUT_SRC, len, H_RW), dst = map_ok(h, CUT_REF, len, H_RW);
	const struct ledger_progress forged[] = {
		{ .moved = len + page },
		{ .moved = page, .staged = 4 * page },
		{ .moved = ~0ull - 1, .staged = 2 },
	};
	struct ledger *l = dev_ledger(h);
	struct pvdma_dev_cmd *cmd;
	bool more;
	u32 i;

	for (i = 0; i < sizeof(forged) / sizeof(forged[0]); i++) {
		memset(h->ram + CUT_REF, 0, len);
		cmd = post_cmd(h, PVDMA_DEV_COPY, src, dst, len);
		dmadev_process_slice(&h->dev, 1, &more);
		assert_int_not_equal(cmd->done_seq, cmd->seq);
		ledger_progress(l, &forged[i]);
		dev_restart(h);
		assert_int_equal(slices_until_done(h, cmd, ~0ull), 1);
		assert_int_equal(cmd->status, PVDMA_DEV_ST_OK);
		assert_int_equal(h->dev.resumed, 0);
		assert_memory_equal(h->ram + CUT_REF, h->ram + CUT_SRC, len);
	}
	ledger_leave(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fill_copy_checksum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_span_mappings, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_changes_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permissions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_tail, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slices_split_a_command, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slices_charge_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_random_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_edges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_companion_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_race_command, setup, teardown),
		cmocka_unit_test_setup_teardown(test_split_command_loses_its_domain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_resumes_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_inside_a_chunk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_gives_the_stage_back, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_forged_progress, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
