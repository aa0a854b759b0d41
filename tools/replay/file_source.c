// SPDX-License-Identifier: MIT
/*
 * A trace file (plain or .xz) as a replay source: trace.c's reader and
 * line parser, each malformed line counted and the first few reported
 * with their line number.
 */
#include "replay.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARSE_MESSAGES	20

struct file_source {
	const char *path;
	struct trace_reader reader;
	bool open;
	bool report;
	unsigned int reported;
	char err[160];
};

static void file_close_reader(struct file_source *fs)
{
	if (fs->open)
		trace_reader_close(&fs->reader);
	fs->open = false;
}

static void file_close(struct replay_source *src)
{
	file_close_reader(src->ctx);
	free(src->ctx);
	src->ctx = NULL;
}

static int file_rewind(struct replay_source *src, bool report)
{
	struct file_source *fs = src->ctx;

	file_close_reader(fs);
	src->parse_errors = 0;
	fs->report = report;
	fs->reported = 0;
	if (trace_reader_open(&fs->reader, fs->path)) {
		fprintf(stderr, "pvdma-replay: %s\n", fs->reader.error);
		return -1;
	}
	fs->open = true;
	return 0;
}

static void parse_error(struct replay_source *src, const char *what)
{
	struct file_source *fs = src->ctx;

	src->parse_errors++;
	if (!fs->report)
		return;
	if (fs->reported++ < MAX_PARSE_MESSAGES)
		fprintf(stderr, "%s:%lu: %s\n", fs->path,
			fs->reader.line_no, what);
	else if (fs->reported == MAX_PARSE_MESSAGES + 1)
		fprintf(stderr, "%s: more malformed lines not shown\n",
			fs->path);
}

static int file_next(struct replay_source *src, struct trace_event *ev)
{
	struct file_source *fs = src->ctx;
	const char *line;
	size_t len;

	for (;;) {
		int rc = trace_reader_next_line(&fs->reader, &line, &len);

		if (rc == 0)
			return 0;
		if (rc == -1) {
			fprintf(stderr, "pvdma-replay: %s\n", fs->reader.error);
			return -1;
		}
		if (rc == -2) {
			parse_error(src, "line longer than 1 MiB, skipped");
			continue;
		}
		rc = trace_parse_line(line, len, ev, fs->err, sizeof(fs->err));
		if (rc < 0)
			parse_error(src, fs->err);
		else if (rc > 0)
			return 1;
	}
}

int replay_file_source(struct replay_source *src, const char *path)
{
	struct file_source *fs = calloc(1, sizeof(*fs));

	if (!fs)
		return -1;
	fs->path = path;
	memset(src, 0, sizeof(*src));
	src->name = path;
	src->ctx = fs;
	src->rewind = file_rewind;
	src->next = file_next;
	src->close = file_close;
	return 0;
}
