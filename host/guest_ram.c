// SPDX-License-Identifier: MIT
/*
 * Guest RAM file mapping and the PC/Q35 guest-physical layout.
 *
 * The default split follows QEMU's x86 machines (hw/i386/pc_q35.c and
 * pc_piix.c, gigabyte-aligned machine types):
 *   q35: RAM of 2.75 GiB (0xb0000000) or more puts 2 GiB below 4 GiB and
 *        the rest above; smaller RAM lies entirely below 4 GiB.
 *   pc:  RAM of 3.5 GiB (0xe0000000) or more puts 3 GiB below 4 GiB and
 *        the rest above; smaller RAM lies entirely below 4 GiB.
 * QEMU's max-ram-below-4g lowers the split; --ram-below-4g matches it.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "guest_ram.h"

#define Q35_SPLIT_THRESHOLD	0xb0000000ull
#define Q35_LOWMEM		0x80000000ull
#define PC_SPLIT_THRESHOLD	0xe0000000ull
#define PC_LOWMEM		0xc0000000ull

u64 guest_ram_default_below_4g(int machine, u64 ram_size)
{
	if (machine == GUEST_RAM_PC)
		return ram_size >= PC_SPLIT_THRESHOLD ? PC_LOWMEM : ram_size;
	return ram_size >= Q35_SPLIT_THRESHOLD ? Q35_LOWMEM : ram_size;
}

static int guest_ram_layout(struct guest_ram *ram, u64 size, int machine,
			    u64 below_4g)
{
	if (!size || (machine != GUEST_RAM_Q35 && machine != GUEST_RAM_PC))
		return -EINVAL;
	if (!below_4g)
		below_4g = guest_ram_default_below_4g(machine, size);
	below_4g = PVDMA_MIN(below_4g, size);
	if (below_4g > GUEST_RAM_4G)
		return -EINVAL;
	ram->size = size;
	ram->below_4g = below_4g;
	ram->above_4g = size - below_4g;
	/* Beyond 2^64 - 4 GiB the above-4G block would wrap. */
	if (ram->above_4g > ~0ull - GUEST_RAM_4G)
		return -EINVAL;
	return 0;
}

int guest_ram_init_buffer(struct guest_ram *ram, void *buf, u64 size,
			  int machine, u64 below_4g)
{
	int err;

	*ram = (struct guest_ram){ 0 };
	err = guest_ram_layout(ram, size, machine, below_4g);
	if (err)
		return err;
	ram->base = buf;
	return 0;
}

int guest_ram_open(struct guest_ram *ram, const struct guest_ram_config *cfg)
{
	struct stat st;
	void *base;
	int fd, err;

	*ram = (struct guest_ram){ 0 };
	fd = open(cfg->path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto err_close;
	}
	err = guest_ram_layout(ram, (u64)st.st_size, cfg->machine, cfg->below_4g);
	if (err)
		goto err_close;
	base = mmap(NULL, ram->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (base == MAP_FAILED) {
		err = -errno;
		goto err_close;
	}
	ram->base = base;
	ram->mapped = true;
	ram->fd = fd;
	return 0;

err_close:
	close(fd);
	*ram = (struct guest_ram){ 0 };
	return err;
}

void guest_ram_close(struct guest_ram *ram)
{
	if (ram->mapped && ram->base)
		munmap(ram->base, ram->size);
	if (ram->mapped)
		close(ram->fd);
	*ram = (struct guest_ram){ 0 };
}

int guest_ram_check(const struct guest_ram *ram)
{
	struct stat st;

	if (!ram->mapped)
		return 0;
	if (fstat(ram->fd, &st) < 0)
		return -errno;
	return (u64)st.st_size < ram->size ? -ESTALE : 0;
}

/* Is [start, start + len) inside [block, block + block_len)? No wrap. */
static bool range_inside(u64 start, u64 len, u64 block, u64 block_len)
{
	return start >= block && start - block <= block_len &&
	       len <= block_len - (start - block);
}

int guest_ram_gpa_to_offset(const struct guest_ram *ram, u64 gpa, u64 len,
			    u64 *offset)
{
	if (!len)
		return -EINVAL;
	if (range_inside(gpa, len, 0, ram->below_4g)) {
		*offset = gpa;
		return 0;
	}
	if (ram->above_4g && range_inside(gpa, len, GUEST_RAM_4G, ram->above_4g)) {
		*offset = ram->below_4g + (gpa - GUEST_RAM_4G);
		return 0;
	}
	return -EFAULT;
}

void *guest_ram_ptr(const struct guest_ram *ram, u64 offset, u64 len)
{
	if (!ram->base || !range_inside(offset, len, 0, ram->size))
		return NULL;
	return ram->base + offset;
}
