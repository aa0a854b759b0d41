// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The bounce pool, a service the policies call: guest memory the planner
 * maps once and carves into slots - for streaming maps that cannot get a
 * window (pvdma), or for every map (the pool policy). Like swiotlb since
 * Linux 5.19, the original buffer is copied into the slot at map and on
 * every sync_for_device whatever the direction, so bytes the device does
 * not write come back unchanged; the slot is copied back at unmap and
 * sync_for_cpu unless the device only read it.
 *
 * Slots keep the buffer's offset within a 4 KiB page (64 bytes for
 * smaller buffers), so drivers that expect page-aligned bus addresses for
 * page-aligned buffers still get them, while small buffers pack densely:
 * no 16 KiB rounding per buffer.
 */
#include "planner_internal.h"

#define BOUNCE_GRANULE		64ull
#define BOUNCE_PAGE_ALIGN	4096ull

void pvdma_bounce_init(struct pvdma_planner *p)
{
	u32 i;

	p->pool_window = NULL;
	p->free_slots = NULL;
	pvdma_iova_init(&p->pool, 0, p->cfg.bounce_bytes, BOUNCE_GRANULE);
	for (i = 0; i < p->mem.nslots && p->mem.slots; i++) {
		p->mem.slots[i].in_use = 0;
		p->mem.slots[i].next_free = p->free_slots;
		p->free_slots = &p->mem.slots[i];
	}
}

u64 pvdma_bounce_reserved(const struct pvdma_planner *p)
{
	return p->cfg.bounce == PVDMA_BOUNCE_OFF ? 0 : p->cfg.bounce_bytes;
}

bool pvdma_bounce_allowed_slow(const struct pvdma_planner *p, u64 len,
			       u32 attrs)
{
	if (attrs & (PVDMA_ATTR_COHERENT | PVDMA_ATTR_NO_BOUNCE) ||
	    len > p->cfg.bounce_bytes)
		return false;
	return p->cfg.bounce == PVDMA_BOUNCE_ALL || len <= p->cfg.bounce_small_max;
}

/* Queue the pool's one mapping the first time it is needed. */
static int pool_ensure(struct pvdma_planner *p)
{
	struct pvdma_window *w;

	if (p->pool_window)
		return 0;
	w = pvdma_win_alloc(p);
	if (!w)
		return -ENOSPC;
	w->gpa = p->cfg.bounce_gpa;
	w->len = p->cfg.bounce_bytes;
	w->perm = PVDMA_MAP_READ | PVDMA_MAP_WRITE;
	w->refs = 1;		/* never idle, never evicted */
	p->pool_window = w;
	pvdma_win_account_map(p, w);
	pvdma_batch_queue_map(p, w);
	return 0;
}

int pvdma_bounce_prepare(struct pvdma_planner *p)
{
	struct pvdma_window *w = p->pool_window;

	if (!w || w->state != PVDMA_WIN_FAILED)
		return 0;
	pvdma_plan_fail(p, pvdma_fail_reason_from_status(w->host_status),
			w->len, w->host_status);
	p->pool_window = NULL;
	pvdma_win_free(p, w);
	return -EIO;
}

static void bounce_copy(struct pvdma_planner *p, u64 dst, u64 src, u64 len)
{
	if (p->ops->copy)
		p->ops->copy(p->ctx, dst, src, len);
	p->stats.bounced_bytes += len;
}

static struct pvdma_bounce_slot *slot_at(struct pvdma_planner *p, u64 off)
{
	struct pvdma_iova_node *n = pvdma_iova_find(&p->pool, off);

	return n ? container_of(n, struct pvdma_bounce_slot, iova) : NULL;
}

static void slot_free(struct pvdma_planner *p, struct pvdma_bounce_slot *s)
{
	pvdma_iova_free(&p->pool, &s->iova);
	s->in_use = 0;
	s->next_free = p->free_slots;
	p->free_slots = s;
}

int pvdma_bounce_map(struct pvdma_planner *p, struct pvdma_seg *seg,
		     enum pvdma_dir dir)
{
	u64 align = seg->len >= BOUNCE_PAGE_ALIGN ? BOUNCE_PAGE_ALIGN : BOUNCE_GRANULE;
	u64 in_page = seg->gpa & (align - 1);
	u64 sub = in_page & (BOUNCE_GRANULE - 1);
	struct pvdma_bounce_slot *s = p->free_slots;

	if (!s || pool_ensure(p) ||
	    pvdma_iova_alloc(&p->pool, &s->iova, seg->len + sub, align,
			     in_page - sub)) {
		pvdma_plan_fail(p, PVDMA_FAIL_BOUNCE_FULL, seg->len, 0);
		return -ENOSPC;
	}
	p->free_slots = s->next_free;
	s->in_use = 1;
	s->orig_gpa = seg->gpa;
	s->len = seg->len;
	s->dev_off = s->iova.start + sub;
	s->dir = dir;
	seg->dev_gpa = p->cfg.bounce_gpa + s->dev_off;
	seg->bounced = 1;
	seg->cookie = 0;
	p->stats.bounced_maps++;
	bounce_copy(p, seg->dev_gpa, seg->gpa, seg->len);
	return 0;
}

void pvdma_bounce_cancel(struct pvdma_planner *p, struct pvdma_seg *seg)
{
	struct pvdma_bounce_slot *s = slot_at(p, seg->dev_gpa - p->cfg.bounce_gpa);

	if (!PVDMA_WARN_ON(!s))
		slot_free(p, s);
	seg->bounced = 0;
}

/* The slot @bus falls in, if [bus, bus + len) lies inside its data. */
static struct pvdma_bounce_slot *slot_for_bus(struct pvdma_planner *p, u64 bus,
					      u64 len)
{
	u64 off = bus - p->pool_window->bus;
	struct pvdma_bounce_slot *s = slot_at(p, off);

	if (!s || off < s->dev_off || !len || len > s->len - (off - s->dev_off))
		return NULL;
	return s;
}

int pvdma_bounce_unmap(struct pvdma_planner *p, const struct pvdma_seg *seg,
		       enum pvdma_dir dir)
{
	struct pvdma_bounce_slot *s = slot_for_bus(p, seg->bus, seg->len);

	if (!s || s->dev_off != seg->bus - p->pool_window->bus ||
	    s->len != seg->len) {
		p->stats.bad_unmaps++;
		return -ENOENT;
	}
	if (s->dir != PVDMA_DIR_TO_DEVICE)
		bounce_copy(p, s->orig_gpa, p->cfg.bounce_gpa + s->dev_off, s->len);
	p->stats.live_bytes -= PVDMA_MIN(p->stats.live_bytes, s->len);
	slot_free(p, s);
	return 0;
}

int pvdma_bounce_sync(struct pvdma_planner *p, u64 bus, u64 len,
		      enum pvdma_dir dir, bool for_device)
{
	struct pvdma_bounce_slot *s = slot_for_bus(p, bus, len);
	u64 off, pool_gpa, orig;

	if (!s)
		return -ENOENT;
	off = bus - p->pool_window->bus;
	pool_gpa = p->cfg.bounce_gpa + off;
	orig = s->orig_gpa + (off - s->dev_off);
	if (for_device)
		bounce_copy(p, pool_gpa, orig, len);
	else if (s->dir != PVDMA_DIR_TO_DEVICE)
		bounce_copy(p, orig, pool_gpa, len);
	return 0;
}

/* The bus address of a bounced segment, once the pool is mapped. */
void pvdma_bounce_finish(struct pvdma_planner *p, struct pvdma_seg *seg)
{
	seg->bus = p->pool_window->bus + (seg->dev_gpa - p->cfg.bounce_gpa);
}
