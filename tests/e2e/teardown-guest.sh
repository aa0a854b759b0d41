# SPDX-License-Identifier: MIT
#
# Runs inside the guest of run-teardown-vm.sh (busybox sh) as /test.sh.
# pvdma loaded with a bounce pool and bytes moved through it, then
# unloaded twice: once with pvdmad answering (RESET confirmed: the pool
# goes back to the kernel), once with pvdmad stopped by the host at the
# checkpoint "stop" (RESET unanswered: the pool must be kept, as the
# host may still map it). MemFree is read around each unload. Lines for
# the host start with "pvdma-teardown:".
#
# The healthy load asks for timeout_ms=100000, more than a map may wait
# with interrupts off: pvdma must say what it uses instead. The stalled
# unload waits timeout_ms=15000 for RESET; rmmod and a watcher that
# notes the longest gap between its looks at the clock share CPU 0, so
# a wait that spins (interrupts off or not) starves the watcher for the
# whole timeout, and one that sleeps does not.
#
# Then, pvdmad continued, "held": pvdma_dmatest keeps a coherent buffer
# (hold_coherent_kb) while the host is stopped again (checkpoint "stop2")
# and pvdma's companion is unbound through sysfs; the buffer is freed
# after that teardown, its RESET unanswered, so pvdma must keep it.

P=/pvdma
ARGS="bounce=small"

say() {
	echo "pvdma-teardown: $*"
}

memfree() {
	sed -n 's/^MemFree: *\([0-9]*\) kB/\1/p' /proc/meminfo
}

has() {	# file, pattern
	if grep -q "$2" "$1"; then echo yes; else echo no; fi
}

# /proc/uptime in centiseconds (the guest has been up for over a second).
uptime_cs() {
	read -r up _ </proc/uptime
	echo "${up%.*}${up#*.}"
}

# The watcher: the longest gap between two of its looks at the clock,
# in centiseconds, written to $1 each time it grows.
cat >/tmp/watch.sh <<'EOF'
read -r up _ </proc/uptime
prev=${up%.*}${up#*.}
max=0
echo 0 >"$1"
while :; do
	read -r up _ </proc/uptime
	now=${up%.*}${up#*.}
	if [ $((now - prev)) -gt $max ]; then
		max=$((now - prev))
		echo $max >"$1"
	fi
	prev=$now
done
EOF

cycle() {	# label, timeout_ms
	dmesg -c >/dev/null
	# shellcheck disable=SC2086
	insmod $P/pvdma.ko $ARGS timeout_ms="$2" ||
		{ say "FAIL $1: insmod pvdma"; return; }
	insmod $P/pvdma_dmatest.ko tests=single,kmalloc loops=1
	say "$1: dmatest status $?"
	rmmod pvdma_dmatest
	if [ "$1" = stalled ]; then
		say "checkpoint stop"
		sleep 3
	fi
	before=$(memfree)
	taskset 1 sh /tmp/watch.sh /tmp/gap &
	watcher=$!
	sleep 1
	t0=$(uptime_cs)
	taskset 1 rmmod pvdma
	say "$1: unload status $?"
	t1=$(uptime_cs)
	kill $watcher
	wait $watcher 2>/dev/null
	say "$1: unload_cs $((t1 - t0)) cpu0_max_gap_cs $(cat /tmp/gap)"
	after=$(memfree)
	dmesg -c >"/tmp/log-$1"
	sed "s/^/pvdma-log $1 /" "/tmp/log-$1"
	say "$1: memfree_before_kb $before memfree_after_kb $after"
	say "$1: reset_failed $(has "/tmp/log-$1" 'host RESET failed') pool_kept $(has "/tmp/log-$1" 'keeping the [0-9]* KiB bounce pool')"
	say "$1: clamped $(has "/tmp/log-$1" "timeout_ms=$2 is too long to wait with interrupts off: a DMA map waits for the host at most 5000 ms")"
}

held() {
	dmesg -c >/dev/null
	# shellcheck disable=SC2086
	insmod $P/pvdma.ko $ARGS timeout_ms=1000 ||
		{ say "FAIL held: insmod pvdma"; return; }
	insmod $P/pvdma_dmatest.ko tests=single loops=1 hold_coherent_kb=256
	say "held: dmatest status $?"
	say "checkpoint stop2"
	sleep 3
	comp=$(ls /sys/bus/pci/drivers/pvdma | grep : | head -n 1)
	echo "$comp" >/sys/bus/pci/drivers/pvdma/unbind
	say "held: companion $comp unbound, status $?"
	rmmod pvdma_dmatest
	say "held: dmatest unload status $?"
	rmmod pvdma
	say "held: unload status $?"
	dmesg -c >/tmp/log-held
	sed "s/^/pvdma-log held /" /tmp/log-held
	say "held: reset_failed $(has /tmp/log-held 'host RESET failed') coherent_kept $(has /tmp/log-held 'keeping 262144 bytes of coherent memory')"
}

cycle healthy 100000
cycle stalled 15000
say "checkpoint cont"
sleep 2
held
say "checkpoint cont2"
sleep 2
say "done"
