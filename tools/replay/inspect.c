// SPDX-License-Identifier: MIT
/*
 * Trace inspection (see inspect.h): one pass, the same parser as the
 * replay, so that a file the replay would read as zeros is refused here
 * with a reason instead.
 */
#include "inspect.h"

#include <stdlib.h>
#include <string.h>

static void refuse(struct trace_info *info, enum inspect_verdict v,
		   const char *why)
{
	info->verdict = v;
	snprintf(info->why, sizeof(info->why), "%s", why);
}

/* "# key: value" lines of pvdma-trace's header. */
static void note_meta(struct trace_info *info, const char *line, size_t len)
{
	static const char lost[] = "lost-events: ";

	if (len < 2 || line[1] != ' ')
		return;
	line += 2;
	len -= 2;
	if (len >= 12 && !memcmp(line, "pvdma-trace:", 12))
		info->has_header = true;
	if (len > sizeof(lost) - 1 && !memcmp(line, lost, sizeof(lost) - 1))
		info->header_lost = strtoull(line + sizeof(lost) - 1, NULL, 10);
	if (info->nmeta < INSPECT_MAX_META && info->has_header) {
		snprintf(info->meta[info->nmeta], sizeof(info->meta[0]),
			 "%.*s", (int)len, line);
		info->nmeta++;
	}
}

static void count_name(struct trace_info *info, const char *name)
{
	unsigned int i;

	for (i = 0; i < info->nnames; i++) {
		if (!strcmp(info->names[i].name, name)) {
			info->names[i].count++;
			return;
		}
	}
	if (info->nnames == INSPECT_MAX_NAMES)
		return;
	snprintf(info->names[i].name, sizeof(info->names[i].name), "%s", name);
	info->names[i].count = 1;
	info->nnames++;
}

static void note_list(struct trace_info *info, const struct trace_event *ev)
{
	uint32_t i;

	info->sg_entries += ev->nents_total;
	if (ev->nents_total > info->sg_largest)
		info->sg_largest = ev->nents_total;
	for (i = 0; i < ev->nents; i++)
		info->sg_shown_bytes += ev->ents[i].len;
	if (ev->nents_total > ev->nents) {
		info->truncated_lists++;
		info->hidden_entries += ev->nents_total - ev->nents;
	}
	if (ev->nents_total > TRACE_UNMAP_UNRECORDED)
		info->long_lists++;
}

static void note_event(struct trace_info *info, const struct trace_event *ev)
{
	info->by_kind[ev->kind]++;
	if (ev->has_time) {
		if (!info->timed || ev->time_ns < info->first_ns)
			info->first_ns = ev->time_ns;
		if (!info->timed || ev->time_ns > info->last_ns)
			info->last_ns = ev->time_ns;
		info->timed = true;
	}
	if (ev->kind == TRACE_EV_PHASE) {
		if (info->nphases < INSPECT_MAX_PHASES) {
			struct inspect_phase *p = &info->phases[info->nphases++];

			snprintf(p->name, sizeof(p->name), "%s", ev->phase);
			p->start_ns = ev->time_ns;
		}
		return;
	}
	count_name(info, ev->name);
	if (ev->kind == TRACE_EV_MAP_SINGLE)
		info->single_bytes += ev->size;
	else if (ev->kind == TRACE_EV_MAP_SG)
		note_list(info, ev);
	else if (ev->kind == TRACE_EV_UNMAP_SG && ev->probed)
		info->probed_unmaps++;
}

uint64_t trace_info_dma_events(const struct trace_info *info)
{
	return info->by_kind[TRACE_EV_MAP_SINGLE] +
	       info->by_kind[TRACE_EV_UNMAP_SINGLE] +
	       info->by_kind[TRACE_EV_MAP_SG] +
	       info->by_kind[TRACE_EV_UNMAP_SG] +
	       info->by_kind[TRACE_EV_SYNC_SINGLE] +
	       info->by_kind[TRACE_EV_SYNC_SG];
}

const char *trace_info_phase_at(const struct trace_info *info, uint64_t t_ns)
{
	const char *name = "(start)";
	unsigned int i;

	for (i = 0; i < info->nphases && info->phases[i].start_ns <= t_ns; i++)
		name = info->phases[i].name;
	return name;
}

/* Why a text with no dma_* events is no trace, as precisely as we can. */
static void explain_no_events(struct trace_info *info)
{
	char why[256];

	if (info->lines == 0) {
		refuse(info, INSPECT_EMPTY, "empty file: not a trace");
		return;
	}
	snprintf(why, sizeof(why),
		 "no dma_* events in %llu lines (%llu not trace events): not a trace?",
		 (unsigned long long)info->lines,
		 (unsigned long long)info->malformed);
	refuse(info, INSPECT_NO_EVENTS, why);
}

int trace_inspect(const char *path, struct trace_info *info)
{
	struct trace_event ev = { 0 };
	struct trace_reader r;
	const char *line;
	char err[160];
	size_t len;
	int rc;

	memset(info, 0, sizeof(*info));
	ev.ents_cap = 65536;
	ev.ents = calloc(ev.ents_cap, sizeof(*ev.ents));
	if (!ev.ents) {
		refuse(info, INSPECT_UNREADABLE, "out of memory");
		return -1;
	}
	if (trace_reader_open(&r, path)) {
		info->input = r.bad;
		refuse(info, INSPECT_UNREADABLE, r.error);
		free(ev.ents);
		return -1;
	}
	while ((rc = trace_reader_next_line(&r, &line, &len)) != 0) {
		if (rc == -1)
			break;
		info->lines++;
		if (rc == -2) {
			info->malformed++;
			continue;
		}
		if (len && line[0] == '#') {
			note_meta(info, line, len);
			continue;
		}
		rc = trace_parse_line(line, len, &ev, err, sizeof(err));
		if (rc < 0)
			info->malformed++;
		else if (rc > 0)
			note_event(info, &ev);
	}
	if (rc == -1) {
		info->input = r.bad;
		refuse(info, INSPECT_UNREADABLE, r.error);
	} else if (r.text_bytes == 0) {
		refuse(info, INSPECT_EMPTY, "empty file: not a trace");
	} else if (trace_info_dma_events(info) == 0) {
		explain_no_events(info);
	}
	trace_reader_close(&r);
	free(ev.ents);
	return info->verdict == INSPECT_OK ? 0 : -1;
}
