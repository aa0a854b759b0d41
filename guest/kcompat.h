/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What changed in the kernel's API between Debian 12's 6.1 and newer
 * kernels, in one place, for the guest modules.
 */
#ifndef PVDMA_KCOMPAT_H
#define PVDMA_KCOMPAT_H

#include <linux/dma-map-ops.h>
#include <linux/mmzone.h>
#include <linux/version.h>

/*
 * The largest order alloc_pages() serves. MAX_ORDER counted one past it
 * until 6.4, then became that order itself, and 6.8 renamed it
 * MAX_PAGE_ORDER.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
#define PVDMA_MAX_PAGE_ORDER	MAX_PAGE_ORDER
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
#define PVDMA_MAX_PAGE_ORDER	MAX_ORDER
#else
#define PVDMA_MAX_PAGE_ORDER	(MAX_ORDER - 1)
#endif

/*
 * struct dma_map_ops. 6.10 renamed .alloc_pages to .alloc_pages_op. 6.19
 * replaced .map_page/.unmap_page by .map_phys/.unmap_phys and removed
 * .map_resource/.unmap_resource: MMIO arrives through map_phys flagged
 * DMA_ATTR_MMIO (checked against 6.1.0-57's, 6.12.117's and 7.2.13's
 * include/linux/dma-map-ops.h). The ops table names its slots through
 * these, so dma_ops.c tests features, never version numbers.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define PVDMA_OPS_ALLOC_PAGES	alloc_pages_op
#else
#define PVDMA_OPS_ALLOC_PAGES	alloc_pages
#endif

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 19, 0)
#define PVDMA_HAVE_MAP_PHYS_OP		1
#define PVDMA_HAVE_MAP_RESOURCE_OP	0
#else
#define PVDMA_HAVE_MAP_PHYS_OP		0
#define PVDMA_HAVE_MAP_RESOURCE_OP	1
#endif

/*
 * 6.10 caches in dev->dma_skip_sync whether a device's syncs may be
 * skipped, decided from the ops it has when its driver calls
 * dma_set_mask(). pvdma can replace dma-direct's ops after that (a
 * driver set the mask, then went), and then must clear the flag, or the
 * DMA API drops every sync (its bounce copies) of a driver that keeps
 * the default mask. dma_reset_need_sync() came with the flag.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define pvdma_reset_need_sync(dev)	(dma_reset_need_sync(dev))
#else
#define pvdma_reset_need_sync(dev)	do { } while (0)
#endif

/*
 * Timers: the new names, on kernels that only have the old ones.
 * del_timer_sync() became timer_delete_sync() in 6.2; from_timer() and
 * destroy_timer_on_stack() became timer_container_of() and
 * timer_destroy_on_stack() later, and the old names are gone in 7.2.
 */
#include <linux/timer.h>

#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define timer_delete_sync(t)		del_timer_sync(t)
#endif

#ifndef timer_container_of
#define timer_container_of(var, t, field)	from_timer(var, t, field)
#define timer_destroy_on_stack(t)		destroy_timer_on_stack(t)
#endif

/*
 * DMA attributes newer than 6.1, by their upstream values (6.18's
 * include/linux/dma-mapping.h: MMIO bit 10, DEBUGGING_IGNORE_CACHELINES
 * bit 11; REQUIRE_COHERENT bit 12 in 2026), so pvdma honours them, and a
 * test can send them, on every kernel it builds for.
 */
#ifdef DMA_ATTR_MMIO
#define PVDMA_DMA_ATTR_MMIO		DMA_ATTR_MMIO
#else
#define PVDMA_DMA_ATTR_MMIO		BIT(10)
#endif
#ifdef DMA_ATTR_DEBUGGING_IGNORE_CACHELINES
#define PVDMA_DMA_ATTR_IGNORE_CACHELINES DMA_ATTR_DEBUGGING_IGNORE_CACHELINES
#else
#define PVDMA_DMA_ATTR_IGNORE_CACHELINES BIT(11)
#endif
#ifdef DMA_ATTR_REQUIRE_COHERENT
#define PVDMA_DMA_ATTR_REQUIRE_COHERENT	DMA_ATTR_REQUIRE_COHERENT
#else
#define PVDMA_DMA_ATTR_REQUIRE_COHERENT	BIT(12)
#endif

#endif /* PVDMA_KCOMPAT_H */
