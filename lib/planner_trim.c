// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Trims of the window cache: giving back the parts of windows in use that
 * no live mapping touches, when a call needs the room (trim_needed) or
 * speculation is over its cap (trim_excess). A window without a chunk map
 * loses its unused ends; one with a chunk map is punched into pieces, one
 * per run of touched chunks, each kept at its bus addresses. Apart from
 * planner_cache.c because it runs at most once per committed call and
 * changes windows the call's lookups never see change.
 */
#include "planner_cache.h"

/* Release [off, off + len) of @w on the host (a partial unmap). */
static void queue_release(struct pvdma_planner *p, struct pvdma_window *w,
			  u64 off, u64 len)
{
	if (!len)
		return;
	pvdma_batch_queue_trim(p, w->bus + off, len);
	p->stats.trimmed_bytes += len;
}

/* @w becomes [lo, hi) of itself, exact; both indexes stay in order. */
static void win_shrink(struct pvdma_planner *p, struct pvdma_window *w,
		       u64 lo, u64 hi)
{
	w->gpa += lo;
	w->bus += lo;
	w->len = hi - lo;
	w->used_lo = 0;
	w->used_hi = w->len;
	w->grown = 0;
	w->holes = 0;
	pvdma_bus_shrunk(p, w);
}

/* Give back what lies outside the used range of @w. */
static u64 win_trim_ends(struct pvdma_planner *p, struct pvdma_window *w)
{
	u64 lo = w->used_lo, hi = w->used_hi, freed = w->len - (hi - lo);

	pvdma_win_account_unmap(p, w);
	queue_release(p, w, 0, lo);
	queue_release(p, w, hi, w->len - hi);
	win_shrink(p, w, lo, hi);
	pvdma_win_account_map(p, w);
	return freed;
}

/* A run of chunks that live mappings touch: [lo, hi) bytes of a window. */
struct piece {
	u64 lo, hi;
	u32 refs;
};

/*
 * On the chunk grid, the first page the mappings starting in chunk @i use
 * and the end of the last page those ending in chunk @j use: where a kept
 * run of chunks is cut, and what a hole between two chunks is measured by.
 */
static u64 chunk_use_start(const struct pvdma_planner *p,
			   const struct pvdma_chunk_map *c, u32 i)
{
	return PVDMA_ALIGN_DOWN((u64)i * c->chunk + c->first_lo[i],
				p->cfg.page_size);
}

static u64 chunk_use_end(const struct pvdma_planner *p,
			 const struct pvdma_chunk_map *c, u32 j)
{
	return PVDMA_ALIGN_UP((u64)j * c->chunk + c->last_hi[j],
			      p->cfg.page_size);
}

/*
 * Is there a hole of a page or more before chunk @j of a run, both
 * touched? Only if no mapping reaches into @j from before it (all that
 * touch it start in it): then the mappings of chunk @j - 1 end in it, at
 * last_hi[@j - 1] at most, and those of @j start at first_lo[@j] at
 * least. Buffers one to a block then leave a piece each, not a run that
 * holds the holes between them.
 */
static bool hole_before(const struct pvdma_planner *p,
			const struct pvdma_chunk_map *c, u32 j)
{
	return c->cover[j] == c->starts[j] &&
	       chunk_use_start(p, c, j) > chunk_use_end(p, c, j - 1);
}

/* The pair of counts at @q, a u64 (pairs lie on the u64 grid). */
static inline u64 chunk_pair(const u32 *q)
{
	u64 v;

	memcpy(&v, q, sizeof(v));
	return v;
}

/*
 * From chunk @j of a run of touched chunks ending before @end, the first
 * that no mapping reaches into from before it (its count is its
 * starts': hole_before()'s first test), or @end; the mappings starting
 * in the chunks passed are added to *@refs. Most chunks of a run lie
 * inside a mapping that starts below them: four a step while none is
 * such a chunk, the starts summed two at a time, then one by one.
 */
static u32 run_scan(const struct pvdma_chunk_map *c, u32 j, u32 end,
		    u32 *refs)
{
	const u32 *q = &c->cover[j], *s = &c->starts[j];
	u64 sum = 0;

	if ((j & 1) && j < end) {	/* to pairs on the u64 grid */
		if (*q == *s)
			return j;
		*refs += *s;
		q++;
		s++;
		j++;
	}
	for (; j + 4 <= end; j += 4, q += 4, s += 4) {
		u64 s0 = chunk_pair(s), s1 = chunk_pair(s + 2);

		if (pvdma_chunk_pair_zero(chunk_pair(q) ^ s0) ||
		    pvdma_chunk_pair_zero(chunk_pair(q + 2) ^ s1))
			break;
		sum += s0 + s1;
	}
	*refs += (u32)sum + (u32)(sum >> 32);
	for (; j < end && *q != *s; j++, q++, s++)
		*refs += *s;
	return j;
}

/* The next run of touched chunks of @w from chunk *@i on; false if none. */
static bool next_piece(const struct pvdma_planner *p,
		       const struct pvdma_window *w, u32 *i, struct piece *r,
		       bool holes)
{
	const struct pvdma_chunk_map *c = w->chunks;
	u32 n = (u32)((w->len + c->skew + c->chunk - 1) >> c->shift), j, end;
	u32 refs;

	*i = pvdma_bitmap_next_set(c->touched, *i, n);
	if (*i == n)
		return false;
	end = pvdma_bitmap_next_clear(c->touched, *i, n);
	/* a loop each way, the sum in a register: this runs per chunk */
	refs = c->starts[*i];
	j = *i + 1;
	if (holes) {
		while ((j = run_scan(c, j, end, &refs)) < end &&
		       !hole_before(p, c, j))
			refs += c->starts[j++];
	} else {
		for (; j < end; j++)
			refs += c->starts[j];
	}
	r->refs = refs;
	r->lo = PVDMA_MAX(chunk_use_start(p, c, *i), c->skew) - c->skew;
	r->hi = PVDMA_MIN(chunk_use_end(p, c, j - 1) - c->skew, w->len);
	*i = j;
	return true;
}

/*
 * Where a punch puts its pieces in the indexes. Each lies just after the
 * one placed before it, and before what followed the window in both (no
 * other window reaches into its range, nor into its bus range): a link
 * between known neighbours, not a descent per piece. The windows that
 * followed are found once, when the second piece is placed.
 */
struct piece_place {
	struct pvdma_window *last;		/* the piece placed last */
	struct pvdma_window *gpa_next, *bus_next;
	bool found;
};

static void piece_insert(struct pvdma_planner *p, struct piece_place *at,
			 struct pvdma_window *x, bool shared)
{
	if (!at->found) {
		at->gpa_next = shared ? pvdma_gpa_next(at->last) : NULL;
		at->bus_next = pvdma_bus_next(at->last);
		at->found = true;
	}
	if (shared)
		pvdma_gpa_insert_near(p, x, at->last, at->gpa_next);
	pvdma_bus_insert_after(p, x, at->last, at->bus_next);
	at->last = x;
}

/* A piece of @base (the window as it was, its chunk map @from) that stays
 * mapped: the window itself for the first, a new record for the others.
 */
static void piece_window(struct pvdma_planner *p, const struct pvdma_window *base,
			 const struct pvdma_chunk_map *from,
			 struct pvdma_window *x, const struct piece *r,
			 struct piece_place *at)
{
	bool first = x->state == PVDMA_WIN_LIVE;

	if (first) {
		win_shrink(p, x, r->lo, r->hi);
	} else {
		x->gpa = base->gpa + r->lo;
		x->bus = base->bus + r->lo;
		x->len = r->hi - r->lo;
		x->perm = base->perm;
		x->need_only = base->need_only;
		x->used_lo = 0;
		x->used_hi = x->len;
		x->state = PVDMA_WIN_LIVE;
		piece_insert(p, at, x, base->shared);
	}
	x->refs = r->refs;
	pvdma_piece_chunks(p, from, x, r->lo);
	pvdma_win_account_map(p, x);
}

/*
 * Give back every chunk of @w no live mapping touches, holes included:
 * each run of touched chunks stays mapped at its bus addresses, as a
 * window of its own (the mappings in it counted from the chunk map).
 * Where mappings or records run short, runs stay joined, holes and all.
 */
static u64 win_punch(struct pvdma_planner *p, struct pvdma_window *w)
{
	struct pvdma_window base = *w, *owner = w, *x;
	struct piece_place at = { .last = w };
	struct piece cur, r;
	u64 freed = 0, count = pvdma_cache_windows(p);
	u32 i = 0, pieces = 1;

	/* a piece per buffer costs a mapping each: not when they are scarce */
	bool holes = 2 * count < pvdma_cache_count_budget(p);

	if (PVDMA_WARN_ON(!next_piece(p, &base, &i, &cur, holes)))
		return 0;
	pvdma_win_account_unmap(p, w);
	/* the pieces read it to the end: it goes back to the pool last */
	w->chunks = NULL;
	queue_release(p, &base, 0, cur.lo);
	freed += cur.lo;
	while (next_piece(p, &base, &i, &r, holes)) {
		x = count + pieces <= pvdma_cache_count_budget(p) ?
		    pvdma_win_alloc(p) : NULL;
		if (!x) {		/* join it to the current piece */
			cur.hi = r.hi;
			cur.refs += r.refs;
			continue;
		}
		queue_release(p, &base, cur.hi, r.lo - cur.hi);
		freed += r.lo - cur.hi;
		piece_window(p, &base, base.chunks, owner, &cur, &at);
		owner = x;
		cur = r;
		pieces++;
	}
	queue_release(p, &base, cur.hi, base.len - cur.hi);
	freed += base.len - cur.hi;
	piece_window(p, &base, base.chunks, owner, &cur, &at);
	pvdma_chunks_detach(p, &base);
	return freed;
}

/*
 * Could a punch of @w give back more than its free chunks? A chunk is
 * free only while no mapping touches it, but a punch gives back the
 * holes between the mappings of touched chunks too (a piece is cut to
 * the pages its mappings use): small buffers one to a chunk fill every
 * chunk and leave most of the window unused. Its live pages tell.
 */
static bool win_holes_back(const struct pvdma_window *w)
{
	return w->chunks && w->live + w->chunks->chunk <= w->len;
}

/*
 * Speculation pvdma_trim_excess() took back, remembered to see whether
 * later misses need it again: the last EXCESS_RANGES windows it trimmed,
 * and counts of its trims and of misses that fell in one, halved as
 * pvdma_spec_note() halves its own.
 */
#define EXCESS_RANGES	8u
#define EXCESS_HISTORY	64

static void excess_halve(struct pvdma_planner *p)
{
	if (p->excess_trims > EXCESS_HISTORY ||
	    p->excess_regrets > EXCESS_HISTORY) {
		p->excess_trims /= 2;
		p->excess_regrets /= 2;
	}
}

static void excess_note(struct pvdma_planner *p, const struct pvdma_window *w)
{
	u32 i = p->excess_next++ % EXCESS_RANGES;

	p->excess_trimmed[i].gpa = w->gpa;
	p->excess_trimmed[i].end = w->gpa + w->len;
	p->excess_trims++;
	excess_halve(p);
}

/* A miss at @gpa: did it fall where an excess trim took speculation back? */
void pvdma_trim_note_miss(struct pvdma_planner *p, u64 gpa)
{
	u32 i;

	for (i = 0; i < EXCESS_RANGES; i++) {
		if (gpa < p->excess_trimmed[i].gpa ||
		    gpa >= p->excess_trimmed[i].end)
			continue;
		p->excess_trimmed[i].end = 0;	/* counted once */
		p->excess_regrets++;
		excess_halve(p);
		return;
	}
}

/*
 * Did more than a quarter of the excess trims give back speculation a
 * later miss needed again? Then speculation's share is the whole window
 * space (spec_free_share()), which leaves no excess to trim: it stays
 * until a map needs the room (pvdma_trim_needed()) instead of going back
 * and forth every frame (vkimport: imports re-cut every frame). Not for
 * a policy that must not adapt.
 */
bool pvdma_trim_regretted(const struct pvdma_planner *p)
{
	return p->policy->excess_regrets &&
	       4 * p->excess_regrets > p->excess_trims;
}

/* Take unused parts back from the windows in use on @list, least
 * recently hit first (spec_list_touch()), until at least @bytes are
 * free; what is left to free. @excess: for pvdma_trim_excess(), whose
 * trims are remembered (excess_note()).
 */
static u64 trim_list(struct pvdma_planner *p, struct pvdma_list *list,
		     u64 bytes, bool excess)
{
	while (bytes && !pvdma_list_empty(list)) {
		struct pvdma_window *w = pvdma_list_entry(list->next,
						struct pvdma_window, lru);
		u64 back = pvdma_win_reclaimable(w);

		pvdma_spec_list_del(p, w);
		/* back on the list when an unmap frees a chunk */
		if (!back && !win_holes_back(w))
			continue;
		if (excess)
			excess_note(p, w);
		back = w->chunks ? win_punch(p, w) : win_trim_ends(p, w);
		bytes -= PVDMA_MIN(bytes, back);
	}
	return bytes;
}

/*
 * A map needs @bytes more than the free aperture (the caller checked
 * that spec_pinned holds them): speculation goes first, then the holes
 * of exact windows other calls share, which hold none. Speculation's
 * cap does not cut those (pvdma_trim_excess()): it would free no
 * speculation, and their pieces cost later maps host calls (procchurn
 * at 2 GiB with its lists' hidden entries: 251 host calls, 273 with
 * them on one list).
 */
void pvdma_trim_needed(struct pvdma_planner *p, u64 bytes)
{
	trim_list(p, &p->need_live, trim_list(p, &p->spec_live, bytes, false),
		  false);
}

/*
 * A call's grown windows need @bytes the aperture does not have: the
 * speculation of windows in use hit least recently gives way, never the
 * holes of exact windows other calls share (they hold no speculation).
 * What is left to free.
 */
u64 pvdma_trim_spec(struct pvdma_planner *p, u64 bytes)
{
	return trim_list(p, &p->spec_live, bytes, false);
}

/*
 * Speculation over its cap - the windows mappings use grew into it - is
 * given back with the host call this map makes anyway: a cap checked
 * only when a window is made would let a few early windows keep room
 * the live set needs. Not with a bounce pool: there the pool takes what
 * windows have no room for, packed densely, and trims this early leave
 * chunk-sized pieces around single buffers that hold more than the pool
 * would (over-aperture at 256 MiB with a 64 MiB pool failed maps).
 */
void pvdma_trim_excess(struct pvdma_planner *p)
{
	u64 cap = pvdma_cache_spec_cap(p), spec = p->stats.spec_aperture;

	if (p->cfg.trim && !pvdma_bounce_reserved(p) && spec > cap)
		trim_list(p, &p->spec_live, spec - cap, true);
}
