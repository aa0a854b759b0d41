// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Chunk maps of the window cache, what runs out of line: the counts of a
 * long span moved in pairs and the map a piece of a window keeps. Apart
 * from planner_cache.c so that a window's chunk counts read in one place;
 * what each entry of a map call runs is inline in planner_chunks.h.
 */
#include "planner_chunks.h"

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
	const u64 pair = 0x0000000100000001ull;
	u32 i = from, n = 0;
	u64 v;

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
		for (; i < to; i += 2) {
			memcpy(&v, &c->cover[i], sizeof(v));
			v += pair;
			memcpy(&c->cover[i], &v, sizeof(v));
		}
		return n;
	}
	for (; i < to; i += 2) {
		memcpy(&v, &c->cover[i], sizeof(v));
		v -= pair;
		memcpy(&c->cover[i], &v, sizeof(v));
		n += !(u32)v + !(u32)(v >> 32);
	}
	return n;
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
