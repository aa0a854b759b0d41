// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * First-fit address-range allocator over an AVL tree of allocated ranges,
 * each node summarising the largest free gap in its subtree.
 */
#include <pvdma/iova.h>

static inline struct pvdma_iova_node *to_iova(struct pvdma_avl_node *n)
{
	return n ? container_of(n, struct pvdma_iova_node, avl) : NULL;
}

static bool iova_augment(struct pvdma_avl_node *n)
{
	struct pvdma_iova_node *node = to_iova(n);
	u64 max = node->gap, old = node->max_gap;

	if (n->left && to_iova(n->left)->max_gap > max)
		max = to_iova(n->left)->max_gap;
	if (n->right && to_iova(n->right)->max_gap > max)
		max = to_iova(n->right)->max_gap;
	node->max_gap = max;
	return max != old;
}

void pvdma_iova_init(struct pvdma_iova *iova, u64 base, u64 limit, u64 granule)
{
	iova->root.node = NULL;
	iova->base = base;
	iova->limit = limit;
	iova->granule = granule;
	iova->used = 0;
	iova->count = 0;
}

/* Lowest node whose preceding gap is at least @need bytes. */
static struct pvdma_iova_node *iova_lowest_gap(const struct pvdma_iova *iova,
					       u64 need)
{
	struct pvdma_avl_node *n = iova->root.node;

	while (n) {
		if (n->left && to_iova(n->left)->max_gap >= need)
			n = n->left;
		else if (to_iova(n)->gap >= need)
			return to_iova(n);
		else if (n->right && to_iova(n->right)->max_gap >= need)
			n = n->right;
		else
			return NULL;
	}
	return NULL;
}

static u64 iova_tail_start(const struct pvdma_iova *iova)
{
	struct pvdma_iova_node *last = to_iova(pvdma_avl_last(&iova->root));

	return last ? last->end : iova->base;
}

static void iova_insert(struct pvdma_iova *iova, struct pvdma_iova_node *node)
{
	struct pvdma_avl_node **link = &iova->root.node, *parent = NULL;

	while (*link) {
		parent = *link;
		if (node->start < to_iova(parent)->start)
			link = &parent->left;
		else
			link = &parent->right;
	}
	pvdma_avl_link(&node->avl, parent, link);
	pvdma_avl_insert_fixup(&iova->root, &node->avl, iova_augment);
}

/* Lowest node starting at or after @addr, or NULL. */
static struct pvdma_iova_node *iova_first_from(const struct pvdma_iova *iova,
					       u64 addr)
{
	struct pvdma_avl_node *n = iova->root.node, *best = NULL;

	while (n) {
		if (to_iova(n)->start >= addr) {
			best = n;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return to_iova(best);
}

int pvdma_iova_reserve(struct pvdma_iova *iova, struct pvdma_iova_node *node,
		       u64 start, u64 size)
{
	struct pvdma_iova_node *next;
	u64 end, gap_start;

	if (!size || (start | size) & (iova->granule - 1) ||
	    !pvdma_add_ok(start, size, &end) || start < iova->base ||
	    end > iova->limit)
		return -EINVAL;
	/* The range is free iff it lies in the gap before its successor. */
	next = iova_first_from(iova, start);
	gap_start = next ? next->start - next->gap : iova_tail_start(iova);
	if (gap_start > start || (next && next->start < end))
		return -EBUSY;
	node->start = start;
	node->end = end;
	node->gap = start - gap_start;
	if (next) {
		next->gap = next->start - end;
		pvdma_avl_propagate(&next->avl, iova_augment);
	}
	iova_insert(iova, node);
	iova->used += size;
	iova->count++;
	return 0;
}

/* The lowest address >= @from that is @offset modulo @align. */
static u64 iova_align_from(u64 from, u64 align, u64 offset)
{
	if (from <= offset)
		return offset;
	return PVDMA_ALIGN_UP(from - offset, align) + offset;
}

/* Does the gap [gap_start, gap_end) hold the range, aligned? Sets *start. */
static bool iova_gap_fits(u64 gap_start, u64 gap_end, u64 size, u64 align,
			  u64 offset, u64 *start)
{
	u64 s = iova_align_from(gap_start, align, offset), end;

	if (s < gap_start || !pvdma_add_ok(s, size, &end) || end > gap_end)
		return false;
	*start = s;
	return true;
}

/*
 * No gap is long enough to hold the range wherever the alignment puts it
 * (size + align - granule); a shorter one may still hold it where it lands.
 * Try the lowest gaps of at least @size exactly, at most IOVA_FIT_SCAN
 * ranges along: a fragmented space costs a bounded walk, not all of it.
 * Sets *next (NULL: the tail) and *start; false if none was found.
 */
#define IOVA_FIT_SCAN	64

static bool iova_exact_fit(const struct pvdma_iova *iova, u64 size, u64 align,
			   u64 offset, struct pvdma_iova_node **next, u64 *start)
{
	struct pvdma_iova_node *n = iova_lowest_gap(iova, size);
	unsigned int walked;

	for (walked = 0; n && walked < IOVA_FIT_SCAN; walked++) {
		if (n->gap >= size &&
		    iova_gap_fits(n->start - n->gap, n->start, size, align,
				  offset, start)) {
			*next = n;
			return true;
		}
		n = to_iova(pvdma_avl_next(&n->avl));
	}
	if (n)
		return false;
	*next = NULL;
	return iova_gap_fits(iova_tail_start(iova), iova->limit, size, align,
			     offset, start);
}

int pvdma_iova_alloc(struct pvdma_iova *iova, struct pvdma_iova_node *node,
		     u64 size, u64 align, u64 offset)
{
	struct pvdma_iova_node *next;
	u64 need, gap_start, start;

	if (!size || size > iova->limit - iova->base)
		return -EINVAL;
	size = PVDMA_ALIGN_UP(size, iova->granule);
	if (align < iova->granule)
		align = iova->granule;
	if (!PVDMA_IS_POW2(align) || offset >= align ||
	    offset & (iova->granule - 1))
		return -EINVAL;
	/* Any gap this long holds an aligned range, wherever it starts. */
	need = size + align - iova->granule;

	next = iova_lowest_gap(iova, need);
	if (next) {
		gap_start = next->start - next->gap;
		start = iova_align_from(gap_start, align, offset);
	} else if (iova->limit - iova_tail_start(iova) >= need) {
		gap_start = iova_tail_start(iova);
		start = iova_align_from(gap_start, align, offset);
	} else if (align > iova->granule &&
		   iova_exact_fit(iova, size, align, offset, &next, &start)) {
		gap_start = next ? next->start - next->gap : iova_tail_start(iova);
	} else {
		return -ENOSPC;
	}

	node->start = start;
	node->end = start + size;
	node->gap = start - gap_start;
	if (next) {
		next->gap = next->start - node->end;
		pvdma_avl_propagate(&next->avl, iova_augment);
	}
	iova_insert(iova, node);
	iova->used += size;
	iova->count++;
	return 0;
}

void pvdma_iova_free(struct pvdma_iova *iova, struct pvdma_iova_node *node)
{
	struct pvdma_iova_node *next = to_iova(pvdma_avl_next(&node->avl));

	if (next)
		next->gap += node->gap + (node->end - node->start);
	pvdma_avl_erase(&iova->root, &node->avl, iova_augment);
	if (next)
		pvdma_avl_propagate(&next->avl, iova_augment);
	iova->used -= node->end - node->start;
	iova->count--;
}

struct pvdma_iova_node *pvdma_iova_find(const struct pvdma_iova *iova, u64 addr)
{
	struct pvdma_avl_node *n = iova->root.node;

	while (n) {
		struct pvdma_iova_node *node = to_iova(n);

		if (addr < node->start)
			n = n->left;
		else if (addr >= node->end)
			n = n->right;
		else
			return node;
	}
	return NULL;
}

u64 pvdma_iova_largest_gap(const struct pvdma_iova *iova)
{
	u64 tail = iova->limit - iova_tail_start(iova);
	u64 inner = iova->root.node ? to_iova(iova->root.node)->max_gap : 0;

	return PVDMA_MAX(tail, inner);
}
