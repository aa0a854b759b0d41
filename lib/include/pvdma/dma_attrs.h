/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * DMA attributes: what the DMA_ATTR_* bits of one driver call ask of pvdma.
 *
 * The caller gives the rules, one per attribute bit its kernel defines
 * (the guest module takes the bit values from the kernel it is built
 * for); pvdma_attrs_decode() turns a call's bits into the planner's
 * attributes and the per-call switches the guest applies around the
 * planner. A bit no rule names is refused, never dropped: a driver may
 * rely on what it asks for.
 *
 * No state, no allocation, no locking: any context.
 */
#ifndef PVDMA_DMA_ATTRS_H
#define PVDMA_DMA_ATTRS_H

#include "compat.h"

/*
 * What one attribute bit means for a mapping through the host IOMMU:
 * NONE		accepted, changes nothing
 * MMIO		device memory: the exact range, no RAM lookup, no bounce
 * COHERENT	must stay coherent: never bounced
 * SKIP_SYNC	no bounce copy back at unmap: the driver's syncs copy
 * QUIET	no failure message
 */
enum pvdma_attr_effect {
	PVDMA_ATTR_EFFECT_NONE		= 0,
	PVDMA_ATTR_EFFECT_MMIO		= 1,
	PVDMA_ATTR_EFFECT_COHERENT	= 2,
	PVDMA_ATTR_EFFECT_SKIP_SYNC	= 3,
	PVDMA_ATTR_EFFECT_QUIET		= 4,
	PVDMA_ATTR_EFFECT_COUNT
};

/**
 * struct pvdma_attr_rule - one attribute bit and its effect
 * @bit:	the bit (0: the kernel lacks this attribute; the rule is
 *		skipped)
 * @effect:	enum pvdma_attr_effect
 */
struct pvdma_attr_rule {
	u64 bit;
	u32 effect;
};

/**
 * struct pvdma_call_attrs - one call's attributes, decoded
 * @planner_attrs: PVDMA_ATTR_* for pvdma_map()
 * @mmio:	map the exact range, do not look it up as RAM
 * @skip_sync:	make no bounce copy back at unmap (a map still copies in)
 * @quiet:	log no failure
 * @unknown:	bits no rule names (then the call is refused)
 */
struct pvdma_call_attrs {
	u32 planner_attrs;
	bool mmio;
	bool skip_sync;
	bool quiet;
	u64 unknown;
};

/*
 * Decode @attrs by @rules (@nrules of them) into @out. Returns 0,
 * -EOPNOTSUPP if a bit is named by no rule (out->unknown says which), or
 * -EINVAL if a rule's effect is out of range.
 */
int pvdma_attrs_decode(const struct pvdma_attr_rule *rules, u32 nrules,
		       u64 attrs, struct pvdma_call_attrs *out);

#endif /* PVDMA_DMA_ATTRS_H */
