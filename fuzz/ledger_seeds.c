// SPDX-License-Identifier: MIT
/*
 * Writes fuzz_ledger's seed corpus: ledgers as pvdmad writes them, each
 * prefixed with fuzz_ledger's mode byte. A companion's after a HELLO and
 * three maps, and cut in a slot (executing, its undo log written); a DMA
 * device's with a COPY cut mid-way (progress kept, a chunk staged); each
 * also as version 3 wrote it (version 3, no page size, the tail of the
 * header page zero); the cut companion's also with its records placed at
 * their offset (SEED_PLACE). Not part of any build: run by hand when the layout
 * changes, the same flags as tests/host/run-fuzz.sh without the fuzzer,
 *   clang ... -o ledger_seeds fuzz/ledger_seeds.c $SRCS && ./ledger_seeds DIR
 * (its output committed as fuzz/corpus/fuzz_ledger/).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness.h"
#include "host/ledger.h"
#include "host/log.h"

#define SEED_DMADEV	0x01	/* fuzz_ledger.c's mode byte */
#define SEED_V3_SIZE	0x02
#define SEED_PLACE	0x04
#define SEED_MAX	(16u << 10)	/* the file's first bytes: no stage */

static const char *seed_dir;

/* @l's first bytes (up to SEED_MAX; v3: the header page, rewritten). */
static void seed_write(const char *name, struct ledger *l, u8 mode)
{
	u64 len = l->size < SEED_MAX ? l->size : SEED_MAX;
	struct ledger_hdr *h;
	char path[512];
	u8 *buf;
	FILE *f;

	buf = malloc(len);	/* aligned: the header rewritten in place */
	if (!buf || pread(l->fd, buf, len, 0) != (ssize_t)len)
		abort();
	if (mode & SEED_V3_SIZE) {
		h = (struct ledger_hdr *)buf;
		h->version = 3;
		if (h->geo.kind == LEDGER_DMADEV) {
			h->geo.page_size = 0;
			len = 4096;
		}
		memset((u8 *)h + offsetof(struct ledger_hdr, cmd_len), 0,
		       4096 - offsetof(struct ledger_hdr, cmd_len));
	}
	snprintf(path, sizeof(path), "%s/%s", seed_dir, name);
	f = fopen(path, "wb");
	if (!f || fputc(mode, f) == EOF || fwrite(buf, 1, len, f) != len ||
	    fclose(f))
		abort();
	free(buf);
}

static void seed_put32(FILE *f, u32 v)
{
	for (int i = 0; i < 4; i++)
		if (fputc((v >> (8 * i)) & 0xff, f) == EOF)
			abort();
}

/*
 * @l split as fuzz_ledger's SEED_PLACE reads it: the header page and
 * undo log at the start, the first records (up to SEED_MAX) at theirs.
 */
static void seed_write_placed(const char *name, struct ledger *l)
{
	u64 recs = (u64)((u8 *)l->recs - (u8 *)l->hdr);
	u64 len = l->size - recs < SEED_MAX ? l->size - recs : SEED_MAX;
	char path[512];
	u8 *buf;
	FILE *f;

	buf = malloc(recs + len);
	if (!buf || pread(l->fd, buf, recs + len, 0) != (ssize_t)(recs + len))
		abort();
	snprintf(path, sizeof(path), "%s/%s", seed_dir, name);
	f = fopen(path, "wb");
	if (!f || fputc(SEED_PLACE, f) == EOF)
		abort();
	seed_put32(f, (u32)recs);
	seed_put32(f, (u32)recs);
	if (fwrite(buf, 1, recs + len, f) != recs + len || fclose(f))
		abort();
	free(buf);
}

static void seed_companion(struct harness *h)
{
	struct ledger_geometry geo;
	struct ledger l;
	u64 bus;

	companion_ledger_geometry(&h->cfg, h->c.id, &geo);
	if (ledger_create(&l, &geo))
		abort();
	h->c.ledger = &l;
	if (harness_hello(h) != PVDMA_ST_OK ||
	    harness_map(h, 0x40000, 4 * H_PAGE, H_RW, &bus) != PVDMA_ST_OK ||
	    harness_map(h, 0x80000, H_PAGE, PVDMA_MAP_READ, NULL) != PVDMA_ST_OK ||
	    harness_map(h, 0xc0000, 2 * H_PAGE, PVDMA_MAP_WRITE, NULL) != PVDMA_ST_OK)
		abort();
	seed_write("companion-v4", &l, 0);
	seed_write("companion-v3", &l, SEED_V3_SIZE);
	/* a slot cut after its first unmap: executing, one undo record */
	ledger_begin(&l);
	ledger_unmapped(&l, bus);
	seed_write("companion-cut-v4", &l, 0);
	seed_write_placed("companion-cut-placed-v4", &l);
	h->c.ledger = NULL;
	ledger_destroy(&l);
}

static void seed_dmadev(struct harness *h)
{
	struct pvdma_dev_header *dh = harness_dhdr(h);
	struct ledger_geometry geo;
	struct ledger l;
	u64 rw, wo;
	bool more;

	if (harness_reset(h) || harness_hello(h) != PVDMA_ST_OK ||
	    harness_map(h, 0x40000, 4 * H_PAGE, H_RW, &rw) != PVDMA_ST_OK ||
	    harness_map(h, 0xc0000, 4 * H_PAGE, PVDMA_MAP_WRITE, &wo) != PVDMA_ST_OK)
		abort();
	dmadev_ledger_geometry(&h->dcfg, h->dev.id, &geo);
	if (ledger_create(&l, &geo))
		abort();
	h->dev.ledger = &l;
	harness_dma(h, PVDMA_DEV_FILL, 0, rw, H_PAGE, 0x5a);
	seed_write("dmadev-v4", &l, SEED_DMADEV);
	seed_write("dmadev-v3", &l, SEED_DMADEV | SEED_V3_SIZE);
	/* an overlapping COPY cut after its first chunk: staged */
	producer_write_cmd((struct pvdma_dev_cmd *)((u8 *)h->dshm +
						    DMADEV_QUEUE_OFFSET),
			   h->dcfg.queue_entries, dh->sq_tail, PVDMA_DEV_COPY,
			   rw, rw + 64, 3 * H_PAGE, 0, ++h->seq);
	dh->domain_peer = h->c.id;
	producer_publish(&dh->sq_tail, dh->sq_tail + 1);
	dmadev_process_slice(&h->dev, H_PAGE, &more);
	seed_write("dmadev-cut-v4", &l, SEED_DMADEV);
	h->dev.ledger = NULL;
	ledger_destroy(&l);
}

int main(int argc, char **argv)
{
	static struct harness h;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR\n", argv[0]);
		return 2;
	}
	seed_dir = argv[1];
	pvdmad_log_set_level(PVDMAD_LOG_ERR);
	if (harness_init(&h))
		return 1;
	seed_companion(&h);
	seed_dmadev(&h);
	return 0;
}
