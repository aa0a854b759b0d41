# SPDX-License-Identifier: MIT
"""procchurn: short-lived CUDA processes started and ended again and
again, the way a job runner or a test suite uses a GPU: a parent holds a
device buffer and exports it with cudaIpcGetMemHandle; 18 children, at
most three at a time, each create their own context, open the parent's
buffer with cudaIpcOpenMemHandle, fill a pinned staging buffer of 2 to
48 MiB (cudaHostAlloc), copy it into their slice of the shared buffer and
exit. Each child's context setup is mapped and unmapped within its short
life, at new physical addresses each time. Seeded."""
import multiprocessing as mp
import random

import cupy as cp

from marker import phase

CHILDREN = 18
AT_ONCE = 3
MIB = 1 << 20
SLICE = 48 * MIB


def child(k, handle, size):
    rt = cp.cuda.runtime
    rt.setDevice(0)
    base = rt.ipcOpenMemHandle(handle)
    ptr = rt.hostAlloc(size, 0)
    for _ in range(4):
        rt.memcpy(base + k % AT_ONCE * SLICE, ptr, size, 1)
    rt.deviceSynchronize()
    rt.freeHost(ptr)
    rt.ipcCloseMemHandle(base)


def main():
    rng = random.Random(18)
    ctx = mp.get_context('spawn')
    shared = cp.zeros(AT_ONCE * SLICE, dtype=cp.uint8)
    handle = cp.cuda.runtime.ipcGetMemHandle(shared.data.ptr)
    phase('churn')
    running = []
    for k in range(CHILDREN):
        if len(running) == AT_ONCE:
            running.pop(0).join()
        size = rng.randint(2, 48) * MIB
        p = ctx.Process(target=child, args=(k, handle, size))
        p.start()
        running.append(p)
    for p in running:
        p.join()
    phase('end')
    cp.cuda.runtime.deviceSynchronize()


if __name__ == '__main__':
    main()
