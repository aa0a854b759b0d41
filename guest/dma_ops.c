// SPDX-License-Identifier: GPL-2.0
/*
 * pvdma dma_map_ops: what a managed device's driver calls through the DMA
 * API. Every call takes pvdma_comp.lock once (irqsave), asks the planner
 * and, at most once per call, the host; nothing here sleeps or allocates,
 * so maps work from atomic context. Coherent allocations allocate with the
 * caller's gfp flags before taking the lock.
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

#include "kcompat.h"
#include "pvdma_guest.h"

static bool pvdma_dir_ok(enum dma_data_direction dir)
{
	return dir == DMA_BIDIRECTIONAL || dir == DMA_TO_DEVICE ||
	       dir == DMA_FROM_DEVICE;
}

/* A few lines per burst: a workload over the limits fails many maps. */
static DEFINE_RATELIMIT_STATE(pvdma_fail_rs, 5 * HZ, 3);

static void pvdma_warn_fail(struct device *dev,
			    const struct pvdma_fail_info *f)
{
	const char *why = pvdma_fail_reason_name(f->reason);

	if (!__ratelimit(&pvdma_fail_rs))
		return;

	switch (f->reason) {
	case PVDMA_FAIL_APERTURE:
	case PVDMA_FAIL_BOUNCE_FULL:
		dev_warn(dev,
			"pvdma: map of %llu bytes failed: %s (aperture %llu KiB live, %llu peak, %llu max; mappings %llu of %llu); load pvdma with bounce=small or bounce=all (bounce_pool_kb=%u now) or raise pvdmad --aperture\n",
			f->len, why, f->aperture_live >> 10, f->aperture_peak >> 10,
			f->aperture_max >> 10, f->mappings_live, f->mappings_max,
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
		if (f->host_status == PVDMA_ST_IO && pvdma_comp.live &&
		    !READ_ONCE(pvdma_comp.tp.broken)) {
			dev_warn(dev,
				"pvdma: map of %llu bytes failed: the host's IOMMU reported an I/O error (aperture %llu KiB live of %llu; mappings %llu of %llu)\n",
				f->len, f->aperture_live >> 10, f->aperture_max >> 10,
				f->mappings_live, f->mappings_max);
			break;
		}
		dev_warn(dev,
			"pvdma: map of %llu bytes failed: the host did not answer; check pvdmad, then reload pvdma\n",
			f->len);
		break;
	default:
		dev_warn(dev,
			"pvdma: map of %llu bytes failed: %s (aperture %llu KiB live of %llu; mappings %llu of %llu)\n",
			f->len, why, f->aperture_live >> 10, f->aperture_max >> 10,
			f->mappings_live, f->mappings_max);
		break;
	}
}

/*
 * Map @n segments (in c->segs or @segs) under the lock. On failure
 * returns a negative errno and fills @fail for the caller to log after
 * unlocking.
 */
static int pvdma_map_locked(struct pvdma_companion *c, struct pvdma_seg *segs,
			    u32 n, enum dma_data_direction dir, u32 attrs,
			    struct pvdma_fail_info *fail)
{
	int ret;

	lockdep_assert_held(&c->lock);
	if (!c->live) {
		c->dead_maps++;
		memset(fail, 0, sizeof(*fail));
		fail->reason = PVDMA_FAIL_TRANSPORT;
		return -EIO;
	}
	/* Host gone: not even a cached window may be handed out. */
	if (pvdma_transport_check(&c->tp)) {
		c->map_failures++;
		memset(fail, 0, sizeof(*fail));
		fail->reason = PVDMA_FAIL_TRANSPORT;
		return -EIO;
	}
	ret = pvdma_map(&c->planner, segs, n, (enum pvdma_dir)dir, attrs);
	if (ret) {
		c->map_failures++;
		*fail = c->planner.last_failure;
	}
	return ret;
}

static void pvdma_unmap_locked(struct pvdma_companion *c,
			       const struct pvdma_seg *segs, u32 n,
			       enum dma_data_direction dir)
{
	lockdep_assert_held(&c->lock);
	if (!c->live)
		return;
	if (pvdma_unmap(&c->planner, segs, n, (enum pvdma_dir)dir))
		c->bad_unmaps++;
}

static dma_addr_t pvdma_map_range(struct device *dev, phys_addr_t phys,
				  size_t size, enum dma_data_direction dir,
				  u32 attrs)
{
	struct pvdma_companion *c = &pvdma_comp;
	struct pvdma_seg seg = { .gpa = phys, .len = size };
	struct pvdma_fail_info fail;
	unsigned long flags;
	int ret;

	if (!pvdma_dir_ok(dir) || !size)
		return DMA_MAPPING_ERROR;
	spin_lock_irqsave(&c->lock, flags);
	ret = pvdma_map_locked(c, &seg, 1, dir, attrs, &fail);
	spin_unlock_irqrestore(&c->lock, flags);
	if (ret) {
		pvdma_warn_fail(dev, &fail);
		return DMA_MAPPING_ERROR;
	}
	return seg.bus;
}

static void pvdma_unmap_range(struct device *dev, dma_addr_t addr,
			      size_t size, enum dma_data_direction dir)
{
	struct pvdma_companion *c = &pvdma_comp;
	struct pvdma_seg seg = { .bus = addr, .len = size };
	unsigned long flags;

	if (addr == DMA_MAPPING_ERROR || !size)
		return;
	spin_lock_irqsave(&c->lock, flags);
	pvdma_unmap_locked(c, &seg, 1, dir);
	spin_unlock_irqrestore(&c->lock, flags);
}

#if PVDMA_HAVE_MAP_PHYS_OP
static dma_addr_t pvdma_map_phys(struct device *dev, phys_addr_t phys,
				 size_t size, enum dma_data_direction dir,
				 unsigned long attrs)
{
	return pvdma_map_range(dev, phys, size, dir, 0);
}

static void pvdma_unmap_phys(struct device *dev, dma_addr_t addr, size_t size,
			     enum dma_data_direction dir, unsigned long attrs)
{
	pvdma_unmap_range(dev, addr, size, dir);
}
#else
static dma_addr_t pvdma_map_page(struct device *dev, struct page *page,
				 unsigned long offset, size_t size,
				 enum dma_data_direction dir, unsigned long attrs)
{
	return pvdma_map_range(dev, page_to_phys(page) + offset, size, dir,
			       0);
}

static void pvdma_unmap_page(struct device *dev, dma_addr_t addr, size_t size,
			     enum dma_data_direction dir, unsigned long attrs)
{
	pvdma_unmap_range(dev, addr, size, dir);
}
#endif

/* Unmap the first @n entries of @sgl (already mapped by us). */
static void pvdma_unmap_sg_n(struct pvdma_companion *c, struct scatterlist *sgl,
			     int n, enum dma_data_direction dir)
{
	struct scatterlist *sg = sgl;
	u32 k = 0;
	int i;

	lockdep_assert_held(&c->lock);
	for (i = 0; i < n; i++, sg = sg_next(sg)) {
		c->segs[k].bus = sg_dma_address(sg);
		c->segs[k].len = sg_dma_len(sg);
		if (++k == c->nsegs || i == n - 1) {
			pvdma_unmap_locked(c, c->segs, k, dir);
			k = 0;
		}
	}
}

/*
 * One planner call (one host call at most) for up to c->nsegs entries;
 * longer lists take one call per c->nsegs entries and are undone as a
 * whole if a later part fails.
 */
static int pvdma_map_sg(struct device *dev, struct scatterlist *sgl, int nents,
			enum dma_data_direction dir, unsigned long attrs)
{
	struct pvdma_companion *c = &pvdma_comp;
	struct scatterlist *sg = sgl, *first = sgl;
	struct pvdma_fail_info fail;
	unsigned long flags;
	int i, done = 0, ret = 0;
	u32 k = 0, j;

	if (!pvdma_dir_ok(dir) || nents <= 0)
		return -EINVAL;
	spin_lock_irqsave(&c->lock, flags);
	if (!c->live) {
		ret = pvdma_map_locked(c, NULL, 0, dir, 0, &fail);
		goto out_unlock;
	}
	for (i = 0; i < nents; i++, sg = sg_next(sg)) {
		if (!sg->length) {
			ret = -EINVAL;
			goto err_undo;
		}
		c->segs[k].gpa = sg_phys(sg);
		c->segs[k].len = sg->length;
		if (++k < c->nsegs && i < nents - 1)
			continue;
		ret = pvdma_map_locked(c, c->segs, k, dir, 0,
				       &fail);
		if (ret)
			goto err_undo;
		for (j = 0; j < k; j++, first = sg_next(first)) {
			sg_dma_address(first) = c->segs[j].bus;
			sg_dma_len(first) = c->segs[j].len;
		}
		done += k;
		k = 0;
	}
	spin_unlock_irqrestore(&c->lock, flags);
	return nents;

err_undo:
	if (done)
		pvdma_unmap_sg_n(c, sgl, done, dir);
out_unlock:
	spin_unlock_irqrestore(&c->lock, flags);
	if (ret == -EINVAL)
		return -EINVAL;
	pvdma_warn_fail(dev, &fail);
	return ret == -EIO ? -EIO : -ENOMEM;
}

static void pvdma_unmap_sg(struct device *dev, struct scatterlist *sgl,
			   int nents, enum dma_data_direction dir,
			   unsigned long attrs)
{
	struct pvdma_companion *c = &pvdma_comp;
	unsigned long flags;

	if (nents <= 0)
		return;
	spin_lock_irqsave(&c->lock, flags);
	if (c->live)
		pvdma_unmap_sg_n(c, sgl, nents, dir);
	spin_unlock_irqrestore(&c->lock, flags);
}

static void pvdma_sync_range(dma_addr_t addr, size_t size,
			     enum dma_data_direction dir, bool for_device)
{
	struct pvdma_companion *c = &pvdma_comp;
	unsigned long flags;

	spin_lock_irqsave(&c->lock, flags);
	if (c->live)
		pvdma_sync(&c->planner, addr, size, (enum pvdma_dir)dir,
			   for_device);
	spin_unlock_irqrestore(&c->lock, flags);
}

static void pvdma_sync_single_for_cpu(struct device *dev, dma_addr_t addr,
				      size_t size, enum dma_data_direction dir)
{
	pvdma_sync_range(addr, size, dir, false);
}

static void pvdma_sync_single_for_device(struct device *dev, dma_addr_t addr,
					 size_t size,
					 enum dma_data_direction dir)
{
	pvdma_sync_range(addr, size, dir, true);
}

static void pvdma_sync_sg(struct scatterlist *sgl, int nents,
			  enum dma_data_direction dir, bool for_device)
{
	struct pvdma_companion *c = &pvdma_comp;
	struct scatterlist *sg;
	unsigned long flags;
	int i;

	spin_lock_irqsave(&c->lock, flags);
	if (c->live)
		for_each_sg(sgl, sg, nents, i)
			pvdma_sync(&c->planner, sg_dma_address(sg),
				   sg_dma_len(sg), (enum pvdma_dir)dir,
				   for_device);
	spin_unlock_irqrestore(&c->lock, flags);
}

static void pvdma_sync_sg_for_cpu(struct device *dev, struct scatterlist *sgl,
				  int nents, enum dma_data_direction dir)
{
	pvdma_sync_sg(sgl, nents, dir, false);
}

static void pvdma_sync_sg_for_device(struct device *dev,
				     struct scatterlist *sgl, int nents,
				     enum dma_data_direction dir)
{
	pvdma_sync_sg(sgl, nents, dir, true);
}

/* Coherent memory: pages of our own, mapped for good, never bounced. */
static struct page *pvdma_alloc_mapped(struct device *dev, size_t size,
				       dma_addr_t *dma_handle,
				       enum dma_data_direction dir, gfp_t gfp)
{
	struct page *page;
	dma_addr_t bus;

	page = alloc_pages(gfp | __GFP_ZERO, get_order(size));
	if (!page)
		return NULL;
	bus = pvdma_map_range(dev, page_to_phys(page), size, dir,
			      PVDMA_ATTR_COHERENT);
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
	pvdma_unmap_range(dev, dma_handle, size, dir);
	__free_pages(page, get_order(size));
}

static void *pvdma_alloc(struct device *dev, size_t size,
			 dma_addr_t *dma_handle, gfp_t gfp, unsigned long attrs)
{
	struct page *page;

	page = pvdma_alloc_mapped(dev, size, dma_handle, DMA_BIDIRECTIONAL, gfp);
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
		sg_set_page(sgt->sgl, virt_to_page(cpu_addr), PAGE_ALIGN(size), 0);
	return ret;
}

#if PVDMA_HAVE_MAP_RESOURCE_OP
/* Only guest RAM can be mapped by the host: MMIO (peer-to-peer) cannot. */
static dma_addr_t pvdma_map_resource(struct device *dev, phys_addr_t phys,
				     size_t size, enum dma_data_direction dir,
				     unsigned long attrs)
{
	if (!pfn_valid(PHYS_PFN(phys)) || !page_is_ram(PHYS_PFN(phys))) {
		dev_warn_ratelimited(dev,
			"pvdma: map_resource of %pa (%zu bytes) refused: the host maps guest RAM only, not MMIO (peer-to-peer DMA is not supported)\n",
			&phys, size);
		return DMA_MAPPING_ERROR;
	}
	return pvdma_map_range(dev, phys, size, dir, PVDMA_ATTR_NO_BOUNCE);
}

static void pvdma_unmap_resource(struct device *dev, dma_addr_t addr,
				 size_t size, enum dma_data_direction dir,
				 unsigned long attrs)
{
	pvdma_unmap_range(dev, addr, size, dir);
}
#endif

/* The host picks bus addresses in [bus_base, bus_limit). */
static int pvdma_dma_supported(struct device *dev, u64 mask)
{
	u64 limit = READ_ONCE(pvdma_comp.bus_limit);

	if (limit && mask < limit - 1) {
		dev_warn(dev, "pvdma: DMA mask %#llx is below the host's bus addresses (up to %#llx): refused\n",
			 mask, limit - 1);
		return 0;
	}
	return 1;
}

static u64 pvdma_get_required_mask(struct device *dev)
{
	u64 limit = READ_ONCE(pvdma_comp.bus_limit);

	return limit > 1 ? DMA_BIT_MASK(fls64(limit - 1)) : DMA_BIT_MASK(64);
}

/* One mapping can take the whole aperture less the bounce pool. */
static size_t pvdma_max_mapping_size(struct device *dev)
{
	u64 max = READ_ONCE(pvdma_comp.max_map_bytes);

	return max && max < SIZE_MAX ? max : SIZE_MAX;
}

const struct dma_map_ops pvdma_dma_ops = {
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
