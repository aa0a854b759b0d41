// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: pvdmad's request ring. The input is a series of rounds;
 * each writes guest-controlled bytes (the guest half of the header, one
 * slot) and a tail, then runs companion_process(), or one slice of a
 * budget the input gives (a slot may then stay split across rounds, its
 * header and entries rewritten by the next round's bytes), as a hostile
 * guest would between doorbells. Sanitizers catch memory errors; the checks
 * below catch broken invariants.
 */
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"
#include "host/log.h"

struct round_ctl {
	u8 tail_advance;	/* 0..255: often invalid on purpose */
	u8 flags;		/* bit 0: write guest_version/features;
				 * bit 1: write the slot at sq_head (one a
				 * slice may have stopped inside) */
	u8 budget;		/* 0: companion_process(); else one slice */
	u8 pad;
	u32 guest_version;
	u32 guest_features;
};

static void fuzz_round(struct harness *h, const u8 **data, size_t *size)
{
	struct pvdma_shm_header *hdr = harness_hdr(h);
	u32 slot_size = PVDMA_SLOT_SIZE(h->cfg.max_batch);
	struct round_ctl ctl;
	bool more;
	size_t n;

	memcpy(&ctl, *data, sizeof(ctl));
	*data += sizeof(ctl);
	*size -= sizeof(ctl);
	if (ctl.flags & 1) {
		hdr->guest_version = ctl.guest_version;
		hdr->guest_features = ctl.guest_features;
	}
	n = *size < slot_size ? *size : slot_size;
	memcpy(harness_slot(h, ctl.flags & 2 ? h->c.sq_head : hdr->sq_tail),
	       *data, n);
	*data += n;
	*size -= n;
	hdr->sq_tail += ctl.tail_advance % 8 == 7 ? ctl.tail_advance : ctl.tail_advance % 8;
	if (ctl.budget)
		companion_process_slice(&h->c, ctl.budget, &more);
	else
		companion_process(&h->c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct harness h;
	static bool ready;
	struct pvdma_iommu_stats st = { 0 };
	int rounds = 0;

	/* One harness for the whole run (allocating RAM per input is slow). */
	if (!ready) {
		pvdmad_log_set_level(PVDMAD_LOG_ERR);
		if (harness_init(&h))
			abort();
		ready = true;
	}
	if (harness_reset(&h))
		abort();
	/* half the inputs start from a ready guest, to reach MAP/UNMAP */
	if (size && data[0] & 1)
		harness_hello(&h);
	while (size >= sizeof(struct round_ctl) && rounds++ < 64)
		fuzz_round(&h, &data, &size);
	/* a slot left split is finished by the next call, whatever the tail */
	companion_process(&h.c);
	if (h.c.cur.open)
		abort();
	h.c.iommu->ops->stats(h.c.iommu, &st);
	if (st.live_mappings > h.cfg.iommu.max_mappings ||
	    st.live_bytes > h.cfg.iommu.aperture_bytes ||
	    harness_hdr(&h)->sq_head != h.c.sq_head)
		abort();
	return 0;
}
