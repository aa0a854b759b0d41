# SPDX-License-Identifier: MIT
"""jaxhost: JAX arrays placed in pinned host memory (memory kind
"pinned_host"), the way a JAX model offloads optimizer state or
activations to the host; XLA's own host allocator serves them:

  offload  48 arrays of 1 to 64 MiB made on the GPU, moved to pinned host
           memory, a rolling 12 of them kept, each brought back to the GPU
           once before it is dropped
  remat    a jitted MLP's gradient, 12 steps, with activations offloaded
           to pinned host memory by a checkpoint policy
  read     the host arrays read from NumPy, then all dropped

Seeded. The GPU's memory is not preallocated."""
import os
import random

os.environ.setdefault('XLA_PYTHON_CLIENT_PREALLOCATE', 'false')

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import SingleDeviceSharding  # noqa: E402

from marker import phase  # noqa: E402

MIB = 1 << 20


def offload(rng, on_dev, on_host):
    held = []
    for k in range(48):
        n = int(MIB * 64 ** rng.random()) // 4
        x = jax.device_put(jnp.full((n,), k, jnp.float32), on_dev)
        h = jax.device_put(x, on_host)
        h.block_until_ready()
        held.append(h)
        if len(held) > 12:
            y = jax.device_put(held.pop(0), on_dev)
            y.block_until_ready()
    return held


def remat():
    policy = jax.checkpoint_policies.offload_dot_with_no_batch_dims(
        'device', 'pinned_host')

    def layer(w, x):
        return jnp.tanh(x @ w)

    def loss(ws, x):
        for w in ws:
            x = jax.checkpoint(layer, policy=policy)(w, x)
        return jnp.sum(x * x)

    grad = jax.jit(jax.grad(loss))
    key = jax.random.PRNGKey(0)
    ws = [jax.random.normal(jax.random.fold_in(key, i), (2048, 2048)) * 0.02
          for i in range(8)]
    x = jax.random.normal(key, (4096, 2048))
    for _ in range(12):
        g = grad(ws, x)
        ws = [w - 1e-3 * gw for w, gw in zip(ws, g)]
    jax.block_until_ready(ws)


def main():
    rng = random.Random(48)
    dev = jax.devices()[0]
    on_dev = SingleDeviceSharding(dev, memory_kind='device')
    on_host = SingleDeviceSharding(dev, memory_kind='pinned_host')
    jnp.zeros(1).block_until_ready()
    phase('offload')
    held = offload(rng, on_dev, on_host)
    phase('remat')
    try:
        remat()
    except Exception as e:  # an XLA without host offloading: say so
        print('remat with host offload failed: %s' % e, flush=True)
    phase('read')
    total = sum(float(np.asarray(h)[::4096].sum()) for h in held)
    print('read back %.0f' % total, flush=True)
    del held
    phase('end')


if __name__ == '__main__':
    main()
