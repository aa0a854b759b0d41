/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Intrusive AVL tree with an optional augmentation callback.
 *
 * Like the kernel's rbtree, the caller does the descent (it knows the key)
 * and links the node, then calls pvdma_avl_insert_fixup(); the tree only
 * balances. An augment callback recomputes a node's summary from its
 * children (e.g. the largest free gap below it) and is called on every node
 * whose subtree changed, so summaries stay exact in O(log n).
 * The caller serialises access.
 */
#ifndef PVDMA_AVL_H
#define PVDMA_AVL_H

#include "compat.h"

struct pvdma_avl_node {
	struct pvdma_avl_node *left;
	struct pvdma_avl_node *right;
	struct pvdma_avl_node *parent;
	int height;
};

struct pvdma_avl_root {
	struct pvdma_avl_node *node;
};

/*
 * Recompute @n's augmented fields from n->left and n->right; return
 * true if they changed.
 */
typedef bool (*pvdma_avl_augment_t)(struct pvdma_avl_node *n);

static inline void pvdma_avl_link(struct pvdma_avl_node *n,
				  struct pvdma_avl_node *parent,
				  struct pvdma_avl_node **link)
{
	n->left = NULL;
	n->right = NULL;
	n->parent = parent;
	n->height = 1;
	*link = n;
}

void pvdma_avl_insert_fixup(struct pvdma_avl_root *root,
			    struct pvdma_avl_node *n, pvdma_avl_augment_t aug);
/*
 * Link and balance @n between @prev and @next, neighbours in order
 * (either NULL at that end of the tree, both for an empty tree), with
 * @n's key between theirs: no descent. The caller knows they are
 * neighbours; false, and nothing done, if neither has a free link on
 * @n's side (they were not).
 */
bool pvdma_avl_insert_between(struct pvdma_avl_root *root,
			      struct pvdma_avl_node *n,
			      struct pvdma_avl_node *prev,
			      struct pvdma_avl_node *next,
			      pvdma_avl_augment_t aug);
void pvdma_avl_erase(struct pvdma_avl_root *root, struct pvdma_avl_node *n,
		     pvdma_avl_augment_t aug);
/* @n's own augmented inputs changed: recompute it and its ancestors. */
void pvdma_avl_propagate(struct pvdma_avl_node *n, pvdma_avl_augment_t aug);

struct pvdma_avl_node *pvdma_avl_first(const struct pvdma_avl_root *root);
struct pvdma_avl_node *pvdma_avl_last(const struct pvdma_avl_root *root);
struct pvdma_avl_node *pvdma_avl_next(const struct pvdma_avl_node *n);
struct pvdma_avl_node *pvdma_avl_prev(const struct pvdma_avl_node *n);

/* Height of the tree (0 when empty), for tests of the O(log n) bound. */
static inline int pvdma_avl_height(const struct pvdma_avl_root *root)
{
	return root->node ? root->node->height : 0;
}

#endif /* PVDMA_AVL_H */
