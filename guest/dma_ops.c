// SPDX-License-Identifier: GPL-2.0
/*
 * pvdma dma_map_ops: what a managed device's driver calls through the DMA
 * API. Each call reaches the device's context from @dev (pvdma_mdev_of())
 * and through it the domain the device shares with the other managed
 * devices; it takes the domain's lock once (irqsave), asks the planner
 * and, at most once per call, the host. Nothing here sleeps or allocates,
 * so maps work from atomic context. Coherent allocations allocate with the
 * caller's gfp flags before taking the lock.
 *
 * DMA attributes are honoured or refused, never dropped: see
 * pvdma_dma_attr_rules.
 *
 * A map that fails returns DMA_MAPPING_ERROR (map_sg: a negative errno,
 * alloc: NULL) and logs, rate-limited, the limit that was hit and what to
 * change.
 */
#include <linux/dma-map-ops.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/ratelimit.h>
#include <linux/scatterlist.h>

#include <pvdma/dma_attrs.h>

#include "kcompat.h"
#include "pvdma_guest.h"

/**
 * struct pvdma_call - one driver call, as the planner is to serve it
 * @dir:	the direction
 * @attrs:	its DMA attributes, decoded (PVDMA_ATTR_* for the planner,
 *		the per-call switches)
 */
struct pvdma_call {
	enum dma_data_direction dir;
	struct pvdma_call_attrs attrs;
};

/*
 * Every DMA attribute this kernel defines and what it means here
 * (lib/dma_attrs.c decodes a call's bits by this table). MMIO and
 * REQUIRE_COHERENT forbid the bounce pool (a copy is not the device's
 * memory, nor coherent); SKIP_CPU_SYNC leaves the copy back at unmap to
 * the driver's explicit syncs; the rest change nothing for a host IOMMU
 * mapping. Any other bit is refused: dropping it could break what the
 * driver relies on.
 */
static const struct pvdma_attr_rule pvdma_dma_attr_rules[] = {
	{ DMA_ATTR_WEAK_ORDERING,		PVDMA_ATTR_EFFECT_NONE },
	{ DMA_ATTR_WRITE_COMBINE,		PVDMA_ATTR_EFFECT_NONE },
	{ DMA_ATTR_NO_KERNEL_MAPPING,		PVDMA_ATTR_EFFECT_NONE },
	{ DMA_ATTR_FORCE_CONTIGUOUS,		PVDMA_ATTR_EFFECT_NONE },
	{ DMA_ATTR_ALLOC_SINGLE_PAGES,		PVDMA_ATTR_EFFECT_NONE },
	{ DMA_ATTR_PRIVILEGED,			PVDMA_ATTR_EFFECT_NONE },
	{ PVDMA_DMA_ATTR_IGNORE_CACHELINES,	PVDMA_ATTR_EFFECT_NONE },
	{ DMA_ATTR_SKIP_CPU_SYNC,		PVDMA_ATTR_EFFECT_SKIP_SYNC },
	{ DMA_ATTR_NO_WARN,			PVDMA_ATTR_EFFECT_QUIET },
	{ PVDMA_DMA_ATTR_MMIO,			PVDMA_ATTR_EFFECT_MMIO },
	{ PVDMA_DMA_ATTR_REQUIRE_COHERENT,	PVDMA_ATTR_EFFECT_COHERENT },
};

static bool pvdma_dir_ok(enum dma_data_direction dir)
{
	return dir == DMA_BIDIRECTIONAL || dir == DMA_TO_DEVICE ||
	       dir == DMA_FROM_DEVICE;
}

/* One call's direction and attributes; a refused attribute is logged. */
static int pvdma_call_init(struct device *dev, unsigned long attrs,
			   enum dma_data_direction dir, struct pvdma_call *call)
{
	int ret;

	call->dir = dir;
	ret = pvdma_attrs_decode(pvdma_dma_attr_rules,
				 ARRAY_SIZE(pvdma_dma_attr_rules), attrs,
				 &call->attrs);
	if (ret)
		dev_warn_ratelimited(dev, "pvdma: DMA attributes %#llx are unknown to pvdma: map refused rather than ignored\n",
				     call->attrs.unknown);
	return ret;
}

static void pvdma_warn_fail(struct device *dev, struct pvdma_domain *d,
			    const struct pvdma_fail_info *f)
{
	const char *why = pvdma_fail_reason_name(f->reason);

	if (!__ratelimit(&d->fail_rs))
		return;

	switch (f->reason) {
	case PVDMA_FAIL_APERTURE:
	case PVDMA_FAIL_ROOM_KEPT:
	case PVDMA_FAIL_BOUNCE_FULL:
		dev_warn(dev,
			 "pvdma: map of %llu bytes failed: %s (aperture %llu KiB mapped of %llu, %llu KiB of it pinned by live mappings, the call needing %llu KiB more; mappings %llu of %llu); load pvdma with bounce=small or bounce=all (bounce_pool_kb=%u now) or raise pvdmad --aperture\n",
			 f->len, why, f->aperture_live >> 10,
			 f->aperture_max >> 10, f->aperture_pinned >> 10,
			 f->aperture_need >> 10,
			 f->mappings_live, f->mappings_max,
			 pvdma_params.bounce == PVDMA_BOUNCE_OFF ? 0 :
			 pvdma_params.bounce_pool_kb);
		break;
	case PVDMA_FAIL_MAPPINGS:
	case PVDMA_FAIL_NO_RECORDS:
		dev_warn(dev,
			 "pvdma: map of %llu bytes failed: %s (mappings %llu of %llu; aperture %llu KiB live of %llu); use policy=pvdma (it groups maps) or raise pvdmad --max-mappings\n",
			 f->len, why, f->mappings_live, f->mappings_max,
			 f->aperture_live >> 10, f->aperture_max >> 10);
		break;
	case PVDMA_FAIL_HOST:
		dev_warn(dev,
			 "pvdma: map of %llu bytes failed: the host refused it (%s)\n",
			 f->len, pvdma_status_name(f->host_status));
		break;
	case PVDMA_FAIL_TRANSPORT:
		/* An I/O error from a host that still answers: its IOMMU. */
		if (f->host_status == PVDMA_ST_IO && READ_ONCE(d->live) &&
		    !READ_ONCE(d->tp.broken)) {
			dev_warn(dev,
				 "pvdma: map of %llu bytes failed: the host's IOMMU reported an I/O error (aperture %llu KiB live of %llu; mappings %llu of %llu)\n",
				 f->len, f->aperture_live >> 10,
				 f->aperture_max >> 10, f->mappings_live,
				 f->mappings_max);
			break;
		}
		dev_warn(dev,
			 "pvdma: map of %llu bytes failed: the host did not answer; check pvdmad, then reload pvdma\n",
			 f->len);
		break;
	default:
		dev_warn(dev,
			 "pvdma: map of %llu bytes failed: %s (aperture %llu KiB live of %llu; mappings %llu of %llu)\n",
			 f->len, why, f->aperture_live >> 10,
			 f->aperture_max >> 10, f->mappings_live,
			 f->mappings_max);
		break;
	}
}

/*
 * The call's per-map switches for the planner ops; cleared after.
 * SKIP_CPU_SYNC skips only the copy back at unmap: a map fills its bounce
 * slot whatever the attributes, as swiotlb does (5.18+), for the buffer
 * is already the device's (dma-api.rst) and bytes the device does not
 * write must come back as they were, not another mapping's from the pool.
 */
static void pvdma_call_begin(struct pvdma_domain *d,
			     const struct pvdma_call *call, bool unmap)
{
	d->ps.mmio = call->attrs.mmio;
	d->ps.skip_copy = unmap && call->attrs.skip_sync;
}

static void pvdma_call_end(struct pvdma_domain *d)
{
	d->ps.mmio = false;
	d->ps.skip_copy = false;
}

static void pvdma_mdev_count_map(struct pvdma_mdev *m,
				 const struct pvdma_seg *segs, u32 n)
{
	struct pvdma_mdev_stats *s = &m->stats;
	u32 i;

	s->map_segments += n;
	for (i = 0; i < n; i++) {
		s->mapped_bytes += segs[i].len;
		s->live_bytes += segs[i].len;
		s->bounced_segments += !!segs[i].bounced;
	}
	s->peak_live_bytes = max(s->peak_live_bytes, s->live_bytes);
}

/*
 * Map @n segments under the lock. On failure returns a negative errno
 * and fills @fail for the caller to log after unlocking.
 */
static int pvdma_map_locked(struct pvdma_mdev *m, struct pvdma_seg *segs,
			    u32 n, const struct pvdma_call *call,
			    struct pvdma_fail_info *fail)
{
	struct pvdma_domain *d = m->domain;
	int ret;

	lockdep_assert_held(&d->lock);
	if (!d->live) {
		d->dead_maps++;
		memset(fail, 0, sizeof(*fail));
		fail->reason = PVDMA_FAIL_TRANSPORT;
		return -EIO;
	}
	/* Host gone: not even a cached window may be handed out. */
	if (pvdma_transport_check(&d->tp)) {
		d->map_failures++;
		memset(fail, 0, sizeof(*fail));
		fail->reason = PVDMA_FAIL_TRANSPORT;
		return -EIO;
	}
	pvdma_call_begin(d, call, false);
	ret = pvdma_map(&d->ps.planner, segs, n, (enum pvdma_dir)call->dir,
			call->attrs.planner_attrs);
	pvdma_call_end(d);
	if (ret) {
		d->map_failures++;
		*fail = d->ps.planner.last_failure;
		return ret;
	}
	pvdma_mdev_count_map(m, segs, n);
	return 0;
}

static void pvdma_unmap_locked(struct pvdma_mdev *m,
			       const struct pvdma_seg *segs, u32 n,
			       const struct pvdma_call *call)
{
	struct pvdma_domain *d = m->domain;
	u32 i;

	lockdep_assert_held(&d->lock);
	if (!d->live)
		return;
	pvdma_call_begin(d, call, true);
	if (pvdma_unmap(&d->ps.planner, segs, n, (enum pvdma_dir)call->dir)) {
		d->bad_unmaps++;
		m->stats.bad_unmaps++;
	}
	pvdma_call_end(d);
	for (i = 0; i < n; i++)
		m->stats.live_bytes -= min(m->stats.live_bytes, segs[i].len);
}

/*
 * The highest bus address @dev can reach, as dma-direct's dma_capable()
 * reads it: the coherent or streaming DMA mask and the bus's limit.
 * pvdma_dma_supported() refuses a mask below the host's bus range, but
 * a mask set before pvdma took the device over (under dma-direct) never
 * reached it, and the host, not pvdma, picks the addresses.
 */
static u64 pvdma_dma_limit(struct device *dev, bool coherent)
{
	u64 mask = coherent ? dev->coherent_dma_mask :
		   dev->dma_mask ? *dev->dma_mask : 0;

	mask = min_not_zero(mask, dev->bus_dma_limit);
	return mask ? mask : U64_MAX;
}

/* Does @seg end above @limit, where the device cannot reach? */
static bool pvdma_seg_over(const struct pvdma_seg *seg, u64 limit)
{
	return seg->bus + seg->len - 1 > limit;
}

/* A map refused for an address past the mask, as dma-direct's are. */
static void pvdma_warn_mask(struct device *dev, struct pvdma_domain *d,
			    const struct pvdma_seg *bad, u64 limit)
{
	if (__ratelimit(&d->fail_rs))
		dev_warn(dev, "pvdma: map of %llu bytes refused: the host placed it at bus %#llx, above the device's DMA mask %#llx (a mask set before pvdma took the device over is not checked against the host's bus range, up to %#llx)\n",
			 bad->len, bad->bus, limit, d->bus_limit - 1);
}

static dma_addr_t pvdma_map_range(struct device *dev, phys_addr_t phys,
				  size_t size, const struct pvdma_call *call)
{
	struct pvdma_mdev *m = pvdma_mdev_of(dev);
	struct pvdma_domain *d = m->domain;
	struct pvdma_seg seg = { .gpa = phys, .len = size };
	u64 limit = pvdma_dma_limit(dev, call->attrs.planner_attrs &
					 PVDMA_ATTR_COHERENT);
	struct pvdma_fail_info fail;
	unsigned long flags;
	int ret;

	if (!pvdma_dir_ok(call->dir) || !size)
		return DMA_MAPPING_ERROR;
	spin_lock_irqsave(&d->lock, flags);
	m->stats.map_calls++;
	ret = pvdma_map_locked(m, &seg, 1, call, &fail);
	if (!ret && pvdma_seg_over(&seg, limit)) {
		pvdma_unmap_locked(m, &seg, 1, call);
		d->mask_refusals++;
		ret = -EOVERFLOW;
	}
	if (ret)
		m->stats.failed_maps++;
	spin_unlock_irqrestore(&d->lock, flags);
	if (ret) {
		if (call->attrs.quiet)
			return DMA_MAPPING_ERROR;
		if (ret == -EOVERFLOW)
			pvdma_warn_mask(dev, d, &seg, limit);
		else
			pvdma_warn_fail(dev, d, &fail);
		return DMA_MAPPING_ERROR;
	}
	return seg.bus;
}

/*
 * Return: true if the host may still map the range after all (the
 * transport broke, or teardown's RESET failed): its memory must not be
 * reused while a device may still write into it.
 */
static bool pvdma_unmap_range(struct device *dev, dma_addr_t addr,
			      size_t size, const struct pvdma_call *call)
{
	struct pvdma_mdev *m = pvdma_mdev_of(dev);
	struct pvdma_domain *d = m->domain;
	struct pvdma_seg seg = { .bus = addr, .len = size };
	unsigned long flags;
	bool stale;

	if (addr == DMA_MAPPING_ERROR || !size)
		return false;
	spin_lock_irqsave(&d->lock, flags);
	m->stats.unmap_calls++;
	pvdma_unmap_locked(m, &seg, 1, call);
	stale = d->host_may_map || d->tp.broken;
	spin_unlock_irqrestore(&d->lock, flags);
	return stale;
}

/* A single range, from map_page, map_phys or map_resource. */
static dma_addr_t pvdma_map_attrs(struct device *dev, phys_addr_t phys,
				  size_t size, enum dma_data_direction dir,
				  unsigned long attrs)
{
	struct pvdma_call call;

	if (pvdma_call_init(dev, attrs, dir, &call)) {
		atomic64_inc(&pvdma_mdev_of(dev)->domain->attr_refusals);
		return DMA_MAPPING_ERROR;
	}
	return pvdma_map_range(dev, phys, size, &call);
}

/* An unmap honours SKIP_CPU_SYNC; it refuses nothing (it must undo). */
static void pvdma_unmap_attrs(struct device *dev, dma_addr_t addr,
			      size_t size, enum dma_data_direction dir,
			      unsigned long attrs)
{
	struct pvdma_call call = {
		.dir = dir,
		.attrs.skip_sync = attrs & DMA_ATTR_SKIP_CPU_SYNC,
	};

	pvdma_unmap_range(dev, addr, size, &call);
}

#if PVDMA_HAVE_MAP_PHYS_OP
/* MMIO arrives here too, flagged DMA_ATTR_MMIO. */
static dma_addr_t pvdma_map_phys(struct device *dev, phys_addr_t phys,
				 size_t size, enum dma_data_direction dir,
				 unsigned long attrs)
{
	return pvdma_map_attrs(dev, phys, size, dir, attrs);
}

static void pvdma_unmap_phys(struct device *dev, dma_addr_t addr, size_t size,
			     enum dma_data_direction dir, unsigned long attrs)
{
	pvdma_unmap_attrs(dev, addr, size, dir, attrs);
}
#else
static dma_addr_t pvdma_map_page(struct device *dev, struct page *page,
				 unsigned long offset, size_t size,
				 enum dma_data_direction dir, unsigned long attrs)
{
	return pvdma_map_attrs(dev, page_to_phys(page) + offset, size, dir,
			       attrs);
}

static void pvdma_unmap_page(struct device *dev, dma_addr_t addr, size_t size,
			     enum dma_data_direction dir, unsigned long attrs)
{
	pvdma_unmap_attrs(dev, addr, size, dir, attrs);
}
#endif

/* Unmap the first @n entries of @sgl (already mapped by us). */
static void pvdma_unmap_sg_n(struct pvdma_mdev *m, struct scatterlist *sgl,
			     int n, const struct pvdma_call *call)
{
	struct pvdma_planner_state *ps = &m->domain->ps;
	struct scatterlist *sg = sgl;
	u32 k = 0;
	int i;

	lockdep_assert_held(&m->domain->lock);
	for (i = 0; i < n; i++, sg = sg_next(sg)) {
		ps->segs[k].bus = sg_dma_address(sg);
		ps->segs[k].len = sg_dma_len(sg);
		if (++k == ps->nsegs || i == n - 1) {
			pvdma_unmap_locked(m, ps->segs, k, call);
			k = 0;
		}
	}
}

/*
 * Does @seg's bus range cross a boundary of @mask that its guest-physical
 * range does not? The host places windows, congruent to guest-physical
 * addresses only up to its alignment, so a list built to the device's
 * boundary (the block layer splits at it) can come out across one; no
 * DMA segment may (dma-api.rst, dma-debug's check_sg_segment). A list
 * whose own entries cross is passed on as dma-direct would.
 */
static bool pvdma_seg_crosses(const struct pvdma_seg *seg, u64 mask)
{
	u64 bus_end = seg->bus + seg->len - 1, gpa_end = seg->gpa + seg->len - 1;

	return ((seg->bus ^ bus_end) & ~mask) && !((seg->gpa ^ gpa_end) & ~mask);
}

/*
 * What every segment of a map_sg must keep to, read once per call so
 * that the checks and the refusal's message agree.
 */
struct pvdma_sg_limits {
	u64 dma_limit;		/* pvdma_dma_limit(), streaming */
	unsigned long boundary;	/* dma_get_seg_boundary() */
};

/*
 * The refusal that applies to @segs as the host placed them, in one
 * pass: -EOVERFLOW for the first that ends above the DMA mask, else
 * -ERANGE for the first that crosses the segment boundary, @bad set to
 * it; 0 if none. The mask wins wherever it is in the piece: an address
 * the device cannot reach at all is the graver fault.
 */
static int pvdma_segs_refusal(const struct pvdma_seg *segs, u32 n,
			      const struct pvdma_sg_limits *lim,
			      struct pvdma_seg *bad)
{
	const struct pvdma_seg *cross = NULL;
	u32 i;

	for (i = 0; i < n; i++) {
		if (pvdma_seg_over(&segs[i], lim->dma_limit)) {
			*bad = segs[i];
			return -EOVERFLOW;
		}
		if (!cross && pvdma_seg_crosses(&segs[i], lim->boundary))
			cross = &segs[i];
	}
	if (!cross)
		return 0;
	*bad = *cross;
	return -ERANGE;
}

/*
 * Map @sgl in pieces of up to ps->nsegs entries, one planner call (one
 * host call at most) each; a later piece that fails undoes the earlier
 * ones. Returns 0 or a negative errno: -ERANGE when a segment would
 * cross the device's segment boundary, -EOVERFLOW when one ends above
 * its DMA mask (@bad says which; see pvdma_segs_refusal()); @fail is
 * filled on a planner failure.
 */
static int pvdma_map_sg_locked(struct pvdma_mdev *m, struct scatterlist *sgl,
			       int nents, const struct pvdma_call *call,
			       const struct pvdma_sg_limits *lim,
			       struct pvdma_fail_info *fail,
			       struct pvdma_seg *bad)
{
	struct pvdma_planner_state *ps = &m->domain->ps;
	struct scatterlist *sg = sgl, *first = sgl;
	int i, done = 0, ret;
	u32 k = 0, j;

	for (i = 0; i < nents; i++, sg = sg_next(sg)) {
		if (!sg->length) {
			ret = -EINVAL;
			goto err_undo;
		}
		ps->segs[k].gpa = sg_phys(sg);
		ps->segs[k].len = sg->length;
		if (++k < ps->nsegs && i < nents - 1)
			continue;
		ret = pvdma_map_locked(m, ps->segs, k, call, fail);
		if (ret)
			goto err_undo;
		ret = pvdma_segs_refusal(ps->segs, k, lim, bad);
		if (ret) {
			pvdma_unmap_locked(m, ps->segs, k, call);
			if (ret == -EOVERFLOW)
				m->domain->mask_refusals++;
			else
				m->domain->seg_boundary_refusals++;
			goto err_undo;
		}
		for (j = 0; j < k; j++, first = sg_next(first)) {
			sg_dma_address(first) = ps->segs[j].bus;
			sg_dma_len(first) = ps->segs[j].len;
		}
		done += k;
		k = 0;
	}
	return 0;

err_undo:
	if (done)
		pvdma_unmap_sg_n(m, sgl, done, call);
	return ret;
}

static int pvdma_map_sg(struct device *dev, struct scatterlist *sgl, int nents,
			enum dma_data_direction dir, unsigned long attrs)
{
	struct pvdma_mdev *m = pvdma_mdev_of(dev);
	struct pvdma_domain *d = m->domain;
	struct pvdma_sg_limits lim = {
		.dma_limit = pvdma_dma_limit(dev, false),
		.boundary = dma_get_seg_boundary(dev),
	};
	struct pvdma_fail_info fail;
	struct pvdma_call call;
	struct pvdma_seg bad;
	unsigned long flags;
	int ret;

	if (!pvdma_dir_ok(dir) || nents <= 0)
		return -EINVAL;
	if (pvdma_call_init(dev, attrs, dir, &call)) {
		atomic64_inc(&d->attr_refusals);
		return -EINVAL;
	}
	spin_lock_irqsave(&d->lock, flags);
	m->stats.map_calls++;
	if (d->live)
		ret = pvdma_map_sg_locked(m, sgl, nents, &call, &lim, &fail,
					  &bad);
	else
		ret = pvdma_map_locked(m, NULL, 0, &call, &fail);
	if (ret)
		m->stats.failed_maps++;
	spin_unlock_irqrestore(&d->lock, flags);
	if (!ret)
		return nents;
	if (ret == -EINVAL)
		return -EINVAL;
	if (ret == -ERANGE) {
		/*
		 * -EINVAL, not -ENOMEM: the same list finds the same cached
		 * windows, so a retry would fail the same way.
		 */
		if (!call.attrs.quiet && __ratelimit(&d->fail_rs))
			dev_warn(dev, "pvdma: map_sg refused: segment of %llu bytes at bus %#llx would cross the device's segment boundary (mask %#lx) where the host placed its window\n",
				 bad.len, bad.bus, lim.boundary);
		return -EINVAL;
	}
	if (ret == -EOVERFLOW) {
		/* -EIO: what dma-direct's map_sg returns past the mask. */
		if (!call.attrs.quiet)
			pvdma_warn_mask(dev, d, &bad, lim.dma_limit);
		return -EIO;
	}
	if (!call.attrs.quiet)
		pvdma_warn_fail(dev, d, &fail);
	return ret == -EIO ? -EIO : -ENOMEM;
}

static void pvdma_unmap_sg(struct device *dev, struct scatterlist *sgl,
			   int nents, enum dma_data_direction dir,
			   unsigned long attrs)
{
	struct pvdma_mdev *m = pvdma_mdev_of(dev);
	struct pvdma_domain *d = m->domain;
	struct pvdma_call call = {
		.dir = dir,
		.attrs.skip_sync = attrs & DMA_ATTR_SKIP_CPU_SYNC,
	};
	unsigned long flags;

	if (nents <= 0)
		return;
	spin_lock_irqsave(&d->lock, flags);
	m->stats.unmap_calls++;
	if (d->live)
		pvdma_unmap_sg_n(m, sgl, nents, &call);
	spin_unlock_irqrestore(&d->lock, flags);
}

static void pvdma_sync_range(struct device *dev, dma_addr_t addr, size_t size,
			     enum dma_data_direction dir, bool for_device)
{
	struct pvdma_domain *d = pvdma_mdev_of(dev)->domain;
	unsigned long flags;

	spin_lock_irqsave(&d->lock, flags);
	if (d->live)
		pvdma_sync(&d->ps.planner, addr, size, (enum pvdma_dir)dir,
			   for_device);
	spin_unlock_irqrestore(&d->lock, flags);
}

static void pvdma_sync_single_for_cpu(struct device *dev, dma_addr_t addr,
				      size_t size, enum dma_data_direction dir)
{
	pvdma_sync_range(dev, addr, size, dir, false);
}

static void pvdma_sync_single_for_device(struct device *dev, dma_addr_t addr,
					 size_t size,
					 enum dma_data_direction dir)
{
	pvdma_sync_range(dev, addr, size, dir, true);
}

static void pvdma_sync_sg(struct device *dev, struct scatterlist *sgl,
			  int nents, enum dma_data_direction dir,
			  bool for_device)
{
	struct pvdma_domain *d = pvdma_mdev_of(dev)->domain;
	struct scatterlist *sg;
	unsigned long flags;
	int i;

	spin_lock_irqsave(&d->lock, flags);
	if (d->live)
		for_each_sg(sgl, sg, nents, i)
			pvdma_sync(&d->ps.planner, sg_dma_address(sg),
				   sg_dma_len(sg), (enum pvdma_dir)dir,
				   for_device);
	spin_unlock_irqrestore(&d->lock, flags);
}

static void pvdma_sync_sg_for_cpu(struct device *dev, struct scatterlist *sgl,
				  int nents, enum dma_data_direction dir)
{
	pvdma_sync_sg(dev, sgl, nents, dir, false);
}

static void pvdma_sync_sg_for_device(struct device *dev,
				     struct scatterlist *sgl, int nents,
				     enum dma_data_direction dir)
{
	pvdma_sync_sg(dev, sgl, nents, dir, true);
}

/* Coherent memory: pages of our own, mapped for good, never bounced. */
static struct page *pvdma_alloc_mapped(struct device *dev, size_t size,
				       dma_addr_t *dma_handle,
				       enum dma_data_direction dir, gfp_t gfp)
{
	struct pvdma_call call = {
		.dir = dir,
		.attrs.planner_attrs = PVDMA_ATTR_COHERENT,
	};
	struct page *page;
	dma_addr_t bus;

	page = alloc_pages(gfp | __GFP_ZERO, get_order(size));
	if (!page)
		return NULL;
	bus = pvdma_map_range(dev, page_to_phys(page), size, &call);
	if (bus == DMA_MAPPING_ERROR) {
		__free_pages(page, get_order(size));
		return NULL;
	}
	*dma_handle = bus;
	return page;
}

static void pvdma_free_mapped(struct device *dev, size_t size,
			      struct page *page, dma_addr_t dma_handle,
			      enum dma_data_direction dir)
{
	struct pvdma_call call = { .dir = dir };

	if (pvdma_unmap_range(dev, dma_handle, size, &call)) {
		/* leaked on purpose: the device may still write here */
		dev_warn_ratelimited(dev, "pvdma: keeping %zu bytes of coherent memory (never freed until reboot): the host may still map them, as it stopped answering\n",
				     size);
		return;
	}
	__free_pages(page, get_order(size));
}

static void *pvdma_alloc(struct device *dev, size_t size,
			 dma_addr_t *dma_handle, gfp_t gfp, unsigned long attrs)
{
	struct page *page;

	page = pvdma_alloc_mapped(dev, size, dma_handle, DMA_BIDIRECTIONAL,
				  gfp);
	return page ? page_address(page) : NULL;
}

static void pvdma_free(struct device *dev, size_t size, void *vaddr,
		       dma_addr_t dma_handle, unsigned long attrs)
{
	pvdma_free_mapped(dev, size, virt_to_page(vaddr), dma_handle,
			  DMA_BIDIRECTIONAL);
}

static struct page *pvdma_alloc_pages(struct device *dev, size_t size,
				      dma_addr_t *dma_handle,
				      enum dma_data_direction dir, gfp_t gfp)
{
	if (!pvdma_dir_ok(dir))
		return NULL;
	return pvdma_alloc_mapped(dev, size, dma_handle, dir, gfp);
}

static void pvdma_free_pages(struct device *dev, size_t size,
			     struct page *page, dma_addr_t dma_handle,
			     enum dma_data_direction dir)
{
	pvdma_free_mapped(dev, size, page, dma_handle, dir);
}

static int pvdma_mmap(struct device *dev, struct vm_area_struct *vma,
		      void *cpu_addr, dma_addr_t dma_addr, size_t size,
		      unsigned long attrs)
{
	unsigned long count = PAGE_ALIGN(size) >> PAGE_SHIFT;
	unsigned long off = vma->vm_pgoff;

	if (off >= count || vma_pages(vma) > count - off)
		return -ENXIO;
	return remap_pfn_range(vma, vma->vm_start,
			       page_to_pfn(virt_to_page(cpu_addr)) + off,
			       vma->vm_end - vma->vm_start, vma->vm_page_prot);
}

static int pvdma_get_sgtable(struct device *dev, struct sg_table *sgt,
			     void *cpu_addr, dma_addr_t dma_addr, size_t size,
			     unsigned long attrs)
{
	int ret = sg_alloc_table(sgt, 1, GFP_KERNEL);

	if (!ret)
		sg_set_page(sgt->sgl, virt_to_page(cpu_addr), PAGE_ALIGN(size),
			    0);
	return ret;
}

#if PVDMA_HAVE_MAP_RESOURCE_OP
/*
 * Device memory (peer-to-peer): the exact range goes to the host, with no
 * RAM check and no bounce, as 6.19's map_phys does for DMA_ATTR_MMIO.
 * Whether the host can map it is the host's to say.
 */
static dma_addr_t pvdma_map_resource(struct device *dev, phys_addr_t phys,
				     size_t size, enum dma_data_direction dir,
				     unsigned long attrs)
{
	return pvdma_map_attrs(dev, phys, size, dir,
			       attrs | PVDMA_DMA_ATTR_MMIO);
}

static void pvdma_unmap_resource(struct device *dev, dma_addr_t addr,
				 size_t size, enum dma_data_direction dir,
				 unsigned long attrs)
{
	pvdma_unmap_attrs(dev, addr, size, dir, attrs);
}
#endif

/* The host picks bus addresses in [bus_base, bus_limit). */
static int pvdma_dma_supported(struct device *dev, u64 mask)
{
	u64 limit = READ_ONCE(pvdma_mdev_of(dev)->domain->bus_limit);

	if (limit && mask < limit - 1) {
		dev_warn(dev, "pvdma: DMA mask %#llx is below the host's bus addresses (up to %#llx): refused\n",
			 mask, limit - 1);
		return 0;
	}
	return 1;
}

static u64 pvdma_get_required_mask(struct device *dev)
{
	u64 limit = READ_ONCE(pvdma_mdev_of(dev)->domain->bus_limit);

	return limit > 1 ? DMA_BIT_MASK(fls64(limit - 1)) : DMA_BIT_MASK(64);
}

/* One mapping can take the whole aperture less the bounce pool. */
static size_t pvdma_max_mapping_size(struct device *dev)
{
	u64 max = READ_ONCE(pvdma_mdev_of(dev)->domain->max_map_bytes);

	return max && max < SIZE_MAX ? max : SIZE_MAX;
}

/*
 * Each managed device gets a copy of this table (struct pvdma_mdev.ops),
 * so the ops reach the device's context from @dev.
 */
const struct dma_map_ops pvdma_dma_ops_template = {
	.alloc			= pvdma_alloc,
	.free			= pvdma_free,
	.PVDMA_OPS_ALLOC_PAGES	= pvdma_alloc_pages,
	.free_pages		= pvdma_free_pages,
	.mmap			= pvdma_mmap,
	.get_sgtable		= pvdma_get_sgtable,
#if PVDMA_HAVE_MAP_PHYS_OP
	.map_phys		= pvdma_map_phys,
	.unmap_phys		= pvdma_unmap_phys,
#else
	.map_page		= pvdma_map_page,
	.unmap_page		= pvdma_unmap_page,
#endif
	.map_sg			= pvdma_map_sg,
	.unmap_sg		= pvdma_unmap_sg,
#if PVDMA_HAVE_MAP_RESOURCE_OP
	.map_resource		= pvdma_map_resource,
	.unmap_resource		= pvdma_unmap_resource,
#endif
	.sync_single_for_cpu	= pvdma_sync_single_for_cpu,
	.sync_single_for_device	= pvdma_sync_single_for_device,
	.sync_sg_for_cpu	= pvdma_sync_sg_for_cpu,
	.sync_sg_for_device	= pvdma_sync_sg_for_device,
	.dma_supported		= pvdma_dma_supported,
	.get_required_mask	= pvdma_get_required_mask,
	.max_mapping_size	= pvdma_max_mapping_size,
};

/**
 * pvdma_dma_ops_are_ours() - is @ops a managed device's copy of pvdma's?
 * @ops: a device's dma_map_ops, may be NULL
 *
 * Return: true if so.
 */
bool pvdma_dma_ops_are_ours(const struct dma_map_ops *ops)
{
	return ops && ops->map_sg == pvdma_map_sg;
}
