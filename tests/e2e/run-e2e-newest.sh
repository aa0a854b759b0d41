#!/bin/sh
# SPDX-License-Identifier: MIT
#
# run-e2e.sh on the newest Debian kernel (sid's, amd64): the modules built
# in a debootstrap'd sid chroot with its own gcc and kbuild, that kernel
# booted in the same VM. The same checks and closing line as on 6.1, then
# "N passed, N failed". The chroot and the image are cached in build/vm
# (the chroot's package lists are refreshed at most daily).
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
PVDMA_ARCH=amd64 PVDMA_KVER=newest tests/e2e/run-e2e.sh
check_rc "run-e2e.sh, PVDMA_ARCH=amd64 PVDMA_KVER=newest" $?
finish
