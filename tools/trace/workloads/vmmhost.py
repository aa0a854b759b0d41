# SPDX-License-Identifier: MIT
"""vmmhost: a host-memory arena built with CUDA's virtual memory
management API, the way a framework's expandable pinned pool grows
(cuda.bindings): one 2 GiB virtual range reserved, pinned host memory
created in physical chunks of 1 to 16 granules (cuMemCreate with a host
location), mapped at the arena's top one after another and written from
the GPU; the arena grows to about 900 MiB, then gives back its top
chunks and a few from the middle (cuMemUnmap, cuMemRelease), grows
again, three cycles, and is released at the end. Seeded.

    vmmhost.py [GROW_TO_MIB]

grows the arena to another size (record-all.sh's vmmhost-big: 2400 MiB,
over a narrow IOMMU's aperture)."""
import random
import sys

import cupy as cp
from cuda.bindings import driver as cu

from marker import phase

MIB = 1 << 20
GROW_TO = (int(sys.argv[1]) if len(sys.argv) > 1 else 900) * MIB
RESERVE = max(2048 * MIB, 2 * GROW_TO)
CYCLES = 3


def check(result):
    err = result[0]
    if err != cu.CUresult.CUDA_SUCCESS:
        raise RuntimeError(str(err))
    return result[1] if len(result) == 2 else result[1:]


def host_prop(kind):
    prop = cu.CUmemAllocationProp()
    prop.type = cu.CUmemAllocationType.CU_MEM_ALLOCATION_TYPE_PINNED
    prop.location.type = kind
    prop.location.id = 0
    return prop


def pick_host_prop():
    """The first host location kind this driver creates memory at."""
    L = cu.CUmemLocationType
    for kind in (L.CU_MEM_LOCATION_TYPE_HOST_NUMA, L.CU_MEM_LOCATION_TYPE_HOST):
        prop = host_prop(kind)
        err, gran = cu.cuMemGetAllocationGranularity(
            prop, cu.CUmemAllocationGranularity_flags.
            CU_MEM_ALLOC_GRANULARITY_RECOMMENDED)
        if err != cu.CUresult.CUDA_SUCCESS:
            continue
        err, h = cu.cuMemCreate(gran, prop, 0)
        if err == cu.CUresult.CUDA_SUCCESS:
            check(cu.cuMemRelease(h))
            print('host location', kind, 'granule', gran, flush=True)
            return prop, gran
    raise SystemExit('no host location for cuMemCreate')


class Arena:
    def __init__(self, prop, gran, rng):
        self.prop = prop
        self.gran = gran
        self.rng = rng
        self.base = int(check(cu.cuMemAddressReserve(RESERVE, 0, 0, 0)))
        self.chunks = []  # (offset, size, handle), ascending
        self.top = 0
        self.dev = cp.empty(16 * MIB, dtype=cp.uint8)
        access = cu.CUmemAccessDesc()
        access.location.type = cu.CUmemLocationType.CU_MEM_LOCATION_TYPE_DEVICE
        access.location.id = 0
        access.flags = cu.CUmemAccess_flags.CU_MEM_ACCESS_FLAGS_PROT_READWRITE
        self.access = access

    def grow(self, size):
        handle = check(cu.cuMemCreate(size, self.prop, 0))
        ptr = self.base + self.top
        check(cu.cuMemMap(ptr, size, 0, handle, 0))
        check(cu.cuMemSetAccess(ptr, size, [self.access], 1))
        self.chunks.append((self.top, size, handle))
        self.top += size
        for at in range(0, size, self.dev.nbytes):
            n = min(self.dev.nbytes, size - at)
            cp.cuda.runtime.memcpy(ptr + at, self.dev.data.ptr, n, 4)

    def release(self, index):
        off, size, handle = self.chunks.pop(index)
        cp.cuda.runtime.deviceSynchronize()
        check(cu.cuMemUnmap(self.base + off, size))
        check(cu.cuMemRelease(handle))
        return off, size

    def fill_to(self, limit):
        while self.top < limit:
            size = self.rng.randint(1, 16) * self.gran
            if self.top + size > RESERVE:
                break
            self.grow(size)

    def shrink(self):
        """Top chunks go, then a few from the middle (holes stay)."""
        for _ in range(len(self.chunks) // 3):
            off, _ = self.release(len(self.chunks) - 1)
            self.top = off
        for _ in range(min(4, len(self.chunks) // 4)):
            self.release(self.rng.randrange(len(self.chunks) - 1))

    def free(self):
        while self.chunks:
            self.release(len(self.chunks) - 1)
        check(cu.cuMemAddressFree(self.base, RESERVE))


def main():
    rng = random.Random(900)
    cp.zeros(1)
    check(cu.cuInit(0))
    prop, gran = pick_host_prop()
    arena = Arena(prop, max(gran, 2 * MIB), rng)
    for c in range(CYCLES):
        phase('grow%d' % c)
        arena.fill_to(GROW_TO)
        phase('shrink%d' % c)
        arena.shrink()
    phase('free')
    arena.free()
    phase('end')


if __name__ == '__main__':
    main()
