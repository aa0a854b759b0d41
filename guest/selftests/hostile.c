// SPDX-License-Identifier: GPL-2.0
/*
 * pvdma_hostile: TEST ONLY. Sends the hostile-guest catalogue of
 * docs/security.md from inside the VM: hand-made slots straight into the
 * companion device's request ring (no planner), impossible sq_tail
 * values, version and feature lies, and DMA device commands on unmapped
 * or read-only bus addresses. Every answer is checked against the status
 * the catalogue promises, and every faulting DMA command against a guard
 * pattern in guest memory. The session ends with HELLO + RESET, so the
 * host holds nothing of ours.
 *
 * It binds the companion device itself (load it without pvdma.ko: nothing
 * test-only is in pvdma.ko) and posts through the ring producer pvdma.ko
 * uses (../ring.c). It binds the DMA device model like pvdma_dmatest (the
 * same dmatest_dev.o), pointing it at its own companion's domain. One line
 * per case:
 *   pvdma-hostile: ok   NAME: detail      or      pvdma-hostile: FAIL ...
 * and the summary last:
 *   pvdma-hostile: cases=N ok=M failed=F
 * That pvdma.ko still works afterwards is checked by the script, which
 * loads it and pvdma_dmatest.ko next.
 */
#include <linux/delay.h>
#include <linux/gfp.h>
#include <linux/io.h>
#include <linux/ioport.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>

#include <pvdma/dmadev.h>
#include <pvdma/proto.h>

#include "dmatest.h"
#include "ring.h"

static unsigned long long ram_below_4g;
module_param(ram_below_4g, ullong, 0444);
MODULE_PARM_DESC(ram_below_4g, "guest RAM below 4 GiB in bytes, as pvdmad sees it (default: the top of System RAM below 4 GiB, rounded up to 1 MiB)");

#define H_GUARD		0x5a
#define H_BUF_PAGES	4	/* IOMMU pages in each test buffer */
#define H_FAR_GPA	BIT_ULL(40)
#define H_4G		BIT_ULL(32)
#define H_TIMEOUT_MS	5000

/**
 * struct h_info - the ring and the limits the host published
 * @page_size:	IOMMU page size
 * @aperture_bytes: the host's aperture
 * @bus_base:	lowest bus address the host hands out
 * @bus_limit:	one past the highest
 * @ring_slots:	slots in the ring
 * @max_batch:	entries per slot
 */
struct h_info {
	u64 page_size;
	u64 aperture_bytes;
	u64 bus_base;
	u64 bus_limit;
	u32 ring_slots;
	u32 max_batch;
};

/**
 * struct h_slot - one hand-made slot
 * @ops:	entries written into the slot; each gets its status, and bus
 *		for MAP
 * @nents:	entries written (at most max_batch)
 * @count:	the slot's count field as posted (may differ from @nents)
 * @flags:	the slot's flags field as posted
 * @status:	out: the slot's status
 * @completed:	out: entries the host executed
 */
struct h_slot {
	struct pvdma_request *ops;
	u32 nents;
	u16 count;
	u16 flags;
	u32 status;
	u32 completed;
};

/**
 * struct h_companion - the companion device, bound by this module
 * @pdev:	its PCI device
 * @regs:	BAR0
 * @shm:	BAR2, write-back mapped
 * @ring:	its request ring
 * @ivposition:	our peer id (the DMA device's domain_peer)
 * @broken:	a slot went unanswered: nothing more is posted
 */
struct h_companion {
	struct pci_dev *pdev;
	void __iomem *regs;
	void *shm;
	struct pvdma_ring ring;
	u32 ivposition;
	bool broken;
};

static struct h_companion *h_comp;
static struct h_info hi;
static unsigned int h_cases, h_ok, h_failed;
static u64 h_low_top;		/* end of RAM below 4 GiB */
static u64 h_buf, h_guard;	/* GPAs of two H_BUF_PAGES-page buffers */
static u8 *h_guard_va;
static struct dmatest_dev *h_dev;

static void h_case(const char *name, bool ok, const char *detail)
{
	h_cases++;
	if (ok)
		h_ok++;
	else
		h_failed++;
	pr_info("pvdma-hostile: %s %s: %s\n", ok ? "ok  " : "FAIL", name,
		detail);
}

static const char *h_st(u32 st)
{
	return pvdma_status_name(st);
}

/* ---- the raw ring ------------------------------------------------------ */

/* Post one slot as it is, wait for the answer; no check on what it says. */
static int h_raw_post(struct h_slot *s)
{
	struct pvdma_ring *r = &h_comp->ring;
	u32 seq;

	if (h_comp->broken)
		return -EIO;
	if (s->nents > r->max_batch)
		return -EINVAL;
	seq = pvdma_ring_fill(r, r->tail, s->ops, s->nents, s->count,
			      s->flags);
	pvdma_ring_publish(r, r->tail + 1);
	if (!pvdma_ring_poll(r, r->tail, seq,
			     ktime_get_ns() + H_TIMEOUT_MS * NSEC_PER_MSEC)) {
		h_comp->broken = true;
		pr_err("pvdma-hostile: the host did not answer a slot\n");
		return -ETIMEDOUT;
	}
	s->status = pvdma_ring_read(r, r->tail, s->ops, s->nents,
				    &s->completed);
	r->tail++;
	return 0;
}

/*
 * Publish sq_tail = tail + @delta and ring; after @wait_ms put it back
 * where the host's sq_head is, as protocol.md §2.4 says a guest recovers.
 * -EPROTO if the host's head moved: it consumed slots never posted.
 */
static int h_raw_bad_tail(u32 delta, unsigned int wait_ms)
{
	struct pvdma_ring *r = &h_comp->ring;

	if (h_comp->broken)
		return -EIO;
	pvdma_ring_publish(r, r->tail + delta);
	msleep(wait_ms);
	pvdma_ring_publish(r, r->tail);
	return pvdma_ring_head(r) == r->tail ? 0 : -EPROTO;
}

/* HELLO + RESET with an honest header: a session with nothing mapped. */
static int h_raw_hello(void)
{
	struct pvdma_request ops[2] = {
		{ .op = PVDMA_OP_HELLO },
		{ .op = PVDMA_OP_RESET },
	};
	struct pvdma_shm_header *hdr = h_comp->ring.hdr;
	struct h_slot s = { .ops = ops, .nents = 2, .count = 2 };
	int ret;

	WRITE_ONCE(hdr->guest_version, pvdma_le32(PVDMA_PROTO_VERSION));
	WRITE_ONCE(hdr->guest_features,
		   pvdma_le32(pvdma_le32(READ_ONCE(hdr->host_features)) &
			      PVDMA_FEAT_KNOWN));
	ret = h_raw_post(&s);
	if (!ret && (ops[0].status != PVDMA_ST_OK ||
		     ops[1].status != PVDMA_ST_OK))
		ret = -EPROTO;
	return ret;
}

static void h_raw_info(struct h_info *info)
{
	struct pvdma_shm_header *hdr = h_comp->ring.hdr;

	info->page_size = pvdma_le64(READ_ONCE(hdr->iommu_page_size));
	info->aperture_bytes = pvdma_le64(READ_ONCE(hdr->aperture_bytes));
	info->bus_base = pvdma_le64(READ_ONCE(hdr->bus_base));
	info->bus_limit = pvdma_le64(READ_ONCE(hdr->bus_limit));
	info->ring_slots = h_comp->ring.nslots;
	info->max_batch = h_comp->ring.max_batch;
}

/* Post one slot; false (and a failed case) if the transport failed. */
static bool h_post(const char *name, struct pvdma_request *ops, u32 nents,
		   u16 count, u16 flags, u32 *slot_status)
{
	struct h_slot s = {
		.ops = ops, .nents = nents, .count = count, .flags = flags,
	};
	char msg[64];
	int ret;

	ret = h_raw_post(&s);
	if (ret) {
		snprintf(msg, sizeof(msg), "raw post failed (%d)", ret);
		h_case(name, false, msg);
		return false;
	}
	if (slot_status)
		*slot_status = s.status;
	return true;
}

/* Post @n entries in one slot and check each status against @want. */
static void h_expect(const char *name, struct pvdma_request *ops, u32 n,
		     const u32 *want)
{
	char msg[160];
	int len = 0;
	bool ok = true;
	u32 i, st;

	if (!h_post(name, ops, n, n, 0, &st))
		return;
	for (i = 0; i < n; i++) {
		ok &= ops[i].status == want[i];
		len += scnprintf(msg + len, sizeof(msg) - len, "%s%s", i ? ", " : "",
				 h_st(ops[i].status));
		if (ops[i].status != want[i])
			len += scnprintf(msg + len, sizeof(msg) - len,
					 " (want %s)", h_st(want[i]));
	}
	h_case(name, ok, msg);
}

/* A single request; returns its status (PVDMA_ST_COUNT if not posted). */
static u32 h_one(const char *name, u16 op, u16 flags, u64 gpa, u64 len,
		 u64 bus, u64 *bus_out)
{
	struct pvdma_request o = {
		.op = op, .flags = flags, .gpa = gpa, .len = len, .bus = bus,
	};

	if (!h_post(name, &o, 1, 1, 0, NULL))
		return PVDMA_ST_COUNT;
	if (bus_out)
		*bus_out = o.bus;
	return o.status;
}

static void h_expect1(const char *name, u16 op, u16 flags, u64 gpa, u64 len,
		      u64 bus, u32 want)
{
	struct pvdma_request o = {
		.op = op, .flags = flags, .gpa = gpa, .len = len, .bus = bus,
	};

	h_expect(name, &o, 1, &want);
}

#define RW	(PVDMA_MAP_READ | PVDMA_MAP_WRITE)

/* ---- companion requests ------------------------------------------------ */

static void h_map_fields(void)
{
	u64 pg = hi.page_size;
	struct pvdma_request wrap[2] = {
		{ .op = PVDMA_OP_MAP, .flags = RW, .gpa = 1ull << 63,
		  .len = 1ull << 63 },
		{ .op = PVDMA_OP_MAP, .flags = RW, .gpa = h_buf, .len = 0 - pg },
	};
	static const u32 wrap_want[2] = { PVDMA_ST_INVALID, PVDMA_ST_INVALID };
	struct pvdma_request flg[4] = {
		{ .op = PVDMA_OP_MAP, .flags = 0, .gpa = h_buf, .len = pg },
		{ .op = PVDMA_OP_MAP, .flags = RW | 4, .gpa = h_buf, .len = pg },
		{ .op = PVDMA_OP_NOP, .flags = 1 },
		{ .op = PVDMA_OP_UNMAP, .flags = RW, .bus = hi.bus_base,
		  .len = pg },
	};
	static const u32 flg_want[4] = { PVDMA_ST_BAD_OP, PVDMA_ST_BAD_OP,
					 PVDMA_ST_BAD_OP, PVDMA_ST_BAD_OP };

	h_expect1("map-beyond-ram", PVDMA_OP_MAP, RW, H_FAR_GPA, pg, 0,
		  PVDMA_ST_BAD_GPA);
	h_expect1("map-straddling-top-of-low-ram", PVDMA_OP_MAP, RW,
		  h_low_top - pg, 2 * pg, 0, PVDMA_ST_BAD_GPA);
	h_expect1("map-spanning-pci-hole", PVDMA_OP_MAP, RW, h_low_top - pg,
		  H_4G - h_low_top + 2 * pg, 0, PVDMA_ST_BAD_GPA);
	h_expect1("map-inside-pci-hole", PVDMA_OP_MAP, RW,
		  max_t(u64, h_low_top, 0xe0000000ull), pg, 0,
		  PVDMA_ST_BAD_GPA);
	h_expect("map-gpa-plus-len-wraps", wrap, 2, wrap_want);
	h_expect1("map-zero-len", PVDMA_OP_MAP, RW, h_buf, 0, 0,
		  PVDMA_ST_INVALID);
	h_expect1("map-len-not-page-multiple", PVDMA_OP_MAP, RW, h_buf,
		  pg + PAGE_SIZE, 0, PVDMA_ST_INVALID);
	h_expect1("map-misaligned-gpa", PVDMA_OP_MAP, RW, h_buf + PAGE_SIZE,
		  pg, 0, PVDMA_ST_INVALID);
	h_expect1("unknown-op", 0x77, 0, h_buf, pg, 0, PVDMA_ST_BAD_OP);
	h_expect("unknown-or-misplaced-flags", flg, 4, flg_want);
}

static void h_unmaps(void)
{
	u64 pg = hi.page_size, bus = 0;
	struct pvdma_request two[2];
	static const u32 two_want[2] = { PVDMA_ST_OK, PVDMA_ST_NOT_MAPPED };

	h_expect1("unmap-never-mapped", PVDMA_OP_UNMAP, 0, 0,
		  pg, hi.bus_limit - pg, PVDMA_ST_NOT_MAPPED);

	if (h_one("double-unmap", PVDMA_OP_MAP, RW, h_buf, pg, 0, &bus) !=
	    PVDMA_ST_OK) {
		h_case("double-unmap", false, "set-up MAP refused");
	} else {
		two[0] = (struct pvdma_request){ .op = PVDMA_OP_UNMAP,
						 .bus = bus, .len = pg };
		two[1] = two[0];
		h_expect("double-unmap-in-one-slot", two, 2, two_want);
		h_expect1("double-unmap-in-another-slot", PVDMA_OP_UNMAP, 0, 0,
			  pg, bus, PVDMA_ST_NOT_MAPPED);
	}

	if (h_one("short-unmap", PVDMA_OP_MAP, RW, h_buf, 2 * pg, 0, &bus) !=
	    PVDMA_ST_OK) {
		h_case("short-unmap", false, "set-up MAP refused");
		return;
	}
	h_expect1("short-unmap", PVDMA_OP_UNMAP, 0, 0, pg, bus,
		  PVDMA_ST_PARTIAL);
	h_expect1("whole-unmap-after-short", PVDMA_OP_UNMAP, 0, 0, 2 * pg,
		  bus, PVDMA_ST_OK);
}

static void h_slot_case(const char *name, u32 nents, u16 count, u16 flags)
{
	struct pvdma_request o = {
		.op = PVDMA_OP_MAP, .flags = RW, .gpa = h_buf,
		.len = hi.page_size,
	};
	struct h_slot s = {
		.ops = &o, .nents = nents, .count = count, .flags = flags,
	};
	char msg[96];
	int ret;

	ret = h_raw_post(&s);
	if (ret) {
		snprintf(msg, sizeof(msg), "raw post failed (%d)", ret);
		h_case(name, false, msg);
		return;
	}
	snprintf(msg, sizeof(msg), "slot %s, completed %u (want bad-slot, 0)",
		 h_st(s.status), s.completed);
	h_case(name, s.status == PVDMA_ST_BAD_SLOT && s.completed == 0, msg);
}

static void h_slots(void)
{
	struct pvdma_request mix[5] = {
		{ .op = PVDMA_OP_MAP, .flags = RW, .gpa = h_buf,
		  .len = hi.page_size },
		{ .op = PVDMA_OP_MAP, .flags = RW, .gpa = H_FAR_GPA,
		  .len = hi.page_size },
		{ .op = PVDMA_OP_UNMAP, .bus = hi.bus_limit - hi.page_size,
		  .len = hi.page_size },
		{ .op = PVDMA_OP_NOP },
		{ .op = 9 },
	};
	static const u32 mix_want[5] = { PVDMA_ST_OK, PVDMA_ST_BAD_GPA,
					 PVDMA_ST_NOT_MAPPED, PVDMA_ST_OK,
					 PVDMA_ST_BAD_OP };

	h_slot_case("slot-count-0", 1, 0, 0);
	h_slot_case("slot-count-above-max-batch", 1,
		    min_t(u32, hi.max_batch + 1, U16_MAX), 0);
	h_slot_case("slot-count-0xffff", 1, U16_MAX, 0);
	h_slot_case("slot-flags-nonzero", 1, 1, 1);
	h_expect("mixed-slot-each-its-own-status", mix, 5, mix_want);
	if (mix[0].status == PVDMA_ST_OK)
		h_expect1("mixed-slot-good-map-unmaps", PVDMA_OP_UNMAP, 0, 0,
			  hi.page_size, mix[0].bus, PVDMA_ST_OK);
}

static void h_aperture(void)
{
	u64 len = hi.aperture_bytes + hi.page_size;
	u64 gpa = SZ_1M;

	if (gpa + len > h_low_top) {
		pr_info("pvdma-hostile: skip map-over-aperture: the aperture (%llu MiB) is larger than low RAM\n",
			hi.aperture_bytes >> 20);
		return;
	}
	h_expect1("map-over-aperture", PVDMA_OP_MAP, RW, gpa, len, 0,
		  PVDMA_ST_NO_APERTURE);
}

static void h_hello(u32 version, u32 features)
{
	struct pvdma_shm_header *hdr = h_comp->ring.hdr;

	WRITE_ONCE(hdr->guest_version, pvdma_le32(version));
	WRITE_ONCE(hdr->guest_features, pvdma_le32(features));
}

static void h_session(void)
{
	u32 good = PVDMA_PROTO_VERSION, feats = PVDMA_FEAT_KNOWN;
	u64 pg = hi.page_size, bus = 0;

	h_hello((PVDMA_PROTO_VERSION_MAJOR + 1) << 16, feats);
	h_expect1("hello-unknown-major", PVDMA_OP_HELLO, 0, 0, 0, 0,
		  PVDMA_ST_BAD_VERSION);
	h_expect1("map-after-refused-hello", PVDMA_OP_MAP, RW, h_buf, pg, 0,
		  PVDMA_ST_NOT_READY);
	h_expect1("unmap-after-refused-hello", PVDMA_OP_UNMAP, 0, 0, pg,
		  hi.bus_base, PVDMA_ST_NOT_READY);
	h_hello(good, 0x80000000u);
	h_expect1("hello-unknown-feature", PVDMA_OP_HELLO, 0, 0, 0, 0,
		  PVDMA_ST_BAD_VERSION);
	h_expect1("map-after-feature-lie", PVDMA_OP_MAP, RW, h_buf, pg, 0,
		  PVDMA_ST_NOT_READY);
	h_hello(good | 1, feats);
	h_expect1("hello-newer-minor", PVDMA_OP_HELLO, 0, 0, 0, 0,
		  PVDMA_ST_OK);
	h_hello(good, feats);
	h_expect1("good-hello-after-bad-ones", PVDMA_OP_HELLO, 0, 0, 0, 0,
		  PVDMA_ST_OK);

	/* RESET keeps the session ready (protocol.md 2.4): no NOT_READY. */
	if (h_one("reset", PVDMA_OP_MAP, RW, h_buf, pg, 0, &bus) !=
	    PVDMA_ST_OK) {
		h_case("reset", false, "set-up MAP refused");
		return;
	}
	h_expect1("reset", PVDMA_OP_RESET, 0, 0, 0, 0, PVDMA_ST_OK);
	h_expect1("unmap-of-address-released-by-reset", PVDMA_OP_UNMAP, 0, 0,
		  pg, bus, PVDMA_ST_NOT_MAPPED);
	if (h_one("map-after-reset", PVDMA_OP_MAP, RW, h_buf, pg, 0, &bus) !=
	    PVDMA_ST_OK) {
		h_case("map-after-reset-without-hello", false,
		       "MAP refused (the session must stay ready)");
		return;
	}
	h_expect1("map-after-reset-without-hello", PVDMA_OP_UNMAP, 0, 0, pg,
		  bus, PVDMA_ST_OK);
}

static void h_tail(const char *name, u32 delta)
{
	char msg[96];
	u32 st;
	int ret;

	ret = h_raw_bad_tail(delta, 200);
	if (ret) {
		snprintf(msg, sizeof(msg), "the host consumed slots it had to ignore (%d)",
			 ret);
		h_case(name, false, msg);
		return;
	}
	st = h_one(name, PVDMA_OP_NOP, 0, 0, 0, 0, NULL);
	snprintf(msg, sizeof(msg), "ignored; after resync a NOP is %s (want ok)",
		 h_st(st));
	h_case(name, st == PVDMA_ST_OK, msg);
}

/* ---- DMA device commands ---------------------------------------------- */

static bool h_guard_intact(void)
{
	size_t i, len = H_BUF_PAGES * hi.page_size;

	for (i = 0; i < len; i++)
		if (h_guard_va[i] != H_GUARD)
			return false;
	return true;
}

/* Run one device command and expect FAULT with the guard untouched. */
static void h_dma_fault(const char *name, u16 op, u64 src, u64 dst, u64 len,
			u64 want_fault)
{
	struct dmatest_cmd c = {
		.op = op, .src = src, .dst = dst, .len = len, .pattern = 0xc3,
	};
	char msg[128];
	bool intact;
	int ret;

	ret = dmatest_dev_run(h_dev, &c, 1);
	intact = h_guard_intact();
	snprintf(msg, sizeof(msg), "status %u fault_bus %#llx (want %u at %#llx), guard %s",
		 ret ? 99 : c.status, c.fault_bus, PVDMA_DEV_ST_FAULT,
		 want_fault, intact ? "intact" : "CHANGED");
	h_case(name, !ret && c.status == PVDMA_DEV_ST_FAULT &&
	       c.fault_bus == want_fault && intact, msg);
}

static void h_dma(void)
{
	u64 pg = hi.page_size, g = 0, r = 0, never = hi.bus_limit - pg;
	struct dmatest_cmd c;
	char msg[128];
	u64 want;

	if (!h_dev) {
		h_case("dma-device", false, "no DMA device model bound");
		return;
	}
	memset(h_guard_va, H_GUARD, H_BUF_PAGES * pg);
	h_dma_fault("dma-fill-never-mapped", PVDMA_DEV_FILL, 0, never,
		    PAGE_SIZE, never);
	if (h_one("dma-guard-map", PVDMA_OP_MAP, RW, h_guard, 2 * pg, 0, &g) !=
	    PVDMA_ST_OK) {
		h_case("dma-guard-map", false, "MAP refused");
		return;
	}
	h_dma_fault("dma-fill-past-end-of-mapping", PVDMA_DEV_FILL, 0, g,
		    3 * pg, g + 2 * pg);
	h_dma_fault("dma-copy-from-never-mapped", PVDMA_DEV_COPY, never, g,
		    PAGE_SIZE, never);
	h_expect1("dma-guard-unmap", PVDMA_OP_UNMAP, 0, 0, 2 * pg, g,
		  PVDMA_ST_OK);
	h_dma_fault("dma-fill-after-unmap", PVDMA_DEV_FILL, 0, g, PAGE_SIZE,
		    g);

	if (h_one("dma-read-only-map", PVDMA_OP_MAP, PVDMA_MAP_READ, h_guard,
		  pg, 0, &r) != PVDMA_ST_OK) {
		h_case("dma-read-only-map", false, "MAP refused");
		return;
	}
	h_dma_fault("dma-fill-into-read-only-mapping", PVDMA_DEV_FILL, 0, r,
		    pg, r);
	h_dma_fault("dma-copy-into-read-only-mapping", PVDMA_DEV_COPY, r, r,
		    PAGE_SIZE, r);
	c = (struct dmatest_cmd){ .op = PVDMA_DEV_CHECKSUM, .src = r,
				  .len = pg };
	want = pvdma_checksum(PVDMA_CHECKSUM_SEED, h_guard_va, pg);
	if (dmatest_dev_run(h_dev, &c, 1))
		c.status = 99;
	snprintf(msg, sizeof(msg), "status %u, checksum %s", c.status,
		 c.result == want ? "right" : "WRONG");
	h_case("dma-read-of-read-only-mapping-works",
	       c.status == PVDMA_DEV_ST_OK && c.result == want, msg);
	h_expect1("dma-read-only-unmap", PVDMA_OP_UNMAP, 0, 0, pg, r,
		  PVDMA_ST_OK);

	if (h_one("dma-after-reset", PVDMA_OP_MAP, RW, h_guard, pg, 0, &g) !=
	    PVDMA_ST_OK ||
	    h_one("dma-after-reset", PVDMA_OP_RESET, 0, 0, 0, 0, NULL) !=
	    PVDMA_ST_OK) {
		h_case("dma-after-reset", false, "MAP or RESET refused");
		return;
	}
	h_dma_fault("dma-fill-after-reset", PVDMA_DEV_FILL, 0, g, PAGE_SIZE,
		    g);
}

/* ---- set-up ------------------------------------------------------------- */

static int h_ram_top(struct resource *res, void *arg)
{
	u64 *top = arg;
	u64 end = (u64)res->end + 1;

	if (res->start < H_4G && end <= H_4G && end > *top)
		*top = end;
	return 0;
}

static void h_run(void)
{
	struct page *pages;
	unsigned int order;
	int ret;

	if (!h_comp) {
		pr_err("pvdma-hostile: no companion device bound (is pvdmad serving the VM, and pvdma.ko not loaded?)\n");
		h_case("raw-session", false, "no companion device");
		return;
	}
	ret = h_raw_hello();
	if (ret) {
		h_case("raw-session", false, "HELLO + RESET refused");
		return;
	}
	h_raw_info(&hi);
	h_low_top = ram_below_4g;
	if (!h_low_top) {
		walk_iomem_res_desc(IORES_DESC_NONE,
				    IORESOURCE_SYSTEM_RAM | IORESOURCE_BUSY, 0,
				    H_4G - 1, &h_low_top, h_ram_top);
		h_low_top = ALIGN(h_low_top, SZ_1M);
	}
	order = get_order(2 * H_BUF_PAGES * hi.page_size);
	pages = alloc_pages(GFP_KERNEL | __GFP_ZERO, order);
	if (!pages) {
		h_case("buffers", false, "no memory");
		h_raw_hello();
		return;
	}
	h_buf = page_to_phys(pages);
	h_guard = h_buf + H_BUF_PAGES * hi.page_size;
	h_guard_va = page_address(pages) + H_BUF_PAGES * hi.page_size;
	pr_info("pvdma-hostile: IOMMU page %llu KiB, aperture %llu MiB, bus %#llx-%#llx, %u slots of %u, RAM below 4G ends at %#llx, buffers at %#llx\n",
		hi.page_size >> 10, hi.aperture_bytes >> 20, hi.bus_base,
		hi.bus_limit, hi.ring_slots, hi.max_batch, h_low_top, h_buf);

	h_map_fields();
	h_unmaps();
	h_slots();
	h_aperture();
	h_session();
	h_tail("sq-tail-too-far-ahead", hi.ring_slots + 1);
	h_tail("sq-tail-behind-head", (u32)-1);
	h_dma();

	ret = h_raw_hello();
	h_case("raw-session-closed-with-hello-and-reset", !ret,
	       ret ? "refused" : "ok");
	__free_pages(pages, order);
}

/* ---- the companion device ---------------------------------------------- */

static int h_comp_domain_peer(struct device *dev)
{
	return h_comp ? h_comp->ivposition : -ENODEV;
}

static int h_comp_check(struct h_companion *c, resource_size_t len)
{
	struct pvdma_shm_header *hdr = c->shm;
	u32 version;
	int ret;

	if (len < sizeof(*hdr) ||
	    pvdma_le32(READ_ONCE(hdr->magic)) != PVDMA_MAGIC)
		return -ENODEV;
	ret = pvdma_ring_wait_ready(hdr, H_TIMEOUT_MS);
	if (ret)
		return ret;
	version = pvdma_le32(READ_ONCE(hdr->version));
	if (version >> 16 != PVDMA_PROTO_VERSION_MAJOR)
		return -EPROTO;
	return pvdma_ring_init(&c->ring, c->shm, len, c->regs);
}

static int h_comp_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	resource_size_t start, len;
	struct h_companion *c;
	int ret;

	if (h_comp)
		return -EBUSY;
	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	start = pci_resource_start(pdev, 2);
	len = pci_resource_len(pdev, 2);
	c = devm_kzalloc(&pdev->dev, sizeof(*c), GFP_KERNEL);
	if (!c)
		return -ENOMEM;
	c->regs = pcim_iomap(pdev, 0, 0);
	if (!c->regs)
		return -ENOMEM;
	c->shm = devm_memremap(&pdev->dev, start, len, MEMREMAP_WB);
	if (IS_ERR(c->shm))
		return PTR_ERR(c->shm);
	ret = h_comp_check(c, len);
	if (ret)
		return ret;
	c->pdev = pdev;
	c->ivposition = ioread32(c->regs + PVDMA_IVSHMEM_REG_IVPOSITION);
	pci_set_master(pdev);
	pci_set_drvdata(pdev, c);
	h_comp = c;
	return 0;
}

static void h_comp_remove(struct pci_dev *pdev)
{
	if (h_comp == pci_get_drvdata(pdev))
		h_comp = NULL;
	pci_clear_master(pdev);
}

static const struct pci_device_id h_comp_ids[] = {
	{ PCI_DEVICE(0x1af4, 0x1110) },
	{ }
};

static struct pci_driver h_comp_driver = {
	.name		= "pvdma_hostile_companion",
	.id_table	= h_comp_ids,
	.probe		= h_comp_probe,
	.remove		= h_comp_remove,
};

static int __init hostile_init(void)
{
	int ret;

	ret = pci_register_driver(&h_comp_driver);
	if (ret)
		return ret;
	ret = dmatest_dev_register(h_comp_domain_peer);
	if (ret) {
		pci_unregister_driver(&h_comp_driver);
		return ret;
	}
	h_dev = dmatest_dev_get();
	if (!h_dev)
		pr_warn("pvdma-hostile: no DMA device model bound (is pvdma_dmatest loaded?)\n");
	h_run();
	pr_info("pvdma-hostile: cases=%u ok=%u failed=%u\n", h_cases, h_ok,
		h_failed);
	return 0;
}

static void __exit hostile_exit(void)
{
	dmatest_dev_unregister();
	pci_unregister_driver(&h_comp_driver);
}

module_init(hostile_init);
module_exit(hostile_exit);

MODULE_DESCRIPTION("pvdma TEST ONLY: hostile requests from inside the guest");
MODULE_AUTHOR("pvdma authors");
MODULE_LICENSE("GPL");
