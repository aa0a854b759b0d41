/* SPDX-License-Identifier: MIT */
/*
 * Guest memory as pvdmad sees it: QEMU's RAM backend file
 * (-object memory-backend-file,...,share=on) mapped into the daemon, and
 * the PC machine's layout that turns guest-physical addresses into offsets
 * in that file.
 *
 * Layout (QEMU's x86 machines put RAM in at most two blocks):
 *   GPA [0, below_4g)                 = file [0, below_4g)
 *   GPA [4 GiB, 4 GiB + above_4g)     = file [below_4g, size)
 * Everything else (the PCI hole below 4 GiB, beyond the top) is not RAM.
 * The legacy VGA/ROM window at 640 KiB..1 MiB is RAM-backed in the file
 * and is treated as RAM.
 *
 * Not thread-safe; the daemon's loop is the only user.
 */
#ifndef PVDMAD_GUEST_RAM_H
#define PVDMAD_GUEST_RAM_H

#include <pvdma/compat.h>

#define GUEST_RAM_4G		(1ull << 32)

enum guest_ram_machine {
	GUEST_RAM_Q35	= 0,	/* -machine q35 (the default) */
	GUEST_RAM_PC	= 1,	/* -machine pc (i440fx) */
};

/**
 * struct guest_ram_config - how to find and lay out guest RAM
 * @path:	the memory-backend-file mem-path
 * @machine:	enum guest_ram_machine, picks the default split
 * @below_4g:	bytes of RAM below 4 GiB; 0 = the machine's default
 *		(QEMU's -machine max-ram-below-4g changes it; set this to match)
 */
struct guest_ram_config {
	const char *path;
	int machine;
	u64 below_4g;
};

/**
 * struct guest_ram - one guest's RAM, mapped
 * @base:	start of the mapping (file offset 0)
 * @size:	RAM bytes (the file's size)
 * @below_4g:	bytes at GPA 0
 * @above_4g:	bytes at GPA 4 GiB
 * @mapped:	@base came from mmap and is unmapped by guest_ram_close()
 * @fd:		the file, kept open while @mapped to notice it shrinking
 */
struct guest_ram {
	u8 *base;
	u64 size;
	u64 below_4g;
	u64 above_4g;
	bool mapped;
	int fd;
};

/* QEMU's default split of @ram_size bytes for @machine. */
u64 guest_ram_default_below_4g(int machine, u64 ram_size);

/*
 * guest_ram_open - map the RAM file named by @cfg
 * Returns 0 or a negative errno (-ENOENT no file, -EINVAL empty file or a
 * layout that doesn't fit).
 */
int guest_ram_open(struct guest_ram *ram, const struct guest_ram_config *cfg);

/* Describe RAM already in memory (tests, fuzzers). 0 or -EINVAL. */
int guest_ram_init_buffer(struct guest_ram *ram, void *buf, u64 size,
			  int machine, u64 below_4g);

void guest_ram_close(struct guest_ram *ram);

/*
 * guest_ram_check - is the RAM file still as long as when it was mapped?
 * Someone on the host truncating it would make the daemon's next access
 * to the lost pages SIGBUS. Returns 0 (always for a buffer), -ESTALE if it
 * shrank, or the fstat error.
 */
int guest_ram_check(const struct guest_ram *ram);

static inline bool guest_ram_is_open(const struct guest_ram *ram)
{
	return ram->base != NULL;
}

/*
 * guest_ram_gpa_to_offset - where [gpa, gpa + len) lives in the file
 * Returns 0 and sets *offset, or -EFAULT if any byte of the range is not
 * RAM or the range crosses from one block to the other (len 0: -EINVAL).
 */
int guest_ram_gpa_to_offset(const struct guest_ram *ram, u64 gpa, u64 len,
			    u64 *offset);

/* Host pointer to file range [offset, offset + len), or NULL if outside. */
void *guest_ram_ptr(const struct guest_ram *ram, u64 offset, u64 len);

#endif /* PVDMAD_GUEST_RAM_H */
