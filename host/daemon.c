// SPDX-License-Identifier: MIT
/*
 * pvdmad core: per-connection device state behind the two ivshmem servers.
 *
 * A DMA device may only use the IOMMU domain of a companion connected from
 * the same process (SO_PEERCRED pid): one QEMU's devices, never another
 * VM's memory, whatever domain_peer the guest writes.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon.h"
#include "log.h"

void pvdmad_default_config(struct pvdmad_config *cfg)
{
	*cfg = (struct pvdmad_config){ 0 };
	cfg->companion.ring_slots = PVDMA_DEFAULT_RING_SLOTS;
	cfg->companion.max_batch = PVDMA_DEFAULT_MAX_BATCH;
	pvdma_iommu_default_config(&cfg->companion.iommu);
	cfg->companion.ram.machine = GUEST_RAM_Q35;
	cfg->dmadev.queue_entries = 64;
	cfg->dmadev.max_len = 4u << 20;
}

static bool pvdmad_id_in_use(struct pvdmad *d, u32 id)
{
	return ivshmem_server_find(&d->companions, id) ||
	       ivshmem_server_find(&d->dma, id);
}

/* Ids 1..65535, unique among live clients of both servers. */
static u32 pvdmad_id_alloc(void *ctx)
{
	struct pvdmad *d = ctx;
	u32 tries;

	for (tries = 0; tries < IVSHMEM_MAX_PEER_ID; tries++) {
		d->next_id = d->next_id % IVSHMEM_MAX_PEER_ID + 1;
		if (!pvdmad_id_in_use(d, d->next_id))
			return d->next_id;
	}
	return 0;
}

static int companion_client_init(void *ctx, struct ivshmem_client *cl)
{
	struct pvdmad *d = ctx;
	struct pvdma_companion *c;
	struct pvdma_iommu *iommu;
	int err;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	iommu = pvdma_iommu_dart_create(&d->cfg.companion.iommu);
	if (d->cfg.fault.enabled)
		iommu = pvdma_iommu_fault_create(iommu, &d->cfg.fault, cl->id);
	err = companion_init(c, cl->shm, cl->shm_size, &d->cfg.companion, iommu,
			     IVSHMEM_HOST_PEER_ID, cl->id);
	if (err) {
		companion_destroy(c);
		free(c);
		return err;
	}
	cl->priv = c;
	d->totals.guests++;
	return 0;
}

static int companion_client_doorbell(void *ctx, struct ivshmem_client *cl)
{
	return companion_process(cl->priv);
}

static void companion_client_fini(void *ctx, struct ivshmem_client *cl)
{
	struct pvdmad *d = ctx;
	struct pvdma_companion *c = cl->priv;
	u64 before = c->stats.released;

	companion_destroy(c);
	d->totals.released += c->stats.released - before;
	pvdmad_log(PVDMAD_LOG_INFO, "companion %u: released %llu mappings",
		   c->id, (unsigned long long)(c->stats.released - before));
	free(c);
}

static const struct ivshmem_server_ops companion_server_ops = {
	.client_init	= companion_client_init,
	.doorbell	= companion_client_doorbell,
	.client_fini	= companion_client_fini,
};

/**
 * struct dma_client - a DMA device and the process it belongs to
 * @dev:	the device
 * @daemon:	for the domain lookup
 * @pid:	its QEMU
 */
struct dma_client {
	struct pvdma_dmadev dev;
	struct pvdmad *daemon;
	pid_t pid;
};

static struct pvdma_companion *dma_resolve(void *ctx, u32 domain_peer)
{
	struct dma_client *dc = ctx;
	struct ivshmem_client *cl;

	if (domain_peer == PVDMA_DEV_DOMAIN_IDENTITY) {
		/* No IOMMU, but still only its own QEMU's guest RAM. */
		for (cl = dc->daemon->companions.clients; cl; cl = cl->next)
			if (!cl->dead && cl->pid == dc->pid && cl->priv)
				return cl->priv;
		return NULL;
	}
	cl = ivshmem_server_find(&dc->daemon->companions, domain_peer);
	if (!cl || cl->pid != dc->pid)
		return NULL;
	return cl->priv;
}

static int dma_client_init(void *ctx, struct ivshmem_client *cl)
{
	struct pvdmad *d = ctx;
	struct dma_client *dc;
	int err;

	dc = calloc(1, sizeof(*dc));
	if (!dc)
		return -ENOMEM;
	dc->daemon = d;
	dc->pid = cl->pid;
	err = dmadev_init(&dc->dev, cl->shm, cl->shm_size, &d->cfg.dmadev,
			  IVSHMEM_HOST_PEER_ID, cl->id, dma_resolve, dc);
	if (err) {
		free(dc);
		return err;
	}
	cl->priv = dc;
	d->totals.dma_devices++;
	return 0;
}

static int dma_client_doorbell(void *ctx, struct ivshmem_client *cl)
{
	struct dma_client *dc = cl->priv;

	return dmadev_process(&dc->dev);
}

static void dma_client_fini(void *ctx, struct ivshmem_client *cl)
{
	struct dma_client *dc = cl->priv;

	dmadev_destroy(&dc->dev);
	free(dc);
}

static const struct ivshmem_server_ops dma_server_ops = {
	.client_init	= dma_client_init,
	.doorbell	= dma_client_doorbell,
	.client_fini	= dma_client_fini,
};

static void pvdmad_setup_server(struct pvdmad *d, struct ivshmem_server *srv,
				const char *name, const char *path, u64 shm_size,
				const struct ivshmem_server_ops *ops)
{
	*srv = (struct ivshmem_server){
		.name = name, .path = path, .listen_fd = -1, .shm_size = shm_size,
		.ops = ops, .ctx = d, .id_alloc = pvdmad_id_alloc, .id_ctx = d,
	};
}

int pvdmad_start(struct pvdmad *d)
{
	int err;

	d->control_fd = -1;
	if (companion_config_check(&d->cfg.companion) ||
	    dmadev_config_check(&d->cfg.dmadev))
		return -EINVAL;
	err = evloop_init(&d->loop);
	if (err)
		return err;
	pvdmad_setup_server(d, &d->companions, "companion", d->cfg.socket_path,
			    companion_shm_size(&d->cfg.companion),
			    &companion_server_ops);
	pvdmad_setup_server(d, &d->dma, "dma", d->cfg.dma_socket_path,
			    dmadev_shm_size(&d->cfg.dmadev), &dma_server_ops);
	err = ivshmem_server_start(&d->companions, &d->loop);
	if (err)
		goto err_loop;
	if (d->cfg.dma_socket_path) {
		err = ivshmem_server_start(&d->dma, &d->loop);
		if (err)
			goto err_companions;
	}
	if (d->cfg.control_path) {
		err = pvdmad_control_start(d);
		if (err)
			goto err_dma;
	}
	return 0;

err_dma:
	if (d->cfg.dma_socket_path)
		ivshmem_server_stop(&d->dma);
err_companions:
	ivshmem_server_stop(&d->companions);
err_loop:
	evloop_fini(&d->loop);
	return err;
}

int pvdmad_run_once(struct pvdmad *d, int timeout_ms)
{
	int n = evloop_run_once(&d->loop, timeout_ms);

	ivshmem_server_reap(&d->companions);
	ivshmem_server_reap(&d->dma);
	return n;
}

void pvdmad_stop(struct pvdmad *d)
{
	pvdmad_control_stop(d);
	/* DMA devices first: they point into the companions' domains. */
	if (d->cfg.dma_socket_path)
		ivshmem_server_stop(&d->dma);
	ivshmem_server_stop(&d->companions);
	evloop_fini(&d->loop);
}
