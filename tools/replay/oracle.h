/* SPDX-License-Identifier: MIT */
/*
 * The oracle: a clairvoyant lower bound on host calls
 * (pvdma-replay --policy oracle, docs/planner.md).
 *
 * A first pass logs the driver's maps (their 16 KiB pages) and unmaps,
 * whatever the planner does. Then, knowing the whole future: a map whose
 * pages are all mapped costs nothing; one whose pages and the live pages
 * do not fit the aperture fails (at no cost); any other costs one host
 * call, which maps the live pages, its own, and those of the maps that
 * follow, in order, while they fit. Mapping counts, bus space and window
 * shapes are ignored: no policy can do better.
 */
#ifndef PVDMA_REPLAY_ORACLE_H
#define PVDMA_REPLAY_ORACLE_H

#include <pvdma/planner.h>

#include "replay.h"

/* What the first pass logged; zero-initialised before it. */
struct oracle_log {
	u64 *pages;		/* every map's distinct 16 KiB pages */
	u64 npages, pages_cap;
	u64 *maps;		/* map i's pages: [maps[i], maps[i + 1]) */
	u64 nmaps, maps_cap;
	u64 *bytes;		/* map i's bytes, as the driver asked */
	u64 nbytes, bytes_cap;
	u64 *events;		/* map i: i << 1; unmap of map i: i << 1 | 1 */
	u64 nevents, events_cap;
	bool oom;
};

/* The pages of @segs[0..n): a new map in @log (NULL: nothing logged). */
void oracle_log_map(struct oracle_log *log, const struct pvdma_seg *segs,
		    u32 n);

/* The unmap of map @map_id (NULL @log: nothing logged). */
void oracle_log_unmap(struct oracle_log *log, u32 map_id);

/* The id of the map logged last. */
u32 oracle_last_map(const struct oracle_log *log);

/*
 * Play @log with hindsight under @aperture bytes: @res's host_calls,
 * host_maps and failed_maps. 0, or -1 out of memory.
 */
int oracle_run(const struct oracle_log *log, u64 aperture,
	       struct replay_result *res);

void oracle_log_free(struct oracle_log *log);

#endif /* PVDMA_REPLAY_ORACLE_H */
