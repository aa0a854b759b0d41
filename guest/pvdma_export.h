/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Symbols pvdma.ko exports to other modules (the self-test modules in
 * selftests/). Nothing here is test-only: a driver may use them too.
 */
#ifndef PVDMA_EXPORT_H
#define PVDMA_EXPORT_H

#include <linux/types.h>

struct device;

/**
 * struct pvdma_host_limits - what a managed device's DMA is subject to
 * @page_size:		IOMMU page size
 * @aperture_bytes:	most bytes mapped at once
 * @bounce_bytes:	bounce pool size (0: bounce off)
 * @max_mappings:	most live host mappings
 * @policy:		enum pvdma_policy
 * @bounce:		enum pvdma_bounce_mode
 * @host_calls:		host calls (VM exits) made so far
 * @policy_name:	@policy by name
 * @bounce_name:	@bounce by name
 */
struct pvdma_host_limits {
	u64 page_size;
	u64 aperture_bytes;
	u64 bounce_bytes;
	u32 max_mappings;
	u32 policy;
	u32 bounce;
	u64 host_calls;
	char policy_name[16];
	char bounce_name[16];
};

/**
 * struct pvdma_dev_stats - one managed device's own DMA, as pvdma served it
 * @map_calls:		map calls (a map_sg is one)
 * @mapped_bytes:	bytes mapped, all calls
 * @unmap_calls:	unmap calls
 * @live_bytes:		bytes mapped now
 * @bounced_segments:	segments served by the bounce pool
 * @failed_maps:	map calls that failed
 */
struct pvdma_dev_stats {
	u64 map_calls;
	u64 mapped_bytes;
	u64 unmap_calls;
	u64 live_bytes;
	u64 bounced_segments;
	u64 failed_maps;
};

int pvdma_domain_peer(struct device *dev);
int pvdma_host_limits(struct device *dev, struct pvdma_host_limits *out);
int pvdma_dev_stats(struct device *dev, struct pvdma_dev_stats *out);

#endif /* PVDMA_EXPORT_H */
