// SPDX-License-Identifier: MIT
/*
 * The replay engine (see replay.h): a first pass over the source for its
 * layout, then one pass per policy, each a fresh DART model (host.c) and
 * planner, the events played by the driver (driver.c), every map checked
 * (verify.c); the oracle (oracle.c) plays a pvdma pass's log instead.
 */
#include "replay_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"

#define REGION_ALIGN	(1ull << 30)

#define MAX_MESSAGES	10

#define CLOCK_SAMPLES	101

static int clock_cmp(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * What reading the clock adds to an interval it times: the median of
 * back-to-back readings (tens of ns on a virtual machine, as much as a
 * planner hit costs). Every map's interval holds one such cost, and each
 * host call inside it one more (its own readings, half inside the host's
 * time and half outside); driver.c takes them off, so the planner's time
 * is its own and a policy that calls the host per entry is not charged
 * for the clock.
 */
static u64 clock_cost(void)
{
	u64 d[CLOCK_SAMPLES];
	unsigned int i;

	for (i = 0; i < CLOCK_SAMPLES; i++) {
		u64 t0 = replay_now_ns();

		d[i] = replay_now_ns() - t0;
	}
	qsort(d, CLOCK_SAMPLES, sizeof(d[0]), clock_cmp);
	return d[CLOCK_SAMPLES / 2];
}

void replay_note(struct replay *rp, const char *fmt, ...)
{
	va_list ap;

	if (rp->opt->quiet || rp->messages >= MAX_MESSAGES)
		return;
	rp->messages++;
	va_start(ap, fmt);
	fprintf(stderr, "pvdma-replay: %s [%s]: ", rp->name,
		pvdma_policy_name(rp->opt->policy));
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- setup ---- */

static struct trace_event *new_event(void)
{
	struct trace_event *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return NULL;
	ev->ents = calloc(REPLAY_MAX_SHOWN, sizeof(*ev->ents));
	ev->ents_cap = REPLAY_MAX_SHOWN;
	if (!ev->ents) {
		free(ev);
		return NULL;
	}
	return ev;
}

static void free_event(struct trace_event *ev)
{
	if (ev)
		free(ev->ents);
	free(ev);
}

static void scan_event(struct replay_layout *lay, const struct trace_event *ev)
{
	u32 i;

	lay->events++;
	if (ev->kind == TRACE_EV_MAP_SINGLE) {
		lay->max_addr = PVDMA_MAX(lay->max_addr, ev->phys_addr + ev->size);
		lay->max_addr = PVDMA_MAX(lay->max_addr, ev->dma_addr + ev->size);
		return;
	}
	if (ev->kind != TRACE_EV_MAP_SG && ev->kind != TRACE_EV_UNMAP_SG)
		return;
	for (i = 0; i < ev->nents; i++) {
		lay->max_addr = PVDMA_MAX(lay->max_addr,
					  ev->ents[i].phys + ev->ents[i].len);
		lay->max_addr = PVDMA_MAX(lay->max_addr,
					  ev->ents[i].dma + ev->ents[i].len);
	}
	if (ev->kind != TRACE_EV_MAP_SG)
		return;
	lay->max_segs = PVDMA_MAX(lay->max_segs, ev->nents_total);
	if (ev->nents_total > ev->nents) {
		u64 ext;

		if (!replay_invented_extent(ev, replay_invented_size(ev), &ext) ||
		    lay->invent_bound + ext < lay->invent_bound)
			lay->invent_bound = REPLAY_ADDR_LIMIT;
		else
			lay->invent_bound += ext;
	}
}

int replay_scan(struct replay_source *src, struct replay_layout *lay)
{
	struct trace_event *ev = new_event();
	int rc;

	memset(lay, 0, sizeof(*lay));
	lay->max_segs = 1;
	if (!ev || src->rewind(src, true)) {
		free_event(ev);
		return -1;
	}
	while ((rc = src->next(src, ev)) > 0)
		scan_event(lay, ev);
	free_event(ev);
	lay->parse_errors = src->parse_errors;
	lay->invent_base = PVDMA_ALIGN_UP(PVDMA_MIN(lay->max_addr,
						    REPLAY_ADDR_LIMIT / 4),
					  REGION_ALIGN) + REGION_ALIGN;
	lay->no_room = lay->max_addr > REPLAY_ADDR_LIMIT / 4 ||
		       lay->invent_bound >= REPLAY_ADDR_LIMIT / 4;
	lay->bounce_gpa = PVDMA_ALIGN_UP(lay->invent_base +
					 PVDMA_MIN(lay->invent_bound,
						   REPLAY_ADDR_LIMIT / 4),
					 REGION_ALIGN) + REGION_ALIGN;
	return rc < 0 ? -1 : 0;
}

/* The host, the planner with its memory, the driver: one fresh run. */
/*
 * Fault in every page of fresh zeroed memory now. A memset to zero after
 * calloc does not: the compiler knows the memory is zero and drops it,
 * and the pages were then faulted in by the first pvdma_map to reach
 * them, microseconds each, inside the planner's timed interval.
 */
static void touch_pages(void *mem, size_t bytes)
{
	volatile char *byte = mem;
	size_t off;

	for (off = 0; off < bytes; off += 4096)
		byte[off] = 0;
}

static int setup(struct replay *rp)
{
	const struct replay_options *opt = rp->opt;
	struct pvdma_planner_config pcfg;
	u32 nops = opt->batch ? opt->batch : PVDMA_DEFAULT_DOORBELL_BATCH;
	int err;

	err = replay_host_init(rp);
	if (err)
		return err;

	pvdma_planner_default_config(&pcfg, opt->policy, rp->dart.cfg.page_size,
				     opt->aperture, opt->max_mappings);
	pcfg.strict = opt->strict;
	pcfg.trim = true;	/* the DART model takes PVDMA_OP_TRIM */
	if (opt->max_window)
		pcfg.max_window = opt->max_window;
	if (opt->spec_shift)
		pcfg.spec_shift = opt->spec_shift - 1;
	rp->mem.nwindows = opt->max_mappings + 64;
	rp->mem.windows = calloc(rp->mem.nwindows, sizeof(*rp->mem.windows));
	rp->mem.nops = nops;
	rp->mem.ops = calloc(nops, sizeof(*rp->mem.ops));
	rp->mem.batch_win = calloc(nops, sizeof(*rp->mem.batch_win));
	/* where the pages of large grown windows lie: their holes can be
	 * trimmed (the module's number of chunk maps, no more) */
	rp->mem.nchunk_maps = PVDMA_CHUNK_MAPS_DEFAULT;
	rp->mem.chunk_maps = calloc(rp->mem.nchunk_maps,
				    sizeof(*rp->mem.chunk_maps));
	/* touched now, as the module's vcalloc does: a first touch inside
	 * pvdma_map would count as the planner's time
	 */
	if (rp->mem.chunk_maps)
		touch_pages(rp->mem.chunk_maps,
			    rp->mem.nchunk_maps * sizeof(*rp->mem.chunk_maps));
	if (opt->block_bytes)
		pcfg.block_bytes = opt->block_bytes;
	if (opt->policy == PVDMA_POLICY_POOL ||
	    (opt->policy == PVDMA_POLICY_PVDMA && opt->bounce != PVDMA_BOUNCE_OFF)) {
		/* the pool policy is the pool: every map bounces */
		pcfg.bounce = opt->policy == PVDMA_POLICY_POOL ?
			      PVDMA_BOUNCE_ALL : opt->bounce;
		pcfg.bounce_gpa = rp->lay->bounce_gpa;
		pcfg.bounce_bytes = opt->bounce_bytes;
		rp->mem.nslots = 65536;
		rp->mem.slots = calloc(rp->mem.nslots, sizeof(*rp->mem.slots));
		if (!rp->mem.slots)
			return -ENOMEM;
	}
	if (!rp->mem.windows || !rp->mem.ops || !rp->mem.batch_win ||
	    !rp->mem.chunk_maps)
		return -ENOMEM;
	err = replay_driver_init(rp);
	if (err)
		return err;
	return pvdma_planner_init(&rp->planner, &pcfg, &replay_host_ops, rp,
				  &rp->mem);
}

static void teardown(struct replay *rp)
{
	replay_driver_free(rp);
	free(rp->mem.windows);
	free(rp->mem.ops);
	free(rp->mem.batch_win);
	free(rp->mem.chunk_maps);
	free(rp->mem.slots);
	replay_host_free(rp);
}

static void collect(struct replay *rp)
{
	const struct pvdma_planner_stats *ps = &rp->planner.stats;
	const struct pvdma_dart_stats *ds = &rp->dart.stats;
	struct replay_result *res = rp->res;

	res->tlb_flushes = ds->tlb_flushes;
	res->peak_live_mappings = ds->peak_mappings;
	res->peak_aperture_bytes = ds->peak_bytes;
	res->align_fallbacks = ds->align_fallbacks;
	res->end_live_mappings = ds->live_mappings;
	res->bounced_maps = ps->bounced_maps;
	res->bounced_bytes = ps->bounced_bytes;
	res->evictions = ps->evictions;
	res->hits = ps->hits;
	res->misses = ps->misses;
	res->spec_waste_end = ps->spec_aperture;
	res->trims = ps->trims;
	res->trimmed_bytes = ps->trimmed_bytes;
	res->admission_refusals = ps->admission_refusals;
	res->fast_lookups = ps->fast_lookups;
}

static int replay_pass(struct replay_source *src,
		       const struct replay_layout *lay,
		       const struct replay_options *opt,
		       struct replay_result *res, struct oracle_log *log);

/*
 * The oracle: a pvdma pass logs what the driver maps and unmaps, then the
 * log is played with hindsight. Only the driver's side of the result
 * (maps, segments, live bytes) and the oracle's host calls and failures
 * are reported.
 */
static int replay_oracle(struct replay_source *src,
			 const struct replay_layout *lay,
			 const struct replay_options *opt,
			 struct replay_result *res)
{
	struct replay_options first = *opt;
	struct oracle_log log = { 0 };
	struct replay_result pass;
	int err;

	first.oracle = false;
	first.policy = PVDMA_POLICY_PVDMA;
	first.quiet = true;
	err = replay_pass(src, lay, &first, &pass, &log);
	memset(res, 0, sizeof(*res));
	if (!err)
		err = oracle_run(&log, opt->aperture, res);
	oracle_log_free(&log);
	if (err) {
		fprintf(stderr, "pvdma-replay: %s: the oracle ran out of memory\n",
			src->name);
		return -1;
	}
	res->events = pass.events;
	res->phases = pass.phases;
	res->parse_errors = pass.parse_errors;
	res->map_requests = pass.map_requests;
	res->map_segments = pass.map_segments;
	res->unmap_requests = pass.unmap_requests;
	res->sync_requests = pass.sync_requests;
	res->peak_live_bytes = pass.peak_live_bytes;
	res->invented_bytes = pass.invented_bytes;
	res->warnings = pass.warnings;
	return 0;
}

int replay_run(struct replay_source *src, const struct replay_layout *lay,
	       const struct replay_options *opt, struct replay_result *res)
{
	if (opt->oracle)
		return replay_oracle(src, lay, opt, res);
	return replay_pass(src, lay, opt, res, NULL);
}

static int replay_pass(struct replay_source *src,
		       const struct replay_layout *lay,
		       const struct replay_options *opt,
		       struct replay_result *res, struct oracle_log *log)
{
	struct replay rp = { .opt = opt, .lay = lay, .res = res,
			     .name = src->name, .log = log };
	struct trace_event *ev = new_event();
	unsigned long warned = pvdma_warn_count;
	int rc, err;

	memset(res, 0, sizeof(*res));
	rp.clock_ns = clock_cost();
	err = ev ? setup(&rp) : -ENOMEM;
	if (err) {
		fprintf(stderr, "pvdma-replay: %s: cannot set up the %s policy (error %d)\n",
			src->name, pvdma_policy_name(opt->policy), err);
		teardown(&rp);
		free_event(ev);
		return -1;
	}
	rc = src->rewind(src, false);
	while (!rc && (rc = src->next(src, ev)) > 0) {
		replay_driver_event(&rp, ev);
		rc = 0;
	}
	res->parse_errors = src->parse_errors;
	collect(&rp);
	teardown(&rp);
	res->warnings = pvdma_warn_count - warned;
	free_event(ev);
	return rc < 0 ? -1 : 0;
}
