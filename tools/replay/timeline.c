// SPDX-License-Identifier: MIT
/*
 * The replay watcher (see timeline.h). replay_run() asks for event n+1
 * only once event n has gone through the planner, so at each next() the
 * result describes the state just after the previous event: that is when
 * its time, phase and effects are settled.
 */
#include "timeline.h"

#include <stdlib.h>
#include <string.h>

/* Most samples kept: a picture needs far fewer; memory stays bounded. */
#define TIMELINE_MAX_SAMPLES	(1u << 20)

static struct timeline *to_timeline(struct replay_source *src)
{
	return src->ctx;
}

static void keep_sample(struct timeline *tl, u64 t)
{
	const struct replay_result *res = tl->res;
	struct timeline_sample *s;

	if (tl->nsamples == tl->cap) {
		size_t cap = tl->cap ? tl->cap * 2 : 4096;

		if (cap > TIMELINE_MAX_SAMPLES)
			return;
		s = realloc(tl->samples, cap * sizeof(*s));
		if (!s)
			return;
		tl->samples = s;
		tl->cap = cap;
	}
	s = &tl->samples[tl->nsamples++];
	s->t_ns = t;
	s->live_bytes = res->live_bytes;
	s->aperture_bytes = res->aperture_bytes;
	s->failed_maps = res->failed_maps;
}

/* The event handed out last has been replayed: note what it did. */
static void settle(struct timeline *tl)
{
	const struct replay_result *res = tl->res;
	u64 t = tl->last_ns - tl->t0_ns;

	if (!tl->pending)
		return;
	tl->pending = false;
	if (res->failed_maps > tl->seen_failed && !tl->failed) {
		tl->failed = true;
		tl->fail_ns = t;
		memcpy(tl->fail_phase, tl->phase, sizeof(tl->phase));
	}
	tl->seen_failed = res->failed_maps;
	if (res->live_bytes > tl->peak_live) {
		tl->peak_live = res->live_bytes;
		tl->peak_ns = t;
		memcpy(tl->peak_phase, tl->phase, sizeof(tl->phase));
	}
	if (tl->keep_samples)
		keep_sample(tl, t);
}

static void reset(struct timeline *tl)
{
	tl->started = false;
	tl->pending = false;
	tl->t0_ns = tl->last_ns = 0;
	snprintf(tl->phase, sizeof(tl->phase), "(start)");
	tl->seen_failed = 0;
	tl->failed = false;
	tl->fail_ns = 0;
	tl->fail_phase[0] = '\0';
	tl->peak_live = tl->peak_ns = 0;
	snprintf(tl->peak_phase, sizeof(tl->peak_phase), "(start)");
	tl->nsamples = 0;
}

static int timeline_rewind(struct replay_source *src, bool report)
{
	struct timeline *tl = to_timeline(src);
	int rc = tl->inner->rewind(tl->inner, report);

	reset(tl);
	src->parse_errors = tl->inner->parse_errors;
	return rc;
}

static int timeline_next(struct replay_source *src, struct trace_event *ev)
{
	struct timeline *tl = to_timeline(src);
	int rc;

	settle(tl);
	rc = tl->inner->next(tl->inner, ev);
	src->parse_errors = tl->inner->parse_errors;
	if (rc <= 0)
		return rc;
	if (ev->has_time) {
		if (!tl->started) {
			tl->started = true;
			tl->t0_ns = ev->time_ns;
		}
		if (ev->time_ns > tl->last_ns)
			tl->last_ns = ev->time_ns;
	}
	if (ev->kind == TRACE_EV_PHASE)
		snprintf(tl->phase, sizeof(tl->phase), "%s", ev->phase);
	tl->pending = true;
	return rc;
}

static void timeline_close(struct replay_source *src)
{
	(void)src;	/* the inner source is its owner's to close */
}

void timeline_init(struct timeline *tl, struct replay_source *inner,
		   const struct replay_result *res, bool keep_samples)
{
	memset(tl, 0, sizeof(*tl));
	tl->inner = inner;
	tl->res = res;
	tl->keep_samples = keep_samples;
	tl->src.name = inner->name;
	tl->src.ctx = tl;
	tl->src.rewind = timeline_rewind;
	tl->src.next = timeline_next;
	tl->src.close = timeline_close;
	reset(tl);
}

void timeline_free(struct timeline *tl)
{
	free(tl->samples);
	tl->samples = NULL;
	tl->nsamples = tl->cap = 0;
}
