# SPDX-License-Identifier: MIT
"""server: the host side of a long-running inference server without a
pinned-memory cache: requests arrive in bursts with idle gaps between
them, each request allocating its own pinned buffers with cudaHostAlloc
(CuPy, no pool) of lognormal sizes (median 256 KiB, a long tail to
64 MiB), copying them to the GPU and back, and freeing them when it
completes a random number of ticks later; a few long-lived sessions keep
theirs for most of the run. Pageable copies of the same sizes in between.
Seeded; at most a few hundred MiB pinned at once.

    server.py [MEDIAN_KIB MAX_MIB LIFETIME_SCALE]

scales it (record-all.sh's server-heavy: 2048 256 3, a median of 2 MiB,
buffers up to 256 MiB living three times as long, pinned bytes over a
narrow IOMMU's aperture at the peak)."""
import math
import random
import sys
import time

import numpy as np
import cupy as cp

from marker import phase

BURSTS = 40
KIB = 1 << 10
MIB = 1 << 20
MIN_BUF = 4 * KIB
MEDIAN = int(sys.argv[1]) * KIB if len(sys.argv) > 1 else 256 * KIB
MAX_BUF = int(sys.argv[2]) * MIB if len(sys.argv) > 2 else 64 * MIB
LIFETIME_SCALE = int(sys.argv[3]) if len(sys.argv) > 3 else 1


def lognormal_size(rng):
    n = int(rng.lognormvariate(math.log(MEDIAN), 1.6))
    return max(MIN_BUF, min(MAX_BUF, n))


class Server:
    def __init__(self, rng):
        self.rng = rng
        self.rt = cp.cuda.runtime
        self.dev = cp.empty(MAX_BUF, dtype=cp.uint8)
        self.stream = cp.cuda.Stream(non_blocking=True)
        self.live = []  # (expiry tick, ptr)
        self.tick = 0

    def request(self, lifetime):
        size = lognormal_size(self.rng)
        ptr = self.rt.hostAlloc(size, 0)
        s = self.stream.ptr
        self.rt.memcpyAsync(self.dev.data.ptr, ptr, size, 1, s)
        self.rt.memcpyAsync(ptr, self.dev.data.ptr, size, 2, s)
        self.live.append((self.tick + lifetime, ptr))

    def expire(self, everything=False):
        self.stream.synchronize()
        keep = []
        for end, ptr in self.live:
            if everything or end <= self.tick:
                self.rt.freeHost(ptr)
            else:
                keep.append((end, ptr))
        self.live = keep

    def pageable(self, count):
        for _ in range(count):
            a = np.ones(lognormal_size(self.rng), np.uint8)
            self.rt.memcpy(self.dev.data.ptr, a.ctypes.data, a.nbytes, 1)


def main():
    rng = random.Random(4096)
    srv = Server(rng)
    phase('sessions')
    for _ in range(6):
        srv.request(BURSTS * 2)
    phase('bursts')
    for b in range(BURSTS):
        srv.tick = b
        for _ in range(rng.randint(2, 60)):
            srv.request(LIFETIME_SCALE *
                        rng.choice((0, 0, 1, 1, 2, 3, 5, 8)))
        srv.expire()
        if b % 4 == 3:
            srv.pageable(rng.randint(4, 16))
        time.sleep(rng.choice((0.01, 0.05, 0.3)))
    phase('drain')
    srv.expire(everything=True)
    phase('end')


if __name__ == '__main__':
    main()
