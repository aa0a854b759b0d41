# SPDX-License-Identifier: MIT
"""cupypool: CuPy's pinned-memory pool growing without being emptied, the
way a long-running pipeline's host staging grows: 600 pinned buffers of
random sizes (log-uniform, 4 KiB to 16 MiB), each filled and copied to the
GPU and back; every fourth one kept for the rest of the run, the others
returned to the pool, which reuses blocks of the same size; then the pool
emptied. Seeded."""
import math
import random

import numpy as np
import cupy as cp

from marker import phase

BUFFERS = 600
KIB = 1 << 10


def log_uniform(rng, lo, hi):
    return int(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def main():
    rng = random.Random(7)
    dev = cp.empty(16 << 20, dtype=cp.uint8)
    pool = cp.get_default_pinned_memory_pool()
    kept = []
    phase('grow')
    for i in range(BUFFERS):
        n = log_uniform(rng, 4 * KIB, 16 << 20)
        mem = cp.cuda.alloc_pinned_memory(n)
        host = np.frombuffer(mem, np.uint8, n)
        host[:] = i & 0xff
        dev[:n].set(host)
        dev[:n].get(out=host)
        if i % 4 == 0:
            kept.append((mem, host))
    cp.cuda.runtime.deviceSynchronize()
    phase('free')
    kept.clear()
    pool.free_all_blocks()
    phase('end')


if __name__ == '__main__':
    main()
