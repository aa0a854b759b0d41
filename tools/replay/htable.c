// SPDX-License-Identifier: MIT
/*
 * The replay's chained hash table (see htable.h). It doubles when it holds
 * more nodes than buckets; a failed doubling keeps the longer chains,
 * which stay correct.
 */
#include "htable.h"

#include <stdlib.h>

int htable_init(struct htable *t)
{
	t->mask = 1023;
	t->count = 0;
	t->buckets = calloc(t->mask + 1, sizeof(*t->buckets));
	return t->buckets ? 0 : -1;
}

static void htable_grow(struct htable *t)
{
	u64 mask = t->mask * 2 + 1, i;
	struct htable_node **b = calloc(mask + 1, sizeof(*b));

	if (!b)
		return;		/* keep the long chains; still correct */
	for (i = 0; i <= t->mask; i++) {
		struct htable_node *n = t->buckets[i], *next;

		for (; n; n = next) {
			next = n->next;
			n->next = b[htable_hash(n->key) & mask];
			b[htable_hash(n->key) & mask] = n;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->mask = mask;
}

/* Newest first: a buffer mapped twice is unmapped last-in first-out. */
void htable_insert(struct htable *t, struct htable_node *n)
{
	struct htable_node **head;

	if (t->count > t->mask)
		htable_grow(t);
	head = &t->buckets[htable_hash(n->key) & t->mask];
	n->next = *head;
	*head = n;
	t->count++;
}

void htable_free_all(struct htable *t)
{
	u64 i;

	for (i = 0; t->buckets && i <= t->mask; i++) {
		struct htable_node *n = t->buckets[i], *next;

		for (; n; n = next) {
			next = n->next;
			free(n);
		}
	}
	free(t->buckets);
	t->buckets = NULL;
}
