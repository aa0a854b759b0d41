#!/bin/sh
# SPDX-License-Identifier: MIT
# Smoke test with stock QEMU (no guest): QEMU connects to pvdmad's two
# ivshmem-doorbell sockets, accepts the connect sequence, and the machine
# shows both devices with their BAR2 regions; pvdmad counts one guest while
# QEMU runs and none after; a QEMU pvdmad refuses exits at once, saying so.
# Skipped (0 passed, 0 failed) without QEMU.
set -u
QEMU=${QEMU:-qemu-system-x86_64}
. "$(dirname "$0")/../lib.sh"
scratch_dir qemu pid

if ! command -v "$QEMU" >/dev/null 2>&1; then
	skip "$QEMU not installed"
	finish
fi

truncate -s 256M "$dir/ram"
"$PVDMAD" --socket "$dir/c.sock" --dma-socket "$dir/d.sock" \
	--guest-ram "$dir/ram" --control "$dir/ctl" --log-file "$dir/log" &
pid=$!
wait_socket "$dir/ctl"

# -S: devices are realized (the ivshmem setup is read) but no CPU runs.
(echo "info pci"; sleep 1;
 "$PVDMACTL" --control "$dir/ctl" stats --json >"$dir/stats.json";
 echo quit) |
timeout 30 "$QEMU" -machine q35,memory-backend=mem -m 256M -accel tcg \
	-object memory-backend-file,id=mem,size=256M,mem-path="$dir/ram",share=on \
	-chardev socket,path="$dir/c.sock",id=c0 \
	-device ivshmem-doorbell,chardev=c0,vectors=1 \
	-chardev socket,path="$dir/d.sock",id=c1 \
	-device ivshmem-doorbell,chardev=c1,vectors=1 \
	-nodefaults -display none -S -monitor stdio >"$dir/qemu.out" 2>&1
rc=$?
sleep 0.2
check "QEMU accepted both devices (exit 0)" test "$rc" -eq 0
check "two ivshmem devices (1af4:1110)" \
	test "$(grep -c 'PCI device 1af4:1110' "$dir/qemu.out")" -eq 2
check "companion BAR2 is the ring region (128 KiB)" \
	grep -q 'BAR2: 64 bit prefetchable memory at .* \[0x0001fffe\]' "$dir/qemu.out"
check "pvdmad saw one guest while QEMU ran" \
	grep -q '"guests_live": 1,' "$dir/stats.json"
check "QEMU's exit disconnected it" sh -c \
	"'$PVDMACTL' --control '$dir/ctl' stats --json | grep -q '\"guests_live\": 0,'"
check "pvdmad still up" kill -0 "$pid"

# A QEMU pvdmad refuses (its -m is not the RAM file's layout) must exit
# at once with a message, not wait in its device setup forever.
truncate -s 128M "$dir/ram-small"
timeout 20 "$QEMU" -machine q35,memory-backend=mem -m 128M -accel tcg \
	-object memory-backend-file,id=mem,size=128M,mem-path="$dir/ram-small",share=on \
	-chardev socket,path="$dir/c.sock",id=c0 \
	-device ivshmem-doorbell,chardev=c0,vectors=1 \
	-nodefaults -display none -S -monitor none >"$dir/qemu-refused.out" 2>&1
rc=$?
check "a refused QEMU exits by itself (exit $rc, 124 = still waiting after 20 s)" \
	sh -c "[ $rc -ne 0 ] && [ $rc -ne 124 ]"
check "saying the server refused it (a negative version: pvdmad's errno)" \
	grep -q "server sent version -[0-9]*, expecting 0" "$dir/qemu-refused.out"
check "pvdmad logged why" grep -q "companion: pid [0-9]* refused:" "$dir/log"
if [ "$failed" -ne 0 ]; then
	tail -n 20 "$dir/qemu.out" "$dir/qemu-refused.out" "$dir/log"
fi
finish
