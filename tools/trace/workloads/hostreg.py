# SPDX-License-Identifier: MIT
"""hostreg: many pageable NumPy buffers registered with cudaHostRegister at
once (CuPy), the way a framework pins a user's arrays in place: 1500
buffers of random sizes (log-uniform, 64 KiB to 4 MiB, about 1.2 GiB in
all), each read by the GPU; then a random half unregistered and
registered again in another order; then every buffer unregistered in a
random order. Pageable memory is scattered, so each registration is a
scatter-gather list. Seeded."""
import math
import random

import numpy as np
import cupy as cp

from marker import phase

BUFFERS = 1500
KIB = 1 << 10


def log_uniform(rng, lo, hi):
    return int(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def register(rt, dev, a):
    rt.hostRegister(a.ctypes.data, a.nbytes, 0)
    rt.memcpy(dev.data.ptr, a.ctypes.data, a.nbytes, 1)


def main():
    rng = random.Random(1130)
    rt = cp.cuda.runtime
    dev = cp.empty(4 << 20, dtype=cp.uint8)
    bufs = [np.full(log_uniform(rng, 64 * KIB, 4 << 20), i & 0xff, np.uint8)
            for i in range(BUFFERS)]
    phase('register')
    for a in bufs:
        register(rt, dev, a)
    rt.deviceSynchronize()
    phase('reregister')
    half = rng.sample(range(BUFFERS), BUFFERS // 2)
    for i in half:
        rt.hostUnregister(bufs[i].ctypes.data)
    rng.shuffle(half)
    for i in half:
        register(rt, dev, bufs[i])
    rt.deviceSynchronize()
    phase('unregister')
    order = list(range(BUFFERS))
    rng.shuffle(order)
    for i in order:
        rt.hostUnregister(bufs[i].ctypes.data)
    phase('end')


if __name__ == '__main__':
    main()
