/* SPDX-License-Identifier: MIT */
/*
 * pvdma user space: the one way a growing array gets more room. Capacity
 * doubles (from 64), so n appends cost O(n) copies; a size that would not
 * fit in memory is refused, never wrapped.
 */
#ifndef PVDMA_COMMON_ARRAY_H
#define PVDMA_COMMON_ARRAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

/* Room for @need elements of @size bytes at *@arr (*@cap of them now). */
static inline bool array_grow(void **arr, uint64_t *cap, uint64_t need,
			      size_t size)
{
	uint64_t n = *cap ? *cap : 64;
	void *p;

	if (need <= *cap)
		return true;
	while (n < need) {
		if (n > UINT64_MAX / 2)
			return false;
		n *= 2;
	}
	if (!size || n > SIZE_MAX / size)
		return false;
	p = realloc(*arr, n * size);
	if (!p)
		return false;
	*arr = p;
	*cap = n;
	return true;
}

#endif /* PVDMA_COMMON_ARRAY_H */
