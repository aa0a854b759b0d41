// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Chunk maps of the window cache, what runs out of line: the counts of a
 * long span moved in pairs and the map a piece of a window keeps. Apart
 * from planner_cache.c so that a window's chunk counts read in one place;
 * what each entry of a map call runs is inline in planner_chunks.h.
 */
#include "planner_chunks.h"

/* The pair of counts @cover[@i], @cover[@i + 1], moved by @by. */
static inline u64 chunk_pair_move(u32 *cover, u32 i, u64 by)
{
	u64 v;

	memcpy(&v, &cover[i], sizeof(v));
	v += by;
	memcpy(&cover[i], &v, sizeof(v));
	return v;
}

/*
 * Counts [@i, @to) of @cover, pairs, each +1. Four pairs a step: the
 * loop's own work was most of a step's.
 */
static void chunks_pairs_up(u32 *cover, u32 i, u32 to)
{
	for (; i + 8 <= to; i += 8) {
		chunk_pair_move(cover, i, PVDMA_CHUNK_PAIR);
		chunk_pair_move(cover, i + 2, PVDMA_CHUNK_PAIR);
		chunk_pair_move(cover, i + 4, PVDMA_CHUNK_PAIR);
		chunk_pair_move(cover, i + 6, PVDMA_CHUNK_PAIR);
	}
	for (; i < to; i += 2)
		chunk_pair_move(cover, i, PVDMA_CHUNK_PAIR);
}

/* How many of the counts [@i, @to) of @cover, pairs, are 0. */
static u32 chunks_pairs_zero(const u32 *cover, u32 i, u32 to)
{
	u64 v, nonzero = 0;	/* per count of the pair, in its half */
	u32 n = to - i;

	for (; i < to; i += 2) {
		memcpy(&v, &cover[i], sizeof(v));
		nonzero += ((v + PVDMA_CHUNK_NONZERO) & PVDMA_CHUNK_TOPS) >> 31;
	}
	return n - (u32)nonzero - (u32)(nonzero >> 32);
}

/*
 * Counts [@i, @to) of @cover, pairs, each at least 1, each -1; how many
 * end at 0. A mapping that goes was alone on its chunks (all end at 0)
 * or shared all of them (none does), as a rule: the loop that moves
 * them finds out which, and only a mix is counted again pair by pair.
 */
static u32 chunks_pairs_down(u32 *cover, u32 i, u32 to)
{
	u64 a, b, any = 0, all = PVDMA_CHUNK_TOPS;
	u32 from = i;

	for (; i + 4 <= to; i += 4) {	/* two pairs a step */
		a = chunk_pair_move(cover, i, -PVDMA_CHUNK_PAIR);
		b = chunk_pair_move(cover, i + 2, -PVDMA_CHUNK_PAIR);
		any |= a | b;
		all &= (a + PVDMA_CHUNK_NONZERO) & (b + PVDMA_CHUNK_NONZERO);
	}
	if (i < to) {
		a = chunk_pair_move(cover, i, -PVDMA_CHUNK_PAIR);
		any |= a;
		all &= a + PVDMA_CHUNK_NONZERO;
	}
	if (!any)
		return to - from;
	if ((all & PVDMA_CHUNK_TOPS) == PVDMA_CHUNK_TOPS)
		return 0;
	return chunks_pairs_zero(cover, from, to);
}

/*
 * Move the counts of a long middle [@from, @to) by @step; how many
 * crossed zero. Coming, those are the chunks the touched bitmap says
 * nothing touched, counted a word at a time; going, each count that
 * ends at 0. Two counts a step, side by side in a u64: neither wraps nor
 * borrows from the other, as a count that goes is at least 1. Not
 * inlined: it would cost the short spans that most entries have.
 */
u32 pvdma_chunks_move_long(struct pvdma_chunk_map *c, u32 from, u32 to,
			   int step)
{
	u32 i = from, n = 0;

	/* the bitmap is the counts' until pvdma_chunks_mark_middle() */
	if (step > 0)
		n = to - from - pvdma_bitmap_weight_range(c->touched, from, to);
	if (i & 1) {		/* to pairs on the u64 grid */
		c->cover[i] += step;
		n += step < 0 && !c->cover[i];
		i++;
	}
	if (to & 1) {
		c->cover[to - 1] += step;
		n += step < 0 && !c->cover[to - 1];
		to--;
	}
	if (step > 0) {
		chunks_pairs_up(c->cover, i, to);
		return n;
	}
	return n + chunks_pairs_down(c->cover, i, to);
}

/*
 * A piece that holds several mappings keeps the chunk counts of its part
 * of @from, on the same grid: when some of its buffers go and others
 * stay, a later trim gives their chunks back, as rfc's exact regions are
 * unmapped one by one. Without them a piece pins every page it holds
 * for as long as any of its buffers lives (a pool of pinned buffers
 * cycled through the aperture failed more maps than rfc).
 */
void pvdma_piece_chunks(struct pvdma_planner *p,
			const struct pvdma_chunk_map *from,
			struct pvdma_window *x, u64 off)
{
	u32 first = (u32)((off + from->skew) >> from->shift), n;
	u64 skew = (off + from->skew) & (from->chunk - 1), used;
	struct pvdma_chunk_map *c;

	/* on fewer than two chunks of the grid nothing could be given back */
	n = (u32)((x->len + skew + from->chunk - 1) >> from->shift);
	if (x->refs < 2 || n < 2)
		return;
	/* filled below, every field a trim or a count reads */
	c = pvdma_chunks_take(p, x);
	if (!c)
		return;
	c->chunk = from->chunk;
	c->shift = from->shift;
	c->skew = skew;
	memcpy(c->cover, from->cover + first, n * sizeof(c->cover[0]));
	memcpy(c->starts, from->starts + first, n * sizeof(c->starts[0]));
	memcpy(c->ends, from->ends + first, n * sizeof(c->ends[0]));
	memcpy(c->first_lo, from->first_lo + first, n * sizeof(c->first_lo[0]));
	memcpy(c->last_hi, from->last_hi + first, n * sizeof(c->last_hi[0]));
	/*
	 * Its touched bits are @from's, moved by @first; the free chunks
	 * are whole but for the first and last, cut by the window's ends.
	 */
	pvdma_bitmap_copy_from(c->touched, from->touched, first, n);
	c->free_bytes = (u64)(n - pvdma_bitmap_weight(c->touched, n)) *
			c->chunk;
	if (!pvdma_bitmap_test(c->touched, 0))
		c->free_bytes -= c->chunk - pvdma_chunk_len(x, 0);
	if (!pvdma_bitmap_test(c->touched, n - 1))
		c->free_bytes -= c->chunk - pvdma_chunk_len(x, n - 1);
	used = x->len - c->free_bytes;
	x->live = used;
	x->peak = used;
}
