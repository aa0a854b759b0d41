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
 */
#include "synth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE		4096ull
#define BLOCK		(256ull << 10)
#define BASE		(4ull << 30)	/* above a typical low RAM hole */
#define CHURN_SPAN	(64ull << 30)
#define CHURN_LIVE	2048u
#define CHURN_MAX_ENTS	16u
#define ROUNDS		2u

const char *const synth_names[] = { "over-aperture", "churn", "storm4k", NULL };

enum synth_kind { SYNTH_OVER_APERTURE, SYNTH_CHURN, SYNTH_STORM4K };

struct churn_buf {
	u64 addr;	/* first entry */
	u64 size;	/* single: bytes */
	u32 nents;	/* 0: a single map */
};

struct synth {
	enum synth_kind kind;
	struct synth_params p;
	char name[48];
	u64 rng;
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
};

static u64 splitmix(u64 *state)
{
	u64 z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* A value fixed by (seed, i): buffer i looks the same every time. */
static u64 hash_at(const struct synth *s, u64 i)
{
	u64 state = s->p.seed * 0x2545f4914f6cdd1dull + i;

	return splitmix(&state);
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
	u64 order = splitmix(&s->rng) % 11;

	return (1 + splitmix(&s->rng) % (1ull << order)) * PAGE;
}

static int churn_map(struct synth *s, struct trace_event *ev)
{
	struct churn_buf *b = &s->live[s->nlive++];
	u64 addr = BASE + splitmix(&s->rng) % (CHURN_SPAN / PAGE) * PAGE;
	u32 i;

	b->addr = addr;
	if (splitmix(&s->rng) % 8) {
		b->nents = 0;
		b->size = churn_size(s);
		single(ev, TRACE_EV_MAP_SINGLE, TRACE_DIR_BIDIRECTIONAL,
		       addr, b->size);
		return 1;
	}
	b->nents = 2 + (u32)(splitmix(&s->rng) % (CHURN_MAX_ENTS - 1));
	ev->kind = TRACE_EV_MAP_SG;
	ev->dir = TRACE_DIR_BIDIRECTIONAL;
	ev->nents = ev->nents_total = b->nents;
	for (i = 0; i < b->nents; i++) {
		u64 len = (1 + splitmix(&s->rng) % 16) * PAGE;

		ev->ents[i].phys = ev->ents[i].dma = addr;
		ev->ents[i].len = len;
		/* a hole of 0..3 pages: scattered, not contiguous */
		addr += len + (1 + splitmix(&s->rng) % 3) * PAGE;
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
	       splitmix(&s->rng) % (2 * CHURN_LIVE) >= s->nlive);
	if (map)
		return churn_map(s, ev);
	victim = (u32)(splitmix(&s->rng) % s->nlive);
	churn_unmap_event(ev, &s->live[victim]);
	s->live[victim] = s->live[--s->nlive];
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
	switch (s->kind) {
	case SYNTH_OVER_APERTURE:
		return over_aperture_next(s, ev);
	case SYNTH_STORM4K:
		return storm_next(s, ev);
	default:
		return churn_next(s, ev);
	}
}

static int synth_rewind(struct replay_source *src, bool report)
{
	struct synth *s = src->ctx;
	u64 total = 0;

	s->rng = s->p.seed;
	s->next_map = s->next_unmap = s->live_bytes = 0;
	s->round = 0;
	s->ops_done = 0;
	s->nlive = 0;
	src->parse_errors = 0;
	if (s->kind == SYNTH_OVER_APERTURE)
		for (s->nbufs = 0; total < 2 * s->p.aperture; s->nbufs++)
			total += oa_size(s, s->nbufs);
	if (s->kind == SYNTH_STORM4K)
		s->nbufs = PVDMA_MAX(2 * s->p.aperture / BLOCK, 1);
	return 0;
}

static void synth_close(struct replay_source *src)
{
	struct synth *s = src->ctx;

	if (s)
		free(s->live);
	free(s);
	src->ctx = NULL;
}

int synth_source(struct replay_source *src, const char *name,
		 const struct synth_params *params)
{
	struct synth *s;
	int kind;

	for (kind = 0; synth_names[kind]; kind++)
		if (!strcmp(name, synth_names[kind]))
			break;
	if (!synth_names[kind])
		return -1;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -1;
	s->kind = (enum synth_kind)kind;
	s->p = *params;
	if (!s->p.aperture)
		s->p.aperture = PVDMA_DART_DEFAULT_APERTURE;
	if (s->kind == SYNTH_CHURN) {
		s->live = calloc(2 * CHURN_LIVE + 1, sizeof(*s->live));
		if (!s->live) {
			free(s);
			return -1;
		}
	}
	snprintf(s->name, sizeof(s->name), "synthetic:%s", name);
	memset(src, 0, sizeof(*src));
	src->name = s->name;
	src->ctx = s;
	src->rewind = synth_rewind;
	src->next = synth_next;
	src->close = synth_close;
	return 0;
}
