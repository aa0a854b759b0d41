#!/bin/sh
# SPDX-License-Identifier: MIT
#
# run-e2e.sh on Debian 13's kernel (trixie, 6.12, amd64): the modules built
# in a debootstrap'd trixie chroot with its own gcc and kbuild, that kernel
# booted in the same VM. run-e2e.sh runs in its place: the same checks,
# "N passed, N failed" and closing line as on 6.1. The chroot and the
# image are cached in build/vm (the chroot's package lists are refreshed
# at most daily, so a trixie point release's kernel is picked up).
cd "$(dirname "$0")/../.." || exit 1
PVDMA_TEST_NAME=$0 PVDMA_ARCH=amd64 PVDMA_KVER=stable exec tests/e2e/run-e2e.sh
