// SPDX-License-Identifier: GPL-2.0
/*
 * pvdma debugfs: /sys/kernel/debug/pvdma/
 *   stats	counters, one "name value" per line (the replay tool's names)
 *   windows	the live window list: state, refs, gpa, bus, length
 *   limits	what the host published and what this module was loaded with
 *   reclaim	write anything: unmap every idle window now (one host call)
 */
#include <linux/debugfs.h>
#include <linux/seq_file.h>

#include "pvdma_guest.h"

static struct dentry *pvdma_debugfs_dir;

/* debugfs keys for enum pvdma_fail_reason. */
static const char *const pvdma_fail_keys[PVDMA_FAIL_COUNT] = {
	[PVDMA_FAIL_NONE]		= "none",
	[PVDMA_FAIL_APERTURE]		= "aperture",
	[PVDMA_FAIL_MAPPINGS]		= "mappings",
	[PVDMA_FAIL_BUS_SPACE]		= "bus_space",
	[PVDMA_FAIL_BOUNCE_FULL]	= "bounce_full",
	[PVDMA_FAIL_HOST]		= "host",
	[PVDMA_FAIL_TRANSPORT]		= "transport",
	[PVDMA_FAIL_INVALID]		= "invalid",
	[PVDMA_FAIL_NO_RECORDS]		= "no_records",
};

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
	u64 largest_gap;
	u32 host_state;
};

static int pvdma_stats_show(struct seq_file *m, void *unused)
{
	struct pvdma_companion *c = &pvdma_comp;
	struct pvdma_stats_snap *s;
	unsigned long flags;
	u32 i;

	s = kzalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	spin_lock_irqsave(&c->lock, flags);
	s->live = c->live;
	if (c->live)
		s->ps = c->planner.stats;
	s->tp = c->tp;
	/* What the host last published (0 = DOWN: pvdmad stopped serving). */
	if (c->live && c->tp.hdr)
		s->host_state = pvdma_le32(READ_ONCE(c->tp.hdr->host_state));
	s->map_failures = c->map_failures;
	s->bad_unmaps = c->bad_unmaps;
	s->dead_maps = c->dead_maps;
	spin_unlock_irqrestore(&c->lock, flags);

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
		seq_printf(m, "fail_%s %llu\n", pvdma_fail_keys[i] ?: "other",
			   s->ps.fail_by_reason[i]);
	seq_printf(m, "dma_map_failures %llu\n", s->map_failures);
	seq_printf(m, "dma_bad_unmaps %llu\n", s->bad_unmaps);
	seq_printf(m, "dma_maps_without_companion %llu\n", s->dead_maps);
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

/* Printed under the lock: seq_printf neither sleeps nor allocates. */
static int pvdma_windows_show(struct seq_file *m, void *unused)
{
	struct pvdma_companion *c = &pvdma_comp;
	const struct pvdma_planner *p = &c->planner;
	struct pvdma_avl_node *n;
	unsigned long flags;

	seq_puts(m, "state    refs         gpa                bus                len  perm\n");
	spin_lock_irqsave(&c->lock, flags);
	if (c->live) {
		for (n = pvdma_avl_first(&p->by_bus); n; n = pvdma_avl_next(n)) {
			const struct pvdma_window *w =
				container_of(n, struct pvdma_window, bus_node);
			const char *state = w->state < ARRAY_SIZE(pvdma_win_state_names) ?
				pvdma_win_state_names[w->state] : "?";

			seq_printf(m, "%-8s %4u %#18llx %#18llx %10llu  %s%s%s\n",
				   state, w->refs, w->gpa, w->bus, w->len,
				   w->perm & PVDMA_MAP_READ ? "r" : "-",
				   w->perm & PVDMA_MAP_WRITE ? "w" : "-",
				   w == p->pool_window ? " bounce-pool" : "");
		}
	}
	spin_unlock_irqrestore(&c->lock, flags);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pvdma_windows);

static int pvdma_limits_show(struct seq_file *m, void *unused)
{
	struct pvdma_companion *c = &pvdma_comp;
	struct pvdma_planner_config cfg;
	unsigned long flags;
	bool live;

	spin_lock_irqsave(&c->lock, flags);
	live = c->live;
	cfg = c->planner.cfg;
	spin_unlock_irqrestore(&c->lock, flags);
	if (!live) {
		seq_puts(m, "companion absent\n");
		return 0;
	}
	seq_printf(m, "iommu_page_size %llu\n", cfg.page_size);
	seq_printf(m, "aperture_bytes %llu\n", cfg.aperture_bytes);
	seq_printf(m, "max_mappings %u\n", cfg.max_mappings);
	seq_printf(m, "bus_limit %#llx\n", c->bus_limit);
	seq_printf(m, "policy %s\n", pvdma_policy_name(cfg.policy));
	seq_printf(m, "strict %u\n", cfg.strict);
	seq_printf(m, "bounce %s\n", pvdma_bounce_mode_name(cfg.bounce));
	seq_printf(m, "bounce_bytes %llu\n", cfg.bounce_bytes);
	seq_printf(m, "max_window %llu\n", cfg.max_window);
	seq_printf(m, "spec_shift %u\n", cfg.spec_shift);
	seq_printf(m, "rfc_window_shift %u\n", cfg.rfc_window_shift);
	seq_printf(m, "ivposition %u\n", c->ivposition);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pvdma_limits);

static ssize_t pvdma_reclaim_write(struct file *file, const char __user *buf,
				   size_t count, loff_t *ppos)
{
	struct pvdma_companion *c = &pvdma_comp;
	unsigned long flags;
	int n = -ENODEV;

	spin_lock_irqsave(&c->lock, flags);
	if (c->live)
		n = pvdma_reclaim(&c->planner);
	spin_unlock_irqrestore(&c->lock, flags);
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
}

/**
 * pvdma_debugfs_exit() - remove it
 */
void pvdma_debugfs_exit(void)
{
	debugfs_remove_recursive(pvdma_debugfs_dir);
	pvdma_debugfs_dir = NULL;
}
