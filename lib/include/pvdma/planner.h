/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The window planner: the guest-side brain of pvdma.
 *
 * It turns a driver's DMA map request (one range or a scatter-gather list,
 * with a direction) into bus addresses backed by host IOMMU mappings, and
 * unmaps and syncs back. It decides which guest memory is mapped, in what
 * pieces ("windows"), and for how long; every host request of one driver
 * call goes out as one batch (one host call, one VM exit).
 *
 * Policies (docs/planner.md explains each, with its modelling choices);
 * each is one file behind struct pvdma_policy_ops (planner_internal.h):
 *  PVDMA_POLICY_PVDMA	windows grown to the traffic (streams, dense
 *			blocks, big first windows) within the free aperture,
 *			admitted before anything is queued, kept mapped while
 *			idle (LRU-evicted under pressure), batched; strict
 *			mode unmaps exact ranges at once.
 *  PVDMA_POLICY_RFC	the original QEMU RFC's guest driver, faithfully:
 *			256 KiB windows / 16 KiB-rounded direct regions keyed
 *			by exact (base, size), one host call per region made
 *			or released, unmap at refcount zero, failures final.
 *  PVDMA_POLICY_PERPAGE every entry its own 16 KiB-rounded mapping, one host
 *			call per entry.
 *  PVDMA_POLICY_BLOCK	reference: fixed aligned blocks of block_bytes, the
 *			same cache, batching and admission as pvdma.
 *  PVDMA_POLICY_POOL	reference: the original's module-free mode, a fixed
 *			bounce pool mapped once; every byte copied.
 *
 * Bounce (pvdma policy only): streaming maps that cannot get a window are
 * copied into a pool the planner maps once, as swiotlb does: data copied to
 * the pool at map (and sync_for_device) if the device reads, back at unmap
 * (and sync_for_cpu) if the device writes. Only correct for drivers that
 * follow the DMA API's ownership rules, hence a per-device choice.
 *
 * Memory: the caller provides every array (struct pvdma_planner_mem).
 * Locking: none inside; the caller serialises all calls on one planner.
 * The ops are called with the caller's lock held and must not sleep if the
 * caller maps from atomic context.
 * Return convention: 0 or a negative errno. A failed map leaves nothing of
 * that call mapped, and planner->last_failure says why.
 */
#ifndef PVDMA_PLANNER_H
#define PVDMA_PLANNER_H

#include "avl.h"
#include "bitmap.h"
#include "iova.h"
#include "list.h"
#include "proto.h"

enum pvdma_policy {
	PVDMA_POLICY_PVDMA	= 0,
	PVDMA_POLICY_RFC	= 1,
	PVDMA_POLICY_PERPAGE	= 2,
	PVDMA_POLICY_BLOCK	= 3,
	PVDMA_POLICY_POOL	= 4,
	PVDMA_POLICY_COUNT
};

enum pvdma_bounce_mode {
	PVDMA_BOUNCE_OFF	= 0,	/* a map that does not fit fails */
	PVDMA_BOUNCE_SMALL	= 1,	/* streaming maps <= bounce_small_max */
	PVDMA_BOUNCE_ALL	= 2,	/* every streaming map that does not fit */
};

/* Same values as the kernel's enum dma_data_direction. */
enum pvdma_dir {
	PVDMA_DIR_BIDIRECTIONAL	= 0,
	PVDMA_DIR_TO_DEVICE	= 1,
	PVDMA_DIR_FROM_DEVICE	= 2,
};

/* Map attributes. */
#define PVDMA_ATTR_COHERENT	(1u << 0)	/* coherent alloc: never bounce */
#define PVDMA_ATTR_NO_BOUNCE	(1u << 1)	/* caller forbids bounce */

/* Why a map failed (last_failure.reason). */
enum pvdma_fail_reason {
	PVDMA_FAIL_NONE		= 0,
	PVDMA_FAIL_APERTURE	= 1,	/* live windows fill the aperture */
	PVDMA_FAIL_MAPPINGS	= 2,	/* mapping count at its limit */
	PVDMA_FAIL_BUS_SPACE	= 3,	/* host bus space fragmented */
	PVDMA_FAIL_BOUNCE_FULL	= 4,	/* bounce pool has no room */
	PVDMA_FAIL_HOST		= 5,	/* host refused (status in host_status) */
	PVDMA_FAIL_TRANSPORT	= 6,	/* host unreachable */
	PVDMA_FAIL_INVALID	= 7,	/* bad arguments (zero length, overflow) */
	PVDMA_FAIL_NO_RECORDS	= 8,	/* planner's window records exhausted */
	PVDMA_FAIL_ROOM_KEPT	= 9,	/* aperture kept for smaller maps */
	PVDMA_FAIL_COUNT
};

/* One segment of a map or unmap. */
struct pvdma_seg {
	u64 gpa;	/* map in: guest-physical start */
	u64 len;	/* map in / unmap in: bytes */
	u64 bus;	/* map out / unmap in: bus address the device uses */
	u64 dev_gpa;	/* map out: guest memory the device reaches (gpa, or
			 * the bounce slot) - for verification
			 */
	u32 bounced;	/* map out: nonzero if served by the bounce pool */
	u32 cookie;	/* the planner's own use during a call */
};

struct pvdma_planner_ops {
	/*
	 * Execute @n requests on the host, in order, synchronously: fill each
	 * op's status (and bus, for MAP). One call is one host call (VM
	 * exit). Return 0, or a negative errno if the host could not be
	 * reached (then no op took effect).
	 */
	int (*submit)(void *ctx, struct pvdma_request *ops, u32 n);
	/* Copy @len bytes of guest memory @src -> @dst (bounce); may be NULL
	 * in a replay that moves no data.
	 */
	void (*copy)(void *ctx, u64 dst_gpa, u64 src_gpa, u64 len);
	/*
	 * The guest RAM range holding @gpa: set [*start, *end) and return
	 * true, or false if @gpa is not RAM. Windows never extend past it.
	 * NULL: all addresses are RAM.
	 */
	bool (*ram_range)(void *ctx, u64 gpa, u64 *start, u64 *end);
};

struct pvdma_planner_config {
	enum pvdma_policy policy;
	bool strict;			/* pvdma: unmap exact ranges at once */
	bool trim;			/* the host takes PVDMA_OP_TRIM: the
					 * unused ends of windows in use can
					 * be given back (PVDMA_FEAT_TRIM)
					 */
	enum pvdma_bounce_mode bounce;
	/* Host limits (negotiated). */
	u64 page_size;
	u64 aperture_bytes;
	u32 max_mappings;
	/* The host's bus space [bus_base, bus_limit): no window is asked for
	 * that no free range of it can hold (0, 0: not known; the planner
	 * then learns it from refusals).
	 */
	u64 bus_base;
	u64 bus_limit;
	/* pvdma window sizing (docs/planner.md): speculation may hold
	 * aperture >> spec_shift in pages no mapping has used yet (more
	 * while the aperture is mostly free: up to half of it with the
	 * windows mappings use); one
	 * speculative window takes at most (what is left of that, and of the
	 * free aperture >> spec_shift) >> headroom_shift, and never more than
	 * max_window. A single map of at most window_small_max bytes with no
	 * better clue gets such a window; streams and dense blocks grow any
	 * miss.
	 */
	u64 max_window;
	u64 window_small_max;
	u32 headroom_shift;
	u32 spec_shift;
	/* rfc: window size 2^rfc_window_shift (0: no windows). */
	u32 rfc_window_shift;
	/* block: every window an aligned block of this many bytes (a power
	 * of two >= page_size; larger requests are rounded out to it).
	 */
	u64 block_bytes;
	/* Bounce: pool of guest memory [bounce_gpa, + bounce_bytes) that the
	 * caller allocated (page_size aligned); SMALL bounces maps up to
	 * bounce_small_max bytes. The pool counts against the aperture.
	 */
	u64 bounce_gpa;
	u64 bounce_bytes;
	u64 bounce_small_max;
};

#define PVDMA_DEFAULT_MAX_WINDOW_KB	262144	/* 256 MiB; a module parameter's unit */
#define PVDMA_DEFAULT_MAX_WINDOW	((u64)PVDMA_DEFAULT_MAX_WINDOW_KB << 10)
#define PVDMA_DEFAULT_WINDOW_SMALL_MAX	(256ull << 10)
#define PVDMA_DEFAULT_HEADROOM_SHIFT	2
#define PVDMA_DEFAULT_SPEC_SHIFT	2
#define PVDMA_DEFAULT_RFC_WINDOW_SHIFT	18
#define PVDMA_DEFAULT_BOUNCE_SMALL_MAX	(64ull << 10)
#define PVDMA_DEFAULT_BLOCK_BYTES	(2ull << 20)

/*
 * Where the live mappings of a large grown window lie, in up to
 * PVDMA_CHUNKS chunks: what lets a trim give back the holes between them,
 * not only its ends. A window has one only while the caller's pool of
 * them lasts (struct pvdma_planner_mem).
 */
#define PVDMA_CHUNKS		512
/*
 * Grown windows this large get one when made; exact windows of
 * PVDMA_CHUNK_SHARED_PAGES or more when another call shares them
 * (page-grained up to PVDMA_CHUNKS pages). Smaller windows get none.
 */
#define PVDMA_CHUNK_MIN_PAGES	256
#define PVDMA_CHUNK_SHARED_PAGES	16
/*
 * Chunk maps the guest gives its planner (about 10 KiB each: 5 MiB per
 * device), and so the replay too: one with more would report trims the
 * guest can't make. Pieces a trim leaves holding several buffers take
 * them as well; with 128, server-heavy failed 122 maps (rfc 87).
 */
#define PVDMA_CHUNK_MAPS_DEFAULT	512

struct pvdma_chunk_map {
	u32 cover[PVDMA_CHUNKS];	/* live mappings touching each chunk */
	u32 starts[PVDMA_CHUNKS];	/* live mappings starting in each */
	u32 ends[PVDMA_CHUNKS];		/* live mappings ending in each */
	/*
	 * Lowest start and highest end, as offsets into the chunk, of the
	 * mappings starting (ending) in each since it last had none: a
	 * trim cuts a kept run of chunks to them, not to the chunk grid
	 */
	u32 first_lo[PVDMA_CHUNKS];
	u32 last_hi[PVDMA_CHUNKS];
	/* bit i set while cover[i] is not 0: a trim finds the next touched
	 * chunk, and the end of a run, a word at a time
	 */
	u64 touched[PVDMA_BITMAP_WORDS(PVDMA_CHUNKS)];
	/* bytes per chunk: a power of two, at least a page */
	u64 chunk;
	u32 shift;			/* log2(chunk) */
	u32 pad;
	u64 skew;			/* window start - chunk 0's start:
					 * chunks lie on the address grid,
					 * so aligned buffers fill whole ones
					 */
	u64 free_bytes;			/* of chunks no live mapping touches */
	struct pvdma_chunk_map *next_free;
};

/* Live mappings touching chunk @i of @c. */
static inline u32 pvdma_chunk_cover(const struct pvdma_chunk_map *c, u32 i)
{
	return c->cover[i];
}

enum pvdma_window_state {
	PVDMA_WIN_FREE		= 0,	/* record unused */
	PVDMA_WIN_PENDING	= 1,	/* planned, host map not yet done */
	PVDMA_WIN_LIVE		= 2,	/* mapped, refs > 0 */
	PVDMA_WIN_IDLE		= 3,	/* mapped, refs == 0, on the LRU */
	PVDMA_WIN_FAILED	= 4,	/* the host refused the map */
};

/**
 * struct pvdma_window - one host mapping the planner owns
 * @gpa_node:	in planner->by_gpa (shared windows only)
 * @bus_node:	in planner->by_bus (every mapped window)
 * @lru:	idle list link, or free list link
 * @gpa:	guest-physical start (page aligned)
 * @len:	bytes (page multiple)
 * @bus:	bus address the host chose
 * @refs:	live driver mappings inside
 * @state:	enum pvdma_window_state
 * @shared:	reachable through by_gpa (hits may reuse it)
 * @used_lo:	[used_lo, used_hi): offsets within the window that live
 * @used_hi:	mappings have used; outside it, a window in use can be
 *		trimmed
 * @live:	page-rounded bytes of the live mappings inside
 * @peak:	most @live has been: of a grown window, len - peak is
 *		speculation not yet paid off
 * @chunks:	where its live mappings are (large grown windows, exact
 *		ones other calls share), or NULL
 * @grown:	grown past its first request (counts as speculation)
 * @trimmable:	on planner->spec_live or need_live: mapped, in use, with
 *		parts a trim may give back
 * @whole:	exact, and its one live mapping is the one it was made
 *		for, covering it: what a chunk map made when another call
 *		shares it starts from
 * @need_only:	an exact window other calls share (or a piece of one): no
 *		speculation, on planner->need_live, trimmed only when a map
 *		needs the room
 * @returned:	private, made for a request whose last private window went
 *		with a host call (planner->gone): idle, it stays past host
 *		calls while a dead hint can find it
 * @perm:	PVDMA_MAP_* it was mapped with
 * @host_status: PVDMA_ST_* of a refused map
 */
struct pvdma_window {
	struct pvdma_avl_node gpa_node;
	struct pvdma_avl_node bus_node;
	struct pvdma_list lru;
	u64 gpa;
	u64 len;
	u64 bus;
	u64 used_lo;
	u64 used_hi;
	u64 live;
	u64 peak;
	struct pvdma_chunk_map *chunks;
	u32 refs;
	u8 state;
	u8 shared;
	u16 perm;
	u8 grown;
	u8 trimmable;
	u8 whole;
	u8 need_only;
	u8 returned;
	u8 holes;	/* grown over its list's holes (hole_pinned) */
	/* the call that last queued its map (call_seq); wraps: a stamp
	 * 2^16 calls old that matches costs a rewrite, nothing more
	 */
	u16 map_call;
	u32 host_status;
	/* map_requests when it last went idle, its low 32 bits: they fill
	 * the struct's hole (a u64 made it 176 bytes and cost the hit path
	 * its index arithmetic); a window idle 2^32 maps looks fresh for a
	 * while, which only delays spec_dead_evict() that while
	 */
	u32 idle_at;
};

/* The range of a private window that went with a host call. */
struct pvdma_gone_request {
	u64 gpa;
	u64 len;
};

/* One bounced mapping: a range of the pool. */
struct pvdma_bounce_slot {
	struct pvdma_iova_node iova;	/* pool offset range */
	u64 orig_gpa;			/* the driver's buffer */
	u64 len;
	u64 dev_off;			/* pool offset of the data */
	u32 dir;
	u32 in_use;
	struct pvdma_bounce_slot *next_free;
};

struct pvdma_planner_stats {
	u64 map_requests;	/* driver map calls (a map_sg is one) */
	u64 map_segments;
	u64 unmap_requests;
	u64 unmap_segments;
	u64 sync_requests;
	u64 host_calls;		/* submits: VM exits */
	u64 host_maps;		/* MAP entries sent */
	u64 host_unmaps;	/* UNMAP entries sent */
	u64 hits;		/* segments served by an existing window */
	u64 misses;		/* segments that needed a new mapping */
	u64 evictions;		/* idle windows unmapped under pressure */
	u64 failed_maps;	/* driver map calls that failed */
	u64 bounced_maps;
	u64 bounced_bytes;	/* bytes copied to or from the pool */
	u64 bad_unmaps;		/* unmaps of addresses never handed out */
	u64 id_collisions;	/* rfc: refused as a duplicate host id */
	u64 live_windows;
	u64 peak_windows;
	u64 live_aperture;	/* bytes in mapped windows and the pool */
	u64 spec_aperture;	/* of which grown windows hold beyond the
				 * most their mappings have used
				 */
	u64 pinned_aperture;	/* of which in windows with live mappings */
	u64 pinned_windows;
	u64 admission_refusals;	/* maps failed before anything was queued */
	u64 fast_lookups;	/* hits found with no tree descent: in the
				 * window of the entry before, or by the hint
				 */
	u64 run_hits;		/* of which in the window of the entry before */
	u64 fast_maps;		/* single maps that hit, found by the hint or
				 * one descent, served with no pass over the
				 * call (planner_cache.c)
				 */
	u64 fast_refusals;	/* single misses refused at admission with
				 * no pass (planner_cache.c)
				 */
	u64 exact_passes;	/* refused calls planned again with exact
				 * windows (planner_cache.c)
				 */
	u64 trims;		/* TRIM entries sent (partial unmaps) */
	u64 trimmed_bytes;	/* aperture they gave back */
	u64 peak_aperture;
	u64 live_bytes;		/* bytes the driver has mapped, unrounded */
	u64 peak_live_bytes;
	u64 fail_by_reason[PVDMA_FAIL_COUNT];
};

struct pvdma_fail_info {
	u32 reason;		/* enum pvdma_fail_reason */
	u32 host_status;	/* PVDMA_ST_* when the host refused */
	u64 len;		/* the segment, or the call refused whole */
	/*
	 * What the host had mapped before the call (its planned windows
	 * aside), how much of that live mappings pinned (the rest idle,
	 * evictable), and what the call's new windows needed beside it:
	 * pinned + need > max is why an aperture was full.
	 */
	u64 aperture_live;
	u64 aperture_pinned;
	u64 aperture_need;
	u64 aperture_peak;
	u64 aperture_max;
	u64 mappings_live;
	u64 mappings_max;
};

/* Caller-provided memory. nwindows >= max_mappings is sensible. */
struct pvdma_planner_mem {
	struct pvdma_window *windows;
	u32 nwindows;
	struct pvdma_bounce_slot *slots;	/* NULL if bounce is off */
	u32 nslots;
	struct pvdma_request *ops;		/* one batch */
	u32 nops;				/* a batch this long is sent
						 * at once, mid-call if need be
						 */
	struct pvdma_window **batch_win;	/* nops entries */
	struct pvdma_chunk_map *chunk_maps;	/* may be NULL: holes of grown
						 * windows are then not trimmed
						 */
	u32 nchunk_maps;
};

struct pvdma_policy_ops;

/* Misses seen per aligned block, at a few block sizes (density growth). */
#define PVDMA_MISS_LEVELS	6	/* 256 KiB, 1, 4, 16, 64, 256 MiB */
#define PVDMA_MISS_LEVEL0_SHIFT	18
#define PVDMA_MISS_BUCKETS	32	/* per level, direct-mapped */
#define PVDMA_HINT_BUCKETS	64	/* lookup hints, direct-mapped */

struct pvdma_miss_bucket {
	u64 block;		/* block index + 1; 0: empty */
	u64 bytes;		/* page-rounded bytes of its misses */
};

struct pvdma_planner {
	struct pvdma_planner_config cfg;
	const struct pvdma_planner_ops *ops;
	const struct pvdma_policy_ops *policy;
	void *ctx;
	struct pvdma_planner_mem mem;
	/* What windows may use: the aperture and the mapping count less
	 * the bounce pool's share (from cfg, once: asked on every miss)
	 */
	u64 window_budget;
	u64 window_count_budget;
	struct pvdma_avl_root by_gpa;
	struct pvdma_avl_root by_bus;
	struct pvdma_window *bus_last;	/* highest in by_bus */
	/* the widest free bus range below it, while known (planner_bus.c) */
	u64 bus_gap_start;
	u64 bus_gap_len;
	bool bus_gap_known;
	struct pvdma_list idle;		/* LRU: oldest first */
	struct pvdma_list dead;		/* unshared, unused: unmapped with
					 * the next batch that goes out
					 */
	struct pvdma_list free_windows;
	struct pvdma_list spec_live;	/* windows in use with unused parts
					 * a trim can give back, least
					 * recently hit first
					 */
	struct pvdma_list need_live;	/* of those, the ones trimmed only
					 * when a map needs the room
					 * (@need_only)
					 */
	u64 spec_pinned;		/* bytes of those parts, both lists */
	u64 hole_pinned;		/* of those, in windows with @holes */
	struct pvdma_chunk_map *free_chunk_maps;
	/* Does speculation pay? Grown windows made, and hits on them from
	 * later calls, both halved now and then so that the recent past
	 * counts most.
	 */
	u32 spec_windows;
	u32 spec_hits;
	/* speculation trim_excess() took back, and how much a later miss
	 * needed again (pvdma_trim_excess())
	 */
	struct { u64 gpa, end; } excess_trimmed[8];	/* EXCESS_RANGES */
	u32 excess_next;
	u32 excess_trims;
	u32 excess_regrets;
	/* the largest window a new area wanted this call and speculation's
	 * budget could not give (pvdma_cache_spec_starved()), and how long
	 * (in map requests) idle windows lay before a map used them again,
	 * the longest lately (spec_dead())
	 */
	u64 spec_starved;
	u64 idle_reuse;
	struct pvdma_iova pool;		/* bounce pool offsets */
	struct pvdma_bounce_slot *free_slots;
	struct pvdma_window *pool_window;	/* NULL until first bounce */
	u32 nbatch;			/* ops queued in the current call */
	/* The current map call (cache policies). */
	struct pvdma_list call_new;	/* windows this call created */
	u64 call_new_bytes;		/* their bytes, as grown */
	u64 call_longest;		/* the longest of them, as grown */
	u64 call_need;			/* their bytes, as requested */
	u64 call_span_need;		/* of which the ranges a new window
					 * keeps between the entries it serves
					 */
	u32 call_new_count;
	u16 call_seq;			/* counts map calls (map_call) */
	u32 call_grown;			/* of which grown */
	/* windows of this call a stream grew over idle windows (evicted
	 * for them at the commit), and whether the miss planned now is one
	 */
	u32 call_over_idle;
	bool miss_over_idle;
	u32 call_failed;		/* host refusals in this call */
	/* the stream's next window this call maps ahead: no entry in it */
	struct pvdma_window *call_ahead;
	/* planned again with exact windows: refused as grown (cache.c) */
	u32 call_exact;
	/* The shortest MAP the host refused for want of bus space since
	 * the last release (0: none): until something is unmapped or
	 * trimmed, free bus ranges only shrink, so a window as long would
	 * be refused again.
	 */
	u64 bus_refused_len;
	/*
	 * Room kept for smaller maps (planner_cache.c, keeps_room()): the
	 * shortest map refused for want of aperture since the aperture's
	 * contents last turned over, 0 if none; the bytes the driver had
	 * unmapped at the last refusal, at the last refusal for want of
	 * aperture or call that found the aperture less than half pinned,
	 * and by now; what recent calls needed (log2 x16, a running mean)
	 * and how many calls it has seen (to KEEP_SEEN).
	 */
	u64 refused_len;
	u64 refused_released;
	u64 crowd_released;
	u64 released_bytes;
	u64 need_log_mean;
	u32 need_calls;
	/*
	 * Do crowding maps crowd anything out (planner_cache.c,
	 * crowd_tally())? Maps refused for want of aperture or for room so
	 * far; the crowding map watched (.at: the map call that made it, 0
	 * if none) and how the last few went, transient > 0 > staying.
	 */
	u64 aperture_refusals;
	struct {
		u64 gpa;
		u64 at;
		u64 refusals;
	} crowd_probe;
	int crowd_tally;
	/* Windows recently hit, by 2 MiB of guest address: most lookups end
	 * here without a tree descent (validated on use).
	 */
	struct pvdma_window *hint[PVDMA_HINT_BUCKETS];
	/* The window a miss of this call put in the index last and the one
	 * after it there (NULL: none), while the index has not changed
	 * since (NULL: it has): the list's next miss that lies between them
	 * needs no descent to find its floor (planner_cache.c).
	 */
	struct pvdma_window *gpa_cursor, *gpa_cursor_next;
	/* Unshared windows waiting on the dead list to go with the next
	 * host call, by first page: the same request back before then
	 * takes its window again (validated on use).
	 */
	struct pvdma_window *dead_hint[PVDMA_HINT_BUCKETS];
	/* Requests whose private windows went with a host call, by first
	 * page: one that comes back is a buffer the driver maps again and
	 * again, and its next private window stays (@returned).
	 */
	struct pvdma_gone_request gone[PVDMA_HINT_BUCKETS];
	struct pvdma_miss_bucket miss[PVDMA_MISS_LEVELS][PVDMA_MISS_BUCKETS];
	struct pvdma_planner_stats stats;
	struct pvdma_fail_info last_failure;
};

/* Fill @cfg with defaults for @policy and the host's limits. */
void pvdma_planner_default_config(struct pvdma_planner_config *cfg,
				  enum pvdma_policy policy, u64 page_size,
				  u64 aperture_bytes, u32 max_mappings);

int pvdma_planner_init(struct pvdma_planner *p,
		       const struct pvdma_planner_config *cfg,
		       const struct pvdma_planner_ops *ops, void *ctx,
		       const struct pvdma_planner_mem *mem);

/*
 * pvdma_map - map @n segments for the device, all or nothing
 * On success each seg's bus/dev_gpa/bounced are set. At most one host call.
 * (rfc/perpage: one host call per new region, as the original.)
 */
int pvdma_map(struct pvdma_planner *p, struct pvdma_seg *segs, u32 n,
	      enum pvdma_dir dir, u32 attrs);

/* Unmap @n segments by (bus, len) as map returned them. */
int pvdma_unmap(struct pvdma_planner *p, const struct pvdma_seg *segs, u32 n,
		enum pvdma_dir dir);

/* dma_sync_*: only bounced mappings need work. */
int pvdma_sync(struct pvdma_planner *p, u64 bus, u64 len, enum pvdma_dir dir,
	       bool for_device);

/* Unmap every idle window now (one host call); returns how many. */
int pvdma_reclaim(struct pvdma_planner *p);

/*
 * Forget every window and the pool, live or not, without talking to the
 * host (after a host RESET or loss). Live driver mappings become invalid.
 */
void pvdma_planner_forget(struct pvdma_planner *p);

const char *pvdma_policy_name(enum pvdma_policy policy);
int pvdma_policy_parse(const char *name, enum pvdma_policy *policy);
/* A failure reason's description ("aperture full"), or "unknown". */
const char *pvdma_fail_reason_name(u32 reason);
/* Its key for counter and file names ("aperture"), or "unknown". */
const char *pvdma_fail_reason_key(u32 reason);
const char *pvdma_bounce_mode_name(enum pvdma_bounce_mode mode);

/* The window whose bus range holds @bus, or NULL (diagnostics, tests). */
const struct pvdma_window *pvdma_window_by_bus(const struct pvdma_planner *p,
					       u64 bus);

#endif /* PVDMA_PLANNER_H */
