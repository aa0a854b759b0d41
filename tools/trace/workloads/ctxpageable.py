# SPDX-License-Identifier: MIT
"""ctxpageable: four processes, each creating its own CUDA context, then
registering pageable memory in place with cudaHostRegister: per process
24 arrays of 1 to 16 MiB (scattered 4 KiB pages: long lists), copied to
the GPU, with a few MiB of the first kept registered for the whole run
and the rest unregistered and registered again twice. Seeded per
process."""
import random

import numpy as np
import cupy as cp

from procs import run_in_step

PROCS = 4
ARRAYS = 24
ROUNDS = 3


def worker(k, barrier):
    rng = random.Random(100 + k)
    rt = cp.cuda.runtime
    dev = cp.empty(16 << 20, dtype=cp.uint8)
    keep = np.ones(4 << 20, np.uint8)
    rt.hostRegister(keep.ctypes.data, keep.nbytes, 0)
    barrier.wait()
    for _ in range(ROUNDS):
        arrays = [np.full(rng.randint(1, 16) << 20, k, np.uint8)
                  for _ in range(ARRAYS)]
        for a in arrays:
            rt.hostRegister(a.ctypes.data, a.nbytes, 0)
            rt.memcpy(dev.data.ptr, a.ctypes.data, a.nbytes, 1)
        rt.deviceSynchronize()
        for a in arrays:
            rt.hostUnregister(a.ctypes.data)
    barrier.wait()
    rt.hostUnregister(keep.ctypes.data)


def main():
    run_in_step(worker, PROCS)


if __name__ == '__main__':
    main()
