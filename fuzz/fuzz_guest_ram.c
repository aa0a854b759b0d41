// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the guest-physical layout that decides whether a MAP
 * range is guest RAM (host/guest_ram.c). The input picks a RAM size, a
 * machine and a below-4G override, then a series of (gpa, len) ranges.
 * Every range the layout accepts must lie inside one RAM block and come
 * back as a file range inside the RAM file; every range it refuses must
 * really leave RAM. No byte of "RAM" is touched: the base is a dummy.
 */
#include <stdint.h>
#include <stdlib.h>

#include "host/guest_ram.h"

#define PTR_CHECK_LIMIT	(1ull << 46)

struct layout_in {
	u64 size;
	u64 below_4g;
	u8 machine;
};

struct range_in {
	u64 gpa;
	u64 len;
};

/* Is [start, start + len) inside [base, base + blen)? Written apart from
 * guest_ram.c on purpose, in 128-bit arithmetic. */
static bool inside(u64 start, u64 len, u64 base, u64 blen)
{
	unsigned __int128 end = (unsigned __int128)start + len;

	return start >= base && end <= (unsigned __int128)base + blen;
}

static void check_range(const struct guest_ram *ram, u64 gpa, u64 len)
{
	bool low = len && inside(gpa, len, 0, ram->below_4g);
	bool high = len && ram->above_4g &&
		    inside(gpa, len, GUEST_RAM_4G, ram->above_4g);
	u64 offset = ~0ull;
	int err = guest_ram_gpa_to_offset(ram, gpa, len, &offset);

	if (!err != (low || high))
		abort();
	if (err)
		return;
	if (!inside(offset, len, 0, ram->size))
		abort();
	/* A real mapping is never near the top of the address space; only
	 * such sizes make base + offset a meaningful pointer here. */
	if (ram->size < PTR_CHECK_LIMIT &&
	    guest_ram_ptr(ram, offset, len) != ram->base + offset)
		abort();
	if (low ? offset != gpa : offset - ram->below_4g != gpa - GUEST_RAM_4G)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static u8 dummy;
	struct layout_in l;
	struct range_in r;
	struct guest_ram ram;

	if (size < sizeof(l))
		return 0;
	memcpy(&l, data, sizeof(l));
	data += sizeof(l);
	size -= sizeof(l);
	if (guest_ram_init_buffer(&ram, &dummy, l.size, l.machine & 1,
				  l.below_4g))
		return 0;
	if (ram.below_4g > GUEST_RAM_4G || ram.below_4g + ram.above_4g != l.size)
		abort();
	while (size >= sizeof(r)) {
		memcpy(&r, data, sizeof(r));
		data += sizeof(r);
		size -= sizeof(r);
		check_range(&ram, r.gpa, r.len);
	}
	return 0;
}
