# SPDX-License-Identifier: MIT
"""zerocopy: zero-copy host memory read and written by GPU kernels in
place (cudaHostAlloc with cudaHostAllocMapped, through CuPy's runtime
calls), never copied with cudaMemcpy: the GPU reaches every buffer over
DMA for as long as it lives, and buffers come and go in a loop.

  hold      16 long-lived mapped buffers of 1 to 32 MiB (lookup tables)
  loop      2000 steps; each allocates one to three mapped buffers of
            4 KiB to 8 MiB (log-uniform; every third portable, every
            fifth write-combined), writes them from the CPU, reduces them
            on the GPU straight from host memory together with a table,
            writes the step's result into a mapped result buffer, and
            frees each buffer 0 to 24 steps later
  grow      a mapped buffer grown like a vector, 1 MiB doubling to
            512 MiB: each new one filled by a kernel from the old one
            (host to host through the GPU), the old one freed
  register  200 pageable NumPy arrays of 64 KiB to 16 MiB registered
            with cudaHostRegisterMapped, read by one kernel each and
            unregistered, a random quarter kept to the end

Seeded. On a 64-bit system with unified addressing a mapped host
pointer is also its device pointer, so CuPy arrays are made over it."""
import ctypes
import random

import cupy as cp
import numpy as np

from marker import phase

KIB = 1 << 10
MIB = 1 << 20
PORTABLE, MAPPED, WRITE_COMBINED = 1, 2, 4
REGISTER_MAPPED = 2


def size_between(rng, lo, hi):
    """Log-uniform in [lo, hi], a multiple of 4 KiB."""
    return max(4 * KIB, int(lo * (hi / lo) ** rng.random()) & ~(4 * KIB - 1))


def host_view(ptr, n):
    return np.ctypeslib.as_array((ctypes.c_uint8 * n).from_address(ptr))


def device_view(ptr, n, owner):
    mem = cp.cuda.UnownedMemory(ptr, n, owner, device_id=0)
    return cp.ndarray((n,), dtype=cp.uint8, memptr=cp.cuda.MemoryPointer(mem, 0))


class Mapped:
    """A cudaHostAlloc'd mapped buffer, seen by the CPU and the GPU."""

    def __init__(self, n, flags=0):
        self.n = n
        self.ptr = cp.cuda.runtime.hostAlloc(n, MAPPED | flags)
        self.host = host_view(self.ptr, n)
        self.dev = device_view(self.ptr, n, self)

    def free(self):
        cp.cuda.runtime.freeHost(self.ptr)
        self.ptr = 0


def main():
    rng = random.Random(0x2e70)
    cp.zeros(1).sum()

    phase('hold')
    tables = []
    for _ in range(16):
        t = Mapped(size_between(rng, 1 * MIB, 32 * MIB))
        t.host[::4096] = 7
        tables.append(t)
    results = Mapped(64 * KIB)

    phase('loop')
    live = []   # (step to free at, buffer)
    for step in range(2000):
        for _ in range(rng.randint(1, 3)):
            k = rng.randrange(15)
            flags = (PORTABLE if k % 3 == 0 else 0) | \
                (WRITE_COMBINED if k % 5 == 0 else 0)
            b = Mapped(size_between(rng, 4 * KIB, 8 * MIB), flags)
            b.host[::512] = step & 0xff
            live.append((step + rng.randint(0, 24), b))
        _, b = live[-1]
        t = tables[rng.randrange(len(tables))]
        s = b.dev.sum(dtype=cp.uint64) + t.dev[:4096].sum(dtype=cp.uint64)
        results.dev[(step * 8) % (64 * KIB - 8):][:8].view(cp.uint64)[0] = s
        if step % 100 == 99:
            cp.cuda.Stream.null.synchronize()
            print('step', step + 1, len(live), 'live', flush=True)
        keep = []
        for due, x in live:
            if due <= step:
                cp.cuda.Stream.null.synchronize()
                x.free()
            else:
                keep.append((due, x))
        live = keep
    cp.cuda.Stream.null.synchronize()
    for _, x in live:
        x.free()

    phase('grow')
    n = 1 * MIB
    old = Mapped(n)
    old.host[:] = 3
    while n < 512 * MIB:
        n *= 2
        new = Mapped(n)
        new.dev[:old.n] = old.dev
        new.dev[old.n:] = 5
        cp.cuda.Stream.null.synchronize()
        old.free()
        old = new
    old.free()

    phase('register')
    kept = []
    for _ in range(200):
        a = np.full(size_between(rng, 64 * KIB, 16 * MIB), 9, np.uint8)
        ptr = a.ctypes.data
        cp.cuda.runtime.hostRegister(ptr, a.nbytes, REGISTER_MAPPED)
        int(device_view(ptr, a.nbytes, a).sum(dtype=cp.uint64))
        if rng.random() < 0.25:
            kept.append(a)
        else:
            cp.cuda.runtime.hostUnregister(ptr)
    for a in kept:
        cp.cuda.runtime.hostUnregister(a.ctypes.data)

    phase('teardown')
    for t in tables:
        t.free()
    results.free()
    print('zerocopy: done', flush=True)


if __name__ == '__main__':
    main()
