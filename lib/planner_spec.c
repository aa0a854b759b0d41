// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Speculation of the window cache: how much of the window space grown
 * windows may hold beyond what their mappings use (a share of it, scaled
 * by how often later calls hit them), and the miss history the pvdma
 * policy sizes windows by. Apart from planner_cache.c because these are
 * the policy's knobs, read once per miss, not the flow of a call; the
 * budgets and the counts of hits each entry moves are inline in
 * planner_internal.h and planner_cache.h.
 */
#include "planner_cache.h"

/* ---- speculation ----------------------------------------------------- */

/*
 * Grown windows counted as hit before any is known: a driver's first
 * windows, scattered, cannot have been hit by a later call yet, and one
 * unproven window must not halve the budget.
 */
#define SPEC_PRIOR	4

/*
 * What speculation may hold: a share of the window space (>> spec_shift)
 * or, while the aperture is mostly free, what is left of a larger share
 * beside the windows mappings use; as those grow, the excess is trimmed
 * back (pvdma_trim_excess()). That share is half the window space, so
 * that a growing live set seldom waits for a trim - or the whole of it
 * once later misses keep needing what excess trims gave back
 * (pvdma_trim_regretted()): a driver that comes back to its older areas
 * (llm-prefill-decode, vulkan-streaming: windows of 32-64 MiB over
 * several GiB, revisited) misses each one again after its trim, while
 * the aperture it was trimmed for stays empty. Speculation then gives
 * way only when a map needs the room (pvdma_trim_needed()).
 */
static u64 spec_free_share(const struct pvdma_planner *p)
{
	u64 held = pvdma_cache_bytes(p), share = pvdma_cache_budget(p);
	u64 rest = held - PVDMA_MIN(held, p->stats.spec_aperture);

	if (!pvdma_trim_regretted(p))
		share >>= 1;
	return share > rest ? share - rest : 0;
}

u64 pvdma_cache_spec_cap(const struct pvdma_planner *p)
{
	return PVDMA_MAX(pvdma_cache_budget(p) >> p->cfg.spec_shift,
			 spec_free_share(p));
}

/*
 * The cap scaled by how often grown windows were hit by later calls:
 * speculation that saves no host call (buffers scattered over more than
 * the aperture) soon stops pinning aperture it cannot give back.
 */
static u64 spec_scaled(const struct pvdma_planner *p)
{
	u64 spec = pvdma_cache_spec_cap(p);

	if (p->spec_hits < p->spec_windows)
		spec = spec / (p->spec_windows + SPEC_PRIOR) *
		       (p->spec_hits + SPEC_PRIOR);
	return spec;
}

/* Speculation still allowed: the scaled cap less what grown windows
 * hold beyond what their mappings have used.
 */
u64 pvdma_cache_spec_left(const struct pvdma_planner *p)
{
	u64 spec = spec_scaled(p);

	return spec > p->stats.spec_aperture ? spec - p->stats.spec_aperture : 0;
}

/*
 * Is the aperture mostly free: does the free share beside the windows
 * mappings use (spec_free_share()) exceed the fixed one? Then
 * speculation is cheap to take back and may be recycled; under pressure
 * it may not.
 */
bool pvdma_cache_mostly_free(const struct pvdma_planner *p)
{
	return spec_free_share(p) > pvdma_cache_budget(p) >> p->cfg.spec_shift;
}

/*
 * Has speculation paid lately: later calls hit grown windows more often
 * than speculation made them? Then a driver that moves to a new area
 * will likely come back to it too.
 */
static bool spec_pays(const struct pvdma_planner *p)
{
	return p->spec_hits > p->spec_windows;
}

/*
 * May speculation be recycled: is what goes over the cap trimmed back
 * with the host call that made it (pvdma_trim_excess()), and either the
 * aperture mostly free or speculation paying? Under pressure recycling
 * that saves nothing (buffers scattered at random) would only trade
 * windows back and forth, but a driver walking area by area through
 * more than the aperture keeps paying for it: without it, once pieces
 * of its older windows held half the aperture, each new area's maps
 * went exact (storm4k at 2 and 3 GiB: a host call every few maps). Not
 * without trims, nor with a bounce pool.
 */
static bool spec_recycled(const struct pvdma_planner *p)
{
	return p->cfg.trim && !pvdma_bounce_reserved(p) &&
	       (pvdma_cache_mostly_free(p) || spec_pays(p));
}

/* Then a call's grown windows that find the window space full may take
 * the room of older speculation too (spec_gives_way() in planner_cache.c).
 */
bool pvdma_cache_spec_recycled(const struct pvdma_planner *p)
{
	return spec_recycled(p);
}

/*
 * Speculation a window in a new area may take: where the excess is
 * trimmed back with the call, the whole scaled cap, as if nothing were
 * held - the speculation hit least recently gives way to the newest
 * (pvdma_trim_excess() trims it back with this call), so a driver that moves
 * on to a new area (another process's context, a new phase) gets
 * windows there too, while its old areas keep the pages their
 * mappings use. Else what is left of it.
 */
u64 pvdma_cache_spec_fresh(const struct pvdma_planner *p)
{
	return spec_recycled(p) ? spec_scaled(p) : pvdma_cache_spec_left(p);
}

/* ---- miss history: how many misses each aligned block has seen ------- */

static u32 miss_bucket(u64 block)
{
	return (u32)((block * 0x9e3779b97f4a7c15ull) >> 59) &
	       (PVDMA_MISS_BUCKETS - 1);
}

static u32 level_shift(u32 level)
{
	return PVDMA_MISS_LEVEL0_SHIFT + 2 * level;
}

u64 pvdma_cache_miss_bytes(const struct pvdma_planner *p, u32 level, u64 gpa)
{
	u64 block = (gpa >> level_shift(level)) + 1;
	const struct pvdma_miss_bucket *s = &p->miss[level][miss_bucket(block)];

	return s->block == block ? s->bytes : 0;
}

/*
 * Direct-mapped: a block that loses its bucket starts again from zero.
 * Each level's blocks are four of the one below: its block number is the
 * one below's shifted by two, not a shift of @gpa of its own.
 */
void pvdma_cache_note_miss(struct pvdma_planner *p, u64 gpa, u64 bytes)
{
	u64 g = gpa >> level_shift(0);
	u32 level;

	for (level = 0; level < PVDMA_MISS_LEVELS; level++, g >>= 2) {
		u64 block = g + 1;
		struct pvdma_miss_bucket *s = &p->miss[level][miss_bucket(block)];

		if (s->block != block) {
			s->block = block;
			s->bytes = 0;
		}
		s->bytes += bytes;
	}
}
