/* SPDX-License-Identifier: MIT */
/*
 * The DMA device model, host side: a stand-in for the passed-through GPU.
 * Its shared region (lib/include/pvdma/dmadev.h) holds a command queue of
 * COPY/FILL/CHECKSUM on bus addresses; each command is executed by
 * translating every byte through the DMA domain the guest bound the
 * device to (dma_domain.h), then through that guest's RAM.
 *
 * Translation goes IOMMU page by IOMMU page, so one command may span
 * several mappings that are adjacent in bus space (as a real device's
 * scatter-gather would); every page must be mapped with the needed
 * permission (READ for sources, WRITE for destinations). All ranges of a
 * command are checked before any byte moves: a fault changes nothing.
 *
 * dmadev_process() is pure (no sockets): tests and the fuzzer call it.
 * Not thread-safe: the daemon's loop serialises all calls.
 */
#ifndef PVDMAD_DMADEV_MODEL_H
#define PVDMAD_DMADEV_MODEL_H

#include <pvdma/dmadev.h>

#include "dma_domain.h"
#include "ledger.h"

#define DMADEV_QUEUE_OFFSET	256u
#define DMADEV_MAX_ENTRIES	4096u
/* The least a command costs a slice (dmadev_process_slice()), in bytes:
 * one IOMMU page's worth, so a slice of 1 MiB runs at most 64 commands
 * that move nothing. */
#define DMADEV_CMD_COST		(16u << 10)
/* The ledger's stage (dmadev_copy()): a chunk, at most the largest IOMMU
 * page (--page-size); only the pages a chunk used take memory. */
#define DMADEV_STAGE_BYTES	(1u << 20)

/**
 * struct dmadev_config - what every DMA device offers
 * @queue_entries:	commands in the queue, a power of two
 * @max_len:		longest length one command may move
 * @identity:		accept domain_peer == PVDMA_DEV_DOMAIN_IDENTITY (bus
 *			address = GPA, no IOMMU; for benchmarks' baseline)
 */
struct dmadev_config {
	u32 queue_entries;
	u32 max_len;
	bool identity;
};

/* Counters of one DMA device. */
struct dmadev_stats {
	u64 doorbells;
	u64 cmds;		/* commands consumed */
	u64 ok;
	u64 invalid;
	u64 faults;
	u64 not_bound;
	u64 io_errors;		/* guest RAM the host could not back */
	u64 bytes;		/* bytes copied, filled or summed */
	u64 bad_tail;
};

/*
 * Find the DMA domain a device may use: @domain_peer is what the guest
 * wrote; the resolver decides whether this device may use it (pvdmad: only
 * a companion of the same QEMU process). NULL: not bound. For
 * PVDMA_DEV_DOMAIN_IDENTITY (asked only if the device allows it) it
 * returns the identity domain over the guest RAM the device may reach.
 */
typedef struct dma_domain *(*dmadev_resolve_fn)(void *ctx, u32 domain_peer);

/* A decoded command (native endian, a private copy). */
struct dmadev_cmd {
	u16 op;
	u16 flags;
	u32 seq;
	u64 src;
	u64 dst;
	u64 len;
	u64 pattern;
};

/* The outcome written back. */
struct dmadev_result {
	u32 status;
	u64 result;
	u64 fault_bus;
};

/**
 * struct dmadev_inflight - a command whose data moves across slices
 * @open:	one is begun and not answered
 * @index:	its queue entry
 * @cmd:	its snapshot
 * @res:	its outcome so far (a checksum's running sum)
 * @moved:	bytes moved
 * @staged:	bytes of the chunk at @moved in the ledger's stage, to be
 *		written out from there (a resumed command; ledger.h)
 * @dom:	the domain it moves through: the one its checks used, then
 *		looked up again each slice (the companion may be gone)
 */
struct dmadev_inflight {
	bool open;
	u32 index;
	struct dma_domain *dom;
	struct dmadev_cmd cmd;
	struct dmadev_result res;
	u64 moved;
	u64 staged;
};

/**
 * struct pvdma_dmadev - one DMA device instance
 * @id:		the guest's ivshmem peer id on the DMA socket
 * @host_peer_id: the daemon's peer id the guest rings
 * @shm:	the shared region
 * @queue_entries: host copies of the layout
 * @max_len:
 * @identity:	copy of dmadev_config.identity
 * @sq_head:	commands consumed (host copy)
 * @resolve:	domain lookup
 * @resolve_ctx: its argument
 * @ledger:	what a restarted pvdmad needs (ledger.h); NULL: not kept
 * @stats:	counters
 * @work:	what the commands run so far cost (dmadev_cost()): what the
 *		slices charge, bytes checked as well as moved
 * @cur:	the command a slice's budget ran out inside, if any
 * @resume:	the command a restart found half-moved (its progress in
 *		@resume.moved, .staged, .res.result), to go on from there
 * @resumed:	commands a restart went on with where they stopped (tests)
 */
struct pvdma_dmadev {
	u32 id;
	u32 host_peer_id;
	void *shm;
	u32 queue_entries;
	u32 max_len;
	bool identity;
	u32 sq_head;
	dmadev_resolve_fn resolve;
	void *resolve_ctx;
	struct ledger *ledger;
	struct dmadev_stats stats;
	u64 work;
	struct dmadev_inflight cur;
	struct dmadev_inflight resume;
	u64 resumed;
};

int dmadev_config_check(const struct dmadev_config *cfg);

/* Bytes the region needs: a power of two. */
u64 dmadev_shm_size(const struct dmadev_config *cfg);

/* Fill the header of a zeroed region. 0 or -EINVAL. */
int dmadev_init(struct pvdma_dmadev *d, void *shm, u64 shm_size,
		const struct dmadev_config *cfg, u32 host_peer_id, u32 id,
		dmadev_resolve_fn resolve, void *resolve_ctx);

/* What a ledger for this device must look like (ledger.h). */
void dmadev_ledger_geometry(const struct dmadev_config *cfg, u32 id,
			    struct ledger_geometry *geo);

/*
 * dmadev_resume - carry on after a pvdmad restart, from @ledger (owned by
 * the caller): a command the previous process died in goes on from the
 * progress its ledger kept (ledger_progress()), the chunk it was cut in
 * run again (from the stage where its source and destination overlap):
 * the bytes of an uninterrupted run. A progress that can't be the
 * command's is refused: the command runs again from its start. The last
 * completed one is re-published.
 */
void dmadev_resume(struct pvdma_dmadev *d, struct ledger *ledger);

/* Run every posted command; returns how many completed (> 0: interrupt). */
int dmadev_process(struct pvdma_dmadev *d);

/*
 * dmadev_process_slice - run posted commands until they cost @budget
 * A command costs the bytes its checks walked or it moved, at least
 * DMADEV_CMD_COST (a faulting command moves nothing but may have
 * translated max_len / page pages first). At least one command runs; *more says whether posted ones remain, for
 * the caller to come back after serving others (fairness between guests).
 * Returns how many completed. Counts no doorbell.
 */
int dmadev_process_slice(struct pvdma_dmadev *d, u64 budget, bool *more);

/* Mark the region DOWN (magic cleared) on disconnect. */
void dmadev_destroy(struct pvdma_dmadev *d);

#endif /* PVDMAD_DMADEV_MODEL_H */
