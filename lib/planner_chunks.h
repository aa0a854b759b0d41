/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Chunk maps, the part every entry of a map call runs: the count of live
 * mappings touching each chunk of a grown window, moved as one comes or
 * goes, so that a trim knows which chunks it can give back. Inline here,
 * not in planner_chunks.c, because the hit path counts each entry's
 * chunks and a call into another file per entry would cost it; the rest
 * of the chunk maps (long spans, a piece's copy) is there.
 */
#ifndef PVDMA_PLANNER_CHUNKS_H
#define PVDMA_PLANNER_CHUNKS_H

#include "planner_internal.h"

u32 pvdma_chunks_move_long(struct pvdma_chunk_map *c, u32 from, u32 to,
			   int step);
void pvdma_piece_chunks(struct pvdma_planner *p,
			const struct pvdma_chunk_map *from,
			struct pvdma_window *x, u64 off);

/*
 * Two counts of a chunk map side by side in a u64 (the arrays are u32,
 * pairs on the u64 grid): PVDMA_CHUNK_PAIR moves each by one; added to
 * a pair, PVDMA_CHUNK_NONZERO sets the top bit of each count that is not
 * 0 (PVDMA_CHUNK_TOPS) and carries nothing into the other, a count being
 * below 2^31 (one per live mapping).
 */
#define PVDMA_CHUNK_PAIR	0x0000000100000001ull
#define PVDMA_CHUNK_NONZERO	0x7fffffff7fffffffull
#define PVDMA_CHUNK_TOPS	0x8000000080000000ull

/* Does the pair @v hold a count of 0? */
static inline bool pvdma_chunk_pair_zero(u64 v)
{
	return ((v + PVDMA_CHUNK_NONZERO) & PVDMA_CHUNK_TOPS) != PVDMA_CHUNK_TOPS;
}

/* Bytes of chunk @c of @w. */
static inline u64 pvdma_chunk_len(const struct pvdma_window *w, u32 c)
{
	const struct pvdma_chunk_map *m = w->chunks;
	u64 lo = (u64)c * m->chunk, hi = lo + m->chunk;

	lo = lo > m->skew ? lo - m->skew : 0;
	hi = PVDMA_MIN(hi - m->skew, w->len);
	return hi > lo ? hi - lo : 0;
}

/* The chunks [*first, *last] a live mapping at [off, off + len) touches. */
static inline bool pvdma_chunks_span(const struct pvdma_window *w, u64 off,
				     u64 len, u32 *first, u32 *last)
{
	const struct pvdma_chunk_map *c = w->chunks;

	*first = (u32)((off + c->skew) >> c->shift);
	*last = (u32)((off + c->skew + len - 1) >> c->shift);
	return !PVDMA_WARN_ON(*last >= PVDMA_CHUNKS || off + len > w->len);
}

/*
 * The touched bits of chunks [@from, @to), @crossed of which a mapping
 * just took from zero (@edge 1: all are touched now) or brought to zero
 * (@edge 0): word at a time when all did, as a mapping that alone covers
 * its chunks does, else chunk by chunk. Kept out of the counting loop,
 * which stays a plain sum.
 */
static inline void pvdma_chunks_mark_middle(struct pvdma_chunk_map *c,
					    u32 from, u32 to, u32 edge,
					    u32 crossed)
{
	u32 i;

	if (edge || crossed == to - from) {
		pvdma_bitmap_assign_range(c->touched, from, to, edge);
		return;
	}
	for (i = from; i < to; i++)
		if (!c->cover[i])
			pvdma_bitmap_assign(c->touched, i, false);
}

/*
 * Move the count of chunk @i of @w by @by (mappings coming, > 0, or
 * going); its bytes if it was free before (coming) or is free now
 * (going), and its touched bit follows.
 */
static __always_inline u64 pvdma_chunk_move(struct pvdma_window *w, u32 i,
					    int by)
{
	struct pvdma_chunk_map *c = w->chunks;
	u32 was = c->cover[i];

	c->cover[i] = was + (u32)by;
	if (by > 0 ? was : c->cover[i])
		return 0;
	pvdma_bitmap_assign(c->touched, i, by > 0);
	return pvdma_chunk_len(w, i);
}

/*
 * A middle longer than this moves in pairs (pvdma_chunks_move_long()); a
 * shorter one, chunk by chunk, costs less than setting that up.
 */
#define PVDMA_CHUNKS_PAIRED	16

/*
 * Move the count of each chunk [@first, @last] a mapping of @w touches by
 * @step (+1 comes, -1 goes); the bytes of those it took from zero (+1) or
 * brought to zero (-1). Only the ends can be cut by the window's: a chunk
 * between them lies inside the mapping, so inside the window, whole, and
 * the middle of a long span is a plain count (pvdma_chunks_move_long()).
 * Always inline, as pvdma_chunks_add(): once per entry, and left to itself the
 * compiler stops inlining it when it grows by a line.
 */
static __always_inline u64 pvdma_chunks_step(struct pvdma_window *w, u32 first,
					     u32 last, int step)
{
	struct pvdma_chunk_map *c = w->chunks;
	u32 edge = step > 0;	/* the count a chunk that crossed zero ends at */
	u32 i, whole = 0;
	u64 bytes;

	bytes = pvdma_chunk_move(w, first, step);
	if (last == first)
		return bytes;
	if (last - first > PVDMA_CHUNKS_PAIRED) {
		whole = pvdma_chunks_move_long(c, first + 1, last, step);
	} else {
		for (i = first + 1; i < last; i++) {
			c->cover[i] += step;
			whole += c->cover[i] == edge;
		}
	}
	if (whole)
		pvdma_chunks_mark_middle(c, first + 1, last, edge, whole);
	bytes += pvdma_chunk_move(w, last, step);
	return bytes + (u64)whole * c->chunk;
}

/*
 * Mappings come, @n of them, that start in chunk @first at @lo and end in
 * chunk @last at @hi (offsets into those chunks): the counts of starts and
 * ends move, and the lowest start and highest end of the mappings there
 * since the chunk last had none take theirs.
 */
static __always_inline void pvdma_chunks_ends_add(struct pvdma_chunk_map *c,
						  u32 first, u32 lo, u32 last,
						  u32 hi, u32 n)
{
	if (!c->starts[first] || lo < c->first_lo[first])
		c->first_lo[first] = lo;
	c->starts[first] += n;
	if (!c->ends[last] || hi > c->last_hi[last])
		c->last_hi[last] = hi;
	c->ends[last] += n;
}

/* Where a mapping at @off of @c's window starts in its first chunk. */
static inline u32 pvdma_chunk_lo(const struct pvdma_chunk_map *c, u64 off)
{
	return (u32)((off + c->skew) & (c->chunk - 1));
}

/* Where a mapping at [off, off + len) ends in its last chunk, @last. */
static inline u32 pvdma_chunk_hi(const struct pvdma_chunk_map *c, u64 off,
				 u64 len, u32 last)
{
	return (u32)(off + c->skew + len - ((u64)last << c->shift));
}

/*
 * A live mapping of @w over chunks [@first, @last], from @lo in the first
 * to @hi in the last, comes; the bytes of the chunks it is the first to
 * touch (no longer free to trim).
 */
static __always_inline u64 pvdma_chunks_add_span(struct pvdma_window *w,
						 u32 first, u32 lo, u32 last,
						 u32 hi)
{
	struct pvdma_chunk_map *c = w->chunks;
	u64 taken;

	pvdma_chunks_ends_add(c, first, lo, last, hi, 1);
	taken = pvdma_chunks_step(w, first, last, 1);
	c->free_bytes -= taken;
	return taken;
}

/* A live mapping at [off, off + len) of @w comes; the bytes of the chunks
 * it is the first to touch (no longer free to trim). Always inline: it
 * runs once per list entry, and the compiler's own choice flips with
 * unrelated edits elsewhere in the file that uses it.
 */
static __always_inline u64 pvdma_chunks_add(struct pvdma_window *w, u64 off,
					    u64 len)
{
	struct pvdma_chunk_map *c = w->chunks;
	u32 first, last;

	if (!pvdma_chunks_span(w, off, len, &first, &last))
		return 0;
	return pvdma_chunks_add_span(w, first, pvdma_chunk_lo(c, off), last,
				     pvdma_chunk_hi(c, off, len, last));
}

/* The mapping of @w over chunks [@first, @last] goes; the bytes of the
 * chunks it was the last to touch.
 */
static __always_inline u64 pvdma_chunks_remove_span(struct pvdma_window *w,
						    u32 first, u32 last)
{
	struct pvdma_chunk_map *c = w->chunks;
	u64 freed;

	c->starts[first]--;
	c->ends[last]--;
	freed = pvdma_chunks_step(w, first, last, -1);
	c->free_bytes += freed;
	return freed;
}

/*
 * The mapping at [off, off + len) of @w goes; the bytes of the chunks it
 * was the last to touch. Always inline, as pvdma_chunks_add(): an unmap
 * runs it once per entry, and out of line its call's register saves cost
 * a tenth of a hit-heavy list's unmap.
 */
static __always_inline u64 pvdma_chunks_remove(struct pvdma_window *w,
					       u64 off, u64 len)
{
	u32 first, last;

	if (!pvdma_chunks_span(w, off, len, &first, &last))
		return 0;
	return pvdma_chunks_remove_span(w, first, last);
}

/*
 * Mappings of one run (the consecutive entries of a call in one window)
 * that each lie in one chunk, the same chunk, moved together: a list's
 * consecutive pages often do (4 KiB pages, chunks of 16 KiB and more),
 * and each would otherwise move five counts of it. Applied when an entry
 * of the run lies elsewhere and when the run ends (pvdma_chunks_flush()),
 * to what entry by entry gives: the counts move by how many they are,
 * the lowest start and highest end are their min and max, and the chunk
 * is taken (or freed) once. Nothing reads the chunk map in between.
 * An entry joins by the chunk's bounds, window offsets, with no span to
 * work out: the run has checked that it lies in the window.
 */
struct pvdma_chunk_batch {
	u64 from, to;	/* the chunk's part of the window; empty: none */
	u64 lo, hi;	/* their lowest start, highest end (coming) */
	u32 chunk;	/* the chunk they lie in */
	u32 n;		/* how many */
};

/* An empty batch, one no entry joins: all zero. */
static inline void pvdma_chunk_batch_init(struct pvdma_chunk_batch *b)
{
	*b = (struct pvdma_chunk_batch){ .n = 0 };
}

/* Does [@off, @off + @len) lie in @b's chunk? */
static inline bool pvdma_chunk_batch_has(const struct pvdma_chunk_batch *b,
					 u64 off, u64 len)
{
	return off >= b->from && off + len <= b->to;
}

/* A batch of the mapping at [@off, @off + @len) of @w, alone in chunk @i. */
static inline void pvdma_chunk_batch_start(const struct pvdma_window *w,
					   struct pvdma_chunk_batch *b, u32 i,
					   u64 off, u64 len)
{
	const struct pvdma_chunk_map *c = w->chunks;
	u64 base = (u64)i << c->shift;	/* on the grid, skew before the window */

	b->from = PVDMA_MAX(base, c->skew) - c->skew;
	b->to = base + c->chunk - c->skew;
	b->lo = off;
	b->hi = off + len;
	b->chunk = i;
	b->n = 1;
}

/*
 * Apply the mappings of @b to @w, coming (@step 1) or going (-1); the
 * bytes of the chunk if they took it or freed it. @b is left as it was:
 * its caller empties it or starts the next (pvdma_chunks_flush(), the
 * run's entry that lies elsewhere), not both.
 */
static __always_inline u64 pvdma_chunks_apply(struct pvdma_window *w,
					      const struct pvdma_chunk_batch *b,
					      int step)
{
	struct pvdma_chunk_map *c = w->chunks;
	u32 i = b->chunk;
	u64 bytes, org;

	if (!b->n)
		return 0;
	if (step > 0) {
		/* where the chunk starts on the grid, a window offset (the
		 * skew may put it below 0: it wraps): pvdma_chunk_lo() and
		 * pvdma_chunk_hi() are offsets less it
		 */
		org = b->to - c->chunk;
		pvdma_chunks_ends_add(c, i, (u32)(b->lo - org), i,
				      (u32)(b->hi - org), b->n);
	} else {
		c->starts[i] -= b->n;
		c->ends[i] -= b->n;
	}
	bytes = pvdma_chunk_move(w, i, step * (int)b->n);
	if (step > 0)
		c->free_bytes -= bytes;
	else
		c->free_bytes += bytes;
	return bytes;
}

/* Apply @b to @w as pvdma_chunks_apply() and empty it. */
static __always_inline u64 pvdma_chunks_flush(struct pvdma_window *w,
					      struct pvdma_chunk_batch *b,
					      int step)
{
	u64 bytes = pvdma_chunks_apply(w, b, step);

	pvdma_chunk_batch_init(b);
	return bytes;
}

/*
 * pvdma_chunks_add() for an entry of a run, batched in @b: one in the
 * batch's chunk joins it; any other applies it first, then one in a
 * single chunk starts a batch, one over several comes at once. The
 * chunk bytes taken by what was applied.
 */
static __always_inline u64 pvdma_chunks_add_run(struct pvdma_window *w,
						struct pvdma_chunk_batch *b,
						u64 off, u64 len)
{
	struct pvdma_chunk_map *c = w->chunks;
	u32 first, last;
	u64 taken;

	if (pvdma_chunk_batch_has(b, off, len)) {
		b->n++;
		b->lo = PVDMA_MIN(b->lo, off);
		b->hi = PVDMA_MAX(b->hi, off + len);
		return 0;
	}
	/* applied, not emptied: a batch starts here or it is emptied */
	taken = pvdma_chunks_apply(w, b, 1);
	if (!pvdma_chunks_span(w, off, len, &first, &last)) {
		pvdma_chunk_batch_init(b);
		return taken;
	}
	if (first == last) {
		pvdma_chunk_batch_start(w, b, first, off, len);
		return taken;
	}
	pvdma_chunk_batch_init(b);
	return taken + pvdma_chunks_add_span(w, first, pvdma_chunk_lo(c, off),
					     last,
					     pvdma_chunk_hi(c, off, len, last));
}

/* pvdma_chunks_remove() for an entry of a run, batched in @b, as above. */
static __always_inline u64 pvdma_chunks_remove_run(struct pvdma_window *w,
						   struct pvdma_chunk_batch *b,
						   u64 off, u64 len)
{
	u32 first, last;
	u64 freed;

	if (pvdma_chunk_batch_has(b, off, len)) {
		b->n++;
		return 0;
	}
	freed = pvdma_chunks_apply(w, b, -1);
	if (!pvdma_chunks_span(w, off, len, &first, &last)) {
		pvdma_chunk_batch_init(b);
		return freed;
	}
	if (first == last) {
		pvdma_chunk_batch_start(w, b, first, off, len);
		return freed;
	}
	pvdma_chunk_batch_init(b);
	return freed + pvdma_chunks_remove_span(w, first, last);
}

#endif /* PVDMA_PLANNER_CHUNKS_H */
