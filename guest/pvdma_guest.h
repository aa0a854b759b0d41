/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvdma guest module: internal interfaces between its files.
 *
 * main.c	module parameters, init and exit, exported helpers
 * companion.c	PCI driver for the pvdma companion (ivshmem-doorbell whose
 *		BAR2 starts with PVDMA_MAGIC): negotiation, planner set-up
 * transport.c	the request ring in BAR2: post, doorbell, poll
 * managed.c	which devices pvdma serves, set_dma_ops() and restore
 * dma_ops.c	the struct dma_map_ops the managed devices use
 * debugfs.c	counters and the live window list
 * rawring.c	test-only raw ring access for pvdma_hostile.ko (hostile_tests=1)
 *
 * Locking: pvdma_comp.lock (a spinlock, taken with irqsave) protects the
 * planner, the transport and the companion's @live flag: every map, unmap
 * and sync takes it once and never sleeps under it. pvdma_managed_mutex
 * protects the managed-device list (process context only).
 */
#ifndef PVDMA_GUEST_H
#define PVDMA_GUEST_H

#include <linux/device.h>
#include <linux/dma-map-ops.h>
#include <linux/pci.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include <pvdma/planner.h>
#include <pvdma/proto.h>

#define PVDMA_DRV_NAME		"pvdma"
#define PVDMA_IVSHMEM_VENDOR	0x1af4
#define PVDMA_IVSHMEM_DEVICE	0x1110
#define PVDMA_BAR_REGS		0
#define PVDMA_BAR_SHM		2
#define PVDMA_MAX_RAM_RANGES	32
/* Request slots one submit posts per doorbell; a planner batch fits. */
#define PVDMA_ROUND_SLOTS	16

/* Module parameters, parsed once at load (main.c). */
struct pvdma_params {
	enum pvdma_policy policy;
	bool strict;
	enum pvdma_bounce_mode bounce;
	unsigned int bounce_pool_kb;
	unsigned int timeout_ms;
	unsigned int rfc_window_shift;
	unsigned int spec_shift;
	u64 max_window;
	bool hostile_tests;
	const char *managed;
};

extern struct pvdma_params pvdma_params;

/**
 * struct pvdma_transport - the guest end of the companion's request ring
 * @hdr:	shared header (BAR2 offset 0)
 * @ring:	slot 0
 * @doorbell:	BAR0 doorbell register
 * @nslots:	ring slots (power of two)
 * @slot_size:	bytes per slot
 * @max_batch:	entries per slot
 * @peer:	host peer id the doorbell names
 * @tail:	slots posted so far (our copy of sq_tail)
 * @seq:	last slot tag used (never 0)
 * @timeout_ns:	how long to poll for one round before giving up
 * @broken:	a round timed out or the host stopped serving: every later
 *		submit fails at once
 * @calls:	submits (host calls)
 * @doorbells:	doorbell writes
 * @slots_posted: slots posted
 * @timeouts:	rounds that timed out
 * @host_down:	submits that found the host's header no longer READY
 * @max_wait_ns: longest round trip seen
 *
 * Serialised by pvdma_comp.lock.
 */
struct pvdma_transport {
	struct pvdma_shm_header *hdr;
	u8 *ring;
	void __iomem *doorbell;
	u32 nslots;
	u32 slot_size;
	u32 max_batch;
	u32 peer;
	u32 tail;
	u32 seq;
	u64 timeout_ns;
	bool broken;
	u64 calls;
	u64 doorbells;
	u64 slots_posted;
	u64 timeouts;
	u64 host_down;
	u64 max_wait_ns;
};

/* One range of System RAM, [start, end). */
struct pvdma_ram_range {
	u64 start;
	u64 end;
};

/**
 * struct pvdma_companion - the one pvdma companion device of this guest
 * @lock:	protects everything below except @pdev, @regs, @shm
 * @live:	planner and transport usable (probe done, remove not begun)
 * @pdev:	the companion PCI device, NULL when unbound
 * @regs:	BAR0 (ivshmem registers)
 * @shm:	BAR2 (shared region), write-back mapped
 * @shm_len:	its length
 * @ivposition:	our peer id (the DMA device's domain_peer)
 * @bus_limit:	one past the highest bus address the host hands out
 * @max_map_bytes: the longest single mapping (aperture less bounce pool)
 * @tp:		the request ring
 * @planner:	the window planner
 * @pmem:	memory given to the planner
 * @segs:	scratch segments for one map_sg/unmap_sg call
 * @nsegs:	entries in @segs
 * @pool:	bounce pool pages, NULL when bounce is off
 * @pool_order:	its allocation order
 * @ram:	System RAM ranges, sorted and merged
 * @nram:	entries in @ram
 * @map_failures: failed driver maps (dma_ops view, all reasons)
 * @bad_unmaps:	unmaps the planner did not recognise
 * @dead_maps:	maps refused because the companion is gone
 */
struct pvdma_companion {
	spinlock_t lock;
	bool live;
	struct pci_dev *pdev;
	void __iomem *regs;
	void *shm;
	resource_size_t shm_len;
	u32 ivposition;
	u64 bus_limit;
	u64 max_map_bytes;
	struct pvdma_transport tp;
	struct pvdma_planner planner;
	struct pvdma_planner_mem pmem;
	struct pvdma_seg *segs;
	u32 nsegs;
	struct page *pool;
	unsigned int pool_order;
	struct pvdma_ram_range ram[PVDMA_MAX_RAM_RANGES];
	u32 nram;
	u64 map_failures;
	u64 bad_unmaps;
	u64 dead_maps;
};

extern struct pvdma_companion pvdma_comp;

/* companion.c */
int pvdma_companion_register(void);
void pvdma_companion_unregister(void);
bool pvdma_companion_is_live(void);

/* transport.c */
int pvdma_transport_init(struct pvdma_transport *tp, void *shm,
			 resource_size_t shm_len, void __iomem *regs,
			 u32 timeout_ms);
int pvdma_transport_check(struct pvdma_transport *tp);
int pvdma_transport_submit(void *ctx, struct pvdma_host_op *ops, u32 n);
int pvdma_transport_wait_ready(struct pvdma_shm_header *hdr, u32 timeout_ms);
int pvdma_transport_post_raw(struct pvdma_transport *tp,
			     struct pvdma_host_op *ops, u32 nents, u16 count,
			     u16 flags, u32 *status, u32 *completed);
void pvdma_transport_write_tail(struct pvdma_transport *tp, u32 tail);
int pvdma_transport_resync(struct pvdma_transport *tp);

/* managed.c */
int pvdma_managed_init(void);
void pvdma_managed_exit(void);
void pvdma_managed_attach_all(void);
void pvdma_managed_detach_unbound(void);
bool pvdma_bar2_magic(struct pci_dev *pdev, u32 *magic);
bool pvdma_is_managed(struct device *dev);

/* dma_ops.c */
extern const struct dma_map_ops pvdma_dma_ops;

/* debugfs.c */
void pvdma_debugfs_init(void);
void pvdma_debugfs_exit(void);

#endif /* PVDMA_GUEST_H */
