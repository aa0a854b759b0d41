// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The window planner: common machinery (records, indexes, batching,
 * accounting) and the pvdma policy. See planner.h and docs/planner.md.
 */
#include "planner_internal.h"

/* ---- window records -------------------------------------------------- */

struct pvdma_window *win_alloc(struct pvdma_planner *p)
{
	struct pvdma_window *w;

	if (pvdma_list_empty(&p->free_windows))
		return NULL;
	w = pvdma_list_entry(p->free_windows.next, struct pvdma_window, lru);
	pvdma_list_del(&w->lru);
	w->refs = 0;
	w->shared = 0;
	w->grown = 0;
	w->perm = 0;
	w->host_status = 0;
	w->bus = 0;
	w->state = PVDMA_WIN_PENDING;
	return w;
}

void win_free(struct pvdma_planner *p, struct pvdma_window *w)
{
	w->state = PVDMA_WIN_FREE;
	pvdma_list_add_tail(&w->lru, &p->free_windows);
}

/* ---- indexes: by guest-physical start, by bus address ---------------- */

static inline struct pvdma_window *gpa_entry(struct pvdma_avl_node *n)
{
	return n ? container_of(n, struct pvdma_window, gpa_node) : NULL;
}

static inline struct pvdma_window *bus_entry(struct pvdma_avl_node *n)
{
	return n ? container_of(n, struct pvdma_window, bus_node) : NULL;
}

/* Ordered by (gpa, len): unique for pvdma's disjoint windows and for
 * rfc's exact-key regions alike. */
static bool gpa_less(const struct pvdma_window *a, const struct pvdma_window *b)
{
	return a->gpa < b->gpa || (a->gpa == b->gpa && a->len < b->len);
}

void gpa_insert(struct pvdma_planner *p, struct pvdma_window *w)
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
}

void gpa_remove(struct pvdma_planner *p, struct pvdma_window *w)
{
	if (!w->shared)
		return;
	pvdma_avl_erase(&p->by_gpa, &w->gpa_node, NULL);
	w->shared = 0;
}

struct pvdma_window *gpa_floor(const struct pvdma_planner *p, u64 gpa)
{
	struct pvdma_avl_node *n = p->by_gpa.node;
	struct pvdma_window *best = NULL;

	while (n) {
		struct pvdma_window *w = gpa_entry(n);

		if (w->gpa <= gpa) {
			best = w;
			n = n->right;
		} else {
			n = n->left;
		}
	}
	return best;
}

struct pvdma_window *gpa_next(struct pvdma_window *w)
{
	return gpa_entry(pvdma_avl_next(&w->gpa_node));
}

struct pvdma_window *gpa_find_exact(const struct pvdma_planner *p, u64 gpa,
				    u64 len)
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

static void bus_insert(struct pvdma_planner *p, struct pvdma_window *w)
{
	struct pvdma_avl_node **link = &p->by_bus.node, *parent = NULL;

	while (*link) {
		parent = *link;
		link = w->bus < bus_entry(parent)->bus ? &parent->left :
							 &parent->right;
	}
	pvdma_avl_link(&w->bus_node, parent, link);
	pvdma_avl_insert_fixup(&p->by_bus, &w->bus_node, NULL);
}

struct pvdma_window *bus_find(const struct pvdma_planner *p, u64 bus)
{
	struct pvdma_avl_node *n = p->by_bus.node;

	while (n) {
		struct pvdma_window *w = bus_entry(n);

		if (bus < w->bus)
			n = n->left;
		else if (bus - w->bus >= w->len)
			n = n->right;
		else
			return w;
	}
	return NULL;
}

const struct pvdma_window *pvdma_window_by_bus(const struct pvdma_planner *p,
					       u64 bus)
{
	return bus_find(p, bus);
}

/* ---- accounting ------------------------------------------------------ */

void win_account_map(struct pvdma_planner *p, struct pvdma_window *w)
{
	struct pvdma_planner_stats *s = &p->stats;

	s->live_windows++;
	s->live_aperture += w->len;
	if (w->grown)
		s->spec_aperture += w->len;
}

/* Peaks count what the host accepted, not what was asked. */
static void win_account_peak(struct pvdma_planner *p)
{
	struct pvdma_planner_stats *s = &p->stats;

	s->peak_windows = PVDMA_MAX(s->peak_windows, s->live_windows);
	s->peak_aperture = PVDMA_MAX(s->peak_aperture, s->live_aperture);
}

void win_account_unmap(struct pvdma_planner *p, struct pvdma_window *w)
{
	p->stats.live_windows--;
	p->stats.live_aperture -= w->len;
	if (w->grown)
		p->stats.spec_aperture -= w->len;
}

/* ---- batching -------------------------------------------------------- */

bool batch_full(const struct pvdma_planner *p)
{
	return p->nbatch >= p->mem.nops;
}

static struct pvdma_host_op *batch_next(struct pvdma_planner *p,
					struct pvdma_window *w)
{
	struct pvdma_host_op *op;

	/* A full batch goes out now: one more host call, nothing lost. */
	if (batch_full(p))
		batch_submit(p);
	op = &p->mem.ops[p->nbatch];
	p->mem.batch_win[p->nbatch++] = w;
	memset(op, 0, sizeof(*op));
	return op;
}

void batch_queue_map(struct pvdma_planner *p, struct pvdma_window *w)
{
	struct pvdma_host_op *op = batch_next(p, w);

	op->op = PVDMA_OP_MAP;
	op->flags = w->perm;
	op->gpa = w->gpa;
	op->len = w->len;
	w->state = PVDMA_WIN_PENDING;
}

void batch_queue_unmap(struct pvdma_planner *p, u64 bus, u64 len)
{
	struct pvdma_host_op *op = batch_next(p, NULL);

	op->op = PVDMA_OP_UNMAP;
	op->bus = bus;
	op->len = len;
}

/* The host answered a MAP for @w. */
static void batch_resolve_map(struct pvdma_planner *p, struct pvdma_window *w,
			      const struct pvdma_host_op *op, int ret)
{
	if (!ret && op->status == PVDMA_ST_OK) {
		w->bus = op->bus;
		bus_insert(p, w);
		w->state = PVDMA_WIN_LIVE;
		win_account_peak(p);
		return;
	}
	w->host_status = ret ? PVDMA_ST_IO : op->status;
	w->state = PVDMA_WIN_FAILED;
	win_account_unmap(p, w);
}

static void release_dead(struct pvdma_planner *p)
{
	while (!pvdma_list_empty(&p->dead) && !batch_full(p))
		win_release(p, pvdma_list_entry(p->dead.next,
						struct pvdma_window, lru));
}

int batch_submit(struct pvdma_planner *p)
{
	u32 i, n;
	int ret;

	if (!p->nbatch)
		return 0;
	/* A host call is being made anyway: unmaps nobody waits for ride
	 * along for free. */
	release_dead(p);
	n = p->nbatch;
	p->nbatch = 0;
	ret = p->ops->submit(p->ctx, p->mem.ops, n);
	p->stats.host_calls++;
	for (i = 0; i < n; i++) {
		const struct pvdma_host_op *op = &p->mem.ops[i];

		if (op->op == PVDMA_OP_MAP) {
			p->stats.host_maps++;
			batch_resolve_map(p, p->mem.batch_win[i], op, ret);
		} else {
			p->stats.host_unmaps++;
		}
	}
	return ret;
}

void win_release(struct pvdma_planner *p, struct pvdma_window *w)
{
	if (w->state == PVDMA_WIN_IDLE)
		pvdma_list_del(&w->lru);
	gpa_remove(p, w);
	pvdma_avl_erase(&p->by_bus, &w->bus_node, NULL);
	batch_queue_unmap(p, w->bus, w->len);
	win_account_unmap(p, w);
	win_free(p, w);
}

/* ---- failures -------------------------------------------------------- */

void plan_fail(struct pvdma_planner *p, u32 reason, u64 len, u32 host_status)
{
	struct pvdma_fail_info *f = &p->last_failure;

	f->reason = reason;
	f->host_status = host_status;
	f->len = len;
	/* Live counts this call's planned windows, which the peak (what the
	 * host accepted) may not have seen yet. */
	f->aperture_live = p->stats.live_aperture;
	f->aperture_peak = PVDMA_MAX(p->stats.peak_aperture, f->aperture_live);
	f->aperture_max = p->cfg.aperture_bytes;
	f->mappings_live = p->stats.live_windows;
	f->mappings_max = p->cfg.max_mappings;
}

u32 fail_reason_from_status(u32 status)
{
	switch (status) {
	case PVDMA_ST_NO_APERTURE:	return PVDMA_FAIL_APERTURE;
	case PVDMA_ST_NO_MAPPINGS:	return PVDMA_FAIL_MAPPINGS;
	case PVDMA_ST_NO_BUS_SPACE:	return PVDMA_FAIL_BUS_SPACE;
	case PVDMA_ST_IO:		return PVDMA_FAIL_TRANSPORT;
	default:			return PVDMA_FAIL_HOST;
	}
}

bool segs_valid(struct pvdma_planner *p, const struct pvdma_seg *segs, u32 n)
{
	u64 end, ps = p->cfg.page_size;
	u32 i = 0;

	if (!n)
		goto bad;
	/* The page-rounded end must not wrap either. */
	for (i = 0; i < n; i++)
		if (!segs[i].len || !pvdma_add_ok(segs[i].gpa, segs[i].len, &end) ||
		    PVDMA_ALIGN_UP(end, ps) < end)
			goto bad;
	return true;
bad:
	plan_fail(p, PVDMA_FAIL_INVALID, n ? segs[i].len : 0, 0);
	return false;
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
}

static int planner_check_config(const struct pvdma_planner_config *cfg,
				const struct pvdma_planner_mem *mem)
{
	u64 ps = cfg->page_size;

	if (cfg->policy >= PVDMA_POLICY_COUNT || !PVDMA_IS_POW2(ps) ||
	    !cfg->aperture_bytes || !cfg->max_mappings ||
	    !mem->windows || !mem->nwindows || !mem->ops || mem->nops < 2 ||
	    !mem->batch_win || cfg->headroom_shift > 32 || cfg->spec_shift > 32 ||
	    cfg->max_window < ps || cfg->rfc_window_shift > 40)
		return -EINVAL;
	if (cfg->bounce != PVDMA_BOUNCE_OFF &&
	    (cfg->policy != PVDMA_POLICY_PVDMA || !mem->slots || !mem->nslots ||
	     !cfg->bounce_bytes || (cfg->bounce_gpa | cfg->bounce_bytes) & (ps - 1) ||
	     cfg->bounce_bytes >= cfg->aperture_bytes || cfg->max_mappings < 2))
		return -EINVAL;
	return 0;
}

int pvdma_planner_init(struct pvdma_planner *p,
		       const struct pvdma_planner_config *cfg,
		       const struct pvdma_planner_ops *ops, void *ctx,
		       const struct pvdma_planner_mem *mem)
{
	u32 i;

	if (!ops || !ops->submit || planner_check_config(cfg, mem))
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	p->cfg = *cfg;
	p->ops = ops;
	p->ctx = ctx;
	p->mem = *mem;
	pvdma_list_init(&p->idle);
	pvdma_list_init(&p->dead);
	pvdma_list_init(&p->free_windows);
	for (i = 0; i < mem->nwindows; i++) {
		mem->windows[i].state = PVDMA_WIN_FREE;
		pvdma_list_add_tail(&mem->windows[i].lru, &p->free_windows);
	}
	bounce_init(p);
	return 0;
}

/* ---- the pvdma policy: map ------------------------------------------- */

/* Bytes windows may use: the aperture less the bounce pool's share. */
static u64 window_budget(const struct pvdma_planner *p)
{
	return p->cfg.aperture_bytes - bounce_reserved(p);
}

/* Aperture bytes held by windows, the bounce pool aside. */
static u64 windows_bytes(const struct pvdma_planner *p)
{
	const struct pvdma_window *pool = p->pool_window;

	if (pool && pool->state != PVDMA_WIN_FAILED)
		return p->stats.live_aperture - pool->len;
	return p->stats.live_aperture;
}

static u64 windows_count(const struct pvdma_planner *p)
{
	const struct pvdma_window *pool = p->pool_window;

	return p->stats.live_windows -
	       (pool && pool->state != PVDMA_WIN_FAILED ? 1 : 0);
}

/* Would @extra more bytes take the window space past three quarters? */
static bool windows_pressed(const struct pvdma_planner *p, u64 extra)
{
	u64 budget = window_budget(p);

	return windows_bytes(p) + extra > budget - (budget >> 2);
}

/* Mappings windows may use: one stays free for the bounce pool. */
static u64 window_count_budget(const struct pvdma_planner *p)
{
	return p->cfg.max_mappings - (bounce_reserved(p) ? 1 : 0);
}

/*
 * The window granule for a small request. Small mappings come scattered
 * (a driver's pages, descriptors, rings) and come back: a window grown
 * around the first one makes the later ones hits. Growth is speculation,
 * held whether or not it is used, so it has its own budget (a quarter of
 * the aperture by default) and each window takes at most a quarter of
 * what is left of it: the first windows are large and few host calls map
 * a driver's whole scattered set; as the budget fills, windows shrink
 * towards the exact range, and the speculation a live page can pin stays
 * bounded however the traffic looks.
 */
static u64 window_granule(const struct pvdma_planner *p)
{
	u64 budget = window_budget(p), held = windows_bytes(p);
	u64 spec = budget >> p->cfg.spec_shift, used = p->stats.spec_aperture;
	u64 left = spec > used ? spec - used : 0;
	u64 free = budget > held ? budget - held : 0;
	u64 g;

	/* Nor more than a fraction of the free aperture: near full, maps
	 * are exact and speculation stops before it can crowd them out. */
	left = PVDMA_MIN(left, free >> p->cfg.spec_shift);
	g = pvdma_pow2_floor(left >> p->cfg.headroom_shift);
	if (g < p->cfg.page_size)
		g = p->cfg.page_size;
	return PVDMA_MIN(g, pvdma_pow2_floor(p->cfg.max_window));
}

/* A mapped shared window covering [gpa, gpa + len) with @perm, or NULL. */
static struct pvdma_window *pvdma_lookup(const struct pvdma_planner *p,
					 u64 gpa, u64 len, u16 perm)
{
	struct pvdma_window *w = gpa_floor(p, gpa);

	if (!w || gpa + len - w->gpa > w->len || (perm & ~w->perm))
		return NULL;
	return w;
}

static void win_hold(struct pvdma_planner *p, struct pvdma_window *w)
{
	if (w->state == PVDMA_WIN_IDLE) {
		pvdma_list_del(&w->lru);
		w->state = PVDMA_WIN_LIVE;
	}
	w->refs++;
}

/* Drop one reference; an unreferenced window idles or goes (strict). */
static void win_put(struct pvdma_planner *p, struct pvdma_window *w)
{
	if (PVDMA_WARN_ON(!w->refs))
		return;
	if (--w->refs)
		return;
	if (p->cfg.strict) {
		win_release(p, w);
		return;
	}
	/* An unshared window can never be hit again: it goes with the next
	 * host call instead of costing one of its own. */
	w->state = PVDMA_WIN_IDLE;
	pvdma_list_add_tail(&w->lru, w->shared ? &p->idle : &p->dead);
}

static bool evict_one(struct pvdma_planner *p)
{
	struct pvdma_list *list = pvdma_list_empty(&p->dead) ? &p->idle : &p->dead;
	struct pvdma_window *w;

	if (pvdma_list_empty(list))
		return false;
	w = pvdma_list_entry(list->next, struct pvdma_window, lru);
	win_release(p, w);
	p->stats.evictions++;
	return true;
}

/*
 * Sequential traffic (a driver filling a ring or a page pool one page at a
 * time) once the speculation budget is spent: a miss that starts within
 * one window-length after the window before it extends that run with a
 * window twice as long (up to window_small_max), as readahead does, while
 * the window space is under three quarters full. Returns the extent's
 * length, or 0 if the traffic does not look sequential.
 */
static u64 window_readahead(const struct pvdma_planner *p,
			    const struct pvdma_window *prev, u64 lo_req)
{
	u64 prev_end, len;

	if (!prev)
		return 0;
	prev_end = prev->gpa + prev->len;
	if (lo_req < prev_end || lo_req - prev_end > prev->len)
		return 0;
	len = PVDMA_MIN(2 * prev->len, pvdma_pow2_floor(p->cfg.window_small_max));
	if (windows_pressed(p, len))
		return 0;
	return len;
}

/* How a new window may grow past the request it is made for. */
enum grow_mode {
	GROW_NONE,		/* exact: page-rounded */
	GROW_SPECULATE,		/* a single map: granule, else readahead */
	GROW_BLOCK,		/* a list segment with company: its block */
};

/*
 * The range a new window for [lo_req, hi_req) should cover, grown as
 * @mode allows for a small request, then clipped so it neither overlaps a
 * shared window nor leaves guest RAM. Returns false if the request itself
 * straddles a shared window (it then gets a private exact window).
 */
static bool window_extent(struct pvdma_planner *p, u64 gpa, u64 lo_req,
			  u64 hi_req, enum grow_mode mode, u64 *lo, u64 *hi)
{
	struct pvdma_window *prev = gpa_floor(p, lo_req), *next;
	u64 ps = p->cfg.page_size, rs, re, g = ps, ra;
	bool small = hi_req - lo_req <= p->cfg.window_small_max;

	*lo = lo_req;
	*hi = hi_req;
	if (mode == GROW_SPECULATE)
		g = window_granule(p);
	else if (mode == GROW_BLOCK)
		g = pvdma_pow2_floor(p->cfg.window_small_max);
	if (small && hi_req - lo_req < g) {
		*lo = PVDMA_ALIGN_DOWN(lo_req, g);
		*hi = PVDMA_ALIGN_UP(hi_req, g);
		if (*hi < hi_req)	/* the top of the address space */
			*hi = hi_req;
	} else if (small && mode == GROW_SPECULATE &&
		   (ra = window_readahead(p, prev, lo_req))) {
		*lo = prev->gpa + prev->len;
		*hi = PVDMA_MAX(hi_req, *lo + ra);
	}
	next = prev ? gpa_next(prev) : gpa_entry(pvdma_avl_first(&p->by_gpa));
	if (prev && prev->gpa + prev->len > lo_req)
		return false;
	if (next && next->gpa < hi_req)
		return false;
	if (prev && prev->gpa + prev->len > *lo)
		*lo = prev->gpa + prev->len;
	if (next && next->gpa < *hi)
		*hi = next->gpa;
	if (p->ops->ram_range && p->ops->ram_range(p->ctx, gpa, &rs, &re)) {
		*lo = PVDMA_MAX(*lo, PVDMA_MIN(PVDMA_ALIGN_UP(rs, ps), lo_req));
		*hi = PVDMA_MIN(*hi, PVDMA_MAX(PVDMA_ALIGN_DOWN(re, ps), hi_req));
	}
	return true;
}

/* Make room for @len more bytes and one more mapping, evicting idle
 * windows oldest first. Returns 0 or the PVDMA_FAIL_* reason. */
static u32 make_room(struct pvdma_planner *p, u64 len)
{
	for (;;) {
		bool aperture = windows_bytes(p) + len > window_budget(p);
		bool count = windows_count(p) + 1 > window_count_budget(p);
		bool records = pvdma_list_empty(&p->free_windows);

		if (!aperture && !count && !records)
			return 0;
		if (!evict_one(p))
			return aperture ? PVDMA_FAIL_APERTURE :
			       count ? PVDMA_FAIL_MAPPINGS : PVDMA_FAIL_NO_RECORDS;
	}
}

/*
 * Plan a new window for @seg and queue its MAP. Speculative growth is
 * dropped before any idle window is evicted for it.
 */
static struct pvdma_window *pvdma_plan_window(struct pvdma_planner *p,
					      const struct pvdma_seg *seg,
					      u16 perm, enum grow_mode mode,
					      u32 *reason)
{
	u64 ps = p->cfg.page_size;
	u64 lo_req = PVDMA_ALIGN_DOWN(seg->gpa, ps);
	u64 hi_req = PVDMA_ALIGN_UP(seg->gpa + seg->len, ps);
	u64 lo, hi;
	bool shared = window_extent(p, seg->gpa, lo_req, hi_req, mode,
				    &lo, &hi);
	struct pvdma_window *w;

	if (!shared || windows_bytes(p) + (hi - lo) > window_budget(p) ||
	    windows_count(p) + 1 > window_count_budget(p)) {
		lo = lo_req;
		hi = hi_req;
	}
	*reason = make_room(p, hi - lo);
	if (*reason)
		return NULL;
	w = win_alloc(p);
	w->gpa = lo;
	w->len = hi - lo;
	w->grown = w->len > hi_req - lo_req;
	w->perm = p->cfg.strict ? perm : PVDMA_MAP_READ | PVDMA_MAP_WRITE;
	if (shared)
		gpa_insert(p, w);
	win_account_map(p, w);
	batch_queue_map(p, w);
	return w;
}

/*
 * With bounce allowed, a small map is better served by the pool than by a
 * window of its own once windows can no longer be grown around it (no
 * speculation left) or the window space is three quarters full: the pool
 * packs it without 16 KiB rounding and costs no host call.
 */
static bool bounce_preferred(struct pvdma_planner *p, u64 len, u32 attrs)
{
	if (!bounce_allowed(p, len, attrs) || len > p->cfg.page_size)
		return false;
	return window_granule(p) <= p->cfg.page_size || windows_pressed(p, 0);
}

/* seg->cookie during a call: window index + 1, or 0 if bounced. */
static struct pvdma_window *seg_window(struct pvdma_planner *p,
				       const struct pvdma_seg *seg)
{
	return seg->cookie ? &p->mem.windows[seg->cookie - 1] : NULL;
}

/* Route one segment to a window (hit or new) or, failing that, bounce. */
static int pvdma_plan_seg(struct pvdma_planner *p, struct pvdma_seg *seg,
			  enum pvdma_dir dir, u32 attrs, enum grow_mode mode)
{
	u16 perm = dir_perm(dir);
	struct pvdma_window *w;
	u32 reason;

	seg->bounced = 0;
	seg->cookie = 0;
	w = pvdma_lookup(p, seg->gpa, seg->len, perm);
	if (w) {
		p->stats.hits++;
	} else {
		p->stats.misses++;
		if (bounce_preferred(p, seg->len, attrs)) {
			if (!bounce_map(p, seg, dir))
				return 0;
			p->last_failure.reason = PVDMA_FAIL_NONE; /* pool full */
		}
		w = pvdma_plan_window(p, seg, perm, mode, &reason);
		if (!w) {
			if (!bounce_allowed(p, seg->len, attrs)) {
				plan_fail(p, reason, seg->len, 0);
				return -ENOSPC;
			}
			return bounce_map(p, seg, dir);
		}
	}
	win_hold(p, w);
	seg->cookie = win_index(p, w) + 1;
	return 0;
}

/*
 * Give back what segs[0..n) hold after a failed call. Maps still queued
 * go out first, so every window is in a settled state; the ones that
 * mapped stay cached (or go, in strict mode) like any other.
 */
static void pvdma_undo(struct pvdma_planner *p, struct pvdma_seg *segs, u32 n)
{
	u32 i;

	batch_submit(p);
	for (i = 0; i < n; i++) {
		struct pvdma_window *w = seg_window(p, &segs[i]);

		if (segs[i].bounced)
			bounce_cancel(p, &segs[i]);
		else if (w && w->state == PVDMA_WIN_FAILED)
			w->refs--;
		else if (w)
			win_put(p, w);
	}
	for (i = 0; i < n; i++) {
		struct pvdma_window *w = seg_window(p, &segs[i]);

		if (w && w->state == PVDMA_WIN_FAILED && !w->refs) {
			gpa_remove(p, w);
			win_free(p, w);
		}
	}
	batch_submit(p);
}

/*
 * After the host refused some maps (it may see less room than we do,
 * e.g. a fragmented bus space): drop every idle window and try those once
 * more; whatever still fails is bounced if allowed.
 */
static int pvdma_retry_failed(struct pvdma_planner *p, struct pvdma_seg *segs,
			      u32 n, enum pvdma_dir dir, u32 attrs)
{
	u32 i;

	if (!pvdma_list_empty(&p->idle) || !pvdma_list_empty(&p->dead)) {
		while (evict_one(p))
			;
		for (i = 0; i < n; i++) {
			struct pvdma_window *w = seg_window(p, &segs[i]);

			if (w && w->state == PVDMA_WIN_FAILED &&
			    w->host_status != PVDMA_ST_IO) {
				win_account_map(p, w);
				batch_queue_map(p, w);
			}
		}
		batch_submit(p);
	}

	for (i = 0; i < n; i++) {
		struct pvdma_window *w = seg_window(p, &segs[i]);
		u32 status;

		if (!w || w->state != PVDMA_WIN_FAILED)
			continue;
		status = w->host_status;
		if (!bounce_allowed(p, segs[i].len, attrs)) {
			plan_fail(p, fail_reason_from_status(status),
				  segs[i].len, status);
			return -EIO;
		}
		w->refs--;
		segs[i].cookie = 0;
		if (!w->refs) {
			gpa_remove(p, w);
			win_free(p, w);
		}
		if (bounce_map(p, &segs[i], dir))
			return -ENOSPC;
	}
	return batch_submit(p) ? -EIO : 0;
}

static bool any_failed(struct pvdma_planner *p, struct pvdma_seg *segs, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++) {
		struct pvdma_window *w = seg_window(p, &segs[i]);

		if (w && w->state == PVDMA_WIN_FAILED)
			return true;
	}
	return false;
}

/* Fill each segment's outputs from its window or bounce slot. */
static void pvdma_finish(struct pvdma_planner *p, struct pvdma_seg *segs, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++) {
		struct pvdma_window *w = seg_window(p, &segs[i]);

		live_bytes_add(p, segs[i].len);
		if (!w) {	/* bounced: dev_gpa set by bounce_map */
			segs[i].bus = p->pool_window->bus +
				      (segs[i].dev_gpa - p->cfg.bounce_gpa);
			continue;
		}
		segs[i].bus = w->bus + (segs[i].gpa - w->gpa);
		segs[i].dev_gpa = segs[i].gpa;
	}
}

/*
 * A single map may speculate. A list costs one host call however many of
 * its segments miss, so its segments are not grown on speculation (one
 * list of scattered pieces would spend the whole budget); but where a
 * neighbouring segment of the same list lies in the same block, as pages of
 * pageable memory do, one block-sized window serves them both and keeps
 * the mapping count down.
 */
static enum grow_mode grow_mode_of(const struct pvdma_planner *p,
				   const struct pvdma_seg *segs, u32 i, u32 n)
{
	u64 block = pvdma_pow2_floor(p->cfg.window_small_max);
	u64 mine = segs[i].gpa / block;

	if (p->cfg.strict)
		return GROW_NONE;
	if (n == 1)
		return GROW_SPECULATE;
	if ((i > 0 && segs[i - 1].gpa / block == mine) ||
	    (i + 1 < n && segs[i + 1].gpa / block == mine))
		return GROW_BLOCK;
	return GROW_NONE;
}

static int pvdma_map_segs(struct pvdma_planner *p, struct pvdma_seg *segs,
			  u32 n, enum pvdma_dir dir, u32 attrs)
{
	u32 i;
	int ret;

	for (i = 0; i < n; i++) {
		ret = pvdma_plan_seg(p, &segs[i], dir, attrs,
				     grow_mode_of(p, segs, i, n));
		if (ret) {
			pvdma_undo(p, segs, i);
			return ret;
		}
	}
	ret = batch_submit(p);
	if (!ret && any_failed(p, segs, n))
		ret = pvdma_retry_failed(p, segs, n, dir, attrs);
	if (ret || any_failed(p, segs, n) || bounce_prepare(p)) {
		if (!p->last_failure.reason)
			plan_fail(p, PVDMA_FAIL_TRANSPORT, 0, PVDMA_ST_IO);
		pvdma_undo(p, segs, n);
		return ret ? ret : -EIO;
	}
	pvdma_finish(p, segs, n);
	return 0;
}

int pvdma_map(struct pvdma_planner *p, struct pvdma_seg *segs, u32 n,
	      enum pvdma_dir dir, u32 attrs)
{
	int ret;

	p->stats.map_requests++;
	p->stats.map_segments += n;
	p->last_failure.reason = PVDMA_FAIL_NONE;
	if (!segs_valid(p, segs, n)) {
		ret = -EINVAL;
	} else if (p->cfg.policy == PVDMA_POLICY_PVDMA) {
		ret = pvdma_map_segs(p, segs, n, dir, attrs);
	} else {
		ret = rfc_map(p, segs, n, dir);
	}
	if (ret) {
		p->stats.failed_maps++;
		p->stats.fail_by_reason[p->last_failure.reason]++;
	}
	return ret;
}

/* ---- unmap, sync, reclaim -------------------------------------------- */

static int pvdma_unmap_seg(struct pvdma_planner *p, const struct pvdma_seg *seg,
			   enum pvdma_dir dir)
{
	struct pvdma_window *w = bus_find(p, seg->bus);

	if (w && w == p->pool_window)
		return bounce_unmap(p, seg, dir);
	if (!w || w->state != PVDMA_WIN_LIVE || !seg->len ||
	    seg->len > w->len - (seg->bus - w->bus)) {
		p->stats.bad_unmaps++;
		return -ENOENT;
	}
	p->stats.live_bytes -= PVDMA_MIN(p->stats.live_bytes, seg->len);
	win_put(p, w);
	return 0;
}

int pvdma_unmap(struct pvdma_planner *p, const struct pvdma_seg *segs, u32 n,
		enum pvdma_dir dir)
{
	int ret = 0;
	u32 i;

	p->stats.unmap_requests++;
	p->stats.unmap_segments += n;
	if (p->cfg.policy != PVDMA_POLICY_PVDMA)
		return rfc_unmap(p, segs, n);
	for (i = 0; i < n; i++)
		if (pvdma_unmap_seg(p, &segs[i], dir))
			ret = -ENOENT;
	if (batch_submit(p))
		ret = ret ? ret : -EIO;
	return ret;
}

int pvdma_sync(struct pvdma_planner *p, u64 bus, u64 len, enum pvdma_dir dir,
	       bool for_device)
{
	struct pvdma_window *w = bus_find(p, bus);

	p->stats.sync_requests++;
	if (w && w == p->pool_window)
		return bounce_sync(p, bus, len, dir, for_device);
	return w ? 0 : -ENOENT;
}

int pvdma_reclaim(struct pvdma_planner *p)
{
	int n = 0;

	while (evict_one(p))
		n++;
	batch_submit(p);
	return n;
}

void pvdma_planner_forget(struct pvdma_planner *p)
{
	u32 i;

	p->by_gpa.node = NULL;
	p->by_bus.node = NULL;
	pvdma_list_init(&p->idle);
	pvdma_list_init(&p->dead);
	pvdma_list_init(&p->free_windows);
	for (i = 0; i < p->mem.nwindows; i++)
		win_free(p, &p->mem.windows[i]);
	p->nbatch = 0;
	p->stats.live_windows = 0;
	p->stats.live_aperture = 0;
	p->stats.spec_aperture = 0;
	p->stats.live_bytes = 0;
	bounce_init(p);
}

/* ---- names ----------------------------------------------------------- */

static const char *const policy_names[PVDMA_POLICY_COUNT] = {
	[PVDMA_POLICY_PVDMA] = "pvdma",
	[PVDMA_POLICY_RFC] = "rfc",
	[PVDMA_POLICY_PERPAGE] = "perpage",
};

const char *pvdma_policy_name(enum pvdma_policy policy)
{
	return policy < PVDMA_POLICY_COUNT ? policy_names[policy] : "unknown";
}

int pvdma_policy_parse(const char *name, enum pvdma_policy *policy)
{
	int i;

	for (i = 0; i < PVDMA_POLICY_COUNT; i++) {
		if (!strcmp(name, policy_names[i])) {
			*policy = i;
			return 0;
		}
	}
	return -EINVAL;
}

static const char *const fail_names[PVDMA_FAIL_COUNT] = {
	[PVDMA_FAIL_NONE]	 = "none",
	[PVDMA_FAIL_APERTURE]	 = "aperture full",
	[PVDMA_FAIL_MAPPINGS]	 = "mapping count at limit",
	[PVDMA_FAIL_BUS_SPACE]	 = "host bus space fragmented",
	[PVDMA_FAIL_BOUNCE_FULL] = "bounce pool full",
	[PVDMA_FAIL_HOST]	 = "host refused",
	[PVDMA_FAIL_TRANSPORT]	 = "host unreachable",
	[PVDMA_FAIL_INVALID]	 = "invalid request",
	[PVDMA_FAIL_NO_RECORDS]	 = "window records exhausted",
};

const char *pvdma_fail_reason_name(u32 reason)
{
	return reason < PVDMA_FAIL_COUNT ? fail_names[reason] : "unknown";
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
