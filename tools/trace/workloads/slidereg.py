# SPDX-License-Identifier: MIT
"""slidereg: cudaHostRegister over a sliding window and over large pieces
of a file freed in another order, the way a streaming reader pins the
part of a big host array or file it is about to copy:

  slide    a 1536 MiB pageable NumPy array; a 192 MiB window registered,
           copied to the GPU and unregistered, moved on by 64 MiB (each
           window shares two thirds of its pages with the one before),
           forward and then backward
  pieces   a 1 GiB file in /dev/shm mapped shared, registered as 8
           pieces of 128 MiB all live at once, unregistered in a shuffled
           order; then registered again as 3 pieces of 256 MiB from 64 MiB
           on and the first 64 MiB (other boundaries over the same pages),
           unregistered from the last to the first

Seeded; the file is removed at the end."""
import mmap
import os
import random
import tempfile

import numpy as np
import cupy as cp

from marker import phase

MIB = 1 << 20
ARRAY = 1536 * MIB
WINDOW = 192 * MIB
STEP = 64 * MIB
FILE = 1024 * MIB


def copy_in(dev, ptr, size):
    rt = cp.cuda.runtime
    for off in range(0, size, dev.nbytes):
        rt.memcpy(dev.data.ptr, ptr + off, min(dev.nbytes, size - off), 1)


def slide(dev):
    rt = cp.cuda.runtime
    a = np.empty(ARRAY, np.uint8)
    a[::4096] = 1
    base = a.ctypes.data
    starts = list(range(0, ARRAY - WINDOW + 1, STEP))
    for direction, order in (('forward', starts), ('backward', starts[::-1])):
        phase('slide_' + direction)
        for at in order:
            rt.hostRegister(base + at, WINDOW, 0)
            copy_in(dev, base + at, WINDOW)
            rt.hostUnregister(base + at)
    del a


def pieces(dev, rng):
    rt = cp.cuda.runtime
    fd, path = tempfile.mkstemp(dir='/dev/shm', prefix='pvdma-slidereg-')
    try:
        os.ftruncate(fd, FILE)
        m = mmap.mmap(fd, FILE, flags=mmap.MAP_SHARED)
        view = np.frombuffer(m, np.uint8)
        view[::4096] = 2
        base = view.ctypes.data
        phase('pieces8')
        size = FILE // 8
        live = [base + k * size for k in range(8)]
        for p in live:
            rt.hostRegister(p, size, 0)
            copy_in(dev, p, size)
        rng.shuffle(live)
        for p in live:
            rt.hostUnregister(p)
        phase('pieces4')
        size = FILE // 4
        shift = 64 * MIB
        spans = [(base + shift + k * size, size) for k in range(3)]
        spans.append((base, shift))
        for p, n in spans:
            rt.hostRegister(p, n, 0)
            copy_in(dev, p, n)
        for p, _ in spans[::-1]:
            rt.hostUnregister(p)
        del view
        m.close()
    finally:
        os.close(fd)
        os.unlink(path)


def main():
    rng = random.Random(1536)
    dev = cp.empty(64 * MIB, dtype=cp.uint8)
    slide(dev)
    pieces(dev, rng)
    phase('end')


if __name__ == '__main__':
    main()
