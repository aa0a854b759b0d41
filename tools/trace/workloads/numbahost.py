# SPDX-License-Identifier: MIT
"""numbahost: host memory through Numba's CUDA target, whose memory manager
frees lazily: a dropped array goes on a deallocation queue that is
flushed ten at a time (or when the pending bytes grow), so the driver
sees frees in batches, not where the program let go.

  pinned    300 pinned arrays (cuda.pinned_array) of 4 KiB to 16 MiB,
            each copied to the GPU and dropped
  mapped    200 mapped arrays (cuda.mapped_array: device-mapped, some
            portable, some write-combined) of 64 KiB to 4 MiB, every
            second one kept until the phase ends
  register  a 512 MiB pageable NumPy array, 120 random slices of 1 to
            64 MiB pinned in place for one copy each (with cuda.pinned:
            registered on entry, unregistered on exit)
  deferred  inside cuda.defer_cleanup(): 120 pinned arrays made, copied
            and dropped, all freed when the block ends

Seeded. Only copies run on the GPU (no kernels: nothing to compile)."""
import random

import numpy as np
from numba import cuda

from marker import phase

KIB = 1 << 10
MIB = 1 << 20


def size_between(rng, lo, hi):
    """Log-uniform in [lo, hi], a multiple of 4 bytes."""
    return int(lo * (hi / lo) ** rng.random()) & ~3


def copy_up(stream, host):
    d = cuda.to_device(host, stream=stream)
    stream.synchronize()
    return d


def main():
    rng = random.Random(300)
    stream = cuda.stream()
    cuda.to_device(np.zeros(1, np.uint8))

    phase('pinned')
    for _ in range(300):
        n = size_between(rng, 4 * KIB, 16 * MIB)
        a = cuda.pinned_array(n, np.uint8)
        a[::4096] = 1
        copy_up(stream, a)
        del a

    phase('mapped')
    kept = []
    for k in range(200):
        n = size_between(rng, 64 * KIB, 4 * MIB)
        a = cuda.mapped_array(n, np.uint8, portable=k % 3 == 0,
                              wc=k % 5 == 0)
        a[::4096] = 2
        copy_up(stream, a)
        if k % 2:
            kept.append(a)
        del a
    del kept

    phase('register')
    big = np.ones(512 * MIB, np.uint8)
    for _ in range(120):
        n = size_between(rng, MIB, 64 * MIB)
        at = rng.randrange(0, big.nbytes - n) & ~0xfff
        part = big[at:at + n]
        with cuda.pinned(part):
            copy_up(stream, part)
    del big

    phase('deferred')
    with cuda.defer_cleanup():
        for _ in range(120):
            n = size_between(rng, 4 * KIB, 8 * MIB)
            a = cuda.pinned_array(n, np.uint8)
            copy_up(stream, a)
            del a
        phase('deferred_end')
    cuda.current_context().deallocations.clear()
    phase('end')


if __name__ == '__main__':
    main()
