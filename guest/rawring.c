// SPDX-License-Identifier: GPL-2.0
/*
 * pvdma raw ring access: TEST ONLY.
 *
 * With hostile_tests=1, pvdma.ko lets pvdma_hostile.ko post hand-made
 * slots (any op, flags, lengths, slot count or flags), publish impossible
 * sq_tail values and change the guest half of the header, all through the
 * real transport, so the hostile-guest catalogue of docs/security.md is
 * also sent from inside a VM. Without the parameter every call here fails
 * with -EPERM and nothing of the ring is reachable from outside the module.
 *
 * A raw session starts with pvdma_raw_begin() (refused while the planner
 * holds any window: raw HELLO and RESET would pull them from under it) and
 * ends with pvdma_raw_end(), which restores the guest header and sends the
 * HELLO + RESET of a normal probe, so the planner starts again from a
 * clean session. No driver may map through pvdma in between.
 */
#include <linux/delay.h>
#include <linux/module.h>

#include "pvdma_export.h"
#include "pvdma_guest.h"

static bool pvdma_raw_active;

static int pvdma_raw_usable(void)
{
	if (!pvdma_params.hostile_tests)
		return -EPERM;
	if (!pvdma_comp.live)
		return -ENODEV;
	return pvdma_raw_active ? 0 : -EINVAL;
}

/**
 * pvdma_raw_begin() - start a raw session (test only)
 * @info: filled with the ring geometry and host limits
 *
 * Return: 0, -EPERM without hostile_tests=1, -ENODEV without a companion,
 * -EBUSY if the planner holds windows or a session is already open.
 */
int pvdma_raw_begin(struct pvdma_raw_info *info)
{
	struct pvdma_companion *c = &pvdma_comp;
	unsigned long flags;
	int ret = 0;

	if (!pvdma_params.hostile_tests)
		return -EPERM;
	spin_lock_irqsave(&c->lock, flags);
	if (!c->live)
		ret = -ENODEV;
	else if (pvdma_raw_active || c->planner.stats.live_windows)
		ret = -EBUSY;
	if (!ret) {
		pvdma_raw_active = true;
		info->page_size = c->planner.cfg.page_size;
		info->aperture_bytes = c->planner.cfg.aperture_bytes;
		info->bus_base = pvdma_le64(READ_ONCE(c->tp.hdr->bus_base));
		info->bus_limit = c->bus_limit;
		info->ring_slots = c->tp.nslots;
		info->max_batch = c->tp.max_batch;
	}
	spin_unlock_irqrestore(&c->lock, flags);
	if (!ret)
		pr_warn("pvdma: raw ring session opened by a test module (hostile_tests=1)\n");
	return ret;
}
EXPORT_SYMBOL_GPL(pvdma_raw_begin);

/**
 * pvdma_raw_post() - post one hand-made slot and wait for its answer
 * @s: the slot; its status, completed and the entries' answers are filled
 *
 * Return: 0 once the host answered, or a negative errno (no session,
 * @s->nents above max_batch, transport broken or timed out).
 */
int pvdma_raw_post(struct pvdma_raw_slot *s)
{
	struct pvdma_companion *c = &pvdma_comp;
	unsigned long flags;
	int ret;

	spin_lock_irqsave(&c->lock, flags);
	ret = pvdma_raw_usable();
	if (!ret)
		ret = pvdma_transport_post_raw(&c->tp, s->ops, s->nents,
					       s->count, s->flags, &s->status,
					       &s->completed);
	spin_unlock_irqrestore(&c->lock, flags);
	return ret;
}
EXPORT_SYMBOL_GPL(pvdma_raw_post);

/**
 * pvdma_raw_guest_header() - write guest_version and guest_features
 * @version: the version the next HELLO will claim
 * @features: the features it will claim
 *
 * Return: 0 or a negative errno (no session).
 */
int pvdma_raw_guest_header(u32 version, u32 features)
{
	struct pvdma_companion *c = &pvdma_comp;
	unsigned long flags;
	int ret;

	spin_lock_irqsave(&c->lock, flags);
	ret = pvdma_raw_usable();
	if (!ret) {
		WRITE_ONCE(c->tp.hdr->guest_version, pvdma_le32(version));
		WRITE_ONCE(c->tp.hdr->guest_features, pvdma_le32(features));
	}
	spin_unlock_irqrestore(&c->lock, flags);
	return ret;
}
EXPORT_SYMBOL_GPL(pvdma_raw_guest_header);

/**
 * pvdma_raw_bad_tail() - publish a bad sq_tail, ring, wait, then resync
 * @delta: publish sq_tail = the real tail + @delta (u32 arithmetic: -1 is
 *	   behind the head, ring_slots + 1 too far ahead)
 * @wait_ms: how long the host has to see it (may sleep)
 *
 * The host must ignore an impossible tail (and count it, bad_tail); the
 * ring is then put back (sq_tail = sq_head).
 *
 * Return: 0, -EPROTO if the host's sq_head moved (it consumed slots
 * that were never posted), or another negative errno (no session).
 */
int pvdma_raw_bad_tail(u32 delta, unsigned int wait_ms)
{
	struct pvdma_companion *c = &pvdma_comp;
	unsigned long flags;
	int ret;

	spin_lock_irqsave(&c->lock, flags);
	ret = pvdma_raw_usable();
	if (!ret)
		pvdma_transport_write_tail(&c->tp, c->tp.tail + delta);
	spin_unlock_irqrestore(&c->lock, flags);
	if (ret)
		return ret;
	msleep(wait_ms);
	spin_lock_irqsave(&c->lock, flags);
	ret = pvdma_transport_resync(&c->tp);
	spin_unlock_irqrestore(&c->lock, flags);
	return ret;
}
EXPORT_SYMBOL_GPL(pvdma_raw_bad_tail);

/**
 * pvdma_raw_end() - close the raw session: a clean HELLO + RESET
 *
 * Restores guest_version and guest_features and starts a new session
 * with nothing mapped, as probe does; the planner is told its windows
 * are gone (it held none when the session began).
 *
 * Return: 0, or -EPROTO / a transport errno if the host refused.
 */
int pvdma_raw_end(void)
{
	struct pvdma_companion *c = &pvdma_comp;
	struct pvdma_host_op ops[2] = {
		{ .op = PVDMA_OP_HELLO },
		{ .op = PVDMA_OP_RESET },
	};
	struct pvdma_shm_header *hdr;
	unsigned long flags;
	int ret;

	spin_lock_irqsave(&c->lock, flags);
	ret = pvdma_raw_usable();
	if (!ret) {
		hdr = c->tp.hdr;
		WRITE_ONCE(hdr->guest_version, pvdma_le32(PVDMA_PROTO_VERSION));
		WRITE_ONCE(hdr->guest_features,
			   pvdma_le32(pvdma_le32(READ_ONCE(hdr->host_features)) &
				      PVDMA_FEAT_KNOWN));
		ret = pvdma_transport_submit(&c->tp, ops, ARRAY_SIZE(ops));
		if (!ret && (ops[0].status != PVDMA_ST_OK ||
			     ops[1].status != PVDMA_ST_OK))
			ret = -EPROTO;
		pvdma_planner_forget(&c->planner);
	}
	pvdma_raw_active = false;
	spin_unlock_irqrestore(&c->lock, flags);
	return ret;
}
EXPORT_SYMBOL_GPL(pvdma_raw_end);
