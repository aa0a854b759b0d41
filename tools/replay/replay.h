/* SPDX-License-Identifier: MIT */
/*
 * The replay engine: feeds a stream of DMA events (a recorded trace or a
 * synthetic generator) through one planner policy against a fresh DART
 * model, plays the driver's side (which buffer an unmap names), verifies
 * every mapping handed out and counts what the host would have seen.
 */
#ifndef PVDMA_REPLAY_H
#define PVDMA_REPLAY_H

#include <pvdma/dart.h>
#include <pvdma/planner.h>

#include "trace.h"

/* Most shown entries one parsed line may carry (old kernels print all). */
#define REPLAY_MAX_SHOWN	65536u
#define REPLAY_ALIGN_64K	(64ull << 10)
#define REPLAY_ALIGN_2M		(2ull << 20)
/* Invented and bounce addresses stay below this. */
#define REPLAY_ADDR_LIMIT	(1ull << 62)

/* Where events come from. The callbacks get the source itself. */
struct replay_source {
	const char *name;
	void *ctx;
	/* Start over from the first event; @report: print parse errors. */
	int (*rewind)(struct replay_source *src, bool report);
	/* 1: *ev filled, 0: end, -1: the source failed (message printed). */
	int (*next)(struct replay_source *src, struct trace_event *ev);
	void (*close)(struct replay_source *src);
	u64 parse_errors;		/* malformed lines since rewind */
};

/* A trace file as a source (plain or .xz). */
int replay_file_source(struct replay_source *src, const char *path);

struct replay_options {
	enum pvdma_policy policy;
	bool strict;
	enum pvdma_bounce_mode bounce;	/* pvdma policy only */
	u64 aperture;
	u32 max_mappings;
	u64 max_window;			/* 0: the planner's default */
	u32 spec_shift;			/* shift + 1; 0: the planner's default */
	u64 bounce_bytes;		/* pvdma --bounce, and the pool policy */
	u64 block_bytes;		/* block policy; 0: its default */
	u32 batch;			/* entries per host call; 0: the
					 * protocol's PVDMA_DEFAULT_MAX_BATCH */
	bool quiet;			/* no per-error messages */
	u64 invent_bytes;		/* each invented sg entry at most this
					 * (0: the shown entries' mean) */
	bool oracle;			/* the clairvoyant lower bound, not a
					 * planner policy (oracle.c) */
	bool fill_from_unmap;		/* hidden sg entries at the addresses
					 * their list's unmap shows (lay->fills) */
};

/*
 * The hidden entries of one truncated list, as its own unmap shows them:
 * the addresses from the unmap's full list, each entry's size estimated
 * (the unmap names no sizes). In lay->fill_ents from @first on.
 */
struct replay_fill {
	u64 map_no;		/* which dma_map_sg of the source (0: the first) */
	u64 first;
	u32 shown;		/* entries the map showed */
	u32 total;
};

struct replay_fill_ent {
	u64 gpa;
	u64 len;
};

/* What a first pass over the source learnt; the same for every policy. */
struct replay_layout {
	u64 events;
	u64 parse_errors;
	u64 max_addr;		/* one past the highest byte the trace names */
	u32 max_segs;		/* most entries one map has, filled */
	u64 invent_base;	/* invented sg entries start here */
	u64 invent_bound;	/* bytes they may take, at most */
	u64 bounce_gpa;		/* the bounce pool lies here */
	bool no_room;		/* the trace's addresses leave no room above */
	struct replay_fill *fills;	/* by map_no */
	u64 nfills;
	struct replay_fill_ent *fill_ents;
	u64 nfill_ents;
	u64 fills_refused;	/* full unmap lists that disagree with their
				 * map's shown entries, not used */
};

struct replay_result {
	u64 events;
	u64 phases;
	u64 other_events;
	u64 parse_errors;
	u64 map_requests;
	u64 map_segments;
	u64 unmap_requests;
	u64 sync_requests;
	u64 host_calls;		/* submits: VM exits */
	u64 host_maps;		/* MAP entries sent */
	u64 host_unmaps;	/* UNMAP entries sent */
	u64 host_refusals;	/* entries the DART refused */
	u64 tlb_flushes;
	u64 peak_live_mappings;
	u64 peak_aperture_bytes;
	u64 end_live_mappings;
	u64 aperture_bytes;	/* in the DART now (read while running) */
	u64 live_bytes;		/* the driver's bytes, from the trace */
	u64 peak_live_bytes;
	u64 invented_bytes;	/* of every hidden entry: sizes estimated */
	u64 hidden_filled;	/* hidden entries at addresses from the trace */
	u64 hidden_invented;	/* hidden entries at invented addresses */
	u64 fills_refused;	/* lay->fills_refused */
	u64 failed_maps;
	u64 failed_bytes;	/* what the failed maps asked for */
	u64 invalid_maps;	/* events the replay could not form a map of */
	u64 unmatched_unmaps;
	u64 implied_unmaps;	/* unrecordable unmaps of re-mapped long lists */
	u64 skipped_unmaps;	/* of maps that had failed */
	u64 unmap_errors;
	u64 unmatched_syncs;
	u64 bounced_maps;
	u64 bounced_bytes;
	u64 evictions;
	u64 hits;
	u64 misses;
	u64 verify_errors;
	u64 warnings;		/* the planner's invariant checks that fired
				 * (PVDMA_WARN_ON): 0, or a planner bug */
	u64 align_bytes;	/* bytes of verified maps */
	u64 align_64k_bytes;	/* of which bus = physical modulo 64 KiB */
	u64 align_2m_bytes;	/* of which bus = physical modulo 2 MiB */
	u64 align_fallbacks;	/* host maps placed with less alignment */
	u64 spec_waste_peak;	/* most bytes grown windows held beyond the
				 * most their mappings used, at any map */
	u64 spec_waste_end;
	u64 trims;		/* partial unmaps (PVDMA_OP_TRIM) */
	u64 trimmed_bytes;
	u64 admission_refusals;	/* maps refused before any host call */
	u64 id_collisions;	/* rfc: refused as a duplicate host id */
	u64 fast_lookups;	/* hits found without a tree descent */
	u64 fast_maps;		/* single maps the hit path served */
	u64 fast_refusals;	/* single misses refused with no pass */
	u64 exact_passes;	/* refused calls planned again exact */
	u64 fail_by_reason[PVDMA_FAIL_COUNT];
	u64 map_ns;		/* time inside pvdma_map */
	u64 map_host_ns;	/* of which in the host (the DART model) */
	u64 host_ns;		/* time in the host, all calls */
	u64 planner_ns;		/* map_ns less the host's and the clock's */
	u64 unmap_planner_ns;	/* likewise inside pvdma_unmap */
	u64 call_maps;		/* maps that made a host call */
	u64 call_planner_ns;	/* of planner_ns, theirs: what misses,
				 * trims and evictions cost beside hits */
	char first_failure[256];
};

/*
 * First pass: addresses, list sizes, parse errors, and the hidden entries
 * that later unmaps show. 0 or -1; either way replay_layout_free() after.
 */
int replay_scan(struct replay_source *src, struct replay_layout *lay);
void replay_layout_free(struct replay_layout *lay);

/* One (source, policy) run. 0, or -1 if it could not run at all. */
int replay_run(struct replay_source *src, const struct replay_layout *lay,
	       const struct replay_options *opt, struct replay_result *res);

#endif /* PVDMA_REPLAY_H */
