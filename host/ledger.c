// SPDX-License-Identifier: MIT
/*
 * The ledger (ledger.h): a memfd laid out as header page, undo log,
 * records by bus page. Stores that commit something are release stores so
 * the compiler can't move them before what they commit.
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fdstore.h"
#include "ledger.h"

#define LEDGER_HDR_BYTES	4096u
/* A memfd made without MFD_ALLOW_SEALING has this seal, and only it: the
 * ledger taken back must be one (ledger_take()). */
#define LEDGER_SEALS		F_SEAL_SEAL

#define ledger_publish(p, v)	__atomic_store_n((p), (v), __ATOMIC_RELEASE)

static u64 ledger_align(u64 v)
{
	return (v + LEDGER_HDR_BYTES - 1) & ~(u64)(LEDGER_HDR_BYTES - 1);
}

static u64 ledger_undo_bytes(const struct ledger_geometry *geo)
{
	return ledger_align((u64)geo->batch * sizeof(struct ledger_rec));
}

/* A DMA device's stage: a chunk is at most an IOMMU page. */
static u64 ledger_stage_bytes(const struct ledger_geometry *geo)
{
	return geo->kind == LEDGER_DMADEV ? ledger_align(geo->page_size) : 0;
}

static u64 ledger_bytes(const struct ledger_geometry *geo)
{
	return LEDGER_HDR_BYTES + ledger_undo_bytes(geo) +
	       ledger_stage_bytes(geo) +
	       (u64)geo->records * sizeof(struct ledger_rec);
}

_Static_assert(sizeof(struct ledger_hdr) <= LEDGER_HDR_BYTES,
	       "the header fits its page");

static int ledger_map(struct ledger *l, int fd, const struct ledger_geometry *geo)
{
	void *p;

	l->size = ledger_bytes(geo);
	p = mmap(NULL, l->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	l->fd = fd;
	l->hdr = p;
	l->geo = *geo;
	l->undo = (struct ledger_rec *)((u8 *)p + LEDGER_HDR_BYTES);
	l->stage = (u8 *)l->undo + ledger_undo_bytes(geo);
	l->recs = (struct ledger_rec *)(l->stage + ledger_stage_bytes(geo));
	return 0;
}

int ledger_create(struct ledger *l, const struct ledger_geometry *geo)
{
	int fd, err;

	*l = (struct ledger){ .fd = -1 };
	if (geo->records > LEDGER_MAX_RECORDS ||
	    ((geo->records || geo->kind == LEDGER_DMADEV) &&
	     !PVDMA_IS_POW2(geo->page_size)))
		return -E2BIG;
	fd = memfd_create("pvdmad-ledger", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	/* Sparse: only the pages of live records take memory. */
	if (ftruncate(fd, (off_t)ledger_bytes(geo)) < 0) {
		err = -errno;
		close(fd);
		return err;
	}
	err = ledger_map(l, fd, geo);
	if (err) {
		close(fd);
		return err;
	}
	l->hdr->geo = *geo;
	l->hdr->version = LEDGER_VERSION;
	l->hdr->generation = 1;
	ledger_publish(&l->hdr->magic, LEDGER_MAGIC);
	return 0;
}

/*
 * The next stretch of records, at or after @i, on pages of the memfd that
 * were ever written: [*first, *end). A page never written is a hole, and
 * reading it allocates it (shmem), so a walk of every record made each
 * ledger a restart took back as large as its geometry (10 MiB at the
 * defaults, 40 MiB at 4 KiB pages) whatever the guest had mapped. A
 * record that runs into a hole was never written (a write fills all of
 * it). Without SEEK_DATA, everything from @i. false: none left.
 */
static bool ledger_next_written(const struct ledger *l, u32 i, u32 *first,
				u32 *end)
{
	const u64 rec = sizeof(struct ledger_rec);
	u64 base = (u64)((const u8 *)l->recs - (const u8 *)l->hdr);
	u64 top = base + (u64)l->geo.records * rec;
	off_t data, hole;

	*first = i;
	*end = l->geo.records;
	if (i >= *end)
		return false;
	data = lseek(l->fd, (off_t)(base + (u64)i * rec), SEEK_DATA);
	if (data < 0)
		return errno != ENXIO;
	hole = lseek(l->fd, data, SEEK_HOLE);
	if ((u64)data >= top)
		return false;
	*first = (u32)(((u64)data - base + rec - 1) / rec);
	if (hole >= 0 && (u64)hole < top)
		*end = (u32)(((u64)hole - base) / rec);
	/* a written page too short for a whole record: on past it */
	if (*end <= *first)
		*end = *first;
	return true;
}

/* Call @fn on every record on a written page of the memfd. */
static void ledger_each_written(struct ledger *l,
				void (*fn)(struct ledger_rec *r, u32 gen),
				u32 gen)
{
	u32 i, first, end;

	for (end = 0; ledger_next_written(l, end, &first, &end); end++)
		for (i = first; i < end; i++)
			fn(&l->recs[i], gen);
}

static void ledger_drop_old(struct ledger_rec *r, u32 gen)
{
	if (r->live && r->live != gen)
		r->live = 0;
}

static void ledger_renumber_rec(struct ledger_rec *r, u32 gen)
{
	if (r->live == gen)
		r->live = 1;
}

/*
 * Finish a renumbering a kill cut (or do one's second half): the live
 * records, of generation @gen, become generation 1. No record read 1
 * before it began (ledger_renumber() dropped them), so one that does is
 * one it renumbered already.
 */
static void ledger_renumber_finish(struct ledger *l)
{
	struct ledger_hdr *h = l->hdr;

	ledger_each_written(l, ledger_renumber_rec, h->generation);
	ledger_publish(&h->generation, 1u);
	ledger_publish(&h->renumbering, 0u);
}

/*
 * The generation back to 1 between slots, the live records kept: the
 * dead ones of every older generation dropped first (they would read as
 * live once the count reached theirs again), then the renumbering. A
 * walk of the pages written, once in 2^32 - batch releases.
 */
static void ledger_renumber(struct ledger *l)
{
	l->renumbers++;
	ledger_each_written(l, ledger_drop_old, l->hdr->generation);
	ledger_publish(&l->hdr->renumbering, 1u);
	ledger_renumber_finish(l);
}

/* Could the slot about to begin make the generation come round? */
static bool ledger_wrap_near(const struct ledger *l)
{
	return l->hdr->generation >= ~0u - l->geo.batch - 1;
}

/*
 * Version 3, the one before the DMA device's stage and the command's
 * progress: the same header up to the counters, the rest of its page
 * never written (zero); the same undo log and records; no stage, so a DMA
 * device's geometry had no page size and its file was the header page.
 */
#define LEDGER_V3		3
#define LEDGER_V3_HDR_END	offsetof(struct ledger_hdr, cmd_len)

/* What @geo's ledger was under version 3. */
static struct ledger_geometry ledger_v3_geometry(const struct ledger_geometry *geo)
{
	struct ledger_geometry old = *geo;

	if (old.kind == LEDGER_DMADEV)
		old.page_size = 0;
	return old;
}

static u64 ledger_v3_bytes(const struct ledger_geometry *geo)
{
	struct ledger_geometry old = ledger_v3_geometry(geo);

	return ledger_bytes(&old);
}

static bool ledger_zero(const u8 *p, size_t len)
{
	while (len--)
		if (*p++)
			return false;
	return true;
}

/*
 * Is @h (the header page of a @size-byte file) a version 3 ledger of
 * @geo, checked as a version 4 one is? A carry to version 4 cut by a kill
 * (ledger_carry_v3()) left it grown, and then maybe with its page size:
 * those two states are taken too, and no other. -ESTALE: of other limits.
 */
static int ledger_v3_check(const struct ledger_hdr *h, u64 size,
			   const struct ledger_geometry *geo)
{
	struct ledger_geometry old = ledger_v3_geometry(geo);
	bool grown = size != ledger_v3_bytes(geo);

	if (grown && size != ledger_bytes(geo))
		return -ESTALE;
	if (grown && h->geo.page_size == geo->page_size)
		old.page_size = geo->page_size;
	if (memcmp(&h->geo, &old, sizeof(old)))
		return -ESTALE;
	if (h->undo_count > geo->batch || !h->generation ||
	    !ledger_zero((const u8 *)h + LEDGER_V3_HDR_END,
			 LEDGER_HDR_BYTES - LEDGER_V3_HDR_END))
		return -EPROTO;
	return 0;
}

/*
 * A version 3 ledger becomes a version 4 one in place, so that an upgrade
 * keeps the guest's devices: a DMA device's file grown by the stage (a
 * hole), its page size written, and the version last. What version 4
 * added reads as nothing kept (zero): a command the kill cut runs again
 * from its start, as it did under version 3. A kill inside leaves a state
 * ledger_v3_check() takes. 0 if @fd is (now) of this version; -EPROTO if
 * it is no ledger or a corrupt one, -EPROTONOSUPPORT of another version.
 */
static int ledger_carry_v3(int fd, const struct ledger_geometry *geo,
			   u64 *size, u32 *from)
{
	static const u32 version = LEDGER_VERSION;
	union {
		struct ledger_hdr h;
		u8 page[LEDGER_HDR_BYTES];
	} old;
	int err;

	if (*size < LEDGER_HDR_BYTES ||
	    pread(fd, &old, sizeof(old), 0) != (ssize_t)sizeof(old) ||
	    old.h.magic != LEDGER_MAGIC)
		return -EPROTO;
	if (old.h.version == LEDGER_VERSION)
		return 0;
	if (old.h.version != LEDGER_V3)
		return -EPROTONOSUPPORT;
	err = ledger_v3_check(&old.h, *size, geo);
	if (err)
		return err;
	if (*size != ledger_bytes(geo) &&
	    ftruncate(fd, (off_t)ledger_bytes(geo)) < 0)
		return -errno;
	*size = ledger_bytes(geo);
	if (pwrite(fd, &geo->page_size, sizeof(geo->page_size),
		   offsetof(struct ledger_hdr, geo.page_size)) !=
		    (ssize_t)sizeof(geo->page_size) ||
	    pwrite(fd, &version, sizeof(version),
		   offsetof(struct ledger_hdr, version)) != (ssize_t)sizeof(version))
		return -EIO;
	*from = LEDGER_V3;
	return 0;
}

int ledger_adopt(struct ledger *l, int fd, const struct ledger_geometry *geo)
{
	struct stat st;
	u64 size;
	u32 from = 0;
	int err;

	*l = (struct ledger){ .fd = -1 };
	if (fstat(fd, &st) < 0) {
		close(fd);
		return -ESTALE;
	}
	size = (u64)st.st_size;
	err = ledger_carry_v3(fd, geo, &size, &from);
	if (!err && size != ledger_bytes(geo))
		err = -ESTALE;
	if (err) {
		close(fd);
		return err;
	}
	err = ledger_map(l, fd, geo);
	if (err) {
		close(fd);
		return err;
	}
	if (l->hdr->magic != LEDGER_MAGIC || l->hdr->version != LEDGER_VERSION)
		err = -EPROTO;
	else if (memcmp(&l->hdr->geo, geo, sizeof(*geo)))
		err = -ESTALE;
	else if (l->hdr->undo_count > geo->batch || !l->hdr->generation)
		err = -EPROTO;
	if (err) {
		ledger_destroy(l);
		return err;
	}
	if (l->hdr->renumbering)
		ledger_renumber_finish(l);
	/* the previous process may have staged and died before its punch */
	l->stage_dirty = true;
	l->carried_from = from;
	return 0;
}

void ledger_destroy(struct ledger *l)
{
	if (l->hdr)
		munmap(l->hdr, l->size);
	if (l->fd >= 0)
		close(l->fd);
	*l = (struct ledger){ .fd = -1 };
}

void ledger_begin(struct ledger *l)
{
	if (ledger_wrap_near(l))
		ledger_renumber(l);
	l->hdr->undo_count = 0;
	l->hdr->begun_generation = l->hdr->generation;
	ledger_publish(&l->hdr->executing, l->hdr->done + 1);
}

void ledger_commit(struct ledger *l, const struct ledger_completion *c)
{
	struct ledger_hdr *h = l->hdr;

	h->last = *c;
	h->last.stats = NULL;		/* a pointer means nothing to the next */
	h->last.stats_len = 0;
	if (c->stats && c->stats_len <= LEDGER_STATS_MAX) {
		memcpy(h->stats, c->stats, c->stats_len);
		h->stats_len = c->stats_len;
	}
	ledger_publish(&h->done, h->done + 1);
	/* the progress that named the stage is retired now */
	ledger_stage_release(l);
}

void ledger_cmd(struct ledger *l, const void *cmd, u32 len,
		const struct ledger_progress *p)
{
	struct ledger_hdr *h = l->hdr;

	if (len > LEDGER_CMD_MAX)
		return;
	/* the progress still current is an older slot's: this one is
	 * nobody's until the progress below names it */
	memcpy(h->cmd, cmd, len);
	h->cmd_len = len;
	ledger_progress(l, p);
}

void ledger_progress(struct ledger *l, const struct ledger_progress *p)
{
	struct ledger_hdr *h = l->hdr;
	u32 next = !h->progress_cur;

	if (p->staged)
		l->stage_dirty = true;
	h->progress[next] = *p;
	h->progress[next].slot = h->executing;
	ledger_publish(&h->progress_cur, next);
}

void ledger_stage_release(struct ledger *l)
{
	u64 len = ledger_stage_bytes(&l->geo);

	if (!l->stage_dirty || !len)
		return;
	l->stage_dirty = false;
	if (!fallocate(l->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		       (off_t)(l->stage - (u8 *)l->hdr), (off_t)len))
		l->stage_releases++;
}

bool ledger_resume_point(const struct ledger *l, void *cmd, u32 len,
			 struct ledger_progress *p)
{
	const struct ledger_hdr *h = l->hdr;
	/* read once: the index is checked, then used */
	u32 cur = READ_ONCE(h->progress_cur);
	u64 stage;

	if (cur > 1 || h->cmd_len != len || len > LEDGER_CMD_MAX)
		return false;
	*p = h->progress[cur];
	if (p->slot != h->done + 1 || !ledger_stage(l, &stage) ||
	    p->staged > stage)
		return false;
	memcpy(cmd, h->cmd, len);
	return true;
}

bool ledger_stats(const struct ledger *l, void *out, u32 len)
{
	if (l->hdr->stats_len != len)
		return false;
	memcpy(out, l->hdr->stats, len);
	return true;
}

static struct ledger_rec *ledger_rec_of(struct ledger *l, u64 bus)
{
	const struct ledger_geometry *geo = &l->geo;
	u64 page;

	if (bus < geo->bus_base || (bus - geo->bus_base) & (geo->page_size - 1))
		return NULL;
	page = (bus - geo->bus_base) / geo->page_size;
	return page < geo->records ? &l->recs[page] : NULL;
}

bool ledger_rec_in_place(struct ledger *l, const struct ledger_rec *r)
{
	return ledger_rec_of(l, r->bus) == r;
}

/*
 * Would rolling the slot back have to bring @r back as it is? Only a record
 * live when the slot began and not made by it. A record changes at most
 * once while so (then it is dead, or the slot's), so each entry saves at
 * most one and the undo log of a batch always has room: an UNMAP its
 * mapping, a MAP after a release in the slot the record it writes over, a
 * TRIM one or the other (what it unmaps after a release is the slot's).
 */
static bool ledger_rec_needs_undo(const struct ledger *l,
				  const struct ledger_rec *r)
{
	const struct ledger_hdr *h = l->hdr;

	return r->live && r->live == h->begun_generation &&
	       r->serial != h->done;
}

/* Keep @r's old contents for the rollback; false if the log is full. */
static bool ledger_save_undo(struct ledger *l, const struct ledger_rec *r)
{
	u32 n = l->hdr->undo_count;

	if (!ledger_rec_needs_undo(l, r))
		return true;
	if (n >= l->geo.batch)
		return false;
	l->undo[n] = *r;
	ledger_publish(&l->hdr->undo_count, n + 1);
	return true;
}

bool ledger_mapped(struct ledger *l, u64 bus, u64 host_addr, u64 len, u32 perm)
{
	struct ledger_rec *r = ledger_rec_of(l, bus);

	/* After a release in this slot the page may still hold a record of
	 * the generation a rollback returns to. */
	if (!r || !ledger_save_undo(l, r))
		return false;
	/* no half-written record reads as live */
	ledger_publish(&r->live, 0);
	r->bus = bus;
	r->host_addr = host_addr;
	r->len = len;
	r->perm = perm;
	r->serial = l->hdr->done;
	ledger_publish(&r->live, l->hdr->generation);
	return true;
}

bool ledger_unmapped(struct ledger *l, u64 bus)
{
	struct ledger_rec *r = ledger_rec_of(l, bus);

	if (!r || !ledger_rec_live(l, r) || !ledger_save_undo(l, r))
		return false;
	ledger_publish(&r->live, 0);
	return true;
}

void ledger_released(struct ledger *l)
{
	struct ledger_hdr *h = l->hdr;

	/* In a slot, ledger_begin() renumbered before it could come to
	 * this; out of one (a device leaving) there is nothing to roll back. */
	if (h->generation == ~0u)
		ledger_renumber(l);
	ledger_publish(&h->generation, h->generation + 1);
}

void ledger_set_session(struct ledger *l, bool ready, u32 features)
{
	l->hdr->features = features;
	ledger_publish(&l->hdr->ready, ready ? 1u : 0u);
}

bool ledger_recover(struct ledger *l)
{
	struct ledger_hdr *h = l->hdr;
	struct ledger_rec *r;
	u32 i, first, end, undo, begun;

	if (h->executing != h->done + 1)
		return false;
	/* a release the slot made is undone with it (read once: never 0) */
	begun = READ_ONCE(h->begun_generation);
	h->generation = begun ? begun : 1;
	/*
	 * What the slot made goes, in every generation it reached: a record
	 * made after a release in it would come back to life at the next
	 * release, which reaches that generation again. Then what it wrote
	 * over or unmapped comes back (never one of its own, ledger_save_undo()).
	 */
	for (end = 0; ledger_next_written(l, end, &first, &end); end++)
		for (i = first; i < end; i++)
			if (l->recs[i].serial == h->done)
				l->recs[i].live = 0;
	/* read once, within the log's size: the file's count was checked at
	 * adopt, but the file is not pvdmad's alone */
	undo = READ_ONCE(h->undo_count);
	undo = PVDMA_MIN(undo, l->geo.batch);
	for (i = 0; i < undo; i++) {
		r = ledger_rec_of(l, l->undo[i].bus);
		if (r)
			*r = l->undo[i];
	}
	h->undo_count = 0;
	ledger_publish(&h->executing, h->done);
	return true;
}

int ledger_for_each(struct ledger *l,
		    int (*fn)(void *ctx, const struct ledger_rec *r), void *ctx)
{
	u32 i, first, end;
	int err;

	for (end = 0; ledger_next_written(l, end, &first, &end); end++) {
		l->records_read += end - first;
		for (i = first; i < end; i++) {
			if (!ledger_rec_live(l, &l->recs[i]))
				continue;
			err = fn(ctx, &l->recs[i]);
			if (err)
				return err;
		}
	}
	return 0;
}

int ledger_keep(struct fdstore *st, const char *name,
		const struct ledger_geometry *geo, struct ledger **out)
{
	struct ledger *l = calloc(1, sizeof(*l));
	int err;

	if (!l)
		return -ENOMEM;
	err = ledger_create(l, geo);
	if (!err && st)
		err = fdstore_push(st, name, l->fd);
	if (err) {
		ledger_destroy(l);
		free(l);
		return err;
	}
	*out = l;
	return 0;
}

int ledger_take(struct fdstore *st, const char *name,
		const struct ledger_geometry *geo, struct ledger **out)
{
	struct ledger *l;
	int fd, err;

	fd = st ? fdstore_take(st, name) : -ENOENT;
	if (fd < 0)
		return fd;
	err = fdstore_check_memfd(fd, name, ledger_bytes(geo), LEDGER_SEALS);
	/* one of version 3 has its size (ledger_adopt() carries it) */
	if (err == -ESTALE)
		err = fdstore_check_memfd(fd, name, ledger_v3_bytes(geo),
					  LEDGER_SEALS);
	if (err) {
		close(fd);
		return err;
	}
	l = calloc(1, sizeof(*l));
	if (!l) {
		close(fd);
		return -ENOMEM;
	}
	err = ledger_adopt(l, fd, geo);
	if (err) {
		free(l);
		return err;
	}
	*out = l;
	return 0;
}

void ledger_forget(struct fdstore *st, const char *name, struct ledger *l,
		   void (*release)(void *addr, size_t len, int fd))
{
	if (st)
		fdstore_remove(st, name);
	if (l && release) {
		release(l->hdr, l->size, l->fd);
		*l = (struct ledger){ .fd = -1 };
	}
	ledger_leave(l);
}

void ledger_leave(struct ledger *l)
{
	if (!l)
		return;
	ledger_destroy(l);
	free(l);
}
