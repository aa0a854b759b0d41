/* SPDX-License-Identifier: MIT */
/*
 * One pass over a trace file with the replay's own parser: is it a trace
 * at all (and if not, why not, in words), what the recorder's '#' header
 * says, and what the events are (kinds, lists, truncation, phases, time
 * span). pvdma-replay checks every input with it before replaying, and
 * --stats prints it.
 */
#ifndef PVDMA_INSPECT_H
#define PVDMA_INSPECT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "trace.h"

#define INSPECT_MAX_PHASES	64
#define INSPECT_MAX_NAMES	32
#define INSPECT_MAX_META	24

/* Why a file is refused; each has its own message. */
enum inspect_verdict {
	INSPECT_OK,
	INSPECT_UNREADABLE,	/* I/O, or the reader refused the bytes */
	INSPECT_EMPTY,		/* no text at all */
	INSPECT_NO_EVENTS,	/* text, but no dma_* event in it */
};

struct inspect_phase {
	char name[64];
	uint64_t start_ns;
};

struct inspect_name {
	char name[40];
	uint64_t count;
};

/**
 * struct trace_info - what one pass over a trace found
 * @verdict, @why:	INSPECT_OK, or what is wrong, as a sentence
 * @input:		the reader's reason when INSPECT_UNREADABLE
 * @lines, @malformed:	lines read, lines the parser refused
 * @by_kind:		parsed events by enum trace_kind
 * @names:		dma_* events by name, in order of first sight
 * @timed, @first_ns, @last_ns: the span of the timestamps seen
 * @single_bytes:	bytes of single maps
 * @sg_entries, @sg_largest: entries of all map_sg lists, the longest
 * @sg_shown_bytes:	bytes of the entries the kernel showed
 * @truncated_lists, @hidden_entries: lists shown truncated, entries hidden
 * @long_lists:		lists longer than TRACE_UNMAP_UNRECORDED
 * @probed_unmaps:	unmaps recorded by the recorder's probe
 * @header_lost:	the recorder's "# lost-events:" (0 if absent)
 * @has_header:		the file starts with pvdma-trace's metadata
 * @meta:		the '#' metadata lines, without the '# '
 */
struct trace_info {
	enum inspect_verdict verdict;
	enum trace_input_error input;
	char why[256];
	uint64_t lines;
	uint64_t malformed;
	uint64_t by_kind[TRACE_EV_COUNT];
	struct inspect_name names[INSPECT_MAX_NAMES];
	unsigned int nnames;
	bool timed;
	uint64_t first_ns;
	uint64_t last_ns;
	uint64_t single_bytes;
	uint64_t sg_entries;
	uint64_t sg_largest;
	uint64_t sg_shown_bytes;
	uint64_t truncated_lists;
	uint64_t hidden_entries;
	uint64_t long_lists;
	uint64_t probed_unmaps;
	uint64_t header_lost;
	bool has_header;
	struct inspect_phase phases[INSPECT_MAX_PHASES];
	unsigned int nphases;
	char meta[INSPECT_MAX_META][160];
	unsigned int nmeta;
};

/* Read @path through once. 0 if it is a trace, -1 (info->why) if not. */
int trace_inspect(const char *path, struct trace_info *info);

/* Events that are maps, unmaps or syncs: what a replay acts on. */
uint64_t trace_info_dma_events(const struct trace_info *info);

/* The phase in force at @t_ns ("(start)" before the first marker). */
const char *trace_info_phase_at(const struct trace_info *info, uint64_t t_ns);

#endif /* PVDMA_INSPECT_H */
