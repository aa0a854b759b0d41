/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * pvdma: the one pseudo-random generator of the project's synthetic
 * workloads, benches, tests and fault injection: splitmix64 (Steele, Lea
 * and Flood, "Fast splittable pseudorandom number generators", 2014).
 *
 * Chosen because any 64-bit seed, 0 included, gives a full-period stream
 * and a seeded run is the same on every machine and in the kernel: a
 * workload named by its seed is reproducible. Not for anything secret.
 * Header-only and freestanding so pvdma.ko's self-tests can use it too.
 */
#ifndef PVDMA_PRNG_H
#define PVDMA_PRNG_H

#include "compat.h"

/**
 * struct pvdma_prng - one stream
 * @state:	advanced by the golden-ratio increment each draw
 */
struct pvdma_prng {
	u64 state;
};

/**
 * pvdma_prng_mix - splitmix64's finaliser: a well-mixed function of @z
 *
 * Also usable alone as a hash: the value fixed by a key (a seed and an
 * index) without a stream.
 */
static inline u64 pvdma_prng_mix(u64 z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline void pvdma_prng_seed(struct pvdma_prng *r, u64 seed)
{
	r->state = seed;
}

/* The next 64 random bits. */
static inline u64 pvdma_prng_next(struct pvdma_prng *r)
{
	r->state += 0x9e3779b97f4a7c15ull;
	return pvdma_prng_mix(r->state);
}

/*
 * A value in [0, @n), 0 when @n is 0. Plain modulo: its bias (at most
 * n / 2^64) is far below anything a workload or test can see, and it
 * keeps every seeded sequence the same as the generators it replaced.
 */
static inline u64 pvdma_prng_below(struct pvdma_prng *r, u64 n)
{
	return n ? pvdma_prng_next(r) % n : 0;
}

#endif /* PVDMA_PRNG_H */
