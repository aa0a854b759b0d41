# SPDX-License-Identifier: MIT
"""cupystreams: CuPy with four streams, each cycling through pinned host
buffers from CuPy's pinned-memory pool (sizes 1 to 64 MiB, held while the
stream works, then freed and the pool emptied every round), plus pageable
NumPy arrays registered with cudaHostRegister for zero-copy reads (the long
scattered lists) and unregistered again. Shapes a driver sees from a
pipeline that overlaps copies with compute on several streams."""
import numpy as np
import cupy as cp

from marker import phase

STREAMS = 4
ROUNDS = 12
MIB = 1 << 20


def pinned(nbytes):
    mem = cp.cuda.alloc_pinned_memory(nbytes)
    return np.frombuffer(mem, np.uint8, nbytes)


def main():
    cp.zeros(1)
    streams = [cp.cuda.Stream(non_blocking=True) for _ in range(STREAMS)]
    dev = [cp.empty(64 * MIB, dtype=cp.uint8) for _ in range(STREAMS)]
    pool = cp.get_default_pinned_memory_pool()
    phase('streams')
    for r in range(ROUNDS):
        held = []
        for k, s in enumerate(streams):
            size = MIB << ((r + k) % 7)
            host = pinned(size)
            host[:] = k
            with s:
                dev[k][:size].set(host, stream=s)
                dev[k][:size] += 1
                dev[k][:size].get(stream=s, out=host)
            held.append(host)
        for s in streams:
            s.synchronize()
        del held
        pool.free_all_blocks()
    phase('register')
    rt = cp.cuda.runtime
    for mib in (8, 24, 96):
        a = np.ones(mib * MIB, dtype=np.uint8)
        rt.hostRegister(a.ctypes.data, a.nbytes, 0)
        d = cp.empty(a.nbytes, dtype=cp.uint8)
        rt.memcpy(d.data.ptr, a.ctypes.data, a.nbytes, 1)
        rt.deviceSynchronize()
        rt.hostUnregister(a.ctypes.data)
        del d
    phase('end')


if __name__ == '__main__':
    main()
