# SPDX-License-Identifier: MIT
"""multiproc: four processes share the GPU at once, each with its own CUDA
context, allocating pinned buffers of different sizes and copying them to
and from the device, in step through a barrier."""
import multiprocessing as mp

import torch

from marker import phase

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
    ctx = mp.get_context('spawn')
    barrier = ctx.Barrier(PROCS)
    phase('start')
    ps = [ctx.Process(target=worker, args=(k, barrier)) for k in range(PROCS)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    phase('end')
    bad = [p.exitcode for p in ps if p.exitcode]
    if bad:
        raise SystemExit('workers failed: %s' % bad)


if __name__ == '__main__':
    main()
