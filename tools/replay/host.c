// SPDX-License-Identifier: MIT
/*
 * The replay's host: a DART model configured as pvdmad's (or as the
 * original system's host, for the rfc policy), every request of the
 * planner executed on it, one submit being one host call (a VM exit).
 */
#include "replay_internal.h"

#include <stdlib.h>

int replay_host_init(struct replay *rp)
{
	const struct replay_options *opt = rp->opt;
	struct pvdma_dart_config dcfg;

	pvdma_dart_default_config(&dcfg);
	dcfg.aperture_bytes = opt->aperture;
	dcfg.max_mappings = opt->max_mappings;
	/* The original system's host (IOKit) hands out the lowest free
	 * range; pvdmad keeps physical alignment (lib/dart.c). */
	if (opt->policy == PVDMA_POLICY_RFC)
		dcfg.align_max = 0;
	if (opt->aperture * 2 > dcfg.bus_limit - dcfg.bus_base)
		dcfg.bus_limit = dcfg.bus_base + opt->aperture * 2;
	rp->dart_slots = calloc(opt->max_mappings, sizeof(*rp->dart_slots));
	if (!rp->dart_slots)
		return -ENOMEM;
	return pvdma_dart_init(&rp->dart, &dcfg, rp->dart_slots,
			       opt->max_mappings);
}

void replay_host_free(struct replay *rp)
{
	free(rp->dart_slots);
}

/*
 * The host: every op goes to the DART model; one call is one VM exit. Its
 * time is kept apart so the planner's own cost can be told from the
 * model's.
 */
static int replay_host_submit(void *ctx, struct pvdma_request *ops, u32 n)
{
	struct replay *rp = ctx;
	u64 t0 = replay_now_ns();
	u32 i;

	rp->res->host_calls++;
	pvdma_dart_execute(&rp->dart, ops, n);
	for (i = 0; i < n; i++) {
		if (ops[i].op == PVDMA_OP_MAP)
			rp->res->host_maps++;
		else if (ops[i].op == PVDMA_OP_UNMAP)
			rp->res->host_unmaps++;
		if (ops[i].status != PVDMA_ST_OK)
			rp->res->host_refusals++;
	}
	rp->res->aperture_bytes = rp->dart.stats.live_bytes;
	rp->res->host_ns += replay_now_ns() - t0;
	return 0;
}

const struct pvdma_planner_ops replay_host_ops = {
	.submit = replay_host_submit,
};
