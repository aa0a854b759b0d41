/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvdma ring producer (ring.c): shared by pvdma.ko's transport and the
 * hostile self-test module, each compiling ring.c by path. The caller
 * serialises all calls on one ring; only pvdma_ring_wait_ready() sleeps.
 */
#ifndef PVDMA_RING_H
#define PVDMA_RING_H

#include <linux/types.h>

#include <pvdma/proto.h>

/**
 * struct pvdma_ring - the guest end of one request ring
 * @hdr:	shared header (companion BAR2 offset 0)
 * @slots:	slot 0
 * @doorbell:	BAR0 doorbell register
 * @nslots:	ring slots (power of two)
 * @slot_size:	bytes per slot
 * @max_batch:	entries per slot
 * @peer:	host peer id the doorbell names
 * @tail:	slots posted and answered so far (our copy of sq_tail)
 * @seq:	last slot tag used (never 0)
 */
struct pvdma_ring {
	struct pvdma_shm_header *hdr;
	u8 *slots;
	void __iomem *doorbell;
	u32 nslots;
	u32 slot_size;
	u32 max_batch;
	u32 peer;
	u32 tail;
	u32 seq;
};

int pvdma_ring_wait_ready(struct pvdma_shm_header *hdr, u32 timeout_ms);
int pvdma_ring_init(struct pvdma_ring *r, void *shm, resource_size_t shm_len,
		    void __iomem *regs);
u32 pvdma_ring_fill(struct pvdma_ring *r, u32 index,
		    const struct pvdma_request *ops, u32 nents, u16 count,
		    u16 flags);
void pvdma_ring_publish(struct pvdma_ring *r, u32 tail);
bool pvdma_ring_answered(struct pvdma_ring *r, u32 index, u32 seq);
bool pvdma_ring_poll(struct pvdma_ring *r, u32 index, u32 seq, u64 deadline);
u32 pvdma_ring_read(struct pvdma_ring *r, u32 index, struct pvdma_request *ops,
		    u32 nents, u32 *completed);
u32 pvdma_ring_host_state(const struct pvdma_ring *r);
u32 pvdma_ring_errors(const struct pvdma_ring *r);
u32 pvdma_ring_head(const struct pvdma_ring *r);

#endif /* PVDMA_RING_H */
