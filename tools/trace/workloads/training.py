# SPDX-License-Identifier: MIT
"""training: a small CNN trained with AdamW on synthetic 3x64x64 images fed
by a DataLoader with 4 workers and pin_memory=True; two epochs, a
checkpoint saved to /tmp between them."""
import torch
import torch.nn as nn

from marker import phase

STEPS = 40
BATCH = 128


class Images(torch.utils.data.Dataset):
    def __len__(self):
        return STEPS * BATCH

    def __getitem__(self, i):
        g = torch.Generator().manual_seed(i)
        return torch.rand(3, 64, 64, generator=g), i % 10


def model():
    return nn.Sequential(
        nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 128, 3, padding=1), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(128, 256), nn.ReLU(), nn.Linear(256, 10))


def main():
    phase('init')
    net = model().cuda()
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.01)
    loss_fn = nn.CrossEntropyLoss()
    dl = torch.utils.data.DataLoader(Images(), batch_size=BATCH, shuffle=True,
                                     num_workers=4, pin_memory=True)
    for epoch in range(2):
        phase('epoch%d' % epoch)
        total = 0.0
        for x, y in dl:
            x = x.cuda(non_blocking=True)
            y = y.cuda(non_blocking=True)
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(x), y)
            loss.backward()
            opt.step()
            total += loss.item()
        print('epoch %d mean loss %.4f' % (epoch, total / len(dl)), flush=True)
        phase('checkpoint%d' % epoch)
        torch.save({'model': net.state_dict(), 'opt': opt.state_dict()},
                   '/tmp/pvdma-train.pt')
    phase('end')


if __name__ == '__main__':
    main()
