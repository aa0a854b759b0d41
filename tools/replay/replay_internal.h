/* SPDX-License-Identifier: MIT */
/*
 * What the replay engine's files share (replay.c: the run; driver.c: the
 * driver's side; host.c: the host's; verify.c: the checks of every map).
 * One struct replay per (source, policy) run, used by one thread.
 */
#ifndef PVDMA_REPLAY_INTERNAL_H
#define PVDMA_REPLAY_INTERNAL_H

#include <pvdma/dart.h>
#include <pvdma/planner.h>

#include <time.h>

#include "htable.h"
#include "replay.h"

#define REPLAY_GUEST_PAGE	4096ull

struct oracle_log;

/* The state of one run. */
struct replay {
	const struct replay_options *opt;
	struct oracle_log *log;		/* the oracle's first pass, or NULL */
	const struct replay_layout *lay;
	struct replay_result *res;
	struct pvdma_dart dart;
	struct pvdma_dart_mapping *dart_slots;
	struct pvdma_planner planner;
	struct pvdma_planner_mem mem;
	struct pvdma_seg *segs;
	u32 segs_cap;
	struct htable singles;
	struct htable lists;
	struct htable invented;
	u64 invent_next;
	u64 sg_map_no;			/* dma_map_sg events so far */
	u64 fill_next;			/* lay->fills[] not yet passed */
	unsigned int messages;
	const char *name;	/* the source, for messages */
	u64 clock_ns;		/* what one timed interval adds: clock_cost() */
};

static inline u64 replay_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec;
}

/* A message about this run on stderr, the first few only (replay.c). */
void replay_note(struct replay *rp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* ---- the driver's side (driver.c) ---- */

/* The driver's tables and the segment array. 0 or -ENOMEM. */
int replay_driver_init(struct replay *rp);
void replay_driver_free(struct replay *rp);

/* One event of the source, played as the driver did it. */
void replay_driver_event(struct replay *rp, const struct trace_event *ev);

/* Size of one invented entry of a truncated list, and what they all take. */
u64 replay_invented_size(const struct trace_event *ev);
bool replay_invented_extent(const struct trace_event *ev, u64 each, u64 *ext);

/* ---- the host's side (host.c) ---- */

/* The DART model of this run's options. 0 or a negative errno. */
int replay_host_init(struct replay *rp);
void replay_host_free(struct replay *rp);

/* The planner's host: every request to the DART model. */
extern const struct pvdma_planner_ops replay_host_ops;

/* ---- the checks of every map (verify.c) ---- */

/* The device reaches exactly the bytes asked for, with the rights asked. */
void replay_verify_seg(struct replay *rp, const struct pvdma_seg *s, u32 perm);

/* A map the planner refused: counted, the first one described. */
void replay_record_failure(struct replay *rp, u64 bytes, u32 nsegs);

#endif /* PVDMA_REPLAY_INTERNAL_H */
