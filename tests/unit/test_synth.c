// SPDX-License-Identifier: MIT
/*
 * The synthetic generator mix (tools/replay/synth.c): the same events for
 * the same seed, its bounds over hundreds of seeds, every unmap after its
 * map, each phase's events in its own order, phases moved where their plan
 * says and interleaved where it says so.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "synth.h"

#define MIB		(1ull << 20)
#define PHASES_MAX	8u
/* synth.c's bounds on mix */
#define LIVE_TIMES	2ull
#define MAX_EVENTS	100000ull
#define MAX_ENTS	1000000ull
/* live-buffer table: more slots than a mix has events */
#define SLOTS		(1u << 18)

static struct trace_sg_entry ents[REPLAY_MAX_SHOWN];
static struct trace_event ev;

/* A live buffer as the replay's driver names it: (first address, size
 * or entry count, single or list), how many are live, their bytes. */
struct slot {
	u64 addr, n;
	u32 list;
	u32 live;
	u64 bytes;
};

static struct slot *slots;

static struct slot *slot_of(u64 addr, u64 n, u32 list)
{
	u64 h = (addr * 0x9e3779b97f4a7c15ull ^ n * 31 ^ list) % SLOTS;

	for (;; h = (h + 1) % SLOTS) {
		struct slot *sl = &slots[h];

		if (!sl->addr) {
			sl->addr = addr;
			sl->n = n;
			sl->list = list;
			return sl;
		}
		if (sl->addr == addr && sl->n == n && sl->list == list)
			return sl;
	}
}

/* What one mix run emitted. */
struct run {
	u64 events, ents, peak_live, orphan_unmaps;
	u64 hash, phase_hash[PHASES_MAX];
	u64 lo[PHASES_MAX], hi[PHASES_MAX];
	u64 phase_events[PHASES_MAX];
	bool interleaved;	/* an event of a later phase before an earlier one's last */
	struct synth_mix_phase ph[PHASES_MAX];
	unsigned int nph;
};

static void mix_in(u64 *h, u64 v)
{
	*h = (*h ^ v) * 0x100000001b3ull;
}

static u64 event_hash(void)
{
	u64 h = 0xcbf29ce484222325ull;
	u32 i;

	mix_in(&h, ev.kind);
	mix_in(&h, ev.dir);
	mix_in(&h, ev.dma_addr);
	mix_in(&h, ev.size);
	mix_in(&h, ev.nents_total);
	for (i = 0; i < ev.nents; i++) {
		mix_in(&h, ev.ents[i].phys);
		mix_in(&h, ev.ents[i].len);
	}
	return h;
}

static bool is_list(void)
{
	return ev.kind == TRACE_EV_MAP_SG || ev.kind == TRACE_EV_UNMAP_SG ||
	       ev.kind == TRACE_EV_SYNC_SG;
}

/* Replay mix (or "mix:LIST") at @seed and @aperture into @r. */
static void run_mix(const char *name, u64 seed, u64 aperture, struct run *r)
{
	struct synth_params p = { .aperture = aperture, .seed = seed };
	struct replay_source src;
	u64 live = 0, first[PHASES_MAX] = { 0 }, last[PHASES_MAX] = { 0 };
	int got, k;

	memset(r, 0, sizeof(*r));
	memset(slots, 0, SLOTS * sizeof(*slots));
	r->hash = 0xcbf29ce484222325ull;
	assert_int_equal(synth_source(&src, name, &p), 0);
	assert_int_equal(src.rewind(&src, true), 0);
	r->nph = synth_mix_phases(&src, r->ph, PHASES_MAX);
	assert_true(r->nph >= 1 && r->nph <= 5);
	while ((got = src.next(&src, &ev)) == 1) {
		u64 h = event_hash(), bytes = 0, i;
		struct slot *sl;

		k = synth_mix_phase(&src);
		assert_true(k >= 0 && (unsigned int)k < r->nph);
		assert_true(r->ph[k].emitted);
		r->events++;
		mix_in(&r->hash, h);
		mix_in(&r->phase_hash[k], h);
		r->phase_events[k]++;
		last[k] = r->events;
		if (!first[k])
			first[k] = r->events;
		if (is_list())
			r->ents += ev.nents;
		switch (ev.kind) {
		case TRACE_EV_MAP_SINGLE:
		case TRACE_EV_MAP_SG:
			for (i = 0; i < (is_list() ? ev.nents : 1); i++) {
				u64 a = is_list() ? ev.ents[i].phys : ev.phys_addr;
				u64 len = is_list() ? ev.ents[i].len : ev.size;

				if (!r->lo[k] || a < r->lo[k])
					r->lo[k] = a;
				if (a + len > r->hi[k])
					r->hi[k] = a + len;
				bytes += len;
			}
			sl = is_list() ? slot_of(ev.ents[0].phys, ev.nents, 1) :
					 slot_of(ev.dma_addr, ev.size, 0);
			sl->live++;
			sl->bytes = bytes;
			live += bytes;
			if (live > r->peak_live)
				r->peak_live = live;
			break;
		case TRACE_EV_UNMAP_SINGLE:
		case TRACE_EV_UNMAP_SG:
			sl = ev.kind == TRACE_EV_UNMAP_SG ?
			     slot_of(ev.ents[0].phys, ev.nents_total, 1) :
			     slot_of(ev.dma_addr, ev.size, 0);
			if (!sl->live) {
				r->orphan_unmaps++;
				break;
			}
			sl->live--;
			live -= sl->bytes;
			break;
		default:
			break;
		}
	}
	assert_int_equal(got, 0);
	/* interleaved: some phase ends after a later phase began */
	for (k = 0; (unsigned int)k < r->nph; k++) {
		unsigned int j;

		for (j = k + 1; j < r->nph; j++)
			if (first[j] && first[k] && last[k] > first[j])
				r->interleaved = true;
	}
	src.close(&src);
}

static struct run a, b;

static int setup(void **state)
{
	ev.ents = ents;
	ev.ents_cap = REPLAY_MAX_SHOWN;
	slots = calloc(SLOTS, sizeof(*slots));
	return slots ? 0 : -1;
}

static int teardown(void **state)
{
	free(slots);
	return 0;
}

/* The same seed, the same events; another seed, others. */
static void test_mix_deterministic(void **state)
{
	u64 seed;

	for (seed = 1; seed <= 20; seed++) {
		run_mix("mix", seed, 1536 * MIB, &a);
		run_mix("mix", seed, 1536 * MIB, &b);
		assert_int_equal(a.events, b.events);
		assert_true(a.hash == b.hash);
		run_mix("mix", seed + 1000, 1536 * MIB, &b);
		assert_true(a.hash != b.hash);
	}
}

/* Every seed: live bytes, events and list entries within the bounds,
 * no unmap before its map; and the bounds are reached, not idle. */
static void test_mix_bounds(void **state)
{
	static const u64 apertures[] = { 512 * MIB, 1536 * MIB, 3072 * MIB };
	u64 seed, most = 0, events = 0;
	unsigned int i;

	for (i = 0; i < 3; i++) {
		for (seed = 1; seed <= (i ? 50u : 200u); seed++) {
			u64 ap = apertures[i];

			run_mix("mix", seed, ap, &a);
			assert_true(a.peak_live <= LIVE_TIMES * ap);
			assert_true(a.events <= MAX_EVENTS);
			assert_true(a.ents <= MAX_ENTS);
			assert_int_equal(a.orphan_unmaps, 0);
			assert_true(a.nph >= 1);
			most = PVDMA_MAX(most, a.peak_live * 100 / ap);
			events = PVDMA_MAX(events, a.events);
		}
	}
	/* some mixture comes near the live bound (over 1.5x the aperture) */
	assert_true(most > 150);
	assert_true(events > 1000);
}

/*
 * Each phase's events, in the mixture, are the phase's own events in its
 * own order: the same as mix:K alone, and the others' with K left out.
 */
static void test_mix_phases_keep_order(void **state)
{
	char name[16];
	u64 seed;
	unsigned int k, j;

	for (seed = 1; seed <= 15; seed++) {
		run_mix("mix", seed, 1536 * MIB, &a);
		for (k = 0; k < a.nph; k++) {
			snprintf(name, sizeof(name), "mix:%u", k);
			run_mix(name, seed, 1536 * MIB, &b);
			assert_int_equal(b.phase_events[k], a.phase_events[k]);
			assert_true(b.phase_hash[k] == a.phase_hash[k]);
			for (j = 0; j < b.nph; j++)
				if (j != k)
					assert_int_equal(b.phase_events[j], 0);
		}
	}
}

/*
 * A phase not moved onto another lies above every earlier one; one moved
 * onto another shares addresses with some earlier one. Interleaved phases
 * are interleaved in some mixtures, sequential ones never.
 */
static void test_mix_places_and_times(void **state)
{
	unsigned int overlapped = 0, interleaved = 0, k, j;
	u64 seed;

	for (seed = 1; seed <= 60; seed++) {
		bool beside = false;

		run_mix("mix", seed, 1536 * MIB, &a);
		for (k = 0; k < a.nph; k++) {
			bool shares = false, above = true;

			if (!a.phase_events[k] || a.hi[k] == 0)
				continue;
			beside |= k && !a.ph[k].sequential;
			for (j = 0; j < k; j++) {
				if (!a.hi[j])
					continue;
				shares |= a.lo[k] < a.hi[j] && a.lo[j] < a.hi[k];
				above &= a.lo[k] >= a.hi[j];
			}
			if (a.ph[k].overlap) {
				assert_true(shares);
				overlapped++;
			} else {
				assert_true(above);
			}
		}
		if (!beside)
			assert_false(a.interleaved);
		interleaved += a.interleaved;
	}
	assert_true(overlapped > 5);
	assert_true(interleaved > 5);
}

/* mix:LIST is refused unless it is a list of phase indices. */
static void test_mix_names(void **state)
{
	static const char *const bad[] = { "mix:", "mix:9", "mix:0,", "mix:a",
					   "mix:0;1", "mixx" };
	struct synth_params p = { .aperture = 512 * MIB, .seed = 1 };
	struct replay_source src;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(synth_source(&src, bad[i], &p), -1);
	assert_int_equal(synth_source(&src, "mix:0,1,4", &p), 0);
	src.close(&src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mix_deterministic),
		cmocka_unit_test(test_mix_bounds),
		cmocka_unit_test(test_mix_phases_keep_order),
		cmocka_unit_test(test_mix_places_and_times),
		cmocka_unit_test(test_mix_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
