/* SPDX-License-Identifier: MIT */
/*
 * Reader for the kernel's dma:* tracepoints as tracefs prints them
 * ("cat trace" text, plain or xz-compressed).
 *
 * Two layers:
 *  - trace_parse_line() turns one line into one struct trace_event. It is a
 *    pure function over a buffer (no I/O, no allocation, no global state),
 *    so tests and the fuzzer can call it on anything.
 *  - struct trace_reader streams lines out of a file (or a memory buffer),
 *    decompressing .xz on the fly, one bounded buffer at a time.
 *
 * Nothing here knows about the planner: what a map or unmap means to the
 * replay is the engine's business (replay.c, driver.c).
 */
#ifndef PVDMA_TRACE_H
#define PVDMA_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The kernel's DMA_TRACE_MAX_ENTRIES: longer lists are shown truncated. */
#define TRACE_SHOWN_ENTRIES	128
/* The kernel drops the dma_unmap_sg event of lists longer than this (the
 * event outgrows a 4 KiB ring-buffer sub-buffer; seen: 503 recorded, 511
 * lost) unless the recorder raised buffer_subbuf_size_kb or probed
 * dma_unmap_sg_attrs (TRACE_UNMAP_PROBE). */
#define TRACE_UNMAP_UNRECORDED	503
/*
 * The kprobe event pvdma-trace places on dma_unmap_sg_attrs(): one short
 * line per unmapped list (its first entry's dma address and its entry
 * count), however long the list, where the dma_unmap_sg tracepoint's line
 * would print every address and overflow tracefs' line buffer.
 */
#define TRACE_UNMAP_PROBE	"pvdma_unmap_sg"
/* Most entries a list may claim in total (hostile "nents=1/4000000000"). */
#define TRACE_MAX_NENTS		(1u << 20)
/* Longest line the reader accepts; longer ones are reported and skipped. */
#define TRACE_MAX_LINE		(1u << 20)
/* Most key=value fields on one line. */
#define TRACE_MAX_FIELDS	32

enum trace_kind {
	TRACE_EV_MAP_SINGLE,	/* dma_map_phys, dma_map_page, dma_alloc* */
	TRACE_EV_UNMAP_SINGLE,	/* dma_unmap_phys, dma_unmap_page, dma_free* */
	TRACE_EV_MAP_SG,	/* dma_map_sg, dma_alloc_sgt */
	TRACE_EV_UNMAP_SG,	/* dma_unmap_sg, dma_free_sgt */
	TRACE_EV_SYNC_SINGLE,	/* dma_sync_single_for_{cpu,device} */
	TRACE_EV_SYNC_SG,	/* dma_sync_sg_for_{cpu,device} */
	TRACE_EV_PHASE,		/* tracing_mark_write: PHASE name */
	TRACE_EV_OTHER,		/* another dma:* event (map_resource, *_err) */
	TRACE_EV_UNPRINTED,	/* an event tracefs recorded but could not
				 * print ("dma_unmap_sg[LINE TOO BIG]") */
	TRACE_EV_COUNT
};

/* The kernel's enum dma_data_direction values. */
enum trace_dir {
	TRACE_DIR_BIDIRECTIONAL	= 0,
	TRACE_DIR_TO_DEVICE	= 1,
	TRACE_DIR_FROM_DEVICE	= 2,
	TRACE_DIR_NONE		= 3,
};

struct trace_sg_entry {
	uint64_t dma;
	uint64_t len;
	uint64_t phys;
};

/**
 * struct trace_event - one parsed line
 * @kind:	what happened
 * @dir:	enum trace_dir
 * @coherent:	dma_alloc or dma_free: a coherent buffer, never bounced
 * @for_device:	sync: towards the device (else towards the CPU)
 * @truncated:	sg list: the kernel showed only @nents of @nents_total
 * @probed:	unmap_sg from TRACE_UNMAP_PROBE: @ents[0] holds the first
 *		entry's dma address (as .dma and .phys; no length)
 * @has_time:	the line had a tracefs timestamp
 * @time_ns:	that timestamp, in ns of the trace clock
 * @dma_addr:	single: the handle; sync_single: the address synced
 * @size:	single / sync_single: bytes
 * @phys_addr:	single map: guest-physical start (= dma_addr if not shown)
 * @nents:	sg: entries shown (filled in @ents)
 * @nents_total: sg: entries the list really had (>= @nents)
 * @ents:	sg: the caller's array, @ents_cap entries
 * @ents_cap:	its capacity
 * @name:	the event's name as written (e.g. "dma_map_phys")
 * @phase:	TRACE_EV_PHASE: the phase name
 */
struct trace_event {
	enum trace_kind kind;
	enum trace_dir dir;
	bool coherent;
	bool for_device;
	bool truncated;
	bool probed;
	bool has_time;
	uint64_t time_ns;
	uint64_t dma_addr;
	uint64_t size;
	uint64_t phys_addr;
	uint32_t nents;
	uint32_t nents_total;
	struct trace_sg_entry *ents;
	uint32_t ents_cap;
	char name[40];
	char phase[64];
};

/*
 * trace_parse_line - parse one line of tracefs text
 * @line, @len:	the line, without its newline; need not be NUL-terminated
 * @ev:		result; the caller sets @ev->ents and @ev->ents_cap
 * @err:	on a malformed line, what is wrong (NUL-terminated)
 *
 * Returns 1 if @ev holds an event, 0 if the line carries nothing for the
 * replay (blank, '#' comment, another subsystem's event, a trace marker
 * that is no PHASE), -1 if it is malformed.
 */
int trace_parse_line(const char *line, size_t len, struct trace_event *ev,
		     char *err, size_t errlen);

const char *trace_kind_name(enum trace_kind kind);
const char *trace_dir_name(enum trace_dir dir);

/* What the reader found wrong with its input as a whole. */
enum trace_input_error {
	TRACE_INPUT_OK,
	TRACE_INPUT_IO,		/* cannot open or read */
	TRACE_INPUT_COMPRESSED,	/* gzip, bzip2, zstd or zip, not xz */
	TRACE_INPUT_BINARY,	/* NUL or control bytes: not text */
	TRACE_INPUT_XZ_TRUNCATED,
	TRACE_INPUT_XZ_CORRUPT,
	TRACE_INPUT_NOMEM,
};

/* Streaming line reader over a file (plain or .xz) or a memory buffer. */
struct trace_reader {
	const char *name;	/* for messages */
	FILE *file;		/* NULL for a memory buffer */
	const uint8_t *mem;	/* memory source */
	size_t mem_len;
	size_t mem_pos;
	bool xz;
	void *lzma;		/* lzma_stream, when @xz */
	uint8_t *raw;		/* compressed input buffer */
	size_t raw_cap;
	bool input_done;	/* source exhausted */
	bool output_done;	/* decoder finished */
	char *buf;		/* decompressed text [pos, len) */
	size_t cap;
	size_t len;
	size_t pos;
	unsigned long line_no;	/* of the line last returned */
	uint64_t text_bytes;	/* text read so far (after decompression) */
	bool sniffed;		/* the first text was checked for binary */
	enum trace_input_error bad;	/* why the last -1 came */
	char error[160];	/* I/O or decompression error */
};

/*
 * Open @path; .xz is recognised by its magic bytes, not its name. Other
 * compressed formats are refused here (r->bad, r->error say which), and
 * text that holds NUL or many control bytes is refused by the first
 * trace_reader_next_line() (TRACE_INPUT_BINARY).
 */
int trace_reader_open(struct trace_reader *r, const char *path);
/* Read from memory (tests, fuzzing); @data must outlive the reader. */
int trace_reader_open_mem(struct trace_reader *r, const char *name,
			  const void *data, size_t len);
/*
 * The next line, without its newline: 1 with line and len set, 0 at the end,
 * -1 on an I/O or decompression error (r->error says which), -2 for a line
 * longer than TRACE_MAX_LINE (skipped; r->line_no names it).
 */
int trace_reader_next_line(struct trace_reader *r, const char **line,
			   size_t *len);
void trace_reader_close(struct trace_reader *r);

#endif /* PVDMA_TRACE_H */
