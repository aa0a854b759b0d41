# SPDX-License-Identifier: MIT
"""multiproc: four processes share the GPU at once, each with its own CUDA
context, allocating pinned buffers of different sizes and copying them to
and from the device, in step through a barrier."""

import torch

from procs import run_in_step

PROCS = 4
ROUNDS = 16


def worker(k, barrier):
    torch.zeros(1, device='cuda')
    barrier.wait()
    dev = torch.empty(64 << 20, dtype=torch.uint8, device='cuda')
    for r in range(ROUNDS):
        size = ((k + 1) << 20) * (1 + r % 4)
        host = torch.empty(size, dtype=torch.uint8, pin_memory=True)
        host.fill_(k)
        dev[:size].copy_(host, non_blocking=True)
        host.copy_(dev[:size], non_blocking=True)
        torch.cuda.synchronize()
        del host
        if hasattr(torch._C, "_host_emptyCache"):
            torch._C._host_emptyCache()
    barrier.wait()


def main():
    run_in_step(worker, PROCS)


if __name__ == '__main__':
    main()
