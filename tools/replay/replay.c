// SPDX-License-Identifier: MIT
/*
 * The replay engine (see replay.h).
 *
 * The driver's side: every map the trace records becomes one pvdma_map
 * call (a dma_map_sg is one call with all its entries). Live buffers are
 * remembered by what the matching unmap names: a single map by its dma
 * address, a scatter-gather list by its first physical address (and entry
 * count). An unmap that names no live buffer is counted, not fatal; the
 * unmap of a buffer whose map failed is skipped.
 *
 * Truncated lists ("nents=128/512 ... [TRUNCATED]"): the kernel shows the
 * first 128 entries. The missing ones are invented: each gets the shown
 * entries' mean size (rounded to the nearest 4 KiB, at least 4 KiB), at
 * fresh addresses above everything the trace touches, ascending, with a
 * 4 KiB hole after each so that no two are contiguous (as scattered pinned
 * pages are not). A list mapped again (same first address, same count and
 * mean) gets the same invented addresses, being the same buffer.
 */
#include "replay.h"

#include "inspect.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define GUEST_PAGE	4096ull
#define REGION_ALIGN	(1ull << 30)

/* ---- a small chained hash table keyed by u64 ---- */

struct hnode {
	struct hnode *next;
	u64 key;
};

struct htable {
	struct hnode **buckets;
	u64 mask;
	u64 count;
};

static u64 hash_key(u64 key)
{
	key ^= key >> 29;
	key *= 0xbf58476d1ce4e5b9ull;
	key ^= key >> 32;
	return key;
}

static int ht_init(struct htable *t)
{
	t->mask = 1023;
	t->count = 0;
	t->buckets = calloc(t->mask + 1, sizeof(*t->buckets));
	return t->buckets ? 0 : -1;
}

static void ht_grow(struct htable *t)
{
	u64 mask = t->mask * 2 + 1, i;
	struct hnode **b = calloc(mask + 1, sizeof(*b));

	if (!b)
		return;		/* keep the long chains; still correct */
	for (i = 0; i <= t->mask; i++) {
		struct hnode *n = t->buckets[i], *next;

		for (; n; n = next) {
			next = n->next;
			n->next = b[hash_key(n->key) & mask];
			b[hash_key(n->key) & mask] = n;
		}
	}
	free(t->buckets);
	t->buckets = b;
	t->mask = mask;
}

/* Newest first: a buffer mapped twice is unmapped last-in first-out. */
static void ht_insert(struct htable *t, struct hnode *n)
{
	struct hnode **head;

	if (t->count > t->mask)
		ht_grow(t);
	head = &t->buckets[hash_key(n->key) & t->mask];
	n->next = *head;
	*head = n;
	t->count++;
}

static struct hnode **ht_bucket(struct htable *t, u64 key)
{
	return &t->buckets[hash_key(key) & t->mask];
}

static void ht_free_all(struct htable *t)
{
	u64 i;

	for (i = 0; t->buckets && i <= t->mask; i++) {
		struct hnode *n = t->buckets[i], *next;

		for (; n; n = next) {
			next = n->next;
			free(n);
		}
	}
	free(t->buckets);
	t->buckets = NULL;
}

/* ---- state of one run ---- */

/* One buffer the driver holds mapped. */
struct live_buf {
	struct hnode node;	/* key: dma_addr (single) or first phys (sg) */
	u64 first_dma;
	u64 bytes;
	u32 nents_total;
	u32 nsegs;		/* 0 if the map failed */
	u8 dir;
	bool failed;
	u32 map_id;		/* its map in the oracle's log */
	struct pvdma_seg segs[];
};

/* Where a truncated list's invented entries went. */
struct invented {
	struct hnode node;	/* key: first phys */
	u32 total;
	u64 each;
	u64 base;
};

struct oracle_log;

struct replay {
	const struct replay_options *opt;
	struct oracle_log *log;		/* the oracle's first pass, or NULL */
	const struct replay_layout *lay;
	struct replay_result *res;
	struct pvdma_dart dart;
	struct pvdma_dart_mapping *dart_slots;
	struct pvdma_planner planner;
	struct pvdma_planner_mem mem;
	struct pvdma_seg *segs;
	u32 segs_cap;
	struct htable singles;
	struct htable lists;
	struct htable invented;
	u64 invent_next;
	unsigned int messages;
	const char *name;	/* the source, for messages */
	u64 clock_ns;		/* what one timed interval adds: clock_cost() */
};

#define MAX_MESSAGES	10

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec;
}

#define CLOCK_SAMPLES	101

static int clock_cmp(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/*
 * What reading the clock adds to an interval it times: the median of
 * back-to-back readings (tens of ns on a virtual machine, as much as a
 * planner hit costs). Every map's interval holds one such cost, and each
 * host call inside it one more (its own readings, half inside the host's
 * time and half outside); do_map() takes them off, so the planner's time
 * is its own and a policy that calls the host per entry is not charged
 * for the clock.
 */
static u64 clock_cost(void)
{
	u64 d[CLOCK_SAMPLES];
	unsigned int i;

	for (i = 0; i < CLOCK_SAMPLES; i++) {
		u64 t0 = now_ns();

		d[i] = now_ns() - t0;
	}
	qsort(d, CLOCK_SAMPLES, sizeof(d[0]), clock_cmp);
	return d[CLOCK_SAMPLES / 2];
}

static u32 dir_perm(enum trace_dir dir)
{
	switch (dir) {
	case TRACE_DIR_TO_DEVICE:
		return PVDMA_MAP_READ;
	case TRACE_DIR_FROM_DEVICE:
		return PVDMA_MAP_WRITE;
	default:
		return PVDMA_MAP_READ | PVDMA_MAP_WRITE;
	}
}

static enum pvdma_dir planner_dir(enum trace_dir dir)
{
	if (dir == TRACE_DIR_TO_DEVICE)
		return PVDMA_DIR_TO_DEVICE;
	if (dir == TRACE_DIR_FROM_DEVICE)
		return PVDMA_DIR_FROM_DEVICE;
	return PVDMA_DIR_BIDIRECTIONAL;
}

/*
 * The host: every op goes to the DART model; one call is one VM exit. Its
 * time is kept apart so the planner's own cost can be told from the
 * model's.
 */
static int replay_submit(void *ctx, struct pvdma_request *ops, u32 n)
{
	struct replay *rp = ctx;
	u64 t0 = now_ns();
	u32 i;

	rp->res->host_calls++;
	pvdma_dart_execute(&rp->dart, ops, n);
	for (i = 0; i < n; i++) {
		if (ops[i].op == PVDMA_OP_MAP)
			rp->res->host_maps++;
		else if (ops[i].op == PVDMA_OP_UNMAP)
			rp->res->host_unmaps++;
		if (ops[i].status != PVDMA_ST_OK)
			rp->res->host_refusals++;
	}
	rp->res->aperture_bytes = rp->dart.stats.live_bytes;
	rp->res->host_ns += now_ns() - t0;
	return 0;
}

static const struct pvdma_planner_ops replay_ops = {
	.submit = replay_submit,
};

/* Size of one invented entry: the shown mean, to the nearest 4 KiB. */
static u64 invented_size(const struct trace_event *ev)
{
	u64 sum = 0, mean;
	u32 i;

	for (i = 0; i < ev->nents; i++) {
		if (sum + ev->ents[i].len < sum)
			return 0;
		sum += ev->ents[i].len;
	}
	mean = sum / ev->nents;
	mean = (mean + GUEST_PAGE / 2) / GUEST_PAGE * GUEST_PAGE;
	return mean ? mean : GUEST_PAGE;
}

/* Bytes of address space a truncated list's invented entries take. */
static bool invented_extent(const struct trace_event *ev, u64 each, u64 *ext)
{
	u64 missing = ev->nents_total - ev->nents;

	if (!each || each > REPLAY_ADDR_LIMIT)
		return false;
	return !__builtin_mul_overflow(missing, each + GUEST_PAGE, ext) &&
	       *ext < REPLAY_ADDR_LIMIT;
}

static struct invented *find_invented(struct replay *rp,
				      const struct trace_event *ev, u64 each)
{
	struct hnode *n = *ht_bucket(&rp->invented, ev->ents[0].phys);

	for (; n; n = n->next) {
		struct invented *inv = (struct invented *)n;

		if (n->key == ev->ents[0].phys &&
		    inv->total == ev->nents_total && inv->each == each)
			return inv;
	}
	return NULL;
}

/* Append the invented entries of a truncated list to rp->segs. */
static int fill_truncated(struct replay *rp, const struct trace_event *ev)
{
	u64 each = invented_size(ev), ext, base;

	/* a smaller guess (--verdict's lower bound) stays inside the layout */
	if (rp->opt->invent_bytes && rp->opt->invent_bytes < each)
		each = rp->opt->invent_bytes;
	struct invented *inv;
	u32 i;

	if (!invented_extent(ev, each, &ext) || rp->lay->no_room)
		return -1;
	inv = find_invented(rp, ev, each);
	if (inv) {
		base = inv->base;
	} else {
		if (rp->invent_next + ext < rp->invent_next ||
		    rp->invent_next + ext > REPLAY_ADDR_LIMIT)
			return -1;
		base = rp->invent_next;
		rp->invent_next += ext;
		inv = calloc(1, sizeof(*inv));
		if (inv) {
			inv->node.key = ev->ents[0].phys;
			inv->total = ev->nents_total;
			inv->each = each;
			inv->base = base;
			ht_insert(&rp->invented, &inv->node);
		}
	}
	for (i = ev->nents; i < ev->nents_total; i++) {
		struct pvdma_seg *s = &rp->segs[i];

		memset(s, 0, sizeof(*s));
		s->gpa = base + (u64)(i - ev->nents) * (each + GUEST_PAGE);
		s->len = each;
		rp->res->invented_bytes += each;
	}
	return 0;
}

/* The segments of a map event into rp->segs; how many, or -1. */
static long build_segs(struct replay *rp, const struct trace_event *ev)
{
	u32 i;

	if (ev->kind == TRACE_EV_MAP_SINGLE) {
		memset(&rp->segs[0], 0, sizeof(rp->segs[0]));
		rp->segs[0].gpa = ev->phys_addr;
		rp->segs[0].len = ev->size;
		return 1;
	}
	if (ev->nents_total > rp->segs_cap || ev->nents == 0)
		return -1;
	for (i = 0; i < ev->nents; i++) {
		memset(&rp->segs[i], 0, sizeof(rp->segs[i]));
		rp->segs[i].gpa = ev->ents[i].phys;
		rp->segs[i].len = ev->ents[i].len;
	}
	if (ev->nents_total > ev->nents && fill_truncated(rp, ev))
		return -1;
	return ev->nents_total;
}

static void note(struct replay *rp, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void note(struct replay *rp, const char *fmt, ...)
{
	va_list ap;

	if (rp->opt->quiet || rp->messages >= MAX_MESSAGES)
		return;
	rp->messages++;
	va_start(ap, fmt);
	fprintf(stderr, "pvdma-replay: %s [%s]: ", rp->name,
		pvdma_policy_name(rp->opt->policy));
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * Does the bus address agree with the physical one modulo 64 KiB and
 * 2 MiB, as drivers with large GPU pages assume (NVIDIA's UVM)?
 */
static void count_alignment(struct replay_result *res, const struct pvdma_seg *s)
{
	u64 diff = s->bus ^ s->gpa;

	res->align_bytes += s->len;
	if (!(diff & (REPLAY_ALIGN_64K - 1)))
		res->align_64k_bytes += s->len;
	if (!(diff & (REPLAY_ALIGN_2M - 1)))
		res->align_2m_bytes += s->len;
}

/* The device reaches exactly the bytes asked for, with the rights asked. */
static void verify_seg(struct replay *rp, const struct pvdma_seg *s, u32 perm)
{
	u64 host = 0;
	int err = pvdma_dart_translate(&rp->dart, s->bus, s->len, perm, &host);

	if (!err && host == s->dev_gpa && (s->bounced || s->dev_gpa == s->gpa)) {
		count_alignment(rp->res, s);
		return;
	}
	rp->res->verify_errors++;
	note(rp, "verify: gpa 0x%llx len 0x%llx -> bus 0x%llx: %s (host 0x%llx, dev_gpa 0x%llx, bounced %u)",
	     (unsigned long long)s->gpa, (unsigned long long)s->len,
	     (unsigned long long)s->bus,
	     err ? "does not translate" : "wrong bytes",
	     (unsigned long long)host, (unsigned long long)s->dev_gpa,
	     s->bounced);
}

static void record_failure(struct replay *rp, u64 bytes, u32 nsegs)
{
	const struct pvdma_fail_info *f = &rp->planner.last_failure;
	struct replay_result *res = rp->res;
	char sz[32], live[32], max[32], peak[32];

	res->failed_maps++;
	if (f->reason < PVDMA_FAIL_COUNT)
		res->fail_by_reason[f->reason]++;
	if (res->first_failure[0])
		return;
	/* Human units; the host's status only when the host refused. */
	snprintf(res->first_failure, sizeof(res->first_failure),
		 "map #%llu (%s in %u segments): %s; %s of %s mapped (peak %s), %llu of %llu mappings%s%s",
		 (unsigned long long)res->map_requests,
		 trace_human_bytes(bytes, sz, sizeof(sz)), nsegs,
		 pvdma_fail_reason_name(f->reason),
		 trace_human_bytes(f->aperture_live, live, sizeof(live)),
		 trace_human_bytes(f->aperture_max, max, sizeof(max)),
		 trace_human_bytes(f->aperture_peak, peak, sizeof(peak)),
		 (unsigned long long)f->mappings_live,
		 (unsigned long long)f->mappings_max,
		 f->reason == PVDMA_FAIL_HOST ? "; the host said " : "",
		 f->reason == PVDMA_FAIL_HOST ?
		 pvdma_status_name(f->host_status) : "");
}

static void unmap_unrecorded(struct replay *rp, const struct trace_event *ev);

/*
 * ---- the oracle: a clairvoyant lower bound on host calls ----
 *
 * A first pass logs the driver's maps (their 16 KiB pages) and unmaps,
 * whatever the planner does. Then, knowing the whole future: a map whose
 * pages are all mapped costs nothing; one whose pages and the live pages
 * do not fit the aperture fails (at no cost); any other costs one host
 * call, which maps the live pages, its own, and those of the maps that
 * follow, in order, while they fit. Mapping counts, bus space and window
 * shapes are ignored: no policy can do better.
 */
struct oracle_log {
	u64 *pages;		/* every map's distinct 16 KiB pages */
	u64 npages, pages_cap;
	u64 *maps;		/* map i's pages: [maps[i], maps[i + 1]) */
	u64 nmaps, maps_cap;
	u64 *events;		/* map i: i << 1; unmap of map i: i << 1 | 1 */
	u64 nevents, events_cap;
	bool oom;
};

static bool log_push(u64 **arr, u64 *n, u64 *cap, u64 v)
{
	if (*n == *cap) {
		u64 c = *cap ? *cap * 2 : 1024;
		u64 *p = realloc(*arr, c * sizeof(**arr));

		if (!p)
			return false;
		*arr = p;
		*cap = c;
	}
	(*arr)[(*n)++] = v;
	return true;
}

static u32 oracle_last_map(const struct oracle_log *log)
{
	return (u32)(log->nmaps - 1);
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* The pages of rp->segs[0..n): a new map in the log. */
static void oracle_log_map(struct replay *rp, u32 n)
{
	struct oracle_log *log = rp->log;
	u64 first, i, j, k;

	if (!log)
		return;
	first = log->npages;
	for (i = 0; i < n && !log->oom; i++) {
		u64 lo = rp->segs[i].gpa / PVDMA_DART_PAGE_SIZE;
		u64 hi = (rp->segs[i].gpa + rp->segs[i].len - 1) /
			 PVDMA_DART_PAGE_SIZE;

		for (j = lo; j <= hi && !log->oom; j++)
			log->oom |= !log_push(&log->pages, &log->npages,
					      &log->pages_cap, j);
	}
	/* distinct pages only */
	qsort(log->pages + first, log->npages - first, sizeof(u64), cmp_u64);
	for (i = first, k = first; i < log->npages; i++)
		if (i == first || log->pages[i] != log->pages[k - 1])
			log->pages[k++] = log->pages[i];
	log->npages = k;
	log->oom |= !log_push(&log->maps, &log->nmaps, &log->maps_cap, first);
	log->oom |= !log_push(&log->events, &log->nevents, &log->events_cap,
			      (log->nmaps - 1) << 1);
}

static void oracle_log_unmap(struct replay *rp, u32 map_id)
{
	struct oracle_log *log = rp->log;

	if (log)
		log->oom |= !log_push(&log->events, &log->nevents,
				      &log->events_cap, (u64)map_id << 1 | 1);
}

/*
 * Every page the log names: live count and the host call that mapped it.
 * A call maps every page live at that moment; rather than stamp them all
 * (a walk of the whole table per call: quadratic when the live set fills
 * the aperture and nearly every map is a call), a page remembers the call
 * count when it last became live, and is stamped only when it stops being
 * live (oracle_is_mapped).
 */
struct oracle_page {
	u64 page;	/* page + 1; 0: empty slot */
	u32 live;
	u32 mapped;	/* host call number that maps it; 0: none */
	u32 live_since;	/* o->call when live last went from 0 to 1 */
};

struct oracle {
	struct oracle_page *tab;
	u64 mask;
	u64 live, mapped, limit;	/* pages */
	u32 call;
};

static struct oracle_page *oracle_page(struct oracle *o, u64 page)
{
	u64 i = hash_key(page) & o->mask;

	while (o->tab[i].page && o->tab[i].page != page + 1)
		i = (i + 1) & o->mask;
	o->tab[i].page = page + 1;
	return &o->tab[i];
}

static u64 map_end(const struct oracle_log *log, u64 m)
{
	return m + 1 < log->nmaps ? log->maps[m + 1] : log->npages;
}

/* Mapped by the current call: stamped by it, or live since before it. */
static bool oracle_is_mapped(const struct oracle *o,
			     const struct oracle_page *p)
{
	return p->mapped == o->call || (p->live && p->live_since < o->call);
}

/* Pages of map @m not mapped by the current call. */
static u64 oracle_unmapped(struct oracle *o, const struct oracle_log *log,
			   u64 m)
{
	u64 i, n = 0;

	for (i = log->maps[m]; i < map_end(log, m); i++)
		n += !oracle_is_mapped(o, oracle_page(o, log->pages[i]));
	return n;
}

static void oracle_mark(struct oracle *o, const struct oracle_log *log, u64 m)
{
	u64 i;

	for (i = log->maps[m]; i < map_end(log, m); i++) {
		struct oracle_page *p = oracle_page(o, log->pages[i]);

		if (!oracle_is_mapped(o, p)) {
			p->mapped = o->call;
			o->mapped++;
		}
	}
}

/* One host call at event @e (map @m): live pages, @m's, then the future. */
static void oracle_call(struct oracle *o, const struct oracle_log *log, u64 e,
			u64 m)
{
	u64 i;

	o->call++;
	o->mapped = o->live;	/* every live page, unstamped */
	oracle_mark(o, log, m);
	for (i = e + 1; i < log->nevents; i++) {
		u64 next = log->events[i];

		if (next & 1)
			continue;
		if (o->mapped + oracle_unmapped(o, log, next >> 1) > o->limit)
			break;
		oracle_mark(o, log, next >> 1);
	}
}

static void oracle_live(struct oracle *o, const struct oracle_log *log, u64 m,
			int delta)
{
	u64 i;

	for (i = log->maps[m]; i < map_end(log, m); i++) {
		struct oracle_page *p = oracle_page(o, log->pages[i]);

		if (delta > 0 && !p->live++) {
			p->live_since = o->call;
			o->live++;
		} else if (delta < 0 && p->live == 1) {
			/* its mapping outlives it until the next call */
			if (oracle_is_mapped(o, p))
				p->mapped = o->call;
			p->live = 0;
			o->live--;
		} else if (delta < 0 && p->live) {
			p->live--;
		}
	}
}

static int oracle_run(const struct oracle_log *log, u64 aperture,
		      struct replay_result *res)
{
	struct oracle o = { .limit = aperture / PVDMA_DART_PAGE_SIZE };
	bool *failed = calloc(log->nmaps + 1, sizeof(*failed));
	u64 e, size = 1024;

	while (size < 2 * log->npages)
		size *= 2;
	o.mask = size - 1;
	o.tab = calloc(size, sizeof(*o.tab));
	if (!o.tab || !failed || log->oom) {
		free(o.tab);
		free(failed);
		return -1;
	}
	for (e = 0; e < log->nevents; e++) {
		u64 m = log->events[e] >> 1;

		if (log->events[e] & 1) {
			if (!failed[m])
				oracle_live(&o, log, m, -1);
			continue;
		}
		if (o.call && !oracle_unmapped(&o, log, m)) {
			oracle_live(&o, log, m, 1);
			continue;
		}
		/* the live pages and its own: do they fit at all? */
		o.mapped = 0;
		{
			u64 i, extra = 0;

			for (i = log->maps[m]; i < map_end(log, m); i++)
				extra += !oracle_page(&o, log->pages[i])->live;
			if (o.live + extra > o.limit) {
				failed[m] = true;
				res->failed_maps++;
				continue;
			}
		}
		oracle_call(&o, log, e, m);
		res->host_calls++;
		res->host_maps++;
		oracle_live(&o, log, m, 1);
	}
	free(o.tab);
	free(failed);
	return 0;
}

static void oracle_log_free(struct oracle_log *log)
{
	free(log->pages);
	free(log->maps);
	free(log->events);
}

/*
 * The planner's own part of @spent ns of one call that began with the
 * host at @host0 ns and @calls0 calls: the host's time and the clock's
 * (one reading for the call, one for each host call in it) taken out.
 */
static u64 planner_time(const struct replay *rp, u64 spent, u64 host0,
			u64 calls0)
{
	const struct replay_result *res = rp->res;

	spent -= res->host_ns - host0;
	return spent - PVDMA_MIN(spent, rp->clock_ns *
				 (1 + res->host_calls - calls0));
}

static void do_map(struct replay *rp, const struct trace_event *ev)
{
	struct replay_result *res = rp->res;
	struct live_buf *buf;
	long n = build_segs(rp, ev);
	u64 bytes = 0, t0, t1, host0, calls0;
	u32 perm = dir_perm(ev->dir), i;
	int err;

	if (n < 0) {
		res->invalid_maps++;
		return;
	}
	if (ev->kind == TRACE_EV_MAP_SG)
		unmap_unrecorded(rp, ev);
	oracle_log_map(rp, (u32)n);
	for (i = 0; i < n; i++)
		bytes += rp->segs[i].len;
	res->map_requests++;
	res->map_segments += (u64)n;
	res->live_bytes += bytes;
	if (res->live_bytes > res->peak_live_bytes)
		res->peak_live_bytes = res->live_bytes;

	host0 = res->host_ns;
	calls0 = res->host_calls;
	t0 = now_ns();
	err = pvdma_map(&rp->planner, rp->segs, (u32)n, planner_dir(ev->dir),
			ev->coherent ? PVDMA_ATTR_COHERENT : 0);
	t1 = now_ns();
	res->map_ns += t1 - t0;
	res->map_host_ns += res->host_ns - host0;
	res->planner_ns += planner_time(rp, t1 - t0, host0, calls0);
	res->spec_waste_peak = PVDMA_MAX(res->spec_waste_peak,
					 rp->planner.stats.spec_aperture);

	if (err)
		record_failure(rp, bytes, (u32)n);
	else
		for (i = 0; i < n; i++)
			verify_seg(rp, &rp->segs[i], perm);

	buf = malloc(sizeof(*buf) + (err ? 0 : (size_t)n * sizeof(buf->segs[0])));
	if (!buf) {
		fprintf(stderr, "pvdma-replay: out of memory\n");
		exit(2);
	}
	buf->node.key = ev->kind == TRACE_EV_MAP_SINGLE ? ev->dma_addr
							 : ev->ents[0].phys;
	buf->first_dma = ev->kind == TRACE_EV_MAP_SINGLE ? ev->dma_addr
							  : ev->ents[0].dma;
	buf->bytes = bytes;
	buf->nents_total = (u32)n;
	buf->dir = (u8)ev->dir;
	buf->failed = err != 0;
	buf->map_id = rp->log ? oracle_last_map(rp->log) : 0;
	buf->nsegs = err ? 0 : (u32)n;
	if (!err)
		memcpy(buf->segs, rp->segs, (size_t)n * sizeof(buf->segs[0]));
	ht_insert(ev->kind == TRACE_EV_MAP_SINGLE ? &rp->singles : &rp->lists,
		  &buf->node);
}

/* Does unmap event @ev name live list @buf? */
static bool list_matches(const struct live_buf *buf,
			 const struct trace_event *ev)
{
	if (buf->nents_total == ev->nents_total)
		return true;
	/* An unmap_sg without nents= that shows the kernel's maximum may
	 * stand for a longer list. */
	return ev->nents_total == ev->nents &&
	       ev->nents >= TRACE_SHOWN_ENTRIES &&
	       buf->nents_total >= ev->nents;
}

/* Unlink and return the live buffer @ev names, or NULL. */
static struct live_buf *take_live(struct replay *rp,
				  const struct trace_event *ev)
{
	bool single = ev->kind == TRACE_EV_UNMAP_SINGLE;
	struct htable *t = single ? &rp->singles : &rp->lists;
	u64 key = single ? ev->dma_addr : ev->ents[0].phys;
	struct hnode **pp = ht_bucket(t, key);

	for (; *pp; pp = &(*pp)->next) {
		struct live_buf *buf = (struct live_buf *)*pp;

		if ((*pp)->key != key)
			continue;
		if (single ? buf->bytes != ev->size : !list_matches(buf, ev))
			continue;
		*pp = (*pp)->next;
		t->count--;
		return buf;
	}
	return NULL;
}

/*
 * Unmap through the planner, timed like a map: a policy that unmaps at
 * once does at unmap what a caching one does in a later map (release a
 * window), so the two are compared with both.
 */
static int timed_unmap(struct replay *rp, struct live_buf *buf)
{
	struct replay_result *res = rp->res;
	u64 host0 = res->host_ns, calls0 = res->host_calls, t0 = now_ns();
	int err;

	err = pvdma_unmap(&rp->planner, buf->segs, buf->nsegs,
			  planner_dir((enum trace_dir)buf->dir));
	res->unmap_planner_ns += planner_time(rp, now_ns() - t0, host0,
					      calls0);
	return err;
}

/* Unmap live buffer @buf (already unlinked) through the planner. */
static void release_live(struct replay *rp, struct live_buf *buf)
{
	struct replay_result *res = rp->res;

	res->live_bytes -= buf->bytes;
	oracle_log_unmap(rp, buf->map_id);
	if (buf->failed) {
		res->skipped_unmaps++;
	} else if (timed_unmap(rp, buf)) {
		res->unmap_errors++;
		note(rp, "unmap of %u segments at bus 0x%llx refused",
		     buf->nsegs, (unsigned long long)buf->segs[0].bus);
	}
	free(buf);
}

static void do_unmap(struct replay *rp, const struct trace_event *ev)
{
	struct live_buf *buf = take_live(rp, ev);

	rp->res->unmap_requests++;
	if (!buf) {
		rp->res->unmatched_unmaps++;
		return;
	}
	release_live(rp, buf);
}

/*
 * The kernel does not record the dma_unmap_sg of a list longer than about
 * 500 entries (the event would not fit a ring-buffer page; see
 * traces/README.md), so such a list looks mapped for ever. When a list
 * with the same first physical address is mapped again, the earlier one
 * was certainly unmapped by then: unmap it first (counted in
 * implied_unmaps).
 */
static void unmap_unrecorded(struct replay *rp, const struct trace_event *ev)
{
	struct hnode **pp = ht_bucket(&rp->lists, ev->ents[0].phys);

	for (; *pp; pp = &(*pp)->next) {
		struct live_buf *buf = (struct live_buf *)*pp;

		if ((*pp)->key != ev->ents[0].phys ||
		    buf->nents_total <= TRACE_UNMAP_UNRECORDED)
			continue;
		*pp = (*pp)->next;
		rp->lists.count--;
		rp->res->implied_unmaps++;
		release_live(rp, buf);
		return;
	}
}

/* A sync names a live buffer by its dma address. */
static struct live_buf *find_synced(struct replay *rp,
				    const struct trace_event *ev)
{
	bool single = ev->kind == TRACE_EV_SYNC_SINGLE;
	u64 key = single ? ev->dma_addr : ev->ents[0].dma;
	struct hnode *n = *ht_bucket(single ? &rp->singles : &rp->lists, key);

	for (; n; n = n->next) {
		struct live_buf *buf = (struct live_buf *)n;

		if (n->key == key && buf->first_dma == key)
			return buf;
	}
	return NULL;
}

static void do_sync(struct replay *rp, const struct trace_event *ev)
{
	struct live_buf *buf = find_synced(rp, ev);
	enum pvdma_dir dir = planner_dir(ev->dir);
	u32 i;

	rp->res->sync_requests++;
	if (!buf) {
		rp->res->unmatched_syncs++;
		return;
	}
	if (buf->failed)
		return;
	if (ev->kind == TRACE_EV_SYNC_SINGLE) {
		pvdma_sync(&rp->planner, buf->segs[0].bus,
			   PVDMA_MIN(ev->size, buf->segs[0].len), dir,
			   ev->for_device);
		return;
	}
	for (i = 0; i < buf->nsegs && i < ev->nents; i++)
		pvdma_sync(&rp->planner, buf->segs[i].bus, buf->segs[i].len,
			   dir, ev->for_device);
}

static void replay_event(struct replay *rp, const struct trace_event *ev)
{
	rp->res->events++;
	switch (ev->kind) {
	case TRACE_EV_MAP_SINGLE:
	case TRACE_EV_MAP_SG:
		do_map(rp, ev);
		break;
	case TRACE_EV_UNMAP_SINGLE:
	case TRACE_EV_UNMAP_SG:
		do_unmap(rp, ev);
		break;
	case TRACE_EV_SYNC_SINGLE:
	case TRACE_EV_SYNC_SG:
		do_sync(rp, ev);
		break;
	case TRACE_EV_PHASE:
		rp->res->phases++;
		break;
	default:
		rp->res->other_events++;
		break;
	}
}

/* ---- setup ---- */

static struct trace_event *new_event(void)
{
	struct trace_event *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return NULL;
	ev->ents = calloc(REPLAY_MAX_SHOWN, sizeof(*ev->ents));
	ev->ents_cap = REPLAY_MAX_SHOWN;
	if (!ev->ents) {
		free(ev);
		return NULL;
	}
	return ev;
}

static void free_event(struct trace_event *ev)
{
	if (ev)
		free(ev->ents);
	free(ev);
}

static void scan_event(struct replay_layout *lay, const struct trace_event *ev)
{
	u32 i;

	lay->events++;
	if (ev->kind == TRACE_EV_MAP_SINGLE) {
		lay->max_addr = PVDMA_MAX(lay->max_addr, ev->phys_addr + ev->size);
		lay->max_addr = PVDMA_MAX(lay->max_addr, ev->dma_addr + ev->size);
		return;
	}
	if (ev->kind != TRACE_EV_MAP_SG && ev->kind != TRACE_EV_UNMAP_SG)
		return;
	for (i = 0; i < ev->nents; i++) {
		lay->max_addr = PVDMA_MAX(lay->max_addr,
					  ev->ents[i].phys + ev->ents[i].len);
		lay->max_addr = PVDMA_MAX(lay->max_addr,
					  ev->ents[i].dma + ev->ents[i].len);
	}
	if (ev->kind != TRACE_EV_MAP_SG)
		return;
	lay->max_segs = PVDMA_MAX(lay->max_segs, ev->nents_total);
	if (ev->nents_total > ev->nents) {
		u64 ext;

		if (!invented_extent(ev, invented_size(ev), &ext) ||
		    lay->invent_bound + ext < lay->invent_bound)
			lay->invent_bound = REPLAY_ADDR_LIMIT;
		else
			lay->invent_bound += ext;
	}
}

int replay_scan(struct replay_source *src, struct replay_layout *lay)
{
	struct trace_event *ev = new_event();
	int rc;

	memset(lay, 0, sizeof(*lay));
	lay->max_segs = 1;
	if (!ev || src->rewind(src, true)) {
		free_event(ev);
		return -1;
	}
	while ((rc = src->next(src, ev)) > 0)
		scan_event(lay, ev);
	free_event(ev);
	lay->parse_errors = src->parse_errors;
	lay->invent_base = PVDMA_ALIGN_UP(PVDMA_MIN(lay->max_addr,
						    REPLAY_ADDR_LIMIT / 4),
					  REGION_ALIGN) + REGION_ALIGN;
	lay->no_room = lay->max_addr > REPLAY_ADDR_LIMIT / 4 ||
		       lay->invent_bound >= REPLAY_ADDR_LIMIT / 4;
	lay->bounce_gpa = PVDMA_ALIGN_UP(lay->invent_base +
					 PVDMA_MIN(lay->invent_bound,
						   REPLAY_ADDR_LIMIT / 4),
					 REGION_ALIGN) + REGION_ALIGN;
	return rc < 0 ? -1 : 0;
}

static int setup(struct replay *rp)
{
	const struct replay_options *opt = rp->opt;
	struct pvdma_dart_config dcfg;
	struct pvdma_planner_config pcfg;
	u32 nops = opt->batch ? opt->batch : PVDMA_DEFAULT_DOORBELL_BATCH;
	int err;

	pvdma_dart_default_config(&dcfg);
	dcfg.aperture_bytes = opt->aperture;
	dcfg.max_mappings = opt->max_mappings;
	/* The original system's host (IOKit) hands out the lowest free
	 * range; pvdmad keeps physical alignment (lib/dart.c). */
	if (opt->policy == PVDMA_POLICY_RFC)
		dcfg.align_max = 0;
	if (opt->aperture * 2 > dcfg.bus_limit - dcfg.bus_base)
		dcfg.bus_limit = dcfg.bus_base + opt->aperture * 2;
	rp->dart_slots = calloc(opt->max_mappings, sizeof(*rp->dart_slots));
	if (!rp->dart_slots)
		return -ENOMEM;
	err = pvdma_dart_init(&rp->dart, &dcfg, rp->dart_slots,
			      opt->max_mappings);
	if (err)
		return err;

	pvdma_planner_default_config(&pcfg, opt->policy, dcfg.page_size,
				     opt->aperture, opt->max_mappings);
	pcfg.strict = opt->strict;
	pcfg.trim = true;	/* the DART model takes PVDMA_OP_TRIM */
	if (opt->max_window)
		pcfg.max_window = opt->max_window;
	if (opt->spec_shift)
		pcfg.spec_shift = opt->spec_shift - 1;
	rp->mem.nwindows = opt->max_mappings + 64;
	rp->mem.windows = calloc(rp->mem.nwindows, sizeof(*rp->mem.windows));
	rp->mem.nops = nops;
	rp->mem.ops = calloc(nops, sizeof(*rp->mem.ops));
	rp->mem.batch_win = calloc(nops, sizeof(*rp->mem.batch_win));
	/* where the pages of large grown windows lie: their holes can be
	 * trimmed (a few MiB of chunk maps, as the module would give) */
	rp->mem.nchunk_maps = REPLAY_CHUNK_MAPS;
	rp->mem.chunk_maps = calloc(REPLAY_CHUNK_MAPS,
				    sizeof(*rp->mem.chunk_maps));
	/* touched now, as the module's vcalloc does: a first touch inside
	 * pvdma_map would count as the planner's time
	 */
	if (rp->mem.chunk_maps)
		memset(rp->mem.chunk_maps, 0,
		       REPLAY_CHUNK_MAPS * sizeof(*rp->mem.chunk_maps));
	if (opt->block_bytes)
		pcfg.block_bytes = opt->block_bytes;
	if (opt->policy == PVDMA_POLICY_POOL ||
	    (opt->policy == PVDMA_POLICY_PVDMA && opt->bounce != PVDMA_BOUNCE_OFF)) {
		/* the pool policy is the pool: every map bounces */
		pcfg.bounce = opt->policy == PVDMA_POLICY_POOL ?
			      PVDMA_BOUNCE_ALL : opt->bounce;
		pcfg.bounce_gpa = rp->lay->bounce_gpa;
		pcfg.bounce_bytes = opt->bounce_bytes;
		rp->mem.nslots = 65536;
		rp->mem.slots = calloc(rp->mem.nslots, sizeof(*rp->mem.slots));
		if (!rp->mem.slots)
			return -ENOMEM;
	}
	if (!rp->mem.windows || !rp->mem.ops || !rp->mem.batch_win ||
	    !rp->mem.chunk_maps)
		return -ENOMEM;
	rp->segs_cap = rp->lay->max_segs;
	rp->segs = calloc(rp->segs_cap, sizeof(*rp->segs));
	if (!rp->segs || ht_init(&rp->singles) || ht_init(&rp->lists) ||
	    ht_init(&rp->invented))
		return -ENOMEM;
	rp->invent_next = rp->lay->invent_base;
	return pvdma_planner_init(&rp->planner, &pcfg, &replay_ops, rp,
				  &rp->mem);
}

static void teardown(struct replay *rp)
{
	ht_free_all(&rp->singles);
	ht_free_all(&rp->lists);
	ht_free_all(&rp->invented);
	free(rp->segs);
	free(rp->mem.windows);
	free(rp->mem.ops);
	free(rp->mem.batch_win);
	free(rp->mem.chunk_maps);
	free(rp->mem.slots);
	free(rp->dart_slots);
}

static void collect(struct replay *rp)
{
	const struct pvdma_planner_stats *ps = &rp->planner.stats;
	const struct pvdma_dart_stats *ds = &rp->dart.stats;
	struct replay_result *res = rp->res;

	res->tlb_flushes = ds->tlb_flushes;
	res->peak_live_mappings = ds->peak_mappings;
	res->peak_aperture_bytes = ds->peak_bytes;
	res->align_fallbacks = ds->align_fallbacks;
	res->end_live_mappings = ds->live_mappings;
	res->bounced_maps = ps->bounced_maps;
	res->bounced_bytes = ps->bounced_bytes;
	res->evictions = ps->evictions;
	res->hits = ps->hits;
	res->misses = ps->misses;
	res->spec_waste_end = ps->spec_aperture;
	res->trims = ps->trims;
	res->trimmed_bytes = ps->trimmed_bytes;
	res->admission_refusals = ps->admission_refusals;
	res->fast_lookups = ps->fast_lookups;
}

static int replay_pass(struct replay_source *src,
		       const struct replay_layout *lay,
		       const struct replay_options *opt,
		       struct replay_result *res, struct oracle_log *log);

/*
 * The oracle: a pvdma pass logs what the driver maps and unmaps, then the
 * log is played with hindsight. Only the driver's side of the result
 * (maps, segments, live bytes) and the oracle's host calls and failures
 * are reported.
 */
static int replay_oracle(struct replay_source *src,
			 const struct replay_layout *lay,
			 const struct replay_options *opt,
			 struct replay_result *res)
{
	struct replay_options first = *opt;
	struct oracle_log log = { 0 };
	struct replay_result pass;
	int err;

	first.oracle = false;
	first.policy = PVDMA_POLICY_PVDMA;
	first.quiet = true;
	err = replay_pass(src, lay, &first, &pass, &log);
	memset(res, 0, sizeof(*res));
	if (!err)
		err = oracle_run(&log, opt->aperture, res);
	oracle_log_free(&log);
	if (err) {
		fprintf(stderr, "pvdma-replay: %s: the oracle ran out of memory\n",
			src->name);
		return -1;
	}
	res->events = pass.events;
	res->phases = pass.phases;
	res->parse_errors = pass.parse_errors;
	res->map_requests = pass.map_requests;
	res->map_segments = pass.map_segments;
	res->unmap_requests = pass.unmap_requests;
	res->sync_requests = pass.sync_requests;
	res->peak_live_bytes = pass.peak_live_bytes;
	res->invented_bytes = pass.invented_bytes;
	res->warnings = pass.warnings;
	return 0;
}

int replay_run(struct replay_source *src, const struct replay_layout *lay,
	       const struct replay_options *opt, struct replay_result *res)
{
	if (opt->oracle)
		return replay_oracle(src, lay, opt, res);
	return replay_pass(src, lay, opt, res, NULL);
}

static int replay_pass(struct replay_source *src,
		       const struct replay_layout *lay,
		       const struct replay_options *opt,
		       struct replay_result *res, struct oracle_log *log)
{
	struct replay rp = { .opt = opt, .lay = lay, .res = res,
			     .name = src->name, .log = log };
	struct trace_event *ev = new_event();
	unsigned long warned = pvdma_warn_count;
	int rc, err;

	memset(res, 0, sizeof(*res));
	rp.clock_ns = clock_cost();
	err = ev ? setup(&rp) : -ENOMEM;
	if (err) {
		fprintf(stderr, "pvdma-replay: %s: cannot set up the %s policy (error %d)\n",
			src->name, pvdma_policy_name(opt->policy), err);
		teardown(&rp);
		free_event(ev);
		return -1;
	}
	rc = src->rewind(src, false);
	while (!rc && (rc = src->next(src, ev)) > 0) {
		replay_event(&rp, ev);
		rc = 0;
	}
	res->parse_errors = src->parse_errors;
	collect(&rp);
	teardown(&rp);
	res->warnings = pvdma_warn_count - warned;
	free_event(ev);
	return rc < 0 ? -1 : 0;
}

/* ---- a trace file as a source ---- */

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
