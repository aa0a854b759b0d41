# SPDX-License-Identifier: MIT
"""libinit: short runs dominated by initialisation, one process after
another, each starting PyTorch, creating a CUDA context and initialising
one GPU library for a single small call: cuBLAS (a matrix product),
cuDNN (a convolution), cuFFT (an FFT), cuSOLVER (a Cholesky
factorisation), cuSPARSE (a sparse product), cuRAND, and NCCL (an
all-reduce in a group of one). Little data moves: what the driver maps
is mostly the contexts' and the libraries' setup."""
import multiprocessing as mp
import os
import tempfile

import torch

from marker import phase


def blas():
    a = torch.randn(1024, 1024, device='cuda')
    return (a @ a).sum()


def dnn():
    x = torch.randn(8, 16, 64, 64, device='cuda')
    conv = torch.nn.Conv2d(16, 32, 3).cuda()
    return conv(x).sum()


def fft():
    return torch.fft.rfft2(torch.randn(512, 512, device='cuda')).abs().sum()


def solver():
    a = torch.randn(256, 256, device='cuda', dtype=torch.float64)
    return torch.linalg.cholesky(a @ a.T + 256 * torch.eye(256, device='cuda',
                                                           dtype=torch.float64)).sum()


def sparse():
    s = torch.eye(2048, device='cuda').to_sparse_csr()
    return (s @ torch.randn(2048, 64, device='cuda')).sum()


def rand():
    g = torch.Generator(device='cuda')
    g.manual_seed(7)
    return torch.rand(1 << 20, device='cuda', generator=g).sum()


def nccl():
    import torch.distributed as dist
    path = os.path.join(tempfile.mkdtemp(), 'store')
    dist.init_process_group('nccl', init_method='file://' + path,
                            rank=0, world_size=1,
                            device_id=torch.device('cuda', 0))
    t = torch.ones(1 << 16, device='cuda')
    dist.all_reduce(t)
    dist.destroy_process_group()
    return t.sum()


LIBS = {'cublas': blas, 'cudnn': dnn, 'cufft': fft, 'cusolver': solver,
        'cusparse': sparse, 'curand': rand, 'nccl': nccl}


def run_one(name):
    value = LIBS[name]()
    torch.cuda.synchronize()
    print(name, float(value), flush=True)


def main():
    ctx = mp.get_context('spawn')
    for name in LIBS:
        phase(name)
        p = ctx.Process(target=run_one, args=(name,))
        p.start()
        p.join()
        if p.exitcode:
            print(name, 'failed with', p.exitcode, flush=True)
    phase('end')


if __name__ == '__main__':
    main()
