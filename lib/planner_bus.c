// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The bus index: the planner's mapped windows by bus address, and the
 * free ranges between them, which are the host's bus space as this guest
 * sees it (every range in it is one of its windows or a piece of one).
 * The host picks every bus address, first fit; it refuses a window with
 * most of the aperture free once trims and mixed lifetimes have cut the
 * space into runs shorter than the window (a grown window trimmed to a
 * few pages leaves them mid-range). A map it would refuse should cost no
 * host call, so the planner asks here first.
 *
 * The host fills its space from the bottom: what lies past the highest
 * window (the tail) holds nearly every window, in O(1). Only a window
 * longer than the tail needs the largest range between windows: found by
 * a walk, then kept as windows come and go (a removal can only widen a
 * range, an insert only narrows the one it lands in) until an insert
 * lands in it. An augmented tree would keep it always, at a cost on
 * every window made or dropped, which the common case never asks for.
 */
#include "planner_internal.h"

static inline struct pvdma_window *bus_entry(struct pvdma_avl_node *n)
{
	return n ? container_of(n, struct pvdma_window, bus_node) : NULL;
}

static inline u64 bus_end(const struct pvdma_window *w)
{
	return w->bus + w->len;
}

/* The free range [@from, @to) is known to be there: the widest yet? */
static void bus_gap_seen(struct pvdma_planner *p, u64 from, u64 to)
{
	if (to > from && to - from > p->bus_gap_len) {
		p->bus_gap_start = from;
		p->bus_gap_len = to - from;
	}
}

/* @w, now in the index, takes bus space: the tail's, or a range's. */
static __always_inline void bus_linked(struct pvdma_planner *p,
				       struct pvdma_window *w)
{
	if (!p->bus_last || w->bus > p->bus_last->bus) {
		/* the tail's part below it is a range between windows now */
		u64 tail = pvdma_bus_tail_start(p);

		if (p->bus_gap_known)
			bus_gap_seen(p, tail, w->bus);
		p->bus_last = w;
	} else if (p->bus_gap_known &&
		   w->bus < p->bus_gap_start + p->bus_gap_len &&
		   bus_end(w) > p->bus_gap_start) {
		p->bus_gap_known = false;	/* it landed in the widest */
	}
}

/* The free range that @prev (NULL: the space's start) and @next end. */
static void bus_gap_between(struct pvdma_planner *p,
			    const struct pvdma_window *prev,
			    const struct pvdma_window *next)
{
	if (next)
		bus_gap_seen(p, prev ? bus_end(prev) : p->cfg.bus_base,
			     next->bus);
}

static bool bus_link_between(struct pvdma_planner *p, struct pvdma_window *w,
			     struct pvdma_window *last,
			     struct pvdma_window *next)
{
	if (!pvdma_avl_insert_between(&p->by_bus, &w->bus_node,
				      &last->bus_node,
				      next ? &next->bus_node : NULL, NULL))
		return false;
	bus_linked(p, w);
	return true;
}

/*
 * Where a host call's last window went in the bus index: the host hands
 * out bus ranges lowest first, so a batch's windows often lie one after
 * the other, and the next one then goes between @last and @next (its
 * successor, known from @last's own insert) with no descent.
 */
void pvdma_bus_insert_hinted(struct pvdma_planner *p, struct pvdma_window *w,
			     struct pvdma_bus_hint *h)
{
	struct pvdma_avl_node **link = &p->by_bus.node, *parent = NULL;
	struct pvdma_window *after = NULL;

	if (h->last && h->last->bus < w->bus &&
	    (!h->next || w->bus < h->next->bus) &&
	    bus_link_between(p, w, h->last, h->next)) {
		h->last = w;
		return;
	}
	while (*link) {
		parent = *link;
		if (w->bus < bus_entry(parent)->bus) {
			after = bus_entry(parent);
			link = &parent->left;
		} else {
			link = &parent->right;
		}
	}
	pvdma_avl_link(&w->bus_node, parent, link);
	pvdma_avl_insert_fixup(&p->by_bus, &w->bus_node, NULL);
	bus_linked(p, w);
	h->last = w;
	h->next = after;
}

void pvdma_bus_insert(struct pvdma_planner *p, struct pvdma_window *w)
{
	struct pvdma_bus_hint none = { NULL, NULL };

	pvdma_bus_insert_hinted(p, w, &none);
}

/*
 * @w just after @last in the bus index, before @next (NULL: none), as
 * pvdma_gpa_insert_near(): a link and a fix-up, unless they are not
 * neighbours after all.
 */
void pvdma_bus_insert_after(struct pvdma_planner *p, struct pvdma_window *w,
			    struct pvdma_window *last, struct pvdma_window *next)
{
	if (!bus_link_between(p, w, last, next))
		pvdma_bus_insert(p, w);
}

void pvdma_bus_remove(struct pvdma_planner *p, struct pvdma_window *w)
{
	struct pvdma_window *prev = NULL;

	if (p->bus_gap_known || p->bus_last == w)
		prev = bus_entry(pvdma_avl_prev(&w->bus_node));
	if (p->bus_gap_known)
		bus_gap_between(p, prev, pvdma_bus_next(w));
	if (p->bus_last == w) {
		/* the range below it joins the tail: not between windows */
		if (p->bus_gap_start + p->bus_gap_len == w->bus)
			p->bus_gap_known = false;
		p->bus_last = prev;
	}
	pvdma_avl_erase(&p->by_bus, &w->bus_node, NULL);
}

/* @w keeps its place in the index with less of its range (a trim). */
void pvdma_bus_shrunk(struct pvdma_planner *p, struct pvdma_window *w)
{
	if (!p->bus_gap_known)
		return;
	bus_gap_between(p, bus_entry(pvdma_avl_prev(&w->bus_node)), w);
	bus_gap_between(p, w, pvdma_bus_next(w));
}

void pvdma_bus_forget(struct pvdma_planner *p)
{
	p->by_bus.node = NULL;
	p->bus_last = NULL;
	p->bus_gap_known = false;
}

/*
 * The widest free range before the highest window; with @skip_idle as
 * if every idle window were unmapped. A walk over the index.
 */
static u64 bus_widest_inner(const struct pvdma_planner *p, bool skip_idle,
			    u64 *at)
{
	struct pvdma_avl_node *n;
	u64 from = p->cfg.bus_base, best = 0;

	*at = from;
	for (n = pvdma_avl_first(&p->by_bus); n; n = pvdma_avl_next(n)) {
		const struct pvdma_window *w = bus_entry(n);

		if (skip_idle && w->state == PVDMA_WIN_IDLE)
			continue;
		if (w->bus > from && w->bus - from > best) {
			best = w->bus - from;
			*at = from;
		}
		from = PVDMA_MAX(from, bus_end(w));
	}
	if (skip_idle)		/* the tail may have grown */
		best = PVDMA_MAX(best, p->cfg.bus_limit - from);
	return best;
}

/* pvdma_bus_holds() for a window longer than the tail. */
bool pvdma_bus_holds_inner(struct pvdma_planner *p, u64 len)
{
	if (!p->bus_gap_known) {
		p->bus_gap_len = bus_widest_inner(p, false, &p->bus_gap_start);
		p->bus_gap_known = true;
	}
	return len <= p->bus_gap_len;
}

/* pvdma_bus_holds() were every idle window unmapped first. */
bool pvdma_bus_holds_unpinned(const struct pvdma_planner *p, u64 len)
{
	u64 at;

	return len <= bus_widest_inner(p, true, &at);
}

struct pvdma_window *pvdma_bus_next(struct pvdma_window *w)
{
	return bus_entry(pvdma_avl_next(&w->bus_node));
}

struct pvdma_window *pvdma_bus_find(const struct pvdma_planner *p, u64 bus)
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
	return pvdma_bus_find(p, bus);
}
