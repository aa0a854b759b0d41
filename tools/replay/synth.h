/* SPDX-License-Identifier: MIT */
/*
 * Synthetic event generators for what the recorded traces do not stress:
 *  over-aperture	a working set of 2x the aperture, cycled through
 *  churn		random map/unmap of random sizes and lifetimes
 *  storm4k		live 4 KiB buffers, one per 256 KiB block
 * and the workload classes A-L of docs/performance.md (a-stream, a-descend,
 * a-scatter, a-fill, b-pinned, c-context, d-multictx, e-upload,
 * f-longlists, g-pool, h-keep, h-lists, i-infer, j-texture, k-regbatch,
 * j-stream, l-rereg), and mix: 2-5 phases of those classes in one stream,
 * "mix:LIST" (say mix:0,2) only the phases listed.
 * synth.c and docs/performance.md describe each. Every generator is
 * deterministic for a given seed and replays identically for every policy.
 */
#ifndef PVDMA_SYNTH_H
#define PVDMA_SYNTH_H

#include "replay.h"

struct synth_params {
	u64 aperture;	/* the run's aperture: sizes scale with it */
	u64 seed;
	u64 ops;	/* churn: map + unmap operations */
};

#define SYNTH_DEFAULT_SEED	1
#define SYNTH_DEFAULT_OPS	1000000ull

/* Make @src generate synthetic workload @name; -1 if there is none. */
int synth_source(struct replay_source *src, const char *name,
		 const struct synth_params *params);

/*
 * The workloads --synthetic knows, for --help: the name and a one-line
 * summary of workload @i (0, 1, ...); NULL past the last.
 */
const char *synth_name(unsigned int i);
const char *synth_summary(unsigned int i);

/* One phase of a mix source, as its last rewind drew it. */
struct synth_mix_phase {
	const char *name;	/* the class */
	u64 size;		/* its share of the aperture, bytes */
	bool sequential;	/* after every phase before it, not beside */
	bool overlap;		/* moved onto an earlier phase's addresses */
	bool emitted;		/* in mix:LIST (or plain mix) */
};

/*
 * A mix source's phases (at most @max), 0 for any other source; and the
 * phase of the event its next() returned last, -1 for any other source.
 */
unsigned int synth_mix_phases(const struct replay_source *src,
			      struct synth_mix_phase *out, unsigned int max);
int synth_mix_phase(const struct replay_source *src);

#endif /* PVDMA_SYNTH_H */
