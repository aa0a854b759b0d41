# SPDX-License-Identifier: MIT
"""pinpool: a data pipeline on PyTorch's pinned-memory caching allocator
with batches of varying size. Each step pins a host buffer of a random
size (log-uniform, 16 KiB to 48 MiB), fills it and copies it to the GPU
without blocking; the last 64 stay in flight, older ones go back to the
allocator's cache, which is emptied twice. Then 8000 small pinned
buffers (4 to 64 KiB) held at once, the way per-request metadata is kept,
and pageable tensors of random sizes moved with .cuda(). Seeded, so a
rerun maps the same sizes in the same order."""
import math
import random

import torch

from marker import phase

STEPS = 1500
IN_FLIGHT = 64
SMALL = 8000
KIB = 1 << 10


def log_uniform(rng, lo, hi):
    return int(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def pipeline(rng, dev):
    flight = []
    for step in range(STEPS):
        n = log_uniform(rng, 16 * KIB, 48 << 20)
        host = torch.empty(n, dtype=torch.uint8, pin_memory=True)
        host.fill_(step & 0xff)
        dev[:n].copy_(host, non_blocking=True)
        flight.append(host)
        if len(flight) > IN_FLIGHT:
            flight.pop(0)
        if step % 500 == 499:
            torch.cuda.synchronize()
            flight.clear()
            torch._C._host_emptyCache()


def small_buffers(rng, dev):
    held = []
    for i in range(SMALL):
        n = rng.choice((4, 8, 16, 32, 64)) * KIB
        host = torch.empty(n, dtype=torch.uint8, pin_memory=True)
        dev[:n].copy_(host, non_blocking=True)
        held.append(host)
    torch.cuda.synchronize()
    return held


def pageable(rng, dev):
    for _ in range(200):
        n = log_uniform(rng, 4 * KIB, 64 << 20)
        host = torch.empty(n, dtype=torch.uint8)
        dev[:n].copy_(host)
    torch.cuda.synchronize()


def main():
    rng = random.Random(20261130)
    dev = torch.empty(64 << 20, dtype=torch.uint8, device='cuda')
    phase('pipeline')
    pipeline(rng, dev)
    phase('small')
    held = small_buffers(rng, dev)
    phase('pageable')
    pageable(rng, dev)
    phase('free')
    del held
    torch.cuda.synchronize()
    torch._C._host_emptyCache()
    phase('end')


if __name__ == '__main__':
    main()
