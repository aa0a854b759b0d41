// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: QEMU's command line as pvdmad reads it at connect
 * (/proc/PID/cmdline, the peer's to write) against pvdmad's RAM layout
 * (host/guest_ram_qemu.c, guest_ram_check_qemu_args). The input's first bytes
 * pick pvdmad's layout and the RAM file's size; the rest is the command
 * line, NUL-separated. A refusal must say why in a terminated string; an
 * acceptance must leave one too (what it could not check, or "").
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/guest_ram.h"

struct layout_in {
	u64 file_size;
	u64 below_4g;
	u64 size;
	u8 machine;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guest_ram_config cfg = { .path = "/nonexistent" };
	struct layout_in l;
	char why[128];
	char *args;
	int err;

	if (size < sizeof(l))
		return 0;
	memcpy(&l, data, sizeof(l));
	cfg.machine = l.machine % GUEST_RAM_MACHINES;
	cfg.below_4g = l.below_4g;
	cfg.size = l.size;
	size -= sizeof(l);
	/* a copy of exactly the command line's bytes: overreads are caught */
	args = malloc(size ? size : 1);
	if (!args)
		return 0;
	memcpy(args, data + sizeof(l), size);
	memset(why, 'x', sizeof(why));
	err = guest_ram_check_qemu_args(&cfg, l.file_size, args, size, why,
					sizeof(why));
	if (err && (err != -EINVAL || !memchr(why, '\0', sizeof(why)) || !why[0]))
		abort();
	if (!err && !memchr(why, '\0', sizeof(why)))
		abort();
	free(args);
	return 0;
}
