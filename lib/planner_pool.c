// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The pool reference policy: the original system's newer module-free mode
 * (a restricted-dma-pool): one bounce pool of bounce_bytes, mapped once,
 * serves every map, coherent ones included; every byte is copied, and a
 * map fails when the pool has no room. It costs one host call in all and
 * shows what copying everything would cost instead.
 */
#include "planner_internal.h"

static int pool_check_config(const struct pvdma_planner_config *cfg,
			     const struct pvdma_planner_mem *mem)
{
	return cfg->bounce == PVDMA_BOUNCE_OFF ? -EINVAL : 0;
}

static void pool_undo(struct pvdma_planner *p, struct pvdma_seg *segs, u32 n)
{
	u32 i;

	for (i = 0; i < n; i++)
		if (segs[i].bounced)
			pvdma_bounce_cancel(p, &segs[i]);
}

static int pool_map(struct pvdma_planner *p, struct pvdma_seg *segs, u32 n,
		    enum pvdma_dir dir, u32 attrs)
{
	u64 bytes = 0;
	u32 i;

	for (i = 0; i < n; i++) {
		segs[i].bounced = 0;
		if (pvdma_bounce_map(p, &segs[i], dir)) {
			pool_undo(p, segs, i);
			return -ENOSPC;
		}
		bytes += segs[i].len;
	}
	/* the pool's one mapping, the first time */
	if (pvdma_batch_submit(p) || pvdma_bounce_prepare(p)) {
		if (!p->last_failure.reason)
			pvdma_plan_fail(p, PVDMA_FAIL_TRANSPORT, 0, PVDMA_ST_IO);
		pool_undo(p, segs, n);
		return -EIO;
	}
	for (i = 0; i < n; i++)
		pvdma_bounce_finish(p, &segs[i]);
	pvdma_live_bytes_add(p, bytes);
	return 0;
}

static int pool_unmap(struct pvdma_planner *p, const struct pvdma_seg *segs,
		      u32 n, enum pvdma_dir dir)
{
	int ret = 0;
	u32 i;

	for (i = 0; i < n; i++) {
		if (!p->pool_window || pvdma_bounce_unmap(p, &segs[i], dir)) {
			if (!p->pool_window)
				p->stats.bad_unmaps++;
			ret = -ENOENT;
		}
	}
	return ret;
}

const struct pvdma_policy_ops pvdma_policy_pool = {
	.name		= "pool",
	.check_config	= pool_check_config,
	.map		= pool_map,
	.unmap		= pool_unmap,
};
