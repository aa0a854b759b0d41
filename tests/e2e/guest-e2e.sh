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
	sed "s/^/pvdma-windows $1 /" $D/windows | head -n 12
	echo "pvdma-windows $1 ... $(($(wc -l <$D/windows) - 1)) windows"
	rmmod pvdma_dmatest || echo "pvdma-e2e: $1: rmmod pvdma_dmatest failed"
	rmmod pvdma || echo "pvdma-e2e: $1: rmmod pvdma failed"
	dmesg -c | grep -v -e "taints kernel" -e "verification failed" |
		sed "s/^/pvdma-log $1 /"
	echo "pvdma-e2e: end $1"
}

for d in /sys/bus/pci/devices/*; do
	echo "pvdma-pci: ${d##*/} $(cat $d/vendor) $(cat $d/device)"
done
run pvdma "policy=pvdma bounce=all" ""
run pvdma-nobounce "policy=pvdma bounce=off" "tests=pressure"
run rfc "policy=rfc" ""
echo "pvdma-e2e: done"
