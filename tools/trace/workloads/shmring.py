# SPDX-License-Identifier: MIT
"""shmring: a long-running ring buffer in shared memory between a CPU
producer and two GPU consumers in other processes, the way a capture or
ingest pipeline hands frames to GPU workers: a ring of 32 slots of 4 MiB
in /dev/shm; the producer (no CUDA) writes a slot, both consumers copy
it to their GPU buffer, the slot is reused once both are done, 8 laps.
Consumer A registers the whole ring once with cudaHostRegister (its own
context); consumer B registers each slot just before it reads it and
unregisters it after (one registration per message). Halfway consumer A
exits and a new one takes over, registering the ring again in a new
context. So the same physical pages are mapped by two contexts at once,
one of them a slot at a time. Seeded sizes; the file goes at the end."""
import multiprocessing as mp
import os
import sys

from marker import phase

SLOTS = 32
SLOT = 4 << 20
LAPS = 8
MESSAGES = SLOTS * LAPS
NAME = 'pvdma-shmring-%d' % os.getpid()


def attach(name):
    from multiprocessing import shared_memory
    import numpy as np
    shm = shared_memory.SharedMemory(name)
    return shm, np.ndarray((SLOTS * SLOT,), np.uint8, shm.buf)


def producer(name, free, queues):
    shm, ring = attach(name)
    for msg in range(MESSAGES):
        slot = msg % SLOTS
        for _ in queues:
            free[slot].acquire()
        ring[slot * SLOT:(slot + 1) * SLOT:4096] = msg & 0xff
        for q in queues:
            q.put(msg)
    for q in queues:
        q.put(None)
    del ring
    shm.close()


def consumer(name, free, q, whole, stop_after):
    """Copy each message's slot to the GPU; @whole: the ring registered
    once, else each slot around its copy. Returns after @stop_after
    messages (None: to the end)."""
    import cupy as cp
    rt = cp.cuda.runtime
    shm, ring = attach(name)
    base = ring.ctypes.data
    dev = cp.empty(SLOT, dtype=cp.uint8)
    if whole:
        rt.hostRegister(base, SLOTS * SLOT, 0)
    seen = 0
    while stop_after is None or seen < stop_after:
        msg = q.get()
        if msg is None:
            break
        ptr = base + msg % SLOTS * SLOT
        if not whole:
            rt.hostRegister(ptr, SLOT, 0)
        rt.memcpy(dev.data.ptr, ptr, SLOT, 1)
        if not whole:
            rt.hostUnregister(ptr)
        free[msg % SLOTS].release()
        seen += 1
    if whole:
        rt.hostUnregister(base)
    del ring
    shm.close()


def main():
    from multiprocessing import shared_memory
    ctx = mp.get_context('spawn')
    shm = shared_memory.SharedMemory(NAME, create=True, size=SLOTS * SLOT)
    try:
        free = [ctx.Semaphore(2) for _ in range(SLOTS)]
        qa, qb = ctx.Queue(), ctx.Queue()
        phase('start')
        b = ctx.Process(target=consumer, args=(NAME, free, qb, False, None))
        a1 = ctx.Process(target=consumer,
                         args=(NAME, free, qa, True, MESSAGES // 2))
        b.start()
        a1.start()
        prod = ctx.Process(target=producer, args=(NAME, free, (qa, qb)))
        prod.start()
        a1.join()
        phase('handover')
        a2 = ctx.Process(target=consumer, args=(NAME, free, qa, True, None))
        a2.start()
        for p in (prod, b, a2):
            p.join()
        phase('end')
        bad = [p.exitcode for p in (a1, a2, b, prod) if p.exitcode]
        if bad:
            sys.exit('workers failed: %s' % bad)
    finally:
        shm.close()
        shm.unlink()


if __name__ == '__main__':
    main()
