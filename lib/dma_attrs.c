// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * DMA attributes decoded by a table of rules: each effect is data (what
 * it adds to a call), so a new attribute is a new rule, not a new branch.
 */
#include <pvdma/dma_attrs.h>
#include <pvdma/planner.h>

/* What each effect adds to a call's attributes. */
static const struct pvdma_call_attrs pvdma_attr_effects[PVDMA_ATTR_EFFECT_COUNT] = {
	[PVDMA_ATTR_EFFECT_NONE]	= { 0 },
	[PVDMA_ATTR_EFFECT_MMIO]	= { .planner_attrs = PVDMA_ATTR_NO_BOUNCE,
					    .mmio = true },
	[PVDMA_ATTR_EFFECT_COHERENT]	= { .planner_attrs = PVDMA_ATTR_NO_BOUNCE },
	[PVDMA_ATTR_EFFECT_SKIP_SYNC]	= { .skip_sync = true },
	[PVDMA_ATTR_EFFECT_QUIET]	= { .quiet = true },
};

static void pvdma_attrs_add(struct pvdma_call_attrs *out,
			    const struct pvdma_call_attrs *e)
{
	out->planner_attrs |= e->planner_attrs;
	out->mmio |= e->mmio;
	out->skip_sync |= e->skip_sync;
	out->quiet |= e->quiet;
}

int pvdma_attrs_decode(const struct pvdma_attr_rule *rules, u32 nrules,
		       u64 attrs, struct pvdma_call_attrs *out)
{
	u64 known = 0;
	u32 i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < nrules; i++) {
		if (rules[i].effect >= PVDMA_ATTR_EFFECT_COUNT)
			return -EINVAL;
		known |= rules[i].bit;
		if (attrs & rules[i].bit)
			pvdma_attrs_add(out, &pvdma_attr_effects[rules[i].effect]);
	}
	out->unknown = attrs & ~known;
	return out->unknown ? -EOPNOTSUPP : 0;
}
