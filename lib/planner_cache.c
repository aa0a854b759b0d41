// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The window cache shared by the caching policies (pvdma, block): a map
 * call is one pass over its entries - validate, look up (a hint first,
 * the tree only when the hint misses), and for a miss admit, size (the
 * policy's grow op) and plan a window - then one batch to the host.
 *
 * Admission: a window's bytes are pinned while a live mapping uses it and
 * only idle windows can be evicted, so a miss fits if the pinned bytes,
 * the bytes this call's misses need and its own fit the window budget
 * (likewise the mapping count). The running counts make that exact test
 * O(1) per miss; a map that fails it fails before anything is queued: no
 * eviction, no host call, nothing to roll back.
 *
 * Windows are kept mapped while idle (LRU), evicted oldest first when a
 * call needs the room; speculation (growth past the request) is dropped
 * before it evicts anything, unless live mappings pin little of the
 * aperture (growth_evicts()) or it is a stream's (idle_room()).
 *
 * This file is the flow of one call; the rest of the cache has a file per
 * concept (planner_cache.h declares what they share): what speculation may
 * hold and the miss history in planner_spec.c, the chunk counts of grown
 * windows in planner_chunks.c (their per-entry part inline in
 * planner_chunks.h), and trims in planner_trim.c.
 */
#include "planner_cache.h"

/* ---- lookup ---------------------------------------------------------- */

static u32 hint_bucket(u64 gpa)
{
	return (u32)(gpa >> 21) & (PVDMA_HINT_BUCKETS - 1);
}

static bool win_covers(const struct pvdma_window *w, u64 gpa, u64 len, u16 perm)
{
	return w->shared && w->state != PVDMA_WIN_FAILED &&
	       gpa >= w->gpa && gpa + len - w->gpa <= w->len &&
	       !(perm & ~w->perm);
}

/*
 * Does shared @w hold all of [gpa, gpa + len), len > 0? A window's end
 * neither wraps nor leaves its page, so a range inside one is a valid
 * segment too: the one test checks the entry and finds its window.
 */
static bool win_holds(const struct pvdma_window *w, u64 gpa, u64 len,
		      u16 perm)
{
	u64 off = gpa - w->gpa;

	return off < w->len && len - 1 < w->len - off && w->shared &&
	       w->state != PVDMA_WIN_FAILED && !(perm & ~w->perm);
}

/*
 * The window the hint names for [gpa, gpa + len), if it holds it with
 * @perm, or NULL. The hint is only a guess (the record may have been
 * freed or reused since), so it is checked like any candidate; a range
 * it holds is a valid one, and most entries need no other check.
 */
static struct pvdma_window *cache_hinted(struct pvdma_planner *p, u64 gpa,
					 u64 len, u16 perm)
{
	struct pvdma_window *w = p->hint[hint_bucket(gpa)];

	if (!w || !win_holds(w, gpa, len, perm))
		return NULL;
	p->stats.fast_lookups++;
	return w;
}

/*
 * A shared window covering valid [gpa, gpa + len) with @perm, or NULL,
 * by a tree descent (the hint missed); *@prev is the window the descent
 * ended at.
 */
static struct pvdma_window *cache_lookup(struct pvdma_planner *p, u64 gpa,
					 u64 len, u16 perm,
					 struct pvdma_window **prev)
{
	struct pvdma_window *w = pvdma_gpa_floor_cursor(p, gpa);

	*prev = w;
	if (!w || !win_covers(w, gpa, len, perm))
		return NULL;
	p->hint[hint_bucket(gpa)] = w;
	return w;
}

/* ---- references and use ---------------------------------------------- */

static bool win_accounted(const struct pvdma_window *w)
{
	return w->state == PVDMA_WIN_PENDING || w->state == PVDMA_WIN_LIVE ||
	       w->state == PVDMA_WIN_IDLE;
}

/* Page-rounded bytes a mapping of [addr, addr + len) takes. */
static u64 page_bytes(const struct pvdma_planner *p, u64 addr, u64 len)
{
	u64 ps = p->cfg.page_size;

	return PVDMA_ALIGN_UP(addr + len, ps) - PVDMA_ALIGN_DOWN(addr, ps);
}

/*
 * Consecutive entries of a call that use one window: what they add to it
 * is summed as the pass goes (run_extend) and applied once (run_end), so
 * an entry that lies in the window of the entry before costs a range
 * check and a few additions: no lookup, no accounting of its own. Every
 * count ends as it would entry by entry: the used range is a min and a
 * max, the rest are sums. Nothing between two entries of a run reads
 * what it defers; a miss, a bounce or an invalid entry ends it first.
 */
struct hit_run {
	struct pvdma_window *w;	/* NULL: no run, or none may join it */
	u32 cookie;		/* its seg->cookie */
	u64 more;		/* entries after the first: hits, references */
	u64 lo, hi;		/* page-rounded range they use, window offsets */
	u64 live;		/* their page-rounded bytes, each entry's own */
	u64 taken;		/* chunk bytes they were the first to touch */
	struct pvdma_chunk_batch batch;	/* theirs in one chunk, not yet */
};

/* An exact window has nothing to pay off and nothing to trim. */
static bool win_counts_use(const struct pvdma_window *w)
{
	return w->grown || w->chunks;
}

static void run_sums_start(struct hit_run *r)
{
	r->lo = ~0ull;
	r->hi = 0;
	r->live = 0;
	r->taken = 0;
	pvdma_chunk_batch_init(&r->batch);
}

/*
 * spec_pinned moves by @bytes for @w, on a trim list; hole_pinned too
 * for a window grown over its list's holes (holes_crowd() reads it).
 */
static __always_inline void spec_pinned_add(struct pvdma_planner *p,
					    const struct pvdma_window *w,
					    u64 bytes)
{
	p->spec_pinned += bytes;
	if (w->holes)
		p->hole_pinned += bytes;
}

static __always_inline void spec_pinned_sub(struct pvdma_planner *p,
					    const struct pvdma_window *w,
					    u64 bytes)
{
	p->spec_pinned -= bytes;
	if (w->holes)
		p->hole_pinned -= bytes;
}

/*
 * Mappings in [lo, hi) of @w (page-rounded window offsets), @live bytes
 * of them counted each on its own, now use it: widen its used range (what
 * an end trim keeps) and its live bytes (what speculation has paid off);
 * @taken chunk bytes they were the first to touch. Each count moves by
 * what changed, nothing recomputed.
 */
static __always_inline void win_use(struct pvdma_planner *p,
				    struct pvdma_window *w, u64 lo, u64 hi,
				    u64 live, u64 taken)
{
	u64 span = w->used_hi - w->used_lo, paid;

	w->used_lo = PVDMA_MIN(w->used_lo, lo);
	w->used_hi = PVDMA_MAX(w->used_hi, hi);
	/* pvdma_win_reclaimable(): the ends outside the used range */
	if (!w->chunks)
		taken = w->used_hi - w->used_lo - span;
	w->live += live;
	if (w->live > w->peak) {
		/* pvdma_win_unused(): the speculation paid off grows */
		paid = PVDMA_MIN(w->live, w->len) - PVDMA_MIN(w->peak, w->len);
		w->peak = w->live;
		if (w->grown && win_accounted(w))
			p->stats.spec_aperture -= paid;
	}
	if (w->trimmable)
		spec_pinned_sub(p, w, taken);
}

/* The mapping at [off, off + len) of @w went. */
static void win_unuse(struct pvdma_planner *p, struct pvdma_window *w,
		      u64 off, u64 len)
{
	u64 freed;

	if (!w->grown && !w->chunks)
		return;
	w->live -= PVDMA_MIN(w->live, page_bytes(p, off, len));
	freed = w->chunks ? pvdma_chunks_remove(w, off, len) : 0;
	if (w->trimmable)
		spec_pinned_add(p, w, freed);
}

/* A mapped window in use with parts a trim may give back. */
static void spec_list_add(struct pvdma_planner *p, struct pvdma_window *w)
{
	if ((!w->grown && !w->chunks && !w->need_only) || w->trimmable)
		return;
	pvdma_list_add_tail(&w->lru, pvdma_trim_list_of(p, w));
	w->trimmable = 1;
	spec_pinned_add(p, w, pvdma_win_reclaimable(w));
}

void pvdma_spec_list_del(struct pvdma_planner *p, struct pvdma_window *w)
{
	if (!w->trimmable)
		return;
	pvdma_list_del(&w->lru);
	w->trimmable = 0;
	spec_pinned_sub(p, w, pvdma_win_reclaimable(w));
}

/*
 * A later call hit @w: trims take it last (they take the head of its
 * list first). An area the driver keeps coming back to keeps its
 * window; speculation nothing uses any more goes first.
 */
static void spec_list_touch(struct pvdma_planner *p, struct pvdma_window *w)
{
	struct pvdma_list *list;

	if (!w->trimmable)
		return;
	/* the window hit last is at the end already: hits come in runs */
	list = pvdma_trim_list_of(p, w);
	if (w->lru.next == list)
		return;
	pvdma_list_del(&w->lru);
	pvdma_list_add_tail(&w->lru, list);
}

/*
 * A later call maps @seg inside exact window @w. From then on @w may hold
 * pages no live mapping uses - the buffer it was made for goes, the one
 * that shares it stays - and, with no record of where its mappings lie,
 * it would pin all of them until the last goes (server-heavy: 1-4 MiB
 * windows pinned by a page or two each held about 100 MiB of a full
 * aperture). A chunk map, page-grained up to PVDMA_CHUNKS pages, lets a
 * trim give them back. It can start only while what lives in @w is
 * known: nothing (idle), or one mapping that covers it (@whole). An idle
 * window taken whole again (a frame loop's buffer) needs none.
 */
static void win_share(struct pvdma_planner *p, struct pvdma_window *w,
		      const struct pvdma_seg *seg)
{
	u64 ps = p->cfg.page_size;
	bool whole = w->whole;

	w->whole = 0;
	if (w->chunks || w->grown || !w->shared || !p->cfg.trim ||
	    w->state == PVDMA_WIN_PENDING ||
	    w->len < PVDMA_CHUNK_SHARED_PAGES * ps)
		return;
	if (!w->refs && PVDMA_ALIGN_DOWN(seg->gpa, ps) == w->gpa &&
	    PVDMA_ALIGN_UP(seg->gpa + seg->len, ps) == w->gpa + w->len) {
		w->whole = 1;
		return;
	}
	if (w->refs && !(whole && w->refs == 1))
		return;
	pvdma_chunks_attach(p, w, true);
	if (!w->chunks)
		return;
	w->need_only = 1;
	if (!w->refs)
		return;		/* idle: win_hold() lists it */
	pvdma_chunks_add(w, 0, w->len);
	w->live = w->len;
	w->peak = w->len;
	spec_list_add(p, w);
}

/*
 * Does a hit on @w count as speculation paid back? On a grown window an
 * earlier call made; not in an exact pass (pvdma_cache_map()), whose
 * refused grown pass counted the call's hits already.
 */
static bool spec_hit_counts(const struct pvdma_planner *p,
			    const struct pvdma_window *w)
{
	return w->grown && w->state != PVDMA_WIN_PENDING && !p->call_exact;
}

/*
 * Is @w a grown window large enough for its holes to matter, one that
 * should know where its pages are (a chunk map) so that a trim can give
 * them back?
 */
static bool win_grown_wants_chunks(const struct pvdma_planner *p,
				   const struct pvdma_window *w)
{
	return w->grown && p->cfg.trim &&
	       w->len >= PVDMA_CHUNK_MIN_PAGES * p->cfg.page_size;
}

/*
 * Do the entries after @m's in its list that fall in [@lo, @hi), the
 * window grown for @m, leave a hole of a page or more between them (a
 * buffer of pieces with gaps: class G's 64 KiB)? Then the window,
 * however small, should know where its pages are: else a trim can cut
 * only its ends and the holes stay pinned until the buffer goes. Where
 * the first hole begins (page-aligned), or 0 if there is none. The scan
 * stops at the first entry outside the window, and those it reads hit
 * the window after: each entry is read about once a call.
 */
static u64 list_hole_at(const struct pvdma_planner *p,
			const struct pvdma_miss *m, u64 lo, u64 hi)
{
	u64 ps = p->cfg.page_size, end = m->hi, a, b;
	u32 j;

	for (j = m->i + 1; j < m->n; j++) {
		a = PVDMA_ALIGN_DOWN(m->segs[j].gpa, ps);
		b = PVDMA_ALIGN_UP(m->segs[j].gpa + m->segs[j].len, ps);
		if (a < lo || b > hi)
			return 0;
		if (a > end)
			return end;
		end = PVDMA_MAX(end, b);
	}
	return 0;
}

/*
 * A chunk map for @w if it is grown over its list's holes, so that a
 * trim may punch them (win_punch()); from the pool only, not taken from
 * an unused window: a large grown window needs it more. With
 * the pool spent (thousands of such buffers live, class G), the window
 * stops where the first hole begins: holes no trim can reach would stay
 * pinned while the buffer lives, and on a full aperture that is the
 * room the next buffers lack. The entries past it get windows of their
 * own in the same call.
 */
static void win_holes_attach(struct pvdma_planner *p, struct pvdma_window *w,
			     const struct pvdma_miss *m)
{
	u64 hole = list_hole_at(p, m, w->gpa, w->gpa + w->len);

	if (!hole)
		return;
	pvdma_chunks_attach(p, w, false);
	w->holes = !!w->chunks;
	if (w->chunks)
		return;
	w->len = hole - w->gpa;
	w->grown = w->len > m->hi - m->lo;
}

/*
 * A map uses idle @w again: how long it lay idle, in map requests. The
 * longest such wait lately (decaying by 1/64 a reuse) tells an idle
 * window the driver may still come back to from a dead one
 * (spec_dead_evict()).
 */
static void idle_reuse_note(struct pvdma_planner *p,
			    const struct pvdma_window *w)
{
	u64 waited = (u32)(p->stats.map_requests - w->idle_at);

	p->idle_reuse -= p->idle_reuse >> 6;
	p->idle_reuse = PVDMA_MAX(p->idle_reuse, waited);
}

/*
 * A map uses idle @w again: it leaves its idle list. Out of line: a hit
 * on a live window is the common case, and this kept inline costs the
 * hit loop its registers.
 */
static noinline void win_wake(struct pvdma_planner *p, struct pvdma_window *w)
{
	idle_reuse_note(p, w);
	pvdma_list_del(&w->lru);
	w->state = PVDMA_WIN_LIVE;
	/* its map went to a window in use while it idled
	 * (pvdma_chunks_attach()): no mapping is in it yet, so one
	 * from the pool counts from here (not taken from another idle
	 * window: that would only move the holes)
	 */
	if (!w->chunks && win_grown_wants_chunks(p, w))
		pvdma_chunks_attach(p, w, false);
	spec_list_add(p, w);
}

static __always_inline void win_hold(struct pvdma_planner *p,
				     struct pvdma_window *w)
{
	if (w->state == PVDMA_WIN_IDLE)
		win_wake(p, w);
	if (!w->refs++ && win_accounted(w)) {
		p->stats.pinned_aperture += w->len;
		p->stats.pinned_windows++;
	}
}

/* Drop one reference; true if it was the last. */
static bool win_unhold(struct pvdma_planner *p, struct pvdma_window *w)
{
	if (PVDMA_WARN_ON(!w->refs))
		return false;
	if (--w->refs)
		return false;
	pvdma_spec_list_del(p, w);
	if (win_accounted(w)) {
		p->stats.pinned_aperture -= w->len;
		p->stats.pinned_windows--;
	}
	return true;
}

/*
 * Slots of dead_hint[] an unshared window starting at @gpa may take: a
 * few after its hash, so that the buffers of one list that straddle
 * windows do not push each other out.
 */
#define DEAD_PROBES	4

static u32 dead_slot(const struct pvdma_planner *p, u64 gpa, u32 probe)
{
	/* a shift, not a division: this runs a few times per miss */
	u64 page = gpa >> __builtin_ctzll(p->cfg.page_size);

	return ((u32)((page * 0x9e3779b97f4a7c15ull) >> 58) + probe) &
	       (PVDMA_HINT_BUCKETS - 1);
}

static bool win_dead(const struct pvdma_window *w)
{
	return w && !w->shared && w->state == PVDMA_WIN_IDLE;
}

/* Remember unshared @w, just put on the dead list. */
static void dead_note(struct pvdma_planner *p, struct pvdma_window *w)
{
	u32 i, slot = dead_slot(p, w->gpa, 0);

	for (i = 0; i < DEAD_PROBES; i++) {
		u32 s = dead_slot(p, w->gpa, i);

		if (!win_dead(p->dead_hint[s])) {
			slot = s;
			break;
		}
	}
	p->dead_hint[slot] = w;
}

/* Does a dead hint still lead to @w (dead_probe() would find it)? */
static bool dead_hinted(const struct pvdma_planner *p,
			const struct pvdma_window *w)
{
	u32 i;

	for (i = 0; i < DEAD_PROBES; i++)
		if (p->dead_hint[dead_slot(p, w->gpa, i)] == w)
			return true;
	return false;
}

/*
 * May dead window @w go with the host call being made? A private window
 * that a request returned to (@returned) stays while a dead hint can
 * still find it: the driver maps that buffer again and again (a ring's
 * slots registered anew, each across two windows), and each time it went
 * the buffer's next map cost a host call of its own (shmring at 512 MiB:
 * 246 host calls, 212 with this). What goes is remembered: the same
 * request back later marks its new window returned (cache_new_window()).
 * Under pressure eviction takes a kept window first (the dead list).
 */
bool pvdma_cache_dead_goes(struct pvdma_planner *p, struct pvdma_window *w)
{
	struct pvdma_gone_request *g = &p->gone[dead_slot(p, w->gpa, 0)];

	if (w->returned && dead_hinted(p, w))
		return false;
	g->gpa = w->gpa;
	g->len = w->len;
	return true;
}

/*
 * Did a private window for exactly [gpa, gpa + len) go with a host call
 * (pvdma_cache_dead_goes()), where the policy keeps such windows?
 */
static bool request_returned(const struct pvdma_planner *p, u64 gpa, u64 len)
{
	const struct pvdma_gone_request *g = &p->gone[dead_slot(p, gpa, 0)];

	return p->policy->keeps_returned && g->gpa == gpa && g->len == len &&
	       len;
}

/* Drop one reference; an unreferenced window idles or goes (strict). */
static void win_put(struct pvdma_planner *p, struct pvdma_window *w)
{
	if (!win_unhold(p, w))
		return;
	if (p->cfg.strict) {
		pvdma_win_release(p, w);
		return;
	}
	/* An unshared window is found by no lookup: it goes with the next
	 * host call instead of costing one of its own, unless the same
	 * request comes back first (dead_revive()).
	 */
	w->state = PVDMA_WIN_IDLE;
	w->idle_at = (u32)p->stats.map_requests;
	pvdma_list_add_tail(&w->lru, w->shared ? &p->idle : &p->dead);
	if (!w->shared)
		dead_note(p, w);
}

/*
 * An unshared window still mapped (on the dead list) that holds
 * [gpa, gpa + len) with @perm, or NULL. A request that straddles windows
 * gets one; a frame loop that maps the same buffer again before the next
 * host call would otherwise pay a host call for it every frame.
 */
static struct pvdma_window *dead_probe(struct pvdma_planner *p, u64 gpa,
				       u64 len, u16 perm)
{
	u64 page = PVDMA_ALIGN_DOWN(gpa, p->cfg.page_size);
	u32 i;

	for (i = 0; i < DEAD_PROBES; i++) {
		struct pvdma_window *w = p->dead_hint[dead_slot(p, page, i)];

		if (win_dead(w) && gpa >= w->gpa &&
		    gpa + len - w->gpa <= w->len && !(perm & ~w->perm))
			return w;
	}
	return NULL;
}

/*
 * dead_probe(), but every window a slot may hold is on the dead list:
 * most misses find it empty and need not probe, nor make a call.
 */
static __always_inline struct pvdma_window *
dead_revive(struct pvdma_planner *p, u64 gpa, u64 len, u16 perm)
{
	if (pvdma_list_empty(&p->dead))
		return NULL;
	return dead_probe(p, gpa, len, perm);
}

/*
 * A request takes dead window @w back (dead_revive()). Where it uses only
 * part of it - a registration let go and registered again in smaller
 * pieces, the first at its first page - the rest would stay pinned while
 * that piece lives, beside the windows the later pieces make (l-rereg).
 * So its used range starts again at the request's pages, and the rest is
 * what an end trim gives back once a map needs the room (the need_live
 * list: it holds no speculation, so nothing goes before it is needed).
 */
static struct pvdma_window *dead_take_back(struct pvdma_planner *p,
					   const struct pvdma_seg *seg,
					   u16 perm)
{
	struct pvdma_window *w = dead_revive(p, seg->gpa, seg->len, perm);
	u64 ps = p->cfg.page_size;

	if (!w || !p->cfg.trim || w->grown || w->chunks)
		return w;
	w->used_lo = PVDMA_ALIGN_DOWN(seg->gpa, ps) - w->gpa;
	w->used_hi = PVDMA_ALIGN_UP(seg->gpa + seg->len, ps) - w->gpa;
	if (w->used_hi - w->used_lo < w->len)
		w->need_only = 1;
	return w;
}

/* Idle @w goes: unmapped with the next host call. */
static void win_evict(struct pvdma_planner *p, struct pvdma_window *w)
{
	pvdma_win_release(p, w);
	p->stats.evictions++;
}

static bool evict_one(struct pvdma_planner *p)
{
	struct pvdma_list *list = pvdma_list_empty(&p->dead) ? &p->idle : &p->dead;

	if (pvdma_list_empty(list))
		return false;
	win_evict(p, pvdma_list_entry(list->next, struct pvdma_window, lru));
	return true;
}

/*
 * Idle windows a new area's speculation may take the place of: grown,
 * holding speculation, idle for more than twice the longest wait after
 * which a map used an idle window again (idle_reuse_note()). The idle
 * list is in the order windows went idle, oldest first.
 */
#define SPEC_DEAD_SCAN	64

static bool spec_dead(const struct pvdma_planner *p,
		      const struct pvdma_window *w)
{
	return (u32)(p->stats.map_requests - w->idle_at) > 2 * p->idle_reuse;
}

/*
 * A new area found speculation's budget spent (pvdma_cache_spec_starved())
 * while idle windows no map came back to for long hold it: a driver's
 * old phase (a buffer registered, used and let go) would otherwise keep
 * every later area's windows exact for as long as nothing needs the
 * room (l-rereg then c-context: a host call per 4 KiB page). The dead
 * ones go, oldest first, until the budget holds the window the area
 * wanted, with this call's host call; at most SPEC_DEAD_SCAN looked at.
 * Not once a map was refused for want of aperture (refused_len): the
 * live set presses on the aperture then (pvdma_cache_spec_dead_off()).
 */
static void spec_dead_evict(struct pvdma_planner *p)
{
	struct pvdma_list *pos = p->idle.next, *next;
	u64 want = p->spec_starved;
	u32 scan = SPEC_DEAD_SCAN;

	p->spec_starved = 0;
	if (pvdma_cache_spec_dead_off(p))
		return;
	while (pos != &p->idle && scan-- && pvdma_cache_spec_left(p) < want) {
		struct pvdma_window *w = pvdma_list_entry(pos,
						struct pvdma_window, lru);

		if (!spec_dead(p, w))
			break;
		next = pos->next;
		if (w->grown && pvdma_win_unused(w))
			win_evict(p, w);
		pos = next;
	}
}

void pvdma_cache_spec_starved(struct pvdma_planner *p, u64 want)
{
	p->spec_starved = PVDMA_MAX(p->spec_starved, want);
}

/* ---- planning a miss ------------------------------------------------- */

/*
 * Aperture the call needs: what live mappings pin, this call's new
 * windows counted as the pages they serve (call_need), not as grown
 * (speculation is dropped before anything is evicted for it).
 */
static u64 call_pinned_need(const struct pvdma_planner *p)
{
	return p->stats.pinned_aperture - p->call_new_bytes + p->call_need;
}

/*
 * Does the call, with @extra bytes more, fit the window budget once
 * every idle window is evicted and, where the host trims, the unused
 * parts of windows in use are given back? One test for each miss and
 * for the call as a whole.
 */
static bool fits_need(const struct pvdma_planner *p, u64 need)
{
	u64 budget = pvdma_cache_budget(p);

	return need <= budget ||
	       (p->cfg.trim && need - budget <= p->spec_pinned);
}

static bool cache_fits(const struct pvdma_planner *p, u64 extra)
{
	return fits_need(p, call_pinned_need(p) + extra);
}

/*
 * Would the host refuse a window of @len for bus space? No free range
 * of it holds @len, not even were every idle window unmapped (the
 * commit evicts them for it: call_bus_short()); or the host refused one
 * no longer, nothing was released since and no idle window is left to
 * evict (a host that did not say its bounds, or whose space holds more
 * than this guest's windows). A map that could only fail there costs no
 * host call.
 */
static bool bus_refused_slow(struct pvdma_planner *p, u64 len)
{
	bool none_idle = pvdma_list_empty(&p->idle) &&
			 pvdma_list_empty(&p->dead);

	if (p->bus_refused_len && len >= p->bus_refused_len && none_idle)
		return true;
	if (pvdma_bus_holds(p, len))
		return false;
	return none_idle || !pvdma_bus_holds_unpinned(p, len);
}

static __always_inline bool bus_refused(struct pvdma_planner *p, u64 len)
{
	return (p->bus_refused_len || !pvdma_bus_holds(p, len)) &&
	       bus_refused_slow(p, len);
}

/*
 * Is a window of the call longer than any free bus range? Admission let
 * it in as evicting idle windows frees one (bus_refused()).
 */
static bool call_bus_short(struct pvdma_planner *p)
{
	struct pvdma_list *pos;

	for (pos = p->call_new.next; pos != &p->call_new; pos = pos->next) {
		struct pvdma_window *w = pvdma_list_entry(pos,
							  struct pvdma_window,
							  lru);

		if (!pvdma_bus_holds(p, w->len))
			return true;
	}
	return false;
}

/*
 * Can a new window of @len exact bytes be added? Everything not pinned
 * can be evicted, so only pinned windows and this call's own misses
 * count; the unused parts of pinned grown windows can be trimmed. Returns
 * 0 or the PVDMA_FAIL_* reason. Nothing is trimmed yet: the commit does
 * that once the whole call is admitted, so a map refused later in the
 * pass has changed nothing and costs no host call.
 */
static u32 cache_admit(struct pvdma_planner *p, u64 len)
{
	if (p->stats.pinned_windows + 1 > pvdma_cache_count_budget(p))
		return PVDMA_FAIL_MAPPINGS;
	if (bus_refused(p, len))
		return PVDMA_FAIL_BUS_SPACE;
	if (!cache_fits(p, len))
		return PVDMA_FAIL_APERTURE;
	return 0;
}

/*
 * Clip the grown range [*lo, *hi) so it overlaps no shared window and
 * stays in the guest RAM range holding the request. Returns false if the
 * request itself overlaps a shared window (it then gets a private one).
 */
static bool clip_extent(struct pvdma_planner *p, const struct pvdma_miss *m,
			u64 gpa, u64 *lo, u64 *hi)
{
	u64 ps = p->cfg.page_size, rs, re;

	if (m->prev && m->prev->gpa + m->prev->len > m->lo)
		return false;
	if (m->next && m->next->gpa < m->hi)
		return false;
	if (m->prev && m->prev->gpa + m->prev->len > *lo)
		*lo = m->prev->gpa + m->prev->len;
	if (m->next && m->next->gpa < *hi)
		*hi = m->next->gpa;
	if (p->ops->ram_range && p->ops->ram_range(p->ctx, gpa, &rs, &re)) {
		*lo = PVDMA_MAX(*lo, PVDMA_MIN(PVDMA_ALIGN_UP(rs, ps), m->lo));
		*hi = PVDMA_MIN(*hi, PVDMA_MAX(PVDMA_ALIGN_DOWN(re, ps), m->hi));
	}
	return true;
}

static bool win_overlaps(const struct pvdma_window *w, u64 lo, u64 hi)
{
	return w && w->gpa < hi && w->gpa + w->len > lo;
}

/*
 * @w gives its place in the index to a window that holds all of it: its
 * users keep it, unshared, as they would a private window (it goes with
 * the next host call once the last lets go), and lookups find the new one.
 */
static void win_unshare(struct pvdma_planner *p, struct pvdma_window *w)
{
	pvdma_gpa_remove(p, w);
	if (w->state == PVDMA_WIN_IDLE) {
		pvdma_list_del(&w->lru);
		pvdma_list_add_tail(&w->lru, &p->dead);
	}
}

/*
 * Would a window of @len superseding the windows @m overlaps cost more
 * than it may? It maps their bytes a second time while their users hold
 * them, speculation as much as a grown window's unused bytes are: at
 * most as much again as the miss, or what a first window may take of
 * the speculation left. With twice the miss alone, a ring's slots
 * mapped again over the pieces trims left of a larger window (shmring
 * with its lists' hidden entries where their unmaps show them) each got
 * a private window, and a host call, every time.
 */
static bool win_supersede_costs(const struct pvdma_planner *p,
				const struct pvdma_miss *m, u64 len)
{
	u64 extra = len - (m->hi - m->lo);

	return extra > m->hi - m->lo &&
	       extra > pvdma_cache_spec_left(p) >> p->cfg.headroom_shift;
}

/*
 * May a miss supersede the windows it overlaps (@a, @b, NULL if not
 * one) under pressure too, [@ulo, @uhi) holding them all? Where they
 * are idle: nothing is mapped twice while users hold it (they go with
 * this call's batch), so it costs only the bytes beyond the miss, which
 * the next map of that memory cut at other boundaries hits (imports of
 * one host region overlapping at other cuts, vkimport: a private window
 * and a host call every time). Not where they lie inside the miss: it
 * gains nothing beyond its own window. Not once a map was refused for
 * want of aperture (refused_len): there what a window holds beyond its
 * buffers may be the room a later map lacks.
 */
static bool win_supersede_idle(const struct pvdma_planner *p,
			       const struct pvdma_miss *m,
			       const struct pvdma_window *a,
			       const struct pvdma_window *b, u64 ulo, u64 uhi)
{
	return (!a || !a->refs) && (!b || !b->refs) && !p->refused_len &&
	       (ulo < m->lo || uhi > m->hi);
}

/*
 * A miss that overlaps the shared windows beside it (@a before it, @b
 * after it: @m's neighbours) would get a private exact window, gone
 * with the next host call, and pay again the next time the driver maps
 * that memory cut at other boundaries (a ring's slots registered again,
 * slices of an array). While the aperture is mostly free, a window
 * holding the miss and the windows it overlaps may take their place in
 * the index instead, if what it maps twice is not too much
 * (win_supersede_costs()); under pressure too where those are idle
 * (win_supersede_idle()): then what they held and the miss are hits
 * from now on. Only mapped windows give way, not this call's own (still
 * pending).
 */
static bool win_supersede(struct pvdma_planner *p, const struct pvdma_miss *m,
			  struct pvdma_window *a, struct pvdma_window *b,
			  u64 *lo, u64 *hi)
{
	struct pvdma_window *after;
	u64 ulo = m->lo, uhi = m->hi;

	if (!win_overlaps(a, m->lo, m->hi))
		a = NULL;
	if (!win_overlaps(b, m->lo, m->hi))
		b = NULL;
	if ((a && a->state == PVDMA_WIN_PENDING) ||
	    (b && b->state == PVDMA_WIN_PENDING))
		return false;
	if (a) {
		ulo = a->gpa;
		uhi = PVDMA_MAX(uhi, a->gpa + a->len);
	}
	if (b) {
		uhi = PVDMA_MAX(uhi, b->gpa + b->len);
		after = pvdma_gpa_next(b);
		if (win_overlaps(after, ulo, uhi))
			return false;	/* a third window: leave it */
	}
	if (!win_supersede_idle(p, m, a, b, ulo, uhi) &&
	    (win_supersede_costs(p, m, uhi - ulo) ||
	     !pvdma_cache_mostly_free(p)))
		return false;
	if (uhi - ulo > m->room || bus_refused(p, uhi - ulo) ||
	    cache_admit(p, uhi - ulo))
		return false;
	if (a)
		win_unshare(p, a);
	if (b)
		win_unshare(p, b);
	*lo = ulo;
	*hi = uhi;
	return true;
}

/*
 * Idle windows wholly inside a miss's grown range [@lo, @hi), beside it,
 * give way to it rather than cut it: the grown window serves every page
 * they held, so the hits they were kept for still hit, and a new area
 * laid over an old phase's small windows (a context's pages among the
 * pages of heaps since let go) gets the window its speculation sized,
 * not one cut to each gap between them. Those nearest the miss first,
 * at most SWALLOW_MAX a side; not once a map was refused for want of
 * aperture (refused_len), as win_supersede_idle(), nor for a policy
 * that must not adapt (the fixed block). Here only looked
 * at: @m's neighbours become the first windows that stay, and
 * swallow_commit() takes the others out once the range is kept.
 */
#define SWALLOW_MAX	64

static bool swallowed(const struct pvdma_window *w, u64 lo, u64 hi)
{
	return w && w->state == PVDMA_WIN_IDLE && w->gpa >= lo &&
	       w->gpa + w->len <= hi;
}

static void swallow_idle(struct pvdma_planner *p, struct pvdma_miss *m,
			 u64 lo, u64 hi)
{
	struct pvdma_window *a = (struct pvdma_window *)m->prev;
	struct pvdma_window *b = (struct pvdma_window *)m->next;
	u32 n;

	if (!p->policy->swallows_idle || p->refused_len ||
	    (lo == m->lo && hi == m->hi))
		return;
	for (n = 0; n < SWALLOW_MAX && swallowed(a, lo, m->lo); n++)
		a = pvdma_gpa_prev(a);
	for (n = 0; n < SWALLOW_MAX && swallowed(b, m->hi, hi); n++)
		b = pvdma_gpa_next(b);
	m->prev = a;
	m->next = b;
}

/*
 * The window [@lo, @hi) is kept: the idle windows between @m's old
 * neighbours (@prev, @next as the lookup found them) and its new ones
 * leave the index. True if any did.
 */
static bool swallow_commit(struct pvdma_planner *p,
			   const struct pvdma_miss *m,
			   struct pvdma_window *prev,
			   struct pvdma_window *next)
{
	struct pvdma_window *x;
	bool any = false;

	while (prev && prev != m->prev) {
		x = pvdma_gpa_prev(prev);
		win_unshare(p, prev);
		prev = x;
		any = true;
	}
	while (next && next != m->next) {
		x = pvdma_gpa_next(next);
		win_unshare(p, next);
		next = x;
		any = true;
	}
	return any;
}

/* A record for a new window; idle windows give theirs up if need be. */
static struct pvdma_window *cache_win_alloc(struct pvdma_planner *p)
{
	struct pvdma_window *w = pvdma_win_alloc(p);

	while (!w && evict_one(p))
		w = pvdma_win_alloc(p);
	return w;
}

/*
 * Miss @m got a private window: it straddles the top of @prev, a grown
 * window an earlier call made, from inside it. Where @prev is a stream's
 * last window, the stream's next window [prev's end, ...) is mapped in
 * the same host call (the policy's read_ahead), so the next buffers hit
 * it: a stream of buffers whose stride does not divide its windows pays
 * one host call a step, not two (the straddler's, then the next
 * buffer's). Only for a call's last entry: no later entry can hit a
 * window still pending. Pure speculation, with no entry in it: it holds
 * no reference, is not on call_new (what the call needs is its entries'),
 * is dropped first if the call does not fit (older speculation may give
 * way to it first: spec_gives_way()) and idles after the call
 * (ahead_settle()). Its used range is the straddler's part of it. Exact
 * windows (a buffer mapped again, larger) are no stream's, and a
 * straddler that covers all of @prev continues nothing.
 */
static void plan_ahead(struct pvdma_planner *p, const struct pvdma_miss *m,
		       struct pvdma_window *prev, struct pvdma_window *next)
{
	struct pvdma_miss a = *m;
	struct pvdma_window *w;
	u64 lo, hi, room;

	if (!p->policy->read_ahead || p->cfg.strict || p->call_exact ||
	    p->call_ahead || m->i + 1 != m->n || !prev || !prev->grown ||
	    prev->state == PVDMA_WIN_PENDING)
		return;		/* an exact window is no stream's */
	a.lo = prev->gpa + prev->len;
	if (m->lo <= prev->gpa || a.lo <= m->lo || a.lo >= m->hi)
		return;		/* it does not continue @prev past its top */
	/* the next buffer, likely as long, lies just past it: the window
	 * must hold that too (buffers longer than its part beyond @prev's
	 * end missed a window sized from that part alone)
	 */
	a.hi = m->hi + (m->hi - m->lo);
	if (a.hi < m->hi)
		return;
	a.room = m->room - PVDMA_MIN(m->room, m->hi - m->lo);
	a.idle_room = m->idle_room - PVDMA_MIN(m->idle_room, m->hi - m->lo);
	lo = a.lo;
	hi = a.hi;
	p->miss_over_idle = false;
	p->policy->read_ahead(p, &a, &lo, &hi);
	room = p->miss_over_idle ? a.idle_room : a.room;
	if (!clip_extent(p, &a, a.lo, &lo, &hi) || hi - lo <= a.hi - a.lo ||
	    hi - lo > room || bus_refused(p, hi - lo))
		return;
	w = pvdma_win_alloc(p);		/* no eviction for speculation */
	if (!w)
		return;
	w->gpa = lo;
	w->len = hi - lo;
	w->grown = 1;
	if (win_grown_wants_chunks(p, w))
		pvdma_chunks_attach(p, w, false);
	w->used_hi = m->hi - lo;
	w->perm = PVDMA_MAP_READ | PVDMA_MAP_WRITE;
	pvdma_gpa_insert_near(p, w, prev, next);
	pvdma_win_account_map(p, w);
	p->call_ahead = w;
	p->call_over_idle += p->miss_over_idle && w->len > a.room;
	pvdma_spec_note(p, true);
}

/*
 * May a miss's growth take the place of idle windows, evicted oldest first
 * at the commit? Where the policy says so, while live mappings pin under a
 * quarter of the window budget: the idle windows are then most of the
 * aperture, a pool's leftovers more than a working set, and counting only
 * free space as room left every miss an exact window and a host call of
 * its own (k-regbatch at 3 GiB: 747 exact windows, 712 with under 64 MiB
 * free). Near a full aperture the idle windows are the cache that still
 * hits, and growth gives way to them as before.
 */
static bool growth_evicts(const struct pvdma_planner *p)
{
	return p->policy->growth_evicts &&
	       p->stats.pinned_aperture < pvdma_cache_budget(p) >> 2;
}

/*
 * Room for a miss's window: the budget less what is held, or less only
 * what live mappings pin where growth may evict (growth_evicts()); what the
 * unused parts of windows in use can give back (trimmed at the commit) is
 * room too.
 */
static u64 miss_room(const struct pvdma_planner *p, u64 budget)
{
	u64 held = growth_evicts(p) ? p->stats.pinned_aperture :
				      pvdma_cache_bytes(p);

	return budget + p->spec_pinned > held ?
	       budget + p->spec_pinned - held : 0;
}

/*
 * Room for a stream's next window: the budget less only what live
 * mappings pin, the idle windows evicted oldest first at the commit
 * for it (pvdma_cache_over_idle()). A stream is evidence, not a guess:
 * the buffers it maps next are as good as mapped, an idle window may
 * never be hit again (left to free space alone near a full aperture,
 * a stream of 1 MiB buffers beside idle staging windows paid a host
 * call a buffer, where a fixed block evicted its oldest blocks). Not
 * once a map was refused for want of aperture (refused_len): the live
 * set has been over it, and what a stream's window holds beyond its
 * buffers may be the room a later map lacks.
 */
static u64 idle_room(const struct pvdma_planner *p)
{
	u64 budget = pvdma_cache_budget(p);

	if (!p->policy->growth_evicts || p->refused_len)
		return 0;
	return budget + p->spec_pinned > p->stats.pinned_aperture ?
	       budget + p->spec_pinned - p->stats.pinned_aperture : 0;
}

/* The window the policy's grow op chose for this miss is a stream's,
 * sized over idle windows (struct pvdma_miss's idle_room).
 */
void pvdma_cache_over_idle(struct pvdma_planner *p)
{
	p->miss_over_idle = true;
}

/* Plan a new window for @seg (not queued yet: that waits for the pass). */
static struct pvdma_window *cache_new_window(struct pvdma_planner *p,
					     const struct pvdma_seg *segs,
					     u32 i, u32 n, u16 perm,
					     struct pvdma_window *prev,
					     u32 *reason)
{
	const struct pvdma_seg *seg = &segs[i];
	u64 ps = p->cfg.page_size, lo, hi;
	struct pvdma_miss m = {
		.segs = segs, .i = i, .n = n,
		.lo = PVDMA_ALIGN_DOWN(seg->gpa, ps),
		.hi = PVDMA_ALIGN_UP(seg->gpa + seg->len, ps),
		.room = miss_room(p, pvdma_cache_budget(p)),
		.idle_room = idle_room(p),
		.prev = prev,
	};
	struct pvdma_window *w, *next;
	u64 evictions = p->stats.evictions, room;
	bool shared, near = true;

	*reason = cache_admit(p, m.hi - m.lo);
	if (*reason)
		return NULL;
	if (prev && prev == p->gpa_cursor)
		next = p->gpa_cursor_next;	/* still its neighbour */
	else
		next = prev ? pvdma_gpa_next(prev) : pvdma_gpa_first(p);
	m.next = next;
	lo = m.lo;
	hi = m.hi;
	/* a window larger than the room is cut back to the request below:
	 * with no room beyond its own pages there is nothing to grow
	 */
	p->miss_over_idle = false;
	if (!p->cfg.strict && !p->call_exact &&
	    PVDMA_MAX(m.room, m.idle_room) > m.hi - m.lo) {
		p->policy->grow(p, &m, &lo, &hi);
		if (!p->miss_over_idle && m.room <= m.hi - m.lo) {
			lo = m.lo;	/* no room but a stream's */
			hi = m.hi;
		}
	}
	room = p->miss_over_idle ? m.idle_room : m.room;
	swallow_idle(p, &m, lo, hi);
	shared = clip_extent(p, &m, seg->gpa, &lo, &hi);
	if (!shared && win_supersede(p, &m, prev, next, &lo, &hi)) {
		shared = true;
		near = false;	/* its neighbours left the index */
	} else if (!shared || hi - lo > room || bus_refused(p, hi - lo)) {
		lo = m.lo;
		hi = m.hi;
		m.prev = prev;	/* none gave way */
		m.next = next;
	} else if (swallow_commit(p, &m, prev, next)) {
		near = false;	/* its neighbours left the index */
	}
	w = cache_win_alloc(p);
	if (!w) {
		*reason = PVDMA_FAIL_NO_RECORDS;
		return NULL;
	}
	w->gpa = lo;
	w->len = hi - lo;
	w->grown = w->len > m.hi - m.lo;
	if (win_grown_wants_chunks(p, w))
		pvdma_chunks_attach(p, w, true);
	else if (w->grown && p->cfg.trim &&
		 w->len >= PVDMA_CHUNK_SHARED_PAGES * ps)
		win_holes_attach(p, w, &m);
	w->returned = !shared && request_returned(p, lo, w->len);
	w->used_lo = m.lo - lo;
	w->used_hi = m.hi - lo;
	w->perm = p->cfg.strict ? perm : PVDMA_MAP_READ | PVDMA_MAP_WRITE;
	if (shared) {
		/* the neighbours the lookup found, unless an eviction for
		 * the record took one out
		 */
		if (!near || evictions != p->stats.evictions)
			pvdma_gpa_insert(p, w);
		else if (pvdma_gpa_insert_near(p, w, prev, next))
			pvdma_gpa_cursor_set(p, w, next);
		p->hint[hint_bucket(seg->gpa)] = w;
	}
	pvdma_win_account_map(p, w);
	pvdma_list_add_tail(&w->lru, &p->call_new);
	p->call_new_bytes += w->len;
	p->call_longest = PVDMA_MAX(p->call_longest, w->len);
	p->call_need += m.hi - m.lo;
	p->call_new_count++;
	p->call_grown += w->grown;
	p->call_over_idle += p->miss_over_idle && w->len > m.room;
	if (w->grown)
		pvdma_spec_note(p, true);
	if (!p->call_exact)	/* the refused pass noted it */
		pvdma_cache_note_miss(p, seg->gpa, m.hi - m.lo);
	pvdma_trim_note_miss(p, seg->gpa);
	if (!shared && evictions == p->stats.evictions)
		plan_ahead(p, &m, prev, next);
	return w;
}

/*
 * With bounce allowed, a small map is better served by the pool than by a
 * window of its own once no speculation is left to grow one around it or
 * the window space is three quarters full: the pool packs it without
 * 16 KiB rounding and costs no host call.
 */
static bool bounce_preferred(const struct pvdma_planner *p, u64 len, u32 attrs)
{
	u64 budget = pvdma_cache_budget(p);

	if (!pvdma_bounce_allowed(p, len, attrs) || len > p->cfg.page_size)
		return false;
	return pvdma_pow2_floor(pvdma_cache_spec_left(p) >>
				p->cfg.headroom_shift) <= p->cfg.page_size ||
	       pvdma_cache_bytes(p) > budget - (budget >> 2);
}

/* seg->cookie during a call: window index + 1, or 0 if bounced. */
static struct pvdma_window *seg_window(struct pvdma_planner *p,
				       const struct pvdma_seg *seg)
{
	return seg->cookie ? &p->mem.windows[seg->cookie - 1] : NULL;
}

/*
 * The window holding @seg now: a trim later in the call may have split
 * the one it was planned in, its record keeping the first piece (the
 * pieces keep its bus - gpa offset). Where @seg lies, not the record's
 * state, says which: an undo that puts the first piece's mappings may
 * already have made it idle when it reaches a segment of another piece.
 */
static struct pvdma_window *seg_window_now(struct pvdma_planner *p,
					   const struct pvdma_seg *seg)
{
	struct pvdma_window *w = seg_window(p, seg);

	if (!w || w->state == PVDMA_WIN_PENDING ||
	    w->state == PVDMA_WIN_FAILED ||
	    (seg->gpa >= w->gpa && seg->gpa - w->gpa < w->len))
		return w;
	return pvdma_bus_find(p, w->bus + (seg->gpa - w->gpa));
}

/*
 * The use of @w by mappings in [lo, hi), as win_use(); a window this call
 * made keeps the range between the entries it serves: what that adds is
 * needed too.
 */
static __always_inline void win_use_call(struct pvdma_planner *p,
					 struct pvdma_window *w, u64 lo,
					 u64 hi, u64 live, u64 taken)
{
	u64 span = w->used_hi - w->used_lo;

	win_use(p, w, lo, hi, live, taken);
	if (w->state == PVDMA_WIN_PENDING) {
		span = w->used_hi - w->used_lo - span;
		p->call_need += span;
		p->call_span_need += span;
	}
}

/*
 * @seg hits @w: what a hit counts before it holds its window. This and
 * the helpers a hit runs (win_hold(), seg_use(), win_use_call(),
 * win_use()) are always inline: the hit path and the pass call each, and
 * out of line they cost a hit a call and its register saves.
 */
static __always_inline void hit_note(struct pvdma_planner *p,
				     struct pvdma_window *w,
				     const struct pvdma_seg *seg)
{
	p->stats.hits++;
	if (w->whole || (!w->refs && !w->chunks && !w->grown))
		win_share(p, w, seg);
	if (spec_hit_counts(p, w))
		pvdma_spec_note(p, false);
	spec_list_touch(p, w);
}

/* @seg's own use of @w (one that counts use), applied at once. */
static __always_inline void seg_use(struct pvdma_planner *p,
				    struct pvdma_window *w,
				    const struct pvdma_seg *seg)
{
	u64 ps = p->cfg.page_size, lo, hi, taken = 0;

	lo = PVDMA_ALIGN_DOWN(seg->gpa - w->gpa, ps);
	hi = PVDMA_MIN(PVDMA_ALIGN_UP(seg->gpa + seg->len - w->gpa, ps), w->len);
	if (w->chunks)
		taken = pvdma_chunks_add(w, seg->gpa - w->gpa, seg->len);
	win_use_call(p, w, lo, hi, hi - lo, taken);
}

/*
 * @seg, a hit or a miss, uses @w: a run starts with it. Its own use is
 * applied at once, as a single map's is; only the entries that join the
 * run wait for run_end(). @open: would win_holds() take @w for a range it
 * spans (the caller knows: how it found @w says)? Nothing changes that
 * until the run ends, so the entries that join need not ask again; if
 * not, none may join.
 */
static __always_inline void run_begin(struct pvdma_planner *p,
				      struct hit_run *r, struct pvdma_window *w,
				      const struct pvdma_seg *seg, bool open)
{
	win_hold(p, w);
	r->w = open ? w : NULL;
	r->cookie = pvdma_win_index(p, w) + 1;
	r->more = 0;
	if (!win_counts_use(w))
		return;
	run_sums_start(r);	/* the entries that join count theirs */
	seg_use(p, w, seg);
}

/*
 * Entry @seg, at @off in the run's window, joins the run: what the pass
 * writes for it. A pending window's bus address (@mapped false) comes
 * with the host's answer.
 */
static __always_inline void run_join_seg(struct pvdma_seg *seg, u32 cookie,
					 u64 off, bool mapped, u64 bus)
{
	seg->bounced = 0;
	seg->cookie = cookie;
	seg->dev_gpa = seg->gpa;
	if (mapped)
		seg->bus = bus + off;
}

/*
 * Of win_holds() only the range is asked of an entry: run_begin() knows
 * the rest. An entry lies in the window (off, len > 0) only if this holds.
 */
static __always_inline bool run_holds(u64 off, u64 len, u64 wlen)
{
	u64 end = off + len;

	/* an entry below the window, or of no bytes, ends at or before
	 * its start (wrapped)
	 */
	return end - 1 < wlen && off < end;
}

/*
 * run_extend() for a window that counts use: each entry's page-rounded
 * range and bytes join the run's, its chunks (@chunks: the window has a
 * chunk map) are counted with the run's others in the same chunk (a
 * chunk is taken by the first mapping that touches it, whichever that
 * is). The sums and the chunk batch are locals across the entries,
 * stored once.
 */
static __always_inline u32 run_extend_counted(struct pvdma_planner *p,
					      struct hit_run *r,
					      struct pvdma_seg *segs, u32 i,
					      u32 n, bool mapped, bool chunks,
					      u64 *bytes)
{
	struct pvdma_window *w = r->w;
	struct pvdma_chunk_batch b = { .n = 0 };
	u64 base = w->gpa, wlen = w->len, bus = w->bus, ps = p->cfg.page_size;
	u64 lo = r->lo, hi = r->hi, live = r->live, taken = 0, sum = 0;
	struct pvdma_seg *seg, *end = &segs[n];

	if (chunks)
		b = r->batch;
	/* by pointer, the index worked out once at the end: one value
	 * less for a loop short of registers
	 */
	for (seg = &segs[i]; seg < end; seg++) {
		u64 off = seg->gpa - base, len = seg->len, elo, ehi;

		if (!run_holds(off, len, wlen))
			break;
		run_join_seg(seg, r->cookie, off, mapped, bus);
		sum += len;
		elo = PVDMA_ALIGN_DOWN(off, ps);
		ehi = PVDMA_MIN(PVDMA_ALIGN_UP(off + len, ps), wlen);
		lo = PVDMA_MIN(lo, elo);
		hi = PVDMA_MAX(hi, ehi);
		live += ehi - elo;
		if (chunks)
			taken += pvdma_chunks_add_run(w, &b, off, len);
	}
	if (chunks)
		r->batch = b;
	r->lo = lo;
	r->hi = hi;
	r->live = live;
	r->taken += taken;
	*bytes += sum;
	return (u32)(seg - segs);
}

/*
 * The entries from segs[@i] on that lie in the run's window join it, no
 * lookup each; the first that does not, or @n. One loop for all of them:
 * what every entry of the run shares (the window's range, its bus
 * address, whether it counts use) is read once, not per entry, and the
 * run's sums stay in registers (a list's run lives in memory across the
 * pass's loop). @bytes: their lengths added.
 */
static u32 run_extend(struct pvdma_planner *p, struct hit_run *r,
		      struct pvdma_seg *segs, u32 i, u32 n, u64 *bytes)
{
	struct pvdma_window *w = r->w;
	u64 base, wlen, bus, sum = 0;
	u32 from = i;
	bool mapped;

	mapped = w->state != PVDMA_WIN_PENDING;
	/* the longest loop (a chunk map's) takes @mapped as a constant: one
	 * loop for each, no test per entry
	 */
	if (w->chunks && mapped) {
		i = run_extend_counted(p, r, segs, i, n, true, true, bytes);
	} else if (w->chunks) {
		i = run_extend_counted(p, r, segs, i, n, false, true, bytes);
	} else if (w->grown) {
		i = run_extend_counted(p, r, segs, i, n, mapped, false, bytes);
	} else {
		base = w->gpa;
		wlen = w->len;
		bus = w->bus;
		for (; i < n; i++) {
			struct pvdma_seg *seg = &segs[i];
			u64 off = seg->gpa - base;

			if (!run_holds(off, seg->len, wlen))
				break;
			run_join_seg(seg, r->cookie, off, mapped, bus);
			sum += seg->len;
		}
		*bytes += sum;
	}
	r->more += i - from;
	return i;
}

/*
 * @seg lies in the run's window: it joins the run, no lookup, its sums
 * added to the run's as they are. The first entries of a run join so:
 * most runs of a list with misses are short, and the loop's set-up
 * (run_extend()) would cost them more than it saves.
 */
static bool run_extend_one(struct pvdma_planner *p, struct hit_run *r,
			   struct pvdma_seg *seg)
{
	struct pvdma_window *w = r->w;
	u64 off, ps = p->cfg.page_size, lo, hi;

	if (!w)
		return false;
	off = seg->gpa - w->gpa;
	if (!run_holds(off, seg->len, w->len))
		return false;
	run_join_seg(seg, r->cookie, off, w->state != PVDMA_WIN_PENDING,
		     w->bus);
	r->more++;
	if (!win_counts_use(w))
		return true;
	lo = PVDMA_ALIGN_DOWN(off, ps);
	hi = PVDMA_MIN(PVDMA_ALIGN_UP(off + seg->len, ps), w->len);
	r->lo = PVDMA_MIN(r->lo, lo);
	r->hi = PVDMA_MAX(r->hi, hi);
	r->live += hi - lo;
	if (w->chunks)
		r->taken += pvdma_chunks_add_run(w, &r->batch, off, seg->len);
	return true;
}

/* Apply what the entries that joined the run deferred. */
static void run_apply(struct pvdma_planner *p, struct hit_run *r)
{
	struct pvdma_window *w = r->w;

	if (w->chunks)
		r->taken += pvdma_chunks_flush(w, &r->batch, 1);

	/* each found by no lookup, in the window of the entry before */
	p->stats.fast_lookups += r->more;
	p->stats.run_hits += r->more;
	p->stats.hits += r->more;
	w->whole = 0;		/* more than one mapping now */
	if (spec_hit_counts(p, w))
		pvdma_spec_note_hits(p, r->more);
	w->refs += r->more;	/* held already: only the count moves */
	if (win_counts_use(w))
		win_use_call(p, w, r->lo, r->hi, r->live, r->taken);
}

static void run_end(struct pvdma_planner *p, struct hit_run *r)
{
	if (r->w && r->more)
		run_apply(p, r);
	r->w = NULL;
}

/* p->call_exact: a refused pass would fit better exact; the exact pass */
#define CALL_EXACT_WORTH	1
#define CALL_EXACT_PASS		2

/*
 * The call is refused at admission for @reason, @extra bytes more than
 * it planned: would exact windows need less? Only if some of its windows
 * were grown and the aperture, not the mapping count, ran short - and
 * if the least an exact pass needs up to here fits. That least is the
 * pages the misses asked for: neither growth nor the range a window
 * keeps between the entries it serves (call_span_need) is needed exact,
 * and an entry that hit such a window needs its own pages then. Where
 * even that does not fit (offload: every refused list), the exact pass
 * would be refused at the same entry or before, for its whole cost.
 */
static void cache_refused(struct pvdma_planner *p, u32 reason, u64 extra)
{
	if (p->policy->retry_exact && !p->call_exact &&
	    reason == PVDMA_FAIL_APERTURE && p->call_grown &&
	    fits_need(p, call_pinned_need(p) - p->call_span_need + extra))
		p->call_exact = CALL_EXACT_WORTH;
}

/*
 * Miss @seg got no window for @reason (and may not bounce): what the
 * pass counts and reports. One rule for the pass and a single map
 * refused before it (cache_map_refused()).
 */
static void miss_refused(struct pvdma_planner *p, const struct pvdma_seg *seg,
			 u32 reason)
{
	u64 ps = p->cfg.page_size;

	if (reason != PVDMA_FAIL_NO_RECORDS)
		p->stats.admission_refusals++;
	cache_refused(p, reason, PVDMA_ALIGN_UP(seg->gpa + seg->len, ps) -
			      PVDMA_ALIGN_DOWN(seg->gpa, ps));
	pvdma_plan_fail(p, reason, seg->len, 0);
}

/* Route one segment to a window (hit or new; a run starts with it) or
 * the bounce pool. @floor, if not NULL: the hit path looked the entry up
 * already, found no window that holds it, and its descent ended at
 * *@floor (cache_map_hit()); a miss does not descend twice.
 */
static int cache_plan_seg(struct pvdma_planner *p, struct pvdma_seg *segs,
			  u32 i, u32 n, enum pvdma_dir dir, u16 perm, u32 attrs,
			  struct hit_run *run, struct pvdma_window *const *floor)
{
	struct pvdma_seg *seg = &segs[i];
	struct pvdma_window *w, *prev = NULL;
	bool open = true;	/* win_holds() takes @w: a lookup's answer */
	u32 reason;

	seg->bounced = 0;
	seg->cookie = 0;
	w = floor ? NULL : cache_hinted(p, seg->gpa, seg->len, perm);
	if (!w) {
		if (!pvdma_seg_valid(p, seg)) {
			pvdma_plan_fail(p, PVDMA_FAIL_INVALID, seg->len, 0);
			return -EINVAL;
		}
		if (floor)
			prev = *floor;
		else
			w = cache_lookup(p, seg->gpa, seg->len, perm, &prev);
	}
	if (!w) {
		w = dead_take_back(p, seg, perm);
		open = false;	/* unshared */
	}
	if (w) {
		hit_note(p, w, seg);
	} else {
		p->stats.misses++;
		if (bounce_preferred(p, seg->len, attrs) &&
		    !pvdma_bounce_map(p, seg, dir))
			return 0;
		/* the hint missed: the descent found the window before */
		w = cache_new_window(p, segs, i, n, perm, prev, &reason);
		if (!w) {
			if (pvdma_bounce_allowed(p, seg->len, attrs))
				return pvdma_bounce_map(p, seg, dir);
			miss_refused(p, seg, reason);
			return -ENOSPC;
		}
		/* in the index or private; with the call's permissions or
		 * more (cache_new_window())
		 */
		open = w->shared;
	}
	run_begin(p, run, w, seg, open);
	seg->cookie = run->cookie;
	seg->dev_gpa = seg->gpa;	/* a bounce's is its slot */
	if (w->state != PVDMA_WIN_PENDING)
		seg->bus = w->bus + (seg->gpa - w->gpa);
	return 0;
}

/* ---- committing the call's windows ----------------------------------- */

/* Take a planned window back to its used range: speculation dropped. */
static void shrink_to_used(struct pvdma_planner *p, struct pvdma_window *w)
{
	bool shared = w->shared;

	if (!w->grown)
		return;
	struct pvdma_window old = *w;

	pvdma_win_account_unmap(p, w);
	p->call_new_bytes -= w->len;
	w->chunks = NULL;
	if (shared) {
		pvdma_gpa_shrink(p, w, w->gpa + w->used_lo,
				 w->used_hi - w->used_lo);
	} else {
		w->gpa += w->used_lo;
		w->len = w->used_hi - w->used_lo;
	}
	w->used_hi -= w->used_lo;
	w->used_lo = 0;
	w->grown = 0;
	/* the entries it serves keep their chunks: what goes, a trim takes */
	if (old.chunks)
		pvdma_piece_chunks(p, old.chunks, w, old.used_lo);
	pvdma_chunks_detach(p, &old);
	pvdma_win_account_map(p, w);
	p->call_new_bytes += w->len;
}

/*
 * Room kept for smaller maps. Every failed map counts the same whatever
 * its size, and where the aperture stays full the bytes a big map pins
 * are bytes the next smaller maps lack: one big map admitted near full
 * fails the several smaller ones its room would have held. So once maps
 * are refused for want of aperture, a call that fits but would leave
 * less room than it takes is refused at admission too (no host call),
 * if it is big beside the maps it would crowd out: more than twice the
 * shortest map refused since the aperture's contents last turned over,
 * or (crowds_typical()) more than half the typical call while the
 * aperture is more than half pinned and the driver gave back less than
 * the call needs since. Maps all of one size (large registrations in
 * turn, each unmapped before the next) trade one for one, and with no
 * refusal nothing changes: a live set that fits never meets it. Not with
 * a bounce pool: there the smaller maps bounce, and a map refused here
 * would fail where it fitted.
 */
#define KEEP_SEEN	16	/* calls the running mean needs: its horizon */

/* What recent calls needed: log2 x16, a running mean of weight 1/16. */
static void note_call_need(struct pvdma_planner *p)
{
	u64 log = (u64)(63 - __builtin_clzll(p->call_need)) << 4;

	if (p->need_calls < KEEP_SEEN)
		p->need_calls++;
	if (!p->need_log_mean)
		p->need_log_mean = log;
	else if (log >= p->need_log_mean)
		p->need_log_mean += (log - p->need_log_mean) >> 4;
	else
		p->need_log_mean -= (p->need_log_mean - log) >> 4;
	/* the aperture less than half pinned: nothing crowds it */
	if (2 * (p->stats.pinned_aperture - p->call_new_bytes) <
	    pvdma_cache_budget(p))
		p->crowd_released = p->released_bytes;
}

/* What recent calls typically needed: 2^(mean log2), its fraction
 * interpolated.
 */
static u64 typical_need(const struct pvdma_planner *p)
{
	return ((16 + (p->need_log_mean & 15)) << (p->need_log_mean >> 4)) >> 4;
}

static bool crowds_typical(const struct pvdma_planner *p, u64 room)
{
	u64 need = p->call_need, budget = pvdma_cache_budget(p);

	if (p->need_calls < KEEP_SEEN || 2 * room >= budget ||
	    p->released_bytes - p->crowd_released >= need)
		return false;
	return 2 * need > typical_need(p);
}

/*
 * Do crowding maps crowd anything out? Room kept pays only if a map that
 * leaves less room than it takes holds it while smaller maps are
 * refused; a staging buffer mapped for one copy and unmapped at once
 * crowds out nothing, and refused for room it fails where rfc maps it.
 * So one crowding map at a time is watched (the first map of the call):
 * unmapped with no refusal for want of aperture meanwhile, it counts
 * for transient; unmapped after one, or still live KEEP_SEEN map calls
 * later, for staying. Room is kept while staying has not lost the
 * tally (saturating at +-CROWD_TALLY: a change of workload turns it
 * within a few probes).
 */
#define CROWD_TALLY	4

static void crowd_tally(struct pvdma_planner *p, int vote)
{
	p->crowd_probe.at = 0;
	if (p->crowd_tally + vote >= -CROWD_TALLY &&
	    p->crowd_tally + vote <= CROWD_TALLY)
		p->crowd_tally += vote;
}

static void crowd_probe_start(struct pvdma_planner *p,
			      const struct pvdma_seg *segs)
{
	if (p->crowd_probe.at)
		return;
	p->crowd_probe.gpa = segs[0].gpa;
	p->crowd_probe.refusals = p->aperture_refusals;
	p->crowd_probe.at = p->stats.map_requests;
}

static void crowd_probe_age(struct pvdma_planner *p)
{
	if (p->crowd_probe.at &&
	    p->stats.map_requests - p->crowd_probe.at > KEEP_SEEN)
		crowd_tally(p, -1);
}

static void crowd_probe_unmap(struct pvdma_planner *p,
			      const struct pvdma_seg *segs)
{
	bool refused;

	if (!p->crowd_probe.at || segs[0].gpa != p->crowd_probe.gpa)
		return;
	refused = p->aperture_refusals != p->crowd_probe.refusals;
	crowd_tally(p, refused ? -1 : 1);
}

/* The aperture the call would find free, trimmable speculation counted. */
static u64 call_room(const struct pvdma_planner *p)
{
	u64 budget = pvdma_cache_budget(p);
	u64 held = call_pinned_need(p) - p->call_need;

	if (p->cfg.trim)	/* trimmable speculation is room */
		held -= PVDMA_MIN(held, p->spec_pinned);
	return budget - PVDMA_MIN(budget, held);
}

/* Does the call fit but leave less room than it takes? */
static bool call_crowds(const struct pvdma_planner *p, u64 room)
{
	return p->call_need <= room && room - p->call_need < p->call_need;
}

/*
 * Before any refusal: does the call fit only by punching the holes of
 * windows grown over their lists' holes (hole_pinned), and is it big
 * beside the typical call (more than twice it)? The holes hold room
 * that a window without them could not give back: it goes to the maps
 * the workload usually makes, not to one big map that fills the
 * aperture for the many smaller ones after it (h-keep at 512 MiB: its
 * 32 MiB map #79 admitted on punched holes, then every map failed
 * until the pool went, 76 failed where rfc fails 66).
 */
static bool holes_crowd(const struct pvdma_planner *p, u64 room)
{
	u64 need = p->call_need;

	if (p->need_calls < KEEP_SEEN || room >= need + p->hole_pinned)
		return false;
	return need > 2 * typical_need(p);
}

/* @room: call_room(), reckoned once by the pass for this and the probe. */
static bool keeps_room(const struct pvdma_planner *p, u64 room)
{
	u64 need = p->call_need, budget = pvdma_cache_budget(p);

	/* with a bounce pool, maps that find no room bounce instead */
	if (!p->policy->keeps_room || p->cfg.bounce != PVDMA_BOUNCE_OFF ||
	    p->crowd_tally > 0)
		return false;
	if (!call_crowds(p, room))
		return false;
	if (holes_crowd(p, room))
		return true;
	if (!p->refused_len)
		return false;
	if (need / 2 > p->refused_len &&
	    p->released_bytes - p->refused_released < budget)
		return true;
	return crowds_typical(p, room);
}

/*
 * The whole call, once planned: what it pins and needs, the range
 * between the entries a new window serves and the windows its hits took
 * off the idle list included, must fit what eviction and trims can free.
 * Each miss was admitted against the counts of its moment; this settles
 * the call before anything is evicted for it. 0 or the PVDMA_FAIL_*.
 */
static u32 cache_admit_call(const struct pvdma_planner *p, u64 room)
{
	if (p->stats.pinned_windows > pvdma_cache_count_budget(p))
		return PVDMA_FAIL_MAPPINGS;
	if (!cache_fits(p, 0))
		return PVDMA_FAIL_APERTURE;
	if (keeps_room(p, room))
		return PVDMA_FAIL_ROOM_KEPT;
	return 0;
}

/*
 * A map was refused. For want of aperture, it is the evidence
 * keeps_room() needs: the shortest such map since the aperture's contents
 * last turned over. Refused to keep room, it says the room is still
 * short: the evidence holds on.
 */
static void note_refused(struct pvdma_planner *p, const struct pvdma_seg *segs,
			 u32 n)
{
	u32 reason = p->last_failure.reason;
	u64 len = 0;
	u32 i;

	if (reason != PVDMA_FAIL_APERTURE && reason != PVDMA_FAIL_ROOM_KEPT)
		return;
	p->aperture_refusals++;
	if (reason == PVDMA_FAIL_APERTURE) {
		p->crowd_released = p->released_bytes;
		for (i = 0; i < n; i++)
			len += segs[i].len;
		if (!p->refused_len || len < p->refused_len ||
		    p->released_bytes - p->refused_released >=
		    pvdma_cache_budget(p))
			p->refused_len = len;
	}
	p->refused_released = p->released_bytes;
}

/* The call's read-ahead window, never queued, is forgotten. */
static void ahead_drop(struct pvdma_planner *p)
{
	struct pvdma_window *w = p->call_ahead;

	if (!w)
		return;
	p->call_ahead = NULL;
	pvdma_gpa_remove(p, w);
	pvdma_win_account_unmap(p, w);
	pvdma_win_free(p, w);
}

/*
 * The host answered the call's read-ahead window: mapped, it idles (no
 * entry holds it) until the stream's next buffers hit it; refused, it
 * goes, and no entry waits on it: nothing to retry.
 */
static void ahead_settle(struct pvdma_planner *p)
{
	struct pvdma_window *w = p->call_ahead;

	if (!w)
		return;
	p->call_ahead = NULL;
	if (w->state == PVDMA_WIN_FAILED) {
		p->call_failed--;
		pvdma_gpa_remove(p, w);
		pvdma_win_free(p, w);
		return;
	}
	w->state = PVDMA_WIN_IDLE;
	pvdma_list_add_tail(&w->lru, &p->idle);
}

static bool cache_over(const struct pvdma_planner *p)
{
	return pvdma_cache_bytes(p) > pvdma_cache_budget(p) ||
	       pvdma_cache_windows(p) > pvdma_cache_count_budget(p);
}

/*
 * The call's windows are over the window budget: does the speculation hit
 * least recently give way to their growth (its read-ahead window too),
 * trimmed now, rather than the growth to it? Where the policy says so,
 * while speculation is recycled (pvdma_cache_spec_recycled(): the
 * aperture mostly free, or grown windows hit more often than they are
 * made), and if trims of grown windows in use may free all that is over
 * (if they fall short, the call's growth is dropped after all). A
 * stream's next window is evidence, an old window no call came back to is
 * not: shrunk instead, a stream that reached a full aperture went on with
 * an exact window and a host call per buffer (pinbufs: 2 MiB buffers, a
 * page apart, until the aperture was full: 153 host calls, 85 with this).
 */
static bool spec_gives_way(struct pvdma_planner *p)
{
	u64 held = pvdma_cache_bytes(p), budget = pvdma_cache_budget(p);

	if (!p->policy->spec_gives_way || !p->cfg.trim ||
	    (!p->call_grown && !p->call_ahead) ||
	    held <= budget || held - budget > p->spec_pinned ||
	    pvdma_cache_windows(p) > pvdma_cache_count_budget(p) ||
	    !pvdma_cache_spec_recycled(p))
		return false;
	return !pvdma_trim_spec(p, held - budget);
}

/*
 * Make room for the call's new windows and queue them. Speculation is
 * dropped before any idle window is evicted for it; then idle windows go,
 * oldest first. Admission counted each miss's own pages, but a window
 * serving several entries keeps the range between them: what that costs
 * beyond, the unused ends of windows in use can give back.
 */
static u32 cache_commit(struct pvdma_planner *p)
{
	u64 need, held, budget = pvdma_cache_budget(p);
	struct pvdma_list *pos;

	/* growth sized over idle windows takes their place first */
	if (growth_evicts(p) || p->call_over_idle)
		while (cache_over(p) && evict_one(p))
			;
	if (cache_over(p) && !spec_gives_way(p)) {
		ahead_drop(p);
		for (pos = p->call_new.next; pos != &p->call_new; pos = pos->next)
			shrink_to_used(p, pvdma_list_entry(pos,
						struct pvdma_window, lru));
	}
	/* what evicting every idle window could not free comes from the
	 * unused parts of windows in use first: idle windows may be hit
	 */
	need = call_pinned_need(p);
	if (p->cfg.trim && need > budget && need - budget <= p->spec_pinned)
		pvdma_trim_needed(p, need - budget);
	while (cache_over(p) && evict_one(p))
		;
	if (!pvdma_bus_holds(p, p->call_longest))
		while (call_bus_short(p) && evict_one(p))
			;
	held = pvdma_cache_bytes(p);
	if (p->cfg.trim && held > budget && held - budget <= p->spec_pinned)
		pvdma_trim_needed(p, held - budget);
	if (p->spec_starved)
		spec_dead_evict(p);
	pvdma_trim_excess(p);
	if (cache_over(p))
		return pvdma_cache_bytes(p) > budget ? PVDMA_FAIL_APERTURE :
						       PVDMA_FAIL_MAPPINGS;
	for (pos = p->call_new.next; pos != &p->call_new; pos = pos->next)
		pvdma_batch_queue_map(p, pvdma_list_entry(pos,
						struct pvdma_window, lru));
	/* speculation costs no host call of its own */
	if (p->call_ahead && pvdma_batch_full(p))
		ahead_drop(p);
	if (p->call_ahead)
		pvdma_batch_queue_map(p, p->call_ahead);
	return 0;
}

/*
 * The call's windows that were never queued: forget them, and the
 * references the call's entries hold on them (each pins its window, as
 * win_unhold() would let go of it: never on a trim list while pending).
 */
static void discard_new(struct pvdma_planner *p)
{
	ahead_drop(p);
	while (!pvdma_list_empty(&p->call_new)) {
		struct pvdma_window *w = pvdma_list_entry(p->call_new.next,
						struct pvdma_window, lru);

		pvdma_list_del(&w->lru);
		if (w->refs) {
			w->refs = 0;
			p->stats.pinned_aperture -= w->len;
			p->stats.pinned_windows--;
		}
		pvdma_gpa_remove(p, w);
		pvdma_win_account_unmap(p, w);
		pvdma_win_free(p, w);
	}
}

/*
 * A call is over: its figures go too, so that a failure found before the
 * next call's pass (a call of no entries, refused in pvdma_map()) reports
 * no windows of a call long done as its own (pvdma_plan_fail()).
 */
static void call_over(struct pvdma_planner *p)
{
	pvdma_list_init(&p->call_new);
	p->call_new_bytes = 0;
	p->call_longest = 0;
	p->call_need = 0;
	p->call_span_need = 0;
}

/* The call's windows are mapped and in use: grown ones may be trimmed. */
static void call_end(struct pvdma_planner *p)
{
	while (!pvdma_list_empty(&p->call_new)) {
		struct pvdma_window *w = pvdma_list_entry(p->call_new.next,
						struct pvdma_window, lru);

		pvdma_list_del(&w->lru);
		spec_list_add(p, w);
		/* made for one mapping, page-rounded: it covers it */
		w->whole = !w->grown && !w->chunks && w->refs == 1;
	}
	call_over(p);
}

/*
 * Give back what segs[0..n) hold after a failed call. Before the commit
 * nothing was queued: the call's new windows are simply forgotten. After
 * it, maps still queued go out first, so every window is in a settled
 * state; the ones that mapped stay cached (or go, in strict mode).
 */
static void cache_undo(struct pvdma_planner *p, struct pvdma_seg *segs, u32 n,
		       bool committed)
{
	u32 i;

	if (committed)
		pvdma_batch_submit(p);
	for (i = 0; i < n; i++) {
		struct pvdma_window *w = seg_window_now(p, &segs[i]);

		/* a window this call planned is forgotten below, chunk map,
		 * references and all: counting its entries out again is
		 * wasted (a refused list of large entries spent most of its
		 * undo there)
		 */
		if (!committed && w && w->state == PVDMA_WIN_PENDING)
			continue;
		if (w)
			win_unuse(p, w, segs[i].gpa - w->gpa, segs[i].len);
		if (segs[i].bounced)
			pvdma_bounce_cancel(p, &segs[i]);
		else if (w && w->state == PVDMA_WIN_FAILED)
			w->refs--;
		else if (w && w->state == PVDMA_WIN_PENDING)
			win_unhold(p, w);
		else if (w)
			win_put(p, w);
	}
	if (!committed)
		discard_new(p);
	/* only a host call fails a window: none before the commit */
	for (i = 0; committed && i < n; i++) {
		struct pvdma_window *w = seg_window(p, &segs[i]);

		if (w && w->state == PVDMA_WIN_FAILED && !w->refs) {
			pvdma_gpa_remove(p, w);
			pvdma_win_free(p, w);
		}
	}
	call_over(p);	/* its windows are settled (idle, freed) or forgotten */
	pvdma_batch_submit(p);
}

/* A grown window the host had no bus range for: would its used range fit? */
static bool retry_exact(const struct pvdma_window *w)
{
	return w->grown && w->host_status == PVDMA_ST_NO_BUS_SPACE;
}

/*
 * The host had no bus range for @w even at its used range, @w longer than
 * the entry @seg that failed: one window per entry may still fit, where
 * the bus space is cut into runs shorter than the call's (trims and mixed
 * lifetimes fragment it; rfc's region per entry would fit there). The
 * call is planned once more exact (cache_map_call()).
 */
static void bus_refused_split(struct pvdma_planner *p,
			      const struct pvdma_window *w,
			      const struct pvdma_seg *seg)
{
	if (p->policy->retry_exact && !p->call_exact &&
	    w->host_status == PVDMA_ST_NO_BUS_SPACE &&
	    w->len > page_bytes(p, seg->gpa, seg->len))
		p->call_exact = CALL_EXACT_WORTH;
}

/*
 * Any failed window of the call worth asking for again: there are idle
 * windows to drop first, or a grown one the bus space had no room for.
 */
static bool retry_worth(struct pvdma_planner *p, struct pvdma_seg *segs, u32 n)
{
	u32 i;

	if (!pvdma_list_empty(&p->idle) || !pvdma_list_empty(&p->dead))
		return true;
	for (i = 0; i < n; i++) {
		struct pvdma_window *w = seg_window(p, &segs[i]);

		if (w && w->state == PVDMA_WIN_FAILED && retry_exact(w))
			return true;
	}
	return false;
}

/*
 * After the host refused some maps (it may see less room than we do,
 * e.g. a fragmented bus space): drop every idle window, take grown
 * windows the bus space refused back to their used range, and try those
 * once more; whatever still fails is bounced if allowed.
 */
static int cache_retry_failed(struct pvdma_planner *p, struct pvdma_seg *segs,
			      u32 n, enum pvdma_dir dir, u32 attrs)
{
	u32 i;

	if (retry_worth(p, segs, n)) {
		while (evict_one(p))
			;
		p->call_failed = 0;
		for (i = 0; i < n; i++) {
			struct pvdma_window *w = seg_window(p, &segs[i]);

			if (w && w->state == PVDMA_WIN_FAILED &&
			    w->host_status != PVDMA_ST_IO) {
				pvdma_win_account_map(p, w);
				if (retry_exact(w))
					shrink_to_used(p, w);
				pvdma_batch_queue_map(p, w);
			}
		}
		pvdma_batch_submit(p);
	}

	for (i = 0; i < n; i++) {
		struct pvdma_window *w = seg_window(p, &segs[i]);
		u32 status;

		if (!w || w->state != PVDMA_WIN_FAILED)
			continue;
		status = w->host_status;
		if (!pvdma_bounce_allowed(p, segs[i].len, attrs)) {
			bus_refused_split(p, w, &segs[i]);
			pvdma_plan_fail(p, pvdma_fail_reason_from_status(status),
					segs[i].len, status);
			return -EIO;
		}
		w->refs--;
		segs[i].cookie = 0;
		if (!w->refs) {
			pvdma_list_del(&w->lru);	/* from call_new */
			pvdma_gpa_remove(p, w);
			pvdma_win_free(p, w);
		}
		if (pvdma_bounce_map(p, &segs[i], dir))
			return -ENOSPC;
	}
	p->call_failed = 0;
	return pvdma_batch_submit(p) ? -EIO : 0;
}

/*
 * From segs[@i] on, the entries of one run (one cookie): their bus
 * addresses if their window was mapped in this call; one that was mapped
 * before gave them theirs when they were planned. The first after them.
 */
static u32 finish_run(struct pvdma_planner *p, struct pvdma_seg *segs,
		      u32 i, u32 n)
{
	u32 cookie = segs[i].cookie;
	struct pvdma_window *w = seg_window(p, &segs[i]);
	u64 delta = w->bus - w->gpa;

	if (w->map_call != p->call_seq) {
		while (++i < n && segs[i].cookie == cookie)
			;
		return i;
	}
	for (; i < n && segs[i].cookie == cookie; i++)
		segs[i].bus = segs[i].gpa + delta;
	return i;
}

/* Bus addresses of the segments whose window or slot was new. */
static void cache_finish(struct pvdma_planner *p, struct pvdma_seg *segs, u32 n)
{
	u32 i = 0;

	while (i < n) {
		if (segs[i].bounced)	/* cookie 0: in no run */
			pvdma_bounce_finish(p, &segs[i++]);
		else
			i = finish_run(p, segs, i, n);
	}
}

static void call_begin(struct pvdma_planner *p)
{
	p->call_seq++;
	pvdma_list_init(&p->call_new);
	p->call_new_bytes = 0;
	p->call_longest = 0;
	p->call_need = 0;
	p->call_span_need = 0;
	p->call_new_count = 0;
	p->call_grown = 0;
	p->call_over_idle = 0;
	p->call_failed = 0;
	p->call_ahead = NULL;
}

/* The call of @bytes is refused as a whole: what its new windows need
 * is counted already (call_need), the failure names the whole call.
 */
static void call_refused(struct pvdma_planner *p, u32 reason, u64 bytes)
{
	pvdma_plan_fail(p, reason, 0, 0);
	p->last_failure.len = bytes;
}

static int cache_map_pass(struct pvdma_planner *p, struct pvdma_seg *segs,
			  u32 n, enum pvdma_dir dir, u32 attrs,
			  struct pvdma_window *const *floor)
{
	u64 bytes = 0, bounced = p->stats.bounced_maps;
	u16 perm = pvdma_dir_perm(dir);
	struct hit_run run;
	bool crowding = false;
	u64 room = 0;
	u32 i, reason;
	int ret;

	call_begin(p);
	run.w = NULL;
	for (i = 0; i < n; i++) {
		if (run_extend_one(p, &run, &segs[i])) {
			bytes += segs[i].len;
			/* a long run: its later entries in one loop */
			if (run.more >= 2 && i + 1 < n)
				i = run_extend(p, &run, segs, i + 1, n,
					       &bytes) - 1;
			continue;
		}
		run_end(p, &run);
		ret = cache_plan_seg(p, segs, i, n, dir, perm, attrs, &run,
				     floor);
		if (ret) {
			cache_undo(p, segs, i, false);
			return ret;
		}
		bytes += segs[i].len;
	}
	run_end(p, &run);
	if (!p->call_new_count && bounced == p->stats.bounced_maps) {
		pvdma_live_bytes_add(p, bytes);	/* all hits: no host call */
		return 0;
	}
	if (p->policy->keeps_room && p->call_need) {
		crowd_probe_age(p);
		note_call_need(p);
		room = call_room(p);
		crowding = call_crowds(p, room);
	}
	reason = cache_admit_call(p, room);
	if (reason) {
		p->stats.admission_refusals++;
		cache_refused(p, reason, 0);
		call_refused(p, reason, bytes);
		cache_undo(p, segs, n, false);
		return -ENOSPC;
	}
	reason = cache_commit(p);
	if (reason) {
		call_refused(p, reason, bytes);
		cache_undo(p, segs, n, false);
		return -ENOSPC;
	}
	ret = pvdma_batch_submit(p);
	ahead_settle(p);
	if (!ret && p->call_failed)
		ret = cache_retry_failed(p, segs, n, dir, attrs);
	if (ret || p->call_failed || pvdma_bounce_prepare(p)) {
		if (!p->last_failure.reason)
			pvdma_plan_fail(p, PVDMA_FAIL_TRANSPORT, 0, PVDMA_ST_IO);
		cache_undo(p, segs, n, true);
		return ret ? ret : -EIO;
	}
	call_end(p);
	cache_finish(p, segs, n);
	pvdma_live_bytes_add(p, bytes);
	if (crowding)
		crowd_probe_start(p, segs);
	return 0;
}

/*
 * A single map whose window the hint or a descent finds (shared, mapped,
 * holding it with the permission asked): what a hit does and nothing
 * else - no pass, no run, no call state, no snapshot for an exact retry.
 * Its steps are the pass's own (hit_note(), win_hold(), seg_use()), in
 * the pass's order, so every count ends as the pass would leave it.
 * Anything else (a miss, a private window, a list) goes to the pass
 * before anything here has changed, with where the descent ended
 * (*@floor): the pass's lookup of the entry would find nothing either.
 * No window is pending between calls: the one found is mapped or idle.
 */
static bool cache_map_hit(struct pvdma_planner *p, struct pvdma_seg *seg,
			  enum pvdma_dir dir, struct pvdma_window **floor)
{
	u16 perm = pvdma_dir_perm(dir);
	struct pvdma_window *w, *next;

	w = cache_hinted(p, seg->gpa, seg->len, perm);
	if (!w) {
		/* win_holds(), not win_covers(): it checks the entry too;
		 * a miss's pass finds the floor's next in the cursor
		 */
		w = pvdma_gpa_floor_next(p, seg->gpa, &next);
		*floor = w;
		if (!w || !win_holds(w, seg->gpa, seg->len, perm))
			return false;
		p->hint[hint_bucket(seg->gpa)] = w;
	}
	hit_note(p, w, seg);
	win_hold(p, w);
	if (win_counts_use(w))
		seg_use(p, w, seg);
	p->stats.fast_maps++;
	seg->bounced = 0;
	seg->cookie = pvdma_win_index(p, w) + 1;
	seg->bus = w->bus + (seg->gpa - w->gpa);
	seg->dev_gpa = seg->gpa;
	pvdma_live_bytes_add(p, seg->len);
	return true;
}

/*
 * A single map no window holds (cache_map_hit() found none) that the
 * pass would refuse at admission: refused here with what the pass
 * leaves - a miss, the refusal, the same failure - and no pass, no
 * undo. The pass's tests, each with no side effect: cache_admit() as
 * cache_new_window() asks it first, with nothing planned (between calls
 * call_over() has left no call figures), then a valid entry, no unshared
 * window to take back (dead_revive()) and no bounce. Admission comes
 * first, a bound before the exact test: most misses are admitted and go
 * on to the pass at once.
 * A refused map near a full aperture (most of uvm-oversub's misses) ran
 * the whole pass to change nothing. It plans no window, so none was
 * grown: no exact retry either.
 */
static bool cache_map_refused(struct pvdma_planner *p, struct pvdma_seg *seg,
			      enum pvdma_dir dir, u32 attrs)
{
	u64 len = page_bytes(p, seg->gpa, seg->len);
	u32 reason;

	/* a bound first: within it cache_admit() admits (its tests are
	 * these or looser, with no call figures); most misses stop here
	 */
	if (p->stats.pinned_aperture + len <= pvdma_cache_budget(p) &&
	    p->stats.pinned_windows < pvdma_cache_count_budget(p) &&
	    !p->bus_refused_len && pvdma_bus_holds(p, len))
		return false;
	reason = cache_admit(p, len);
	if (!reason || !pvdma_seg_valid(p, seg) ||
	    dead_revive(p, seg->gpa, seg->len, pvdma_dir_perm(dir)) ||
	    pvdma_bounce_allowed(p, seg->len, attrs))
		return false;
	call_begin(p);	/* the call's own figures: its refusal reads them */
	p->stats.misses++;
	p->stats.fast_refusals++;
	seg->bounced = 0;
	seg->cookie = 0;
	miss_refused(p, seg, reason);
	call_over(p);
	pvdma_batch_submit(p);	/* as an undo: what was queued goes */
	return true;
}

/*
 * Map a call; if it was refused at admission for want of aperture while
 * some of its windows were grown, plan it once more with exact windows
 * before it fails. Growth keeps the range between the entries a window
 * serves (a list of buffers with gaps between them, a stream's window):
 * near full, a call whose pages fit could be refused for its gaps
 * (jaxhost at 512 MiB with its lists' hidden entries where their unmaps
 * show them: a 184 MiB list refused, 505 of 512 MiB in pages). The
 * refused pass queued nothing; its lookups, its misses in the history
 * that sizes windows and its hits on speculation count once. Out of
 * line: a hit (cache_map_hit()) saves none of the registers the pass
 * needs. @found: as cache_plan_seg()'s @floor, for segs[0], a single map
 * (cache_map_refused() first).
 */
static noinline int cache_map_call(struct pvdma_planner *p,
				   struct pvdma_seg *segs, u32 n,
				   enum pvdma_dir dir, u32 attrs,
				   struct pvdma_window *const *found)
{
	struct pvdma_planner_stats *s = &p->stats;
	u64 hits, misses, fast, run_hits, refusals;
	int ret;

	/* a single map the hit path left: refused with no pass if it may
	 * be (before the snapshot: a refusal has no use for it)
	 */
	if (found && cache_map_refused(p, segs, dir, attrs)) {
		note_refused(p, segs, n);
		return -ENOSPC;
	}
	hits = s->hits;
	misses = s->misses;
	fast = s->fast_lookups;
	run_hits = s->run_hits;
	refusals = s->admission_refusals;
	/* one call site, so the pass is inlined */
	for (p->call_exact = 0;; p->call_exact = CALL_EXACT_PASS) {
		ret = cache_map_pass(p, segs, n, dir, attrs, found);
		if (!ret || p->call_exact != CALL_EXACT_WORTH)
			break;
		found = NULL;	/* the exact pass looks up again */
		s->exact_passes++;
		s->hits = hits;
		s->misses = misses;
		s->fast_lookups = fast;
		s->run_hits = run_hits;
		s->admission_refusals = refusals;
		p->last_failure.reason = PVDMA_FAIL_NONE;
	}
	p->call_exact = 0;
	if (ret == -ENOSPC)
		note_refused(p, segs, n);
	return ret;
}

int pvdma_cache_map(struct pvdma_planner *p, struct pvdma_seg *segs, u32 n,
		    enum pvdma_dir dir, u32 attrs)
{
	struct pvdma_window *floor;

	if (n != 1)
		return cache_map_call(p, segs, n, dir, attrs, NULL);
	if (cache_map_hit(p, segs, dir, &floor))
		return 0;
	return cache_map_call(p, segs, n, dir, attrs, &floor);
}

/* ---- unmap, reclaim -------------------------------------------------- */

/* Does live @w hold bus address @bus? Then it is the one that does. */
static bool win_holds_bus(const struct pvdma_window *w, u64 bus)
{
	return w->state == PVDMA_WIN_LIVE && bus >= w->bus &&
	       bus - w->bus < w->len;
}

/*
 * The window an unmap names: @near (the window of the entry before, or
 * NULL) if it holds it, as a list's entries in one window do; else the
 * cookie map left, if it still fits; else one bus lookup. The window of
 * the entry before comes first: its record is at hand, and it holds the
 * entries that follow one in a piece a trim cut since the map (they
 * carry the record of the window's first piece).
 */
static __always_inline struct pvdma_window *
unmap_window(struct pvdma_planner *p, const struct pvdma_seg *seg,
	     struct pvdma_window *near)
{
	struct pvdma_window *w;

	if (near && win_holds_bus(near, seg->bus))
		return near;
	if (seg->cookie && seg->cookie <= p->mem.nwindows) {
		w = &p->mem.windows[seg->cookie - 1];
		if (win_holds_bus(w, seg->bus))
			return w;
	}
	return pvdma_bus_find(p, seg->bus);
}

/*
 * Consecutive entries of an unmap that name one window: each is checked
 * as it comes, and its chunks released with the run's others in the same
 * chunk (struct pvdma_chunk_batch), but the bytes and references they
 * give back are summed and applied once (unmap_run_end), ending as entry
 * by entry: the byte counts are clamped sums, and a run never takes a
 * window's last reference before its own last entry, so the window stays
 * live until then.
 */
struct unmap_run {
	struct pvdma_window *w;	/* NULL: no run */
	u64 entries;		/* references they drop */
	u64 len;		/* their bytes */
	u64 pages;		/* their page-rounded bytes (counted windows) */
	u64 freed;		/* chunk bytes they were the last to touch */
	struct pvdma_chunk_batch batch;	/* theirs in one chunk, not yet */
};

/* Always inline, as cache_unmap_seg(): a single unmap's run is registers. */
static __always_inline void unmap_run_end(struct pvdma_planner *p,
					  struct unmap_run *r)
{
	struct pvdma_window *w = r->w;

	if (!w)
		return;
	p->stats.live_bytes -= PVDMA_MIN(p->stats.live_bytes, r->len);
	p->released_bytes += r->len;
	if (w->chunks)
		r->freed += pvdma_chunks_flush(w, &r->batch, -1);
	if (win_counts_use(w)) {
		w->live -= PVDMA_MIN(w->live, r->pages);
		if (w->trimmable)
			spec_pinned_add(p, w, r->freed);
		else if (r->freed && w->state == PVDMA_WIN_LIVE)
			spec_list_add(p, w);	/* a trim passed it */
	}
	w->refs -= r->entries - 1;	/* none of these was the last */
	if (w->refs > 1)		/* nor is this one: no call */
		w->refs--;
	else
		win_put(p, w);
	*r = (struct unmap_run){ .w = NULL };
}

/* @seg, checked, in live window @w, joins the run (of @w). */
static __always_inline void unmap_run_join(struct pvdma_planner *p,
					   struct unmap_run *r,
					   struct pvdma_window *w,
					   const struct pvdma_seg *seg)
{
	u64 off = seg->bus - w->bus;

	r->w = w;
	r->entries++;
	r->len += seg->len;
	if (win_counts_use(w)) {
		r->pages += page_bytes(p, off, seg->len);
		if (w->chunks)
			r->freed += pvdma_chunks_remove_run(w, &r->batch, off,
							    seg->len);
	}
}

/* An entry that names no live window, or runs past its end. */
static int unmap_bad(struct pvdma_planner *p)
{
	p->stats.bad_unmaps++;
	return -ENOENT;
}

static __always_inline int cache_unmap_seg(struct pvdma_planner *p,
					   struct unmap_run *r,
					   const struct pvdma_seg *seg,
					   enum pvdma_dir dir)
{
	struct pvdma_window *w = r->w;

	/*
	 * In the run's window (live, the run's own: not the bounce pool)
	 * with a reference left for it: only its length is left to check.
	 */
	if (w && win_holds_bus(w, seg->bus) && r->entries < w->refs) {
		if (!seg->len || seg->len > w->len - (seg->bus - w->bus))
			return unmap_bad(p);
		unmap_run_join(p, r, w, seg);
		return 0;
	}
	w = unmap_window(p, seg, r->w);
	if (r->w && (w != r->w || r->entries >= w->refs))
		unmap_run_end(p, r);
	if (w && w == p->pool_window)
		return pvdma_bounce_unmap(p, seg, dir);
	if (!w || w->state != PVDMA_WIN_LIVE || !seg->len ||
	    seg->len > w->len - (seg->bus - w->bus))
		return unmap_bad(p);
	unmap_run_join(p, r, w, seg);
	return 0;
}

/*
 * The unmap of one entry: the list's steps, with a run the compiler keeps
 * in registers (a list's run lives in memory across its loop).
 */
static int cache_unmap_one(struct pvdma_planner *p,
			   const struct pvdma_seg *seg, enum pvdma_dir dir)
{
	struct unmap_run run = { .w = NULL };
	int ret = cache_unmap_seg(p, &run, seg, dir) ? -ENOENT : 0;

	unmap_run_end(p, &run);
	if (pvdma_batch_submit(p))
		ret = ret ? ret : -EIO;
	return ret;
}

int pvdma_cache_unmap(struct pvdma_planner *p, const struct pvdma_seg *segs,
		      u32 n, enum pvdma_dir dir)
{
	struct unmap_run run = { .w = NULL };
	int ret = 0;
	u32 i;

	crowd_probe_unmap(p, segs);
	if (n == 1)
		return cache_unmap_one(p, segs, dir);
	for (i = 0; i < n; i++)
		if (cache_unmap_seg(p, &run, &segs[i], dir))
			ret = -ENOENT;
	unmap_run_end(p, &run);
	if (pvdma_batch_submit(p))
		ret = ret ? ret : -EIO;
	return ret;
}

int pvdma_cache_reclaim(struct pvdma_planner *p)
{
	int n = 0;

	while (evict_one(p))
		n++;
	pvdma_batch_submit(p);
	return n;
}

