#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the Debian packages pvdma's build, tests and demo need, if missing.
# systemd: systemd-analyze verify of the units (tests/install); it need not
# be PID 1. groff-base: the man pages' check.
set -eu
pkgs="build-essential libcmocka-dev liblzma-dev xz-utils clang libclang-rt-14-dev \
valgrind gnuplot-nox qemu-system-x86 busybox-static cpio python3 \
systemd groff-base qemu-system-arm gcc-aarch64-linux-gnu debootstrap"
# The arm64 e2e's kernel, headers and busybox come by multiarch download
# (tests/e2e/vm.sh), never installed: only arm64's package lists are added.
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
