# SPDX-License-Identifier: MIT
"""kvswap: the host side of an LLM server that swaps KV-cache blocks to
pinned host memory (what vLLM's swap space does). Weights of 24 layers of
32 MiB are staged through one reused pinned buffer; a swap space of 24
pinned tensors of 48 MiB (one per layer) is held for the whole run; 300
decode steps each swap a random set of 256 KiB blocks out and in, and
pin a fresh small buffer for the step's token ids and logits (created and
freed every step, as a server without a buffer cache does). Seeded."""
import random

import torch

from marker import phase

LAYERS = 24
LAYER_BYTES = 32 << 20
SWAP_BYTES = 48 << 20
BLOCK = 256 << 10
STEPS = 300


def load_weights():
    stage = torch.empty(LAYER_BYTES, dtype=torch.uint8, pin_memory=True)
    weights = []
    for i in range(LAYERS):
        stage.fill_(i)
        w = torch.empty(LAYER_BYTES, dtype=torch.uint8, device='cuda')
        w.copy_(stage, non_blocking=True)
        torch.cuda.synchronize()
        weights.append(w)
    return weights


def main():
    rng = random.Random(42)
    torch.zeros(1, device='cuda')
    phase('load')
    weights = load_weights()
    swap = [torch.empty(SWAP_BYTES, dtype=torch.uint8, pin_memory=True)
            for _ in range(LAYERS)]
    cache = torch.empty(SWAP_BYTES, dtype=torch.uint8, device='cuda')
    nblocks = SWAP_BYTES // BLOCK
    phase('decode')
    for step in range(STEPS):
        layer = swap[rng.randrange(LAYERS)]
        for _ in range(rng.randint(1, 8)):
            b = rng.randrange(nblocks) * BLOCK
            if rng.random() < 0.5:
                layer[b:b + BLOCK].copy_(cache[b:b + BLOCK],
                                         non_blocking=True)
            else:
                cache[b:b + BLOCK].copy_(layer[b:b + BLOCK],
                                         non_blocking=True)
        tokens = torch.empty(rng.choice((4096, 16384, 65536)),
                             dtype=torch.uint8, pin_memory=True)
        tokens.copy_(cache[:tokens.numel()], non_blocking=True)
        torch.cuda.synchronize()
        del tokens
        if step % 100 == 99:
            torch._C._host_emptyCache()
    phase('free')
    del swap, weights
    torch.cuda.synchronize()
    torch._C._host_emptyCache()
    phase('end')


if __name__ == '__main__':
    main()
