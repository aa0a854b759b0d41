#!/bin/sh
# SPDX-License-Identifier: MIT
# make module ARCH=arm64 | KVER=newest | KVER=stable |
# KVER=<Debian kernel version>: the guest modules for that kernel, built
# the way the end-to-end tests build them (tests/e2e/vm.sh: the arm64
# headers cross-built against, the sid or trixie chroot, downloads cached
# in build/vm), warning-free, into build/modules-ARCH-KVER/ (inside the
# suite's chroot for KVER=newest and KVER=stable).
# Environment: PVDMA_ARCH, PVDMA_KVER (what make passes).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/e2e/vm.sh
vm_setup || exit 1
vm_build_modules "build/modules-$VM_ARCH-$KVER" || exit 1
echo "pvdma modules for $KVER ($VM_ARCH):"
find "$MODDIR" -name '*.ko' | sort
