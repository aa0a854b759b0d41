/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Planner internals: the core (planner.c: window records, indexes,
 * batching, accounting, failures), the window cache shared by the caching
 * policies (planner_cache.c and the files planner_cache.h names), the
 * bounce service (bounce.c) and the ops table each policy fills
 * (planner_pvdma.c, planner_block.c, planner_rfc.c, planner_pool.c). The
 * core never asks which policy runs.
 */
#ifndef PVDMA_PLANNER_INTERNAL_H
#define PVDMA_PLANNER_INTERNAL_H

#include <pvdma/planner.h>

/*
 * struct pvdma_policy_ops - what one policy does
 * @name:	as pvdma_policy_name() prints it
 * @check_config: refuse a configuration the policy cannot run (optional)
 * @init:	after the core's set-up (optional)
 * @map:	segs already validated; all or nothing; set last_failure
 * @unmap:	0 or -ENOENT if a segment names nothing mapped
 * @reclaim:	unmap what is idle now; how many (optional)
 * @grow:	cache policies: widen [*lo, *hi), the page-rounded request of
 *		a miss, to the range its new window should cover (the cache
 *		clips it to the neighbours and guest RAM)
 * @retry_exact: cache policies: a call refused for want of aperture
 *		while some of its windows were grown is planned once more
 *		with exact ones (block, a reference of fixed windows, not)
 */
/* What a cache policy knows about a miss when it sizes its window. */
struct pvdma_miss {
	const struct pvdma_seg *segs;	/* the call's segments */
	u32 i, n;			/* this one, of how many */
	u64 lo, hi;			/* its page-rounded range */
	u64 room;			/* bytes free without evicting */
	u64 idle_room;			/* and with every idle window evicted */
	const struct pvdma_window *prev; /* shared windows either side */
	const struct pvdma_window *next;
};

struct pvdma_policy_ops {
	const char *name;
	int (*check_config)(const struct pvdma_planner_config *cfg,
			    const struct pvdma_planner_mem *mem);
	void (*init)(struct pvdma_planner *p);
	int (*map)(struct pvdma_planner *p, struct pvdma_seg *segs, u32 n,
		   enum pvdma_dir dir, u32 attrs);
	int (*unmap)(struct pvdma_planner *p, const struct pvdma_seg *segs,
		     u32 n, enum pvdma_dir dir);
	int (*reclaim)(struct pvdma_planner *p);
	void (*grow)(struct pvdma_planner *p, const struct pvdma_miss *m,
		     u64 *lo, u64 *hi);
	bool retry_exact;
	/* the speculation hit least recently gives way to a call's growth
	 * at the commit (pvdma_trim_spec()), not the growth to it
	 */
	bool spec_gives_way;
	/* while live mappings pin little of the aperture, a miss's growth
	 * counts idle windows as room and evicts them (growth_evicts())
	 */
	bool growth_evicts;
	/* a request mapped again after its private window went keeps its
	 * next one past host calls (pvdma_cache_dead_goes())
	 */
	bool keeps_returned;
	/* near a full aperture, a map that would take the room of two or
	 * more of the maps being refused is refused (keeps_room())
	 */
	bool keeps_room;
	/* excess trims that later misses keep needing again widen
	 * speculation's share to the whole window space
	 * (pvdma_trim_regretted()); not for the fixed block, a reference
	 * that must not adapt
	 */
	bool excess_regrets;
	/* idle windows inside a miss's grown range give way to it
	 * (swallow_idle()); not for the fixed block, whose blocks are the
	 * reference as they fall
	 */
	bool swallows_idle;
	/* a single map that straddles the top of a stream's last window:
	 * the stream's next window, [*lo, *hi) from m->lo (that window's
	 * end), mapped with it in one host call (optional; empty: none)
	 */
	void (*read_ahead)(struct pvdma_planner *p, const struct pvdma_miss *m,
			   u64 *lo, u64 *hi);
};

extern const struct pvdma_policy_ops pvdma_policy_pvdma;
extern const struct pvdma_policy_ops pvdma_policy_rfc;
extern const struct pvdma_policy_ops pvdma_policy_perpage;
extern const struct pvdma_policy_ops pvdma_policy_block;
extern const struct pvdma_policy_ops pvdma_policy_pool;

/* Window records */
struct pvdma_window *pvdma_win_alloc(struct pvdma_planner *p);
void pvdma_win_free(struct pvdma_planner *p, struct pvdma_window *w);
void pvdma_chunks_attach(struct pvdma_planner *p, struct pvdma_window *w,
			 bool reclaim);
struct pvdma_chunk_map *pvdma_chunks_take(struct pvdma_planner *p,
					  struct pvdma_window *w);
void pvdma_chunks_detach(struct pvdma_planner *p, struct pvdma_window *w);
static inline u32 pvdma_win_index(const struct pvdma_planner *p,
				  const struct pvdma_window *w)
{
	return (u32)(w - p->mem.windows);
}

/* Indexes */
void pvdma_gpa_insert(struct pvdma_planner *p, struct pvdma_window *w);
bool pvdma_gpa_insert_near(struct pvdma_planner *p, struct pvdma_window *w,
			   struct pvdma_window *prev, struct pvdma_window *next);
void pvdma_gpa_remove(struct pvdma_planner *p, struct pvdma_window *w);
void pvdma_gpa_shrink(struct pvdma_planner *p, struct pvdma_window *w,
		      u64 gpa, u64 len);
struct pvdma_window *pvdma_gpa_floor(const struct pvdma_planner *p, u64 gpa);
struct pvdma_window *pvdma_gpa_floor_next(struct pvdma_planner *p, u64 gpa,
					  struct pvdma_window **next);

/*
 * @w, in the index, is followed there by @next (NULL: nothing): until the
 * index changes (every insert, removal or shrink clears it), a floor
 * between them needs no descent, and @w's next no walk. A key changed in
 * place (a trim's pieces keep the index's order) leaves it true: the
 * test below reads the keys as they are now.
 */
static inline void pvdma_gpa_cursor_set(struct pvdma_planner *p,
					struct pvdma_window *w,
					struct pvdma_window *next)
{
	p->gpa_cursor = w;
	p->gpa_cursor_next = next;
}

/*
 * pvdma_gpa_floor(), with no descent where @gpa lies between the cursor
 * and the window after it: in a list of misses the next mostly lies just
 * past the window the last one got, or in the gap the last descent found
 * (planner_cache.c). Keys are ordered by (gpa, len), so nothing between
 * two neighbours starts at or below @gpa but the first. Else a descent,
 * which leaves its floor and next as the cursor.
 */
static inline struct pvdma_window *
pvdma_gpa_floor_cursor(struct pvdma_planner *p, u64 gpa)
{
	const struct pvdma_window *c = p->gpa_cursor, *next = p->gpa_cursor_next;
	struct pvdma_window *after;

	if (c && c->gpa <= gpa && (!next || gpa < next->gpa))
		return p->gpa_cursor;
	return pvdma_gpa_floor_next(p, gpa, &after);
}

struct pvdma_window *pvdma_gpa_next(struct pvdma_window *w);
struct pvdma_window *pvdma_gpa_prev(struct pvdma_window *w);
struct pvdma_window *pvdma_gpa_first(const struct pvdma_planner *p);
struct pvdma_window *pvdma_gpa_find_exact(const struct pvdma_planner *p,
					  u64 gpa, u64 len);

/* The bus index and its free ranges (planner_bus.c) */
struct pvdma_bus_hint {
	struct pvdma_window *last, *next;
};

struct pvdma_window *pvdma_bus_find(const struct pvdma_planner *p, u64 bus);
void pvdma_bus_insert_hinted(struct pvdma_planner *p, struct pvdma_window *w,
			     struct pvdma_bus_hint *h);
void pvdma_bus_insert(struct pvdma_planner *p, struct pvdma_window *w);
void pvdma_bus_insert_after(struct pvdma_planner *p, struct pvdma_window *w,
			    struct pvdma_window *last, struct pvdma_window *next);
void pvdma_bus_remove(struct pvdma_planner *p, struct pvdma_window *w);
void pvdma_bus_shrunk(struct pvdma_planner *p, struct pvdma_window *w);
void pvdma_bus_forget(struct pvdma_planner *p);
struct pvdma_window *pvdma_bus_next(struct pvdma_window *w);
bool pvdma_bus_holds_inner(struct pvdma_planner *p, u64 len);
bool pvdma_bus_holds_unpinned(const struct pvdma_planner *p, u64 len);

/* Where the free bus space past the highest window (the tail) begins. */
static inline u64 pvdma_bus_tail_start(const struct pvdma_planner *p)
{
	const struct pvdma_window *last = p->bus_last;

	return last ? last->bus + last->len : p->cfg.bus_base;
}

/*
 * Could the host place a window of @len now? Past the highest window
 * nearly always (planner_bus.c); else a free range between windows must.
 */
static inline bool pvdma_bus_holds(struct pvdma_planner *p, u64 len)
{
	return len <= p->cfg.bus_limit - pvdma_bus_tail_start(p) ||
	       pvdma_bus_holds_inner(p, len);
}

/* Accounting of mapped (or pending) windows */
void pvdma_win_account_map(struct pvdma_planner *p, struct pvdma_window *w);
void pvdma_win_account_unmap(struct pvdma_planner *p, struct pvdma_window *w);

/* Bytes of a grown window beyond the most its mappings have used. */
static inline u64 pvdma_win_unused(const struct pvdma_window *w)
{
	return w->grown ? w->len - PVDMA_MIN(w->len, w->peak) : 0;
}

/* Batching: queue host requests, send them in one host call. */
bool pvdma_batch_full(const struct pvdma_planner *p);
void pvdma_batch_queue_map(struct pvdma_planner *p, struct pvdma_window *w);
void pvdma_batch_queue_unmap(struct pvdma_planner *p, u64 bus, u64 len);
void pvdma_batch_queue_trim(struct pvdma_planner *p, u64 bus, u64 len);
int pvdma_batch_send(struct pvdma_planner *p);

/* An empty batch makes no host call: no call into the core for it. */
static inline int pvdma_batch_submit(struct pvdma_planner *p)
{
	return p->nbatch ? pvdma_batch_send(p) : 0;
}

/* Release a mapped window: queue its UNMAP and free the record. */
void pvdma_win_release(struct pvdma_planner *p, struct pvdma_window *w);

/* Failure reporting */
void pvdma_plan_fail(struct pvdma_planner *p, u32 reason, u64 len,
		     u32 host_status);
u32 pvdma_fail_reason_from_status(u32 status);

/* Non-empty, and neither the end nor the page-rounded end wraps. */
static inline bool pvdma_seg_valid(const struct pvdma_planner *p,
				   const struct pvdma_seg *s)
{
	u64 end;

	return s->len && pvdma_add_ok(s->gpa, s->len, &end) &&
	       PVDMA_ALIGN_UP(end, p->cfg.page_size) >= end;
}

static inline u16 pvdma_dir_perm(enum pvdma_dir dir)
{
	switch (dir) {
	case PVDMA_DIR_TO_DEVICE:	return PVDMA_MAP_READ;
	case PVDMA_DIR_FROM_DEVICE:	return PVDMA_MAP_WRITE;
	default:			return PVDMA_MAP_READ | PVDMA_MAP_WRITE;
	}
}

static inline void pvdma_live_bytes_add(struct pvdma_planner *p, u64 len)
{
	p->stats.live_bytes += len;
	p->stats.peak_live_bytes = PVDMA_MAX(p->stats.peak_live_bytes,
					     p->stats.live_bytes);
}

/* The window cache (planner_cache.c): pvdma and block. */
int pvdma_cache_map(struct pvdma_planner *p, struct pvdma_seg *segs, u32 n,
		    enum pvdma_dir dir, u32 attrs);
int pvdma_cache_unmap(struct pvdma_planner *p, const struct pvdma_seg *segs,
		      u32 n, enum pvdma_dir dir);
int pvdma_cache_reclaim(struct pvdma_planner *p);
bool pvdma_cache_dead_goes(struct pvdma_planner *p, struct pvdma_window *w);

/*
 * Its budgets, inline: every miss reads them, and a call into another
 * file for a field would cost the miss path more than the field.
 */
/* Bytes windows may use: the aperture less the bounce pool's share. */
static inline u64 pvdma_cache_budget(const struct pvdma_planner *p)
{
	return p->window_budget;
}

static inline bool pvdma_pool_mapped(const struct pvdma_planner *p)
{
	return p->pool_window && p->pool_window->state != PVDMA_WIN_FAILED;
}

/* Aperture bytes held by windows, the bounce pool aside. */
static inline u64 pvdma_cache_bytes(const struct pvdma_planner *p)
{
	return p->stats.live_aperture -
	       (pvdma_pool_mapped(p) ? p->pool_window->len : 0);
}

/* Speculation and the miss history (planner_spec.c) */
u64 pvdma_cache_spec_cap(const struct pvdma_planner *p);
u64 pvdma_cache_spec_left(const struct pvdma_planner *p);
void pvdma_cache_over_idle(struct pvdma_planner *p);
void pvdma_cache_spec_starved(struct pvdma_planner *p, u64 want);
u64 pvdma_cache_spec_fresh(const struct pvdma_planner *p);
bool pvdma_cache_mostly_free(const struct pvdma_planner *p);
bool pvdma_cache_spec_recycled(const struct pvdma_planner *p);
u64 pvdma_cache_miss_bytes(const struct pvdma_planner *p, u32 level, u64 gpa);

/*
 * Dead idle speculation gives way to a new area (spec_dead_evict())
 * only until a map is refused for want of aperture (refused_len, cleared
 * by a forget alone): the room idle windows hold may then be what a
 * later map lacks.
 */
static inline bool pvdma_cache_spec_dead_off(const struct pvdma_planner *p)
{
	return p->refused_len != 0;
}

/* Bounce pool service (bounce.c) */
void pvdma_bounce_init(struct pvdma_planner *p);
bool pvdma_bounce_allowed_slow(const struct pvdma_planner *p, u64 len,
			       u32 attrs);

/*
 * May a map of @len bytes with @attrs bounce? Every miss asks: with the
 * pool off (the default) the answer needs no call into bounce.c.
 */
static inline bool pvdma_bounce_allowed(const struct pvdma_planner *p,
					u64 len, u32 attrs)
{
	return p->cfg.bounce != PVDMA_BOUNCE_OFF &&
	       pvdma_bounce_allowed_slow(p, len, attrs);
}

u64 pvdma_bounce_reserved(const struct pvdma_planner *p);
int pvdma_bounce_prepare(struct pvdma_planner *p);
int pvdma_bounce_map(struct pvdma_planner *p, struct pvdma_seg *seg,
		     enum pvdma_dir dir);
void pvdma_bounce_cancel(struct pvdma_planner *p, struct pvdma_seg *seg);
int pvdma_bounce_unmap(struct pvdma_planner *p, const struct pvdma_seg *seg,
		       enum pvdma_dir dir);
int pvdma_bounce_sync(struct pvdma_planner *p, u64 bus, u64 len,
		      enum pvdma_dir dir, bool for_device);
void pvdma_bounce_finish(struct pvdma_planner *p, struct pvdma_seg *seg);

#endif /* PVDMA_PLANNER_INTERNAL_H */
