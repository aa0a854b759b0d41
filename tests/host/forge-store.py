#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Start pvdmad as a keeper would, handing over one companion's fds
(LISTEN_FDS, sd_listen_fds(3)) that are not all what pvdmad makes.

Usage: forge-store.py KIND PVDMAD [ARGS...]. KIND says which fd is off:
  unsealed   the shared region, a memfd without seals (shrinkable: SIGBUS)
  sealed     none: the region sealed as pvdmad seals it (the control)
  pipe       the doorbell, a pipe instead of an eventfd
  listener   the connection, a listening socket instead of a connection
  stray      none, but a stray fd named "companion.1" (no role) first
  zeroid     none, but every name says client "01" (not as pvdmad writes 1)
The region has SIZE bytes ($FORGE_SIZE, default 1 MiB). pvdmad then runs
with the fds from 3 on and LISTEN_PID its own (exec keeps the pid).
"""
import fcntl
import os
import socket
import sys

kind, exe, args = sys.argv[1], sys.argv[2], sys.argv[2:]
size = int(os.environ.get("FORGE_SIZE", str(1 << 20)))

ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
sock = ours
if kind == "listener":
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind("\0pvdma-forge-%d" % os.getpid())
    sock.listen(1)
sock.setblocking(False)

shm = os.memfd_create("ivshmem", os.MFD_ALLOW_SEALING)
os.ftruncate(shm, size)
if kind != "unsealed":
    fcntl.fcntl(shm, fcntl.F_ADD_SEALS,
                fcntl.F_SEAL_SHRINK | fcntl.F_SEAL_GROW | fcntl.F_SEAL_SEAL)

bell = os.eventfd(0, os.EFD_NONBLOCK)
if kind == "pipe":
    bell, _ = os.pipe()
    os.set_blocking(bell, False)
irq = os.eventfd(0, os.EFD_NONBLOCK)

fds = [sock.fileno(), shm, bell, irq]
client = "companion.01." if kind == "zeroid" else "companion.1."
names = [client + role for role in ("sock", "shm", "bell0", "irq0")]
if kind == "stray":
    fds.insert(0, os.eventfd(0, os.EFD_NONBLOCK))
    names.insert(0, "companion.1")
# Out of the way first, so that dup2 onto 3.. overwrites none of them.
fds = [fcntl.fcntl(fd, fcntl.F_DUPFD, 100) for fd in fds]
for i, fd in enumerate(fds):
    os.dup2(fd, 3 + i, inheritable=True)
os.environ["LISTEN_PID"] = str(os.getpid())
os.environ["LISTEN_FDS"] = str(len(fds))
os.environ["LISTEN_FDNAMES"] = ":".join(names)
os.environ.pop("NOTIFY_SOCKET", None)
os.execv(exe, args)
