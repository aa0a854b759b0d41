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

#include "array.h"
#include "oracle.h"

#define REGION_ALIGN	(1ull << 30)

#define MAX_MESSAGES	10

#define CLOCK_SAMPLES	101

static int u64_cmp(const void *a, const void *b)
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
	qsort(d, CLOCK_SAMPLES, sizeof(d[0]), u64_cmp);
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

/* A truncated list mapped and not yet unmapped, while scanning. */
struct pending_list {
	struct htable_node node;	/* key: first phys, as driver.c's */
	u64 map_no;
	u64 each;			/* replay_invented_size() of the map */
	u32 shown;
	u32 total;
	u64 phys[];			/* the shown entries' */
};

struct scan {
	struct replay_layout *lay;
	struct htable pending;
	u64 map_no;			/* dma_map_sg events so far */
	u64 fills_cap;
	u64 ents_cap;
	u64 *sorted;			/* an unmap's addresses, sorted */
	u32 sorted_cap;
	bool nomem;
};

static int fill_cmp(const void *a, const void *b)
{
	const struct replay_fill *x = a, *y = b;

	return x->map_no < y->map_no ? -1 : x->map_no > y->map_no;
}

static void note_truncated_map(struct scan *sc, const struct trace_event *ev)
{
	struct pending_list *pl;
	u32 i;

	pl = malloc(sizeof(*pl) + (size_t)ev->nents * sizeof(pl->phys[0]));
	if (!pl) {
		sc->nomem = true;
		return;
	}
	pl->node.key = ev->ents[0].phys;
	pl->map_no = sc->map_no;
	pl->each = replay_invented_size(ev);
	pl->shown = ev->nents;
	pl->total = ev->nents_total;
	for (i = 0; i < ev->nents; i++)
		pl->phys[i] = ev->ents[i].phys;
	htable_insert(&sc->pending, &pl->node);
}

/*
 * The smallest address of the list above @a, or 0 if none: an entry ends
 * where the next one begins at the latest, as a list's entries are
 * distinct pages.
 */
static u64 next_above(const struct scan *sc, u32 n, u64 a)
{
	u32 lo = 0, hi = n;

	while (lo < hi) {
		u32 mid = lo + (hi - lo) / 2;

		if (sc->sorted[mid] <= a)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n ? sc->sorted[lo] : 0;
}

/*
 * @ev, an unmap's full list, for the hidden entries of @pl: used only if
 * it shows the map's shown entries first. Each entry is the map's
 * estimated size, cut at the next address of the list.
 */
static void fill_pending(struct scan *sc, const struct pending_list *pl,
			 const struct trace_event *ev)
{
	struct replay_layout *lay = sc->lay;
	struct replay_fill *f;
	u64 start = lay->nfill_ents, max_addr = lay->max_addr;
	u32 i, n = ev->nents;

	for (i = 0; i < pl->shown; i++)
		if (ev->ents[i].phys != pl->phys[i])
			goto refuse;
	if (!pl->each || pl->each > REPLAY_ADDR_LIMIT)
		goto refuse;
	if (n > sc->sorted_cap) {
		u64 *p = realloc(sc->sorted, (size_t)n * sizeof(*p));

		if (!p)
			goto nomem;
		sc->sorted = p;
		sc->sorted_cap = n;
	}
	for (i = 0; i < n; i++)
		sc->sorted[i] = ev->ents[i].phys;
	qsort(sc->sorted, n, sizeof(sc->sorted[0]), u64_cmp);
	if (!array_grow((void **)&lay->fill_ents, &sc->ents_cap, start + n - pl->shown,
		  sizeof(lay->fill_ents[0])) ||
	    !array_grow((void **)&lay->fills, &sc->fills_cap, lay->nfills + 1,
		  sizeof(lay->fills[0])))
		goto nomem;
	for (i = pl->shown; i < n; i++) {
		struct replay_fill_ent *e = &lay->fill_ents[start + i - pl->shown];
		u64 a = ev->ents[i].phys, next = next_above(sc, n, a);

		e->gpa = a;
		e->len = next ? PVDMA_MIN(pl->each, next - a) : pl->each;
		/* a hostile address the replay's layout cannot hold */
		if (a + e->len < a || a + e->len > REPLAY_ADDR_LIMIT / 4)
			goto refuse;
		max_addr = PVDMA_MAX(max_addr, a + e->len);
	}
	f = &lay->fills[lay->nfills++];
	f->map_no = pl->map_no;
	f->first = start;
	f->shown = pl->shown;
	f->total = pl->total;
	lay->nfill_ents = start + n - pl->shown;
	lay->max_addr = max_addr;
	return;
refuse:
	lay->fills_refused++;
	return;
nomem:
	sc->nomem = true;
}

/*
 * An unmap takes the newest pending list of its first address and count,
 * as the driver's live table does; its full list (all entries shown)
 * fills that list's hidden entries. A probed unmap shows no list.
 */
static void note_unmap(struct scan *sc, const struct trace_event *ev)
{
	struct htable_node **pp = htable_bucket(&sc->pending, ev->ents[0].phys);

	for (; *pp; pp = &(*pp)->next) {
		struct pending_list *pl = (struct pending_list *)*pp;

		if ((*pp)->key != ev->ents[0].phys || pl->total != ev->nents_total)
			continue;
		*pp = (*pp)->next;
		sc->pending.count--;
		if (!ev->probed && !ev->truncated && ev->nents == pl->total)
			fill_pending(sc, pl, ev);
		free(pl);
		return;
	}
}

static void scan_event(struct scan *sc, const struct trace_event *ev)
{
	struct replay_layout *lay = sc->lay;
	u32 i;

	lay->events++;
	if (ev->kind == TRACE_EV_MAP_SINGLE) {
		lay->max_addr = PVDMA_MAX(lay->max_addr, ev->phys_addr + ev->size);
		lay->max_addr = PVDMA_MAX(lay->max_addr, ev->dma_addr + ev->size);
		return;
	}
	if (ev->kind != TRACE_EV_MAP_SG && ev->kind != TRACE_EV_UNMAP_SG)
		return;
	/*
	 * An unmap names what a map mapped, and its list no sizes: its
	 * addresses count only through a fill the map accepts (hostile or
	 * damaged ones must not move the layout).
	 */
	if (ev->kind == TRACE_EV_UNMAP_SG) {
		if (ev->nents)
			note_unmap(sc, ev);
		return;
	}
	for (i = 0; i < ev->nents; i++) {
		lay->max_addr = PVDMA_MAX(lay->max_addr,
					  ev->ents[i].phys + ev->ents[i].len);
		lay->max_addr = PVDMA_MAX(lay->max_addr,
					  ev->ents[i].dma + ev->ents[i].len);
	}
	lay->max_segs = PVDMA_MAX(lay->max_segs, ev->nents_total);
	if (ev->nents_total > ev->nents) {
		u64 ext;

		if (!replay_invented_extent(ev, replay_invented_size(ev), &ext) ||
		    lay->invent_bound + ext < lay->invent_bound)
			lay->invent_bound = REPLAY_ADDR_LIMIT;
		else
			lay->invent_bound += ext;
		if (ev->nents)
			note_truncated_map(sc, ev);
	}
	sc->map_no++;
}

int replay_scan(struct replay_source *src, struct replay_layout *lay)
{
	struct trace_event *ev = new_event();
	struct scan sc = { .lay = lay };
	int rc;

	memset(lay, 0, sizeof(*lay));
	lay->max_segs = 1;
	if (!ev || htable_init(&sc.pending) || src->rewind(src, true)) {
		free_event(ev);
		htable_free_all(&sc.pending);
		return -1;
	}
	while ((rc = src->next(src, ev)) > 0 && !sc.nomem)
		scan_event(&sc, ev);
	free_event(ev);
	htable_free_all(&sc.pending);
	free(sc.sorted);
	if (sc.nomem) {
		fprintf(stderr, "pvdma-replay: %s: out of memory\n", src->name);
		return -1;
	}
	/* the driver looks each map's fill up in the order of the maps */
	if (lay->nfills)
		qsort(lay->fills, lay->nfills, sizeof(lay->fills[0]), fill_cmp);
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

void replay_layout_free(struct replay_layout *lay)
{
	free(lay->fills);
	free(lay->fill_ents);
	lay->fills = NULL;
	lay->fill_ents = NULL;
	lay->nfills = lay->nfill_ents = 0;
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
	pcfg.bus_base = rp->dart.cfg.bus_base;	/* as pvdmad's header says */
	pcfg.bus_limit = rp->dart.cfg.bus_limit;
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
	res->id_collisions = ps->id_collisions;
	res->fast_lookups = ps->fast_lookups;
	res->fast_maps = ps->fast_maps;
	res->fast_refusals = ps->fast_refusals;
	res->exact_passes = ps->exact_passes;
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
	res->hidden_filled = pass.hidden_filled;
	res->hidden_invented = pass.hidden_invented;
	res->fills_refused = pass.fills_refused;
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
	res->fills_refused = lay->fills_refused;
	collect(&rp);
	teardown(&rp);
	res->warnings = pvdma_warn_count - warned;
	free_event(ev);
	return rc < 0 ? -1 : 0;
}
