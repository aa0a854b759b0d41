/* SPDX-License-Identifier: MIT */
/*
 * What the DMA device model may ask of the guest it serves, and nothing
 * more: translate a bus address, reach the guest RAM behind it, count what
 * moved. The companion provides two (companion.h): its IOMMU domain, and
 * the identity binding (bus address = guest-physical address) that
 * benchmarks compare against. The device model never sees the companion.
 */
#ifndef PVDMAD_DMA_DOMAIN_H
#define PVDMAD_DMA_DOMAIN_H

#include <pvdma/compat.h>

struct dma_domain;

/**
 * struct dma_domain_ops - one kind of DMA domain
 * @translate:	where [bus, bus + len) lies in the guest RAM file, with
 *		@perm (PVDMA_MAP_*); the range lies within one domain page.
 *		0, or non-zero for a fault (counted by the IOMMU backend)
 * @ram:	host pointer to [offset, offset + len) of the RAM file, or
 *		NULL if the file does not hold it
 * @count:	a command ended with @status (PVDMA_DEV_ST_*), @bytes moved
 */
struct dma_domain_ops {
	int (*translate)(struct dma_domain *dom, u64 bus, u64 len, u32 perm,
			 u64 *offset);
	void *(*ram)(struct dma_domain *dom, u64 offset, u64 len);
	void (*count)(struct dma_domain *dom, u32 status, u64 bytes);
};

/**
 * struct dma_domain - a DMA domain as the device model sees it
 * @ops:	its kind
 * @page_size:	translation granule: no command piece crosses one
 */
struct dma_domain {
	const struct dma_domain_ops *ops;
	u64 page_size;
};

#endif /* PVDMAD_DMA_DOMAIN_H */
