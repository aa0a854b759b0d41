#!/bin/sh
# SPDX-License-Identifier: MIT
#
# run-e2e.sh on an arm64 guest: Debian's arm64 kernel under
# qemu-system-aarch64 -M virt -cpu max (TCG), 4 KiB guest pages against
# the DART's 16 KiB, the modules cross-built with gcc-aarch64-linux-gnu,
# pvdmad --machine virt. run-e2e.sh runs in its place: the same checks,
# "N passed, N failed" and closing line as on x86. Everything it
# downloads is cached in build/vm.
cd "$(dirname "$0")/../.." || exit 1
PVDMA_TEST_NAME=$0 PVDMA_ARCH=arm64 PVDMA_KVER= exec tests/e2e/run-e2e.sh
