// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: pvdmad's control-socket request parser and the stats
 * it renders. A fake daemon holds one companion and one DMA device (the
 * in-memory harness) whose counters and guest-written header fields come
 * from the input, so the JSON and table writers see hostile values too.
 * The rest of the input is framed as the socket does (at most
 * CONTROL_LINE_MAX - 1 bytes, cut at the first newline) and answered.
 * Checks: the answer is NUL-free text and JSON answers balance their
 * braces and brackets outside strings.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness.h"
#include "host/daemon.h"
#include "host/log.h"

#define LINE_MAX_BYTES	127	/* control.c's CONTROL_LINE_MAX - 1 */

/* Counters and guest fields from the input: any value must render. */
static void scribble(struct harness *h, const u8 **data, size_t *size)
{
	size_t n = PVDMA_MIN(*size, sizeof(h->c.stats));

	memcpy(&h->c.stats, *data, n);
	*data += n;
	*size -= n;
	n = PVDMA_MIN(*size, sizeof(h->dev.stats));
	memcpy(&h->dev.stats, *data, n);
	*data += n;
	*size -= n;
	n = PVDMA_MIN(*size, sizeof(u32));
	memcpy(&harness_dhdr(h)->domain_peer, *data, n);
	*data += n;
	*size -= n;
}

/* Braces and brackets balance outside strings; no NUL in the text. */
static void check_answer(const char *text, size_t len, bool json)
{
	bool in_str = false;
	long depth = 0;
	size_t i;

	if (memchr(text, '\0', len))
		abort();
	if (!json)
		return;
	for (i = 0; i < len; i++) {
		if (in_str) {
			if (text[i] == '\\')
				i++;
			else if (text[i] == '"')
				in_str = false;
			continue;
		}
		if (text[i] == '"')
			in_str = true;
		else if (text[i] == '{' || text[i] == '[')
			depth++;
		else if ((text[i] == '}' || text[i] == ']') && --depth < 0)
			abort();
	}
	if (depth || in_str)
		abort();
}

static void answer(struct pvdmad *d, const u8 *data, size_t size)
{
	char line[LINE_MAX_BYTES + 1], *text = NULL, *nl;
	size_t n = PVDMA_MIN(size, (size_t)LINE_MAX_BYTES), len = 0;
	FILE *out;

	memcpy(line, data, n);
	line[n] = '\0';
	nl = strchr(line, '\n');
	if (nl)
		*nl = '\0';
	out = open_memstream(&text, &len);
	if (!out)
		abort();
	pvdmad_control_request(d, line, out);
	fclose(out);
	check_answer(text, len, !strcmp(line, "stats") ||
		     !strcmp(line, "stats json"));
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct harness h;
	static struct pvdmad d;
	static struct ivshmem_client comp, dma;
	static bool ready;
	u8 sel;

	if (!ready) {
		pvdmad_log_set_level(PVDMAD_LOG_ERR);
		if (harness_init(&h))
			abort();
		d.cfg.companion = h.cfg;
		d.cfg.dmadev = h.dcfg;
		comp = (struct ivshmem_client){ .id = h.c.id, .pid = 1, .priv = &h.c };
		dma = (struct ivshmem_client){ .id = h.dev.id, .pid = 1, .priv = &h.dev };
		ready = true;
	}
	if (!size)
		return 0;
	/* bit 0: a guest is connected; bit 1: its DMA device too */
	sel = *data++;
	size--;
	d.companions.clients = sel & 1 ? &comp : NULL;
	d.companions.nclients = sel & 1;
	d.dma.clients = sel & 2 ? &dma : NULL;
	d.dma.nclients = !!(sel & 2);
	if (sel & 4)
		scribble(&h, &data, &size);
	answer(&d, data, size);
	return 0;
}
