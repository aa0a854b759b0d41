// SPDX-License-Identifier: GPL-2.0
/*
 * pvdma debugfs: /sys/kernel/debug/pvdma/
 *   stats	counters, one "name value" per line (the replay tool's names)
 *   windows	the live window list: state, refs, gpa, bus, length
 *   limits	what the host published and what this module was loaded with
 *   reclaim	write anything: unmap every idle window now (one host call)
 *   devices	one line per managed device: its own map/unmap statistics
 *
 * Each file reads the current domain (a reference from the registry), so
 * it sees "companion absent" between a companion's remove and the next
 * probe.
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "pvdma_guest.h"

static struct dentry *pvdma_debugfs_dir;

static const char *const pvdma_win_state_names[] = {
	[PVDMA_WIN_FREE]	= "free",
	[PVDMA_WIN_PENDING]	= "pending",
	[PVDMA_WIN_LIVE]	= "live",
	[PVDMA_WIN_IDLE]	= "idle",
	[PVDMA_WIN_FAILED]	= "failed",
};

/* Snapshot of everything stats prints, taken under the lock. */
struct pvdma_stats_snap {
	bool live;
	struct pvdma_planner_stats ps;
	struct pvdma_transport tp;
	u64 map_failures;
	u64 bad_unmaps;
	u64 dead_maps;
	u64 attr_refusals;
	u64 seg_boundary_refusals;
	u64 mask_refusals;
	u64 copies_skipped;
	u32 host_state;
};

/* Fill @s from the current domain, if any. */
static void pvdma_stats_snapshot(struct pvdma_stats_snap *s)
{
	struct pvdma_domain *d = pvdma_managed_domain_get();
	unsigned long flags;

	if (!d)
		return;
	spin_lock_irqsave(&d->lock, flags);
	s->live = d->live;
	if (d->live) {
		s->ps = d->ps.planner.stats;
		/* What the host last published (0 = DOWN: pvdmad stopped). */
		s->host_state = pvdma_ring_host_state(&d->tp.ring);
	}
	s->tp = d->tp;
	s->map_failures = d->map_failures;
	s->bad_unmaps = d->bad_unmaps;
	s->dead_maps = d->dead_maps;
	s->seg_boundary_refusals = d->seg_boundary_refusals;
	s->mask_refusals = d->mask_refusals;
	s->copies_skipped = d->ps.copies_skipped;
	spin_unlock_irqrestore(&d->lock, flags);
	s->attr_refusals = atomic64_read(&d->attr_refusals);
	pvdma_domain_put(d);
}

static int pvdma_stats_show(struct seq_file *m, void *unused)
{
	struct pvdma_stats_snap *s;
	u32 i;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	pvdma_stats_snapshot(s);

	seq_printf(m, "companion %s\n", s->live ? "live" : "absent");
	seq_printf(m, "policy %s\n", pvdma_policy_name(pvdma_params.policy));
	seq_printf(m, "host_calls %llu\n", s->ps.host_calls);
	seq_printf(m, "host_maps %llu\n", s->ps.host_maps);
	seq_printf(m, "host_unmaps %llu\n", s->ps.host_unmaps);
	seq_printf(m, "map_requests %llu\n", s->ps.map_requests);
	seq_printf(m, "map_segments %llu\n", s->ps.map_segments);
	seq_printf(m, "unmap_requests %llu\n", s->ps.unmap_requests);
	seq_printf(m, "unmap_segments %llu\n", s->ps.unmap_segments);
	seq_printf(m, "sync_requests %llu\n", s->ps.sync_requests);
	seq_printf(m, "hits %llu\n", s->ps.hits);
	seq_printf(m, "misses %llu\n", s->ps.misses);
	seq_printf(m, "evictions %llu\n", s->ps.evictions);
	seq_printf(m, "failed_maps %llu\n", s->ps.failed_maps);
	seq_printf(m, "bounced_maps %llu\n", s->ps.bounced_maps);
	seq_printf(m, "bounced_bytes %llu\n", s->ps.bounced_bytes);
	seq_printf(m, "bad_unmaps %llu\n", s->ps.bad_unmaps);
	seq_printf(m, "live_windows %llu\n", s->ps.live_windows);
	seq_printf(m, "peak_windows %llu\n", s->ps.peak_windows);
	seq_printf(m, "live_aperture %llu\n", s->ps.live_aperture);
	seq_printf(m, "peak_aperture %llu\n", s->ps.peak_aperture);
	seq_printf(m, "live_bytes %llu\n", s->ps.live_bytes);
	seq_printf(m, "peak_live_bytes %llu\n", s->ps.peak_live_bytes);
	for (i = 1; i < PVDMA_FAIL_COUNT; i++)
		seq_printf(m, "fail_%s %llu\n", pvdma_fail_reason_key(i),
			   s->ps.fail_by_reason[i]);
	seq_printf(m, "dma_map_failures %llu\n", s->map_failures);
	seq_printf(m, "dma_bad_unmaps %llu\n", s->bad_unmaps);
	seq_printf(m, "dma_maps_without_companion %llu\n", s->dead_maps);
	seq_printf(m, "dma_attr_refusals %llu\n", s->attr_refusals);
	seq_printf(m, "dma_seg_boundary_refusals %llu\n",
		   s->seg_boundary_refusals);
	seq_printf(m, "dma_mask_refusals %llu\n", s->mask_refusals);
	seq_printf(m, "bounce_copies_skipped_bytes %llu\n", s->copies_skipped);
	seq_printf(m, "transport_calls %llu\n", s->tp.calls);
	seq_printf(m, "transport_doorbells %llu\n", s->tp.doorbells);
	seq_printf(m, "transport_slots %llu\n", s->tp.slots_posted);
	seq_printf(m, "transport_timeouts %llu\n", s->tp.timeouts);
	seq_printf(m, "transport_max_wait_us %llu\n", s->tp.max_wait_ns / 1000);
	seq_printf(m, "transport_broken %u\n", s->tp.broken);
	seq_printf(m, "transport_host_down %llu\n", s->tp.host_down);
	seq_printf(m, "host_state %u\n", s->host_state);
	kfree(s);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pvdma_stats);

static const char *pvdma_win_state_name(const struct pvdma_window *w)
{
	return w->state < ARRAY_SIZE(pvdma_win_state_names) ?
	       pvdma_win_state_names[w->state] : "?";
}

/* Printed under the lock: seq_printf neither sleeps nor allocates. */
static int pvdma_windows_show(struct seq_file *m, void *unused)
{
	struct pvdma_domain *d = pvdma_managed_domain_get();
	const struct pvdma_planner *p;
	struct pvdma_avl_node *n;
	unsigned long flags;

	seq_puts(m, "state    refs         gpa                bus                len  perm\n");
	if (!d)
		return 0;
	p = &d->ps.planner;
	spin_lock_irqsave(&d->lock, flags);
	for (n = d->live ? pvdma_avl_first(&p->by_bus) : NULL; n;
	     n = pvdma_avl_next(n)) {
		const struct pvdma_window *w =
			container_of(n, struct pvdma_window, bus_node);

		seq_printf(m, "%-8s %4u %#18llx %#18llx %10llu  %s%s%s\n",
			   pvdma_win_state_name(w), w->refs, w->gpa, w->bus,
			   w->len, w->perm & PVDMA_MAP_READ ? "r" : "-",
			   w->perm & PVDMA_MAP_WRITE ? "w" : "-",
			   w == p->pool_window ? " bounce-pool" : "");
	}
	spin_unlock_irqrestore(&d->lock, flags);
	pvdma_domain_put(d);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pvdma_windows);

static int pvdma_limits_show(struct seq_file *m, void *unused)
{
	struct pvdma_domain *d = pvdma_managed_domain_get();
	struct pvdma_planner_config cfg;
	unsigned long flags;
	bool live = false;

	if (d) {
		spin_lock_irqsave(&d->lock, flags);
		live = d->live;
		cfg = d->ps.planner.cfg;
		spin_unlock_irqrestore(&d->lock, flags);
	}
	if (!live) {
		seq_puts(m, "companion absent\n");
		goto out;
	}
	seq_printf(m, "iommu_page_size %llu\n", cfg.page_size);
	seq_printf(m, "aperture_bytes %llu\n", cfg.aperture_bytes);
	seq_printf(m, "max_mappings %u\n", cfg.max_mappings);
	seq_printf(m, "bus_limit %#llx\n", d->bus_limit);
	seq_printf(m, "policy %s\n", pvdma_policy_name(cfg.policy));
	seq_printf(m, "strict %u\n", cfg.strict);
	seq_printf(m, "bounce %s\n", pvdma_bounce_mode_name(cfg.bounce));
	seq_printf(m, "bounce_bytes %llu\n", cfg.bounce_bytes);
	seq_printf(m, "max_window %llu\n", cfg.max_window);
	seq_printf(m, "spec_shift %u\n", cfg.spec_shift);
	seq_printf(m, "rfc_window_shift %u\n", cfg.rfc_window_shift);
	seq_printf(m, "ivposition %u\n", d->ivposition);
	seq_printf(m, "ram_ranges %u\n", d->ram.n);
out:
	if (d)
		pvdma_domain_put(d);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pvdma_limits);

static ssize_t pvdma_reclaim_write(struct file *file, const char __user *buf,
				   size_t count, loff_t *ppos)
{
	struct pvdma_domain *d = pvdma_managed_domain_get();
	unsigned long flags;
	int n = -ENODEV;

	if (!d)
		return -ENODEV;
	spin_lock_irqsave(&d->lock, flags);
	if (d->live)
		n = pvdma_reclaim(&d->ps.planner);
	spin_unlock_irqrestore(&d->lock, flags);
	pvdma_domain_put(d);
	if (n < 0)
		return n;
	pr_info("pvdma: reclaimed %d idle windows\n", n);
	return count;
}

static const struct file_operations pvdma_reclaim_fops = {
	.owner	= THIS_MODULE,
	.write	= pvdma_reclaim_write,
	.llseek	= noop_llseek,
};

/* One managed device's line; its counters are read under its domain's lock. */
static void pvdma_device_line(struct pvdma_mdev *md, void *arg)
{
	struct seq_file *m = arg;
	struct pvdma_domain *d = md->domain;
	struct pvdma_mdev_stats st;
	unsigned long flags;

	if (d) {
		spin_lock_irqsave(&d->lock, flags);
		st = md->stats;
		spin_unlock_irqrestore(&d->lock, flags);
	} else {
		st = md->stats;
	}
	seq_printf(m, "%s %s map_calls %llu map_segments %llu mapped_bytes %llu unmap_calls %llu live_bytes %llu peak_live_bytes %llu bounced_segments %llu failed_maps %llu bad_unmaps %llu\n",
		   pci_name(md->pdev), d ? "attached" : "detached",
		   st.map_calls, st.map_segments, st.mapped_bytes,
		   st.unmap_calls, st.live_bytes, st.peak_live_bytes,
		   st.bounced_segments, st.failed_maps, st.bad_unmaps);
}

static int pvdma_devices_show(struct seq_file *m, void *unused)
{
	pvdma_managed_for_each(pvdma_device_line, m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pvdma_devices);

/**
 * pvdma_debugfs_init() - create /sys/kernel/debug/pvdma (errors ignored)
 */
void pvdma_debugfs_init(void)
{
	pvdma_debugfs_dir = debugfs_create_dir(PVDMA_DRV_NAME, NULL);
	debugfs_create_file("stats", 0444, pvdma_debugfs_dir, NULL,
			    &pvdma_stats_fops);
	debugfs_create_file("windows", 0444, pvdma_debugfs_dir, NULL,
			    &pvdma_windows_fops);
	debugfs_create_file("limits", 0444, pvdma_debugfs_dir, NULL,
			    &pvdma_limits_fops);
	debugfs_create_file("reclaim", 0200, pvdma_debugfs_dir, NULL,
			    &pvdma_reclaim_fops);
	debugfs_create_file("devices", 0444, pvdma_debugfs_dir, NULL,
			    &pvdma_devices_fops);
}

/**
 * pvdma_debugfs_exit() - remove it
 */
void pvdma_debugfs_exit(void)
{
	debugfs_remove_recursive(pvdma_debugfs_dir);
	pvdma_debugfs_dir = NULL;
}
