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

/* Set bits of @x, by halves (lib/ assumes no popcount instruction). */
static inline u32 pvdma_hweight64(u64 x)
{
	x -= (x >> 1) & 0x5555555555555555ull;
	x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
	x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
	return (u32)((x * 0x0101010101010101ull) >> 56);
}

/* Set bits of [0, @n) of @map, a word at a time. */
static inline u32 pvdma_bitmap_weight(const u64 *map, u32 n)
{
	u32 i, bits = 0;

	for (i = 0; i < n / 64; i++)
		bits += pvdma_hweight64(map[i]);
	if (n & 63)
		bits += pvdma_hweight64(map[i] & (~0ull >> (64 - (n & 63))));
	return bits;
}

/* Set bits of [@from, @to) of @map, a word at a time. */
static inline u32 pvdma_bitmap_weight_range(const u64 *map, u32 from, u32 to)
{
	u32 bits = 0;

	while (from < to) {
		u32 end = PVDMA_MIN(to, (from | 63) + 1);
		u64 mask = (~0ull >> (64 - (end - from))) << (from & 63);

		bits += pvdma_hweight64(map[from >> 6] & mask);
		from = end;
	}
	return bits;
}

/*
 * Bits [@from, @from + @n) of @src to [0, @n) of @dst, a word at a time;
 * the bits of @dst's last word past @n are cleared.
 */
static inline void pvdma_bitmap_copy_from(u64 *dst, const u64 *src, u32 from,
					  u32 n)
{
	const u64 *s = src + (from >> 6);
	u32 shift = from & 63, i, words = PVDMA_BITMAP_WORDS(n);
	/* the words of @src the range reaches: never read past them */
	u32 reach = PVDMA_BITMAP_WORDS(from + n) - (from >> 6);

	for (i = 0; i < words; i++) {
		u64 v = s[i] >> shift;

		if (shift && i + 1 < reach)
			v |= s[i + 1] << (64 - shift);
		dst[i] = v;
	}
	if (n & 63)
		dst[words - 1] &= ~0ull >> (64 - (n & 63));
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
