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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_ops),
		cmocka_unit_test(test_walk_backwards),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
