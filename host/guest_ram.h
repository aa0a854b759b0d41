/* SPDX-License-Identifier: MIT */
/*
 * Guest memory as pvdmad sees it: QEMU's RAM backend file
 * (-object memory-backend-file,...,share=on) mapped into the daemon, and
 * the machine's layout that turns guest-physical addresses into offsets
 * in that file.
 *
 * The file holds guest RAM in at most GUEST_RAM_MAX_BLOCKS blocks, back to
 * back; each block sits at its own guest-physical address:
 *   q35, pc:  GPA [0, below_4g)              = file [0, below_4g)
 *             GPA [4 GiB, 4 GiB + the rest)  = file [below_4g, size)
 *   virt:     GPA [1 GiB, 1 GiB + size)      = file [0, size)
 * Everything else (the x86 PCI hole below 4 GiB, virt's devices below
 * 1 GiB, beyond the top) is not RAM.
 *
 * Hidden from DMA although the file backs them (QEMU routes device
 * accesses elsewhere), so refused for mapping once the file is opened:
 *   - x86: the legacy VGA window [0xa0000, 0xc0000): VGA memory or SMRAM's
 *     ASEG, never guest RAM to a device;
 *   - q35 with --tseg (SMM firmware): every SMRAM window QEMU's MCH can
 *     lock, each a black hole to devices once locked: TSEG, the top bytes
 *     of low RAM (QEMU's default size, mch.extended-tseg-mbytes, is
 *     16 MiB), and the default SMBASE window [0x30000, 0x50000) that OVMF
 *     locks for CPU hotplug with SMM (mch "smbase-smram"). SeaBIOS leaves
 *     both ordinary RAM (TSEG is RAM Linux uses), so they are refused only
 *     when asked for; Linux reserves all RAM below 1 MiB, so refusing the
 *     SMBASE window costs a Linux guest no map.
 *   A window the table can't hold fails the open: never mapped unguarded.
 *
 * How pvdmad learns the layout: QEMU tells an ivshmem server nothing about
 * the guest's memory map, and the guest is not trusted to. pvdmad takes the
 * machine type from --machine and the split from --ram-below-4g (the same
 * values QEMU was given), the RAM size from the file (QEMU sizes the
 * backend to -m), and checks the two against each other when it maps the
 * file: a file the layout can't hold is refused with a message naming both.
 *
 * Not thread-safe; the daemon's loop is the only user.
 */
#ifndef PVDMAD_GUEST_RAM_H
#define PVDMAD_GUEST_RAM_H

#include <sys/stat.h>

#include <pvdma/compat.h>

#define GUEST_RAM_4G		(1ull << 32)
#define GUEST_RAM_MAX_BLOCKS	2
#define GUEST_RAM_MAX_HIDDEN	4
#define GUEST_RAM_VGA_START	0xa0000ull	/* legacy VGA window / ASEG */
#define GUEST_RAM_VGA_END	0xc0000ull
#define GUEST_RAM_SMBASE_START	0x30000ull	/* q35 SMRAM at the default SMBASE */
#define GUEST_RAM_SMBASE_END	0x50000ull

enum guest_ram_machine {
	GUEST_RAM_Q35	= 0,	/* -machine q35 (the default) */
	GUEST_RAM_PC	= 1,	/* -machine pc (i440fx) */
	GUEST_RAM_VIRT	= 2,	/* -machine virt (arm64): RAM from 1 GiB */
	GUEST_RAM_MACHINES
};

/**
 * struct guest_ram_config - how to find and lay out guest RAM
 * @path:	the memory-backend-file mem-path
 * @machine:	enum guest_ram_machine, picks the layout
 * @below_4g:	bytes of RAM below 4 GiB; 0 = the machine's default
 *		(QEMU's -machine max-ram-below-4g changes it; set this to match;
 *		x86 machines only)
 * @size:	the RAM size QEMU was given (-m); 0 = whatever the file holds
 * @tseg:	q35: bytes of TSEG at the top of low RAM (0: none, and no
 *		SMM firmware); not 0 refuses every SMRAM window (above)
 * @trusted:	users besides root and pvdmad's own who may own the RAM
 *		file's directories (QEMU's: --allow-uid), @ntrusted of them
 */
struct guest_ram_config {
	const char *path;
	int machine;
	u64 below_4g;
	u64 size;
	u64 tseg;
	const uid_t *trusted;
	unsigned int ntrusted;
};

/**
 * struct guest_ram_hidden - guest RAM that no device reaches
 * @gpa:	first byte
 * @end:	one past the last
 */
struct guest_ram_hidden {
	u64 gpa;
	u64 end;
};

/**
 * struct guest_ram_block - one run of guest RAM
 * @gpa:	its guest-physical address
 * @offset:	where it starts in the file
 * @len:	bytes
 */
struct guest_ram_block {
	u64 gpa;
	u64 offset;
	u64 len;
};

/**
 * struct guest_ram - one guest's RAM, mapped
 * @base:	start of the mapping (file offset 0)
 * @size:	RAM bytes (the file's size)
 * @blocks:	where the file's bytes sit in guest-physical space
 * @nblocks:	how many of @blocks are used
 * @hidden:	ranges inside the blocks that DMA never reaches
 * @nhidden:	how many of @hidden are used
 * @mapped:	@base came from mmap and is unmapped by guest_ram_close()
 * @fd:		the file, kept open while @mapped to notice it shrinking
 * @why:	after a failed guest_ram_open(), what was wrong, or ""
 */
struct guest_ram {
	u8 *base;
	u64 size;
	struct guest_ram_block blocks[GUEST_RAM_MAX_BLOCKS];
	unsigned int nblocks;
	struct guest_ram_hidden hidden[GUEST_RAM_MAX_HIDDEN];
	unsigned int nhidden;
	bool mapped;
	int fd;
	char why[192];
};

/* enum guest_ram_machine of a -machine name ("q35", "pc", "virt"), or -1. */
int guest_ram_machine_parse(const char *name);
/* The name of @machine, "?" if unknown. */
const char *guest_ram_machine_name(int machine);

/* QEMU's default bytes below 4 GiB of @ram_size bytes for an x86 @machine. */
u64 guest_ram_default_below_4g(int machine, u64 ram_size);

/*
 * Who may use the file that was opened: @fd (an O_PATH fd) and @st (its
 * fstat) are that file's, so what is judged is what gets mapped, whatever
 * the path names by then. 0 lets it be mapped; a negative errno refuses.
 */
typedef int (*guest_ram_gate_fn)(void *ctx, int fd, const struct stat *st);

/*
 * guest_ram_open - map the RAM file named by @cfg
 * Returns 0 or a negative errno (-ENOENT no file, -EINVAL not a regular
 * file or one the layout can't hold: ram->why then says why, naming both).
 */
int guest_ram_open(struct guest_ram *ram, const struct guest_ram_config *cfg);

/*
 * guest_ram_open_gated - guest_ram_open(), asking @gate (NULL: nobody)
 * about the opened file before it is mapped; its refusal is returned.
 */
int guest_ram_open_gated(struct guest_ram *ram,
			 const struct guest_ram_config *cfg,
			 guest_ram_gate_fn gate, void *gate_ctx);

/*
 * guest_ram_probe - check the file @cfg names without mapping it (pvdmad's
 * start): 0 with @ram's layout filled in (base NULL), -ENOENT (not there
 * yet: checked again at HELLO), or an error with ram->why set.
 */
int guest_ram_probe(struct guest_ram *ram, const struct guest_ram_config *cfg);

/*
 * guest_ram_stat - stat the RAM file @cfg names as guest_ram_open() finds
 * it: never off its directory's file system (-EXDEV), never through a
 * directory another user could swap it in (-EPERM). 0 or a negative errno.
 */
int guest_ram_stat(const struct guest_ram_config *cfg, struct stat *st);

/*
 * guest_ram_judge - ask @gate about the RAM file @cfg names, found as
 * guest_ram_stat() finds it, if it is there already (a regular file, not
 * empty): its refusal, else 0 (a file not there yet is judged when it is
 * opened, guest_ram_open_gated()).
 */
int guest_ram_judge(const struct guest_ram_config *cfg, guest_ram_gate_fn gate,
		    void *gate_ctx);

/* Refuse [gpa, end) to DMA from now on. 0, or -ENOSPC (table full). */
int guest_ram_hide(struct guest_ram *ram, u64 gpa, u64 end);

/* Say where RAM and the hidden ranges are, one line, into @buf. */
void guest_ram_describe(const struct guest_ram *ram, char *buf, size_t size);

/* ram->why after a failed guest_ram_open(), else strerror(-@err). */
const char *guest_ram_strerror(const struct guest_ram *ram, int err);

/*
 * guest_ram_check_qemu_args - does QEMU lay RAM out as pvdmad will?
 * @cfg:	pvdmad's layout
 * @file_size:	the RAM file's size now, 0 if it does not exist yet
 * @args:	QEMU's command line, NUL-separated (its /proc/PID/cmdline)
 * @len:	bytes in @args
 * @why:	on a mismatch, what differs, naming both layouts; else what
 *		could not be checked ("" if nothing)
 *
 * Reads @args as QEMU does (options with one or two dashes, values taken
 * whole, key=value lists): -machine / -M (type, max-ram-below-4g,
 * memory-backend, memory.size), -m, and the -object memory backend the
 * machine names; lays out the RAM QEMU will have (that size, else
 * @file_size) both ways. What the command line read contradicts is
 * refused; what it leaves unknown (no or an unknown machine, a size not
 * understood, what a -readconfig or the unread rest may set) passes and
 * is named in @why. The command line is the peer's to say: a lie can only
 * get itself refused.
 * Returns 0, or -EINVAL with @why filled.
 */
int guest_ram_check_qemu_args(const struct guest_ram_config *cfg, u64 file_size,
			      const char *args, size_t len, char *why,
			      size_t why_len);

/*
 * For guest_ram_qemu.c: lay @size bytes of RAM out as @machine does
 * (@below_4g: its split, 0 for the default; @expect: the size QEMU was
 * told, 0 if none), 0 or -EINVAL with @why filled; does @machine split RAM
 * around the PCI hole; fill @why and return -EINVAL.
 */
int guest_ram_layout(struct guest_ram *ram, u64 size, int machine,
		     u64 below_4g, u64 expect, char *why, size_t why_len);
bool guest_ram_machine_splits(int machine);
int guest_ram_refuse(char *why, size_t why_len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Describe RAM already in memory (tests, fuzzers). 0 or -EINVAL. */
int guest_ram_init_buffer(struct guest_ram *ram, void *buf, u64 size,
			  int machine, u64 below_4g);

void guest_ram_close(struct guest_ram *ram);

/*
 * guest_ram_close_with - close, the mapping and the file handed to
 * @unmap_close (fdcloser_unmap_close() in pvdmad: off the loop). Every
 * page the DMA model touched has a page table entry in this mapping, so
 * its munmap takes as long as the guest RAM it moved: tens of ms a GiB.
 */
typedef void (*guest_ram_unmap_fn)(void *addr, size_t len, int fd);
void guest_ram_close_with(struct guest_ram *ram, guest_ram_unmap_fn unmap_close);

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
 * RAM, is hidden from DMA, or the range crosses from one block to another
 * (len 0: -EINVAL).
 */
int guest_ram_gpa_to_offset(const struct guest_ram *ram, u64 gpa, u64 len,
			    u64 *offset);

/*
 * guest_ram_offset_to_gpa - the GPA range file range [offset, offset + len)
 * backs, if a MAP of it would be accepted now: 0 and *gpa, or -EFAULT if
 * any byte is outside the file, not in one block, or hidden from DMA
 * (len 0: -EINVAL). For mappings recorded by an earlier pvdmad, whose
 * layout or file may not be today's.
 */
int guest_ram_offset_to_gpa(const struct guest_ram *ram, u64 offset, u64 len,
			    u64 *gpa);

/* Host pointer to file range [offset, offset + len), or NULL if outside. */
void *guest_ram_ptr(const struct guest_ram *ram, u64 offset, u64 len);

#endif /* PVDMAD_GUEST_RAM_H */
