// SPDX-License-Identifier: MIT
/*
 * churn_curve: a long run of random DMA maps and unmaps through the lib/
 * planner (policy pvdma) against the DART model, sampled as it goes.
 *
 * Every operation is one driver call: a map of a new buffer (a single
 * range of 256 B .. 4 MiB, log-uniform, at a random guest address; one in
 * eight a scatter list of 2..16 ranges) or the unmap of the buffer whose
 * lifetime ran out first. Lifetimes are log-uniform in [1, --max-life]
 * operations, so most buffers are short-lived and a few stay for a long
 * time, pinning windows while the rest churns around them.
 *
 * Every --every operations it records: live DART mappings and bytes, live
 * planner windows, the largest free bus range (pvdma_iova_largest_gap on
 * the DART's bus allocator), the free bus space, and failed maps so far.
 * At the end every buffer is unmapped and the idle windows reclaimed; the
 * bus space must then be one free range again.
 *
 * Exit status 0 when: no map failed (without --inject), no segment was
 * translated elsewhere, live mappings and aperture stayed
 * within the limits, the largest free range in the second half of the run
 * never fell below half its smallest value in the first half (fragmentation
 * does not grow), and everything was released at the end.
 *
 * Every mapped segment is translated through the DART when mapped and
 * again just before its unmap: its bus address must lead to the
 * segment's own guest memory all along. --inject RATE refuses that
 * share of host maps (NO_APERTURE or IO, as pvdmad --inject-map-fail);
 * failed maps are then allowed, wrong translations never.
 *
 * Usage: churn_curve [--ops N] [--every N] [--seed S] [--max-life N]
 *                    [--aperture BYTES] [--curve FILE] [--inject RATE]
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvdma/dart.h>
#include <pvdma/planner.h>
#include <pvdma/prng.h>

#include "size.h"

#define GUEST_SPAN	(8ull << 30)	/* guest RAM the buffers come from */
#define MAX_SG		16
#define MAX_SAMPLES	4096

struct buf {
	u64 expires;
	u32 nsegs;
	enum pvdma_dir dir;
	struct pvdma_seg segs[MAX_SG];
};

struct sample {
	u64 ops;
	u64 live_mappings;
	u64 live_bytes;
	u64 live_windows;
	u64 largest_gap;
	u64 free_bus;
	u64 failed;
	u64 live_bufs;
};

struct churn {
	struct pvdma_dart dart;
	struct pvdma_dart_mapping *dart_records;
	struct pvdma_planner planner;
	struct pvdma_planner_mem mem;
	struct pvdma_prng rng;
	struct buf **heap;	/* min-heap on expires */
	u32 nheap;
	u32 cap;
	u64 host_calls;
	u64 inject;		/* refuse a host MAP when a draw is below */
	u64 injected;
	u64 wrong;		/* segments whose bus address the DART
				 * translates to other memory */
};

static u64 rnd(struct churn *c)
{
	return pvdma_prng_next(&c->rng);
}

/* Log-uniform in [lo, hi]. */
static u64 log_uniform(struct churn *c, u64 lo, u64 hi)
{
	u32 lo_bit = 63 - (u32)__builtin_clzll(lo);
	u32 hi_bit = 63 - (u32)__builtin_clzll(hi);
	u32 bit = lo_bit + (u32)(rnd(c) % (hi_bit - lo_bit + 1));
	u64 v = (1ull << bit) + rnd(c) % (1ull << bit);

	return v < lo ? lo : v > hi ? hi : v;
}

static int churn_submit(void *ctx, struct pvdma_request *ops, u32 n)
{
	struct churn *c = ctx;

	u32 i;

	c->host_calls++;
	pvdma_dart_execute(&c->dart, ops, n);
	/* Injected refusals: undo maps the model did, report NO_APERTURE
	 * or IO as pvdmad --inject-map-fail does. */
	for (i = 0; c->inject && i < n; i++) {
		if (ops[i].op != PVDMA_OP_MAP || ops[i].status != PVDMA_ST_OK ||
		    rnd(c) >= c->inject)
			continue;
		pvdma_dart_unmap(&c->dart, ops[i].bus, ops[i].len);
		ops[i].status = rnd(c) & 1 ? PVDMA_ST_IO : PVDMA_ST_NO_APERTURE;
		c->injected++;
	}
	return 0;
}

static const struct pvdma_planner_ops churn_ops = {
	.submit = churn_submit,
};

static void heap_swap(struct churn *c, u32 a, u32 b)
{
	struct buf *t = c->heap[a];

	c->heap[a] = c->heap[b];
	c->heap[b] = t;
}

static void heap_push(struct churn *c, struct buf *b)
{
	u32 i = c->nheap++;

	c->heap[i] = b;
	while (i && c->heap[(i - 1) / 2]->expires > c->heap[i]->expires) {
		heap_swap(c, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static struct buf *heap_pop(struct churn *c)
{
	struct buf *top = c->heap[0];
	u32 i = 0, l, m;

	c->heap[0] = c->heap[--c->nheap];
	for (;;) {
		l = 2 * i + 1;
		m = i;
		if (l < c->nheap && c->heap[l]->expires < c->heap[m]->expires)
			m = l;
		if (l + 1 < c->nheap && c->heap[l + 1]->expires < c->heap[m]->expires)
			m = l + 1;
		if (m == i)
			break;
		heap_swap(c, i, m);
		i = m;
	}
	return top;
}

static int churn_init(struct churn *c, u64 aperture, u64 seed, u32 cap)
{
	struct pvdma_dart_config dc;
	struct pvdma_planner_config pc;

	memset(c, 0, sizeof(*c));
	pvdma_dart_default_config(&dc);
	dc.aperture_bytes = aperture;
	c->dart_records = calloc(dc.max_mappings, sizeof(*c->dart_records));
	if (!c->dart_records ||
	    pvdma_dart_init(&c->dart, &dc, c->dart_records, dc.max_mappings))
		return -ENOMEM;
	pvdma_planner_default_config(&pc, PVDMA_POLICY_PVDMA, dc.page_size,
				     dc.aperture_bytes, dc.max_mappings);
	pc.bus_base = dc.bus_base;
	pc.bus_limit = dc.bus_limit;
	c->mem.nwindows = dc.max_mappings + 64;
	c->mem.windows = calloc(c->mem.nwindows, sizeof(*c->mem.windows));
	c->mem.nops = 2032;
	c->mem.ops = calloc(c->mem.nops, sizeof(*c->mem.ops));
	c->mem.batch_win = calloc(c->mem.nops, sizeof(*c->mem.batch_win));
	c->cap = cap;
	c->heap = calloc(cap, sizeof(*c->heap));
	pvdma_prng_seed(&c->rng, seed);
	if (!c->mem.windows || !c->mem.ops || !c->mem.batch_win || !c->heap)
		return -ENOMEM;
	return pvdma_planner_init(&c->planner, &pc, &churn_ops, c, &c->mem);
}

static void churn_fini(struct churn *c)
{
	while (c->nheap)
		free(heap_pop(c));
	free(c->heap);
	free(c->mem.windows);
	free(c->mem.ops);
	free(c->mem.batch_win);
	free(c->dart_records);
}

/* Every byte the device would reach must be the buffer's. */
static void churn_verify(struct churn *c, const struct buf *b)
{
	u64 host;
	u32 i;

	for (i = 0; i < b->nsegs; i++)
		if (pvdma_dart_translate(&c->dart, b->segs[i].bus, b->segs[i].len,
					 0, &host) ||
		    host != b->segs[i].dev_gpa || host != b->segs[i].gpa)
			c->wrong++;
}

/* One new buffer, mapped; false if the planner refused it. */
static bool churn_map(struct churn *c, u64 now, u64 max_life)
{
	struct buf *b = calloc(1, sizeof(*b));
	u64 gpa;
	u32 i;

	if (!b)
		return false;
	b->dir = (enum pvdma_dir)(rnd(c) % 3);
	b->nsegs = rnd(c) % 8 ? 1 : 2 + (u32)(rnd(c) % (MAX_SG - 1));
	gpa = (rnd(c) % (GUEST_SPAN >> 8)) << 8;
	for (i = 0; i < b->nsegs; i++) {
		u64 len = b->nsegs == 1 ? log_uniform(c, 256, 4ull << 20) :
					  log_uniform(c, 256, 256ull << 10);

		if (gpa + len > GUEST_SPAN)
			gpa = 0;
		b->segs[i].gpa = gpa;
		b->segs[i].len = len;
		gpa += len + (rnd(c) % 4) * 4096;
	}
	if (pvdma_map(&c->planner, b->segs, b->nsegs, b->dir, 0)) {
		free(b);
		return false;
	}
	churn_verify(c, b);
	b->expires = now + log_uniform(c, 1, max_life);
	heap_push(c, b);
	return true;
}

static int churn_unmap(struct churn *c)
{
	struct buf *b = heap_pop(c);
	int ret;

	churn_verify(c, b);	/* still mapped where it was, at its end */
	ret = pvdma_unmap(&c->planner, b->segs, b->nsegs, b->dir);

	free(b);
	return ret;
}

static void take(struct churn *c, struct sample *s, u64 ops)
{
	const struct pvdma_dart_stats *ds = &c->dart.stats;

	s->ops = ops;
	s->live_mappings = ds->live_mappings;
	s->live_bytes = ds->live_bytes;
	s->live_windows = c->planner.stats.live_windows;
	s->largest_gap = pvdma_iova_largest_gap(&c->dart.bus);
	s->free_bus = (c->dart.cfg.bus_limit - c->dart.cfg.bus_base) -
		      ds->live_bytes;
	s->failed = c->planner.stats.failed_maps;
	s->live_bufs = c->nheap;
}

static void print_header(FILE *f)
{
	fprintf(f, "# ops live_bufs live_mappings live_aperture_mib live_windows largest_free_bus_mib free_bus_mib largest_over_free failed_maps\n");
}

static void print_sample(FILE *f, const struct sample *s)
{
	fprintf(f, "%llu %llu %llu %.1f %llu %.1f %.1f %.3f %llu\n",
		(unsigned long long)s->ops, (unsigned long long)s->live_bufs,
		(unsigned long long)s->live_mappings,
		s->live_bytes / 1048576.0,
		(unsigned long long)s->live_windows,
		s->largest_gap / 1048576.0, s->free_bus / 1048576.0,
		s->free_bus ? (double)s->largest_gap / (double)s->free_bus : 1.0,
		(unsigned long long)s->failed);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "ops", required_argument, NULL, 'o' },
		{ "every", required_argument, NULL, 'e' },
		{ "seed", required_argument, NULL, 's' },
		{ "max-life", required_argument, NULL, 'l' },
		{ "aperture", required_argument, NULL, 'a' },
		{ "curve", required_argument, NULL, 'c' },
		{ "inject", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	u64 ops = 1000000, every = 100000, seed = 1, max_life = 8192;
	u64 aperture = PVDMA_DART_DEFAULT_APERTURE, i, bad_unmaps = 0;
	u64 first_min = ~0ull, second_min = ~0ull;
	struct sample samples[MAX_SAMPLES], end;
	const char *curve = NULL;
	double inject = 0;
	u32 nsamples = 0, k;
	struct churn c;
	bool ok = true;
	FILE *f;
	int opt;

	while ((opt = getopt_long(argc, argv, "o:e:s:l:a:c:i:", lo, NULL)) != -1) {
		switch (opt) {
		case 'o': ops = size_arg("churn_curve", "ops", optarg); break;
		case 'e': every = size_arg("churn_curve", "every", optarg); break;
		case 's': seed = size_arg("churn_curve", "seed", optarg); break;
		case 'l': max_life = size_arg("churn_curve", "max-life", optarg); break;
		case 'a': aperture = size_arg("churn_curve", "aperture", optarg); break;
		case 'c': curve = optarg; break;
		case 'i': inject = strtod(optarg, NULL); break;
		default:
			fprintf(stderr, "usage: churn_curve [--ops N] [--every N] [--seed S] [--max-life N] [--aperture BYTES] [--curve FILE] [--inject RATE]\n");
			return 2;
		}
	}
	if (!ops || !every || ops / every >= MAX_SAMPLES || max_life < 1) {
		fprintf(stderr, "churn_curve: bad --ops/--every/--max-life\n");
		return 2;
	}
	if (churn_init(&c, aperture, seed, (u32)(max_life + 16))) {
		fprintf(stderr, "churn_curve: set-up failed\n");
		return 1;
	}
	if (inject > 0)
		c.inject = inject >= 1 ? ~0ull : (u64)(inject * 18446744073709551616.0);
	/* Never more live buffers than max_life: at most one map per op. */
	for (i = 1; i <= ops; i++) {
		if (c.nheap && (c.heap[0]->expires <= i || c.nheap == c.cap)) {
			if (churn_unmap(&c))
				bad_unmaps++;
		} else {
			churn_map(&c, i, max_life);
		}
		if (i % every == 0)
			take(&c, &samples[nsamples++], i);
	}
	while (c.nheap)
		if (churn_unmap(&c))
			bad_unmaps++;
	pvdma_reclaim(&c.planner);
	take(&c, &end, ops);

	print_header(stdout);
	for (k = 0; k < nsamples; k++)
		print_sample(stdout, &samples[k]);
	if (curve) {
		f = fopen(curve, "w");
		if (!f) {
			perror(curve);
			return 1;
		}
		fprintf(f, "# churn_curve --ops %llu --every %llu --seed %llu --max-life %llu --aperture %llu\n",
			(unsigned long long)ops, (unsigned long long)every,
			(unsigned long long)seed, (unsigned long long)max_life,
			(unsigned long long)aperture);
		print_header(f);
		for (k = 0; k < nsamples; k++)
			print_sample(f, &samples[k]);
		fclose(f);
	}

	for (k = 0; k < nsamples; k++) {
		const struct sample *s = &samples[k];

		if (s->live_bytes > aperture ||
		    s->live_mappings > c.dart.cfg.max_mappings)
			ok = false;
		if (k < nsamples / 2)
			first_min = s->largest_gap < first_min ? s->largest_gap : first_min;
		else
			second_min = s->largest_gap < second_min ? s->largest_gap : second_min;
	}
	printf("churn: %llu ops, %llu host calls, peak %llu mappings, peak aperture %.1f MiB of %.1f, %llu failed maps, %llu bad unmaps\n",
	       (unsigned long long)ops, (unsigned long long)c.host_calls,
	       (unsigned long long)c.dart.stats.peak_mappings,
	       c.dart.stats.peak_bytes / 1048576.0, aperture / 1048576.0,
	       (unsigned long long)end.failed, (unsigned long long)bad_unmaps);
	printf("churn: %llu host maps refused by injection, %llu mapped segments the DART translates elsewhere\n",
	       (unsigned long long)c.injected, (unsigned long long)c.wrong);
	printf("churn: smallest largest-free-bus-range %.1f MiB in the first half, %.1f MiB in the second\n",
	       first_min / 1048576.0, second_min / 1048576.0);
	printf("churn: at the end %llu mappings, %.1f MiB mapped, largest free bus range %.1f MiB of %.1f\n",
	       (unsigned long long)end.live_mappings, end.live_bytes / 1048576.0,
	       end.largest_gap / 1048576.0, end.free_bus / 1048576.0);
	if (nsamples >= 2 && second_min < first_min / 2)
		ok = false;
	if ((end.failed && !c.inject) || c.wrong || bad_unmaps || end.live_mappings || end.live_bytes ||
	    end.largest_gap != end.free_bus)
		ok = false;
	printf("churn: %s\n", ok ? "ok" : "FAIL");
	churn_fini(&c);
	return ok ? 0 : 1;
}
