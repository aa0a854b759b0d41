// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * DART model: see dart.h. The bus allocator is first-fit from the lowest
 * address, as IOKit hands out DART addresses, among the ranges that keep a
 * mapping's physical alignment (cfg.align_max; 0 is IOKit's plain lowest
 * fit). Keeping alignment A costs at most A - page of bus space per
 * mapping, and A <= the mapping's length, so a bus space twice the
 * aperture always has room unless it is fragmented; then the alignment
 * falls back, counted. The aperture and mapping-count limits are checked
 * before the bus space, so the error names the limit a user can change.
 */
#include <pvdma/dart.h>
#include <pvdma/proto.h>

void pvdma_dart_default_config(struct pvdma_dart_config *cfg)
{
	cfg->page_size = PVDMA_DART_PAGE_SIZE;
	cfg->aperture_bytes = PVDMA_DART_DEFAULT_APERTURE;
	cfg->max_mappings = PVDMA_DART_DEFAULT_MAX_MAPPINGS;
	cfg->bus_base = PVDMA_DART_DEFAULT_BUS_BASE;
	cfg->bus_limit = PVDMA_DART_DEFAULT_BUS_LIMIT;
	cfg->align_max = PVDMA_DART_DEFAULT_ALIGN_MAX;
}

int pvdma_dart_init(struct pvdma_dart *dart, const struct pvdma_dart_config *cfg,
		    struct pvdma_dart_mapping *records, u32 nrecords)
{
	u64 ps = cfg->page_size;

	if (!PVDMA_IS_POW2(ps) || !cfg->aperture_bytes || !cfg->max_mappings ||
	    nrecords < cfg->max_mappings || cfg->bus_base >= cfg->bus_limit ||
	    (cfg->bus_base | cfg->bus_limit | cfg->aperture_bytes) & (ps - 1))
		return -EINVAL;
	memset(dart, 0, sizeof(*dart));
	dart->cfg = *cfg;
	dart->records = records;
	dart->nrecords = nrecords;
	/*
	 * No pass over @records: max_mappings records per domain would cost
	 * megabytes of touched memory for every idle guest.
	 */
	dart->free_record = 0;
	dart->fresh_record = 0;
	pvdma_iova_init(&dart->bus, cfg->bus_base, cfg->bus_limit, ps);
	return 0;
}

static struct pvdma_dart_mapping *dart_record_get(struct pvdma_dart *dart)
{
	struct pvdma_dart_mapping *m;

	if (!dart->free_record) {
		if (dart->fresh_record >= dart->nrecords)
			return NULL;
		m = &dart->records[dart->fresh_record++];
		memset(m, 0, sizeof(*m));
		return m;
	}
	m = &dart->records[dart->free_record - 1];
	dart->free_record = m->next_free;
	m->next_free = 0;
	return m;
}

static void dart_record_put(struct pvdma_dart *dart, struct pvdma_dart_mapping *m)
{
	m->next_free = dart->free_record;
	dart->free_record = (u32)(m - dart->records) + 1;
}

static int dart_check_map(const struct pvdma_dart *dart, u64 host_addr,
			  u64 len, u32 perm)
{
	u64 ps = dart->cfg.page_size, end;

	if (!len || (host_addr | len) & (ps - 1) ||
	    !pvdma_add_ok(host_addr, len, &end) ||
	    !perm || perm & ~PVDMA_MAP_FLAGS_KNOWN)
		return -EINVAL;
	if (dart->stats.live_bytes + len > dart->cfg.aperture_bytes ||
	    len > dart->cfg.aperture_bytes)
		return -ENOSPC;
	if (dart->stats.live_mappings >= dart->cfg.max_mappings)
		return -EMFILE;
	return 0;
}

/* A mapping whose bus range is taken: fill it in and count it. */
static void dart_account_map(struct pvdma_dart *dart,
			     struct pvdma_dart_mapping *m, u64 host_addr,
			     u64 len, u32 perm)
{
	m->host_addr = host_addr;
	m->perm = perm;
	dart->stats.map_calls++;
	dart->stats.live_mappings++;
	dart->stats.live_bytes += len;
	dart->stats.peak_mappings = PVDMA_MAX(dart->stats.peak_mappings,
					      dart->stats.live_mappings);
	dart->stats.peak_bytes = PVDMA_MAX(dart->stats.peak_bytes,
					   dart->stats.live_bytes);
}

/* The alignment a mapping of @len bytes at @hint should keep; 0: none. */
static u64 dart_align_wanted(const struct pvdma_dart *dart, u64 len, u64 hint)
{
	u64 ps = dart->cfg.page_size, a = dart->cfg.align_max;

	if (a < ps || !PVDMA_IS_POW2(a) || hint & (ps - 1))
		return 0;
	while (a > len)
		a >>= 1;
	/* Every bus address is page aligned: nothing more to keep. */
	return a > ps ? a : 0;
}

/*
 * Take a bus range for @m congruent to @hint modulo the alignment wanted,
 * else modulo the largest smaller power of two a free range allows. Each
 * try is one descent of the allocator's tree, at most log2(align_max /
 * page size) of them, and only when the bus space is fragmented.
 */
static int dart_place(struct pvdma_dart *dart, struct pvdma_dart_mapping *m,
		      u64 len, u64 hint)
{
	u64 want = dart_align_wanted(dart, len, hint), a;

	for (a = want; a > dart->cfg.page_size; a >>= 1) {
		if (pvdma_iova_alloc(&dart->bus, &m->iova, len, a, hint & (a - 1)))
			continue;
		if (a == want)
			dart->stats.aligned_maps++;
		else
			dart->stats.align_fallbacks++;
		return 0;
	}
	if (pvdma_iova_alloc(&dart->bus, &m->iova, len, 0, 0))
		return -EADDRNOTAVAIL;
	if (want)
		dart->stats.align_fallbacks++;
	return 0;
}

int pvdma_dart_map(struct pvdma_dart *dart, u64 host_addr, u64 len, u32 perm,
		   u64 *bus)
{
	return pvdma_dart_map_placed(dart, host_addr, len, perm, host_addr, bus);
}

int pvdma_dart_map_placed(struct pvdma_dart *dart, u64 host_addr, u64 len,
			  u32 perm, u64 hint, u64 *bus)
{
	struct pvdma_dart_mapping *m;
	int ret;

	ret = dart_check_map(dart, host_addr, len, perm);
	if (ret)
		goto err;
	m = dart_record_get(dart);
	if (PVDMA_WARN_ON(!m)) {
		ret = -EMFILE;
		goto err;
	}
	ret = dart_place(dart, m, len, hint);
	if (ret) {
		dart_record_put(dart, m);
		goto err;
	}
	dart_account_map(dart, m, host_addr, len, perm);
	*bus = m->iova.start;
	return 0;
err:
	dart->stats.map_errors++;
	return ret;
}

int pvdma_dart_map_at(struct pvdma_dart *dart, u64 bus, u64 host_addr,
		      u64 len, u32 perm)
{
	struct pvdma_dart_mapping *m;
	int ret;

	ret = dart_check_map(dart, host_addr, len, perm);
	if (!ret && bus & (dart->cfg.page_size - 1))
		ret = -EINVAL;
	if (ret)
		goto err;
	m = dart_record_get(dart);
	if (PVDMA_WARN_ON(!m)) {
		ret = -EMFILE;
		goto err;
	}
	/* Aligned: a refusal means taken or outside the bus space. */
	if (pvdma_iova_reserve(&dart->bus, &m->iova, bus, len)) {
		dart_record_put(dart, m);
		ret = -EADDRNOTAVAIL;
		goto err;
	}
	dart_account_map(dart, m, host_addr, len, perm);
	return 0;
err:
	dart->stats.map_errors++;
	return ret;
}

static struct pvdma_dart_mapping *dart_find(const struct pvdma_dart *dart,
					    u64 bus)
{
	struct pvdma_iova_node *n = pvdma_iova_find(&dart->bus, bus);

	return n ? container_of(n, struct pvdma_dart_mapping, iova) : NULL;
}

static void dart_remove(struct pvdma_dart *dart, struct pvdma_dart_mapping *m)
{
	dart->stats.live_bytes -= m->iova.end - m->iova.start;
	dart->stats.live_mappings--;
	pvdma_iova_free(&dart->bus, &m->iova);
	dart_record_put(dart, m);
	dart->flush_pending = true;
}

int pvdma_dart_unmap(struct pvdma_dart *dart, u64 bus, u64 len)
{
	struct pvdma_dart_mapping *m = dart_find(dart, bus);

	if (!m || m->iova.start != bus) {
		dart->stats.unmap_errors++;
		return -ENOENT;
	}
	if (m->iova.end - m->iova.start != len) {
		dart->stats.unmap_errors++;
		return -ERANGE;
	}
	dart_remove(dart, m);
	dart->stats.unmap_calls++;
	return 0;
}

int pvdma_dart_trim(struct pvdma_dart *dart, u64 bus, u64 len,
		    struct pvdma_dart_mapping *old)
{
	struct pvdma_dart_mapping *m = dart_find(dart, bus), *upper = NULL;
	u64 end, start, top, ps = dart->cfg.page_size;

	if (!len || (bus | len) & (ps - 1) || !pvdma_add_ok(bus, len, &end)) {
		dart->stats.unmap_errors++;
		return -EINVAL;
	}
	if (!m || end > m->iova.end ||
	    (bus == m->iova.start && end == m->iova.end)) {
		dart->stats.unmap_errors++;
		return m ? -ERANGE : -ENOENT;
	}
	start = m->iova.start;
	top = m->iova.end;
	if (bus > start && end < top) {		/* a hole: two mappings */
		if (dart->stats.live_mappings < dart->cfg.max_mappings)
			upper = dart_record_get(dart);
		if (!upper) {
			dart->stats.unmap_errors++;
			return -EMFILE;
		}
	}
	if (old)
		*old = *m;
	/* The kept ranges lie inside the freed one: they cannot be taken. */
	pvdma_iova_free(&dart->bus, &m->iova);
	if (upper) {
		upper->host_addr = m->host_addr + (end - start);
		upper->perm = m->perm;
		PVDMA_WARN_ON(pvdma_iova_reserve(&dart->bus, &upper->iova, end,
						 top - end));
		dart->stats.live_mappings++;
		dart->stats.peak_mappings = PVDMA_MAX(dart->stats.peak_mappings,
						      dart->stats.live_mappings);
		top = bus;
	} else if (bus == start) {
		m->host_addr += end - start;
		start = end;
	} else {
		top = bus;
	}
	PVDMA_WARN_ON(pvdma_iova_reserve(&dart->bus, &m->iova, start,
					 top - start));
	dart->stats.live_bytes -= len;
	dart->flush_pending = true;
	return 0;
}

void pvdma_dart_flush(struct pvdma_dart *dart)
{
	if (!dart->flush_pending)
		return;
	dart->flush_pending = false;
	dart->stats.tlb_flushes++;
}

int pvdma_dart_translate(struct pvdma_dart *dart, u64 bus, u64 len, u32 perm,
			 u64 *host_addr)
{
	struct pvdma_dart_mapping *m = dart_find(dart, bus);
	u64 end;

	if (!m || !len || !pvdma_add_ok(bus, len, &end) || end > m->iova.end ||
	    (perm & ~m->perm)) {
		dart->stats.faults++;
		return -EFAULT;
	}
	*host_addr = m->host_addr + (bus - m->iova.start);
	return 0;
}

void pvdma_dart_execute(struct pvdma_dart *dart, struct pvdma_request *ops,
			u32 n)
{
	u32 i;

	for (i = 0; i < n; i++) {
		int ret = -EOPNOTSUPP;

		if (ops[i].op == PVDMA_OP_MAP)
			ret = pvdma_dart_map(dart, ops[i].gpa, ops[i].len,
					     ops[i].flags, &ops[i].bus);
		else if (ops[i].op == PVDMA_OP_UNMAP)
			ret = pvdma_dart_unmap(dart, ops[i].bus, ops[i].len);
		else if (ops[i].op == PVDMA_OP_TRIM)
			ret = pvdma_dart_trim(dart, ops[i].bus, ops[i].len,
					      NULL);
		ops[i].status = pvdma_status_from_errno(ret);
	}
	pvdma_dart_flush(dart);
}

/*
 * The whole table goes at once, as a DART's is invalidated: the tree and
 * the records start over, no walk. A RESET, HELLO or hang-up is one ring
 * entry to the guest; a walk of every mapping it built up made that one
 * entry cost up to max_mappings removals inside a slice.
 */
void pvdma_dart_reset(struct pvdma_dart *dart)
{
	if (dart->stats.live_mappings) {
		dart->stats.unmap_calls += dart->stats.live_mappings;
		dart->flush_pending = true;
	}
	dart->stats.live_mappings = 0;
	dart->stats.live_bytes = 0;
	pvdma_iova_init(&dart->bus, dart->cfg.bus_base, dart->cfg.bus_limit,
			dart->cfg.page_size);
	dart->free_record = 0;
	dart->fresh_record = 0;
	pvdma_dart_flush(dart);
}

const struct pvdma_dart_mapping *pvdma_dart_lookup(const struct pvdma_dart *dart,
						   u64 bus)
{
	return dart_find(dart, bus);
}
