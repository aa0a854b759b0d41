// SPDX-License-Identifier: MIT
/*
 * The verdict (see verdict.h). The decision is the replay's own counts:
 * pvdma with no failed map fits; failing that, pvdma with a bounce pool
 * (tried from small to large) fits with bounce; otherwise it does not fit,
 * and the line says whether --strict or a larger aperture would help.
 */
#include "verdict.h"

#include <string.h>

#include "size.h"

const char *verdict_name(enum verdict_kind kind)
{
	switch (kind) {
	case VERDICT_FITS:
		return "FITS";
	case VERDICT_FITS_WITH_BOUNCE:
		return "FITS WITH BOUNCE";
	default:
		return "DOES NOT FIT";
	}
}

static bool run_failed(const struct replay_result *r)
{
	return r->failed_maps || r->verify_errors || r->invalid_maps;
}

/* One run of @opt over @src into @res; 0, or -1 if it could not run. */
static int run(struct replay_source *src, const struct replay_layout *lay,
	       const struct replay_options *opt, struct replay_result *res)
{
	return replay_run(src, lay, opt, res);
}

static int try_bounce(struct verdict *v, struct replay_source *src,
		      const struct replay_layout *lay,
		      const struct replay_options *base)
{
	static const u64 pools[] = VERDICT_BOUNCE_POOLS;
	struct replay_result res;
	unsigned int i;

	for (i = 0; i < sizeof(pools) / sizeof(pools[0]); i++) {
		struct replay_options o = *base;

		if (pools[i] * 2 > base->aperture)
			break;	/* the pool lives in the aperture too */
		o.bounce = PVDMA_BOUNCE_ALL;
		o.bounce_bytes = pools[i];
		if (run(src, lay, &o, &res))
			return -1;
		v->bounce_failed = res.failed_maps;
		if (!run_failed(&res)) {
			v->bounce_pool = pools[i];
			v->bounced_bytes = res.bounced_bytes;
			return 0;
		}
	}
	return 0;
}

/* Smallest aperture, in VERDICT_APERTURE_STEP, with no failed map. */
static int search_aperture(struct verdict *v, struct replay_source *src,
			   const struct replay_layout *lay,
			   const struct replay_options *base)
{
	struct replay_options o = *base;
	struct replay_result res;
	u64 lo = base->aperture, hi = base->aperture;

	do {		/* lo fails; double hi until it fits */
		lo = hi;
		hi *= 2;
		if (hi > VERDICT_MAX_APERTURE)
			return 0;
		o.aperture = hi;
		if (run(src, lay, &o, &res))
			return -1;
	} while (run_failed(&res));
	while (hi - lo > VERDICT_APERTURE_STEP) {
		u64 mid = PVDMA_ALIGN_UP(lo + (hi - lo) / 2,
					 VERDICT_APERTURE_STEP);

		if (mid >= hi)
			break;
		o.aperture = mid;
		if (run(src, lay, &o, &res))
			return -1;
		if (run_failed(&res))
			lo = mid;
		else
			hi = mid;
	}
	v->need_aperture = hi;
	return 0;
}

int verdict_judge(struct replay_source *src, const struct replay_layout *lay,
		  const struct verdict_options *opt, struct verdict *v)
{
	struct replay_options base = opt->replay;
	struct replay_result res;

	memset(v, 0, sizeof(*v));
	base.quiet = true;
	base.strict = false;
	base.bounce = PVDMA_BOUNCE_OFF;
	base.policy = PVDMA_POLICY_RFC;
	if (run(src, lay, &base, &v->rfc))
		return -1;
	base.policy = PVDMA_POLICY_PVDMA;
	timeline_init(&v->pvdma_tl, src, &v->pvdma, false);
	if (replay_run(&v->pvdma_tl.src, lay, &base, &v->pvdma))
		return -1;
	if (v->pvdma.invented_bytes) {	/* how much rests on the estimate */
		struct replay_options least = base;

		least.invent_bytes = VERDICT_LEAST_ENTRY;
		if (run(src, lay, &least, &v->low))
			return -1;
		v->ran_low = true;
	}
	if (!run_failed(&v->pvdma)) {
		v->kind = VERDICT_FITS;
		return 0;
	}
	v->tried_more = true;
	if (try_bounce(v, src, lay, &base))
		return -1;
	v->kind = v->bounce_pool ? VERDICT_FITS_WITH_BOUNCE
				 : VERDICT_DOES_NOT_FIT;
	base.strict = true;
	if (run(src, lay, &base, &res))
		return -1;
	v->strict_failed = res.failed_maps;
	base.strict = false;
	return search_aperture(v, src, lay, &base);
}

/* ---- the line ---- */

static double secs(u64 ns)
{
	return (double)ns / 1e9;
}

static void print_limits(FILE *out, const struct trace_info *info,
			 const struct verdict_options *opt,
			 const struct verdict *v)
{
	const struct replay_result *p = &v->pvdma;
	char a[32], b[32], c[32];

	fprintf(out, "peak live %s = %.2fx the %s aperture",
		size_human(p->peak_live_bytes, a, sizeof(a)),
		(double)p->peak_live_bytes / (double)opt->replay.aperture,
		size_human(opt->replay.aperture, b, sizeof(b)));
	if (info->timed)
		fprintf(out, " (at %.3f s, phase %s)",
			secs(v->pvdma_tl.peak_ns), v->pvdma_tl.peak_phase);
	fprintf(out, "; pvdma maps at most %s in %llu of %u mappings (rfc %s in %llu)",
		size_human(p->peak_aperture_bytes, c, sizeof(c)),
		(unsigned long long)p->peak_live_mappings,
		opt->replay.max_mappings,
		size_human(v->rfc.peak_aperture_bytes, a, sizeof(a)),
		(unsigned long long)v->rfc.peak_live_mappings);
}

static void print_cost(FILE *out, const struct trace_info *info,
		       const struct verdict_options *opt,
		       const struct verdict *v)
{
	double span = info->timed ? secs(info->last_ns - info->first_ns) : 0;
	double pv = (double)v->pvdma.host_calls, rfc = (double)v->rfc.host_calls;

	fprintf(out, " | host calls: pvdma %llu, rfc %llu",
		(unsigned long long)v->pvdma.host_calls,
		(unsigned long long)v->rfc.host_calls);
	if (span > 0)
		fprintf(out, " (%.1f and %.1f per second of the %.2f s trace)",
			pv / span, rfc / span, span);
	fprintf(out, "; stalled %.3f ms vs %.3f ms at %.1f us a call",
		pv * opt->call_us / 1e3, rfc * opt->call_us / 1e3,
		opt->call_us);
}

static const char *main_reason(const struct replay_result *r)
{
	unsigned int i, best = 0;

	for (i = 1; i < PVDMA_FAIL_COUNT; i++)
		if (r->fail_by_reason[i] > r->fail_by_reason[best])
			best = i;
	return best ? pvdma_fail_reason_name(best) : "verification";
}

static void print_failure(FILE *out, const struct trace_info *info,
			  const struct verdict *v)
{
	const struct replay_result *p = &v->pvdma;

	if (!run_failed(p)) {
		fprintf(out, " | no map fails");
		return;
	}
	fprintf(out, " | %llu of %llu maps fail (%s)",
		(unsigned long long)p->failed_maps,
		(unsigned long long)p->map_requests, main_reason(p));
	if (v->pvdma_tl.failed && info->timed)
		fprintf(out, ", the first at %.3f s in phase %s",
			secs(v->pvdma_tl.fail_ns), v->pvdma_tl.fail_phase);
	if (v->rfc.failed_maps)
		fprintf(out, "; rfc fails %llu",
			(unsigned long long)v->rfc.failed_maps);
}

static void print_remedies(FILE *out, const struct verdict *v)
{
	char a[32], b[32];

	if (!v->tried_more)
		return;
	fprintf(out, " | would take:");
	if (v->bounce_pool)
		fprintf(out, " bounce (--bounce all, a %s pool, %s bounced)",
			size_human(v->bounce_pool, a, sizeof(a)),
			size_human(v->bounced_bytes, b, sizeof(b)));
	else
		fprintf(out, " bounce does not help (%llu maps still fail)",
			(unsigned long long)v->bounce_failed);
	if (v->strict_failed)
		fprintf(out, "; --strict does not help (%llu fail)",
			(unsigned long long)v->strict_failed);
	else
		fprintf(out, "; --strict fits");
	if (v->need_aperture)	/* exact MiB: a value to pass to --aperture */
		fprintf(out, "; an aperture of %llu MiB (%s) fits",
			(unsigned long long)(v->need_aperture >> 20),
			size_human(v->need_aperture, a, sizeof(a)));
	else
		fprintf(out, "; no aperture up to 1 TiB fits (the mapping limit?)");
}

/* The same replay with every hidden entry as small as it can be. */
static void print_least(FILE *out, const struct verdict *v)
{
	bool fits = !run_failed(&v->pvdma), low_fits = !run_failed(&v->low);
	char a[32];

	fprintf(out, "; with each hidden entry one 4 KiB page, the least (the estimate is no upper bound: hidden entries can be larger): peak live %s, %llu maps fail, %s",
		size_human(v->low.peak_live_bytes, a, sizeof(a)),
		(unsigned long long)v->low.failed_maps,
		fits == low_fits ? "the same verdict" :
		low_fits ? "it would fit: the verdict rests on the estimate" :
		"it would not fit");
}

static void print_certainty(FILE *out, const struct trace_info *info,
			    const struct verdict *v)
{
	const struct replay_result *p = &v->pvdma;
	u64 hidden_long = info->probed_unmaps ? 0 : info->long_lists;
	u64 unprinted = info->by_kind[TRACE_EV_UNPRINTED];
	bool exact = !p->invented_bytes && !p->implied_unmaps &&
		     !p->unmatched_unmaps && !hidden_long &&
		     !info->header_lost && !unprinted && !info->malformed;
	char a[32];

	fprintf(out, " | certainty: %s", exact ? "exact" : "estimated");
	if (exact)
		return;
	fprintf(out, " (%s invented for %llu entries hidden in %llu truncated lists",
		size_human(p->invented_bytes, a, sizeof(a)),
		(unsigned long long)info->hidden_entries,
		(unsigned long long)info->truncated_lists);
	fprintf(out, "; %llu unmaps inferred, %llu unmatched",
		(unsigned long long)p->implied_unmaps,
		(unsigned long long)p->unmatched_unmaps);
	if (hidden_long)
		fprintf(out, "; %llu lists over %u entries whose unmap the kernel may have dropped",
			(unsigned long long)hidden_long, TRACE_UNMAP_UNRECORDED);
	if (info->header_lost)
		fprintf(out, "; %llu events lost while recording",
			(unsigned long long)info->header_lost);
	if (unprinted)
		fprintf(out, "; %llu events too long to print",
			(unsigned long long)unprinted);
	if (info->malformed)
		fprintf(out, "; %llu malformed lines",
			(unsigned long long)info->malformed);
	if (v->ran_low)
		print_least(out, v);
	fprintf(out, ")");
}

void verdict_print(FILE *out, const char *name, const struct trace_info *info,
		   const struct verdict_options *opt, const struct verdict *v)
{
	fprintf(out, "%s: %s | ", name, verdict_name(v->kind));
	print_limits(out, info, opt, v);
	print_cost(out, info, opt, v);
	print_failure(out, info, v);
	print_remedies(out, v);
	print_certainty(out, info, v);
	fputc('\n', out);
}
