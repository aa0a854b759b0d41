// SPDX-License-Identifier: MIT
/*
 * IOMMU backend wrapper that refuses maps at random (pvdmad
 * --inject-map-fail RATE[:SEED]). The real backend (the DART model) stays
 * underneath and does everything else; a refused map never reaches it.
 * Each refusal is -ENOSPC (the guest sees NO_APERTURE) or -EIO (IO), picked
 * by the same seeded generator, so a run is repeatable.
 *
 * The wrapper also keeps its own ledger of what went through it (maps and
 * unmaps that succeeded, mappings dropped by a reset) and checks at every
 * reset and at destroy that the backend's live count agrees with it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <pvdma/prng.h>

#include "iommu.h"
#include "log.h"
#include "size.h"

/**
 * struct iommu_fault - a wrapped domain
 * @iommu:	the generic part, handed to callers
 * @inner:	the real backend
 * @id:		companion id, for logs
 * @threshold:	refuse when a 64-bit draw is below it (rate * 2^64)
 * @rng:	the fault draws (lib's PRNG, seeded per guest)
 * @maps:	map calls seen
 * @maps_ok:	maps the backend performed
 * @unmaps_ok:	unmaps the backend performed
 * @released:	mappings a reset dropped
 * @inj_aperture: refused as -ENOSPC
 * @inj_io:	refused as -EIO
 * @mismatches:	ledger checks that failed
 */
struct iommu_fault {
	struct pvdma_iommu iommu;
	struct pvdma_iommu *inner;
	u32 id;
	u64 threshold;
	struct pvdma_prng rng;
	u64 maps;
	u64 maps_ok;
	u64 unmaps_ok;
	u64 released;
	u64 inj_aperture;
	u64 inj_io;
	u64 mismatches;
};

static struct iommu_fault *to_fault(struct pvdma_iommu *iommu)
{
	return container_of(iommu, struct iommu_fault, iommu);
}

static u64 fault_next(struct iommu_fault *f)
{
	return pvdma_prng_next(&f->rng);
}

int pvdma_iommu_fault_parse(const char *s, struct pvdma_iommu_fault_config *fc)
{
	u64 seed = 1;
	char *end;
	double rate;

	errno = 0;
	rate = strtod(s, &end);
	if (errno || end == s || !(rate >= 0.0 && rate <= 1.0))
		return -EINVAL;
	if (*end == ':' && !size_parse(end + 1, &seed))
		return -EINVAL;
	if (*end && *end != ':')
		return -EINVAL;
	fc->enabled = true;
	fc->rate = rate;
	fc->seed = seed;
	return 0;
}

static u64 fault_live(struct iommu_fault *f)
{
	struct pvdma_iommu_stats st = { 0 };

	f->inner->ops->stats(f->inner, &st);
	return st.live_mappings;
}

/* The backend's live count against the ledger; logs a disagreement. */
static void fault_check(struct iommu_fault *f, const char *when)
{
	u64 live = fault_live(f);
	u64 expect = f->maps_ok - f->unmaps_ok - f->released;

	if (live == expect)
		return;
	f->mismatches++;
	pr_err("companion %u: fault injection: ledger disagrees %s: backend has %llu live mappings, ledger %llu",
	       f->id, when, (unsigned long long)live,
	       (unsigned long long)expect);
}

static int fault_map(struct pvdma_iommu *iommu, u64 host_addr, u64 len,
		     u32 perm, u64 gpa, u64 *bus)
{
	struct iommu_fault *f = to_fault(iommu);
	int err;

	f->maps++;
	if (fault_next(f) < f->threshold) {
		if (fault_next(f) & 1) {
			f->inj_io++;
			return -EIO;
		}
		f->inj_aperture++;
		return -ENOSPC;
	}
	err = f->inner->ops->map(f->inner, host_addr, len, perm, gpa, bus);
	if (!err)
		f->maps_ok++;
	return err;
}

/* Never refused: the mapping existed before the restart. */
static int fault_restore(struct pvdma_iommu *iommu, u64 bus, u64 host_addr,
			 u64 len, u32 perm)
{
	struct iommu_fault *f = to_fault(iommu);
	int err = f->inner->ops->restore(f->inner, bus, host_addr, len, perm);

	if (!err)
		f->maps_ok++;
	return err;
}

static int fault_unmap(struct pvdma_iommu *iommu, u64 bus, u64 len)
{
	struct iommu_fault *f = to_fault(iommu);
	int err = f->inner->ops->unmap(f->inner, bus, len);

	if (!err)
		f->unmaps_ok++;
	return err;
}

/* Never refused here; a hole leaves two mappings where there was one. */
static int fault_trim(struct pvdma_iommu *iommu, u64 bus, u64 len,
		      struct pvdma_iommu_range *old)
{
	struct iommu_fault *f = to_fault(iommu);
	int err;

	if (!f->inner->ops->trim)
		return -EOPNOTSUPP;
	err = f->inner->ops->trim(f->inner, bus, len, old);
	if (!err && bus > old->bus && bus + len < old->bus + old->len)
		f->maps_ok++;
	return err;
}

static void fault_flush(struct pvdma_iommu *iommu)
{
	struct iommu_fault *f = to_fault(iommu);

	f->inner->ops->flush(f->inner);
}

static int fault_translate(struct pvdma_iommu *iommu, u64 bus, u64 len,
			   u32 perm, u64 *host_addr)
{
	struct iommu_fault *f = to_fault(iommu);

	return f->inner->ops->translate(f->inner, bus, len, perm, host_addr);
}

/* The backend's counters, with the refused maps counted as failed calls. */
static void fault_stats(struct pvdma_iommu *iommu, struct pvdma_iommu_stats *st)
{
	struct iommu_fault *f = to_fault(iommu);
	u64 injected = f->inj_aperture + f->inj_io;

	f->inner->ops->stats(f->inner, st);
	st->map_calls += injected;
	st->map_errors += injected;
}

static void fault_log(struct iommu_fault *f);

static void fault_reset(struct pvdma_iommu *iommu)
{
	struct iommu_fault *f = to_fault(iommu);

	fault_check(f, "before reset");
	f->released += fault_live(f);
	f->inner->ops->reset(f->inner);
	fault_check(f, "after reset");
	fault_log(f);
}

static void fault_destroy(struct pvdma_iommu *iommu)
{
	struct iommu_fault *f = to_fault(iommu);

	fault_reset(iommu);
	pvdma_iommu_destroy(f->inner);
	free(f);
}

/* Logged at every reset (a guest's RESET, its disconnect): the totals. */
static void fault_log(struct iommu_fault *f)
{
	pr_info("companion %u: fault injection: %llu maps, %llu refused (%llu no-aperture, %llu io), %llu mapped, %llu unmapped, %llu released by reset, ledger %s",
		f->id, (unsigned long long)f->maps,
		(unsigned long long)(f->inj_aperture + f->inj_io),
		(unsigned long long)f->inj_aperture,
		(unsigned long long)f->inj_io,
		(unsigned long long)f->maps_ok,
		(unsigned long long)f->unmaps_ok,
		(unsigned long long)f->released,
		f->mismatches ? "INCONSISTENT" : "consistent");
}

static const struct pvdma_iommu_ops iommu_fault_ops = {
	.name		= "fault-injection",
	.map		= fault_map,
	.unmap		= fault_unmap,
	.trim		= fault_trim,
	.flush		= fault_flush,
	.translate	= fault_translate,
	.stats		= fault_stats,
	.restore	= fault_restore,
	.reset		= fault_reset,
	.destroy	= fault_destroy,
};

struct pvdma_iommu *pvdma_iommu_fault_create(struct pvdma_iommu *inner,
					     const struct pvdma_iommu_fault_config *fc,
					     u32 id)
{
	struct iommu_fault *f;

	if (!inner)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f) {
		pvdma_iommu_destroy(inner);
		return NULL;
	}
	f->inner = inner;
	f->id = id;
	if (fc->rate <= 0.0)
		f->threshold = 0;
	else if (fc->rate >= 1.0)
		f->threshold = ~0ull;
	else
		f->threshold = (u64)(fc->rate * 18446744073709551616.0);
	/* Every guest its own sequence, the same for the same seed and id. */
	pvdma_prng_seed(&f->rng, fc->seed ^ ((u64)id * 0xd1b54a32d192ed03ull));
	f->iommu.ops = &iommu_fault_ops;
	f->iommu.cfg = inner->cfg;
	return &f->iommu;
}
