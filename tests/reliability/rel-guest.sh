# SPDX-License-Identifier: MIT
#
# Runs inside the reliability guest (busybox sh) as /test.sh. Which phases
# run and how long comes from /pvdma/rel.conf (written by
# run-reliability.sh): REL_PHASES (fault, loop, restart, dma), REL_CYCLES,
# REL_LOOPS. Every line meant for the host starts with "pvdma-".
# "pvdma-rel: checkpoint NAME" lines are where the host acts (reads
# pvdmactl, kills pvdmad or QEMU); the guest pauses a little after each.

P=/pvdma
D=/sys/kernel/debug/pvdma
REL_PHASES="fault loop"
REL_CYCLES=30
REL_LOOPS=1000
REL_MIXED_OPS=96
. $P/rel.conf

say() {
	echo "pvdma-rel: $*"
}

check() {	# what, status
	if [ "$2" -eq 0 ]; then
		say "ok $1"
	else
		say "FAIL $1"
	fi
}

stat() {	# debugfs stats key
	sed -n "s/^$1 //p" $D/stats
}

uptime_ms() {
	read -r up _ </proc/uptime
	echo "${up%.*}${up#*.}0"
}

dump_log() {	# label
	dmesg -c | grep -v -e "taints kernel" -e "verification failed" |
		sed "s/^/pvdma-log $1 /"
}

# One configuration: load, self-tests, counters, unload.
mod_run() {	# label, pvdma.ko params, dmatest params
	dmesg -c >/dev/null
	# shellcheck disable=SC2086
	insmod $P/pvdma.ko $2 || { check "$1: insmod pvdma" 1; return; }
	# shellcheck disable=SC2086
	insmod $P/pvdma_dmatest.ko $3 ||
		check "$1: insmod pvdma_dmatest" 1
	sed "s/^/pvdma-stats $1 /" $D/stats
	rmmod pvdma_dmatest
	rmmod pvdma
	check "$1: both modules unload" $?
	dump_log "$1"
}

# Self-tests under injected host map failures; every failure must be clean.
phase_fault() {
	mod_run fault-bounce "policy=pvdma bounce=all" "fail_ok=1"
	mod_run fault-nobounce "policy=pvdma bounce=off" \
		"fail_ok=1 tests=single,sg,pressure,mixed mixed_ops=$REL_MIXED_OPS"
	mod_run fault-rfc "policy=rfc" "fail_ok=1 tests=single,kmalloc,sg,coherent"
}

# Twice the aperture from 4 kthreads, no injected faults: with bounce no
# map may fail, without only cleanly.
phase_pressure() {
	mod_run pressure-bounce "policy=pvdma bounce=all" \
		"tests=mixed,pressure threads=4 mixed_ops=$REL_MIXED_OPS"
	mod_run pressure-nobounce "policy=pvdma bounce=off" \
		"tests=mixed,pressure threads=4 mixed_ops=$REL_MIXED_OPS"
}

meminfo() {	# key
	sed -n "s/^$1: *\([0-9]*\) kB/\1/p" /proc/meminfo
}

# Load/unload and unbind/bind with traffic, REL_CYCLES times.
phase_loop() {
	dmesg -c >/dev/null
	: >/tmp/sums
	: >/tmp/warns
	i=0
	bad=0
	while [ $i -lt "$REL_CYCLES" ]; do
		i=$((i + 1))
		if [ $i -eq 2 ]; then
			sync
			echo 3 >/proc/sys/vm/drop_caches
			s0=$(meminfo Slab)
			u0=$(meminfo SUnreclaim)
			v0=$(meminfo VmallocUsed)
			m0=$(meminfo MemAvailable)
		fi
		insmod $P/pvdma.ko policy=pvdma bounce=all || bad=$((bad + 1))
		insmod $P/pvdma_dmatest.ko tests=single fail_ok=1 ||
			bad=$((bad + 1))
		comp=$(ls /sys/bus/pci/drivers/pvdma/ | grep 0000: | head -n 1)
		dma=$(ls /sys/bus/pci/drivers/pvdma_dmatest/ | grep 0000: | head -n 1)
		if [ $((i % 2)) -eq 0 ] && [ -n "$comp" ] && [ -n "$dma" ]; then
			echo "$dma" >/sys/bus/pci/drivers/pvdma_dmatest/unbind
			echo "$comp" >/sys/bus/pci/drivers/pvdma/unbind
			echo "$comp" >/sys/bus/pci/drivers/pvdma/bind
			echo "$dma" >/sys/bus/pci/drivers/pvdma_dmatest/bind
			[ -e /sys/bus/pci/drivers/pvdma_dmatest/$dma ] ||
				bad=$((bad + 1))
		fi
		rmmod pvdma_dmatest || bad=$((bad + 1))
		rmmod pvdma || bad=$((bad + 1))
		# Each cycle's log, read before hundreds of cycles overrun the
		# kernel's ring buffer.
		dmesg -c >/tmp/cycle
		grep "pvdma-dmatest: transfers=" /tmp/cycle >>/tmp/sums
		grep -e "WARNING:" -e "BUG:" -e "Call Trace" -e "leak" /tmp/cycle \
			>>/tmp/warns
		if [ $((i % 10)) -eq 0 ] || [ $i -eq "$REL_CYCLES" ]; then
			say "checkpoint unloaded-$i"
			sleep 1
		fi
	done
	sync
	echo 3 >/proc/sys/vm/drop_caches
	say "loop: $REL_CYCLES cycles, $bad failed steps"
	check "loop: every load, bind and unload worked" "$bad"
	say "loop: slab_kb $s0 -> $(meminfo Slab), sunreclaim_kb $u0 -> $(meminfo SUnreclaim), vmalloc_kb $v0 -> $(meminfo VmallocUsed), memavailable_kb $m0 -> $(meminfo MemAvailable)"
	# The dmatest summary lines: one per cycle.
	say "loop: $(wc -l </tmp/sums) dmatest runs, $(grep -c -v 'mismatches=0 faults=0' /tmp/sums) with wrong bytes or faults"
	dmesg -c | grep -e "WARNING:" -e "BUG:" -e "Call Trace" -e "leak" \
		>>/tmp/warns
	sed "s/^/pvdma-log loop /" /tmp/warns
}

# pvdmad is killed and restarted under a loaded pvdma.
phase_restart() {
	dmesg -c >/dev/null
	insmod $P/pvdma.ko policy=pvdma bounce=all timeout_ms=1000
	insmod $P/pvdma_dmatest.ko tests=single fail_ok=1
	rmmod pvdma_dmatest
	# No idle windows: the next map needs the host (a map served from a
	# cached window needs no host call and cannot notice the loss).
	echo 1 >$D/reclaim
	say "before: transfers ok, host_state $(stat host_state), live_windows $(stat live_windows)"
	say "checkpoint kill-pvdmad"
	sleep 4
	t0=$(uptime_ms)
	insmod $P/pvdma_dmatest.ko tests=single,kmalloc fail_ok=1
	t1=$(uptime_ms)
	say "after: dmatest took $((t1 - t0)) ms; transport_timeouts $(stat transport_timeouts) transport_host_down $(stat transport_host_down) transport_broken $(stat transport_broken) host_state $(stat host_state) failed_maps $(stat failed_maps)"
	rmmod pvdma_dmatest
	t0=$(uptime_ms)
	rmmod pvdma
	check "restart: pvdma unloads with the host gone" $?
	say "restart: rmmod took $(($(uptime_ms) - t0)) ms"
	t0=$(uptime_ms)
	insmod $P/pvdma.ko timeout_ms=1000
	say "restart: reload: insmod status $?, $(($(uptime_ms) - t0)) ms, companion bound: $(ls /sys/bus/pci/drivers/pvdma/ | grep -c 0000:)"
	insmod $P/pvdma_dmatest.ko tests=single fail_ok=1 2>/dev/null
	say "restart: dmatest after reload: status $?"
	rmmod pvdma_dmatest 2>/dev/null
	rmmod pvdma
	check "restart: pvdma unloads after the failed reload" $?
	dump_log restart
}

# Continuous DMA until the host kills QEMU.
phase_dma() {
	dmesg -c >/dev/null
	insmod $P/pvdma.ko policy=pvdma bounce=all
	say "checkpoint dma-running"
	insmod $P/pvdma_dmatest.ko tests=kmalloc,sg,threads \
		loops="$REL_LOOPS" fail_ok=1
	say "dma: not killed"
	dump_log dma
}

for ph in $REL_PHASES; do
	say "begin $ph"
	"phase_$ph"
	say "end $ph"
done
say "done"
