// SPDX-License-Identifier: MIT
/*
 * tracefs text parser and streaming reader for the dma:* tracepoints.
 *
 * Line format (kernel include/trace/events/dma.h, as "cat trace" prints):
 *   <comm>-<pid> [cpu] <flags> <secs>.<usecs>: <event>: <device> key=value...
 * The comm may hold spaces and colons, so the event is found after the
 * first "<digits>.<digits>: " rather than by counting columns. List values
 * are "{0x1,0x2}" without spaces. Every number is range-checked; nothing is
 * trusted to fit.
 */
#include "trace.h"

#include <errno.h>
#include <lzma.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct field {
	const char *key;
	size_t klen;
	const char *val;
	size_t vlen;
};

struct line_fields {
	struct field f[TRACE_MAX_FIELDS];
	unsigned int n;
	bool truncated_flag;
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex with optional 0x: 1..16 digits, nothing else. */
static bool parse_hex(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		n -= 2;
	}
	if (n == 0 || n > 16)
		return false;
	for (i = 0; i < n; i++) {
		int d = hex_value(s[i]);

		if (d < 0)
			return false;
		v = v << 4 | (uint64_t)d;
	}
	*out = v;
	return true;
}

/* Decimal (or 0x-prefixed hex), without wrapping. */
static bool parse_num(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		return parse_hex(s, n, out);
	if (n == 0)
		return false;
	for (i = 0; i < n; i++) {
		unsigned int d;

		if (!is_digit(s[i]))
			return false;
		d = (unsigned int)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* "<secs>.<fraction>" of a tracefs timestamp in ns; false if absurd. */
static bool parse_stamp(const char *s, size_t n, uint64_t *ns)
{
	const char *dot = memchr(s, '.', n);
	uint64_t secs, frac = 0;
	size_t i, digits;

	if (!dot || !parse_num(s, (size_t)(dot - s), &secs) ||
	    secs > UINT64_MAX / 1000000000ull - 1)
		return false;
	digits = n - (size_t)(dot + 1 - s);
	for (i = 0; i < digits && i < 9; i++)
		frac = frac * 10 + (uint64_t)(dot[1 + i] - '0');
	for (; i < 9; i++)
		frac *= 10;
	*ns = secs * 1000000000ull + frac;
	return true;
}

/*
 * Where the event name starts: after the first "<digits>.<digits>: " that
 * follows a space or the line start (its time into @ev). A line without
 * one is taken to start with the event name itself.
 */
static size_t event_start(const char *s, size_t len, struct trace_event *ev)
{
	size_t i, j, k;

	for (i = 0; i + 1 < len; i++) {
		if (s[i] != ':' || s[i + 1] != ' ')
			continue;
		for (j = i; j > 0 && is_digit(s[j - 1]); j--)
			;
		if (j == i || j < 2 || s[j - 1] != '.')
			continue;
		for (k = j - 1; k > 0 && is_digit(s[k - 1]); k--)
			;
		if (k == j - 1 || (k > 0 && s[k - 1] != ' '))
			continue;
		ev->has_time = parse_stamp(s + k, i - k, &ev->time_ns);
		return i + 2;
	}
	for (i = 0; i < len && (s[i] == ' ' || s[i] == '\t'); i++)
		;
	return i;
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || is_digit(c) || c == '_' ||
	       (c >= 'A' && c <= 'Z');
}

/* Split "dev key=val key={a,b} [TRUNCATED]" into fields. */
static int split_fields(const char *s, size_t len, struct line_fields *lf,
			char *err, size_t errlen)
{
	size_t i = 0;

	lf->n = 0;
	lf->truncated_flag = false;
	while (i < len) {
		size_t start, eq = 0, j;
		bool has_eq = false;

		while (i < len && (s[i] == ' ' || s[i] == '\t'))
			i++;
		if (i >= len)
			break;
		start = i;
		while (i < len && s[i] != ' ' && s[i] != '\t') {
			if (s[i] == '=' && !has_eq) {
				has_eq = true;
				eq = i;
			}
			i++;
		}
		if (!has_eq) {
			if (i - start == 11 && !memcmp(s + start, "[TRUNCATED]", 11))
				lf->truncated_flag = true;
			continue;	/* the device name, or words we skip */
		}
		if (eq == start)
			return fail(err, errlen, "field without a name");
		if (lf->n == TRACE_MAX_FIELDS)
			return fail(err, errlen, "more than %d fields",
				    TRACE_MAX_FIELDS);
		for (j = 0; j < lf->n; j++)
			if (lf->f[j].klen == eq - start &&
			    !memcmp(lf->f[j].key, s + start, eq - start))
				return fail(err, errlen, "duplicate field '%.*s'",
					    (int)(eq - start), s + start);
		lf->f[lf->n].key = s + start;
		lf->f[lf->n].klen = eq - start;
		lf->f[lf->n].val = s + eq + 1;
		lf->f[lf->n].vlen = i - eq - 1;
		lf->n++;
	}
	return 0;
}

static const struct field *find_field(const struct line_fields *lf,
				      const char *key)
{
	size_t klen = strlen(key);
	unsigned int i;

	for (i = 0; i < lf->n; i++)
		if (lf->f[i].klen == klen && !memcmp(lf->f[i].key, key, klen))
			return &lf->f[i];
	return NULL;
}

static int get_hex(const struct line_fields *lf, const char *key,
		   uint64_t *out, char *err, size_t errlen)
{
	const struct field *f = find_field(lf, key);

	if (!f)
		return fail(err, errlen, "missing %s=", key);
	if (!parse_hex(f->val, f->vlen, out))
		return fail(err, errlen, "%s=%.*s is not a hex number below 2^64",
			    key, (int)(f->vlen > 40 ? 40 : f->vlen), f->val);
	return 0;
}

static int get_num(const struct line_fields *lf, const char *key,
		   uint64_t *out, char *err, size_t errlen)
{
	const struct field *f = find_field(lf, key);

	if (!f)
		return fail(err, errlen, "missing %s=", key);
	if (!parse_num(f->val, f->vlen, out))
		return fail(err, errlen, "%s=%.*s is not a number below 2^64",
			    key, (int)(f->vlen > 40 ? 40 : f->vlen), f->val);
	return 0;
}

static int get_dir(const struct line_fields *lf, bool required,
		   enum trace_dir *dir, char *err, size_t errlen)
{
	static const char *const names[] = {
		"BIDIRECTIONAL", "TO_DEVICE", "FROM_DEVICE", "NONE"
	};
	const struct field *f = find_field(lf, "dir");
	unsigned int i;

	*dir = TRACE_DIR_BIDIRECTIONAL;
	if (!f)
		return required ? fail(err, errlen, "missing dir=") : 0;
	for (i = 0; i < 4; i++) {
		if (f->vlen == strlen(names[i]) &&
		    !memcmp(f->val, names[i], f->vlen)) {
			*dir = (enum trace_dir)i;
			if (*dir == TRACE_DIR_NONE && required)
				return fail(err, errlen, "dir=NONE on a map");
			return 0;
		}
	}
	return fail(err, errlen, "unknown dir=%.*s",
		    (int)(f->vlen > 40 ? 40 : f->vlen), f->val);
}

enum sg_column { COL_DMA, COL_LEN, COL_PHYS };

static uint64_t *column(struct trace_sg_entry *e, enum sg_column col)
{
	return col == COL_DMA ? &e->dma : col == COL_LEN ? &e->len : &e->phys;
}

/*
 * Parse "{0x1,0x2,...}" of @key into column @col of ev->ents. Returns the
 * count, -1 on error, -2 if the field is absent.
 */
static long get_list(const struct line_fields *lf, const char *key,
		     enum sg_column col, struct trace_event *ev,
		     char *err, size_t errlen)
{
	const struct field *f = find_field(lf, key);
	const char *s, *end;
	long count = 0;

	if (!f)
		return -2;
	s = f->val;
	end = f->val + f->vlen;
	if (f->vlen < 2 || s[0] != '{' || end[-1] != '}' ||
	    memchr(s + 1, '{', f->vlen - 1) || memchr(s, '}', f->vlen - 1))
		return fail(err, errlen, "%s= has unbalanced braces", key);
	s++;
	end--;
	while (s < end) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *stop = comma ? comma : end;
		uint64_t v;

		if ((uint32_t)count >= ev->ents_cap)
			return fail(err, errlen, "%s= has more than %u entries",
				    key, ev->ents_cap);
		if (!parse_hex(s, (size_t)(stop - s), &v))
			return fail(err, errlen, "%s= entry %ld is not a hex number",
				    key, count);
		*column(&ev->ents[count], col) = v;
		count++;
		if (!comma)
			break;
		s = comma + 1;
		if (s == end)
			return fail(err, errlen, "%s= ends with a comma", key);
	}
	return count;
}

static int check_range(uint64_t addr, uint64_t len, const char *what,
		       char *err, size_t errlen)
{
	if (len == 0)
		return fail(err, errlen, "%s has size 0", what);
	if (addr + len < addr)
		return fail(err, errlen, "%s 0x%llx + 0x%llx wraps past 2^64",
			    what, (unsigned long long)addr,
			    (unsigned long long)len);
	return 0;
}

static int parse_single(const struct line_fields *lf, struct trace_event *ev,
			bool is_map, char *err, size_t errlen)
{
	if (get_dir(lf, is_map && !ev->coherent, &ev->dir, err, errlen) ||
	    get_hex(lf, "dma_addr", &ev->dma_addr, err, errlen) ||
	    get_num(lf, "size", &ev->size, err, errlen))
		return -1;
	ev->phys_addr = ev->dma_addr;
	if (is_map && find_field(lf, "phys_addr") &&
	    get_hex(lf, "phys_addr", &ev->phys_addr, err, errlen))
		return -1;
	if (check_range(ev->dma_addr, ev->size, "dma_addr", err, errlen) ||
	    check_range(ev->phys_addr, ev->size, "phys_addr", err, errlen))
		return -1;
	return 1;
}

/* "nents=shown/total" (the kernel's dma_map_sg and later). */
static int get_nents(const struct line_fields *lf, uint64_t *shown,
		     uint64_t *total, char *err, size_t errlen)
{
	const struct field *f = find_field(lf, "nents");
	const char *slash;

	if (!f)
		return 0;
	slash = memchr(f->val, '/', f->vlen);
	if (!slash || !parse_num(f->val, (size_t)(slash - f->val), shown) ||
	    !parse_num(slash + 1, f->vlen - (size_t)(slash + 1 - f->val), total))
		return fail(err, errlen, "nents=%.*s is not N/M",
			    (int)(f->vlen > 40 ? 40 : f->vlen), f->val);
	if (*shown > *total)
		return fail(err, errlen, "nents=%llu/%llu shows more than it has",
			    (unsigned long long)*shown,
			    (unsigned long long)*total);
	if (*total > TRACE_MAX_NENTS)
		return fail(err, errlen, "nents total %llu above the limit %u",
			    (unsigned long long)*total, TRACE_MAX_NENTS);
	return 1;
}

/* Shown count vs. nents=; sets nents_total and truncated. */
static int settle_counts(const struct line_fields *lf, struct trace_event *ev,
			 long shown, char *err, size_t errlen)
{
	uint64_t n_shown = 0, n_total = 0;
	int has = get_nents(lf, &n_shown, &n_total, err, errlen);

	if (has < 0)
		return -1;
	ev->nents = (uint32_t)shown;
	ev->nents_total = (uint32_t)shown;
	if (!has) {
		if (lf->truncated_flag)
			return fail(err, errlen, "[TRUNCATED] without nents=");
		return 0;
	}
	if (n_shown != (uint64_t)shown)
		return fail(err, errlen, "nents=%llu/%llu but %ld entries shown",
			    (unsigned long long)n_shown,
			    (unsigned long long)n_total, shown);
	ev->nents_total = (uint32_t)n_total;
	ev->truncated = n_total > n_shown;
	return 0;
}

static int parse_sg(const struct line_fields *lf, struct trace_event *ev,
		    bool is_map, char *err, size_t errlen)
{
	long nphys, ndma, nlen;
	long i;

	if (get_dir(lf, is_map && !ev->coherent, &ev->dir, err, errlen))
		return -1;
	nphys = get_list(lf, "phys_addrs", COL_PHYS, ev, err, errlen);
	ndma = get_list(lf, "dma_addrs", COL_DMA, ev, err, errlen);
	if (nphys == -1 || ndma == -1)
		return -1;
	if (nphys == -2 && ndma == -2)
		return fail(err, errlen, "missing phys_addrs= and dma_addrs=");
	if (nphys >= 0 && ndma >= 0 && nphys != ndma)
		return fail(err, errlen,
			    "%ld phys_addrs but %ld dma_addrs (IOMMU-merged lists are not supported)",
			    nphys, ndma);
	for (i = 0; nphys == -2 && i < ndma; i++)
		ev->ents[i].phys = ev->ents[i].dma;
	for (i = 0; ndma == -2 && i < nphys; i++)
		ev->ents[i].dma = ev->ents[i].phys;
	if (nphys < 0)
		nphys = ndma;
	if (nphys == 0)
		return fail(err, errlen, "empty scatter-gather list");
	nlen = get_list(lf, "sizes", COL_LEN, ev, err, errlen);
	if (nlen == -1)
		return -1;
	if (is_map && nlen == -2)
		return fail(err, errlen, "missing sizes=");
	if (nlen >= 0 && nlen != nphys)
		return fail(err, errlen, "%ld addresses but %ld sizes",
			    nphys, nlen);
	/* an unmap names no sizes: none of an earlier event's may remain */
	for (i = 0; nlen == -2 && i < nphys; i++)
		ev->ents[i].len = 0;
	for (i = 0; nlen >= 0 && i < nphys; i++)
		if (check_range(ev->ents[i].phys, ev->ents[i].len, "sg entry",
				err, errlen) ||
		    check_range(ev->ents[i].dma, ev->ents[i].len, "sg entry",
				err, errlen))
			return -1;
	if (settle_counts(lf, ev, nphys, err, errlen))
		return -1;
	return 1;
}

static bool name_is(const char *name, size_t n, const char *want)
{
	return n == strlen(want) && !memcmp(name, want, n);
}

static bool name_has_prefix(const char *name, size_t n, const char *prefix)
{
	size_t p = strlen(prefix);

	return n >= p && !memcmp(name, prefix, p);
}

static bool name_has_suffix(const char *name, size_t n, const char *suffix)
{
	size_t p = strlen(suffix);

	return n >= p && !memcmp(name + n - p, suffix, p);
}

/* Which dma:* event this is; TRACE_EV_COUNT if none we replay. */
static enum trace_kind classify(const char *name, size_t n, bool *coherent)
{
	*coherent = false;
	if (name_has_suffix(name, n, "_err"))
		return TRACE_EV_OTHER;
	if (name_is(name, n, "dma_map_phys") || name_is(name, n, "dma_map_page"))
		return TRACE_EV_MAP_SINGLE;
	if (name_is(name, n, "dma_unmap_phys") ||
	    name_is(name, n, "dma_unmap_page"))
		return TRACE_EV_UNMAP_SINGLE;
	if (name_is(name, n, "dma_map_sg"))
		return TRACE_EV_MAP_SG;
	if (name_is(name, n, "dma_unmap_sg"))
		return TRACE_EV_UNMAP_SG;
	if (name_has_prefix(name, n, "dma_sync_single_for_"))
		return TRACE_EV_SYNC_SINGLE;
	if (name_has_prefix(name, n, "dma_sync_sg_for_"))
		return TRACE_EV_SYNC_SG;
	*coherent = true;
	if (name_is(name, n, "dma_alloc_sgt"))
		return TRACE_EV_MAP_SG;
	if (name_is(name, n, "dma_free_sgt"))
		return TRACE_EV_UNMAP_SG;
	if (name_has_prefix(name, n, "dma_alloc"))
		return TRACE_EV_MAP_SINGLE;
	if (name_has_prefix(name, n, "dma_free"))
		return TRACE_EV_UNMAP_SINGLE;
	*coherent = false;
	return TRACE_EV_OTHER;
}

static int parse_phase(const char *s, size_t n, struct trace_event *ev,
		       char *err, size_t errlen)
{
	size_t i = 0;

	while (i < n && s[i] == ' ')
		i++;
	if (n - i < 5 || memcmp(s + i, "PHASE", 5) ||
	    (n - i > 5 && s[i + 5] != ' '))
		return 0;	/* a marker of someone else's */
	i += 5;
	while (i < n && s[i] == ' ')
		i++;
	while (n > i && (s[n - 1] == ' ' || s[n - 1] == '\r'))
		n--;
	if (i == n)
		return fail(err, errlen, "PHASE marker without a name");
	if (n - i >= sizeof(ev->phase))
		n = i + sizeof(ev->phase) - 1;
	memcpy(ev->phase, s + i, n - i);
	ev->phase[n - i] = '\0';
	ev->kind = TRACE_EV_PHASE;
	return 1;
}

/*
 * tracefs prints "name[LINE TOO BIG]" for an event whose text outgrows its
 * line buffer (a dma_unmap_sg of ~700 entries and more, once the ring
 * buffer could hold it): recorded, but its fields are lost.
 */
static bool is_unprinted(const char *s, size_t n)
{
	static const char tag[] = "[LINE TOO BIG]";

	return n >= sizeof(tag) - 1 && !memcmp(s, tag, sizeof(tag) - 1);
}

static size_t set_name(struct trace_event *ev, const char *name, size_t n)
{
	if (n >= sizeof(ev->name))
		n = sizeof(ev->name) - 1;
	memcpy(ev->name, name, n);
	ev->name[n] = '\0';
	return n;
}

/* TRACE_UNMAP_PROBE's "nents=N dma_addr=0x..." (the first entry's). */
static int parse_probed_unmap(const struct line_fields *lf,
			      struct trace_event *ev, char *err, size_t errlen)
{
	uint64_t nents, dma;

	if (get_num(lf, "nents", &nents, err, errlen) ||
	    get_hex(lf, "dma_addr", &dma, err, errlen))
		return -1;
	if (nents == 0 || nents > TRACE_MAX_NENTS)
		return fail(err, errlen, "nents=%llu outside 1..%u",
			    (unsigned long long)nents, TRACE_MAX_NENTS);
	if (ev->ents_cap < 1)
		return fail(err, errlen, "no room for an entry");
	ev->kind = TRACE_EV_UNMAP_SG;
	ev->probed = true;
	ev->ents[0].dma = dma;
	ev->ents[0].phys = dma;
	ev->ents[0].len = 0;
	ev->nents = 1;
	ev->nents_total = (uint32_t)nents;
	ev->truncated = nents > 1;
	return 1;
}

/*
 * The BPF probe (pvdma-unmap-probe) writes its line through
 * bpf_trace_printk: "bpf_trace_printk: pvdma_unmap_sg: nents=N dma_addr=0x..".
 * Other programs' printk lines carry nothing for the replay.
 */
static int parse_bpf_probe(const char *s, size_t n, struct trace_event *ev,
			   char *err, size_t errlen)
{
	size_t plen = sizeof(TRACE_UNMAP_PROBE) - 1;
	struct line_fields lf;

	while (n && *s == ' ') {
		s++;
		n--;
	}
	if (n <= plen || memcmp(s, TRACE_UNMAP_PROBE, plen) || s[plen] != ':')
		return 0;
	set_name(ev, s, plen);
	if (split_fields(s + plen + 1, n - plen - 1, &lf, err, errlen))
		return -1;
	return parse_probed_unmap(&lf, ev, err, errlen);
}

static void reset_event(struct trace_event *ev)
{
	struct trace_sg_entry *ents = ev->ents;
	uint32_t cap = ev->ents_cap;

	memset(ev, 0, sizeof(*ev));
	ev->ents = ents;
	ev->ents_cap = cap;
}

int trace_parse_line(const char *line, size_t len, struct trace_event *ev,
		     char *err, size_t errlen)
{
	struct line_fields lf;
	size_t start, name_len, body;
	enum trace_kind kind;
	bool coherent;

	if (errlen)
		err[0] = '\0';
	reset_event(ev);
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' '))
		len--;
	start = event_start(line, len, ev);
	if (start >= len || line[start] == '#')
		return 0;
	for (name_len = 0; start + name_len < len &&
	     is_name_char(line[start + name_len]); name_len++)
		;
	if (name_len && is_unprinted(line + start + name_len,
				     len - start - name_len)) {
		set_name(ev, line + start, name_len);
		ev->kind = TRACE_EV_UNPRINTED;
		return 1;
	}
	if (start + name_len >= len || line[start + name_len] != ':') {
		if (name_has_prefix(line + start, len - start, "dma_"))
			return fail(err, errlen, "event name not followed by ':'");
		return fail(err, errlen, "not a trace event line");
	}
	body = start + name_len + 1;
	if (name_is(line + start, name_len, "tracing_mark_write"))
		return parse_phase(line + body, len - body, ev, err, errlen);
	if (name_is(line + start, name_len, "bpf_trace_printk"))
		return parse_bpf_probe(line + body, len - body, ev, err, errlen);
	if (name_is(line + start, name_len, TRACE_UNMAP_PROBE)) {
		set_name(ev, line + start, name_len);
		if (split_fields(line + body, len - body, &lf, err, errlen))
			return -1;
		return parse_probed_unmap(&lf, ev, err, errlen);
	}
	if (!name_has_prefix(line + start, name_len, "dma_"))
		return 0;	/* another subsystem's event */
	name_len = set_name(ev, line + start, name_len);
	kind = classify(ev->name, name_len, &coherent);
	ev->kind = kind;
	ev->coherent = coherent;
	ev->for_device = name_has_suffix(ev->name, name_len, "_for_device");
	if (kind == TRACE_EV_OTHER)
		return 1;
	if (split_fields(line + body, len - body, &lf, err, errlen))
		return -1;
	switch (kind) {
	case TRACE_EV_MAP_SINGLE:
	case TRACE_EV_SYNC_SINGLE:
		return parse_single(&lf, ev, true, err, errlen);
	case TRACE_EV_UNMAP_SINGLE:
		return parse_single(&lf, ev, false, err, errlen);
	case TRACE_EV_MAP_SG:
	case TRACE_EV_SYNC_SG:
		return parse_sg(&lf, ev, true, err, errlen);
	case TRACE_EV_UNMAP_SG:
		return parse_sg(&lf, ev, false, err, errlen);
	default:
		return 1;
	}
}

const char *trace_kind_name(enum trace_kind kind)
{
	static const char *const names[TRACE_EV_COUNT] = {
		[TRACE_EV_MAP_SINGLE] = "map",
		[TRACE_EV_UNMAP_SINGLE] = "unmap",
		[TRACE_EV_MAP_SG] = "map_sg",
		[TRACE_EV_UNMAP_SG] = "unmap_sg",
		[TRACE_EV_SYNC_SINGLE] = "sync",
		[TRACE_EV_SYNC_SG] = "sync_sg",
		[TRACE_EV_PHASE] = "phase",
		[TRACE_EV_OTHER] = "other",
		[TRACE_EV_UNPRINTED] = "unprinted",
	};

	return (unsigned int)kind < TRACE_EV_COUNT ? names[kind] : "?";
}

const char *trace_dir_name(enum trace_dir dir)
{
	static const char *const names[] = {
		"BIDIRECTIONAL", "TO_DEVICE", "FROM_DEVICE", "NONE"
	};

	return (unsigned int)dir < 4 ? names[dir] : "?";
}

/* ---- streaming reader ---- */

#define READER_CHUNK	(64u << 10)

static const uint8_t xz_magic[6] = { 0xfd, '7', 'z', 'X', 'Z', 0x00 };

/* Compressed formats the reader does not take, by their magic bytes. */
static const struct foreign_format {
	const char *name;
	uint8_t magic[4];
	size_t len;
} foreign_formats[] = {
	{ "gzip", { 0x1f, 0x8b }, 2 },
	{ "bzip2", { 'B', 'Z', 'h' }, 3 },
	{ "zstd", { 0x28, 0xb5, 0x2f, 0xfd }, 4 },
	{ "zip", { 'P', 'K', 3, 4 }, 4 },
};

static int reader_fail(struct trace_reader *r, enum trace_input_error bad,
		       const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int reader_fail(struct trace_reader *r, enum trace_input_error bad,
		       const char *fmt, ...)
{
	va_list ap;

	r->bad = bad;
	va_start(ap, fmt);
	vsnprintf(r->error, sizeof(r->error), fmt, ap);
	va_end(ap);
	return -1;
}

static int refuse_foreign(struct trace_reader *r, const uint8_t *head,
			  size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(foreign_formats) / sizeof(foreign_formats[0]); i++) {
		const struct foreign_format *f = &foreign_formats[i];

		if (len >= f->len && !memcmp(head, f->magic, f->len))
			return reader_fail(r, TRACE_INPUT_COMPRESSED,
					   "%s: %s data: use xz or plain text",
					   r->name, f->name);
	}
	return 0;
}

/*
 * Text, not binary: no NUL byte and few control bytes in the first chunk.
 * Random bytes have a NUL in every 256 on average; ftrace text has none.
 */
static int sniff_text(struct trace_reader *r)
{
	size_t n = r->len - r->pos, i, control = 0;
	const unsigned char *p = (const unsigned char *)r->buf + r->pos;

	r->sniffed = true;
	if (n > 4096)
		n = 4096;
	for (i = 0; i < n; i++) {
		if (p[i] == 0)
			return reader_fail(r, TRACE_INPUT_BINARY,
					   "%s: binary data (a NUL byte at offset %zu): not a trace",
					   r->name, i);
		if ((p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r') ||
		    p[i] == 0x7f)
			control++;
	}
	if (control * 16 > n)
		return reader_fail(r, TRACE_INPUT_BINARY,
				   "%s: binary data (%zu control bytes in the first %zu): not a trace",
				   r->name, control, n);
	return 0;
}

static int reader_setup(struct trace_reader *r, const uint8_t *head,
			size_t head_len)
{
	r->cap = READER_CHUNK;
	r->buf = malloc(r->cap);
	if (!r->buf)
		return -1;
	r->xz = head_len >= sizeof(xz_magic) &&
		!memcmp(head, xz_magic, sizeof(xz_magic));
	if (!r->xz)
		return 0;
	r->raw_cap = READER_CHUNK;
	r->raw = malloc(r->raw_cap);
	r->lzma = calloc(1, sizeof(lzma_stream));
	if (!r->raw || !r->lzma)
		return -1;
	if (lzma_stream_decoder(r->lzma, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK)
		return -1;
	return 0;
}

int trace_reader_open(struct trace_reader *r, const char *path)
{
	uint8_t head[6];
	size_t got;

	memset(r, 0, sizeof(*r));
	r->name = path;
	r->file = fopen(path, "rb");
	if (!r->file)
		return reader_fail(r, TRACE_INPUT_IO, "%s: %s", path,
				   strerror(errno));
	got = fread(head, 1, sizeof(head), r->file);
	rewind(r->file);
	if (refuse_foreign(r, head, got)) {
		fclose(r->file);
		r->file = NULL;
		return -1;
	}
	if (reader_setup(r, head, got)) {
		reader_fail(r, TRACE_INPUT_NOMEM, "%s: out of memory", path);
		trace_reader_close(r);
		return -1;
	}
	return 0;
}

int trace_reader_open_mem(struct trace_reader *r, const char *name,
			  const void *data, size_t len)
{
	memset(r, 0, sizeof(*r));
	r->name = name;
	r->mem = data;
	r->mem_len = len;
	if (refuse_foreign(r, data, len))
		return -1;
	if (reader_setup(r, data, len)) {
		reader_fail(r, TRACE_INPUT_NOMEM, "%s: out of memory", name);
		trace_reader_close(r);
		return -1;
	}
	return 0;
}

/* Raw bytes from the source into @dst; 0 at its end, -1 on error. */
static long read_source(struct trace_reader *r, uint8_t *dst, size_t want)
{
	size_t got;

	if (!r->file) {
		got = r->mem_len - r->mem_pos;
		if (got > want)
			got = want;
		memcpy(dst, r->mem + r->mem_pos, got);
		r->mem_pos += got;
		return (long)got;
	}
	got = fread(dst, 1, want, r->file);
	if (got == 0 && ferror(r->file))
		return reader_fail(r, TRACE_INPUT_IO, "%s: read error: %s",
				   r->name, strerror(errno));
	return (long)got;
}

/* Decompress into buf[len..cap); -1 on a corrupt stream. */
static int fill_xz(struct trace_reader *r)
{
	lzma_stream *s = r->lzma;
	lzma_ret ret;

	if (s->avail_in == 0 && !r->input_done) {
		long got = read_source(r, r->raw, r->raw_cap);

		if (got < 0)
			return -1;
		s->next_in = r->raw;
		s->avail_in = (size_t)got;
		r->input_done = got == 0;
	}
	s->next_out = (uint8_t *)r->buf + r->len;
	s->avail_out = r->cap - r->len;
	ret = lzma_code(s, r->input_done ? LZMA_FINISH : LZMA_RUN);
	r->text_bytes += (r->cap - s->avail_out) - r->len;
	r->len = r->cap - s->avail_out;
	if (ret == LZMA_STREAM_END) {
		r->output_done = true;
		return 0;
	}
	if (ret == LZMA_MEM_ERROR)
		return reader_fail(r, TRACE_INPUT_NOMEM,
				   "%s: out of memory decompressing xz", r->name);
	if (ret != LZMA_OK && ret != LZMA_BUF_ERROR)
		return reader_fail(r, TRACE_INPUT_XZ_CORRUPT,
				   "%s: corrupt xz data (lzma error %d) after %llu bytes of text",
				   r->name, (int)ret,
				   (unsigned long long)r->text_bytes);
	if (ret == LZMA_BUF_ERROR && r->input_done)
		return reader_fail(r, TRACE_INPUT_XZ_TRUNCATED,
				   "%s: truncated xz file: it ends after %llu bytes of text",
				   r->name, (unsigned long long)r->text_bytes);
	return 0;
}

/* More text into buf[len..cap). */
static int fill(struct trace_reader *r)
{
	long got;

	if (r->xz)
		return fill_xz(r);
	got = read_source(r, (uint8_t *)r->buf + r->len, r->cap - r->len);
	if (got < 0)
		return -1;
	r->len += (size_t)got;
	r->text_bytes += (uint64_t)got;
	r->output_done = got == 0;
	return 0;
}

/* Make room after the text held: compact, then grow up to TRACE_MAX_LINE. */
static bool make_room(struct trace_reader *r)
{
	char *bigger;

	if (r->pos > 0) {
		memmove(r->buf, r->buf + r->pos, r->len - r->pos);
		r->len -= r->pos;
		r->pos = 0;
	}
	if (r->len < r->cap)
		return true;
	if (r->cap >= TRACE_MAX_LINE)
		return false;
	bigger = realloc(r->buf, r->cap * 2);
	if (!bigger)
		return false;
	r->buf = bigger;
	r->cap *= 2;
	return true;
}

/* Drop text up to and including the next newline (an overlong line). */
static int skip_line(struct trace_reader *r)
{
	for (;;) {
		char *nl = memchr(r->buf + r->pos, '\n', r->len - r->pos);

		if (nl) {
			r->pos = (size_t)(nl - r->buf) + 1;
			return 0;
		}
		r->pos = r->len = 0;
		if (r->output_done)
			return 0;
		if (fill(r))
			return -1;
	}
}

int trace_reader_next_line(struct trace_reader *r, const char **line,
			   size_t *len)
{
	size_t scanned = 0;

	for (;;) {
		char *from;

		/* the first chunk read (up to READER_CHUNK of text) */
		if (!r->sniffed && r->len > r->pos && sniff_text(r))
			return -1;
		from = r->buf + r->pos + scanned;
		char *nl = memchr(from, '\n', r->len - r->pos - scanned);

		if (nl) {
			*line = r->buf + r->pos;
			*len = (size_t)(nl - *line);
			r->pos = (size_t)(nl - r->buf) + 1;
			r->line_no++;
			return 1;
		}
		scanned = r->len - r->pos;
		if (r->output_done) {
			if (scanned == 0)
				return 0;
			*line = r->buf + r->pos;	/* no final newline */
			*len = scanned;
			r->pos = r->len;
			r->line_no++;
			return 1;
		}
		if (!make_room(r)) {
			r->line_no++;
			return skip_line(r) ? -1 : -2;
		}
		if (fill(r))
			return -1;
	}
}

void trace_reader_close(struct trace_reader *r)
{
	if (r->lzma) {
		lzma_end(r->lzma);
		free(r->lzma);
	}
	if (r->file)
		fclose(r->file);
	free(r->raw);
	free(r->buf);
	r->lzma = NULL;
	r->file = NULL;
	r->raw = NULL;
	r->buf = NULL;
}
