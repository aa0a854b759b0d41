// SPDX-License-Identifier: GPL-2.0
/*
 * pvdma companion: the PCI driver for the ivshmem-doorbell device pvdmad
 * serves (1af4:1110 whose BAR2 starts with PVDMA_MAGIC; other ivshmem
 * devices are refused with -ENODEV so their own drivers can bind).
 *
 * Probe: map BAR0 (registers) and BAR2 (the shared region), wait for the
 * host's header, check it, send HELLO and RESET in one batch (a fresh
 * session: whatever an earlier instance left mapped is released), set up
 * the planner with the limits the host published, then take over the
 * managed devices' DMA. Remove: RESET, forget every window, give
 * driverless managed devices their ops back.
 *
 * One companion per guest: a second one is refused with -EBUSY.
 */
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/vmalloc.h>

#include "kcompat.h"
#include "pvdma_guest.h"

/* Bounce slots: one per 512 bytes of pool, enough for small buffers. */
#define PVDMA_BOUNCE_SLOT_BYTES	512

struct pvdma_companion pvdma_comp = {
	.lock = __SPIN_LOCK_UNLOCKED(pvdma_comp.lock),
};

/**
 * pvdma_companion_is_live() - is a companion bound and serving maps?
 *
 * Return: true if so. Lock-free; a hint for process-context callers.
 */
bool pvdma_companion_is_live(void)
{
	return READ_ONCE(pvdma_comp.live);
}

/* ---- planner ops ----------------------------------------------------- */

static void pvdma_op_copy(void *ctx, u64 dst_gpa, u64 src_gpa, u64 len)
{
	memcpy(phys_to_virt(dst_gpa), phys_to_virt(src_gpa), len);
}

static bool pvdma_op_ram_range(void *ctx, u64 gpa, u64 *start, u64 *end)
{
	struct pvdma_companion *c = ctx;
	u32 i;

	for (i = 0; i < c->nram; i++) {
		if (gpa >= c->ram[i].start && gpa < c->ram[i].end) {
			*start = c->ram[i].start;
			*end = c->ram[i].end;
			return true;
		}
	}
	return false;
}

static int pvdma_op_submit(void *ctx, struct pvdma_host_op *ops, u32 n)
{
	struct pvdma_companion *c = ctx;

	return pvdma_transport_submit(&c->tp, ops, n);
}

static const struct pvdma_planner_ops pvdma_planner_ops = {
	.submit		= pvdma_op_submit,
	.copy		= pvdma_op_copy,
	.ram_range	= pvdma_op_ram_range,
};

/* ---- System RAM table ------------------------------------------------- */

static int pvdma_ram_add(struct resource *res, void *arg)
{
	struct pvdma_companion *c = arg;

	if (c->nram == PVDMA_MAX_RAM_RANGES)
		return 0;
	c->ram[c->nram].start = res->start;
	c->ram[c->nram].end = (u64)res->end + 1;
	c->nram++;
	return 0;
}

static int pvdma_ram_cmp(const void *a, const void *b)
{
	const struct pvdma_ram_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Sorted, merged System RAM ranges (nested resources fold in). */
static void pvdma_ram_build(struct pvdma_companion *c)
{
	u32 i, n = 0;

	c->nram = 0;
	walk_iomem_res_desc(IORES_DESC_NONE,
			    IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY, 0, U64_MAX,
			    c, pvdma_ram_add);
	sort(c->ram, c->nram, sizeof(c->ram[0]), pvdma_ram_cmp, NULL);
	for (i = 0; i < c->nram; i++) {
		if (n && c->ram[i].start <= c->ram[n - 1].end) {
			c->ram[n - 1].end = max(c->ram[n - 1].end, c->ram[i].end);
			continue;
		}
		c->ram[n++] = c->ram[i];
	}
	c->nram = n;
}

/* ---- set-up and teardown ---------------------------------------------- */

/* One batch of HELLO + RESET: a fresh session with nothing mapped. */
static int pvdma_hello(struct pvdma_companion *c, struct pci_dev *pdev)
{
	struct pvdma_host_op ops[2] = {
		{ .op = PVDMA_OP_HELLO },
		{ .op = PVDMA_OP_RESET },
	};
	struct pvdma_shm_header *hdr = c->shm;
	unsigned long flags;
	int ret;

	WRITE_ONCE(hdr->guest_version, pvdma_le32(PVDMA_PROTO_VERSION));
	WRITE_ONCE(hdr->guest_features,
		   pvdma_le32(pvdma_le32(READ_ONCE(hdr->host_features)) &
			      PVDMA_FEAT_KNOWN));
	spin_lock_irqsave(&c->lock, flags);
	ret = pvdma_transport_submit(&c->tp, ops, ARRAY_SIZE(ops));
	spin_unlock_irqrestore(&c->lock, flags);
	if (ret) {
		dev_err(&pdev->dev, "pvdma: the host did not answer HELLO (%d); is pvdmad running?\n",
			ret);
		return ret;
	}
	if (ops[0].status != PVDMA_ST_OK || ops[1].status != PVDMA_ST_OK) {
		dev_err(&pdev->dev, "pvdma: the host refused HELLO: %s / RESET: %s\n",
			pvdma_status_name(ops[0].status),
			pvdma_status_name(ops[1].status));
		return -EPROTO;
	}
	return 0;
}

/* Tell the host to drop every mapping (remove); the lock is held. */
static void pvdma_host_reset_locked(struct pvdma_companion *c)
{
	struct pvdma_host_op op = { .op = PVDMA_OP_RESET };

	lockdep_assert_held(&c->lock);
	if (pvdma_transport_submit(&c->tp, &op, 1) || op.status != PVDMA_ST_OK)
		dev_warn(&c->pdev->dev, "pvdma: host RESET failed (%s); pvdmad releases our mappings when QEMU disconnects\n",
			 pvdma_status_name(op.status));
}

static int pvdma_pool_alloc(struct pvdma_companion *c, u64 page_size)
{
	u64 bytes = max_t(u64, (u64)pvdma_params.bounce_pool_kb << 10, page_size);
	unsigned int order = get_order(bytes);

	if (order > PVDMA_MAX_PAGE_ORDER) {
		pr_warn("pvdma: bounce_pool_kb=%u is above the largest contiguous allocation (%lu KiB); using that\n",
			pvdma_params.bounce_pool_kb,
			(PAGE_SIZE << PVDMA_MAX_PAGE_ORDER) >> 10);
		order = PVDMA_MAX_PAGE_ORDER;
	}
	c->pool = alloc_pages(GFP_KERNEL | __GFP_ZERO | __GFP_NOWARN, order);
	if (!c->pool)
		return -ENOMEM;
	c->pool_order = order;
	return 0;
}

static void pvdma_planner_mem_free(struct pvdma_companion *c)
{
	vfree(c->pmem.windows);
	vfree(c->pmem.slots);
	kvfree(c->pmem.ops);
	kvfree(c->pmem.batch_win);
	kvfree(c->segs);
	memset(&c->pmem, 0, sizeof(c->pmem));
	c->segs = NULL;
	c->nsegs = 0;
	if (c->pool)
		__free_pages(c->pool, c->pool_order);
	c->pool = NULL;
}

static int pvdma_planner_mem_alloc(struct pvdma_companion *c, u32 max_mappings,
				   u64 pool_bytes)
{
	struct pvdma_planner_mem *m = &c->pmem;
	u32 nops = c->tp.max_batch * min_t(u32, c->tp.nslots, PVDMA_ROUND_SLOTS);

	m->nwindows = max_mappings;
	m->windows = vcalloc(m->nwindows, sizeof(*m->windows));
	m->nops = nops;
	m->ops = kvcalloc(nops, sizeof(*m->ops), GFP_KERNEL);
	m->batch_win = kvcalloc(nops, sizeof(*m->batch_win), GFP_KERNEL);
	c->nsegs = max(nops / 2, 1u);
	c->segs = kvcalloc(c->nsegs, sizeof(*c->segs), GFP_KERNEL);
	if (pool_bytes) {
		m->nslots = max_t(u64, pool_bytes / PVDMA_BOUNCE_SLOT_BYTES, 1);
		m->slots = vcalloc(m->nslots, sizeof(*m->slots));
	}
	if (!m->windows || !m->ops || !m->batch_win || !c->segs ||
	    (pool_bytes && !m->slots))
		return -ENOMEM;
	return 0;
}

static int pvdma_planner_setup(struct pvdma_companion *c, struct pci_dev *pdev)
{
	struct pvdma_shm_header *hdr = c->shm;
	struct pvdma_planner_config cfg;
	u64 page_size = pvdma_le64(READ_ONCE(hdr->iommu_page_size));
	u64 aperture = pvdma_le64(READ_ONCE(hdr->aperture_bytes));
	u32 max_mappings = pvdma_le32(READ_ONCE(hdr->max_mappings));
	u64 pool_bytes = 0;
	int ret;

	if (!is_power_of_2(page_size) || page_size < PAGE_SIZE ||
	    page_size > SZ_1G || !aperture || !max_mappings) {
		dev_err(&pdev->dev, "pvdma: host limits make no sense (page %llu, aperture %llu, mappings %u)\n",
			page_size, aperture, max_mappings);
		return -EPROTO;
	}
	pvdma_planner_default_config(&cfg, pvdma_params.policy, page_size,
				     aperture, max_mappings);
	cfg.strict = pvdma_params.strict;
	cfg.rfc_window_shift = pvdma_params.rfc_window_shift;
	cfg.spec_shift = pvdma_params.spec_shift;
	cfg.max_window = pvdma_params.max_window;
	if (cfg.max_window < page_size) {
		dev_err(&pdev->dev, "pvdma: max_window_kb=%llu is below the host's IOMMU page (%llu KiB)\n",
			cfg.max_window >> 10, page_size >> 10);
		return -EINVAL;
	}
	cfg.bounce = pvdma_params.bounce;
	if (cfg.bounce != PVDMA_BOUNCE_OFF) {
		ret = pvdma_pool_alloc(c, page_size);
		if (ret) {
			dev_err(&pdev->dev, "pvdma: no memory for a %u KiB bounce pool; lower bounce_pool_kb\n",
				pvdma_params.bounce_pool_kb);
			return ret;
		}
		pool_bytes = PAGE_SIZE << c->pool_order;
		if (pool_bytes >= aperture / 2) {
			dev_err(&pdev->dev, "pvdma: bounce pool (%llu KiB) would take half the aperture (%llu KiB); lower bounce_pool_kb\n",
				pool_bytes >> 10, aperture >> 10);
			ret = -EINVAL;
			goto err_free_mem;
		}
		cfg.bounce_gpa = page_to_phys(c->pool);
		cfg.bounce_bytes = pool_bytes;
	}
	ret = pvdma_planner_mem_alloc(c, max_mappings, pool_bytes);
	if (ret) {
		dev_err(&pdev->dev, "pvdma: no memory for %u window records\n",
			max_mappings);
		goto err_free_mem;
	}
	pvdma_ram_build(c);
	ret = pvdma_planner_init(&c->planner, &cfg, &pvdma_planner_ops, c,
				 &c->pmem);
	if (ret) {
		dev_err(&pdev->dev, "pvdma: planner set-up failed (%d)\n", ret);
		goto err_free_mem;
	}
	c->bus_limit = pvdma_le64(READ_ONCE(hdr->bus_limit));
	c->max_map_bytes = aperture - pool_bytes;
	dev_info(&pdev->dev,
		 "pvdma: host limits: IOMMU page %llu KiB, aperture %llu MiB, %u mappings, bus %#llx-%#llx; policy %s, bounce %s (%llu KiB pool)%s\n",
		 page_size >> 10, aperture >> 20, max_mappings,
		 pvdma_le64(READ_ONCE(hdr->bus_base)), c->bus_limit,
		 pvdma_policy_name(cfg.policy),
		 pvdma_bounce_mode_name(cfg.bounce), pool_bytes >> 10,
		 cfg.strict ? ", strict" : "");
	return 0;

err_free_mem:
	pvdma_planner_mem_free(c);
	return ret;
}

static int pvdma_map_bars(struct pvdma_companion *c, struct pci_dev *pdev)
{
	resource_size_t start = pci_resource_start(pdev, PVDMA_BAR_SHM);
	int ret;

	ret = pci_request_region(pdev, PVDMA_BAR_REGS, PVDMA_DRV_NAME);
	if (ret)
		return ret;
	ret = pci_request_region(pdev, PVDMA_BAR_SHM, PVDMA_DRV_NAME);
	if (ret)
		goto err_release_regs;
	c->regs = pci_iomap(pdev, PVDMA_BAR_REGS, 0);
	if (!c->regs) {
		ret = -ENOMEM;
		goto err_release_shm;
	}
	c->shm_len = pci_resource_len(pdev, PVDMA_BAR_SHM);
	c->shm = memremap(start, c->shm_len, MEMREMAP_WB);
	if (!c->shm) {
		ret = -ENOMEM;
		goto err_unmap_regs;
	}
	return 0;

err_unmap_regs:
	pci_iounmap(pdev, c->regs);
err_release_shm:
	pci_release_region(pdev, PVDMA_BAR_SHM);
err_release_regs:
	pci_release_region(pdev, PVDMA_BAR_REGS);
	return ret;
}

static void pvdma_unmap_bars(struct pvdma_companion *c, struct pci_dev *pdev)
{
	memunmap(c->shm);
	pci_iounmap(pdev, c->regs);
	pci_release_region(pdev, PVDMA_BAR_SHM);
	pci_release_region(pdev, PVDMA_BAR_REGS);
	c->shm = NULL;
	c->regs = NULL;
}

static int pvdma_check_header(struct pvdma_companion *c, struct pci_dev *pdev)
{
	struct pvdma_shm_header *hdr = c->shm;
	u32 version;
	int ret;

	if (c->shm_len < sizeof(*hdr))
		return -ENODEV;
	ret = pvdma_transport_wait_ready(hdr, pvdma_params.timeout_ms);
	if (ret) {
		dev_err(&pdev->dev, "pvdma: host not ready after %u ms (host_state %u)\n",
			pvdma_params.timeout_ms,
			pvdma_le32(READ_ONCE(hdr->host_state)));
		return ret;
	}
	version = pvdma_le32(READ_ONCE(hdr->version));
	if (version >> 16 != PVDMA_PROTO_VERSION_MAJOR) {
		dev_err(&pdev->dev, "pvdma: host speaks protocol %u.%u, we speak %u.%u\n",
			version >> 16, version & 0xffff,
			PVDMA_PROTO_VERSION_MAJOR, PVDMA_PROTO_VERSION_MINOR);
		return -EPROTO;
	}
	ret = pvdma_transport_init(&c->tp, c->shm, c->shm_len, c->regs,
				   pvdma_params.timeout_ms);
	if (ret)
		dev_err(&pdev->dev, "pvdma: bad request ring in the host's header (%d)\n",
			ret);
	return ret;
}

static int pvdma_companion_probe(struct pci_dev *pdev,
				 const struct pci_device_id *id)
{
	struct pvdma_companion *c = &pvdma_comp;
	unsigned long flags;
	u32 magic;
	int ret;

	if (!pvdma_bar2_magic(pdev, &magic) || magic != PVDMA_MAGIC)
		return -ENODEV;
	if (c->pdev) {
		dev_warn(&pdev->dev, "pvdma: a companion (%s) is already bound; one per guest\n",
			 pci_name(c->pdev));
		return -EBUSY;
	}
	ret = pci_enable_device(pdev);
	if (ret)
		return ret;
	ret = pvdma_map_bars(c, pdev);
	if (ret)
		goto err_disable;
	c->ivposition = ioread32(c->regs + PVDMA_IVSHMEM_REG_IVPOSITION);
	ret = pvdma_check_header(c, pdev);
	if (ret)
		goto err_unmap_bars;
	ret = pvdma_hello(c, pdev);
	if (ret)
		goto err_unmap_bars;
	ret = pvdma_planner_setup(c, pdev);
	if (ret)
		goto err_unmap_bars;
	pci_set_master(pdev);
	c->pdev = pdev;
	pci_set_drvdata(pdev, c);
	spin_lock_irqsave(&c->lock, flags);
	c->live = true;
	spin_unlock_irqrestore(&c->lock, flags);
	pvdma_managed_attach_all();
	return 0;

err_unmap_bars:
	pvdma_unmap_bars(c, pdev);
err_disable:
	pci_disable_device(pdev);
	return ret;
}

static void pvdma_companion_remove(struct pci_dev *pdev)
{
	struct pvdma_companion *c = pci_get_drvdata(pdev);
	struct pvdma_planner_stats st;
	unsigned long flags;

	pvdma_managed_detach_unbound();
	spin_lock_irqsave(&c->lock, flags);
	st = c->planner.stats;
	pvdma_host_reset_locked(c);
	pvdma_planner_forget(&c->planner);
	c->live = false;
	spin_unlock_irqrestore(&c->lock, flags);
	if (st.live_bytes)
		dev_warn(&pdev->dev, "pvdma: removed with %llu bytes still mapped by drivers; those mappings are gone\n",
			 st.live_bytes);
	dev_info(&pdev->dev, "pvdma: host mappings released (%llu windows, %llu KiB); %llu host calls, %llu maps, %llu unmaps served\n",
		 st.live_windows, st.live_aperture >> 10, st.host_calls,
		 st.map_requests, st.unmap_requests);
	pvdma_planner_mem_free(c);
	pci_clear_master(pdev);
	pvdma_unmap_bars(c, pdev);
	pci_disable_device(pdev);
	c->pdev = NULL;
}

static const struct pci_device_id pvdma_companion_ids[] = {
	{ PCI_DEVICE(PVDMA_IVSHMEM_VENDOR, PVDMA_IVSHMEM_DEVICE) },
	{ }
};
MODULE_DEVICE_TABLE(pci, pvdma_companion_ids);

static struct pci_driver pvdma_companion_driver = {
	.name		= PVDMA_DRV_NAME,
	.id_table	= pvdma_companion_ids,
	.probe		= pvdma_companion_probe,
	.remove		= pvdma_companion_remove,
};

/**
 * pvdma_companion_register() - register the companion PCI driver
 *
 * Return: 0 or a negative errno.
 */
int pvdma_companion_register(void)
{
	return pci_register_driver(&pvdma_companion_driver);
}

/**
 * pvdma_companion_unregister() - unbind the companion, release the host
 */
void pvdma_companion_unregister(void)
{
	pci_unregister_driver(&pvdma_companion_driver);
}
