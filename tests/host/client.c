// SPDX-License-Identifier: MIT
/*
 * A user-space stand-in for QEMU and a guest driver, for pvdmad's
 * integration test (run-host.sh) and as a sample of the protocol.
 *
 * It connects to pvdmad's ivshmem sockets as QEMU's ivshmem-doorbell
 * device does, receives the region and the eventfds, maps the guest RAM
 * file, and then acts as the guest: posts requests, rings the doorbell
 * (writes the daemon's eventfd, as QEMU does for a DOORBELL write of
 * host_peer_id << 16 | 0) and waits for its vector 0 eventfd (the MSI-X).
 *
 *   client basic   --socket S --dma-socket D --ram FILE [--below-4g BYTES]
 *   client loop    --socket S --dma-socket D --ram FILE --seconds N
 *   client hostile --socket S --dma-socket D --seconds N
 *   client garbage --socket S
 *   client foreign --socket S --dma-socket D   (DMA bound across processes)
 *   client idle    --socket S --dma-socket D   (never-reading clients)
 *   client flood   --socket S --dma-socket D   (more clients than allowed)
 *   client control --control C                 (hostile control clients)
 * Attacks on pvdmad itself (docs/security.md §2.7, run-attack.sh):
 *   client uaf-control --control C --pid P     (eviction within one batch)
 *   client linger  --socket S --dma-socket D --control C (lingering fds)
 *   client linger-emfile --socket S --dma-socket D --control C --pid P
 *                  (the same, last of SCM_MAX_FD fds, to a pvdmad short
 *                  of fd slots)
 *   client linger-oob --socket S --dma-socket D --control C --pid P
 *                  (the same, on an urgent byte: MSG_OOB)
 *   client eventfd --socket S --control C      (shared eventfds turned)
 *   client flagrace --socket S [--seconds T]   (an eventfd's flag raced)
 *   client nobody  --socket S [--dma-socket D] [--control C] (as uid 65534)
 *   client sigbus  --socket S --dma-socket D --gpa G (unbackable RAM page)
 *   client hidden  --socket S [--gpa TSEG]     (VGA window, SMRAM: TSEG, SMBASE)
 *   client hold    --socket S [--dma-socket D] [--control C] --count N --seconds T
 *                  [--answer-within A] (each connection's answer, 2 s if
 *                  not given: more to outwait a command-line read's 2 s)
 *   client churn   --socket S --count N        (connect, hang up)
 *   client fair    --socket S --dma-socket D [--dir W] [--count M]  (one
 *                  guest's big queue; --dir: it rings once the file W/go is
 *                  there; --count: its commands M MiB each, not 4)
 *   client storm   --socket S                  (one guest's full ring)
 *   client release --socket S --control C --pid P --count N (N full
 *                  domains released at once: RESETs, then hang-ups)
 *   client ramless|resets|hellos --socket S --pid P --count N (N rings
 *                  of HELLOs while the RAM file is not there, of RESETs,
 *                  of HELLOs)
 *   client dear    --socket S --control C --pid P --count N (N full rings of MAPs in
 *                  fragmented bus space, the dearest entries, at once)
 *   client spread  --socket S --control C --count N [--pid P] (N guests
 *                  write their whole ledgers, then hang up at once; with
 *                  --pid first each rings a RESET, at once)
 *   client faulty  --socket S --dma-socket D   (a queue that moves nothing)
 *   client reuse-dma[-early] --socket S --dma-socket D --dir W [--count 1],
 *   client reuse-qemu --socket S --dir W       (a DMA socket outliving the
 *                  process that connected it, whose pid a QEMU then has;
 *                  --count 1: the DMA device waits for a file W/go)
 *   client lease   --socket S --ram FILE --control C (a lease on guest RAM)
 *   client hello-io --socket S --control C     (a HELLO refused: RAM unusable)
 *   client lookup-hold --socket S --dir D --seconds T (a FUSE mount at D
 *                  whose every lookup waits, T seconds: stallfs.c, root)
 *   client ram-gate --socket S                 (is guest RAM mapped for this
 *                  user? exit 0 served, 3 refused at connect, 4 at HELLO)
 *   client cmdline-hold --socket S --dir D --seconds T [--count N] [--uid U]
 *                  (a QEMU whose command line can't be read, connected N
 *                  times, as uid and gid U if given: stallfs.c, root)
 * pvdmad restarted under its keeper (run-restart.sh):
 *   client window  --socket S --dma-socket D --ram FILE --control C
 *                  (killed with a completion unsignalled, a ring unserved)
 *   client unbind --socket S --dma-socket D --ram FILE
 *                  (a split DMA command rebound, its companion gone: run-attack)
 *   client cut-copy --socket S --dma-socket D --ram FILE --control C
 *                  (killed in the middle of an overlapping COPY)
 *
 * Prints "PASS what" / "FAIL what" lines; exits 0 only if all passed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <pvdma/dmadev.h>
#include <pvdma/proto.h>
#include <pvdma/prng.h>

#include "size.h"

#include "ivshmem_client.h"
#include "stallfs.h"
#include "producer.h"

#define PAGE		(16ull << 10)
#define IRQ_TIMEOUT_MS	3000
#define IDLE_CLIENTS	16
#define FLOOD_MAX	64	/* pvdmad's IVSHMEM_MAX_CLIENTS per server */
#define FLOOD_CLIENTS	(FLOOD_MAX + 6)
#define CONTROL_IDLE	12	/* more than pvdmad's 8 control connections */
#define CONTROL_MAX	8	/* pvdmad's CONTROL_MAX_CONNS */

static int failures;

static void check(bool ok, const char *what)
{
	printf("%s %s\n", ok ? "PASS" : "FAIL", what);
	fflush(stdout);
	if (!ok)
		failures++;
}

/* A daemon that never answers fails the test instead of hanging it. */
static int recv_timeout_s = 10;

static int unix_connect(const char *path)
{
	return ivs_unix_connect(path, recv_timeout_s);
}

/* Statuses the client reports for a request that got no proper answer. */
#define ST_NO_ANSWER		(~0u)
#define ST_NOT_SIGNALLED	(~0u - 1)

static u32 ivs_wait_status(enum ivs_wait w)
{
	return w == IVS_NOT_SIGNALLED ? ST_NOT_SIGNALLED : ST_NO_ANSWER;
}

/* Ring the daemon and wait for the completion @seq. */
static enum ivs_wait ivs_kick_wait(struct ivs_dev *d, const u32 *done_seq,
				   u32 seq)
{
	if (ivs_ring(d))
		return IVS_NO_ANSWER;
	return ivs_wait_done(d, done_seq, seq, IRQ_TIMEOUT_MS);
}

static void ivs_kick(struct ivs_dev *d)
{
	u64 count;

	if (ivs_ring(d))
		return;
	if (read(d->irq_fd, &count, sizeof(count)) < 0)
		return;	/* non-blocking drain; nothing pending is fine */
}

/* ---- the companion, as a guest driver sees it ---- */

struct companion {
	struct ivs_dev dev;
	struct pvdma_shm_header *hdr;
	u32 seq;
	enum ivs_wait waited;	/* how the last post's wait ended */
};

static struct pvdma_slot_hdr *companion_slot(struct companion *c, u32 index)
{
	return (struct pvdma_slot_hdr *)(c->dev.shm + c->hdr->ring_offset +
		(u64)(index & (c->hdr->ring_slots - 1)) * c->hdr->slot_size);
}

/* Write @n entries into the next slot and publish it; no doorbell. */
static struct pvdma_slot_hdr *companion_queue(struct companion *c,
					      const struct pvdma_request *ops,
					      u32 n)
{
	struct pvdma_slot_hdr *slot = companion_slot(c, c->hdr->sq_tail);

	producer_write_slot(slot, ops, n, ++c->seq);
	producer_publish(&c->hdr->sq_tail, c->hdr->sq_tail + 1);
	return slot;
}

/*
 * Post @n entries as one batch, ring, wait. NULL if the host never
 * answered properly (c->waited says how).
 */
static struct pvdma_slot_hdr *companion_post(struct companion *c,
					     const struct pvdma_request *ops, u32 n)
{
	struct pvdma_slot_hdr *slot = companion_queue(c, ops, n);

	c->waited = ivs_kick_wait(&c->dev, &slot->done_seq, slot->seq);
	return c->waited == IVS_DONE ? slot : NULL;
}

static u32 companion_one(struct companion *c, u16 op, u16 flags, u64 gpa,
			 u64 len, u64 bus_in, u64 *bus)
{
	struct pvdma_request o = { .op = op, .flags = flags, .gpa = gpa,
				   .len = len, .bus = bus_in };
	struct pvdma_slot_hdr *slot = companion_post(c, &o, 1);

	if (!slot)
		return ivs_wait_status(c->waited);
	if (bus)
		*bus = producer_entry(slot, 0)->bus;
	return producer_entry(slot, 0)->status;
}

static int companion_open(struct companion *c, const char *path)
{
	memset(c, 0, sizeof(*c));
	if (ivs_connect(&c->dev, path, recv_timeout_s))
		return -1;
	c->hdr = (struct pvdma_shm_header *)c->dev.shm;
	if (c->hdr->magic != PVDMA_MAGIC || c->hdr->host_state != PVDMA_HOST_READY ||
	    c->hdr->version >> 16 != PVDMA_PROTO_VERSION_MAJOR)
		return -1;
	c->hdr->guest_version = PVDMA_PROTO_VERSION;
	c->hdr->guest_features = PVDMA_FEAT_BATCH_UNMAP;
	return 0;
}

/* ---- the DMA device ---- */

struct dma {
	struct ivs_dev dev;
	struct pvdma_dev_header *hdr;
	u32 seq;
};

static int dma_open(struct dma *m, const char *path, u32 domain)
{
	memset(m, 0, sizeof(*m));
	if (ivs_connect(&m->dev, path, recv_timeout_s))
		return -1;
	m->hdr = (struct pvdma_dev_header *)m->dev.shm;
	if (m->hdr->magic != PVDMA_DEV_MAGIC || m->hdr->version != PVDMA_DEV_VERSION)
		return -1;
	m->hdr->domain_peer = domain;
	return 0;
}

static struct pvdma_dev_cmd *dma_cmds(struct dma *m)
{
	return (struct pvdma_dev_cmd *)(m->dev.shm + m->hdr->queue_offset);
}

/* Write one command into the queue and publish it; no doorbell. */
static struct pvdma_dev_cmd *dma_queue(struct dma *m, u16 op, u64 src, u64 dst,
				       u64 len, u64 pattern)
{
	struct pvdma_dev_cmd *cmd = producer_write_cmd(dma_cmds(m),
		m->hdr->queue_entries, m->hdr->sq_tail, op, src, dst, len,
		pattern, ++m->seq);

	producer_publish(&m->hdr->sq_tail, m->hdr->sq_tail + 1);
	return cmd;
}

/*
 * Run one command; returns its status (ST_NO_ANSWER or ST_NOT_SIGNALLED
 * if it got no proper answer), fills *out.
 */
static u32 dma_run(struct dma *m, u16 op, u64 src, u64 dst, u64 len,
		   u64 pattern, struct pvdma_dev_cmd *out)
{
	struct pvdma_dev_cmd *cmd = dma_queue(m, op, src, dst, len, pattern);
	enum ivs_wait w = ivs_kick_wait(&m->dev, &cmd->done_seq, cmd->seq);

	if (w != IVS_DONE)
		return ivs_wait_status(w);
	if (out)
		*out = *cmd;
	return cmd->status;
}

/* ---- guest RAM ---- */

struct ram {
	u8 *base;
	u64 size;
	u64 below_4g;
};

static int ram_open(struct ram *r, const char *path, u64 below_4g)
{
	struct stat st;
	int fd = open(path, O_RDWR | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st)) {
		perror(path);
		return -1;
	}
	r->size = st.st_size;
	r->below_4g = below_4g ? below_4g : r->size;
	r->base = mmap(NULL, r->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	return r->base == MAP_FAILED ? -1 : 0;
}

/* File bytes of a GPA (the test only asks for RAM it knows). */
static u8 *ram_at(struct ram *r, u64 gpa)
{
	return r->base + (gpa >= (1ull << 32) ? r->below_4g + gpa - (1ull << 32) : gpa);
}

static bool all_bytes(const u8 *p, u64 len, u8 v)
{
	u64 i;

	for (i = 0; i < len; i++)
		if (p[i] != v)
			return false;
	return true;
}

struct opts {
	const char *socket;
	const char *dma_socket;
	const char *ram;
	const char *control;
	u64 below_4g;
	int seconds;
	int answer_within;	/* hold: seconds to wait for pvdmad's answer */
	pid_t pid;
	u64 gpa;
	int count;
	const char *dir;
	int uid;
};

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

/* ---- scenarios ---- */

static void basic_requests(struct companion *c, struct ram *r)
{
	struct pvdma_request ops[4] = {
		{ .op = PVDMA_OP_MAP, .flags = PVDMA_MAP_READ, .gpa = 1 << 20, .len = 4 * PAGE },
		{ .op = PVDMA_OP_MAP, .flags = PVDMA_MAP_WRITE, .gpa = 2 << 20, .len = 4 * PAGE },
		{ .op = PVDMA_OP_MAP, .flags = PVDMA_MAP_READ, .gpa = r->size << 4, .len = PAGE },
		{ .op = PVDMA_OP_MAP, .flags = PVDMA_MAP_READ, .gpa = 100, .len = PAGE },
	};
	struct pvdma_slot_hdr *slot;

	check(companion_one(c, PVDMA_OP_MAP, PVDMA_MAP_READ, 0, PAGE, 0, NULL) ==
	      PVDMA_ST_NOT_READY, "MAP before HELLO is not-ready");
	check(companion_one(c, PVDMA_OP_HELLO, 0, 0, 0, 0, NULL) == PVDMA_ST_OK,
	      "HELLO");
	slot = companion_post(c, ops, 4);
	check(slot && slot->completed == 4 && slot->status == PVDMA_ST_OK,
	      "a batch of 4 completes with one doorbell");
	check(slot && producer_entry(slot, 0)->status == PVDMA_ST_OK &&
	      producer_entry(slot, 1)->status == PVDMA_ST_OK, "two MAPs succeed");
	check(slot && producer_entry(slot, 2)->status == PVDMA_ST_BAD_GPA,
	      "MAP outside RAM is bad-gpa");
	check(slot && producer_entry(slot, 3)->status == PVDMA_ST_INVALID,
	      "misaligned MAP is invalid");
}

static void basic_dma(struct companion *c, struct dma *m, struct ram *r,
		      u64 src, u64 dst)
{
	struct pvdma_dev_cmd out;
	u8 *s = ram_at(r, 1 << 20), *d = ram_at(r, 2 << 20);
	u8 *before;
	u64 i;

	check(dma_run(m, PVDMA_DEV_FILL, 0, dst, 4 * PAGE, 0x5a, NULL) ==
	      PVDMA_DEV_ST_OK && all_bytes(d, 4 * PAGE, 0x5a) && d[-1] != 0x5a &&
	      d[4 * PAGE] != 0x5a, "DMA FILL lands in guest RAM, not beyond");
	for (i = 0; i < 4 * PAGE; i++)
		s[i] = (u8)(i * 13 + 1);
	check(dma_run(m, PVDMA_DEV_COPY, src + 1, dst, 4 * PAGE - 1, 0, NULL) ==
	      PVDMA_DEV_ST_OK && !memcmp(d, s + 1, 4 * PAGE - 1),
	      "DMA COPY byte for byte");
	check(dma_run(m, PVDMA_DEV_CHECKSUM, src, 0, 4 * PAGE, 0, &out) ==
	      PVDMA_DEV_ST_OK &&
	      out.result == pvdma_checksum(PVDMA_CHECKSUM_SEED, s, 4 * PAGE),
	      "DMA CHECKSUM matches FNV-1a of guest RAM");

	before = malloc(r->size);
	memcpy(before, r->base, r->size);
	check(dma_run(m, PVDMA_DEV_FILL, 0, dst + 2 * PAGE, 4 * PAGE, 0, &out) ==
	      PVDMA_DEV_ST_FAULT && out.fault_bus == dst + 4 * PAGE,
	      "FILL past the mapping faults at its end");
	check(dma_run(m, PVDMA_DEV_COPY, dst, src, 16, 0, NULL) == PVDMA_DEV_ST_FAULT,
	      "write through a read-only mapping faults");
	check(dma_run(m, PVDMA_DEV_FILL, 0, 0x3f000000, 16, 0, &out) ==
	      PVDMA_DEV_ST_FAULT && out.fault_bus == 0x3f000000,
	      "unmapped bus address faults");
	check(!memcmp(before, r->base, r->size), "faults changed no byte of RAM");
	free(before);
	check(dma_run(m, PVDMA_DEV_FILL, 0, dst, 0, 0, NULL) == PVDMA_DEV_ST_INVALID,
	      "zero-length command is invalid");
	m->hdr->domain_peer = (u32)c->dev.id + 1000;
	check(dma_run(m, PVDMA_DEV_FILL, 0, dst, 1, 0, NULL) == PVDMA_DEV_ST_NOT_BOUND,
	      "unknown domain_peer is not-bound");
	m->hdr->domain_peer = (u32)c->dev.id;
}

static void basic_errors(struct companion *c, struct dma *m, u64 dst)
{
	struct pvdma_slot_hdr *slot;
	u32 head;

	check(companion_one(c, PVDMA_OP_UNMAP, 0, 0, PAGE, 0x7ff00000, NULL) ==
	      PVDMA_ST_NOT_MAPPED, "UNMAP of an unknown bus address");
	check(companion_one(c, PVDMA_OP_UNMAP, 0, 0, PAGE, dst, NULL) ==
	      PVDMA_ST_PARTIAL, "partial UNMAP");
	check(companion_one(c, PVDMA_OP_UNMAP, 0, 0, 4 * PAGE, dst, NULL) ==
	      PVDMA_ST_OK, "UNMAP");
	check(dma_run(m, PVDMA_DEV_FILL, 0, dst, 1, 0, NULL) == PVDMA_DEV_ST_FAULT,
	      "DMA after UNMAP faults");
	slot = companion_post(c, NULL, 0);
	check(slot && slot->status == PVDMA_ST_BAD_SLOT, "empty slot is bad-slot");
	/* an impossible tail: ignored, then the driver resyncs */
	head = c->hdr->sq_head;
	c->hdr->sq_tail = head + 1000;
	ivs_kick(&c->dev);
	usleep(100000);
	check(c->hdr->sq_head == head, "impossible sq_tail consumes nothing");
	c->hdr->sq_tail = c->hdr->sq_head;
	check(companion_one(c, PVDMA_OP_NOP, 0, 0, 0, 0, NULL) == PVDMA_ST_OK,
	      "ring works again after resync");
}

static void basic_above_4g(struct companion *c, struct dma *m, struct ram *r)
{
	u64 bus, gpa = (1ull << 32) + (1 << 20);

	if (r->below_4g >= r->size)
		return;
	check(companion_one(c, PVDMA_OP_MAP, PVDMA_MAP_WRITE, r->below_4g - PAGE,
			    2 * PAGE, 0, NULL) == PVDMA_ST_BAD_GPA,
	      "MAP spanning the PCI hole is bad-gpa");
	check(companion_one(c, PVDMA_OP_MAP, PVDMA_MAP_WRITE, gpa, PAGE, 0, &bus) ==
	      PVDMA_ST_OK, "MAP above 4 GiB");
	check(dma_run(m, PVDMA_DEV_FILL, 0, bus, PAGE, 0xc3, NULL) == PVDMA_DEV_ST_OK &&
	      all_bytes(ram_at(r, gpa), PAGE, 0xc3), "FILL above 4 GiB lands at the right file offset");
}

/* HELLO, maps, DMA and errors over connected devices; then disconnect. */
static int basic_session(struct companion *c, struct dma *m, struct ram *r)
{
	u64 src, dst;

	check(c->hdr->host_peer_id == (u32)c->dev.host_peer && c->dev.id > 0,
	      "connect: version, id, shm, eventfds");
	m->hdr->domain_peer = (u32)c->dev.id;
	basic_requests(c, r);
	src = producer_entry(companion_slot(c, c->hdr->sq_tail - 1), 0)->bus;
	dst = producer_entry(companion_slot(c, c->hdr->sq_tail - 1), 1)->bus;
	basic_dma(c, m, r, src, dst);
	basic_errors(c, m, dst);
	basic_above_4g(c, m, r);
	/* leave mappings live: the disconnect must release them */
	ivs_close(&m->dev);
	ivs_close(&c->dev);
	munmap(r->base, r->size);
	return failures ? 1 : 0;
}

/*
 * A guest as QEMU connects it: its RAM file, its companion and its DMA
 * device, the device bound to the companion's domain. false (checked,
 * named @what) if any of them is refused.
 */
static bool guest_connect(const struct opts *o, struct ram *r,
			  struct companion *c, struct dma *m, const char *what)
{
	if (ram_open(r, o->ram, o->below_4g) || companion_open(c, o->socket) ||
	    dma_open(m, o->dma_socket, 0)) {
		check(false, what);
		return false;
	}
	m->hdr->domain_peer = (u32)c->dev.id;
	return true;
}

static int run_basic(const struct opts *o)
{
	struct companion c;
	struct dma m;
	struct ram r;

	if (!guest_connect(o, &r, &c, &m, "connect to pvdmad as QEMU"))
		return 1;
	return basic_session(&c, &m, &r);
}

/*
 * QEMU's own order: it connects its chardevs before it creates the
 * memory-backend file (64 MiB here), so pvdmad must judge the file at
 * HELLO, not at connect.
 */
static int run_late_ram(const struct opts *o)
{
	struct companion c;
	struct dma m;
	struct ram r;
	int fd;

	if (companion_open(&c, o->socket)) {
		check(false, "connect before the RAM file exists");
		return 1;
	}
	fd = open(o->ram, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 || ftruncate(fd, 64 << 20)) {
		perror(o->ram);
		return 1;
	}
	close(fd);
	if (ram_open(&r, o->ram, o->below_4g) || dma_open(&m, o->dma_socket, 0)) {
		check(false, "map the RAM file, connect the DMA device");
		return 1;
	}
	return basic_session(&c, &m, &r);
}

/* A status as the loop reports it: the number, or what the wait saw. */
static const char *status_name(u32 st, char buf[16])
{
	if (st == ST_NO_ANSWER)
		return "no-answer";
	if (st == ST_NOT_SIGNALLED)
		return "done-but-no-interrupt";
	snprintf(buf, 16, "%u", st);
	return buf;
}

/* A well-behaved guest, over and over, while a hostile one runs. */
static int run_loop(const struct opts *o)
{
	struct companion c;
	struct dma m;
	struct ram r;
	time_t end = time(NULL) + o->seconds;
	u64 bus, gpa, iter = 0, bad = 0;
	u8 *p;

	if (!guest_connect(o, &r, &c, &m, "loop: connect"))
		return 1;
	if (companion_one(&c, PVDMA_OP_HELLO, 0, 0, 0, 0, NULL) != PVDMA_ST_OK)
		bad++;
	while (time(NULL) < end) {
		u32 st_map, st_fill = 0, st_unmap = 0;
		char sm[16], sf[16], su[16];
		bool filled = false;

		gpa = (8ull << 20) + (iter % 64) * PAGE;
		p = ram_at(&r, gpa);
		st_map = companion_one(&c, PVDMA_OP_MAP, PVDMA_MAP_WRITE, gpa,
				       PAGE, 0, &bus);
		if (st_map == PVDMA_ST_OK) {
			st_fill = dma_run(&m, PVDMA_DEV_FILL, 0, bus, PAGE, iter,
					  NULL);
			filled = all_bytes(p, PAGE, (u8)iter);
			st_unmap = companion_one(&c, PVDMA_OP_UNMAP, 0, 0, PAGE,
						 bus, NULL);
		}
		if (st_map != PVDMA_ST_OK || st_fill != PVDMA_DEV_ST_OK ||
		    !filled || st_unmap != PVDMA_ST_OK) {
			if (!bad)	/* the first one says what went wrong */
				printf("loop: round %llu bad: map %s fill %s bytes %s unmap %s\n",
				       (unsigned long long)iter,
				       status_name(st_map, sm),
				       status_name(st_fill, sf),
				       filled ? "ok" : "wrong",
				       status_name(st_unmap, su));
			bad++;
		}
		iter++;
	}
	printf("loop: %llu rounds, %llu bad\n", (unsigned long long)iter,
	       (unsigned long long)bad);
	check(iter > 10 && !bad, "well-behaved guest served throughout");
	ivs_close(&m.dev);
	ivs_close(&c.dev);
	munmap(r.base, r.size);
	return failures ? 1 : 0;
}

/* Random bytes in the whole shared region, doorbells without end. */
static int run_hostile(const struct opts *o)
{
	struct ivs_dev c, m;
	time_t end = time(NULL) + o->seconds;
	struct pvdma_prng rng = { (u64)getpid() };
	u64 rounds = 0;
	size_t i;

	if (ivs_connect(&c, o->socket, recv_timeout_s) ||
	    ivs_connect(&m, o->dma_socket, recv_timeout_s)) {
		check(false, "hostile: connect");
		return 1;
	}
	while (time(NULL) < end) {
		for (i = 0; i < 512; i++) {
			c.shm[pvdma_prng_below(&rng, c.shm_size)] = (u8)pvdma_prng_next(&rng);
			m.shm[pvdma_prng_below(&rng, m.shm_size)] = (u8)pvdma_prng_next(&rng);
		}
		/* sometimes a believable tail, so the garbage gets executed */
		if (rounds % 2) {
			((struct pvdma_shm_header *)c.shm)->sq_tail =
				((struct pvdma_shm_header *)c.shm)->sq_head + (u32)pvdma_prng_below(&rng, 4);
			((struct pvdma_dev_header *)m.shm)->sq_tail =
				((struct pvdma_dev_header *)m.shm)->sq_head + (u32)pvdma_prng_below(&rng, 4);
			((struct pvdma_dev_header *)m.shm)->domain_peer = (u32)c.id;
		}
		ivs_kick(&c);
		ivs_kick(&m);
		rounds++;
		usleep(200);
	}
	printf("hostile: %llu rounds\n", (unsigned long long)rounds);
	check(rounds > 10, "hostile guest ran");
	ivs_close(&m);
	ivs_close(&c);
	return failures ? 1 : 0;
}

/* Bytes and fds on the socket: pvdmad must hang up on us, and stay up. */
static int run_garbage(const struct opts *o)
{
	char junk[64], buf[64];
	struct ivs_dev d;
	int sock, i;
	ssize_t n;

	for (i = 0; i < (int)sizeof(junk); i++)
		junk[i] = (char)(i * 37);
	sock = unix_connect(o->socket);
	if (sock < 0 || send(sock, junk, sizeof(junk), MSG_NOSIGNAL) < 0) {
		check(false, "garbage: connect");
		return 1;
	}
	/* drain the setup messages until the daemon closes */
	do {
		n = recv(sock, buf, sizeof(buf), 0);
	} while (n > 0);
	check(n == 0, "random bytes on the socket: disconnected");
	close(sock);
	/* a properly set-up client that then sends an fd */
	if (ivs_connect(&d, o->socket, recv_timeout_s)) {
		check(false, "garbage: connect 2");
		return 1;
	}
	{
		union { struct cmsghdr a; char b[CMSG_SPACE(sizeof(int))]; } ctl;
		struct iovec iov = { .iov_base = junk, .iov_len = 8 };
		struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
				      .msg_control = ctl.b,
				      .msg_controllen = sizeof(ctl.b) };
		struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

		memset(&ctl, 0, sizeof(ctl));
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &d.irq_fd, sizeof(int));
		n = sendmsg(d.sock, &msg, MSG_NOSIGNAL);
	}
	/* Linux 6.16+: SO_PASSRIGHTS off on pvdmad's side refuses it here */
	if (n < 0 && errno == EPERM)
		check(true, "an fd sent to pvdmad: refused at sendmsg (SO_PASSRIGHTS)");
	else
		check(recv(d.sock, buf, sizeof(buf), 0) == 0,
		      "an fd sent to pvdmad: disconnected");
	ivs_close(&d);
	return failures ? 1 : 0;
}

/* ---- the hostile-guest catalogue (docs/security.md): socket-level rows ---- */

/* MAP one writable page for a DMA test; its bus address, or 0. */
static u64 map_one_page(struct companion *c, u64 gpa)
{
	u64 bus = 0;

	if (companion_one(c, PVDMA_OP_HELLO, 0, 0, 0, 0, NULL) != PVDMA_ST_OK ||
	    companion_one(c, PVDMA_OP_MAP, PVDMA_MAP_WRITE, gpa, PAGE, 0, &bus) !=
	    PVDMA_ST_OK)
		return 0;
	return bus;
}

/* The child: a companion of another process (another QEMU). */
static int foreign_child(const struct opts *o, int to_parent, int from_parent)
{
	struct companion c;
	u64 msg[2] = { 0, 0 };
	char go;

	if (!companion_open(&c, o->socket)) {
		msg[0] = (u64)c.dev.id;
		msg[1] = map_one_page(&c, 8ull << 20);
	}
	if (write(to_parent, msg, sizeof(msg)) != sizeof(msg) ||
	    read(from_parent, &go, 1) < 0)
		return 1;
	ivs_close(&c.dev);
	return 0;
}

/* A DMA device may use only the companion of its own QEMU (same pid). */
static int run_foreign(const struct opts *o)
{
	int up[2], down[2];
	u64 msg[2] = { 0, 0 }, own_bus;
	struct companion c;
	struct dma m;
	pid_t pid;
	int status;

	if (pipe(up) || pipe(down))
		return 1;
	pid = fork();
	if (pid == 0)
		_exit(foreign_child(o, up[1], down[0]));
	if (pid < 0 || read(up[0], msg, sizeof(msg)) != sizeof(msg) || !msg[1] ||
	    companion_open(&c, o->socket) || dma_open(&m, o->dma_socket, (u32)msg[0])) {
		check(false, "foreign: set up two processes");
		return 1;
	}
	check(dma_run(&m, PVDMA_DEV_FILL, 0, msg[1], PAGE, 0xee, NULL) ==
	      PVDMA_DEV_ST_NOT_BOUND, "DMA bound to another process's companion: not-bound");
	own_bus = map_one_page(&c, 9ull << 20);
	m.hdr->domain_peer = (u32)c.dev.id;
	check(own_bus && dma_run(&m, PVDMA_DEV_FILL, 0, own_bus, PAGE, 0x11, NULL) ==
	      PVDMA_DEV_ST_OK, "DMA bound to its own process's companion works");
	/* same bus address, other domain: the foreign mapping stays out of reach */
	m.hdr->domain_peer = (u32)msg[0];
	check(dma_run(&m, PVDMA_DEV_FILL, 0, own_bus, PAGE, 0x22, NULL) ==
	      PVDMA_DEV_ST_NOT_BOUND, "rebinding to the foreign companion: not-bound");
	m.hdr->domain_peer = (u32)c.dev.id;
	ivs_close(&c.dev);
	usleep(200000);		/* pvdmad sees the hang-up */
	check(dma_run(&m, PVDMA_DEV_FILL, 0, own_bus, PAGE, 0x33, NULL) ==
	      PVDMA_DEV_ST_NOT_BOUND, "its companion disconnected: not-bound");
	if (write(down[1], "x", 1) != 1 || waitpid(pid, &status, 0) != pid)
		status = 1;
	check(WIFEXITED(status) && !WEXITSTATUS(status), "foreign: child exited cleanly");
	ivs_close(&m.dev);
	return failures ? 1 : 0;
}

/*
 * The pid-reuse attack on DMA binding (run-attack "bindreuse", pvdmad in a
 * pid namespace of its own): a process connects to the DMA socket, leaves
 * it to a child and exits; the next process given its pid (the script
 * sets ns_last_pid) is a fake QEMU that connects a companion; the child
 * names that companion's domain. They meet through files in --dir:
 * "companion" (its id and a mapped bus address), "dma-status" (the FILL's
 * status name).
 */
#define REUSE_WAIT_MS	15000

static bool file_wait(const char *dir, const char *name, char *buf, size_t cap)
{
	char path[512];
	ssize_t n = -1;
	int i, fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	for (i = 0; i < REUSE_WAIT_MS / 10 && n <= 0; i++) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			n = read(fd, buf, cap - 1);
			close(fd);
		}
		if (n <= 0)
			usleep(10000);
	}
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return true;
}

/* Written whole or not at all: a reader never sees half of it. */
static void file_put(const char *dir, const char *name, const char *text)
{
	char path[512], tmp[520];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fputs(text, f);
	if (!fclose(f))
		rename(tmp, path);
}

/* The child left with the DMA socket: names the fake QEMU's domain. */
static int reuse_dma_child(const struct opts *o, struct dma *m, int sock)
{
	unsigned long long id, bus;
	const char *what;
	char buf[64];
	u32 st;

	/* Its stdout is the caller's $(...): closed, or the caller waits. */
	if (!freopen("/dev/null", "w", stdout))
		return 1;
	if (sock >= 0 && (ivs_setup(&m->dev, sock) ||
			  ((struct pvdma_dev_header *)m->dev.shm)->magic != PVDMA_DEV_MAGIC)) {
		file_put(o->dir, "dma-status", "refused");
		return 0;
	}
	if (!file_wait(o->dir, "companion", buf, sizeof(buf)) ||
	    sscanf(buf, "%llu %llu", &id, &bus) != 2)
		return 1;
	/* --count 1: only once the script says (after a restart) */
	if (o->count && !file_wait(o->dir, "go", buf, sizeof(buf)))
		return 1;
	m->hdr = (struct pvdma_dev_header *)m->dev.shm;
	m->hdr->domain_peer = (u32)id;
	st = dma_run(m, PVDMA_DEV_FILL, 0, bus, PAGE, 0x5a, NULL);
	what = st == PVDMA_DEV_ST_OK ? "bound" :
	       st == PVDMA_DEV_ST_NOT_BOUND ? "not-bound" : status_name(st, buf);
	file_put(o->dir, "dma-status", what);
	return 0;
}

/*
 * Connect to the DMA socket, print our pid, leave the socket to a child
 * and exit. @early: before pvdmad's setup came (so before its accept,
 * when pvdmad is stopped); else after it, so pinned while we live.
 */
static int run_reuse_dma(const struct opts *o, bool early)
{
	struct dma m = { 0 };
	int sock = ivs_unix_connect(o->dma_socket, recv_timeout_s);
	pid_t pid;

	if (sock < 0)
		return 1;
	if (!early) {
		if (ivs_setup(&m.dev, sock))
			return 1;
		sock = -1;
	}
	printf("%d\n", (int)getpid());
	fflush(stdout);
	pid = fork();
	if (pid == 0)
		_exit(reuse_dma_child(o, &m, sock));
	_exit(pid < 0);
}

/* The fake QEMU given the exited process's pid: a companion, one page
 * mapped; it stays until the DMA device's FILL was answered. */
static int run_reuse_qemu(const struct opts *o)
{
	struct companion c;
	char buf[64];
	u64 bus;

	if (companion_open(&c, o->socket) || !(bus = map_one_page(&c, 8ull << 20))) {
		check(false, "bind-reuse: the fake QEMU's companion set up");
		return 1;
	}
	snprintf(buf, sizeof(buf), "%llu %llu\n", (unsigned long long)c.dev.id,
		 (unsigned long long)bus);
	file_put(o->dir, "companion", buf);
	if (!file_wait(o->dir, "dma-status", buf, sizeof(buf)))
		check(false, "bind-reuse: the DMA device answered");
	ivs_close(&c.dev);
	return failures ? 1 : 0;
}

/*
 * A page of @o->gpa mapped before a restart ("mapped" written, then
 * "go" awaited: the script restarts pvdmad with a stricter layout in
 * between); the status of a FILL through it afterwards goes to
 * "dma-status".
 */
static int run_kept_map(const struct opts *o)
{
	struct companion c;
	struct dma m;
	char buf[64];
	u64 bus;
	u32 st;

	if (companion_open(&c, o->socket) ||
	    dma_open(&m, o->dma_socket, (u32)c.dev.id) ||
	    !(bus = map_one_page(&c, o->gpa))) {
		check(false, "kept-map: a page mapped");
		return 1;
	}
	file_put(o->dir, "mapped", "1\n");
	if (!file_wait(o->dir, "go", buf, sizeof(buf))) {
		check(false, "kept-map: told to go on");
		return 1;
	}
	st = dma_run(&m, PVDMA_DEV_FILL, 0, bus, PAGE, 0x5a, NULL);
	snprintf(buf, sizeof(buf), "%u\n", st);
	file_put(o->dir, "dma-status", buf);
	ivs_close(&m.dev);
	ivs_close(&c.dev);
	return 0;
}

/* A good guest's round trip: HELLO, MAP, FILL through it, UNMAP. */
static bool good_guest(const struct opts *o, u8 byte)
{
	struct companion c;
	struct dma m;
	u64 bus;
	bool ok;

	if (companion_open(&c, o->socket))
		return false;
	if (dma_open(&m, o->dma_socket, (u32)c.dev.id)) {
		ivs_close(&c.dev);
		return false;
	}
	bus = map_one_page(&c, 10ull << 20);
	ok = bus && dma_run(&m, PVDMA_DEV_FILL, 0, bus, PAGE, byte, NULL) ==
	     PVDMA_DEV_ST_OK &&
	     companion_one(&c, PVDMA_OP_UNMAP, 0, 0, PAGE, bus, NULL) == PVDMA_ST_OK;
	ivs_close(&m.dev);
	ivs_close(&c.dev);
	return ok;
}

/* Clients that connect and never read, or hang up at once. */
static int run_idle(const struct opts *o)
{
	int socks[IDLE_CLIENTS], i;

	for (i = 0; i < IDLE_CLIENTS; i++)
		socks[i] = unix_connect(i % 2 ? o->socket : o->dma_socket);
	for (i = 0; i < IDLE_CLIENTS; i++) {
		int s = unix_connect(o->socket);

		if (s >= 0)
			close(s);	/* gone before the daemon's first send */
	}
	usleep(200000);
	check(good_guest(o, 0x44), "good guest served beside never-reading clients");
	for (i = 0; i < IDLE_CLIENTS; i++)
		if (socks[i] >= 0)
			close(socks[i]);
	usleep(200000);
	check(good_guest(o, 0x45), "good guest served after they left");
	return failures ? 1 : 0;
}

/* More connections than the server takes: the rest refused, none hang. */
static int run_flood(const struct opts *o)
{
	static struct ivs_dev devs[FLOOD_CLIENTS];
	int i, accepted = 0, sock, fd = -1;
	int64_t first = 0;

	for (i = 0; i < FLOOD_CLIENTS; i++)
		if (!ivs_connect(&devs[i], o->socket, recv_timeout_s))
			accepted++;
	printf("flood: %d of %d connections accepted\n", accepted, FLOOD_CLIENTS);
	check(accepted == FLOOD_MAX, "flood: the server's limit holds, the rest are refused");
	/* QEMU reads an empty, closed socket forever: a refusal must say so. */
	sock = unix_connect(o->socket);
	check(sock >= 0 && !ivs_recv(sock, &first, &fd) && first == -EUSERS &&
	      fd < 0, "a refused connection gets -EUSERS where the version goes");
	if (sock >= 0)
		close(sock);
	for (i = 0; i < FLOOD_CLIENTS; i++)
		if (devs[i].sock > 0)
			ivs_close(&devs[i]);
	usleep(300000);
	check(good_guest(o, 0x46), "good guest served after the flood");
	return failures ? 1 : 0;
}

/* Send @req on a fresh control connection, read the answer to EOF. */
static ssize_t control_ask(const char *path, const char *req, size_t len,
			   char *buf, size_t cap)
{
	int s = unix_connect(path);
	ssize_t n, got = 0;

	if (s < 0)
		return -1;
	if (len && send(s, req, len, MSG_NOSIGNAL) != (ssize_t)len) {
		close(s);
		return -1;
	}
	while ((n = recv(s, buf + got, cap - 1 - got, 0)) > 0 && (size_t)got < cap - 1)
		got += n;
	buf[got] = '\0';
	close(s);
	return got;
}

/* Idle, overlong, binary and never-reading control clients. */
static int run_control(const struct opts *o)
{
	static char buf[1 << 16];
	char junk[300];
	int idle[CONTROL_IDLE], i, mute;

	for (i = 0; i < CONTROL_IDLE; i++)
		idle[i] = unix_connect(o->control);
	usleep(100000);
	check(control_ask(o->control, "stats json\n", 11, buf, sizeof(buf)) > 0 &&
	      buf[0] == '{', "stats answered beside idle control connections");
	memset(junk, 'A', sizeof(junk));
	check(control_ask(o->control, junk, sizeof(junk), buf, sizeof(buf)) > 0 &&
	      !strncmp(buf, "error:", 6), "overlong request line: error, closed");
	check(control_ask(o->control, "\0\xffstats json\n", 13, buf, sizeof(buf)) > 0 &&
	      !strncmp(buf, "error:", 6), "binary request: error");
	mute = unix_connect(o->control);
	check(mute >= 0 && send(mute, "stats json\n", 11, MSG_NOSIGNAL) == 11,
	      "a client asks and never reads");
	check(control_ask(o->control, "stats table\n", 12, buf, sizeof(buf)) > 0 &&
	      strstr(buf, "mappings live"), "the next client is answered");
	for (i = 0; i < CONTROL_IDLE; i++)
		if (idle[i] >= 0)
			close(idle[i]);
	if (mute >= 0)
		close(mute);
	return failures ? 1 : 0;
}

/* ---- attacks on pvdmad itself (docs/security.md §2.7) ---- */

/* Stats within @ms, or -1: the daemon is stalled. */
static ssize_t control_ask_within(const char *path, int ms, char *buf, size_t cap)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	int s = unix_connect(path);
	ssize_t n, got = 0;

	if (s < 0)
		return -1;
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (send(s, "stats json\n", 11, MSG_NOSIGNAL) != 11) {
		close(s);
		return -1;
	}
	while ((n = recv(s, buf + got, cap - 1 - got, 0)) > 0 && (size_t)got < cap - 1)
		got += n;
	close(s);
	buf[got] = '\0';
	return n < 0 ? -1 : got;
}

static bool daemon_answers(const struct opts *o, int ms)
{
	static char buf[1 << 16];

	return control_ask_within(o->control, ms, buf, sizeof(buf)) > 0 && buf[0] == '{';
}

/* Has @pid really stopped (state T in /proc)? Waits up to 2 s. */
static bool wait_stopped(pid_t pid)
{
	char path[64], buf[256], *p;
	int i, fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (i = 0; i < 200; i++) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
		if (fd >= 0)
			close(fd);
		if (n > 0) {
			buf[n] = '\0';
			p = strrchr(buf, ')');
			if (p && p[1] == ' ' && (p[2] == 'T' || p[2] == 't'))
				return true;
		}
		usleep(10000);
	}
	return false;
}

/*
 * Stop pvdmad between loop turns: a turn it is still in when stopped
 * would count the stop (its clock runs from epoll_wait()'s return), so
 * what it was answering is left time to end first.
 */
static bool stop_idle(pid_t pid)
{
	usleep(200000);
	return kill(pid, SIGSTOP) == 0 && wait_stopped(pid);
}

/*
 * With pvdmad stopped between turns, each of @n guests queues @ops (@len
 * entries) in every slot of its ring (@whole) or in one, and rings: their
 * doorbells land in one epoll batch. @last[i]: guest i's last slot. Then
 * pvdmad runs on; returns when (now_ns()) it was let go.
 */
static u64 ring_stopped(const struct opts *o, struct companion *c, int n,
			const struct pvdma_request *ops, u32 len, bool whole,
			struct pvdma_slot_hdr **last)
{
	u64 t0;
	u32 j;
	int i;

	check(stop_idle(o->pid), "pvdmad stopped between turns");
	for (i = 0; i < n; i++) {
		for (j = 0; j < (whole ? c[i].hdr->ring_slots : 1); j++)
			last[i] = companion_queue(&c[i], ops, len);
		ivs_ring(&c[i].dev);
	}
	t0 = now_ns();
	kill(o->pid, SIGCONT);
	return t0;
}

/* Slot @s of @c answered in @timeout_ms, all its @len entries done. */
static bool slot_answered(struct companion *c, struct pvdma_slot_hdr *s,
			  u32 len, int timeout_ms)
{
	return ivs_wait_done(&c->dev, &s->done_seq, s->seq, timeout_ms) ==
	       IVS_DONE && s->completed == len;
}

/*
 * Control connection evicted while its event waits later in the same epoll
 * batch: with pvdmad stopped, the ninth connection is queued first and the
 * oldest connection's byte second, so one batch holds both, in that order.
 */
static int run_uaf_control(const struct opts *o)
{
	int conns[CONTROL_MAX + 1], i, late;

	for (i = 0; i < CONTROL_MAX; i++) {
		conns[i] = unix_connect(o->control);
		usleep(20000);	/* accepted in order: conns[0] is the oldest */
	}
	usleep(100000);
	check(kill(o->pid, SIGSTOP) == 0 && wait_stopped(o->pid), "pvdmad stopped");
	late = unix_connect(o->control);
	usleep(50000);
	check(send(conns[0], "s", 1, MSG_NOSIGNAL) == 1, "the oldest sends a byte");
	usleep(50000);
	kill(o->pid, SIGCONT);
	usleep(300000);
	check(kill(o->pid, 0) == 0, "pvdmad alive after the eviction batch");
	check(daemon_answers(o, 2000), "stats answered after the eviction batch");
	for (i = 0; i < CONTROL_MAX; i++)
		if (conns[i] >= 0)
			close(conns[i]);
	if (late >= 0)
		close(late);
	return failures ? 1 : 0;
}

/*
 * A TCP socket whose close() lingers: connected to a listener that never
 * accepts or reads, its send buffer full, SO_LINGER @secs. The last close
 * blocks the closer for up to @secs.
 */
static int lingering_socket(int secs, int *listener)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct linger lg = { .l_onoff = 1, .l_linger = secs };
	socklen_t alen = sizeof(a);
	int small = 4096, s;
	static char junk[65536];

	*listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(*listener, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	if (*listener < 0 || bind(*listener, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(*listener, 1) ||
	    getsockname(*listener, (struct sockaddr *)&a, &alen))
		return -1;
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&a, sizeof(a)))
		return -1;
	setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	while (send(s, junk, sizeof(junk), MSG_DONTWAIT | MSG_NOSIGNAL) > 0)
		;
	return s;
}

/*
 * Pass @fd (none if < 0) over @sock with one byte sent with @flags
 * (MSG_OOB: an urgent byte). 0, or the errno of a refused sendmsg.
 */
static int pass_fd_flags(int sock, int fd, int flags)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	char byte = flags & MSG_OOB ? 'u' : 'x';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf, .msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg;

	memset(&control, 0, sizeof(control));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	if (fd < 0)
		msg.msg_control = NULL, msg.msg_controllen = 0;
	return sendmsg(sock, &msg, flags | MSG_NOSIGNAL) == 1 ? 0 : errno;
}

/* Pass @fd over @sock. 0, or the errno of a refused sendmsg. */
static int pass_fd(int sock, int fd)
{
	return pass_fd_flags(sock, fd, 0);
}

/*
 * Lingering fds passed to every socket pvdmad has: right after connect
 * (before the setup is read), after the setup, and to the control socket.
 * pvdmad must answer stats within 1 s after each; a blocking close() of
 * the fd (or of the connection it waits in) would take LINGER_S.
 */
#define LINGER_S	8
static int run_linger(const struct opts *o)
{
	const char *where[] = { "companion socket, before setup",
				"companion socket, after setup",
				"DMA socket, after setup", "control socket" };
	const char *paths[] = { o->socket, o->socket, o->dma_socket, o->control };
	char what[160];
	struct ivs_dev dev;
	int i, listener, tcp, sock, err;

	for (i = 0; i < 4; i++) {
		tcp = lingering_socket(LINGER_S, &listener);
		if (tcp < 0) {
			check(false, "a lingering TCP socket");
			return 1;
		}
		if (i == 1 || i == 2) {
			if (ivs_connect(&dev, paths[i], recv_timeout_s))
				return 1;
			sock = dev.sock;
		} else {
			sock = unix_connect(paths[i]);
		}
		err = pass_fd(sock, tcp);
		close(tcp);	/* pvdmad would now hold the last reference */
		snprintf(what, sizeof(what), "%s: fd %s; stats within 1 s", where[i],
			 err ? "refused at sendmsg" : "sent");
		if (i == 1 || i == 2)
			ivs_close(&dev);
		else
			close(sock);
		usleep(100000);
		check(daemon_answers(o, 1000), what);
		close(listener);
	}
	return failures ? 1 : 0;
}

/*
 * Pass SCM_MAX_FD fds over @sock in one message: @fill copies of one fd,
 * then @last. A receiver with fewer free fd slots than that can't take
 * them all: what it can't install, the kernel releases inside recvmsg().
 */
#define PASS_MAX_FDS	253
static int pass_fds_ending_with(int sock, int fill, int last)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(PASS_MAX_FDS * sizeof(int))];
	} control;
	int fds[PASS_MAX_FDS], i;
	char byte = 'x';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.buf, .msg_controllen = sizeof(control.buf),
	};
	struct cmsghdr *cmsg;

	for (i = 0; i < PASS_MAX_FDS - 1; i++)
		fds[i] = fill;
	fds[PASS_MAX_FDS - 1] = last;
	memset(&control, 0, sizeof(control));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cmsg), fds, sizeof(fds));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == 1 ? 0 : errno;
}

/*
 * The socket a linger case passes its fds on: the control socket (@i 0,
 * accepted before the fds come) or the DMA socket after setup (@i 1).
 * -1 if it could not connect.
 */
static int linger_target(const struct opts *o, int i, struct ivs_dev *dev)
{
	int sock;

	if (i == 1)
		return ivs_connect(dev, o->dma_socket, recv_timeout_s) ? -1 :
		       dev->sock;
	sock = unix_connect(o->control);
	usleep(100000);
	return sock;
}

static void linger_target_close(int i, struct ivs_dev *dev, int sock)
{
	if (i == 1)
		ivs_close(dev);
	else
		close(sock);
}

/*
 * The lingering fd of run_linger() sent last of SCM_MAX_FD, to a pvdmad
 * short of fd slots (run under a low RLIMIT_NOFILE; in production, one
 * whose fds a stuck closer thread keeps): the fds it can't install are
 * released by the kernel inside its recvmsg(), the lingering close then
 * on the loop's thread, however big the control buffer. Control socket
 * and DMA socket after setup; stats within 1 s after each.
 */
static int run_linger_emfile(const struct opts *o)
{
	const char *where[] = { "control socket", "DMA socket, after setup" };
	int i, listener, tcp, sock, err, fill;
	struct ivs_dev dev;
	char what[200];

	fill = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fill < 0) {
		check(false, "open /dev/null");
		return 1;
	}
	for (i = 0; i < 2; i++) {
		tcp = lingering_socket(LINGER_S, &listener);
		if (tcp < 0) {
			check(false, "a lingering TCP socket");
			return 1;
		}
		sock = linger_target(o, i, &dev);
		if (sock < 0)
			return 1;
		/* pvdmad stopped until our copy is closed: its recvmsg() must
		 * hold the last reference, else our close() would linger */
		check(kill(o->pid, SIGSTOP) == 0 && wait_stopped(o->pid),
		      "pvdmad stopped while the fds are sent");
		err = pass_fds_ending_with(sock, fill, tcp);
		close(tcp);
		kill(o->pid, SIGCONT);
		snprintf(what, sizeof(what),
			 "%s: %d fds ending with a lingering one %s; stats within 1 s",
			 where[i], PASS_MAX_FDS, err ? "refused at sendmsg" : "sent");
		linger_target_close(i, &dev, sock);
		usleep(100000);
		check(daemon_answers(o, 1000), what);
		close(listener);
	}
	close(fill);
	return failures ? 1 : 0;
}

/* Pass @fd (if >= 0) on an urgent byte (MSG_OOB). 0 or the errno. */
static int pass_fd_urgent(int sock, int fd)
{
	return pass_fd_flags(sock, fd, MSG_OOB);
}

/* CPU time @pid has used, in clock ticks. */
static long cpu_ticks(pid_t pid)
{
	unsigned long ut = 0, st = 0;
	char path[64], buf[1024], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	p = fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
	fclose(f);
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			 &ut, &st) != 2)
		return -1;
	return (long)(ut + st);
}

/*
 * The lingering fd of run_linger() on an urgent byte (MSG_OOB): a read
 * skips such a byte and drops it, the fds it carries released inside
 * recvmsg() on the loop's thread (with room for any number of them in
 * the control buffer). Control socket and DMA socket after setup, pvdmad
 * stopped until our copy is closed; stats within 1 s after each. Then an
 * urgent byte alone: a peek stops short of it and the socket stays
 * readable, so it must end the connection, not spin the loop.
 */
static int run_linger_oob(const struct opts *o)
{
	const char *where[] = { "control socket", "DMA socket, after setup" };
	int i, listener, tcp, sock, err;
	struct ivs_dev dev;
	char what[200];
	long t0, t1;

	for (i = 0; i < 2; i++) {
		tcp = lingering_socket(LINGER_S, &listener);
		if (tcp < 0) {
			check(false, "a lingering TCP socket");
			return 1;
		}
		sock = linger_target(o, i, &dev);
		if (sock < 0)
			return 1;
		check(kill(o->pid, SIGSTOP) == 0 && wait_stopped(o->pid),
		      "pvdmad stopped while the fd is sent");
		err = pass_fd_urgent(sock, tcp);
		close(tcp);
		kill(o->pid, SIGCONT);
		snprintf(what, sizeof(what),
			 "%s: a lingering fd on an urgent byte %s; stats within 1 s",
			 where[i], err ? "refused at sendmsg" : "sent");
		usleep(100000);
		check(daemon_answers(o, 1000), what);
		linger_target_close(i, &dev, sock);
		close(listener);
	}
	sock = unix_connect(o->control);
	usleep(100000);
	err = pass_fd_urgent(sock, -1);
	usleep(100000);
	t0 = cpu_ticks(o->pid);
	usleep(1000000);
	t1 = cpu_ticks(o->pid);
	printf("urgent byte alone: pvdmad used %ld clock ticks in 1 s\n", t1 - t0);
	check(!err && t0 >= 0 && t1 - t0 < 20,
	      "an urgent byte alone on the control socket: no spin (< 0.2 s CPU in 1 s)");
	check(daemon_answers(o, 1000), "and stats within 1 s");
	close(sock);
	return failures ? 1 : 0;
}

/* Post one NOP slot without waiting for the answer. */
static void companion_post_nop(struct companion *c)
{
	struct pvdma_request op = { .op = PVDMA_OP_NOP };
	u64 one = 1;

	companion_queue(c, &op, 1);
	if (write(c->dev.bell_fd, &one, sizeof(one)) != sizeof(one))
		perror("doorbell");
}

/*
 * The eventfds are shared with pvdmad (one open file description): make
 * the interrupt eventfd blocking and fill its counter, then have pvdmad
 * raise an interrupt; and make the doorbell eventfd blocking. pvdmad must
 * neither block nor keep serving the tamperer.
 */
static int run_eventfd(const struct opts *o)
{
	u64 full = 0xfffffffffffffffeull;
	struct companion c;

	if (companion_open(&c, o->socket)) {
		check(false, "eventfd: connect");
		return 1;
	}
	check(fcntl(c.dev.irq_fd, F_SETFL, 0) == 0 &&
	      write(c.dev.irq_fd, &full, sizeof(full)) == sizeof(full),
	      "interrupt eventfd made blocking and full");
	companion_post_nop(&c);
	usleep(200000);
	check(daemon_answers(o, 1000), "interrupt into a full blocking eventfd: stats within 1 s");
	ivs_close(&c.dev);
	if (companion_open(&c, o->socket)) {
		check(false, "eventfd: connect again");
		return 1;
	}
	check(fcntl(c.dev.bell_fd, F_SETFL, 0) == 0, "doorbell eventfd made blocking");
	companion_post_nop(&c);
	usleep(200000);
	check(daemon_answers(o, 1000), "blocking doorbell eventfd: stats within 1 s");
	ivs_close(&c.dev);
	return failures ? 1 : 0;
}

/*
 * The shared interrupt eventfd's counter full and its O_NONBLOCK turned
 * off and on again without pause by a child process (the same open file
 * description) while pvdmad signals it: now and then pvdmad's check of
 * the flag passes and its write finds the flag cleared, the race the
 * guard exists for, and the loop waits in that write until the guard ends
 * it. A NOP is posted and rung again and again for --seconds (default 4),
 * on a fresh connection after each disconnection (a lost race: the flag
 * seen cleared; or a won one: pvdmad blocked). What each win cost pvdmad's
 * loop is in its stats (run-attack.sh flagrace).
 */
static pid_t flag_toggler(int fd)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;) {
			fcntl(fd, F_SETFL, 0);
			fcntl(fd, F_SETFL, O_NONBLOCK);
		}
	}
	return pid;
}

static void flag_toggler_stop(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

/* Post a NOP and ring: 1 served, 0 disconnected, -1 neither in 2 s. */
static int flagrace_try(struct companion *c)
{
	struct pvdma_request op = { .op = PVDMA_OP_NOP };
	struct pvdma_slot_hdr *slot = companion_queue(c, &op, 1);
	struct pollfd pfd = { .fd = c->dev.sock, .events = POLLIN };
	u64 one = 1;
	int i;

	if (write(c->dev.bell_fd, &one, sizeof(one)) != sizeof(one))
		return 0;
	for (i = 0; i < 2000; i++) {
		if (__atomic_load_n(&slot->done_seq, __ATOMIC_ACQUIRE) == slot->seq)
			return 1;
		if (poll(&pfd, 1, 1) == 1)
			return 0;
	}
	return -1;
}

static int run_flagrace(const struct opts *o)
{
	u64 full = 0xfffffffffffffffeull, end;
	unsigned int tries = 0, lost = 0;
	struct companion c;
	pid_t tog = -1;
	int r = 0;

	end = now_ns() + (u64)(o->seconds ? o->seconds : 4) * 1000000000ull;
	while (now_ns() < end) {
		if (r == 0) {
			flag_toggler_stop(tog);
			if (tries)
				ivs_close(&c.dev);
			if (companion_open(&c, o->socket)) {
				check(false, "flagrace: connect");
				return 1;
			}
			if (write(c.dev.irq_fd, &full, sizeof(full)) != sizeof(full)) {
				perror("flagrace: fill the interrupt eventfd");
				return 1;
			}
			tog = flag_toggler(c.dev.irq_fd);
		}
		r = flagrace_try(&c);
		tries++;
		if (r < 0) {
			check(false, "flagrace: a NOP neither served nor refused in 2 s");
			break;
		}
		lost += r == 0;
	}
	flag_toggler_stop(tog);
	ivs_close(&c.dev);
	printf("flagrace: %u doorbells, %u disconnections\n", tries, lost);
	return failures ? 1 : 0;
}

/* As uid/gid 65534: does any socket give us anything? */
static int nobody_child(const struct opts *o)
{
	static char buf[4096];
	struct ivs_dev dev;
	int bad = 0;

	if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
		return 100;
	if (!ivs_connect(&dev, o->socket, recv_timeout_s)) {
		printf("nobody: companion setup received\n");
		bad++;
	}
	if (o->dma_socket &&
	    !ivs_connect(&dev, o->dma_socket, recv_timeout_s)) {
		printf("nobody: DMA device setup received\n");
		bad++;
	}
	if (o->control && control_ask_within(o->control, 1000, buf, sizeof(buf)) > 0) {
		printf("nobody: control answered\n");
		bad++;
	}
	return bad;
}

static int run_nobody(const struct opts *o)
{
	pid_t pid = fork();
	int status;

	if (pid == 0)
		_exit(nobody_child(o));
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 1;
	check(WIFEXITED(status) && WEXITSTATUS(status) != 100, "dropped to uid 65534");
	check(WIFEXITED(status) && WEXITSTATUS(status) == 0,
	      "uid 65534 got nothing from any socket");
	return failures ? 1 : 0;
}

/* DMA into guest RAM pages the file can't back (full tmpfs): an error
 * status, pvdmad alive. GPA @o->below_4g .. is the top of a sparse file. */
static int run_sigbus(const struct opts *o)
{
	struct pvdma_dev_cmd out;
	struct companion c;
	struct dma m;
	u64 bus;
	u32 st;

	if (companion_open(&c, o->socket) || dma_open(&m, o->dma_socket, (u32)c.dev.id)) {
		check(false, "sigbus: connect");
		return 1;
	}
	bus = map_one_page(&c, o->gpa);
	check(bus != 0, "a page the RAM file can't back is mapped");
	st = dma_run(&m, PVDMA_DEV_FILL, 0, bus, PAGE, 0x5a, &out);
	printf("FILL status %u\n", st);
	check(st == PVDMA_DEV_ST_IO, "FILL into it: io status");
	st = dma_run(&m, PVDMA_DEV_FILL, 0, bus, PAGE, 0x5b, &out);
	check(st == PVDMA_DEV_ST_IO, "a second FILL: io status again");
	check(good_guest(o, 0x47), "another guest, on a page the file backs, still served");
	ivs_close(&m.dev);
	ivs_close(&c.dev);
	return failures ? 1 : 0;
}

/* MAP of guest-physical ranges QEMU hides from DMA: bad-gpa. */
static int run_hidden(const struct opts *o)
{
	struct companion c;

	if (companion_open(&c, o->socket) ||
	    companion_one(&c, PVDMA_OP_HELLO, 0, 0, 0, 0, NULL) != PVDMA_ST_OK) {
		check(false, "hidden: connect");
		return 1;
	}
	check(companion_one(&c, PVDMA_OP_MAP, PVDMA_MAP_WRITE, 0xa0000, PAGE, 0,
			    NULL) == PVDMA_ST_BAD_GPA, "MAP of the legacy VGA window (0xa0000) is bad-gpa");
	check(companion_one(&c, PVDMA_OP_MAP, PVDMA_MAP_WRITE, 0x9c000, 2 * PAGE, 0,
			    NULL) == PVDMA_ST_BAD_GPA, "MAP running into it is bad-gpa");
	if (o->gpa) {
		check(companion_one(&c, PVDMA_OP_MAP, PVDMA_MAP_WRITE, o->gpa, PAGE,
				    0, NULL) == PVDMA_ST_BAD_GPA, "MAP of TSEG (SMRAM) is bad-gpa");
		check(companion_one(&c, PVDMA_OP_MAP, PVDMA_MAP_WRITE, o->gpa - PAGE,
				    PAGE, 0, NULL) == PVDMA_ST_OK, "the page below TSEG maps");
		/* SMRAM at the default SMBASE: TSEG is not the only window */
		check(companion_one(&c, PVDMA_OP_MAP, PVDMA_MAP_WRITE, 0x30000, PAGE,
				    0, NULL) == PVDMA_ST_BAD_GPA, "MAP of the SMBASE window (0x30000) is bad-gpa");
		check(companion_one(&c, PVDMA_OP_MAP, PVDMA_MAP_WRITE, 0x4c000, 2 * PAGE,
				    0, NULL) == PVDMA_ST_BAD_GPA, "MAP running out of it is bad-gpa");
		check(companion_one(&c, PVDMA_OP_MAP, PVDMA_MAP_WRITE, 0x50000, PAGE,
				    0, NULL) == PVDMA_ST_OK, "the page above it maps");
	}
	check(companion_one(&c, PVDMA_OP_MAP, PVDMA_MAP_WRITE, 0x100000, PAGE, 0,
			    NULL) == PVDMA_ST_OK, "RAM at 1 MiB maps");
	ivs_close(&c.dev);
	return failures ? 1 : 0;
}

/* Connect without waiting for a full backlog: -1 if it would wait. */
static int unix_connect_nb(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
	if (s >= 0 && connect(s, (struct sockaddr *)&addr, sizeof(addr))) {
		close(s);
		return -1;
	}
	return s;
}

/* Hold @count connections on each socket for @seconds (memory, fds). */
static int run_hold(const struct opts *o)
{
	static struct ivs_dev devs[2 * FLOOD_MAX];
	int i, n = o->count > FLOOD_MAX ? FLOOD_MAX : o->count, got = 0;
	int ctl[CONTROL_MAX], pending[CONTROL_MAX];

	/* a daemon out of fds may never answer */
	recv_timeout_s = o->answer_within ? o->answer_within : 2;
	for (i = 0; i < n; i++) {
		got += !ivs_connect(&devs[2 * i], o->socket, recv_timeout_s);
		if (o->dma_socket)
			got += !ivs_connect(&devs[2 * i + 1], o->dma_socket,
					    recv_timeout_s);
	}
	printf("hold: %d connections\n", got);
	fflush(stdout);
	/* Idle control connections fill what fds are left; then connections
	 * wait in the backlog that pvdmad has no fd to accept. */
	for (i = 0; o->control && i < CONTROL_MAX; i++)
		ctl[i] = unix_connect_nb(o->control);
	for (i = 0; o->control && i < CONTROL_MAX; i++)
		pending[i] = unix_connect_nb(i % 2 ? o->control : o->socket);
	sleep(o->seconds);
	for (i = 0; o->control && i < CONTROL_MAX; i++) {
		if (ctl[i] >= 0)
			close(ctl[i]);
		if (pending[i] >= 0)
			close(pending[i]);
	}
	for (i = 0; i < 2 * n; i++)
		if (devs[i].sock > 0)
			ivs_close(&devs[i]);
	return 0;
}

/*
 * Not pvdmad: a control socket that answers nothing (--count 0) or stats
 * full of terminal escapes (--count 1), for pvdmactl's own defences.
 */
static int run_fake_control(const struct opts *o)
{
	static const char answer[] = "pvdmad pid 1: \033[2J\033]0;owned\007 0 guests live\r\n";
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	char line[256];
	int l, s;

	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", o->control);
	l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (l < 0 || bind(l, (struct sockaddr *)&addr, sizeof(addr)) || listen(l, 4))
		return 1;
	chmod(o->control, 0666);
	for (;;) {
		s = accept(l, NULL, NULL);
		if (s < 0)
			return 1;
		if (recv(s, line, sizeof(line), 0) < 0)
			return 1;
		if (o->count == 0) {
			sleep(30);
		} else if (send(s, answer, sizeof(answer) - 1, MSG_NOSIGNAL) < 0) {
			return 1;
		}
		close(s);
	}
}

/* Connect and hang up @count times as fast as possible (log flooding). */
static int run_churn(const struct opts *o)
{
	int i, s, refused = 0;
	u64 deadline;

	for (i = 0; i < o->count; i++) {
		/* A full backlog is retried for up to 2 s, never waited on
		 * blocked: a stalled daemon can't hang us. */
		deadline = now_ns() + 2000000000ull;
		while ((s = unix_connect_nb(o->socket)) < 0 && now_ns() < deadline)
			usleep(1000);
		if (s < 0) {
			refused++;
			break;
		}
		close(s);
	}
	printf("churn: %d connections, %d refused\n", o->count, refused);
	return 0;
}

/*
 * Fairness: guest A queues FAIR_CMDS CHECKSUMs of 4 MiB, guest B (another
 * process) then one small FILL. B must be answered while A still has work
 * queued: pvdmad serves devices in slices.
 */
#define FAIR_CMDS	64
#define FAIR_LEN	(4ull << 20)
static int fair_child(const struct opts *o, int to_parent, int from_parent)
{
	struct companion c;
	struct dma m;
	u64 bus, t[2];
	char go;
	u32 st;

	if (companion_open(&c, o->socket) || dma_open(&m, o->dma_socket, (u32)c.dev.id)) {
		fprintf(stderr, "fair: guest B not set up (refused?)\n");
		return 1;
	}
	bus = map_one_page(&c, 40ull << 20);
	if (write(to_parent, &bus, sizeof(bus)) != sizeof(bus) ||
	    read(from_parent, &go, 1) != 1)
		return 1;
	t[0] = now_ns();
	st = dma_run(&m, PVDMA_DEV_FILL, 0, bus, PAGE, 0x61, NULL);
	t[1] = now_ns();
	if (st != PVDMA_DEV_ST_OK)
		t[1] = 0;
	if (write(to_parent, t, sizeof(t)) != sizeof(t))
		return 1;
	ivs_close(&m.dev);
	ivs_close(&c.dev);
	return 0;
}

/*
 * Guest A (this process) with @len bytes at 8 MiB mapped @perm and its
 * DMA device open, and guest B (fair_child(), forked) waiting to ring.
 */
struct two_guests {
	struct companion c;
	struct dma m;
	struct pvdma_dev_cmd *q;
	u64 bus;
	int up[2], down[2];
	pid_t pid;
};

static int two_guests_open(const struct opts *o, struct two_guests *g,
			   u16 perm, u64 len)
{
	u64 cbus;

	g->bus = 0;
	if (pipe(g->up) || pipe(g->down))
		return -1;
	g->pid = fork();
	if (g->pid == 0)
		_exit(fair_child(o, g->up[1], g->down[0]));
	/* B's ends: a B that gave up is an end of file here, not a hang */
	close(g->up[1]);
	close(g->down[0]);
	if (g->pid < 0 || read(g->up[0], &cbus, sizeof(cbus)) != sizeof(cbus) ||
	    !cbus || companion_open(&g->c, o->socket) ||
	    dma_open(&g->m, o->dma_socket, (u32)g->c.dev.id) ||
	    companion_one(&g->c, PVDMA_OP_HELLO, 0, 0, 0, 0, NULL) != PVDMA_ST_OK ||
	    companion_one(&g->c, PVDMA_OP_MAP, perm, 8ull << 20, len, 0,
			  &g->bus) != PVDMA_ST_OK)
		return -1;
	g->q = dma_cmds(&g->m);
	return 0;
}

/*
 * A publishes the @n commands it wrote (the last one @last_seq) and
 * rings once; once its run has started, B rings. t[0], t[1]: when B rang
 * and was answered (0: not ok); *@a_done: when A's last command was done
 * (waited for up to @wait_ms).
 */
static int two_guests_race(struct two_guests *g, u32 n, u32 last_seq,
			   u32 wait_ms, u64 t[2], u64 *a_done)
{
	struct pvdma_dev_header *h = g->m.hdr;
	u64 one = 1;
	u32 i;

	producer_publish(&h->sq_tail, h->sq_tail + n);
	if (write(g->m.dev.bell_fd, &one, sizeof(one)) != sizeof(one))
		return -1;
	usleep(2000);	/* A's run has started */
	if (write(g->down[1], "g", 1) != 1 ||
	    read(g->up[0], t, 2 * sizeof(t[0])) != 2 * sizeof(t[0]))
		return -1;
	for (i = 0; i < wait_ms &&
	     __atomic_load_n(&g->q[(h->sq_tail - 1) & (h->queue_entries - 1)].done_seq,
			     __ATOMIC_ACQUIRE) != last_seq; i++)
		usleep(1000);
	*a_done = now_ns();
	return 0;
}

/*
 * pvdmad's longest loop turn so far (pvdmactl stats), in wall time and in
 * the loop thread's CPU time (the one the run-attack cases bound: a busy
 * machine's preemption is in the wall time only); -1 where unknown.
 */
struct loop_turns {
	long long wall_us, cpu_us;
};

static long long stats_key(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);

	return p ? strtoll(p + strlen(key), NULL, 10) : -1;
}

static struct loop_turns longest_turns(const struct opts *o)
{
	static char buf[1 << 16];
	struct loop_turns t = { -1, -1 };
	ssize_t n;

	if (!o->control)
		return t;
	n = control_ask_within(o->control, 2000, buf, sizeof(buf) - 1);
	if (n <= 0)
		return t;
	buf[n] = 0;
	t.wall_us = stats_key(buf, "\"longest_turn_us\": ");
	t.cpu_us = stats_key(buf, "\"longest_turn_cpu_us\": ");
	return t;
}

/* "NAME: longest loop turn W us, CPU C us WHEN", its CPU time returned */
static long long print_longest_turn(const struct opts *o, const char *name,
				    const char *when)
{
	struct loop_turns t = longest_turns(o);

	printf("%s: longest loop turn %lld us, CPU %lld us %s\n", name,
	       t.wall_us, t.cpu_us, when);
	return t.cpu_us;
}

/* B served while A's queue ran, whatever A's work was; both closed. */
static int two_guests_done(const char *name, struct two_guests *g,
			   const u64 t[2], u64 a_done)
{
	int status;

	check(t[1] != 0, "B's FILL ok");
	check(t[1] && t[1] < a_done, "B answered before A's queue was done");
	check(t[1] && (t[1] - t[0]) * 4 < a_done - t[0],
	      "B waited less than a quarter of A's run");
	if (waitpid(g->pid, &status, 0) != g->pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		check(false, name);
	ivs_close(&g->m.dev);
	ivs_close(&g->c.dev);
	return failures ? 1 : 0;
}

static int run_fair(const struct opts *o)
{
	/* --count M: A's commands M MiB each, as many as make 256 MiB */
	u64 len = o->count > 0 ? (u64)o->count << 20 : FAIR_LEN;
	u32 i, cmds = (u32)PVDMA_MAX(FAIR_CMDS * FAIR_LEN / len, 1ull);
	struct two_guests g;
	u64 t[2], a_done;
	char buf[8];

	if (two_guests_open(o, &g, PVDMA_MAP_READ, len)) {
		check(false, "fair: two guests set up");
		return 1;
	}
	printf("fair: two guests set up\n");	/* run-attack wide waits for it */
	fflush(stdout);
	/* --dir W: every pair set up, the script writes W/go: all ring at once */
	if (o->dir && !file_wait(o->dir, "go", buf, sizeof(buf))) {
		check(false, "fair: the script's go");
		return 1;
	}
	for (i = 0; i < cmds; i++)
		producer_write_cmd(g.q, g.m.hdr->queue_entries,
				   g.m.hdr->sq_tail + i, PVDMA_DEV_CHECKSUM,
				   g.bus, 0, len, 0, ++g.m.seq);
	if (two_guests_race(&g, cmds, g.m.seq, 30000, t, &a_done))
		return 1;
	printf("fair: B answered in %.1f ms; A's %u x %llu MiB done %.1f ms after B rang\n",
	       (t[1] - t[0]) / 1e6, cmds, (unsigned long long)(len >> 20),
	       (a_done - t[0]) / 1e6);
	print_longest_turn(o, "fair", "before the hang-ups");
	return two_guests_done("fair: B exited cleanly", &g, t, a_done);
}

/*
 * DMA work that moves nothing: guest A fills its whole queue with FILLs of
 * max_len that run past the end of its 48 MiB mapping (each translated
 * page by page until it faults at the last), rings once; guest B then
 * one small FILL (fair_child). B must be answered while A's queue runs:
 * the slices charge the pages checked, not only bytes moved.
 */
#define FAULTY_MAP	(48ull << 20)
static int run_faulty(const struct opts *o)
{
	struct pvdma_dev_cmd *last;
	struct two_guests g;
	u64 t[2], a_done;
	u32 n, i;

	if (two_guests_open(o, &g, PVDMA_MAP_WRITE, FAULTY_MAP) ||
	    g.m.hdr->max_len <= FAULTY_MAP) {
		check(false, "faulty: two guests set up (--dma-max-len above 48 MiB)");
		return 1;
	}
	n = g.m.hdr->queue_entries;
	for (i = 0; i < n; i++)
		producer_write_cmd(g.q, n, g.m.hdr->sq_tail + i, PVDMA_DEV_FILL,
				   0, g.bus, g.m.hdr->max_len, 0x5a, ++g.m.seq);
	if (two_guests_race(&g, n, g.m.seq, 60000, t, &a_done))
		return 1;
	printf("faulty: B answered in %.1f ms; A's %u faulting FILLs of %u MiB done %.1f ms after B rang\n",
	       (t[1] - t[0]) / 1e6, n, g.m.hdr->max_len >> 20, (a_done - t[0]) / 1e6);
	last = &g.q[(g.m.hdr->sq_tail - 1) & (n - 1)];
	check(last->status == PVDMA_DEV_ST_FAULT &&
	      last->fault_bus == g.bus + FAULTY_MAP,
	      "faulty: A's queue served, each FILL faulting at its mapping's end");
	return two_guests_done("faulty: B exited cleanly", &g, t, a_done);
}

/*
 * One doorbell's worth of companion work: guest A fills its whole ring
 * (every slot, every entry a RESET: a release of its mappings and the
 * ledger's, a system call each) and rings once; guest B (another process)
 * then posts one NOP. B must be answered while A's ring still runs:
 * pvdmad runs a ring in slices, as it does DMA queues.
 */
static int storm_child(const struct opts *o, int to_parent, int from_parent)
{
	struct companion c;
	u64 t[2] = { 0, 0 };
	char go;

	if (companion_open(&c, o->socket) ||
	    companion_one(&c, PVDMA_OP_HELLO, 0, 0, 0, 0, NULL) != PVDMA_ST_OK)
		return 1;
	if (write(to_parent, t, 1) != 1 || read(from_parent, &go, 1) != 1)
		return 1;
	t[0] = now_ns();
	if (companion_one(&c, PVDMA_OP_NOP, 0, 0, 0, 0, NULL) == PVDMA_ST_OK)
		t[1] = now_ns();
	if (write(to_parent, t, sizeof(t)) != sizeof(t))
		return 1;
	ivs_close(&c.dev);
	return 0;
}

static int run_storm(const struct opts *o)
{
	struct pvdma_request *ops;
	struct pvdma_slot_hdr *last = NULL;
	struct companion c;
	u64 t[2], a_done = 0, one = 1;
	u32 slots, batch, i;
	int up[2], down[2], status;
	char ready;
	pid_t pid;

	if (pipe(up) || pipe(down))
		return 1;
	pid = fork();
	if (pid == 0)
		_exit(storm_child(o, up[1], down[0]));
	if (pid < 0 || read(up[0], &ready, 1) != 1 ||
	    companion_open(&c, o->socket) ||
	    companion_one(&c, PVDMA_OP_HELLO, 0, 0, 0, 0, NULL) != PVDMA_ST_OK) {
		check(false, "storm: two guests set up");
		return 1;
	}
	slots = c.hdr->ring_slots;
	batch = c.hdr->max_batch;
	ops = calloc(batch, sizeof(*ops));
	if (!ops)
		return 1;
	for (i = 0; i < batch; i++)
		ops[i].op = PVDMA_OP_RESET;
	for (i = 0; i < slots; i++)
		last = companion_queue(&c, ops, batch);
	free(ops);
	if (write(c.dev.bell_fd, &one, sizeof(one)) != sizeof(one))
		return 1;
	usleep(2000);	/* A's run has started */
	if (write(down[1], "g", 1) != 1 || read(up[0], t, sizeof(t)) != sizeof(t))
		return 1;
	for (i = 0; i < 60000 &&
	     __atomic_load_n(&last->done_seq, __ATOMIC_ACQUIRE) != last->seq; i++)
		usleep(1000);
	a_done = now_ns();
	printf("storm: B answered in %.1f ms; A's %u x %u RESETs done %.1f ms after B rang\n",
	       (t[1] - t[0]) / 1e6, slots, batch, (a_done - t[0]) / 1e6);
	check(__atomic_load_n(&last->done_seq, __ATOMIC_ACQUIRE) == last->seq &&
	      last->completed == batch, "storm: A's whole ring served");
	check(t[1] != 0, "B's NOP ok");
	check(t[1] && t[1] < a_done, "B answered before A's ring was done");
	check(t[1] && (t[1] - t[0]) * 4 < a_done - t[0],
	      "B waited less than a quarter of A's run");
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status))
		check(false, "storm: B exited cleanly");
	ivs_close(&c.dev);
	return failures ? 1 : 0;
}

/*
 * Work a guest builds up, released by one entry: each of @count guests
 * (connections of one local user) fills its domain with max_mappings
 * one-page MAPs, paid for entry by entry in slices; then a RESET each
 * (one ring entry), and after filling again a hang-up each. pvdmad is
 * stopped while they are posted, so their doorbells and hang-ups land in
 * one epoll batch, as they do whenever the loop is busy. Each release
 * used to walk every mapping: one RESET of 65,536 mappings cost as much
 * as 30,000 MAPs, charged as one entry. The run-attack case checks the
 * longest loop turn.
 */
static bool release_fill(struct companion *c, struct pvdma_request *ops)
{
	u32 batch = c->hdr->max_batch, left = c->hdr->max_mappings, n, i;
	struct pvdma_slot_hdr *slot;

	while (left) {
		n = left < batch ? left : batch;
		slot = companion_post(c, ops, n);
		if (!slot || slot->completed != n)
			return false;
		for (i = 0; i < n; i++)
			if (producer_entry(slot, i)->status != PVDMA_ST_OK)
				return false;
		left -= n;
	}
	return true;
}

/*
 * @o->count guests connected to the companion socket, each greeted with a
 * HELLO if @hello; NULL, the failure checked as "@name: guests connected",
 * if any could not be.
 */
static struct companion *guests_open(const struct opts *o, const char *name,
				     bool hello)
{
	struct companion *c = calloc(o->count, sizeof(*c));
	char what[64];
	bool ok = c;
	int i;

	for (i = 0; i < o->count && ok; i++)
		ok = !companion_open(&c[i], o->socket) &&
		     (!hello || companion_one(&c[i], PVDMA_OP_HELLO, 0, 0, 0, 0,
					      NULL) == PVDMA_ST_OK);
	snprintf(what, sizeof(what), "%s: guests connected", name);
	check(ok, what);
	if (ok)
		return c;
	free(c);
	return NULL;
}

static int run_release(const struct opts *o)
{
	struct pvdma_slot_hdr **slots;
	struct pvdma_request *ops, reset = { .op = PVDMA_OP_RESET };
	struct companion *c;
	bool ok = true;
	u64 t0;
	u32 maps;
	int i, n = o->count;

	slots = calloc(n, sizeof(*slots));
	c = slots ? guests_open(o, "release", true) : NULL;
	if (!c)
		return 1;
	maps = c[0].hdr->max_mappings;
	ops = calloc(c[0].hdr->max_batch, sizeof(*ops));
	if (!ops)
		return 1;
	for (i = 0; i < (int)c[0].hdr->max_batch; i++)
		ops[i] = (struct pvdma_request){ .op = PVDMA_OP_MAP,
			.flags = PVDMA_MAP_READ | PVDMA_MAP_WRITE,
			.gpa = 1ull << 20, .len = PAGE };
	for (i = 0; i < n && ok; i++)
		ok = release_fill(&c[i], ops);
	check(ok, "release: each guest's domain full of one-page mappings");

	t0 = ring_stopped(o, c, n, &reset, 1, false, slots);
	for (i = 0; i < n && ok; i++)
		ok = slot_answered(&c[i], slots[i], 1, IRQ_TIMEOUT_MS) &&
		     producer_entry(slots[i], 0)->status == PVDMA_ST_OK;
	printf("release: %d RESETs of %u mappings each done in %.1f ms\n", n,
	       maps, (now_ns() - t0) / 1e6);
	check(ok, "release: every RESET answered");
	print_longest_turn(o, "release", "before the hang-ups");

	for (i = 0; i < n && ok; i++)
		ok = release_fill(&c[i], ops);
	check(ok, "release: filled again");
	check(stop_idle(o->pid), "pvdmad stopped between turns");
	for (i = 0; i < n; i++)
		ivs_close(&c[i].dev);
	t0 = now_ns();
	kill(o->pid, SIGCONT);
	check(daemon_answers(o, 5000), "release: stats answered after the hang-ups");
	printf("release: %d hang-ups of %u mappings each, stats %.1f ms later\n",
	       n, maps, (now_ns() - t0) / 1e6);
	free(ops);
	free(slots);
	free(c);
	return failures ? 1 : 0;
}

/*
 * Each of @count guests fills its whole ring with @op; pvdmad is stopped
 * while they ring, so their doorbells land in one epoll batch; every entry
 * must be answered @status; the run-attack case (@name) checks the longest
 * loop turn. "ramless": HELLOs pvdmad can't serve, the RAM file not there
 * (QEMU's user owns its directory, so it can take the file away), each
 * HELLO a lookup checking every directory of the path, some twenty system
 * calls, charged as one entry. "resets": RESETs with nothing mapped.
 * "hellos": HELLOs served (the RAM file there), whose size check and log
 * line come once a slot.
 */
static int run_ring_full(const struct opts *o, const char *name, u16 op,
			 u32 status)
{
	struct pvdma_slot_hdr **last;
	struct pvdma_request *ops;
	struct companion *c;
	bool ok = true;
	u32 batch, j, k;
	u64 t0;
	int i, n = o->count;

	last = calloc(n, sizeof(*last));
	c = last ? guests_open(o, name, false) : NULL;
	if (!c)
		return 1;
	batch = c[0].hdr->max_batch;
	ops = calloc(batch, sizeof(*ops));
	if (!ops)
		return 1;
	for (j = 0; j < batch; j++)
		ops[j].op = op;
	t0 = ring_stopped(o, c, n, ops, batch, true, last);
	for (i = 0; i < n && ok; i++) {
		ok = slot_answered(&c[i], last[i], batch, 60000);
		for (k = 0; ok && k < batch; k++)
			ok = producer_entry(last[i], k)->status == status;
	}
	printf("%s: %d rings of %u x %u entries done in %.1f ms\n", name, n,
	       c[0].hdr->ring_slots, batch, (now_ns() - t0) / 1e6);
	check(ok, "every entry answered as expected");
	print_longest_turn(o, name, "before the hang-ups");
	for (i = 0; i < n; i++)
		ivs_close(&c[i].dev);
	free(ops);
	free(last);
	free(c);
	return failures ? 1 : 0;
}

/*
 * Dear MAPs: each of @count guests takes its whole bus space, leaving
 * gaps of DEAR_PAGES pages (one page mapped between each two) at its
 * bottom, every gap starting where a mapping of DEAR_PAGES pages at the
 * gpa it then asks for can't keep its alignment: each such MAP tries
 * every alignment down from the largest its length allows (a descent and
 * a walk of 64 ranges each) before it takes the lowest gap unaligned, the
 * dearest kind of entry the DART model has. Then a
 * full ring of them each, rung at once (pvdmad stopped while they ring):
 * a loop turn serves one epoll batch of doorbells (32) and a round of
 * every busy guest's slices. The run-attack case checks the longest loop
 * turn: a slot that ran whole made that turn 96 x max_batch MAPs.
 */
#define DEAR_PAGES	17u	/* odd: gaps all start on one page parity */
#define DEAR_GPA	(8ull << 20)	/* guest RAM the MAPs name */

/* Post @n entries, wait; false unless each is answered @status. */
static bool dear_post(struct companion *c, struct pvdma_request *ops, u32 n,
		      u32 status, u64 *bus)
{
	struct pvdma_slot_hdr *slot = companion_post(c, ops, n);
	u32 i;

	if (!slot || slot->completed != n)
		return false;
	for (i = 0; i < n; i++) {
		if (producer_entry(slot, i)->status != status)
			return false;
		if (bus)
			bus[i] = producer_entry(slot, i)->bus;
	}
	return true;
}

/*
 * Every page of @c's bus space taken (the allocator fills it from the
 * bottom, each mapping's gpa congruent to where it lands modulo the
 * largest alignment, so it lands there): @gaps placeholders of DEAR_PAGES
 * with a page between each two, then the rest in DEAR_CHUNK mappings;
 * then the placeholders unmapped. Returns the first gap's bus address, 0
 * on failure.
 */
#define DEAR_CHUNK	(32ull << 20)

static u64 dear_fragment(struct companion *c, struct pvdma_request *ops,
			 u64 *bus, u32 gaps)
{
	u64 ps = c->hdr->iommu_page_size, len = DEAR_PAGES * ps, am = 2ull << 20;
	u64 base = c->hdr->bus_base, end = c->hdr->bus_limit, at = base, l;
	u64 zone = base + gaps * (len + ps);
	u32 batch = c->hdr->max_batch, n, k;

	if (zone > end)
		return 0;
	while (at < end) {
		for (n = 0; n < batch && at < end; n++) {
			if (at >= zone)
				l = end - at < DEAR_CHUNK ? end - at : DEAR_CHUNK;
			else
				l = (at - base) % (len + ps) ? ps : len;
			ops[n] = (struct pvdma_request){ .op = PVDMA_OP_MAP,
				.flags = PVDMA_MAP_READ, .len = l,
				.gpa = DEAR_GPA + (at & (am - 1)) };
			at += l;
		}
		if (!dear_post(c, ops, n, PVDMA_ST_OK, bus))
			return 0;
		if (bus[n - 1] != at - ops[n - 1].len)
			return 0;	/* not where the fill put it */
	}
	for (k = 0; k < gaps;) {
		for (n = 0; n < batch && k < gaps; n++, k++)
			ops[n] = (struct pvdma_request){ .op = PVDMA_OP_UNMAP,
				.bus = base + k * (len + ps), .len = len };
		if (!dear_post(c, ops, n, PVDMA_ST_OK, NULL))
			return 0;
	}
	return base;
}

static int run_dear(const struct opts *o)
{
	struct pvdma_slot_hdr **slots;
	struct pvdma_request *ops;
	struct companion *c;
	u64 *bus, first = 0, ps, am = 2ull << 20;
	long long turn;
	bool ok = true;
	u32 batch, j, k;
	u64 t0;
	int i, n = o->count;

	slots = calloc(n, sizeof(*slots));
	c = slots ? guests_open(o, "dear", true) : NULL;
	if (!c)
		return 1;
	batch = c[0].hdr->max_batch;
	ps = c[0].hdr->iommu_page_size;
	ops = calloc(batch, sizeof(*ops));
	bus = calloc(batch, sizeof(*bus));
	if (!ops || !bus)
		return 1;
	for (i = 0; i < n && ok; i++) {
		first = dear_fragment(&c[i], ops, bus,
				      c[i].hdr->ring_slots * batch + 64);
		ok = first;
	}
	check(ok, "dear: each guest's bus space taken, gaps of 17 pages at its bottom");
	/* One page off every gap's start modulo any alignment tried. */
	for (j = 0; j < batch; j++)
		ops[j] = (struct pvdma_request){ .op = PVDMA_OP_MAP,
			.flags = PVDMA_MAP_READ, .len = DEAR_PAGES * ps,
			.gpa = DEAR_GPA + ((first + ps) & (am - 1)) };
	t0 = ring_stopped(o, c, n, ops, batch, true, slots);
	for (i = 0; i < n && ok; i++) {
		ok = slot_answered(&c[i], slots[i], batch, 60000);
		for (j = 0; ok && j < c[i].hdr->ring_slots; j++)
			for (k = 0; ok && k < batch; k++)
				ok = producer_entry(companion_slot(&c[i], j), k)->status ==
				     PVDMA_ST_OK;
	}
	printf("dear: %d rings of %u x %u MAPs in fragmented bus space done in %.1f ms\n",
	       n, c[0].hdr->ring_slots, batch, (now_ns() - t0) / 1e6);
	check(ok, "dear: every MAP answered");
	turn = print_longest_turn(o, "dear", "while the rings ran");
	check(turn >= 0 && turn < 250000,
	      "dear: no loop turn of 250 ms CPU or more while the rings ran");
	for (i = 0; i < n; i++)
		ivs_close(&c[i].dev);
	free(bus);
	free(ops);
	free(slots);
	free(c);
	return failures ? 1 : 0;
}

/*
 * Spread ledgers: each of @count guests takes its whole bus space in
 * mappings of SPREAD_PAGES pages, each starting on a page of its ledger
 * (the records are kept by bus page, about a hundred to a 4 KiB page) no
 * other starts on, so every page of the ledger is written; then (with
 * --pid) each rings a RESET, pvdmad stopped while they ring, and all hang
 * up at once. What pvdmad frees for them is as large as they could make
 * it; the run-attack case checks the longest loop turn after.
 */
#define SPREAD_PAGES	100u

static bool spread_fill(struct companion *c, struct pvdma_request *ops,
			u64 *bus)
{
	u64 ps = c->hdr->iommu_page_size, len = SPREAD_PAGES * ps;
	u64 at = c->hdr->bus_base, end = c->hdr->bus_limit, l;
	u64 am = 2ull << 20;
	u32 batch = c->hdr->max_batch, n;

	while (at < end) {
		for (n = 0; n < batch && at < end; n++) {
			l = end - at < len ? end - at : len;
			ops[n] = (struct pvdma_request){ .op = PVDMA_OP_MAP,
				.flags = PVDMA_MAP_READ, .len = l,
				.gpa = DEAR_GPA + (at & (am - 1)) };
			at += l;
		}
		if (!dear_post(c, ops, n, PVDMA_ST_OK, bus))
			return false;
	}
	return true;
}

static int run_spread(const struct opts *o)
{
	struct pvdma_request *ops;
	struct companion *c;
	bool ok = true;
	u64 *bus, t0;
	int i, n = o->count;

	c = guests_open(o, "spread", true);
	if (!c)
		return 1;
	ops = calloc(c[0].hdr->max_batch, sizeof(*ops));
	bus = calloc(c[0].hdr->max_batch, sizeof(*bus));
	if (!ops || !bus)
		return 1;
	t0 = now_ns();
	for (i = 0; i < n && ok; i++)
		ok = spread_fill(&c[i], ops, bus);
	printf("spread: %d guests' bus spaces taken in mappings of %u pages in %.1f ms\n",
	       n, SPREAD_PAGES, (now_ns() - t0) / 1e6);
	check(ok, "spread: every MAP answered");
	print_longest_turn(o, "spread",
			   o->pid ? "before the RESETs" : "before the hang-ups");
	if (o->pid && ok) {
		/* each a RESET, rung at once: one round releases every ledger */
		struct pvdma_slot_hdr **slots = calloc(n, sizeof(*slots));

		if (!slots)
			return 1;
		ops[0] = (struct pvdma_request){ .op = PVDMA_OP_RESET };
		ring_stopped(o, c, n, ops, 1, false, slots);
		for (i = 0; i < n && ok; i++)
			ok = slot_answered(&c[i], slots[i], 1, 60000) &&
			     producer_entry(slots[i], 0)->status == PVDMA_ST_OK;
		check(ok, "spread: every RESET answered");
		print_longest_turn(o, "spread", "after the RESETs");
		free(slots);
	}
	for (i = 0; i < n; i++)
		ivs_close(&c[i].dev);
	free(bus);
	free(ops);
	free(c);
	return failures ? 1 : 0;
}

/*
 * What a guest's hang-up gives back can be the page tables of pvdmad's
 * mapping of its RAM: each companion maps the RAM file itself, and the
 * DMA model faults in there every page it moves. @o->count guests each
 * map the same RAMTOUCH_LEN of RAM and FILL all of it through their DMA
 * device (a RAM file on tmpfs: RAMTOUCH_LEN of memory in all); then, pvdmad stopped between turns (--pid), all hang up, so
 * their hang-ups land in one epoll batch.
 */
#define RAMTOUCH_GPA	(16ull << 20)
#define RAMTOUCH_LEN	(512ull << 20)
static bool ramtouch_one(const struct opts *o, struct companion *c,
			 struct dma *m)
{
	u64 bus = 0, off, len;

	if (companion_open(c, o->socket) ||
	    dma_open(m, o->dma_socket, (u32)c->dev.id) ||
	    companion_one(c, PVDMA_OP_HELLO, 0, 0, 0, 0, NULL) != PVDMA_ST_OK ||
	    companion_one(c, PVDMA_OP_MAP, PVDMA_MAP_WRITE, RAMTOUCH_GPA,
			  RAMTOUCH_LEN, 0, &bus) != PVDMA_ST_OK)
		return false;
	len = m->hdr->max_len;
	for (off = 0; off < RAMTOUCH_LEN; off += len)
		if (dma_run(m, PVDMA_DEV_FILL, 0, bus + off,
			    PVDMA_MIN(len, RAMTOUCH_LEN - off), 0x5a, NULL) !=
		    PVDMA_DEV_ST_OK)
			return false;
	return true;
}

static int run_ramtouch(const struct opts *o)
{
	struct companion *c = calloc(o->count, sizeof(*c));
	struct dma *m = calloc(o->count, sizeof(*m));
	bool ok = c && m;
	u64 t0 = now_ns();
	int i;

	for (i = 0; i < o->count && ok; i++)
		ok = ramtouch_one(o, &c[i], &m[i]);
	printf("ramtouch: %d guests moved %llu MiB of RAM each in %.1f ms\n",
	       o->count, (unsigned long long)(RAMTOUCH_LEN >> 20),
	       (now_ns() - t0) / 1e6);
	check(ok, "ramtouch: every MAP and CHECKSUM ok");
	if (!ok)
		return 1;	/* what was opened goes at exit */
	print_longest_turn(o, "ramtouch", "before the hang-ups");
	check(stop_idle(o->pid), "pvdmad stopped between turns");
	for (i = 0; i < o->count; i++) {
		ivs_close(&m[i].dev);
		ivs_close(&c[i].dev);
	}
	kill(o->pid, SIGCONT);
	free(c);
	free(m);
	return failures ? 1 : 0;
}

/*
 * The region a companion shares is the guest's to write whole (its BAR):
 * @o->count guests each fill every page of theirs and let go of their
 * own mapping and fd, so pvdmad's close is the pages' last holder; then,
 * pvdmad stopped between turns, all hang up: one epoll batch.
 */
static int run_regionfill(const struct opts *o)
{
	struct companion *c = calloc(o->count, sizeof(*c));
	bool ok = c;
	int i;

	for (i = 0; i < o->count && ok; i++) {
		ok = !companion_open(&c[i], o->socket);
		if (ok)	/* past the header: the host's fields stay */
			memset(c[i].dev.shm + 4096, 0x5a, c[i].dev.shm_size - 4096);
	}
	check(ok, "regionfill: every guest connected, its region filled");
	if (!ok)
		return 1;	/* what was opened goes at exit */
	printf("regionfill: %d guests filled %zu MiB regions\n", o->count,
	       c[0].dev.shm_size >> 20);
	print_longest_turn(o, "regionfill", "before the hang-ups");
	check(stop_idle(o->pid), "pvdmad stopped between turns");
	for (i = 0; i < o->count; i++)
		ivs_close(&c[i].dev);
	kill(o->pid, SIGCONT);
	free(c);
	return failures ? 1 : 0;
}

/* ---- what a restart must recover (run-restart.sh) ---- */

#define WINDOW_QUEUE	16		/* commands cut by the third kill */
#define WINDOW_CMD_LEN	(1ull << 20)	/* pvdmad's DMA slice */
#define WINDOW_GPA	(8ull << 20)	/* the mapped buffers start here */

/*
 * The first number called @key in pvdmad's stats (the daemon's own come
 * before any guest's; a DMA device's after its companion's), or -1.
 */
/*
 * A lease on the guest RAM file: its owner (QEMU's user) takes a read
 * lease, so an open for writing waits for the lease to be given up, up to
 * /proc/sys/fs/lease-break-time (45 s by default); the holder ignores the
 * break signal. pvdmad opens the file at the guest's first HELLO.
 */
static int lease_holder(const char *ram, int to_parent)
{
	int fd = open(ram, O_RDONLY | O_CLOEXEC);
	char ok = fd >= 0 && !fcntl(fd, F_SETLEASE, F_RDLCK);

	signal(SIGIO, SIG_IGN);
	if (write(to_parent, &ok, 1) != 1 || !ok)
		return 1;
	sleep(30);
	return 0;
}

static int run_lease(const struct opts *o)
{
	struct pvdma_slot_hdr *slot;
	struct companion c;
	int p[2], status;
	pid_t child;
	char ok = 0;

	if (pipe(p))
		return 1;
	child = fork();
	if (child == 0)
		_exit(lease_holder(o->ram, p[1]));
	check(child > 0 && read(p[0], &ok, 1) == 1 && ok,
	      "a read lease on the guest RAM file");
	if (!ok || companion_open(&c, o->socket)) {
		check(false, "lease: connect");
		return 1;
	}
	/* HELLO: pvdmad opens the RAM file now */
	{
		struct pvdma_request hello = { .op = PVDMA_OP_HELLO };

		slot = companion_queue(&c, &hello, 1);
	}
	ivs_ring(&c.dev);
	usleep(200000);
	check(daemon_answers(o, 1000),
	      "a HELLO whose RAM file is under a lease: stats within 1 s");
	check(ivs_wait_done(&c.dev, &slot->done_seq, slot->seq, IRQ_TIMEOUT_MS) == IVS_DONE &&
	      producer_entry(slot, 0)->status == PVDMA_ST_IO,
	      "  that HELLO answered io");
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	check(companion_one(&c, PVDMA_OP_HELLO, 0, 0, 0, 0, NULL) == PVDMA_ST_OK,
	      "the lease given up: HELLO ok");
	ivs_close(&c.dev);
	return failures ? 1 : 0;
}

/* A HELLO over a RAM file pvdmad must refuse: io, and still serving. */
static int run_hello_io(const struct opts *o)
{
	struct companion c;

	if (companion_open(&c, o->socket)) {
		check(false, "hello-io: connect");
		return 1;
	}
	check(companion_one(&c, PVDMA_OP_HELLO, 0, 0, 0, 0, NULL) == PVDMA_ST_IO,
	      "HELLO answered io");
	check(companion_one(&c, PVDMA_OP_MAP, PVDMA_MAP_READ, 0, PAGE, 0, NULL) ==
	      PVDMA_ST_NOT_READY, "  and no MAP after it (not ready)");
	check(daemon_answers(o, 1000), "  stats within 1 s");
	ivs_close(&c.dev);
	return failures ? 1 : 0;
}

/*
 * Does pvdmad map guest RAM for this process (run as another user)? Exit
 * 0: served (a page mapped), 3: refused at connect, 4: connected but the
 * HELLO or the MAP refused. Says which.
 */
static int run_ram_gate(const struct opts *o)
{
	struct companion c;
	u32 st;

	if (companion_open(&c, o->socket)) {
		printf("ram-gate: uid %d refused at connect\n", (int)getuid());
		return 3;
	}
	st = companion_one(&c, PVDMA_OP_HELLO, 0, 0, 0, 0, NULL);
	if (st == PVDMA_ST_OK)
		st = companion_one(&c, PVDMA_OP_MAP, PVDMA_MAP_READ | PVDMA_MAP_WRITE,
				   10ull << 20, PAGE, 0, NULL);
	ivs_close(&c.dev);
	printf("ram-gate: uid %d: HELLO and MAP status %u\n", (int)getuid(), st);
	return st == PVDMA_ST_OK ? 0 : 4;
}

static long long window_stat(const char *control, const char *key)
{
	static char buf[1 << 16];
	char pattern[64];
	const char *p;

	if (control_ask(control, "stats json\n", 11, buf, sizeof(buf)) <= 0)
		return -1;
	snprintf(pattern, sizeof(pattern), "\"%s\": ", key);
	p = strstr(buf, pattern);
	return p ? atoll(p + strlen(pattern)) : -1;
}

/* The pvdmad serving now, or 0. */
static pid_t window_pvdmad_pid(const char *control)
{
	long long pid = window_stat(control, "pid");

	return pid > 0 ? (pid_t)pid : 0;
}

/* Spin on a completion without taking the interrupt (the host's run). */
static bool window_spin(const u32 *done_seq, u32 seq)
{
	int i;

	for (i = 0; i < IRQ_TIMEOUT_MS; i++) {
		if (__atomic_load_n(done_seq, __ATOMIC_ACQUIRE) == seq)
			return true;
		usleep(1000);
	}
	return false;
}

static bool window_ring(struct ivs_dev *d)
{
	u64 one = 1;

	return write(d->bell_fd, &one, sizeof(one)) == sizeof(one);
}

/*
 * SIGKILL the pvdmad serving now; its keeper starts the next one. Then
 * wait until that one is more than a second old, so the keeper does not
 * count it as failing fast.
 */
static bool window_next(const struct opts *o, pid_t pid);

static bool window_kill(const struct opts *o)
{
	pid_t pid = window_pvdmad_pid(o->control);

	if (pid <= 0 || kill(pid, SIGKILL))
		return false;
	return window_next(o, pid);
}

/* The pvdmad after @pid (killed) serving, and old enough. */
static bool window_next(const struct opts *o, pid_t pid)
{
	pid_t now = 0;
	int i, probe;

	for (i = 0; i < 10000 && (now <= 0 || now == pid); i += 10) {
		usleep(10000);
		probe = unix_connect_nb(o->control);	/* quietly: none yet */
		if (probe < 0)
			continue;
		close(probe);
		now = window_pvdmad_pid(o->control);
	}
	usleep(1100000);	/* older than the keeper's SUP_FAST_EXIT_MS */
	return now > 0 && now != pid;
}

/*
 * The states pvdmad can be killed in, made by the guest side of the shared
 * memory, each followed by SIGKILL and checked on the pvdmad that takes the
 * devices back: every completion comes with an interrupt and right bytes.
 *  1. Served but not signalled (killed between done_seq and the
 *     interrupt): the guest has taken the interrupt already.
 *  2. Posted but not served (killed after reading the doorbell, before
 *     the ring): the entries are published, the doorbell never rung.
 *  3. A DMA queue longer than a slice, killed once its first command is
 *     done: the rest, one possibly cut in the middle, must still run.
 */
static int run_window(const struct opts *o)
{
	struct pvdma_dev_cmd *q[WINDOW_QUEUE];
	struct pvdma_slot_hdr *slot;
	struct pvdma_dev_cmd *cmd;
	struct companion c;
	struct dma m;
	struct ram r;
	u64 bus[3] = { 0 }, big = 0;
	long long cmds;
	bool ok;
	int i;

	if (!guest_connect(o, &r, &c, &m, "window: connect"))
		return 1;
	check(companion_one(&c, PVDMA_OP_HELLO, 0, 0, 0, 0, NULL) == PVDMA_ST_OK &&
	      companion_one(&c, PVDMA_OP_MAP, PVDMA_MAP_WRITE, WINDOW_GPA, PAGE,
			    0, &bus[0]) == PVDMA_ST_OK,
	      "window: HELLO and a first MAP");

	/*
	 * 1. Served, the interrupt lost with the process. Taking the
	 * interrupt here leaves exactly that: the completion written, no
	 * interrupt pending, and none still to come from the old process.
	 */
	slot = companion_queue(&c, &(struct pvdma_request){
		.op = PVDMA_OP_MAP, .flags = PVDMA_MAP_WRITE,
		.gpa = WINDOW_GPA + PAGE, .len = PAGE }, 1);
	ok = ivs_kick_wait(&c.dev, &slot->done_seq, slot->seq) == IVS_DONE;
	cmd = dma_queue(&m, PVDMA_DEV_FILL, 0, bus[0], PAGE, 0x5a);
	ok = ok && ivs_kick_wait(&m.dev, &cmd->done_seq, cmd->seq) == IVS_DONE;
	check(ok && window_kill(o), "served, interrupts taken, pvdmad killed");
	check(ivs_wait_done(&c.dev, &slot->done_seq, slot->seq, IRQ_TIMEOUT_MS) == IVS_DONE &&
	      producer_entry(slot, 0)->status == PVDMA_ST_OK,
	      "1. companion: the served MAP is signalled by the next pvdmad");
	bus[1] = producer_entry(slot, 0)->bus;
	check(ivs_wait_done(&m.dev, &cmd->done_seq, cmd->seq, IRQ_TIMEOUT_MS) == IVS_DONE &&
	      cmd->status == PVDMA_DEV_ST_OK &&
	      all_bytes(ram_at(&r, WINDOW_GPA), PAGE, 0x5a),
	      "1. DMA device: the served FILL is signalled, bytes right");

	/* 2. Posted, never served. */
	slot = companion_queue(&c, &(struct pvdma_request){
		.op = PVDMA_OP_MAP, .flags = PVDMA_MAP_WRITE,
		.gpa = WINDOW_GPA + 2 * PAGE, .len = PAGE }, 1);
	cmd = dma_queue(&m, PVDMA_DEV_FILL, 0, bus[1], PAGE, 0x6b);
	check(window_kill(o), "posted, doorbells not rung, pvdmad killed");
	check(ivs_wait_done(&c.dev, &slot->done_seq, slot->seq, IRQ_TIMEOUT_MS) == IVS_DONE &&
	      producer_entry(slot, 0)->status == PVDMA_ST_OK,
	      "2. companion: the posted MAP is served and signalled");
	bus[2] = producer_entry(slot, 0)->bus;
	check(ivs_wait_done(&m.dev, &cmd->done_seq, cmd->seq, IRQ_TIMEOUT_MS) == IVS_DONE &&
	      cmd->status == PVDMA_DEV_ST_OK &&
	      all_bytes(ram_at(&r, WINDOW_GPA + PAGE), PAGE, 0x6b),
	      "2. DMA device: the posted FILL is served and signalled, bytes right");

	/* 3. A queue cut after its first command. */
	check(companion_one(&c, PVDMA_OP_MAP, PVDMA_MAP_WRITE, WINDOW_GPA + (1ull << 20),
			    WINDOW_QUEUE * WINDOW_CMD_LEN, 0, &big) == PVDMA_ST_OK,
	      "3. a buffer for the queue mapped");
	cmds = window_stat(o->control, "commands");
	for (i = 0; i < WINDOW_QUEUE; i++)
		q[i] = dma_queue(&m, PVDMA_DEV_FILL, 0, big + i * WINDOW_CMD_LEN,
				 WINDOW_CMD_LEN, 0x10 + i);
	ok = window_ring(&m.dev) && window_spin(&q[0]->done_seq, q[0]->seq);
	check(ok && window_kill(o), "a queue of 16 FILLs rung, pvdmad killed after the first");
	check(ivs_wait_done(&m.dev, &q[WINDOW_QUEUE - 1]->done_seq,
			    q[WINDOW_QUEUE - 1]->seq, IRQ_TIMEOUT_MS) == IVS_DONE,
	      "3. the queue's last FILL is signalled");
	for (ok = true, i = 0; i < WINDOW_QUEUE; i++)
		ok = ok && q[i]->done_seq == q[i]->seq &&
		     q[i]->status == PVDMA_DEV_ST_OK &&
		     all_bytes(ram_at(&r, WINDOW_GPA + (1ull << 20) + i * WINDOW_CMD_LEN),
			       WINDOW_CMD_LEN, 0x10 + i);
	check(ok, "3. every FILL of the queue done, bytes right");
	/* The counters carry over from the last commit: a command run twice
	 * (committed, then run again) would count twice. */
	check(cmds >= 0 && window_stat(o->control, "commands") == cmds + WINDOW_QUEUE,
	      "3. and each counted once across the kill");

	/* An interrupt with nothing new was waited past: normal rounds go on. */
	ok = companion_one(&c, PVDMA_OP_UNMAP, 0, 0, WINDOW_QUEUE * WINDOW_CMD_LEN,
			   big, NULL) == PVDMA_ST_OK;
	for (i = 0; i < 3; i++)
		ok = ok && companion_one(&c, PVDMA_OP_UNMAP, 0, 0, PAGE, bus[i],
					 NULL) == PVDMA_ST_OK;
	check(ok && window_stat(o->control, "mappings_live") == 0,
	      "every mapping unmapped afterwards, none left in pvdmad (a MAP run twice would leave one)");
	ivs_close(&m.dev);
	ivs_close(&c.dev);
	munmap(r.base, r.size);
	return failures ? 1 : 0;
}

#define UNBIND_LEN	(32ull << 20)	/* run-attack unbind: --dma-max-len 32M */
#define UNBIND_GPA	(16ull << 20)

/* A FILL of UNBIND_LEN rung; once its first bytes show, @cut is done. */
static bool unbind_round(struct dma *m, u64 bus, u8 *p, u8 pattern,
			 void (*cut)(void *ctx), void *ctx, const char *what)
{
	struct pvdma_dev_cmd *cmd;
	bool ok;

	memset(p, 0, UNBIND_LEN);
	cmd = dma_queue(m, PVDMA_DEV_FILL, 0, bus, UNBIND_LEN, pattern);
	if (!window_ring(&m->dev))
		return false;
	while (__atomic_load_n(p, __ATOMIC_ACQUIRE) != pattern &&
	       __atomic_load_n(&cmd->done_seq, __ATOMIC_ACQUIRE) != cmd->seq)
		;
	cut(ctx);
	ok = ivs_wait_done(&m->dev, &cmd->done_seq, cmd->seq,
			   IRQ_TIMEOUT_MS) == IVS_DONE;
	printf("unbind: %s: status %u, last byte %#x\n", what,
	       ok ? cmd->status : ~0u, p[UNBIND_LEN - 1]);
	return ok && cmd->status == PVDMA_DEV_ST_NOT_BOUND &&
	       !p[UNBIND_LEN - 1];
}

static void unbind_rebind(void *ctx)
{
	((struct dma *)ctx)->hdr->domain_peer = 0xdead;	/* nobody's */
}

static void unbind_hang_up(void *ctx)
{
	ivs_close(&((struct companion *)ctx)->dev);
}

/*
 * A DMA command moved across slices reads its binding again each slice:
 * its guest rebinds the device to a domain it may not use, or its
 * companion hangs up, once the first bytes moved. The rest is not bound
 * and writes nothing; the domain of the first slice (the companion's
 * IOMMU and RAM mapping, freed at its hang-up) is never used again.
 */
static int run_unbind(const struct opts *o)
{
	struct companion c;
	struct dma m;
	struct ram r;
	u64 bus = 0;
	u8 *p;

	if (!guest_connect(o, &r, &c, &m, "unbind: connect"))
		return 1;
	p = ram_at(&r, UNBIND_GPA);
	check(companion_one(&c, PVDMA_OP_HELLO, 0, 0, 0, 0, NULL) == PVDMA_ST_OK &&
	      companion_one(&c, PVDMA_OP_MAP, PVDMA_MAP_WRITE, UNBIND_GPA,
			    UNBIND_LEN, 0, &bus) == PVDMA_ST_OK,
	      "unbind: HELLO, 32 MiB mapped");
	check(unbind_round(&m, bus, p, 0x5a, unbind_rebind, &m, "rebound"),
	      "unbind: a FILL rebound to nobody's domain after its first slice: not bound, its rest unwritten");
	m.hdr->domain_peer = (u32)c.dev.id;
	check(unbind_round(&m, bus, p, 0x6b, unbind_hang_up, &c, "hung up"),
	      "unbind: a FILL whose companion hung up after its first slice: not bound, its rest unwritten");
	ivs_close(&m.dev);
	munmap(r.base, r.size);
	return failures ? 1 : 0;
}

#define CUT_LEN		(4ull << 20)	/* pvdmad's --dma-max-len */
#define CUT_SHIFT	100		/* dst = src + this: chunks overlap */
#define CUT_GPA		(16ull << 20)	/* the command's buffer */
#define CUT_REF_GPA	(24ull << 20)	/* the same bytes, run without a kill */
#define CUT_TRIES	30

static void cut_pattern(u8 *p, u64 len)
{
	u64 i;

	for (i = 0; i < len; i++)
		p[i] = (u8)(i * 131 + (i >> 9) + (i >> 17));
}

/*
 * pvdmad SIGKILLed in the middle of an overlapping COPY (dst = src + 100,
 * 4 MiB: slices and IOMMU-page chunks): the next pvdmad must end it with
 * the bytes of a run without the kill, made first on a second buffer.
 * Run again from its start (as it was), it read bytes it had written
 * already. The kill comes once the command's first chunk shows, before
 * its answer: tried until one lands so (CUT_TRIES; without ASan a kill
 * comes after the answer as often as not).
 */
static int run_cut_copy(const struct opts *o)
{
	u64 len = CUT_LEN + PAGE, bus = 0, ref = 0;
	struct pvdma_dev_cmd *cmd;
	struct companion c;
	struct dma m;
	struct ram r;
	u8 *a, *b, first;
	int tries, cut = 0, right = 0;
	pid_t pid;

	if (!guest_connect(o, &r, &c, &m, "cut-copy: connect"))
		return 1;
	a = ram_at(&r, CUT_GPA);
	b = ram_at(&r, CUT_REF_GPA);
	check(companion_one(&c, PVDMA_OP_HELLO, 0, 0, 0, 0, NULL) == PVDMA_ST_OK &&
	      companion_one(&c, PVDMA_OP_MAP, PVDMA_MAP_READ | PVDMA_MAP_WRITE,
			    CUT_GPA, len, 0, &bus) == PVDMA_ST_OK &&
	      companion_one(&c, PVDMA_OP_MAP, PVDMA_MAP_READ | PVDMA_MAP_WRITE,
			    CUT_REF_GPA, len, 0, &ref) == PVDMA_ST_OK,
	      "cut-copy: HELLO, both buffers mapped");
	cut_pattern(b, len);
	check(dma_run(&m, PVDMA_DEV_COPY, ref, ref + CUT_SHIFT, CUT_LEN, 0,
		      NULL) == PVDMA_DEV_ST_OK, "cut-copy: the reference run, no kill");
	for (tries = 0; tries < CUT_TRIES && !cut; tries++) {
		cut_pattern(a, len);
		first = a[CUT_SHIFT];
		pid = window_pvdmad_pid(o->control);
		cmd = dma_queue(&m, PVDMA_DEV_COPY, bus, bus + CUT_SHIFT, CUT_LEN, 0);
		if (pid <= 0 || !window_ring(&m.dev))
			break;
		while (__atomic_load_n(&a[CUT_SHIFT], __ATOMIC_ACQUIRE) == first &&
		       __atomic_load_n(&cmd->done_seq, __ATOMIC_ACQUIRE) != cmd->seq)
			;
		kill(pid, SIGKILL);
		cut += __atomic_load_n(&cmd->done_seq, __ATOMIC_ACQUIRE) != cmd->seq;
		if (!window_next(o, pid) ||
		    ivs_wait_done(&m.dev, &cmd->done_seq, cmd->seq,
				  IRQ_TIMEOUT_MS) != IVS_DONE)
			break;
		right += cmd->status == PVDMA_DEV_ST_OK && !memcmp(a, b, len);
	}
	printf("cut-copy: %d kills, %d in the middle of the COPY, %d ended as the reference\n",
	       tries, cut, right);
	check(cut > 0, "cut-copy: a kill landed in the middle of the COPY");
	check(tries > 0 && right == tries,
	      "cut-copy: every COPY cut by a kill ended byte for byte as the one run without");
	ivs_close(&m.dev);
	ivs_close(&c.dev);
	munmap(r.base, r.size);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "dma-socket", required_argument, NULL, 'd' },
		{ "ram", required_argument, NULL, 'r' },
		{ "below-4g", required_argument, NULL, 'b' },
		{ "seconds", required_argument, NULL, 't' },
		{ "control", required_argument, NULL, 'c' },
		{ "pid", required_argument, NULL, 'P' },
		{ "gpa", required_argument, NULL, 'g' },
		{ "count", required_argument, NULL, 'n' },
		{ "dir", required_argument, NULL, 'D' },
		{ "uid", required_argument, NULL, 'u' },
		{ "answer-within", required_argument, NULL, 'A' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .seconds = 3, .uid = -1 };
	const char *mode;
	int opt;

	while ((opt = getopt_long(argc, argv, "s:d:r:b:t:c:P:g:n:D:u:A:", lo, NULL)) != -1) {
		switch (opt) {
		case 's': o.socket = optarg; break;
		case 'd': o.dma_socket = optarg; break;
		case 'r': o.ram = optarg; break;
		case 'b': o.below_4g = size_arg("client", "below-4g", optarg); break;
		case 't': o.seconds = atoi(optarg); break;
		case 'c': o.control = optarg; break;
		case 'P': o.pid = atoi(optarg); break;
		case 'g': o.gpa = size_arg("client", "gpa", optarg); break;
		case 'n': o.count = atoi(optarg); break;
		case 'D': o.dir = optarg; break;
		case 'u': o.uid = atoi(optarg); break;
		case 'A': o.answer_within = atoi(optarg); break;
		default: return 2;
		}
	}
	if (optind < argc && !strcmp(argv[optind], "uaf-control") && o.control && o.pid)
		return run_uaf_control(&o);
	if (optind < argc && !strcmp(argv[optind], "fake-control") && o.control)
		return run_fake_control(&o);
	if (optind >= argc || !o.socket) {
		fprintf(stderr, "usage: client basic|late-ram|loop|hostile|garbage|foreign|idle|flood|control ...\n");
		return 2;
	}
	mode = argv[optind];
	if (!strcmp(mode, "basic") && o.dma_socket && o.ram)
		return run_basic(&o);
	if (!strcmp(mode, "late-ram") && o.dma_socket && o.ram)
		return run_late_ram(&o);
	if (!strcmp(mode, "loop") && o.dma_socket && o.ram)
		return run_loop(&o);
	if (!strcmp(mode, "hostile") && o.dma_socket)
		return run_hostile(&o);
	if (!strcmp(mode, "garbage"))
		return run_garbage(&o);
	if (!strcmp(mode, "foreign") && o.dma_socket)
		return run_foreign(&o);
	if (!strcmp(mode, "reuse-dma") && o.dma_socket && o.dir)
		return run_reuse_dma(&o, false);
	if (!strcmp(mode, "reuse-dma-early") && o.dma_socket && o.dir)
		return run_reuse_dma(&o, true);
	if (!strcmp(mode, "reuse-qemu") && o.dir)
		return run_reuse_qemu(&o);
	if (!strcmp(mode, "kept-map") && o.dma_socket && o.dir && o.gpa)
		return run_kept_map(&o);
	if (!strcmp(mode, "idle") && o.dma_socket)
		return run_idle(&o);
	if (!strcmp(mode, "flood") && o.dma_socket)
		return run_flood(&o);
	if (!strcmp(mode, "control") && o.control)
		return run_control(&o);
	if (!strcmp(mode, "linger") && o.dma_socket && o.control)
		return run_linger(&o);
	if (!strcmp(mode, "linger-emfile") && o.dma_socket && o.control && o.pid)
		return run_linger_emfile(&o);
	if (!strcmp(mode, "linger-oob") && o.dma_socket && o.control && o.pid)
		return run_linger_oob(&o);
	if (!strcmp(mode, "flagrace"))
		return run_flagrace(&o);
	if (!strcmp(mode, "eventfd") && o.control)
		return run_eventfd(&o);
	if (!strcmp(mode, "nobody"))
		return run_nobody(&o);
	if (!strcmp(mode, "sigbus") && o.dma_socket && o.gpa)
		return run_sigbus(&o);
	if (!strcmp(mode, "hidden"))
		return run_hidden(&o);
	if (!strcmp(mode, "hold") && o.count)
		return run_hold(&o);
	if (!strcmp(mode, "churn") && o.count)
		return run_churn(&o);
	if (!strcmp(mode, "fair") && o.dma_socket)
		return run_fair(&o);
	if (!strcmp(mode, "faulty") && o.dma_socket)
		return run_faulty(&o);
	if (!strcmp(mode, "storm"))
		return run_storm(&o);
	if (!strcmp(mode, "ramless") && o.count && o.pid)
		return run_ring_full(&o, "ramless", PVDMA_OP_HELLO, PVDMA_ST_IO);
	if (!strcmp(mode, "resets") && o.count && o.pid)
		return run_ring_full(&o, "resets", PVDMA_OP_RESET, PVDMA_ST_OK);
	if (!strcmp(mode, "hellos") && o.count && o.pid)
		return run_ring_full(&o, "hellos", PVDMA_OP_HELLO, PVDMA_ST_OK);
	if (!strcmp(mode, "release") && o.count && o.pid && o.control)
		return run_release(&o);
	if (!strcmp(mode, "dear") && o.count && o.pid && o.control)
		return run_dear(&o);
	if (!strcmp(mode, "spread") && o.count && o.control)
		return run_spread(&o);
	if (!strcmp(mode, "regionfill") && o.count && o.pid && o.control)
		return run_regionfill(&o);
	if (!strcmp(mode, "ramtouch") && o.dma_socket && o.count && o.pid &&
	    o.control)
		return run_ramtouch(&o);
	if (!strcmp(mode, "cmdline-hold") && o.dir)
		return stallfs_cmdline_hold(o.socket, o.dir, o.seconds,
					    o.count ? o.count : 1, o.uid);
	if (!strcmp(mode, "lookup-hold") && o.dir)
		return stallfs_lookup_hold(o.dir, o.seconds);
	if (!strcmp(mode, "lease") && o.ram && o.control)
		return run_lease(&o);
	if (!strcmp(mode, "ram-gate"))
		return run_ram_gate(&o);
	if (!strcmp(mode, "hello-io") && o.control)
		return run_hello_io(&o);
	if (!strcmp(mode, "unbind") && o.dma_socket && o.ram)
		return run_unbind(&o);
	if (!strcmp(mode, "cut-copy") && o.dma_socket && o.ram && o.control)
		return run_cut_copy(&o);
	if (!strcmp(mode, "window") && o.dma_socket && o.ram && o.control)
		return run_window(&o);
	fprintf(stderr, "client: bad mode or missing options\n");
	return 2;
}
