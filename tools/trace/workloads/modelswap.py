# SPDX-License-Identifier: MIT
"""modelswap: the host side of an inference server that serves more
models than its GPU slots hold and keeps their weights pinned in host
memory for fast swap-in (the way multi-model servers keep a warm tier in
RAM). Ten Transformer-shaped models of about 110 to 580 MiB (bf16: an embedding,
layers of attention and MLP matrices, small norms), each parameter its
own pinned tensor from PyTorch's pinned caching allocator. Requests pick
a model by a Zipf law; at most three models are on the GPU (least
recently used goes), a model's swap-in copies every pinned parameter to
the GPU and its swap-out drops the GPU copy. The pinned tier holds up to
1.5 GiB of weights (PyTorch rounds each pinned block up to a power of
two, so more than a narrow IOMMU's aperture is pinned): a model that does
not fit evicts the least recently used pinned ones (their tensors freed
and the allocator's cache emptied) and is loaded again from pageable
"disk" memory. Each request pins a small output buffer (4 to 64 KiB)
that lives until a later request. Seeded."""
import random

import torch

from marker import phase

MIB = 1 << 20
KIB = 1 << 10
MODELS = 10
GPU_SLOTS = 3
PINNED_BUDGET = 1536 * MIB
REQUESTS = 400


def model_shapes(rng, k):
    """Parameter sizes in bytes (bf16) of model k."""
    hidden = rng.choice((768, 1024, 1536))
    layers = rng.randint(4, 10)
    sizes = [32000 * hidden * 2]
    for _ in range(layers):
        sizes += [hidden * hidden * 2] * 4 + [hidden * 4 * hidden * 2] * 2
        sizes += [hidden * 2] * 2
    return sizes


class Server:
    def __init__(self, rng, dev):
        self.rng = rng
        self.dev = dev
        self.shapes = [model_shapes(rng, k) for k in range(MODELS)]
        self.pinned = {}	# model -> list of pinned parameter tensors
        self.on_gpu = {}	# model -> list of device tensors
        self.clock = 0
        self.used = {}
        self.outputs = []
        self.loads = self.swaps = self.pin_evictions = 0

    def bytes_of(self, m):
        return sum(self.shapes[m])

    def pinned_bytes(self):
        return sum(self.bytes_of(m) for m in self.pinned)

    def pin(self, m):
        """Load model m from "disk" (pageable) into pinned tensors."""
        while self.pinned and \
                self.pinned_bytes() + self.bytes_of(m) > PINNED_BUDGET:
            victim = min(self.pinned, key=lambda k: self.used.get(k, -1))
            del self.pinned[victim]
            self.pin_evictions += 1
            torch.cuda.synchronize()
            torch._C._host_emptyCache()
        params = []
        for i, n in enumerate(self.shapes[m]):
            disk = torch.full((n // 2,), float(m + i % 7), dtype=torch.bfloat16)
            params.append(disk.pin_memory())
        self.pinned[m] = params
        self.loads += 1

    def swap_in(self, m):
        if m not in self.pinned:
            self.pin(m)
        while len(self.on_gpu) >= GPU_SLOTS:
            victim = min(self.on_gpu, key=lambda k: self.used[k])
            del self.on_gpu[victim]
        self.on_gpu[m] = [p.to(self.dev, non_blocking=True)
                          for p in self.pinned[m]]
        self.swaps += 1

    def request(self, m):
        self.clock += 1
        self.used[m] = self.clock
        if m not in self.on_gpu:
            self.swap_in(m)
        w = self.on_gpu[m]
        x = w[1][:1024 * 256].view(256, 1024).float()
        y = (x @ x.t()).sum(1)
        out = torch.empty(self.rng.choice((4, 8, 16, 32, 64)) * KIB,
                          dtype=torch.uint8, pin_memory=True)
        out[:256].copy_(y.to(torch.uint8), non_blocking=True)
        self.outputs.append(out)
        if len(self.outputs) > 32:
            self.outputs.pop(self.rng.randrange(len(self.outputs)))


def main():
    rng = random.Random(410)
    dev = torch.device('cuda')
    torch.zeros(1, device=dev)
    server = Server(rng, dev)
    weights = [1.0 / (k + 1) ** 1.1 for k in range(MODELS)]
    order = list(range(MODELS))
    rng.shuffle(order)
    phase('warm')
    for m in order[:6]:
        server.request(m)
    phase('serve')
    for i in range(REQUESTS):
        m = order[rng.choices(range(MODELS), weights)[0]]
        server.request(m)
        if i % 100 == 99:
            torch.cuda.synchronize()
    torch.cuda.synchronize()
    phase('end')
    print('modelswap: %d loads, %d swaps, %d pinned evictions, '
          'pinned %.0f MiB of %.0f MiB in %d models' % (
              server.loads, server.swaps, server.pin_evictions,
              server.pinned_bytes() / MIB,
              sum(server.bytes_of(m) for m in range(MODELS)) / MIB, MODELS))


if __name__ == '__main__':
    main()
