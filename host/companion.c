// SPDX-License-Identifier: MIT
/*
 * The companion device's request path: ring validation, one snapshot per
 * slot, per-entry checks and execution against the IOMMU backend.
 *
 * A bad sq_tail (behind sq_head or more than ring_slots ahead) is counted,
 * logged (rate-limited) and ignored: nothing is consumed, sq_head is
 * republished, and the guest recovers by writing sq_tail = sq_head.
 */
#include <stdlib.h>

#include <pvdma/dmadev.h>

#include "companion.h"
#include "log.h"
#include "ring_consumer.h"
#include "shm_access.h"

static struct pvdma_shm_header *companion_hdr(struct pvdma_companion *c)
{
	return c->shm;
}

int companion_config_check(const struct companion_config *cfg)
{
	if (!PVDMA_IS_POW2(cfg->ring_slots) || cfg->ring_slots > COMPANION_MAX_SLOTS)
		return -EINVAL;
	if (!cfg->max_batch || cfg->max_batch > COMPANION_MAX_BATCH)
		return -EINVAL;
	if (!PVDMA_IS_POW2(cfg->iommu.page_size) || !cfg->iommu.max_mappings)
		return -EINVAL;
	return 0;
}

u64 companion_shm_size(const struct companion_config *cfg)
{
	u64 need = COMPANION_RING_OFFSET +
		   (u64)cfg->ring_slots * PVDMA_SLOT_SIZE(cfg->max_batch);
	u64 size = pvdma_pow2_floor(need);

	return size < need ? size << 1 : size;
}

/* What this host offers: partial unmaps only if the backend has them. */
static u32 companion_features(const struct pvdma_companion *c)
{
	u32 f = PVDMA_FEAT_KNOWN;

	if (!c->iommu->ops->trim)
		f &= ~(u32)PVDMA_FEAT_TRIM;
	return f;
}

static void companion_fill_header(struct pvdma_companion *c)
{
	struct pvdma_shm_header *h = companion_hdr(c);
	const struct pvdma_iommu_config *ic = &c->iommu->cfg;

	h->magic = pvdma_le32(PVDMA_MAGIC);
	h->version = pvdma_le32(PVDMA_PROTO_VERSION);
	h->host_features = pvdma_le32(companion_features(c));
	h->host_peer_id = pvdma_le32(c->host_peer_id);
	h->ring_offset = pvdma_le32(COMPANION_RING_OFFSET);
	h->ring_slots = pvdma_le32(c->ring_slots);
	h->slot_size = pvdma_le32(c->slot_size);
	h->max_batch = pvdma_le32(c->max_batch);
	h->iommu_page_size = pvdma_le64(ic->page_size);
	h->aperture_bytes = pvdma_le64(ic->aperture_bytes);
	h->max_mappings = pvdma_le32(ic->max_mappings);
	h->bus_base = pvdma_le64(ic->bus_base);
	h->bus_limit = pvdma_le64(ic->bus_limit);
	h->sq_head = 0;
	/* READY last: a guest polling host_state sees a complete header. */
	shm_store_release32(&h->host_state, PVDMA_HOST_READY);
}

/*
 * The two DMA domains a companion offers its guest's DMA devices
 * (dma_domain.h): both reach the same RAM and counters, and differ only in
 * how a bus address becomes an offset in the RAM file.
 */
static struct pvdma_companion *companion_of_iommu(struct dma_domain *dom)
{
	return container_of(dom, struct pvdma_companion, dma_iommu);
}

static struct pvdma_companion *companion_of_identity(struct dma_domain *dom)
{
	return container_of(dom, struct pvdma_companion, dma_identity);
}

static void companion_dma_count(struct pvdma_companion *c, u32 status,
				u64 bytes)
{
	switch (status) {
	case PVDMA_DEV_ST_OK:
		c->stats.dma_cmds++;
		c->stats.dma_bytes += bytes;
		break;
	case PVDMA_DEV_ST_FAULT:
		c->stats.dma_faults++;
		break;
	case PVDMA_DEV_ST_IO:
		c->stats.dma_io_errors++;
		break;
	}
}

static int companion_iommu_translate(struct dma_domain *dom, u64 bus, u64 len,
				     u32 perm, u64 *offset)
{
	struct pvdma_iommu *iommu = companion_of_iommu(dom)->iommu;

	return iommu->ops->translate(iommu, bus, len, perm, offset);
}

static void *companion_iommu_ram(struct dma_domain *dom, u64 offset, u64 len)
{
	return guest_ram_ptr(&companion_of_iommu(dom)->ram, offset, len);
}

static void companion_iommu_count(struct dma_domain *dom, u32 status, u64 bytes)
{
	companion_dma_count(companion_of_iommu(dom), status, bytes);
}

static int companion_identity_translate(struct dma_domain *dom, u64 bus,
					u64 len, u32 perm, u64 *offset)
{
	return guest_ram_gpa_to_offset(&companion_of_identity(dom)->ram, bus,
				       len, offset);
}

static void *companion_identity_ram(struct dma_domain *dom, u64 offset,
				    u64 len)
{
	return guest_ram_ptr(&companion_of_identity(dom)->ram, offset, len);
}

static void companion_identity_count(struct dma_domain *dom, u32 status,
				     u64 bytes)
{
	companion_dma_count(companion_of_identity(dom), status, bytes);
}

static const struct dma_domain_ops companion_iommu_domain_ops = {
	.translate = companion_iommu_translate,
	.ram = companion_iommu_ram,
	.count = companion_iommu_count,
};

static const struct dma_domain_ops companion_identity_domain_ops = {
	.translate = companion_identity_translate,
	.ram = companion_identity_ram,
	.count = companion_identity_count,
};

struct dma_domain *companion_dma_domain(struct pvdma_companion *c,
					bool identity)
{
	struct dma_domain *dom = identity ? &c->dma_identity : &c->dma_iommu;

	if (!c->iommu || (identity && !guest_ram_is_open(&c->ram)))
		return NULL;
	/* Identity moves bytes in the same pieces, so both modes compare. */
	dom->page_size = c->iommu->cfg.page_size;
	return dom;
}

int companion_init(struct pvdma_companion *c, void *shm, u64 shm_size,
		   const struct companion_config *cfg, struct pvdma_iommu *iommu,
		   u32 host_peer_id, u32 id)
{
	*c = (struct pvdma_companion){ 0 };
	c->iommu = iommu;
	if (!iommu || companion_config_check(cfg) ||
	    shm_size < companion_shm_size(cfg))
		return -EINVAL;
	c->snap = calloc(cfg->max_batch, sizeof(*c->snap));
	if (!c->snap)
		return -ENOMEM;
	c->id = id;
	c->host_peer_id = host_peer_id;
	c->shm = shm;
	c->shm_size = shm_size;
	c->ring_slots = cfg->ring_slots;
	c->max_batch = cfg->max_batch;
	c->slot_size = PVDMA_SLOT_SIZE(cfg->max_batch);
	c->ram_cfg = cfg->ram.path ? &cfg->ram : NULL;
	c->dma_iommu.ops = &companion_iommu_domain_ops;
	c->dma_identity.ops = &companion_identity_domain_ops;
	companion_fill_header(c);
	return 0;
}

void companion_release_mappings(struct pvdma_companion *c)
{
	struct pvdma_iommu_stats st = { 0 };

	c->iommu->ops->stats(c->iommu, &st);
	c->stats.released += st.live_mappings;
	c->iommu->ops->reset(c->iommu);
	if (c->ledger)
		ledger_released(c->ledger);
}

void companion_detach(struct pvdma_companion *c)
{
	c->ledger = NULL;
	pvdma_iommu_destroy(c->iommu);
	c->iommu = NULL;
	c->shm = NULL;
	guest_ram_close(&c->ram);
	free(c->snap);
	c->snap = NULL;
	c->cur.open = false;
	c->ready = false;
}

void companion_destroy(struct pvdma_companion *c)
{
	if (c->iommu) {
		companion_release_mappings(c);
		pvdma_iommu_destroy(c->iommu);
		c->iommu = NULL;
	}
	if (c->shm)
		shm_store_release32(&companion_hdr(c)->host_state, PVDMA_HOST_DOWN);
	guest_ram_close(&c->ram);
	free(c->snap);
	c->snap = NULL;
	c->cur.open = false;
	c->ready = false;
}

/* The layout the session runs on, so a bad-gpa can be explained. */
static void companion_log_hello(struct pvdma_companion *c, u32 version,
				u32 features)
{
	char layout[512];

	guest_ram_describe(&c->ram, layout, sizeof(layout));
	pvdmad_log_ratelimited(PVDMAD_LOG_INFO,
		"companion %u: HELLO, guest protocol %u.%u features %#x; guest RAM %llu MiB: %s",
		c->id, version >> 16, version & 0xffff, features,
		(unsigned long long)(c->ram.size >> 20), layout);
}

/* HELLO: a fresh session. Old mappings go whatever the outcome. */
/* Map the guest's RAM, if the gate (who may use the file) lets us. */
static int companion_ram_open(struct pvdma_companion *c)
{
	return guest_ram_open_gated(&c->ram, c->ram_cfg, c->ram_gate,
				    c->ram_gate_ctx);
}

static u32 companion_hello(struct pvdma_companion *c)
{
	struct pvdma_shm_header *h = companion_hdr(c);
	u32 version = shm_read32(&h->guest_version);
	u32 features = shm_read32(&h->guest_features);
	bool first_in_slot;
	int err;

	companion_release_mappings(c);
	c->ready = false;
	if (c->ledger)
		ledger_set_session(c->ledger, false, 0);
	if (version >> 16 != PVDMA_PROTO_VERSION_MAJOR ||
	    features & ~companion_features(c))
		return PVDMA_ST_BAD_VERSION;
	/*
	 * A RAM file cut short on the host would SIGBUS the DMA model: no new
	 * session over it (the old mappings are gone already). The check is
	 * a system call and the HELLO's log line a print of the layout: once
	 * a slot, so a ring of HELLOs costs what a ring of RESETs does.
	 */
	first_in_slot = c->hello_checked_in != c->stats.slots + 1;
	if (first_in_slot) {
		c->hello_checked_in = c->stats.slots + 1;
		c->hello_ram_err = guest_ram_check(&c->ram);
		c->ram_checks++;
	}
	err = c->hello_ram_err;
	if (err) {
		if (first_in_slot)
			pvdmad_log_ratelimited(PVDMAD_LOG_WARN,
				"companion %u: guest RAM %s shrank under pvdmad: %s",
				c->id, c->ram_cfg ? c->ram_cfg->path : "",
				strerror(-err));
		return PVDMA_ST_IO;
	}
	if (!guest_ram_is_open(&c->ram)) {
		if (!c->ram_cfg)
			return PVDMA_ST_IO;
		/* A refused open is a path walk of some twenty system calls:
		 * once a slot, charged (companion_work()), not once a HELLO. */
		if (c->ram_refused_in == c->stats.slots + 1)
			return PVDMA_ST_IO;
		c->ram_opens++;
		err = companion_ram_open(c);
		if (err) {
			c->ram_refused_in = c->stats.slots + 1;
			pvdmad_log_ratelimited(PVDMAD_LOG_WARN,
				"companion %u: guest RAM %s: %s", c->id,
				c->ram_cfg->path, guest_ram_strerror(&c->ram, err));
			return PVDMA_ST_IO;
		}
	}
	if (first_in_slot)
		companion_log_hello(c, version, features);
	c->ready = true;
	c->features = features;
	c->stats.hellos++;
	if (c->ledger)
		ledger_set_session(c->ledger, true, features);
	return PVDMA_ST_OK;
}

static u32 companion_map(struct pvdma_companion *c, struct pvdma_request *op)
{
	u64 offset;
	int err;

	if (guest_ram_gpa_to_offset(&c->ram, op->gpa, op->len, &offset))
		return PVDMA_ST_BAD_GPA;
	err = c->iommu->ops->map(c->iommu, offset, op->len, op->flags, op->gpa,
				 &op->bus);
	if (err) {
		/* -EFAULT from a backend is its own failure, not a bad GPA. */
		return err == -EFAULT ? PVDMA_ST_IO : pvdma_status_from_errno(err);
	}
	if (c->ledger && !ledger_mapped(c->ledger, op->bus, offset, op->len,
					op->flags)) {
		/* Unrecorded, it would not survive a restart: undo it. */
		c->iommu->ops->unmap(c->iommu, op->bus, op->len);
		return PVDMA_ST_IO;
	}
	return PVDMA_ST_OK;
}

static u32 companion_unmap(struct pvdma_companion *c,
			   const struct pvdma_request *op)
{
	int err = c->iommu->ops->unmap(c->iommu, op->bus, op->len);

	if (!err && c->ledger)
		ledger_unmapped(c->ledger, op->bus);
	return err == -EFAULT ? PVDMA_ST_IO : pvdma_status_from_errno(err);
}

/*
 * A partial unmap (PVDMA_OP_TRIM): what stays of the mapping is recorded
 * anew, so that a restarted daemon re-creates the pieces, not the whole.
 */
static u32 companion_trim(struct pvdma_companion *c,
			  const struct pvdma_request *op)
{
	u64 end = op->bus + op->len, old_end;
	struct pvdma_iommu_range old;
	bool kept = true;
	int err;

	if (!c->iommu->ops->trim)
		return PVDMA_ST_BAD_OP;
	err = c->iommu->ops->trim(c->iommu, op->bus, op->len, &old);
	if (err)
		return err == -EFAULT ? PVDMA_ST_IO : pvdma_status_from_errno(err);
	if (!c->ledger)
		return PVDMA_ST_OK;
	old_end = old.bus + old.len;
	ledger_unmapped(c->ledger, old.bus);
	if (op->bus > old.bus)
		kept &= ledger_mapped(c->ledger, old.bus, old.host_addr,
				      op->bus - old.bus, old.perm);
	if (end < old_end)
		kept &= ledger_mapped(c->ledger, end,
				      old.host_addr + (end - old.bus),
				      old_end - end, old.perm);
	/* the pages are gone either way; what the ledger lost is the news */
	return kept ? PVDMA_ST_OK : PVDMA_ST_IO;
}

/* Execute one decoded entry; fills op->bus for a MAP. */
static u32 companion_exec(struct pvdma_companion *c, struct pvdma_request *op)
{
	u32 st = pvdma_op_check(op, c->iommu->cfg.page_size);

	if (st != PVDMA_ST_OK)
		return st;
	switch (op->op) {
	case PVDMA_OP_NOP:
		return PVDMA_ST_OK;
	case PVDMA_OP_HELLO:
		return companion_hello(c);
	case PVDMA_OP_RESET:
		companion_release_mappings(c);
		c->stats.resets++;
		return PVDMA_ST_OK;
	case PVDMA_OP_MAP:
		return c->ready ? companion_map(c, op) : PVDMA_ST_NOT_READY;
	case PVDMA_OP_UNMAP:
		return c->ready ? companion_unmap(c, op) : PVDMA_ST_NOT_READY;
	case PVDMA_OP_TRIM:
		return c->ready ? companion_trim(c, op) : PVDMA_ST_NOT_READY;
	default:
		return PVDMA_ST_BAD_OP;
	}
}

static void companion_count(struct pvdma_companion *c, u32 status)
{
	if (status != PVDMA_ST_OK && status < PVDMA_ST_COUNT)
		c->stats.rejected[status]++;
}

/* -l debug: every refused entry, with what the guest asked. */
static void companion_debug_refusal(const struct pvdma_companion *c,
				    const struct pvdma_request *op)
{
	if (op->status == PVDMA_ST_OK || pvdmad_log_get_level() < PVDMAD_LOG_DEBUG)
		return;
	pvdmad_log_ratelimited(PVDMAD_LOG_DEBUG,
		"companion %u: op %u flags %#x gpa %#llx len %#llx bus %#llx: %s",
		c->id, op->op, op->flags, (unsigned long long)op->gpa,
		(unsigned long long)op->len, (unsigned long long)op->bus,
		pvdma_status_name(op->status));
}

static struct pvdma_slot_hdr *companion_slot(struct pvdma_companion *c,
					     u32 index)
{
	return (struct pvdma_slot_hdr *)((u8 *)c->shm + COMPANION_RING_OFFSET +
					 (u64)index * c->slot_size);
}

/*
 * Take the slot at @index: its header is read once and checked, and its
 * entries snapshotted, here; the slices that run it on use these copies
 * only, whatever the guest writes to the slot meanwhile.
 */
static void companion_slot_begin(struct pvdma_companion *c, u32 index)
{
	struct pvdma_slot_hdr *slot = companion_slot(c, index);
	struct pvdma_slot_hdr snap;
	u32 count;

	if (c->ledger)
		ledger_begin(c->ledger);
	shm_snapshot(&snap, slot, sizeof(snap));
	count = pvdma_le16(snap.count);
	c->cur = (struct companion_cur){
		.open = true, .index = index, .seq = pvdma_le32(snap.seq),
		.status = PVDMA_ST_OK,
	};
	if (!c->cur.seq || !count || count > c->max_batch || snap.flags) {
		c->cur.status = PVDMA_ST_BAD_SLOT;
		companion_count(c, c->cur.status);
		return;
	}
	c->cur.count = count;
	shm_snapshot(c->snap, slot + 1, count * sizeof(*c->snap));
}

/*
 * Run the slot's entries on until all are done (true) or @spent says the
 * slice's budget is, with entries left (false): one entry at least.
 */
static bool companion_slot_run(struct pvdma_companion *c,
			       bool (*spent)(const void *ctx), const void *ctx)
{
	struct pvdma_entry *out = (struct pvdma_entry *)
				  (companion_slot(c, c->cur.index) + 1);
	struct pvdma_request op;
	u32 i;

	while (c->cur.next < c->cur.count) {
		i = c->cur.next++;
		pvdma_entry_decode(&op, &c->snap[i]);
		op.bus = op.op == PVDMA_OP_MAP ? 0 : op.bus;
		op.status = companion_exec(c, &op);
		companion_count(c, op.status);
		companion_debug_refusal(c, &op);
		if (op.op == PVDMA_OP_MAP)
			shm_write64(&out[i].bus, op.bus);
		shm_write32(&out[i].status, op.status);
		c->stats.entries++;
		if (c->cur.next < c->cur.count && spent(ctx))
			return false;
	}
	return true;
}

/* The slot's every entry done: its completion, written once. */
static void companion_slot_finish(struct pvdma_companion *c)
{
	struct pvdma_slot_hdr *slot = companion_slot(c, c->cur.index);

	/* Unmapped ranges must be gone from the IOTLB before the guest sees
	 * its UNMAPs complete and reuses the memory. */
	c->iommu->ops->flush(c->iommu);
	shm_write32(&slot->status, c->cur.status);
	shm_write32(&slot->completed, c->cur.next);
	c->stats.slots++;
	c->cur.open = false;
	/* Committed before the guest can see it: never run twice. */
	if (c->ledger)
		ledger_commit(c->ledger, &(struct ledger_completion){
			.index = c->cur.index, .seq = c->cur.seq,
			.status = c->cur.status, .completed = c->cur.next,
			.stats = &c->stats, .stats_len = sizeof(c->stats) });
	shm_store_release32(&slot->done_seq, c->cur.seq);
}

_Static_assert(sizeof(struct companion_stats) <= LEDGER_STATS_MAX,
	       "the ledger keeps a companion's counters");

void companion_ledger_geometry(const struct companion_config *cfg, u32 id,
			       struct ledger_geometry *geo)
{
	const struct pvdma_iommu_config *ic = &cfg->iommu;

	*geo = (struct ledger_geometry){
		.kind = LEDGER_COMPANION, .id = id, .queue = cfg->ring_slots,
		.batch = cfg->max_batch, .page_size = ic->page_size,
		.bus_base = ic->bus_base,
		.records = (u32)((ic->bus_limit - ic->bus_base) / ic->page_size),
	};
}

/**
 * struct companion_rebuild - re-creating a domain from the ledger
 * @c:		the companion
 * @mappings:	records seen
 * @bytes:	their length
 * @disagrees:	a record the domain translates otherwise
 */
struct companion_rebuild {
	struct pvdma_companion *c;
	u64 mappings;
	u64 bytes;
	bool disagrees;
};

static int companion_restore_rec(void *ctx, const struct ledger_rec *r)
{
	struct companion_rebuild *rb = ctx;
	struct pvdma_iommu *iommu = rb->c->iommu;
	int err;

	err = iommu->ops->restore(iommu, r->bus, r->host_addr, r->len, r->perm);
	if (err)
		pvdmad_log(PVDMAD_LOG_ERR,
			"companion %u: mapping bus %#llx len %#llx can't be re-created: %s",
			rb->c->id, (unsigned long long)r->bus,
			(unsigned long long)r->len, strerror(-err));
	return err;
}

/* The backend translates both ends of each mapping to the ledger's host
 * address, with the ledger's permissions. */
static int companion_check_rec(void *ctx, const struct ledger_rec *r)
{
	struct companion_rebuild *rb = ctx;
	struct pvdma_iommu *iommu = rb->c->iommu;
	u64 first, last;

	rb->mappings++;
	rb->bytes += r->len;
	if (iommu->ops->translate(iommu, r->bus, 1, r->perm, &first) ||
	    iommu->ops->translate(iommu, r->bus + r->len - 1, 1, r->perm, &last) ||
	    first != r->host_addr || last != r->host_addr + r->len - 1)
		return -EUCLEAN;
	return 0;
}

/*
 * A mapping an earlier pvdmad recorded must be one a MAP would get now:
 * that pvdmad may have had a looser layout (no --tseg, another split), a
 * longer RAM file, or another ledger writer; and a session that is not
 * ready holds none (its HELLO released them). Judged as MAP judges it.
 */
static int companion_recheck_rec(void *ctx, const struct ledger_rec *r)
{
	struct companion_rebuild *rb = ctx;
	struct pvdma_companion *c = rb->c;
	const char *why = NULL;
	u64 gpa;

	if (!c->ready)
		why = "no session to hold it";
	else if (!ledger_rec_in_place(c->ledger, r))
		why = "recorded off its bus page";
	else if (guest_ram_offset_to_gpa(&c->ram, r->host_addr, r->len, &gpa))
		why = "not guest RAM a MAP may get now (outside the file or its layout, or hidden from DMA)";
	if (!why)
		return 0;
	pvdmad_log(PVDMAD_LOG_ERR,
		"companion %u: ledger mapping bus %#llx len %#llx at file offset %#llx refused: %s",
		c->id, (unsigned long long)r->bus, (unsigned long long)r->len,
		(unsigned long long)r->host_addr, why);
	return -EUCLEAN;
}

/*
 * One record, all that a resume asks of it: re-created, its translation
 * checked, then judged as a MAP now. One walk of the ledger, not one per
 * question: a ledger written whole is tens of MiB read on the loop.
 */
static int companion_resume_rec(void *ctx, const struct ledger_rec *r)
{
	struct companion_rebuild *rb = ctx;
	int err = companion_restore_rec(ctx, r);

	if (err)
		return err;
	if (companion_check_rec(ctx, r)) {
		rb->disagrees = true;	/* logged once the walk ends */
		return -EUCLEAN;
	}
	return companion_recheck_rec(ctx, r);
}

/* The last completed slot, exactly as the guest should find it. */
static void companion_republish(struct pvdma_companion *c)
{
	/* a copy: the index is checked, then used (ledger.h, struct ledger) */
	const struct ledger_completion last = ledger_last(c->ledger);
	struct pvdma_slot_hdr *slot;

	if (!c->ledger->hdr->done || last.index >= c->ring_slots)
		return;
	slot = (struct pvdma_slot_hdr *)((u8 *)c->shm + COMPANION_RING_OFFSET +
					 (u64)last.index * c->slot_size);
	shm_write32(&slot->status, last.status);
	shm_write32(&slot->completed, last.completed);
	shm_store_release32(&slot->done_seq, last.seq);
}

int companion_resume(struct pvdma_companion *c, struct ledger *ledger)
{
	struct companion_rebuild rb = { .c = c };
	struct pvdma_iommu_stats st = { 0 };
	bool rolled_back;
	int err;

	c->ledger = ledger;
	rolled_back = ledger_recover(ledger);
	/* the session first: the walk judges each record as a MAP now */
	if (ledger->hdr->ready) {
		if (!guest_ram_is_open(&c->ram) && c->ram_cfg) {
			err = companion_ram_open(c);
			if (err)
				return err;
		}
		c->ready = guest_ram_is_open(&c->ram);
		c->features = ledger->hdr->features;
	}
	err = ledger_for_each(ledger, companion_resume_rec, &rb);
	if (err && !rb.disagrees)
		return err;
	c->iommu->ops->stats(c->iommu, &st);
	if (rb.disagrees || st.live_mappings != rb.mappings ||
	    st.live_bytes != rb.bytes) {
		err = -EUCLEAN;
		pvdmad_log(PVDMAD_LOG_ERR,
			"companion %u: the IOMMU domain disagrees with the ledger (%llu mappings, %llu bytes in the domain)",
			c->id, (unsigned long long)st.live_mappings,
			(unsigned long long)st.live_bytes);
		return err;
	}
	/* The counters carry on from the last commit (a rolled-back slot is
	 * counted when it runs again). */
	ledger_stats(ledger, &c->stats, sizeof(c->stats));
	c->sq_head = (u32)ledger->hdr->done;
	shm_store_release32(&companion_hdr(c)->sq_head, c->sq_head);
	companion_republish(c);
	pvdmad_log(PVDMAD_LOG_INFO,
		"companion %u: resumed at slot %u, %llu mappings (%llu KiB) re-created and checked%s",
		c->id, c->sq_head, (unsigned long long)rb.mappings,
		(unsigned long long)(rb.bytes >> 10),
		rolled_back ? ", the slot in flight rolled back to run again" : "");
	return 0;
}

/*
 * A slice of the ring: entries run until @budget is spent, each slot
 * charged one more for itself (a bad slot costs its header, the flush and
 * the ledger's commit all the same). A slice may stop inside a slot; the
 * next runs it on from the next entry, so a slice ends within one entry
 * of its budget, not one slot (max_batch entries, each a MAP in a
 * fragmented bus space may cost microseconds). Entries cost alike within
 * a small factor, so counting them bounds the time a slice takes; the one
 * that does not, a HELLO opening the RAM file (a lookup checking every
 * directory of the path, some twenty system calls), is tried once a slot
 * at most and charged COMPANION_RAM_OPEN_COST entries.
 */
#define COMPANION_RAM_OPEN_COST	64u

struct companion_slice {
	struct pvdma_companion *c;
	u64 start;
	u64 budget;
};

static u64 companion_work(const struct pvdma_companion *c)
{
	return c->stats.entries + c->stats.slots +
	       c->ram_opens * COMPANION_RAM_OPEN_COST;
}

static bool companion_spent(const void *ctx)
{
	const struct companion_slice *sl = ctx;

	return companion_work(sl->c) - sl->start >= sl->budget;
}

static enum ring_run companion_ring_run(void *ctx, u32 index)
{
	struct companion_slice *sl = ctx;

	companion_slot_begin(sl->c, index);
	if (!companion_slot_run(sl->c, companion_spent, sl))
		return RING_UNFINISHED;
	companion_slot_finish(sl->c);
	return companion_spent(sl) ? RING_SPENT : RING_RAN;
}

int companion_process_slice(struct pvdma_companion *c, u64 budget, bool *more)
{
	struct pvdma_shm_header *h = companion_hdr(c);
	struct companion_slice sl = {
		.c = c, .start = companion_work(c), .budget = budget,
	};
	struct ring_consumer rc = {
		.head = &c->sq_head, .shm_head = &h->sq_head,
		.shm_tail = &h->sq_tail, .entries = c->ring_slots,
		.run = companion_ring_run, .ctx = &sl,
	};
	int done = 0, n;

	/* A slot begun is run on whatever the guest did to sq_tail since:
	 * it was posted when it was taken, and its completion is owed. */
	if (c->cur.open) {
		if (!companion_slot_run(c, companion_spent, &sl)) {
			*more = true;
			return 0;
		}
		companion_slot_finish(c);
		c->sq_head++;
		shm_store_release32(&h->sq_head, c->sq_head);
		done = 1;
		if (companion_spent(&sl)) {
			*more = true;	/* the next slice finds out */
			return done;
		}
	}
	n = ring_consume(&rc, more);
	if (n < 0) {
		c->stats.bad_tail++;
		pvdmad_log_ratelimited(PVDMAD_LOG_WARN,
			"companion %u: impossible sq_tail %u (sq_head %u), ignored",
			c->id, rc.tail, c->sq_head);
		shm_write32(&h->ring_errors, (u32)c->stats.bad_tail);
		return done;
	}
	return done + n;
}

int companion_process(struct pvdma_companion *c)
{
	bool more = true;
	int done = 0;

	c->stats.doorbells++;
	while (more)
		done += companion_process_slice(c, ~0ull, &more);
	return done;
}
