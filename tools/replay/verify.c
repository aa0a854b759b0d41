// SPDX-License-Identifier: MIT
/*
 * The checks of every map the planner answers: each segment it hands out
 * translated through the DART model to exactly the bytes the driver
 * asked for (or the bounce copy of them), with the rights asked; each
 * refusal counted by reason, the first one described in words.
 */
#include "replay_internal.h"

#include <stdio.h>

#include "size.h"

/*
 * Does the bus address agree with the physical one modulo 64 KiB and
 * 2 MiB, as drivers with large GPU pages assume (NVIDIA's UVM)?
 */
static void count_alignment(struct replay_result *res, const struct pvdma_seg *s)
{
	u64 diff = s->bus ^ s->gpa;

	res->align_bytes += s->len;
	if (!(diff & (REPLAY_ALIGN_64K - 1)))
		res->align_64k_bytes += s->len;
	if (!(diff & (REPLAY_ALIGN_2M - 1)))
		res->align_2m_bytes += s->len;
}

void replay_verify_seg(struct replay *rp, const struct pvdma_seg *s, u32 perm)
{
	u64 host = 0;
	int err = pvdma_dart_translate(&rp->dart, s->bus, s->len, perm, &host);

	if (!err && host == s->dev_gpa && (s->bounced || s->dev_gpa == s->gpa)) {
		count_alignment(rp->res, s);
		return;
	}
	rp->res->verify_errors++;
	replay_note(rp, "verify: gpa 0x%llx len 0x%llx -> bus 0x%llx: %s (host 0x%llx, dev_gpa 0x%llx, bounced %u)",
		    (unsigned long long)s->gpa, (unsigned long long)s->len,
		    (unsigned long long)s->bus,
		    err ? "does not translate" : "wrong bytes",
		    (unsigned long long)host, (unsigned long long)s->dev_gpa,
		    s->bounced);
}

void replay_record_failure(struct replay *rp, u64 bytes, u32 nsegs)
{
	const struct pvdma_fail_info *f = &rp->planner.last_failure;
	struct replay_result *res = rp->res;
	char sz[32], live[32], pinned[32], need[32], max[32], peak[32];

	res->failed_maps++;
	res->failed_bytes += bytes;
	if (f->reason < PVDMA_FAIL_COUNT)
		res->fail_by_reason[f->reason]++;
	if (res->first_failure[0])
		return;
	/* Human units; the host's status only when the host refused. */
	snprintf(res->first_failure, sizeof(res->first_failure),
		 "map #%llu (%s in %u segments): %s; %s of %s mapped, %s of it pinned by live mappings, the call needing %s more (peak %s), %llu of %llu mappings%s%s",
		 (unsigned long long)res->map_requests,
		 size_human(bytes, sz, sizeof(sz)), nsegs,
		 pvdma_fail_reason_name(f->reason),
		 size_human(f->aperture_live, live, sizeof(live)),
		 size_human(f->aperture_max, max, sizeof(max)),
		 size_human(f->aperture_pinned, pinned, sizeof(pinned)),
		 size_human(f->aperture_need, need, sizeof(need)),
		 size_human(f->aperture_peak, peak, sizeof(peak)),
		 (unsigned long long)f->mappings_live,
		 (unsigned long long)f->mappings_max,
		 f->reason == PVDMA_FAIL_HOST ? "; the host said " : "",
		 f->reason == PVDMA_FAIL_HOST ?
		 pvdma_status_name(f->host_status) : "");
}
