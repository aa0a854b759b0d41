# SPDX-License-Identifier: MIT
"""torchgraph: PyTorch inference the way a serving stack sets it up: a
model of about 600 MiB (fp16, 48 tensors) saved to a file (untraced
phase "save"), loaded back with torch.load(mmap=True) and moved to the
GPU straight from the pageable mapped file, loaded a second time with
every tensor pinned (pin_memory) and copied with non_blocking, then a
forward pass captured in a CUDA graph and replayed 300 times with its
input staged through one pinned buffer and its output read back into
another; last, torch.compile(mode="reduce-overhead") of the same model
(CUDA graphs through the compiler) run 100 times."""
import os
import tempfile

import torch

from marker import phase

LAYERS = 24
WIDTH = 4096
BATCH = 64


def build():
    layers = []
    for _ in range(LAYERS):
        layers += [torch.nn.Linear(WIDTH, WIDTH // 2), torch.nn.GELU(),
                   torch.nn.Linear(WIDTH // 2, WIDTH)]
    return torch.nn.Sequential(*layers).half()


def main():
    torch.manual_seed(0)
    path = os.path.join(tempfile.gettempdir(), 'pvdma-torchgraph.pt')
    phase('save')
    torch.save(build().state_dict(), path)
    model = build().cuda()
    try:
        phase('load_pageable')
        sd = torch.load(path, mmap=True, weights_only=True)
        model.load_state_dict({k: v.cuda() for k, v in sd.items()})
        del sd
        torch.cuda.synchronize()
        phase('load_pinned')
        sd = torch.load(path, weights_only=True)
        pinned = {k: v.pin_memory() for k, v in sd.items()}
        del sd
        model.load_state_dict({k: v.cuda(non_blocking=True)
                               for k, v in pinned.items()})
        torch.cuda.synchronize()
        del pinned
    finally:
        os.unlink(path)
    model.eval()
    phase('graph_capture')
    x_host = torch.randn(BATCH, WIDTH, dtype=torch.half).pin_memory()
    y_host = torch.empty(BATCH, WIDTH, dtype=torch.half).pin_memory()
    x = x_host.cuda()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.no_grad(), torch.cuda.stream(side):
        for _ in range(3):
            model(x)
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.no_grad(), torch.cuda.graph(graph):
        y = model(x)
    phase('graph_replay')
    for i in range(300):
        x_host.fill_(i % 7)
        x.copy_(x_host, non_blocking=True)
        graph.replay()
        y_host.copy_(y, non_blocking=True)
        torch.cuda.current_stream().synchronize()
    phase('compile')
    compiled = torch.compile(model, mode='reduce-overhead')
    with torch.no_grad():
        for i in range(100):
            out = compiled(x_host.cuda(non_blocking=True))
            y_host.copy_(out, non_blocking=True)
    torch.cuda.synchronize()
    phase('end')


if __name__ == '__main__':
    main()
