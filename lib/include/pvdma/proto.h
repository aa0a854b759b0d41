/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * pvdma wire protocol between the guest (pvdma.ko) and the host (pvdmad).
 *
 * Transport: QEMU's ivshmem-doorbell device. Its BAR2 is a shared region
 * that pvdmad creates for each guest; this header describes its layout.
 * Every field is little-endian and fixed-width. The host writes the
 * "host" fields, the guest writes the "guest" fields; each side treats what
 * the other wrote as untrusted. docs/protocol.md is the written spec.
 *
 * ABI: a change that moves or reinterprets a field bumps
 * PVDMA_PROTO_VERSION_MAJOR; adding a feature bit bumps the minor.
 *
 * Flow: the host fills the header and sets host_state READY. The guest
 * writes guest_version/guest_features, posts a HELLO entry, and from then on
 * posts batches of MAP/UNMAP entries: it fills a slot, sets slot->seq,
 * advances sq_tail and writes (host_peer_id << 16 | 0) to the doorbell. The
 * host snapshots each posted slot once, executes its entries in order,
 * writes per-entry status and bus addresses, sets slot->done_seq = seq,
 * advances sq_head and interrupts vector 0. The guest may poll done_seq
 * instead of waiting for the interrupt (atomic context).
 */
#ifndef PVDMA_PROTO_H
#define PVDMA_PROTO_H

#include "compat.h"

#define PVDMA_MAGIC			0x4d445650u	/* "PVDM" */
#define PVDMA_PROTO_VERSION_MAJOR	1
#define PVDMA_PROTO_VERSION_MINOR	0
#define PVDMA_PROTO_VERSION \
	((PVDMA_PROTO_VERSION_MAJOR << 16) | PVDMA_PROTO_VERSION_MINOR)

/* Offset of the doorbell register in the ivshmem BAR0 (QEMU's layout). */
#define PVDMA_IVSHMEM_REG_INTRMASK	0x00
#define PVDMA_IVSHMEM_REG_INTRSTATUS	0x04
#define PVDMA_IVSHMEM_REG_IVPOSITION	0x08
#define PVDMA_IVSHMEM_REG_DOORBELL	0x0c

/* host_state */
enum pvdma_host_state {
	PVDMA_HOST_DOWN		= 0,	/* not (yet) serving this region */
	PVDMA_HOST_READY	= 1,	/* header valid, HELLO accepted next */
};

/* host_features / guest_features bits */
#define PVDMA_FEAT_BATCH_UNMAP	(1u << 0)	/* mixed MAP/UNMAP entries in a slot */
#define PVDMA_FEAT_TRIM		(1u << 1)	/* PVDMA_OP_TRIM (partial unmap) */
#define PVDMA_FEAT_KNOWN	(PVDMA_FEAT_BATCH_UNMAP | PVDMA_FEAT_TRIM)

/**
 * struct pvdma_shm_header - start of the shared region (256 bytes)
 * @magic:		PVDMA_MAGIC (host)
 * @version:		protocol version major << 16 | minor (host)
 * @host_features:	PVDMA_FEAT_* the host offers (host)
 * @host_peer_id:	ivshmem peer id whose vector 0 the guest rings (host)
 * @ring_offset:	byte offset of slot 0 from the region start (host)
 * @ring_slots:		number of slots, a power of two (host)
 * @slot_size:		bytes per slot: slot header + max_batch entries (host)
 * @max_batch:		entries per slot (host)
 * @iommu_page_size:	IOMMU page; every MAP gpa/len is a multiple (host)
 * @aperture_bytes:	most bytes mapped at once (host)
 * @max_mappings:	most live mappings at once (host)
 * @host_state:		enum pvdma_host_state (host)
 * @bus_base:		lowest bus address the host hands out (host)
 * @bus_limit:		one past the highest (host)
 * @sq_head:		slots consumed so far, free-running (host)
 * @ring_errors:	doorbells ignored because sq_tail was impossible
 *			(behind sq_head or more than ring_slots ahead),
 *			free-running (host): the guest's way to tell a ring
 *			out of step from a host that is gone
 * @host_reserved:	zero
 * @guest_version:	protocol version the guest speaks (guest)
 * @guest_features:	PVDMA_FEAT_* the guest uses, subset of host's (guest)
 * @sq_tail:		slots posted so far, free-running (guest)
 * @guest_reserved:	zero
 */
struct pvdma_shm_header {
	u32 magic;
	u32 version;
	u32 host_features;
	u32 host_peer_id;
	u32 ring_offset;
	u32 ring_slots;
	u32 slot_size;
	u32 max_batch;
	u64 iommu_page_size;
	u64 aperture_bytes;
	u32 max_mappings;
	u32 host_state;
	u64 bus_base;
	u64 bus_limit;
	u32 sq_head;
	u32 ring_errors;
	u32 host_reserved[12];
	/* offset 128: written by the guest */
	u32 guest_version;
	u32 guest_features;
	u32 sq_tail;
	u32 guest_reserved[29];
};

/* Operations of one entry. */
enum pvdma_op {
	PVDMA_OP_NOP	= 0,
	PVDMA_OP_MAP	= 1,	/* in: gpa, len, flags; out: bus, status */
	PVDMA_OP_UNMAP	= 2,	/* in: bus, len (exactly as mapped); out: status */
	PVDMA_OP_HELLO	= 3,	/* negotiate from guest_version/features */
	PVDMA_OP_RESET	= 4,	/* release every mapping of this guest */
	/*
	 * In: bus, len: release that part of one mapping (a partial unmap);
	 * the rest stays mapped, as two mappings if it was a hole. Out: status.
	 */
	PVDMA_OP_TRIM	= 5,
};

/* Entry flags: what the device may do with a MAP. */
#define PVDMA_MAP_READ		(1u << 0)	/* device reads (DMA_TO_DEVICE) */
#define PVDMA_MAP_WRITE		(1u << 1)	/* device writes (DMA_FROM_DEVICE) */
#define PVDMA_MAP_FLAGS_KNOWN	(PVDMA_MAP_READ | PVDMA_MAP_WRITE)

/* Per-entry and per-slot status, written by the host. */
enum pvdma_status {
	PVDMA_ST_OK		= 0,
	PVDMA_ST_INVALID	= 1,	/* misaligned, zero or overflowing field */
	PVDMA_ST_BAD_GPA	= 2,	/* not guest RAM, or spans a hole */
	PVDMA_ST_NO_APERTURE	= 3,	/* would exceed aperture_bytes */
	PVDMA_ST_NO_MAPPINGS	= 4,	/* would exceed max_mappings */
	PVDMA_ST_NO_BUS_SPACE	= 5,	/* no free bus range that long */
	PVDMA_ST_NOT_MAPPED	= 6,	/* UNMAP of a bus address not mapped */
	PVDMA_ST_PARTIAL	= 7,	/* UNMAP range is not one whole mapping */
	PVDMA_ST_NOT_READY	= 8,	/* before HELLO, or host not serving */
	PVDMA_ST_BAD_OP		= 9,	/* unknown op or flags */
	PVDMA_ST_BAD_VERSION	= 10,	/* HELLO with a version/features we lack */
	PVDMA_ST_IO		= 11,	/* the IOMMU backend failed */
	PVDMA_ST_BAD_SLOT	= 12,	/* slot header invalid (count) */
	PVDMA_ST_COUNT
};

/**
 * struct pvdma_slot_hdr - one posted batch (32 bytes), entries follow
 * @seq:	nonzero tag the guest picks for this post (guest); a slot
 *		posted with 0 is refused (BAD_SLOT): done_seq starts at 0
 *		and could not tell its completion apart
 * @count:	entries in this slot, 1..max_batch (guest)
 * @flags:	zero (guest)
 * @done_seq:	set to @seq when every entry has its status (host)
 * @status:	PVDMA_ST_OK, or why the slot as a whole was refused (host)
 * @completed:	entries executed (host)
 * @reserved:	zero
 */
struct pvdma_slot_hdr {
	u32 seq;
	u16 count;
	u16 flags;
	u32 done_seq;
	u32 status;
	u32 completed;
	u32 reserved[3];
};

/**
 * struct pvdma_entry - one request (32 bytes)
 * @op:		enum pvdma_op (guest)
 * @flags:	PVDMA_MAP_* for MAP, zero otherwise (guest)
 * @status:	enum pvdma_status (host)
 * @gpa:	MAP: guest-physical start, iommu_page_size aligned (guest)
 * @len:	MAP/UNMAP/TRIM: length, iommu_page_size multiple (guest)
 * @bus:	MAP: bus address chosen by the host (host); UNMAP: what to
 *		release, exactly a bus address MAP returned (guest); TRIM:
 *		start of the part of one mapping to release (guest)
 */
struct pvdma_entry {
	u16 op;
	u16 flags;
	u32 status;
	u64 gpa;
	u64 len;
	u64 bus;
};

PVDMA_STATIC_ASSERT(sizeof(struct pvdma_shm_header) == 256, "header size");
PVDMA_STATIC_ASSERT(offsetof(struct pvdma_shm_header, guest_version) == 128,
		    "guest half of the header");
PVDMA_STATIC_ASSERT(offsetof(struct pvdma_shm_header, ring_errors) == 76,
		    "ring_errors follows sq_head");
PVDMA_STATIC_ASSERT(sizeof(struct pvdma_slot_hdr) == 32, "slot header size");
PVDMA_STATIC_ASSERT(sizeof(struct pvdma_entry) == 32, "entry size");

/* Defaults pvdmad offers. */
#define PVDMA_DEFAULT_RING_SLOTS	16
#define PVDMA_DEFAULT_MAX_BATCH		127	/* slot = 32 + 127 * 32 = 4 KiB */
/* Entries one doorbell carries with the default ring: every slot posted. */
#define PVDMA_DEFAULT_DOORBELL_BATCH \
	(PVDMA_DEFAULT_RING_SLOTS * PVDMA_DEFAULT_MAX_BATCH)
#define PVDMA_SLOT_SIZE(max_batch) \
	(sizeof(struct pvdma_slot_hdr) + (max_batch) * sizeof(struct pvdma_entry))

/*
 * Native-endian form of an entry, as the planner produces it and the host
 * executes it. The transport converts with pvdma_entry_{encode,decode}.
 */
struct pvdma_request {
	u16 op;
	u16 flags;
	u32 status;
	u64 gpa;
	u64 len;
	u64 bus;
};

/* Little-endian access, the same in both worlds. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define pvdma_le16(x)	__builtin_bswap16(x)
#define pvdma_le32(x)	__builtin_bswap32(x)
#define pvdma_le64(x)	__builtin_bswap64(x)
#else
#define pvdma_le16(x)	((u16)(x))
#define pvdma_le32(x)	((u32)(x))
#define pvdma_le64(x)	((u64)(x))
#endif

/* Wire -> native. @src may be shared memory: each field is read once. */
void pvdma_entry_decode(struct pvdma_request *dst, const struct pvdma_entry *src);
/* Native -> wire. */
void pvdma_entry_encode(struct pvdma_entry *dst, const struct pvdma_request *src);

/*
 * pvdma_op_check - validate the guest-controlled fields of a MAP or UNMAP
 * @op:		decoded entry
 * @page_size:	the IOMMU page size (power of two)
 *
 * Checks op, flags, alignment, zero length and gpa + len overflow. Whether
 * the range is guest RAM, and whether a bus range is mapped, is for the
 * caller (it knows the RAM layout and the IOMMU). Returns PVDMA_ST_*.
 */
u32 pvdma_op_check(const struct pvdma_request *op, u64 page_size);

/*
 * pvdma_ring_pending - slots posted but not consumed, or -1 if the guest's
 * tail is impossible (behind head, or more than @slots ahead).
 */
int pvdma_ring_pending(u32 head, u32 tail, u32 slots);

/* A short English name for a status, for logs and tools. */
const char *pvdma_status_name(u32 status);

/* Map a lib/ errno (negative) to the status the host reports. */
u32 pvdma_status_from_errno(int err);

#endif /* PVDMA_PROTO_H */
