// SPDX-License-Identifier: MIT
/*
 * pvdma-replay: replay recorded DMA traces (or synthetic workloads)
 * through each planner policy against the DART model, and report what the
 * host would have seen. docs/replay.md explains the method and the output.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pvdma/version.h>

#include "json.h"
#include "size.h"

#include "inspect.h"
#include "replay.h"
#include "synth.h"
#include "timeline.h"
#include "verdict.h"

#define MAX_SYNTHETIC	8
#define MAX_POLICIES	8	/* --policy a,b,...: policies run in one process */

/* What the run is for: replay rows, a verdict per trace, or a summary. */
enum cli_mode { MODE_REPLAY, MODE_VERDICT, MODE_STATS };

/* Exit statuses, the same in every mode (docs/replay.md). */
enum {
	EXIT_OK		= 0,	/* every trace fits / every map succeeded */
	EXIT_FAILED	= 1,	/* a map failed (or did not verify) */
	EXIT_BAD_INPUT	= 2,	/* usage error, or an input that is no trace */
};

struct cli {
	struct replay_options opt;
	enum cli_mode mode;
	double call_us;
	enum pvdma_policy order[MAX_POLICIES];	/* --policy, in run order */
	unsigned int npolicies;
	bool json;
	FILE *timeline;			/* --timeline: samples of every run */
	const char *synthetic[MAX_SYNTHETIC];
	unsigned int nsynthetic;
	struct synth_params synth;
};

static void usage(FILE *out)
{
	unsigned int i;

	fprintf(out,
"usage: pvdma-replay [options] TRACE...\n"
"       pvdma-replay [options] --synthetic NAME [TRACE...]\n"
"\n"
"Replays each DMA trace (kernel dma:* tracepoints as tracefs prints them,\n"
"plain or .xz) through the planner against a DART model, verifies every\n"
"mapping and prints one row per (trace, policy).\n"
"\n"
"  --policy rfc|perpage|pvdma|all  policies to run (default all: rfc,\n"
"                         perpage, pvdma), or a comma list run in its order;\n"
"                         reference policies: block (fixed aligned\n"
"                         windows of --block BYTES, default 2M), pool\n"
"                         (every map copied through a --bounce-pool),\n"
"                         oracle (clairvoyant lower bound on host calls)\n"
"  --block BYTES          block policy window size (a power of two)\n"
"  --aperture BYTES       bytes the IOMMU maps at once (default 1536M)\n"
"  --max-mappings N       live mappings at most (default 65536)\n"
"  --bounce off|small|all pvdma: bounce streaming maps that do not fit\n"
"                         (default off)\n"
"  --bounce-pool BYTES    bounce pool size (default 64M)\n"
"  --strict               pvdma: unmap at once, keep nothing idle\n"
"  --max-window BYTES     pvdma: largest window (default %lluM)\n"
"  --spec-shift N         pvdma: speculative windows may hold aperture >> N\n"
"                         (default %u)\n"
"  --batch N              host entries per host call (default %u: the\n"
"                         default ring's slots x entries per slot, all\n"
"                         posted with one doorbell)\n"
"  --json                 one JSON object per line per (trace, policy)\n"
"  --verdict              per trace one line: FITS, FITS WITH BOUNCE or\n"
"                         DOES NOT FIT under the pvdma policy, with the\n"
"                         peak live set, host calls, the first failure,\n"
"                         what would fit and how certain it is\n"
"  --call-us US           --verdict: host round trip per call (default %.1f)\n"
"  --stats                summarise each trace: events, lists, phases,\n"
"                         peak live bytes (pvdma-trace stats runs this)\n"
"  --timeline FILE        write live bytes, aperture held and failed maps\n"
"                         over trace time for every (trace, policy), as\n"
"                         tab-separated lines (scripts/plots/timeline.sh)\n"
"  --quiet                no per-event messages (verify, unmap errors)\n"
"  --no-fill-from-unmap   the entries a truncated list hides at invented\n"
"                         addresses (by default at those its own unmap\n"
"                         shows; sizes estimated either way)\n"
"  --synthetic NAME       add a synthetic workload (repeatable), one of:\n",
		(unsigned long long)(PVDMA_DEFAULT_MAX_WINDOW >> 20),
		PVDMA_DEFAULT_SPEC_SHIFT, PVDMA_DEFAULT_DOORBELL_BATCH,
		VERDICT_DEFAULT_CALL_US);
	for (i = 0; synth_name(i); i++)
		fprintf(out, "      %-14s %s\n", synth_name(i), synth_summary(i));
	fprintf(out,
"  --seed N               synthetic seed (default %d)\n"
"  --ops N                churn operations (default %llu)\n"
"  --help\n"
"  --version\n"
"\n"
"Sizes: decimal or 0x hex, K, M, G or T (powers of 1024).\n"
"Exit status: 0 when every map succeeded (--verdict: every trace fits,\n"
"with or without bounce); 1 when a map failed or a mapping did not\n"
"verify under the policy asked for (with several, under pvdma: the\n"
"others are baselines) (--verdict: a trace does not fit); 2 on a\n"
"usage error or an input that is not a trace (each says why).\n",
		SYNTH_DEFAULT_SEED,
		(unsigned long long)SYNTH_DEFAULT_OPS);
}

static int parse_bounce(const char *s, enum pvdma_bounce_mode *mode)
{
	if (!strcmp(s, "off"))
		*mode = PVDMA_BOUNCE_OFF;
	else if (!strcmp(s, "small"))
		*mode = PVDMA_BOUNCE_SMALL;
	else if (!strcmp(s, "all"))
		*mode = PVDMA_BOUNCE_ALL;
	else
		return -1;
	return 0;
}

/*
 * --policy all (rfc, perpage, pvdma) or a comma list run in its order in
 * one process: the first run pays for cold caches and code, so a timing
 * comparison runs the pair both ways (bench/planner_time.py).
 */
static int parse_policies(struct cli *c, const char *arg)
{
	static const enum pvdma_policy all[] = {
		PVDMA_POLICY_RFC, PVDMA_POLICY_PERPAGE, PVDMA_POLICY_PVDMA,
	};
	char name[32];
	const char *p = arg;
	size_t len;

	if (!strcmp(arg, "all")) {
		memcpy(c->order, all, sizeof(all));
		c->npolicies = sizeof(all) / sizeof(all[0]);
		return 0;
	}
	c->npolicies = 0;
	do {
		len = strcspn(p, ",");
		if (!len || len >= sizeof(name) || c->npolicies == MAX_POLICIES)
			return -1;
		memcpy(name, p, len);
		name[len] = '\0';
		if (pvdma_policy_parse(name, &c->order[c->npolicies++]))
			return -1;
		p += len;
	} while (*p++ == ',');
	c->opt.policy = c->order[0];
	return 0;
}

static void bad_value(const char *opt, const char *value)
{
	fprintf(stderr, "pvdma-replay: bad value for --%s: '%s'\n", opt, value);
	exit(2);
}

enum {
	OPT_POLICY = 256, OPT_APERTURE, OPT_MAX_MAPPINGS, OPT_BOUNCE,
	OPT_BOUNCE_POOL, OPT_STRICT, OPT_MAX_WINDOW, OPT_SPEC_SHIFT, OPT_BATCH,
	OPT_JSON, OPT_BLOCK, OPT_VERDICT, OPT_CALL_US, OPT_STATS, OPT_TIMELINE,
	OPT_QUIET, OPT_SYNTHETIC, OPT_SEED, OPT_OPS, OPT_HELP, OPT_VERSION,
	OPT_FILL_FROM_UNMAP,
	OPT_NO_FILL_FROM_UNMAP,
};

static const struct option long_options[] = {
	{ "policy", required_argument, NULL, OPT_POLICY },
	{ "aperture", required_argument, NULL, OPT_APERTURE },
	{ "max-mappings", required_argument, NULL, OPT_MAX_MAPPINGS },
	{ "bounce", required_argument, NULL, OPT_BOUNCE },
	{ "bounce-pool", required_argument, NULL, OPT_BOUNCE_POOL },
	{ "strict", no_argument, NULL, OPT_STRICT },
	{ "max-window", required_argument, NULL, OPT_MAX_WINDOW },
	{ "spec-shift", required_argument, NULL, OPT_SPEC_SHIFT },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "block", required_argument, NULL, OPT_BLOCK },
	{ "verdict", no_argument, NULL, OPT_VERDICT },
	{ "call-us", required_argument, NULL, OPT_CALL_US },
	{ "stats", no_argument, NULL, OPT_STATS },
	{ "timeline", required_argument, NULL, OPT_TIMELINE },
	{ "quiet", no_argument, NULL, OPT_QUIET },
	{ "fill-from-unmap", no_argument, NULL, OPT_FILL_FROM_UNMAP },
	{ "no-fill-from-unmap", no_argument, NULL, OPT_NO_FILL_FROM_UNMAP },
	{ "synthetic", required_argument, NULL, OPT_SYNTHETIC },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "ops", required_argument, NULL, OPT_OPS },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static void parse_count(const char *name, const char *arg, u64 max, u64 *out)
{
	if (!size_parse_range(arg, 1, max, out))
		bad_value(name, arg);
}

static void parse_option(struct cli *c, int o, const char *arg)
{
	u64 v;

	switch (o) {
	case OPT_POLICY:
		c->opt.oracle = !strcmp(arg, "oracle");
		/* the oracle runs alone, with the options pvdma would have */
		c->order[0] = c->opt.policy;
		c->npolicies = 1;
		if (!c->opt.oracle && parse_policies(c, arg))
			bad_value("policy", arg);
		break;
	case OPT_APERTURE:
		parse_count("aperture", arg, 1ull << 48, &c->opt.aperture);
		if (c->opt.aperture % PVDMA_DART_PAGE_SIZE)
			bad_value("aperture (16 KiB multiple)", arg);
		break;
	case OPT_MAX_MAPPINGS:
		parse_count("max-mappings", arg, 1u << 24, &v);
		c->opt.max_mappings = (u32)v;
		break;
	case OPT_BOUNCE:
		if (parse_bounce(arg, &c->opt.bounce))
			bad_value("bounce", arg);
		break;
	case OPT_BOUNCE_POOL:
		parse_count("bounce-pool", arg, 1ull << 40, &c->opt.bounce_bytes);
		if (c->opt.bounce_bytes % PVDMA_DART_PAGE_SIZE)
			bad_value("bounce-pool (16 KiB multiple)", arg);
		break;
	case OPT_STRICT:
		c->opt.strict = true;
		break;
	case OPT_FILL_FROM_UNMAP:
		c->opt.fill_from_unmap = true;
		break;
	case OPT_NO_FILL_FROM_UNMAP:
		c->opt.fill_from_unmap = false;
		break;
	case OPT_MAX_WINDOW:
		parse_count("max-window", arg, 1ull << 40, &c->opt.max_window);
		break;
	case OPT_SPEC_SHIFT:
		if (!size_parse_range(arg, 0, 32, &v))
			bad_value("spec-shift", arg);
		c->opt.spec_shift = (u32)v + 1;
		break;
	case OPT_BATCH:
		parse_count("batch", arg, 1u << 20, &v);
		c->opt.batch = (u32)v;
		break;
	case OPT_JSON:
		c->json = true;
		break;
	case OPT_BLOCK:
		parse_count("block", arg, 1ull << 40, &c->opt.block_bytes);
		if (!PVDMA_IS_POW2(c->opt.block_bytes) ||
		    c->opt.block_bytes < PVDMA_DART_PAGE_SIZE)
			bad_value("block (a power of two >= 16 KiB)", arg);
		break;
	case OPT_VERDICT:
		c->mode = MODE_VERDICT;
		break;
	case OPT_STATS:
		c->mode = MODE_STATS;
		break;
	case OPT_TIMELINE:
		c->timeline = fopen(arg, "w");
		if (!c->timeline) {
			fprintf(stderr, "pvdma-replay: --timeline %s: %s\n", arg,
				strerror(errno));
			exit(EXIT_BAD_INPUT);
		}
		break;
	case OPT_CALL_US: {
		char *end;

		c->call_us = strtod(arg, &end);
		if (*end || !(c->call_us > 0 && c->call_us < 1e6))
			bad_value("call-us", arg);
		break;
	}
	case OPT_QUIET:
		c->opt.quiet = true;
		break;
	case OPT_SYNTHETIC:
		if (c->nsynthetic == MAX_SYNTHETIC)
			bad_value("synthetic (too many)", arg);
		c->synthetic[c->nsynthetic++] = arg;
		break;
	case OPT_SEED:
		if (!size_parse(arg, &c->synth.seed))
			bad_value("seed", arg);
		break;
	case OPT_OPS:
		parse_count("ops", arg, 1ull << 40, &c->synth.ops);
		break;
	case OPT_HELP:
		usage(stdout);
		exit(0);
	case OPT_VERSION:
		printf("pvdma-replay %s\n", PVDMA_VERSION);
		exit(0);
	default:
		usage(stderr);
		exit(2);
	}
}

static double ns_per_map(const struct replay_result *r)
{
	return r->map_requests ? (double)r->map_ns / (double)r->map_requests : 0;
}

/* The guest side alone: the map time less the host's (DART model's) and
 * the clock's own (replay.c, clock_cost()).
 */
static double planner_ns_per_map(const struct replay_result *r)
{
	return r->map_requests ? (double)r->planner_ns /
				 (double)r->map_requests : 0;
}

static const char *bounce_name(const struct replay_options *opt)
{
	if (opt->policy != PVDMA_POLICY_PVDMA)
		return "off";
	return pvdma_bounce_mode_name(opt->bounce);
}

static void print_json(const char *trace, const struct replay_options *opt,
		       const struct replay_result *r)
{
	struct jsonw w;
	unsigned int i;

	jsonw_init(&w, stdout);
	jsonw_object_begin(&w, NULL);
	jsonw_string(&w, "trace", trace);
	jsonw_string(&w, "policy", opt->oracle ? "oracle" :
		     pvdma_policy_name(opt->policy));
	jsonw_u64(&w, "map_requests", r->map_requests);
	jsonw_u64(&w, "host_calls", r->host_calls);
	jsonw_u64(&w, "host_maps", r->host_maps);
	jsonw_u64(&w, "host_unmaps", r->host_unmaps);
	jsonw_u64(&w, "tlb_flushes", r->tlb_flushes);
	jsonw_u64(&w, "peak_live_mappings", r->peak_live_mappings);
	jsonw_u64(&w, "peak_aperture_bytes", r->peak_aperture_bytes);
	jsonw_u64(&w, "peak_live_bytes", r->peak_live_bytes);
	jsonw_u64(&w, "failed_maps", r->failed_maps);
	jsonw_u64(&w, "failed_bytes", r->failed_bytes);
	jsonw_u64(&w, "bounced_bytes", r->bounced_bytes);
	jsonw_u64(&w, "spec_waste_peak_bytes", r->spec_waste_peak);
	jsonw_u64(&w, "spec_waste_end_bytes", r->spec_waste_end);
	jsonw_u64(&w, "trims", r->trims);
	jsonw_u64(&w, "trimmed_bytes", r->trimmed_bytes);
	jsonw_u64(&w, "admission_refusals", r->admission_refusals);
	jsonw_u64(&w, "id_collisions", r->id_collisions);
	jsonw_u64(&w, "fast_lookups", r->fast_lookups);
	jsonw_u64(&w, "fast_maps", r->fast_maps);
	jsonw_u64(&w, "fast_refusals", r->fast_refusals);
	jsonw_u64(&w, "exact_passes", r->exact_passes);
	jsonw_u64(&w, "invented_bytes", r->invented_bytes);
	jsonw_u64(&w, "hidden_filled", r->hidden_filled);
	jsonw_u64(&w, "hidden_invented", r->hidden_invented);
	jsonw_u64(&w, "fills_refused", r->fills_refused);
	jsonw_double(&w, "ns_per_map", 1, ns_per_map(r));
	jsonw_double(&w, "planner_ns_per_map", 1, planner_ns_per_map(r));
	jsonw_double(&w, "planner_ns_per_segment", 1, r->map_segments ?
		     (double)r->planner_ns / (double)r->map_segments : 0);
	jsonw_double(&w, "planner_unmap_ns_per_map", 1, r->map_requests ?
		     (double)r->unmap_planner_ns / (double)r->map_requests : 0);
	/* the mean per map: the hits' (no host call) or a few misses'? */
	jsonw_u64(&w, "call_maps", r->call_maps);
	jsonw_double(&w, "planner_ns_per_map_with_call", 1, r->call_maps ?
		     (double)r->call_planner_ns / (double)r->call_maps : 0);
	jsonw_double(&w, "planner_ns_per_map_no_call", 1,
		     r->map_requests > r->call_maps ?
		     (double)(r->planner_ns - r->call_planner_ns) /
		     (double)(r->map_requests - r->call_maps) : 0);
	jsonw_u64(&w, "map_segments", r->map_segments);
	jsonw_u64(&w, "unmap_requests", r->unmap_requests);
	jsonw_u64(&w, "sync_requests", r->sync_requests);
	jsonw_u64(&w, "host_refusals", r->host_refusals);
	jsonw_u64(&w, "end_live_mappings", r->end_live_mappings);
	jsonw_u64(&w, "bounced_maps", r->bounced_maps);
	jsonw_u64(&w, "evictions", r->evictions);
	jsonw_u64(&w, "hits", r->hits);
	jsonw_u64(&w, "misses", r->misses);
	jsonw_u64(&w, "verify_errors", r->verify_errors);
	jsonw_u64(&w, "warnings", r->warnings);
	jsonw_u64(&w, "align_bytes", r->align_bytes);
	jsonw_u64(&w, "align_64k_bytes", r->align_64k_bytes);
	jsonw_u64(&w, "align_2m_bytes", r->align_2m_bytes);
	jsonw_double(&w, "align_64k_share", 4, r->align_bytes ?
		     (double)r->align_64k_bytes / (double)r->align_bytes : 0);
	jsonw_double(&w, "align_2m_share", 4, r->align_bytes ?
		     (double)r->align_2m_bytes / (double)r->align_bytes : 0);
	jsonw_u64(&w, "align_fallbacks", r->align_fallbacks);
	jsonw_u64(&w, "unmatched_unmaps", r->unmatched_unmaps);
	jsonw_u64(&w, "implied_unmaps", r->implied_unmaps);
	jsonw_u64(&w, "skipped_unmaps", r->skipped_unmaps);
	jsonw_u64(&w, "unmap_errors", r->unmap_errors);
	jsonw_u64(&w, "unmatched_syncs", r->unmatched_syncs);
	jsonw_u64(&w, "invalid_maps", r->invalid_maps);
	jsonw_u64(&w, "parse_errors", r->parse_errors);
	jsonw_u64(&w, "events", r->events);
	jsonw_u64(&w, "phases", r->phases);
	jsonw_object_begin(&w, "fail_reasons");
	for (i = 1; i < PVDMA_FAIL_COUNT; i++)
		jsonw_u64(&w, pvdma_fail_reason_name(i), r->fail_by_reason[i]);
	jsonw_object_end(&w);
	jsonw_u64(&w, "aperture", opt->aperture);
	jsonw_u64(&w, "max_mappings", opt->max_mappings);
	jsonw_string(&w, "bounce", bounce_name(opt));
	jsonw_u64(&w, "bounce_pool_bytes", opt->policy == PVDMA_POLICY_POOL ||
		  (opt->policy == PVDMA_POLICY_PVDMA &&
		   opt->bounce != PVDMA_BOUNCE_OFF) ? opt->bounce_bytes : 0);
	jsonw_u64(&w, "block_bytes", opt->policy == PVDMA_POLICY_BLOCK ?
		  (opt->block_bytes ? opt->block_bytes :
		   PVDMA_DEFAULT_BLOCK_BYTES) : 0);
	jsonw_bool(&w, "strict", opt->strict);
	jsonw_string(&w, "first_failure", r->first_failure);
	jsonw_object_end(&w);
	putchar('\n');
}

static const char *short_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static double mib(u64 bytes)
{
	return (double)bytes / (1024.0 * 1024.0);
}

static void print_header(void)
{
	printf("%-24s %-7s %7s %7s %7s %7s %7s %7s %9s %9s %6s %8s %8s %7s %4s\n",
	       "trace", "policy", "maps", "exits", "h_maps", "h_unmap",
	       "flushes", "pk_maps", "pk_ap_MiB", "pk_lv_MiB", "failed",
	       "bnc_MiB", "inv_MiB", "ns/map", "verr");
}

static void print_row(const char *trace, const struct replay_options *opt,
		      const struct replay_result *r)
{
	printf("%-24.24s %-7s %7llu %7llu %7llu %7llu %7llu %7llu %9.1f %9.1f %6llu %8.1f %8.1f %7.0f %4llu\n",
	       short_name(trace), opt->oracle ? "oracle" :
	       pvdma_policy_name(opt->policy),
	       (unsigned long long)r->map_requests,
	       (unsigned long long)r->host_calls,
	       (unsigned long long)r->host_maps,
	       (unsigned long long)r->host_unmaps,
	       (unsigned long long)r->tlb_flushes,
	       (unsigned long long)r->peak_live_mappings,
	       mib(r->peak_aperture_bytes), mib(r->peak_live_bytes),
	       (unsigned long long)r->failed_maps, mib(r->bounced_bytes),
	       mib(r->invented_bytes), ns_per_map(r),
	       (unsigned long long)r->verify_errors);
}

/* Most points a run contributes to --timeline (failures always kept). */
#define TIMELINE_POINTS	4000

/* One run's samples: thinned to TIMELINE_POINTS, every new failure kept. */
static void write_timeline(FILE *out, const char *trace,
			   const struct replay_options *opt,
			   const struct timeline *tl)
{
	size_t step = tl->nsamples / TIMELINE_POINTS + 1, i;
	u64 failed = 0;

	for (i = 0; i < tl->nsamples; i++) {
		const struct timeline_sample *s = &tl->samples[i];
		bool fail = s->failed_maps > failed;

		if (i % step && !fail && i + 1 != tl->nsamples)
			continue;
		failed = s->failed_maps;
		fprintf(out, "%s\t%s\t%.6f\t%llu\t%llu\t%llu\n",
			trace, pvdma_policy_name(opt->policy),
			(double)s->t_ns / 1e9,
			(unsigned long long)s->live_bytes,
			(unsigned long long)s->aperture_bytes,
			(unsigned long long)s->failed_maps);
	}
}

/*
 * Which rows decide the exit status: the policy asked for, or with
 * --policy all the pvdma one (rfc and perpage are the baselines it is
 * compared with; their failures are the point of the comparison).
 */
static bool counts_for_status(const struct cli *c,
			      const struct replay_options *opt)
{
	return c->npolicies == 1 || opt->policy == PVDMA_POLICY_PVDMA;
}

/* One (source, policy) run, watched for --timeline when asked. */
static int run_policy(struct cli *c, struct replay_source *src,
		      const struct replay_layout *lay,
		      const struct replay_options *opt,
		      struct replay_result *res)
{
	struct timeline tl;
	int err;

	if (!c->timeline)
		return replay_run(src, lay, opt, res);
	timeline_init(&tl, src, res, true);
	err = replay_run(&tl.src, lay, opt, res);
	if (!err)
		write_timeline(c->timeline, src->name, opt, &tl);
	timeline_free(&tl);
	return err;
}

/* Run every policy asked for over @src; returns the worst exit status. */
static int replay_source_all(struct cli *c, struct replay_source *src)
{
	struct replay_layout lay;
	struct replay_result res;
	int status = 0;
	unsigned int i;

	if (replay_scan(src, &lay)) {
		replay_layout_free(&lay);
		return EXIT_BAD_INPUT;
	}
	if (lay.parse_errors)
		fprintf(stderr, "pvdma-replay: %s: %llu malformed lines skipped\n",
			src->name, (unsigned long long)lay.parse_errors);
	for (i = 0; i < c->npolicies; i++) {
		struct replay_options opt = c->opt;

		opt.policy = c->order[i];
		if (run_policy(c, src, &lay, &opt, &res)) {
			replay_layout_free(&lay);
			return EXIT_BAD_INPUT;
		}
		if (c->json)
			print_json(src->name, &opt, &res);
		else
			print_row(src->name, &opt, &res);
		if (!c->json && res.first_failure[0])
			printf("    first failure: %s\n", res.first_failure);
		if (!c->json && res.warnings)
			printf("    planner bug: %llu invariant checks fired (stderr)\n",
			       (unsigned long long)res.warnings);
		if (counts_for_status(c, &opt) &&
		    (res.failed_maps || res.verify_errors || res.warnings))
			status = EXIT_FAILED;
	}
	replay_layout_free(&lay);
	return status;
}

static void print_stats(const char *path, const struct trace_info *info,
			const struct replay_result *r, const struct timeline *tl)
{
	u64 span = info->timed ? info->last_ns - info->first_ns : 0;
	char a[32], b[32];
	unsigned int i;

	printf("trace: %s\n", path);
	for (i = 0; i < info->nmeta; i++)
		printf("  %s\n", info->meta[i]);
	printf("events: %llu over %.3f s\n",
	       (unsigned long long)trace_info_dma_events(info),
	       (double)span / 1e9);
	for (i = 0; i < info->nnames; i++)
		printf("  %-28s %9llu\n", info->names[i].name,
		       (unsigned long long)info->names[i].count);
	printf("single maps: %llu, %s\n",
	       (unsigned long long)info->by_kind[TRACE_EV_MAP_SINGLE],
	       size_human(info->single_bytes, a, sizeof(a)));
	printf("sg lists: %llu, %llu entries (largest %llu), %s in the entries shown; truncated: %llu lists, %llu entries not shown\n",
	       (unsigned long long)info->by_kind[TRACE_EV_MAP_SG],
	       (unsigned long long)info->sg_entries,
	       (unsigned long long)info->sg_largest,
	       size_human(info->sg_shown_bytes, a, sizeof(a)),
	       (unsigned long long)info->truncated_lists,
	       (unsigned long long)info->hidden_entries);
	printf("syncs: %llu; phases: %u; other dma events: %llu; too long to print: %llu; malformed lines: %llu\n",
	       (unsigned long long)(info->by_kind[TRACE_EV_SYNC_SINGLE] +
				    info->by_kind[TRACE_EV_SYNC_SG]),
	       info->nphases,
	       (unsigned long long)info->by_kind[TRACE_EV_OTHER],
	       (unsigned long long)info->by_kind[TRACE_EV_UNPRINTED],
	       (unsigned long long)info->malformed);
	printf("peak live bytes: %llu (%s) at %.3f s (phase %s)\n",
	       (unsigned long long)r->peak_live_bytes,
	       size_human(r->peak_live_bytes, a, sizeof(a)),
	       (double)tl->peak_ns / 1e9, tl->peak_phase);
	printf("live at end: %llu bytes (%s)\n",
	       (unsigned long long)r->live_bytes,
	       size_human(r->live_bytes, b, sizeof(b)));
	printf("estimated: %s for the entries truncated lists do not show (at the shown mean size)\n",
	       size_human(r->invented_bytes, a, sizeof(a)));
	printf("hidden entries: %llu at the addresses of their list's unmap, %llu at invented addresses; full unmap lists refused (not the map's shown entries): %llu\n",
	       (unsigned long long)r->hidden_filled,
	       (unsigned long long)r->hidden_invented,
	       (unsigned long long)r->fills_refused);
	printf("unmatched unmaps: %llu; unmaps inferred (a long list mapped again): %llu\n",
	       (unsigned long long)r->unmatched_unmaps,
	       (unsigned long long)r->implied_unmaps);
	printf("lists over %u entries: %llu; unmaps from the unmap probe: %llu%s\n",
	       TRACE_UNMAP_UNRECORDED, (unsigned long long)info->long_lists,
	       (unsigned long long)info->probed_unmaps,
	       info->long_lists && !info->probed_unmaps ?
	       " (no probe: the kernel may have dropped their unmaps)" : "");
	if (info->nphases) {
		printf("phases (start s):\n");
		for (i = 0; i < info->nphases; i++)
			printf("  %-24s %9.3f\n", info->phases[i].name,
			       (double)(info->phases[i].start_ns -
					info->first_ns) / 1e9);
	}
}

/* --stats: the inspection and one pvdma replay for the live set. */
static int stats_one(struct cli *c, struct replay_source *src,
		     const struct trace_info *info)
{
	struct replay_options opt = c->opt;
	struct replay_layout lay;
	struct replay_result res;
	struct timeline tl;
	int err;

	opt.policy = PVDMA_POLICY_PVDMA;
	opt.quiet = true;
	if (replay_scan(src, &lay)) {
		replay_layout_free(&lay);
		return EXIT_BAD_INPUT;
	}
	timeline_init(&tl, src, &res, false);
	err = replay_run(&tl.src, &lay, &opt, &res);
	replay_layout_free(&lay);
	if (err)
		return EXIT_BAD_INPUT;
	print_stats(src->name, info, &res, &tl);
	return EXIT_OK;
}

static int verdict_one(struct cli *c, struct replay_source *src,
		       const struct trace_info *info)
{
	struct verdict_options vo = { .replay = c->opt, .call_us = c->call_us };
	struct replay_layout lay;
	struct verdict v;
	int err;

	if (replay_scan(src, &lay)) {
		replay_layout_free(&lay);
		return EXIT_BAD_INPUT;
	}
	err = verdict_judge(src, &lay, &vo, &v);
	replay_layout_free(&lay);
	if (!err)
		verdict_print(stdout, short_name(src->name), info, &vo, &v);
	timeline_free(&v.pvdma_tl);
	if (err)
		return EXIT_BAD_INPUT;
	return v.kind == VERDICT_DOES_NOT_FIT ? EXIT_FAILED : EXIT_OK;
}

/* A file input: refused with its reason unless it is a trace. */
static int open_trace(const char *path, struct replay_source *src,
		      struct trace_info *info)
{
	if (trace_inspect(path, info)) {
		if (info->verdict == INSPECT_UNREADABLE)
			fprintf(stderr, "pvdma-replay: %s\n", info->why);
		else
			fprintf(stderr, "pvdma-replay: %s: %s\n", path, info->why);
		return -1;
	}
	if (info->malformed)
		fprintf(stderr, "pvdma-replay: %s: %llu lines are not trace events (skipped)\n",
			path, (unsigned long long)info->malformed);
	return replay_file_source(src, path);
}

static int run_one(struct cli *c, struct replay_source *src,
		   const struct trace_info *info)
{
	switch (c->mode) {
	case MODE_VERDICT:
		return verdict_one(c, src, info);
	case MODE_STATS:
		return stats_one(c, src, info);
	default:
		return replay_source_all(c, src);
	}
}

int main(int argc, char **argv)
{
	struct cli c = {
		.opt = {
			.policy = PVDMA_POLICY_PVDMA,
			.bounce = PVDMA_BOUNCE_OFF,
			.aperture = PVDMA_DART_DEFAULT_APERTURE,
			.max_mappings = PVDMA_DART_DEFAULT_MAX_MAPPINGS,
			.bounce_bytes = 64ull << 20,
			.fill_from_unmap = true,
		},
		.call_us = VERDICT_DEFAULT_CALL_US,
		.order = { PVDMA_POLICY_RFC, PVDMA_POLICY_PERPAGE,
			   PVDMA_POLICY_PVDMA },
		.npolicies = 3,
		.synth = { .seed = SYNTH_DEFAULT_SEED, .ops = SYNTH_DEFAULT_OPS },
	};
	int o, status = EXIT_OK, s;
	unsigned int i;

	while ((o = getopt_long(argc, argv, "h", long_options, NULL)) != -1)
		parse_option(&c, o == 'h' ? OPT_HELP : o, optarg);
	if (optind == argc && !c.nsynthetic) {
		usage(stderr);
		return EXIT_BAD_INPUT;
	}
	c.synth.aperture = c.opt.aperture;
	if (c.mode == MODE_REPLAY && !c.json)
		print_header();
	for (i = 0; i < c.nsynthetic + (unsigned int)(argc - optind); i++) {
		struct trace_info info = { 0 };
		struct replay_source src;
		int err;

		if (i < c.nsynthetic) {
			err = synth_source(&src, c.synthetic[i], &c.synth);
			if (err)
				fprintf(stderr, "pvdma-replay: unknown synthetic workload '%s' (see --help)\n",
					c.synthetic[i]);
		} else {
			err = open_trace(argv[optind + i - c.nsynthetic], &src,
					 &info);
		}
		if (err) {
			status = EXIT_BAD_INPUT;
			continue;
		}
		fflush(stdout);
		s = run_one(&c, &src, &info);
		src.close(&src);
		if (s > status)
			status = s;
	}
	if (c.timeline && fclose(c.timeline)) {
		fprintf(stderr, "pvdma-replay: --timeline: %s\n", strerror(errno));
		status = EXIT_BAD_INPUT;
	}
	return status;
}
