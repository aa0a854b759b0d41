/* SPDX-License-Identifier: MIT */
/*
 * The host's side of a ring the guest produces into: the companion's
 * request ring and a DMA device's command queue. The guest's tail is read
 * once, checked, and each entry consumed is published in the shared head
 * right after it ran, so the guest can reuse it.
 */
#ifndef PVDMAD_RING_CONSUMER_H
#define PVDMAD_RING_CONSUMER_H

#include "shm_access.h"

/**
 * struct ring_consumer - one ring as its consumer sees it
 * @head:	entries consumed (the host's copy; the shared one is only
 *		published, never read back)
 * @shm_head:	the head the guest reads
 * @shm_tail:	the tail the guest writes
 * @entries:	ring size, a power of two
 * @run:	runs the entry at @index; RING_RAN: it is done, go on;
 *		RING_SPENT: it is done and the budget spent, stop;
 *		RING_UNFINISHED: the budget ran out inside it, stop and leave
 *		the head on it (the next call runs it on)
 * @ctx:	@run's argument
 * @tail:	the tail ring_consume() last read (what a log names)
 */
enum ring_run {
	RING_RAN,
	RING_SPENT,
	RING_UNFINISHED,
};

struct ring_consumer {
	u32 *head;
	u32 *shm_head;
	const u32 *shm_tail;
	u32 entries;
	enum ring_run (*run)(void *ctx, u32 index);
	void *ctx;
	u32 tail;
};

/*
 * ring_consume - run what the guest posted, in order
 * *more says whether posted entries remain (@run stopped early, or inside
 * one). Returns how many were consumed, or -EINVAL for an impossible tail (behind the head or more
 * than a ring ahead): nothing runs and the head is published again, so a
 * guest that lost track can resynchronise from it.
 */
static inline int ring_consume(struct ring_consumer *rc, bool *more)
{
	int pending;
	int i;

	rc->tail = shm_load_acquire32(rc->shm_tail);
	pending = pvdma_ring_pending(*rc->head, rc->tail, rc->entries);
	*more = false;
	if (pending < 0) {
		shm_store_release32(rc->shm_head, *rc->head);
		return -EINVAL;
	}
	for (i = 0; i < pending; i++) {
		enum ring_run ran = rc->run(rc->ctx, *rc->head & (rc->entries - 1));

		if (ran == RING_UNFINISHED) {
			*more = true;
			return i;
		}
		++*rc->head;
		shm_store_release32(rc->shm_head, *rc->head);
		if (ran == RING_SPENT && i + 1 < pending) {
			*more = true;
			return i + 1;
		}
	}
	return pending;
}

#endif /* PVDMAD_RING_CONSUMER_H */
