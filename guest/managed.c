// SPDX-License-Identifier: GPL-2.0
/*
 * pvdma managed devices: which PCI devices get pvdma's dma_map_ops, when
 * they get them and when they give them back.
 *
 * A device is managed if the managed= parameter names it, or (by default)
 * if it is the pvdma DMA device model: an ivshmem device whose BAR2 starts
 * with PVDMA_DEV_MAGIC. Its ops are replaced only while no driver is bound
 * (at companion probe, at hot-add, or just before a driver binds), so a
 * driver never sees its DMA ops change under it.
 *
 * While a driver is bound to a device with pvdma's ops, pvdma holds a
 * module reference: rmmod pvdma is refused until that driver is unbound.
 * If the companion goes away first (sysfs unbind), the device keeps
 * pvdma's ops, whose maps then fail cleanly, until its driver unbinds;
 * then its original ops come back.
 */
#include <linux/io.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <pvdma/dmadev.h>

#include "pvdma_guest.h"

/**
 * struct pvdma_managed - one device pvdma serves or waits to serve
 * @node:	in pvdma_managed_list
 * @pdev:	the device (reference held)
 * @orig_ops:	its dma_map_ops before pvdma's (NULL: dma-direct)
 * @attached:	pvdma's ops are installed
 * @pinned:	a module reference is held for its bound driver
 */
struct pvdma_managed {
	struct list_head node;
	struct pci_dev *pdev;
	const struct dma_map_ops *orig_ops;
	bool attached;
	bool pinned;
};

/* Protects pvdma_managed_list and every entry on it. */
static DEFINE_MUTEX(pvdma_managed_mutex);
static LIST_HEAD(pvdma_managed_list);

/**
 * pvdma_bar2_magic() - read the first word of an ivshmem device's BAR2
 * @pdev: a PCI device, bound or not (nothing is claimed)
 * @magic: where to store it
 *
 * Return: true if @pdev is an ivshmem device whose BAR2 could be read.
 */
bool pvdma_bar2_magic(struct pci_dev *pdev, u32 *magic)
{
	resource_size_t start = pci_resource_start(pdev, PVDMA_BAR_SHM);
	void __iomem *p;
	u16 cmd;

	if (pdev->vendor != PVDMA_IVSHMEM_VENDOR ||
	    pdev->device != PVDMA_IVSHMEM_DEVICE)
		return false;
	if (!start || pci_resource_len(pdev, PVDMA_BAR_SHM) < sizeof(u32) ||
	    !(pci_resource_flags(pdev, PVDMA_BAR_SHM) & IORESOURCE_MEM))
		return false;
	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	if (!(cmd & PCI_COMMAND_MEMORY))
		return false;
	p = ioremap(start, sizeof(u32));
	if (!p)
		return false;
	*magic = ioread32(p);
	iounmap(p);
	return true;
}

/* Does managed= name @pdev ("0000:00:03.0", or "00:03.0" for domain 0)? */
static bool pvdma_param_names(struct pci_dev *pdev)
{
	const char *name = pci_name(pdev), *p = pvdma_params.managed;
	size_t len;

	while (*p) {
		len = strcspn(p, ",");
		if ((len == strlen(name) && !strncmp(p, name, len)) ||
		    (len + 5 == strlen(name) && !strncmp(name, "0000:", 5) &&
		     !strncmp(p, name + 5, len)))
			return true;
		p += len;
		if (*p == ',')
			p++;
	}
	return false;
}

static bool pvdma_wants(struct pci_dev *pdev)
{
	u32 magic;

	if (pvdma_params.managed[0])
		return pvdma_param_names(pdev);
	return pvdma_bar2_magic(pdev, &magic) && magic == PVDMA_DEV_MAGIC;
}

static struct pvdma_managed *pvdma_managed_find(struct pci_dev *pdev)
{
	struct pvdma_managed *m;

	lockdep_assert_held(&pvdma_managed_mutex);
	list_for_each_entry(m, &pvdma_managed_list, node)
		if (m->pdev == pdev)
			return m;
	return NULL;
}

static struct pvdma_managed *pvdma_managed_get(struct pci_dev *pdev)
{
	struct pvdma_managed *m = pvdma_managed_find(pdev);

	if (m)
		return m;
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return NULL;
	m->pdev = pci_dev_get(pdev);
	list_add_tail(&m->node, &pvdma_managed_list);
	return m;
}

static void pvdma_ops_install(struct pvdma_managed *m)
{
	if (m->attached)
		return;
	m->orig_ops = get_dma_ops(&m->pdev->dev);
	set_dma_ops(&m->pdev->dev, &pvdma_dma_ops);
	m->attached = true;
	dev_info(&m->pdev->dev, "pvdma: DMA now goes through the host IOMMU (policy %s)\n",
		 pvdma_policy_name(pvdma_params.policy));
}

static void pvdma_ops_restore(struct pvdma_managed *m)
{
	if (!m->attached)
		return;
	set_dma_ops(&m->pdev->dev, m->orig_ops);
	m->attached = false;
	dev_info(&m->pdev->dev, "pvdma: original DMA ops restored\n");
}

static void pvdma_managed_free(struct pvdma_managed *m)
{
	pvdma_ops_restore(m);
	if (m->pinned)
		module_put(THIS_MODULE);
	list_del(&m->node);
	pci_dev_put(m->pdev);
	kfree(m);
}

/* Take @pdev over if it is unbound; remember it either way. */
static void pvdma_attach_locked(struct pci_dev *pdev)
{
	struct pvdma_managed *m = pvdma_managed_get(pdev);

	if (!m) {
		dev_err(&pdev->dev, "pvdma: out of memory; DMA stays direct\n");
		return;
	}
	if (m->attached)
		return;
	if (pdev->dev.driver) {
		dev_warn(&pdev->dev,
			 "pvdma: driver %s is already bound, its DMA stays direct; unbind and bind it again to route it through pvdma\n",
			 pdev->dev.driver->name);
		return;
	}
	pvdma_ops_install(m);
}

/**
 * pvdma_managed_attach_all() - take over every wanted device (companion probe)
 */
void pvdma_managed_attach_all(void)
{
	struct pci_dev *pdev = NULL;
	bool found = false;

	mutex_lock(&pvdma_managed_mutex);
	for_each_pci_dev(pdev) {
		if (pvdma_wants(pdev)) {
			pvdma_attach_locked(pdev);
			found = true;
		}
	}
	mutex_unlock(&pvdma_managed_mutex);
	if (!found)
		pr_info("pvdma: no managed device yet (managed=%s); waiting for one to appear\n",
			pvdma_params.managed[0] ? pvdma_params.managed : "auto");
}

/**
 * pvdma_managed_detach_unbound() - give driverless devices their ops back
 *
 * Called when the companion goes away. Devices with a bound driver keep
 * pvdma's ops (maps fail) until the driver unbinds.
 */
void pvdma_managed_detach_unbound(void)
{
	struct pvdma_managed *m;

	mutex_lock(&pvdma_managed_mutex);
	list_for_each_entry(m, &pvdma_managed_list, node) {
		if (!m->pdev->dev.driver)
			pvdma_ops_restore(m);
		else if (m->attached)
			dev_warn(&m->pdev->dev,
				 "pvdma: companion gone while %s is bound: its maps fail until it is unbound\n",
				 m->pdev->dev.driver->name);
	}
	mutex_unlock(&pvdma_managed_mutex);
}

/**
 * pvdma_is_managed() - does @dev use pvdma's dma_map_ops?
 * @dev: any device
 *
 * Return: true if it does.
 */
bool pvdma_is_managed(struct device *dev)
{
	return dev_is_pci(dev) && get_dma_ops(dev) == &pvdma_dma_ops;
}

static void pvdma_on_bind(struct pci_dev *pdev)
{
	struct pvdma_managed *m = pvdma_managed_find(pdev);

	if (!m && pvdma_companion_is_live() && pvdma_wants(pdev))
		m = pvdma_managed_get(pdev);
	if (!m)
		return;
	if (!m->attached && pvdma_companion_is_live())
		pvdma_ops_install(m);
	if (!m->attached || m->pinned)
		return;
	if (!try_module_get(THIS_MODULE)) {
		/* pvdma is unloading: let the driver bind with direct DMA. */
		pvdma_ops_restore(m);
		return;
	}
	m->pinned = true;
}

static void pvdma_on_unbound(struct pci_dev *pdev)
{
	struct pvdma_managed *m = pvdma_managed_find(pdev);

	if (!m)
		return;
	if (m->pinned) {
		m->pinned = false;
		module_put(THIS_MODULE);
	}
	if (!pvdma_companion_is_live())
		pvdma_ops_restore(m);
}

static int pvdma_bus_notify(struct notifier_block *nb, unsigned long action,
			    void *data)
{
	struct pci_dev *pdev = to_pci_dev(data);
	struct pvdma_managed *m;

	mutex_lock(&pvdma_managed_mutex);
	switch (action) {
	case BUS_NOTIFY_ADD_DEVICE:
		if (pvdma_companion_is_live() && pvdma_wants(pdev))
			pvdma_attach_locked(pdev);
		break;
	case BUS_NOTIFY_BIND_DRIVER:
		pvdma_on_bind(pdev);
		break;
	case BUS_NOTIFY_UNBOUND_DRIVER:
	case BUS_NOTIFY_DRIVER_NOT_BOUND:
		pvdma_on_unbound(pdev);
		break;
	case BUS_NOTIFY_DEL_DEVICE:
		m = pvdma_managed_find(pdev);
		if (m)
			pvdma_managed_free(m);
		break;
	}
	mutex_unlock(&pvdma_managed_mutex);
	return NOTIFY_DONE;
}

static struct notifier_block pvdma_bus_nb = {
	.notifier_call = pvdma_bus_notify,
};

/**
 * pvdma_managed_init() - start watching the PCI bus
 *
 * Return: 0 or a negative errno.
 */
int pvdma_managed_init(void)
{
	return bus_register_notifier(&pci_bus_type, &pvdma_bus_nb);
}

/**
 * pvdma_managed_exit() - stop watching, give every device its ops back
 */
void pvdma_managed_exit(void)
{
	struct pvdma_managed *m, *tmp;

	bus_unregister_notifier(&pci_bus_type, &pvdma_bus_nb);
	mutex_lock(&pvdma_managed_mutex);
	list_for_each_entry_safe(m, tmp, &pvdma_managed_list, node)
		pvdma_managed_free(m);
	mutex_unlock(&pvdma_managed_mutex);
}
