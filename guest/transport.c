// SPDX-License-Identifier: GPL-2.0
/*
 * pvdma transport: the request ring in the companion's shared region.
 *
 * A submit encodes a batch of host requests into as many slots as it
 * needs, posts them all (slot->seq, then sq_tail), rings the doorbell once
 * and polls every slot's done_seq. It never sleeps: the caller may hold a
 * spinlock with interrupts off. A round the host does not answer within
 * timeout_ms marks the transport broken, as the host may still act on it
 * later; the module must then be reloaded (its HELLO starts afresh). So
 * does a header whose host_state is no longer READY (pvdmad stopped and
 * marked the region DOWN): the submit fails at once instead of waiting.
 * Either is logged once, with what to do.
 *
 * The region is ordinary shared memory (write-back mapped); virt_wmb() and
 * virt_rmb() order our accesses against the host's, which runs as another
 * process on another CPU.
 */
#include <linux/delay.h>
#include <linux/io.h>
#include <linux/ktime.h>
#include <linux/processor.h>

#include "pvdma_guest.h"

#define PVDMA_SHM_READ32(p)	pvdma_le32(READ_ONCE(p))
#define PVDMA_SHM_WRITE32(p, v)	WRITE_ONCE(p, pvdma_le32(v))

static struct pvdma_slot_hdr *tp_slot(struct pvdma_transport *tp, u32 index)
{
	return (struct pvdma_slot_hdr *)(tp->ring +
					 (size_t)(index & (tp->nslots - 1)) *
					 tp->slot_size);
}

static u32 tp_next_seq(struct pvdma_transport *tp)
{
	if (++tp->seq == 0)
		tp->seq = 1;
	return tp->seq;
}

/**
 * pvdma_transport_wait_ready() - wait for the host to publish the header
 * @hdr: the shared header
 * @timeout_ms: how long to wait
 *
 * May sleep (probe only).
 *
 * Return: 0 once host_state is READY, -ETIMEDOUT otherwise.
 */
int pvdma_transport_wait_ready(struct pvdma_shm_header *hdr, u32 timeout_ms)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(timeout_ms);

	while (PVDMA_SHM_READ32(hdr->host_state) != PVDMA_HOST_READY) {
		if (time_after(jiffies, deadline))
			return -ETIMEDOUT;
		msleep(10);
	}
	virt_rmb();
	return 0;
}

/**
 * pvdma_transport_init() - check the ring geometry the host published
 * @tp: transport to fill
 * @shm: the shared region (header at offset 0, host_state READY)
 * @shm_len: its length
 * @regs: BAR0 (doorbell)
 * @timeout_ms: per-round answer deadline
 *
 * Return: 0, -EPROTO if the header describes an impossible ring, or
 * -EBUSY if slots of an earlier session are still outstanding.
 */
int pvdma_transport_init(struct pvdma_transport *tp, void *shm,
			 resource_size_t shm_len, void __iomem *regs,
			 u32 timeout_ms)
{
	struct pvdma_shm_header *hdr = shm;
	u32 off = PVDMA_SHM_READ32(hdr->ring_offset);
	u32 nslots = PVDMA_SHM_READ32(hdr->ring_slots);
	u32 slot_size = PVDMA_SHM_READ32(hdr->slot_size);
	u32 max_batch = PVDMA_SHM_READ32(hdr->max_batch);
	u32 head, tail;

	memset(tp, 0, sizeof(*tp));
	if (!is_power_of_2(nslots) || !max_batch || max_batch > U16_MAX ||
	    slot_size < PVDMA_SLOT_SIZE(max_batch) || slot_size % 8 ||
	    off < sizeof(*hdr) || off % 8 ||
	    (u64)off + (u64)nslots * slot_size > shm_len)
		return -EPROTO;
	head = PVDMA_SHM_READ32(hdr->sq_head);
	tail = PVDMA_SHM_READ32(hdr->sq_tail);
	if (head != tail)
		return -EBUSY;
	tp->hdr = hdr;
	tp->ring = (u8 *)shm + off;
	tp->doorbell = regs + PVDMA_IVSHMEM_REG_DOORBELL;
	tp->nslots = nslots;
	tp->slot_size = slot_size;
	tp->max_batch = max_batch;
	tp->peer = PVDMA_SHM_READ32(hdr->host_peer_id);
	tp->tail = tail;
	tp->timeout_ns = (u64)timeout_ms * NSEC_PER_MSEC;
	return 0;
}

/* Encode @n (<= max_batch) ops into the slot at @index; returns its seq. */
static u32 tp_fill_slot(struct pvdma_transport *tp, u32 index,
			const struct pvdma_host_op *ops, u32 n)
{
	struct pvdma_slot_hdr *slot = tp_slot(tp, index);
	struct pvdma_entry *e = (struct pvdma_entry *)(slot + 1);
	u32 i, seq = tp_next_seq(tp);

	for (i = 0; i < n; i++)
		pvdma_entry_encode(&e[i], &ops[i]);
	WRITE_ONCE(slot->count, pvdma_le16(n));
	WRITE_ONCE(slot->flags, 0);
	PVDMA_SHM_WRITE32(slot->status, PVDMA_ST_IO);
	PVDMA_SHM_WRITE32(slot->completed, 0);
	PVDMA_SHM_WRITE32(slot->done_seq, 0);
	virt_wmb();
	PVDMA_SHM_WRITE32(slot->seq, seq);
	return seq;
}

/* Copy the host's answers for one completed slot back into @ops. */
static void tp_read_slot(struct pvdma_transport *tp, u32 index,
			 struct pvdma_host_op *ops, u32 n)
{
	struct pvdma_slot_hdr *slot = tp_slot(tp, index);
	struct pvdma_entry *e = (struct pvdma_entry *)(slot + 1);
	u32 status = PVDMA_SHM_READ32(slot->status);
	u32 done = PVDMA_SHM_READ32(slot->completed);
	struct pvdma_host_op ans;
	u32 i;

	for (i = 0; i < n; i++) {
		if (status != PVDMA_ST_OK) {
			ops[i].status = status;
			continue;
		}
		if (i >= done) {
			ops[i].status = PVDMA_ST_IO;
			continue;
		}
		pvdma_entry_decode(&ans, &e[i]);
		ops[i].status = ans.status;
		if (ops[i].op == PVDMA_OP_MAP)
			ops[i].bus = ans.bus;
	}
}

/* Wait until slot @index shows @seq done; false on timeout. */
static bool tp_poll_slot(struct pvdma_transport *tp, u32 index, u32 seq,
			 u64 deadline)
{
	struct pvdma_slot_hdr *slot = tp_slot(tp, index);

	while (PVDMA_SHM_READ32(slot->done_seq) != seq) {
		if (ktime_get_ns() > deadline)
			return false;
		cpu_relax();
	}
	virt_rmb();
	return true;
}

/*
 * One round: post up to nslots slots, ring once, wait for them all.
 * Returns the ops consumed, or a negative errno.
 */
static int tp_round(struct pvdma_transport *tp, struct pvdma_host_op *ops,
		    u32 n)
{
	u32 seqs[PVDMA_ROUND_SLOTS], posted = 0, used = 0, i, cnt;
	u32 max_slots = min_t(u32, tp->nslots, ARRAY_SIZE(seqs));
	u32 ring_errors = PVDMA_SHM_READ32(tp->hdr->ring_errors);
	u64 start = ktime_get_ns(), deadline = start + tp->timeout_ns;

	while (used < n && posted < max_slots) {
		cnt = min(n - used, tp->max_batch);
		seqs[posted] = tp_fill_slot(tp, tp->tail + posted, ops + used, cnt);
		used += cnt;
		posted++;
	}
	virt_wmb();
	PVDMA_SHM_WRITE32(tp->hdr->sq_tail, tp->tail + posted);
	iowrite32(tp->peer << 16, tp->doorbell);
	tp->doorbells++;
	tp->slots_posted += posted;

	used = 0;
	for (i = 0; i < posted; i++) {
		cnt = min(n - used, tp->max_batch);
		if (!tp_poll_slot(tp, tp->tail + i, seqs[i], deadline)) {
			tp->timeouts++;
			tp->broken = true;
			if (PVDMA_SHM_READ32(tp->hdr->ring_errors) != ring_errors) {
				pr_err("pvdma: the host ignored our ring (its sq_tail out of step with the host's sq_head %u); every DMA map fails from now on: reload pvdma\n",
				       PVDMA_SHM_READ32(tp->hdr->sq_head));
				return -ETIMEDOUT;
			}
			pr_err("pvdma: the host did not answer within %llu ms (pvdmad gone or stuck); every DMA map fails from now on: restart pvdmad and the VM, or reload pvdma if pvdmad is still serving this VM\n",
			       tp->timeout_ns / NSEC_PER_MSEC);
			return -ETIMEDOUT;
		}
		tp_read_slot(tp, tp->tail + i, ops + used, cnt);
		used += cnt;
	}
	tp->tail += posted;
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
 * pvdma_comp.lock.
 *
 * Return: 0, or -EIO if the transport is broken.
 */
int pvdma_transport_check(struct pvdma_transport *tp)
{
	u32 state;

	if (tp->broken)
		return -EIO;
	state = PVDMA_SHM_READ32(tp->hdr->host_state);
	if (state == PVDMA_HOST_READY)
		return 0;
	tp->host_down++;
	tp->broken = true;
	pr_err("pvdma: the host stopped serving (host_state %u): every DMA map fails from now on; a restarted pvdmad needs a new VM (QEMU's ivshmem does not reconnect)\n",
	       state);
	return -EIO;
}

/**
 * pvdma_transport_submit() - execute a batch of host requests
 * @ctx: the struct pvdma_transport
 * @ops: requests; each gets its status (and bus, for MAP)
 * @n: how many
 *
 * The planner's submit op. One doorbell for up to max_batch *
 * min(nslots, PVDMA_ROUND_SLOTS) requests, a whole planner batch (more
 * would take further rounds). Atomic-safe. Caller holds
 * pvdma_comp.lock.
 *
 * Return: 0, -EIO if the transport is broken, -ETIMEDOUT if the host did
 * not answer (then it may still act on the requests: the transport is
 * marked broken).
 */
int pvdma_transport_submit(void *ctx, struct pvdma_host_op *ops, u32 n)
{
	struct pvdma_transport *tp = ctx;
	int ret;

	if (pvdma_transport_check(tp))
		return -EIO;
	tp->calls++;
	while (n) {
		ret = tp_round(tp, ops, n);
		if (ret < 0)
			return ret;
		ops += ret;
		n -= ret;
	}
	return 0;
}

/**
 * pvdma_transport_post_raw() - post one hand-made slot (hostile tests only)
 * @tp: the transport
 * @ops: entries written into the slot; each gets the host's status (and
 *	 bus, for MAP) if the host executed it, else the slot's status
 * @nents: how many entries to write (at most max_batch)
 * @count: the slot's count field as posted, which may lie about @nents
 * @flags: the slot's flags field as posted
 * @status: out: the slot's status
 * @completed: out: entries the host executed
 *
 * Bypasses every check a normal submit makes on what it sends: only
 * pvdma_hostile.ko uses it, through rawring.c, with hostile_tests=1.
 * Caller holds pvdma_comp.lock.
 *
 * Return: 0, -EINVAL if @nents is above max_batch, -EIO if the transport
 * is broken, -ETIMEDOUT if the host did not answer (then it is broken).
 */
int pvdma_transport_post_raw(struct pvdma_transport *tp,
			     struct pvdma_host_op *ops, u32 nents, u16 count,
			     u16 flags, u32 *status, u32 *completed)
{
	struct pvdma_slot_hdr *slot;
	struct pvdma_entry *e;
	struct pvdma_host_op ans;
	u32 i, seq;

	if (nents > tp->max_batch)
		return -EINVAL;
	if (pvdma_transport_check(tp))
		return -EIO;
	slot = tp_slot(tp, tp->tail);
	e = (struct pvdma_entry *)(slot + 1);
	seq = tp_next_seq(tp);
	for (i = 0; i < nents; i++)
		pvdma_entry_encode(&e[i], &ops[i]);
	WRITE_ONCE(slot->count, pvdma_le16(count));
	WRITE_ONCE(slot->flags, pvdma_le16(flags));
	PVDMA_SHM_WRITE32(slot->status, PVDMA_ST_IO);
	PVDMA_SHM_WRITE32(slot->completed, 0);
	PVDMA_SHM_WRITE32(slot->done_seq, 0);
	virt_wmb();
	PVDMA_SHM_WRITE32(slot->seq, seq);
	virt_wmb();
	PVDMA_SHM_WRITE32(tp->hdr->sq_tail, tp->tail + 1);
	iowrite32(tp->peer << 16, tp->doorbell);
	tp->calls++;
	tp->doorbells++;
	tp->slots_posted++;
	if (!tp_poll_slot(tp, tp->tail, seq,
			  ktime_get_ns() + tp->timeout_ns)) {
		tp->timeouts++;
		tp->broken = true;
		pr_err("pvdma: the host did not answer a raw test slot\n");
		return -ETIMEDOUT;
	}
	*status = PVDMA_SHM_READ32(slot->status);
	*completed = PVDMA_SHM_READ32(slot->completed);
	for (i = 0; i < nents; i++) {
		if (i >= *completed) {
			ops[i].status = *status;
			continue;
		}
		pvdma_entry_decode(&ans, &e[i]);
		ops[i].status = ans.status;
		if (ops[i].op == PVDMA_OP_MAP)
			ops[i].bus = ans.bus;
	}
	tp->tail++;
	return 0;
}

/**
 * pvdma_transport_write_tail() - publish any sq_tail and ring (tests only)
 * @tp: the transport
 * @tail: the value to publish, typically impossible
 *
 * Our own copy of the tail is left alone; pvdma_transport_resync() puts
 * the ring back. Caller holds pvdma_comp.lock.
 */
void pvdma_transport_write_tail(struct pvdma_transport *tp, u32 tail)
{
	virt_wmb();
	PVDMA_SHM_WRITE32(tp->hdr->sq_tail, tail);
	iowrite32(tp->peer << 16, tp->doorbell);
	tp->doorbells++;
}

/**
 * pvdma_transport_resync() - recover from a bad sq_tail (tests only)
 * @tp: the transport
 *
 * Sets sq_tail back to the host's sq_head, as protocol.md §2.4 says a
 * guest recovers. Caller holds pvdma_comp.lock.
 *
 * Return: 0, or -EPROTO if the host's sq_head is not where our tail is
 * (the host consumed slots it should have ignored).
 */
int pvdma_transport_resync(struct pvdma_transport *tp)
{
	u32 head = PVDMA_SHM_READ32(tp->hdr->sq_head);

	virt_rmb();
	PVDMA_SHM_WRITE32(tp->hdr->sq_tail, tp->tail);
	return head == tp->tail ? 0 : -EPROTO;
}
