# SPDX-License-Identifier: MIT
"""bigreg: large pageable arrays registered with cudaHostRegister in turn,
as a checkpoint writer or a host-side embedding table does: four arrays of
640 MiB, registered two at a time in a sliding pair (1.25 GiB live, close
to a narrow IOMMU's aperture), each copied to the GPU in 64 MiB pieces and
unregistered when the pair moves on, four passes. Pageable memory is
scattered: each registration is a list of tens of thousands of pages."""
import numpy as np
import cupy as cp

from marker import phase

ARRAYS = 4
SIZE = 640 << 20
PIECE = 64 << 20
PASSES = 4


def main():
    rt = cp.cuda.runtime
    dev = cp.empty(PIECE, dtype=cp.uint8)
    arrays = [np.full(SIZE, i, np.uint8) for i in range(ARRAYS)]
    for p in range(PASSES):
        phase('pass%d' % p)
        live = []
        for i in range(ARRAYS):
            a = arrays[i]
            rt.hostRegister(a.ctypes.data, a.nbytes, 0)
            live.append(a)
            for off in range(0, SIZE, PIECE):
                rt.memcpy(dev.data.ptr, a.ctypes.data + off, PIECE, 1)
            rt.deviceSynchronize()
            if len(live) == 2:
                rt.hostUnregister(live.pop(0).ctypes.data)
        for a in live:
            rt.hostUnregister(a.ctypes.data)
    phase('end')


if __name__ == '__main__':
    main()
