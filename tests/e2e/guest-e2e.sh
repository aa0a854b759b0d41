# SPDX-License-Identifier: MIT
#
# Runs inside the e2e guest (busybox sh), as /test.sh: loads pvdma.ko with
# each configuration, runs pvdma_dmatest.ko's self-tests, prints their
# results, the debugfs counters and the window list, and unloads.
# Every line meant for the host starts with "pvdma-".

P=/pvdma
D=/sys/kernel/debug/pvdma

run() {	# label, pvdma.ko parameters, pvdma_dmatest.ko parameters
	echo "pvdma-e2e: begin $1 (pvdma.ko $2; pvdma_dmatest.ko $3)"
	dmesg -c >/dev/null
	# shellcheck disable=SC2086
	if ! insmod $P/pvdma.ko $2; then
		echo "pvdma-e2e: $1: insmod pvdma.ko failed"
		dmesg -c | sed "s/^/pvdma-log $1 /"
		return
	fi
	# shellcheck disable=SC2086
	insmod $P/pvdma_dmatest.ko $3 || echo "pvdma-e2e: $1: insmod pvdma_dmatest.ko failed"
	sed "s/^/pvdma-stats $1 /" $D/stats
	sed "s/^/pvdma-devices $1 /" $D/devices
	# The devices served, as a managed= list for a later run.
	DEVICES=$(awk '{ print $1 }' $D/devices | paste -s -d, -)
	sed "s/^/pvdma-windows $1 /" $D/windows | head -n 12
	echo "pvdma-windows $1 ... $(($(wc -l <$D/windows) - 1)) windows"
	rmmod pvdma_dmatest || echo "pvdma-e2e: $1: rmmod pvdma_dmatest failed"
	rmmod pvdma || echo "pvdma-e2e: $1: rmmod pvdma failed"
	dmesg -c | grep -v -e "taints kernel" -e "verification failed" |
		sed "s/^/pvdma-log $1 /"
	echo "pvdma-e2e: end $1"
}

check() {	# what, condition status
	if [ "$2" -eq 0 ]; then
		echo "pvdma-lifecycle: ok $1"
	else
		echo "pvdma-lifecycle: FAIL $1"
	fi
}

# Unbind and rebind both drivers; pvdma pins itself while the test driver
# is bound, and the companion can leave and come back under it.
lifecycle() {
	dmesg -c >/dev/null
	insmod $P/pvdma.ko || { check "insmod pvdma" 1; return; }
	# loaded with no parameters: the defaults, for docs/guest.md's table
	for f in /sys/module/pvdma/parameters/*; do
		echo "pvdma-param: ${f##*/} $(cat "$f")"
	done
	insmod $P/pvdma_dmatest.ko tests=single || { check "insmod dmatest" 1; return; }
	comp=$(basename "$(ls -d /sys/bus/pci/drivers/pvdma/0000:* | head -n 1)")
	dma=$(basename "$(ls -d /sys/bus/pci/drivers/pvdma_dmatest/0000:* | head -n 1)")
	r1=$(cat /sys/module/pvdma/refcnt)
	echo "$dma" >/sys/bus/pci/drivers/pvdma_dmatest/unbind
	r2=$(cat /sys/module/pvdma/refcnt)
	[ "$r2" -eq $((r1 - 1)) ]
	check "pvdma pinned while the DMA device's driver is bound (refcnt $r1 -> $r2)" $?
	echo "$dma" >/sys/bus/pci/drivers/pvdma_dmatest/bind
	[ "$(cat /sys/module/pvdma/refcnt)" -eq "$r1" ]
	check "rebinding pins it again" $?
	echo "$comp" >/sys/bus/pci/drivers/pvdma/unbind
	[ ! -e /sys/bus/pci/drivers/pvdma/$comp ]
	check "companion unbinds under a bound DMA driver" $?
	grep -q "companion absent" /sys/kernel/debug/pvdma/stats
	check "debugfs says the companion is absent" $?
	echo "$dma" >/sys/bus/pci/drivers/pvdma_dmatest/unbind
	dmesg | grep -q "$dma: pvdma: original DMA ops restored"
	check "the DMA device gets its original ops back once unbound" $?
	# A bind with no companion fails after its probe set the DMA mask on
	# dma-direct (6.10+ then caches "syncs can be skipped"); pvdma taking
	# the device over clears that, or a driver keeping the default mask
	# would have its syncs, bounce copies, dropped.
	echo "$dma" >/sys/bus/pci/drivers/pvdma_dmatest/bind 2>/dev/null
	[ ! -e /sys/bus/pci/drivers/pvdma_dmatest/$dma ]
	check "the DMA device does not bind without the companion" $?
	echo "$comp" >/sys/bus/pci/drivers/pvdma/bind
	[ -e /sys/bus/pci/drivers/pvdma/$comp ]
	check "companion binds again (HELLO, RESET)" $?
	echo 0 >/sys/module/pvdma_dmatest/parameters/set_mask
	echo "$dma" >/sys/bus/pci/drivers/pvdma_dmatest/bind
	[ -e /sys/bus/pci/drivers/pvdma_dmatest/$dma ]
	check "the DMA device binds again through pvdma" $?
	! dmesg | grep -q "dmatest: dma_need_sync() is false"
	check "its syncs reach pvdma though its driver kept the default mask" $?
	echo 1 >/sys/module/pvdma_dmatest/parameters/set_mask
	rmmod pvdma_dmatest
	rmmod pvdma
	check "both modules unload" $?
	dmesg -c | grep -v -e "taints kernel" -e "verification failed" |
		sed "s/^/pvdma-log lifecycle /"
}

for d in /sys/bus/pci/devices/*; do
	echo "pvdma-pci: ${d##*/} $(cat $d/vendor) $(cat $d/device)"
done
run pvdma "policy=pvdma bounce=all" ""
run pvdma-nobounce "policy=pvdma bounce=off" "tests=pressure"
# rfc with the DMA devices named: managed= takes a list.
run rfc "policy=rfc managed=$DEVICES" ""
lifecycle
echo "pvdma-e2e: done"
