# SPDX-License-Identifier: MIT
"""Workloads of several processes sharing the GPU at once."""
import multiprocessing as mp

from marker import phase


def run_in_step(worker, nprocs):
    """Run worker(k, barrier) in @nprocs spawned processes (each its own
    CUDA context), between "start" and "end" phase markers; exit non-zero
    if any of them failed."""
    ctx = mp.get_context('spawn')
    barrier = ctx.Barrier(nprocs)
    phase('start')
    ps = [ctx.Process(target=worker, args=(k, barrier))
          for k in range(nprocs)]
    for p in ps:
        p.start()
    for p in ps:
        p.join()
    phase('end')
    bad = [p.exitcode for p in ps if p.exitcode]
    if bad:
        raise SystemExit('workers failed: %s' % bad)
