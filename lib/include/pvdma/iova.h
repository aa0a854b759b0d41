/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Address-range allocator: hands out [start, end) ranges of an address
 * space (the DART's bus space, the bounce pool) first-fit from the lowest
 * address, in O(log n).
 *
 * Allocated ranges live in an AVL tree ordered by address. Each node keeps
 * the free gap just before it and the largest such gap in its subtree (the
 * scheme of the kernel's VMA tree), so the lowest gap that fits is found by
 * one descent. Nodes are embedded in the caller's records; the allocator
 * never allocates. The caller serialises access.
 */
#ifndef PVDMA_IOVA_H
#define PVDMA_IOVA_H

#include "avl.h"

struct pvdma_iova_node {
	struct pvdma_avl_node avl;
	u64 start;		/* first address */
	u64 end;		/* one past the last */
	u64 gap;		/* free bytes between the previous range and start */
	u64 max_gap;		/* largest @gap in this subtree */
};

/**
 * struct pvdma_iova - one address space
 * @root:	allocated ranges by address
 * @base:	lowest address handed out
 * @limit:	one past the highest
 * @granule:	every start and length is a multiple (power of two)
 * @used:	bytes allocated
 * @count:	ranges allocated
 */
struct pvdma_iova {
	struct pvdma_avl_root root;
	u64 base;
	u64 limit;
	u64 granule;
	u64 used;
	u32 count;
};

void pvdma_iova_init(struct pvdma_iova *iova, u64 base, u64 limit, u64 granule);

/*
 * pvdma_iova_alloc - allocate @size bytes (rounded up to the granule) whose
 * start is a multiple of @align (0 or a power of two >= granule) plus
 * @offset (< align, a granule multiple): the lowest such range in the
 * lowest gap that holds it wherever the alignment lands (size + align -
 * granule long), else one found exactly in the lowest gaps of at least
 * @size (a bounded walk). Fills node->start/end. Returns 0, -EINVAL, or
 * -ENOSPC if none was found.
 */
int pvdma_iova_alloc(struct pvdma_iova *iova, struct pvdma_iova_node *node,
		     u64 size, u64 align, u64 offset);
/*
 * pvdma_iova_reserve - take exactly [start, start + size) (granule
 * multiples, inside the space), as when re-creating a known mapping.
 * Returns 0, -EINVAL, or -EBUSY if any of it is allocated.
 */
int pvdma_iova_reserve(struct pvdma_iova *iova, struct pvdma_iova_node *node,
		       u64 start, u64 size);
void pvdma_iova_free(struct pvdma_iova *iova, struct pvdma_iova_node *node);

/* The allocated range containing @addr, or NULL. */
struct pvdma_iova_node *pvdma_iova_find(const struct pvdma_iova *iova, u64 addr);

/* Largest free gap, in bytes (a measure of fragmentation). */
u64 pvdma_iova_largest_gap(const struct pvdma_iova *iova);

#endif /* PVDMA_IOVA_H */
