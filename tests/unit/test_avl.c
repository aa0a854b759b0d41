// SPDX-License-Identifier: MIT
/* AVL tree: order, balance and augmentation under random inserts/erases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>

#include <pvdma/avl.h>
#include <pvdma/prng.h>

/* The one stream of this file's random runs, seeded by each. */
static struct pvdma_prng rng;

struct item {
	struct pvdma_avl_node node;
	int key;
	int subtree_size;	/* augmented: nodes in this subtree */
	int weight;
	int max_weight;		/* augmented: largest weight in this subtree */
	int in_tree;
};

static struct item *to_item(struct pvdma_avl_node *n)
{
	return n ? container_of(n, struct item, node) : NULL;
}

static bool size_augment(struct pvdma_avl_node *n)
{
	int s = 1, old = to_item(n)->subtree_size;

	if (n->left)
		s += to_item(n->left)->subtree_size;
	if (n->right)
		s += to_item(n->right)->subtree_size;
	to_item(n)->subtree_size = s;
	return s != old;
}

static void insert(struct pvdma_avl_root *root, struct item *it)
{
	struct pvdma_avl_node **link = &root->node, *parent = NULL;

	while (*link) {
		parent = *link;
		link = it->key < to_item(parent)->key ? &parent->left : &parent->right;
	}
	pvdma_avl_link(&it->node, parent, link);
	pvdma_avl_insert_fixup(root, &it->node, size_augment);
	it->in_tree = 1;
}

/* Checks heights, balance, parent links and augmentation; returns height. */
static int check(struct pvdma_avl_node *n, struct pvdma_avl_node *parent,
		 int *count)
{
	int l, r;

	if (!n)
		return 0;
	assert_ptr_equal(n->parent, parent);
	l = check(n->left, n, count);
	r = check(n->right, n, count);
	assert_true(abs(l - r) <= 1);
	assert_int_equal(n->height, (l > r ? l : r) + 1);
	assert_int_equal(to_item(n)->subtree_size,
			 1 + (n->left ? to_item(n->left)->subtree_size : 0) +
			 (n->right ? to_item(n->right)->subtree_size : 0));
	(*count)++;
	return n->height;
}

static void test_random_ops(void **state)
{
	enum { N = 2000 };
	static struct item items[N];
	struct pvdma_avl_root root = { NULL };
	int i, round, live = 0;

	pvdma_prng_seed(&rng, 1);
	for (i = 0; i < N; i++) {
		/* duplicates on purpose */
		items[i].key = pvdma_prng_below(&rng, 500);
		items[i].in_tree = 0;
	}
	for (round = 0; round < 20000; round++) {
		struct item *it = &items[pvdma_prng_below(&rng, N)];
		int count = 0, prev = -1;
		struct pvdma_avl_node *n;

		if (it->in_tree) {
			pvdma_avl_erase(&root, &it->node, size_augment);
			it->in_tree = 0;
			live--;
		} else {
			insert(&root, it);
			live++;
		}
		if (round % 97)
			continue;
		check(root.node, NULL, &count);
		assert_int_equal(count, live);
		for (n = pvdma_avl_first(&root); n; n = pvdma_avl_next(n)) {
			assert_true(to_item(n)->key >= prev);
			prev = to_item(n)->key;
		}
	}
	/* O(log n): an AVL tree is at most ~1.44 log2(n + 2) high. */
	assert_true(pvdma_avl_height(&root) <= 16);
}

/*
 * Inserts between the neighbours a search found (the planner's misses do
 * this with the lookup's floor and its successor) need no descent: every
 * one links, and the tree is the same as with descents, node for node.
 */
static void test_insert_between(void **state)
{
	enum { N = 3000 };
	static struct item a[N], b[N];
	struct pvdma_avl_root ra = { NULL }, rb = { NULL };
	struct pvdma_avl_node *na, *nb;
	int i, count = 0;

	pvdma_prng_seed(&rng, 7);
	for (i = 0; i < N; i++) {
		struct pvdma_avl_node *n = ra.node, *prev = NULL, *next;

		/* unique keys in random order */
		a[i].key = (int)(pvdma_prng_below(&rng, 1u << 18) << 12) + i;
		b[i].key = a[i].key;
		while (n) {	/* the floor, as a lookup finds it */
			if (to_item(n)->key <= a[i].key) {
				prev = n;
				n = n->right;
			} else {
				n = n->left;
			}
		}
		next = prev ? pvdma_avl_next(prev) : pvdma_avl_first(&ra);
		assert_true(pvdma_avl_insert_between(&ra, &a[i].node, prev,
						     next, size_augment));
		insert(&rb, &b[i]);
	}
	check(ra.node, NULL, &count);
	assert_int_equal(count, N);
	for (na = pvdma_avl_first(&ra), nb = pvdma_avl_first(&rb); na && nb;
	     na = pvdma_avl_next(na), nb = pvdma_avl_next(nb)) {
		assert_int_equal(to_item(na)->key, to_item(nb)->key);
		assert_int_equal(na->height, nb->height);
	}
	assert_null(na);
	assert_null(nb);
	/* not neighbours (the root has both children): refused */
	{
		static struct item extra;

		extra.node.parent = &extra.node;
		assert_false(pvdma_avl_insert_between(&ra, &extra.node, ra.node,
						      ra.node, size_augment));
		assert_ptr_equal(extra.node.parent, &extra.node);
		count = 0;
		check(ra.node, NULL, &count);
		assert_int_equal(count, N);
	}
}

static void test_walk_backwards(void **state)
{
	static struct item items[100];
	struct pvdma_avl_root root = { NULL };
	struct pvdma_avl_node *n;
	int i, expect = 99;

	for (i = 0; i < 100; i++) {
		items[i].key = i;
		insert(&root, &items[i]);
	}
	for (n = pvdma_avl_last(&root); n; n = pvdma_avl_prev(n))
		assert_int_equal(to_item(n)->key, expect--);
	assert_int_equal(expect, -1);
	assert_true(pvdma_avl_height(&root) <= 8);
}

/*
 * The reference: a textbook recursive AVL tree over the same unique keys,
 * nodes by key, -1 for none. It rotates by the same rule (the taller
 * child leaning inwards means a double rotation) and erases a node with
 * two children by putting its in-order successor in its place, so after
 * any sequence of operations its shape must be the library's, node for node.
 */
enum { REF_N = 600 };

struct ref_node {
	int left, right, height;
};

static struct ref_node ref[REF_N];

static int ref_h(int k)
{
	return k < 0 ? 0 : ref[k].height;
}

static void ref_update(int k)
{
	int l = ref_h(ref[k].left), r = ref_h(ref[k].right);

	ref[k].height = (l > r ? l : r) + 1;
}

static int ref_rot_right(int k)
{
	int l = ref[k].left;

	ref[k].left = ref[l].right;
	ref[l].right = k;
	ref_update(k);
	ref_update(l);
	return l;
}

static int ref_rot_left(int k)
{
	int r = ref[k].right;

	ref[k].right = ref[r].left;
	ref[r].left = k;
	ref_update(k);
	ref_update(r);
	return r;
}

static int ref_balance(int k)
{
	int l = ref[k].left, r = ref[k].right;

	ref_update(k);
	if (ref_h(l) - ref_h(r) > 1) {
		if (ref_h(ref[l].left) < ref_h(ref[l].right))
			ref[k].left = ref_rot_left(l);
		return ref_rot_right(k);
	}
	if (ref_h(r) - ref_h(l) > 1) {
		if (ref_h(ref[r].right) < ref_h(ref[r].left))
			ref[k].right = ref_rot_right(r);
		return ref_rot_left(k);
	}
	return k;
}

static int ref_insert(int t, int k)
{
	if (t < 0) {
		ref[k].left = ref[k].right = -1;
		ref[k].height = 1;
		return k;
	}
	if (k < t)
		ref[t].left = ref_insert(ref[t].left, k);
	else
		ref[t].right = ref_insert(ref[t].right, k);
	return ref_balance(t);
}

/* Unlink the smallest key of @t into *@min; the rebalanced rest. */
static int ref_take_min(int t, int *min)
{
	if (ref[t].left < 0) {
		*min = t;
		return ref[t].right;
	}
	ref[t].left = ref_take_min(ref[t].left, min);
	return ref_balance(t);
}

static int ref_erase(int t, int k)
{
	int s;

	if (k < t) {
		ref[t].left = ref_erase(ref[t].left, k);
	} else if (k > t) {
		ref[t].right = ref_erase(ref[t].right, k);
	} else {
		if (ref[t].left < 0 || ref[t].right < 0)
			return ref[t].left < 0 ? ref[t].right : ref[t].left;
		ref[t].right = ref_take_min(ref[t].right, &s);
		ref[s].left = ref[t].left;
		ref[s].right = ref[t].right;
		t = s;
	}
	return ref_balance(t);
}

/* Augmented: the largest weight in the subtree, which often stays put. */
static bool max_augment(struct pvdma_avl_node *n)
{
	int m = to_item(n)->weight, old = to_item(n)->max_weight;

	if (n->left && to_item(n->left)->max_weight > m)
		m = to_item(n->left)->max_weight;
	if (n->right && to_item(n->right)->max_weight > m)
		m = to_item(n->right)->max_weight;
	to_item(n)->max_weight = m;
	return m != old;
}

static int key_of(struct pvdma_avl_node *n)
{
	return n ? to_item(n)->key : -1;
}

/*
 * Same shape as the reference; each node's max_weight recomputed here
 * and, if @summed, checked.
 */
static int check_against_ref(struct pvdma_avl_node *n, int k, bool summed)
{
	int m;

	if (!n) {
		assert_int_equal(k, -1);
		return -1;
	}
	assert_int_equal(key_of(n), k);
	assert_int_equal(key_of(n->left), ref[k].left);
	assert_int_equal(key_of(n->right), ref[k].right);
	assert_int_equal(n->height, ref[k].height);
	if (n->left)
		assert_ptr_equal(n->left->parent, n);
	if (n->right)
		assert_ptr_equal(n->right->parent, n);
	m = to_item(n)->weight;
	if (n->left) {
		int l = check_against_ref(n->left, ref[k].left, summed);

		m = l > m ? l : m;
	}
	if (n->right) {
		int r = check_against_ref(n->right, ref[k].right, summed);

		m = r > m ? r : m;
	}
	if (summed)
		assert_int_equal(to_item(n)->max_weight, m);
	return m;
}

static void insert_aug(struct pvdma_avl_root *root, struct item *it,
		       pvdma_avl_augment_t aug)
{
	struct pvdma_avl_node **link = &root->node, *parent = NULL;

	while (*link) {
		parent = *link;
		link = it->key < to_item(parent)->key ? &parent->left : &parent->right;
	}
	pvdma_avl_link(&it->node, parent, link);
	pvdma_avl_insert_fixup(root, &it->node, aug);
	it->in_tree = 1;
}

/*
 * Random inserts, erases and weight changes against the reference, in
 * three key patterns: random, ascending with erases from the bottom (a
 * FIFO of windows) and descending, with @aug's summaries or none (the
 * tree inlines its repairs once for each). Every step checks the whole
 * shape, every height, parent link and summary.
 */
static void run_against_ref(u64 seed, int pattern, pvdma_avl_augment_t aug)
{
	static struct item items[REF_N];
	struct pvdma_avl_root root = { NULL };
	int ref_root = -1, i, step, next = 0, oldest = 0;

	pvdma_prng_seed(&rng, seed);
	for (i = 0; i < REF_N; i++) {
		items[i].key = pattern == 2 ? REF_N - 1 - i : i;
		items[i].weight = pvdma_prng_below(&rng, 1000);
		items[i].max_weight = 0;
		items[i].in_tree = 0;
	}
	for (step = 0; step < 4000; step++) {
		unsigned int op = pvdma_prng_below(&rng, 10);
		struct item *it;

		if (pattern == 0)
			it = &items[pvdma_prng_below(&rng, REF_N)];
		else if (op < 6 && next < REF_N)
			it = &items[next++];
		else if (oldest < next)
			it = &items[oldest++];
		else
			break;
		if (op == 9 && it->in_tree) {
			/* the node's own input changed, not the shape */
			it->weight = pvdma_prng_below(&rng, 1000);
			if (aug)
				pvdma_avl_propagate(&it->node, aug);
		} else if (it->in_tree) {
			pvdma_avl_erase(&root, &it->node, aug);
			ref_root = ref_erase(ref_root, it->key);
			it->in_tree = 0;
		} else if (pattern == 0 || it == &items[next - 1]) {
			insert_aug(&root, it, aug);
			ref_root = ref_insert(ref_root, it->key);
		}
		assert_int_equal(key_of(root.node), ref_root);
		if (root.node)
			assert_null(root.node->parent);
		check_against_ref(root.node, ref_root, aug != NULL);
	}
}

static void test_same_shape_as_reference(void **state)
{
	u64 seed;

	/* and without summaries: a copy of the repairs of its own */
	for (seed = 1; seed <= 6; seed++) {
		run_against_ref(seed, 0, max_augment);
		run_against_ref(seed, 1, max_augment);
		run_against_ref(seed, 2, max_augment);
		run_against_ref(seed, 0, NULL);
		run_against_ref(seed, 1, NULL);
		run_against_ref(seed, 2, NULL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_ops),
		cmocka_unit_test(test_insert_between),
		cmocka_unit_test(test_walk_backwards),
		cmocka_unit_test(test_same_shape_as_reference),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
