/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The DMA device model's interface: a second ivshmem-doorbell device that
 * stands for the GPU. Its BAR2 (created by pvdmad) holds this header and a
 * queue of commands on *bus* addresses, which pvdmad executes by
 * translating every byte range through the IOMMU domain of the pvdma
 * companion the guest binds it to. A bus range that is not mapped (or not
 * mapped for the needed direction) is a device fault: the command fails with
 * PVDMA_DEV_ST_FAULT and no byte outside the mapping is read or written.
 *
 * Same conventions as proto.h: little-endian, fixed width, host fields and
 * guest fields, everything the guest wrote is validated.
 *
 * Flow: the guest writes domain_peer (the IVPOSITION of its pvdma companion
 * device), fills commands, sets each cmd->seq, advances sq_tail and rings
 * (host_peer_id << 16 | 0). The host snapshots each command once, executes
 * it, writes status/result/fault_bus, sets done_seq = seq, advances sq_head
 * and interrupts vector 0.
 */
#ifndef PVDMA_DMADEV_H
#define PVDMA_DMADEV_H

#include "compat.h"

#define PVDMA_DEV_MAGIC		0x44445650u	/* "PVDD" */
#define PVDMA_DEV_VERSION	1

/*
 * domain_peer value for no IOMMU: bus address == guest-physical address,
 * through guest RAM only. Benchmarks' baseline; pvdmad refuses it
 * (NOT_BOUND) unless started with --dma-identity.
 */
#define PVDMA_DEV_DOMAIN_IDENTITY	0xffffffffu

/**
 * struct pvdma_dev_header - start of the DMA device's shared region (128 bytes)
 * @magic:		PVDMA_DEV_MAGIC (host)
 * @version:		PVDMA_DEV_VERSION (host)
 * @host_peer_id:	peer id the guest rings (host)
 * @queue_offset:	byte offset of command 0 (host)
 * @queue_entries:	number of commands, a power of two (host)
 * @max_len:		longest length one command may move (host)
 * @sq_head:		commands consumed, free-running (host)
 * @host_reserved:	zero
 * @domain_peer:	IVPOSITION of the pvdma companion whose mappings this
 *			device's bus addresses go through (guest)
 * @sq_tail:		commands posted, free-running (guest)
 * @guest_reserved:	zero
 */
struct pvdma_dev_header {
	u32 magic;
	u32 version;
	u32 host_peer_id;
	u32 queue_offset;
	u32 queue_entries;
	u32 max_len;
	u32 sq_head;
	u32 host_reserved[9];
	/* offset 64: written by the guest */
	u32 domain_peer;
	u32 sq_tail;
	u32 guest_reserved[14];
};

enum pvdma_dev_op {
	PVDMA_DEV_NOP		= 0,
	PVDMA_DEV_COPY		= 1,	/* dst <- src, len bytes */
	PVDMA_DEV_FILL		= 2,	/* dst <- pattern byte repeated, len bytes */
	PVDMA_DEV_CHECKSUM	= 3,	/* result <- pvdma_checksum(src, len) */
};

enum pvdma_dev_status {
	PVDMA_DEV_ST_OK		= 0,
	PVDMA_DEV_ST_INVALID	= 1,	/* bad op, zero/overlong len, overflow */
	PVDMA_DEV_ST_FAULT	= 2,	/* a bus address was not mapped */
	PVDMA_DEV_ST_NOT_BOUND	= 3,	/* domain_peer names no companion */
	/* The host could not back guest RAM (e.g. a full tmpfs); retry or fail. */
	PVDMA_DEV_ST_IO		= 4,
};

/**
 * struct pvdma_dev_cmd - one command (64 bytes)
 * @op:		enum pvdma_dev_op (guest)
 * @flags:	zero (guest)
 * @status:	enum pvdma_dev_status (host)
 * @seq:	nonzero tag (guest)
 * @done_seq:	= @seq once executed (host)
 * @src:	source bus address (COPY, CHECKSUM) (guest)
 * @dst:	destination bus address (COPY, FILL) (guest)
 * @len:	bytes, 1..max_len (guest)
 * @pattern:	FILL byte in the low 8 bits (guest)
 * @result:	CHECKSUM value (host)
 * @fault_bus:	first bus address that faulted (host)
 */
struct pvdma_dev_cmd {
	u16 op;
	u16 flags;
	u32 status;
	u32 seq;
	u32 done_seq;
	u64 src;
	u64 dst;
	u64 len;
	u64 pattern;
	u64 result;
	u64 fault_bus;
};

PVDMA_STATIC_ASSERT(sizeof(struct pvdma_dev_header) == 128, "dev header size");
PVDMA_STATIC_ASSERT(sizeof(struct pvdma_dev_cmd) == 64, "dev command size");

/*
 * The device's checksum: 64-bit FNV-1a, continued from @seed (use
 * PVDMA_CHECKSUM_SEED to start). Chunked calls give the same value as one.
 */
#define PVDMA_CHECKSUM_SEED	0xcbf29ce484222325ull
u64 pvdma_checksum(u64 seed, const void *buf, u64 len);

#endif /* PVDMA_DMADEV_H */
