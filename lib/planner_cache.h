/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The window cache's own declarations, shared by its files:
 * planner_cache.c (the flow of one call: lookup, references, planning a
 * miss, commit, undo, unmap), planner_spec.c (what speculation may hold,
 * the miss history), planner_chunks.c and planner_chunks.h (chunk maps)
 * and planner_trim.c (giving back the unused parts of windows in use).
 * What the hit path runs per entry is static inline: a call into another
 * file there would cost every entry.
 */
#ifndef PVDMA_PLANNER_CACHE_H
#define PVDMA_PLANNER_CACHE_H

#include "planner_internal.h"
#include "planner_chunks.h"

/* ---- budgets and speculation (planner_spec.c) ------------------------ */

void pvdma_cache_note_miss(struct pvdma_planner *p, u64 gpa, u64 bytes);

/* grown windows remembered, about */
#define PVDMA_SPEC_HISTORY	64

static inline void pvdma_spec_note(struct pvdma_planner *p, bool window)
{
	if (window)
		p->spec_windows++;
	else
		p->spec_hits++;
	if (p->spec_windows > PVDMA_SPEC_HISTORY ||
	    p->spec_hits > PVDMA_SPEC_HISTORY) {
		p->spec_windows /= 2;
		p->spec_hits /= 2;
	}
}

/*
 * @k hits at once, as @k calls of pvdma_spec_note(p, false) would count them:
 * while both counts are at most PVDMA_SPEC_HISTORY nothing is halved, so the
 * hits are added up to the one past it, halved, and so on.
 */
static inline void pvdma_spec_note_hits(struct pvdma_planner *p, u64 k)
{
	while (k) {
		u64 step = 1;

		if (p->spec_windows <= PVDMA_SPEC_HISTORY &&
		    p->spec_hits <= PVDMA_SPEC_HISTORY)
			step = PVDMA_MIN(k, PVDMA_SPEC_HISTORY + 1 -
					       p->spec_hits);
		p->spec_hits += step;
		k -= step;
		if (p->spec_windows > PVDMA_SPEC_HISTORY ||
		    p->spec_hits > PVDMA_SPEC_HISTORY) {
			p->spec_windows /= 2;
			p->spec_hits /= 2;
		}
	}
}

static inline u64 pvdma_cache_windows(const struct pvdma_planner *p)
{
	return p->stats.live_windows - (pvdma_pool_mapped(p) ? 1 : 0);
}

/* Mappings windows may use: one stays free for the bounce pool. */
static inline u64 pvdma_cache_count_budget(const struct pvdma_planner *p)
{
	return p->window_count_budget;
}

/* ---- windows in use (planner_cache.c) -------------------------------- */

/*
 * Bytes of a window in use that a trim could give back: the chunks no
 * live mapping touches if it has a chunk map, else the ends outside its
 * used range (grown windows only).
 */
static inline u64 pvdma_win_reclaimable(const struct pvdma_window *w)
{
	if (w->chunks)
		return w->chunks->free_bytes;
	return w->grown || w->need_only ?
	       w->len - (w->used_hi - w->used_lo) : 0;
}

void pvdma_spec_list_del(struct pvdma_planner *p, struct pvdma_window *w);

/* ---- trims (planner_trim.c) ------------------------------------------ */

void pvdma_trim_note_miss(struct pvdma_planner *p, u64 gpa);
bool pvdma_trim_regretted(const struct pvdma_planner *p);
void pvdma_trim_needed(struct pvdma_planner *p, u64 bytes);
void pvdma_trim_excess(struct pvdma_planner *p);
u64 pvdma_trim_spec(struct pvdma_planner *p, u64 bytes);

/*
 * The list of windows in use @w is on while a trim may take from it:
 * need_live for exact windows other calls share (@need_only), which
 * hold no speculation, spec_live for the rest.
 */
static inline struct pvdma_list *pvdma_trim_list_of(struct pvdma_planner *p,
						    const struct pvdma_window *w)
{
	return w->need_only ? &p->need_live : &p->spec_live;
}

#endif /* PVDMA_PLANNER_CACHE_H */
