#!/bin/sh
# SPDX-License-Identifier: MIT
#
# run-e2e.sh on Debian sid's arm64 kernel: the modules cross-built in the
# sid chroot (gcc-aarch64-linux-gnu, the arm64 headers beside the chroot's
# amd64 kbuild), booted under qemu-system-aarch64 -M virt, pvdmad
# --machine virt. The same checks and closing line, then "N passed, N
# failed". Cached in build/vm with the amd64 newest run's chroot.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
PVDMA_ARCH=arm64 PVDMA_KVER=newest tests/e2e/run-e2e.sh
check_rc "run-e2e.sh, PVDMA_ARCH=arm64 PVDMA_KVER=newest" $?
finish
