// SPDX-License-Identifier: GPL-2.0
/*
 * pvdma: paravirtual DMA mapping through a narrow host IOMMU.
 *
 * Module parameters, load and unload, and the symbols other modules use
 * (pvdma_export.h). See docs/guest.md.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/stringify.h>
#include <linux/string.h>

#include <pvdma/dmadev.h>
#include <pvdma/version.h>

#include "pvdma_export.h"
#include "pvdma_guest.h"

static char *policy = "pvdma";
module_param(policy, charp, 0444);
MODULE_PARM_DESC(policy, "mapping policy: pvdma (default), rfc or perpage");

static bool strict;
module_param(strict, bool, 0444);
MODULE_PARM_DESC(strict, "pvdma policy: unmap exact ranges at once, keep no idle windows");

static char *bounce = "off";
module_param(bounce, charp, 0444);
MODULE_PARM_DESC(bounce, "bounce streaming maps that do not fit: off (default), small or all");

static unsigned int bounce_pool_kb = 4096;
module_param(bounce_pool_kb, uint, 0444);
MODULE_PARM_DESC(bounce_pool_kb, "bounce pool size in KiB, one contiguous allocation (default 4096)");

static unsigned int timeout_ms = 5000;
module_param(timeout_ms, uint, 0444);
MODULE_PARM_DESC(timeout_ms, "longest wait for the host to answer one request batch (default 5000); a DMA map waits with interrupts off, so at most half the kernel's lockup or RCU stall threshold");

static unsigned int rfc_window_shift = PVDMA_DEFAULT_RFC_WINDOW_SHIFT;
module_param(rfc_window_shift, uint, 0444);
MODULE_PARM_DESC(rfc_window_shift, "rfc policy: window size 2^shift (default "
		 __stringify(PVDMA_DEFAULT_RFC_WINDOW_SHIFT) "; 0: no windows)");

static unsigned int spec_shift = PVDMA_DEFAULT_SPEC_SHIFT;
module_param(spec_shift, uint, 0444);
MODULE_PARM_DESC(spec_shift, "pvdma policy: speculation budget is the aperture >> spec_shift (default "
		 __stringify(PVDMA_DEFAULT_SPEC_SHIFT) "; at most 32)");

static unsigned int max_window_kb = PVDMA_DEFAULT_MAX_WINDOW_KB;
module_param(max_window_kb, uint, 0444);
MODULE_PARM_DESC(max_window_kb, "pvdma policy: largest speculative window in KiB (default "
		 __stringify(PVDMA_DEFAULT_MAX_WINDOW_KB) "; at least the IOMMU page)");

static char *managed = "";
module_param(managed, charp, 0444);
MODULE_PARM_DESC(managed, "comma-separated PCI devices (DDDD:BB:DD.F) whose DMA pvdma serves, all through one aperture and mapping budget; default: every pvdma DMA device model");

struct pvdma_params pvdma_params;

static int pvdma_parse_bounce(const char *name, enum pvdma_bounce_mode *mode)
{
	if (!strcmp(name, "off") || !strcmp(name, "0"))
		*mode = PVDMA_BOUNCE_OFF;
	else if (!strcmp(name, "small"))
		*mode = PVDMA_BOUNCE_SMALL;
	else if (!strcmp(name, "all") || !strcmp(name, "1"))
		*mode = PVDMA_BOUNCE_ALL;
	else
		return -EINVAL;
	return 0;
}

/* Half the kernel's hard-lockup or RCU stall threshold (pvdma_guest.h). */
static unsigned int pvdma_atomic_wait_max_ms(void)
{
	unsigned int ms = PVDMA_LOCKUP_THRESH_MS;

#ifdef CONFIG_RCU_CPU_STALL_TIMEOUT
	ms = min_t(unsigned int, ms,
		   CONFIG_RCU_CPU_STALL_TIMEOUT * MSEC_PER_SEC);
#endif
	return ms / 2;
}

/*
 * timeout_ms for the waits that may sleep (probe, teardown); a map waits
 * with interrupts off, so its wait is capped, and the cap said once.
 */
static void pvdma_parse_timeout(struct pvdma_params *pp)
{
	unsigned int cap = pvdma_atomic_wait_max_ms();

	pp->timeout_ms = timeout_ms ? timeout_ms : 1;
	pp->atomic_timeout_ms = pp->timeout_ms;
	if (pp->timeout_ms > cap) {
		pp->atomic_timeout_ms = cap;
		pr_warn("pvdma: timeout_ms=%u is too long to wait with interrupts off: a DMA map waits for the host at most %u ms (half the kernel's hard-lockup or RCU stall threshold); probe and teardown wait the full %u ms, sleeping\n",
			timeout_ms, cap, pp->timeout_ms);
	}
}

static int pvdma_parse_params(void)
{
	struct pvdma_params *pp = &pvdma_params;

	if (pvdma_policy_parse(policy, &pp->policy)) {
		pr_err("pvdma: unknown policy=%s (pvdma, rfc or perpage)\n", policy);
		return -EINVAL;
	}
	if (pvdma_parse_bounce(bounce, &pp->bounce)) {
		pr_err("pvdma: unknown bounce=%s (off, small or all)\n", bounce);
		return -EINVAL;
	}
	if (pp->bounce != PVDMA_BOUNCE_OFF && pp->policy != PVDMA_POLICY_PVDMA) {
		pr_warn("pvdma: bounce=%s applies to policy=pvdma only; off for %s\n",
			bounce, policy);
		pp->bounce = PVDMA_BOUNCE_OFF;
	}
	if (rfc_window_shift > 30) {
		pr_err("pvdma: rfc_window_shift=%u is above 30\n", rfc_window_shift);
		return -EINVAL;
	}
	if (spec_shift > 32) {
		pr_err("pvdma: spec_shift=%u is above 32\n", spec_shift);
		return -EINVAL;
	}
	if (!max_window_kb) {
		pr_err("pvdma: max_window_kb must be at least the IOMMU page size\n");
		return -EINVAL;
	}
	pp->strict = strict;
	pp->spec_shift = spec_shift;
	pp->max_window = (u64)max_window_kb << 10;
	pp->bounce_pool_kb = bounce_pool_kb;
	pvdma_parse_timeout(pp);
	pp->rfc_window_shift = rfc_window_shift;
	pp->managed = managed ? managed : "";
	return 0;
}

/**
 * pvdma_domain_peer() - the companion peer id a managed device's DMA uses
 * @dev: a device
 *
 * The DMA device model needs it in its header (domain_peer) to translate
 * bus addresses through this guest's mappings.
 *
 * Return: the companion's IVPOSITION, or -ENODEV if pvdma does not serve
 * @dev or its companion is gone.
 */
int pvdma_domain_peer(struct device *dev)
{
	struct pvdma_mdev *m = pvdma_mdev_of(dev);

	if (!m || !READ_ONCE(m->domain->live))
		return -ENODEV;
	return m->domain->ivposition;
}
EXPORT_SYMBOL_GPL(pvdma_domain_peer);

/**
 * pvdma_host_limits() - the limits a managed device's DMA is subject to
 * @dev: a device
 * @out: filled on success
 *
 * Every managed device shares them: one aperture, one mapping budget.
 *
 * Return: 0, or -ENODEV if pvdma does not serve @dev or its companion is
 * gone.
 */
int pvdma_host_limits(struct device *dev, struct pvdma_host_limits *out)
{
	struct pvdma_mdev *m = pvdma_mdev_of(dev);
	const struct pvdma_planner *p;
	struct pvdma_domain *d;
	unsigned long flags;
	int ret = -ENODEV;

	if (!m)
		return -ENODEV;
	d = m->domain;
	p = &d->ps.planner;
	spin_lock_irqsave(&d->lock, flags);
	if (d->live) {
		out->page_size = p->cfg.page_size;
		out->aperture_bytes = p->cfg.aperture_bytes;
		out->bounce_bytes = p->cfg.bounce == PVDMA_BOUNCE_OFF ?
				    0 : p->cfg.bounce_bytes;
		out->max_mappings = p->cfg.max_mappings;
		out->policy = p->cfg.policy;
		out->bounce = p->cfg.bounce;
		out->host_calls = p->stats.host_calls;
		strscpy(out->policy_name, pvdma_policy_name(p->cfg.policy),
			sizeof(out->policy_name));
		strscpy(out->bounce_name,
			pvdma_bounce_mode_name(p->cfg.bounce),
			sizeof(out->bounce_name));
		ret = 0;
	}
	spin_unlock_irqrestore(&d->lock, flags);
	return ret;
}
EXPORT_SYMBOL_GPL(pvdma_host_limits);

/**
 * pvdma_dev_stats() - one managed device's own DMA statistics
 * @dev: a device
 * @out: filled on success
 *
 * Return: 0, or -ENODEV if pvdma does not serve @dev.
 */
int pvdma_dev_stats(struct device *dev, struct pvdma_dev_stats *out)
{
	struct pvdma_mdev *m = pvdma_mdev_of(dev);
	unsigned long flags;

	if (!m)
		return -ENODEV;
	spin_lock_irqsave(&m->domain->lock, flags);
	out->map_calls = m->stats.map_calls;
	out->mapped_bytes = m->stats.mapped_bytes;
	out->unmap_calls = m->stats.unmap_calls;
	out->live_bytes = m->stats.live_bytes;
	out->bounced_segments = m->stats.bounced_segments;
	out->failed_maps = m->stats.failed_maps;
	spin_unlock_irqrestore(&m->domain->lock, flags);
	return 0;
}
EXPORT_SYMBOL_GPL(pvdma_dev_stats);

static int __init pvdma_init(void)
{
	int ret;

	ret = pvdma_parse_params();
	if (ret)
		return ret;
	ret = pvdma_managed_init();
	if (ret)
		return ret;
	pvdma_debugfs_init();
	ret = pvdma_companion_register();
	if (ret)
		goto err_managed;
	pr_info("pvdma: loaded, policy=%s bounce=%s%s\n",
		pvdma_policy_name(pvdma_params.policy),
		pvdma_bounce_mode_name(pvdma_params.bounce),
		pvdma_params.strict ? " strict" : "");
	return 0;

err_managed:
	pvdma_debugfs_exit();
	pvdma_managed_exit();
	return ret;
}

static void __exit pvdma_exit(void)
{
	pvdma_companion_unregister();
	pvdma_debugfs_exit();
	pvdma_managed_exit();
	pr_info("pvdma: unloaded\n");
}

module_init(pvdma_init);
module_exit(pvdma_exit);

MODULE_DESCRIPTION("pvdma: paravirtual DMA mapping through a host-controlled IOMMU");
MODULE_AUTHOR("pvdma authors");
MODULE_LICENSE("GPL");
MODULE_VERSION(PVDMA_VERSION);
