/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Symbols pvdma.ko exports to other modules (the self-test module).
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
 */
struct pvdma_host_limits {
	u64 page_size;
	u64 aperture_bytes;
	u64 bounce_bytes;
	u32 max_mappings;
	u32 policy;
	u32 bounce;
	u64 host_calls;
};

/**
 * struct pvdma_raw_info - what pvdma_hostile.ko needs to build its requests
 * @page_size:	IOMMU page size
 * @aperture_bytes: the host's aperture
 * @bus_base:	lowest bus address the host hands out
 * @bus_limit:	one past the highest
 * @ring_slots:	slots in the ring
 * @max_batch:	entries per slot
 */
struct pvdma_raw_info {
	u64 page_size;
	u64 aperture_bytes;
	u64 bus_base;
	u64 bus_limit;
	u32 ring_slots;
	u32 max_batch;
};

/**
 * struct pvdma_raw_slot - one hand-made slot (test only)
 * @ops:	entries written into the slot (struct pvdma_host_op); each
 *		gets its status, and bus for MAP
 * @nents:	entries written (at most max_batch)
 * @count:	the slot's count field as posted (may differ from @nents)
 * @flags:	the slot's flags field as posted
 * @status:	out: the slot's status
 * @completed:	out: entries the host executed
 */
struct pvdma_raw_slot {
	void *ops;
	u32 nents;
	u16 count;
	u16 flags;
	u32 status;
	u32 completed;
};

/* Test only (pvdma.ko hostile_tests=1): raw access to the request ring. */
int pvdma_raw_begin(struct pvdma_raw_info *info);
int pvdma_raw_post(struct pvdma_raw_slot *s);
int pvdma_raw_guest_header(u32 version, u32 features);
int pvdma_raw_bad_tail(u32 delta, unsigned int wait_ms);
int pvdma_raw_end(void);

int pvdma_domain_peer(struct device *dev);
int pvdma_host_limits(struct device *dev, struct pvdma_host_limits *out);

#endif /* PVDMA_EXPORT_H */
