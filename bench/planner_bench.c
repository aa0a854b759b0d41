// SPDX-License-Identifier: MIT
/*
 * planner_bench: what the planner costs per operation, per policy, in one
 * process so the numbers compare (ratios, not absolute times).
 *
 *   churn   random maps and unmaps (4 KiB..1 MiB, 1 in 8 a 4-entry list,
 *           ~2048 live) against the DART model; --ops of them
 *   lookup  map+unmap of pages that hit one of N live windows, for
 *           N = 10^3, 10^4, 10^5: the cost must grow like log N
 *
 * The host is the DART model, executed in-process, so the times include
 * the model's own work. Output: a table, or JSON lines with --json.
 * For instruction counts run it under callgrind (scripts/bench.sh does).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pvdma/dart.h>
#include <pvdma/planner.h>
#include <pvdma/prng.h>

#include "json.h"
#include "size.h"

#define PAGE		PVDMA_DART_PAGE_SIZE
#define MAX_LIVE	2048
#define MAX_WINDOWS	(1u << 18)

struct bench {
	struct pvdma_dart dart;
	struct pvdma_planner p;
	struct pvdma_dart_mapping *dart_records;
	struct pvdma_window *windows;
	struct pvdma_request ops[2048];
	struct pvdma_window *batch_win[2048];
};

struct live {
	struct pvdma_seg s[4];
	u32 n;
};

static int bench_submit(void *ctx, struct pvdma_request *ops, u32 n)
{
	struct bench *b = ctx;

	pvdma_dart_execute(&b->dart, ops, n);
	return 0;
}

static const struct pvdma_planner_ops bench_ops = { .submit = bench_submit };

static struct bench *bench_new(enum pvdma_policy policy, u64 aperture,
			       u32 max_mappings, u64 max_window)
{
	struct bench *b = calloc(1, sizeof(*b));
	struct pvdma_dart_config dcfg;
	struct pvdma_planner_config cfg;
	struct pvdma_planner_mem mem = { 0 };

	b->dart_records = calloc(MAX_WINDOWS, sizeof(*b->dart_records));
	b->windows = calloc(MAX_WINDOWS, sizeof(*b->windows));
	pvdma_dart_default_config(&dcfg);
	dcfg.aperture_bytes = aperture;
	dcfg.max_mappings = max_mappings;
	dcfg.bus_limit = 1ull << 40;
	if (pvdma_dart_init(&b->dart, &dcfg, b->dart_records, MAX_WINDOWS))
		abort();
	pvdma_planner_default_config(&cfg, policy, PAGE, aperture, max_mappings);
	cfg.max_window = max_window;
	cfg.bus_base = dcfg.bus_base;
	cfg.bus_limit = dcfg.bus_limit;
	mem.windows = b->windows;
	mem.nwindows = MAX_WINDOWS;
	mem.ops = b->ops;
	mem.nops = 2048;
	mem.batch_win = b->batch_win;
	if (pvdma_planner_init(&b->p, &cfg, &bench_ops, b, &mem))
		abort();
	return b;
}

static void bench_free(struct bench *b)
{
	free(b->dart_records);
	free(b->windows);
	free(b);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* One stream, seeded again by each run: the same sequence for every policy. */
static struct pvdma_prng rng;

static u64 rnd(void)
{
	return pvdma_prng_next(&rng);
}

static void random_map(struct live *m)
{
	m->n = rnd() % 8 ? 1 : 4;
	for (u32 i = 0; i < m->n; i++) {
		u64 len = rnd() % 4 ? 4096 : 4096 + rnd() % (1 << 20);

		/* 64 GiB of guest memory, page-aligned buffers */
		m->s[i].gpa = (rnd() % (16ull << 20)) * 4096;
		m->s[i].len = len;
	}
}

struct result {
	double map_ns, unmap_ns;
	u64 maps, unmaps, host_calls, failed;
};

static void churn(enum pvdma_policy policy, u64 ops, struct result *r)
{
	struct bench *b = bench_new(policy, 1536ull << 20, 65536,
				    PVDMA_DEFAULT_MAX_WINDOW);
	static struct live live[MAX_LIVE];
	u64 i;

	memset(live, 0, sizeof(live));
	memset(r, 0, sizeof(*r));
	pvdma_prng_seed(&rng, 0x9e3779b97f4a7c15ull);
	for (i = 0; i < ops; i++) {
		struct live *m = &live[rnd() % MAX_LIVE];
		double t0;

		if (m->n) {
			t0 = now_ns();
			pvdma_unmap(&b->p, m->s, m->n, PVDMA_DIR_BIDIRECTIONAL);
			r->unmap_ns += now_ns() - t0;
			r->unmaps++;
			m->n = 0;
			continue;
		}
		random_map(m);
		t0 = now_ns();
		if (pvdma_map(&b->p, m->s, m->n, PVDMA_DIR_BIDIRECTIONAL, 0))
			m->n = 0;
		r->map_ns += now_ns() - t0;
		r->maps++;
	}
	r->host_calls = b->p.stats.host_calls;
	r->failed = b->p.stats.failed_maps;
	bench_free(b);
}

/*
 * N live windows of one page each (max_window = one page: every page its
 * own window), then maps and unmaps of pages inside them: every map is a
 * hit, so the time is the lookup.
 */
static void lookup(enum pvdma_policy policy, u32 nwin, u64 ops,
		   struct result *r)
{
	struct bench *b = bench_new(policy, 1ull << 40, MAX_WINDOWS - 1, PAGE);
	struct pvdma_seg s;
	u64 i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < nwin; i++) {
		s.gpa = i * 4 * PAGE;
		s.len = 4096;
		if (pvdma_map(&b->p, &s, 1, PVDMA_DIR_BIDIRECTIONAL, 0))
			abort();
	}
	pvdma_prng_seed(&rng, 12345);
	for (i = 0; i < ops; i++) {
		double t0;

		s.gpa = (rnd() % nwin) * 4 * PAGE + 4096 * (rnd() % 4);
		s.len = 4096;
		t0 = now_ns();
		if (pvdma_map(&b->p, &s, 1, PVDMA_DIR_BIDIRECTIONAL, 0))
			abort();
		r->map_ns += now_ns() - t0;
		t0 = now_ns();
		pvdma_unmap(&b->p, &s, 1, PVDMA_DIR_BIDIRECTIONAL);
		r->unmap_ns += now_ns() - t0;
		r->maps++;
		r->unmaps++;
	}
	r->host_calls = b->p.stats.host_calls;
	bench_free(b);
}

static void print(bool json, const char *bench_name, const char *policy,
		  u64 n, const struct result *r, double base_map)
{
	double map = r->maps ? r->map_ns / r->maps : 0;
	double unmap = r->unmaps ? r->unmap_ns / r->unmaps : 0;

	if (json) {
		struct jsonw w;

		jsonw_init(&w, stdout);
		jsonw_object_begin(&w, NULL);
		jsonw_string(&w, "bench", bench_name);
		jsonw_string(&w, "policy", policy);
		jsonw_u64(&w, "n", n);
		jsonw_u64(&w, "maps", r->maps);
		jsonw_u64(&w, "unmaps", r->unmaps);
		jsonw_double(&w, "ns_per_map", 1, map);
		jsonw_double(&w, "ns_per_unmap", 1, unmap);
		jsonw_double(&w, "map_ratio", 3, base_map ? map / base_map : 1.0);
		jsonw_u64(&w, "host_calls", r->host_calls);
		jsonw_u64(&w, "failed_maps", r->failed);
		jsonw_object_end(&w);
		putchar('\n');
		return;
	}
	printf("%-7s %-8s %8llu %10llu %9.1f %9.1f %8.2fx %10llu %7llu\n",
	       bench_name, policy, (unsigned long long)n,
	       (unsigned long long)r->maps, map, unmap,
	       base_map ? map / base_map : 1.0,
	       (unsigned long long)r->host_calls, (unsigned long long)r->failed);
}

static void usage(void)
{
	printf("usage: planner_bench [--ops N] [--lookup-ops N] [--only churn|lookup]\n"
	       "                     [--policy rfc|perpage|pvdma] [--lookup-n 1000|10000|100000]\n"
	       "                     [--json]\n"
	       "Per-operation cost of the planner, every policy in one process;\n"
	       "ratios are against the first row of each block.\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ops", required_argument, NULL, 'o' },
		{ "lookup-ops", required_argument, NULL, 'l' },
		{ "only", required_argument, NULL, 'O' },
		{ "policy", required_argument, NULL, 'p' },
		{ "lookup-n", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	u64 ops = 1000000, lookup_ops = 200000, lookup_n = 0;
	const char *only = NULL, *policy = NULL;
	bool json = false;
	struct result r;
	double base;
	int c, pol;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'o': ops = size_arg("planner_bench", "ops", optarg); break;
		case 'l': lookup_ops = size_arg("planner_bench", "lookup-ops", optarg); break;
		case 'O': only = optarg; break;
		case 'p': policy = optarg; break;
		case 'n': lookup_n = size_arg("planner_bench", "lookup-n", optarg); break;
		case 'j': json = true; break;
		case 'h': usage(); return 0;
		default: usage(); return 2;
		}
	}
	if (!json)
		printf("%-7s %-8s %8s %10s %9s %9s %9s %10s %7s\n", "bench",
		       "policy", "n", "maps", "ns/map", "ns/unmap", "ratio",
		       "host_calls", "failed");
	if (!only || !strcmp(only, "churn")) {
		static const enum pvdma_policy churned[] = {
			PVDMA_POLICY_RFC, PVDMA_POLICY_PERPAGE,
			PVDMA_POLICY_PVDMA,
		};

		base = 0;
		for (u32 i = 0; i < sizeof(churned) / sizeof(churned[0]); i++) {
			pol = churned[i];
			if (policy && strcmp(policy, pvdma_policy_name(pol)))
				continue;
			churn(pol, ops, &r);
			print(json, "churn", pvdma_policy_name(pol), ops, &r, base);
			if (!base)
				base = r.map_ns / r.maps;
		}
	}
	if (!only || !strcmp(only, "lookup")) {
		base = 0;
		for (u32 n = 1000; n <= 100000; n *= 10) {
			if (lookup_n && n != lookup_n)
				continue;
			lookup(PVDMA_POLICY_PVDMA, n, lookup_ops, &r);
			print(json, "lookup", "pvdma", n, &r, base);
			if (!base)
				base = r.map_ns / r.maps;
		}
	}
	return 0;
}
