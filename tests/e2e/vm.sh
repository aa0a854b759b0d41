# SPDX-License-Identifier: MIT
#
# VM helpers for pvdma's end-to-end tests; source this file (POSIX sh).
#
#   vm_setup		install packages, fetch the Debian kernel and its
#			headers; sets KVER, KDIR, VMLINUZ, VM_PVDMAD_OPTS
#   vm_build_modules OUT
#			build the guest modules from a copy of guest/ and lib/
#			in OUT against that kernel, warning-free; sets MODDIR
#   vm_module NAME	the path of module NAME.ko that vm_build_modules built
#   vm_kconfig		the path of that kernel's .config
#   vm_initramfs OUT SCRIPT [FILE...]
#			busybox initramfs whose /init runs SCRIPT (copied to
#			/test.sh) with FILEs in /pvdma/, then powers off
#   vm_boot INITRD RAMFILE COMPANION_SOCK DMA_SOCK LOG [TIMEOUT_S]
#			boot it under TCG, serial console to LOG
#
# Which guest (the environment picks it):
#   PVDMA_ARCH	amd64 (default): qemu-system-x86_64 -machine q35
#		arm64: qemu-system-aarch64 -M virt -cpu max, Debian's arm64
#		kernel, modules cross-built with gcc-aarch64-linux-gnu
#   PVDMA_KVER	a Debian kernel version (6.1.0-57-amd64); default: the
#		newest 6.1.0-N of the architecture. "newest": the kernel of
#		Debian sid; "stable": the kernel of Debian 13 (trixie, 6.12);
#		both with the modules built in a debootstrap'd chroot of that
#		suite by its own gcc and kbuild (cross-built for arm64).
#   PVDMA_DEBIAN_MIRROR	where debootstrap and the chroots' apt fetch from
# Each (architecture, kernel source) pair is a "kernel provider": three
# functions vm_kp_<provider>_setup/_make/_busybox; vm_setup picks one.
#
# Everything is cached under $VM_DIR (build/vm): kernel packages, their
# extracted trees, the arm64 multiarch downloads and the suites' chroots.

VM_DIR=${VM_DIR:-build/vm}
VM_MEM=${VM_MEM:-512M}
case ${PVDMA_ARCH:-amd64} in
x86_64|x86|amd64)	VM_ARCH=amd64 ;;
aarch64|arm64)		VM_ARCH=arm64 ;;
*)			VM_ARCH=$PVDMA_ARCH ;;	# refused by vm_setup
esac
# Extra kernel command line: VM_APPEND (e.g. memmap= holes).
# Extra -machine properties, e.g. ",max-ram-below-4g=256M" (then start
# pvdmad with the same --ram-below-4g).
VM_MACHINE_OPTS=${VM_MACHINE_OPTS:-}

vm_log() {
	echo "[vm] $*" >&2
}

vm_sudo() {
	if [ "$(id -u)" -eq 0 ]; then
		"$@"
	else
		sudo "$@"
	fi
}

# Install Debian packages that are missing (idempotent).
vm_apt_install() {
	missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "ok installed" || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	vm_log "installing:$missing"
	if [ ! -e "$VM_DIR/.apt-updated" ]; then
		vm_sudo apt-get update -qq || return 1
		mkdir -p "$VM_DIR" && touch "$VM_DIR/.apt-updated"
	fi
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive vm_sudo apt-get install -y -qq \
		--no-install-recommends $missing >/dev/null
}

# The newest Debian 6.1.0-N-<flavour> kernel: installed headers, else apt's.
vm_newest_61() {
	k=$(ls -d /usr/src/linux-headers-6.1.0-*-"$1" 2>/dev/null |
		sed 's,.*/linux-headers-,,' | sort -V | tail -n 1)
	if [ -z "$k" ]; then
		k=$(apt-cache search "^linux-headers-6\.1\.0-[0-9]+-$1\$" |
			sed -n "s/^linux-headers-\(6\.1\.0-[0-9]*-$1\) .*/\1/p" |
			sort -V | tail -n 1)
	fi
	[ -n "$k" ] || return 1
	echo "$k"
}

# The kernel version to use: PVDMA_KVER, else the newest 6.1 (amd64).
vm_pick_kver() {
	if [ -n "${PVDMA_KVER:-}" ]; then
		echo "$PVDMA_KVER"
		return 0
	fi
	vm_newest_61 amd64
}

# vm_unpack_image DEB: the kernel image of a package into $VM_DIR, at
# $VMLINUZ (boot/vmlinuz-KVER; newer packages keep it in
# usr/lib/modules/KVER/vmlinuz*, moved there).
vm_unpack_image() {
	tmp=$VM_DIR/kernel-$KVER.tmp
	rm -rf "$tmp"
	dpkg-deb -x "$1" "$tmp" || return 1
	if [ ! -f "$tmp/boot/vmlinuz-$KVER" ]; then
		img=$(ls "$tmp/usr/lib/modules/$KVER"/vmlinuz* 2>/dev/null | head -n 1)
		[ -n "$img" ] || { rm -rf "$tmp"; return 1; }
		mkdir -p "$tmp/boot" && mv "$img" "$tmp/boot/vmlinuz-$KVER"
	fi
	rm -rf "$VM_DIR/kernel-$KVER"
	mv "$tmp" "$VM_DIR/kernel-$KVER"
	[ -f "$VMLINUZ" ]
}

# Download the kernel image package and unpack vmlinuz into $VM_DIR.
vm_fetch_kernel() {
	VMLINUZ="$VM_DIR/kernel-$KVER/boot/vmlinuz-$KVER"
	[ -f "$VMLINUZ" ] && return 0
	mkdir -p "$VM_DIR"
	deb=$(ls "$VM_DIR"/linux-image-"$KVER"*_amd64.deb 2>/dev/null | head -n 1)
	if [ -z "$deb" ]; then
		vm_log "downloading linux-image-$KVER"
		(cd "$VM_DIR" &&
			{ apt-get download "linux-image-$KVER-unsigned" 2>/dev/null ||
			  apt-get download "linux-image-$KVER"; }) >/dev/null ||
			return 1
		deb=$(ls "$VM_DIR"/linux-image-"$KVER"*_amd64.deb | head -n 1)
	fi
	vm_unpack_image "$deb"
}

# ---- kernel provider "host": Debian 12's amd64 kernel, headers on the host

vm_kp_host_setup() {
	vm_apt_install qemu-system-x86 || return 1
	KVER=$(vm_pick_kver) || { vm_log "no 6.1.0 kernel headers found"; return 1; }
	vm_apt_install "linux-headers-$KVER" || return 1
	KDIR=/lib/modules/$KVER/build
	[ -d "$KDIR" ] || KDIR=/usr/src/linux-headers-$KVER
	vm_fetch_kernel || { vm_log "cannot fetch linux-image-$KVER"; return 1; }
}

vm_kp_host_make() {	# guest source dir
	make -C "$KDIR" M="$1" modules
}

vm_kp_host_busybox() {
	echo /bin/busybox
}

# ---- kernel provider "arm64": Debian 12's arm64 kernel, cross-built
#
# The arm64 headers, image and busybox come by multiarch download and are
# unpacked, never installed. The headers' scripts/ and tools/ link into
# /usr/lib/linux-kbuild-6.1, whose programs run on the build machine: the
# amd64 linux-kbuild-6.1 of the same version is unpacked beside them. The
# arm64 headers' Makefile includes the -common tree by an absolute path,
# pointed here at the unpacked one.

VM_ARM64_DIR=$VM_DIR/arm64

vm_arm64_download() {	# packages...
	(cd "$VM_ARM64_DIR" && apt-get download "$@") >/dev/null 2>&1 || {
		# a fresh machine: arm64 package lists first
		vm_sudo dpkg --add-architecture arm64 &&
			vm_sudo apt-get update -qq &&
			(cd "$VM_ARM64_DIR" && apt-get download "$@") >/dev/null
	}
}

vm_kp_arm64_setup() {
	vm_apt_install qemu-system-arm gcc-aarch64-linux-gnu || return 1
	mkdir -p "$VM_ARM64_DIR"
	if [ -n "${PVDMA_KVER:-}" ]; then
		KVER=$PVDMA_KVER
	else
		KVER=$(cat "$VM_ARM64_DIR/kver" 2>/dev/null) ||
			KVER=$(vm_newest_61 arm64) || KVER=
		if [ -z "$KVER" ]; then
			vm_sudo dpkg --add-architecture arm64 &&
				vm_sudo apt-get update -qq || return 1
			KVER=$(vm_newest_61 arm64) ||
				{ vm_log "no arm64 6.1.0 kernel in apt"; return 1; }
		fi
	fi
	root=$VM_ARM64_DIR/root-$KVER
	KDIR=$(cd "$VM_ARM64_DIR" && pwd)/root-$KVER/usr/src/linux-headers-$KVER
	VMLINUZ=$root/boot/vmlinuz-$KVER
	if [ ! -f "$root/.done" ]; then
		common=${KVER%-arm64}
		kbuild=linux-kbuild-$(echo "$KVER" | cut -d. -f1-2)
		vm_log "downloading the arm64 kernel $KVER, its headers and busybox"
		rm -f "$VM_ARM64_DIR"/*.deb
		vm_arm64_download "linux-image-$KVER-unsigned:arm64" \
			"linux-headers-$KVER:arm64" "linux-headers-$common-common" \
			busybox-static:arm64 || return 1
		# the kbuild tools of exactly the headers' version
		ver=$(dpkg-deb -f "$VM_ARM64_DIR"/linux-headers-"$KVER"_*.deb Version)
		vm_arm64_download "$kbuild:amd64=$ver" || return 1
		rm -rf "$root"
		for deb in "$VM_ARM64_DIR"/*.deb; do
			dpkg-deb -x "$deb" "$root" || return 1
		done
		sed -i "s,^include /usr/src/,include $(cd "$root" && pwd)/usr/src/," \
			"$KDIR/Makefile" || return 1
		rm -f "$VM_ARM64_DIR"/*.deb
		echo "$KVER" >"$VM_ARM64_DIR/kver"
		touch "$root/.done"
	fi
	VM_PVDMAD_OPTS="--machine virt"
}

vm_kp_arm64_make() {	# guest source dir
	make -C "$KDIR" M="$1" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- modules
}

vm_kp_arm64_busybox() {
	echo "$VM_ARM64_DIR/root-$KVER/bin/busybox"
}

# ---- kernel providers "chroot" and "chrootarm64": the kernel of a Debian
# suite, built in a chroot of that suite
#
# VM_SUITE names the suite (vm_setup: sid for "newest", trixie for
# "stable"). A minimal chroot of it (debootstrap, build/vm/SUITE-root) with
# the kernel's headers package and so its own gcc and kbuild; the image is
# downloaded inside it. A suite's Release file may be past its Valid-Until
# on a mirror snapshot: not checked (the packages are still verified
# against their signed hashes).

VM_MIRROR=${PVDMA_DEBIAN_MIRROR:-http://deb.debian.org/debian}
VM_CHROOT_APT="-o Acquire::Check-Valid-Until=false -q"

# vm_chroot_use SUITE: the chroot the functions below work in.
vm_chroot_use() {
	VM_SUITE=$1
	VM_CHROOT_ROOT=$VM_DIR/$1-root
	VM_CHROOT_LOG=$VM_DIR/$1-apt.log
}

# vm_chroot COMMAND...: run it inside the chroot with /proc mounted (objtool
# reads it), in a mount namespace of its own: the mount goes away with the
# command however it ends, and never shows outside (rm -rf build is safe).
vm_chroot() {
	vm_sudo unshare --mount --propagation private sh -c \
		'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' \
		"$VM_CHROOT_ROOT" "$@"
}

# The chroot and the newest amd64 headers in it (their version, less the
# flavour, names the suite's kernel of every architecture); sets
# VM_CHROOT_KVER.
vm_chroot_prepare() {
	mkdir -p "$VM_DIR" || return 1
	vm_apt_install debootstrap || return 1
	if [ ! -f "$VM_CHROOT_ROOT/.done" ]; then
		vm_log "debootstrap $VM_SUITE into $VM_CHROOT_ROOT (once, about a minute)"
		rm -rf "$VM_CHROOT_ROOT.tmp"
		vm_sudo debootstrap --variant=minbase "$VM_SUITE" \
			"$VM_CHROOT_ROOT.tmp" "$VM_MIRROR" \
			>"$VM_DIR/debootstrap-$VM_SUITE.log" 2>&1 ||
			{ tail -n 20 "$VM_DIR/debootstrap-$VM_SUITE.log" >&2; return 1; }
		rm -rf "$VM_CHROOT_ROOT"
		mv "$VM_CHROOT_ROOT.tmp" "$VM_CHROOT_ROOT"
		touch "$VM_CHROOT_ROOT/.done"
	fi
	if [ ! -f "$VM_CHROOT_ROOT/.kver" ] ||
	   [ -n "$(find "$VM_CHROOT_ROOT/.kver" -mtime +0)" ]; then
		# at most daily: the suite's newest kernel, headers and image
		# shellcheck disable=SC2086
		vm_chroot sh -c "apt-get $VM_CHROOT_APT update &&
			DEBIAN_FRONTEND=noninteractive apt-get $VM_CHROOT_APT install -y \
			--no-install-recommends linux-headers-amd64 make" \
			>"$VM_CHROOT_LOG" 2>&1 ||
			{ tail -n 20 "$VM_CHROOT_LOG" >&2; return 1; }
		ls -d "$VM_CHROOT_ROOT"/usr/src/linux-headers-*-amd64 |
			sed 's,.*/linux-headers-,,' | sort -V | tail -n 1 \
			>"$VM_CHROOT_ROOT/.kver"
	fi
	VM_CHROOT_KVER=$(cat "$VM_CHROOT_ROOT/.kver")
	[ -n "$VM_CHROOT_KVER" ] ||
		{ vm_log "no kernel headers in the $VM_SUITE chroot"; return 1; }
}

# vm_chroot_fetch DIR PACKAGE...: download into the chroot's /tmp/DIR.
vm_chroot_fetch() {
	d=$1
	shift
	# shellcheck disable=SC2086
	vm_chroot sh -c "mkdir -p /tmp/$d && cd /tmp/$d && rm -f *.deb &&
		apt-get $VM_CHROOT_APT download $*" >"$VM_CHROOT_LOG" 2>&1
}

# vm_chroot_fetch_image [:ARCH]: the image of $KVER at $VMLINUZ. Newer
# Debian kernels ship it in linux-binary-unsigned-*, linux-image-* being a
# metapackage; older ones in linux-image-*.
vm_chroot_fetch_image() {
	for pkg in "linux-binary-unsigned-$KVER" "linux-image-$KVER-unsigned" \
		   "linux-image-$KVER"; do
		vm_log "downloading $pkg${1:-} ($VM_SUITE)"
		vm_chroot_fetch img "$pkg${1:-}" || continue
		vm_unpack_image "$(ls "$VM_CHROOT_ROOT"/tmp/img/*.deb | head -n 1)" &&
			break
		rm -rf "$VM_DIR/kernel-$KVER"
	done
	rm -rf "$VM_CHROOT_ROOT/tmp/img"
	[ -f "$VMLINUZ" ] ||
		{ tail -n 20 "$VM_CHROOT_LOG" >&2; return 1; }
}

vm_kp_chroot_setup() {
	vm_apt_install qemu-system-x86 || return 1
	vm_chroot_prepare || return 1
	KVER=$VM_CHROOT_KVER
	KDIR=/usr/src/linux-headers-$KVER
	VMLINUZ="$VM_DIR/kernel-$KVER/boot/vmlinuz-$KVER"
	[ -f "$VMLINUZ" ] || vm_chroot_fetch_image
}

vm_kp_chroot_make() {	# guest source dir, under $VM_CHROOT_ROOT
	vm_chroot make -C "$KDIR" M="${1#"$(cd "$VM_CHROOT_ROOT" && pwd)"}" modules
}

vm_kp_chroot_busybox() {
	echo /bin/busybox
}

# chrootarm64: the suite's arm64 kernel, cross-built in the chroot (arm64
# added to its dpkg, gcc-aarch64-linux-gnu installed; the arm64 headers
# unpacked into it, their scripts/ linking to the chroot's amd64 kbuild of
# the same version, as a cross build needs)

vm_kp_chrootarm64_setup() {
	vm_apt_install qemu-system-arm || return 1
	vm_chroot_prepare || return 1
	KVER=${VM_CHROOT_KVER%-amd64}-arm64
	KDIR=/usr/src/linux-headers-$KVER
	VMLINUZ="$VM_DIR/kernel-$KVER/boot/vmlinuz-$KVER"
	VM_PVDMAD_OPTS="--machine virt"
	if [ ! -f "$VM_CHROOT_ROOT$KDIR/.config" ]; then
		vm_log "arm64 cross compiler and linux-headers-$KVER ($VM_SUITE)"
		# shellcheck disable=SC2086
		vm_chroot sh -c "dpkg --add-architecture arm64 &&
			apt-get $VM_CHROOT_APT update &&
			DEBIAN_FRONTEND=noninteractive apt-get $VM_CHROOT_APT install \
			-y --no-install-recommends gcc-aarch64-linux-gnu" \
			>"$VM_CHROOT_LOG" 2>&1 &&
		vm_chroot_fetch hdr "linux-headers-$KVER:arm64" &&
		dpkg-deb -x "$(ls "$VM_CHROOT_ROOT"/tmp/hdr/*.deb | head -n 1)" \
			"$VM_CHROOT_ROOT" ||
			{ tail -n 20 "$VM_CHROOT_LOG" >&2; return 1; }
		rm -rf "$VM_CHROOT_ROOT/tmp/hdr"
	fi
	[ -f "$VMLINUZ" ] || vm_chroot_fetch_image :arm64 || return 1
	[ -x "$(vm_kp_chrootarm64_busybox)" ] && return 0
	vm_chroot_fetch bb busybox-static:arm64 &&
		dpkg-deb -x "$(ls "$VM_CHROOT_ROOT"/tmp/bb/*.deb | head -n 1)" \
			"$VM_DIR/kernel-$KVER" ||
		{ tail -n 20 "$VM_CHROOT_LOG" >&2; return 1; }
	rm -rf "$VM_CHROOT_ROOT/tmp/bb"
}

vm_kp_chrootarm64_make() {	# guest source dir, under $VM_CHROOT_ROOT
	vm_chroot make -C "$KDIR" M="${1#"$(cd "$VM_CHROOT_ROOT" && pwd)"}" \
		ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- modules
}

vm_kp_chrootarm64_busybox() {
	echo "$VM_DIR/kernel-$KVER/usr/bin/busybox"
}

# Packages, kernel and headers; sets KVER, KDIR, VMLINUZ, VM_KP and
# VM_PVDMAD_OPTS (the options pvdmad needs for this machine's layout).
vm_setup() {
	VM_PVDMAD_OPTS=
	case "$VM_ARCH/${PVDMA_KVER:-}" in
	amd64/newest)	VM_KP=chroot; vm_chroot_use sid ;;
	amd64/stable)	VM_KP=chroot; vm_chroot_use trixie ;;
	amd64/*)	VM_KP=host ;;
	arm64/newest)	VM_KP=chrootarm64; vm_chroot_use sid ;;
	arm64/stable)	VM_KP=chrootarm64; vm_chroot_use trixie ;;
	arm64/*)	VM_KP=arm64 ;;
	*)		vm_log "unknown PVDMA_ARCH $VM_ARCH (amd64 or arm64)"; return 1 ;;
	esac
	vm_apt_install busybox-static cpio || return 1
	"vm_kp_${VM_KP}_setup" || return 1
	# the size QEMU is given: pvdmad refuses a RAM file of any other
	VM_PVDMAD_OPTS="$VM_PVDMAD_OPTS --ram-size $VM_MEM"
	export KVER KDIR VMLINUZ VM_KP VM_PVDMAD_OPTS
	[ -z "${VM_SUITE:-}" ] || export VM_SUITE VM_CHROOT_ROOT VM_CHROOT_LOG
	vm_log "kernel $KVER ($VM_ARCH)"
}

# vm_build_modules OUT: copy guest/ and lib/ sources (of the checkout, or
# of the tree VM_MODULE_SRC names) into OUT (inside the suite's chroot for
# the chroot providers) and build there, so parallel builds of the
# checkout's guest/ are never disturbed. Log: OUT/build.log. Fails on a
# build error or any compiler or modpost warning. Sets MODDIR.
vm_build_modules() {
	out=$1
	case $VM_KP in
	chroot*)	out=$VM_CHROOT_ROOT/pvdma-mod-$(basename "$1") ;;
	esac
	rm -rf "$out"
	mkdir -p "$out" || return 1
	(cd "${VM_MODULE_SRC:-.}" &&
	 find guest lib \( -name '*.[ch]' -o -name Kbuild -o -name Makefile \) \
		! -name '*.mod.c' | tar -cf - -T -) | tar -xf - -C "$out" || return 1
	MODDIR=$(cd "$out" && pwd)/guest
	"vm_kp_${VM_KP}_make" "$MODDIR" >"$out/build.log" 2>&1 ||
		{ cat "$out/build.log" >&2; return 1; }
	if grep -q -E "\.[ch]:[0-9]+:[0-9]+: warning:|WARNING: modpost" \
		"$out/build.log"; then
		cat "$out/build.log" >&2
		vm_log "the module build has warnings"
		return 1
	fi
	export MODDIR
}

# vm_kconfig: the configuration of the kernel the modules are built
# against, as a path on this machine.
vm_kconfig() {
	case $VM_KP in
	chroot*)	echo "$VM_CHROOT_ROOT$KDIR/.config" ;;
	*)		echo "$KDIR/.config" ;;
	esac
}

# vm_module NAME: where NAME.ko was built (guest/ or a subdirectory).
vm_module() {
	find "$MODDIR" -name "$1.ko" | head -n 1
}

# vm_initramfs OUT SCRIPT [FILE...]
vm_initramfs() {
	out=$1
	script=$2
	shift 2
	root=$(mktemp -d "${TMPDIR:-/tmp}/pvdma-initrd.XXXXXX")
	mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" \
		"$root/tmp" "$root/pvdma"
	cp "$(vm_kp_${VM_KP:-host}_busybox)" "$root/bin/busybox"
	# arm64's Debian config does not mount devtmpfs before /init runs
	[ "$(id -u)" -eq 0 ] && mknod -m 600 "$root/dev/console" c 5 1
	cp "$script" "$root/test.sh"
	for f in "$@"; do
		cp "$f" "$root/pvdma/"
	done
	cat >"$root/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t debugfs debugfs /sys/kernel/debug
echo "pvdma-vm: booted $(uname -r)"
sh /test.sh
echo "pvdma-vm: test.sh exit $?"
sync
poweroff -f
EOF
	chmod +x "$root/init" "$root/test.sh"
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out"
	rc=$?
	rm -rf "$root"
	return $rc
}

# vm_boot INITRD RAMFILE COMPANION_SOCK DMA_SOCK LOG [TIMEOUT_S]
# Runs QEMU in the foreground; returns its status (124 on timeout).
# QEMU creates the RAM file itself, after it has connected to pvdmad (as
# in a real deployment): pvdmad judges the file at the guest's HELLO.
# A guest kernel that dies before its /init ran (no module loaded, no
# test step taken) is booted once more, saying so: such a crash is the
# kernel's own under TCG (sid's 7.2 once hit a stale int3 of its text
# patching at boot), never pvdma's; a second one fails the test as any
# other failure would. The first console is kept in LOG.first.
vm_boot() {
	"vm_boot_$VM_ARCH" "$@"
	_brc=$?
	vm_died_in_boot "$5" || return $_brc
	vm_log "the guest kernel died before /init ran (not pvdma's;" \
		"console: $5.first): booting it once more"
	grep -m 3 -E 'Oops|BUG|panic' "$5" | sed 's/^/[vm]   /' >&2
	mv "$5" "$5.first"
	: >"$5"
	rm -f "$2"
	"vm_boot_$VM_ARCH" "$@"
}

# vm_died_in_boot LOG: the console shows an oops or a panic and not the
# line the initramfs's /init prints first.
vm_died_in_boot() {
	grep -q -E 'Oops|Kernel panic' "$1" 2>/dev/null &&
		! grep -q 'pvdma-vm: booted' "$1"
}

# vm_watch LOG PREFIX HANDLER: calls HANDLER with each checkpoint the
# guest prints on its console LOG ("PREFIX: checkpoint NAME"), once each,
# as it appears; runs until killed.
vm_watch() {
	_seen=""
	while :; do
		for _cp in $(tr -d '\r' <"$1" 2>/dev/null |
			     sed -n "s/^$2: checkpoint //p"); do
			case " $_seen " in *" $_cp "*) continue ;; esac
			_seen="$_seen $_cp"
			"$3" "$_cp"
		done
		sleep 0.05
	done
}

# vm_boot_watched WORKDIR TIMEOUT_S PREFIX HANDLER
# vm_boot of WORKDIR's guest (WORKDIR/initrd.gz, vm_pvdmad_start's
# sockets and RAM file) with vm_watch PREFIX HANDLER beside it: the host's
# half of a guest script's checkpoints. Leaves the console, \r dropped, in
# WORKDIR/console.txt; returns QEMU's status.
vm_boot_watched() {
	: >"$1/console.log"
	vm_watch "$1/console.log" "$3" "$4" &
	_watch=$!
	vm_boot "$1/initrd.gz" "$1/ram" "$1/companion.sock" "$1/dma.sock" \
		"$1/console.log" "$2"
	_qrc=$?
	kill "$_watch" 2>/dev/null
	wait "$_watch" 2>/dev/null
	tr -d '\r' <"$1/console.log" >"$1/console.txt"
	return $_qrc
}

# More DMA device models on the same socket (VM_DMA_DEVICES, default 1):
# pvdmad serves each as its own device, all translating through the one
# companion's domain (a GPU and its audio function behind one DART).
vm_dma_extra() {
	n=1
	while [ "$n" -lt "${VM_DMA_DEVICES:-1}" ]; do
		echo "-chardev socket,path=$1,id=d$n -device ivshmem-doorbell,chardev=d$n,vectors=1"
		n=$((n + 1))
	done
}

vm_boot_amd64() {
	timeout "${6:-300}" qemu-system-x86_64 \
		-accel tcg -nographic -no-reboot -nodefaults -serial stdio \
		-machine q35,memory-backend=ram$VM_MACHINE_OPTS -cpu max -smp 2 -m "$VM_MEM" \
		-object memory-backend-file,id=ram,size="$VM_MEM",mem-path="$2",share=on \
		-kernel "$VMLINUZ" -initrd "$1" \
		-append "console=ttyS0 panic=-1 loglevel=4 oops=panic${VM_APPEND:+ $VM_APPEND}" \
		-chardev socket,path="$3",id=c0 \
		-device ivshmem-doorbell,chardev=c0,vectors=1 \
		-chardev socket,path="$4",id=c1 \
		-device ivshmem-doorbell,chardev=c1,vectors=1 \
		$(vm_dma_extra "$4") \
		</dev/null >"$5" 2>&1
}

# virt: RAM from 1 GiB, ivshmem on the generic PCIe host bridge, MSI-X
# through GICv2m. pauth-impdef: TCG's architected pointer authentication
# is slow; 4 KiB guest pages (Debian's arm64 kernel).
vm_boot_arm64() {
	timeout "${6:-300}" qemu-system-aarch64 \
		-accel tcg -nographic -no-reboot -nodefaults -serial stdio \
		-machine virt,memory-backend=ram$VM_MACHINE_OPTS \
		-cpu max,pauth-impdef=on -smp 2 -m "$VM_MEM" \
		-object memory-backend-file,id=ram,size="$VM_MEM",mem-path="$2",share=on \
		-kernel "$VMLINUZ" -initrd "$1" \
		-append "console=ttyAMA0 panic=-1 loglevel=4 oops=panic cryptomgr.notests${VM_APPEND:+ $VM_APPEND}" \
		-chardev socket,path="$3",id=c0 \
		-device ivshmem-doorbell,chardev=c0,vectors=1 \
		-chardev socket,path="$4",id=c1 \
		-device ivshmem-doorbell,chardev=c1,vectors=1 \
		$(vm_dma_extra "$4") \
		</dev/null >"$5" 2>&1
}

# vm_pvdmad_start PVDMAD WORKDIR [pvdmad options...]
# Starts pvdmad with its sockets and the guest RAM file in WORKDIR; sets
# PVDMAD_PID and waits for both sockets. Log: WORKDIR/pvdmad.log.
vm_pvdmad_start() {
	bin=$1
	wd=$2
	shift 2
	rm -f "$wd/companion.sock" "$wd/dma.sock" "$wd/control.sock" "$wd/ram"
	"$bin" --socket "$wd/companion.sock" --dma-socket "$wd/dma.sock" \
		--guest-ram "$wd/ram" --control "$wd/control.sock" \
		${VM_PVDMAD_OPTS:-} "$@" >"$wd/pvdmad.log" 2>&1 &
	PVDMAD_PID=$!
	i=0
	while [ ! -S "$wd/companion.sock" ] || [ ! -S "$wd/dma.sock" ]; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! kill -0 "$PVDMAD_PID" 2>/dev/null; then
			vm_log "pvdmad did not start:"
			cat "$wd/pvdmad.log" >&2
			return 1
		fi
		sleep 0.1
	done
}

# vm_pvdmad_stop: SIGTERM, wait; returns pvdmad's exit status.
vm_pvdmad_stop() {
	[ -n "${PVDMAD_PID:-}" ] || return 0
	kill -TERM "$PVDMAD_PID" 2>/dev/null
	wait "$PVDMAD_PID"
	rc=$?
	PVDMAD_PID=
	return $rc
}

# vm_no_kernel_warnings LABEL LOG: ok, or fail showing where, if the guest
# console LOG holds a WARN, BUG, oops, lockup or RCU stall report
# (tests/lib.sh's ok and fail).
vm_no_kernel_warnings() {
	vm_kw_pat='Call Trace|BUG:|WARNING:|Oops|hard LOCKUP|detected stalls'
	if grep -q -E "$vm_kw_pat" "$2"; then
		grep -B 2 -A 12 -E "$vm_kw_pat" "$2" | head -n 40
		fail "$1: the guest kernel warned"
	else
		ok "$1: no WARN, BUG, oops, lockup or RCU stall in the guest log"
	fi
}

# A scratch directory for sockets and the RAM file (tmpfs when possible).
vm_workdir() {
	base=/dev/shm
	[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
	mktemp -d "$base/pvdma-e2e.XXXXXX"
}
