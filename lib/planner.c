// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The window planner's core: window records, the two indexes, batching,
 * accounting, failure reasons, configuration, and the entry points, which
 * hand each call to the policy's ops (planner_internal.h). See planner.h
 * and docs/planner.md.
 */
#include "planner_internal.h"

static const struct pvdma_policy_ops *const policies[PVDMA_POLICY_COUNT] = {
	[PVDMA_POLICY_PVDMA]	= &pvdma_policy_pvdma,
	[PVDMA_POLICY_RFC]	= &pvdma_policy_rfc,
	[PVDMA_POLICY_PERPAGE]	= &pvdma_policy_perpage,
	[PVDMA_POLICY_BLOCK]	= &pvdma_policy_block,
	[PVDMA_POLICY_POOL]	= &pvdma_policy_pool,
};

/* ---- window records -------------------------------------------------- */

struct pvdma_window *pvdma_win_alloc(struct pvdma_planner *p)
{
	struct pvdma_window *w;

	if (pvdma_list_empty(&p->free_windows))
		return NULL;
	w = pvdma_list_entry(p->free_windows.next, struct pvdma_window, lru);
	pvdma_list_del(&w->lru);
	w->refs = 0;
	w->shared = 0;
	w->grown = 0;
	w->holes = 0;
	w->whole = 0;
	w->need_only = 0;
	w->returned = 0;
	w->perm = 0;
	w->host_status = 0;
	w->bus = 0;
	w->used_lo = 0;
	w->used_hi = 0;
	w->live = 0;
	w->peak = 0;
	w->chunks = NULL;
	w->state = PVDMA_WIN_PENDING;
	return w;
}

/*
 * A chunk map from the pool for @w, or NULL if none is left or @w has
 * one. Its counts and touched bits are all 0 (pvdma_chunks_detach());
 * the rest is as the last window left it (the caller fills it).
 */
struct pvdma_chunk_map *pvdma_chunks_take(struct pvdma_planner *p,
					  struct pvdma_window *w)
{
	struct pvdma_chunk_map *c = p->free_chunk_maps;

	if (!c || w->chunks)
		return NULL;
	p->free_chunk_maps = c->next_free;
	w->chunks = c;
	return c;
}

/*
 * The pool is empty: the map of a window no live mapping uses goes back
 * to it, the dead list's first (they go with the next host call), then
 * the idle window used least recently. Its counts are all 0, so nothing
 * about a live page is lost; a window in use that finds no map pins its
 * holes until its last mapping goes instead (modelswap at 2320 MiB: the
 * pool empty from map 1372 on, up to a third of it on idle windows; 42
 * maps failed where --strict fits). Nothing if no such window holds one.
 */
static void chunks_from_unused(struct pvdma_planner *p)
{
	struct pvdma_list *lists[2] = { &p->dead, &p->idle }, *pos;
	u32 i;

	for (i = 0; i < 2; i++) {
		for (pos = lists[i]->next; pos != lists[i]; pos = pos->next) {
			struct pvdma_window *w = pvdma_list_entry(pos,
						struct pvdma_window, lru);

			if (w->chunks) {
				pvdma_chunks_detach(p, w);
				return;
			}
		}
	}
}

/*
 * Is a map worth taking from an unused window? Not where maps fail
 * often (more than one map call in CHUNKS_RECLAIM_RATE so far refused
 * for want of aperture): there the live set does not fit and the maps
 * would only change hands (vknaive at 1536 MiB, 5% refused: 974 -> 988
 * failed maps). At an edge failures are rare.
 */
#define CHUNKS_RECLAIM_RATE	64

static bool chunks_reclaim_pays(const struct pvdma_planner *p)
{
	return p->aperture_refusals * CHUNKS_RECLAIM_RATE <=
	       p->stats.map_requests;
}

/*
 * A chunk map for @w if the pool has one left (else holes stay); with
 * @reclaim, one an unused window holds if the pool has none.
 */
void pvdma_chunks_attach(struct pvdma_planner *p, struct pvdma_window *w,
			 bool reclaim)
{
	struct pvdma_chunk_map *c;
	u64 ps = p->cfg.page_size;

	if (reclaim && !p->free_chunk_maps && !w->chunks &&
	    chunks_reclaim_pays(p))
		chunks_from_unused(p);
	c = pvdma_chunks_take(p, w);

	if (!c)
		return;
	/* one chunk to spare for a window off the grid */
	c->chunk = PVDMA_MAX(ps, pvdma_pow2_floor((w->len - 1) /
						  (PVDMA_CHUNKS - 1)) << 1);
	c->skew = w->gpa & (c->chunk - 1);
	c->shift = (u32)__builtin_ctzll(c->chunk);
	c->free_bytes = w->len;
}

/*
 * Set the counts of @c back to 0 for the next window that takes it.
 * Only a touched chunk holds a count (a chunk's cover is 0 whenever its
 * bit is clear, and its starts and ends are never above its cover), so
 * only the span of the touched bits is cleared: nothing for the window
 * whose mappings all went (one evicted idle), where clearing the chunks
 * the next window reaches at every attach cost a few hundred
 * instructions a window.
 */
static void chunks_clear(struct pvdma_chunk_map *c)
{
	u32 i, lo = PVDMA_CHUNKS, hi = 0;

	for (i = 0; i < PVDMA_BITMAP_WORDS(PVDMA_CHUNKS); i++) {
		u64 t = c->touched[i];

		if (!t)
			continue;
		if (lo == PVDMA_CHUNKS)
			lo = i * 64 + (u32)__builtin_ctzll(t);
		hi = i * 64 + 64 - (u32)__builtin_clzll(t);
		c->touched[i] = 0;
	}
	if (lo >= hi)
		return;
	memset(c->cover + lo, 0, (hi - lo) * sizeof(c->cover[0]));
	memset(c->starts + lo, 0, (hi - lo) * sizeof(c->starts[0]));
	memset(c->ends + lo, 0, (hi - lo) * sizeof(c->ends[0]));
}

/*
 * @w's chunk map goes back to the pool, cleared (pvdma_chunks_take()).
 * Out of line: a window with no map (every window rfc frees) pays
 * nothing for the clearing in pvdma_win_free().
 */
noinline void pvdma_chunks_detach(struct pvdma_planner *p, struct pvdma_window *w)
{
	struct pvdma_chunk_map *c = w->chunks;

	if (!c)
		return;
	chunks_clear(c);
	c->next_free = p->free_chunk_maps;
	p->free_chunk_maps = c;
	w->chunks = NULL;
}

/*
 * The pool, every map in it: the caller's memory is cleared once here
 * (@fresh), after that each map is cleared as it comes back.
 */
static void chunks_init(struct pvdma_planner *p, bool fresh)
{
	u32 i;

	p->free_chunk_maps = NULL;
	for (i = 0; i < p->mem.nchunk_maps && p->mem.chunk_maps; i++) {
		if (fresh)
			memset(&p->mem.chunk_maps[i], 0,
			       sizeof(p->mem.chunk_maps[i]));
		p->mem.chunk_maps[i].next_free = p->free_chunk_maps;
		p->free_chunk_maps = &p->mem.chunk_maps[i];
	}
}

void pvdma_win_free(struct pvdma_planner *p, struct pvdma_window *w)
{
	w->state = PVDMA_WIN_FREE;
	pvdma_list_add_tail(&w->lru, &p->free_windows);
	if (w->chunks)		/* most windows have none: no call */
		pvdma_chunks_detach(p, w);
}

/* ---- the index by guest-physical start -------------------------------- */

static inline struct pvdma_window *gpa_entry(struct pvdma_avl_node *n)
{
	return n ? container_of(n, struct pvdma_window, gpa_node) : NULL;
}

/* Ordered by (gpa, len): unique for pvdma's disjoint windows and for
 * rfc's exact-key regions alike.
 */
static bool gpa_key_less(u64 a_gpa, u64 a_len, u64 b_gpa, u64 b_len)
{
	return a_gpa < b_gpa || (a_gpa == b_gpa && a_len < b_len);
}

static bool gpa_less(const struct pvdma_window *a, const struct pvdma_window *b)
{
	return gpa_key_less(a->gpa, a->len, b->gpa, b->len);
}

void pvdma_gpa_insert(struct pvdma_planner *p, struct pvdma_window *w)
{
	struct pvdma_avl_node **link = &p->by_gpa.node, *parent = NULL;

	while (*link) {
		parent = *link;
		link = gpa_less(w, gpa_entry(parent)) ? &parent->left :
							&parent->right;
	}
	pvdma_avl_link(&w->gpa_node, parent, link);
	pvdma_avl_insert_fixup(&p->by_gpa, &w->gpa_node, NULL);
	w->shared = 1;
	p->gpa_cursor = NULL; /* @w may lie between it and its next */
}

/*
 * Shared @w now covers [gpa, gpa + len), a part of what it covered (a
 * window shrunk to its used range). Between neighbours that do not
 * overlap it, as the cache's do not, it keeps its place: no erase and
 * no descent to put it back. Else it is put where a descent puts it.
 */
void pvdma_gpa_shrink(struct pvdma_planner *p, struct pvdma_window *w,
		      u64 gpa, u64 len)
{
	struct pvdma_window *prev = gpa_entry(pvdma_avl_prev(&w->gpa_node));
	struct pvdma_window *next = gpa_entry(pvdma_avl_next(&w->gpa_node));

	p->gpa_cursor = NULL; /* a key changes, @w may move */
	if ((prev && !gpa_key_less(prev->gpa, prev->len, gpa, len)) ||
	    (next && !gpa_key_less(gpa, len, next->gpa, next->len))) {
		pvdma_gpa_remove(p, w);
		w->gpa = gpa;
		w->len = len;
		pvdma_gpa_insert(p, w);
		return;
	}
	w->gpa = gpa;
	w->len = len;
}

/*
 * Insert @w between @prev and @next, neighbours in the index (either NULL
 * at an end) that a miss's lookup found: a link and a fix-up, no descent,
 * unless they are not neighbours after all. True if it went between them
 * (@next follows it).
 */
bool pvdma_gpa_insert_near(struct pvdma_planner *p, struct pvdma_window *w,
			   struct pvdma_window *prev, struct pvdma_window *next)
{
	p->gpa_cursor = NULL; /* the caller may set it to @w */
	if (!pvdma_avl_insert_between(&p->by_gpa, &w->gpa_node,
				      prev ? &prev->gpa_node : NULL,
				      next ? &next->gpa_node : NULL, NULL)) {
		pvdma_gpa_insert(p, w);
		return false;
	}
	w->shared = 1;
	return true;
}

void pvdma_gpa_remove(struct pvdma_planner *p, struct pvdma_window *w)
{
	if (!w->shared)
		return;
	pvdma_avl_erase(&p->by_gpa, &w->gpa_node, NULL);
	w->shared = 0;
	p->gpa_cursor = NULL; /* @w may be it or its next */
}

/*
 * The last window of the index starting at or below @gpa (NULL: none),
 * and in *@after (if asked) the window after it there: the last node the
 * descent turned left at (NULL: none), no walk of its own.
 */
static __always_inline struct pvdma_window *
gpa_descend(const struct pvdma_planner *p, u64 gpa,
	    struct pvdma_window **after)
{
	struct pvdma_avl_node *n = p->by_gpa.node;
	struct pvdma_window *best = NULL;

	while (n) {
		struct pvdma_window *w = gpa_entry(n);

		if (w->gpa <= gpa) {
			best = w;
			n = n->right;
		} else {
			if (after)
				*after = w;
			n = n->left;
		}
	}
	return best;
}

struct pvdma_window *pvdma_gpa_floor(const struct pvdma_planner *p, u64 gpa)
{
	return gpa_descend(p, gpa, NULL);
}

/*
 * pvdma_gpa_floor(), and the window after it in the index (or the first,
 * if none starts at or below @gpa) in *@next. Both become the cursor.
 */
struct pvdma_window *pvdma_gpa_floor_next(struct pvdma_planner *p, u64 gpa,
					  struct pvdma_window **next)
{
	struct pvdma_window *best, *after = NULL;

	best = gpa_descend(p, gpa, &after);
	*next = after;
	if (best)
		pvdma_gpa_cursor_set(p, best, after);
	return best;
}

struct pvdma_window *pvdma_gpa_next(struct pvdma_window *w)
{
	return gpa_entry(pvdma_avl_next(&w->gpa_node));
}

struct pvdma_window *pvdma_gpa_prev(struct pvdma_window *w)
{
	return gpa_entry(pvdma_avl_prev(&w->gpa_node));
}

struct pvdma_window *pvdma_gpa_first(const struct pvdma_planner *p)
{
	return gpa_entry(pvdma_avl_first(&p->by_gpa));
}

struct pvdma_window *pvdma_gpa_find_exact(const struct pvdma_planner *p,
					  u64 gpa, u64 len)
{
	struct pvdma_avl_node *n = p->by_gpa.node;

	while (n) {
		struct pvdma_window *w = gpa_entry(n);

		if (w->gpa == gpa && w->len == len)
			return w;
		if (gpa < w->gpa || (gpa == w->gpa && len < w->len))
			n = n->left;
		else
			n = n->right;
	}
	return NULL;
}

/* ---- accounting ------------------------------------------------------ */

/* The bounce pool is held for ever: it is not a window anyone pins. */
static bool win_pins(const struct pvdma_planner *p,
		     const struct pvdma_window *w)
{
	return w->refs && w != p->pool_window;
}

void pvdma_win_account_map(struct pvdma_planner *p, struct pvdma_window *w)
{
	struct pvdma_planner_stats *s = &p->stats;

	s->live_windows++;
	s->live_aperture += w->len;
	s->spec_aperture += pvdma_win_unused(w);
	if (win_pins(p, w)) {
		s->pinned_aperture += w->len;
		s->pinned_windows++;
	}
}

/* Peaks count what the host accepted, not what was asked. */
static void win_account_peak(struct pvdma_planner *p)
{
	struct pvdma_planner_stats *s = &p->stats;

	s->peak_windows = PVDMA_MAX(s->peak_windows, s->live_windows);
	s->peak_aperture = PVDMA_MAX(s->peak_aperture, s->live_aperture);
}

void pvdma_win_account_unmap(struct pvdma_planner *p, struct pvdma_window *w)
{
	struct pvdma_planner_stats *s = &p->stats;

	s->live_windows--;
	s->live_aperture -= w->len;
	s->spec_aperture -= pvdma_win_unused(w);
	if (win_pins(p, w)) {
		s->pinned_aperture -= w->len;
		s->pinned_windows--;
	}
}

/* ---- batching -------------------------------------------------------- */

bool pvdma_batch_full(const struct pvdma_planner *p)
{
	return p->nbatch >= p->mem.nops;
}

static struct pvdma_request *batch_next(struct pvdma_planner *p,
					struct pvdma_window *w)
{
	struct pvdma_request *op;

	/* A full batch goes out now: one more host call, nothing lost. */
	if (pvdma_batch_full(p))
		pvdma_batch_submit(p);
	op = &p->mem.ops[p->nbatch];
	p->mem.batch_win[p->nbatch++] = w;
	memset(op, 0, sizeof(*op));
	return op;
}

void pvdma_batch_queue_map(struct pvdma_planner *p, struct pvdma_window *w)
{
	struct pvdma_request *op = batch_next(p, w);

	op->op = PVDMA_OP_MAP;
	op->flags = w->perm;
	op->gpa = w->gpa;
	op->len = w->len;
	w->state = PVDMA_WIN_PENDING;
	w->map_call = p->call_seq;	/* its bus comes in this call */
}

void pvdma_batch_queue_unmap(struct pvdma_planner *p, u64 bus, u64 len)
{
	struct pvdma_request *op = batch_next(p, NULL);

	op->op = PVDMA_OP_UNMAP;
	op->bus = bus;
	op->len = len;
	p->bus_refused_len = 0;	/* the host may find room again */
}

void pvdma_batch_queue_trim(struct pvdma_planner *p, u64 bus, u64 len)
{
	struct pvdma_request *op = batch_next(p, NULL);

	op->op = PVDMA_OP_TRIM;
	op->bus = bus;
	op->len = len;
	p->bus_refused_len = 0;
}

/* The host answered a MAP for @w. */
static void batch_resolve_map(struct pvdma_planner *p, struct pvdma_window *w,
			      const struct pvdma_request *op, int ret,
			      struct pvdma_bus_hint *h)
{
	if (!ret && op->status == PVDMA_ST_OK) {
		w->bus = op->bus;
		pvdma_bus_insert_hinted(p, w, h);
		w->state = PVDMA_WIN_LIVE;
		win_account_peak(p);
		return;
	}
	w->host_status = ret ? PVDMA_ST_IO : op->status;
	if (w->host_status == PVDMA_ST_NO_BUS_SPACE &&
	    (!p->bus_refused_len || w->len < p->bus_refused_len))
		p->bus_refused_len = w->len;
	pvdma_win_account_unmap(p, w);
	w->state = PVDMA_WIN_FAILED;
	p->call_failed++;
}

static void release_dead(struct pvdma_planner *p)
{
	struct pvdma_list *pos, *next;

	for (pos = p->dead.next; pos != &p->dead && !pvdma_batch_full(p);
	     pos = next) {
		struct pvdma_window *w = pvdma_list_entry(pos,
							  struct pvdma_window,
							  lru);

		next = pos->next;
		if (pvdma_cache_dead_goes(p, w))
			pvdma_win_release(p, w);
	}
}

/* Send a non-empty batch (pvdma_batch_submit()). */
int pvdma_batch_send(struct pvdma_planner *p)
{
	struct pvdma_bus_hint hint = { NULL, NULL };
	u32 i, n;
	int ret;

	/* A host call is being made anyway: unmaps nobody waits for ride
	 * along for free.
	 */
	release_dead(p);
	n = p->nbatch;
	p->nbatch = 0;
	ret = p->ops->submit(p->ctx, p->mem.ops, n);
	p->stats.host_calls++;
	for (i = 0; i < n; i++) {
		const struct pvdma_request *op = &p->mem.ops[i];

		if (op->op == PVDMA_OP_MAP) {
			p->stats.host_maps++;
			batch_resolve_map(p, p->mem.batch_win[i], op, ret,
					  &hint);
		} else if (op->op == PVDMA_OP_UNMAP) {
			p->stats.host_unmaps++;
		} else {
			p->stats.trims++;
		}
	}
	return ret;
}

void pvdma_win_release(struct pvdma_planner *p, struct pvdma_window *w)
{
	if (w->state == PVDMA_WIN_IDLE)
		pvdma_list_del(&w->lru);
	pvdma_gpa_remove(p, w);
	pvdma_bus_remove(p, w);
	pvdma_batch_queue_unmap(p, w->bus, w->len);
	pvdma_win_account_unmap(p, w);
	pvdma_win_free(p, w);
}

/* ---- failures -------------------------------------------------------- */

/*
 * The bytes of the call's new windows still counted as mapped: one the
 * host refused was taken out of the figures already (win_host_result()).
 */
static u64 call_new_counted(const struct pvdma_planner *p)
{
	const struct pvdma_list *pos;
	u64 bytes = 0;

	for (pos = p->call_new.next; pos != &p->call_new; pos = pos->next) {
		const struct pvdma_window *w =
			pvdma_list_entry(pos, struct pvdma_window, lru);

		if (w->state != PVDMA_WIN_FAILED)
			bytes += w->len;
	}
	return bytes;
}

void pvdma_plan_fail(struct pvdma_planner *p, u32 reason, u64 len,
		     u32 host_status)
{
	struct pvdma_fail_info *f = &p->last_failure;
	u64 call_new = call_new_counted(p);

	f->reason = reason;
	f->host_status = host_status;
	f->len = len;
	/* The call's planned windows (pending, pinned) are not the host's:
	 * they are what it needed. A policy that keeps nothing idle (no
	 * reclaim) maps only what live mappings use.
	 */
	f->aperture_live = p->stats.live_aperture - call_new;
	f->aperture_pinned = p->policy->reclaim ?
			     p->stats.pinned_aperture - call_new :
			     f->aperture_live;
	f->aperture_need = p->call_need + len;
	f->aperture_peak = PVDMA_MAX(p->stats.peak_aperture, f->aperture_live);
	f->aperture_max = p->cfg.aperture_bytes;
	f->mappings_live = p->stats.live_windows;
	f->mappings_max = p->cfg.max_mappings;
}

u32 pvdma_fail_reason_from_status(u32 status)
{
	switch (status) {
	case PVDMA_ST_NO_APERTURE:	return PVDMA_FAIL_APERTURE;
	case PVDMA_ST_NO_MAPPINGS:	return PVDMA_FAIL_MAPPINGS;
	case PVDMA_ST_NO_BUS_SPACE:	return PVDMA_FAIL_BUS_SPACE;
	case PVDMA_ST_IO:		return PVDMA_FAIL_TRANSPORT;
	default:			return PVDMA_FAIL_HOST;
	}
}

/* The policies that check as they plan need not; the others ask here. */
static bool segs_valid(struct pvdma_planner *p, const struct pvdma_seg *segs,
		       u32 n)
{
	u32 i;

	for (i = 0; i < n; i++) {
		if (!pvdma_seg_valid(p, &segs[i])) {
			pvdma_plan_fail(p, PVDMA_FAIL_INVALID, segs[i].len, 0);
			return false;
		}
	}
	return true;
}

/* ---- set-up ---------------------------------------------------------- */

void pvdma_planner_default_config(struct pvdma_planner_config *cfg,
				  enum pvdma_policy policy, u64 page_size,
				  u64 aperture_bytes, u32 max_mappings)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->policy = policy;
	cfg->page_size = page_size;
	cfg->aperture_bytes = aperture_bytes;
	cfg->max_mappings = max_mappings;
	cfg->max_window = PVDMA_DEFAULT_MAX_WINDOW;
	cfg->headroom_shift = PVDMA_DEFAULT_HEADROOM_SHIFT;
	cfg->spec_shift = PVDMA_DEFAULT_SPEC_SHIFT;
	cfg->window_small_max = PVDMA_DEFAULT_WINDOW_SMALL_MAX;
	cfg->rfc_window_shift = PVDMA_DEFAULT_RFC_WINDOW_SHIFT;
	cfg->bounce_small_max = PVDMA_DEFAULT_BOUNCE_SMALL_MAX;
	cfg->block_bytes = PVDMA_DEFAULT_BLOCK_BYTES;
}

static int planner_check_config(const struct pvdma_planner_config *cfg,
				const struct pvdma_planner_mem *mem)
{
	const struct pvdma_policy_ops *pol;
	u64 ps = cfg->page_size;

	if (cfg->policy >= PVDMA_POLICY_COUNT || !PVDMA_IS_POW2(ps) ||
	    !cfg->aperture_bytes || !cfg->max_mappings ||
	    !mem->windows || !mem->nwindows || !mem->ops || mem->nops < 2 ||
	    !mem->batch_win || cfg->headroom_shift > 32 || cfg->spec_shift > 32 ||
	    cfg->max_window < ps || cfg->rfc_window_shift > 40)
		return -EINVAL;
	if (cfg->bounce != PVDMA_BOUNCE_OFF &&
	    (!mem->slots || !mem->nslots || !cfg->bounce_bytes ||
	     (cfg->bounce_gpa | cfg->bounce_bytes) & (ps - 1) ||
	     cfg->bounce_bytes >= cfg->aperture_bytes || cfg->max_mappings < 2))
		return -EINVAL;
	pol = policies[cfg->policy];
	return pol->check_config ? pol->check_config(cfg, mem) : 0;
}

int pvdma_planner_init(struct pvdma_planner *p,
		       const struct pvdma_planner_config *cfg,
		       const struct pvdma_planner_ops *ops, void *ctx,
		       const struct pvdma_planner_mem *mem)
{
	u32 i;

	if (!ops || !ops->submit || !cfg || planner_check_config(cfg, mem))
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->cfg = *cfg;
	p->ops = ops;
	p->ctx = ctx;
	p->mem = *mem;
	p->policy = policies[cfg->policy];
	if (!cfg->bus_limit) {		/* not known: all of it */
		p->cfg.bus_base = 0;
		p->cfg.bus_limit = ~0ull;
	}
	pvdma_list_init(&p->idle);
	pvdma_list_init(&p->dead);
	pvdma_list_init(&p->free_windows);
	pvdma_list_init(&p->call_new);
	pvdma_list_init(&p->spec_live);
	pvdma_list_init(&p->need_live);
	for (i = 0; i < mem->nwindows; i++) {
		mem->windows[i].state = PVDMA_WIN_FREE;
		mem->windows[i].chunks = NULL;
		pvdma_list_add_tail(&mem->windows[i].lru, &p->free_windows);
	}
	chunks_init(p, true);
	pvdma_bounce_init(p);
	p->window_budget = cfg->aperture_bytes - pvdma_bounce_reserved(p);
	p->window_count_budget = cfg->max_mappings -
				 (pvdma_bounce_reserved(p) ? 1 : 0);
	if (p->policy->init)
		p->policy->init(p);
	return 0;
}

/* ---- entry points ---------------------------------------------------- */

int pvdma_map(struct pvdma_planner *p, struct pvdma_seg *segs, u32 n,
	      enum pvdma_dir dir, u32 attrs)
{
	int ret;

	p->stats.map_requests++;
	p->stats.map_segments += n;
	p->last_failure.reason = PVDMA_FAIL_NONE;
	if (!n) {
		pvdma_plan_fail(p, PVDMA_FAIL_INVALID, 0, 0);
		ret = -EINVAL;
	} else if (p->policy->grow) {
		/* the cache validates each entry as it plans it */
		ret = p->policy->map(p, segs, n, dir, attrs);
	} else {
		ret = segs_valid(p, segs, n) ?
		      p->policy->map(p, segs, n, dir, attrs) : -EINVAL;
	}
	if (ret) {
		p->stats.failed_maps++;
		p->stats.fail_by_reason[p->last_failure.reason]++;
	}
	return ret;
}

int pvdma_unmap(struct pvdma_planner *p, const struct pvdma_seg *segs, u32 n,
		enum pvdma_dir dir)
{
	p->stats.unmap_requests++;
	p->stats.unmap_segments += n;
	return p->policy->unmap(p, segs, n, dir);
}

int pvdma_sync(struct pvdma_planner *p, u64 bus, u64 len, enum pvdma_dir dir,
	       bool for_device)
{
	struct pvdma_window *w = pvdma_bus_find(p, bus);

	p->stats.sync_requests++;
	if (w && w == p->pool_window)
		return pvdma_bounce_sync(p, bus, len, dir, for_device);
	return w ? 0 : -ENOENT;
}

int pvdma_reclaim(struct pvdma_planner *p)
{
	return p->policy->reclaim ? p->policy->reclaim(p) : 0;
}

void pvdma_planner_forget(struct pvdma_planner *p)
{
	u32 i;

	p->by_gpa.node = NULL;
	p->gpa_cursor = NULL; /* no window is left in the index */
	pvdma_bus_forget(p);
	pvdma_list_init(&p->idle);
	pvdma_list_init(&p->dead);
	pvdma_list_init(&p->free_windows);
	pvdma_list_init(&p->call_new);
	pvdma_list_init(&p->spec_live);
	pvdma_list_init(&p->need_live);
	p->spec_pinned = 0;
	p->hole_pinned = 0;
	p->spec_windows = 0;
	p->spec_hits = 0;
	memset(p->excess_trimmed, 0, sizeof(p->excess_trimmed));
	p->excess_trims = 0;
	p->excess_regrets = 0;
	p->spec_starved = 0;
	p->idle_reuse = 0;
	for (i = 0; i < p->mem.nwindows; i++) {
		p->mem.windows[i].trimmable = 0;
		pvdma_win_free(p, &p->mem.windows[i]);	/* its map cleared */
	}
	chunks_init(p, false);
	p->nbatch = 0;
	p->bus_refused_len = 0;
	p->refused_len = 0;	/* the aperture is empty again */
	p->crowd_probe.at = 0;	/* and the map watched gone */
	p->stats.live_windows = 0;
	p->stats.live_aperture = 0;
	p->stats.spec_aperture = 0;
	p->stats.pinned_aperture = 0;
	p->stats.pinned_windows = 0;
	p->stats.live_bytes = 0;
	memset(p->hint, 0, sizeof(p->hint));
	memset(p->dead_hint, 0, sizeof(p->dead_hint));
	memset(p->gone, 0, sizeof(p->gone));
	memset(p->miss, 0, sizeof(p->miss));
	pvdma_bounce_init(p);
}

/* ---- names ----------------------------------------------------------- */

const char *pvdma_policy_name(enum pvdma_policy policy)
{
	return policy < PVDMA_POLICY_COUNT ? policies[policy]->name : "unknown";
}

int pvdma_policy_parse(const char *name, enum pvdma_policy *policy)
{
	int i;

	for (i = 0; i < PVDMA_POLICY_COUNT; i++) {
		if (!strcmp(name, policies[i]->name)) {
			*policy = i;
			return 0;
		}
	}
	return -EINVAL;
}

/*
 * The one table of failure reasons: a key for counters and file names
 * (debugfs fail_<key>) and a description for messages and pvdma-replay's
 * fail_reasons, in one place so the two never drift apart.
 */
static const struct {
	const char *key;
	const char *text;
} fail_reasons[PVDMA_FAIL_COUNT] = {
	[PVDMA_FAIL_NONE]	 = { "none",	    "none" },
	[PVDMA_FAIL_APERTURE]	 = { "aperture",    "aperture full" },
	[PVDMA_FAIL_MAPPINGS]	 = { "mappings",    "mapping count at limit" },
	[PVDMA_FAIL_BUS_SPACE]	 = { "bus_space",   "host bus space fragmented" },
	[PVDMA_FAIL_BOUNCE_FULL] = { "bounce_full", "bounce pool full" },
	[PVDMA_FAIL_HOST]	 = { "host",	    "host refused" },
	[PVDMA_FAIL_TRANSPORT]	 = { "transport",   "host unreachable" },
	[PVDMA_FAIL_INVALID]	 = { "invalid",	    "invalid request" },
	[PVDMA_FAIL_NO_RECORDS]	 = { "no_records",  "window records exhausted" },
	[PVDMA_FAIL_ROOM_KEPT]	 = { "room_kept",   "aperture kept for smaller maps" },
};

const char *pvdma_fail_reason_name(u32 reason)
{
	return reason < PVDMA_FAIL_COUNT && fail_reasons[reason].text ?
	       fail_reasons[reason].text : "unknown";
}

const char *pvdma_fail_reason_key(u32 reason)
{
	return reason < PVDMA_FAIL_COUNT && fail_reasons[reason].key ?
	       fail_reasons[reason].key : "unknown";
}

const char *pvdma_bounce_mode_name(enum pvdma_bounce_mode mode)
{
	switch (mode) {
	case PVDMA_BOUNCE_OFF:	 return "off";
	case PVDMA_BOUNCE_SMALL: return "small";
	case PVDMA_BOUNCE_ALL:	 return "all";
	}
	return "unknown";
}
