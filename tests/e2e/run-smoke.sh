#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Smoke test: stock QEMU connects to pvdmad's two ivshmem-doorbell servers
# and a busybox guest sees both devices (1af4:1110) on its PCI bus, the
# companion's shared region starting with the pvdma magic and the DMA
# device's with its own; a guest kernel that dies before its /init is
# booted once more (vm_boot), and only once. Prints "N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/vm.sh

. tests/lib.sh

BUILD=${BUILD:-build}
PVDMAD=$BUILD/pvdmad
[ -x "$PVDMAD" ] || { make -s -j2 progs >/dev/null && PVDMAD=build/pvdmad; }
vm_setup || abort "VM set-up"

wd=$(vm_workdir)
trap 'vm_pvdmad_stop; rm -rf "$wd"' EXIT
cat >"$wd/test.sh" <<'GUEST'
for d in /sys/bus/pci/devices/*; do
	v=$(cat $d/vendor) p=$(cat $d/device)
	echo "pvdma-pci: ${d##*/} $v $p"
	if [ "$v $p" = "0x1af4 0x1110" ]; then
		# resource line 3 is BAR2: start end flags
		start=$(sed -n 3p $d/resource | cut -d' ' -f1)
		echo "pvdma-bar2: ${d##*/} $(devmem $((start)) 32)"
	fi
done
GUEST
vm_initramfs "$wd/initrd.gz" "$wd/test.sh" || abort "initramfs"
vm_pvdmad_start "$PVDMAD" "$wd" --log-level warn
check_rc "pvdmad starts" $?
vm_boot "$wd/initrd.gz" "$wd/ram" "$wd/companion.sock" "$wd/dma.sock" \
	"$wd/console.log" 120
check_rc "guest boots and powers off" $?
grep -q "pvdma-vm: test.sh exit 0" "$wd/console.log"
check_rc "guest test script ran" $?
n=$(grep -c "^pvdma-pci: .* 0x1af4 0x1110" "$wd/console.log")
[ "$n" -eq 2 ]
check_rc "guest sees both ivshmem devices ($n)" $?
grep -q "^pvdma-bar2: .* 0x4D445650" "$wd/console.log"
check_rc "companion BAR2 holds PVDMA_MAGIC" $?
grep -q "^pvdma-bar2: .* 0x44445650" "$wd/console.log"
check_rc "DMA device BAR2 holds PVDMA_DEV_MAGIC" $?

# A kernel that dies before /init (here: told to run one that is not
# there) is booted exactly once more, and the first console is kept.
VM_APPEND=rdinit=/pvdma-no-such-init
vm_boot "$wd/initrd.gz" "$wd/ram" "$wd/companion.sock" "$wd/dma.sock" \
	"$wd/dead.log" 120 2>"$wd/dead.err"
unset VM_APPEND
n=$(grep -c "booting it once more" "$wd/dead.err")
[ "$n" -eq 1 ] && vm_died_in_boot "$wd/dead.log.first" &&
	vm_died_in_boot "$wd/dead.log"
check_rc "a kernel dead before /init is booted once more ($n), not again" $?
vm_pvdmad_stop
check_rc "pvdmad exits cleanly on SIGTERM" $?
if [ "$failed" -ne 0 ]; then
	echo "--- console:"; tr -d '\r' <"$wd/console.log" | tail -n 30
	echo "--- pvdmad:"; tail -n 30 "$wd/pvdmad.log"
fi
finish
