// SPDX-License-Identifier: MIT
/*
 * IOMMU backend: the DART model of lib/dart.c, one instance per guest.
 * The model never allocates; this file owns its mapping records.
 */
#include <stdlib.h>
#include <sys/mman.h>

#include <pvdma/dart.h>

#include "iommu.h"

/**
 * struct iommu_dart - a DART domain
 * @iommu:	the generic part, handed to callers
 * @dart:	the model
 * @records:	one record per possible mapping (cfg.max_mappings), a
 *		mapping of its own: pages come as the guest uses records
 * @records_len: its bytes
 * @unmap_close: how it goes at destroy, or NULL: munmap() there
 */
struct iommu_dart {
	struct pvdma_iommu iommu;
	struct pvdma_dart dart;
	struct pvdma_dart_mapping *records;
	size_t records_len;
	pvdma_iommu_unmap_fn unmap_close;
};

void pvdma_iommu_dart_unmap_with(struct pvdma_iommu *iommu,
				 pvdma_iommu_unmap_fn unmap_close)
{
	container_of(iommu, struct iommu_dart, iommu)->unmap_close = unmap_close;
}

static void iommu_dart_free_records(struct iommu_dart *d)
{
	if (d->unmap_close)
		d->unmap_close(d->records, d->records_len, -1);
	else
		munmap(d->records, d->records_len);
	d->records = NULL;
}

static struct pvdma_dart *to_dart(struct pvdma_iommu *iommu)
{
	return &container_of(iommu, struct iommu_dart, iommu)->dart;
}

void pvdma_iommu_default_config(struct pvdma_iommu_config *cfg)
{
	struct pvdma_dart_config dc;

	pvdma_dart_default_config(&dc);
	cfg->page_size = dc.page_size;
	cfg->aperture_bytes = dc.aperture_bytes;
	cfg->max_mappings = dc.max_mappings;
	cfg->bus_base = dc.bus_base;
	cfg->bus_limit = dc.bus_limit;
	cfg->align_max = dc.align_max;
}

static int iommu_dart_map(struct pvdma_iommu *iommu, u64 host_addr, u64 len,
			  u32 perm, u64 gpa, u64 *bus)
{
	return pvdma_dart_map_placed(to_dart(iommu), host_addr, len, perm, gpa,
				     bus);
}

static int iommu_dart_unmap(struct pvdma_iommu *iommu, u64 bus, u64 len)
{
	return pvdma_dart_unmap(to_dart(iommu), bus, len);
}

static void iommu_dart_flush(struct pvdma_iommu *iommu)
{
	pvdma_dart_flush(to_dart(iommu));
}

static int iommu_dart_translate(struct pvdma_iommu *iommu, u64 bus, u64 len,
				u32 perm, u64 *host_addr)
{
	return pvdma_dart_translate(to_dart(iommu), bus, len, perm, host_addr);
}

static void iommu_dart_stats(struct pvdma_iommu *iommu,
			     struct pvdma_iommu_stats *st)
{
	struct pvdma_dart *dart = to_dart(iommu);
	const struct pvdma_dart_stats *ds = &dart->stats;

	st->map_calls = ds->map_calls;
	st->unmap_calls = ds->unmap_calls;
	st->map_errors = ds->map_errors;
	st->unmap_errors = ds->unmap_errors;
	st->tlb_flushes = ds->tlb_flushes;
	st->faults = ds->faults;
	st->live_mappings = ds->live_mappings;
	st->peak_mappings = ds->peak_mappings;
	st->live_bytes = ds->live_bytes;
	st->peak_bytes = ds->peak_bytes;
	st->largest_free_bus = pvdma_iova_largest_gap(&dart->bus);
	st->aligned_maps = ds->aligned_maps;
	st->align_fallbacks = ds->align_fallbacks;
}

static int iommu_dart_trim(struct pvdma_iommu *iommu, u64 bus, u64 len,
			   struct pvdma_iommu_range *old)
{
	struct pvdma_dart_mapping m;
	int err = pvdma_dart_trim(to_dart(iommu), bus, len, &m);

	if (err)
		return err;
	old->bus = m.iova.start;
	old->len = m.iova.end - m.iova.start;
	old->host_addr = m.host_addr;
	old->perm = m.perm;
	return 0;
}

/* The model's tables die with the process: the ledger re-creates them. */
static int iommu_dart_restore(struct pvdma_iommu *iommu, u64 bus,
			      u64 host_addr, u64 len, u32 perm)
{
	return pvdma_dart_map_at(to_dart(iommu), bus, host_addr, len, perm);
}

static void iommu_dart_reset(struct pvdma_iommu *iommu)
{
	pvdma_dart_reset(to_dart(iommu));
}

static void iommu_dart_destroy(struct pvdma_iommu *iommu)
{
	struct iommu_dart *d = container_of(iommu, struct iommu_dart, iommu);

	pvdma_dart_reset(&d->dart);
	iommu_dart_free_records(d);
	free(d);
}

static const struct pvdma_iommu_ops iommu_dart_ops = {
	.name		= "dart-model",
	.map		= iommu_dart_map,
	.unmap		= iommu_dart_unmap,
	.trim		= iommu_dart_trim,
	.flush		= iommu_dart_flush,
	.translate	= iommu_dart_translate,
	.stats		= iommu_dart_stats,
	.restore	= iommu_dart_restore,
	.reset		= iommu_dart_reset,
	.destroy	= iommu_dart_destroy,
};

struct pvdma_iommu *pvdma_iommu_dart_create(const struct pvdma_iommu_config *cfg)
{
	struct pvdma_dart_config dc = {
		.page_size	= cfg->page_size,
		.aperture_bytes	= cfg->aperture_bytes,
		.max_mappings	= cfg->max_mappings,
		.bus_base	= cfg->bus_base,
		.bus_limit	= cfg->bus_limit,
		.align_max	= cfg->align_max,
	};
	struct iommu_dart *d;

	if (!cfg->max_mappings)
		return NULL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return NULL;
	d->records_len = (size_t)cfg->max_mappings * sizeof(*d->records);
	d->records = mmap(NULL, d->records_len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (d->records == MAP_FAILED)
		goto err_free;
	if (pvdma_dart_init(&d->dart, &dc, d->records, cfg->max_mappings))
		goto err_free_records;
	d->iommu.ops = &iommu_dart_ops;
	d->iommu.cfg = *cfg;
	return &d->iommu;

err_free_records:
	munmap(d->records, d->records_len);
err_free:
	free(d);
	return NULL;
}
