# SPDX-License-Identifier: MIT
#
# Runs inside the guest of run-teardown-vm.sh (busybox sh) as /test.sh.
# pvdma loaded with a bounce pool and bytes moved through it, then
# unloaded twice: once with pvdmad answering (RESET confirmed: the pool
# goes back to the kernel), once with pvdmad stopped by the host at the
# checkpoint "stop" (RESET unanswered: the pool must be kept, as the
# host may still map it). MemFree is read around each unload. Lines for
# the host start with "pvdma-teardown:".

P=/pvdma
ARGS="bounce=small timeout_ms=1000"

say() {
	echo "pvdma-teardown: $*"
}

memfree() {
	sed -n 's/^MemFree: *\([0-9]*\) kB/\1/p' /proc/meminfo
}

has() {	# file, pattern
	if grep -q "$2" "$1"; then echo yes; else echo no; fi
}

cycle() {	# label
	dmesg -c >/dev/null
	# shellcheck disable=SC2086
	insmod $P/pvdma.ko $ARGS || { say "FAIL $1: insmod pvdma"; return; }
	insmod $P/pvdma_dmatest.ko tests=single,kmalloc loops=1
	say "$1: dmatest status $?"
	rmmod pvdma_dmatest
	if [ "$1" = stalled ]; then
		say "checkpoint stop"
		sleep 3
	fi
	before=$(memfree)
	rmmod pvdma
	say "$1: unload status $?"
	after=$(memfree)
	dmesg -c >"/tmp/log-$1"
	sed "s/^/pvdma-log $1 /" "/tmp/log-$1"
	say "$1: memfree_before_kb $before memfree_after_kb $after"
	say "$1: reset_failed $(has "/tmp/log-$1" 'host RESET failed') pool_kept $(has "/tmp/log-$1" 'keeping the [0-9]* KiB bounce pool')"
}

cycle healthy
cycle stalled
say "checkpoint cont"
sleep 2
say "done"
