// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the trace parser: the input is fed both as one line
 * to trace_parse_line() and as a whole file (plain or xz) through the
 * streaming reader, line by line. Build: make fuzz-trace.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct trace_sg_entry ents[TRACE_SHOWN_ENTRIES];

static void parse_one(const char *line, size_t len)
{
	struct trace_event ev = { .ents = ents, .ents_cap = TRACE_SHOWN_ENTRIES };
	char err[160];
	int rc = trace_parse_line(line, len, &ev, err, sizeof(err));

	/* What a caller relies on: entries stay within the array. */
	if (rc == 1 && (ev.nents > ev.ents_cap || ev.nents > ev.nents_total))
		__builtin_trap();
	if (rc == -1 && !memchr(err, '\0', sizeof(err)))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace_reader r;
	const char *line;
	size_t len;
	int rc;

	parse_one((const char *)data, size);
	if (trace_reader_open_mem(&r, "fuzz", data, size))
		return 0;
	while ((rc = trace_reader_next_line(&r, &line, &len)) != 0 && rc != -1)
		if (rc == 1)
			parse_one(line, len);
	trace_reader_close(&r);
	return 0;
}
