// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the guest-physical layout that decides whether a MAP
 * range is guest RAM (host/guest_ram.c). The input picks a RAM size, a
 * machine (q35, pc or virt) and a below-4G override, then a series of (gpa, len) ranges.
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
	const struct guest_ram_block *in = NULL;
	u64 offset = ~0ull;
	unsigned int i;
	int err;

	for (i = 0; len && i < ram->nblocks; i++)
		if (inside(gpa, len, ram->blocks[i].gpa, ram->blocks[i].len))
			in = &ram->blocks[i];
	err = guest_ram_gpa_to_offset(ram, gpa, len, &offset);
	if (!err != !!in)
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
	if (offset - in->offset != gpa - in->gpa)
		abort();
}

/* The blocks tile the file in order and never overlap in GPA space. */
static void check_blocks(const struct guest_ram *ram, u64 size)
{
	u64 next = 0;
	unsigned int i;

	for (i = 0; i < ram->nblocks; i++) {
		const struct guest_ram_block *b = &ram->blocks[i];

		if (b->offset != next || !b->len ||
		    (i && b->gpa < ram->blocks[i - 1].gpa + ram->blocks[i - 1].len))
			abort();
		next += b->len;
	}
	if (next != size)
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
	if (guest_ram_init_buffer(&ram, &dummy, l.size,
				  l.machine % GUEST_RAM_MACHINES, l.below_4g))
		return 0;
	check_blocks(&ram, l.size);
	while (size >= sizeof(r)) {
		memcpy(&r, data, sizeof(r));
		data += sizeof(r);
		size -= sizeof(r);
		check_range(&ram, r.gpa, r.len);
	}
	return 0;
}
