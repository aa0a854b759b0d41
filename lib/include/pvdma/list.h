/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * A circular doubly linked list, the kernel's list_head in miniature, so
 * lib/ reads the same in both worlds.
 */
#ifndef PVDMA_LIST_H
#define PVDMA_LIST_H

#include "compat.h"

struct pvdma_list {
	struct pvdma_list *next;
	struct pvdma_list *prev;
};

static inline void pvdma_list_init(struct pvdma_list *head)
{
	head->next = head;
	head->prev = head;
}

static inline bool pvdma_list_empty(const struct pvdma_list *head)
{
	return head->next == head;
}

static inline void pvdma_list_add_tail(struct pvdma_list *n,
				       struct pvdma_list *head)
{
	n->prev = head->prev;
	n->next = head;
	head->prev->next = n;
	head->prev = n;
}

static inline void pvdma_list_del(struct pvdma_list *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n;
	n->prev = n;
}

#define pvdma_list_entry(ptr, type, member) container_of(ptr, type, member)

#endif /* PVDMA_LIST_H */
