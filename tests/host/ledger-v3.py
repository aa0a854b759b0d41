#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Rewrite every pvdmad ledger a keeper holds as ledger version 3 wrote it
(the layout before the DMA device's stage, host/ledger.h at 05cc54c~1),
as if the pvdmad before that version had kept them: what an upgrade
across version 4 finds. pvdmad must be stopped (SIGSTOP) meanwhile.

Usage: ledger-v3.py KEEPER_PID. Prints how many it rewrote.

Version 3's header: magic, version (u32 each); the geometry (kind, id,
queue, batch: u32; page_size, bus_base: u64; records, pad: u32); done,
executing (u64); the last completion (4 u32, 2 u64, a pointer, a u32,
padded to 48 bytes); ready, features, undo_count, generation,
begun_generation, stats_len (u32); 1024 bytes of counters. Nothing else
of its 4 KiB page was written. No stage: a DMA device (kind 2) had page
size 0 and its file was the header page alone.
"""
import os
import struct
import sys

MAGIC = 0x474C5650
V3_HDR_END = 8 + 40 + 16 + 48 + 24 + 1024
PAGE = 4096
DMADEV = 2

keeper = sys.argv[1]
fds = "/proc/%s/fd" % keeper
n = 0
for fd in os.listdir(fds):
    path = os.path.join(fds, fd)
    try:
        if not os.readlink(path).startswith("/memfd:pvdmad-ledger"):
            continue
    except OSError:
        continue
    with open(path, "r+b", buffering=0) as f:
        hdr = bytearray(f.read(PAGE))
        magic, version = struct.unpack_from("<II", hdr, 0)
        if magic != MAGIC or version != 4:
            continue
        struct.pack_into("<I", hdr, 4, 3)
        hdr[V3_HDR_END:] = bytes(PAGE - V3_HDR_END)
        kind = struct.unpack_from("<I", hdr, 8)[0]
        if kind == DMADEV:
            struct.pack_into("<Q", hdr, 24, 0)
            os.ftruncate(f.fileno(), PAGE)
        f.seek(0)
        f.write(hdr)
    n += 1
print(n)
