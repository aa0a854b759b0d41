// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Intrusive AVL tree. Every structural change ends with one walk up from
 * the lowest changed node that recomputes heights and augmented summaries
 * and rotates where a subtree leans by two, until a node comes out as it
 * was: O(log n), and the augmented values are exact without special cases
 * per rotation.
 */
#include <pvdma/avl.h>

static inline int avl_h(const struct pvdma_avl_node *n)
{
	return n ? n->height : 0;
}

/* Recompute @n's height and summary; true if either changed. */
static bool avl_update(struct pvdma_avl_node *n, pvdma_avl_augment_t aug)
{
	int l = avl_h(n->left), r = avl_h(n->right), old = n->height;
	bool changed;

	n->height = (l > r ? l : r) + 1;
	changed = n->height != old;
	if (aug && aug(n))
		changed = true;
	return changed;
}

/* Point whatever pointed at @old (parent's child or the root) to @new. */
static void avl_replace_child(struct pvdma_avl_root *root,
			      struct pvdma_avl_node *parent,
			      struct pvdma_avl_node *old,
			      struct pvdma_avl_node *new)
{
	if (!parent)
		root->node = new;
	else if (parent->left == old)
		parent->left = new;
	else
		parent->right = new;
	if (new)
		new->parent = parent;
}

/* Rotate @n down to the left; its right child takes its place. */
static struct pvdma_avl_node *avl_rotate_left(struct pvdma_avl_root *root,
					      struct pvdma_avl_node *n,
					      pvdma_avl_augment_t aug)
{
	struct pvdma_avl_node *r = n->right;

	avl_replace_child(root, n->parent, n, r);
	n->right = r->left;
	if (r->left)
		r->left->parent = n;
	r->left = n;
	n->parent = r;
	avl_update(n, aug);
	avl_update(r, aug);
	return r;
}

static struct pvdma_avl_node *avl_rotate_right(struct pvdma_avl_root *root,
					       struct pvdma_avl_node *n,
					       pvdma_avl_augment_t aug)
{
	struct pvdma_avl_node *l = n->left;

	avl_replace_child(root, n->parent, n, l);
	n->left = l->right;
	if (l->right)
		l->right->parent = n;
	l->right = n;
	n->parent = l;
	avl_update(n, aug);
	avl_update(l, aug);
	return l;
}

/*
 * Restore balance and summaries from @n upwards. @n itself is always
 * recomputed; above it the walk stops at the first node that neither
 * changed nor rotated, since its ancestors only see its height and summary.
 */
static void avl_fixup(struct pvdma_avl_root *root, struct pvdma_avl_node *n,
		      pvdma_avl_augment_t aug)
{
	bool first = true;

	while (n) {
		bool changed = avl_update(n, aug);
		int balance = avl_h(n->left) - avl_h(n->right);

		if (balance > 1) {
			if (avl_h(n->left->left) < avl_h(n->left->right))
				avl_rotate_left(root, n->left, aug);
			n = avl_rotate_right(root, n, aug);
			changed = true;
		} else if (balance < -1) {
			if (avl_h(n->right->right) < avl_h(n->right->left))
				avl_rotate_right(root, n->right, aug);
			n = avl_rotate_left(root, n, aug);
			changed = true;
		}
		if (!changed && !first)
			return;
		first = false;
		n = n->parent;
	}
}

void pvdma_avl_insert_fixup(struct pvdma_avl_root *root,
			    struct pvdma_avl_node *n, pvdma_avl_augment_t aug)
{
	avl_fixup(root, n, aug);
}

void pvdma_avl_propagate(struct pvdma_avl_node *n, pvdma_avl_augment_t aug)
{
	for (; n; n = n->parent)
		if (!avl_update(n, aug))
			return;
}

void pvdma_avl_erase(struct pvdma_avl_root *root, struct pvdma_avl_node *n,
		     pvdma_avl_augment_t aug)
{
	struct pvdma_avl_node *start, *moved = NULL;

	if (n->left && n->right) {
		/* Swap in the in-order successor, which has no left child. */
		struct pvdma_avl_node *s = n->right;

		while (s->left)
			s = s->left;
		if (s->parent == n) {
			start = s;
		} else {
			start = s->parent;
			start->left = s->right;
			if (s->right)
				s->right->parent = start;
			s->right = n->right;
			n->right->parent = s;
		}
		s->left = n->left;
		n->left->parent = s;
		s->height = n->height;
		avl_replace_child(root, n->parent, n, s);
		moved = s;	/* its summary is of its old place */
	} else {
		struct pvdma_avl_node *child = n->left ? n->left : n->right;

		start = n->parent;
		avl_replace_child(root, n->parent, n, child);
	}
	n->left = NULL;
	n->right = NULL;
	n->parent = NULL;
	avl_fixup(root, start, aug);
	if (moved && moved != start)
		avl_fixup(root, moved, aug);
}

struct pvdma_avl_node *pvdma_avl_first(const struct pvdma_avl_root *root)
{
	struct pvdma_avl_node *n = root->node;

	while (n && n->left)
		n = n->left;
	return n;
}

struct pvdma_avl_node *pvdma_avl_last(const struct pvdma_avl_root *root)
{
	struct pvdma_avl_node *n = root->node;

	while (n && n->right)
		n = n->right;
	return n;
}

struct pvdma_avl_node *pvdma_avl_next(const struct pvdma_avl_node *n)
{
	if (n->right) {
		n = n->right;
		while (n->left)
			n = n->left;
		return (struct pvdma_avl_node *)n;
	}
	while (n->parent && n->parent->right == n)
		n = n->parent;
	return n->parent;
}

struct pvdma_avl_node *pvdma_avl_prev(const struct pvdma_avl_node *n)
{
	if (n->left) {
		n = n->left;
		while (n->right)
			n = n->right;
		return (struct pvdma_avl_node *)n;
	}
	while (n->parent && n->parent->left == n)
		n = n->parent;
	return n->parent;
}
