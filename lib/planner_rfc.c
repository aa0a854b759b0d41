// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The baselines: the original QEMU RFC guest driver (rfc) and naive
 * per-entry mapping (perpage), modelled by what they cost the host.
 *
 * rfc, as the original system's guest driver behaves (docs/planner.md,
 * "rfc - the baseline, modelled faithfully"):
 *  - a segment of at most W = 2^rfc_window_shift bytes inside one W-aligned
 *    block uses the window (block, W); any other segment a direct region,
 *    its ends rounded out to the page;
 *  - regions are keyed by exact (base, size) and reference-counted; a new
 *    region is one MAP host call, a region whose count drops to zero one
 *    UNMAP host call, at once; nothing is batched or cached;
 *  - the host's table is keyed by base address alone, so a region whose
 *    base equals a live region of another size is refused (one host call,
 *    I/O error, counted in id_collisions);
 *  - a region longer than the host's 1.5 GiB chunk comes back short, which
 *    costs a second call (UNMAP) and fails;
 *  - every failure is final: map_sg undoes what it mapped and fails.
 * Modelling choices: the original's 4096-bucket hash and its linear
 * searches on unmap/sync are served by the same O(log n) indexes as the
 * other policies (their counts, not their speed, are what is compared);
 * its windows are mapped for both directions, as it sends no access flags.
 *
 * perpage: every segment its own page-rounded mapping, never shared, one
 * host call per segment mapped and per segment unmapped.
 */
#include "planner_internal.h"

/*
 * How a segment becomes a region: the two baselines differ only here and
 * in whether regions are shared (found again by their exact key).
 */
struct region_rules {
	void (*shape)(const struct pvdma_planner *p, u64 gpa, u64 len,
		      u64 *base, u64 *size);
	bool keyed;
};

/* The page-rounded range itself: a direct region. */
static void direct_shape(const struct pvdma_planner *p, u64 gpa, u64 len,
			 u64 *base, u64 *size)
{
	u64 ps = p->cfg.page_size;

	*base = PVDMA_ALIGN_DOWN(gpa, ps);
	*size = PVDMA_ALIGN_UP(gpa + len, ps) - *base;
}

/* rfc: the W-block window when the segment lies in one, else direct. */
static void rfc_shape(const struct pvdma_planner *p, u64 gpa, u64 len,
		      u64 *base, u64 *size)
{
	u64 w = 0;

	if (p->cfg.rfc_window_shift)
		w = 1ull << p->cfg.rfc_window_shift;
	if (w && len <= w && gpa / w == (gpa + len - 1) / w) {
		*base = PVDMA_ALIGN_DOWN(gpa, w);
		*size = w;
		return;
	}
	direct_shape(p, gpa, len, base, size);
}

static const struct region_rules rfc_rules = {
	.shape = rfc_shape, .keyed = true,
};

static const struct region_rules perpage_rules = {
	.shape = direct_shape, .keyed = false,
};

/* Release one reference; the last one costs an UNMAP host call. */
static void rfc_put(struct pvdma_planner *p, struct pvdma_window *w)
{
	if (PVDMA_WARN_ON(!w->refs))
		return;
	if (--w->refs)
		return;
	pvdma_win_release(p, w);
	pvdma_batch_submit(p);
}

/* A new region: one MAP host call. NULL with last_failure set if refused. */
static struct pvdma_window *rfc_new_region(struct pvdma_planner *p,
					   const struct region_rules *rules,
					   u64 base, u64 size)
{
	struct pvdma_window *w;
	u32 status;

	if (size > p->cfg.aperture_bytes) {
		p->stats.host_calls += 2;	/* short reply, then UNMAP */
		pvdma_plan_fail(p, PVDMA_FAIL_APERTURE, size, PVDMA_ST_NO_APERTURE);
		return NULL;
	}
	w = pvdma_win_alloc(p);
	if (!w) {
		pvdma_plan_fail(p, PVDMA_FAIL_NO_RECORDS, size, 0);
		return NULL;
	}
	w->gpa = base;
	w->len = size;
	w->perm = PVDMA_MAP_READ | PVDMA_MAP_WRITE;
	pvdma_win_account_map(p, w);
	pvdma_batch_queue_map(p, w);
	pvdma_batch_submit(p);
	if (w->state == PVDMA_WIN_LIVE) {
		if (rules->keyed)
			pvdma_gpa_insert(p, w);
		return w;
	}
	status = w->host_status;
	pvdma_win_free(p, w);
	pvdma_plan_fail(p, pvdma_fail_reason_from_status(status), size, status);
	return NULL;
}

static struct pvdma_window *rfc_get(struct pvdma_planner *p,
				    const struct region_rules *rules,
				    const struct pvdma_seg *seg)
{
	struct pvdma_window *w;
	u64 base, size;

	rules->shape(p, seg->gpa, seg->len, &base, &size);
	if (rules->keyed) {
		w = pvdma_gpa_find_exact(p, base, size);
		if (w) {
			p->stats.hits++;
			return w;
		}
		w = pvdma_gpa_floor(p, base);
		if (w && w->gpa == base) {	/* duplicate id on the host */
			p->stats.misses++;
			p->stats.host_calls++;
			p->stats.id_collisions++;
			pvdma_plan_fail(p, PVDMA_FAIL_HOST, size, PVDMA_ST_IO);
			return NULL;
		}
	}
	p->stats.misses++;
	return rfc_new_region(p, rules, base, size);
}

static int region_map(struct pvdma_planner *p, const struct region_rules *rules,
		      struct pvdma_seg *segs, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++) {
		struct pvdma_window *w = rfc_get(p, rules, &segs[i]);

		if (!w) {
			while (i--)
				rfc_put(p, &p->mem.windows[segs[i].cookie - 1]);
			return -ENOSPC;
		}
		w->refs++;
		segs[i].cookie = pvdma_win_index(p, w) + 1;
		segs[i].bus = w->bus + (segs[i].gpa - w->gpa);
		segs[i].dev_gpa = segs[i].gpa;
		segs[i].bounced = 0;
	}
	for (i = 0; i < n; i++)
		pvdma_live_bytes_add(p, segs[i].len);
	return 0;
}

static int region_unmap(struct pvdma_planner *p, const struct pvdma_seg *segs,
			u32 n, enum pvdma_dir dir)
{
	int ret = 0;
	u32 i;

	for (i = 0; i < n; i++) {
		struct pvdma_window *w = pvdma_bus_find(p, segs[i].bus);

		if (!w || !w->refs || !segs[i].len ||
		    segs[i].len > w->len - (segs[i].bus - w->bus)) {
			p->stats.bad_unmaps++;
			ret = -ENOENT;
			continue;
		}
		p->stats.live_bytes -= PVDMA_MIN(p->stats.live_bytes, segs[i].len);
		rfc_put(p, w);
	}
	return ret;
}

static int rfc_map(struct pvdma_planner *p, struct pvdma_seg *segs, u32 n,
		   enum pvdma_dir dir, u32 attrs)
{
	return region_map(p, &rfc_rules, segs, n);
}

static int perpage_map(struct pvdma_planner *p, struct pvdma_seg *segs, u32 n,
		       enum pvdma_dir dir, u32 attrs)
{
	return region_map(p, &perpage_rules, segs, n);
}

const struct pvdma_policy_ops pvdma_policy_rfc = {
	.name	= "rfc",
	.map	= rfc_map,
	.unmap	= region_unmap,
};

const struct pvdma_policy_ops pvdma_policy_perpage = {
	.name	= "perpage",
	.map	= perpage_map,
	.unmap	= region_unmap,
};
