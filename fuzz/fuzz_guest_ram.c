// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the guest-physical layout that decides whether a MAP
 * range is guest RAM (host/guest_ram.c). The input picks a RAM size, a
 * machine (q35, pc or virt) and a below-4G override, then a series of (gpa, len) ranges.
 * Every range the layout accepts must lie inside one RAM block, touch no
 * hidden range (guest_ram_hide(): the VGA window, TSEG; here any two the
 * input picks) and come back as a file range inside the RAM file; every
 * range it refuses must really leave RAM or touch a hidden range. No byte
 * of "RAM" is touched: the base is a dummy.
 */
#include <stdint.h>
#include <stdlib.h>

#include "host/guest_ram.h"

#define PTR_CHECK_LIMIT	(1ull << 46)

struct layout_in {
	u64 size;
	u64 below_4g;
	u8 machine;
	u64 hide[GUEST_RAM_MAX_HIDDEN][2];	/* gpa, length */
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

/* Do [a, a + alen) and [b, b + blen) share a byte? 128-bit, apart. */
static bool overlap(u64 a, u64 alen, u64 b, u64 blen)
{
	unsigned __int128 aend = (unsigned __int128)a + alen;
	unsigned __int128 bend = (unsigned __int128)b + blen;

	return alen && blen && a < bend && b < aend;
}

static bool touches_hidden(const struct guest_ram *ram, u64 gpa, u64 len)
{
	unsigned int i;

	for (i = 0; i < ram->nhidden; i++)
		if (overlap(gpa, len, ram->hidden[i].gpa,
			    ram->hidden[i].end - ram->hidden[i].gpa))
			return true;
	return false;
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
	if (touches_hidden(ram, gpa, len))
		in = NULL;
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
	for (unsigned int i = 0; i < GUEST_RAM_MAX_HIDDEN; i++) {
		u64 end = l.hide[i][0] + l.hide[i][1];

		if (end < l.hide[i][0])
			end = ~0ull;	/* a hidden range runs at most to the top */
		if (guest_ram_hide(&ram, l.hide[i][0], end))
			abort();
	}
	while (size >= sizeof(r)) {
		memcpy(&r, data, sizeof(r));
		data += sizeof(r);
		size -= sizeof(r);
		check_range(&ram, r.gpa, r.len);
	}
	return 0;
}
