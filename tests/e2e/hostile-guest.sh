# SPDX-License-Identifier: MIT
#
# Runs inside the guest of tests/e2e/run-hostile-vm.sh (busybox sh), as
# /test.sh: runs pvdma_hostile.ko's table (it binds the companion device
# itself: pvdma.ko is not loaded), unloads it, then loads pvdma.ko and
# pvdma_dmatest.ko (single, kmalloc) to show the host session is still
# good; unloads both (pvdma sends RESET), then waits so the host can read
# pvdmad's counters while this guest is still connected. Every line meant
# for the host starts with "pvdma-".

P=/pvdma
[ -f $P/hostile.conf ] && . $P/hostile.conf
dmesg -n 1
dmesg -c >/dev/null
insmod $P/pvdma_hostile.ko ram_below_4g=${HOSTILE_LOW:-0} ||
	echo "pvdma-hostile-vm: insmod pvdma_hostile.ko failed"
rmmod pvdma_hostile || echo "pvdma-hostile-vm: rmmod pvdma_hostile failed"
if insmod $P/pvdma.ko; then
	sed 's/^/pvdma-limits /' /sys/kernel/debug/pvdma/limits
	echo "pvdma-iomem system_ram $(grep -c 'System RAM' /proc/iomem)"
	insmod $P/pvdma_dmatest.ko tests=single,kmalloc ||
		echo "pvdma-hostile-vm: insmod pvdma_dmatest.ko failed"
	rmmod pvdma_dmatest || echo "pvdma-hostile-vm: rmmod pvdma_dmatest failed"
	rmmod pvdma || echo "pvdma-hostile-vm: rmmod pvdma failed"
else
	echo "pvdma-hostile-vm: insmod pvdma.ko failed"
fi
dmesg -c | sed 's/^/pvdma-log /'
echo "pvdma-hostile-vm: unloaded"
# The host snapshots pvdmactl stats now; then it tells us nothing: wait.
sleep 4
echo "pvdma-hostile-vm: done"
