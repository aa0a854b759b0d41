// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the DMA device model's command path. Three mappings
 * (read-write, read-only, write-only) are set up; the input is a stream of
 * raw 64-byte commands (and domain_peer/tail values) run against them,
 * whole or in slices of a page, with a ledger kept as pvdmad keeps one
 * and restarts of the device from it between commands (a command cut in
 * a slice goes on from its progress).
 * Invariant checked after every input: no byte of guest RAM outside the
 * writable mappings changed.
 */
#include <stdint.h>
#include <stdlib.h>

#define H_RAM_SIZE	(1ull << 20)	/* small: restored and compared per input */
#include "harness.h"
#include "host/log.h"
#include "fuzz_maps.h"

/* A fresh companion and DMA device, and the three mappings. */
static void fuzz_setup(struct harness *h)
{
	if (harness_reset(h))
		abort();
	fuzz_map_three(h);
}

/* pvdmad restarted: the device taken back from its ledger. */
static void fuzz_restart(struct harness *h, struct ledger *l)
{
	if (dmadev_init(&h->dev, h->dshm, h->dshm_size, &h->dcfg, 0, 9,
			harness_resolve, h))
		abort();
	dmadev_resume(&h->dev, l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct harness h;
	struct pvdma_dev_header *dh;
	struct pvdma_dev_cmd *q;
	struct ledger_geometry geo;
	struct ledger *l;
	bool more;
	u8 ctl;

	/* One harness and one reference image for the whole run. */
	if (!fuzz_reference) {
		pvdmad_log_set_level(PVDMAD_LOG_ERR);
		fuzz_reference_init(&h);
	}
	fuzz_setup(&h);
	dmadev_ledger_geometry(&h.dcfg, h.dev.id, &geo);
	if (ledger_keep(NULL, "fuzz", &geo, &l))
		abort();
	h.dev.ledger = l;
	memcpy(h.ram, fuzz_reference, H_RAM_SIZE);
	dh = harness_dhdr(&h);
	q = (struct pvdma_dev_cmd *)((u8 *)h.dshm + DMADEV_QUEUE_OFFSET);
	dh->domain_peer = h.c.id;
	while (size > sizeof(*q)) {
		ctl = *data++;
		size--;
		memcpy(&q[dh->sq_tail & (h.dcfg.queue_entries - 1)], data, sizeof(*q));
		data += sizeof(*q);
		size -= sizeof(*q);
		if (ctl == 0xff)
			dh->domain_peer ^= 1;
		if (ctl == 0xfe)
			fuzz_restart(&h, l);
		dh->sq_tail += ctl & 0x80 ? ctl : 1;
		if (ctl & 0x40)
			dmadev_process_slice(&h.dev, H_PAGE, &more);
		else
			dmadev_process(&h.dev);
	}
	fuzz_check_ram(&h);
	ledger_leave(l);
	return 0;
}
