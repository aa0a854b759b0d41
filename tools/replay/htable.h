/* SPDX-License-Identifier: MIT */
/*
 * A small chained hash table keyed by u64, for the replay's lookups of
 * live buffers and invented list entries. Nodes are embedded in the
 * caller's records (first member) and allocated by the caller; the table
 * frees them at the end. Chains are newest first. Not thread-safe.
 */
#ifndef PVDMA_REPLAY_HTABLE_H
#define PVDMA_REPLAY_HTABLE_H

#include <pvdma/compat.h>

struct htable_node {
	struct htable_node *next;
	u64 key;
};

struct htable {
	struct htable_node **buckets;
	u64 mask;		/* buckets - 1, a power of two less one */
	u64 count;		/* nodes linked; unlinking callers drop it */
};

/* The key mixer; the oracle's open-addressing table uses it too. */
static inline u64 htable_hash(u64 key)
{
	key ^= key >> 29;
	key *= 0xbf58476d1ce4e5b9ull;
	key ^= key >> 32;
	return key;
}

/* An empty table. 0, or -1 out of memory. */
int htable_init(struct htable *t);

/* Link @n at the head of its chain (its key set by the caller). */
void htable_insert(struct htable *t, struct htable_node *n);

/* The head of @key's chain, to walk or unlink from. */
static inline struct htable_node **htable_bucket(struct htable *t, u64 key)
{
	return &t->buckets[htable_hash(key) & t->mask];
}

/* free() every node still linked, and the buckets. */
void htable_free_all(struct htable *t);

#endif /* PVDMA_REPLAY_HTABLE_H */
