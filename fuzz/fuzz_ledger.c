// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: a ledger taken back at a restart, as untrusted bytes
 * (a torn write, another build, a local attacker holding the fd). The
 * first byte picks the owner (companion or DMA device) and the file's
 * size (version 4's, or version 3's, which ledger_adopt() carries); the
 * rest are the file's first bytes, the file sparse past them. With
 * FUZZ_PLACE they are split: two little-endian u32s, how many bytes go at
 * the file's start and where in the file (modulo its size) the rest go,
 * so the records, past the first 16 KiB, are reached too. Then what
 * a restart does: ledger_adopt(), the owner's resume (ledger_recover(),
 * ledger_for_each(), ledger_resume_point(), ledger_stats()) and, for a DMA
 * device, the next command run, which is the kept one if the ledger
 * named one. Invariants: no crash or sanitizer report; a file of any
 * other size refused; every mapping a companion resumes with lies in
 * guest RAM; no byte of guest RAM outside the writable mappings changes
 * (a forged command is refused).
 */
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#define H_RAM_SIZE	(1ull << 20)	/* small: restored and compared per input */
#include "harness.h"
#include "host/ledger.h"
#include "host/log.h"
#include "fuzz_maps.h"

#define FUZZ_DMADEV	0x01	/* else a companion's ledger */
#define FUZZ_V3_SIZE	0x02	/* the file has version 3's size */
#define FUZZ_PLACE	0x04	/* a split: some bytes at the start, the
				   rest at an offset the input gives */

/* What the file must be for @geo: version 4's size, or version 3's. */
static u64 fuzz_file_size(const struct ledger_geometry *geo, bool v3)
{
	const u64 rec = sizeof(struct ledger_rec);
	u64 undo = ((u64)geo->batch * rec + 4095) & ~4095ull;
	u64 stage = geo->kind == LEDGER_DMADEV && !v3 ? geo->page_size : 0;

	return 4096 + undo + stage + (u64)geo->records * rec;
}

/* @len bytes of @data at @off of @fd (a @size-byte file), cut at its end. */
static void fuzz_place(int fd, const u8 *data, size_t len, u64 off, u64 size)
{
	if (off >= size)
		return;
	if (len > size - off)
		len = size - off;
	if (len && pwrite(fd, data, len, (off_t)off) != (ssize_t)len)
		abort();
}

static u32 fuzz_le32(const u8 *p)
{
	return p[0] | (u32)p[1] << 8 | (u32)p[2] << 16 | (u32)p[3] << 24;
}

/*
 * A memfd of @size bytes holding @data at its start, or (@place) split
 * as the two u32s leading @data say.
 */
static int fuzz_memfd(const u8 *data, size_t len, u64 size, bool place)
{
	int fd = memfd_create("fuzz-ledger", MFD_CLOEXEC);
	size_t head = len;
	u64 off = 0;

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		abort();
	if (place && len >= 8) {
		head = fuzz_le32(data);
		off = size ? fuzz_le32(data + 4) % size : 0;
		data += 8;
		len -= 8;
		if (head > len)
			head = len;
	}
	fuzz_place(fd, data, head, 0, size);
	fuzz_place(fd, data + head, len - head, off, size);
	return fd;
}

/* A resumed mapping outside guest RAM would hand the device host memory. */
static int fuzz_check_rec(void *ctx, const struct ledger_rec *r)
{
	if (r->host_addr >= H_RAM_SIZE || r->len > H_RAM_SIZE - r->host_addr)
		abort();
	return 0;
}

static void fuzz_companion(struct harness *h, struct ledger *l)
{
	if (companion_resume(&h->c, l))
		return;
	ledger_for_each(l, fuzz_check_rec, NULL);
}

/*
 * The DMA device resumed against three mappings (read-write, read-only,
 * write-only), then one command run: the kept one if the ledger names one
 * that passes, else the queue's next (zero: a NOP).
 */
static void fuzz_dmadev(struct harness *h, struct ledger *l)
{
	struct pvdma_dev_header *dh = harness_dhdr(h);

	fuzz_map_three(h);
	/* the guest's binding outlives pvdmad (it is in the shared region) */
	dh->domain_peer = h->c.id;
	dmadev_resume(&h->dev, l);
	dh->sq_tail = h->dev.sq_head + 1;
	dmadev_process(&h->dev);
	h->dev.ledger = NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct harness h;
	struct ledger_geometry geo;
	struct ledger *l;
	u64 file;
	u8 how;
	int fd, err;

	if (!fuzz_reference) {
		pvdmad_log_set_level(PVDMAD_LOG_ERR);
		fuzz_reference_init(&h);
	}
	if (!size)
		return 0;
	how = *data++;
	size--;
	if (harness_reset(&h))
		abort();
	memcpy(h.ram, fuzz_reference, H_RAM_SIZE);
	if (how & FUZZ_DMADEV)
		dmadev_ledger_geometry(&h.dcfg, h.dev.id, &geo);
	else
		companion_ledger_geometry(&h.cfg, h.c.id, &geo);
	file = fuzz_file_size(&geo, how & FUZZ_V3_SIZE);
	fd = fuzz_memfd(data, size, file, how & FUZZ_PLACE);
	l = calloc(1, sizeof(*l));
	if (!l)
		abort();
	err = ledger_adopt(l, fd, &geo);
	if (err) {
		free(l);
		return 0;
	}
	/* adopted: the file is version 4's now, whatever it was */
	if (l->size != fuzz_file_size(&geo, false))
		abort();
	if (how & FUZZ_DMADEV)
		fuzz_dmadev(&h, l);
	else
		fuzz_companion(&h, l);
	h.c.ledger = NULL;
	fuzz_check_ram(&h);
	ledger_leave(l);
	return 0;
}
