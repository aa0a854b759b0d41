// SPDX-License-Identifier: MIT
/*
 * Synthetic workloads, generated one event at a time (nothing but the
 * live set is held in memory).
 *
 * over-aperture: buffers of 4..64 KiB (page multiples), each at a random
 *	page of its own 256 KiB block, as many as make 2x the aperture. They
 *	are mapped in order, twice round; the oldest is unmapped whenever
 *	mapping the next would take the live bytes above 3/4 of the
 *	aperture. The raw live set fits, but 16 KiB rounding or 256 KiB
 *	windows do not: this is the pinned-working-set game that "won't
 *	start" on the original.
 * churn: @ops random operations. While fewer than CHURN_LIVE buffers are
 *	live a map is likelier, above it an unmap; the buffer unmapped is
 *	a random live one (random lifetimes). Sizes are log-uniform from
 *	4 KiB to 4 MiB; one map in eight is a scatter-gather list of 2..16
 *	scattered entries. Addresses are random pages in a 64 GiB range, so
 *	buffers may share 16 KiB pages, as real ones do.
 * storm4k: one live 4 KiB buffer at a random page of each 256 KiB block,
 *	2x aperture / 256 KiB of them (12288 at 1.5 GiB), all mapped, then
 *	all unmapped, twice. 48 MiB of data that the original's 256 KiB
 *	windows turn into 3 GiB.
 *
 * The workload classes A-L (docs/performance.md, "Planner v2"), written
 * as a script of maps, syncs and unmaps built at rewind; sizes scale with the
 * aperture, addresses and orders come from the seed:
 * a-stream	2 MiB single maps at ascending consecutive addresses, 3/4 of
 *		the aperture, kept until exit (managed memory, bulk allocs)
 * a-descend	the same, descending
 * a-scatter	the same chunks at scattered addresses, 1.6x the aperture:
 *		some must fail whatever the policy
 * a-fill	a context's scattered pages (c-context), then 2 MiB pinned
 *		buffers a page apart, rising (one in three a list of two
 *		pieces), to 1.6x the aperture, all kept: the stream reaches
 *		a full aperture, and some must fail whatever the policy
 * b-pinned	a pinned-memory caching allocator filling up: 2 MiB singles
 *		and lists of 2-3 entries of 0.1-2 MiB walking down and
 *		zig-zag through 3/8 of the aperture in 4 MiB steps
 * c-context	GPU-context creation: hundreds of scattered 4 KiB singles
 *		and a few dozen short lists in six 32 MiB clusters over an
 *		8 GiB span
 * d-multictx	four processes each create a context, then lists of
 *		scattered 4 KiB pageable pages (1-4 per 16 KiB page, in runs
 *		of 1-8 such pages) arrive until their 16 KiB pages fill 7/8
 *		of the aperture
 * e-upload	persistent upload heaps (lists of thousands of 4 KiB pages)
 *		together 1.4x the aperture, and a transient list per frame
 * f-longlists	lists of 30-1000 pages of a 64 MiB pool, mapped and
 *		unmapped four calls later
 * g-pool	~1 MiB pinned buffers (lists of 2-4 pieces), 1.6x the
 *		aperture, all live at once, synced, unmapped at the end
 * h-keep	a pinned pool of buffers of log-uniform sizes, 64 KiB to
 *		1/16 of the aperture (96 MiB of 1.5 GiB; one in three a
 *		list of 2-4 pieces), at scattered
 *		addresses, 2x the aperture, kept until the pool is emptied
 *		at the end: past the full aperture the count of failed
 *		maps depends on which maps took the last room
 * h-lists	the same with lists of power-of-two sizes, 1 MiB to 1/12
 *		of the aperture (128 MiB of 1.5 GiB), in scattered pieces
 *		of 64 KiB to 2 MiB
 * i-infer	an inference loop: a context, then requests of random
 *		batch sizes, pinned by two loader workers in cached
 *		power-of-two buffers, outputs copied into fresh pinned
 *		buffers (reused once free) or pageable pages
 * j-texture	a texture streamer: 1 MiB pinned buffers to 4/5 of the
 *		aperture, half freed at random, twice, beside staging
 *		buffers of 4 MiB to 1/6 of it registered for one upload
 * k-regbatch	register per batch: a fresh 4-48 MiB array registered
 *		for each copy, mostly 2 MiB huge pages, freed ones handed
 *		out again, some new ones each batch near the last new ones
 * j-stream	j-texture's streamer with its staging ranges (1/6 of the
 *		aperture down to 1/384) all from one region of 2/3 of it,
 *		at random pages, registered for one upload each
 * l-rereg	re-registration: a 2.5 GiB buffer of scattered 2 MiB huge
 *		pages registered in pieces of 2-96 MiB (lists), kept; then
 *		pieces registered again in pieces of 2-16 MiB, 60 times
 *
 * mix: what real traces are, a mixture of those shapes. From the seed,
 * 2-5 phases, each one of the scripted classes above built by its own
 * builder into the one shared script (struct synth_frame: the phase's
 * share of the aperture, its own seed and random stream, its first
 * buffer; the sizes a class fixes for itself scaled as at the default
 * aperture). Each phase draws:
 *	a share	1/16 to all of the aperture (what its class scales with)
 *	a place	disjoint: above every earlier phase, 0-15 GiB apart; or
 *		overlapping: one of its entries put at a page of an entry of
 *		an earlier phase (pages of both then share 16 KiB pages)
 *	a time	sequential: after every step of the phases before it; or
 *		interleaved: beside the phase(s) before it, from a random
 *		point of theirs on, the steps merged in runs of 1 to a
 *		random length (up to 64), each phase weighted by its steps
 *		left: each phase keeps its own order, so every unmap still
 *		follows its map
 * Bounds (mix_build()): the phases' peak live bytes together at most 2x
 * the aperture (so the mixture's live bytes too), at most 100,000 events
 * and 1,000,000 list entries carried by them; a phase that would break
 * one is built again at half its share, up to four times, then left
 * out. The source's name lists the phases: "+" beside the one before,
 * "|" after it, "~" moved onto another. "mix:LIST" (mix:0,2) emits only
 * the phases listed, every phase drawn and placed as before and the
 * others' order among themselves kept: a reproducer reduced to the
 * fewest phases (bench/planner_fuzz.py --reduce).
 */
#include "synth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvdma/prng.h>

#include "array.h"

#define PAGE		4096ull
#define BLOCK		(256ull << 10)
#define BASE		(4ull << 30)	/* above a typical low RAM hole */
#define CHURN_SPAN	(64ull << 30)
#define CHURN_LIVE	2048u
#define CHURN_MAX_ENTS	16u
#define ROUNDS		2u

struct synth;

/*
 * One synthetic workload: its name, its line in --help, what a rewind
 * prepares (sizes, the live table, the whole script) and what makes each
 * next event.
 */
struct synth_workload {
	const char *name;
	const char *summary;
	int (*rewind)(struct synth *s);
	int (*next)(struct synth *s, struct trace_event *ev);
	void (*build)(struct synth *s);	/* a scripted class: its script */
};

/* One buffer of a script: a single map, or a list of entries. */
struct script_buf {
	u32 first;		/* index of its first entry */
	u32 nents;
	bool list;
	u8 dir;
};

enum script_op { SCRIPT_MAP, SCRIPT_UNMAP, SCRIPT_SYNC };

struct script_step {
	u32 buf;
	u8 op;
};

struct script {
	struct trace_sg_entry *ents;
	u32 nents, ents_cap;
	struct script_buf *bufs;
	u32 nbufs, bufs_cap;
	struct script_step *steps;
	u64 nsteps, steps_cap;
	u64 next;		/* step to emit */
};

struct churn_buf {
	u64 addr;	/* first entry */
	u64 size;	/* single: bytes */
	u32 nents;	/* 0: a single map */
};

/*
 * What a script builder scales by and where it writes. A workload of its
 * own: the whole aperture, the run's seed, the script from buffer 0. A
 * phase of mix: its share of the aperture, its own seed, the buffers from
 * where it begins in the shared script; the sizes a class fixes for
 * itself (not scaled with the aperture) are then scaled as they would be
 * at the default aperture, so that a phase keeps its shape at any share.
 * A phase is built at BASE and moved to its place afterwards (mix_move()).
 */
struct synth_frame {
	u64 size;		/* the bytes the builder's sizes scale with */
	u64 seed;
	u32 buf0;		/* the builder's first buffer in the script */
	bool phase;		/* a phase of mix */
};

/*
 * One phase of mix: a class's script at a share of the aperture, moved to
 * its addresses, merged with the others by mix_merge().
 */
struct mix_phase {
	const struct synth_workload *wl;
	u64 size;		/* the frame's size: the phase's share */
	u32 buf0, buf1;		/* its buffers */
	u64 ent0, ent1;		/* its entries */
	u64 step0, step1;	/* its steps as built, in script order */
	u64 lo, hi;		/* the addresses it names, once moved */
	u64 start;		/* interleaved: its group's steps before it */
	u64 cur;		/* mix_merge(): its next step */
	bool sequential;	/* after every phase before it; else beside */
	bool overlap;		/* moved onto an earlier phase's addresses */
};

#define MIX_PHASES	5u

struct synth {
	const struct synth_workload *wl;
	struct synth_params p;
	char name[256];
	struct pvdma_prng rng;
	/* over-aperture and storm4k */
	u64 nbufs;
	u64 next_map;	/* maps emitted */
	u64 next_unmap;	/* unmaps emitted */
	u64 live_bytes;
	u32 round;
	/* churn */
	u64 ops_done;
	struct churn_buf *live;
	u32 nlive;
	/* the classes */
	struct script sc;
	struct synth_frame fr;
	bool oom;
	/* mix */
	struct mix_phase mix[MIX_PHASES];
	u32 nmix;
	u32 mix_keep;		/* the phases emitted, a bit each */
	u8 *mix_of;		/* the phase of each step, once merged */
};

/* A value fixed by (seed, i): buffer i looks the same every time. */
static u64 hash_at(const struct synth *s, u64 i)
{
	struct pvdma_prng r = { s->p.seed * 0x2545f4914f6cdd1dull + i };

	return pvdma_prng_next(&r);
}

static u64 oa_size(const struct synth *s, u64 i)
{
	return (1 + hash_at(s, i) % 16) * PAGE;
}

static u64 oa_addr(const struct synth *s, u64 i)
{
	u64 size = oa_size(s, i);
	u64 pages = (BLOCK - size) / PAGE + 1;

	return BASE + i * BLOCK + (hash_at(s, i) >> 20) % pages * PAGE;
}

static void single(struct trace_event *ev, enum trace_kind kind,
		   enum trace_dir dir, u64 addr, u64 size)
{
	ev->kind = kind;
	ev->dir = dir;
	ev->dma_addr = addr;
	ev->phys_addr = addr;
	ev->size = size;
}

static int over_aperture_next(struct synth *s, struct trace_event *ev)
{
	u64 total = s->nbufs * ROUNDS, i;

	if (s->next_unmap == total)
		return 0;
	if (s->next_map < total) {
		i = s->next_map % s->nbufs;
		if (s->live_bytes + oa_size(s, i) <= s->p.aperture / 4 * 3 ||
		    s->next_map == s->next_unmap) {
			s->live_bytes += oa_size(s, i);
			s->next_map++;
			single(ev, TRACE_EV_MAP_SINGLE, i & 1 ?
			       TRACE_DIR_FROM_DEVICE : TRACE_DIR_TO_DEVICE,
			       oa_addr(s, i), oa_size(s, i));
			return 1;
		}
	}
	i = s->next_unmap % s->nbufs;
	s->live_bytes -= oa_size(s, i);
	s->next_unmap++;
	single(ev, TRACE_EV_UNMAP_SINGLE, i & 1 ?
	       TRACE_DIR_FROM_DEVICE : TRACE_DIR_TO_DEVICE,
	       oa_addr(s, i), oa_size(s, i));
	return 1;
}

static u64 storm_addr(const struct synth *s, u64 i)
{
	return BASE + i * BLOCK + hash_at(s, i) % (BLOCK / PAGE) * PAGE;
}

static int storm_next(struct synth *s, struct trace_event *ev)
{
	u64 i;

	if (s->round == ROUNDS)
		return 0;
	if (s->next_map < s->nbufs) {
		i = s->next_map++;
		single(ev, TRACE_EV_MAP_SINGLE, TRACE_DIR_BIDIRECTIONAL,
		       storm_addr(s, i), PAGE);
		return 1;
	}
	i = s->next_unmap++;
	single(ev, TRACE_EV_UNMAP_SINGLE, TRACE_DIR_BIDIRECTIONAL,
	       storm_addr(s, i), PAGE);
	if (s->next_unmap == s->nbufs) {
		s->round++;
		s->next_map = s->next_unmap = 0;
	}
	return 1;
}

/* Log-uniform page multiple in [4 KiB, 4 MiB]. */
static u64 churn_size(struct synth *s)
{
	u64 order = pvdma_prng_below(&s->rng, 11);

	return (1 + pvdma_prng_below(&s->rng, 1ull << order)) * PAGE;
}

static int churn_map(struct synth *s, struct trace_event *ev)
{
	struct churn_buf *b = &s->live[s->nlive++];
	u64 addr = BASE + pvdma_prng_below(&s->rng, CHURN_SPAN / PAGE) * PAGE;
	u32 i;

	b->addr = addr;
	if (pvdma_prng_below(&s->rng, 8)) {
		b->nents = 0;
		b->size = churn_size(s);
		single(ev, TRACE_EV_MAP_SINGLE, TRACE_DIR_BIDIRECTIONAL,
		       addr, b->size);
		return 1;
	}
	b->nents = 2 + (u32)pvdma_prng_below(&s->rng, CHURN_MAX_ENTS - 1);
	ev->kind = TRACE_EV_MAP_SG;
	ev->dir = TRACE_DIR_BIDIRECTIONAL;
	ev->nents = ev->nents_total = b->nents;
	for (i = 0; i < b->nents; i++) {
		u64 len = (1 + pvdma_prng_below(&s->rng, 16)) * PAGE;

		ev->ents[i].phys = ev->ents[i].dma = addr;
		ev->ents[i].len = len;
		/* a hole of 0..3 pages: scattered, not contiguous */
		addr += len + (1 + pvdma_prng_below(&s->rng, 3)) * PAGE;
	}
	return 1;
}

static void churn_unmap_event(struct trace_event *ev,
			      const struct churn_buf *b)
{
	if (!b->nents) {
		single(ev, TRACE_EV_UNMAP_SINGLE, TRACE_DIR_BIDIRECTIONAL,
		       b->addr, b->size);
		return;
	}
	/* An unmap_sg names the list by its first address and count. */
	ev->kind = TRACE_EV_UNMAP_SG;
	ev->dir = TRACE_DIR_BIDIRECTIONAL;
	ev->ents[0].phys = ev->ents[0].dma = b->addr;
	ev->ents[0].len = 0;
	ev->nents = 1;
	ev->nents_total = b->nents;
	ev->truncated = true;
}

static int churn_next(struct synth *s, struct trace_event *ev)
{
	bool map;
	u32 victim;

	if (s->ops_done >= s->p.ops) {
		if (!s->nlive)
			return 0;
		churn_unmap_event(ev, &s->live[--s->nlive]);
		return 1;
	}
	s->ops_done++;
	map = s->nlive == 0 ||
	      (s->nlive < 2 * CHURN_LIVE &&
	       pvdma_prng_below(&s->rng, 2 * CHURN_LIVE) >= s->nlive);
	if (map)
		return churn_map(s, ev);
	victim = (u32)pvdma_prng_below(&s->rng, s->nlive);
	churn_unmap_event(ev, &s->live[victim]);
	s->live[victim] = s->live[--s->nlive];
	return 1;
}

/* ---- scripts: the workload classes ---- */

#define MIB	(1ull << 20)
#define GIB	(1ull << 30)

/* A new buffer; its entries follow with sc_ent(). */
static u32 sc_buf(struct synth *s, bool list, enum trace_dir dir)
{
	struct script *sc = &s->sc;
	u64 cap = sc->bufs_cap;

	if (!array_grow((void **)&sc->bufs, &cap, sc->nbufs + 1,
			sizeof(*sc->bufs))) {
		s->oom = true;
		return 0;
	}
	sc->bufs_cap = (u32)cap;
	sc->bufs[sc->nbufs].first = sc->nents;
	sc->bufs[sc->nbufs].nents = 0;
	sc->bufs[sc->nbufs].list = list;
	sc->bufs[sc->nbufs].dir = (u8)dir;
	return sc->nbufs++;
}

static void sc_ent(struct synth *s, u64 addr, u64 len)
{
	struct script *sc = &s->sc;
	u64 cap = sc->ents_cap;

	if (!array_grow((void **)&sc->ents, &cap, sc->nents + 1,
			sizeof(*sc->ents))) {
		s->oom = true;
		return;
	}
	sc->ents_cap = (u32)cap;
	sc->ents[sc->nents].phys = sc->ents[sc->nents].dma = addr;
	sc->ents[sc->nents].len = len;
	sc->nents++;
	sc->bufs[sc->nbufs - 1].nents++;
}

static void sc_step(struct synth *s, u32 buf, enum script_op op)
{
	struct script *sc = &s->sc;

	if (!array_grow((void **)&sc->steps, &sc->steps_cap, sc->nsteps + 1,
			sizeof(*sc->steps))) {
		s->oom = true;
		return;
	}
	sc->steps[sc->nsteps].buf = buf;
	sc->steps[sc->nsteps++].op = (u8)op;
}

/* A single map of [addr, addr + len), mapped now. */
static u32 sc_single(struct synth *s, u64 addr, u64 len, enum trace_dir dir)
{
	u32 b = sc_buf(s, false, dir);

	if (!s->oom)
		sc_ent(s, addr, len);
	sc_step(s, b, SCRIPT_MAP);
	return b;
}

/* Every buffer not yet unmapped, unmapped (at exit). */
static void sc_unmap_all(struct synth *s, u32 from)
{
	u32 b;

	for (b = from; b < s->sc.nbufs; b++)
		sc_step(s, b, SCRIPT_UNMAP);
}

/* A count the class fixes for itself, scaled in a phase of mix; at least 1. */
static u64 fr_count(const struct synth *s, u64 n)
{
	if (!s->fr.phase)
		return n;
	return PVDMA_MAX(n * s->fr.size / PVDMA_DART_DEFAULT_APERTURE, 1);
}

/* Likewise bytes: a multiple of 2 MiB (a huge page), at least one. */
static u64 fr_fixed(const struct synth *s, u64 bytes)
{
	if (!s->fr.phase)
		return bytes;
	return PVDMA_MAX(bytes / (2 * MIB) * s->fr.size /
			 PVDMA_DART_DEFAULT_APERTURE * (2 * MIB), 2 * MIB);
}

static u64 rnd_below(struct synth *s, u64 n)
{
	return pvdma_prng_below(&s->rng, n);
}

/* A uniform page multiple in [lo, hi]. */
static u64 rnd_pages(struct synth *s, u64 lo, u64 hi)
{
	return (lo / PAGE + rnd_below(s, (hi - lo) / PAGE + 1)) * PAGE;
}

/* A: 2 MiB chunks, consecutive up or down, or scattered. */
static void build_a(struct synth *s, int how)
{
	u64 chunk = 2 * MIB, n, i;

	if (how == 2) {		/* scattered, 1.6x the aperture */
		n = s->fr.size / chunk * 8 / 5;
		for (i = 0; i < n; i++) {
			/* slot i of 4n, shuffled by a bijection: distinct */
			u64 slot = (i * 2654435761ull + s->fr.seed) % (4 * n);

			sc_single(s, BASE + slot * chunk, chunk,
				  TRACE_DIR_BIDIRECTIONAL);
		}
	} else {
		n = s->fr.size / chunk * 3 / 4;
		for (i = 0; i < n; i++)
			sc_single(s, BASE + (how ? n - 1 - i : i) * chunk, chunk,
				  TRACE_DIR_BIDIRECTIONAL);
	}
	sc_unmap_all(s, s->fr.buf0);
}

static void build_a_stream(struct synth *s)
{
	build_a(s, 0);
}

static void build_a_descend(struct synth *s)
{
	build_a(s, 1);
}

static void build_a_scatter(struct synth *s)
{
	build_a(s, 2);
}

/*
 * A, filling up: the speculation a context's first windows made is what
 * the stream's windows find in their way once the aperture is full.
 * Buffers a page apart share a 16 KiB page with the one before.
 */
static void build_context(struct synth *s, u64 salt, u32 singles, u32 lists);

static void build_a_fill(struct synth *s)
{
	u64 chunk = 2 * MIB, n = s->fr.size / chunk * 8 / 5, i;
	u64 at = BASE + 16 * GIB + PAGE;

	build_context(s, 3, 540, 36);
	for (i = 0; i < n && !s->oom; i++, at += chunk + PAGE) {
		u32 b;
		u64 cut;

		if (i % 3) {
			sc_single(s, at, chunk, TRACE_DIR_BIDIRECTIONAL);
			continue;
		}
		b = sc_buf(s, true, TRACE_DIR_BIDIRECTIONAL);
		cut = rnd_pages(s, PAGE, chunk - PAGE);
		sc_ent(s, at, cut);
		sc_ent(s, at + cut, chunk - cut);
		sc_step(s, b, SCRIPT_MAP);
	}
	sc_unmap_all(s, s->fr.buf0);
}

/* B: 4 MiB steps walking down, every other pair swapped (zig-zag). */
static void build_b(struct synth *s)
{
	u64 step = 4 * MIB, nsteps = s->fr.size * 3 / 8 / step;
	u64 top = BASE + 64 * GIB, i;

	for (i = 0; i < nsteps; i++) {
		u64 k = i ^ (i >> 1 & 1), at = top - (k + 1) * step;

		if (rnd_below(s, 2)) {
			sc_single(s, at, 2 * MIB, TRACE_DIR_TO_DEVICE);
		} else {
			u32 b = sc_buf(s, true, TRACE_DIR_TO_DEVICE);
			u32 e, ne = 2 + (u32)rnd_below(s, 2);

			for (e = 0; e < ne && !s->oom; e++) {
				u64 len = rnd_pages(s, 100 * 1024 / PAGE * PAGE,
						    step / ne - PAGE);

				sc_ent(s, at, len);
				at += len + PAGE;
			}
			sc_step(s, b, SCRIPT_MAP);
		}
	}
	sc_unmap_all(s, s->fr.buf0);
}

/* Six 32 MiB clusters scattered over an 8 GiB span. */
static u64 cluster_addr(struct synth *s, u64 salt, u32 cluster)
{
	struct pvdma_prng r = { s->fr.seed * 31 + salt * 7 + cluster };

	return BASE + pvdma_prng_below(&r, 8 * GIB / (32 * MIB)) * 32 * MIB;
}

/* A GPU context: scattered pages and short lists in its clusters. */
static void build_context(struct synth *s, u64 salt, u32 singles, u32 lists)
{
	u32 i, e;

	for (i = 0; i < singles + lists && !s->oom; i++) {
		u64 base = cluster_addr(s, salt, (u32)rnd_below(s, 6));

		if (i % ((singles + lists) / (lists ? lists : 1) + 1) || !lists) {
			sc_single(s, base + rnd_below(s, 32 * MIB / PAGE) * PAGE,
				  PAGE, TRACE_DIR_BIDIRECTIONAL);
			continue;
		}
		{
			u32 b = sc_buf(s, true, TRACE_DIR_BIDIRECTIONAL);
			u32 ne = 2 + (u32)rnd_below(s, 7);

			for (e = 0; e < ne && !s->oom; e++)
				sc_ent(s, base + rnd_below(s, 32 * MIB / PAGE) *
					  PAGE, rnd_pages(s, PAGE, 16 * PAGE));
			sc_step(s, b, SCRIPT_MAP);
		}
	}
}

static void build_c(struct synth *s)
{
	build_context(s, 1, 540, 36);
	sc_unmap_all(s, s->fr.buf0);
}

/* A list of scattered pageable pages: runs of 1-8 16 KiB pages at random
 * places, 1-4 pages used in each (16 KiB rounding inflates them ~1.6x),
 * until @bytes16k of 16 KiB pages. */
static void pageable_list(struct synth *s, u64 span_base, u64 bytes16k)
{
	u32 b = sc_buf(s, true, TRACE_DIR_TO_DEVICE);
	u64 used = 0, slot = 16 * 1024;

	while (used < bytes16k && !s->oom &&
	       s->sc.bufs[b].nents + 8 < REPLAY_MAX_SHOWN) {
		u64 at = span_base + rnd_below(s, 16 * GIB / slot) * slot;
		u64 run = 1 + rnd_below(s, 8), i;

		for (i = 0; i < run && used < bytes16k; i++, used += slot)
			sc_ent(s, at + i * slot, (1 + rnd_below(s, 4)) * PAGE);
	}
	sc_step(s, b, SCRIPT_MAP);
}

static void build_d(struct synth *s)
{
	u64 target = s->fr.size / 8 * 7, per = 32 * MIB, done = 0;
	u32 p;

	for (p = 0; p < 4; p++)
		build_context(s, 10 + p, 135, 9);
	/* the contexts' own pages: about 4 MiB of 16 KiB pages */
	done = 8 * MIB;
	while (done + per <= target && !s->oom) {
		pageable_list(s, BASE + 32 * GIB, per);
		done += per;
	}
	sc_unmap_all(s, s->fr.buf0);
}

/* E: heaps of 112 MiB in runs of 4-16 pages; a transient list a frame. */
static void build_e(struct synth *s)
{
	u64 heap = fr_fixed(s, 112 * MIB), nheaps = s->fr.size * 7 / 5 / heap + 1;
	u32 frame, heaps_done = 0;
	u64 h;

	for (frame = 0; frame < 3 * nheaps + 8 && !s->oom; frame++) {
		u32 b = sc_buf(s, true, TRACE_DIR_TO_DEVICE), e;

		/* the frame's transient list: 64 pages of a 16 MiB ring */
		for (e = 0; e < 64 && !s->oom; e++)
			sc_ent(s, BASE + rnd_below(s, 16 * MIB / PAGE) * PAGE, PAGE);
		sc_step(s, b, SCRIPT_MAP);
		if (frame % 3 == 0 && heaps_done < nheaps) {
			u32 hb = sc_buf(s, true, TRACE_DIR_TO_DEVICE);
			u64 got = 0;

			h = heaps_done++;
			while (got < heap && !s->oom) {
				u64 run = rnd_pages(s, 4 * PAGE, 16 * PAGE);
				u64 at = BASE + 4 * GIB + h * 2 * GIB +
					 rnd_below(s, 2 * GIB / (64 * 1024)) * 64 * 1024;

				sc_ent(s, at, PVDMA_MIN(run, heap - got));
				got += PVDMA_MIN(run, heap - got);
			}
			sc_step(s, hb, SCRIPT_MAP);
		}
		sc_step(s, b, SCRIPT_UNMAP);
	}
	/* the heaps stay until exit */
	for (h = s->fr.buf0; h < s->sc.nbufs; h++)
		if (s->sc.bufs[h].nents > 64)
			sc_step(s, (u32)h, SCRIPT_UNMAP);
}

/* F: long lists over a 64 MiB pool, each unmapped four calls later. */
static void build_f(struct synth *s)
{
	u32 i, e, n = (u32)fr_count(s, 2000);

	for (i = 0; i < n && !s->oom; i++) {
		u32 b = sc_buf(s, true, TRACE_DIR_BIDIRECTIONAL);
		u32 ne = 30 + (u32)rnd_below(s, 971);

		for (e = 0; e < ne && !s->oom; e++)
			sc_ent(s, BASE + rnd_below(s, 64 * MIB / PAGE) * PAGE, PAGE);
		sc_step(s, b, SCRIPT_MAP);
		if (i >= 4)
			sc_step(s, b - 4, SCRIPT_UNMAP);
	}
	for (i = n > 4 ? n - 4 : 0; i < n; i++)
		sc_step(s, s->fr.buf0 + i, SCRIPT_UNMAP);
}

/* G: ~1 MiB pinned buffers, 1.6x the aperture, at scattered 4 MiB slots. */
static void build_g(struct synth *s)
{
	u64 n = s->fr.size / MIB * 8 / 5, i, round;

	for (i = 0; i < n && !s->oom; i++) {
		u64 slot = (i * 2654435761ull + s->fr.seed) % (4 * n);
		u64 at = BASE + slot * 4 * MIB, left = MIB;
		u32 b = sc_buf(s, true, TRACE_DIR_BIDIRECTIONAL);
		u32 e, ne = 2 + (u32)rnd_below(s, 3);

		for (e = 0; e < ne && !s->oom; e++) {
			u64 len = e + 1 == ne ? left : PVDMA_MAX(PAGE, left / 2);

			sc_ent(s, at, len);
			at += len + 64 * 1024;
			left -= len;
		}
		sc_step(s, b, SCRIPT_MAP);
	}
	for (round = 0; round < 2; round++)
		for (i = s->fr.buf0; i < s->sc.nbufs; i++)
			sc_step(s, (u32)i, SCRIPT_SYNC);
	sc_unmap_all(s, s->fr.buf0);
}

/* A log-uniform page multiple in [lo, hi] (lo a page multiple, at
 * most hi). */
static u64 rnd_log(struct synth *s, u64 lo, u64 hi)
{
	u32 span = (u32)(64 - __builtin_clzll(hi / lo));
	u64 octave = lo << rnd_below(s, span);

	return PVDMA_MIN(hi, octave + rnd_below(s, octave / PAGE) * PAGE);
}

/*
 * H: buffers at scattered slots of 512 MiB to 2x the aperture, kept
 * until the end. @lists: every buffer a list of 1 MiB to 1/12 of the
 * aperture in scattered pieces; else of 64 KiB to 1/16 of it, one in
 * three a list of 2-4 pieces.
 */
static void build_keep(struct synth *s, bool lists)
{
	u64 total = 0, n = 2 * s->fr.size / MIB, i;
	/* the largest: 96 and 128 MiB of 1.5 GiB, as the aperture scales */
	u64 top = PVDMA_MAX(s->fr.size / 16, MIB);
	u32 b, top_lists = (u32)(64 - __builtin_clzll(
				PVDMA_MAX(s->fr.size / 12, MIB) / MIB));

	for (i = 0; total < 2 * s->fr.size && !s->oom; i++) {
		u64 slot = (i * 2654435761ull + s->fr.seed) % (4 * n);
		u64 at = BASE + slot * 512 * MIB, len, piece, left;
		u32 ne = 1;

		if (lists) {
			len = MIB << rnd_below(s, top_lists);
		} else {
			len = rnd_log(s, 64 * 1024, top);
			if (!rnd_below(s, 3))
				ne = 2 + (u32)rnd_below(s, 3);
		}
		total += len;
		if (!lists && ne == 1) {
			sc_single(s, at, len, TRACE_DIR_BIDIRECTIONAL);
			continue;
		}
		b = sc_buf(s, true, TRACE_DIR_BIDIRECTIONAL);
		for (left = len; left && !s->oom; left -= piece) {
			if (lists)
				piece = rnd_log(s, 64 * 1024, 2 * MIB);
			else
				piece = --ne ? PVDMA_MAX(PAGE, left / 2 / PAGE *
							 PAGE) : left;
			piece = PVDMA_MIN(piece, left);
			sc_ent(s, at, piece);
			at += piece + (lists ? rnd_pages(s, PAGE, MIB) :
				       64 * 1024);
		}
		sc_step(s, b, SCRIPT_MAP);
	}
	sc_unmap_all(s, s->fr.buf0);	/* the pool emptied */
}

static void build_h_keep(struct synth *s)
{
	build_keep(s, false);
}

static void build_h_lists(struct synth *s)
{
	build_keep(s, true);
}

/* The smallest power of two at least @n (n > 0). */
static u64 pow2_ceil(u64 n)
{
	return n <= 1 ? 1 : 1ull << (64 - __builtin_clzll(n - 1));
}

/*
 * A pinned allocation of @len as the driver maps it: a list of runs of
 * 64 KiB to 2 MiB of guest pages, a page or a few apart, from @at.
 */
static u32 sc_pinned(struct synth *s, u64 at, u64 len)
{
	u32 b = sc_buf(s, true, TRACE_DIR_BIDIRECTIONAL);
	u64 left, piece;

	for (left = len; left && !s->oom; left -= piece) {
		piece = rnd_log(s, 64 * 1024, 2 * MIB);
		piece = PVDMA_MIN(piece, left);
		sc_ent(s, at, piece);
		at += piece + rnd_pages(s, PAGE, 4 * PAGE);
	}
	sc_step(s, b, SCRIPT_MAP);
	return b;
}

/*
 * I: an inference loop. A context (c-context's, half as many pages), then
 * requests of random batch sizes (1-64 samples of 96 KiB): two loader
 * workers pin each batch in a buffer of the power-of-two class that
 * holds it (a caching host allocator: a class is allocated once per
 * worker, then reused), and the output (4 KiB a sample) is copied back
 * into a fresh pinned buffer, freed two requests later (non-blocking
 * copies in flight) - its class's blocks reused once free - or, one in
 * four, into pageable memory: a list of its scattered pages, unmapped at
 * once. Buffers of one process lie in its 1 GiB region.
 */
#define INFER_CLASSES	16u

static void build_i(struct synth *s)
{
	u32 in_buf[2][INFER_CLASSES], out_free[INFER_CLASSES][2];
	u32 out_nfree[INFER_CLASSES] = { 0 }, out_class[2] = { 0 };
	u32 out_live[2] = { 0 }, r, c, w, e;
	u64 next_at = BASE + 40 * GIB;
	bool live[2] = { false, false };
	u32 nctx;

	memset(in_buf, 0xff, sizeof(in_buf));
	build_context(s, 5, 270, 18);
	nctx = s->sc.nbufs;
	for (r = 0; r < 400 && !s->oom; r++) {
		u64 n = 1 + rnd_below(s, 64), len;

		w = r % 2;
		len = pow2_ceil(n * 96 * 1024);
		c = (u32)__builtin_ctzll(len) % INFER_CLASSES;
		if (in_buf[w][c] == ~0u) {
			in_buf[w][c] = sc_pinned(s, next_at, len);
			next_at += 2 * len + rnd_below(s, 64) * 16 * PAGE;
		}
		sc_step(s, in_buf[w][c], SCRIPT_SYNC);
		/* the output from two requests ago is done: its block freed */
		if (live[w]) {
			u32 oc = out_class[w];

			if (out_nfree[oc] < 2)
				out_free[oc][out_nfree[oc]++] = out_live[w];
			else
				sc_step(s, out_live[w], SCRIPT_UNMAP);
			live[w] = false;
		}
		len = pow2_ceil(n * 4096);
		c = (u32)__builtin_ctzll(len) % INFER_CLASSES;
		if (!rnd_below(s, 4)) {
			u32 b = sc_buf(s, true, TRACE_DIR_FROM_DEVICE);
			u64 at = BASE + 48 * GIB +
				 rnd_below(s, GIB / PAGE) * PAGE;

			for (e = 0; e < len / PAGE && !s->oom; e++) {
				sc_ent(s, at, PAGE);
				at += PAGE * (1 + rnd_below(s, 4));
			}
			sc_step(s, b, SCRIPT_MAP);
			sc_step(s, b, SCRIPT_UNMAP);
			continue;
		}
		if (out_nfree[c]) {
			out_live[w] = out_free[c][--out_nfree[c]];
		} else {
			out_live[w] = sc_pinned(s, next_at, len);
			next_at += len + rnd_below(s, 64) * 16 * PAGE;
		}
		out_class[w] = c;
		live[w] = true;
	}
	/* at exit: what is still mapped */
	for (r = s->fr.buf0; r < nctx; r++)
		sc_step(s, r, SCRIPT_UNMAP);
	for (c = 0; c < INFER_CLASSES; c++) {
		for (w = 0; w < 2; w++)
			if (in_buf[w][c] != ~0u)
				sc_step(s, in_buf[w][c], SCRIPT_UNMAP);
		while (out_nfree[c])
			sc_step(s, out_free[c][--out_nfree[c]], SCRIPT_UNMAP);
	}
	for (w = 0; w < 2; w++)
		if (live[w])
			sc_step(s, out_live[w], SCRIPT_UNMAP);
}

/*
 * J: a texture streamer. A resident set of 1 MiB pinned buffers (single
 * maps, at rising addresses a page or a few apart, now and then a jump;
 * once some were freed, at the address of a freed one, as the guest's
 * page allocator hands freed pages out again) grows to 4/5 of the
 * aperture, half of it is freed at random, twice; between every few
 * allocations a staging buffer of 4 MiB to 1/6 of the aperture (256 MiB
 * of 1.5 GiB) is registered - a list of its runs of pages, anywhere in
 * 16 GiB - for one upload and unregistered at once.
 */
static void build_j(struct synth *s)
{
	u64 target = s->fr.size / 5 * 4, top = PVDMA_MAX(s->fr.size / 6,
							   8 * MIB);
	u64 at = BASE + 64 * GIB, live_bytes = 0, cap = 0, fcap = 0;
	u64 *freed = NULL;
	u32 *res = NULL, nres = 0, nfreed = 0, round, i;

	for (round = 0; round < 2 && !s->oom; round++) {
		while (live_bytes < target && !s->oom) {
			u64 where = at;
			u32 b;

			if (!array_grow((void **)&res, &cap, nres + 1,
					sizeof(*res))) {
				s->oom = true;
				break;
			}
			if (nfreed) {
				u32 k = (u32)rnd_below(s, nfreed);

				where = freed[k];
				freed[k] = freed[--nfreed];
			} else {
				at += MIB + rnd_pages(s, PAGE, 4 * PAGE);
				if (!rnd_below(s, 64))
					at += rnd_below(s, 256) * MIB;
			}
			b = sc_single(s, where, MIB, TRACE_DIR_TO_DEVICE);
			res[nres++] = b;
			live_bytes += MIB;
			if (!rnd_below(s, 8)) {
				u64 len = rnd_log(s, 4 * MIB, top);

				where = BASE + 96 * GIB +
					rnd_below(s, 16 * GIB / (2 * MIB)) * 2 * MIB;
				sc_step(s, sc_pinned(s, where, len),
					SCRIPT_UNMAP);
			}
		}
		/* half of it freed, at random */
		if (!array_grow((void **)&freed, &fcap, nfreed + nres / 2,
				sizeof(*freed))) {
			s->oom = true;
			break;
		}
		for (i = 0; i < nres / 2 && !s->oom; i++) {
			u32 k = i + (u32)rnd_below(s, nres - i), t = res[k];

			res[k] = res[i];
			res[i] = t;
			sc_step(s, t, SCRIPT_UNMAP);
			freed[nfreed++] = s->sc.ents[s->sc.bufs[t].first].phys;
			live_bytes -= MIB;
		}
		memmove(res, res + nres / 2, (nres - nres / 2) * sizeof(*res));
		nres -= nres / 2;
	}
	for (i = 0; i < nres && !s->oom; i++)
		sc_step(s, res[i], SCRIPT_UNMAP);
	free(res);
	free(freed);
}

/*
 * J, streaming: the same texture streamer, its staging buffers
 * registered from one pageable region. The resident 1 MiB pinned buffers
 * (a single map, or one in three a list of 2-4 pieces of the driver's
 * pages, a few pages apart) come from a page allocator walking up a
 * zone, freed ones handed out again; they grow to 4/5 of the aperture,
 * half freed at random, twice. After each, one in ten times, a staging
 * range of 1/6 of the aperture >> 0, 1, 2, 4 or 6 (256 MiB down to
 * 4 MiB of 1.5 GiB) at a random page of one region of 2/3 of the
 * aperture (an anonymous mmap touched once: runs of 1-8 MiB, a few
 * pages apart in guest RAM) is registered - a list of its runs - copied
 * once and unregistered: the same pages, at random offsets, again and
 * again.
 */
static void js_stage(struct synth *s, const u64 *run_at, u64 nruns,
		     u64 first, u64 pages)
{
	u32 b = sc_buf(s, true, TRACE_DIR_TO_DEVICE);
	u64 r = 0;

	/* run r covers pages [run_at[2r + 1], run_at[2r + 3]) of the region */
	while (r + 1 < nruns && run_at[2 * r + 3] <= first)
		r++;
	while (pages && r < nruns && !s->oom) {
		u64 off = first - run_at[2 * r + 1];
		u64 n = PVDMA_MIN(run_at[2 * r + 3] - first, pages);

		sc_ent(s, run_at[2 * r] + off * PAGE, n * PAGE);
		pages -= n;
		first += n;
		r++;
	}
	sc_step(s, b, SCRIPT_MAP);
	sc_step(s, b, SCRIPT_UNMAP);
}

static void build_j_stream(struct synth *s)
{
	u64 target = s->fr.size / 5 * 4, top = PVDMA_MAX(s->fr.size / 6,
							   64 * MIB);
	u64 region = PVDMA_MAX(s->fr.size / 3 * 2, 2 * top) / PAGE;
	u64 at = BASE + 2 * GIB, live = 0, phys = BASE + 24 * GIB;
	u64 *run_at = NULL, cap = 0, fcap = 0, rcap = 0, i, nruns = 0;
	u32 *res = NULL, *freed = NULL, nres = 0, nfreed = 0, round, e;
	static const u8 shift[5] = { 0, 1, 2, 4, 6 };

	/*
	 * The region's pages: runs of 1-8 MiB placed a few pages apart
	 * (the allocator's other owners between them); run_at holds each
	 * run's guest address and first page, and one past the last.
	 */
	for (i = 0; i <= region && !s->oom; nruns++) {
		if (!array_grow((void **)&run_at, &rcap, 2 * nruns + 4,
				sizeof(*run_at))) {
			s->oom = true;
			break;
		}
		run_at[2 * nruns] = phys;
		run_at[2 * nruns + 1] = PVDMA_MIN(i, region);
		if (i == region)
			break;
		e = (u32)rnd_pages(s, MIB, 8 * MIB) / PAGE;
		i = PVDMA_MIN(i + e, region);
		phys += (u64)e * PAGE + rnd_pages(s, PAGE, 4 * PAGE);
	}
	for (round = 0; round < 2 && !s->oom; round++) {
		while (live < target && !s->oom) {
			u32 b, src = ~0u, ne = 1, k;

			if (!array_grow((void **)&res, &cap, nres + 1,
					sizeof(*res))) {
				s->oom = true;
				break;
			}
			if (nfreed) {
				k = (u32)rnd_below(s, nfreed);
				src = freed[k];
				freed[k] = freed[--nfreed];
			} else if (!rnd_below(s, 3)) {
				ne = 2 + (u32)rnd_below(s, 3);
			}
			if (src != ~0u) {
				/* the freed buffer's pages, again */
				b = sc_buf(s, s->sc.bufs[src].list,
					   TRACE_DIR_TO_DEVICE);
				for (e = 0; e < s->sc.bufs[src].nents &&
				     !s->oom; e++) {
					u32 x = s->sc.bufs[src].first + e;

					sc_ent(s, s->sc.ents[x].phys,
					       s->sc.ents[x].len);
				}
				sc_step(s, b, SCRIPT_MAP);
			} else if (ne == 1) {
				b = sc_single(s, at, MIB, TRACE_DIR_TO_DEVICE);
				at += MIB + rnd_pages(s, PAGE, 4 * PAGE);
			} else {
				u64 left = MIB, piece;

				b = sc_buf(s, true, TRACE_DIR_TO_DEVICE);
				for (e = 0; e < ne && !s->oom; e++) {
					piece = e + 1 < ne ? MIB / ne / PAGE *
						PAGE : left;
					sc_ent(s, at, piece);
					left -= piece;
					at += piece + rnd_pages(s, PAGE,
								4 * PAGE);
				}
				sc_step(s, b, SCRIPT_MAP);
			}
			res[nres++] = b;
			live += MIB;
			if (!rnd_below(s, 10)) {
				u64 len = PVDMA_MAX(top >> shift[rnd_below(s,
							5)], 4 * MIB);
				u64 first = rnd_below(s, region - len / PAGE +
						      1);

				js_stage(s, run_at, nruns, first, len / PAGE);
			}
		}
		if (!array_grow((void **)&freed, &fcap, nfreed + nres / 2,
				sizeof(*freed))) {
			s->oom = true;
			break;
		}
		for (i = 0; i < nres / 2 && !s->oom; i++) {
			u32 k = (u32)i + (u32)rnd_below(s, nres - i), t = res[k];

			res[k] = res[i];
			res[i] = t;
			sc_step(s, t, SCRIPT_UNMAP);
			freed[nfreed++] = t;
			live -= MIB;
		}
		memmove(res, res + nres / 2, (nres - nres / 2) * sizeof(*res));
		nres -= nres / 2;
	}
	for (i = 0; i < nres && !s->oom; i++)
		sc_step(s, res[i], SCRIPT_UNMAP);
	free(run_at);
	free(res);
	free(freed);
}

/*
 * K: the register-per-batch pattern. Every batch is a fresh host array
 * (4 to 48 MiB) registered, copied and unregistered at once; one in
 * seven is kept registered a while (up to 12, the oldest let go). Its
 * pages come from the host's page allocator: mostly 2 MiB huge pages, the
 * rest 4 KiB pages split from one, handed out downwards. Freed huge
 * pages are handed out again last in, first out; three in ten come fresh
 * instead, from a frontier that walks down through a 64 GiB span and now
 * and then jumps: so each batch brings some new pages, near the last new
 * ones.
 */
#define REG_BATCHES	1000u
#define REG_KEEP	12u
#define HUGE		(2 * MIB)

struct regbatch {
	u64 *free;		/* freed huge pages, a stack */
	u64 nfree, cap;
	u64 frontier;		/* the next fresh huge page is below it */
	u64 split_at;		/* 4 KiB pages of a split huge page, below */
	u32 split_left;
};

static u64 rb_huge(struct synth *s, struct regbatch *rb)
{
	if (rb->nfree && rnd_below(s, 10) >= 3)
		return rb->free[--rb->nfree];
	if (rb->frontier <= BASE + HUGE || !rnd_below(s, 16))
		rb->frontier = BASE + HUGE +
			       rnd_below(s, 64 * GIB / HUGE) * HUGE;
	rb->frontier -= HUGE;
	return rb->frontier;
}

static void rb_page(struct synth *s, struct regbatch *rb)
{
	if (!rb->split_left) {
		rb->split_at = rb_huge(s, rb) + HUGE;
		rb->split_left = HUGE / PAGE;
	}
	rb->split_at -= PAGE;
	rb->split_left--;
	sc_ent(s, rb->split_at, PAGE);
}

static u32 rb_batch(struct synth *s, struct regbatch *rb)
{
	u32 b = sc_buf(s, true, TRACE_DIR_BIDIRECTIONAL);
	u64 pages = fr_fixed(s, (4 + rnd_below(s, 45)) * MIB) / PAGE, i;

	while (pages && !s->oom) {
		if (pages >= HUGE / PAGE && rnd_below(s, 10)) {
			sc_ent(s, rb_huge(s, rb), HUGE);
			pages -= HUGE / PAGE;
			continue;
		}
		for (i = 0; i < PVDMA_MIN(pages, HUGE / PAGE); i++)
			rb_page(s, rb);
		pages -= i;
	}
	sc_step(s, b, SCRIPT_MAP);
	return b;
}

/* Unmapped: its huge pages go back on the stack (its 4 KiB ones elsewhere). */
static void rb_release(struct synth *s, struct regbatch *rb, u32 b)
{
	const struct script_buf *buf = &s->sc.bufs[b];
	u32 e;

	sc_step(s, b, SCRIPT_UNMAP);
	if (!array_grow((void **)&rb->free, &rb->cap, rb->nfree + buf->nents,
			sizeof(*rb->free))) {
		s->oom = true;
		return;
	}
	for (e = buf->nents; e-- > 0;)
		if (s->sc.ents[buf->first + e].len == HUGE)
			rb->free[rb->nfree++] = s->sc.ents[buf->first + e].phys;
}

static void build_k(struct synth *s)
{
	struct regbatch rb = { .frontier = 0 };
	u32 kept[REG_KEEP], nkept = 0, i, b;

	for (i = 0; i < fr_count(s, REG_BATCHES) && !s->oom; i++) {
		b = rb_batch(s, &rb);
		if (rnd_below(s, 7)) {
			rb_release(s, &rb, b);
			continue;
		}
		if (nkept == REG_KEEP) {
			rb_release(s, &rb, kept[0]);
			memmove(kept, kept + 1, --nkept * sizeof(*kept));
		}
		kept[nkept++] = b;
	}
	for (i = 0; i < nkept; i++)
		sc_step(s, kept[i], SCRIPT_UNMAP);
	free(rb.free);
}

/*
 * L: re-registration over the aperture. A 2.5 GiB host buffer backed by
 * transparent huge pages (mostly 2 MiB pages scattered over 16 GiB of
 * guest RAM, in physical runs of 1-16 where the allocator found
 * neighbours free; one in 40 falls back to 4 KiB pages of a split huge
 * page, handed out downwards) is registered in consecutive pieces of
 * 2-96 MiB, each one list (adjacent huge pages merged, as the driver
 * does) kept registered. Then, 60 times, a random registered piece is
 * unregistered and its range registered again in consecutive pieces of
 * 2, 4 or 16 MiB; at the end everything is unregistered. The buffer
 * does not scale with the aperture: over it at 2 GiB and below, which
 * maps fail depends on what held the aperture before the first refusal.
 */
#define REREG_BYTES	(2560 * MIB)
#define REREG_SPAN	(16 * GIB)
#define REREG_ROUNDS	60u
#define REREG_RUN	16u	/* neighbours a huge page may find free */

/* A 2 MiB frame of guest RAM no other page of the buffer uses. */
static u64 rr_frame(struct synth *s, u8 *used, u64 frames)
{
	u64 f = rnd_below(s, frames);

	while (used[f / 8] & (1u << (f % 8)))
		f = (f + 1) % frames;
	used[f / 8] |= (u8)(1u << (f % 8));
	return f;
}

/* The guest-physical address of each huge page of the buffer; odd (+1)
 * where it is backed by the 4 KiB pages of that split frame instead. */
static u64 *rr_layout(struct synth *s, u64 npages)
{
	u64 frames = REREG_SPAN / HUGE, i = 0, f, run;
	u64 *phys = calloc(npages, sizeof(*phys));
	u8 *used = calloc(frames / 8, 1);

	while (phys && used && i < npages) {
		f = rr_frame(s, used, frames);
		if (!rnd_below(s, 40)) {
			phys[i++] = BASE + f * HUGE + 1;
			continue;
		}
		phys[i++] = BASE + f * HUGE;
		/* neighbours the allocator found free: a physical run */
		for (run = rnd_below(s, REREG_RUN); run && i < npages; run--) {
			if (++f == frames || used[f / 8] & (1u << (f % 8)))
				break;
			used[f / 8] |= (u8)(1u << (f % 8));
			phys[i++] = BASE + f * HUGE;
		}
	}
	if (!used) {
		free(phys);
		phys = NULL;
	}
	free(used);
	if (!phys)
		s->oom = true;
	return phys;
}

/* Huge pages [from, from + n) registered: one list, merged where
 * neighbours are physically adjacent. */
static u32 rr_piece(struct synth *s, const u64 *phys, u64 from, u64 n)
{
	u32 b = sc_buf(s, true, TRACE_DIR_BIDIRECTIONAL);
	struct script *sc = &s->sc;
	u64 i, pg;

	for (i = from; i < from + n && !s->oom; i++) {
		if (phys[i] & 1) {
			for (pg = HUGE / PAGE; pg-- > 0 && !s->oom;)
				sc_ent(s, phys[i] - 1 + pg * PAGE, PAGE);
			continue;
		}
		if (sc->bufs[b].nents && !(phys[i - 1] & 1) &&
		    sc->ents[sc->nents - 1].phys +
		    sc->ents[sc->nents - 1].len == phys[i]) {
			sc->ents[sc->nents - 1].len += HUGE;
			continue;
		}
		sc_ent(s, phys[i], HUGE);
	}
	sc_step(s, b, SCRIPT_MAP);
	return b;
}

struct rr_reg {
	u32 buf;
	u32 from, n;	/* huge pages */
};

static void build_l(struct synth *s)
{
	static const u32 first[] = { 1, 4, 16, 32, 48 };
	static const u32 again[] = { 1, 2, 8 };
	u64 npages = fr_fixed(s, REREG_BYTES) / HUGE, at, n;
	u64 *phys = rr_layout(s, npages);
	struct rr_reg *reg = NULL, r;
	u64 nreg = 0, cap = 0, k;
	u32 round;

	for (at = 0; phys && at < npages && !s->oom; at += n) {
		n = first[rnd_below(s, 5)];	/* PVDMA_MIN reads twice */
		n = PVDMA_MIN(n, npages - at);
		if (!array_grow((void **)&reg, &cap, nreg + 1, sizeof(*reg))) {
			s->oom = true;
			break;
		}
		reg[nreg].from = (u32)at;
		reg[nreg].n = (u32)n;
		reg[nreg++].buf = rr_piece(s, phys, at, n);
	}
	for (round = 0; phys && round < REREG_ROUNDS && !s->oom; round++) {
		k = rnd_below(s, nreg);
		r = reg[k];
		reg[k] = reg[--nreg];
		sc_step(s, r.buf, SCRIPT_UNMAP);
		for (at = r.from; at < r.from + r.n && !s->oom; at += n) {
			n = again[rnd_below(s, 3)];
			n = PVDMA_MIN(n, r.from + r.n - at);
			if (!array_grow((void **)&reg, &cap, nreg + 1,
					sizeof(*reg))) {
				s->oom = true;
				break;
			}
			reg[nreg].from = (u32)at;
			reg[nreg].n = (u32)n;
			reg[nreg++].buf = rr_piece(s, phys, at, n);
		}
	}
	for (k = 0; k < nreg && !s->oom; k++)
		sc_step(s, reg[k].buf, SCRIPT_UNMAP);
	free(reg);
	free(phys);
}

/* The whole script at each rewind: the seed or the aperture may differ. */
static int script_rewind(struct synth *s)
{
	s->sc.nents = s->sc.nbufs = 0;
	s->sc.nsteps = s->sc.next = 0;
	s->oom = false;
	s->fr = (struct synth_frame){ .size = s->p.aperture, .seed = s->p.seed };
	s->wl->build(s);
	return s->oom ? -1 : 0;
}

static void script_free(struct script *sc)
{
	free(sc->ents);
	free(sc->bufs);
	free(sc->steps);
	memset(sc, 0, sizeof(*sc));
}

static int script_next(struct synth *s, struct trace_event *ev)
{
	const struct script_step *st;
	const struct script_buf *b;
	u32 i;

	if (s->oom)
		return -1;
	if (s->sc.next == s->sc.nsteps)
		return 0;
	st = &s->sc.steps[s->sc.next++];
	b = &s->sc.bufs[st->buf];
	if (b->nents > ev->ents_cap)
		return -1;
	ev->dir = (enum trace_dir)b->dir;
	if (!b->list) {
		const struct trace_sg_entry *e = &s->sc.ents[b->first];

		single(ev, st->op == SCRIPT_MAP ? TRACE_EV_MAP_SINGLE :
			   st->op == SCRIPT_UNMAP ? TRACE_EV_UNMAP_SINGLE :
			   TRACE_EV_SYNC_SINGLE, ev->dir, e->phys, e->len);
		return 1;
	}
	ev->kind = st->op == SCRIPT_MAP ? TRACE_EV_MAP_SG :
		   st->op == SCRIPT_UNMAP ? TRACE_EV_UNMAP_SG : TRACE_EV_SYNC_SG;
	ev->nents = ev->nents_total = b->nents;
	for (i = 0; i < b->nents; i++)
		ev->ents[i] = s->sc.ents[b->first + i];
	return 1;
}

static int synth_next(struct replay_source *src, struct trace_event *ev)
{
	struct synth *s = src->ctx;
	struct trace_sg_entry *ents = ev->ents;
	u32 cap = ev->ents_cap;

	memset(ev, 0, sizeof(*ev));
	ev->ents = ents;
	ev->ents_cap = cap;
	if (cap < CHURN_MAX_ENTS)
		return -1;
	return s->wl->next(s, ev);
}

static int over_aperture_rewind(struct synth *s)
{
	u64 total = 0;

	for (s->nbufs = 0; total < 2 * s->p.aperture; s->nbufs++)
		total += oa_size(s, s->nbufs);
	return 0;
}

static int storm_rewind(struct synth *s)
{
	s->nbufs = PVDMA_MAX(2 * s->p.aperture / BLOCK, 1);
	return 0;
}

static int churn_rewind(struct synth *s)
{
	if (!s->live)
		s->live = calloc(2 * CHURN_LIVE + 1, sizeof(*s->live));
	return s->live ? 0 : -1;
}

static int mix_rewind(struct synth *s);

/* --help lists these in this order, each with its summary. */
static const struct synth_workload synth_workloads[] = {
	{ "over-aperture",
	  "2x the aperture in 4-64 KiB buffers, 3/4 of it live",
	  over_aperture_rewind, over_aperture_next, NULL },
	{ "churn",
	  "--ops random maps/unmaps of 4 KiB-4 MiB, 1 in 8 a list",
	  churn_rewind, churn_next, NULL },
	{ "storm4k",
	  "a live 4 KiB buffer per 256 KiB block, 2x the aperture",
	  storm_rewind, storm_next, NULL },
	{ "a-stream",
	  "class A: 2 MiB singles, rising, 3/4 of the aperture",
	  script_rewind, script_next, build_a_stream },
	{ "a-descend",
	  "class A: the same at falling addresses",
	  script_rewind, script_next, build_a_descend },
	{ "a-scatter",
	  "class A: the same chunks scattered, 1.6x the aperture",
	  script_rewind, script_next, build_a_scatter },
	{ "a-fill",
	  "class A: 2 MiB buffers a page apart to 1.6x the aperture",
	  script_rewind, script_next, build_a_fill },
	{ "b-pinned",
	  "class B: a pinned allocator filling up, 2 MiB and lists",
	  script_rewind, script_next, build_b },
	{ "c-context",
	  "class C: context creation, 4 KiB scattered in clusters",
	  script_rewind, script_next, build_c },
	{ "d-multictx",
	  "class D: 4 contexts, pageable lists to 7/8 of the aperture",
	  script_rewind, script_next, build_d },
	{ "e-upload",
	  "class E: upload heaps 1.4x the aperture, a list per frame",
	  script_rewind, script_next, build_e },
	{ "f-longlists",
	  "class F: lists of 30-1000 pages of a 64 MiB pool",
	  script_rewind, script_next, build_f },
	{ "g-pool",
	  "class G: ~1 MiB pinned buffers, 1.6x the aperture, live",
	  script_rewind, script_next, build_g },
	{ "h-keep",
	  "class H: a pinned pool of 64 KiB-96 MiB buffers, 2x, kept",
	  script_rewind, script_next, build_h_keep },
	{ "h-lists",
	  "class H: the same as scattered lists of 1-128 MiB, kept",
	  script_rewind, script_next, build_h_lists },
	{ "i-infer",
	  "class I: an inference loop, pinned batches of random sizes",
	  script_rewind, script_next, build_i },
	{ "j-texture",
	  "class J: registered staging beside 1 MiB pinned buffers",
	  script_rewind, script_next, build_j },
	{ "k-regbatch",
	  "class K: a fresh array registered per batch, huge pages",
	  script_rewind, script_next, build_k },
	{ "j-stream",
	  "class J: staging registered from one region, 1 MiB pinned",
	  script_rewind, script_next, build_j_stream },
	{ "l-rereg",
	  "class L: a 2.5 GiB huge-page buffer registered, re-registered",
	  script_rewind, script_next, build_l },
	{ "mix",
	  "2-5 phases of the classes, scaled, moved, interleaved (mix:0,2)",
	  mix_rewind, script_next, NULL },
};

#define SYNTH_NWORKLOADS \
	(sizeof(synth_workloads) / sizeof(synth_workloads[0]))

const char *synth_name(unsigned int i)
{
	return i < SYNTH_NWORKLOADS ?
	       synth_workloads[i].name : NULL;
}

const char *synth_summary(unsigned int i)
{
	return i < SYNTH_NWORKLOADS ?
	       synth_workloads[i].summary : NULL;
}

/* ---- mix: phases of the classes in one script ---- */

#define MIX_LIVE_TIMES	2ull		/* live bytes at most this x the aperture */
#define MIX_MAX_STEPS	100000ull	/* events at most */
#define MIX_MAX_ENTS	1000000ull	/* list entries the events carry, at most */
#define MIX_TRIES	4u		/* halvings of a share over the bounds */
#define MIX_BURST	64u		/* longest run of one phase's steps */

/* A scripted class, drawn: every workload with a builder. */
static const struct synth_workload *mix_pick(struct synth *s)
{
	u32 n = 0, i, k;

	for (i = 0; i < SYNTH_NWORKLOADS; i++)
		n += synth_workloads[i].build != NULL;
	k = (u32)rnd_below(s, n);
	for (i = 0; i < SYNTH_NWORKLOADS; i++)
		if (synth_workloads[i].build && !k--)
			break;
	return &synth_workloads[i];
}

/* The bytes of buffer @b's entries. */
static u64 sc_bytes(const struct synth *s, u32 b)
{
	const struct script_buf *buf = &s->sc.bufs[b];
	u64 bytes = 0;
	u32 e;

	for (e = 0; e < buf->nents; e++)
		bytes += s->sc.ents[buf->first + e].len;
	return bytes;
}

/*
 * Build phase @ph at its size into the script with the phase's own random
 * stream @seed (the same phase whatever the others drew), and measure it:
 * its peak live bytes, its steps and the list entries they carry must fit
 * what @used left of the bounds. If they do not, the script is as before
 * and false.
 */
static bool mix_build(struct synth *s, struct mix_phase *ph, u64 seed,
		      const u64 used[3])
{
	struct pvdma_prng saved = s->rng;
	u64 nents0 = s->sc.nents, live = 0, peak = 0, ents = 0, i;

	pvdma_prng_seed(&s->rng, seed);
	s->fr = (struct synth_frame){ .size = ph->size, .seed = seed,
				      .buf0 = s->sc.nbufs, .phase = true };
	ph->buf0 = s->sc.nbufs;
	ph->ent0 = nents0;
	ph->step0 = s->sc.nsteps;
	ph->wl->build(s);
	ph->buf1 = s->sc.nbufs;
	ph->ent1 = s->sc.nents;
	ph->step1 = s->sc.nsteps;
	s->rng = saved;
	for (i = ph->step0; i < ph->step1 && !s->oom; i++) {
		const struct script_step *st = &s->sc.steps[i];

		if (s->sc.bufs[st->buf].list)
			ents += s->sc.bufs[st->buf].nents;
		if (st->op == SCRIPT_MAP)
			live += sc_bytes(s, st->buf);
		else if (st->op == SCRIPT_UNMAP)
			live -= sc_bytes(s, st->buf);
		peak = PVDMA_MAX(peak, live);
	}
	if (!s->oom && used[0] + peak <= MIX_LIVE_TIMES * s->p.aperture &&
	    used[1] + ph->step1 - ph->step0 <= MIX_MAX_STEPS &&
	    used[2] + ents <= MIX_MAX_ENTS) {
		ph->lo = ph->hi = 0;
		for (i = nents0; i < s->sc.nents; i++) {
			const struct trace_sg_entry *e = &s->sc.ents[i];

			ph->lo = i == nents0 ? e->phys : PVDMA_MIN(ph->lo, e->phys);
			ph->hi = PVDMA_MAX(ph->hi, e->phys + e->len);
		}
		((u64 *)used)[0] += peak;
		((u64 *)used)[1] += ph->step1 - ph->step0;
		((u64 *)used)[2] += ents;
		return true;
	}
	s->sc.nbufs = ph->buf0;
	s->sc.nsteps = ph->step0;
	s->sc.nents = nents0;
	return false;
}

/* A random entry of phase @ph (it has one). */
static const struct trace_sg_entry *mix_some_ent(struct synth *s,
						 const struct mix_phase *ph)
{
	return &s->sc.ents[ph->ent0 + rnd_below(s, ph->ent1 - ph->ent0)];
}

/*
 * Move the last phase built to its place: disjoint, above every earlier
 * phase with a gap of 0-15 GiB, or overlapping one of them: a random entry
 * of it put at a random page of a random entry of the other (its lowest
 * entry where that would take it under 1 GiB).
 */
static void mix_move(struct synth *s, struct mix_phase *ph)
{
	u64 top = 0, delta, i, at, from;
	u32 k, other = 0, with = 0;

	if (ph->ent1 == ph->ent0)
		return;		/* no entries */
	for (k = 0; k < s->nmix; k++) {
		top = PVDMA_MAX(top, s->mix[k].hi);
		with += s->mix[k].ent1 > s->mix[k].ent0;
	}
	ph->overlap = ph->overlap && with;
	if (ph->overlap) {
		for (k = 0, other = (u32)rnd_below(s, with); ; k++)
			if (s->mix[k].ent1 > s->mix[k].ent0 && !other--)
				break;
		{
			const struct trace_sg_entry *e = mix_some_ent(s, &s->mix[k]);

			at = e->phys + rnd_below(s, (e->len + PAGE - 1) / PAGE) *
				       PAGE;
		}
		from = mix_some_ent(s, ph)->phys;
		if (at < GIB + (from - ph->lo))
			from = ph->lo;
		delta = at - from;
	} else {
		top = (top + GIB - 1) / GIB * GIB;
		delta = PVDMA_MAX(top, BASE) + rnd_below(s, 16) * GIB - ph->lo;
	}
	for (i = ph->ent0; i < s->sc.nents; i++) {
		s->sc.ents[i].phys += delta;
		s->sc.ents[i].dma += delta;
	}
	ph->lo += delta;
	ph->hi += delta;
}

/*
 * The phases' steps in one order. A sequential phase begins a group that
 * starts once every step before it was emitted; an interleaved one joins
 * the group before it, eligible once a random number of the group's steps
 * went out. A group's steps are drawn phase by phase in runs of 1 to a
 * random length, the phase weighted by its steps left: each phase keeps
 * its own order, so every unmap still follows its map. Phases left out
 * (mix:LIST) take part in the draw and are not emitted, so the others
 * keep their order among themselves.
 */
static int mix_merge(struct synth *s)
{
	struct script_step *out;
	u64 n = 0, i;
	u32 g0, g1, k;

	out = malloc((s->sc.nsteps + 1) * sizeof(*out));
	free(s->mix_of);
	s->mix_of = malloc(s->sc.nsteps + 1);
	if (!out || !s->mix_of) {
		free(out);
		return -1;
	}
	for (g0 = 0; g0 < s->nmix; g0 = g1) {
		u64 emitted = 0, before = 0, left = 0, run = 0;
		u32 burst = rnd_below(s, 2) ? 1 : 1 + (u32)rnd_below(s, MIX_BURST);
		u32 cur = ~0u;

		for (g1 = g0; g1 < s->nmix; g1++) {
			struct mix_phase *ph = &s->mix[g1];

			if (g1 > g0 && ph->sequential)
				break;
			ph->cur = ph->step0;
			ph->start = g1 == g0 ? 0 : rnd_below(s, before + 1);
			before += ph->step1 - ph->step0;
		}
		left = before;
		while (left) {
			u64 weight = 0, pick;

			if (cur == ~0u || !run ||
			    s->mix[cur].cur == s->mix[cur].step1) {
				for (k = g0; k < g1; k++)
					if (s->mix[k].start <= emitted)
						weight += s->mix[k].step1 -
							  s->mix[k].cur;
				if (!weight) {	/* the next to start, now */
					for (k = g0; k < g1; k++)
						if (s->mix[k].cur < s->mix[k].step1)
							break;
					s->mix[k].start = emitted;
					continue;
				}
				pick = rnd_below(s, weight);
				for (k = g0; k < g1; k++) {
					u64 w = s->mix[k].start <= emitted ?
						s->mix[k].step1 - s->mix[k].cur : 0;

					if (pick < w)
						break;
					pick -= w;
				}
				cur = k;
				run = 1 + rnd_below(s, burst);
			}
			i = s->mix[cur].cur++;
			if (s->mix_keep & (1u << cur)) {
				s->mix_of[n] = (u8)cur;
				out[n++] = s->sc.steps[i];
			}
			emitted++;
			left--;
			run--;
		}
	}
	free(s->sc.steps);
	s->sc.steps = out;
	s->sc.steps_cap = s->sc.nsteps + 1;
	s->sc.nsteps = n;
	return 0;
}

/* The source's name: the phases, "+" beside the one before, "|" after it. */
static void mix_name(struct synth *s)
{
	size_t at;
	u32 k;

	at = (size_t)snprintf(s->name, sizeof(s->name), "synthetic:mix");
	for (k = 0; k < s->nmix && at < sizeof(s->name); k++) {
		const struct mix_phase *ph = &s->mix[k];

		at += (size_t)snprintf(s->name + at, sizeof(s->name) - at,
				       "%s%s%s %lluM%s",
				       k ? (ph->sequential ? " | " : " + ") : " ",
				       s->mix_keep & (1u << k) ? "" : "-",
				       ph->wl->name,
				       (unsigned long long)(ph->size / MIB),
				       ph->overlap ? "~" : "");
	}
}

/*
 * mix: 2-5 phases, each a scripted class at a share of 1/16 to the whole
 * aperture (halved while it would break a bound, left out after
 * MIX_TRIES halvings), moved disjoint or overlapping, sequential or
 * interleaved (mix_move(), mix_merge()).
 */
static int mix_rewind(struct synth *s)
{
	u64 used[3] = { 0, 0, 0 };
	u32 n, k, t;

	s->sc.nents = s->sc.nbufs = 0;
	s->sc.nsteps = s->sc.next = 0;
	s->oom = false;
	s->nmix = 0;
	n = 2 + (u32)rnd_below(s, MIX_PHASES - 1);
	for (k = 0; k < n && !s->oom; k++) {
		struct mix_phase *ph = &s->mix[s->nmix];
		u64 seed = pvdma_prng_next(&s->rng);

		memset(ph, 0, sizeof(*ph));
		ph->wl = mix_pick(s);
		ph->size = s->p.aperture / 16 * (1 + rnd_below(s, 16));
		ph->sequential = rnd_below(s, 2);
		ph->overlap = rnd_below(s, 2);
		for (t = 0; t <= MIX_TRIES; t++, ph->size /= 2) {
			ph->size = PVDMA_MAX(ph->size / (2 * MIB) * 2 * MIB,
					     2 * MIB);
			if (mix_build(s, ph, seed, used))
				break;
		}
		if (t > MIX_TRIES || s->oom)
			continue;	/* left out */
		mix_move(s, ph);
		s->nmix++;
	}
	mix_name(s);
	if (s->oom || mix_merge(s))
		return -1;
	return 0;
}

#define synth_mix	(&synth_workloads[SYNTH_NWORKLOADS - 1])

/* mix:LIST: the phases to emit, a comma list of indices (0 the first). */
static bool mix_parse_keep(const char *list, u32 *keep)
{
	*keep = 0;
	while (*list >= '0' && *list < '0' + (int)MIX_PHASES) {
		*keep |= 1u << (*list++ - '0');
		if (!*list)
			return true;
		if (*list++ != ',')
			break;
	}
	return false;
}

static int synth_rewind(struct replay_source *src, bool report)
{
	struct synth *s = src->ctx;

	pvdma_prng_seed(&s->rng, s->p.seed);
	s->next_map = s->next_unmap = s->live_bytes = 0;
	s->round = 0;
	s->ops_done = 0;
	s->nlive = 0;
	src->parse_errors = 0;
	return s->wl->rewind(s);
}

static void synth_close(struct replay_source *src)
{
	struct synth *s = src->ctx;

	if (s) {
		free(s->live);
		free(s->mix_of);
		script_free(&s->sc);
	}
	free(s);
	src->ctx = NULL;
}

int synth_mix_phase(const struct replay_source *src)
{
	const struct synth *s = src->ctx;

	if (src->next != synth_next || s->wl != synth_mix || !s->sc.next ||
	    !s->mix_of)
		return -1;
	return s->mix_of[s->sc.next - 1];
}

unsigned int synth_mix_phases(const struct replay_source *src,
			      struct synth_mix_phase *out, unsigned int max)
{
	const struct synth *s = src->ctx;
	unsigned int k;

	if (src->next != synth_next || s->wl != synth_mix)
		return 0;
	for (k = 0; k < s->nmix && k < max; k++)
		out[k] = (struct synth_mix_phase){
			.name = s->mix[k].wl->name, .size = s->mix[k].size,
			.sequential = s->mix[k].sequential,
			.overlap = s->mix[k].overlap,
			.emitted = !!(s->mix_keep & (1u << k)) };
	return k;
}

int synth_source(struct replay_source *src, const char *name,
		 const struct synth_params *params)
{
	const struct synth_workload *wl = NULL;
	u32 keep = ~0u;
	struct synth *s;
	size_t i;

	for (i = 0; i < SYNTH_NWORKLOADS && !wl; i++)
		if (!strcmp(name, synth_workloads[i].name))
			wl = &synth_workloads[i];
	if (!wl && !strncmp(name, "mix:", 4) && mix_parse_keep(name + 4, &keep))
		wl = synth_mix;
	if (!wl)
		return -1;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -1;
	s->wl = wl;
	s->mix_keep = keep;
	s->p = *params;
	if (!s->p.aperture)
		s->p.aperture = PVDMA_DART_DEFAULT_APERTURE;
	snprintf(s->name, sizeof(s->name), "synthetic:%s", name);
	memset(src, 0, sizeof(*src));
	src->name = s->name;
	src->ctx = s;
	src->rewind = synth_rewind;
	src->next = synth_next;
	src->close = synth_close;
	return 0;
}
