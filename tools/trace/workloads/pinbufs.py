# SPDX-License-Identifier: MIT
"""pinbufs: a pool of mid-sized pinned buffers larger than a narrow
IOMMU's aperture, all live at once and cycled through for copies (a
staging ring of a data loader or a checkpoint writer): 2400 buffers of
1 MiB from cudaHostAlloc (CuPy, without its pool), each copied to the GPU
once when made and then in a random order for three rounds, all freed at
the end. Seeded."""
import random

import cupy as cp

from marker import phase

BUFFERS = 2400
SIZE = 1 << 20
ROUNDS = 3


def main():
    rng = random.Random(2400)
    rt = cp.cuda.runtime
    dev = cp.empty(SIZE, dtype=cp.uint8)
    phase('alloc')
    bufs = []
    for i in range(BUFFERS):
        ptr = rt.hostAlloc(SIZE, 0)
        bufs.append(ptr)
        rt.memcpy(dev.data.ptr, ptr, SIZE, 1)
    phase('cycle')
    for _ in range(ROUNDS):
        order = list(range(BUFFERS))
        rng.shuffle(order)
        for i in order:
            rt.memcpy(bufs[i], dev.data.ptr, SIZE, 2)
    rt.deviceSynchronize()
    phase('free')
    for ptr in bufs:
        rt.freeHost(ptr)
    phase('end')


if __name__ == '__main__':
    main()
