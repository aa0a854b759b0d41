/* SPDX-License-Identifier: MIT */
/*
 * What the DMA fuzz targets (fuzz_dmadev, fuzz_ledger) share: three
 * mappings of a small guest RAM (read-write, read-only, write-only) over a
 * known pattern, and the check that no byte outside the writable ones
 * changed. Include after harness.h (H_RAM_SIZE small: the image is
 * restored and compared per input).
 */
#ifndef PVDMA_FUZZ_MAPS_H
#define PVDMA_FUZZ_MAPS_H

#include <stdlib.h>

#define FUZZ_RW_GPA	0x40000ull
#define FUZZ_RO_GPA	0x80000ull
#define FUZZ_WO_GPA	0xc0000ull
#define FUZZ_MAP_LEN	(4 * H_PAGE)

/* The RAM image each input starts from, made once. */
static u8 *fuzz_reference;

static inline void fuzz_reference_init(struct harness *h)
{
	u64 i;

	fuzz_reference = malloc(H_RAM_SIZE);
	if (!fuzz_reference || harness_init(h))
		abort();
	for (i = 0; i < H_RAM_SIZE; i++)
		fuzz_reference[i] = (u8)(i ^ (i >> 9));
}

/* A session and the three mappings, on the harness's companion. */
static inline void fuzz_map_three(struct harness *h)
{
	if (harness_hello(h) != PVDMA_ST_OK ||
	    harness_map(h, FUZZ_RW_GPA, FUZZ_MAP_LEN, H_RW, NULL) != PVDMA_ST_OK ||
	    harness_map(h, FUZZ_RO_GPA, FUZZ_MAP_LEN, PVDMA_MAP_READ, NULL) != PVDMA_ST_OK ||
	    harness_map(h, FUZZ_WO_GPA, FUZZ_MAP_LEN, PVDMA_MAP_WRITE, NULL) != PVDMA_ST_OK)
		abort();
}

/* Bytes outside the RW and WO mappings are untouched. */
static inline void fuzz_check_ram(const struct harness *h)
{
	const u64 rw_end = FUZZ_RW_GPA + FUZZ_MAP_LEN;
	const u64 wo_end = FUZZ_WO_GPA + FUZZ_MAP_LEN;

	if (memcmp(h->ram, fuzz_reference, FUZZ_RW_GPA) ||
	    memcmp(h->ram + rw_end, fuzz_reference + rw_end,
		   FUZZ_WO_GPA - rw_end) ||
	    memcmp(h->ram + wo_end, fuzz_reference + wo_end,
		   H_RAM_SIZE - wo_end))
		abort();
}

#endif /* PVDMA_FUZZ_MAPS_H */
