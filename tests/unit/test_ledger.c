// SPDX-License-Identifier: MIT
/*
 * The restart ledger (host/ledger.c): a slot interrupted at any point is
 * rolled back and runs again with the same outcome as if nothing had
 * happened; the IOMMU domain is re-created from the ledger and checked; a
 * ledger made with other limits is refused.
 *
 * "Killing" pvdmad: a backend wrapper longjmps out of the request path at
 * its N-th call, before or after the real backend acted, and the
 * companion's process state is thrown away (companion_detach) exactly as
 * a SIGKILL would; only the shared region and the ledger memfd remain.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"
#include "host/fdstore.h"

/* ---- a backend that dies at its N-th call ---- */

struct dying_iommu {
	struct pvdma_iommu iommu;
	struct pvdma_iommu *inner;
	int calls;
	int die_at;		/* 0: never */
	bool after;		/* die after the inner backend acted */
	jmp_buf *env;
};

static struct dying_iommu *to_dying(struct pvdma_iommu *iommu)
{
	return container_of(iommu, struct dying_iommu, iommu);
}

static void dying_point(struct dying_iommu *d, bool after)
{
	if (d->die_at && d->calls == d->die_at && d->after == after)
		longjmp(*d->env, 1);
}

static int dying_map(struct pvdma_iommu *iommu, u64 host, u64 len, u32 perm,
		     u64 gpa, u64 *bus)
{
	struct dying_iommu *d = to_dying(iommu);
	int err;

	d->calls++;
	dying_point(d, false);
	err = d->inner->ops->map(d->inner, host, len, perm, gpa, bus);
	dying_point(d, true);
	return err;
}

static int dying_unmap(struct pvdma_iommu *iommu, u64 bus, u64 len)
{
	struct dying_iommu *d = to_dying(iommu);
	int err;

	d->calls++;
	dying_point(d, false);
	err = d->inner->ops->unmap(d->inner, bus, len);
	dying_point(d, true);
	return err;
}

/* The end of a slot's entries: dying here leaves it executed, uncommitted. */
static void dying_flush(struct pvdma_iommu *iommu)
{
	struct dying_iommu *d = to_dying(iommu);

	d->calls++;
	dying_point(d, false);
	d->inner->ops->flush(d->inner);
}

static int dying_translate(struct pvdma_iommu *iommu, u64 bus, u64 len,
			   u32 perm, u64 *host)
{
	return to_dying(iommu)->inner->ops->translate(to_dying(iommu)->inner,
						      bus, len, perm, host);
}

static void dying_stats(struct pvdma_iommu *iommu, struct pvdma_iommu_stats *st)
{
	to_dying(iommu)->inner->ops->stats(to_dying(iommu)->inner, st);
}

static int dying_restore(struct pvdma_iommu *iommu, u64 bus, u64 host,
			 u64 len, u32 perm)
{
	struct dying_iommu *d = to_dying(iommu);

	return d->inner->ops->restore(d->inner, bus, host, len, perm);
}

static void dying_reset(struct pvdma_iommu *iommu)
{
	to_dying(iommu)->inner->ops->reset(to_dying(iommu)->inner);
}

static void dying_destroy(struct pvdma_iommu *iommu)
{
	struct dying_iommu *d = to_dying(iommu);

	pvdma_iommu_destroy(d->inner);
	free(d);
}

static const struct pvdma_iommu_ops dying_ops = {
	.name = "dying", .map = dying_map, .unmap = dying_unmap,
	.flush = dying_flush, .translate = dying_translate,
	.stats = dying_stats, .restore = dying_restore, .reset = dying_reset,
	.destroy = dying_destroy,
};

static struct dying_iommu *dying_create(const struct pvdma_iommu_config *cfg,
					jmp_buf *env)
{
	struct dying_iommu *d = calloc(1, sizeof(*d));

	assert_non_null(d);
	d->inner = pvdma_iommu_dart_create(cfg);
	assert_non_null(d->inner);
	d->iommu.ops = &dying_ops;
	d->iommu.cfg = *cfg;
	d->env = env;
	return d;
}

/* ---- the ledger alone ---- */

#define G_PAGE	H_PAGE

static const struct ledger_geometry small_geo = {
	.kind = LEDGER_COMPANION, .id = 3, .queue = 4, .batch = 8,
	.page_size = G_PAGE, .bus_base = G_PAGE, .records = 64,
};

static int count_rec(void *ctx, const struct ledger_rec *r)
{
	(*(u32 *)ctx)++;
	return 0;
}

static u32 live_records(struct ledger *l)
{
	u32 i, n = 0;

	for (i = 0; i < l->hdr->geo.records; i++)
		n += ledger_rec_live(l, &l->recs[i]);
	return n;
}

static void test_ledger_rollback(void **state)
{
	struct ledger l, again;
	struct ledger_geometry other = small_geo;
	u64 a = G_PAGE, b = 5 * G_PAGE, c = 9 * G_PAGE;

	assert_int_equal(ledger_create(&l, &small_geo), 0);
	ledger_begin(&l);
	assert_true(ledger_mapped(&l, a, 0x10000, G_PAGE, H_RW));
	assert_true(ledger_mapped(&l, b, 0x20000, 2 * G_PAGE, H_RW));
	ledger_commit(&l, &(struct ledger_completion){ .index = 0, .seq = 1 });
	assert_false(ledger_recover(&l));	/* nothing in flight */

	/* slot 2 dies after: unmap a, map c, unmap b */
	ledger_begin(&l);
	assert_true(ledger_unmapped(&l, a));
	assert_true(ledger_mapped(&l, c, 0x30000, G_PAGE, PVDMA_MAP_READ));
	assert_true(ledger_unmapped(&l, b));
	assert_false(ledger_unmapped(&l, b));	/* not live any more */
	assert_false(ledger_mapped(&l, 3, 0, G_PAGE, H_RW));	/* misaligned */
	assert_false(ledger_mapped(&l, 65 * G_PAGE, 0, G_PAGE, H_RW)); /* past */
	assert_int_equal(live_records(&l), 1);
	assert_true(ledger_recover(&l));
	assert_int_equal(live_records(&l), 2);
	assert_true(l.recs[0].live && l.recs[0].host_addr == 0x10000);
	assert_true(l.recs[4].live && l.recs[4].len == 2 * G_PAGE);
	assert_false(l.recs[8].live);
	assert_int_equal(l.hdr->done, 1);
	assert_int_equal(l.hdr->last.seq, 1);

	/* what a restarted pvdmad sees through the fd */
	assert_int_equal(ledger_adopt(&again, dup(l.fd), &small_geo), 0);
	assert_int_equal(live_records(&again), 2);
	ledger_released(&again);
	assert_int_equal(live_records(&l), 0);	/* the same memory */
	/* a release is no system call, whatever was written before it; a
	 * record written after one is released by the next */
	assert_true(ledger_mapped(&again, c, 0x30000, G_PAGE, H_RW));
	assert_int_equal(live_records(&l), 1);
	ledger_released(&again);
	ledger_released(&again);
	assert_int_equal(again.renumbers, 0);
	assert_int_equal(live_records(&l), 0);
	assert_false(ledger_unmapped(&again, c));	/* released: not live */
	/* a release in a slot that dies is rolled back with it */
	ledger_begin(&again);
	assert_true(ledger_mapped(&again, a, 0x10000, G_PAGE, H_RW));
	ledger_commit(&again, &(struct ledger_completion){ .index = 1, .seq = 2 });
	ledger_begin(&again);
	ledger_released(&again);
	assert_true(ledger_mapped(&again, b, 0x20000, G_PAGE, H_RW));
	assert_int_equal(live_records(&l), 1);
	assert_true(ledger_recover(&again));
	assert_int_equal(live_records(&l), 1);
	assert_true(ledger_rec_live(&again, &again.recs[0]));
	/* the generation coming round out of a slot (a device leaving):
	 * renumbered first, then released */
	again.hdr->generation = ~0u;
	assert_true(ledger_mapped(&again, c, 0x30000, G_PAGE, H_RW));
	ledger_released(&again);
	assert_int_equal(again.renumbers, 1);
	assert_int_equal(again.hdr->generation, 2);
	assert_int_equal(live_records(&l), 0);
	ledger_destroy(&again);
	other.batch = 16;
	assert_int_equal(ledger_adopt(&again, dup(l.fd), &other), -ESTALE);
	other = small_geo;
	other.page_size = 4096;
	assert_int_equal(ledger_adopt(&again, dup(l.fd), &other), -ESTALE);
	l.hdr->magic = 0;
	assert_int_equal(ledger_adopt(&again, dup(l.fd), &small_geo), -EPROTO);
	ledger_destroy(&l);
}

/*
 * A slot that releases (RESET, HELLO), then maps over a page whose record
 * was live before it, then dies: the rollback must bring that record back,
 * and what the slot made after its release must not come back to life when
 * a later release reaches the generation the dead slot had reached.
 */
static void test_release_then_map_rolled_back(void **state)
{
	struct ledger l;
	u64 a = G_PAGE, b = 5 * G_PAGE, c = 9 * G_PAGE, d = 13 * G_PAGE;
	u32 i;

	assert_int_equal(ledger_create(&l, &small_geo), 0);
	ledger_begin(&l);
	assert_true(ledger_mapped(&l, a, 0x10000, G_PAGE, H_RW));
	assert_true(ledger_mapped(&l, c, 0x30000, 2 * G_PAGE, H_RW));
	ledger_commit(&l, &(struct ledger_completion){ .index = 0, .seq = 1 });

	/* RESET, MAP d, MAP over a's page, MAP b, TRIM b keeping its tail on
	 * c's page: a full batch of such entries, then the kill */
	ledger_begin(&l);
	ledger_released(&l);
	assert_true(ledger_mapped(&l, d, 0x80000, G_PAGE, H_RW));
	assert_true(ledger_mapped(&l, a, 0x50000, G_PAGE, PVDMA_MAP_READ));
	assert_true(ledger_mapped(&l, b, 0x60000, 5 * G_PAGE, H_RW));
	assert_true(ledger_unmapped(&l, b));
	assert_true(ledger_mapped(&l, c, 0x60000 + 4 * G_PAGE, G_PAGE, H_RW));
	for (i = 0; i < small_geo.batch - 4; i++) {
		ledger_released(&l);
		assert_true(ledger_mapped(&l, a, 0x70000, G_PAGE, H_RW));
	}
	assert_true(l.hdr->undo_count <= small_geo.batch);
	assert_true(ledger_recover(&l));
	assert_int_equal(live_records(&l), 2);
	assert_true(ledger_rec_live(&l, &l.recs[0]));
	assert_int_equal(l.recs[0].host_addr, 0x10000);
	assert_int_equal(l.recs[0].perm, H_RW);
	assert_true(ledger_rec_live(&l, &l.recs[8]));
	assert_int_equal(l.recs[8].len, 2 * G_PAGE);

	/* the slot runs again as a NOP (the guest rewrote it), then a RESET
	 * (the generation the dead slot made d in) and a MAP of c's page
	 * only: nothing the dead slot made is live */
	ledger_begin(&l);
	ledger_commit(&l, &(struct ledger_completion){ .index = 1, .seq = 2 });
	ledger_begin(&l);
	ledger_released(&l);
	assert_int_equal(live_records(&l), 0);
	assert_true(ledger_mapped(&l, c, 0x30000, G_PAGE, H_RW));
	ledger_commit(&l, &(struct ledger_completion){ .index = 2, .seq = 3 });
	assert_int_equal(live_records(&l), 1);
	ledger_destroy(&l);
}

/*
 * The generation near 2^32 (set here: 2^32 releases take too long), a
 * slot whose releases make it come round, killed: the records live before
 * it come back with the rollback, and one of a generation long gone does
 * not come back to life. It was: the wrap inside the slot punched every
 * record, and the rollback brought none back.
 */
static void test_generation_wrap(void **state)
{
	struct ledger l, again;
	u64 a = G_PAGE, b = 5 * G_PAGE, c = 9 * G_PAGE;
	u32 i;

	assert_int_equal(ledger_create(&l, &small_geo), 0);
	ledger_begin(&l);
	assert_true(ledger_mapped(&l, b, 0x20000, G_PAGE, H_RW));
	ledger_commit(&l, &(struct ledger_completion){ .index = 0, .seq = 1 });
	ledger_released(&l);		/* b dead: generation 1 gone */
	/* a slot of RESETs and a MAP a, 6 releases short of 2^32 */
	l.hdr->generation = ~0u - 10;	/* the test hook */
	ledger_begin(&l);
	for (i = 0; i < 4; i++)
		ledger_released(&l);
	assert_true(ledger_mapped(&l, a, 0x10000, G_PAGE, H_RW));
	ledger_commit(&l, &(struct ledger_completion){ .index = 1, .seq = 2 });
	assert_int_equal(l.hdr->generation, ~0u - 6);
	assert_int_equal(live_records(&l), 1);

	/* a full batch: 7 RESETs (the count past 2^32 - 1), a MAP c, then
	 * the kill */
	ledger_begin(&l);
	for (i = 0; i < small_geo.batch - 1; i++)
		ledger_released(&l);
	assert_true(ledger_mapped(&l, c, 0x30000, G_PAGE, H_RW));
	assert_true(ledger_recover(&l));
	assert_int_equal(live_records(&l), 1);
	assert_true(ledger_rec_live(&l, &l.recs[0]));
	assert_int_equal(l.recs[0].host_addr, 0x10000);
	/* generations go on from where the renumbering left them: b, of
	 * generation 1 long ago, stays dead at every one of them */
	assert_int_equal(l.renumbers, 1);
	assert_false(ledger_rec_live(&l, &l.recs[4]));
	ledger_begin(&l);
	ledger_released(&l);
	assert_int_equal(live_records(&l), 0);
	ledger_commit(&l, &(struct ledger_completion){ .index = 2, .seq = 3 });

	/* a renumbering cut by a kill (one record done, one not) is
	 * finished by the next pvdmad before it reads a record */
	ledger_begin(&l);
	assert_true(ledger_mapped(&l, a, 0x10000, G_PAGE, H_RW));
	assert_true(ledger_mapped(&l, c, 0x30000, G_PAGE, H_RW));
	ledger_commit(&l, &(struct ledger_completion){ .index = 3, .seq = 4 });
	l.recs[0].live = ~0u - 2;
	l.recs[8].live = 1;
	l.hdr->generation = ~0u - 2;
	l.hdr->renumbering = 1;
	assert_int_equal(ledger_adopt(&again, dup(l.fd), &small_geo), 0);
	assert_int_equal(again.hdr->generation, 1);
	assert_int_equal(again.hdr->renumbering, 0);
	assert_int_equal(live_records(&again), 2);
	ledger_destroy(&again);
	ledger_destroy(&l);
}

/*
 * A restart walks the ledger it takes back (the rollback, then each live
 * record): only the pages a guest wrote are read, so the walk allocates
 * none of the memfd's holes. 2^20 records of 4 KiB pages (40 MiB), two of
 * them written far apart, one of them by the slot that died.
 */
static void test_walk_reads_written_pages_only(void **state)
{
	struct ledger_geometry big = small_geo;
	struct ledger l;
	struct stat st;
	u64 far;
	u32 n = 0;

	big.records = 1u << 20;
	far = big.bus_base + (u64)(big.records - 1) * big.page_size;
	assert_int_equal(ledger_create(&l, &big), 0);
	ledger_begin(&l);
	assert_true(ledger_mapped(&l, big.bus_base + 7 * G_PAGE, 0x10000,
				  G_PAGE, H_RW));
	ledger_commit(&l, &(struct ledger_completion){ .index = 0, .seq = 1 });
	ledger_begin(&l);
	assert_true(ledger_mapped(&l, far, 0x20000, G_PAGE, H_RW));
	assert_true(ledger_recover(&l));
	assert_false(ledger_rec_live(&l, &l.recs[big.records - 1]));
	assert_int_equal(ledger_for_each(&l, count_rec, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(fstat(l.fd, &st), 0);
	/* header, undo log and the two records' pages: not the 40 MiB */
	assert_true((u64)st.st_blocks * 512 < (1u << 20));
	ledger_destroy(&l);
}

/* ---- a companion killed in the middle of a slot ---- */

#define RESIDENT	3

/**
 * struct run - one scenario: HELLO and RESIDENT maps, then one slot of
 * mixed work that may be interrupted
 */
struct run {
	struct harness h;
	struct ledger ledger;
	jmp_buf env;
	u64 resident[RESIDENT];
};

static const u64 work_gpa[3] = { 0x100000, 0x140000, 0x180000 };

static void run_setup(struct run *r)
{
	struct ledger_geometry geo;
	u32 i;

	assert_int_equal(harness_init(&r->h), 0);
	/* A backend that can die, under the harness's companion. */
	pvdma_iommu_destroy(r->h.c.iommu);
	r->h.c.iommu = &dying_create(&r->h.cfg.iommu, &r->env)->iommu;
	companion_ledger_geometry(&r->h.cfg, r->h.c.id, &geo);
	assert_int_equal(ledger_create(&r->ledger, &geo), 0);
	r->h.c.ledger = &r->ledger;
	assert_int_equal(harness_hello(&r->h), PVDMA_ST_OK);
	for (i = 0; i < RESIDENT; i++)
		assert_int_equal(harness_map(&r->h, i * 2 * H_PAGE, H_PAGE, H_RW,
					     &r->resident[i]), PVDMA_ST_OK);
}

/* The slot under test: unmap resident[0], three maps, unmap resident[1]. */
static void run_work_ops(struct run *r, struct pvdma_request *out)
{
	struct pvdma_request ops[5] = {
		{ .op = PVDMA_OP_UNMAP, .bus = r->resident[0], .len = H_PAGE },
		{ .op = PVDMA_OP_MAP, .flags = H_RW, .gpa = work_gpa[0], .len = H_PAGE },
		{ .op = PVDMA_OP_MAP, .flags = PVDMA_MAP_READ, .gpa = work_gpa[1],
		  .len = 2 * H_PAGE },
		{ .op = PVDMA_OP_UNMAP, .bus = r->resident[1], .len = H_PAGE },
		{ .op = PVDMA_OP_MAP, .flags = H_RW, .gpa = work_gpa[2], .len = H_PAGE },
	};

	memcpy(out, ops, sizeof(ops));
}

/* Posted, not run: a clean slot, as harness_post() writes it. */
static struct pvdma_slot_hdr *run_queue_work(struct run *r)
{
	struct pvdma_shm_header *hdr = harness_hdr(&r->h);
	struct pvdma_slot_hdr *slot = harness_slot(&r->h, hdr->sq_tail);
	struct pvdma_request ops[5];

	run_work_ops(r, ops);
	memset(slot, 0, PVDMA_SLOT_SIZE(r->h.cfg.max_batch));
	producer_write_slot(slot, ops, 5, ++r->h.seq);
	producer_publish(&hdr->sq_tail, hdr->sq_tail + 1);
	return slot;
}

static struct pvdma_slot_hdr *run_post_work(struct run *r, int die_at,
					    bool after, bool *died)
{
	struct dying_iommu *d = to_dying(r->h.c.iommu);
	struct pvdma_request ops[5];

	run_work_ops(r, ops);
	d->calls = 0;
	d->die_at = die_at;
	d->after = after;
	*died = false;
	if (setjmp(r->env)) {
		*died = true;
		return harness_slot(&r->h, harness_hdr(&r->h)->sq_tail - 1);
	}
	return harness_post(&r->h, ops, 5);
}

/* What a restarted pvdmad does: a new companion over the same region. */
static void run_restart(struct run *r)
{
	struct pvdma_iommu *iommu = pvdma_iommu_dart_create(&r->h.cfg.iommu);

	companion_detach(&r->h.c);
	assert_int_equal(companion_init(&r->h.c, r->h.shm, r->h.shm_size,
					&r->h.cfg, iommu, 0, 7), 0);
	assert_int_equal(guest_ram_init_buffer(&r->h.c.ram, r->h.ram, H_RAM_SIZE,
					       GUEST_RAM_Q35, 0), 0);
	assert_int_equal(companion_resume(&r->h.c, &r->ledger), 0);
}

static void run_check_final(struct run *r, struct pvdma_slot_hdr *slot)
{
	struct pvdma_iommu *iommu = r->h.c.iommu;
	struct pvdma_iommu_stats st = { 0 };
	u64 host;
	u32 i;

	assert_int_equal(slot->done_seq, slot->seq);
	assert_int_equal(slot->completed, 5);
	for (i = 0; i < 5; i++)
		assert_int_equal(harness_entry(slot, i)->status, PVDMA_ST_OK);
	/* the maps the guest was told of translate to its memory */
	for (i = 0; i < 3; i++) {
		assert_int_equal(iommu->ops->translate(iommu,
			harness_entry(slot, 1 + i + (i == 2))->bus, 1,
			PVDMA_MAP_READ, &host), 0);
		assert_int_equal(host, work_gpa[i]);
	}
	assert_int_equal(iommu->ops->translate(iommu, r->resident[2], 1, H_RW,
					       &host), 0);
	assert_int_equal(host, 4 * H_PAGE);
	/* nothing else: resident[0] and [1] gone (their bus ranges may be
	 * reused by the maps), no mapping leaked by the interrupted run */
	iommu->ops->stats(iommu, &st);
	assert_int_equal(st.live_mappings, 4);
	assert_int_equal(st.live_bytes, 5 * H_PAGE);
	assert_int_equal(live_records(&r->ledger), 4);
	/* the counters carried over and count each slot once: HELLO, three
	 * maps, the work slot */
	assert_int_equal(r->h.c.stats.slots, 5);
	assert_int_equal(r->h.c.stats.entries, 9);
	assert_int_equal(r->h.c.stats.hellos, 1);
}

static void run_teardown(struct run *r)
{
	harness_fini(&r->h);
	ledger_destroy(&r->ledger);
}

/* Every point of the slot: 5 entries' backend calls and the final flush,
 * each before and after the backend acted. */
static void test_killed_anywhere_in_a_slot(void **state)
{
	struct pvdma_slot_hdr *slot;
	int die_at, after;
	bool died;

	for (die_at = 1; die_at <= 6; die_at++) {
		for (after = 0; after <= (die_at < 6); after++) {
			struct run *r = calloc(1, sizeof(*r));

			assert_non_null(r);
			run_setup(r);
			slot = run_post_work(r, die_at, after, &died);
			assert_true(died);
			assert_int_not_equal(slot->done_seq, slot->seq);
			run_restart(r);
			/* the guest's slot is still pending: it runs again */
			assert_int_equal(companion_process(&r->h.c), 1);
			run_check_final(r, slot);
			/* and the restarted companion goes on serving */
			assert_int_equal(harness_map(&r->h, 0x200000, H_PAGE, H_RW,
						     NULL), PVDMA_ST_OK);
			run_teardown(r);
			free(r);
		}
	}
}

/* Killed after the commit, before the guest saw done_seq: re-published,
 * not run again. */
static void test_killed_after_commit(void **state)
{
	struct run *r = calloc(1, sizeof(*r));
	struct pvdma_slot_hdr *slot;
	u64 bus[5];
	bool died;
	u32 i;

	assert_non_null(r);
	run_setup(r);
	slot = run_post_work(r, 0, false, &died);
	assert_false(died);
	for (i = 0; i < 5; i++)
		bus[i] = harness_entry(slot, i)->bus;
	slot->done_seq = 0;		/* the store that never happened */
	run_restart(r);
	assert_int_equal(slot->done_seq, slot->seq);
	assert_int_equal(companion_process(&r->h.c), 0);
	for (i = 0; i < 5; i++)
		assert_int_equal(harness_entry(slot, i)->bus, bus[i]);
	run_check_final(r, slot);
	run_teardown(r);
	free(r);
}

/*
 * A resume re-creates, checks and judges each record in one walk of the
 * ledger: a ledger written whole is tens of MiB, read once on the loop,
 * not once per question (it was three times).
 */
static void test_resume_reads_the_ledger_once(void **state)
{
	struct run *r = calloc(1, sizeof(*r));
	struct pvdma_slot_hdr *slot;
	u64 one_walk;
	bool died;
	u32 n = 0;

	assert_non_null(r);
	run_setup(r);
	slot = run_post_work(r, 0, false, &died);
	assert_false(died);
	r->ledger.records_read = 0;
	assert_int_equal(ledger_for_each(&r->ledger, count_rec, &n), 0);
	assert_int_equal(n, 4);
	one_walk = r->ledger.records_read;
	assert_true(one_walk >= n);
	r->ledger.records_read = 0;
	run_restart(r);
	assert_int_equal(r->ledger.records_read, one_walk);
	run_check_final(r, slot);
	run_teardown(r);
	free(r);
}

/*
 * pvdmad leaves (a restart) with a slot split across slices, three of its
 * five entries done: nothing of it was answered, so the slot rolls back
 * and runs again whole in the next process, answered once.
 */
static void test_restart_inside_a_split_slot(void **state)
{
	struct run *r = calloc(1, sizeof(*r));
	struct pvdma_shm_header *hdr;
	struct pvdma_slot_hdr *slot;
	bool more;

	assert_non_null(r);
	run_setup(r);
	hdr = harness_hdr(&r->h);
	slot = run_queue_work(r);
	assert_int_equal(companion_process_slice(&r->h.c, 3, &more), 0);
	assert_true(more);
	assert_int_equal(slot->done_seq, 0);
	assert_int_equal(harness_entry(slot, 2)->status, PVDMA_ST_OK);
	assert_int_equal(hdr->sq_head, hdr->sq_tail - 1);
	run_restart(r);
	assert_int_equal(slot->done_seq, 0);
	assert_int_equal(companion_process(&r->h.c), 1);
	run_check_final(r, slot);
	run_teardown(r);
	free(r);
}

/* A ledger that disagrees with what the domain can hold is refused. */
static void test_resume_refuses_bad_ledger(void **state)
{
	struct run *r = calloc(1, sizeof(*r));
	struct pvdma_iommu *iommu;

	assert_non_null(r);
	run_setup(r);
	/* two records over the same bus range: no backend can hold both */
	r->ledger.recs[1] = r->ledger.recs[0];
	r->ledger.recs[1].len = 2 * H_PAGE;
	r->ledger.recs[0].len = 2 * H_PAGE;
	companion_detach(&r->h.c);
	iommu = pvdma_iommu_dart_create(&r->h.cfg.iommu);
	assert_int_equal(companion_init(&r->h.c, r->h.shm, r->h.shm_size,
					&r->h.cfg, iommu, 0, 7), 0);
	assert_int_not_equal(companion_resume(&r->h.c, &r->ledger), 0);
	r->h.c.ram = (struct guest_ram){ 0 };
	run_teardown(r);
	free(r);
}

/*
 * What a MAP would be refused today is refused from the ledger too: an
 * earlier pvdmad with a looser layout or a longer RAM file (or a ledger
 * not written by one) restores no mapping of guest RAM that is hidden
 * now, beyond the file, off its bus page, or in a session not ready;
 * nor more mappings or bytes than the limits allow now.
 */
enum recheck {
	RECHECK_SAME,		/* nothing changed: resumed */
	RECHECK_HIDDEN,		/* the page is hidden now (--tseg added) */
	RECHECK_SHRUNK,		/* the file is shorter than the mapping */
	RECHECK_NOT_READY,	/* mappings in a session with no HELLO */
	RECHECK_MOVED,		/* a record away from its bus page */
	RECHECK_FEWER,		/* more mappings than --max-mappings now */
	RECHECK_SMALLER,	/* more bytes than --aperture now */
	RECHECKS
};

#define RECHECK_GPA	0x30000ull	/* SMBASE: hidden by --tseg */
#define RECHECK_HIGH	(3ull << 20)	/* beyond a 2 MiB file */

static int recheck_restart(struct run *r, enum recheck how)
{
	struct pvdma_iommu_config ic = r->h.cfg.iommu;
	struct pvdma_iommu *iommu;
	u64 size = how == RECHECK_SHRUNK ? H_RAM_SIZE / 2 : H_RAM_SIZE;
	u32 i;

	/* the limits are not part of the ledger's geometry: the backend
	 * refuses what is over them as it refuses a MAP */
	if (how == RECHECK_FEWER)
		ic.max_mappings = 2;
	if (how == RECHECK_SMALLER)
		ic.aperture_bytes = 2 * H_PAGE;
	iommu = pvdma_iommu_dart_create(&ic);

	if (how == RECHECK_NOT_READY)
		r->ledger.hdr->ready = 0;
	if (how == RECHECK_MOVED) {
		for (i = 0; !r->ledger.recs[i].live; i++)
			;
		r->ledger.recs[48] = r->ledger.recs[i];
		r->ledger.recs[i].live = 0;
	}
	companion_detach(&r->h.c);
	assert_int_equal(companion_init(&r->h.c, r->h.shm, r->h.shm_size,
					&r->h.cfg, iommu, 0, 7), 0);
	assert_int_equal(guest_ram_init_buffer(&r->h.c.ram, r->h.ram, size,
					       GUEST_RAM_Q35, 0), 0);
	if (how == RECHECK_HIDDEN)
		assert_int_equal(guest_ram_hide(&r->h.c.ram, GUEST_RAM_SMBASE_START,
						GUEST_RAM_SMBASE_END), 0);
	return companion_resume(&r->h.c, &r->ledger);
}

static void test_resume_rechecks_ram(void **state)
{
	enum recheck how;
	u64 bus;

	for (how = RECHECK_SAME; how < RECHECKS; how++) {
		struct run *r = calloc(1, sizeof(*r));

		assert_non_null(r);
		run_setup(r);
		assert_int_equal(harness_map(&r->h, RECHECK_GPA, H_PAGE, H_RW,
					     &bus), PVDMA_ST_OK);
		assert_int_equal(harness_map(&r->h, RECHECK_HIGH, H_PAGE, H_RW,
					     NULL), PVDMA_ST_OK);
		if (how == RECHECK_SAME) {
			assert_int_equal(recheck_restart(r, how), 0);
			assert_true(r->h.c.ready);
			/* the kept mapping still moves bytes */
			assert_int_equal(harness_dma(&r->h, PVDMA_DEV_FILL, 0,
						     bus, 64, 0x5a)->status,
					 PVDMA_DEV_ST_OK);
			assert_int_equal(r->h.ram[RECHECK_GPA], 0x5a);
		} else if (how >= RECHECK_FEWER) {
			assert_int_not_equal(recheck_restart(r, how), 0);
		} else {
			assert_int_equal(recheck_restart(r, how), -EUCLEAN);
		}
		r->h.c.ram = (struct guest_ram){ 0 };
		run_teardown(r);
		free(r);
	}
}

/*
 * A ledger handed back must be a memfd as ledger_create() makes it: one
 * made to allow sealing and left unsealed (as anyone could put in the
 * store) is refused before a byte of it is read, though its bytes are a
 * good ledger's; the same bytes in a memfd like pvdmad's resume.
 */
static int ledger_copy(const struct ledger *l, unsigned int flags)
{
	int fd = memfd_create("pvdmad-ledger", MFD_CLOEXEC | flags);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)l->size), 0);
	assert_int_equal(pwrite(fd, l->hdr, l->size, 0), (ssize_t)l->size);
	return fd;
}

/* What ledger_forget() hands its release: the ledger's memory and fd. */
static struct {
	void *addr;
	size_t len;
	int fd, calls;
} released;

static void release_record(void *addr, size_t len, int fd)
{
	released.addr = addr;
	released.len = len;
	released.fd = fd;
	released.calls++;
	munmap(addr, len);
	close(fd);
}

/*
 * A departing device's ledger goes to the release whole, once (the
 * daemon's frees it off the loop: tens of MiB a guest wrote across).
 */
static void test_forget_hands_the_memory_over(void **state)
{
	struct ledger_geometry geo = {
		.kind = 1, .id = 3, .batch = 4, .page_size = 4096, .records = 16,
	};
	struct fdstore st = { .sock = -1 };
	struct ledger *l = calloc(1, sizeof(*l));
	void *hdr;
	int fd;

	assert_non_null(l);
	assert_int_equal(ledger_create(l, &geo), 0);
	assert_true(ledger_mapped(l, 0, 4096, 4096, 1));
	hdr = l->hdr;
	fd = l->fd;
	ledger_forget(&st, "companion.3.ledger", l, release_record);
	assert_int_equal(released.calls, 1);
	assert_ptr_equal(released.addr, hdr);
	assert_int_equal(released.fd, fd);
	assert_true(released.len >= 4096 + 16 * sizeof(struct ledger_rec));
	assert_int_equal(fcntl(fd, F_GETFD), -1);	/* closed by it, once */
}

static void test_take_checks_the_memfd(void **state)
{
	struct ledger_geometry geo = {
		.kind = 1, .id = 7, .batch = 4, .page_size = 4096, .records = 16,
	};
	struct fdstore_fd kept = { .name = "companion.7.ledger" };
	struct fdstore st = { .sock = -1, .inherited = &kept, .ninherited = 1 };
	struct ledger l, *out = NULL;

	assert_int_equal(ledger_create(&l, &geo), 0);
	kept.fd = ledger_copy(&l, MFD_ALLOW_SEALING);
	assert_int_equal(ledger_take(&st, kept.name, &geo, &out), -EBADFD);
	assert_null(out);
	kept.fd = ledger_copy(&l, 0);
	assert_int_equal(ledger_take(&st, kept.name, &geo, &out), 0);
	assert_non_null(out);
	ledger_leave(out);
	ledger_destroy(&l);
}

/* ---- a ledger of version 3, as the pvdmad before the stage wrote it ---- */

/* Its header (host/ledger.h at 05cc54c~1); the rest of the page unwritten. */
struct v3_hdr {
	u32 magic;
	u32 version;
	struct ledger_geometry geo;
	u64 done;
	u64 executing;
	struct ledger_completion last;
	u32 ready;
	u32 features;
	u32 undo_count;
	u32 generation;
	u32 begun_generation;
	u32 stats_len;
	u8 stats[1024];
};

#define V3_PAGE		4096u

static u64 v3_undo_bytes(const struct ledger_geometry *geo)
{
	return ((u64)geo->batch * sizeof(struct ledger_rec) + V3_PAGE - 1) &
	       ~(u64)(V3_PAGE - 1);
}

/* Version 3 had no stage: header page, undo log, records. */
static u64 v3_bytes(const struct ledger_geometry *geo)
{
	return V3_PAGE + v3_undo_bytes(geo) +
	       (u64)geo->records * sizeof(struct ledger_rec);
}

struct v3_writer {
	int fd;
	const struct ledger *from;
	u64 recs_at;
};

static int v3_put_rec(void *ctx, const struct ledger_rec *r)
{
	struct v3_writer *w = ctx;
	u64 i = (u64)(r - w->from->recs);

	assert_int_equal(pwrite(w->fd, r, sizeof(*r),
				(off_t)(w->recs_at + i * sizeof(*r))),
			 (ssize_t)sizeof(*r));
	return 0;
}

/*
 * A memfd laid out as version 3, holding what @from (today's) holds: its
 * header's version 3 fields, its undo log and its live records. A DMA
 * device's geometry had no page size then.
 */
static int v3_ledger(const struct ledger *from)
{
	const struct ledger_hdr *h = from->hdr;
	struct v3_hdr v3 = {
		.magic = LEDGER_MAGIC, .version = 3, .geo = h->geo,
		.done = h->done, .executing = h->executing, .last = h->last,
		.ready = h->ready, .features = h->features,
		.undo_count = h->undo_count, .generation = h->generation,
		.begun_generation = h->begun_generation,
		.stats_len = h->stats_len,
	};
	struct v3_writer w = { .from = from };
	u64 undo = (u64)h->geo.batch * sizeof(struct ledger_rec);

	if (v3.geo.kind == LEDGER_DMADEV)
		v3.geo.page_size = 0;
	memcpy(v3.stats, h->stats, sizeof(v3.stats));
	w.fd = memfd_create("pvdmad-ledger", MFD_CLOEXEC);
	assert_true(w.fd >= 0);
	assert_int_equal(ftruncate(w.fd, (off_t)v3_bytes(&v3.geo)), 0);
	assert_int_equal(pwrite(w.fd, &v3, sizeof(v3), 0), (ssize_t)sizeof(v3));
	if (undo)
		assert_int_equal(pwrite(w.fd, from->undo, undo, V3_PAGE),
				 (ssize_t)undo);
	w.recs_at = V3_PAGE + v3_undo_bytes(&v3.geo);
	assert_int_equal(ledger_for_each((struct ledger *)from, v3_put_rec, &w), 0);
	return w.fd;
}

/* ledger_take() of @fd (a dup: @fd stays), as pvdmad takes it at start. */
static int take_fd(int fd, const struct ledger_geometry *geo,
		   struct ledger **out)
{
	struct fdstore_fd kept = { .name = "ledger", .fd = dup(fd) };
	struct fdstore st = { .sock = -1, .inherited = &kept, .ninherited = 1 };

	assert_true(kept.fd >= 0);
	*out = NULL;
	return ledger_take(&st, kept.name, geo, out);
}

static u32 v3_version_of(int fd)
{
	u32 v;

	assert_int_equal(pread(fd, &v, sizeof(v), offsetof(struct v3_hdr, version)),
			 (ssize_t)sizeof(v));
	return v;
}

/*
 * An upgrade across version 4 keeps the guest's devices: a companion's
 * ledger of version 3, cut inside a slot, is carried to version 4 and
 * resumed, its mappings re-created and the slot run again.
 */
static void test_v3_companion_carried(void **state)
{
	struct run *r = calloc(1, sizeof(*r));
	struct ledger_geometry geo;
	struct pvdma_slot_hdr *slot;
	struct ledger *l;
	bool died;
	int fd;

	assert_non_null(r);
	run_setup(r);
	slot = run_post_work(r, 3, true, &died);
	assert_true(died);
	geo = r->ledger.hdr->geo;
	fd = v3_ledger(&r->ledger);
	ledger_destroy(&r->ledger);
	assert_int_equal(take_fd(fd, &geo, &l), 0);
	assert_int_equal(l->carried_from, 3);
	assert_int_equal(l->hdr->version, LEDGER_VERSION);
	assert_int_equal(v3_version_of(fd), LEDGER_VERSION);
	r->ledger = *l;
	free(l);
	run_restart(r);
	assert_int_equal(companion_process(&r->h.c), 1);
	run_check_final(r, slot);
	run_teardown(r);
	close(fd);
	free(r);
}

static const struct ledger_geometry dma_geo = {
	.kind = LEDGER_DMADEV, .id = 9, .queue = 16, .page_size = 1u << 20,
};

/* A DMA device's ledger of version 3 with a command cut: done 3, the 4th
 * executing, counters kept. */
static int v3_dma_ledger(void)
{
	struct ledger l;
	u8 stats[40] = { 7, 7, 7 };
	int fd;

	assert_int_equal(ledger_create(&l, &dma_geo), 0);
	ledger_begin(&l);
	ledger_commit(&l, &(struct ledger_completion){
		.index = 0, .seq = 1, .stats = stats, .stats_len = sizeof(stats) });
	ledger_begin(&l);
	fd = v3_ledger(&l);
	ledger_destroy(&l);
	return fd;
}

static void test_v3_dmadev_carried(void **state)
{
	struct ledger_progress p;
	struct stat st;
	struct ledger *l;
	u8 stats[40], cmd[40];
	int fd = v3_dma_ledger();

	assert_int_equal(take_fd(fd, &dma_geo, &l), 0);
	assert_int_equal(l->carried_from, 3);
	assert_memory_equal(&l->hdr->geo, &dma_geo, sizeof(dma_geo));
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, l->size);
	/* the stage is a hole; nothing of it was kept under version 3 */
	assert_true((u64)st.st_blocks * 512 <= V3_PAGE);
	assert_int_equal(l->hdr->done, 1);
	assert_true(ledger_stats(l, stats, sizeof(stats)));
	assert_int_equal(stats[2], 7);
	/* the command cut runs again from its start, as under version 3 */
	assert_true(ledger_recover(l));
	assert_false(ledger_resume_point(l, cmd, sizeof(cmd), &p));
	ledger_leave(l);
	/* and taken again, it is one of today's */
	assert_int_equal(take_fd(fd, &dma_geo, &l), 0);
	assert_int_equal(l->carried_from, 0);
	ledger_leave(l);
	close(fd);
}

/* A carry cut by a kill after it grew the file, or after it wrote the
 * page size too: the next pvdmad finishes it. */
static void test_v3_carry_cut(void **state)
{
	const u64 ps = dma_geo.page_size;
	struct ledger *l;
	int cut, fd;

	for (cut = 0; cut < 2; cut++) {
		fd = v3_dma_ledger();
		assert_int_equal(ftruncate(fd, (off_t)(V3_PAGE + ps)), 0);
		if (cut)
			assert_int_equal(pwrite(fd, &ps, sizeof(ps),
						offsetof(struct v3_hdr, geo.page_size)),
					 (ssize_t)sizeof(ps));
		assert_int_equal(take_fd(fd, &dma_geo, &l), 0);
		assert_int_equal(l->carried_from, 3);
		assert_int_equal(l->hdr->done, 1);
		ledger_leave(l);
		close(fd);
	}
}

enum v3_corruption {
	V3_TAIL,	/* a byte past version 3's header written */
	V3_UNDO,	/* more undo records than the batch holds */
	V3_GENERATION,	/* generation 0 */
	V3_PAGE_SIZE,	/* a page size without the grown file */
	V3_OLDER,	/* version 2 */
	V3_NEWER,	/* version 5 */
	V3_LIMITS,	/* another queue size */
	V3_CORRUPTIONS
};

/*
 * A version 3 ledger is as untrusted as today's: one that can't be what
 * version 3 wrote is refused, untouched; one of an older or newer version
 * is refused as such.
 */
static void test_v3_corrupt_refused(void **state)
{
	static const int want[V3_CORRUPTIONS] = {
		-EPROTO, -EPROTO, -EPROTO, -ESTALE, -EPROTONOSUPPORT,
		-EPROTONOSUPPORT, -ESTALE,
	};
	const u64 ps = dma_geo.page_size;
	const u32 one = 1, zero = 0, big = 1000;
	const u32 versions[2] = { 2, 5 };
	struct ledger_geometry geo = small_geo;
	struct ledger src, *l;
	int how, fd;

	for (how = 0; how < V3_CORRUPTIONS; how++) {
		assert_int_equal(ledger_create(&src, how == V3_PAGE_SIZE ?
						     &dma_geo : &small_geo), 0);
		fd = v3_ledger(&src);
		geo = *(how == V3_PAGE_SIZE ? &dma_geo : &small_geo);
		ledger_destroy(&src);
		switch (how) {
		case V3_TAIL:
			assert_int_equal(pwrite(fd, &one, 1, V3_PAGE - 1), 1);
			break;
		case V3_UNDO:
			assert_int_equal(pwrite(fd, &big, 4, offsetof(struct v3_hdr, undo_count)), 4);
			break;
		case V3_GENERATION:
			assert_int_equal(pwrite(fd, &zero, 4, offsetof(struct v3_hdr, generation)), 4);
			break;
		case V3_PAGE_SIZE:
			assert_int_equal(pwrite(fd, &ps, 8, offsetof(struct v3_hdr, geo.page_size)), 8);
			break;
		case V3_OLDER:
		case V3_NEWER:
			assert_int_equal(pwrite(fd, &versions[how - V3_OLDER], 4,
						offsetof(struct v3_hdr, version)), 4);
			break;
		default:
			geo.queue++;
			break;
		}
		assert_int_equal(take_fd(fd, &geo, &l), want[how]);
		assert_null(l);
		if (how < V3_OLDER)
			assert_int_equal(v3_version_of(fd), 3);
		close(fd);
	}
}

/*
 * A header no version 4 pvdmad wrote, in a file of the right size: each
 * refused before a record is read (an undo count above the batch would
 * have the rollback copy records from past the undo log).
 */
static void test_adopt_refuses_forged_header(void **state)
{
	struct ledger l, again;

	assert_int_equal(ledger_create(&l, &small_geo), 0);
	l.hdr->version = LEDGER_VERSION + 1;
	assert_int_equal(ledger_adopt(&again, dup(l.fd), &small_geo),
			 -EPROTONOSUPPORT);
	l.hdr->version = LEDGER_VERSION;
	l.hdr->undo_count = small_geo.batch + 1;
	l.hdr->executing = l.hdr->done + 1;
	assert_int_equal(ledger_adopt(&again, dup(l.fd), &small_geo), -EPROTO);
	l.hdr->undo_count = small_geo.batch;
	l.hdr->generation = 0;
	assert_int_equal(ledger_adopt(&again, dup(l.fd), &small_geo), -EPROTO);
	/* the control: the same header as written is taken */
	l.hdr->generation = 1;
	assert_int_equal(ledger_adopt(&again, dup(l.fd), &small_geo), 0);
	ledger_destroy(&again);
	ledger_destroy(&l);
}

/*
 * The file changed by another holder of its fd after adopt checked it: an
 * undo count above the batch, a geometry with more records or a larger
 * stage. Nothing is bounded by the file's copy any more (struct ledger's
 * geo): the rollback restores no record from past the undo log, no record
 * is written past the ones adopt mapped, the stage keeps its size.
 */
static void test_file_changed_after_adopt(void **state)
{
	struct ledger writer, l, dma;
	struct ledger_rec forged = {
		.bus = 2 * G_PAGE, .host_addr = 0, .len = G_PAGE,
		.serial = 77, .perm = 1, .live = 1,
	};
	u32 live = 0;
	u64 len;

	assert_int_equal(ledger_create(&writer, &small_geo), 0);
	assert_int_equal(ledger_adopt(&l, dup(writer.fd), &small_geo), 0);
	/* a slot caught executing, its log's count raised past the log
	 * onto a record placed just after it (same page) */
	writer.undo[small_geo.batch] = forged;
	writer.hdr->executing = writer.hdr->done + 1;
	writer.hdr->undo_count = small_geo.batch + 1;
	assert_true(ledger_recover(&l));
	assert_int_equal(ledger_for_each(&l, count_rec, &live), 0);
	assert_int_equal(live, 0);
	/* a count that would read far past the mapping */
	writer.hdr->executing = writer.hdr->done + 1;
	writer.hdr->undo_count = ~0u;
	assert_true(ledger_recover(&l));

	/* more records than the file has: the page just past them refused */
	writer.hdr->geo.records = ~0u;
	assert_false(ledger_mapped(&l, small_geo.bus_base +
				   (u64)small_geo.records * G_PAGE, 0, G_PAGE, 1));
	assert_true(ledger_mapped(&l, small_geo.bus_base, 0, G_PAGE, 1));
	ledger_destroy(&l);
	ledger_destroy(&writer);

	/* a DMA device's stage: as large as its geometry said at adopt */
	assert_int_equal(ledger_create(&writer, &dma_geo), 0);
	assert_int_equal(ledger_adopt(&dma, dup(writer.fd), &dma_geo), 0);
	writer.hdr->geo.page_size = 1ull << 40;
	assert_non_null(ledger_stage(&dma, &len));
	assert_int_equal(len, dma_geo.page_size);
	ledger_destroy(&dma);
	ledger_destroy(&writer);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ledger_rollback),
		cmocka_unit_test(test_release_then_map_rolled_back),
		cmocka_unit_test(test_generation_wrap),
		cmocka_unit_test(test_walk_reads_written_pages_only),
		cmocka_unit_test(test_killed_anywhere_in_a_slot),
		cmocka_unit_test(test_killed_after_commit),
		cmocka_unit_test(test_resume_reads_the_ledger_once),
		cmocka_unit_test(test_restart_inside_a_split_slot),
		cmocka_unit_test(test_resume_refuses_bad_ledger),
		cmocka_unit_test(test_resume_rechecks_ram),
		cmocka_unit_test(test_take_checks_the_memfd),
		cmocka_unit_test(test_forget_hands_the_memory_over),
		cmocka_unit_test(test_v3_companion_carried),
		cmocka_unit_test(test_v3_dmadev_carried),
		cmocka_unit_test(test_v3_carry_cut),
		cmocka_unit_test(test_v3_corrupt_refused),
		cmocka_unit_test(test_adopt_refuses_forged_header),
		cmocka_unit_test(test_file_changed_after_adopt),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
