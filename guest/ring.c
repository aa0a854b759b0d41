// SPDX-License-Identifier: GPL-2.0
/*
 * pvdma ring producer: the guest's half of the request ring in the
 * companion device's shared region (docs/protocol.md §2).
 *
 * The primitives only: check the geometry the host published, write a
 * slot, publish sq_tail and ring the doorbell, poll a slot's done_seq,
 * read its answers. Policy (how many slots per round, what a timeout
 * means) belongs to the caller: pvdma.ko's transport, and the hostile
 * self-test, which compiles this file by path (never a copy) to post
 * slots the transport never would.
 *
 * Nothing here sleeps except pvdma_ring_wait_ready(); the caller
 * serialises every call on one ring.
 */
#include <linux/delay.h>
#include <linux/io.h>
#include <linux/jiffies.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/processor.h>

#include "ring.h"

#define PVDMA_SHM_READ32(p)	pvdma_le32(READ_ONCE(p))
#define PVDMA_SHM_WRITE32(p, v)	WRITE_ONCE(p, pvdma_le32(v))

static struct pvdma_slot_hdr *ring_slot(const struct pvdma_ring *r, u32 index)
{
	return (struct pvdma_slot_hdr *)(r->slots +
					 (size_t)(index & (r->nslots - 1)) *
					 r->slot_size);
}

static struct pvdma_entry *ring_entries(struct pvdma_slot_hdr *slot)
{
	return (struct pvdma_entry *)(slot + 1);
}

static u32 ring_next_seq(struct pvdma_ring *r)
{
	if (++r->seq == 0)
		r->seq = 1;
	return r->seq;
}

/**
 * pvdma_ring_wait_ready() - wait for the host to publish the header
 * @hdr: the shared header
 * @timeout_ms: how long to wait
 *
 * May sleep (probe only).
 *
 * Return: 0 once host_state is READY, -ETIMEDOUT otherwise.
 */
int pvdma_ring_wait_ready(struct pvdma_shm_header *hdr, u32 timeout_ms)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(timeout_ms);

	while (PVDMA_SHM_READ32(hdr->host_state) != PVDMA_HOST_READY) {
		if (time_after(jiffies, deadline))
			return -ETIMEDOUT;
		msleep(20);
	}
	/* The header's fields are read after host_state says READY. */
	virt_rmb();
	return 0;
}

/**
 * pvdma_ring_init() - check the ring geometry the host published
 * @r: ring to fill
 * @shm: the shared region (header at offset 0, host_state READY)
 * @shm_len: its length
 * @regs: BAR0 (doorbell)
 *
 * Return: 0, -EPROTO if the header describes an impossible ring, or
 * -EBUSY if slots of an earlier session are still outstanding.
 */
int pvdma_ring_init(struct pvdma_ring *r, void *shm, resource_size_t shm_len,
		    void __iomem *regs)
{
	struct pvdma_shm_header *hdr = shm;
	u32 off = PVDMA_SHM_READ32(hdr->ring_offset);
	u32 nslots = PVDMA_SHM_READ32(hdr->ring_slots);
	u32 slot_size = PVDMA_SHM_READ32(hdr->slot_size);
	u32 max_batch = PVDMA_SHM_READ32(hdr->max_batch);
	u32 tail;

	memset(r, 0, sizeof(*r));
	if (!is_power_of_2(nslots) || !max_batch || max_batch > U16_MAX ||
	    slot_size < PVDMA_SLOT_SIZE(max_batch) || slot_size % 8 ||
	    off < sizeof(*hdr) || off % 8 ||
	    (u64)off + (u64)nslots * slot_size > shm_len)
		return -EPROTO;
	tail = PVDMA_SHM_READ32(hdr->sq_tail);
	if (PVDMA_SHM_READ32(hdr->sq_head) != tail)
		return -EBUSY;
	r->hdr = hdr;
	r->slots = (u8 *)shm + off;
	r->doorbell = regs + PVDMA_IVSHMEM_REG_DOORBELL;
	r->nslots = nslots;
	r->slot_size = slot_size;
	r->max_batch = max_batch;
	r->peer = PVDMA_SHM_READ32(hdr->host_peer_id);
	r->tail = tail;
	return 0;
}

/**
 * pvdma_ring_fill() - write one slot, ready to be published
 * @r: the ring
 * @index: its position (r->tail + k for the k-th slot of a round)
 * @ops: entries to encode
 * @nents: how many (at most r->max_batch)
 * @count: the slot's count field; the transport passes @nents, a test
 *	   may lie
 * @flags: the slot's flags field (0 in the protocol)
 *
 * Return: the slot's seq tag, to poll for.
 */
u32 pvdma_ring_fill(struct pvdma_ring *r, u32 index,
		    const struct pvdma_request *ops, u32 nents, u16 count,
		    u16 flags)
{
	struct pvdma_slot_hdr *slot = ring_slot(r, index);
	struct pvdma_entry *e = ring_entries(slot);
	u32 i, seq = ring_next_seq(r);

	for (i = 0; i < nents; i++)
		pvdma_entry_encode(&e[i], &ops[i]);
	WRITE_ONCE(slot->count, pvdma_le16(count));
	WRITE_ONCE(slot->flags, pvdma_le16(flags));
	PVDMA_SHM_WRITE32(slot->status, PVDMA_ST_IO);
	PVDMA_SHM_WRITE32(slot->completed, 0);
	PVDMA_SHM_WRITE32(slot->done_seq, 0);
	/* The entries and header before seq: seq makes the slot the host's. */
	virt_wmb();
	PVDMA_SHM_WRITE32(slot->seq, seq);
	return seq;
}

/**
 * pvdma_ring_publish() - publish sq_tail and ring the host's doorbell
 * @r: the ring
 * @tail: the value to publish: r->tail plus the slots filled, or, in a
 *	  test, an impossible one
 *
 * r->tail is the caller's to advance once the slots are answered.
 */
void pvdma_ring_publish(struct pvdma_ring *r, u32 tail)
{
	/* Every slot up to @tail before the tail that hands them over. */
	virt_wmb();
	PVDMA_SHM_WRITE32(r->hdr->sq_tail, tail);
	iowrite32(r->peer << 16, r->doorbell);
}

/**
 * pvdma_ring_answered() - has the host answered a slot?
 * @r: the ring
 * @index: the slot's position
 * @seq: its tag, from pvdma_ring_fill()
 *
 * One look, no wait: the caller's loop decides how to wait between looks
 * (spin or sleep).
 *
 * Return: true once done_seq shows @seq.
 */
bool pvdma_ring_answered(struct pvdma_ring *r, u32 index, u32 seq)
{
	struct pvdma_slot_hdr *slot = ring_slot(r, index);

	if (PVDMA_SHM_READ32(slot->done_seq) != seq)
		return false;
	/* The answers after done_seq, which the host writes last. */
	virt_rmb();
	return true;
}

/**
 * pvdma_ring_poll() - wait until a slot is answered
 * @r: the ring
 * @index: the slot's position
 * @seq: its tag, from pvdma_ring_fill()
 * @deadline: ktime_get_ns() value to give up at
 *
 * Spins, never sleeps (the hostile self-test's wait).
 *
 * Return: true once done_seq shows @seq, false at the deadline.
 */
bool pvdma_ring_poll(struct pvdma_ring *r, u32 index, u32 seq, u64 deadline)
{
	while (!pvdma_ring_answered(r, index, seq)) {
		if (ktime_get_ns() > deadline)
			return false;
		cpu_relax();
	}
	return true;
}

/**
 * pvdma_ring_read() - copy an answered slot's results back
 * @r: the ring
 * @index: the slot's position
 * @ops: the entries as filled; each gets its status, and bus for MAP
 * @nents: how many were filled
 * @completed: out, may be NULL: entries the host executed
 *
 * An entry the host executed reports its own status even when the slot
 * failed later, so a MAP that took effect is never taken for one that
 * did not; the others get the slot's status, or IO if the slot claims
 * success for entries it did not execute.
 *
 * Return: the slot's status.
 */
u32 pvdma_ring_read(struct pvdma_ring *r, u32 index, struct pvdma_request *ops,
		    u32 nents, u32 *completed)
{
	struct pvdma_slot_hdr *slot = ring_slot(r, index);
	struct pvdma_entry *e = ring_entries(slot);
	u32 status = PVDMA_SHM_READ32(slot->status);
	u32 done = PVDMA_SHM_READ32(slot->completed);
	struct pvdma_request ans;
	u32 i;

	for (i = 0; i < nents; i++) {
		if (i >= done) {
			ops[i].status = status == PVDMA_ST_OK ? PVDMA_ST_IO :
							       status;
			continue;
		}
		pvdma_entry_decode(&ans, &e[i]);
		ops[i].status = ans.status;
		if (ops[i].op == PVDMA_OP_MAP)
			ops[i].bus = ans.bus;
	}
	if (completed)
		*completed = done;
	return status;
}

/**
 * pvdma_ring_host_state() - what the host last published in host_state
 * @r: the ring
 *
 * Return: enum pvdma_host_state value (untrusted).
 */
u32 pvdma_ring_host_state(const struct pvdma_ring *r)
{
	return PVDMA_SHM_READ32(r->hdr->host_state);
}

/**
 * pvdma_ring_errors() - the host's count of doorbells it had to ignore
 * @r: the ring
 *
 * Return: ring_errors from the header (untrusted).
 */
u32 pvdma_ring_errors(const struct pvdma_ring *r)
{
	return PVDMA_SHM_READ32(r->hdr->ring_errors);
}

/**
 * pvdma_ring_head() - the host's sq_head
 * @r: the ring
 *
 * Return: sq_head from the header (untrusted).
 */
u32 pvdma_ring_head(const struct pvdma_ring *r)
{
	u32 head = PVDMA_SHM_READ32(r->hdr->sq_head);

	/* Whatever the caller reads next is at least as new as the head. */
	virt_rmb();
	return head;
}
