/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Fixed-size bitmaps of u64 words with find-next-bit helpers, as the
 * kernel's find_next_bit()/find_next_zero_bit() but with no libc and no
 * kernel dependency: lib/ builds into pvdma.ko and user space alike. A
 * search skips 64 clear (or set) bits per word instead of testing each.
 * The caller serialises access.
 */
#ifndef PVDMA_BITMAP_H
#define PVDMA_BITMAP_H

#include "compat.h"

#define PVDMA_BITMAP_WORDS(bits)	(((bits) + 63) / 64)

static inline void pvdma_bitmap_assign(u64 *map, u32 bit, bool on)
{
	u64 mask = 1ull << (bit & 63);

	if (on)
		map[bit >> 6] |= mask;
	else
		map[bit >> 6] &= ~mask;
}

/* Bits [@from, @to) set (@on) or cleared, a word at a time. */
static inline void pvdma_bitmap_assign_range(u64 *map, u32 from, u32 to,
					     bool on)
{
	while (from < to) {
		u32 end = PVDMA_MIN(to, (from | 63) + 1);
		u64 mask = (~0ull >> (64 - (end - from))) << (from & 63);

		if (on)
			map[from >> 6] |= mask;
		else
			map[from >> 6] &= ~mask;
		from = end;
	}
}

static inline bool pvdma_bitmap_test(const u64 *map, u32 bit)
{
	return map[bit >> 6] >> (bit & 63) & 1;
}

/*
 * The first bit at or after @from, below @n, that is set once xored with
 * @flip; @n if none. @flip is 0 to look for set bits, ~0 for clear ones,
 * so one loop serves both.
 */
static inline u32 pvdma_bitmap_find(const u64 *map, u32 from, u32 n, u64 flip)
{
	u32 w = from >> 6;
	u64 word;

	if (from >= n)
		return n;
	word = (map[w] ^ flip) & (~0ull << (from & 63));
	while (!word) {
		if (++w >= PVDMA_BITMAP_WORDS(n))
			return n;
		word = map[w] ^ flip;
	}
	from = (w << 6) + (u32)__builtin_ctzll(word);
	return from < n ? from : n;
}

/* The first set bit at or after @from, below @n; @n if none. */
static inline u32 pvdma_bitmap_next_set(const u64 *map, u32 from, u32 n)
{
	return pvdma_bitmap_find(map, from, n, 0);
}

/* The first clear bit at or after @from, below @n; @n if none. */
static inline u32 pvdma_bitmap_next_clear(const u64 *map, u32 from, u32 n)
{
	return pvdma_bitmap_find(map, from, n, ~0ull);
}

#endif /* PVDMA_BITMAP_H */
