/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What changed in the kernel's API between Debian 12's 6.1 and newer
 * kernels, in one place, for the guest modules.
 */
#ifndef PVDMA_KCOMPAT_H
#define PVDMA_KCOMPAT_H

#include <linux/mmzone.h>
#include <linux/version.h>

/*
 * The largest order alloc_pages() serves. MAX_ORDER counted one past it
 * until 6.4, then became that order itself, and 6.8 renamed it
 * MAX_PAGE_ORDER.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
#define PVDMA_MAX_PAGE_ORDER	MAX_PAGE_ORDER
#elif LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
#define PVDMA_MAX_PAGE_ORDER	MAX_ORDER
#else
#define PVDMA_MAX_PAGE_ORDER	(MAX_ORDER - 1)
#endif

#endif /* PVDMA_KCOMPAT_H */
