# SPDX-License-Identifier: MIT
"""compiletrain: a torch.compile'd (Triton) sequence model trained on
variable-length batches from a DataLoader with 6 persistent workers,
pin_memory and prefetch_factor 4, the way a speech or text model is
trained: sequences of 16 to 2048 frames of 64 features (lognormal
lengths), bucketed by length and batched by a token budget that grows
each epoch (8 Ki, 32 Ki, 128 Ki frames: padded batches of about 2, 8 and
32 MiB), so the pin-memory thread's pinned buffers come in every size;
bf16 autocast, the loss read back every 10 steps, an evaluation per epoch
writing predictions into fresh pinned buffers, a checkpoint to /tmp.
Seeded."""
import math
import random

import torch
import torch.nn as nn
import torch.nn.functional as F

from marker import phase

SEQS = 6000
FEAT = 64
STEPS = 60
BUDGETS = (8192, 32768, 131072)


def lengths(rng):
    return [min(2048, max(16, int(rng.lognormvariate(math.log(300), 0.9))))
            for _ in range(SEQS)]


class Frames(torch.utils.data.Dataset):
    def __init__(self, lens):
        self.lens = lens

    def __len__(self):
        return len(self.lens)

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        return torch.randn(self.lens[i], FEAT, generator=g), i % 10


class TokenBudget(torch.utils.data.Sampler):
    """Batches of similar lengths whose padded size stays under
    self.budget frames (the main process reads it at each epoch)."""

    def __init__(self, lens, seed):
        self.lens = lens
        self.budget = BUDGETS[0]
        self.rng = random.Random(seed)

    def __iter__(self):
        order = sorted(range(len(self.lens)),
                       key=lambda i: (self.lens[i], self.rng.random()))
        batches, cur, longest = [], [], 0
        for i in order:
            longest2 = max(longest, self.lens[i])
            if cur and longest2 * (len(cur) + 1) > self.budget:
                batches.append(cur)
                cur, longest2 = [], self.lens[i]
            cur.append(i)
            longest = longest2
        if cur:
            batches.append(cur)
        self.rng.shuffle(batches)
        return iter(batches[:STEPS])

    def __len__(self):
        return STEPS


def collate(items):
    longest = max(x.shape[0] for x, _ in items)
    x = torch.zeros(len(items), longest, FEAT)
    mask = torch.zeros(len(items), longest, dtype=torch.bool)
    for k, (seq, _) in enumerate(items):
        x[k, :seq.shape[0]] = seq
        mask[k, :seq.shape[0]] = True
    y = torch.tensor([label for _, label in items])
    return x, mask, y


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.n1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.n2 = nn.LayerNorm(d)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(),
                                 nn.Linear(4 * d, d))
        self.heads = 4

    def forward(self, x, mask):
        b, t, d = x.shape
        q, k, v = self.qkv(self.n1(x)).chunk(3, dim=-1)
        q, k, v = (z.view(b, t, self.heads, d // self.heads).transpose(1, 2)
                   for z in (q, k, v))
        a = F.scaled_dot_product_attention(q, k, v,
                                           attn_mask=mask[:, None, None, :])
        x = x + a.transpose(1, 2).reshape(b, t, d)
        return x + self.mlp(self.n2(x))


class Net(nn.Module):
    def __init__(self, d=128):
        super().__init__()
        self.inp = nn.Linear(FEAT, d)
        self.blocks = nn.ModuleList([Block(d), Block(d)])
        self.out = nn.Linear(d, 10)

    def forward(self, x, mask):
        h = self.inp(x)
        for blk in self.blocks:
            h = blk(h, mask)
        m = mask.unsqueeze(-1).to(h.dtype)
        return self.out((h * m).sum(1) / m.sum(1))


def main():
    rng = random.Random(2048)
    lens = lengths(rng)
    phase('init')
    net = Net().cuda()
    step = torch.compile(net, dynamic=True)
    opt = torch.optim.AdamW(net.parameters(), lr=3e-4, fused=True)
    sampler = TokenBudget(lens, 7)
    dl = torch.utils.data.DataLoader(Frames(lens), batch_sampler=sampler,
                                     collate_fn=collate, num_workers=6,
                                     pin_memory=True, persistent_workers=True,
                                     prefetch_factor=4)
    for epoch, budget in enumerate(BUDGETS):
        sampler.budget = budget
        phase('epoch%d' % epoch)
        for k, (x, mask, y) in enumerate(dl):
            x = x.cuda(non_blocking=True)
            mask = mask.cuda(non_blocking=True)
            y = y.cuda(non_blocking=True)
            with torch.autocast('cuda', dtype=torch.bfloat16):
                loss = F.cross_entropy(step(x, mask), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            if k % 10 == 0:
                print('epoch %d step %d loss %.4f' % (epoch, k, loss.item()),
                      flush=True)
        phase('eval%d' % epoch)
        with torch.no_grad():
            for k, (x, mask, y) in enumerate(dl):
                if k == 12:
                    break
                with torch.autocast('cuda', dtype=torch.bfloat16):
                    logits = step(x.cuda(non_blocking=True),
                                  mask.cuda(non_blocking=True))
                out = torch.empty(logits.shape, dtype=logits.dtype,
                                  pin_memory=True)
                out.copy_(logits, non_blocking=True)
                torch.cuda.synchronize()
        phase('checkpoint%d' % epoch)
        torch.save({'model': net.state_dict(), 'opt': opt.state_dict()},
                   '/tmp/pvdma-compiletrain.pt')
    phase('end')


if __name__ == '__main__':
    main()
