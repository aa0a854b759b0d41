/* SPDX-License-Identifier: MIT */
/*
 * The ledger: what a device served by pvdmad must remember across a
 * restart, in a memfd the fd store keeps (fdstore.h). Host-private: QEMU
 * never sees it, so nothing in it is guest-controlled.
 *
 * It holds the queue position the host reached (the commit point of each
 * slot or command), the last completion (re-published at restart, in case
 * the kill fell between the commit and the guest-visible done_seq), the
 * session (HELLO done, features) and, for a companion, one record per live
 * IOMMU mapping, indexed by bus page.
 *
 * Crash consistency: the process can die between any two instructions; the
 * memfd keeps every store made. Each slot is a transaction:
 *   begin:   undo_count = 0; executing = done + 1
 *   begin:   (and the generation noted: begun_generation)
 *   map:     the record it writes over copied to the undo log if it was
 *            live when the slot began (a release in the slot came first),
 *            then filled, then live = generation; tagged with the slot's
 *            serial
 *   unmap:   the record copied to the undo log (unless the slot made it),
 *            then live = 0
 *   release: generation + 1: every record of the last is dropped at once
 *            (HELLO/RESET; re-running them is the same)
 *   commit:  last completion written, then done = done + 1
 * At restart, a slot caught executing is rolled back (its generation
 * back, records it created dropped in every generation, undo log
 * restored) and simply run again: the guest, still waiting for done_seq,
 * sees only a longer wait. Each entry saves at most one record, so a
 * batch's undo log always has room.
 *
 * The generation is a u32: before a slot could make it come round (a
 * release an entry at most), between slots, where there is nothing to
 * roll back, the live records are renumbered to generation 1 and the
 * others dropped (ledger_renumber(), crash-safe, once in 2^32 - batch
 * releases). A wrap inside a slot would have to drop every record at
 * once, and a rollback could not bring them back.
 *
 * A record is live while its live field holds the ledger's generation. A
 * release is O(1) and no system call: a guest can write a record on
 * every page of its ledger (tens of MiB), and freeing them took as long
 * as they were many, in one ring entry. The pages stay (the ledger's size
 * bounds them); a departing device's go off the loop (ledger_forget()).
 * A restart reads only the pages written (SEEK_DATA): reading a hole
 * would allocate it.
 *
 * A ledger of version 3 (no stage, no progress) is carried to this
 * version in place when taken back (ledger_adopt()), so an upgrade keeps
 * the guest's devices; one of any other version is refused.
 */
#ifndef PVDMAD_LEDGER_H
#define PVDMAD_LEDGER_H

#include <pvdma/compat.h>

#define LEDGER_MAGIC		0x474c5650u	/* "PVLG" */
#define LEDGER_VERSION		4
#define LEDGER_STATS_MAX	1024	/* bytes of the owner's counters */
#define LEDGER_CMD_MAX		64	/* bytes of the owner's command snapshot */
#define LEDGER_MAX_RECORDS	(1u << 24)

enum ledger_kind {
	LEDGER_COMPANION = 1,
	LEDGER_DMADEV = 2,
};

/**
 * struct ledger_geometry - what the owner was created with; a restarted
 * pvdmad with other limits can't adopt the device
 * @kind:	enum ledger_kind
 * @id:		the client's ivshmem id
 * @queue:	ring slots or DMA queue entries
 * @batch:	entries per slot (undo log size); 0 for a DMA device
 * @page_size:	IOMMU page (companion); the stage's size (DMA device)
 * @bus_base:	first bus page (companion)
 * @records:	bus pages covered; 0 for a DMA device
 */
struct ledger_geometry {
	u32 kind;
	u32 id;
	u32 queue;
	u32 batch;
	u64 page_size;
	u64 bus_base;
	u32 records;
	u32 pad;
};

/**
 * struct ledger_completion - the last committed slot or command, as the
 * guest must see it, and the owner's counters as they stood then
 * @stats:	the owner's counters (opaque), or NULL
 * @stats_len:	their size, at most LEDGER_STATS_MAX
 */
struct ledger_completion {
	u32 index;
	u32 seq;
	u32 status;
	u32 completed;
	u64 result;
	u64 fault_bus;
	const void *stats;
	u32 stats_len;
};

/* One mapping: the record of bus page (bus - bus_base) / page_size. */
struct ledger_rec {
	u64 bus;
	u64 host_addr;
	u64 len;
	u64 serial;	/* the slot that created it */
	u32 perm;
	u32 live;	/* the generation it is live in; 0: none */
};

/**
 * struct ledger_progress - how far the command executing moved (DMA
 * device), kept after every chunk so that a restart resumes it there: an
 * overlapping COPY run again from its start reads bytes it wrote itself
 * @slot:	the executing value it belongs to (stale once committed)
 * @moved:	bytes moved
 * @sum:	a checksum's running sum
 * @staged:	bytes of the chunk at @moved copied to the stage, to be
 *		written out from there (a chunk whose source and destination
 *		overlap can't be run twice from its source); 0: none
 */
struct ledger_progress {
	u64 slot;
	u64 moved;
	u64 sum;
	u64 staged;
};

struct ledger_hdr {
	u32 magic;
	u32 version;
	struct ledger_geometry geo;
	u64 done;		/* slots/commands committed: the host's sq_head */
	u64 executing;		/* done + 1 while one runs */
	struct ledger_completion last;
	u32 ready;
	u32 features;
	u32 undo_count;
	u32 generation;		/* of the live records, never 0 */
	u32 begun_generation;	/* when the slot executing began */
	u32 stats_len;
	u8 stats[LEDGER_STATS_MAX];	/* counters at the last commit */
	/* The command executing, and its progress, double-buffered: one
	 * is whole while the other is written (progress_cur says which). */
	u32 cmd_len;
	u32 progress_cur;
	u32 renumbering;	/* records of the generation being renumbered
				   may read 1 already (ledger_renumber()) */
	u32 pad;
	u8 cmd[LEDGER_CMD_MAX];
	struct ledger_progress progress[2];
};

/**
 * struct ledger - a mapped ledger
 * @fd:		the memfd
 * @hdr:	its header
 * @undo:	the undo log (geo.batch records)
 * @stage:	a chunk's source bytes (DMA device: geo.page_size)
 * @recs:	the mapping records (geo.records)
 * @size:	bytes mapped
 * @geo:	the geometry it was mapped with, kept privately: the file's copy
 *		may change under pvdmad (anyone holding the fd can write it),
 *		so nothing is bounded by what the file says after adopt
 */
struct ledger {
	int fd;
	struct ledger_hdr *hdr;
	struct ledger_geometry geo;
	struct ledger_rec *undo;
	u8 *stage;
	struct ledger_rec *recs;
	u64 size;
	u64 renumbers;	/* ledger_renumber() walks (tests) */
	bool stage_dirty;	/* the stage may hold pages (ledger_stage_release()) */
	u64 stage_releases;	/* punches of the stage (tests) */
	u32 carried_from;	/* the version it was adopted at, if older */
	u64 records_read;	/* by ledger_for_each()'s walks (tests) */
};

/* A new, empty ledger in a fresh memfd. 0 or a negative errno. */
int ledger_create(struct ledger *l, const struct ledger_geometry *geo);

/* Map a ledger handed back by the fd store (takes @fd). -EPROTO if it is
 * not one (or a corrupt one), -EPROTONOSUPPORT if it is of a version this
 * pvdmad doesn't read, -ESTALE if its geometry differs from @geo. One of
 * version 3 is carried to this version first, in place (@carried_from). */
int ledger_adopt(struct ledger *l, int fd, const struct ledger_geometry *geo);

void ledger_destroy(struct ledger *l);

void ledger_begin(struct ledger *l);
/* Commit the slot: @c's completion and counters, then the position. */
void ledger_commit(struct ledger *l, const struct ledger_completion *c);
/* The counters of the last commit into @out (@len bytes); false if the
 * ledger holds none of that size. */
bool ledger_stats(const struct ledger *l, void *out, u32 len);

/*
 * The command the slot begun executes (@len bytes of the owner's
 * snapshot) and its progress before it moves (@p). After ledger_begin().
 */
void ledger_cmd(struct ledger *l, const void *cmd, u32 len,
		const struct ledger_progress *p);
/* The command moved on: @p (its slot is set here) becomes current. */
void ledger_progress(struct ledger *l, const struct ledger_progress *p);
/* The stage, geo.page_size bytes for a DMA device (else none: NULL). */
static inline u8 *ledger_stage(const struct ledger *l, u64 *len)
{
	*len = l->geo.kind == LEDGER_DMADEV ? l->geo.page_size : 0;
	return *len ? l->stage : NULL;
}
/*
 * No command needs the stage: its pages (up to geo.page_size) go back to
 * the system, the file's size kept. ledger_commit() does it once the
 * command that staged is committed (its progress retired), and the owner
 * after a restart whose resume point stages nothing: a kill before or
 * inside the punch leaves a stage no progress names.
 */
void ledger_stage_release(struct ledger *l);
/*
 * After ledger_recover(): the command the previous process died in, into
 * @cmd (@len bytes), and how far it moved. false if none was kept (it
 * begins again from its start) or what was kept can't be (a progress of
 * another slot, a command of another size, more staged than the stage).
 * The owner checks the rest against the command.
 */
bool ledger_resume_point(const struct ledger *l, void *cmd, u32 len,
			 struct ledger_progress *p);

/* A map or unmap the backend did; false if @bus is outside the ledger. */
bool ledger_mapped(struct ledger *l, u64 bus, u64 host_addr, u64 len, u32 perm);
bool ledger_unmapped(struct ledger *l, u64 bus);
/* Every mapping gone (HELLO, RESET, disconnect). */
void ledger_released(struct ledger *l);
/* Is @r live (a mapping a restart restores)? */
static inline bool ledger_rec_live(const struct ledger *l,
				   const struct ledger_rec *r)
{
	return r->live && r->live == l->hdr->generation;
}
void ledger_set_session(struct ledger *l, bool ready, u32 features);

/*
 * The last completion, copied out: what is checked in it (the index) must
 * be what is used, and the file can change between two reads of it.
 */
static inline struct ledger_completion ledger_last(const struct ledger *l)
{
	const struct ledger_completion *f = &l->hdr->last;

	return (struct ledger_completion){
		.index = READ_ONCE(f->index),
		.seq = READ_ONCE(f->seq),
		.status = READ_ONCE(f->status),
		.completed = READ_ONCE(f->completed),
		.result = READ_ONCE(f->result),
		.fault_bus = READ_ONCE(f->fault_bus),
	};
}

/*
 * ledger_recover - roll back a slot the previous process died in.
 * Returns true if there was one.
 */
bool ledger_recover(struct ledger *l);

/* Is @r (one of @l's records) the record of its own bus address? Only
 * then does an unmap of that address find it. */
bool ledger_rec_in_place(struct ledger *l, const struct ledger_rec *r);

/* Call @fn for each live record; stops at the first non-zero return. */
int ledger_for_each(struct ledger *l,
		    int (*fn)(void *ctx, const struct ledger_rec *r), void *ctx);

/*
 * With the fd store (fdstore.h), under @name. NULL store: the ledger is
 * still kept, only not across a restart.
 */
struct fdstore;

/* A new ledger, handed to the store. 0 or a negative errno. */
int ledger_keep(struct fdstore *st, const char *name,
		const struct ledger_geometry *geo, struct ledger **out);
/* The ledger the store handed back, checked against @geo. */
int ledger_take(struct fdstore *st, const char *name,
		const struct ledger_geometry *geo, struct ledger **out);
/*
 * The device is gone: out of the store, freed. Its memory (as many pages
 * as the guest wrote records across) is given back by @release, which
 * unmaps and closes, maybe off the caller's thread (NULL: here). Not
 * punched first: nothing will read it.
 */
void ledger_forget(struct fdstore *st, const char *name, struct ledger *l,
		   void (*release)(void *addr, size_t len, int fd));
/* pvdmad exits for a restart: freed here, left in the store. */
void ledger_leave(struct ledger *l);

#endif /* PVDMAD_LEDGER_H */
