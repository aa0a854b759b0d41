/* SPDX-License-Identifier: MIT */
/*
 * The pvdma companion device, host side: one per guest connection. It owns
 * the guest's shared region (struct pvdma_shm_header and the request ring
 * of lib/include/pvdma/proto.h), the guest's IOMMU domain and its view of
 * guest RAM, and executes posted batches.
 *
 * companion_process() is a pure function of the region and this state: no
 * sockets, no eventfds. The transport calls it on a doorbell; unit tests and
 * the fuzzer call it directly. Everything the guest wrote is untrusted and
 * read once; the host's own copies of the layout (ring offset, slots, batch
 * size) are kept here, never re-read from the region.
 *
 * Not thread-safe: the daemon's loop serialises all calls.
 */
#ifndef PVDMAD_COMPANION_H
#define PVDMAD_COMPANION_H

#include <pvdma/proto.h>

#include "dma_domain.h"
#include "guest_ram.h"
#include "iommu.h"
#include "ledger.h"

#define COMPANION_RING_OFFSET	4096u	/* slot 0 starts on the second page */
#define COMPANION_MAX_SLOTS	1024u
#define COMPANION_MAX_BATCH	1024u

/**
 * struct companion_config - what every companion offers
 * @ring_slots:	slots in the ring, a power of two <= COMPANION_MAX_SLOTS
 * @max_batch:	entries per slot, 1..COMPANION_MAX_BATCH
 * @iommu:	limits of each guest's IOMMU domain
 * @ram:	where guest RAM is (NULL path: the caller sets up c->ram)
 */
struct companion_config {
	u32 ring_slots;
	u32 max_batch;
	struct pvdma_iommu_config iommu;
	struct guest_ram_config ram;
};

/**
 * struct companion_stats - counters of one guest
 * @doorbells:		doorbells served (companion_process() calls)
 * @slots:		slots consumed
 * @entries:		entries executed (any status)
 * @rejected:		entries (and slots, as BAD_SLOT) refused, by status
 * @bad_tail:		doorbells with an impossible sq_tail (ignored)
 * @hellos:		successful HELLOs
 * @resets:		RESETs
 * @released:		mappings dropped by HELLO, RESET or disconnect
 * @dma_cmds:		DMA device commands executed through this domain
 * @dma_bytes:		bytes those commands moved, filled or summed
 * @dma_faults:		DMA commands refused with a translation fault
 * @dma_io_errors:	DMA commands cut short: guest RAM not backed (SIGBUS)
 */
struct companion_stats {
	u64 doorbells;
	u64 slots;
	u64 entries;
	u64 rejected[PVDMA_ST_COUNT];
	u64 bad_tail;
	u64 hellos;
	u64 resets;
	u64 released;
	u64 dma_cmds;
	u64 dma_bytes;
	u64 dma_faults;
	u64 dma_io_errors;
};

/**
 * struct companion_cur - the slot being run, kept across slices
 * @open:	taken and not yet completed (a slice stopped inside it)
 * @index:	its place in the ring
 * @seq:	its header's seq, @count its entries, @status BAD_SLOT or OK,
 *		as read once when it was taken
 * @next:	entries done so far (their statuses written)
 */
struct companion_cur {
	bool open;
	u32 index;
	u32 seq;
	u32 count;
	u32 status;
	u32 next;
};

/**
 * struct pvdma_companion - one guest's companion device
 * @id:		the guest's ivshmem peer id (its IVPOSITION)
 * @host_peer_id: the daemon's peer id the guest rings
 * @shm:	the shared region
 * @shm_size:	its size
 * @ring_slots:	host copy of the layout
 * @max_batch:
 * @slot_size:
 * @sq_head:	slots consumed (host copy; the region's is only published)
 * @ready:	a HELLO succeeded: MAP/UNMAP accepted
 * @features:	PVDMA_FEAT_* agreed in HELLO
 * @iommu:	this guest's IOMMU domain (owned)
 * @ram:	this guest's RAM (mapped at the first HELLO if @ram_cfg names it)
 * @ram_cfg:	where to find it
 * @ram_gate:	NULL, or asked about the opened file before @ram maps it;
 *		non-zero refuses (QEMU creates its RAM file after it connects:
 *		who may use the file can only be decided once it exists)
 * @ram_gate_ctx: its argument
 * @snap:	max_batch entries: the snapshot of the slot being executed
 * @cur:	that slot's header as taken, and how far it ran
 * @ledger:	what a restarted pvdmad needs (ledger.h); NULL: not kept
 * @stats:	counters
 * @dma_iommu:	@iommu as DMA devices see it (companion_dma_domain())
 * @dma_identity: @ram without translation, as DMA devices see it
 */
struct pvdma_companion {
	u32 id;
	u32 host_peer_id;
	void *shm;
	u64 shm_size;
	u32 ring_slots;
	u32 max_batch;
	u32 slot_size;
	u32 sq_head;
	bool ready;
	u32 features;
	struct pvdma_iommu *iommu;
	struct guest_ram ram;
	const struct guest_ram_config *ram_cfg;
	guest_ram_gate_fn ram_gate;
	void *ram_gate_ctx;
	struct pvdma_entry *snap;
	struct companion_cur cur;
	struct ledger *ledger;
	struct companion_stats stats;
	u64 ram_opens;		/* RAM opens tried at HELLO: slice work */
	u64 ram_refused_in;	/* the slot (stats.slots + 1) one was refused in */
	u64 ram_checks;		/* RAM file sizes checked at HELLO (tests) */
	u64 hello_checked_in;	/* the slot the last one was checked in */
	int hello_ram_err;	/* and what that check said */
	struct dma_domain dma_iommu;
	struct dma_domain dma_identity;
};

/* Check @cfg; 0 or -EINVAL. */
int companion_config_check(const struct companion_config *cfg);

/* Bytes the shared region needs: a power of two. */
u64 companion_shm_size(const struct companion_config *cfg);

/*
 * companion_init - set up a companion over a zeroed region
 * @c:		the state to fill
 * @shm:	the region, at least companion_shm_size(@cfg) bytes
 * @shm_size:	its size
 * @cfg:	limits and layout (kept by pointer for the RAM path)
 * @iommu:	the guest's domain; owned by @c from now on, even on error
 * @host_peer_id, @id: ivshmem ids
 *
 * Fills the header and sets host_state READY. Returns 0 or a negative errno.
 */
int companion_init(struct pvdma_companion *c, void *shm, u64 shm_size,
		   const struct companion_config *cfg, struct pvdma_iommu *iommu,
		   u32 host_peer_id, u32 id);

/* What a ledger for this companion must look like (ledger.h). */
void companion_ledger_geometry(const struct companion_config *cfg, u32 id,
			       struct ledger_geometry *geo);

/*
 * companion_resume - carry on a guest's session after a pvdmad restart
 * @c:		set up by companion_init() over the guest's live region
 * @ledger:	the ledger the previous process kept (owned by the caller)
 *
 * Rolls back the slot the previous process died in (it runs again at the
 * next companion_process()), re-creates every mapping of the ledger in the
 * IOMMU domain at its bus address and checks the domain against the
 * ledger, re-publishes the last completed slot, and takes the session
 * (HELLO, features, guest RAM) back. 0 or a negative errno.
 */
int companion_resume(struct pvdma_companion *c, struct ledger *ledger);

/*
 * companion_process - run every posted slot (a doorbell)
 * Returns the number of slots completed; > 0 means the guest should be
 * interrupted.
 */
int companion_process(struct pvdma_companion *c);

/*
 * companion_process_slice - run posted entries until @budget is spent
 * Each entry is charged one and each slot one more; at least one entry
 * runs. A slice may stop inside a slot (its header and entries were
 * snapshotted when it was taken): the next slice runs it on from the next
 * entry, whatever the guest wrote since, and its completion is written
 * once, when its last entry is done. *more says whether posted work
 * remains, for the caller to come back after serving others: one doorbell
 * can post ring_slots * max_batch entries (a million at the largest
 * limits). Returns how many slots completed. Counts no doorbell.
 */
int companion_process_slice(struct pvdma_companion *c, u64 budget, bool *more);

/*
 * companion_dma_domain - the domain a DMA device bound to this guest uses
 * @identity:	bus address = guest-physical address, no IOMMU (benchmarks)
 * NULL while it cannot serve: no IOMMU domain, or for identity no RAM yet.
 */
struct dma_domain *companion_dma_domain(struct pvdma_companion *c,
					bool identity);

/* Drop every mapping of the guest (counted in stats.released). */
void companion_release_mappings(struct pvdma_companion *c);

/* pvdmad exits for a restart: free this process's state only; the guest's
 * region, its session and the ledger stay as they are. */
void companion_detach(struct pvdma_companion *c);

/* Disconnect: release everything, mark the region DOWN, free the domain. */
void companion_destroy(struct pvdma_companion *c);

#endif /* PVDMAD_COMPANION_H */
