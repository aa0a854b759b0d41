/* SPDX-License-Identifier: MIT */
/*
 * The guest's side of pvdmad's two queues, as the host tests write them:
 * a companion ring slot of requests and a DMA device command. One writer
 * for the in-memory harness (harness.h: unit tests, fuzzers), the socket
 * client (client.c) and the request-rate bench (bench/host_bench.c), so
 * each posts exactly what a guest posts
 * (lib/include/pvdma/proto.h, dmadev.h). Header-only; the caller owns the
 * queue and its sequence numbers, and publishes the tail when ready, one
 * entry or several at once.
 */
#ifndef PVDMA_TESTS_HOST_PRODUCER_H
#define PVDMA_TESTS_HOST_PRODUCER_H

#include <string.h>

#include <pvdma/dmadev.h>
#include <pvdma/proto.h>

static inline struct pvdma_entry *producer_entry(struct pvdma_slot_hdr *slot,
						 u32 i)
{
	return (struct pvdma_entry *)(slot + 1) + i;
}

/*
 * Write @n requests into @slot as sequence @seq; the header fields the
 * host writes are zeroed, the slot's unused entries left as they were.
 */
static inline void producer_write_slot(struct pvdma_slot_hdr *slot,
				       const struct pvdma_request *ops, u32 n,
				       u32 seq)
{
	u32 i;

	memset(slot, 0, sizeof(*slot));
	for (i = 0; i < n; i++)
		pvdma_entry_encode(producer_entry(slot, i), &ops[i]);
	slot->count = (u16)n;
	slot->seq = seq;
}

/*
 * Write one command at queue position @index (free-running, @entries a
 * power of two) as sequence @seq; returns it.
 */
static inline struct pvdma_dev_cmd *
producer_write_cmd(struct pvdma_dev_cmd *queue, u32 entries, u32 index,
		   u16 op, u64 src, u64 dst, u64 len, u64 pattern, u32 seq)
{
	struct pvdma_dev_cmd *cmd = queue + (index & (entries - 1));

	memset(cmd, 0, sizeof(*cmd));
	cmd->op = op;
	cmd->src = src;
	cmd->dst = dst;
	cmd->len = len;
	cmd->pattern = pattern;
	cmd->seq = seq;
	return cmd;
}

/* Publish @tail: every slot or command before it is written (release). */
static inline void producer_publish(u32 *sq_tail, u32 tail)
{
	__atomic_store_n(sq_tail, tail, __ATOMIC_RELEASE);
}

#endif /* PVDMA_TESTS_HOST_PRODUCER_H */
