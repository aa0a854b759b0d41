// SPDX-License-Identifier: GPL-2.0
/*
 * pvdma_dmatest: the PCI driver for pvdmad's DMA device model (an
 * ivshmem-doorbell device whose BAR2 starts with PVDMA_DEV_MAGIC; others
 * are refused with -ENODEV) and its command queue.
 *
 * The queue is polled, never waited on, so commands can be run from any
 * context. The device's bus addresses go through the IOMMU domain of the
 * companion device named in domain_peer, which the module linking this
 * file tells us (pvdma.ko's, or the hostile test's own). Several devices
 * may be bound at once (a GPU and its audio function share one domain);
 * each is one struct dmatest_dev.
 */
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/ktime.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/processor.h>

#include "dmatest.h"

#define DMATEST_BAR_REGS	0
#define DMATEST_BAR_SHM		2
#define DMATEST_REG_DOORBELL	0x0c
#define DMATEST_TIMEOUT_NS	(5ull * NSEC_PER_SEC)

/*
 * The devices bound, in probe order, and where their domain peer comes
 * from; set by dmatest_dev_register() and read-only while registered.
 */
static LIST_HEAD(dmatest_devs);
static int (*dmatest_domain_peer)(struct device *dev);

/* Probe sets a 64-bit mask; false keeps the PCI default, as drivers may. */
bool dmatest_set_mask = true;

/**
 * dmatest_dev_nth() - the @n-th bound DMA device, in probe order
 * @n: 0 for the first
 *
 * Return: the device or NULL.
 */
struct dmatest_dev *dmatest_dev_nth(unsigned int n)
{
	struct dmatest_dev *d;

	list_for_each_entry(d, &dmatest_devs, node)
		if (!n--)
			return d;
	return NULL;
}

/**
 * dmatest_dev_get() - the first bound DMA device, if any
 *
 * Return: the device or NULL.
 */
struct dmatest_dev *dmatest_dev_get(void)
{
	return dmatest_dev_nth(0);
}

static u32 dmatest_next_seq(struct dmatest_dev *d)
{
	if (++d->seq == 0)
		d->seq = 1;
	return d->seq;
}

static void dmatest_post(struct dmatest_dev *d, u32 index,
			 const struct dmatest_cmd *c, u32 seq)
{
	struct pvdma_dev_cmd *w = &d->queue[index & (d->entries - 1)];

	WRITE_ONCE(w->op, pvdma_le16(c->op));
	WRITE_ONCE(w->flags, 0);
	WRITE_ONCE(w->status, pvdma_le32(PVDMA_DEV_ST_INVALID));
	WRITE_ONCE(w->src, pvdma_le64(c->src));
	WRITE_ONCE(w->dst, pvdma_le64(c->dst));
	WRITE_ONCE(w->len, pvdma_le64(c->len));
	WRITE_ONCE(w->pattern, pvdma_le64(c->pattern));
	WRITE_ONCE(w->result, 0);
	WRITE_ONCE(w->fault_bus, 0);
	WRITE_ONCE(w->done_seq, 0);
	/* The command before seq: seq makes it the device's. */
	virt_wmb();
	WRITE_ONCE(w->seq, pvdma_le32(seq));
}

static bool dmatest_wait(struct dmatest_dev *d, u32 index, u32 seq,
			 struct dmatest_cmd *c, u64 deadline)
{
	struct pvdma_dev_cmd *w = &d->queue[index & (d->entries - 1)];

	while (pvdma_le32(READ_ONCE(w->done_seq)) != seq) {
		if (ktime_get_ns() > deadline)
			return false;
		cpu_relax();
	}
	/* The results after done_seq, which the device writes last. */
	virt_rmb();
	c->status = pvdma_le32(READ_ONCE(w->status));
	c->result = pvdma_le64(READ_ONCE(w->result));
	c->fault_bus = pvdma_le64(READ_ONCE(w->fault_bus));
	return true;
}

/**
 * dmatest_dev_run() - run commands on the device, one doorbell per batch
 * @d: the device
 * @cmds: commands (len <= d->max_len each); status/result filled
 * @n: how many
 *
 * Any context: the queue lock is taken irqsave and completion is polled.
 *
 * Return: 0 once every command has a status, -EINVAL for a command longer
 * than max_len, -ETIMEDOUT if the device did not answer.
 */
int dmatest_dev_run(struct dmatest_dev *d, struct dmatest_cmd *cmds, u32 n)
{
	u32 seqs[32], i, k, batch;
	unsigned long flags;
	u64 deadline;
	int ret = 0;

	for (i = 0; i < n; i++)
		if (!cmds[i].len || cmds[i].len > d->max_len)
			return -EINVAL;
	spin_lock_irqsave(&d->lock, flags);
	/* A device that timed out once is gone (pvdmad died): no more waits. */
	if (d->timeouts)
		ret = -EIO;
	for (i = 0; i < n && !ret; i += batch) {
		batch = min3(n - i, d->entries, (u32)ARRAY_SIZE(seqs));
		for (k = 0; k < batch; k++) {
			seqs[k] = dmatest_next_seq(d);
			dmatest_post(d, d->tail + k, &cmds[i + k], seqs[k]);
		}
		/* Every command of the batch before the tail hands them over. */
		virt_wmb();
		WRITE_ONCE(d->hdr->sq_tail, pvdma_le32(d->tail + batch));
		iowrite32(d->peer << 16, d->regs + DMATEST_REG_DOORBELL);
		d->doorbells++;
		deadline = ktime_get_ns() + d->timeout_ns;
		for (k = 0; k < batch; k++) {
			if (!dmatest_wait(d, d->tail + k, seqs[k], &cmds[i + k],
					  deadline)) {
				d->timeouts++;
				ret = -ETIMEDOUT;
				break;
			}
			d->cmds++;
		}
		d->tail += batch;
	}
	spin_unlock_irqrestore(&d->lock, flags);
	return ret;
}

static int dmatest_check_header(struct dmatest_dev *d, resource_size_t len)
{
	struct pvdma_dev_header *h = d->shm;
	u32 off = pvdma_le32(READ_ONCE(h->queue_offset));
	u32 entries = pvdma_le32(READ_ONCE(h->queue_entries));

	if (pvdma_le32(READ_ONCE(h->version)) != PVDMA_DEV_VERSION ||
	    !is_power_of_2(entries) || off < sizeof(*h) ||
	    off % sizeof(struct pvdma_dev_cmd) ||
	    (u64)off + (u64)entries * sizeof(struct pvdma_dev_cmd) > len)
		return -EPROTO;
	d->hdr = h;
	d->queue = (struct pvdma_dev_cmd *)((u8 *)d->shm + off);
	d->entries = entries;
	d->max_len = pvdma_le32(READ_ONCE(h->max_len));
	d->peer = pvdma_le32(READ_ONCE(h->host_peer_id));
	d->tail = pvdma_le32(READ_ONCE(h->sq_tail));
	if (!d->max_len || pvdma_le32(READ_ONCE(h->sq_head)) != d->tail)
		return -EPROTO;
	return 0;
}

/*
 * A device served through DMA ops (pvdma's, which may bounce) needs its
 * syncs: the DMA API must not decide to skip them (6.10+ caches that per
 * device, from the ops it had when its driver last set the mask).
 * dma-direct (the hostile test's devices) decides that for itself.
 */
static void dmatest_check_syncs(struct pci_dev *pdev, struct dmatest_dev *d)
{
	dma_addr_t a;

	if (!get_dma_ops(&pdev->dev))
		return;
	a = dma_map_single(&pdev->dev, d, sizeof(*d), DMA_TO_DEVICE);
	if (dma_mapping_error(&pdev->dev, a))
		return;
	if (!dma_need_sync(&pdev->dev, a))
		dev_err(&pdev->dev, "dmatest: dma_need_sync() is false: the DMA API drops this device's syncs, bounce copies with them\n");
	dma_unmap_single(&pdev->dev, a, sizeof(*d), DMA_TO_DEVICE);
}

static int dmatest_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	resource_size_t start, len;
	struct dmatest_dev *d;
	int ret, peer;

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	start = pci_resource_start(pdev, DMATEST_BAR_SHM);
	len = pci_resource_len(pdev, DMATEST_BAR_SHM);
	if (len < sizeof(struct pvdma_dev_header))
		return -ENODEV;
	d = devm_kzalloc(&pdev->dev, sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	ret = pcim_iomap_regions(pdev, BIT(DMATEST_BAR_REGS), "pvdma_dmatest");
	if (ret)
		return ret;
	d->regs = pcim_iomap_table(pdev)[DMATEST_BAR_REGS];
	d->shm = devm_memremap(&pdev->dev, start, len, MEMREMAP_WB);
	if (IS_ERR(d->shm))
		return PTR_ERR(d->shm);
	if (pvdma_le32(READ_ONCE(((struct pvdma_dev_header *)d->shm)->magic)) !=
	    PVDMA_DEV_MAGIC)
		return -ENODEV;
	ret = dmatest_check_header(d, len);
	if (ret) {
		dev_err(&pdev->dev, "dmatest: bad DMA device header\n");
		return ret;
	}
	/* First, as drivers do: a probe that fails later has set it too. */
	ret = dmatest_set_mask ?
	      dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64)) : 0;
	if (ret) {
		dev_err(&pdev->dev, "dmatest: 64-bit DMA refused (%d)\n", ret);
		return ret;
	}
	peer = dmatest_domain_peer(&pdev->dev);
	if (peer < 0) {
		dev_err(&pdev->dev, "dmatest: no companion device serves this device's DMA; load pvdma.ko first\n");
		return -ENODEV;
	}
	WRITE_ONCE(d->hdr->domain_peer, pvdma_le32(peer));
	dmatest_check_syncs(pdev, d);
	pci_set_master(pdev);
	spin_lock_init(&d->lock);
	d->pdev = pdev;
	d->timeout_ns = DMATEST_TIMEOUT_NS;
	pci_set_drvdata(pdev, d);
	list_add_tail(&d->node, &dmatest_devs);
	dev_info(&pdev->dev, "dmatest: DMA device model bound, domain peer %d, %u commands of up to %u bytes\n",
		 peer, d->entries, d->max_len);
	return 0;
}

static void dmatest_remove(struct pci_dev *pdev)
{
	struct dmatest_dev *d = pci_get_drvdata(pdev);

	list_del(&d->node);
	pci_clear_master(pdev);
}

static const struct pci_device_id dmatest_ids[] = {
	{ PCI_DEVICE(0x1af4, 0x1110) },
	{ }
};

/*
 * No MODULE_DEVICE_TABLE: this file is linked into several test modules,
 * which are loaded by hand, never by alias, and since 6.x a table in an
 * object shared by modules does not build (its KBUILD_MODNAME is a list).
 */

static struct pci_driver dmatest_driver = {
	.name		= "pvdma_dmatest",
	.id_table	= dmatest_ids,
	.probe		= dmatest_probe,
	.remove		= dmatest_remove,
};

/**
 * dmatest_dev_register() - register the DMA device driver
 * @domain_peer: says which companion device's domain a device's DMA goes
 *		 through (its IVPOSITION), or a negative errno
 *
 * Return: 0 or a negative errno.
 */
int dmatest_dev_register(int (*domain_peer)(struct device *dev))
{
	dmatest_domain_peer = domain_peer;
	return pci_register_driver(&dmatest_driver);
}

/**
 * dmatest_dev_unregister() - unregister it
 */
void dmatest_dev_unregister(void)
{
	pci_unregister_driver(&dmatest_driver);
}
