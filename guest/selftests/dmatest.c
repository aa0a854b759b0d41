// SPDX-License-Identifier: GPL-2.0
/*
 * pvdma_dmatest: self-tests run at load against pvdmad's DMA device model,
 * through the standard DMA API only. Every byte the device moves is
 * checked by the CPU: FILL then compare, CHECKSUM against the CPU's
 * checksum, COPY between two buffers then compare.
 *
 * Tests (tests=all or a comma list): single kmalloc sg coherent atomic
 * timer threads cycle pressure, and "mixed" (not part of all: several
 * kthreads cycling a working set of twice the aperture in buffers of 256 B
 * to 4 MiB). Map failures are unexpected everywhere except in "pressure"
 * and "mixed" when the planner has no way to fit its live set (policy
 * other than pvdma, or bounce off), or everywhere with fail_ok=1 (the host
 * injects map failures): there they must be clean (DMA_MAPPING_ERROR,
 * nothing else disturbed) and are counted as expected. loops=N runs the
 * selected tests N times (continuous traffic for the reliability tests).
 *
 * The last line printed is the machine-readable summary:
 *   pvdma-dmatest: transfers=N mismatches=M faults=X failed_maps=F
 *   unexpected_failures=U expected_failures=E
 */
#include <linux/completion.h>
#include <linux/dma-mapping.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timer.h>
#include <linux/vmalloc.h>

#include <pvdma/planner.h>
#include <pvdma/prng.h>

#include "dmatest.h"
#include "kcompat.h"
#include "pvdma_export.h"

static char *tests = "all";
module_param(tests, charp, 0444);
MODULE_PARM_DESC(tests, "comma list of tests, or all: single,kmalloc,sg,coherent,attrs,atomic,timer,threads,cycle,pressure (mixed: only by name)");

static unsigned int threads = 4;
module_param(threads, uint, 0444);
MODULE_PARM_DESC(threads, "kthreads mapping at once in the threads test (default 4)");

static unsigned int pressure_len = 256;
module_param(pressure_len, uint, 0444);
MODULE_PARM_DESC(pressure_len, "bytes per buffer in the pressure test (default 256)");

static bool fail_ok;
module_param(fail_ok, bool, 0444);
MODULE_PARM_DESC(fail_ok, "map failures are expected (host fault injection): count them, do not fail the run");

module_param_named(set_mask, dmatest_set_mask, bool, 0644);
MODULE_PARM_DESC(set_mask, "probe sets a 64-bit DMA mask (default); 0 keeps the PCI default mask, as drivers may");

static unsigned int loops = 1;
module_param(loops, uint, 0444);
MODULE_PARM_DESC(loops, "run the selected tests this many times (default 1)");

static unsigned int mixed_ops = 96;
module_param(mixed_ops, uint, 0444);
MODULE_PARM_DESC(mixed_ops, "maps per kthread in the mixed test (default 96)");

static unsigned int hold_coherent_kb;
module_param(hold_coherent_kb, uint, 0444);
MODULE_PARM_DESC(hold_coherent_kb, "after the tests, keep a coherent buffer this large until unload (teardown tests: freed after pvdma's companion is gone; default 0, none)");

#define DT_BATCH	32
#define DT_CHUNK_ORDER	8	/* 1 MiB chunks for cycle and pressure */

/**
 * struct dt_ctx - one test's device, rules and counters
 * @d:		the DMA device
 * @dev:	its struct device (the DMA API's handle)
 * @name:	test name
 * @fail_ok:	map failures are expected here
 * @transfers:	device operations whose bytes were checked and right
 * @mismatches:	checked operations whose bytes were wrong
 * @faults:	device commands that faulted or timed out
 * @failed:	failed maps
 * @unexpected:	failed maps where none is allowed
 */
struct dt_ctx {
	struct dmatest_dev *d;
	struct device *dev;
	const char *name;
	bool fail_ok;
	atomic64_t transfers;
	atomic64_t mismatches;
	atomic64_t faults;
	atomic64_t failed;
	atomic64_t unexpected;
};

/* The DMA devices pvdma serves, in probe order; tests use the first. */
#define DT_MAX_DEVS	4
static struct dmatest_dev *dt_devs[DT_MAX_DEVS];
static unsigned int dt_ndevs;

static struct pvdma_host_limits dt_limits;

/* The coherent buffer hold_coherent_kb keeps until unload. */
static struct {
	struct device *dev;
	void *cpu;
	dma_addr_t bus;
	size_t len;
} dt_held;
static u64 dt_tot[5];	/* transfers, mismatches, faults, failed, unexpected */
static u64 dt_expected;

/* ---- helpers ------------------------------------------------------------ */

/* Bytes fixed by @seed (lib's PRNG), eight from each draw. */
static void dt_random(void *buf, size_t len, u64 seed)
{
	struct pvdma_prng r;
	u8 *p = buf;
	u64 x = 0;
	size_t i;

	pvdma_prng_seed(&r, seed);
	for (i = 0; i < len; i++) {
		if (!(i & 7))
			x = pvdma_prng_next(&r);
		p[i] = (u8)(x >> (8 * (i & 7)));
	}
}

static bool dt_mapped(struct dt_ctx *t, dma_addr_t addr)
{
	if (!dma_mapping_error(t->dev, addr))
		return true;
	atomic64_inc(&t->failed);
	if (!t->fail_ok) {
		atomic64_inc(&t->unexpected);
		pr_err("pvdma-dmatest: %s: unexpected map failure\n", t->name);
	}
	return false;
}

static void dt_check(struct dt_ctx *t, bool ok, const char *what)
{
	if (ok) {
		atomic64_inc(&t->transfers);
		return;
	}
	if (atomic64_inc_return(&t->mismatches) <= 5)
		pr_err("pvdma-dmatest: %s: %s: bytes differ\n", t->name, what);
}

/* Run @n commands on @d; count faults. Returns true if all succeeded. */
static bool dt_run_on(struct dt_ctx *t, struct dmatest_dev *d,
		      struct dmatest_cmd *c, u32 n)
{
	bool ok = true;
	u32 i;

	if (dmatest_dev_run(d, c, n)) {
		atomic64_add(n, &t->faults);
		pr_err_ratelimited("pvdma-dmatest: %s: device did not answer\n",
				   t->name);
		return false;
	}
	for (i = 0; i < n; i++) {
		if (c[i].status == PVDMA_DEV_ST_OK)
			continue;
		ok = false;
		if (atomic64_inc_return(&t->faults) <= 5)
			pr_err("pvdma-dmatest: %s: device status %u at bus %#llx\n",
			       t->name, c[i].status, c[i].fault_bus);
	}
	return ok;
}

/* Run @n commands on the test's device. */
static bool dt_run(struct dt_ctx *t, struct dmatest_cmd *c, u32 n)
{
	return dt_run_on(t, t->d, c, n);
}

/*
 * Device FILL (@pat) or COPY (from @src) of [dst, dst + len), split at the
 * device's max_len and sent DT_BATCH commands at a time.
 */
static bool dt_move(struct dt_ctx *t, u16 op, dma_addr_t dst, dma_addr_t src,
		    size_t len, u8 pat)
{
	struct dmatest_cmd c[DT_BATCH];
	u32 n = 0;
	bool ok = true;

	while (len) {
		u64 piece = min_t(u64, len, t->d->max_len);

		c[n] = (struct dmatest_cmd){ .op = op, .src = src, .dst = dst,
					     .len = piece, .pattern = pat };
		if (op == PVDMA_DEV_COPY)
			src += piece;
		dst += piece;
		len -= piece;
		if (++n == DT_BATCH || !len) {
			ok &= dt_run(t, c, n);
			n = 0;
		}
	}
	return ok;
}

static bool dt_fill(struct dt_ctx *t, dma_addr_t dst, size_t len, u8 pat)
{
	return dt_move(t, PVDMA_DEV_FILL, dst, 0, len, pat);
}

static bool dt_copy(struct dt_ctx *t, dma_addr_t dst, dma_addr_t src,
		    size_t len)
{
	return dt_move(t, PVDMA_DEV_COPY, dst, src, len, 0);
}

/* Device CHECKSUM of [src, + len) against the CPU's view of @cpu. */
static void dt_sum_check(struct dt_ctx *t, dma_addr_t src, const void *cpu,
			 size_t len, const char *what)
{
	struct dmatest_cmd c[DT_BATCH];
	const u8 *p = cpu, *start = cpu;
	bool same = true;
	u32 n = 0, i;

	while (len) {
		u64 piece = min_t(u64, len, t->d->max_len);

		c[n] = (struct dmatest_cmd){ .op = PVDMA_DEV_CHECKSUM,
					     .src = src, .len = piece };
		src += piece;
		len -= piece;
		if (++n < DT_BATCH && len)
			continue;
		if (!dt_run(t, c, n))
			return;
		for (i = 0; i < n; i++) {
			same &= c[i].result ==
				pvdma_checksum(PVDMA_CHECKSUM_SEED, p, c[i].len);
			p += c[i].len;
		}
		n = 0;
	}
	dt_check(t, same && p != start, what);
}

/* ---- tests ---------------------------------------------------------------- */

/*
 * DMA masks below the host's bus addresses: each map must fail or come
 * back within the mask (dma-direct refuses past it, dma-iommu allocates
 * below it). pvdma's dma_supported() refuses such a mask, so it is
 * written here as a dma_set_mask() under dma-direct, before pvdma took
 * the device over, leaves it; 12 bits: below every bus page but page 0.
 */
static void dt_mask_round(struct dt_ctx *t)
{
	u64 mask = *t->dev->dma_mask, cmask = t->dev->coherent_dma_mask;
	const u64 low = DMA_BIT_MASK(12);
	struct scatterlist sg;
	dma_addr_t a;
	void *buf, *cpu;
	int n;

	buf = kmalloc(256, GFP_KERNEL);
	if (!buf)
		return;
	*t->dev->dma_mask = low;
	t->dev->coherent_dma_mask = low;
	a = dma_map_single(t->dev, buf, 256, DMA_TO_DEVICE);
	dt_check(t, dma_mapping_error(t->dev, a) || a + 255 <= low,
		 "map_single within the DMA mask");
	if (!dma_mapping_error(t->dev, a))
		dma_unmap_single(t->dev, a, 256, DMA_TO_DEVICE);
	sg_init_one(&sg, buf, 256);
	n = dma_map_sg(t->dev, &sg, 1, DMA_TO_DEVICE);
	dt_check(t, !n || sg_dma_address(&sg) + 255 <= low,
		 "map_sg within the DMA mask");
	if (n)
		dma_unmap_sg(t->dev, &sg, 1, DMA_TO_DEVICE);
	cpu = dma_alloc_coherent(t->dev, PAGE_SIZE, &a, GFP_KERNEL);
	dt_check(t, !cpu || a + PAGE_SIZE - 1 <= low,
		 "coherent allocation within the coherent DMA mask");
	if (cpu)
		dma_free_coherent(t->dev, PAGE_SIZE, cpu, a);
	*t->dev->dma_mask = mask;
	t->dev->coherent_dma_mask = cmask;
	kfree(buf);
}

static void dt_test_single(struct dt_ctx *t)
{
	static const unsigned int offs[] = { 0, 64, 1000, PAGE_SIZE - 1 };
	struct page *page;
	dma_addr_t a;
	unsigned int i, k;
	u8 *buf;

	for (i = 0; i < 32; i++) {
		page = alloc_page(GFP_KERNEL);
		if (!page)
			return;
		buf = page_address(page);
		for (k = 0; k < ARRAY_SIZE(offs); k++) {
			size_t len = PAGE_SIZE - offs[k];
			u8 pat = 0x11 * (k + 1) + i;

			memset(buf, 0, PAGE_SIZE);
			a = dma_map_page(t->dev, page, offs[k], len, DMA_FROM_DEVICE);
			if (!dt_mapped(t, a))
				continue;
			dt_fill(t, a, len, pat);
			dma_unmap_page(t->dev, a, len, DMA_FROM_DEVICE);
			dt_check(t, !memchr_inv(buf + offs[k], pat, len) &&
				 !memchr_inv(buf, 0, offs[k]), "page fill");
		}
		dt_random(buf, PAGE_SIZE, i);
		a = dma_map_page(t->dev, page, 0, PAGE_SIZE, DMA_TO_DEVICE);
		if (dt_mapped(t, a)) {
			dt_sum_check(t, a, buf, PAGE_SIZE, "page checksum");
			dma_unmap_page(t->dev, a, PAGE_SIZE, DMA_TO_DEVICE);
		}
		__free_page(page);
	}
	dt_mask_round(t);
}

static void dt_copy_buffers(struct dt_ctx *t, u8 *src, u8 *dst, size_t len,
			    u64 seed)
{
	dma_addr_t as, ad;

	dt_random(src, len, seed);
	memset(dst, 0, len);
	as = dma_map_single(t->dev, src, len, DMA_TO_DEVICE);
	if (!dt_mapped(t, as))
		return;
	ad = dma_map_single(t->dev, dst, len, DMA_FROM_DEVICE);
	if (dt_mapped(t, ad)) {
		dt_copy(t, ad, as, len);
		dma_unmap_single(t->dev, ad, len, DMA_FROM_DEVICE);
		dt_check(t, !memcmp(src, dst, len), "copy");
	}
	dma_unmap_single(t->dev, as, len, DMA_TO_DEVICE);
}

static void dt_test_kmalloc(struct dt_ctx *t)
{
	static const size_t sizes[] = { 1, 13, 64, 100, 511, 4096, 5000, 16384,
					65536, 200000 };
	unsigned int i, r;
	dma_addr_t a;
	u8 *src, *dst;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		for (r = 0; r < 4; r++) {
			src = kmalloc(sizes[i], GFP_KERNEL);
			dst = kmalloc(sizes[i], GFP_KERNEL);
			if (src && dst) {
				dt_copy_buffers(t, src, dst, sizes[i], i * 8 + r);
				/* Bidirectional: the device reads, then writes. */
				a = dma_map_single(t->dev, dst, sizes[i],
						   DMA_BIDIRECTIONAL);
				if (dt_mapped(t, a)) {
					dt_sum_check(t, a, dst, sizes[i], "bidir checksum");
					dt_fill(t, a, sizes[i], 0xc3);
					dma_unmap_single(t->dev, a, sizes[i],
							 DMA_BIDIRECTIONAL);
					dt_check(t, !memchr_inv(dst, 0xc3, sizes[i]),
						 "bidir fill");
				}
			}
			kfree(src);
			kfree(dst);
		}
	}
}

/* One sg list of @n non-contiguous pages (every other page allocated). */
static void dt_sg_round(struct dt_ctx *t, unsigned int n)
{
	struct page **pages;
	struct dmatest_cmd *c;
	struct scatterlist *sg;
	struct sg_table sgt;
	unsigned int i;
	int ret;

	pages = kcalloc(2 * n, sizeof(*pages), GFP_KERNEL);
	c = kcalloc(n, sizeof(*c), GFP_KERNEL);
	if (!pages || !c || sg_alloc_table(&sgt, n, GFP_KERNEL))
		goto out_free;
	for (i = 0; i < 2 * n; i++)
		pages[i] = alloc_page(GFP_KERNEL);
	for (i = 0; i < 2 * n; i++)
		if (!pages[i])
			goto out_pages;
	for_each_sgtable_sg(&sgt, sg, i) {
		unsigned int off = (i % 3 == 1) ? 128 : 0;
		unsigned int len = (i % 3 == 2) ? 1000 : PAGE_SIZE - off;

		sg_set_page(sg, pages[2 * i + 1], len, off);
		dt_random(sg_virt(sg), len, i + n);
	}
	/* The device reads every segment. */
	ret = dma_map_sgtable(t->dev, &sgt, DMA_TO_DEVICE, 0);
	if (ret) {
		dt_mapped(t, DMA_MAPPING_ERROR);
	} else {
		for_each_sgtable_dma_sg(&sgt, sg, i)
			c[i] = (struct dmatest_cmd){ .op = PVDMA_DEV_CHECKSUM,
						     .src = sg_dma_address(sg),
						     .len = sg_dma_len(sg) };
		if (dt_run(t, c, n))
			for_each_sgtable_sg(&sgt, sg, i)
				dt_check(t, c[i].result ==
					 pvdma_checksum(PVDMA_CHECKSUM_SEED,
							sg_virt(sg), sg->length),
					 "sg checksum");
		dma_unmap_sgtable(t->dev, &sgt, DMA_TO_DEVICE, 0);
	}
	/* The device writes every segment. */
	ret = dma_map_sgtable(t->dev, &sgt, DMA_FROM_DEVICE, 0);
	if (ret) {
		dt_mapped(t, DMA_MAPPING_ERROR);
		goto out_pages;
	}
	for_each_sgtable_dma_sg(&sgt, sg, i)
		c[i] = (struct dmatest_cmd){ .op = PVDMA_DEV_FILL,
					     .dst = sg_dma_address(sg),
					     .len = sg_dma_len(sg),
					     .pattern = (u8)(i + 1) };
	ret = dt_run(t, c, n);
	dma_unmap_sgtable(t->dev, &sgt, DMA_FROM_DEVICE, 0);
	if (ret)
		for_each_sgtable_sg(&sgt, sg, i)
			dt_check(t, !memchr_inv(sg_virt(sg), (u8)(i + 1),
						sg->length), "sg fill");
out_pages:
	for (i = 0; i < 2 * n; i++)
		if (pages[i])
			__free_page(pages[i]);
	sg_free_table(&sgt);
out_free:
	kfree(c);
	kfree(pages);
}

/*
 * A device with a segment boundary of @bound bytes (a power of two): @n
 * entries of 3/4 @bound, each a quarter in from a @bound-aligned block,
 * so none crosses a boundary in guest-physical memory. dma-api.rst: no
 * DMA segment may cross one either (dma-debug's check_sg_segment); the
 * bus addresses are the host's, so a map must keep them inside or fail
 * with -EINVAL. Bytes are checked. With @spaced every other entry is the
 * first half of its block instead: a host that places each window at
 * the lowest free address congruent to its guest-physical one then puts
 * the long entries half a boundary apart, so that some cross whatever
 * the bus space held before.
 */
static void dt_sg_boundary_round(struct dt_ctx *t, size_t bound,
				 unsigned int n, bool spaced)
{
	unsigned long old = dma_get_seg_boundary(t->dev);
	unsigned int order = get_order(bound), i;
	struct page *blocks[8] = {};
	struct scatterlist *sg;
	struct sg_table sgt;
	int ret;

	if (order > PVDMA_MAX_PAGE_ORDER || n > ARRAY_SIZE(blocks))
		return;
	/* Its return value went in 6.12: read the boundary back instead. */
	dma_set_seg_boundary(t->dev, bound - 1);
	if (dma_get_seg_boundary(t->dev) != bound - 1)
		return;
	if (sg_alloc_table(&sgt, n, GFP_KERNEL))
		goto out_bound;
	for (i = 0; i < n; i++) {
		blocks[i] = alloc_pages(GFP_KERNEL | __GFP_NOWARN, order);
		if (!blocks[i])
			goto out_pages;
	}
	for_each_sgtable_sg(&sgt, sg, i) {
		if (spaced && i % 2)
			sg_set_page(sg, blocks[i], bound / 2, 0);
		else
			sg_set_page(sg, blocks[i], bound - bound / 4,
				    bound / 4);
		dt_random(sg_virt(sg), sg->length, bound + i);
	}
	ret = dma_map_sgtable(t->dev, &sgt, DMA_TO_DEVICE, 0);
	if (ret == -EINVAL) {
		/*
		 * Refused where the host's placement crosses the boundary
		 * (above its alignment it keeps no congruence): clean, and
		 * not a failed map of the run's budget.
		 */
		pr_info("pvdma-dmatest: sg: boundary %#zx: map refused (%d)\n",
			bound, ret);
		goto out_pages;
	}
	if (ret) {
		dt_mapped(t, DMA_MAPPING_ERROR);
		goto out_pages;
	}
	for_each_sgtable_dma_sg(&sgt, sg, i) {
		u64 a = sg_dma_address(sg), e = a + sg_dma_len(sg) - 1;
		bool inside = !((a ^ e) & ~(u64)(bound - 1));

		dt_check(t, inside,
			 "sg segment inside the device's segment boundary");
		if (!inside)
			pr_err("pvdma-dmatest: sg: boundary %#zx: segment [%#llx, %#llx] crosses it\n",
			       bound, a, e);
	}
	for_each_sgtable_dma_sg(&sgt, sg, i)
		dt_sum_check(t, sg_dma_address(sg), sg_virt(sg),
			     sg_dma_len(sg), "sg boundary checksum");
	dma_unmap_sgtable(t->dev, &sgt, DMA_TO_DEVICE, 0);
out_pages:
	for (i = 0; i < n; i++)
		if (blocks[i])
			__free_pages(blocks[i], order);
	sg_free_table(&sgt);
out_bound:
	dma_set_seg_boundary(t->dev, old);
}

static void dt_test_sg(struct dt_ctx *t)
{
	dt_sg_round(t, 16);
	dt_sg_round(t, 64);
	dt_sg_round(t, 300);
	dt_sg_round(t, 1500);
	dt_sg_boundary_round(t, SZ_64K, 8, false);
	dt_sg_boundary_round(t, SZ_1M, 8, false);
	dt_sg_boundary_round(t, SZ_64K, 8, true);
	dt_sg_boundary_round(t, SZ_1M, 8, true);
	dt_sg_boundary_round(t, SZ_4M, 8, true);
}

static u64 dt_order_mask(size_t size)
{
	return ((u64)PAGE_SIZE << get_order(size)) - 1;
}

static void dt_test_coherent(struct dt_ctx *t)
{
	static const size_t sizes[] = { 4096, 65536, 1 << 20 };
	struct page *page;
	unsigned int i;
	dma_addr_t a;
	void *cpu;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		cpu = dma_alloc_coherent(t->dev, sizes[i], &a, GFP_KERNEL);
		if (!dt_mapped(t, cpu ? a : DMA_MAPPING_ERROR))
			continue;
		/* dma-api.rst: both aligned to the allocation's page order. */
		dt_check(t, !(a & dt_order_mask(sizes[i])) &&
			 !((unsigned long)cpu & dt_order_mask(sizes[i])),
			 "coherent: addresses aligned to the allocation's order");
		dt_random(cpu, sizes[i], i);
		dt_sum_check(t, a, cpu, sizes[i], "coherent checksum");
		dt_fill(t, a, sizes[i], 0x3c);
		dt_check(t, !memchr_inv(cpu, 0x3c, sizes[i]), "coherent fill");
		dma_free_coherent(t->dev, sizes[i], cpu, a);

		page = dma_alloc_pages(t->dev, sizes[i], &a, DMA_BIDIRECTIONAL,
				       GFP_KERNEL);
		if (!dt_mapped(t, page ? a : DMA_MAPPING_ERROR))
			continue;
		dt_fill(t, a, sizes[i], 0x7e);
		dma_sync_single_for_cpu(t->dev, a, sizes[i], DMA_BIDIRECTIONAL);
		dt_check(t, !memchr_inv(page_address(page), 0x7e, sizes[i]),
			 "dma_alloc_pages fill");
		dma_free_pages(t->dev, sizes[i], page, a, DMA_BIDIRECTIONAL);
	}
}

/* Map, fill, unmap with interrupts off under a spinlock. */
static void dt_test_atomic(struct dt_ctx *t)
{
	static DEFINE_SPINLOCK(dt_lock);
	unsigned long flags;
	unsigned int i;
	dma_addr_t a;
	bool ok;
	u8 *buf;

	for (i = 0; i < 64; i++) {
		size_t len = 512 + 97 * i;

		buf = kzalloc(len, GFP_KERNEL);
		if (!buf)
			return;
		spin_lock_irqsave(&dt_lock, flags);
		a = dma_map_single(t->dev, buf, len, DMA_FROM_DEVICE);
		ok = !dma_mapping_error(t->dev, a);
		if (ok) {
			dt_fill(t, a, len, 0x42 + i);
			dma_unmap_single(t->dev, a, len, DMA_FROM_DEVICE);
		}
		spin_unlock_irqrestore(&dt_lock, flags);
		if (dt_mapped(t, a))
			dt_check(t, !memchr_inv(buf, 0x42 + i, len), "atomic fill");
		kfree(buf);
	}
}

struct dt_timer {
	struct timer_list timer;
	struct completion done;
	struct dt_ctx *t;
	u8 *buf;
	size_t len;
	int rounds;
};

/* Softirq context: map with GFP-free paths only, poll the device. */
static void dt_timer_fn(struct timer_list *tl)
{
	struct dt_timer *dtt = timer_container_of(dtt, tl, timer);
	struct dt_ctx *t = dtt->t;
	u8 pat = 0x90 + dtt->rounds;
	dma_addr_t a;

	memset(dtt->buf, 0, dtt->len);
	a = dma_map_single(t->dev, dtt->buf, dtt->len, DMA_FROM_DEVICE);
	if (dt_mapped(t, a)) {
		dt_fill(t, a, dtt->len, pat);
		dma_unmap_single(t->dev, a, dtt->len, DMA_FROM_DEVICE);
		dt_check(t, !memchr_inv(dtt->buf, pat, dtt->len), "timer fill");
	}
	if (--dtt->rounds > 0)
		mod_timer(&dtt->timer, jiffies + 1);
	else
		complete(&dtt->done);
}

static void dt_test_timer(struct dt_ctx *t)
{
	struct dt_timer dtt = { .t = t, .len = 3000, .rounds = 32 };

	dtt.buf = kmalloc(dtt.len, GFP_KERNEL);
	if (!dtt.buf)
		return;
	init_completion(&dtt.done);
	timer_setup_on_stack(&dtt.timer, dt_timer_fn, 0);
	mod_timer(&dtt.timer, jiffies + 1);
	if (!wait_for_completion_timeout(&dtt.done, 30 * HZ)) {
		pr_err("pvdma-dmatest: timer: did not finish\n");
		atomic64_inc(&t->faults);
	}
	timer_delete_sync(&dtt.timer);
	timer_destroy_on_stack(&dtt.timer);
	kfree(dtt.buf);
}

struct dt_thread {
	struct dt_ctx *t;
	struct completion done;
	unsigned int id;
};

static int dt_thread_fn(void *arg)
{
	struct dt_thread *th = arg;
	unsigned int i;
	u8 *src, *dst;

	for (i = 0; i < 48; i++) {
		size_t len = 1 + ((i * 7919 + th->id * 104729) % 32768);

		src = kmalloc(len, GFP_KERNEL);
		dst = kmalloc(len, GFP_KERNEL);
		if (src && dst)
			dt_copy_buffers(th->t, src, dst, len, th->id * 1000 + i);
		kfree(src);
		kfree(dst);
		cond_resched();
	}
	complete(&th->done);
	return 0;
}

static void dt_test_threads(struct dt_ctx *t)
{
	unsigned int i, n = clamp(threads, 1u, 16u);
	struct dt_thread *th;
	struct task_struct *task;

	th = kcalloc(n, sizeof(*th), GFP_KERNEL);
	if (!th)
		return;
	for (i = 0; i < n; i++) {
		th[i].t = t;
		th[i].id = i;
		init_completion(&th[i].done);
		task = kthread_run(dt_thread_fn, &th[i], "pvdma-dt/%u", i);
		if (IS_ERR(task))
			complete(&th[i].done);
	}
	for (i = 0; i < n; i++)
		wait_for_completion(&th[i].done);
	kfree(th);
}

/* 1 MiB chunks totalling about @bytes; returns how many were allocated. */
static unsigned int dt_alloc_chunks(struct page ***out, u64 bytes)
{
	unsigned int i, n = DIV_ROUND_UP_ULL(bytes, PAGE_SIZE << DT_CHUNK_ORDER);
	struct page **ch = kvcalloc(n, sizeof(*ch), GFP_KERNEL);

	*out = ch;
	if (!ch)
		return 0;
	for (i = 0; i < n; i++) {
		ch[i] = alloc_pages(GFP_KERNEL | __GFP_NOWARN, DT_CHUNK_ORDER);
		if (!ch[i])
			break;
	}
	return i;
}

static void dt_free_chunks(struct page **ch, unsigned int n)
{
	while (n--)
		__free_pages(ch[n], DT_CHUNK_ORDER);
	kvfree(ch);
}

/*
 * A working set of 1.5x the aperture cycled through with only 8 MiB live
 * at a time: idle windows must make room, no map may fail.
 */
static void dt_test_cycle(struct dt_ctx *t)
{
	const size_t len = PAGE_SIZE << DT_CHUNK_ORDER;
	const unsigned int live = 8;
	dma_addr_t ring[8];
	struct page **ch;
	unsigned int n, i;

	n = dt_alloc_chunks(&ch, dt_limits.aperture_bytes * 3 / 2);
	pr_info("pvdma-dmatest: cycle: %u MiB through a %llu MiB aperture, %u MiB live\n",
		n, dt_limits.aperture_bytes >> 20, live);
	for (i = 0; i < n + live; i++) {
		if (i >= live && ring[i % live] != DMA_MAPPING_ERROR) {
			unsigned int j = i - live;

			dma_unmap_page(t->dev, ring[i % live], len, DMA_FROM_DEVICE);
			dt_check(t, !memchr_inv(page_address(ch[j]), (u8)(j + 1), len),
				 "cycle fill");
		}
		if (i >= n)
			continue;
		ring[i % live] = dma_map_page(t->dev, ch[i], 0, len, DMA_FROM_DEVICE);
		if (!dt_mapped(t, ring[i % live]))
			ring[i % live] = DMA_MAPPING_ERROR;
		else
			dt_fill(t, ring[i % live], len, (u8)(i + 1));
	}
	dt_free_chunks(ch, n);
}

/* ---- DMA attributes ------------------------------------------------------ */

/* An attribute bit no kernel defines: pvdma must refuse it, not drop it. */
#define DT_ATTR_UNKNOWN		BIT(30)

/* Segments the test's device has had bounced so far. */
static u64 dt_bounced(struct dt_ctx *t)
{
	struct pvdma_dev_stats st;

	return pvdma_dev_stats(t->dev, &st) ? 0 : st.bounced_segments;
}

/*
 * Device memory (DMA_ATTR_MMIO; map_resource before 6.19): pvdma maps
 * the range itself, no RAM check and no bounce. A RAM page stands in for
 * device memory so the bytes can be checked: the device's FILL must be
 * in the page before any unmap or sync, as no copy is involved.
 */
static dma_addr_t dt_map_mmio(struct dt_ctx *t, struct page *page, size_t len)
{
#ifdef DMA_ATTR_MMIO
	return dma_map_phys(t->dev, page_to_phys(page), len, DMA_FROM_DEVICE,
			    DMA_ATTR_MMIO);
#else
	return dma_map_page_attrs(t->dev, page, 0, len, DMA_FROM_DEVICE,
				  PVDMA_DMA_ATTR_MMIO);
#endif
}

static void dt_unmap_mmio(struct dt_ctx *t, dma_addr_t a, size_t len)
{
#ifdef DMA_ATTR_MMIO
	dma_unmap_phys(t->dev, a, len, DMA_FROM_DEVICE, DMA_ATTR_MMIO);
#else
	dma_unmap_page_attrs(t->dev, a, len, DMA_FROM_DEVICE,
			     PVDMA_DMA_ATTR_MMIO);
#endif
}

static void dt_test_attrs(struct dt_ctx *t)
{
	struct page *page = alloc_page(GFP_KERNEL);
	u8 *buf;
	dma_addr_t a;
	u64 b0;

	if (!page)
		return;
	buf = page_address(page);
	memset(buf, 0, PAGE_SIZE);
	b0 = dt_bounced(t);
	a = dt_map_mmio(t, page, PAGE_SIZE);
	if (dt_mapped(t, a)) {
		dt_fill(t, a, PAGE_SIZE, 0x6b);
		dt_check(t, !memchr_inv(buf, 0x6b, PAGE_SIZE) &&
			 dt_bounced(t) == b0, "mmio: the range itself, no bounce");
		dt_unmap_mmio(t, a, PAGE_SIZE);
	}
	a = dma_map_page_attrs(t->dev, page, 0, PAGE_SIZE, DMA_TO_DEVICE,
			       DT_ATTR_UNKNOWN);
	dt_check(t, dma_mapping_error(t->dev, a), "unknown attribute refused");
	if (!dma_mapping_error(t->dev, a))
		dma_unmap_page(t->dev, a, PAGE_SIZE, DMA_TO_DEVICE);
	__free_page(page);
}

/*
 * REQUIRE_COHERENT with the aperture full: a window of its own or a
 * clean failure, never the bounce pool (a copy is not coherent).
 */
static void dt_attr_coherent_pressed(struct dt_ctx *t, u8 *buf, size_t len)
{
	u64 b0 = dt_bounced(t);
	dma_addr_t a;

	memset(buf, 0, len);
	a = dma_map_single_attrs(t->dev, buf, len, DMA_FROM_DEVICE,
				 PVDMA_DMA_ATTR_REQUIRE_COHERENT);
	if (dma_mapping_error(t->dev, a)) {
		dt_check(t, dt_bounced(t) == b0,
			 "require-coherent: refused, not bounced");
		return;
	}
	dt_fill(t, a, len, 0x5d);
	dt_check(t, dt_bounced(t) == b0 && !memchr_inv(buf, 0x5d, len),
		 "require-coherent: mapped, not bounced");
	dma_unmap_single_attrs(t->dev, a, len, DMA_FROM_DEVICE,
			       PVDMA_DMA_ATTR_REQUIRE_COHERENT);
}

/*
 * Map with SKIP_CPU_SYNC; true if mapped. With the aperture full the pool
 * serves it, what is tested; but the buffer's 16 KiB page may already lie
 * in a window a live pressure buffer holds (kmalloc placed it beside
 * one): then that window serves it, and the checks below hold for it too,
 * without reaching the pool. Said, not failed: where it lands is the
 * allocator's choice, not pvdma's.
 */
static bool dt_map_skip(struct dt_ctx *t, u8 *buf, size_t len,
			enum dma_data_direction dir, dma_addr_t *a)
{
	u64 b0 = dt_bounced(t);

	*a = dma_map_single_attrs(t->dev, buf, len, dir,
				  DMA_ATTR_SKIP_CPU_SYNC);
	if (!dt_mapped(t, *a))
		return false;
	if (dt_bounced(t) == b0)
		pr_info("pvdma-dmatest: %s: skip-cpu-sync: served by a window, not the bounce pool\n",
			t->name);
	return true;
}

/*
 * SKIP_CPU_SYNC on a bounced mapping. The map still fills the slot from
 * the buffer, as swiotlb does: the attribute says the buffer is already
 * the device's (another device's mapping of it synced it, a dma-buf
 * import), so the device must read its bytes with no sync, and bytes it
 * does not write must come back as they were, never another mapping's
 * left in the pool. Only the unmap's copy back is skipped: the device
 * writes half a buffer, sync_for_cpu of all of it brings that half and
 * leaves the other, and an unmap leaves what the CPU wrote after; the
 * explicit syncs copy as without the attribute.
 */
static void dt_attr_skip_sync_pressed(struct dt_ctx *t, u8 *buf, size_t len)
{
	struct dmatest_cmd c = { .op = PVDMA_DEV_CHECKSUM, .len = len };
	size_t half = len / 2;
	u64 want;
	dma_addr_t a;
	bool ok;

	dt_random(buf, len, 0x5ca1ab1e);
	want = pvdma_checksum(PVDMA_CHECKSUM_SEED, buf, len);
	if (!dt_map_skip(t, buf, len, DMA_TO_DEVICE, &a))
		return;
	c.src = a;
	ok = dt_run(t, &c, 1);
	dt_check(t, ok && c.result == want,
		 "skip-cpu-sync: the device reads the buffer's bytes with no sync");
	dt_random(buf, len, 0x5ca1ab1f);
	want = pvdma_checksum(PVDMA_CHECKSUM_SEED, buf, len);
	dma_sync_single_for_device(t->dev, a, len, DMA_TO_DEVICE);
	ok = dt_run(t, &c, 1);
	dt_check(t, ok && c.result == want,
		 "skip-cpu-sync: sync_for_device brings what the CPU wrote");
	dma_unmap_single_attrs(t->dev, a, len, DMA_TO_DEVICE,
			       DMA_ATTR_SKIP_CPU_SYNC);

	memset(buf, 0x11, len);
	if (!dt_map_skip(t, buf, len, DMA_FROM_DEVICE, &a))
		return;
	ok = dt_fill(t, a, half, 0xa7);
	dma_sync_single_for_cpu(t->dev, a, len, DMA_FROM_DEVICE);
	dt_check(t, ok && !memchr_inv(buf, 0xa7, half) &&
		 !memchr_inv(buf + half, 0x11, len - half),
		 "skip-cpu-sync: bytes the device did not write come back unchanged");
	memset(buf, 0x22, len);
	dma_unmap_single_attrs(t->dev, a, len, DMA_FROM_DEVICE,
			       DMA_ATTR_SKIP_CPU_SYNC);
	dt_check(t, !memchr_inv(buf, 0x22, len),
		 "skip-cpu-sync: unmap copies nothing back");
}

/* The attribute checks that need a full aperture (inside pressure). */
static void dt_attrs_pressed(struct dt_ctx *t)
{
	size_t len = 256;
	u8 *buf = kmalloc(len, GFP_KERNEL);

	if (!buf)
		return;
	/* First: the coherent map's window could serve the buffer after. */
	if (dt_limits.bounce != PVDMA_BOUNCE_OFF)
		dt_attr_skip_sync_pressed(t, buf, len);
	dt_attr_coherent_pressed(t, buf, len);
	kfree(buf);
}

/*
 * Device @k's share of the pressure buffers (every dt_ndevs-th one): the
 * device reads each (checksum) and overwrites it, DT_BATCH at a time.
 */
static void dt_pressure_dev(struct dt_ctx *t, unsigned int k, u8 **buf,
			    const dma_addr_t *a, unsigned int nbuf, size_t len)
{
	struct dmatest_dev *d = dt_devs[k];
	struct dmatest_cmd c[DT_BATCH];
	u32 idx[DT_BATCH];
	unsigned int i, j, n = 0;

	for (i = k; i < nbuf; i += dt_ndevs) {
		if (a[i] != DMA_MAPPING_ERROR) {
			idx[n] = i;
			c[n++] = (struct dmatest_cmd){ .op = PVDMA_DEV_CHECKSUM,
						       .src = a[i], .len = len };
		}
		/* The last batch goes out even if the last map failed. */
		if (!n || (n < DT_BATCH && i + dt_ndevs < nbuf))
			continue;
		if (dt_run_on(t, d, c, n))
			for (j = 0; j < n; j++)
				dt_check(t, c[j].result ==
					 pvdma_checksum(PVDMA_CHECKSUM_SEED,
							buf[idx[j]], len),
					 "pressure checksum");
		for (j = 0; j < n; j++)
			c[j] = (struct dmatest_cmd){ .op = PVDMA_DEV_FILL,
						     .dst = a[idx[j]], .len = len,
						     .pattern = (u8)(idx[j] + 7) };
		dt_run_on(t, d, c, n);
		n = 0;
	}
}

/* Each device's own statistics moved by its share, and nothing is left. */
static void dt_pressure_dev_stats(struct dt_ctx *t,
				  const struct pvdma_dev_stats *before,
				  unsigned int nbuf)
{
	struct pvdma_dev_stats after;
	unsigned int k, share;
	u64 calls;

	for (k = 0; k < dt_ndevs; k++) {
		share = nbuf / dt_ndevs + (k < nbuf % dt_ndevs);
		if (pvdma_dev_stats(&dt_devs[k]->pdev->dev, &after)) {
			dt_check(t, false, "per-device statistics");
			continue;
		}
		calls = after.map_calls - before[k].map_calls;
		pr_info("pvdma-dmatest: pressure: device %s: %llu maps (%u buffers), %llu bounced, %llu failed, %llu bytes live after\n",
			pci_name(dt_devs[k]->pdev), calls, share,
			after.bounced_segments - before[k].bounced_segments,
			after.failed_maps - before[k].failed_maps,
			after.live_bytes);
		dt_check(t, calls >= share && after.live_bytes == 0,
			 "per-device statistics");
	}
}

/*
 * Many small buffers, one per IOMMU page across 1.25x the aperture, all
 * mapped at once, shared out among the DMA devices (one domain, one
 * budget): no set of windows fits them. With bounce they must all map
 * and move the right bytes; without, some maps fail cleanly and the rest
 * still work, and everything maps again once they are released. While
 * the aperture is full, the attribute checks run (dt_attrs_pressed()).
 */
static void dt_test_pressure(struct dt_ctx *t)
{
	u64 stride = dt_limits.page_size;
	size_t len = clamp_t(size_t, pressure_len, 1, stride);
	unsigned int per = (PAGE_SIZE << DT_CHUNK_ORDER) / stride;
	struct pvdma_dev_stats before[DT_MAX_DEVS] = { };
	unsigned int nbuf, nch, i, k;
	struct page **ch;
	dma_addr_t *a;
	u8 **buf;

	nbuf = dt_limits.aperture_bytes / stride * 5 / 4;
	nch = dt_alloc_chunks(&ch, (u64)nbuf * stride);
	nbuf = min(nbuf, nch * per);
	a = kvcalloc(nbuf, sizeof(*a), GFP_KERNEL);
	buf = kvcalloc(nbuf, sizeof(*buf), GFP_KERNEL);
	if (!a || !buf || nbuf < 2)
		goto out_free;
	pr_info("pvdma-dmatest: pressure: %u live buffers of %zu bytes, %llu KiB apart (%llu MiB of IOMMU pages, aperture %llu MiB) over %u device(s), failures %s\n",
		nbuf, len, stride >> 10, ((u64)nbuf * stride) >> 20,
		dt_limits.aperture_bytes >> 20, dt_ndevs,
		t->fail_ok ? "expected" : "not allowed");
	for (k = 0; k < dt_ndevs; k++)
		pvdma_dev_stats(&dt_devs[k]->pdev->dev, &before[k]);
	for (i = 0; i < nbuf; i++) {
		struct device *dev = &dt_devs[i % dt_ndevs]->pdev->dev;

		buf[i] = (u8 *)page_address(ch[i / per]) + (i % per) * stride;
		dt_random(buf[i], len, i);
		a[i] = dma_map_single(dev, buf[i], len, DMA_BIDIRECTIONAL);
		if (!dt_mapped(t, a[i]))
			a[i] = DMA_MAPPING_ERROR;
	}
	for (k = 0; k < dt_ndevs; k++)
		dt_pressure_dev(t, k, buf, a, nbuf, len);
	dt_attrs_pressed(t);
	for (i = 0; i < nbuf; i++) {
		if (a[i] == DMA_MAPPING_ERROR)
			continue;
		dma_unmap_single(&dt_devs[i % dt_ndevs]->pdev->dev, a[i], len,
				 DMA_BIDIRECTIONAL);
		dt_check(t, !memchr_inv(buf[i], (u8)(i + 7), len), "pressure fill");
	}
	dt_pressure_dev_stats(t, before, nbuf);
	/* Everything released: a map must work again, failures or not. */
	t->fail_ok = fail_ok;
	dt_copy_buffers(t, buf[0], buf[nbuf - 1], len, 4242);
out_free:
	kvfree(buf);
	kvfree(a);
	dt_free_chunks(ch, nch);
}

/* Fast pseudo-random fill, a word at a time (megabytes under TCG). */
static void dt_random64(void *buf, size_t len, u64 seed)
{
	struct pvdma_prng r;
	u64 *p = buf;
	size_t i;

	pvdma_prng_seed(&r, seed);
	for (i = 0; i < len / 8; i++)
		p[i] = pvdma_prng_next(&r);
	dt_random((u8 *)buf + (len & ~7ul), len & 7, seed);
}

#define DT_MIXED_ORDER	10	/* 4 MiB chunks: the largest buffer */
#define DT_MIXED_LIVE	2	/* buffers each kthread keeps mapped */

struct dt_mixed_buf {
	u8 *cpu;
	size_t len;
	dma_addr_t a;
	enum dma_data_direction dir;
	u8 pat;
};

struct dt_mixed {
	struct dt_ctx *t;
	struct completion done;
	struct page **ch;	/* this thread's chunks */
	unsigned int nch;
	unsigned int id;
	struct pvdma_prng rng;
};

static u64 dt_mixed_rnd(struct dt_mixed *m)
{
	return pvdma_prng_next(&m->rng);
}

/* Unmap one buffer and check what the device wrote into it. */
static void dt_mixed_release(struct dt_ctx *t, struct dt_mixed_buf *b)
{
	if (!b->cpu)
		return;
	dma_unmap_single(t->dev, b->a, b->len, b->dir);
	if (b->dir != DMA_TO_DEVICE)
		dt_check(t, !memchr_inv(b->cpu, b->pat, b->len), "mixed fill");
	b->cpu = NULL;
}

static int dt_mixed_fn(void *arg)
{
	static const enum dma_data_direction dirs[] = {
		DMA_TO_DEVICE, DMA_FROM_DEVICE, DMA_BIDIRECTIONAL,
	};
	struct dt_mixed *m = arg;
	struct dt_ctx *t = m->t;
	struct dt_mixed_buf live[DT_MIXED_LIVE] = { };
	const size_t chunk = PAGE_SIZE << DT_MIXED_ORDER;
	unsigned int i;

	for (i = 0; i < mixed_ops && m->nch > DT_MIXED_LIVE; i++) {
		struct dt_mixed_buf *b = &live[i % DT_MIXED_LIVE];
		unsigned int bit = 8 + dt_mixed_rnd(m) % 15;	/* 256 B .. 4 MiB */
		size_t len = min_t(size_t, chunk, (1ul << bit) +
				   dt_mixed_rnd(m) % (1ul << bit));
		size_t off = (dt_mixed_rnd(m) % (chunk - len + 1)) & ~63ul;

		dt_mixed_release(t, b);
		/* Chunks in turn: a live buffer never shares one. */
		b->cpu = (u8 *)page_address(m->ch[i % m->nch]) + off;
		b->len = len;
		b->dir = dirs[dt_mixed_rnd(m) % ARRAY_SIZE(dirs)];
		b->pat = (u8)(m->id * 31 + i + 1);
		dt_random64(b->cpu, len, m->id * 100000 + i);
		b->a = dma_map_single(t->dev, b->cpu, len, b->dir);
		if (!dt_mapped(t, b->a)) {
			b->cpu = NULL;
			continue;
		}
		if (b->dir != DMA_FROM_DEVICE)
			dt_sum_check(t, b->a, b->cpu, len, "mixed checksum");
		if (b->dir != DMA_TO_DEVICE)
			dt_fill(t, b->a, len, b->pat);
		cond_resched();
	}
	for (i = 0; i < DT_MIXED_LIVE; i++)
		dt_mixed_release(t, &live[i]);
	complete(&m->done);
	return 0;
}

/*
 * A working set of twice the aperture in 4 MiB chunks, shared out among
 * the kthreads; each maps buffers of 256 B .. 4 MiB (log-uniform, random
 * direction and offset) from its chunks in turn, keeping two mapped.
 */
static void dt_test_mixed(struct dt_ctx *t)
{
	unsigned int i, n = clamp(threads, 1u, 16u), nch = 0, per;
	struct task_struct *task;
	struct dt_mixed *m;
	struct page **ch;

	per = DIV_ROUND_UP_ULL(dt_limits.aperture_bytes * 2,
			       (u64)n << (PAGE_SHIFT + DT_MIXED_ORDER));
	ch = kvcalloc((size_t)n * per, sizeof(*ch), GFP_KERNEL);
	m = kcalloc(n, sizeof(*m), GFP_KERNEL);
	if (!ch || !m)
		goto out;
	for (nch = 0; nch < n * per; nch++) {
		ch[nch] = alloc_pages(GFP_KERNEL | __GFP_NOWARN, DT_MIXED_ORDER);
		if (!ch[nch])
			break;
	}
	pr_info("pvdma-dmatest: mixed: %u kthreads, %u MiB working set (aperture %llu MiB), %u maps each of 256 B..4 MiB, failures %s\n",
		n, nch << (PAGE_SHIFT + DT_MIXED_ORDER - 20),
		dt_limits.aperture_bytes >> 20, mixed_ops,
		t->fail_ok ? "expected" : "not allowed");
	for (i = 0; i < n; i++) {
		m[i].t = t;
		m[i].id = i;
		m[i].ch = ch + (size_t)i * (nch / n);
		m[i].nch = nch / n;
		pvdma_prng_seed(&m[i].rng, 0x2545f4914f6cdd1dull * (i + 1));
		init_completion(&m[i].done);
		task = kthread_run(dt_mixed_fn, &m[i], "pvdma-mix/%u", i);
		if (IS_ERR(task))
			complete(&m[i].done);
	}
	for (i = 0; i < n; i++)
		wait_for_completion(&m[i].done);
out:
	while (nch--)
		__free_pages(ch[nch], DT_MIXED_ORDER);
	kfree(m);
	kvfree(ch);
}

struct dt_test {
	const char *name;
	void (*run)(struct dt_ctx *t);
	bool not_in_all;
};

static const struct dt_test dt_tests[] = {
	{ "single",	dt_test_single },
	{ "kmalloc",	dt_test_kmalloc },
	{ "sg",		dt_test_sg },
	{ "coherent",	dt_test_coherent },
	{ "attrs",	dt_test_attrs },
	{ "atomic",	dt_test_atomic },
	{ "timer",	dt_test_timer },
	{ "threads",	dt_test_threads },
	{ "cycle",	dt_test_cycle },
	{ "pressure",	dt_test_pressure },
	{ "mixed",	dt_test_mixed, true },
};

static bool dt_selected(const struct dt_test *test)
{
	const char *p = tests, *name = test->name;
	size_t len = strlen(name), n;

	if (!strcmp(tests, "all"))
		return !test->not_in_all;
	while (*p) {
		n = strcspn(p, ",");
		if (n == len && !strncmp(p, name, n))
			return true;
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

static void dt_run_test(struct dmatest_dev *d, const struct dt_test *test)
{
	struct dt_ctx t = { .d = d, .dev = &d->pdev->dev, .name = test->name };
	struct pvdma_host_limits before, after;
	u64 v[5], failed_expected = 0;
	ktime_t start = ktime_get();
	unsigned int i;

	t.fail_ok = fail_ok ||
		    ((!strcmp(test->name, "pressure") ||
		      !strcmp(test->name, "mixed")) &&
		     (dt_limits.policy != PVDMA_POLICY_PVDMA ||
		      dt_limits.bounce == PVDMA_BOUNCE_OFF));
	if (pvdma_host_limits(t.dev, &before))
		before.host_calls = 0;
	test->run(&t);
	if (pvdma_host_limits(t.dev, &after))
		after.host_calls = before.host_calls;
	v[0] = atomic64_read(&t.transfers);
	v[1] = atomic64_read(&t.mismatches);
	v[2] = atomic64_read(&t.faults);
	v[3] = atomic64_read(&t.failed);
	v[4] = atomic64_read(&t.unexpected);
	failed_expected = v[3] - v[4];
	for (i = 0; i < 5; i++)
		dt_tot[i] += v[i];
	dt_expected += failed_expected;
	pr_info("pvdma-dmatest: test %s: transfers=%llu mismatches=%llu faults=%llu failed_maps=%llu unexpected_failures=%llu host_calls=%llu time_ms=%lld %s\n",
		test->name, v[0], v[1], v[2], v[3], v[4],
		after.host_calls - before.host_calls,
		ktime_ms_delta(ktime_get(), start),
		v[1] || v[2] || v[4] ? "FAIL" : "ok");
}

/* hold_coherent_kb: a coherent buffer kept until unload, freed then. */
static void dt_hold_coherent(struct dmatest_dev *d)
{
	if (!hold_coherent_kb)
		return;
	dt_held.len = (size_t)hold_coherent_kb << 10;
	dt_held.dev = &d->pdev->dev;
	dt_held.cpu = dma_alloc_coherent(dt_held.dev, dt_held.len,
					 &dt_held.bus, GFP_KERNEL);
	/* the allocator has said why; no "holding" line tells the test */
	if (!dt_held.cpu)
		return;
	pr_info("pvdma-dmatest: holding a %u KiB coherent buffer at bus %pad until unload\n",
		hold_coherent_kb, &dt_held.bus);
}

static int __init dmatest_init(void)
{
	struct dmatest_dev *d;
	unsigned int i, loop;
	int ret;

	ret = dmatest_dev_register(pvdma_domain_peer);
	if (ret)
		return ret;
	d = dmatest_dev_get();
	if (!d) {
		pr_err("pvdma-dmatest: no DMA device model bound (is pvdmad serving --dma-socket, and pvdma.ko loaded?)\n");
		dmatest_dev_unregister();
		return -ENODEV;
	}
	ret = pvdma_host_limits(&d->pdev->dev, &dt_limits);
	if (ret) {
		pr_err("pvdma-dmatest: pvdma does not serve the device\n");
		dmatest_dev_unregister();
		return ret;
	}
	/* Every device pvdma serves shares the first one's domain. */
	for (i = 0; i < DT_MAX_DEVS && dmatest_dev_nth(i); i++)
		dt_devs[dt_ndevs++] = dmatest_dev_nth(i);
	pr_info("pvdma-dmatest: policy %s, bounce %s, aperture %llu MiB, %u mappings, IOMMU page %llu KiB, %u DMA device(s)%s\n",
		dt_limits.policy_name, dt_limits.bounce_name,
		dt_limits.aperture_bytes >> 20, dt_limits.max_mappings,
		dt_limits.page_size >> 10, dt_ndevs,
		fail_ok ? ", map failures expected (fail_ok)" : "");
	for (loop = 0; loop < max(loops, 1u); loop++) {
		if (loops > 1)
			pr_info("pvdma-dmatest: loop %u of %u\n", loop + 1, loops);
		for (i = 0; i < ARRAY_SIZE(dt_tests); i++)
			if (dt_selected(&dt_tests[i]))
				dt_run_test(d, &dt_tests[i]);
	}
	pr_info("pvdma-dmatest: transfers=%llu mismatches=%llu faults=%llu failed_maps=%llu unexpected_failures=%llu expected_failures=%llu\n",
		dt_tot[0], dt_tot[1], dt_tot[2], dt_tot[3], dt_tot[4],
		dt_expected);
	dt_hold_coherent(d);
	return 0;
}

static void __exit dmatest_exit(void)
{
	if (dt_held.cpu) {
		dma_free_coherent(dt_held.dev, dt_held.len, dt_held.cpu,
				  dt_held.bus);
		pr_info("pvdma-dmatest: freed the held %zu KiB coherent buffer\n",
			dt_held.len >> 10);
	}
	dmatest_dev_unregister();
}

module_init(dmatest_init);
module_exit(dmatest_exit);

MODULE_DESCRIPTION("pvdma self-tests on pvdmad's DMA device model");
MODULE_AUTHOR("pvdma authors");
MODULE_LICENSE("GPL");
