// SPDX-License-Identifier: GPL-2.0
/*
 * pvdma managed devices: which PCI devices get pvdma's dma_map_ops, when
 * they get them and when they give them back. Every managed device maps
 * through the one current domain, sharing its aperture and mapping
 * budget; each has its own context (struct pvdma_mdev) with statistics,
 * reached from its struct device through its copy of the ops.
 *
 * A device is managed if the managed= list names it, or (by default)
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
#include <linux/list.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <pvdma/dmadev.h>

#include "kcompat.h"
#include "pvdma_guest.h"

/**
 * struct pvdma_registry - the devices pvdma serves and the domain they share
 * @lock:	protects everything here and each device's attach state
 * @devs:	struct pvdma_mdev, wanted devices seen so far
 * @domain:	the current domain (a reference), NULL without a companion
 */
struct pvdma_registry {
	struct mutex lock;	/* see @lock above */
	struct list_head devs;
	struct pvdma_domain *domain;
};

static struct pvdma_registry pvdma_registry = {
	.lock = __MUTEX_INITIALIZER(pvdma_registry.lock),
	.devs = LIST_HEAD_INIT(pvdma_registry.devs),
};

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

static struct pvdma_mdev *pvdma_mdev_find(struct pvdma_registry *reg,
					  struct pci_dev *pdev)
{
	struct pvdma_mdev *m;

	lockdep_assert_held(&reg->lock);
	list_for_each_entry(m, &reg->devs, node)
		if (m->pdev == pdev)
			return m;
	return NULL;
}

static struct pvdma_mdev *pvdma_mdev_get(struct pvdma_registry *reg,
					 struct pci_dev *pdev)
{
	struct pvdma_mdev *m = pvdma_mdev_find(reg, pdev);

	if (m)
		return m;
	m = kzalloc(sizeof(*m), GFP_KERNEL);
	if (!m)
		return NULL;
	/* Written once, here, before anything can call through it. */
	memcpy((void *)&m->ops, &pvdma_dma_ops_template, sizeof(m->ops));
	m->pdev = pci_dev_get(pdev);
	list_add_tail(&m->node, &reg->devs);
	return m;
}

/**
 * pvdma_mdev_of() - the managed device behind a struct device
 * @dev: any device
 *
 * Lock-free, any context: while pvdma's ops are installed they are the
 * device's own copy inside its struct pvdma_mdev.
 *
 * Return: the managed device, or NULL if @dev does not use pvdma's ops.
 */
struct pvdma_mdev *pvdma_mdev_of(struct device *dev)
{
	const struct dma_map_ops *ops = get_dma_ops(dev);

	if (!dev_is_pci(dev) || !pvdma_dma_ops_are_ours(ops))
		return NULL;
	return container_of(ops, struct pvdma_mdev, ops);
}

/*
 * Without CONFIG_ARCH_HAS_DMA_OPS (CONFIG_DMA_OPS before 6.12)
 * set_dma_ops() compiles to nothing and the device would silently keep
 * dma-direct: read back what took effect.
 */
static bool pvdma_ops_took_effect(struct device *dev,
				  const struct dma_map_ops *ops)
{
	return get_dma_ops(dev) == ops;
}

static void pvdma_ops_install(struct pvdma_mdev *m, struct pvdma_domain *d)
{
	struct device *dev = &m->pdev->dev;

	if (m->domain)
		return;
	/* The ops reach the domain through m: set it before they go in. */
	pvdma_domain_get(d);
	m->domain = d;
	m->orig_ops = get_dma_ops(dev);
	set_dma_ops(dev, &m->ops);
	/* Syncs decided skippable under the old ops are not under ours. */
	pvdma_reset_need_sync(dev);
	if (!pvdma_ops_took_effect(dev, &m->ops)) {
		set_dma_ops(dev, m->orig_ops);
		m->domain = NULL;
		pvdma_domain_put(d);
		dev_err(dev, "pvdma: set_dma_ops() has no effect on this kernel (built without CONFIG_ARCH_HAS_DMA_OPS, CONFIG_DMA_OPS before 6.12); its DMA stays direct\n");
		return;
	}
	dev_info(dev, "pvdma: DMA now goes through the host IOMMU (policy %s)\n",
		 pvdma_policy_name(pvdma_params.policy));
}

/*
 * Where the architecture tears a device's DMA ops down when a probe fails
 * or a driver unbinds (arm64's arch_teardown_dma_ops() sets them to NULL,
 * e.g. after pvdma's own companion driver declined the device), put ours
 * back just before the next driver binds: it must not start on
 * dma-direct behind pvdma's back.
 */
static void pvdma_ops_reassert(struct pvdma_mdev *m)
{
	struct device *dev = &m->pdev->dev;

	if (pvdma_ops_took_effect(dev, &m->ops))
		return;
	set_dma_ops(dev, &m->ops);
	pvdma_reset_need_sync(dev);
	dev_info(dev, "pvdma: DMA ops put back (the kernel had reset them)\n");
}

static void pvdma_ops_restore(struct pvdma_mdev *m)
{
	if (!m->domain)
		return;
	set_dma_ops(&m->pdev->dev, m->orig_ops);
	pvdma_domain_put(m->domain);
	m->domain = NULL;
	dev_info(&m->pdev->dev, "pvdma: original DMA ops restored\n");
}

static void pvdma_mdev_free(struct pvdma_mdev *m)
{
	pvdma_ops_restore(m);
	if (m->pinned)
		module_put(THIS_MODULE);
	list_del(&m->node);
	pci_dev_put(m->pdev);
	kfree(m);
}

/* Take @pdev over if it is unbound; remember it either way. */
static void pvdma_attach_locked(struct pvdma_registry *reg,
				struct pci_dev *pdev)
{
	struct pvdma_mdev *m = pvdma_mdev_get(reg, pdev);

	if (!m) {
		dev_err(&pdev->dev, "pvdma: out of memory; DMA stays direct\n");
		return;
	}
	if (m->domain)
		return;
	if (pdev->dev.driver) {
		dev_warn(&pdev->dev,
			 "pvdma: driver %s is already bound, its DMA stays direct; unbind and bind it again to route it through pvdma\n",
			 pdev->dev.driver->name);
		return;
	}
	pvdma_ops_install(m, reg->domain);
}

/**
 * pvdma_managed_bind_domain() - serve every wanted device through @d
 * @d: a live domain (the registry takes a reference)
 *
 * Called at companion probe. Unbound wanted devices are attached now,
 * bound ones when their driver next binds.
 *
 * Return: 0, or -EBUSY if a domain is already current (one companion
 * device per guest).
 */
int pvdma_managed_bind_domain(struct pvdma_domain *d)
{
	struct pvdma_registry *reg = &pvdma_registry;
	struct pci_dev *pdev = NULL;
	unsigned int found = 0;

	mutex_lock(&reg->lock);
	if (reg->domain) {
		mutex_unlock(&reg->lock);
		return -EBUSY;
	}
	pvdma_domain_get(d);
	reg->domain = d;
	for_each_pci_dev(pdev) {
		if (pvdma_wants(pdev)) {
			pvdma_attach_locked(reg, pdev);
			found++;
		}
	}
	mutex_unlock(&reg->lock);
	if (!found)
		pr_info("pvdma: no managed device yet (managed=%s); waiting for one to appear\n",
			pvdma_params.managed[0] ? pvdma_params.managed : "auto");
	else
		pr_info("pvdma: %u managed device(s) share one aperture and mapping budget\n",
			found);
	return 0;
}

/**
 * pvdma_managed_unbind_domain() - the companion is going: let @d go
 * @d: the current domain
 *
 * Driverless devices get their ops back now. Devices with a bound driver
 * keep pvdma's ops and their reference on @d (maps fail once it is torn
 * down) until the driver unbinds.
 */
void pvdma_managed_unbind_domain(struct pvdma_domain *d)
{
	struct pvdma_registry *reg = &pvdma_registry;
	struct pvdma_mdev *m;

	mutex_lock(&reg->lock);
	list_for_each_entry(m, &reg->devs, node) {
		if (m->domain != d)
			continue;
		if (!m->pdev->dev.driver)
			pvdma_ops_restore(m);
		else
			dev_warn(&m->pdev->dev,
				 "pvdma: companion gone while %s is bound: its maps fail until it is unbound\n",
				 m->pdev->dev.driver->name);
	}
	if (reg->domain == d) {
		reg->domain = NULL;
		pvdma_domain_put(d);
	}
	mutex_unlock(&reg->lock);
}

/**
 * pvdma_managed_domain_get() - the current domain, referenced
 *
 * Return: the domain (drop it with pvdma_domain_put()) or NULL.
 */
struct pvdma_domain *pvdma_managed_domain_get(void)
{
	struct pvdma_registry *reg = &pvdma_registry;
	struct pvdma_domain *d;

	mutex_lock(&reg->lock);
	d = reg->domain;
	if (d)
		pvdma_domain_get(d);
	mutex_unlock(&reg->lock);
	return d;
}

/**
 * pvdma_managed_for_each() - call @fn on every known managed device
 * @fn: called with the registry locked (it may not sleep on the registry)
 * @arg: passed on
 */
void pvdma_managed_for_each(void (*fn)(struct pvdma_mdev *m, void *arg),
			    void *arg)
{
	struct pvdma_registry *reg = &pvdma_registry;
	struct pvdma_mdev *m;

	mutex_lock(&reg->lock);
	list_for_each_entry(m, &reg->devs, node)
		fn(m, arg);
	mutex_unlock(&reg->lock);
}

static void pvdma_on_bind(struct pvdma_registry *reg, struct pci_dev *pdev)
{
	struct pvdma_mdev *m = pvdma_mdev_find(reg, pdev);

	if (!m && reg->domain && pvdma_wants(pdev))
		m = pvdma_mdev_get(reg, pdev);
	if (!m)
		return;
	if (!m->domain && reg->domain)
		pvdma_ops_install(m, reg->domain);
	if (!m->domain)
		return;
	pvdma_ops_reassert(m);
	if (m->pinned)
		return;
	if (!try_module_get(THIS_MODULE)) {
		/* pvdma is unloading: let the driver bind with direct DMA. */
		pvdma_ops_restore(m);
		return;
	}
	m->pinned = true;
}

static void pvdma_on_unbound(struct pvdma_registry *reg, struct pci_dev *pdev)
{
	struct pvdma_mdev *m = pvdma_mdev_find(reg, pdev);

	if (!m)
		return;
	if (m->pinned) {
		m->pinned = false;
		module_put(THIS_MODULE);
	}
	/* Through a torn-down domain, or none: the device's own ops again. */
	if (m->domain != reg->domain)
		pvdma_ops_restore(m);
}

static int pvdma_bus_notify(struct notifier_block *nb, unsigned long action,
			    void *data)
{
	struct pvdma_registry *reg = &pvdma_registry;
	struct pci_dev *pdev = to_pci_dev(data);
	struct pvdma_mdev *m;

	mutex_lock(&reg->lock);
	switch (action) {
	case BUS_NOTIFY_ADD_DEVICE:
		if (reg->domain && pvdma_wants(pdev))
			pvdma_attach_locked(reg, pdev);
		break;
	case BUS_NOTIFY_BIND_DRIVER:
		pvdma_on_bind(reg, pdev);
		break;
	case BUS_NOTIFY_UNBOUND_DRIVER:
	case BUS_NOTIFY_DRIVER_NOT_BOUND:
		pvdma_on_unbound(reg, pdev);
		break;
	case BUS_NOTIFY_DEL_DEVICE:
		m = pvdma_mdev_find(reg, pdev);
		if (m)
			pvdma_mdev_free(m);
		break;
	}
	mutex_unlock(&reg->lock);
	return NOTIFY_DONE;
}

static struct notifier_block pvdma_bus_nb = {
	.notifier_call = pvdma_bus_notify,
};

/**
 * pvdma_managed_init() - check set_dma_ops() works, watch the PCI bus
 *
 * Refuses to load where per-device DMA ops cannot take effect: pvdma
 * would load, say nothing, and the device's DMA would bypass it.
 *
 * Return: 0, -EOPNOTSUPP, or a negative errno.
 */
int pvdma_managed_init(void)
{
	struct device *probe;
	bool works;

	probe = kzalloc(sizeof(*probe), GFP_KERNEL);
	if (!probe)
		return -ENOMEM;
	set_dma_ops(probe, &pvdma_dma_ops_template);
	works = pvdma_ops_took_effect(probe, &pvdma_dma_ops_template);
	kfree(probe);
	if (!works) {
		pr_err("pvdma: this kernel ignores set_dma_ops(), so pvdma cannot route a device's DMA: rebuild it with CONFIG_ARCH_HAS_DMA_OPS (CONFIG_DMA_OPS before 6.12; on arm64 it comes with CONFIG_XEN)\n");
		return -EOPNOTSUPP;
	}
	return bus_register_notifier(&pci_bus_type, &pvdma_bus_nb);
}

/**
 * pvdma_managed_exit() - stop watching, give every device its ops back
 */
void pvdma_managed_exit(void)
{
	struct pvdma_registry *reg = &pvdma_registry;
	struct pvdma_mdev *m, *tmp;

	bus_unregister_notifier(&pci_bus_type, &pvdma_bus_nb);
	mutex_lock(&reg->lock);
	list_for_each_entry_safe(m, tmp, &reg->devs, node)
		pvdma_mdev_free(m);
	mutex_unlock(&reg->lock);
}
