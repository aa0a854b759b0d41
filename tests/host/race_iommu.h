/* SPDX-License-Identifier: MIT */
/*
 * A test-only IOMMU backend that passes every call to an inner one but runs
 * a hook first: the hook plays a guest CPU rewriting shared memory while
 * the host is in the middle of a slot or a DMA command, at a precise,
 * repeatable point (a real race, made deterministic).
 */
#ifndef PVDMA_TESTS_HOST_RACE_IOMMU_H
#define PVDMA_TESTS_HOST_RACE_IOMMU_H

#include <stdlib.h>

#include "host/iommu.h"

struct race_iommu {
	struct pvdma_iommu iommu;
	struct pvdma_iommu *inner;
	void (*hook)(void *ctx);
	void *ctx;
	unsigned int calls;	/* map + unmap + translate calls seen */
};

static inline struct race_iommu *to_race(struct pvdma_iommu *iommu)
{
	return container_of(iommu, struct race_iommu, iommu);
}

static inline void race_fire(struct race_iommu *r)
{
	r->calls++;
	if (r->hook)
		r->hook(r->ctx);
}

static inline int race_map(struct pvdma_iommu *iommu, u64 host_addr, u64 len,
			   u32 perm, u64 gpa, u64 *bus)
{
	struct race_iommu *r = to_race(iommu);

	race_fire(r);
	return r->inner->ops->map(r->inner, host_addr, len, perm, gpa, bus);
}

static inline int race_unmap(struct pvdma_iommu *iommu, u64 bus, u64 len)
{
	struct race_iommu *r = to_race(iommu);

	race_fire(r);
	return r->inner->ops->unmap(r->inner, bus, len);
}

static inline void race_flush(struct pvdma_iommu *iommu)
{
	to_race(iommu)->inner->ops->flush(to_race(iommu)->inner);
}

static inline int race_translate(struct pvdma_iommu *iommu, u64 bus, u64 len,
				 u32 perm, u64 *host_addr)
{
	struct race_iommu *r = to_race(iommu);

	race_fire(r);
	return r->inner->ops->translate(r->inner, bus, len, perm, host_addr);
}

static inline void race_stats(struct pvdma_iommu *iommu,
			      struct pvdma_iommu_stats *st)
{
	to_race(iommu)->inner->ops->stats(to_race(iommu)->inner, st);
}

static inline void race_reset(struct pvdma_iommu *iommu)
{
	to_race(iommu)->inner->ops->reset(to_race(iommu)->inner);
}

static inline void race_destroy(struct pvdma_iommu *iommu)
{
	struct race_iommu *r = to_race(iommu);

	pvdma_iommu_destroy(r->inner);
	free(r);
}

static const struct pvdma_iommu_ops race_iommu_ops = {
	.name = "race", .map = race_map, .unmap = race_unmap,
	.flush = race_flush, .translate = race_translate, .stats = race_stats,
	.reset = race_reset, .destroy = race_destroy,
};

/* Wrap @inner (owned from now on); the caller sets hook and ctx. */
static inline struct race_iommu *race_iommu_wrap(struct pvdma_iommu *inner)
{
	struct race_iommu *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->iommu.ops = &race_iommu_ops;
	r->iommu.cfg = inner->cfg;
	r->inner = inner;
	return r;
}

#endif /* PVDMA_TESTS_HOST_RACE_IOMMU_H */
