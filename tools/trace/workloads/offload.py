# SPDX-License-Identifier: MIT
"""offload: inference with weights larger than the GPU budget it is given,
kept in pinned host memory and streamed to the GPU layer by layer (what
CPU offloading in accelerate or DeepSpeed does): 24 layers of 128 MiB of
bf16 weights (3 GiB pinned, held for the whole run), a side stream copying
layer n+1 while layer n computes, three forward passes, then the weights
freed."""
import torch

from marker import phase

LAYERS = 24
DIM = 8192          # one 8192 x 8192 bf16 matrix: 128 MiB
PASSES = 3


def main():
    torch.zeros(1, device='cuda')
    phase('pin_weights')
    host = [torch.empty(DIM, DIM, dtype=torch.bfloat16).pin_memory()
            for _ in range(LAYERS)]
    for w in host:
        w.normal_(0.0, 0.02)
    gpu = [torch.empty(DIM, DIM, dtype=torch.bfloat16, device='cuda')
           for _ in range(2)]
    copy = torch.cuda.Stream()
    x = torch.randn(64, DIM, dtype=torch.bfloat16, device='cuda')
    for p in range(PASSES):
        phase('pass%d' % p)
        with torch.cuda.stream(copy):
            gpu[0].copy_(host[0], non_blocking=True)
        for i in range(LAYERS):
            torch.cuda.current_stream().wait_stream(copy)
            if i + 1 < LAYERS:
                with torch.cuda.stream(copy):
                    gpu[(i + 1) % 2].copy_(host[i + 1], non_blocking=True)
            x = torch.tanh(x @ gpu[i % 2])
        torch.cuda.synchronize()
    phase('free')
    del host
    if hasattr(torch._C, "_host_emptyCache"):
        torch._C._host_emptyCache()
    phase('end')


if __name__ == '__main__':
    main()
