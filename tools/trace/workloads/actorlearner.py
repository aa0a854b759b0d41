# SPDX-License-Identifier: MIT
"""actorlearner: the host side of a reinforcement-learning actor-learner
loop (IMPALA-like) with GPU actors that are restarted often. A learner
process trains a small convolutional policy; six actor slots each run
one actor process at a time, with its own CUDA context, stepping a fake
environment, running the policy on the GPU from a small pinned buffer and
writing its rollouts (64 to 512 steps of 3x128x128 frames, two halves)
into a shared-memory tensor that the learner made for that actor and
registered in place with cudaHostRegister. The learner copies each
finished half to the GPU straight from the registered memory, trains on
it, publishes the new weights to a shared tensor through a pinned
buffer, and acks. Every actor exits after 2 to 5 rollouts (an
environment crash, a periodic restart); the learner unregisters and drops
its buffer and starts a new actor with a new buffer, 30 actor lives in
all. Seeded sizes (the interleaving of the processes is not)."""
import random
import sys

import torch
import torch.multiprocessing as mp

from marker import phase

SLOTS = 6
LIVES = 30
FRAME = 3 * 128 * 128
KIB = 1 << 10


def policy():
    return torch.nn.Sequential(
        torch.nn.Conv2d(3, 16, 8, stride=4), torch.nn.ReLU(),
        torch.nn.Conv2d(16, 32, 4, stride=2), torch.nn.ReLU(),
        torch.nn.Flatten(), torch.nn.LazyLinear(18))


def host_register(t):
    err = torch.cuda.cudart().cudaHostRegister(t.data_ptr(),
                                                t.numel() * t.element_size(),
                                                0)
    if int(err) != 0:
        raise SystemExit('cudaHostRegister: %s' % err)


def host_unregister(t):
    torch.cuda.cudart().cudaHostUnregister(t.data_ptr())


def actor(life, steps, rollouts, extra, rollout_buf, weights, results, acks):
    torch.manual_seed(life)
    dev = torch.device('cuda')
    net = policy().to(dev)
    net(torch.zeros(1, 3, 128, 128, device=dev))
    # the environment's own frame buffer, pinned for the life of the actor
    env = torch.empty(extra, dtype=torch.uint8, pin_memory=True)
    obs = torch.empty(16, 3, 128, 128, dtype=torch.uint8, pin_memory=True)
    half = steps * FRAME
    for r in range(rollouts):
        with torch.no_grad():
            vec = torch.nn.utils.parameters_to_vector(net.parameters())
            vec.copy_(weights[:vec.numel()])
            torch.nn.utils.vector_to_parameters(vec, net.parameters())
        out = rollout_buf[(r % 2) * half:(r % 2 + 1) * half].view(steps, FRAME)
        for s in range(0, steps, 16):
            obs.random_(0, 255)
            env[:4 * KIB].fill_(s & 0xff)
            x = obs.to(dev, non_blocking=True).float().div_(255)
            with torch.no_grad():
                act = net(x).argmax(1).cpu()
            out[s:s + 16].copy_(obs.view(16, FRAME))
            out[s, 0] = int(act[0])
        results.put((life, r % 2))
        acks.get()
    results.put((life, -1))


def main():
    rng = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
    ctx = mp.get_context('spawn')
    dev = torch.device('cuda')
    net = policy().to(dev)
    net(torch.zeros(1, 3, 128, 128, device=dev))
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    nparams = sum(p.numel() for p in net.parameters())
    weights = torch.zeros(nparams).share_memory_()
    publish = torch.empty(nparams, pin_memory=True)
    results = ctx.Queue()
    phase('start')
    live = {}
    lives = 0
    updates = 0

    def start_actor():
        nonlocal lives
        life = lives
        lives += 1
        steps = rng.choice((64, 128, 256, 512))
        buf = torch.zeros(2 * steps * FRAME, dtype=torch.uint8).share_memory_()
        host_register(buf)
        acks = ctx.Queue()
        p = ctx.Process(target=actor, args=(
            life, steps, rng.randint(2, 5), rng.randint(64, 2048) * KIB,
            buf, weights, results, acks))
        p.start()
        live[life] = (p, buf, steps, acks)

    for _ in range(SLOTS):
        start_actor()
    phase('learn')
    while live:
        life, h = results.get()
        p, buf, steps, acks = live[life]
        if h < 0:
            p.join()
            host_unregister(buf)
            del live[life]
            if p.exitcode:
                raise SystemExit('actor %d failed: %s' % (life, p.exitcode))
            if lives < LIVES:
                start_actor()
            continue
        half = steps * FRAME
        x = buf[h * half:(h + 1) * half].view(steps, 3, 128, 128)
        x = x.to(dev, non_blocking=True).float().div_(255)
        for i in range(0, steps, 64):
            loss = net(x[i:i + 64]).logsumexp(1).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            vec = torch.nn.utils.parameters_to_vector(net.parameters())
            publish.copy_(vec, non_blocking=True)
        torch.cuda.synchronize()
        weights.copy_(publish)
        updates += 1
        acks.put(1)
    phase('end')
    print('actorlearner: %d lives, %d updates' % (lives, updates))


if __name__ == '__main__':
    main()
