# SPDX-License-Identifier: MIT
"""jaxjob: JAX/XLA moving NumPy arrays of 1 to 256 MiB to the GPU and back
around a jitted computation, round after round (XLA's own host staging and
allocator rather than PyTorch's), then a batch of many small transfers."""
import os

os.environ.setdefault('XLA_PYTHON_CLIENT_PREALLOCATE', 'false')

import jax
import jax.numpy as jnp
import numpy as np

from marker import phase

MIB = 1 << 20


@jax.jit
def step(a):
    return jnp.sin(a) * 2.0 + 1.0


def main():
    jax.device_put(np.zeros(1, np.float32)).block_until_ready()
    phase('rounds')
    for r in range(4):
        for mib in (1, 4, 16, 64, 256):
            a = np.full(mib * MIB // 4, r, np.float32)
            d = jax.device_put(a)
            out = np.asarray(step(d))
            assert out.shape == a.shape
            del d
    phase('small')
    xs = [jax.device_put(np.full(1024 * (i % 64 + 1), i, np.float32))
          for i in range(512)]
    total = sum(float(jnp.sum(x)) for x in xs[:32])
    print('sum', total)
    phase('end')


if __name__ == '__main__':
    main()
