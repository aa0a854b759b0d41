// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: pvdmad's request ring. The input is a series of rounds;
 * each writes guest-controlled bytes (the guest half of the header, one
 * slot) and a tail, then runs companion_process(), as a hostile guest
 * would between doorbells. Sanitizers catch memory errors; the checks
 * below catch broken invariants.
 */
#include <stdint.h>
#include <stdlib.h>

#include "harness.h"
#include "host/log.h"

struct round_ctl {
	u8 tail_advance;	/* 0..255: often invalid on purpose */
	u8 flags;		/* bit 0: write guest_version/features */
	u8 pad[2];
	u32 guest_version;
	u32 guest_features;
};

static void fuzz_round(struct harness *h, const u8 **data, size_t *size)
{
	struct pvdma_shm_header *hdr = harness_hdr(h);
	u32 slot_size = PVDMA_SLOT_SIZE(h->cfg.max_batch);
	struct round_ctl ctl;
	size_t n;

	memcpy(&ctl, *data, sizeof(ctl));
	*data += sizeof(ctl);
	*size -= sizeof(ctl);
	if (ctl.flags & 1) {
		hdr->guest_version = ctl.guest_version;
		hdr->guest_features = ctl.guest_features;
	}
	n = *size < slot_size ? *size : slot_size;
	memcpy(harness_slot(h, hdr->sq_tail), *data, n);
	*data += n;
	*size -= n;
	hdr->sq_tail += ctl.tail_advance % 8 == 7 ? ctl.tail_advance : ctl.tail_advance % 8;
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
	h.c.iommu->ops->stats(h.c.iommu, &st);
	if (st.live_mappings > h.cfg.iommu.max_mappings ||
	    st.live_bytes > h.cfg.iommu.aperture_bytes ||
	    harness_hdr(&h)->sq_head != h.c.sq_head)
		abort();
	return 0;
}
