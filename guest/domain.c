// SPDX-License-Identifier: GPL-2.0
/*
 * pvdma domain: one host IOMMU address space, with its aperture and
 * mapping budget, shared by every managed device (a GPU and its audio
 * function sit behind one DART stream). It owns the transport to the
 * host, the planner state, the bounce pool and the RAM map; its spinlock
 * serialises all of them.
 *
 * Life: created by the companion device's probe, HELLO + RESET sent
 * (a fresh session with nothing mapped), set up from the limits the host
 * published, then handed to the managed-device registry. Teardown (the
 * companion's remove) marks it not live, sends RESET, forgets every
 * window and frees the planner's memory; the struct itself lives on
 * while an attached device holds a reference, its maps failing cleanly.
 * HELLO and RESET run in process context with the domain not live, so
 * they own the transport without the lock and wait for a dead host
 * sleeping; maps, unmaps and reclaims take the lock and spin.
 */
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "kcompat.h"
#include "pvdma_guest.h"

/* Bounce slots: one per 512 bytes of pool, enough for small buffers. */
#define PVDMA_BOUNCE_SLOT_BYTES	512

/* ---- planner ops ------------------------------------------------------ */

static void pvdma_op_copy(void *ctx, u64 dst_gpa, u64 src_gpa, u64 len)
{
	struct pvdma_domain *d = ctx;

	if (d->ps.skip_copy) {
		d->ps.copies_skipped += len;
		return;
	}
	memcpy(phys_to_virt(dst_gpa), phys_to_virt(src_gpa), len);
}

/*
 * Device memory is neither RAM nor anything to grow a window into: the
 * range answered is the page the request starts in, which keeps the
 * window to the request itself.
 */
static bool pvdma_op_ram_range(void *ctx, u64 gpa, u64 *start, u64 *end)
{
	struct pvdma_domain *d = ctx;
	u64 page = d->ps.planner.cfg.page_size;

	if (d->ps.mmio) {
		*start = ALIGN_DOWN(gpa, page);
		*end = *start + page;
		return true;
	}
	return pvdma_ram_map_find(&d->ram, gpa, start, end);
}

static int pvdma_op_submit(void *ctx, struct pvdma_request *ops, u32 n)
{
	struct pvdma_domain *d = ctx;

	return pvdma_transport_submit(&d->tp, ops, n);
}

static const struct pvdma_planner_ops pvdma_domain_planner_ops = {
	.submit		= pvdma_op_submit,
	.copy		= pvdma_op_copy,
	.ram_range	= pvdma_op_ram_range,
};

/* ---- references --------------------------------------------------------- */

static void pvdma_domain_release(struct kref *ref)
{
	kfree(container_of(ref, struct pvdma_domain, ref));
}

/**
 * pvdma_domain_get() - take a reference
 * @d: the domain
 */
void pvdma_domain_get(struct pvdma_domain *d)
{
	kref_get(&d->ref);
}

/**
 * pvdma_domain_put() - drop a reference; the last frees the struct
 * @d: the domain, torn down or never set up
 */
void pvdma_domain_put(struct pvdma_domain *d)
{
	kref_put(&d->ref, pvdma_domain_release);
}

/**
 * pvdma_domain_create() - a domain over a companion device's ring
 * @dev: the companion's device, for messages
 * @shm: its shared region, host header READY
 * @shm_len: the region's length
 * @regs: its registers (doorbell)
 * @ivposition: its peer id
 *
 * Return: the domain (one reference) or an ERR_PTR.
 */
struct pvdma_domain *pvdma_domain_create(struct device *dev, void *shm,
					 resource_size_t shm_len,
					 void __iomem *regs, u32 ivposition)
{
	struct pvdma_domain *d = kzalloc(sizeof(*d), GFP_KERNEL);
	int ret;

	if (!d)
		return ERR_PTR(-ENOMEM);
	spin_lock_init(&d->lock);
	kref_init(&d->ref);
	ratelimit_state_init(&d->fail_rs, 5 * HZ, 3);
	d->dev = dev;
	d->ivposition = ivposition;
	ret = pvdma_transport_init(&d->tp, shm, shm_len, regs,
				   pvdma_params.timeout_ms,
				   pvdma_params.atomic_timeout_ms);
	if (ret) {
		dev_err(dev, "pvdma: bad request ring in the host's header (%d)\n",
			ret);
		kfree(d);
		return ERR_PTR(ret);
	}
	return d;
}

/**
 * pvdma_domain_hello() - HELLO and RESET in one batch
 * @d: a created domain
 *
 * A fresh session with nothing mapped, whatever an earlier instance left.
 * Process context, before the domain is live or registered: nothing else
 * can reach the ring, so the wait sleeps, without the lock. May sleep.
 *
 * Return: 0, -EPROTO if the host refused, or the transport's errno.
 */
int pvdma_domain_hello(struct pvdma_domain *d)
{
	struct pvdma_request ops[2] = {
		{ .op = PVDMA_OP_HELLO },
		{ .op = PVDMA_OP_RESET },
	};
	struct pvdma_shm_header *hdr = d->tp.ring.hdr;
	int ret;

	WRITE_ONCE(hdr->guest_version, pvdma_le32(PVDMA_PROTO_VERSION));
	WRITE_ONCE(hdr->guest_features,
		   pvdma_le32(pvdma_le32(READ_ONCE(hdr->host_features)) &
			      PVDMA_FEAT_KNOWN));
	ret = pvdma_transport_submit_sleep(&d->tp, ops, ARRAY_SIZE(ops));
	if (ret) {
		dev_err(d->dev, "pvdma: the host did not answer HELLO (%d); is pvdmad running?\n",
			ret);
		return ret;
	}
	if (ops[0].status != PVDMA_ST_OK || ops[1].status != PVDMA_ST_OK) {
		dev_err(d->dev, "pvdma: the host refused HELLO: %s / RESET: %s\n",
			pvdma_status_name(ops[0].status),
			pvdma_status_name(ops[1].status));
		return -EPROTO;
	}
	return 0;
}

/* ---- set-up and teardown ------------------------------------------------ */

static int pvdma_bounce_pool_alloc(struct pvdma_bounce_pool *pool,
				   u64 page_size)
{
	u64 bytes = max_t(u64, (u64)pvdma_params.bounce_pool_kb << 10,
			  page_size);
	unsigned int order = get_order(bytes);

	if (order > PVDMA_MAX_PAGE_ORDER) {
		pr_warn("pvdma: bounce_pool_kb=%u is above the largest contiguous allocation (%lu KiB); using that\n",
			pvdma_params.bounce_pool_kb,
			(PAGE_SIZE << PVDMA_MAX_PAGE_ORDER) >> 10);
		order = PVDMA_MAX_PAGE_ORDER;
	}
	pool->pages = alloc_pages(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN,
				  order);
	if (!pool->pages)
		return -ENOMEM;
	pool->order = order;
	pool->bytes = PAGE_SIZE << order;
	return 0;
}

static void pvdma_bounce_pool_free(struct pvdma_bounce_pool *pool)
{
	if (pool->pages)
		__free_pages(pool->pages, pool->order);
	memset(pool, 0, sizeof(*pool));
}

static void pvdma_planner_state_free(struct pvdma_planner_state *ps)
{
	vfree(ps->mem.windows);
	vfree(ps->mem.slots);
	vfree(ps->mem.chunk_maps);
	kvfree(ps->mem.ops);
	kvfree(ps->mem.batch_win);
	kvfree(ps->segs);
	memset(&ps->mem, 0, sizeof(ps->mem));
	ps->segs = NULL;
	ps->nsegs = 0;
}

/* A batch is one doorbell's worth of entries; half of it, segments. */
static int pvdma_planner_state_alloc(struct pvdma_planner_state *ps,
				     const struct pvdma_ring *ring,
				     u32 max_mappings, u64 pool_bytes)
{
	struct pvdma_planner_mem *m = &ps->mem;
	u32 nops = ring->max_batch * min_t(u32, ring->nslots,
					   PVDMA_ROUND_SLOTS);

	m->nwindows = max_mappings;
	m->windows = vcalloc(m->nwindows, sizeof(*m->windows));
	/* where the pages of large grown windows lie, so that trims can
	 * give back their holes (lib/planner_cache.c)
	 */
	m->nchunk_maps = PVDMA_CHUNK_MAPS_DEFAULT;
	m->chunk_maps = vcalloc(m->nchunk_maps, sizeof(*m->chunk_maps));
	m->nops = nops;
	m->ops = kvcalloc(nops, sizeof(*m->ops), GFP_KERNEL);
	m->batch_win = kvcalloc(nops, sizeof(*m->batch_win), GFP_KERNEL);
	ps->nsegs = max(nops / 2, 1u);
	ps->segs = kvcalloc(ps->nsegs, sizeof(*ps->segs), GFP_KERNEL);
	if (pool_bytes) {
		m->nslots = max_t(u64, pool_bytes / PVDMA_BOUNCE_SLOT_BYTES, 1);
		m->slots = vcalloc(m->nslots, sizeof(*m->slots));
	}
	if (!m->windows || !m->ops || !m->batch_win || !ps->segs ||
	    !m->chunk_maps || (pool_bytes && !m->slots))
		return -ENOMEM;
	return 0;
}

/* The planner configuration: the host's limits and the module's knobs. */
static int pvdma_domain_config(struct pvdma_domain *d,
			       struct pvdma_planner_config *cfg)
{
	struct pvdma_shm_header *hdr = d->tp.ring.hdr;
	u64 page_size = pvdma_le64(READ_ONCE(hdr->iommu_page_size));
	u64 aperture = pvdma_le64(READ_ONCE(hdr->aperture_bytes));
	u32 max_mappings = pvdma_le32(READ_ONCE(hdr->max_mappings));

	if (!is_power_of_2(page_size) || page_size < PAGE_SIZE ||
	    page_size > SZ_1G || !aperture || !max_mappings) {
		dev_err(d->dev, "pvdma: host limits make no sense (page %llu, aperture %llu, mappings %u)\n",
			page_size, aperture, max_mappings);
		return -EPROTO;
	}
	pvdma_planner_default_config(cfg, pvdma_params.policy, page_size,
				     aperture, max_mappings);
	cfg->strict = pvdma_params.strict;
	cfg->rfc_window_shift = pvdma_params.rfc_window_shift;
	cfg->spec_shift = pvdma_params.spec_shift;
	cfg->max_window = pvdma_params.max_window;
	cfg->bounce = pvdma_params.bounce;
	/* where the host places windows: the planner asks for none that no
	 * free range of it holds (nonsense bounds: learned from refusals)
	 */
	cfg->bus_base = pvdma_le64(READ_ONCE(hdr->bus_base));
	cfg->bus_limit = pvdma_le64(READ_ONCE(hdr->bus_limit));
	if (cfg->bus_base >= cfg->bus_limit) {
		cfg->bus_base = 0;
		cfg->bus_limit = 0;
	}
	/* partial unmaps, if the host took them at HELLO */
	cfg->trim = pvdma_le32(READ_ONCE(hdr->guest_features)) &
		    PVDMA_FEAT_TRIM;
	if (cfg->max_window < page_size) {
		dev_err(d->dev, "pvdma: max_window_kb=%llu is below the host's IOMMU page (%llu KiB)\n",
			cfg->max_window >> 10, page_size >> 10);
		return -EINVAL;
	}
	return 0;
}

static int pvdma_domain_setup_pool(struct pvdma_domain *d,
				   struct pvdma_planner_config *cfg)
{
	if (cfg->bounce == PVDMA_BOUNCE_OFF)
		return 0;
	if (pvdma_bounce_pool_alloc(&d->pool, cfg->page_size)) {
		dev_err(d->dev, "pvdma: no memory for a %u KiB bounce pool; lower bounce_pool_kb\n",
			pvdma_params.bounce_pool_kb);
		return -ENOMEM;
	}
	if (d->pool.bytes >= cfg->aperture_bytes / 2) {
		dev_err(d->dev, "pvdma: bounce pool (%llu KiB) would take half the aperture (%llu KiB); lower bounce_pool_kb\n",
			d->pool.bytes >> 10, cfg->aperture_bytes >> 10);
		return -EINVAL;
	}
	cfg->bounce_gpa = page_to_phys(d->pool.pages);
	cfg->bounce_bytes = d->pool.bytes;
	return 0;
}

static void pvdma_domain_free_mem(struct pvdma_domain *d)
{
	pvdma_planner_state_free(&d->ps);
	pvdma_bounce_pool_free(&d->pool);
	pvdma_ram_map_free(&d->ram);
}

/**
 * pvdma_domain_setup() - the planner, from the limits the host published
 * @d: a domain whose HELLO succeeded
 *
 * Allocates the planner's memory, the bounce pool and the RAM map, then
 * marks the domain live. May sleep.
 *
 * Return: 0 or a negative errno (nothing left allocated).
 */
int pvdma_domain_setup(struct pvdma_domain *d)
{
	struct pvdma_shm_header *hdr = d->tp.ring.hdr;
	struct pvdma_planner_config cfg;
	unsigned long flags;
	int ret;

	ret = pvdma_domain_config(d, &cfg);
	if (ret)
		return ret;
	ret = pvdma_domain_setup_pool(d, &cfg);
	if (ret)
		goto err_free_mem;
	ret = pvdma_planner_state_alloc(&d->ps, &d->tp.ring, cfg.max_mappings,
					d->pool.bytes);
	if (ret) {
		dev_err(d->dev, "pvdma: no memory for %u window records\n",
			cfg.max_mappings);
		goto err_free_mem;
	}
	ret = pvdma_ram_map_build(&d->ram);
	if (ret) {
		dev_err(d->dev, "pvdma: cannot read the System RAM ranges (%d)\n",
			ret);
		goto err_free_mem;
	}
	ret = pvdma_planner_init(&d->ps.planner, &cfg,
				 &pvdma_domain_planner_ops, d, &d->ps.mem);
	if (ret) {
		dev_err(d->dev, "pvdma: planner set-up failed (%d)\n", ret);
		goto err_free_mem;
	}
	d->bus_base = pvdma_le64(READ_ONCE(hdr->bus_base));
	d->bus_limit = pvdma_le64(READ_ONCE(hdr->bus_limit));
	d->max_map_bytes = cfg.aperture_bytes - d->pool.bytes;
	dev_info(d->dev,
		 "pvdma: host limits: IOMMU page %llu KiB, aperture %llu MiB, %u mappings, bus %#llx-%#llx; policy %s, bounce %s (%llu KiB pool)%s; %u RAM ranges\n",
		 cfg.page_size >> 10, cfg.aperture_bytes >> 20,
		 cfg.max_mappings, d->bus_base, d->bus_limit,
		 pvdma_policy_name(cfg.policy),
		 pvdma_bounce_mode_name(cfg.bounce), d->pool.bytes >> 10,
		 cfg.strict ? ", strict" : "", d->ram.n);
	spin_lock_irqsave(&d->lock, flags);
	d->live = true;
	spin_unlock_irqrestore(&d->lock, flags);
	return 0;

err_free_mem:
	pvdma_domain_free_mem(d);
	return ret;
}

/*
 * Tell the host to drop every mapping. The domain is no longer live, so
 * nothing else enters the transport: the wait sleeps, the lock not held.
 */
static bool pvdma_domain_reset(struct pvdma_domain *d)
{
	struct pvdma_request op = { .op = PVDMA_OP_RESET };
	int ret;

	ret = pvdma_transport_submit_sleep(&d->tp, &op, 1);
	if (!ret && op.status == PVDMA_ST_OK)
		return true;
	dev_warn(d->dev, "pvdma: host RESET failed (%d, %s); pvdmad releases our mappings when QEMU disconnects\n",
		 ret, ret ? "no answer" : pvdma_status_name(op.status));
	return false;
}

/*
 * The host may still map the pool (RESET failed): a device may still
 * write into it, so it must never go back to the page allocator. Leak it
 * on purpose; pvdmad drops the mapping when QEMU disconnects.
 */
static void pvdma_bounce_pool_keep(struct pvdma_domain *d)
{
	if (d->pool.pages)
		dev_warn(d->dev, "pvdma: keeping the %llu KiB bounce pool (never freed until reboot): the host may still map it, as RESET failed, until pvdmad releases our mappings when QEMU disconnects\n",
			 d->pool.bytes >> 10);
	memset(&d->pool, 0, sizeof(d->pool));
}

/**
 * pvdma_domain_teardown() - release the host's mappings and our memory
 * @d: a set-up domain
 *
 * After it, every map through @d fails and unmaps are ignored. If the
 * host did not confirm RESET, memory it may still map is kept (the pool
 * here, coherent buffers when their drivers free them); what it cannot
 * reach (planner state, RAM map) is freed. May sleep.
 */
void pvdma_domain_teardown(struct pvdma_domain *d)
{
	struct pvdma_planner_stats st;
	unsigned long flags;
	bool reset;

	/*
	 * Not live from here: a map, unmap or reclaim tests @live under the
	 * lock and leaves the transport alone, and one in flight on another
	 * CPU (it polls holding the lock) has finished its round once we
	 * have the lock, so the ring is ours. Until the host confirms RESET
	 * it may map all it did: an unmap meanwhile keeps its memory.
	 */
	spin_lock_irqsave(&d->lock, flags);
	st = d->ps.planner.stats;
	d->live = false;
	d->host_may_map = true;
	spin_unlock_irqrestore(&d->lock, flags);
	reset = pvdma_domain_reset(d);
	spin_lock_irqsave(&d->lock, flags);
	d->host_may_map = !reset;
	pvdma_planner_forget(&d->ps.planner);
	spin_unlock_irqrestore(&d->lock, flags);
	if (st.live_bytes)
		dev_warn(d->dev, "pvdma: removed with %llu bytes still mapped by drivers; those mappings are gone\n",
			 st.live_bytes);
	dev_info(d->dev, "pvdma: host mappings %s (%llu windows, %llu KiB); %llu host calls, %llu maps, %llu unmaps served\n",
		 reset ? "released" : "NOT released",
		 st.live_windows, st.live_aperture >> 10, st.host_calls,
		 st.map_requests, st.unmap_requests);
	if (!reset)
		pvdma_bounce_pool_keep(d);
	pvdma_domain_free_mem(d);
}
