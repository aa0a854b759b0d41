// SPDX-License-Identifier: MIT
/*
 * The replay's driver: what the traced driver mapped, unmapped and synced,
 * played through the planner as the DMA API calls it.
 *
 * Every map the trace records becomes one pvdma_map call (a dma_map_sg is
 * one call with all its entries). Live buffers are remembered by what the
 * matching unmap names: a single map by its dma address, a scatter-gather
 * list by its first physical address (and entry count). An unmap that
 * names no live buffer is counted, not fatal; the unmap of a buffer whose
 * map failed is skipped.
 *
 * Truncated lists ("nents=128/512 ... [TRUNCATED]"): the kernel shows the
 * first 128 entries of a dma_map_sg, but its dma_unmap_sg prints every
 * physical address of the list (no sizes), as far as tracefs can print
 * the line (lists of up to about 500 entries; longer ones come from the
 * unmap probe, which names none). Unless --no-fill-from-unmap
 * (opt->fill_from_unmap, on by default) a hidden entry takes its address
 * from its list's own unmap, found by the scan (replay.c: lay->fills),
 * and its size is the estimate below, cut where the list's next address
 * begins. Hidden entries no event shows are invented: each gets the shown
 * entries' mean size (rounded to the nearest 4 KiB, at least 4 KiB), at
 * fresh addresses above everything the trace touches, ascending, with a
 * 4 KiB hole after each so that no two are contiguous (as scattered
 * pinned pages are not).
 * A list mapped again (same first address, same count and mean) gets the
 * same invented addresses, being the same buffer. Either way the sizes are
 * estimates: invented_bytes counts every hidden entry's; hidden_filled and
 * hidden_invented say which addresses are real.
 */
#include "replay_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oracle.h"

/* One buffer the driver holds mapped. */
struct live_buf {
	struct htable_node node;	/* key: dma_addr (single) or first phys (sg) */
	u64 first_dma;
	u64 bytes;
	u32 nents_total;
	u32 nsegs;		/* 0 if the map failed */
	u8 dir;
	bool failed;
	u32 map_id;		/* its map in the oracle's log */
	struct pvdma_seg segs[];
};

/* Where a truncated list's invented entries went. */
struct invented {
	struct htable_node node;	/* key: first phys */
	u32 total;
	u64 each;
	u64 base;
};

static u32 dir_perm(enum trace_dir dir)
{
	switch (dir) {
	case TRACE_DIR_TO_DEVICE:
		return PVDMA_MAP_READ;
	case TRACE_DIR_FROM_DEVICE:
		return PVDMA_MAP_WRITE;
	default:
		return PVDMA_MAP_READ | PVDMA_MAP_WRITE;
	}
}

static enum pvdma_dir planner_dir(enum trace_dir dir)
{
	if (dir == TRACE_DIR_TO_DEVICE)
		return PVDMA_DIR_TO_DEVICE;
	if (dir == TRACE_DIR_FROM_DEVICE)
		return PVDMA_DIR_FROM_DEVICE;
	return PVDMA_DIR_BIDIRECTIONAL;
}

/* Size of one invented entry: the shown mean, to the nearest 4 KiB. */
u64 replay_invented_size(const struct trace_event *ev)
{
	u64 sum = 0, mean;
	u32 i;

	for (i = 0; i < ev->nents; i++) {
		if (sum + ev->ents[i].len < sum)
			return 0;
		sum += ev->ents[i].len;
	}
	mean = sum / ev->nents;
	mean = (mean + REPLAY_GUEST_PAGE / 2) / REPLAY_GUEST_PAGE * REPLAY_GUEST_PAGE;
	return mean ? mean : REPLAY_GUEST_PAGE;
}

/* Bytes of address space a truncated list's invented entries take. */
bool replay_invented_extent(const struct trace_event *ev, u64 each, u64 *ext)
{
	u64 missing = ev->nents_total - ev->nents;

	if (!each || each > REPLAY_ADDR_LIMIT)
		return false;
	return !__builtin_mul_overflow(missing, each + REPLAY_GUEST_PAGE, ext) &&
	       *ext < REPLAY_ADDR_LIMIT;
}

static struct invented *find_invented(struct replay *rp,
				      const struct trace_event *ev, u64 each)
{
	struct htable_node *n = *htable_bucket(&rp->invented, ev->ents[0].phys);

	for (; n; n = n->next) {
		struct invented *inv = (struct invented *)n;

		if (n->key == ev->ents[0].phys &&
		    inv->total == ev->nents_total && inv->each == each)
			return inv;
	}
	return NULL;
}

/* Append the invented entries of a truncated list to rp->segs. */
static int fill_truncated(struct replay *rp, const struct trace_event *ev)
{
	u64 each = replay_invented_size(ev), ext, base;

	/* a smaller guess (--verdict's lower bound) stays inside the layout */
	if (rp->opt->invent_bytes && rp->opt->invent_bytes < each)
		each = rp->opt->invent_bytes;
	struct invented *inv;
	u32 i;

	if (!replay_invented_extent(ev, each, &ext) || rp->lay->no_room)
		return -1;
	inv = find_invented(rp, ev, each);
	if (inv) {
		base = inv->base;
	} else {
		if (rp->invent_next + ext < rp->invent_next ||
		    rp->invent_next + ext > REPLAY_ADDR_LIMIT)
			return -1;
		base = rp->invent_next;
		rp->invent_next += ext;
		inv = calloc(1, sizeof(*inv));
		if (inv) {
			inv->node.key = ev->ents[0].phys;
			inv->total = ev->nents_total;
			inv->each = each;
			inv->base = base;
			htable_insert(&rp->invented, &inv->node);
		}
	}
	for (i = ev->nents; i < ev->nents_total; i++) {
		struct pvdma_seg *s = &rp->segs[i];

		memset(s, 0, sizeof(*s));
		s->gpa = base + (u64)(i - ev->nents) * (each + REPLAY_GUEST_PAGE);
		s->len = each;
		rp->res->invented_bytes += each;
	}
	return 0;
}

/* The fill the scan found for this dma_map_sg (rp->sg_map_no), or NULL. */
static const struct replay_fill *find_fill(struct replay *rp,
					   const struct trace_event *ev)
{
	const struct replay_layout *lay = rp->lay;
	const struct replay_fill *f;

	if (!rp->opt->fill_from_unmap)
		return NULL;
	while (rp->fill_next < lay->nfills &&
	       lay->fills[rp->fill_next].map_no < rp->sg_map_no)
		rp->fill_next++;
	if (rp->fill_next == lay->nfills)
		return NULL;
	f = &lay->fills[rp->fill_next];
	if (f->map_no != rp->sg_map_no || f->shown != ev->nents ||
	    f->total != ev->nents_total)
		return NULL;
	return f;
}

/*
 * Append the hidden entries of a truncated list to rp->segs: where its
 * own unmap shows them, from there (a size estimated); else invented.
 */
static int fill_hidden(struct replay *rp, const struct trace_event *ev)
{
	const struct replay_fill *f = find_fill(rp, ev);
	u32 i;

	if (!f) {
		if (fill_truncated(rp, ev))
			return -1;
		rp->res->hidden_invented += ev->nents_total - ev->nents;
		return 0;
	}
	for (i = ev->nents; i < ev->nents_total; i++) {
		const struct replay_fill_ent *e =
			&rp->lay->fill_ents[f->first + i - ev->nents];
		struct pvdma_seg *s = &rp->segs[i];

		memset(s, 0, sizeof(*s));
		s->gpa = e->gpa;
		s->len = e->len;
		/* --verdict's lower bound: each as small as asked */
		if (rp->opt->invent_bytes && rp->opt->invent_bytes < s->len)
			s->len = rp->opt->invent_bytes;
		rp->res->invented_bytes += s->len;
	}
	rp->res->hidden_filled += ev->nents_total - ev->nents;
	return 0;
}

/* The segments of a map event into rp->segs; how many, or -1. */
static long build_segs(struct replay *rp, const struct trace_event *ev)
{
	u32 i;

	if (ev->kind == TRACE_EV_MAP_SINGLE) {
		memset(&rp->segs[0], 0, sizeof(rp->segs[0]));
		rp->segs[0].gpa = ev->phys_addr;
		rp->segs[0].len = ev->size;
		return 1;
	}
	if (ev->nents_total > rp->segs_cap || ev->nents == 0)
		return -1;
	for (i = 0; i < ev->nents; i++) {
		memset(&rp->segs[i], 0, sizeof(rp->segs[i]));
		rp->segs[i].gpa = ev->ents[i].phys;
		rp->segs[i].len = ev->ents[i].len;
	}
	if (ev->nents_total > ev->nents && fill_hidden(rp, ev))
		return -1;
	return ev->nents_total;
}

static void unmap_unrecorded(struct replay *rp, const struct trace_event *ev);

/*
 * The planner's own part of @spent ns of one call that began with the
 * host at @host0 ns and @calls0 calls: the host's time and the clock's
 * (one reading for the call, one for each host call in it) taken out.
 */
static u64 planner_time(const struct replay *rp, u64 spent, u64 host0,
			u64 calls0)
{
	const struct replay_result *res = rp->res;

	spent -= res->host_ns - host0;
	return spent - PVDMA_MIN(spent, rp->clock_ns *
				 (1 + res->host_calls - calls0));
}

static void do_map(struct replay *rp, const struct trace_event *ev)
{
	struct replay_result *res = rp->res;
	struct live_buf *buf;
	long n = build_segs(rp, ev);
	u64 bytes = 0, t0, t1, host0, calls0, spent;
	u32 perm = dir_perm(ev->dir), i;
	int err;

	if (ev->kind == TRACE_EV_MAP_SG)
		rp->sg_map_no++;	/* after build_segs: it looks its fill up */
	if (n < 0) {
		res->invalid_maps++;
		return;
	}
	if (ev->kind == TRACE_EV_MAP_SG)
		unmap_unrecorded(rp, ev);
	oracle_log_map(rp->log, rp->segs, (u32)n);
	for (i = 0; i < n; i++)
		bytes += rp->segs[i].len;
	res->map_requests++;
	res->map_segments += (u64)n;
	res->live_bytes += bytes;
	if (res->live_bytes > res->peak_live_bytes)
		res->peak_live_bytes = res->live_bytes;

	host0 = res->host_ns;
	calls0 = res->host_calls;
	t0 = replay_now_ns();
	err = pvdma_map(&rp->planner, rp->segs, (u32)n, planner_dir(ev->dir),
			ev->coherent ? PVDMA_ATTR_COHERENT : 0);
	t1 = replay_now_ns();
	res->map_ns += t1 - t0;
	res->map_host_ns += res->host_ns - host0;
	spent = planner_time(rp, t1 - t0, host0, calls0);
	res->planner_ns += spent;
	if (res->host_calls != calls0) {
		res->call_maps++;
		res->call_planner_ns += spent;
	}
	res->spec_waste_peak = PVDMA_MAX(res->spec_waste_peak,
					 rp->planner.stats.spec_aperture);

	if (err)
		replay_record_failure(rp, bytes, (u32)n);
	else
		for (i = 0; i < n; i++)
			replay_verify_seg(rp, &rp->segs[i], perm);

	buf = malloc(sizeof(*buf) + (err ? 0 : (size_t)n * sizeof(buf->segs[0])));
	if (!buf) {
		fprintf(stderr, "pvdma-replay: out of memory\n");
		exit(2);
	}
	buf->node.key = ev->kind == TRACE_EV_MAP_SINGLE ? ev->dma_addr
							 : ev->ents[0].phys;
	buf->first_dma = ev->kind == TRACE_EV_MAP_SINGLE ? ev->dma_addr
							  : ev->ents[0].dma;
	buf->bytes = bytes;
	buf->nents_total = (u32)n;
	buf->dir = (u8)ev->dir;
	buf->failed = err != 0;
	buf->map_id = rp->log ? oracle_last_map(rp->log) : 0;
	buf->nsegs = err ? 0 : (u32)n;
	if (!err)
		memcpy(buf->segs, rp->segs, (size_t)n * sizeof(buf->segs[0]));
	htable_insert(ev->kind == TRACE_EV_MAP_SINGLE ? &rp->singles : &rp->lists,
		  &buf->node);
}

/* Does unmap event @ev name live list @buf? */
static bool list_matches(const struct live_buf *buf,
			 const struct trace_event *ev)
{
	if (buf->nents_total == ev->nents_total)
		return true;
	/* An unmap_sg without nents= that shows the kernel's maximum may
	 * stand for a longer list. */
	return ev->nents_total == ev->nents &&
	       ev->nents >= TRACE_SHOWN_ENTRIES &&
	       buf->nents_total >= ev->nents;
}

/* Unlink and return the live buffer @ev names, or NULL. */
static struct live_buf *take_live(struct replay *rp,
				  const struct trace_event *ev)
{
	bool single = ev->kind == TRACE_EV_UNMAP_SINGLE;
	struct htable *t = single ? &rp->singles : &rp->lists;
	u64 key = single ? ev->dma_addr : ev->ents[0].phys;
	struct htable_node **pp = htable_bucket(t, key);

	for (; *pp; pp = &(*pp)->next) {
		struct live_buf *buf = (struct live_buf *)*pp;

		if ((*pp)->key != key)
			continue;
		if (single ? buf->bytes != ev->size : !list_matches(buf, ev))
			continue;
		*pp = (*pp)->next;
		t->count--;
		return buf;
	}
	return NULL;
}

/*
 * Unmap through the planner, timed like a map: a policy that unmaps at
 * once does at unmap what a caching one does in a later map (release a
 * window), so the two are compared with both.
 */
static int timed_unmap(struct replay *rp, struct live_buf *buf)
{
	struct replay_result *res = rp->res;
	u64 host0 = res->host_ns, calls0 = res->host_calls, t0 = replay_now_ns();
	int err;

	err = pvdma_unmap(&rp->planner, buf->segs, buf->nsegs,
			  planner_dir((enum trace_dir)buf->dir));
	res->unmap_planner_ns += planner_time(rp, replay_now_ns() - t0, host0,
					      calls0);
	return err;
}

/* Unmap live buffer @buf (already unlinked) through the planner. */
static void release_live(struct replay *rp, struct live_buf *buf)
{
	struct replay_result *res = rp->res;

	res->live_bytes -= buf->bytes;
	oracle_log_unmap(rp->log, buf->map_id);
	if (buf->failed) {
		res->skipped_unmaps++;
	} else if (timed_unmap(rp, buf)) {
		res->unmap_errors++;
		replay_note(rp, "unmap of %u segments at bus 0x%llx refused",
		     buf->nsegs, (unsigned long long)buf->segs[0].bus);
	}
	free(buf);
}

static void do_unmap(struct replay *rp, const struct trace_event *ev)
{
	struct live_buf *buf = take_live(rp, ev);

	rp->res->unmap_requests++;
	if (!buf) {
		rp->res->unmatched_unmaps++;
		return;
	}
	release_live(rp, buf);
}

/*
 * The kernel does not record the dma_unmap_sg of a list longer than about
 * 500 entries (the event would not fit a ring-buffer page; see
 * traces/README.md), so such a list looks mapped for ever. When a list
 * with the same first physical address is mapped again, the earlier one
 * was certainly unmapped by then: unmap it first (counted in
 * implied_unmaps).
 */
static void unmap_unrecorded(struct replay *rp, const struct trace_event *ev)
{
	struct htable_node **pp = htable_bucket(&rp->lists, ev->ents[0].phys);

	for (; *pp; pp = &(*pp)->next) {
		struct live_buf *buf = (struct live_buf *)*pp;

		if ((*pp)->key != ev->ents[0].phys ||
		    buf->nents_total <= TRACE_UNMAP_UNRECORDED)
			continue;
		*pp = (*pp)->next;
		rp->lists.count--;
		rp->res->implied_unmaps++;
		release_live(rp, buf);
		return;
	}
}

/* A sync names a live buffer by its dma address. */
static struct live_buf *find_synced(struct replay *rp,
				    const struct trace_event *ev)
{
	bool single = ev->kind == TRACE_EV_SYNC_SINGLE;
	u64 key = single ? ev->dma_addr : ev->ents[0].dma;
	struct htable_node *n = *htable_bucket(single ? &rp->singles : &rp->lists, key);

	for (; n; n = n->next) {
		struct live_buf *buf = (struct live_buf *)n;

		if (n->key == key && buf->first_dma == key)
			return buf;
	}
	return NULL;
}

static void do_sync(struct replay *rp, const struct trace_event *ev)
{
	struct live_buf *buf = find_synced(rp, ev);
	enum pvdma_dir dir = planner_dir(ev->dir);
	u32 i;

	rp->res->sync_requests++;
	if (!buf) {
		rp->res->unmatched_syncs++;
		return;
	}
	if (buf->failed)
		return;
	if (ev->kind == TRACE_EV_SYNC_SINGLE) {
		pvdma_sync(&rp->planner, buf->segs[0].bus,
			   PVDMA_MIN(ev->size, buf->segs[0].len), dir,
			   ev->for_device);
		return;
	}
	for (i = 0; i < buf->nsegs && i < ev->nents; i++)
		pvdma_sync(&rp->planner, buf->segs[i].bus, buf->segs[i].len,
			   dir, ev->for_device);
}

void replay_driver_event(struct replay *rp, const struct trace_event *ev)
{
	rp->res->events++;
	switch (ev->kind) {
	case TRACE_EV_MAP_SINGLE:
	case TRACE_EV_MAP_SG:
		do_map(rp, ev);
		break;
	case TRACE_EV_UNMAP_SINGLE:
	case TRACE_EV_UNMAP_SG:
		do_unmap(rp, ev);
		break;
	case TRACE_EV_SYNC_SINGLE:
	case TRACE_EV_SYNC_SG:
		do_sync(rp, ev);
		break;
	case TRACE_EV_PHASE:
		rp->res->phases++;
		break;
	default:
		rp->res->other_events++;
		break;
	}
}

int replay_driver_init(struct replay *rp)
{
	rp->segs_cap = rp->lay->max_segs;
	rp->segs = calloc(rp->segs_cap, sizeof(*rp->segs));
	if (!rp->segs || htable_init(&rp->singles) ||
	    htable_init(&rp->lists) || htable_init(&rp->invented))
		return -ENOMEM;
	rp->invent_next = rp->lay->invent_base;
	return 0;
}

void replay_driver_free(struct replay *rp)
{
	htable_free_all(&rp->singles);
	htable_free_all(&rp->lists);
	htable_free_all(&rp->invented);
	free(rp->segs);
}
