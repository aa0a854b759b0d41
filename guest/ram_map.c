// SPDX-License-Identifier: GPL-2.0
/*
 * pvdma RAM map: the guest's System RAM ranges, sorted and merged, for
 * the planner's ram_range op (a window never extends past the RAM range
 * it starts in: the host maps guest RAM only, and a window reaching into
 * a hole would be refused whole).
 *
 * The ranges are counted before they are stored, so a guest with many
 * (NUMA nodes, hot-added memory, firmware holes) keeps every one of them.
 */
#include <linux/ioport.h>
#include <linux/minmax.h>
#include <linux/slab.h>
#include <linux/sort.h>

#include "pvdma_guest.h"

#define PVDMA_RAM_FLAGS	(IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY)

/* While filling: the table and how much room it has. */
struct pvdma_ram_fill {
	struct pvdma_ram_map *ram;
	u32 room;
};

static int pvdma_ram_count(struct resource *res, void *arg)
{
	u32 *n = arg;

	(*n)++;
	return 0;
}

static int pvdma_ram_add(struct resource *res, void *arg)
{
	struct pvdma_ram_fill *f = arg;
	struct pvdma_ram_map *ram = f->ram;

	/* RAM hot-added between the count and the walk: say so, stop. */
	if (ram->n == f->room)
		return -ENOSPC;
	ram->ranges[ram->n].start = res->start;
	ram->ranges[ram->n].end = (u64)res->end + 1;
	ram->n++;
	return 0;
}

static int pvdma_ram_cmp(const void *a, const void *b)
{
	const struct pvdma_ram_range *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* Merge overlapping or touching ranges (nested resources fold in). */
static void pvdma_ram_merge(struct pvdma_ram_map *ram)
{
	struct pvdma_ram_range *r = ram->ranges;
	u32 i, n = 0;

	sort(r, ram->n, sizeof(*r), pvdma_ram_cmp, NULL);
	for (i = 0; i < ram->n; i++) {
		if (n && r[i].start <= r[n - 1].end) {
			r[n - 1].end = max(r[n - 1].end, r[i].end);
			continue;
		}
		r[n++] = r[i];
	}
	ram->n = n;
}

/**
 * pvdma_ram_map_build() - read the guest's System RAM ranges
 * @ram: the map to fill (empty)
 *
 * May sleep.
 *
 * Return: 0, -ENOMEM, or -EAGAIN if RAM was hot-added while reading it.
 */
int pvdma_ram_map_build(struct pvdma_ram_map *ram)
{
	struct pvdma_ram_fill f = { .ram = ram };
	int ret;

	ram->n = 0;
	walk_iomem_res_desc(IORES_DESC_NONE, PVDMA_RAM_FLAGS, 0, U64_MAX,
			    &f.room, pvdma_ram_count);
	ram->ranges = kvcalloc(max(f.room, 1u), sizeof(*ram->ranges),
			       GFP_KERNEL);
	if (!ram->ranges)
		return -ENOMEM;
	ret = walk_iomem_res_desc(IORES_DESC_NONE, PVDMA_RAM_FLAGS, 0, U64_MAX,
				  &f, pvdma_ram_add);
	if (ret == -ENOSPC) {
		pvdma_ram_map_free(ram);
		return -EAGAIN;
	}
	pvdma_ram_merge(ram);
	return 0;
}

/**
 * pvdma_ram_map_free() - release the table
 * @ram: the map
 */
void pvdma_ram_map_free(struct pvdma_ram_map *ram)
{
	kvfree(ram->ranges);
	ram->ranges = NULL;
	ram->n = 0;
}

/**
 * pvdma_ram_map_find() - the RAM range holding an address
 * @ram: the map
 * @gpa: a guest-physical address
 * @start: out: the range's start
 * @end: out: one past its end
 *
 * Binary search; any context.
 *
 * Return: true if @gpa is RAM.
 */
bool pvdma_ram_map_find(const struct pvdma_ram_map *ram, u64 gpa, u64 *start,
			u64 *end)
{
	u32 lo = 0, hi = ram->n;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;
		const struct pvdma_ram_range *r = &ram->ranges[mid];

		if (gpa < r->start) {
			hi = mid;
		} else if (gpa >= r->end) {
			lo = mid + 1;
		} else {
			*start = r->start;
			*end = r->end;
			return true;
		}
	}
	return false;
}
