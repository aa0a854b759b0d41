#!/bin/sh
# SPDX-License-Identifier: MIT
# make demo: the end-to-end demonstration. Boots a Debian kernel under QEMU
# (TCG) beside pvdmad, loads pvdma.ko and its self-tests with policy=pvdma
# and policy=rfc, and prints the counters and one closing line:
#   pvdma e2e: <N> transfers verified, <M> mismatches, <F> failed maps; host calls pvdma=<A> rfc=<B>
# Takes under a minute on two cores once packages are installed.
# make demo ARCH=arm64: the same on an arm64 guest (qemu-system-aarch64
# -M virt, Debian's arm64 kernel, pvdmad --machine virt); make demo
# KVER=newest: on Debian sid's kernel, the modules built in a sid chroot;
# KVER=stable: on Debian 13's (trixie, 6.12), in a trixie chroot
# (PVDMA_ARCH and PVDMA_KVER, tests/e2e/vm.sh). The first run of each
# downloads and caches what it needs in build/vm.
set -u
cd "$(dirname "$0")/.." || exit 1
PVDMA_E2E_VERBOSE=${PVDMA_E2E_VERBOSE:-1} exec tests/e2e/run-e2e.sh "$@"
