#!/bin/sh
# SPDX-License-Identifier: MIT
#
# run-e2e.sh on Debian 13's arm64 kernel (trixie, 6.12): the modules
# cross-built in the trixie chroot (gcc-aarch64-linux-gnu, the arm64
# headers beside the chroot's amd64 kbuild), booted under
# qemu-system-aarch64 -M virt, pvdmad --machine virt. run-e2e.sh runs in
# its place: the same checks, "N passed, N failed" and closing line.
# Cached in build/vm with the amd64 stable run's chroot.
cd "$(dirname "$0")/../.." || exit 1
PVDMA_TEST_NAME=$0 PVDMA_ARCH=arm64 PVDMA_KVER=stable exec tests/e2e/run-e2e.sh
