/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * pvdma: the few definitions lib/ needs, taken from the kernel when built
 * into pvdma.ko and from the C library's freestanding headers otherwise.
 *
 * lib/ never allocates, never locks and never sleeps: callers provide memory
 * and serialise each instance.
 */
#ifndef PVDMA_COMPAT_H
#define PVDMA_COMPAT_H

#ifdef __KERNEL__
#include <linux/bug.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/stddef.h>
#include <linux/string.h>
#include <linux/types.h>

#define PVDMA_WARN_ON(cond)	WARN_ON_ONCE(cond)
#define PVDMA_STATIC_ASSERT(cond, msg) static_assert(cond, msg)

#else /* user space */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/cdefs.h>	/* __always_inline, as the kernel has it */

#ifndef noinline
#define noinline __attribute_noinline__		/* as the kernel has it */
#endif

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int32_t s32;
typedef int64_t s64;

/* Invariant checks: report, never abort, so a test sees the bad state. */
void pvdma_warn(const char *cond, const char *file, int line);
extern unsigned long pvdma_warn_count;	/* tests assert it stays 0 */
static inline int pvdma_warn_on(int cond, const char *text, const char *file,
				int line)
{
	if (cond)
		pvdma_warn(text, file, line);
	return cond;
}
#define PVDMA_WARN_ON(cond) pvdma_warn_on(!!(cond), #cond, __FILE__, __LINE__)
#define PVDMA_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)

/*
 * One untorn access the compiler may neither repeat nor merge, as the
 * kernel's own: what memory a peer can rewrite (shared rings) needs.
 * Relaxed atomics give exactly that, with no fence.
 */
#ifndef READ_ONCE
#define READ_ONCE(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, val)	__atomic_store_n(&(x), (val), __ATOMIC_RELAXED)
#endif

#ifndef container_of
#define container_of(ptr, type, member)					\
	((type *)((char *)(ptr) - offsetof(type, member)))
#endif
#endif /* __KERNEL__ */

/* Round x (u64) to a power-of-two multiple a. */
#define PVDMA_ALIGN_DOWN(x, a)	((u64)(x) & ~((u64)(a) - 1))
#define PVDMA_ALIGN_UP(x, a)	PVDMA_ALIGN_DOWN((u64)(x) + (u64)(a) - 1, (a))
#define PVDMA_IS_POW2(x)	((x) != 0 && ((x) & ((x) - 1)) == 0)
#define PVDMA_MIN(a, b)		((a) < (b) ? (a) : (b))
#define PVDMA_MAX(a, b)		((a) > (b) ? (a) : (b))

/* a + b without wrapping past 2^64; returns false if it would. */
static inline bool pvdma_add_ok(u64 a, u64 b, u64 *sum)
{
	*sum = a + b;
	return *sum >= a;
}

/* Largest power of two <= x (x > 0). */
static inline u64 pvdma_pow2_floor(u64 x)
{
	return x ? (u64)1 << (63 - __builtin_clzll(x)) : 0;
}

#endif /* PVDMA_COMPAT_H */
