/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * Planner internals shared by planner.c (common parts and the pvdma
 * policy), planner_rfc.c (rfc, perpage) and bounce.c.
 */
#ifndef PVDMA_PLANNER_INTERNAL_H
#define PVDMA_PLANNER_INTERNAL_H

#include <pvdma/planner.h>

/* Window records */
struct pvdma_window *win_alloc(struct pvdma_planner *p);
void win_free(struct pvdma_planner *p, struct pvdma_window *w);
static inline u32 win_index(const struct pvdma_planner *p,
			    const struct pvdma_window *w)
{
	return (u32)(w - p->mem.windows);
}

/* Indexes */
void gpa_insert(struct pvdma_planner *p, struct pvdma_window *w);
void gpa_remove(struct pvdma_planner *p, struct pvdma_window *w);
struct pvdma_window *gpa_floor(const struct pvdma_planner *p, u64 gpa);
struct pvdma_window *gpa_next(struct pvdma_window *w);
struct pvdma_window *gpa_find_exact(const struct pvdma_planner *p, u64 gpa,
				    u64 len);
struct pvdma_window *bus_find(const struct pvdma_planner *p, u64 bus);

/* Accounting of mapped (or pending) windows */
void win_account_map(struct pvdma_planner *p, struct pvdma_window *w);
void win_account_unmap(struct pvdma_planner *p, struct pvdma_window *w);

/* Batching: queue host requests, send them in one host call. */
bool batch_full(const struct pvdma_planner *p);
void batch_queue_map(struct pvdma_planner *p, struct pvdma_window *w);
void batch_queue_unmap(struct pvdma_planner *p, u64 bus, u64 len);
int batch_submit(struct pvdma_planner *p);

/* Release a mapped window: queue its UNMAP and free the record. */
void win_release(struct pvdma_planner *p, struct pvdma_window *w);

/* Failure reporting */
void plan_fail(struct pvdma_planner *p, u32 reason, u64 len, u32 host_status);
u32 fail_reason_from_status(u32 status);
bool segs_valid(struct pvdma_planner *p, const struct pvdma_seg *segs, u32 n);

static inline u16 dir_perm(enum pvdma_dir dir)
{
	switch (dir) {
	case PVDMA_DIR_TO_DEVICE:	return PVDMA_MAP_READ;
	case PVDMA_DIR_FROM_DEVICE:	return PVDMA_MAP_WRITE;
	default:			return PVDMA_MAP_READ | PVDMA_MAP_WRITE;
	}
}

static inline void live_bytes_add(struct pvdma_planner *p, u64 len)
{
	p->stats.live_bytes += len;
	p->stats.peak_live_bytes = PVDMA_MAX(p->stats.peak_live_bytes,
					     p->stats.live_bytes);
}

/* rfc and perpage policies (planner_rfc.c) */
int rfc_map(struct pvdma_planner *p, struct pvdma_seg *segs, u32 n,
	    enum pvdma_dir dir);
int rfc_unmap(struct pvdma_planner *p, const struct pvdma_seg *segs, u32 n);

/* Bounce pool (bounce.c) */
void bounce_init(struct pvdma_planner *p);
bool bounce_allowed(const struct pvdma_planner *p, u64 len, u32 attrs);
u64 bounce_reserved(const struct pvdma_planner *p);
int bounce_prepare(struct pvdma_planner *p);
int bounce_map(struct pvdma_planner *p, struct pvdma_seg *seg,
	       enum pvdma_dir dir);
void bounce_cancel(struct pvdma_planner *p, struct pvdma_seg *seg);
int bounce_unmap(struct pvdma_planner *p, const struct pvdma_seg *seg,
		 enum pvdma_dir dir);
int bounce_sync(struct pvdma_planner *p, u64 bus, u64 len, enum pvdma_dir dir,
		bool for_device);

#endif /* PVDMA_PLANNER_INTERNAL_H */
