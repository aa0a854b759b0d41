// SPDX-License-Identifier: MIT
/*
 * The oracle (see oracle.h): the log of a first pass, then the log played
 * with the whole future known.
 */
#include "oracle.h"

#include <pvdma/dart.h>

#include <stdlib.h>

#include "htable.h"

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

u32 oracle_last_map(const struct oracle_log *log)
{
	return (u32)(log->nmaps - 1);
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

void oracle_log_map(struct oracle_log *log, const struct pvdma_seg *segs,
		    u32 n)
{
	u64 first, i, j, k, bytes = 0;

	if (!log)
		return;
	first = log->npages;
	for (i = 0; i < n && !log->oom; i++) {
		u64 lo = segs[i].gpa / PVDMA_DART_PAGE_SIZE;
		u64 hi = (segs[i].gpa + segs[i].len - 1) /
			 PVDMA_DART_PAGE_SIZE;

		bytes += segs[i].len;
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
	log->oom |= !log_push(&log->bytes, &log->nbytes, &log->bytes_cap, bytes);
	log->oom |= !log_push(&log->events, &log->nevents, &log->events_cap,
			      (log->nmaps - 1) << 1);
}

void oracle_log_unmap(struct oracle_log *log, u32 map_id)
{
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
	u64 peak;			/* most pages live at once */
	u32 call;
};

static struct oracle_page *oracle_page(struct oracle *o, u64 page)
{
	u64 i = htable_hash(page) & o->mask;

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
			o->peak = PVDMA_MAX(o->peak, o->live);
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

int oracle_run(const struct oracle_log *log, u64 aperture,
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
				res->failed_bytes += log->bytes[m];
				continue;
			}
		}
		oracle_call(&o, log, e, m);
		res->host_calls++;
		res->host_maps++;
		oracle_live(&o, log, m, 1);
	}
	/* it maps exactly the live pages: its peak is the live set's */
	res->peak_aperture_bytes = o.peak * PVDMA_DART_PAGE_SIZE;
	free(o.tab);
	free(failed);
	return 0;
}

void oracle_log_free(struct oracle_log *log)
{
	free(log->pages);
	free(log->maps);
	free(log->bytes);
	free(log->events);
}
