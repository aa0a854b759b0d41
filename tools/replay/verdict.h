/* SPDX-License-Identifier: MIT */
/*
 * "Will my workload fit?": one trace replayed under the pvdma policy (and
 * rfc for comparison) against the IOMMU's limits, and one line that says
 * FITS, FITS WITH BOUNCE or DOES NOT FIT, with the numbers behind it, what
 * it would take, and how much of it is estimated.
 */
#ifndef PVDMA_VERDICT_H
#define PVDMA_VERDICT_H

#include <stdio.h>

#include "inspect.h"
#include "replay.h"
#include "timeline.h"

/* Host round trip charged per host call when none is given: a
 * Hypervisor.framework exit, guest to host and back (docs/replay.md). */
#define VERDICT_DEFAULT_CALL_US	4.3
/* The least a hidden entry of a truncated list can be: one guest page. */
#define VERDICT_LEAST_ENTRY	4096ull
/* Bounce pools tried, smallest first, when maps fail without one. */
#define VERDICT_BOUNCE_POOLS	{ 64ull << 20, 256ull << 20, 1024ull << 20 }
/* The aperture search stops here, and resolves to this step. */
#define VERDICT_MAX_APERTURE	(1ull << 40)
#define VERDICT_APERTURE_STEP	(64ull << 20)

enum verdict_kind {
	VERDICT_FITS,
	VERDICT_FITS_WITH_BOUNCE,
	VERDICT_DOES_NOT_FIT,
};

struct verdict_options {
	struct replay_options replay;	/* limits, batch, quiet */
	double call_us;			/* modelled cost of one host call */
};

/**
 * struct verdict - the answer for one trace
 * @kind:	the verdict
 * @pvdma, @rfc: the two policies' runs (pvdma: no bounce, not strict)
 * @pvdma_tl:	when/where pvdma first failed and the live set peaked
 * @strict_failed: maps failed under pvdma --strict (run if pvdma failed)
 * @bounce_pool: the smallest pool tried that fits (0: none did)
 * @bounce_failed: maps failed with the largest pool tried
 * @need_aperture: smallest aperture that fits, to VERDICT_APERTURE_STEP
 *		(0: not searched, or nothing up to VERDICT_MAX_APERTURE)
 * @low:	pvdma again with every hidden list entry one guest page, the
 *		least it can be (run when entries were invented)
 */
struct verdict {
	enum verdict_kind kind;
	struct replay_result pvdma;
	struct replay_result rfc;
	struct timeline pvdma_tl;
	bool tried_more;
	u64 strict_failed;
	u64 bounce_pool;
	u64 bounce_failed;
	u64 bounced_bytes;
	u64 need_aperture;
	bool ran_low;
	struct replay_result low;
};

/* Judge @src (already scanned into @lay, inspected into @info). 0 or -1. */
int verdict_judge(struct replay_source *src, const struct replay_layout *lay,
		  const struct verdict_options *opt, struct verdict *v);

/* The one line. */
void verdict_print(FILE *out, const char *name, const struct trace_info *info,
		   const struct verdict_options *opt, const struct verdict *v);

const char *verdict_name(enum verdict_kind kind);

#endif /* PVDMA_VERDICT_H */
