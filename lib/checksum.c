// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The DMA device model's checksum (FNV-1a, 64 bit): simple, byte-exact and
 * the same on both sides, which is all a transfer check needs.
 */
#include <pvdma/dmadev.h>

u64 pvdma_checksum(u64 seed, const void *buf, u64 len)
{
	const u8 *p = buf;
	u64 h = seed;

	while (len--) {
		h ^= *p++;
		h *= 0x100000001b3ull;
	}
	return h;
}
