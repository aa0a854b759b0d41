/* SPDX-License-Identifier: MIT */
/*
 * A replay source that wraps another and watches one replay_run() go by:
 * each event's trace time and phase, and after each event what the run's
 * result says (live bytes, aperture in the DART, maps failed). From that:
 * when and in which phase the first map failed and the live set peaked,
 * and, if asked, one sample per event for a picture.
 */
#ifndef PVDMA_TIMELINE_H
#define PVDMA_TIMELINE_H

#include "replay.h"

struct timeline_sample {
	u64 t_ns;		/* since the first timed event */
	u64 live_bytes;
	u64 aperture_bytes;
	u64 failed_maps;
};

/**
 * struct timeline - the watcher
 * @src:	what replay_run() reads (wraps @inner)
 * @inner:	the real source
 * @res:	the result replay_run() fills, read after each event
 * @t0_ns:	the first timed event's time
 * @last_ns:	the latest event's (events without a time inherit it)
 * @phase:	the phase the latest event belongs to
 * @fail_*:	the first failed map: when, in which phase
 * @peak_*:	the live set's peak: bytes, when, in which phase
 * @samples:	one per event when @keep_samples
 */
struct timeline {
	struct replay_source src;
	struct replay_source *inner;
	const struct replay_result *res;
	bool started;
	bool pending;
	u64 t0_ns;
	u64 last_ns;
	char phase[64];
	u64 seen_failed;
	bool failed;
	u64 fail_ns;
	char fail_phase[64];
	u64 peak_live;
	u64 peak_ns;
	char peak_phase[64];
	bool keep_samples;
	struct timeline_sample *samples;
	size_t nsamples;
	size_t cap;
};

/* Wrap @inner; @res is the result the run will fill. */
void timeline_init(struct timeline *tl, struct replay_source *inner,
		   const struct replay_result *res, bool keep_samples);
void timeline_free(struct timeline *tl);

#endif /* PVDMA_TIMELINE_H */
