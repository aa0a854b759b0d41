// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: pvdmad's control connections, the request parser and
 * the stats they render. A fake daemon holds one companion and one DMA
 * device (the in-memory harness) whose counters and guest-written header
 * fields come from the input, so the JSON and table writers see hostile
 * values too. The rest of the input is sent over a socketpair to a real
 * control connection (pvdmad_control_add_conn) in pieces whose sizes the
 * input picks, one loop turn after each, then the client's end is shut:
 * the line assembly (partial reads, NULs, overlong lines) is pvdmad's own.
 * Checks: the answer is NUL-free text, a JSON answer balances its braces
 * and brackets outside strings, and the connection is gone within a few
 * turns of the client's EOF.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "harness.h"
#include "host/daemon.h"
#include "host/log.h"

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

#define ANSWER_MAX	(1 << 20)
#define CLOSE_TURNS	8

/* Everything the connection sent back until EOF (or nothing more now). */
static size_t drain(int fd, char *buf, size_t cap, size_t got)
{
	ssize_t n;

	while (got < cap && (n = recv(fd, buf + got, cap - got, MSG_DONTWAIT)) > 0)
		got += (size_t)n;
	return got;
}

/*
 * The input in pieces: a size byte (1..64), then that many bytes, each
 * piece followed by a loop turn, as a client trickling its line would.
 */
static void answer(struct pvdmad *d, const u8 *data, size_t size)
{
	static char text[ANSWER_MAX];
	size_t got = 0, n;
	int sv[2], turn;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
		abort();
	if (pvdmad_control_add_conn(d, sv[0]))
		abort();
	while (size && d->control_nconns) {
		n = PVDMA_MIN(size - 1, (size_t)(data[0] % 64) + 1);
		if (n && send(sv[1], data + 1, n, MSG_NOSIGNAL) < 0)
			break;
		data += n + 1;
		size -= n + 1;
		evloop_run_once(&d->loop, 0);
		got = drain(sv[1], text, sizeof(text), got);
	}
	shutdown(sv[1], SHUT_WR);
	for (turn = 0; d->control_nconns && turn < CLOSE_TURNS; turn++) {
		evloop_run_once(&d->loop, 0);
		got = drain(sv[1], text, sizeof(text), got);
	}
	if (d->control_nconns)
		abort();	/* a connection outlived its client's EOF */
	check_answer(text, got, got && text[0] == '{');
	close(sv[1]);
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
		if (harness_init(&h) || evloop_init(&d.loop))
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
