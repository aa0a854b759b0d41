// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The block reference policy: the window cache (planner_cache.c) with
 * every window the aligned blocks of block_bytes around its request - no
 * adaptation. Replayed at several sizes it shows what the best fixed
 * window size, chosen with hindsight per trace, would have cost.
 */
#include "planner_internal.h"

static int block_check_config(const struct pvdma_planner_config *cfg,
			      const struct pvdma_planner_mem *mem)
{
	return PVDMA_IS_POW2(cfg->block_bytes) &&
	       cfg->block_bytes >= cfg->page_size ? 0 : -EINVAL;
}

static void block_grow(struct pvdma_planner *p, const struct pvdma_miss *m,
		       u64 *lo, u64 *hi)
{
	u64 b = p->cfg.block_bytes;
	u64 top = PVDMA_ALIGN_UP(m->hi, b);

	*lo = PVDMA_ALIGN_DOWN(m->lo, b);
	*hi = top < m->hi ? m->hi : top;	/* the top of the address space */
}

const struct pvdma_policy_ops pvdma_policy_block = {
	.name		= "block",
	.check_config	= block_check_config,
	.map		= pvdma_cache_map,
	.unmap		= pvdma_cache_unmap,
	.reclaim	= pvdma_cache_reclaim,
	.grow		= block_grow,
};
