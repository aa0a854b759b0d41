/* SPDX-License-Identifier: MIT */
/*
 * Access to memory the guest shares with pvdmad. The guest may rewrite any
 * of it at any time, so each value is read exactly once into local memory
 * (no double fetch) and published with release ordering after the data it
 * announces.
 */
#ifndef PVDMAD_SHM_ACCESS_H
#define PVDMAD_SHM_ACCESS_H

#include <string.h>

#include <pvdma/proto.h>

/* Keep the compiler from re-reading shared memory for a snapshot. */
#define shm_barrier()	__asm__ __volatile__("" ::: "memory")

static inline u32 shm_load_acquire32(const u32 *p)
{
	return pvdma_le32(__atomic_load_n(p, __ATOMIC_ACQUIRE));
}

static inline void shm_store_release32(u32 *p, u32 v)
{
	__atomic_store_n(p, pvdma_le32(v), __ATOMIC_RELEASE);
}

static inline u32 shm_read32(const u32 *p)
{
	return pvdma_le32(*(const volatile u32 *)p);
}

static inline void shm_write32(u32 *p, u32 v)
{
	*(volatile u32 *)p = pvdma_le32(v);
}

static inline void shm_write64(u64 *p, u64 v)
{
	*(volatile u64 *)p = pvdma_le64(v);
}

/* Copy @len bytes out of shared memory once; use only the copy afterwards. */
static inline void shm_snapshot(void *dst, const void *src, size_t len)
{
	memcpy(dst, src, len);
	shm_barrier();
}

#endif /* PVDMAD_SHM_ACCESS_H */
