/* SPDX-License-Identifier: MIT */
/*
 * In-memory harness for the host request path: a companion over a heap
 * region and heap "guest RAM", a DMA device bound to it, and helpers that
 * post like a guest driver would. Shared by the unit tests and the fuzzers;
 * header-only so each links only the host core.
 */
#ifndef PVDMA_TESTS_HOST_HARNESS_H
#define PVDMA_TESTS_HOST_HARNESS_H

#include <stdlib.h>
#include <string.h>

#include <pvdma/dmadev.h>
#include <pvdma/proto.h>

#include "host/companion.h"
#include "host/dmadev_model.h"

#include "producer.h"

#define H_PAGE		(16ull << 10)
#ifndef H_RAM_SIZE
#define H_RAM_SIZE	(4ull << 20)	/* 4 MiB of RAM, all below 4 GiB */
#endif
#define H_RW		(PVDMA_MAP_READ | PVDMA_MAP_WRITE)

struct harness {
	struct companion_config cfg;
	struct pvdma_companion c;
	void *shm;
	u64 shm_size;
	u8 *ram;
	struct dmadev_config dcfg;
	struct pvdma_dmadev dev;
	void *dshm;
	u64 dshm_size;
	u32 seq;
};

static inline struct dma_domain *harness_resolve(void *ctx, u32 peer)
{
	struct harness *h = ctx;

	return peer == h->c.id ? companion_dma_domain(&h->c, false) : NULL;
}

/* Small limits so tests reach them: 16 mappings, 64 pages of aperture. */
static inline int harness_init(struct harness *h)
{
	memset(h, 0, sizeof(*h));
	h->cfg.ring_slots = 4;
	h->cfg.max_batch = 8;
	h->cfg.iommu.page_size = H_PAGE;
	h->cfg.iommu.aperture_bytes = 64 * H_PAGE;
	h->cfg.iommu.max_mappings = 16;
	h->cfg.iommu.bus_base = H_PAGE;
	h->cfg.iommu.bus_limit = 1ull << 32;
	h->shm_size = companion_shm_size(&h->cfg);
	h->shm = calloc(1, h->shm_size);
	h->ram = calloc(1, H_RAM_SIZE);
	h->dcfg.queue_entries = 8;
	h->dcfg.max_len = 256 << 10;
	h->dshm_size = dmadev_shm_size(&h->dcfg);
	h->dshm = calloc(1, h->dshm_size);
	if (!h->shm || !h->ram || !h->dshm)
		return -1;
	if (companion_init(&h->c, h->shm, h->shm_size, &h->cfg,
			   pvdma_iommu_dart_create(&h->cfg.iommu), 0, 7))
		return -1;
	if (guest_ram_init_buffer(&h->c.ram, h->ram, H_RAM_SIZE, GUEST_RAM_Q35, 0))
		return -1;
	if (dmadev_init(&h->dev, h->dshm, h->dshm_size, &h->dcfg, 0, 9,
			harness_resolve, h))
		return -1;
	return 0;
}

/* A fresh companion and DMA device over the same buffers (fuzzers). */
static inline int harness_reset(struct harness *h)
{
	dmadev_destroy(&h->dev);
	companion_destroy(&h->c);
	memset(h->shm, 0, h->shm_size);
	memset(h->dshm, 0, h->dshm_size);
	h->seq = 0;
	if (companion_init(&h->c, h->shm, h->shm_size, &h->cfg,
			   pvdma_iommu_dart_create(&h->cfg.iommu), 0, 7))
		return -1;
	if (guest_ram_init_buffer(&h->c.ram, h->ram, H_RAM_SIZE, GUEST_RAM_Q35, 0))
		return -1;
	return dmadev_init(&h->dev, h->dshm, h->dshm_size, &h->dcfg, 0, 9,
			   harness_resolve, h);
}

static inline void harness_fini(struct harness *h)
{
	dmadev_destroy(&h->dev);
	h->c.ram = (struct guest_ram){ 0 };	/* heap RAM: ours to free */
	companion_destroy(&h->c);
	free(h->shm);
	free(h->ram);
	free(h->dshm);
}

static inline struct pvdma_shm_header *harness_hdr(struct harness *h)
{
	return h->shm;
}

static inline struct pvdma_slot_hdr *harness_slot(struct harness *h, u32 index)
{
	return (struct pvdma_slot_hdr *)((u8 *)h->shm + COMPANION_RING_OFFSET +
		(u64)(index & (h->cfg.ring_slots - 1)) * PVDMA_SLOT_SIZE(h->cfg.max_batch));
}

/* Post @n entries as one slot and run the ring; returns the slot. */
static inline struct pvdma_slot_hdr *harness_post(struct harness *h,
						  const struct pvdma_request *ops,
						  u32 n)
{
	struct pvdma_shm_header *hdr = harness_hdr(h);
	struct pvdma_slot_hdr *slot = harness_slot(h, hdr->sq_tail);

	/* a slot clean to its end, so a test sees only what it posted */
	memset(slot, 0, PVDMA_SLOT_SIZE(h->cfg.max_batch));
	producer_write_slot(slot, ops, n, ++h->seq);
	producer_publish(&hdr->sq_tail, hdr->sq_tail + 1);
	companion_process(&h->c);
	return slot;
}

static inline struct pvdma_entry *harness_entry(struct pvdma_slot_hdr *slot,
						u32 i)
{
	return producer_entry(slot, i);
}

/* Post one entry; returns its status, *bus gets the entry's bus field. */
static inline u32 harness_one(struct harness *h, u16 op, u16 flags, u64 gpa,
			      u64 len, u64 bus_in, u64 *bus)
{
	struct pvdma_request o = {
		.op = op, .flags = flags, .gpa = gpa, .len = len, .bus = bus_in,
	};
	struct pvdma_slot_hdr *slot = harness_post(h, &o, 1);

	if (bus)
		*bus = harness_entry(slot, 0)->bus;
	return harness_entry(slot, 0)->status;
}

static inline u32 harness_hello(struct harness *h)
{
	harness_hdr(h)->guest_version = PVDMA_PROTO_VERSION;
	harness_hdr(h)->guest_features = 0;
	return harness_one(h, PVDMA_OP_HELLO, 0, 0, 0, 0, NULL);
}

static inline u32 harness_map(struct harness *h, u64 gpa, u64 len, u16 perm,
			      u64 *bus)
{
	return harness_one(h, PVDMA_OP_MAP, perm, gpa, len, 0, bus);
}

static inline struct pvdma_dev_header *harness_dhdr(struct harness *h)
{
	return h->dshm;
}

/* Post one DMA command on domain_peer @peer and run the queue. */
static inline struct pvdma_dev_cmd *harness_dma_peer(struct harness *h,
						     u32 peer, u16 op, u64 src,
						     u64 dst, u64 len,
						     u64 pattern)
{
	struct pvdma_dev_header *dh = harness_dhdr(h);
	struct pvdma_dev_cmd *cmd = producer_write_cmd(
		(struct pvdma_dev_cmd *)((u8 *)h->dshm + DMADEV_QUEUE_OFFSET),
		h->dcfg.queue_entries, dh->sq_tail, op, src, dst, len, pattern,
		++h->seq);

	dh->domain_peer = peer;
	producer_publish(&dh->sq_tail, dh->sq_tail + 1);
	dmadev_process(&h->dev);
	return cmd;
}

/* Post one DMA command bound to the harness's companion. */
static inline struct pvdma_dev_cmd *harness_dma(struct harness *h, u16 op,
						u64 src, u64 dst, u64 len,
						u64 pattern)
{
	return harness_dma_peer(h, h->c.id, op, src, dst, len, pattern);
}

#endif /* PVDMA_TESTS_HOST_HARNESS_H */
