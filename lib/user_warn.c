// SPDX-License-Identifier: GPL-2.0 OR MIT
/* User-space backend of PVDMA_WARN_ON (the kernel uses WARN_ON_ONCE). */
#include <stdio.h>

#include <pvdma/compat.h>

unsigned long pvdma_warn_count;

void pvdma_warn(const char *cond, const char *file, int line)
{
	pvdma_warn_count++;
	fprintf(stderr, "pvdma: WARNING %s:%d: %s\n", file, line, cond);
}
