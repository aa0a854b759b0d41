# SPDX-License-Identifier: MIT
"""uvmchurn: unified memory allocated and freed again and again, the way a
framework's managed-memory allocator without a cache behaves: 12 rounds,
each allocating 3 managed buffers of 64 to 384 MiB with cudaMallocManaged
(CuPy), writing them from the CPU, reading them on the GPU, reading a
part back on the CPU, then freeing them. Each round the driver maps the
pages the GPU touches in 2 MiB chunks, at new physical addresses. Seeded;
at most 1.2 GiB managed at once (well under the GPU's free memory)."""
import ctypes
import random

import numpy as np
import cupy as cp

from marker import phase

ROUNDS = 12
MIB = 1 << 20


def host_view(mem, nbytes):
    buf = (ctypes.c_uint8 * nbytes).from_address(mem.ptr)
    return np.frombuffer(buf, np.uint8, nbytes)


def main():
    rng = random.Random(12)
    cp.zeros(1)
    for r in range(ROUNDS):
        phase('round%d' % r)
        held = []
        for k in range(3):
            n = rng.choice((64, 128, 192, 256, 384)) * MIB
            mem = cp.cuda.malloc_managed(n)
            host = host_view(mem, n)
            host[::4096] = (r + k) & 0xff
            arr = cp.ndarray((n,), cp.uint8, mem)
            total = int(arr[::65536].sum())
            cp.cuda.runtime.deviceSynchronize()
            host[:MIB].sum()
            held.append((mem, arr, total))
        del held
        cp.cuda.runtime.deviceSynchronize()
    phase('end')


if __name__ == '__main__':
    main()
