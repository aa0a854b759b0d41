// SPDX-License-Identifier: GPL-2.0
/*
 * pvdma transport: host requests over the companion device's ring.
 *
 * A submit encodes a batch of host requests into as many slots as it
 * needs, posts them all (slot->seq, then sq_tail), rings the doorbell once
 * and waits for every slot's done_seq. How it waits is the caller's: a
 * map holds the domain's spinlock with interrupts off, so it spins, and
 * for at most the atomic deadline (timeout_ms capped under the kernel's
 * lockup and stall thresholds: main.c, PVDMA_LOCKUP_THRESH_MS); probe's
 * HELLO and teardown's RESET run in process context without the lock,
 * so they sleep between looks and wait the full timeout_ms. One round
 * serves both; only the pause between looks and the deadline differ.
 *
 * A round the host does not answer in time marks the transport broken,
 * as the host may still act on it later; the module must then be
 * reloaded (its HELLO starts afresh). So
 * does a header whose host_state is no longer READY (pvdmad stopped and
 * marked the region DOWN): the submit fails at once instead of waiting.
 * Either is logged once, with what to do.
 *
 * The slot encoding and the memory ordering live in ring.c, which the
 * hostile self-test shares.
 */
#include <linux/delay.h>
#include <linux/ktime.h>
#include <linux/minmax.h>
#include <linux/printk.h>

#include "pvdma_guest.h"

/**
 * pvdma_transport_init() - take over the ring the host published
 * @tp: transport to fill
 * @shm: the shared region (header at offset 0, host_state READY)
 * @shm_len: its length
 * @regs: BAR0 (doorbell)
 * @timeout_ms: per-round answer deadline of a submit that may sleep
 * @atomic_timeout_ms: the same for one that may not (already capped)
 *
 * Return: 0, or pvdma_ring_init()'s errno.
 */
int pvdma_transport_init(struct pvdma_transport *tp, void *shm,
			 resource_size_t shm_len, void __iomem *regs,
			 u32 timeout_ms, u32 atomic_timeout_ms)
{
	memset(tp, 0, sizeof(*tp));
	tp->timeout_ns = (u64)timeout_ms * NSEC_PER_MSEC;
	tp->atomic_timeout_ns = (u64)atomic_timeout_ms * NSEC_PER_MSEC;
	return pvdma_ring_init(&tp->ring, shm, shm_len, regs);
}

/* How a round waits for the host: the pause between looks, the deadline. */
struct tp_wait {
	void (*pause)(void);
	u64 timeout_ns;
};

static void tp_pause_spin(void)
{
	cpu_relax();
}

/* A host round trip takes tens of microseconds: sleep about that long. */
static void tp_pause_sleep(void)
{
	usleep_range(50, 200);
}

/* A round the host did not answer: say why, once, and give up for good. */
static int tp_round_timed_out(struct pvdma_transport *tp,
			      const struct tp_wait *w, u32 ring_errors)
{
	tp->timeouts++;
	tp->broken = true;
	if (pvdma_ring_errors(&tp->ring) != ring_errors) {
		pr_err("pvdma: the host ignored our ring (its sq_tail out of step with the host's sq_head %u); every DMA map fails from now on: reload pvdma\n",
		       pvdma_ring_head(&tp->ring));
		return -ETIMEDOUT;
	}
	pr_err("pvdma: the host did not answer within %llu ms (pvdmad gone or stuck); every DMA map fails from now on: restart pvdmad and the VM, or reload pvdma if pvdmad is still serving this VM\n",
	       w->timeout_ns / NSEC_PER_MSEC);
	return -ETIMEDOUT;
}

/* Wait for one slot's answer as @w says; false at the deadline. */
static bool tp_wait_slot(struct pvdma_ring *r, u32 index, u32 seq,
			 u64 deadline, const struct tp_wait *w)
{
	while (!pvdma_ring_answered(r, index, seq)) {
		if (ktime_get_ns() > deadline)
			return false;
		w->pause();
	}
	return true;
}

/*
 * One round: post up to PVDMA_ROUND_SLOTS slots, ring once, wait for them
 * all. Returns the ops consumed, or a negative errno.
 */
static int tp_round(struct pvdma_transport *tp, struct pvdma_request *ops,
		    u32 n, const struct tp_wait *w)
{
	struct pvdma_ring *r = &tp->ring;
	u32 seqs[PVDMA_ROUND_SLOTS], posted = 0, used = 0, i, cnt;
	u32 max_slots = min_t(u32, r->nslots, ARRAY_SIZE(seqs));
	u32 ring_errors = pvdma_ring_errors(r);
	u64 start = ktime_get_ns(), deadline = start + w->timeout_ns;

	while (used < n && posted < max_slots) {
		cnt = min(n - used, r->max_batch);
		seqs[posted] = pvdma_ring_fill(r, r->tail + posted, ops + used,
					       cnt, cnt, 0);
		used += cnt;
		posted++;
	}
	pvdma_ring_publish(r, r->tail + posted);
	tp->doorbells++;
	tp->slots_posted += posted;

	used = 0;
	for (i = 0; i < posted; i++) {
		cnt = min(n - used, r->max_batch);
		if (!tp_wait_slot(r, r->tail + i, seqs[i], deadline, w))
			return tp_round_timed_out(tp, w, ring_errors);
		pvdma_ring_read(r, r->tail + i, ops + used, cnt, NULL);
		used += cnt;
	}
	r->tail += posted;
	tp->max_wait_ns = max(tp->max_wait_ns, ktime_get_ns() - start);
	return used;
}

/**
 * pvdma_transport_check() - can the host still be reached?
 * @tp: the transport
 *
 * Cheap (one shared-memory read): the DMA ops call it before every map,
 * so that a map served from a cached window fails too once the host is
 * known to be gone. Marks the transport broken, and says so once, when
 * the host's header is no longer READY (pvdmad stopped). Caller holds
 * the domain's lock.
 *
 * Return: 0, or -EIO if the transport is broken.
 */
int pvdma_transport_check(struct pvdma_transport *tp)
{
	u32 state;

	if (tp->broken)
		return -EIO;
	state = pvdma_ring_host_state(&tp->ring);
	if (state == PVDMA_HOST_READY)
		return 0;
	tp->host_down++;
	tp->broken = true;
	pr_err("pvdma: the host stopped serving (host_state %u): every DMA map fails from now on; a restarted pvdmad needs a new VM (QEMU's ivshmem does not reconnect)\n",
	       state);
	return -EIO;
}

static int tp_submit(struct pvdma_transport *tp, struct pvdma_request *ops,
		     u32 n, const struct tp_wait *w)
{
	int ret;

	if (pvdma_transport_check(tp))
		return -EIO;
	tp->calls++;
	while (n) {
		ret = tp_round(tp, ops, n, w);
		if (ret < 0)
			return ret;
		ops += ret;
		n -= ret;
	}
	return 0;
}

/**
 * pvdma_transport_submit() - execute a batch of host requests, spinning
 * @tp: the transport
 * @ops: requests; each gets its status (and bus, for MAP)
 * @n: how many
 *
 * One doorbell for up to max_batch * min(nslots, PVDMA_ROUND_SLOTS)
 * requests, a whole planner batch (more would take further rounds).
 * Atomic-safe: it spins, each round for at most the atomic deadline.
 * Caller holds the domain's lock.
 *
 * Return: 0, -EIO if the transport is broken, -ETIMEDOUT if the host did
 * not answer (then it may still act on the requests: the transport is
 * marked broken).
 */
int pvdma_transport_submit(struct pvdma_transport *tp,
			   struct pvdma_request *ops, u32 n)
{
	const struct tp_wait w = {
		.pause		= tp_pause_spin,
		.timeout_ns	= tp->atomic_timeout_ns,
	};

	return tp_submit(tp, ops, n, &w);
}

/**
 * pvdma_transport_submit_sleep() - the same, sleeping while it waits
 * @tp: the transport
 * @ops: requests; each gets its status (and bus, for MAP)
 * @n: how many
 *
 * For process context (probe's HELLO, teardown's RESET): each round
 * waits up to the full timeout_ms, sleeping between looks, so a dead or
 * stuck host costs this task time, never a CPU with interrupts off.
 * The caller must own the transport without the domain's lock: the
 * domain not live, so that no map, unmap or reclaim can enter it (they
 * test @live under the lock), and no round of theirs still in flight.
 *
 * Return: as pvdma_transport_submit().
 */
int pvdma_transport_submit_sleep(struct pvdma_transport *tp,
				 struct pvdma_request *ops, u32 n)
{
	const struct tp_wait w = {
		.pause		= tp_pause_sleep,
		.timeout_ns	= tp->timeout_ns,
	};

	might_sleep();
	return tp_submit(tp, ops, n, &w);
}
