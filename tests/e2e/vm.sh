# SPDX-License-Identifier: MIT
#
# VM helpers for pvdma's end-to-end tests; source this file (POSIX sh).
#
#   vm_setup		install packages, fetch the Debian kernel, set KVER
#   vm_initramfs OUT SCRIPT [FILE...]
#			busybox initramfs whose /init runs SCRIPT (copied to
#			/test.sh) with FILEs in /pvdma/, then powers off
#   vm_boot INITRD RAMFILE COMPANION_SOCK DMA_SOCK LOG [TIMEOUT_S]
#			boot it under TCG, serial console to LOG
#
# Everything is cached under $VM_DIR (build/vm): the kernel package and its
# extracted tree. Set PVDMA_KVER to pick a kernel (default: the newest
# installed 6.1.0-N-amd64 headers, else the newest one apt offers).

VM_DIR=${VM_DIR:-build/vm}
VM_MEM=${VM_MEM:-512M}
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

# The kernel version to use: PVDMA_KVER, installed headers, or apt's newest.
vm_pick_kver() {
	if [ -n "${PVDMA_KVER:-}" ]; then
		echo "$PVDMA_KVER"
		return 0
	fi
	k=$(ls -d /usr/src/linux-headers-6.1.0-*-amd64 2>/dev/null |
		sed 's,.*/linux-headers-,,' | sort -V | tail -n 1)
	if [ -z "$k" ]; then
		k=$(apt-cache search '^linux-headers-6\.1\.0-[0-9]+-amd64$' |
			sed -n 's/^linux-headers-\(6\.1\.0-[0-9]*-amd64\) .*/\1/p' |
			sort -V | tail -n 1)
	fi
	[ -n "$k" ] || return 1
	echo "$k"
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
	rm -rf "$VM_DIR/kernel-$KVER.tmp"
	dpkg -x "$deb" "$VM_DIR/kernel-$KVER.tmp" || return 1
	mv "$VM_DIR/kernel-$KVER.tmp" "$VM_DIR/kernel-$KVER"
	[ -f "$VMLINUZ" ]
}

# Packages, headers and kernel; sets KVER, KDIR (headers) and VMLINUZ.
vm_setup() {
	vm_apt_install qemu-system-x86 busybox-static cpio || return 1
	KVER=$(vm_pick_kver) || { vm_log "no 6.1.0 kernel headers found"; return 1; }
	vm_apt_install "linux-headers-$KVER" || return 1
	KDIR=/lib/modules/$KVER/build
	[ -d "$KDIR" ] || KDIR=/usr/src/linux-headers-$KVER
	vm_fetch_kernel || { vm_log "cannot fetch linux-image-$KVER"; return 1; }
	export KVER KDIR VMLINUZ
	vm_log "kernel $KVER"
}

# vm_initramfs OUT SCRIPT [FILE...]
vm_initramfs() {
	out=$1
	script=$2
	shift 2
	root=$(mktemp -d "${TMPDIR:-/tmp}/pvdma-initrd.XXXXXX")
	mkdir -p "$root/bin" "$root/proc" "$root/sys" "$root/dev" \
		"$root/tmp" "$root/pvdma"
	cp /bin/busybox "$root/bin/busybox"
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

# vm_boot INITRD RAMFILE COMPANION_SOCK DMA_SOCK LOG [TIMEOUT_S]
# Runs QEMU in the foreground; returns its status (124 on timeout).
vm_boot() {
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
		"$@" >"$wd/pvdmad.log" 2>&1 &
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

# A scratch directory for sockets and the RAM file (tmpfs when possible).
vm_workdir() {
	base=/dev/shm
	[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
	mktemp -d "$base/pvdma-e2e.XXXXXX"
}
