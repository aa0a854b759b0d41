/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * A model of Apple's DART as the original system met it: an IOMMU with
 * 16 KiB pages, a cap on the bytes mapped at once (the aperture) and on the
 * number of live mappings, bus addresses picked by the IOMMU side (never by
 * the caller), one contiguous host range per mapping, and a TLB flush when
 * mappings go away. Wrong requests (misaligned, zero, unknown or short
 * unmaps) are errors, never silently accepted; device accesses outside a
 * mapping or its permissions are faults, counted.
 *
 * "host_addr" is whatever the caller maps: pvdmad uses offsets into the guest
 * RAM file, the replay uses guest-physical addresses. Two mappings may name
 * the same host memory, as on the hardware.
 *
 * Memory: the caller provides one struct pvdma_dart_mapping per possible
 * mapping (at least max_mappings). Not thread-safe: callers serialise.
 * Functions return 0 or a negative errno:
 *   -EINVAL	misaligned / zero / overflowing arguments
 *   -ENOSPC	the aperture would be exceeded
 *   -EMFILE	max_mappings would be exceeded
 *   -EADDRNOTAVAIL	no free bus range long enough (bus space fragmented)
 *   -ENOENT	unmap of a bus address that starts no mapping
 *   -ERANGE	unmap length differs from the mapping's (a short UNMAP, or
 *		one past its end); a trim leaving its mapping or all of it
 *   -EFAULT	translate outside any mapping, or without permission
 */
#ifndef PVDMA_DART_H
#define PVDMA_DART_H

#include "iova.h"
#include "proto.h"

#define PVDMA_DART_PAGE_SIZE		(16ull << 10)
#define PVDMA_DART_DEFAULT_APERTURE	(1536ull << 20)
#define PVDMA_DART_DEFAULT_MAX_MAPPINGS	65536u
/* Bus addresses below 4 GiB, as a 32-bit DMA mask needs; page 0 unused. */
#define PVDMA_DART_DEFAULT_BUS_BASE	PVDMA_DART_PAGE_SIZE
#define PVDMA_DART_DEFAULT_BUS_LIMIT	(4ull << 30)
/*
 * Bus addresses keep the low bits of the mapped memory's physical address
 * up to 2 MiB: drivers that use 64 KiB or 2 MiB GPU pages (NVIDIA's UVM)
 * assume bus and physical address agree modulo the page size.
 */
#define PVDMA_DART_DEFAULT_ALIGN_MAX	(2ull << 20)

struct pvdma_dart_config {
	u64 page_size;		/* power of two, default 16 KiB */
	u64 aperture_bytes;	/* most bytes mapped at once */
	u32 max_mappings;	/* most live mappings */
	u64 bus_base;		/* bus space handed out: [bus_base, bus_limit) */
	u64 bus_limit;
	/*
	 * A mapping's bus address is congruent to its placement hint modulo
	 * the largest power of two <= its length and <= this; 0: lowest
	 * fit, no alignment (as IOKit).
	 */
	u64 align_max;
};

/* One live mapping. */
struct pvdma_dart_mapping {
	struct pvdma_iova_node iova;	/* bus range; start is the mapping's id */
	u64 host_addr;
	u32 perm;			/* PVDMA_MAP_READ | PVDMA_MAP_WRITE */
	u32 next_free;			/* free list link (index + 1; 0 ends) */
};

struct pvdma_dart_stats {
	u64 map_calls;		/* successful maps */
	u64 unmap_calls;	/* successful unmaps */
	u64 map_errors;		/* refused maps (any reason) */
	u64 unmap_errors;	/* refused unmaps */
	u64 tlb_flushes;
	u64 faults;		/* translations refused */
	u64 live_mappings;
	u64 peak_mappings;
	u64 live_bytes;		/* aperture in use */
	u64 peak_bytes;
	u64 aligned_maps;	/* placed keeping the alignment wanted (> page) */
	u64 align_fallbacks;	/* placed keeping less: no gap fitted it */
};

/**
 * struct pvdma_dart - one IOMMU domain
 * @cfg:		its limits
 * @bus:		bus address allocator, nodes in @records
 * @records:		caller's mapping records
 * @nrecords:		how many
 * @free_record:	head of the free record list (index + 1; 0: none)
 * @fresh_record:	records from here on were never used: handed out in
 *			order, so an idle domain touches none of @records
 * @flush_pending:	an unmap happened since the last TLB flush
 * @stats:		counters
 */
struct pvdma_dart {
	struct pvdma_dart_config cfg;
	struct pvdma_iova bus;
	struct pvdma_dart_mapping *records;
	u32 nrecords;
	u32 free_record;
	u32 fresh_record;
	bool flush_pending;
	struct pvdma_dart_stats stats;
};

/* Fill @cfg with the defaults above. */
void pvdma_dart_default_config(struct pvdma_dart_config *cfg);

int pvdma_dart_init(struct pvdma_dart *dart, const struct pvdma_dart_config *cfg,
		    struct pvdma_dart_mapping *records, u32 nrecords);

/* Map [host_addr, host_addr + len) with @perm; the model picks *bus. */
int pvdma_dart_map(struct pvdma_dart *dart, u64 host_addr, u64 len, u32 perm,
		   u64 *bus);

/*
 * pvdma_dart_map_placed - pvdma_dart_map() with a placement hint
 * @hint: the memory's guest-physical address (page aligned). *bus is
 *	congruent to it modulo A, the largest power of two <= @len and
 *	<= cfg.align_max; when no free bus range fits that, modulo the next
 *	smaller power of two, down to none (each such map counted in
 *	stats.align_fallbacks). pvdma_dart_map() takes @host_addr as the hint.
 */
int pvdma_dart_map_placed(struct pvdma_dart *dart, u64 host_addr, u64 len,
			  u32 perm, u64 hint, u64 *bus);

/*
 * Map at a bus address chosen before: re-creating a mapping the domain had
 * (pvdmad's restart rebuilds a guest's tables from its ledger). The same
 * limits as a map; -EADDRNOTAVAIL if any of [bus, bus + len) is in use or
 * outside the bus space.
 */
int pvdma_dart_map_at(struct pvdma_dart *dart, u64 bus, u64 host_addr,
		      u64 len, u32 perm);

/* Unmap exactly one mapping: @bus its start, @len its length. */
int pvdma_dart_unmap(struct pvdma_dart *dart, u64 bus, u64 len);
/*
 * pvdma_dart_trim - release [bus, bus + len), part of one mapping (a
 * partial unmap): the pages either side stay mapped at their bus
 * addresses, as one mapping if the range touches an end of it, as two if
 * it lies inside (-EMFILE if no mapping is left for the second). The old
 * mapping goes to @old (may be NULL) so that a caller keyed by start can
 * follow. -ENOENT if no mapping holds @bus, -ERANGE if the range leaves
 * it or is all of it (that is an unmap).
 */
int pvdma_dart_trim(struct pvdma_dart *dart, u64 bus, u64 len,
		    struct pvdma_dart_mapping *old);

/* End of a batch: one TLB invalidation if anything was unmapped. */
void pvdma_dart_flush(struct pvdma_dart *dart);

/*
 * A device access of [bus, bus + len) needing @perm: the host address, if
 * the whole range lies inside one mapping that grants @perm; else -EFAULT
 * (counted).
 */
int pvdma_dart_translate(struct pvdma_dart *dart, u64 bus, u64 len, u32 perm,
			 u64 *host_addr);

/*
 * Execute a batch of MAP/UNMAP requests in order, as one host call would:
 * host_addr is taken to be the request's gpa (an identity host, as the
 * replay and tests use). Fills each op's status (and bus), then flushes
 * once.
 */
void pvdma_dart_execute(struct pvdma_dart *dart, struct pvdma_request *ops,
			u32 n);

/* Unmap everything and flush (guest reset or disconnect), in O(1). */
void pvdma_dart_reset(struct pvdma_dart *dart);

/* The mapping containing @bus, or NULL (for tools and tests). */
const struct pvdma_dart_mapping *pvdma_dart_lookup(const struct pvdma_dart *dart,
						   u64 bus);

#endif /* PVDMA_DART_H */
