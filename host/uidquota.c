// SPDX-License-Identifier: MIT
/*
 * Slots charged to user ids, each held to a cap (uidquota.h).
 */
#include <errno.h>
#include <stddef.h>

#include "uidquota.h"

int uidquota_init(struct uidquota *q, unsigned int slots, unsigned int cap)
{
	unsigned int i;

	if (!cap || cap >= slots || slots > UIDQUOTA_MAX_SLOTS)
		return -EINVAL;
	q->slots = slots;
	q->cap = cap;
	q->used = 0;
	for (i = 0; i < UIDQUOTA_MAX_SLOTS; i++)
		q->e[i].held = 0;
	return 0;
}

/* @uid's entry, or @q->slots if it holds nothing. */
static unsigned int uidquota_find(const struct uidquota *q, uid_t uid)
{
	unsigned int i;

	for (i = 0; i < q->slots; i++)
		if (q->e[i].held && q->e[i].uid == uid)
			break;
	return i;
}

int uidquota_take(struct uidquota *q, uid_t uid)
{
	unsigned int i = uidquota_find(q, uid);

	if (i < q->slots && q->e[i].held >= q->cap)
		return -EDQUOT;
	if (q->used >= q->slots)
		return -EBUSY;
	/*
	 * A slot is free, so an entry is: no more uids hold one than slots
	 * are taken.
	 */
	if (i == q->slots) {
		for (i = 0; i < q->slots && q->e[i].held; i++)
			;
		if (i == q->slots)
			return -EBUSY;	/* unreachable while the counts agree */
		q->e[i].uid = uid;
	}
	q->e[i].held++;
	q->used++;
	return 0;
}

void uidquota_put(struct uidquota *q, uid_t uid)
{
	unsigned int i = uidquota_find(q, uid);

	if (i == q->slots)
		return;		/* nothing charged to it: not its to give */
	q->e[i].held--;
	q->used--;
}

unsigned int uidquota_held(const struct uidquota *q, uid_t uid)
{
	unsigned int i = uidquota_find(q, uid);

	return i < q->slots ? q->e[i].held : 0;
}
