// SPDX-License-Identifier: MIT
/*
 * The DMA device model: command snapshot, validation, translation of every
 * range through the bound DMA domain (dma_domain.h), then the data moves.
 */
#include <stdlib.h>

#include "dmadev_model.h"
#include "log.h"
#include "ramguard.h"
#include "ring_consumer.h"
#include "shm_access.h"

int dmadev_config_check(const struct dmadev_config *cfg)
{
	if (!PVDMA_IS_POW2(cfg->queue_entries) ||
	    cfg->queue_entries > DMADEV_MAX_ENTRIES || !cfg->max_len)
		return -EINVAL;
	return 0;
}

u64 dmadev_shm_size(const struct dmadev_config *cfg)
{
	u64 need = DMADEV_QUEUE_OFFSET +
		   (u64)cfg->queue_entries * sizeof(struct pvdma_dev_cmd);
	u64 size = pvdma_pow2_floor(need);

	size = size < need ? size << 1 : size;
	return PVDMA_MAX(size, 4096);
}

int dmadev_init(struct pvdma_dmadev *d, void *shm, u64 shm_size,
		const struct dmadev_config *cfg, u32 host_peer_id, u32 id,
		dmadev_resolve_fn resolve, void *resolve_ctx)
{
	struct pvdma_dev_header *h = shm;

	*d = (struct pvdma_dmadev){ 0 };
	if (dmadev_config_check(cfg) || shm_size < dmadev_shm_size(cfg))
		return -EINVAL;
	d->id = id;
	d->host_peer_id = host_peer_id;
	d->shm = shm;
	d->queue_entries = cfg->queue_entries;
	d->max_len = cfg->max_len;
	d->identity = cfg->identity;
	d->resolve = resolve;
	d->resolve_ctx = resolve_ctx;
	h->version = pvdma_le32(PVDMA_DEV_VERSION);
	h->host_peer_id = pvdma_le32(host_peer_id);
	h->queue_offset = pvdma_le32(DMADEV_QUEUE_OFFSET);
	h->queue_entries = pvdma_le32(cfg->queue_entries);
	h->max_len = pvdma_le32(cfg->max_len);
	h->sq_head = 0;
	/* The magic last: a guest that sees it sees the whole header. */
	shm_store_release32(&h->magic, PVDMA_DEV_MAGIC);
	return 0;
}

void dmadev_destroy(struct pvdma_dmadev *d)
{
	struct pvdma_dev_header *h = d->shm;

	if (h)
		shm_store_release32(&h->magic, 0);
	d->shm = NULL;
}

/*
 * Host pointer for the first piece of [bus, bus + len) that lies in one
 * domain page; *chunk gets its length. NULL: a translation fault (counted
 * by the backend) or a mapping outside the RAM file.
 */
static u8 *dmadev_xlate(struct dma_domain *dom, u64 bus, u64 len, u32 perm,
			u64 *chunk)
{
	u64 page = dom->page_size;
	u64 offset;

	*chunk = PVDMA_MIN(len, page - (bus & (page - 1)));
	if (dom->ops->translate(dom, bus, *chunk, perm, &offset))
		return NULL;
	return dom->ops->ram(dom, offset, *chunk);
}

/* Is every byte of [bus, bus + len) mapped with @perm? Sets *fault if not. */
static bool dmadev_range_ok(struct dma_domain *dom, u64 bus, u64 len,
			    u32 perm, u64 *fault)
{
	u64 chunk;

	while (len) {
		if (!dmadev_xlate(dom, bus, len, perm, &chunk)) {
			*fault = bus;
			return false;
		}
		bus += chunk;
		len -= chunk;
	}
	return true;
}

/* Do [a, a + n) and [b, b + n) share a byte? */
static bool dmadev_overlap(const u8 *a, const u8 *b, u64 n)
{
	return a < b + n && b < a + n;
}

/*
 * A COPY chunk. Where its source and destination overlap (in guest RAM:
 * two bus pages may map one page), it can't be run twice from its
 * source, so with a ledger it goes through the stage: the source copied
 * there and that kept (ledger_progress()) before the destination is
 * written; a restart cut inside it writes it again from the stage
 * (@f->staged, the first chunk of a resumed command).
 */
static void dmadev_copy(struct ledger *l, struct dmadev_inflight *f, u8 *d,
			const u8 *s, u64 n)
{
	u64 room = 0;
	u8 *stage = l ? ledger_stage(l, &room) : NULL;
	bool redo = f->staged == n;

	f->staged = 0;
	if (!stage || n > room || (!redo && !dmadev_overlap(d, s, n))) {
		memmove(d, s, n);
		return;
	}
	if (!redo) {
		memcpy(stage, s, n);
		ledger_progress(l, &(struct ledger_progress){
			.moved = f->moved, .staged = n });
	}
	memcpy(d, stage, n);
}

/*
 * One chunk of @f's move at f->moved, where neither side crosses an IOMMU
 * page (the chunks a whole run makes, so a run split across slices moves
 * the same bytes in the same order: overlapping ranges are copied in
 * ascending order, chunk by chunk, memmove within a chunk). Its length,
 * or 0 with the fault set where a page is no longer mapped (the guest
 * unmapped it while the command was split across slices).
 */
static u64 dmadev_chunk(struct dma_domain *dom, struct ledger *l,
			struct dmadev_inflight *f)
{
	const struct dmadev_cmd *cmd = &f->cmd;
	u64 off = f->moved, left = cmd->len - off, n = left, chunk;
	const u8 *s = NULL;
	u8 *d = NULL;

	if (cmd->op != PVDMA_DEV_FILL) {
		s = dmadev_xlate(dom, cmd->src + off, left, PVDMA_MAP_READ, &chunk);
		if (!s) {
			f->res.fault_bus = cmd->src + off;
			return 0;
		}
		n = PVDMA_MIN(n, chunk);
	}
	if (cmd->op != PVDMA_DEV_CHECKSUM) {
		d = dmadev_xlate(dom, cmd->dst + off, left, PVDMA_MAP_WRITE, &chunk);
		if (!d) {
			f->res.fault_bus = cmd->dst + off;
			return 0;
		}
		n = PVDMA_MIN(n, chunk);
	}
	if (cmd->op == PVDMA_DEV_COPY)
		dmadev_copy(l, f, d, s, n);
	else if (cmd->op == PVDMA_DEV_FILL)
		memset(d, (u8)cmd->pattern, n);
	else
		f->res.result = pvdma_checksum(f->res.result, s, n);
	return n;
}

/* Shape checks that need no domain: op, flags, length, wrap-around. */
static u32 dmadev_check(const struct pvdma_dmadev *d, const struct dmadev_cmd *cmd)
{
	u64 end;

	if (cmd->flags || cmd->op > PVDMA_DEV_CHECKSUM)
		return PVDMA_DEV_ST_INVALID;
	if (cmd->op == PVDMA_DEV_NOP)
		return PVDMA_DEV_ST_OK;
	if (!cmd->len || cmd->len > d->max_len)
		return PVDMA_DEV_ST_INVALID;
	if (cmd->op != PVDMA_DEV_FILL && !pvdma_add_ok(cmd->src, cmd->len, &end))
		return PVDMA_DEV_ST_INVALID;
	if (cmd->op != PVDMA_DEV_CHECKSUM && !pvdma_add_ok(cmd->dst, cmd->len, &end))
		return PVDMA_DEV_ST_INVALID;
	return PVDMA_DEV_ST_OK;
}

/* Every range the command touches, checked before anything moves. */
static bool dmadev_ranges_ok(struct dma_domain *dom,
			     const struct dmadev_cmd *cmd, u64 *fault)
{
	if (cmd->op != PVDMA_DEV_FILL &&
	    !dmadev_range_ok(dom, cmd->src, cmd->len, PVDMA_MAP_READ, fault))
		return false;
	if (cmd->op != PVDMA_DEV_CHECKSUM &&
	    !dmadev_range_ok(dom, cmd->dst, cmd->len, PVDMA_MAP_WRITE, fault))
		return false;
	return true;
}

/*
 * The domain the guest asked for, if this device may use it: NULL if none
 * (identity only where this device allows it).
 */
static struct dma_domain *dmadev_domain(struct pvdma_dmadev *d)
{
	struct pvdma_dev_header *h = d->shm;
	u32 peer = shm_read32(&h->domain_peer);

	if (!d->resolve || (peer == PVDMA_DEV_DOMAIN_IDENTITY && !d->identity))
		return NULL;
	return d->resolve(d->resolve_ctx, peer);
}

/* Part of a command's data movement, run under ramguard_run(). */
struct dmadev_move {
	struct dma_domain *dom;
	struct ledger *ledger;
	struct dmadev_inflight *f;
	u64 budget;
};

/* Chunks until @budget more bytes moved (one chunk at least) or the end. */
static void dmadev_move(void *arg)
{
	struct dmadev_move *mv = arg;
	struct dmadev_inflight *f = mv->f;
	u64 start = f->moved, n;

	while (f->moved < f->cmd.len &&
	       (f->moved == start || f->moved - start < mv->budget)) {
		n = dmadev_chunk(mv->dom, mv->ledger, f);
		if (!n) {
			f->res.status = PVDMA_DEV_ST_FAULT;
			return;
		}
		f->moved += n;
		/* a restart goes on from here (dmadev_resume()) */
		if (mv->ledger)
			ledger_progress(mv->ledger, &(struct ledger_progress){
				.moved = f->moved, .sum = f->res.result });
	}
}

/* The checks, before anything moves: false if the command is answered
 * already (refused, faulting, a NOP), true if its data is to move. */
static bool dmadev_start(struct pvdma_dmadev *d, struct dmadev_inflight *f)
{
	const struct dmadev_cmd *cmd = &f->cmd;
	struct dmadev_result *res = &f->res;
	struct dma_domain *dom;

	res->status = dmadev_check(d, cmd);
	if (res->status != PVDMA_DEV_ST_OK || cmd->op == PVDMA_DEV_NOP)
		return false;
	dom = dmadev_domain(d);
	if (!dom) {
		res->status = PVDMA_DEV_ST_NOT_BOUND;
		return false;
	}
	if (!dmadev_ranges_ok(dom, cmd, &res->fault_bus)) {
		res->status = PVDMA_DEV_ST_FAULT;
		dom->ops->count(dom, res->status, 0);
		return false;
	}
	f->dom = dom;
	if (cmd->op == PVDMA_DEV_CHECKSUM)
		res->result = PVDMA_CHECKSUM_SEED;
	return true;
}

/*
 * Up to @budget more bytes of @f's data moved (one chunk at least); true
 * once the command is answered (all moved, or a fault or an I/O error).
 * Between slices the guest's companion may have gone (f->dom is looked up
 * again then), or unmapped what the rest of the command names (a fault).
 */
static bool dmadev_step(struct pvdma_dmadev *d, struct dmadev_inflight *f,
			u64 budget)
{
	struct dmadev_move mv = {
		.dom = f->dom, .ledger = d->ledger, .f = f, .budget = budget,
	};
	struct dmadev_result *res = &f->res;
	u64 before = f->moved;

	if (!mv.dom) {
		res->status = PVDMA_DEV_ST_NOT_BOUND;
		res->result = 0;
		return true;
	}
	/* The host may be unable to back a page (ramguard.h): an I/O error
	 * for this command, part of it possibly done, pvdmad unharmed. */
	if (!ramguard_run(dmadev_move, &mv)) {
		res->status = PVDMA_DEV_ST_IO;
		res->result = 0;
		mv.dom->ops->count(mv.dom, res->status, 0);
		pvdmad_log_ratelimited(PVDMAD_LOG_WARN,
			"dma device %u: guest RAM could not be backed (SIGBUS: full tmpfs or hugetlbfs, or the file shrank): io",
			d->id);
		return true;
	}
	d->work += f->moved - before;
	if (res->status == PVDMA_DEV_ST_FAULT) {
		res->result = 0;
		mv.dom->ops->count(mv.dom, res->status, 0);
		return true;
	}
	if (f->moved < f->cmd.len)
		return false;
	mv.dom->ops->count(mv.dom, res->status, f->cmd.len);
	d->stats.bytes += f->cmd.len;
	return true;
}

static void dmadev_decode(struct dmadev_cmd *cmd, const struct pvdma_dev_cmd *w)
{
	cmd->op = pvdma_le16(w->op);
	cmd->flags = pvdma_le16(w->flags);
	cmd->seq = pvdma_le32(w->seq);
	cmd->src = pvdma_le64(w->src);
	cmd->dst = pvdma_le64(w->dst);
	cmd->len = pvdma_le64(w->len);
	cmd->pattern = pvdma_le64(w->pattern);
}

static void dmadev_count(struct pvdma_dmadev *d, u32 status)
{
	switch (status) {
	case PVDMA_DEV_ST_OK:		d->stats.ok++;		break;
	case PVDMA_DEV_ST_INVALID:	d->stats.invalid++;	break;
	case PVDMA_DEV_ST_FAULT:	d->stats.faults++;	break;
	case PVDMA_DEV_ST_IO:		d->stats.io_errors++;	break;
	default:			d->stats.not_bound++;	break;
	}
}

/*
 * What a command cost, in bytes, for the slices: what its checks walked
 * (a range may fault at its last page, after len / page translations,
 * moving nothing) or moved, and never less than DMADEV_CMD_COST: a
 * command that moves nothing (NOP, refused, faulting) still costs its
 * snapshot, its completion and the ledger's commit.
 */
static u64 dmadev_cost(const struct dmadev_cmd *cmd, u32 status)
{
	bool walked = cmd->op != PVDMA_DEV_NOP &&
		      (status == PVDMA_DEV_ST_OK || status == PVDMA_DEV_ST_FAULT ||
		       status == PVDMA_DEV_ST_IO);

	return PVDMA_MAX(walked ? cmd->len : 0, (u64)DMADEV_CMD_COST);
}

static struct pvdma_dev_cmd *dmadev_entry(struct pvdma_dmadev *d, u32 index)
{
	return (struct pvdma_dev_cmd *)((u8 *)d->shm + DMADEV_QUEUE_OFFSET) +
	       index;
}

_Static_assert(sizeof(struct dmadev_cmd) <= LEDGER_CMD_MAX,
	       "the ledger keeps a DMA command's snapshot");

/*
 * The command at @index taken: its ledger slot begun, its snapshot checked
 * and, if its data is to move, kept with its progress. The first one
 * after a restart may be one the previous process cut (d->resume): its
 * kept snapshot, checked again, goes on where it stopped.
 */
static void dmadev_begin(struct pvdma_dmadev *d, u32 index)
{
	struct dmadev_inflight *f = &d->cur, *r = &d->resume;
	struct pvdma_dev_cmd snap;
	bool resume = r->open;

	if (d->ledger)
		ledger_begin(d->ledger);
	*f = (struct dmadev_inflight){ .index = index };
	r->open = false;
	if (resume) {
		f->cmd = r->cmd;
	} else {
		shm_snapshot(&snap, dmadev_entry(d, index), sizeof(snap));
		dmadev_decode(&f->cmd, &snap);
	}
	f->open = dmadev_start(d, f);
	if (!f->open || !d->ledger)
		return;
	if (!resume) {
		ledger_cmd(d->ledger, &f->cmd, sizeof(f->cmd),
			   &(struct ledger_progress){ .sum = f->res.result });
		return;
	}
	f->moved = r->moved;
	f->staged = r->staged;
	if (f->cmd.op == PVDMA_DEV_CHECKSUM)
		f->res.result = r->res.result;
	d->resumed++;
}

/* The command answered: counted, charged, committed, then published. */
static void dmadev_answer(struct pvdma_dmadev *d)
{
	struct dmadev_inflight *f = &d->cur;
	struct pvdma_dev_cmd *w = dmadev_entry(d, f->index);
	const struct dmadev_cmd *cmd = &f->cmd;
	const struct dmadev_result *res = &f->res;
	u64 cost = dmadev_cost(cmd, res->status);

	f->open = false;
	dmadev_count(d, res->status);
	/* what its checks walked, past the bytes dmadev_step() charged */
	d->work += cost > f->moved ? cost - f->moved : 0;
	if (res->status != PVDMA_DEV_ST_OK && pvdmad_log_get_level() >= PVDMAD_LOG_DEBUG)
		pvdmad_log_ratelimited(PVDMAD_LOG_DEBUG,
			"dma device %u: op %u src %#llx dst %#llx len %#llx: status %u, fault at %#llx",
			d->id, cmd->op, (unsigned long long)cmd->src,
			(unsigned long long)cmd->dst, (unsigned long long)cmd->len,
			res->status, (unsigned long long)res->fault_bus);
	shm_write64(&w->result, res->result);
	shm_write64(&w->fault_bus, res->fault_bus);
	shm_write32(&w->status, res->status);
	d->stats.cmds++;
	/* Committed before the guest sees it: never run twice. */
	if (d->ledger)
		ledger_commit(d->ledger, &(struct ledger_completion){
			.index = f->index, .seq = cmd->seq, .status = res->status,
			.result = res->result, .fault_bus = res->fault_bus,
			.stats = &d->stats, .stats_len = sizeof(d->stats) });
	shm_store_release32(&w->done_seq, cmd->seq);
}

_Static_assert(sizeof(struct dmadev_stats) <= LEDGER_STATS_MAX,
	       "the ledger keeps a DMA device's counters");

void dmadev_ledger_geometry(const struct dmadev_config *cfg, u32 id,
			    struct ledger_geometry *geo)
{
	*geo = (struct ledger_geometry){
		.kind = LEDGER_DMADEV, .id = id, .queue = cfg->queue_entries,
		.page_size = DMADEV_STAGE_BYTES,
	};
}

/*
 * The command the previous process cut, if its ledger kept one, in
 * d->resume. The ledger is pvdmad's own, but what it says is checked as
 * any input: a progress past the command's end, or more staged than is
 * left of it, would move bytes the command never named. Refused, the
 * command runs again from its start (its snapshot taken anew).
 */
static void dmadev_resume_point(struct pvdma_dmadev *d, struct ledger *l)
{
	struct dmadev_inflight *r = &d->resume;
	struct ledger_progress p;

	*r = (struct dmadev_inflight){ 0 };
	if (!ledger_resume_point(l, &r->cmd, sizeof(r->cmd), &p))
		return;
	if (dmadev_check(d, &r->cmd) != PVDMA_DEV_ST_OK ||
	    r->cmd.op == PVDMA_DEV_NOP || p.moved > r->cmd.len ||
	    p.staged > r->cmd.len - p.moved ||
	    (p.staged && r->cmd.op != PVDMA_DEV_COPY)) {
		pvdmad_log(PVDMAD_LOG_WARN,
			   "dma device %u: the ledger's progress (%llu moved, %llu staged) can't be its command's: run again from its start",
			   d->id, (unsigned long long)p.moved,
			   (unsigned long long)p.staged);
		return;
	}
	r->moved = p.moved;
	r->staged = p.staged;
	r->res.result = p.sum;
	r->open = true;
	pvdmad_log(PVDMAD_LOG_INFO,
		   "dma device %u: a command cut at byte %llu of %llu goes on from there",
		   d->id, (unsigned long long)p.moved,
		   (unsigned long long)r->cmd.len);
}

void dmadev_resume(struct pvdma_dmadev *d, struct ledger *ledger)
{
	/* a copy: the index is checked, then used (ledger.h, struct ledger) */
	const struct ledger_completion last = ledger_last(ledger);
	struct pvdma_dev_header *h = d->shm;
	struct pvdma_dev_cmd *w;

	d->ledger = ledger;
	ledger_recover(ledger);
	ledger_stats(ledger, &d->stats, sizeof(d->stats));
	dmadev_resume_point(d, ledger);
	/* staged pages the previous process left that no command needs */
	if (!d->resume.staged)
		ledger_stage_release(ledger);
	d->sq_head = (u32)ledger->hdr->done;
	shm_store_release32(&h->sq_head, d->sq_head);
	if (!ledger->hdr->done || last.index >= d->queue_entries)
		return;
	w = (struct pvdma_dev_cmd *)((u8 *)d->shm + DMADEV_QUEUE_OFFSET) +
	    last.index;
	shm_write64(&w->result, last.result);
	shm_write64(&w->fault_bus, last.fault_bus);
	shm_write32(&w->status, last.status);
	shm_store_release32(&w->done_seq, last.seq);
}

/*
 * A slice of the queue: commands run until they cost @budget bytes
 * (dmadev_cost()), not only bytes moved; a command's data moves in
 * chunks until the budget is spent (one chunk at least), the rest in the
 * next slices: a command may be as long as --dma-max-len.
 */
struct dmadev_slice {
	struct pvdma_dmadev *d;
	u64 start;
	u64 budget;
};

static bool dmadev_spent(const struct dmadev_slice *sl)
{
	return sl->d->work - sl->start >= sl->budget;
}

/* The open command moved on within the slice's budget; true once answered. */
static bool dmadev_run_open(struct dmadev_slice *sl)
{
	struct pvdma_dmadev *d = sl->d;
	u64 left = dmadev_spent(sl) ? 0 : sl->budget - (d->work - sl->start);

	if (d->cur.open && !dmadev_step(d, &d->cur, left))
		return false;
	dmadev_answer(d);
	return true;
}

static enum ring_run dmadev_ring_run(void *ctx, u32 index)
{
	struct dmadev_slice *sl = ctx;

	dmadev_begin(sl->d, index);
	if (!dmadev_run_open(sl))
		return RING_UNFINISHED;
	return dmadev_spent(sl) ? RING_SPENT : RING_RAN;
}

int dmadev_process_slice(struct pvdma_dmadev *d, u64 budget, bool *more)
{
	struct pvdma_dev_header *h = d->shm;
	struct dmadev_slice sl = {
		.d = d, .start = d->work, .budget = budget,
	};
	struct ring_consumer rc = {
		.head = &d->sq_head, .shm_head = &h->sq_head,
		.shm_tail = &h->sq_tail, .entries = d->queue_entries,
		.run = dmadev_ring_run, .ctx = &sl,
	};
	int done = 0, n;

	/* A command begun runs on whatever the guest did to sq_tail since:
	 * it was posted when it was taken, and its answer is owed. */
	if (d->cur.open) {
		*more = true;
		d->cur.dom = dmadev_domain(d);
		if (!dmadev_run_open(&sl))
			return 0;
		d->sq_head++;
		shm_store_release32(&h->sq_head, d->sq_head);
		done = 1;
		if (dmadev_spent(&sl))
			return done;	/* the next slice finds out */
	}
	n = ring_consume(&rc, more);
	if (n < 0) {
		d->stats.bad_tail++;
		pvdmad_log_ratelimited(PVDMAD_LOG_WARN,
			"dma device %u: impossible sq_tail %u (sq_head %u), ignored",
			d->id, rc.tail, d->sq_head);
		return done;
	}
	return done + n;
}

int dmadev_process(struct pvdma_dmadev *d)
{
	bool more = true;
	int done = 0;

	d->stats.doorbells++;
	while (more)
		done += dmadev_process_slice(d, ~0ull, &more);
	return done;
}
