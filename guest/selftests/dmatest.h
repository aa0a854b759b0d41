/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pvdma_dmatest: a driver for pvdmad's DMA device model that uses only the
 * standard DMA API on its device (whose ops pvdma.ko replaced) and the
 * device's command queue, and checks every byte it moves.
 *
 * dmatest_dev.c	the PCI driver and the command queue
 * dmatest.c		the self-tests and the module
 */
#ifndef PVDMA_DMATEST_H
#define PVDMA_DMATEST_H

#include <linux/list.h>
#include <linux/pci.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#include <pvdma/dmadev.h>
#include <pvdma/proto.h>

/**
 * struct dmatest_dev - one DMA device model instance
 * @node:	in the list of bound devices
 * @pdev:	its PCI device
 * @regs:	BAR0 (ivshmem registers)
 * @shm:	BAR2 (header and command queue), write-back mapped
 * @hdr:	the header in @shm
 * @queue:	command 0
 * @entries:	commands in the queue (power of two)
 * @max_len:	longest length one command may move
 * @peer:	host peer id the doorbell names
 * @tail:	commands posted so far
 * @seq:	last tag used (never 0)
 * @timeout_ns:	longest wait for one batch
 * @lock:	serialises the queue (taken irqsave: commands are posted from
 *		timers and under the tests' spinlocks too)
 * @cmds:	commands completed
 * @doorbells:	doorbell writes
 * @timeouts:	batches the device did not finish in time (after one, every
 *		later run fails at once: the host is taken to be gone)
 */
struct dmatest_dev {
	struct list_head node;
	struct pci_dev *pdev;
	void __iomem *regs;
	void *shm;
	struct pvdma_dev_header *hdr;
	struct pvdma_dev_cmd *queue;
	u32 entries;
	u32 max_len;
	u32 peer;
	u32 tail;
	u32 seq;
	u64 timeout_ns;
	spinlock_t lock;	/* the queue: see @lock above */
	u64 cmds;
	u64 doorbells;
	u64 timeouts;
};

/**
 * struct dmatest_cmd - one device command and its outcome
 * @op:		enum pvdma_dev_op
 * @src:	source bus address (COPY, CHECKSUM)
 * @dst:	destination bus address (COPY, FILL)
 * @len:	bytes (any length: split at max_len by the caller helpers)
 * @pattern:	FILL byte
 * @status:	enum pvdma_dev_status, out
 * @result:	CHECKSUM value, out
 * @fault_bus:	first faulting bus address, out
 */
struct dmatest_cmd {
	u16 op;
	u8 pattern;
	u32 status;
	u64 src;
	u64 dst;
	u64 len;
	u64 result;
	u64 fault_bus;
};

/* dmatest_dev.c */
extern bool dmatest_set_mask;
int dmatest_dev_run(struct dmatest_dev *d, struct dmatest_cmd *cmds, u32 n);
int dmatest_dev_register(int (*domain_peer)(struct device *dev));
void dmatest_dev_unregister(void);
struct dmatest_dev *dmatest_dev_get(void);
struct dmatest_dev *dmatest_dev_nth(unsigned int n);

#endif /* PVDMA_DMATEST_H */
