// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The pvdma policy: the window cache (planner_cache.c) with windows grown
 * from what the traffic shows, within what the aperture has free.
 *
 * A miss - a single map or a list entry, small or large - gets the widest
 * window one of these clues justifies, clipped to its neighbours:
 *  - a stream: the miss starts a little past a window whose top has been
 *    used (ascending) or ends a little below one whose bottom has
 *    (descending), or beside a grown window several mappings have used
 *    half of; the new window doubles the run's last one, as readahead
 *    does;
 *    a single map that straddles the top of a run's last window (it gets
 *    a private window) brings the window the run's next miss would get
 *    in its host call (pvdma_read_ahead()): one call a window, not two;
 *    near a full aperture a stream's window may take the place of idle
 *    windows (grow_over_idle()): it is evidence, they may not be hit;
 *  - density: an aligned block (256 KiB .. 256 MiB) of which misses have
 *    asked for half already is in use: map all of it (a block mapped
 *    while it is mostly holes would pin them for as long as any page in
 *    it lives);
 *  - a list: the entries that follow and touch this one (pages of pinned
 *    or pageable memory, up or down) share its window; when mappings are
 *    scarce, so do neighbours in one 256 KiB block;
 *  - a gap: a miss between two idle grown windows earlier calls made,
 *    while the aperture is mostly free, maps the gap between them whole;
 *  - nothing yet: a single map (or a list's first miss in a call, or one
 *    near a window an earlier call made, or any while the aperture is
 *    mostly free) gets a speculative window, big while the aperture is
 *    nearly empty, a driver's scattered first pages then landing in a
 *    few windows.
 * Growth is speculation until mappings use it, so it has a budget
 * (aperture >> spec_shift, counted as what grown windows hold beyond the
 * most their mappings used, scaled by how often later calls hit them) and
 * a first window takes at most a quarter (headroom_shift) of what is left
 * of it and of the free window space >> spec_shift: near full, maps are
 * exact and speculation stops before it can crowd them out. While the
 * aperture is mostly free a first window in a new area takes that
 * quarter of the whole budget, the speculation hit least recently giving way
 * (pvdma_cache_spec_fresh()). Dense blocks
 * may take four times that, streams the free space >> spec_shift. What
 * speculation pins and no mapping uses, trims give back when a map needs
 * the room (planner_trim.c).
 */
#include "planner_internal.h"

/* The largest window @spec bytes of speculation may make, of @room free. */
static u64 spec_window(const struct pvdma_planner *p, u64 spec, u64 room)
{
	u64 left = PVDMA_MIN(spec, room >> p->cfg.spec_shift);

	return PVDMA_MIN(pvdma_pow2_floor(left),
			 pvdma_pow2_floor(p->cfg.max_window));
}

/* The largest window speculation may make now, of @room free bytes. */
static u64 spec_limit(const struct pvdma_planner *p, u64 room)
{
	return spec_window(p, pvdma_cache_spec_left(p), room);
}

/* A candidate [lo, hi) if it holds the request and beats the best yet. */
static void consider(const struct pvdma_miss *m, u64 lo, u64 hi, u64 *best_lo,
		     u64 *best_hi)
{
	if (lo <= m->lo && hi >= m->hi && hi > lo &&
	    hi - lo > *best_hi - *best_lo) {
		*best_lo = lo;
		*best_hi = hi;
	}
}

/*
 * The next window of a run: twice the last one or the request (a run of
 * N maps costs about log2 N host calls; what the last window holds beyond
 * the run's end is trimmed back if the room is needed).
 */
static u64 stream_len(const struct pvdma_window *last, u64 req, u64 limit)
{
	return PVDMA_MIN(PVDMA_MAX(2 * last->len, 2 * req), limit);
}

/* How far from a run a miss may start and still continue it: strided
 * runs (a buffer every few pages) count too.
 */
static u64 stream_gap(const struct pvdma_window *w, u64 req)
{
	return 3 * PVDMA_MAX(w->len, req);
}

/*
 * Does a miss beside @w continue a run, and how far may it grow? It does
 * if @end_used, the end of @w it lies beyond has been used: a stream,
 * bounded by the free space (@run). It does too if @w is a grown window
 * several mappings have used, together half of it at once: the driver's
 * area is larger than the window speculation made for it; that is
 * speculation still, bounded by its budget (@spec). A window mostly
 * holes (one buffer here and there) continues nothing.
 */
static bool run_continues(const struct pvdma_window *w, bool end_used,
			  u64 run, u64 spec, u64 *limit)
{
	if (end_used) {
		*limit = run;
		return true;
	}
	if (!w->grown || w->refs < 2 || 2 * w->peak < w->len)
		return false;
	*limit = PVDMA_MIN(run, spec);
	return true;
}

/* Ascending: the miss starts a little past a run. */
static void grow_stream_up(const struct pvdma_miss *m, bool straddled,
			   u64 run, u64 spec, u64 *lo, u64 *hi)
{
	const struct pvdma_window *w = m->prev;
	u64 end, limit, req = m->hi - m->lo;

	if (!w || !run_continues(w, straddled || w->used_hi == w->len, run,
				 spec, &limit))
		return;
	end = w->gpa + w->len;
	if (end > m->lo || m->lo - end > stream_gap(w, req))
		return;
	consider(m, end, end + stream_len(w, m->hi - end, limit), lo, hi);
}

/* Descending: the miss ends a little below a run. */
static void grow_stream_down(const struct pvdma_miss *m, u64 run, u64 spec,
			     u64 *lo, u64 *hi)
{
	const struct pvdma_window *w = m->next;
	u64 len, limit, req = m->hi - m->lo;

	if (!w || !run_continues(w, w->used_lo == 0, run, spec, &limit) ||
	    w->gpa < m->hi || w->gpa - m->hi > stream_gap(w, req))
		return;
	len = stream_len(w, w->gpa - m->lo, limit);
	if (len <= w->gpa)
		consider(m, w->gpa - len, w->gpa, lo, hi);
}

/* Does another entry of this list lie in the same @size block? */
static bool neighbour_in_block(const struct pvdma_miss *m, u64 size)
{
	u32 shift = (u32)__builtin_ctzll(size);	/* a power of two */
	u64 mine = m->segs[m->i].gpa >> shift;

	return (m->i > 0 && m->segs[m->i - 1].gpa >> shift == mine) ||
	       (m->i + 1 < m->n && m->segs[m->i + 1].gpa >> shift == mine);
}

/*
 * The list's next entries that continue this one - within @gap of the
 * range so far, up or down, as pages of pinned or pageable memory do -
 * share one window: no speculation, the list names them. Looks ahead at
 * most PVDMA_RUN_LOOKAHEAD entries; the ones it takes in are hits later.
 */
#define PVDMA_RUN_LOOKAHEAD	64

static void grow_run(const struct pvdma_planner *p, const struct pvdma_miss *m,
		     u64 gap, u64 *lo, u64 *hi)
{
	u64 ps = p->cfg.page_size, rlo = m->lo, rhi = m->hi;
	u32 j, end = PVDMA_MIN(m->n, m->i + 1 + PVDMA_RUN_LOOKAHEAD);

	for (j = m->i + 1; j < end; j++) {
		u64 s = PVDMA_ALIGN_DOWN(m->segs[j].gpa, ps);
		u64 e = PVDMA_ALIGN_UP(m->segs[j].gpa + m->segs[j].len, ps);

		if (!m->segs[j].len || e < s || s > rhi + gap ||
		    e + gap < rlo || e - s > m->room)
			break;
		rlo = PVDMA_MIN(rlo, s);
		rhi = PVDMA_MAX(rhi, e);
	}
	if (rhi - rlo <= m->room)
		consider(m, rlo, rhi, lo, hi);
}

/*
 * Mappings are scarce when the list's entries, one window each, would
 * take more than half of those left: then neighbours in one 256 KiB
 * block share its window even with holes between them (a page of
 * pageable memory beside the next, not adjacent); else only entries that
 * touch do, and holes stay unmapped.
 */
static bool mappings_scarce(const struct pvdma_planner *p,
			    const struct pvdma_miss *m)
{
	u64 left = p->cfg.max_mappings - PVDMA_MIN(p->cfg.max_mappings,
						  p->stats.live_windows);

	return m->n - m->i > left / 2;
}

/*
 * The largest aligned block, at most @limit, that is in use: misses have
 * asked for half of it (the rest will likely follow).
 */
static void grow_dense(struct pvdma_planner *p, const struct pvdma_miss *m,
		       u64 limit, u64 *lo, u64 *hi)
{
	u64 most = PVDMA_MIN(limit, m->room);
	int level;

	if (most < 1ull << PVDMA_MISS_LEVEL0_SHIFT)
		return;
	/* from the largest block that fits: no need to ask the history above */
	level = PVDMA_MIN((63 - __builtin_clzll(most) - PVDMA_MISS_LEVEL0_SHIFT) / 2,
			  PVDMA_MISS_LEVELS - 1);
	for (; level >= 0; level--) {
		u64 size = 1ull << (PVDMA_MISS_LEVEL0_SHIFT + 2 * level);
		u64 before;

		/* no block this small or smaller beats the window found */
		if (size <= *hi - *lo)
			return;
		before = pvdma_cache_miss_bytes(p, (u32)level, m->lo);

		if (!before || before + (m->hi - m->lo) < size / 2)
			continue;
		consider(m, PVDMA_ALIGN_DOWN(m->lo, size),
			 PVDMA_ALIGN_DOWN(m->lo, size) + size, lo, hi);
		return;
	}
}

/* A list's entries: runs of touching entries, or blocks of neighbours
 * when mappings are scarce.
 */
static void grow_list(struct pvdma_planner *p, const struct pvdma_miss *m,
		      u64 *lo, u64 *hi)
{
	u64 block = pvdma_pow2_floor(p->cfg.window_small_max);

	if (m->n == 1)
		return;
	if (mappings_scarce(p, m) && block <= m->room &&
	    neighbour_in_block(m, block))
		consider(m, PVDMA_ALIGN_DOWN(m->lo, block),
			 PVDMA_ALIGN_DOWN(m->lo, block) + block, lo, hi);
	grow_run(p, m, p->cfg.page_size, lo, hi);
}

/*
 * Does a window an earlier call made lie within @g of the miss? Then the
 * driver is back in an area it used before.
 */
static bool near_earlier_window(const struct pvdma_miss *m, u64 g)
{
	const struct pvdma_window *a = m->prev, *b = m->next;

	return (a && a->state != PVDMA_WIN_PENDING &&
		a->gpa + a->len <= m->lo && m->lo - (a->gpa + a->len) < g) ||
	       (b && b->state != PVDMA_WIN_PENDING &&
		b->gpa >= m->hi && b->gpa - m->hi < g);
}

/*
 * Do a list's later misses speculate with no clue? While the aperture is
 * mostly free, if the list is short (a quarter of a batch at most): a
 * list of thousands of scattered pages would grow a window around each,
 * and the trims that take that speculation back reach windows other
 * buffers use (e-upload at 1 GiB: the per-frame list missed each frame).
 */
static bool list_speculates(const struct pvdma_planner *p,
			    const struct pvdma_miss *m)
{
	return pvdma_cache_mostly_free(p) && 4 * (u64)m->n <= p->mem.nops;
}

/*
 * Could a first window of @g give back the holes between the pages it
 * serves? Only with a chunk map (PVDMA_CHUNK_MIN_PAGES pages or more): a
 * smaller one gives back its ends only, and buffers spread over it pin
 * the rest. Under pressure such a window is not made; while the
 * aperture is mostly free it costs nothing yet.
 */
static bool first_taken_back(const struct pvdma_planner *p, u64 g)
{
	return g >= PVDMA_CHUNK_MIN_PAGES * p->cfg.page_size ||
	       pvdma_cache_mostly_free(p);
}

/*
 * A new area's miss got no speculation: its budget is spent. What the
 * whole budget would have let it take is noted, so that idle windows no
 * map came back to give way with this call (spec_dead_evict()) and the
 * area's next miss speculates.
 */
static void spec_starved(struct pvdma_planner *p, const struct pvdma_miss *m)
{
	u64 limit, g;

	if (pvdma_cache_spec_dead_off(p))	/* nothing would give way */
		return;
	limit = spec_window(p, pvdma_cache_spec_cap(p), m->room);
	g = limit >> p->cfg.headroom_shift;
	if (g > m->hi - m->lo && first_taken_back(p, g))
		pvdma_cache_spec_starved(p, limit);
}

/*
 * No clue yet: a miss speculates on the aligned block around it, if that
 * is larger than itself; what it does not use, a trim gives back.
 * A single map, or a list's first miss in a call, starts a new area:
 * it may take speculation older windows hold (pvdma_cache_spec_fresh()).
 * A list's later misses take only what is left (a list of scattered pages
 * would otherwise trade its own windows' speculation back and forth
 * within one call), and speculate only near a window an earlier call
 * made or, in a short list, while the aperture is mostly free (each
 * entry may be the first page of an area the driver comes back to):
 * under pressure a list of scattered pages would spend the budget in
 * one call, for a host call it makes anyway.
 */
static void grow_first(struct pvdma_planner *p, const struct pvdma_miss *m,
		       u64 limit, u64 *lo, u64 *hi)
{
	bool later = m->n > 1 && p->call_grown;
	u64 g;

	if (!later)
		limit = spec_window(p, pvdma_cache_spec_fresh(p), m->room);
	g = limit >> p->cfg.headroom_shift;
	/* first: the cheapest to ask */
	if (g <= m->hi - m->lo || !first_taken_back(p, g)) {
		if (!later)
			spec_starved(p, m);
		return;
	}
	if (later && !near_earlier_window(m, g) && !list_speculates(p, m))
		return;
	consider(m, PVDMA_ALIGN_DOWN(m->lo, g), PVDMA_ALIGN_DOWN(m->lo, g) + g,
		 lo, hi);
}

/*
 * Is the miss in the gap between two grown windows earlier calls made,
 * idle now? The driver's area spans both and it is back between them
 * (pages of pageable memory scattered over an area larger than a first
 * window, each mapped for one call): while the aperture is mostly free,
 * the gap is mapped whole. Only between idle windows: the area's
 * mappings come and go, so the gap's window is idle between calls too,
 * evicted whole if the room is needed; among pages that stay mapped it
 * would pin them in chunks coarser than its neighbours', which a trim
 * under pressure gives back less finely. It is a guess still, so it
 * takes at most half of the speculation not yet spent: gaps filled
 * early must not leave the driver's next areas exact windows.
 */
static void grow_gap(const struct pvdma_planner *p, const struct pvdma_miss *m,
		     u64 limit, u64 *lo, u64 *hi)
{
	const struct pvdma_window *a = m->prev, *b = m->next;
	u64 gap;

	if (!a || !b || !a->grown || !b->grown || a->refs || b->refs ||
	    a->state == PVDMA_WIN_PENDING || b->state == PVDMA_WIN_PENDING ||
	    !pvdma_cache_mostly_free(p))
		return;
	gap = b->gpa - (a->gpa + a->len);
	if (gap <= PVDMA_MIN(limit, pvdma_cache_spec_left(p) >> 1))
		consider(m, a->gpa + a->len, b->gpa, lo, hi);
}

/*
 * A stream is evidence, not a guess, and what it leaves unused lies at
 * its far end, where a trim gives it back: it is bounded by the free
 * window space alone (>> spec_shift), not by the speculation budget.
 */
static u64 stream_limit(const struct pvdma_planner *p, u64 room)
{
	return PVDMA_MIN(pvdma_pow2_floor(room >> p->cfg.spec_shift),
			 pvdma_pow2_floor(p->cfg.max_window));
}

/*
 * Near a full aperture a stream's window may take the place of idle
 * windows (the cache's idle_room): the buffers it maps next are
 * evidence, an idle window may never be hit again. Where the free space
 * alone would give the stream less than the room it has over idle
 * windows, the window grows over them and the commit evicts the oldest
 * for it. @straddled: the miss straddled the stream's last window, so
 * that window's top is used though no mapping of it reaches there.
 * @spec: spec_limit() of the miss's room, which the caller has already
 * reckoned (nothing between changes it). The test comes before the
 * limits: most misses have no more room over idle windows than free.
 */
static void grow_over_idle(struct pvdma_planner *p, const struct pvdma_miss *m,
			   bool straddled, u64 spec, u64 *lo, u64 *hi)
{
	u64 run, slo = *lo, shi = *hi;

	if (m->idle_room <= m->room)
		return;
	run = stream_limit(p, m->idle_room);
	grow_stream_up(m, straddled, run, spec, &slo, &shi);
	grow_stream_down(m, run, spec, &slo, &shi);
	if (shi - slo <= *hi - *lo)
		return;
	*lo = slo;
	*hi = shi;
	if (shi - slo > m->room)
		pvdma_cache_over_idle(p);
}

static void grow_window(struct pvdma_planner *p, const struct pvdma_miss *m,
			bool straddled, u64 *lo, u64 *hi)
{
	u64 limit = spec_limit(p, m->room), run = stream_limit(p, m->room);

	grow_stream_up(m, false, run, limit, lo, hi);
	grow_stream_down(m, run, limit, lo, hi);
	grow_dense(p, m, limit, lo, hi);
	grow_list(p, m, lo, hi);
	grow_gap(p, m, limit, lo, hi);
	grow_first(p, m, limit, lo, hi);
	grow_over_idle(p, m, straddled, limit, lo, hi);
}

static void pvdma_grow(struct pvdma_planner *p, const struct pvdma_miss *m,
		       u64 *lo, u64 *hi)
{
	grow_window(p, m, false, lo, hi);
}

/*
 * A single map that straddles the top of a stream's last window gets a
 * private window (a request maps as one range) and a host call; the
 * next buffer then misses beyond it and pays another: two calls a step.
 * Where the stream continues, the window that next miss would get -
 * grown as @m, the straddler's part beyond the last window, grows -
 * rides in the straddler's call instead; over idle windows too
 * (grow_over_idle()), the straddler having used the last window's top.
 */
static void pvdma_read_ahead(struct pvdma_planner *p,
			     const struct pvdma_miss *m, u64 *lo, u64 *hi)
{
	u64 slo = *lo, shi = *hi, spec = spec_limit(p, m->room);

	grow_stream_up(m, false, stream_limit(p, m->room), spec, &slo, &shi);
	if (shi - slo > *hi - *lo)
		grow_window(p, m, true, lo, hi);
	else
		grow_over_idle(p, m, true, spec, lo, hi);
}

const struct pvdma_policy_ops pvdma_policy_pvdma = {
	.name		= "pvdma",
	.map		= pvdma_cache_map,
	.unmap		= pvdma_cache_unmap,
	.reclaim	= pvdma_cache_reclaim,
	.grow		= pvdma_grow,
	.retry_exact	= true,
	.spec_gives_way	= true,
	.growth_evicts	= true,
	.excess_regrets	= true,
	.swallows_idle	= true,
	.keeps_returned	= true,
	.keeps_room	= true,
	.read_ahead	= pvdma_read_ahead,
};
