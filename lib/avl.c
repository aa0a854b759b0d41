// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Intrusive AVL tree. A structural change is repaired in two walks up
 * from the lowest changed node: the first recomputes heights and rotates
 * where a subtree leans by two, and ends at the first node whose height
 * neither changed nor needed a rotation (nothing above it can lean anew);
 * the second recomputes augmented summaries from there and ends at the
 * first that comes out as it was. Both are loops over parent pointers,
 * each step a few loads: an insert's walk is O(1) amortised, an erase's
 * O(log n) at worst, and summaries stay exact without cases per rotation.
 * An insert knows more: the side each step comes up from, and after a
 * rotation every height, so it reads one child per step and none to
 * rotate (keys in order, a FIFO of windows, rotate on every insert).
 */
#include <pvdma/avl.h>

static inline int avl_h(const struct pvdma_avl_node *n)
{
	return n ? n->height : 0;
}

static inline int avl_max(int a, int b)
{
	return a > b ? a : b;
}

/* Point whatever pointed at @old (parent's child or the root) to @new. */
static inline void avl_replace_child(struct pvdma_avl_root *root,
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

/* @n went down a level under @top: recompute both, lower one first. */
static inline void avl_rotated(struct pvdma_avl_node *n,
			       struct pvdma_avl_node *top,
			       pvdma_avl_augment_t aug)
{
	n->height = avl_max(avl_h(n->left), avl_h(n->right)) + 1;
	top->height = avl_max(avl_h(top->left), avl_h(top->right)) + 1;
	if (aug) {
		aug(n);
		aug(top);
	}
}

/* Rotate @n down to the left; its right child takes its place. */
static __always_inline struct pvdma_avl_node *
avl_rotate_left(struct pvdma_avl_root *root,
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
	avl_rotated(n, r, aug);
	return r;
}

static __always_inline struct pvdma_avl_node *
avl_rotate_right(struct pvdma_avl_root *root,
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
	avl_rotated(n, l, aug);
	return l;
}

/* @n leans by two: rotate it (twice if its taller child leans inwards). */
static __always_inline struct pvdma_avl_node *
avl_rebalance_node(struct pvdma_avl_root *root,
		   struct pvdma_avl_node *n,
		   int balance,
		   pvdma_avl_augment_t aug)
{
	if (balance > 0) {
		if (avl_h(n->left->left) < avl_h(n->left->right))
			avl_rotate_left(root, n->left, aug);
		return avl_rotate_right(root, n, aug);
	}
	if (avl_h(n->right->right) < avl_h(n->right->left))
		avl_rotate_right(root, n->right, aug);
	return avl_rotate_left(root, n, aug);
}

/*
 * Heights and balance from @n upwards. A node whose height changed or
 * that rotated has its summary recomputed on the way (its parent sees a
 * new subtree either way); the walk returns the first node whose height
 * stayed, whose summary has not been recomputed yet, or NULL past the root.
 */
static __always_inline struct pvdma_avl_node *
avl_fix_heights(struct pvdma_avl_root *root,
		struct pvdma_avl_node *n,
		pvdma_avl_augment_t aug)
{
	while (n) {
		int l = avl_h(n->left), r = avl_h(n->right);
		int h = avl_max(l, r) + 1;

		if (l - r > 1 || r - l > 1) {
			n = avl_rebalance_node(root, n, l - r, aug);
		} else {
			if (h == n->height)
				return n;
			n->height = h;
			if (aug)
				aug(n);
		}
		n = n->parent;
	}
	return NULL;
}

/* Summaries from @n upwards, until one comes out as it was. */
static __always_inline void avl_fix_summaries(struct pvdma_avl_node *n,
					      pvdma_avl_augment_t aug)
{
	if (!aug)
		return;
	for (; n; n = n->parent)
		if (!aug(n))
			return;
}

static __always_inline void avl_fixup(struct pvdma_avl_root *root,
				      struct pvdma_avl_node *n,
				      pvdma_avl_augment_t aug)
{
	avl_fix_summaries(avl_fix_heights(root, n, aug), aug);
}

/*
 * @n took an erased node's place with that node's height, recomputed
 * here like any; its summary is of its old place and says nothing about
 * whether its parent's changed, so the parent is always recomputed too.
 */
static __always_inline void avl_fixup_moved(struct pvdma_avl_root *root,
					    struct pvdma_avl_node *n,
					    pvdma_avl_augment_t aug)
{
	struct pvdma_avl_node *settled = avl_fix_heights(root, n, aug);

	if (settled == n && aug) {
		aug(n);
		settled = n->parent;
	}
	avl_fix_summaries(settled, aug);
}

/*
 * @x leans by two towards its child @c (@left: the left one) after an
 * insert below @c, which is @h tall: rotate as avl_rebalance_node() would,
 * once if @c leans outwards, else twice through @c's inner child. After
 * an insert the heights are known without reading any: the new top is @h
 * tall (the subtree's height before the insert), the others @h - 1.
 * Summaries from the bottom up. Returns the new top.
 */
static __always_inline struct pvdma_avl_node *
avl_insert_rotate(struct pvdma_avl_root *root,
		  struct pvdma_avl_node *x,
		  struct pvdma_avl_node *c,
		  bool left, int h,
		  pvdma_avl_augment_t aug)
{
	struct pvdma_avl_node *outer = left ? c->left : c->right;
	struct pvdma_avl_node *g = left ? c->right : c->left, *a, *b;

	if (avl_h(outer) >= avl_h(g)) {
		/* once: @c takes @x's place, @x takes @c's inner child */
		avl_replace_child(root, x->parent, x, c);
		if (left) {
			x->left = g;
			c->right = x;
		} else {
			x->right = g;
			c->left = x;
		}
		if (g)
			g->parent = x;
		x->parent = c;
		x->height = h - 1;
		if (aug) {
			aug(x);
			aug(c);
		}
		return c;
	}
	/* twice: @g takes @x's place, its children go to @x and @c */
	a = left ? g->left : g->right;	/* to @c */
	b = left ? g->right : g->left;	/* to @x */
	avl_replace_child(root, x->parent, x, g);
	if (left) {
		c->right = a;
		x->left = b;
		g->left = c;
		g->right = x;
	} else {
		c->left = a;
		x->right = b;
		g->right = c;
		g->left = x;
	}
	if (a)
		a->parent = c;
	if (b)
		b->parent = x;
	c->parent = g;
	x->parent = g;
	c->height = h - 1;
	x->height = h - 1;
	g->height = h;
	if (aug) {
		aug(c);
		aug(x);
		aug(g);
	}
	return g;
}

/*
 * A new leaf: its own summary, then up while each subtree grows. Only a
 * node's other child needs reading: the one it came up from is taller by
 * one than before. The first node whose height stays, or a rotation
 * (which gives the subtree back its old height), ends the walk; the
 * summaries go on from there.
 */
static __always_inline void avl_insert_fixup(struct pvdma_avl_root *root,
					     struct pvdma_avl_node *n,
					     pvdma_avl_augment_t aug)
{
	struct pvdma_avl_node *x = n->parent;

	if (aug)
		aug(n);
	while (x) {
		bool left = x->left == n;
		int h = n->height;

		if (x->height > h)	/* the other side was as tall */
			break;
		if (h - avl_h(left ? x->right : x->left) > 1) {
			x = avl_insert_rotate(root, x, n, left, h, aug)->parent;
			break;
		}
		x->height = h + 1;
		if (aug)
			aug(x);
		n = x;
		x = x->parent;
	}
	avl_fix_summaries(x, aug);
}

/*
 * The repairs are inlined twice, with summaries and without: the
 * planner's window indexes have none, and a test of @aug at every step
 * of a walk is a good part of a step. An insert's copies are functions
 * of their own, so the plain one saves no registers the other needs
 * (its walk is a few steps: the saves were an eighth of it).
 */
static void avl_insert_fixup_plain(struct pvdma_avl_root *root,
				   struct pvdma_avl_node *n)
{
	avl_insert_fixup(root, n, NULL);
}

static void avl_insert_fixup_aug(struct pvdma_avl_root *root,
				 struct pvdma_avl_node *n,
				 pvdma_avl_augment_t aug)
{
	avl_insert_fixup(root, n, aug);
}

void pvdma_avl_insert_fixup(struct pvdma_avl_root *root,
			    struct pvdma_avl_node *n, pvdma_avl_augment_t aug)
{
	if (aug)
		avl_insert_fixup_aug(root, n, aug);
	else
		avl_insert_fixup_plain(root, n);
}

bool pvdma_avl_insert_between(struct pvdma_avl_root *root,
			      struct pvdma_avl_node *n,
			      struct pvdma_avl_node *prev,
			      struct pvdma_avl_node *next,
			      pvdma_avl_augment_t aug)
{
	/*
	 * Of two in-order neighbours, either the first has no right child
	 * or the second (the leftmost of that right subtree) has no left
	 * one: the link a descent would have ended at.
	 */
	if (prev && !prev->right)
		pvdma_avl_link(n, prev, &prev->right);
	else if (next && !next->left)
		pvdma_avl_link(n, next, &next->left);
	else if (!prev && !next && !root->node)
		pvdma_avl_link(n, NULL, &root->node);
	else
		return false;
	pvdma_avl_insert_fixup(root, n, aug);
	return true;
}

void pvdma_avl_propagate(struct pvdma_avl_node *n, pvdma_avl_augment_t aug)
{
	avl_fix_summaries(n, aug);
}

static __always_inline void avl_erase(struct pvdma_avl_root *root,
				      struct pvdma_avl_node *n,
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
	if (start && start != moved)
		avl_fixup(root, start, aug);
	/* The walk from below may have stopped short of the successor. */
	if (moved)
		avl_fixup_moved(root, moved, aug);
}

void pvdma_avl_erase(struct pvdma_avl_root *root, struct pvdma_avl_node *n,
		     pvdma_avl_augment_t aug)
{
	if (aug)
		avl_erase(root, n, aug);
	else
		avl_erase(root, n, NULL);
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
