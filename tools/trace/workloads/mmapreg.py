# SPDX-License-Identifier: MIT
"""mmapreg: cudaHostRegister of memory-mapped files, the way a loader
pins a checkpoint or a dataset shard in place: a 384 MiB file in shared
memory (/dev/shm, tmpfs: page-cache pages, not anonymous memory) and a
256 MiB file on /tmp mapped privately and written (copy-on-write), each
mapped at offsets of 0 to 63 pages and registered in pieces of odd
lengths that start inside a page (a sub-page offset and a length that is
no multiple of 4 KiB), copied to the GPU, some pieces unregistered and
registered again over a shifted range; then pageable cudaMemcpyAsync of
sizes from 1 byte to 32 MiB. Seeded; the files are removed at the end."""
import mmap
import os
import random
import tempfile

import numpy as np
import cupy as cp

from marker import phase

KIB = 1 << 10
MIB = 1 << 20
PAGE = mmap.PAGESIZE


def make_file(directory, size, rng):
    fd, path = tempfile.mkstemp(dir=directory, prefix='pvdma-mmapreg-')
    chunk = bytes(rng.getrandbits(8) for _ in range(4096)) * 256
    with os.fdopen(fd, 'wb') as f:
        for _ in range(size // len(chunk)):
            f.write(chunk)
    return path


class Mapped:
    """A file mapped at a page offset, as a NumPy view for addresses."""

    def __init__(self, path, size, offset_pages, private):
        self.fd = os.open(path, os.O_RDWR)
        flags = mmap.MAP_PRIVATE if private else mmap.MAP_SHARED
        self.map = mmap.mmap(self.fd, size - offset_pages * PAGE, flags=flags,
                             offset=offset_pages * PAGE)
        self.view = np.frombuffer(self.map, np.uint8)
        if private:
            self.view[::PAGE] += 1  # copy-on-write: private anonymous pages
        self.base = self.view.ctypes.data

    def close(self):
        del self.view
        self.map.close()
        os.close(self.fd)


def pieces(length, rng):
    """Odd-sized pieces covering most of [0, length): (start, size)."""
    out = []
    at = rng.randint(1, PAGE - 1)
    while True:
        size = rng.randint(3 * KIB, 24 * MIB) | 1
        if at + size > length:
            return out
        out.append((at, size))
        at += size + rng.randint(0, 8) * PAGE + rng.randint(0, PAGE - 1)


def register_all(m, spans, dev):
    rt = cp.cuda.runtime
    done = []
    for start, size in spans:
        ptr = m.base + start
        try:
            rt.hostRegister(ptr, size, 0)
        except cp.cuda.runtime.CUDARuntimeError as e:
            print('hostRegister %#x+%d: %s' % (ptr, size, e), flush=True)
            continue
        rt.memcpy(dev.data.ptr, ptr, min(size, dev.nbytes), 1)
        done.append(ptr)
    return done


def run_file(path, size, private, rng, dev, tag):
    rt = cp.cuda.runtime
    m = Mapped(path, size, rng.randint(0, 63), private)
    phase(tag + '_register')
    spans = pieces(m.view.nbytes, rng)
    done = register_all(m, spans, dev)
    phase(tag + '_shift')
    for ptr in done[::2]:
        rt.hostUnregister(ptr)
    shifted = [(s + rng.randint(1, 16) * PAGE + 7, n // 2 | 1)
               for s, n in spans[::2]]
    again = register_all(m, [(s, n) for s, n in shifted
                             if s + n <= m.view.nbytes], dev)
    rt.deviceSynchronize()
    for ptr in done[1::2] + again:
        rt.hostUnregister(ptr)
    m.close()


def pageable_async(rng, dev):
    rt = cp.cuda.runtime
    stream = cp.cuda.Stream(non_blocking=True)
    for _ in range(400):
        n = min(32 * MIB, max(1, int(2 ** rng.uniform(0, 25))))
        a = np.full(n, 3, np.uint8)
        rt.memcpyAsync(dev.data.ptr, a.ctypes.data, n, 1, stream.ptr)
        rt.memcpyAsync(a.ctypes.data, dev.data.ptr, n, 2, stream.ptr)
        stream.synchronize()


def main():
    rng = random.Random(63)
    dev = cp.empty(32 * MIB, dtype=cp.uint8)
    shm = make_file('/dev/shm', 384 * MIB, rng)
    disk = make_file(tempfile.gettempdir(), 256 * MIB, rng)
    try:
        run_file(shm, 384 * MIB, False, rng, dev, 'shm')
        run_file(disk, 256 * MIB, True, rng, dev, 'private')
        phase('pageable_async')
        pageable_async(rng, dev)
    finally:
        os.unlink(shm)
        os.unlink(disk)
    phase('end')


if __name__ == '__main__':
    main()
