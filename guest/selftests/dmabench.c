// SPDX-License-Identifier: GPL-2.0
/*
 * pvdma_dmabench: benchmarks on pvdmad's DMA device model, run at load.
 * It binds the device like pvdma_dmatest (the same dmatest_dev.o; load one
 * of the two, never both) and prints one machine-readable line per
 * measurement, all starting with "pvdma-bench: ".
 *
 * copy: DMA device COPY of a transfer (sizes 4 KiB .. max_mb MiB, powers
 *	of 4), each transfer a dma_map_sgtable of the source and of the
 *	destination, the COPY commands, both unmaps. Once through pvdma (the
 *	device's ops as pvdma.ko set them) and once with identity mapping:
 *	the device's original dma-direct ops (bus = guest-physical) and
 *	domain_peer = PVDMA_DEV_DOMAIN_IDENTITY, which pvdmad accepts only
 *	when started with --dma-identity. The two modes alternate in
 *	@rounds rounds (at least 7), so a noisy host skews both alike; each
 *	round gives one time per mode and one paired ratio, identity time /
 *	pvdma time, i.e. pvdma's throughput as a share of identity's. The
 *	medians are printed, with the lowest and highest ratio and pvdma
 *	time as the spread. Bytes are spot-checked.
 *	  pvdma-bench: copy size=S chunks=K iters=I rounds=N identity_ns=A
 *	  pvdma_ns=B pvdma_min_ns= pvdma_max_ns= ratio_milli=R
 *	  ratio_min_milli= ratio_max_milli= host_calls_milli=H verified=V
 *	(times are per transfer, medians; host calls per transfer x 1000)
 *
 * sg: dma_map_sgtable + dma_unmap_sgtable of a list of N single pages
 *	(N = 1 .. 1024, no two physically adjacent), through pvdma (whatever
 *	policy pvdma.ko was loaded with: the script reloads it for rfc) and
 *	through dma-direct for reference, alternating in @rounds rounds.
 *	Where the pairs make host calls, the host-call round trip (doorbell
 *	to pvdmad to the completion the guest sees, the guest's own work in
 *	the call included) is estimated per round as (pvdma time - dma-direct
 *	time) / host calls per pair: under rfc a 1-entry list costs two calls
 *	(map, unmap) and nothing else of note.
 *	  pvdma-bench: sg entries=N iters=I rounds=R pvdma_ns=A identity_ns=B
 *	  host_calls_milli=H [call_ns=C call_min_ns= call_max_ns=]
 *	(times per map+unmap pair, medians; host calls per pair x 1000)
 *
 * Times under TCG are meaningless in absolute terms; only ratios between
 * modes measured in the same boot are reported upstream.
 */
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/random.h>
#include <linux/scatterlist.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/string.h>

#include "dmatest.h"
#include "kcompat.h"
#include "pvdma_export.h"

static bool copy = true;
module_param(copy, bool, 0444);
MODULE_PARM_DESC(copy, "run the COPY throughput benchmark (default on)");

static bool sg = true;
module_param(sg, bool, 0444);
MODULE_PARM_DESC(sg, "run the dma_map_sg latency benchmark (default on)");

static unsigned int max_mb = 64;
module_param(max_mb, uint, 0444);
MODULE_PARM_DESC(max_mb, "largest COPY transfer in MiB (default 64)");

static unsigned int rounds = 7;
module_param(rounds, uint, 0444);
MODULE_PARM_DESC(rounds, "alternating rounds per size, 7..31; medians and spread are printed (default 7)");

static char *tag = "pvdma";
module_param(tag, charp, 0444);
MODULE_PARM_DESC(tag, "label printed on every line (the script's run name)");

#define DB_CHUNK_ORDER	min(10, PVDMA_MAX_PAGE_ORDER)	/* 4 MiB on x86 */
#define DB_CHUNK	(PAGE_SIZE << DB_CHUNK_ORDER)
#define DB_BATCH	32
#define DB_SG_MAX	1024
#define DB_BYTES_PER_ROUND	(128ull << 20)
/* A median and a spread need a few rounds; more costs TCG minutes. */
#define DB_MIN_ROUNDS		7
#define DB_MAX_ROUNDS		31

/* The rounds of one measurement: per-round values, sorted on demand. */
struct db_series {
	u64 v[DB_MAX_ROUNDS];
	unsigned int n;
};

static int db_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Sorts @s; its median (the lower of the two middle ones when even). */
static u64 db_median(struct db_series *s)
{
	if (!s->n)
		return 0;
	sort(s->v, s->n, sizeof(s->v[0]), db_cmp_u64, NULL);
	return s->v[(s->n - 1) / 2];
}

static void db_add(struct db_series *s, u64 v)
{
	if (s->n < DB_MAX_ROUNDS)
		s->v[s->n++] = v;
}

static unsigned int db_rounds(void)
{
	return clamp_t(unsigned int, rounds, DB_MIN_ROUNDS, DB_MAX_ROUNDS);
}

/**
 * struct db_ctx - the device, its buffers and the identity switch
 * @d:		the DMA device
 * @dev:	its struct device
 * @pvdma_ops:	the ops pvdma.ko installed
 * @peer:	the companion's domain_peer
 * @src:	source chunks (DB_CHUNK each)
 * @dst:	destination chunks
 * @nalloc:	entries of @src and @dst
 * @nchunks:	chunks in each
 * @chunk:	bytes one command may move (min of DB_CHUNK and max_len)
 * @cmds:	a batch of commands
 * @identity_ok: pvdmad accepted the identity binding
 */
struct db_ctx {
	struct dmatest_dev *d;
	struct device *dev;
	const struct dma_map_ops *pvdma_ops;
	u32 peer;
	struct page **src;
	struct page **dst;
	unsigned int nalloc;
	unsigned int nchunks;
	u64 chunk;
	struct dmatest_cmd cmds[DB_BATCH];
	bool identity_ok;
};

/*
 * Identity: the device's original dma-direct ops and no IOMMU on the host.
 * Only while no mapping of either mode is live.
 */
static void db_identity(struct db_ctx *c, bool on)
{
	set_dma_ops(c->dev, on ? NULL : c->pvdma_ops);
	WRITE_ONCE(c->d->hdr->domain_peer,
		   pvdma_le32(on ? PVDMA_DEV_DOMAIN_IDENTITY : c->peer));
}

static u64 db_host_calls(struct db_ctx *c)
{
	struct pvdma_host_limits lim;

	if (pvdma_host_limits(c->dev, &lim))
		return 0;
	return lim.host_calls;
}

static int db_flush(struct db_ctx *c, u32 *n)
{
	u32 i;
	int ret;

	if (!*n)
		return 0;
	ret = dmatest_dev_run(c->d, c->cmds, *n);
	for (i = 0; !ret && i < *n; i++)
		if (c->cmds[i].status != PVDMA_DEV_ST_OK)
			ret = -EIO;
	*n = 0;
	return ret;
}

/* COPY every byte of @s to @d, pairing the two lists' DMA segments. */
static int db_copy_tables(struct db_ctx *c, struct sg_table *s,
			  struct sg_table *d)
{
	struct scatterlist *ss = s->sgl, *ds = d->sgl;
	u64 soff = 0, doff = 0, len;
	u32 n = 0;
	int ret;

	while (ss && ds && sg_dma_len(ss) && sg_dma_len(ds)) {
		len = min3((u64)sg_dma_len(ss) - soff,
			   (u64)sg_dma_len(ds) - doff, (u64)c->d->max_len);
		c->cmds[n++] = (struct dmatest_cmd){
			.op = PVDMA_DEV_COPY, .len = len,
			.src = sg_dma_address(ss) + soff,
			.dst = sg_dma_address(ds) + doff,
		};
		if (n == DB_BATCH) {
			ret = db_flush(c, &n);
			if (ret)
				return ret;
		}
		soff += len;
		doff += len;
		if (soff == sg_dma_len(ss)) {
			ss = sg_next(ss);
			soff = 0;
		}
		if (doff == sg_dma_len(ds)) {
			ds = sg_next(ds);
			doff = 0;
		}
	}
	return db_flush(c, &n);
}

static void db_fill_table(struct sg_table *t, struct page **pages, u64 size,
			  u64 chunk)
{
	struct scatterlist *s;
	unsigned int i;

	for_each_sgtable_sg(t, s, i)
		sg_set_page(s, pages[i], min(size - i * chunk, chunk), 0);
}

/* One transfer: map both, copy, unmap both. */
static int db_transfer(struct db_ctx *c, struct sg_table *s,
		       struct sg_table *d)
{
	int ret;

	ret = dma_map_sgtable(c->dev, s, DMA_TO_DEVICE, 0);
	if (ret)
		return ret;
	ret = dma_map_sgtable(c->dev, d, DMA_FROM_DEVICE, 0);
	if (ret) {
		dma_unmap_sgtable(c->dev, s, DMA_TO_DEVICE, 0);
		return ret;
	}
	ret = db_copy_tables(c, s, d);
	dma_unmap_sgtable(c->dev, d, DMA_FROM_DEVICE, 0);
	dma_unmap_sgtable(c->dev, s, DMA_TO_DEVICE, 0);
	return ret;
}

/* @iters transfers in one mode; nanoseconds in total. */
static int db_round(struct db_ctx *c, bool identity, struct sg_table *s,
		    struct sg_table *d, unsigned int iters, u64 *ns)
{
	unsigned int i;
	u64 t0;
	int ret = 0;

	if (identity)
		db_identity(c, true);
	t0 = ktime_get_ns();
	for (i = 0; i < iters && !ret; i++)
		ret = db_transfer(c, s, d);
	*ns = ktime_get_ns() - t0;
	if (identity)
		db_identity(c, false);
	cond_resched();
	return ret;
}

/* Poison the destination, copy once in @identity mode, check samples. */
static bool db_verify(struct db_ctx *c, bool identity, struct sg_table *s,
		      struct sg_table *d, u64 size)
{
	unsigned int i;
	u64 n, off;
	bool ok = true;
	u8 *a, *b;

	for (i = 0; i * c->chunk < size; i++) {
		n = min(size - i * c->chunk, c->chunk);
		memset(page_address(c->dst[i]), 0x5a ^ identity, n);
	}
	if (db_round(c, identity, s, d, 1, &n))
		return false;
	for (i = 0; i * c->chunk < size && ok; i++) {
		n = min(size - i * c->chunk, c->chunk);
		a = page_address(c->src[i]);
		b = page_address(c->dst[i]);
		for (off = 0; off < n && ok; off += max_t(u64, n / 4, 1))
			ok = !memcmp(a + off, b + off, min_t(u64, 512, n - off));
		ok = ok && !memcmp(a + n - min_t(u64, n, 512),
				   b + n - min_t(u64, n, 512), min_t(u64, n, 512));
	}
	return ok;
}

static void db_copy_size(struct db_ctx *c, u64 size)
{
	unsigned int k = DIV_ROUND_UP(size, c->chunk), iters, r;
	struct db_series *id, *pv, *ratio;
	u64 ns, ins = 0, calls;
	struct sg_table s, d;
	bool ok;
	int ret;

	id = kzalloc(3 * sizeof(*id), GFP_KERNEL);
	if (!id)
		return;
	pv = id + 1;
	ratio = id + 2;

	iters = clamp_t(u64, DB_BYTES_PER_ROUND / size, 8, 256);
	if (sg_alloc_table(&s, k, GFP_KERNEL))
		goto out_free;
	if (sg_alloc_table(&d, k, GFP_KERNEL)) {
		sg_free_table(&s);
		goto out_free;
	}
	db_fill_table(&s, c->src, size, c->chunk);
	db_fill_table(&d, c->dst, size, c->chunk);
	ok = db_verify(c, false, &s, &d, size);
	if (c->identity_ok)
		ok = ok && db_verify(c, true, &s, &d, size);
	calls = db_host_calls(c);
	ret = db_round(c, false, &s, &d, iters, &ns);
	calls = db_host_calls(c) - calls;
	for (r = 0; r < db_rounds() && !ret; r++) {
		if (c->identity_ok) {
			ret = db_round(c, true, &s, &d, iters, &ins);
			db_add(id, div_u64(ins, iters));
		}
		if (ret)
			break;
		ret = db_round(c, false, &s, &d, iters, &ns);
		db_add(pv, div_u64(ns, iters));
		if (c->identity_ok)	/* paired: the same round's two modes */
			db_add(ratio, div64_u64(ins * 1000, max_t(u64, ns, 1)));
	}
	if (ret) {
		pr_info("pvdma-bench: copy tag=%s size=%llu error=%d\n", tag,
			size, ret);
	} else {
		u64 id_med = db_median(id), pv_med = db_median(pv);
		u64 r_med = db_median(ratio);

		pr_info("pvdma-bench: copy tag=%s size=%llu chunks=%u iters=%u rounds=%u identity_ns=%llu pvdma_ns=%llu pvdma_min_ns=%llu pvdma_max_ns=%llu ratio_milli=%llu ratio_min_milli=%llu ratio_max_milli=%llu host_calls_milli=%llu verified=%d\n",
			tag, size, k, iters, pv->n, id_med, pv_med, pv->v[0],
			pv->v[pv->n - 1], r_med, ratio->n ? ratio->v[0] : 0,
			ratio->n ? ratio->v[ratio->n - 1] : 0,
			div_u64(calls * 1000, iters), ok);
	}
	sg_free_table(&d);
	sg_free_table(&s);
out_free:
	kfree(id);
}

/* Does pvdmad run the device without IOMMU (pvdmad --dma-identity)? */
static bool db_probe_identity(struct db_ctx *c)
{
	struct dmatest_cmd cmd = {
		.op = PVDMA_DEV_COPY, .len = 64,
		.src = page_to_phys(c->src[0]),
		.dst = page_to_phys(c->dst[0]),
	};
	int ret;

	db_identity(c, true);
	ret = dmatest_dev_run(c->d, &cmd, 1);
	db_identity(c, false);
	return !ret && cmd.status == PVDMA_DEV_ST_OK;
}

static void db_free_chunks(struct page **p, unsigned int n)
{
	unsigned int i;

	for (i = 0; p && i < n; i++)
		if (p[i])
			__free_pages(p[i], DB_CHUNK_ORDER);
	kfree(p);
}

static void db_copy_bench(struct db_ctx *c)
{
	u64 max = (u64)max_mb << 20, size;
	unsigned int i, n;

	c->chunk = min_t(u64, DB_CHUNK, c->d->max_len);
	c->chunk = rounddown_pow_of_two(c->chunk);
	n = DIV_ROUND_UP(max, DB_CHUNK);
	c->nalloc = n;
	c->src = kcalloc(n, sizeof(*c->src), GFP_KERNEL);
	c->dst = kcalloc(n, sizeof(*c->dst), GFP_KERNEL);
	if (!c->src || !c->dst)
		goto out;
	for (i = 0; i < n; i++) {
		c->src[i] = alloc_pages(GFP_KERNEL | __GFP_NOWARN |
					__GFP_RETRY_MAYFAIL, DB_CHUNK_ORDER);
		c->dst[i] = alloc_pages(GFP_KERNEL | __GFP_NOWARN |
					__GFP_RETRY_MAYFAIL, DB_CHUNK_ORDER);
		if (!c->src[i] || !c->dst[i])
			break;
		memset(page_address(c->src[i]), i + 1, DB_CHUNK);
		get_random_bytes(page_address(c->src[i]), 4096);
	}
	c->nchunks = i;
	/* chunks of a transfer are c->chunk bytes; a chunk page holds one */
	max = min_t(u64, max, (u64)c->nchunks * c->chunk);
	if (!c->nchunks) {
		pr_info("pvdma-bench: copy tag=%s error=%d\n", tag, -ENOMEM);
		goto out;
	}
	c->identity_ok = db_probe_identity(c);
	pr_info("pvdma-bench: copy-setup tag=%s identity=%d max_size=%llu chunk=%llu\n",
		tag, c->identity_ok, max, c->chunk);
	for (size = 4096; size <= max; size <<= 2)
		db_copy_size(c, size);
out:
	db_free_chunks(c->src, c->nalloc);
	db_free_chunks(c->dst, c->nalloc);
	c->src = NULL;
	c->dst = NULL;
}

/* @iters map+unmap pairs of @t; ns per pair, or 0 on error (@ret). */
static u64 db_sg_pairs(struct db_ctx *c, struct sg_table *t,
		       unsigned int iters, int *ret)
{
	unsigned int i;
	u64 t0 = ktime_get_ns();

	for (i = 0; i < iters && !*ret; i++) {
		*ret = dma_map_sgtable(c->dev, t, DMA_BIDIRECTIONAL, 0);
		if (!*ret)
			dma_unmap_sgtable(c->dev, t, DMA_BIDIRECTIONAL, 0);
	}
	return div_u64(ktime_get_ns() - t0, iters);
}

/* One list length: rounds of pvdma then dma-direct pairs. */
static void db_sg_size(struct db_ctx *c, struct sg_table *t, unsigned int n,
		       struct db_series *ser)
{
	struct db_series *pv = &ser[0], *id = &ser[1], *call = &ser[2];
	unsigned int iters = clamp(4096 / n, 16u, 256u), r;
	u64 calls, ns, ins, pairs = 0, p_med, i_med;
	char call_stats[96] = "";
	int ret = 0;

	memset(ser, 0, 3 * sizeof(*ser));
	/* the first pair (cold) is outside the timing */
	ret = dma_map_sgtable(c->dev, t, DMA_BIDIRECTIONAL, 0);
	if (!ret)
		dma_unmap_sgtable(c->dev, t, DMA_BIDIRECTIONAL, 0);
	calls = db_host_calls(c);
	for (r = 0; r < db_rounds() && !ret; r++) {
		ns = db_sg_pairs(c, t, iters, &ret);
		pairs += iters;
		db_add(pv, ns);
		if (ret || !c->identity_ok)
			continue;
		db_identity(c, true);
		ins = db_sg_pairs(c, t, iters, &ret);
		db_identity(c, false);
		db_add(id, ins);
	}
	calls = db_host_calls(c) - calls;
	if (ret) {
		pr_info("pvdma-bench: sg tag=%s entries=%u error=%d\n", tag, n,
			ret);
		return;
	}
	/* per round: the time above dma-direct over the calls each pair made */
	for (r = 0; calls && r < pv->n && r < id->n; r++)
		db_add(call, div64_u64((pv->v[r] > id->v[r] ?
					pv->v[r] - id->v[r] : 0) * pairs, calls));
	p_med = db_median(pv);
	i_med = db_median(id);
	/* One printk per line: a continuation can interleave with others. */
	if (call->n) {
		u64 c_med = db_median(call);	/* sorts: min and max after */

		scnprintf(call_stats, sizeof(call_stats),
			  " call_ns=%llu call_min_ns=%llu call_max_ns=%llu",
			  c_med, call->v[0], call->v[call->n - 1]);
	}
	pr_info("pvdma-bench: sg tag=%s entries=%u iters=%u rounds=%u pvdma_ns=%llu pvdma_min_ns=%llu pvdma_max_ns=%llu identity_ns=%llu host_calls_milli=%llu%s\n",
		tag, n, iters, pv->n, p_med, pv->v[0], pv->v[pv->n - 1],
		i_med, div64_u64(calls * 1000, max_t(u64, pairs, 1)),
		call_stats);
}

/* N-entry lists of single pages, pvdma and dma-direct in turn. */
static void db_sg_bench(struct db_ctx *c)
{
	struct db_series *ser;
	struct page **pages;
	struct scatterlist *s;
	struct sg_table t;
	unsigned int n, i;

	/* every other page of an order-1 block: no two adjacent */
	pages = kcalloc(DB_SG_MAX, sizeof(*pages), GFP_KERNEL);
	ser = kcalloc(3, sizeof(*ser), GFP_KERNEL);
	if (!pages || !ser)
		goto out;
	for (i = 0; i < DB_SG_MAX; i++) {
		pages[i] = alloc_pages(GFP_KERNEL | __GFP_NOWARN, 1);
		if (!pages[i])
			goto out;
	}
	for (n = 1; n <= DB_SG_MAX; n <<= 1) {
		if (sg_alloc_table(&t, n, GFP_KERNEL))
			break;
		for_each_sgtable_sg(&t, s, i)
			sg_set_page(s, pages[i], PAGE_SIZE, 0);
		db_sg_size(c, &t, n, ser);
		sg_free_table(&t);
		cond_resched();
	}
out:
	for (i = 0; pages && i < DB_SG_MAX && pages[i]; i++)
		__free_pages(pages[i], 1);
	kfree(pages);
	kfree(ser);
}

static int __init dmabench_init(void)
{
	struct db_ctx *c;
	int ret, peer;

	ret = dmatest_dev_register(pvdma_domain_peer);
	if (ret)
		return ret;
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c) {
		ret = -ENOMEM;
		goto err;
	}
	c->d = dmatest_dev_get();
	if (!c->d) {
		pr_err("pvdma-bench: no DMA device model bound (is pvdma.ko loaded, and pvdma_dmatest not?)\n");
		ret = -ENODEV;
		goto err;
	}
	c->dev = &c->d->pdev->dev;
	peer = pvdma_domain_peer(c->dev);
	if (peer < 0) {
		ret = -ENODEV;
		goto err;
	}
	c->peer = peer;
	c->pvdma_ops = c->dev->dma_ops;
	if (copy)
		db_copy_bench(c);
	else
		c->identity_ok = true;	/* sg only: dma-direct needs no host */
	if (sg)
		db_sg_bench(c);
	pr_info("pvdma-bench: done tag=%s\n", tag);
	kfree(c);
	return 0;
err:
	kfree(c);
	dmatest_dev_unregister();
	return ret;
}

static void __exit dmabench_exit(void)
{
	dmatest_dev_unregister();
}

module_init(dmabench_init);
module_exit(dmabench_exit);

MODULE_DESCRIPTION("pvdma benchmarks on pvdmad's DMA device model");
MODULE_AUTHOR("pvdma authors");
MODULE_LICENSE("GPL");
