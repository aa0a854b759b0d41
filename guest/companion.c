// SPDX-License-Identifier: GPL-2.0
/*
 * pvdma companion device: the PCI driver for the ivshmem-doorbell device
 * pvdmad serves (1af4:1110 whose BAR2 starts with PVDMA_MAGIC; other
 * ivshmem devices are refused with -ENODEV so their own drivers can bind).
 *
 * Probe: map BAR0 (registers) and BAR2 (the shared region), wait for the
 * host's header and check its version, then create the domain over its
 * ring (HELLO + RESET, planner set-up) and hand it to the managed-device
 * registry, which takes over the managed devices' DMA. Remove: the
 * registry gives driverless devices their ops back, the domain sends
 * RESET and forgets every window.
 *
 * One companion device per guest: the registry refuses a second domain,
 * and probe then fails with -EBUSY.
 */
#include <linux/io.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include "pvdma_guest.h"

/**
 * struct pvdma_companion_dev - the companion device as the guest drives it
 * @pdev:	its PCI device
 * @regs:	BAR0 (ivshmem registers)
 * @shm:	BAR2 (shared region), write-back mapped
 * @shm_len:	its length
 * @domain:	the domain over its ring (our reference)
 */
struct pvdma_companion_dev {
	struct pci_dev *pdev;
	void __iomem *regs;
	void *shm;
	resource_size_t shm_len;
	struct pvdma_domain *domain;
};

/**
 * pvdma_bar2_magic() - read the first word of an ivshmem device's BAR2
 * @pdev: a PCI device, bound or not (nothing is claimed)
 * @magic: where to store it
 *
 * A device no firmware or driver has enabled yet (arm64 virt booted with
 * -kernel: no firmware) does not decode its BARs; memory decoding is
 * switched on for the one read and back off after it.
 *
 * Return: true if @pdev is an ivshmem device whose BAR2 could be read.
 */
bool pvdma_bar2_magic(struct pci_dev *pdev, u32 *magic)
{
	resource_size_t start = pci_resource_start(pdev, PVDMA_BAR_SHM);
	unsigned long flags = pci_resource_flags(pdev, PVDMA_BAR_SHM);
	void __iomem *p;
	u16 cmd;

	if (pdev->vendor != PVDMA_IVSHMEM_VENDOR ||
	    pdev->device != PVDMA_IVSHMEM_DEVICE)
		return false;
	if (!start || pci_resource_len(pdev, PVDMA_BAR_SHM) < sizeof(u32) ||
	    !(flags & IORESOURCE_MEM) || (flags & IORESOURCE_UNSET))
		return false;
	p = ioremap(start, sizeof(u32));
	if (!p)
		return false;
	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	if (!(cmd & PCI_COMMAND_MEMORY))
		pci_write_config_word(pdev, PCI_COMMAND,
				      cmd | PCI_COMMAND_MEMORY);
	*magic = ioread32(p);
	if (!(cmd & PCI_COMMAND_MEMORY))
		pci_write_config_word(pdev, PCI_COMMAND, cmd);
	iounmap(p);
	return true;
}

static int pvdma_map_bars(struct pvdma_companion_dev *c)
{
	struct pci_dev *pdev = c->pdev;
	resource_size_t start = pci_resource_start(pdev, PVDMA_BAR_SHM);
	int ret;

	ret = pci_request_region(pdev, PVDMA_BAR_REGS, PVDMA_DRV_NAME);
	if (ret)
		return ret;
	ret = pci_request_region(pdev, PVDMA_BAR_SHM, PVDMA_DRV_NAME);
	if (ret)
		goto err_release_regs;
	c->regs = pci_iomap(pdev, PVDMA_BAR_REGS, 0);
	if (!c->regs) {
		ret = -ENOMEM;
		goto err_release_shm;
	}
	c->shm_len = pci_resource_len(pdev, PVDMA_BAR_SHM);
	c->shm = memremap(start, c->shm_len, MEMREMAP_WB);
	if (!c->shm) {
		ret = -ENOMEM;
		goto err_unmap_regs;
	}
	return 0;

err_unmap_regs:
	pci_iounmap(pdev, c->regs);
err_release_shm:
	pci_release_region(pdev, PVDMA_BAR_SHM);
err_release_regs:
	pci_release_region(pdev, PVDMA_BAR_REGS);
	return ret;
}

static void pvdma_unmap_bars(struct pvdma_companion_dev *c)
{
	memunmap(c->shm);
	pci_iounmap(c->pdev, c->regs);
	pci_release_region(c->pdev, PVDMA_BAR_SHM);
	pci_release_region(c->pdev, PVDMA_BAR_REGS);
}

/* The host's header: READY, and a major version we speak. */
static int pvdma_check_header(struct pvdma_companion_dev *c)
{
	struct pvdma_shm_header *hdr = c->shm;
	u32 version;
	int ret;

	if (c->shm_len < sizeof(*hdr))
		return -ENODEV;
	ret = pvdma_ring_wait_ready(hdr, pvdma_params.timeout_ms);
	if (ret) {
		dev_err(&c->pdev->dev, "pvdma: host not ready after %u ms (host_state %u)\n",
			pvdma_params.timeout_ms,
			pvdma_le32(READ_ONCE(hdr->host_state)));
		return ret;
	}
	version = pvdma_le32(READ_ONCE(hdr->version));
	if (version >> 16 != PVDMA_PROTO_VERSION_MAJOR) {
		dev_err(&c->pdev->dev, "pvdma: host speaks protocol %u.%u, we speak %u.%u\n",
			version >> 16, version & 0xffff,
			PVDMA_PROTO_VERSION_MAJOR, PVDMA_PROTO_VERSION_MINOR);
		return -EPROTO;
	}
	return 0;
}

/* Create the domain over the ring, say HELLO, set it up, register it. */
static int pvdma_companion_start_domain(struct pvdma_companion_dev *c)
{
	struct pvdma_domain *d;
	u32 ivposition = ioread32(c->regs + PVDMA_IVSHMEM_REG_IVPOSITION);
	int ret;

	d = pvdma_domain_create(&c->pdev->dev, c->shm, c->shm_len, c->regs,
				ivposition);
	if (IS_ERR(d))
		return PTR_ERR(d);
	ret = pvdma_domain_hello(d);
	if (ret)
		goto err_put;
	ret = pvdma_domain_setup(d);
	if (ret)
		goto err_put;
	ret = pvdma_managed_bind_domain(d);
	if (ret) {
		dev_warn(&c->pdev->dev, "pvdma: another companion device is already bound; one per guest\n");
		goto err_teardown;
	}
	c->domain = d;
	return 0;

err_teardown:
	pvdma_domain_teardown(d);
err_put:
	pvdma_domain_put(d);
	return ret;
}

static int pvdma_companion_probe(struct pci_dev *pdev,
				 const struct pci_device_id *id)
{
	struct pvdma_companion_dev *c;
	u32 magic;
	int ret;

	if (!pvdma_bar2_magic(pdev, &magic) || magic != PVDMA_MAGIC)
		return -ENODEV;
	c = kzalloc(sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	c->pdev = pdev;
	ret = pci_enable_device(pdev);
	if (ret)
		goto err_free;
	ret = pvdma_map_bars(c);
	if (ret)
		goto err_disable;
	ret = pvdma_check_header(c);
	if (ret)
		goto err_unmap_bars;
	/* Bus mastering before any managed device can map through us. */
	pci_set_master(pdev);
	ret = pvdma_companion_start_domain(c);
	if (ret)
		goto err_clear_master;
	pci_set_drvdata(pdev, c);
	return 0;

err_clear_master:
	pci_clear_master(pdev);
err_unmap_bars:
	pvdma_unmap_bars(c);
err_disable:
	pci_disable_device(pdev);
err_free:
	kfree(c);
	return ret;
}

static void pvdma_companion_remove(struct pci_dev *pdev)
{
	struct pvdma_companion_dev *c = pci_get_drvdata(pdev);

	pvdma_managed_unbind_domain(c->domain);
	pvdma_domain_teardown(c->domain);
	pvdma_domain_put(c->domain);
	pci_clear_master(pdev);
	pvdma_unmap_bars(c);
	pci_disable_device(pdev);
	kfree(c);
}

static const struct pci_device_id pvdma_companion_ids[] = {
	{ PCI_DEVICE(PVDMA_IVSHMEM_VENDOR, PVDMA_IVSHMEM_DEVICE) },
	{ }
};
MODULE_DEVICE_TABLE(pci, pvdma_companion_ids);

static struct pci_driver pvdma_companion_driver = {
	.name		= PVDMA_DRV_NAME,
	.id_table	= pvdma_companion_ids,
	.probe		= pvdma_companion_probe,
	.remove		= pvdma_companion_remove,
};

/**
 * pvdma_companion_register() - register the companion PCI driver
 *
 * Return: 0 or a negative errno.
 */
int pvdma_companion_register(void)
{
	return pci_register_driver(&pvdma_companion_driver);
}

/**
 * pvdma_companion_unregister() - unbind the companion, release the host
 */
void pvdma_companion_unregister(void)
{
	pci_unregister_driver(&pvdma_companion_driver);
}
