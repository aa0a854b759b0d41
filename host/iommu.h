/* SPDX-License-Identifier: MIT */
/*
 * pvdmad's IOMMU backend seam. One struct pvdma_iommu is one translation
 * domain (one guest's). The DART model from lib/ is the backend here
 * (iommu_dart.c); a macOS DriverKit or a Linux VFIO backend would be one
 * more file filling the same ops table.
 *
 * "host_addr" is an offset into the guest RAM file. Every op returns 0 or
 * a negative errno with the meanings of lib/include/pvdma/dart.h (-EINVAL,
 * -ENOSPC aperture, -EMFILE mapping count, -EADDRNOTAVAIL bus space,
 * -ENOENT unknown, -ERANGE a short UNMAP or a trim past its mapping,
 * -EFAULT translation fault, -EIO the backend itself failed). Not
 * thread-safe: callers serialise a domain.
 */
#ifndef PVDMAD_IOMMU_H
#define PVDMAD_IOMMU_H

#include <stddef.h>

#include <pvdma/compat.h>

struct pvdma_iommu;

/**
 * struct pvdma_iommu_config - limits of a domain
 * @page_size:		IOMMU page, a power of two
 * @aperture_bytes:	most bytes mapped at once
 * @max_mappings:	most live mappings
 * @bus_base:		bus space handed out: [bus_base, bus_limit)
 * @bus_limit:
 * @align_max:		bus addresses keep their guest-physical alignment up to
 *			this (a power of two; 0: none, as IOKit)
 */
struct pvdma_iommu_config {
	u64 page_size;
	u64 aperture_bytes;
	u32 max_mappings;
	u64 bus_base;
	u64 bus_limit;
	u64 align_max;
};

/* Counters of a domain; the same meaning whatever the backend. */
struct pvdma_iommu_stats {
	u64 map_calls;
	u64 unmap_calls;
	u64 map_errors;
	u64 unmap_errors;
	u64 tlb_flushes;
	u64 faults;
	u64 live_mappings;
	u64 peak_mappings;
	u64 live_bytes;
	u64 peak_bytes;
	u64 largest_free_bus;	/* largest free bus range: fragmentation */
	u64 aligned_maps;	/* maps placed keeping the GPA's alignment */
	u64 align_fallbacks;	/* maps placed keeping less (bus space
				 * fragmented) */
};

/* One mapping as a backend holds it. */
struct pvdma_iommu_range {
	u64 bus;
	u64 host_addr;
	u64 len;
	u32 perm;
};

/**
 * struct pvdma_iommu_ops - what a backend provides
 * @name:	for logs and stats
 * @map:	map [host_addr, +len) with PVDMA_MAP_* @perm; the backend picks *bus,
 *		keeping the alignment of @gpa (the range's guest-physical
 *		address) where it can: drivers with large GPU pages assume bus
 *		and physical addresses agree modulo 64 KiB or 2 MiB
 * @unmap:	release exactly one mapping (@bus its start, @len its length)
 * @trim:	release [bus, +len), part of one mapping (PVDMA_OP_TRIM): the
 *		rest stays at its bus addresses, two mappings if it was a hole;
 *		the mapping it was part of goes to @old. NULL: the backend
 *		cannot, and the host does not offer PVDMA_FEAT_TRIM
 * @flush:	end of a batch: invalidate the IOTLB if anything was unmapped
 * @translate:	a device access of [bus, +len) needing @perm -> host_addr
 * @stats:	fill the counters
 * @restore:	make the mapping [bus, +len) -> host_addr exist again after a
 *		pvdmad restart (the ledger says it was live): a model re-creates
 *		it at that address; a backend whose tables outlive the daemon
 *		(hardware) checks it is there. Limits as for @map.
 * @reset:	release every mapping and flush
 * @destroy:	reset and free the domain
 */
struct pvdma_iommu_ops {
	const char *name;
	int (*map)(struct pvdma_iommu *iommu, u64 host_addr, u64 len, u32 perm,
		   u64 gpa, u64 *bus);
	int (*unmap)(struct pvdma_iommu *iommu, u64 bus, u64 len);
	int (*trim)(struct pvdma_iommu *iommu, u64 bus, u64 len,
		    struct pvdma_iommu_range *old);
	void (*flush)(struct pvdma_iommu *iommu);
	int (*translate)(struct pvdma_iommu *iommu, u64 bus, u64 len, u32 perm,
			 u64 *host_addr);
	void (*stats)(struct pvdma_iommu *iommu, struct pvdma_iommu_stats *st);
	int (*restore)(struct pvdma_iommu *iommu, u64 bus, u64 host_addr,
		       u64 len, u32 perm);
	void (*reset)(struct pvdma_iommu *iommu);
	void (*destroy)(struct pvdma_iommu *iommu);
};

/**
 * struct pvdma_iommu - a domain, embedded in the backend's own struct
 * @ops:	the backend
 * @cfg:	the limits it was created with
 */
struct pvdma_iommu {
	const struct pvdma_iommu_ops *ops;
	struct pvdma_iommu_config cfg;
};

/* Defaults: the DART's (16 KiB pages, 1.5 GiB aperture, 65536 mappings). */
void pvdma_iommu_default_config(struct pvdma_iommu_config *cfg);

/* A domain of the lib/ DART model; NULL on bad config or no memory. */
struct pvdma_iommu *pvdma_iommu_dart_create(const struct pvdma_iommu_config *cfg);

/*
 * How @iommu's record array (a mapping of its own, 80 bytes a record the
 * guest used: up to 80 MiB at --max-mappings 1048576, 5 ms to unmap) goes
 * at destroy: by @unmap_close(addr, len, -1), which pvdmad points at its
 * closer's memory lane so no loop turn pays it; without (the default):
 * munmap() there. @iommu: a domain of pvdma_iommu_dart_create().
 */
typedef void (*pvdma_iommu_unmap_fn)(void *addr, size_t len, int fd);
void pvdma_iommu_dart_unmap_with(struct pvdma_iommu *iommu,
				 pvdma_iommu_unmap_fn unmap_close);

/**
 * struct pvdma_iommu_fault_config - fault injection (pvdmad --inject-map-fail)
 * @enabled:	wrap every guest's backend (the option was given; rate 0
 *		still checks the wrapper's ledger against the backend)
 * @rate:	share of map calls refused, 0..1
 * @seed:	the generator's seed (each guest's sequence also mixes its id)
 */
struct pvdma_iommu_fault_config {
	bool enabled;
	double rate;
	u64 seed;
};

/* "RATE[:SEED]" (e.g. "0.05:7") into @fc; 0 or -EINVAL. */
int pvdma_iommu_fault_parse(const char *s, struct pvdma_iommu_fault_config *fc);

/*
 * Wrap @inner in a backend that refuses maps at random (-ENOSPC or -EIO)
 * and passes everything else through (iommu_fault.c). Owns @inner from
 * now on, even on error; NULL if @inner is NULL or no memory.
 */
struct pvdma_iommu *pvdma_iommu_fault_create(struct pvdma_iommu *inner,
					     const struct pvdma_iommu_fault_config *fc,
					     u32 id);

static inline void pvdma_iommu_destroy(struct pvdma_iommu *iommu)
{
	if (iommu)
		iommu->ops->destroy(iommu);
}

#endif /* PVDMAD_IOMMU_H */
