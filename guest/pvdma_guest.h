/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvdma guest module: internal interfaces between its files.
 *
 * main.c	module parameters, init and exit, exported helpers
 * companion.c	PCI driver for the companion device (ivshmem-doorbell whose
 *		BAR2 starts with PVDMA_MAGIC): BARs, header, HELLO
 * domain.c	the IOMMU domain the managed devices share: transport,
 *		planner state, bounce pool and RAM map, under one lock
 * ram_map.c	guest System RAM ranges, the planner's ram_range
 * transport.c	host requests over the ring (ring.c: the slot producer)
 * managed.c	which devices pvdma serves, their per-device context,
 *		set_dma_ops() and restore
 * dma_ops.c	the dma_map_ops the managed devices use
 * debugfs.c	counters, the live window list, per-device statistics
 *
 * Nothing test-only is linked in: the self-test modules live in
 * selftests/ and use only the symbols main.c exports.
 *
 * Locking: a domain's @lock (a spinlock, taken with irqsave) protects its
 * planner state, transport, @live flag and the statistics of the devices
 * attached to it: every map, unmap and sync takes it once and never
 * sleeps under it. The managed-device registry's mutex (managed.c)
 * protects the device list, attach/detach and which domain is current
 * (process context only).
 */
#ifndef PVDMA_GUEST_H
#define PVDMA_GUEST_H

#include <linux/device.h>
#include <linux/dma-map-ops.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/pci.h>
#include <linux/ratelimit.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include <pvdma/planner.h>
#include <pvdma/proto.h>

#include "ring.h"

#define PVDMA_DRV_NAME		"pvdma"
#define PVDMA_IVSHMEM_VENDOR	0x1af4
#define PVDMA_IVSHMEM_DEVICE	0x1110
#define PVDMA_BAR_REGS		0
#define PVDMA_BAR_SHM		2
/* Request slots one submit posts per doorbell; a planner batch fits. */
#define PVDMA_ROUND_SLOTS	16

/*
 * A map waits for the host spinning with interrupts off; how long it may
 * comes from the kernel's detectors. The hard-lockup detector
 * (kernel/watchdog.c) reports a CPU whose timer interrupts stopped for
 * watchdog_thresh seconds, 10 by default (soft lockup at twice that);
 * watchdog_thresh is not exported, so a module can only assume its
 * default. RCU reports a CPU stall after CONFIG_RCU_CPU_STALL_TIMEOUT
 * seconds (21 by default). A map waits at most half the smaller of the
 * two (main.c), leaving the other half to whatever else the CPU does
 * with interrupts off around the wait.
 */
#define PVDMA_LOCKUP_THRESH_MS	(10 * MSEC_PER_SEC)

/* Module parameters, parsed once at load (main.c), read-only after. */
struct pvdma_params {
	enum pvdma_policy policy;
	bool strict;
	enum pvdma_bounce_mode bounce;
	unsigned int bounce_pool_kb;
	unsigned int timeout_ms;
	unsigned int atomic_timeout_ms;
	unsigned int rfc_window_shift;
	unsigned int spec_shift;
	u64 max_window;
	const char *managed;
};

extern struct pvdma_params pvdma_params;

/**
 * struct pvdma_transport - host requests over the companion device's ring
 * @ring:	the slot producer
 * @timeout_ns:	how long a sleeping submit waits for one round
 * @atomic_timeout_ns: how long a spinning (atomic) submit waits for one
 *		round: timeout_ms capped by pvdma_atomic_wait_max_ms() (main.c)
 * @broken:	a round timed out or the host stopped serving: every later
 *		submit fails at once
 * @calls:	submits (host calls)
 * @doorbells:	doorbell writes
 * @slots_posted: slots posted
 * @timeouts:	rounds that timed out
 * @host_down:	submits that found the host's header no longer READY
 * @max_wait_ns: longest round trip seen
 *
 * Serialised by the domain's lock while the domain is live; before (probe)
 * and after (teardown) its one user owns it without the lock.
 */
struct pvdma_transport {
	struct pvdma_ring ring;
	u64 timeout_ns;
	u64 atomic_timeout_ns;
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
 * struct pvdma_ram_map - guest System RAM, sorted and merged
 * @ranges:	the ranges, as many as the guest has (never truncated)
 * @n:		entries in @ranges
 *
 * Built once at probe; windows are clipped to the range they start in.
 */
struct pvdma_ram_map {
	struct pvdma_ram_range *ranges;
	u32 n;
};

/**
 * struct pvdma_bounce_pool - guest memory the planner bounces through
 * @pages:	one contiguous allocation, NULL when bounce is off
 * @order:	its order
 * @bytes:	its size
 */
struct pvdma_bounce_pool {
	struct page *pages;
	unsigned int order;
	u64 bytes;
};

/**
 * struct pvdma_planner_state - the lib/ planner and the memory it is given
 * @planner:	the window planner
 * @mem:	its window records, batch and bounce slots
 * @segs:	scratch segments for one map_sg/unmap_sg call
 * @nsegs:	entries in @segs
 * @skip_copy:	the current call is an unmap carrying
 *		DMA_ATTR_SKIP_CPU_SYNC: no bounce copy back is made
 * @copies_skipped: bytes not copied because of it
 * @mmio:	the current call maps device memory (DMA_ATTR_MMIO or
 *		map_resource): its range is mapped exactly, never grown or
 *		clipped to RAM
 */
struct pvdma_planner_state {
	struct pvdma_planner planner;
	struct pvdma_planner_mem mem;
	struct pvdma_seg *segs;
	u32 nsegs;
	bool skip_copy;
	u64 copies_skipped;
	bool mmio;
};

/**
 * struct pvdma_domain - one host IOMMU domain, shared by the managed devices
 * @lock:	protects everything below except @ref and the fields set
 *		before @live (@ivposition, @bus_base, @bus_limit,
 *		@max_map_bytes)
 * @live:	planner and transport usable (set-up done, teardown not begun)
 * @ref:	one for the companion device, one per attached managed device
 * @dev:	the companion's struct device, for messages
 * @tp:		the transport
 * @ps:		the planner state
 * @pool:	the bounce pool
 * @ram:	the RAM map
 * @ivposition:	our peer id (the DMA device model's domain_peer)
 * @bus_base:	lowest bus address the host hands out
 * @bus_limit:	one past the highest
 * @max_map_bytes: the longest single mapping (aperture less bounce pool)
 * @map_failures: failed driver maps (all reasons)
 * @bad_unmaps:	unmaps the planner did not recognise
 * @dead_maps:	maps refused because the companion is gone
 * @attr_refusals: maps refused for a DMA attribute pvdma cannot honour
 * @seg_boundary_refusals: map_sg calls refused because a segment would
 *		cross the device's segment boundary on the bus
 * @mask_refusals: maps refused because the host placed them above the
 *		device's DMA mask
 * @fail_rs:	limits map failure messages to a few lines per burst (a
 *		workload over the limits fails many maps)
 * @host_may_map: teardown began and the host has not confirmed its RESET
 *		(still waiting, or it failed): the host may still map what
 *		was mapped, so memory a device may still target (the bounce
 *		pool, coherent buffers) is kept, never given back to the kernel
 *
 * A domain outlives its companion while a bound driver still holds
 * pvdma's ops: its maps then fail, @live being false.
 */
struct pvdma_domain {
	spinlock_t lock;	/* see @lock above */
	bool live;
	struct kref ref;
	struct device *dev;
	struct pvdma_transport tp;
	struct pvdma_planner_state ps;
	struct pvdma_bounce_pool pool;
	struct pvdma_ram_map ram;
	u32 ivposition;
	u64 bus_base;
	u64 bus_limit;
	u64 max_map_bytes;
	u64 map_failures;
	u64 bad_unmaps;
	u64 dead_maps;
	atomic64_t attr_refusals;
	u64 seg_boundary_refusals;
	u64 mask_refusals;
	struct ratelimit_state fail_rs;
	bool host_may_map;
};

/**
 * struct pvdma_mdev_stats - one managed device's DMA, as its driver saw it
 * @map_calls:	map calls (a map_sg is one)
 * @map_segments: segments in them
 * @mapped_bytes: bytes mapped, all calls
 * @unmap_calls: unmap calls
 * @live_bytes:	bytes mapped now
 * @peak_live_bytes: most at once
 * @bounced_segments: segments served by the bounce pool
 * @failed_maps: map calls that failed
 * @bad_unmaps:	unmaps of addresses pvdma never handed this device
 */
struct pvdma_mdev_stats {
	u64 map_calls;
	u64 map_segments;
	u64 mapped_bytes;
	u64 unmap_calls;
	u64 live_bytes;
	u64 peak_live_bytes;
	u64 bounced_segments;
	u64 failed_maps;
	u64 bad_unmaps;
};

/**
 * struct pvdma_mdev - a managed device: one PCI device pvdma serves
 * @ops:	this device's copy of pvdma's dma_map_ops: what
 *		get_dma_ops() returns while attached, so every DMA call
 *		reaches its context through container_of (pvdma_mdev_of())
 * @node:	in the registry's device list
 * @pdev:	the device (reference held)
 * @orig_ops:	its dma_map_ops before pvdma's (NULL: dma-direct)
 * @domain:	the domain it maps through (a reference), NULL when detached
 * @pinned:	a module reference is held for its bound driver
 * @stats:	its statistics, under @domain's lock
 */
struct pvdma_mdev {
	const struct dma_map_ops ops;
	struct list_head node;
	struct pci_dev *pdev;
	const struct dma_map_ops *orig_ops;
	struct pvdma_domain *domain;
	bool pinned;
	struct pvdma_mdev_stats stats;
};

/* domain.c */
struct pvdma_domain *pvdma_domain_create(struct device *dev, void *shm,
					 resource_size_t shm_len,
					 void __iomem *regs, u32 ivposition);
int pvdma_domain_hello(struct pvdma_domain *d);
int pvdma_domain_setup(struct pvdma_domain *d);
void pvdma_domain_teardown(struct pvdma_domain *d);
void pvdma_domain_get(struct pvdma_domain *d);
void pvdma_domain_put(struct pvdma_domain *d);

/* ram_map.c */
int pvdma_ram_map_build(struct pvdma_ram_map *ram);
void pvdma_ram_map_free(struct pvdma_ram_map *ram);
bool pvdma_ram_map_find(const struct pvdma_ram_map *ram, u64 gpa, u64 *start,
			u64 *end);

/* transport.c */
int pvdma_transport_init(struct pvdma_transport *tp, void *shm,
			 resource_size_t shm_len, void __iomem *regs,
			 u32 timeout_ms, u32 atomic_timeout_ms);
int pvdma_transport_check(struct pvdma_transport *tp);
int pvdma_transport_submit_sleep(struct pvdma_transport *tp,
				 struct pvdma_request *ops, u32 n);
int pvdma_transport_submit(struct pvdma_transport *tp,
			   struct pvdma_request *ops, u32 n);

/* companion.c */
int pvdma_companion_register(void);
void pvdma_companion_unregister(void);
bool pvdma_bar2_magic(struct pci_dev *pdev, u32 *magic);

/* managed.c */
int pvdma_managed_init(void);
void pvdma_managed_exit(void);
int pvdma_managed_bind_domain(struct pvdma_domain *d);
void pvdma_managed_unbind_domain(struct pvdma_domain *d);
struct pvdma_domain *pvdma_managed_domain_get(void);
struct pvdma_mdev *pvdma_mdev_of(struct device *dev);
void pvdma_managed_for_each(void (*fn)(struct pvdma_mdev *m, void *arg),
			    void *arg);

/* dma_ops.c */
extern const struct dma_map_ops pvdma_dma_ops_template;
bool pvdma_dma_ops_are_ours(const struct dma_map_ops *ops);

/* debugfs.c */
void pvdma_debugfs_init(void);
void pvdma_debugfs_exit(void);

#endif /* PVDMA_GUEST_H */
