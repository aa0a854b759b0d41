#!/bin/sh
# SPDX-License-Identifier: MIT
# make install and make dkms (install.mk): the layout under DESTDIR, every
# program's --version from lib/include/pvdma/version.h, the man pages as
# groff reads them, `systemd-analyze verify` on the units, the dkms tree
# (pvdma.ko's sources only; it builds pvdma.ko and nothing else, with
# MODULE_VERSION), and pvdmad started through pvdmad@.service where
# systemd is PID 1 (said plainly when it is not).
# Prints "N passed, N failed". Usage: BUILD=build/san tests/install/run-install.sh
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
. tests/lib.sh
dir=$(mktemp -d /tmp/pvdma-install.XXXXXX)
trap 'rm -rf "$dir"' EXIT

version=$(sed -n 's/^#define PVDMA_VERSION[[:space:]]*"\(.*\)"/\1/p' lib/include/pvdma/version.h)
root=$dir/root
# The build's own flags, so that make sees its objects up to date.
san=0
nm "$BUILD/pvdmad" 2>/dev/null | grep -q __asan && san=1
check "make install DESTDIR PREFIX=/usr" \
	make -s install DESTDIR="$root" PREFIX=/usr BUILD="$BUILD" SAN=$san

cat >"$dir/expected" <<EOF
usr/bin/pvdma-replay
usr/bin/pvdma-trace
usr/lib/systemd/system/pvdmad@.service
usr/lib/systemd/system/pvdmad@.socket
usr/sbin/pvdmactl
usr/sbin/pvdmad
usr/share/doc/pvdma/LICENSE
usr/share/doc/pvdma/LICENSES/GPL-2.0
usr/share/doc/pvdma/LICENSES/MIT
usr/share/doc/pvdma/README.md
usr/share/doc/pvdma/examples/pvdma-modprobe.conf
usr/share/doc/pvdma/examples/pvdmad.conf.example
usr/share/man/man1/pvdma-replay.1
usr/share/man/man1/pvdma-trace.1
usr/share/man/man4/pvdma.4
usr/share/man/man8/pvdmactl.8
usr/share/man/man8/pvdmad.8
usr/src/pvdma-$version/dkms.conf
usr/src/pvdma-$version/guest/Kbuild
EOF
(cd "$root" && find . -type f | sed 's,^\./,,' | sort) >"$dir/got"
check "the layout: programs, man pages, units, examples, licences, dkms tree" \
	sh -c "grep -v '^usr/src/pvdma-$version/\(guest\|lib\)/.*\.[ch]\$' '$dir/got' |
		grep -v '^usr/src/pvdma-$version/\(LICENSE\|GPL-2.0\|MIT\)\$' |
		diff -u '$dir/expected' -"
check "programs are executable, the rest is not" sh -c "
	for f in usr/sbin/pvdmad usr/sbin/pvdmactl usr/bin/pvdma-replay usr/bin/pvdma-trace; do
		[ -x '$root'/\$f ] || exit 1; done
	! find '$root/usr/share' '$root/usr/lib' -type f -perm /111 | grep -q ."

for p in sbin/pvdmad sbin/pvdmactl bin/pvdma-replay bin/pvdma-trace; do
	name=${p#*/}
	check "$name --version says $version" \
		sh -c "'$root/usr/$p' --version | head -n 1 | grep -qE '^$name $version( |\$)'"
done

for m in "$root"/usr/share/man/man*/*; do
	check "man page $(basename "$m"): groff reads it without a warning, version filled in" \
		sh -c "LC_ALL=C.UTF-8 groff -man -Tutf8 -ww -z '$m' 2>&1 | { ! grep -q .; } &&
			grep -q 'pvdma $version' '$m' && ! grep -q '@[A-Z_]*@' '$m'"
done

# The units as installed, their paths filled in; verified against the
# binary under DESTDIR (systemd-analyze checks that ExecStart exists) and
# the man pages under DESTDIR (Documentation=). verify exits 0 on many
# problems, so any output is a failure too.
units=$root/usr/lib/systemd/system
check "units: every @VAR@ filled in, ExecStart is the installed pvdmad" \
	sh -c "! grep -q '@[A-Z_]*@' '$units'/* && grep -q '^ExecStart=/usr/sbin/pvdmad ' '$units/pvdmad@.service'"
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$dir/units"
	for u in "$units"/pvdmad@.service "$units"/pvdmad@.socket; do
		b=$(basename "$u")
		sed "s,/usr/sbin/pvdmad,$root/usr/sbin/pvdmad," "$u" >"$dir/units/${b%@.*}@vm0.${b##*.}"
	done
	check "systemd-analyze verify pvdmad@vm0.service and .socket: no complaint" \
		sh -c "cd '$dir/units' && MANPATH='$root/usr/share/man' systemd-analyze verify \
			./pvdmad@vm0.service ./pvdmad@vm0.socket >'$dir/verify' 2>&1;
			rc=\$?; cat '$dir/verify'; [ \$rc -eq 0 ] && [ ! -s '$dir/verify' ]"
	# and that it does complain: a unit with a typo must not pass
	sed 's/^ProtectSystem=/ProtectSytem=/' "$dir/units/pvdmad@vm0.service" >"$dir/units/typo@vm0.service"
	check "systemd-analyze verify catches a typo (the check can fail)" \
		sh -c "cd '$dir/units' && MANPATH='$root/usr/share/man' systemd-analyze verify ./typo@vm0.service 2>&1 | grep -q ProtectSytem"
else
	fail "systemd-analyze is installed (scripts/install-deps.sh: systemd)"
fi

# The dkms tree: pvdma.ko's sources only, a dkms.conf for it alone.
tree=$root/usr/src/pvdma-$version
check "dkms tree: no test module sources, dkms.conf names pvdma alone at $version" \
	sh -c "! ls '$tree/guest' | grep -q -e dmatest -e hostile -e dmabench -e selftests &&
		grep -q '^PACKAGE_VERSION=\"$version\"' '$tree/dkms.conf' &&
		[ \"\$(grep -c '^BUILT_MODULE_NAME' '$tree/dkms.conf')\" = 1 ] &&
		grep -q '^BUILT_MODULE_NAME\[0\]=\"pvdma\"' '$tree/dkms.conf'"
check "make dkms DESTDIR lays out the same tree" \
	sh -c "make -s dkms DESTDIR='$dir/dkmsroot' BUILD='$BUILD' SAN=$san >/dev/null &&
		diff -r '$tree' '$dir/dkmsroot/usr/src/pvdma-$version'"
kdir=$(ls -d /usr/src/linux-headers-*-amd64 2>/dev/null | sort -V | tail -n 1)
if [ -n "$kdir" ]; then
	cp -r "$tree" "$dir/dkmsbuild"
	check "the dkms tree builds pvdma.ko and no other module ($(basename "$kdir"))" \
		sh -c "make -C '$kdir' M='$dir/dkmsbuild/guest' modules >'$dir/kbuild.log' 2>&1 ||
			{ tail -n 20 '$dir/kbuild.log'; exit 1; }
			[ \"\$(find '$dir/dkmsbuild' -name '*.ko' | sed 's,.*/,,')\" = pvdma.ko ]"
	check "pvdma.ko's MODULE_VERSION is $version" \
		sh -c "tr '\\0' '\\n' <'$dir/dkmsbuild/guest/pvdma.ko' | grep -aqx 'version=$version'"
else
	skip "no linux-headers-*-amd64: the dkms tree was not built"
fi

# pvdmad through its unit, where systemd runs.
pid1=$(ps -p 1 -o comm= 2>/dev/null)
if [ "$pid1" = systemd ] && [ "$(id -u)" -eq 0 ]; then
	inst=pvdmatest$$
	run=/run/systemd/system
	mkdir -p "$run/pvdmad@$inst.service.d"
	sed "s,/usr/sbin/pvdmad,$root/usr/sbin/pvdmad," "$units/pvdmad@.service" >"$run/pvdmad@.service"
	truncate -s 64M "/dev/shm/$inst.ram"
	# The binary lies under DESTDIR in /tmp, which PrivateTmp= would hide.
	printf '[Service]\nPrivateTmp=no\nEnvironment="PVDMAD_OPTS=--guest-ram /dev/shm/%s.ram --ram-size 64M"\n' \
		"$inst" >"$run/pvdmad@$inst.service.d/test.conf"
	systemctl daemon-reload
	check "systemctl start pvdmad@$inst (Type=notify: READY=1 came)" systemctl start "pvdmad@$inst.service"
	check "its companion socket" test -S "/run/pvdma/$inst-companion.sock"
	main=$(systemctl show -P MainPID "pvdmad@$inst.service")
	kill -9 "$main"
	sleep 1
	check "after kill -9 systemd starts it again with its fd store" \
		sh -c "systemctl is-active -q 'pvdmad@$inst.service' &&
			[ \"\$(systemctl show -P MainPID 'pvdmad@$inst.service')\" != '$main' ] &&
			journalctl -q -u 'pvdmad@$inst.service' | grep -q 'listening socket .* taken over'"
	systemctl stop "pvdmad@$inst.service"
	rm -rf "$run/pvdmad@.service" "$run/pvdmad@$inst.service.d" "/dev/shm/$inst.ram"
	systemctl daemon-reload
else
	skip "systemd is not PID 1 here (PID 1 is ${pid1:-unknown}) or not root: pvdmad was NOT started through pvdmad@.service; only systemd-analyze verify checked the units"
fi

finish
