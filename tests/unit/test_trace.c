// SPDX-License-Identifier: MIT
/*
 * Trace parser, streaming reader (plain and xz) and the replay's driver
 * side: every event kind, truncated lists and invented bytes, hostile input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <lzma.h>

#include "replay.h"
#include "trace.h"
#include <pvdma/prng.h>

/* The one stream of this file's random runs, seeded by each. */
static struct pvdma_prng rng;

#define HDR "python3-448 [015] ..... 33.572283: "
#define DEV "0000:00:06.0 "

static struct trace_sg_entry ents[256];
static struct trace_event ev;
static char err[200];

static int parse(const char *line)
{
	ev.ents = ents;
	ev.ents_cap = 256;
	return trace_parse_line(line, strlen(line), &ev, err, sizeof(err));
}

static void expect_malformed(const char *line, const char *why)
{
	assert_int_equal(parse(line), -1);
	if (!strstr(err, why)) {
		print_error("'%s': error '%s' lacks '%s'\n", line, err, why);
		fail();
	}
}

static void test_map_unmap_phys(void **state)
{
	assert_int_equal(parse(HDR "dma_map_phys: " DEV "dir=BIDIRECTIONAL dma_addr=1cf9f3000 size=4096 phys_addr=1cf9f3000 attrs="), 1);
	assert_int_equal(ev.kind, TRACE_EV_MAP_SINGLE);
	assert_int_equal(ev.dir, TRACE_DIR_BIDIRECTIONAL);
	assert_int_equal(ev.dma_addr, 0x1cf9f3000);
	assert_int_equal(ev.phys_addr, 0x1cf9f3000);
	assert_int_equal(ev.size, 4096);
	assert_false(ev.coherent);
	assert_int_equal(parse(HDR "dma_unmap_phys: " DEV "dir=TO_DEVICE dma_addr=1cf9f3000 size=4096 attrs="), 1);
	assert_int_equal(ev.kind, TRACE_EV_UNMAP_SINGLE);
	assert_int_equal(ev.dir, TRACE_DIR_TO_DEVICE);
	/* the older names, and a comm with spaces and colons */
	assert_int_equal(parse("Web Content: x-12 [001] d..1. 5.000001: dma_map_page: " DEV "dir=FROM_DEVICE dma_addr=2000 size=8192 phys_addr=3000 attrs=SKIP_CPU_SYNC"), 1);
	assert_int_equal(ev.kind, TRACE_EV_MAP_SINGLE);
	assert_int_equal(ev.dir, TRACE_DIR_FROM_DEVICE);
	assert_int_equal(ev.phys_addr, 0x3000);
	assert_int_equal(parse(HDR "dma_unmap_page: " DEV "dir=FROM_DEVICE dma_addr=2000 size=8192 attrs="), 1);
	assert_int_equal(ev.kind, TRACE_EV_UNMAP_SINGLE);
	/* without the tracefs header */
	assert_int_equal(parse("dma_map_phys: " DEV "dir=TO_DEVICE dma_addr=5000 size=16 attrs="), 1);
	assert_int_equal(ev.phys_addr, 0x5000);
}

static void test_map_unmap_sg(void **state)
{
	assert_int_equal(parse(HDR "dma_map_sg: " DEV "dir=BIDIRECTIONAL nents=2/2 ents=2/2 dma_addrs={0x219c00000,0x21b400000} sizes={0x200000,0xe00000} phys_addrs={0x219c00000,0x21b400000} attrs="), 1);
	assert_int_equal(ev.kind, TRACE_EV_MAP_SG);
	assert_int_equal(ev.nents, 2);
	assert_int_equal(ev.nents_total, 2);
	assert_false(ev.truncated);
	assert_int_equal(ents[1].phys, 0x21b400000);
	assert_int_equal(ents[1].len, 0xe00000);
	assert_int_equal(ents[0].dma, 0x219c00000);
	assert_int_equal(parse(HDR "dma_unmap_sg: " DEV "dir=BIDIRECTIONAL phys_addrs={0x219c00000,0x21b400000} attrs="), 1);
	assert_int_equal(ev.kind, TRACE_EV_UNMAP_SG);
	assert_int_equal(ev.nents, 2);
	assert_int_equal(ents[0].phys, 0x219c00000);
	/* an unmap shows no sizes: the map's must not stay behind */
	assert_int_equal(ents[0].len, 0);
	assert_int_equal(ents[1].len, 0);
}

static void test_truncated_sg(void **state)
{
	assert_int_equal(parse(HDR "dma_map_sg: " DEV "dir=BIDIRECTIONAL nents=3/1123 ents=3/1123 [TRUNCATED] dma_addrs={0x1000,0x3000,0x9000} sizes={0x1000,0x2000,0x3000} phys_addrs={0x1000,0x3000,0x9000} attrs="), 1);
	assert_true(ev.truncated);
	assert_int_equal(ev.nents, 3);
	assert_int_equal(ev.nents_total, 1123);
	expect_malformed(HDR "dma_map_sg: " DEV "dir=BIDIRECTIONAL [TRUNCATED] dma_addrs={0x1000} sizes={0x1000} phys_addrs={0x1000} attrs=",
			 "without nents");
}

static void test_sync_alloc_phase(void **state)
{
	assert_int_equal(parse(HDR "dma_sync_single_for_cpu: " DEV "dir=FROM_DEVICE dma_addr=1000 size=64"), 1);
	assert_int_equal(ev.kind, TRACE_EV_SYNC_SINGLE);
	assert_false(ev.for_device);
	assert_int_equal(parse(HDR "dma_sync_sg_for_device: " DEV "dir=TO_DEVICE dma_addrs={0x1000,0x4000} sizes={0x100,0x200}"), 1);
	assert_int_equal(ev.kind, TRACE_EV_SYNC_SG);
	assert_true(ev.for_device);
	assert_int_equal(ev.nents, 2);
	assert_int_equal(parse(HDR "dma_alloc: " DEV "dma_addr=7000 size=8192 virt_addr=00000000deadbeef flags=GFP_KERNEL attrs="), 1);
	assert_int_equal(ev.kind, TRACE_EV_MAP_SINGLE);
	assert_true(ev.coherent);
	assert_int_equal(parse(HDR "dma_free: " DEV "dma_addr=7000 size=8192 virt_addr=00000000deadbeef attrs="), 1);
	assert_int_equal(ev.kind, TRACE_EV_UNMAP_SINGLE);
	assert_true(ev.coherent);
	assert_int_equal(parse(HDR "dma_map_resource: " DEV "dir=BIDIRECTIONAL dma_addr=1 size=1 phys_addr=1"), 1);
	assert_int_equal(ev.kind, TRACE_EV_OTHER);
	assert_int_equal(parse(HDR "dma_map_sg_err: " DEV "err=-12"), 1);
	assert_int_equal(ev.kind, TRACE_EV_OTHER);
	assert_int_equal(parse(HDR "tracing_mark_write: PHASE warmup"), 1);
	assert_int_equal(ev.kind, TRACE_EV_PHASE);
	assert_string_equal(ev.phase, "warmup");
	assert_int_equal(parse(HDR "tracing_mark_write: hello"), 0);
	assert_int_equal(parse(HDR "sched_switch: prev_comm=x"), 0);
	assert_int_equal(parse("# tracer: nop"), 0);
	assert_int_equal(parse(""), 0);
	assert_int_equal(parse("   \r"), 0);
	expect_malformed(HDR "tracing_mark_write: PHASE   ", "without a name");
}

static void test_malformed(void **state)
{
	expect_malformed("garbage", "not a trace event");
	expect_malformed(HDR "dma_map_phys " DEV, "not followed");
	expect_malformed(HDR "dma_map_phys: " DEV "dir=BIDIRECTIONAL dma_addr=1ffffffffffffffff size=4096 attrs=", "dma_addr=");
	expect_malformed(HDR "dma_map_phys: " DEV "dir=BIDIRECTIONAL dma_addr=1000 size=99999999999999999999999 attrs=", "size=");
	expect_malformed(HDR "dma_map_phys: " DEV "dir=BIDIRECTIONAL dma_addr=1000 attrs=", "missing size=");
	expect_malformed(HDR "dma_map_phys: " DEV "dma_addr=1000 size=1", "missing dir=");
	expect_malformed(HDR "dma_map_phys: " DEV "dir=SIDEWAYS dma_addr=1000 size=1", "unknown dir=");
	expect_malformed(HDR "dma_map_phys: " DEV "dir=TO_DEVICE dma_addr=xyz size=1", "dma_addr=");
	expect_malformed(HDR "dma_map_phys: " DEV "dir=TO_DEVICE dma_addr=1000 size=0", "size 0");
	expect_malformed(HDR "dma_map_phys: " DEV "dir=TO_DEVICE dma_addr=ffffffffffffff00 size=4096", "wraps");
	expect_malformed(HDR "dma_map_phys: " DEV "dir=TO_DEVICE dma_addr=1 dma_addr=2 size=1", "duplicate");
	expect_malformed(HDR "dma_map_sg: " DEV "dir=BIDIRECTIONAL nents=1/1 sizes={0x1000 phys_addrs={0x1000}", "unbalanced");
	expect_malformed(HDR "dma_map_sg: " DEV "dir=BIDIRECTIONAL nents=1/1 sizes={{0x1000}} phys_addrs={0x1000}", "unbalanced");
	expect_malformed(HDR "dma_map_sg: " DEV "dir=BIDIRECTIONAL nents=1/1 sizes=0x1000} phys_addrs={0x1000}", "unbalanced");
	expect_malformed(HDR "dma_map_sg: " DEV "dir=BIDIRECTIONAL nents=3/3 sizes={0x1000,0x1000} phys_addrs={0x1000,0x9000}", "entries shown");
	expect_malformed(HDR "dma_map_sg: " DEV "dir=BIDIRECTIONAL nents=2/2 sizes={0x1000} phys_addrs={0x1000,0x9000}", "sizes");
	expect_malformed(HDR "dma_map_sg: " DEV "dir=BIDIRECTIONAL nents=5/2 sizes={0x1000} phys_addrs={0x1000}", "more than it has");
	expect_malformed(HDR "dma_map_sg: " DEV "dir=BIDIRECTIONAL nents=1/99999999999 sizes={0x1000} phys_addrs={0x1000}", "above the limit");
	expect_malformed(HDR "dma_map_sg: " DEV "dir=BIDIRECTIONAL nents=1 sizes={0x1000} phys_addrs={0x1000}", "N/M");
	expect_malformed(HDR "dma_map_sg: " DEV "dir=BIDIRECTIONAL sizes={} phys_addrs={}", "empty");
	expect_malformed(HDR "dma_map_sg: " DEV "dir=BIDIRECTIONAL sizes={0x1000,} phys_addrs={0x1000,}", "comma");
	expect_malformed(HDR "dma_map_sg: " DEV "dir=BIDIRECTIONAL sizes={0x1000,,0x1} phys_addrs={0x1000,0x5,0x6}", "not a hex");
	expect_malformed(HDR "dma_map_sg: " DEV "dir=BIDIRECTIONAL phys_addrs={0x1000}", "missing sizes=");
	expect_malformed(HDR "dma_map_sg: " DEV "dir=BIDIRECTIONAL sizes={0x1000}", "missing phys_addrs");
	expect_malformed(HDR "dma_map_sg: " DEV "dir=BIDIRECTIONAL nents=2/2 ents=1/1 dma_addrs={0x1000} sizes={0x2000} phys_addrs={0x1000,0x2000}", "IOMMU");
	expect_malformed(HDR "dma_map_phys: " DEV "dir=TO_DEVICE =1 dma_addr=1 size=1", "without a name");
}

static void test_hostile_lengths(void **state)
{
	size_t n = 300 * 6 + 200, i;
	char *line = malloc(n), *p;

	/* more entries than the caller's array holds */
	p = line + sprintf(line, HDR "dma_map_sg: " DEV "dir=BIDIRECTIONAL sizes={");
	for (i = 0; i < 300; i++)
		p += sprintf(p, i ? ",0x1" : "0x1");
	sprintf(p, "} phys_addrs={0x1}");
	expect_malformed(line, "more than 256 entries");
	/* more fields than allowed */
	p = line + sprintf(line, HDR "dma_map_phys: " DEV);
	for (i = 0; i < 40; i++)
		p += sprintf(p, "k%zu=1 ", i);
	expect_malformed(line, "fields");
	/* not NUL-terminated, NUL bytes inside */
	memcpy(line, "dma_map_phys:\0dir", 17);
	ev.ents = ents;
	ev.ents_cap = 256;
	assert_int_equal(trace_parse_line(line, 17, &ev, err, sizeof(err)), -1);
	free(line);
}

/* ---- reader ---- */

static const char sample[] =
	"# tracer: nop\n"
	HDR "dma_map_phys: " DEV "dir=BIDIRECTIONAL dma_addr=1000 size=4096 phys_addr=1000 attrs=\n"
	"garbage line\n"
	HDR "dma_unmap_phys: " DEV "dir=BIDIRECTIONAL dma_addr=1000 size=4096 attrs=";	/* no final newline */

static void read_all(struct trace_reader *r, int *events, int *bad)
{
	const char *line;
	size_t len;
	int rc;

	*events = *bad = 0;
	while ((rc = trace_reader_next_line(r, &line, &len)) > 0) {
		ev.ents = ents;
		ev.ents_cap = 256;
		rc = trace_parse_line(line, len, &ev, err, sizeof(err));
		if (rc > 0)
			(*events)++;
		if (rc < 0) {
			(*bad)++;
			assert_int_equal(r->line_no, 3);
		}
	}
	assert_int_equal(rc, 0);
}

static uint8_t *xz_compress(const void *data, size_t len, size_t *out_len)
{
	size_t cap = len + 1024, pos = 0;
	uint8_t *out = malloc(cap);

	assert_int_equal(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL,
						 data, len, out, &pos, cap),
			 LZMA_OK);
	*out_len = pos;
	return out;
}

static void test_reader_plain_and_xz(void **state)
{
	struct trace_reader r;
	int events, bad;
	size_t xz_len;
	uint8_t *xz = xz_compress(sample, strlen(sample), &xz_len);

	assert_int_equal(trace_reader_open_mem(&r, "plain", sample,
					       strlen(sample)), 0);
	read_all(&r, &events, &bad);
	assert_int_equal(events, 2);
	assert_int_equal(bad, 1);
	assert_false(r.xz);
	trace_reader_close(&r);

	assert_int_equal(trace_reader_open_mem(&r, "xz", xz, xz_len), 0);
	assert_true(r.xz);
	read_all(&r, &events, &bad);
	assert_int_equal(events, 2);
	assert_int_equal(bad, 1);
	trace_reader_close(&r);

	/* a truncated xz stream is an error, not a crash */
	assert_int_equal(trace_reader_open_mem(&r, "cut", xz, xz_len / 2), 0);
	{
		const char *line;
		size_t len;
		int rc;

		while ((rc = trace_reader_next_line(&r, &line, &len)) > 0)
			;
		assert_int_equal(rc, -1);
		assert_non_null(strstr(r.error, "cut"));
	}
	trace_reader_close(&r);
	free(xz);
}

static void test_reader_overlong_line(void **state)
{
	size_t big = TRACE_MAX_LINE + 4096;
	char *data = malloc(big + 200);
	struct trace_reader r;
	const char *line;
	size_t len;

	memset(data, 'x', big);
	strcpy(data + big, "\nshort\n");
	assert_int_equal(trace_reader_open_mem(&r, "long", data,
					       strlen(data)), 0);
	assert_int_equal(trace_reader_next_line(&r, &line, &len), -2);
	assert_int_equal(r.line_no, 1);
	assert_int_equal(trace_reader_next_line(&r, &line, &len), 1);
	assert_int_equal(len, 5);
	assert_memory_equal(line, "short", 5);
	assert_int_equal(r.line_no, 2);
	assert_int_equal(trace_reader_next_line(&r, &line, &len), 0);
	trace_reader_close(&r);
	free(data);
}

static void test_reader_missing_file(void **state)
{
	struct trace_reader r;

	assert_int_equal(trace_reader_open(&r, "/nonexistent/x.trace"), -1);
	assert_non_null(strstr(r.error, "/nonexistent/x.trace"));
}

static void test_timestamp_probe_unprinted(void **state)
{
	assert_int_equal(parse(HDR "dma_map_phys: " DEV "dir=TO_DEVICE dma_addr=1000 size=4096 phys_addr=1000 attrs="), 1);
	assert_true(ev.has_time);
	assert_int_equal(ev.time_ns, 33572283000ull);
	assert_int_equal(parse("dma_map_phys: " DEV "dir=TO_DEVICE dma_addr=1000 size=4096 attrs="), 1);
	assert_false(ev.has_time);
	/* nanosecond clocks print nine digits */
	assert_int_equal(parse("x-1 [000] ..... 7.000000123: dma_map_phys: " DEV "dir=TO_DEVICE dma_addr=1000 size=4096 attrs="), 1);
	assert_int_equal(ev.time_ns, 7000000123ull);

	/* pvdma-trace's kprobe on dma_unmap_sg_attrs: any length of list */
	assert_int_equal(parse(HDR TRACE_UNMAP_PROBE ": (dma_unmap_sg_attrs+0x0/0x90) dev=\"0000:00:06.0\" nents=2000 dma_addr=0x21b400000"), 1);
	assert_int_equal(ev.kind, TRACE_EV_UNMAP_SG);
	assert_true(ev.probed);
	assert_int_equal(ev.nents, 1);
	assert_int_equal(ev.nents_total, 2000);
	assert_int_equal(ents[0].phys, 0x21b400000);
	assert_int_equal(ents[0].dma, 0x21b400000);
	expect_malformed(HDR TRACE_UNMAP_PROBE ": (x) nents=0 dma_addr=0x1000", "nents=0");
	expect_malformed(HDR TRACE_UNMAP_PROBE ": (x) nents=-1 dma_addr=0x1000", "not a number");
	expect_malformed(HDR TRACE_UNMAP_PROBE ": (x) nents=5", "missing dma_addr=");

	/* the BPF probe's line, through bpf_trace_printk */
	assert_int_equal(parse(HDR "bpf_trace_printk: " TRACE_UNMAP_PROBE ": nents=26799 dma_addr=0x3b2000000"), 1);
	assert_int_equal(ev.kind, TRACE_EV_UNMAP_SG);
	assert_true(ev.probed);
	assert_int_equal(ev.nents_total, 26799);
	assert_int_equal(ents[0].phys, 0x3b2000000);
	/* another program's printk carries nothing */
	assert_int_equal(parse(HDR "bpf_trace_printk: hello world"), 0);
	expect_malformed(HDR "bpf_trace_printk: " TRACE_UNMAP_PROBE ": nents=x dma_addr=0x1", "not a number");

	/* recorded but too long for tracefs to print */
	assert_int_equal(parse(HDR "dma_unmap_sg[LINE TOO BIG]"), 1);
	assert_int_equal(ev.kind, TRACE_EV_UNPRINTED);
	assert_string_equal(ev.name, "dma_unmap_sg");
	assert_true(ev.has_time);
}

/* Whole inputs that are not traces: each refused with its own reason. */
static void expect_bad_input(const void *data, size_t len,
			     enum trace_input_error want, const char *why)
{
	struct trace_reader r;
	const char *line;
	size_t n;
	int rc = trace_reader_open_mem(&r, "in", data, len);

	if (!rc)
		while ((rc = trace_reader_next_line(&r, &line, &n)) > 0)
			;
	assert_int_equal(rc, -1);
	assert_int_equal(r.bad, want);
	if (!strstr(r.error, why)) {
		print_error("error '%s' lacks '%s'\n", r.error, why);
		fail();
	}
	trace_reader_close(&r);
}

static void test_reader_bad_inputs(void **state)
{
	static const uint8_t gz[] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0 };
	static const uint8_t zst[] = { 0x28, 0xb5, 0x2f, 0xfd, 0 };
	uint8_t rnd[3000];
	char ctl[200];
	size_t xz_len, i;
	uint8_t *xz = xz_compress(sample, strlen(sample), &xz_len);
	struct trace_reader r;
	const char *line;
	size_t n;

	expect_bad_input(gz, sizeof(gz), TRACE_INPUT_COMPRESSED,
			 "gzip data: use xz or plain text");
	expect_bad_input(zst, sizeof(zst), TRACE_INPUT_COMPRESSED, "zstd data");
	expect_bad_input("BZh91AY", 7, TRACE_INPUT_COMPRESSED, "bzip2 data");
	pvdma_prng_seed(&rng, 1);
	for (i = 0; i < sizeof(rnd); i++)
		rnd[i] = (uint8_t)pvdma_prng_next(&rng);
	rnd[5] = 0;
	expect_bad_input(rnd, sizeof(rnd), TRACE_INPUT_BINARY, "binary data");
	memset(ctl, 0x01, sizeof(ctl));
	expect_bad_input(ctl, sizeof(ctl), TRACE_INPUT_BINARY, "control bytes");
	expect_bad_input(xz, xz_len - 20, TRACE_INPUT_XZ_TRUNCATED,
			 "truncated xz file");
	xz[xz_len / 2] ^= 0x55;
	expect_bad_input(xz, xz_len, TRACE_INPUT_XZ_CORRUPT, "corrupt xz data");

	/* empty is not an error of the reader: no text, text_bytes 0 */
	assert_int_equal(trace_reader_open_mem(&r, "empty", "", 0), 0);
	assert_int_equal(trace_reader_next_line(&r, &line, &n), 0);
	assert_int_equal(r.text_bytes, 0);
	trace_reader_close(&r);
	free(xz);
}

/* ---- the replay's driver side ---- */

static const char replay_trace[] =
	HDR "tracing_mark_write: PHASE one\n"
	/* 4 shown of 10: 6 invented entries of the mean 0x2000 */
	HDR "dma_map_sg: " DEV "dir=BIDIRECTIONAL nents=4/10 ents=4/10 [TRUNCATED] dma_addrs={0x100000,0x110000,0x120000,0x130000} sizes={0x1000,0x1000,0x3000,0x3000} phys_addrs={0x100000,0x110000,0x120000,0x130000} attrs=\n"
	HDR "dma_map_phys: " DEV "dir=TO_DEVICE dma_addr=200000 size=4096 phys_addr=200000 attrs=\n"
	HDR "dma_sync_single_for_device: " DEV "dir=TO_DEVICE dma_addr=200000 size=4096\n"
	HDR "dma_unmap_phys: " DEV "dir=TO_DEVICE dma_addr=999000 size=4096 attrs=\n"
	/* shown count alone would not match the 10-entry list: nents does */
	HDR "dma_unmap_sg: " DEV "dir=BIDIRECTIONAL phys_addrs={0x100000,0x110000,0x120000} attrs=\n"
	HDR "dma_unmap_sg: " DEV "dir=BIDIRECTIONAL nents=4/10 [TRUNCATED] phys_addrs={0x100000,0x110000,0x120000,0x130000} attrs=\n"
	HDR "dma_unmap_phys: " DEV "dir=TO_DEVICE dma_addr=200000 size=4096 attrs=\n"
	"not a line\n";

static void test_replay_invented_and_unmatched(void **state)
{
	char path[] = "/tmp/test_trace_XXXXXX";
	int fd = mkstemp(path);
	struct replay_source src;
	struct replay_layout lay;
	struct replay_result res;
	struct replay_options opt = {
		.policy = PVDMA_POLICY_RFC,
		.aperture = 64ull << 20,
		.max_mappings = 1024,
		.bounce_bytes = 16ull << 20,	/* the pool policy's pool */
		.quiet = true,
	};
	unsigned int p;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, replay_trace, sizeof(replay_trace) - 1),
			 (ssize_t)sizeof(replay_trace) - 1);
	close(fd);
	assert_int_equal(replay_file_source(&src, path), 0);
	assert_int_equal(replay_scan(&src, &lay), 0);
	assert_int_equal(lay.parse_errors, 1);
	assert_int_equal(lay.max_segs, 10);
	assert_true(lay.invent_base >= 0x201000);
	assert_true(lay.bounce_gpa >= lay.invent_base + lay.invent_bound);
	for (p = 0; p < PVDMA_POLICY_COUNT; p++) {
		opt.policy = (enum pvdma_policy)p;
		assert_int_equal(replay_run(&src, &lay, &opt, &res), 0);
		assert_int_equal(res.map_requests, 2);
		assert_int_equal(res.map_segments, 11);
		assert_int_equal(res.invented_bytes, 6 * 0x2000);
		assert_int_equal(res.peak_live_bytes,
				 0x8000 + 6 * 0x2000 + 0x1000);
		assert_int_equal(res.live_bytes, 0);
		assert_int_equal(res.unmatched_unmaps, 2);
		assert_int_equal(res.unmatched_syncs, 0);
		assert_int_equal(res.sync_requests, 1);
		assert_int_equal(res.phases, 1);
		assert_int_equal(res.failed_maps, 0);
		assert_int_equal(res.verify_errors, 0);
		assert_int_equal(res.parse_errors, 1);
		assert_true(res.host_calls > 0);
	}
	replay_layout_free(&lay);
	src.close(&src);
	unlink(path);
}

#define SHOWN4 "{0x100000,0x110000,0x120000,0x130000}"
#define MAP4OF6 HDR "dma_map_sg: " DEV "dir=BIDIRECTIONAL nents=4/6 ents=4/6 [TRUNCATED] dma_addrs=" SHOWN4 " sizes={0x1000,0x1000,0x1000,0x5000} phys_addrs=" SHOWN4 " attrs=\n"
#define UNMAP6(a, b) HDR "dma_unmap_sg: " DEV "dir=BIDIRECTIONAL phys_addrs={0x100000,0x110000,0x120000,0x130000," a "," b "} attrs=\n"
#define SINGLE_IN_HIDDEN \
	HDR "dma_map_phys: " DEV "dir=BIDIRECTIONAL dma_addr=40000000 size=4096 phys_addr=40000000 attrs=\n" \
	HDR "dma_unmap_phys: " DEV "dir=BIDIRECTIONAL dma_addr=40000000 size=4096 attrs=\n"

/* Scan and replay @text under pvdma, its hidden entries filled if @fill. */
static void replay_text(const char *text, bool fill, struct replay_layout *lay,
			struct replay_result *res)
{
	char path[] = "/tmp/test_trace_XXXXXX";
	int fd = mkstemp(path);
	struct replay_source src;
	struct replay_options opt = {
		.policy = PVDMA_POLICY_PVDMA,
		.aperture = 64ull << 20,
		.max_mappings = 1024,
		.quiet = true,
		.fill_from_unmap = fill,
	};
	size_t len = strlen(text);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	assert_int_equal(replay_file_source(&src, path), 0);
	assert_int_equal(replay_scan(&src, lay), 0);
	assert_int_equal(replay_run(&src, lay, &opt, res), 0);
	assert_int_equal(res->failed_maps, 0);
	assert_int_equal(res->verify_errors, 0);
	assert_int_equal(res->unmatched_unmaps, 0);
	src.close(&src);
	unlink(path);
}

#define FILL_BASE	MAP4OF6 UNMAP6("0x40000000", "0x40001000")
#define FILL_SINGLE	MAP4OF6 SINGLE_IN_HIDDEN UNMAP6("0x40000000", "0x40001000")

/*
 * A single map inside a hidden entry of a list still mapped: the list's
 * own unmap shows the entry there, so the single map is a hit; at an
 * invented address (no filling) it is a miss.
 */
static void test_replay_filled_hit(void **state)
{
	struct replay_layout lay;
	struct replay_result with, without;

	replay_text(FILL_BASE, false, &lay, &without);
	replay_layout_free(&lay);
	replay_text(FILL_SINGLE, false, &lay, &with);
	replay_layout_free(&lay);
	assert_int_equal(with.misses, without.misses + 1);
	assert_int_equal(with.hidden_filled, 0);
	assert_int_equal(with.hidden_invented, 2);

	replay_text(FILL_BASE, true, &lay, &without);
	replay_layout_free(&lay);
	replay_text(FILL_SINGLE, true, &lay, &with);
	assert_int_equal(with.hits, without.hits + 1);
	assert_int_equal(with.misses, without.misses);
	assert_int_equal(with.host_maps, without.host_maps);
	assert_int_equal(lay.nfills, 1);
	assert_int_equal(with.hidden_filled, 2);
	assert_int_equal(with.hidden_invented, 0);
	/* the mean 0x2000, the first cut where the second begins */
	assert_int_equal(with.invented_bytes, 0x1000 + 0x2000);
	replay_layout_free(&lay);
}

/*
 * The same list mapped twice (each map its own unmap's addresses), an
 * unmap that disagrees with the shown entries (refused: invented), a map
 * never unmapped (invented), hostile unmap lists.
 */
static void test_replay_fill_cases(void **state)
{
	static const char text[] =
		MAP4OF6
		UNMAP6("0x40000000", "0x40001000")
		MAP4OF6
		UNMAP6("0x50000000", "0x50400000")
		HDR "dma_map_sg: " DEV "dir=BIDIRECTIONAL nents=2/5 ents=2/5 [TRUNCATED] dma_addrs={0x600000,0x610000} sizes={0x1000,0x1000} phys_addrs={0x600000,0x610000} attrs=\n"
		HDR "dma_unmap_sg: " DEV "dir=BIDIRECTIONAL phys_addrs={0x600000,0x999000,0x60000000,0x60001000,0x60002000} attrs=\n"
		HDR "dma_map_sg: " DEV "dir=BIDIRECTIONAL nents=2/3 ents=2/3 [TRUNCATED] dma_addrs={0x700000,0x710000} sizes={0x1000,0x1000} phys_addrs={0x700000,0x710000} attrs=\n"
		/* hostile: an address the layout cannot hold (refused) */
		HDR "dma_map_sg: " DEV "dir=BIDIRECTIONAL nents=2/3 ents=2/3 [TRUNCATED] dma_addrs={0x800000,0x810000} sizes={0x1000,0x1000} phys_addrs={0x800000,0x810000} attrs=\n"
		HDR "dma_unmap_sg: " DEV "dir=BIDIRECTIONAL phys_addrs={0x800000,0x810000,0xfffffffffffff000} attrs=\n"
		/* and one repeating a shown address: used, cut where the next begins */
		HDR "dma_map_sg: " DEV "dir=BIDIRECTIONAL nents=2/4 ents=2/4 [TRUNCATED] dma_addrs={0x900000,0x910000} sizes={0x1000,0x1000} phys_addrs={0x900000,0x910000} attrs=\n"
		HDR "dma_unmap_sg: " DEV "dir=BIDIRECTIONAL phys_addrs={0x900000,0x910000,0x910000,0x910800} attrs=\n";
	struct replay_layout lay;
	struct replay_result res;

	replay_text(text, true, &lay, &res);
	assert_int_equal(lay.nfills, 3);
	assert_int_equal(lay.fill_ents[2].gpa, 0x50000000);
	assert_int_equal(lay.fill_ents[3].gpa, 0x50400000);
	assert_int_equal(lay.fill_ents[4].len, 0x800);
	/* the filled entries lie in the layout, the invented ones above */
	assert_true(lay.invent_base >= 0x50400000 + 0x2000);
	assert_int_equal(lay.fills_refused, 2);
	assert_int_equal(res.fills_refused, 2);
	assert_int_equal(res.hidden_filled, 2 + 2 + 2);
	assert_int_equal(res.hidden_invented, 3 + 1 + 1);
	assert_int_equal(res.invented_bytes, 0x3000 + 2 * 0x2000 + 3 * 0x1000 +
			 0x1000 + 0x1000 + 0x1000 + 0x800);
	assert_int_equal(res.peak_live_bytes, 0x8000 + 0x4000);
	replay_layout_free(&lay);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_unmap_phys),
		cmocka_unit_test(test_map_unmap_sg),
		cmocka_unit_test(test_truncated_sg),
		cmocka_unit_test(test_sync_alloc_phase),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_hostile_lengths),
		cmocka_unit_test(test_reader_plain_and_xz),
		cmocka_unit_test(test_reader_overlong_line),
		cmocka_unit_test(test_reader_missing_file),
		cmocka_unit_test(test_timestamp_probe_unprinted),
		cmocka_unit_test(test_reader_bad_inputs),
		cmocka_unit_test(test_replay_invented_and_unmatched),
		cmocka_unit_test(test_replay_filled_hit),
		cmocka_unit_test(test_replay_fill_cases),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
