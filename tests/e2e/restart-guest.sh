# SPDX-License-Identifier: MIT
#
# Runs inside the guest of run-restart-vm.sh (busybox sh) as /test.sh.
# For each policy: pvdma loaded, pvdma_dmatest moving bytes in the
# background, and meanwhile two checkpoints at which the host restarts
# pvdmad: "kill-<policy>" (SIGKILL) and "upgrade-<policy>" (a new binary,
# SIGUSR2). The guest says whether its traffic was still running at each
# and reads its counters; the host checks them. Lines for the host start
# with "pvdma-restart:".

P=/pvdma
D=/sys/kernel/debug/pvdma

say() {
	echo "pvdma-restart: $*"
}

stat() {	# debugfs stats key
	sed -n "s/^$1 //p" $D/stats
}

running() {	# pid
	if kill -0 "$1" 2>/dev/null; then echo yes; else echo no; fi
}

counters() {
	echo "max_wait_us $(stat transport_max_wait_us) timeouts $(stat transport_timeouts) broken $(stat transport_broken) host_down $(stat transport_host_down) dma_map_failures $(stat dma_map_failures) calls $(stat transport_calls)"
}

TESTS=single,kmalloc,sg,threads

# The traffic: runs of LOOPS loops back to back until the host's
# restarts are behind it (the file STOP), each run's exit status counted
# and its kernel log kept (the ring buffer would not hold them all). No
# run length is guessed: a calibrated one, timed while the host was busier
# than during the traffic, once ended before the upgrade checkpoint.
LOOPS=3
STOP=/tmp/traffic-stop
traffic() {	# label
	runs=0
	failed=0
	while [ ! -e $STOP ]; do
		insmod $P/pvdma_dmatest.ko tests=$TESTS loops=$LOOPS ||
			failed=$((failed + 1))
		rmmod pvdma_dmatest 2>/dev/null
		dmesg -c >>"/tmp/log-$1"
		runs=$((runs + 1))
	done
	echo "$runs $failed" >"/tmp/runs-$1"
}

run_policy() {	# label, pvdma.ko params
	dmesg -c >/dev/null
	rm -f $STOP "/tmp/log-$1" "/tmp/runs-$1"
	# shellcheck disable=SC2086
	insmod $P/pvdma.ko $2 || { say "FAIL $1: insmod pvdma"; return; }
	# One run to warm up, then loaded again: max_wait_us counts from
	# here (the first calls of a fresh load are not what a restart costs).
	insmod $P/pvdma_dmatest.ko tests=$TESTS loops=1
	rmmod pvdma_dmatest
	rmmod pvdma
	dmesg -c | sed "s/^/pvdma-warmup $1 /"
	# shellcheck disable=SC2086
	insmod $P/pvdma.ko $2 || { say "FAIL $1: insmod pvdma"; return; }
	traffic "$1" &
	dt=$!
	sleep 3
	say "$1: before the kill: traffic running $(running $dt), $(counters)"
	say "checkpoint kill-$1"
	sleep 4
	say "$1: after the kill: traffic running $(running $dt), $(counters)"
	say "checkpoint upgrade-$1"
	sleep 4
	say "$1: after the upgrade: traffic running $(running $dt), $(counters)"
	: >$STOP
	wait $dt
	read -r runs failed <"/tmp/runs-$1"
	say "$1: dmatest runs $runs, $failed failed"
	say "$1: end: $(counters)"
	rmmod pvdma
	say "$1: unload status $?"
	dmesg -c >>"/tmp/log-$1"
	grep -v -e "taints kernel" -e "verification failed" "/tmp/log-$1" |
		sed "s/^/pvdma-log $1 /"
}

run_policy pvdma "policy=pvdma"
run_policy rfc "policy=rfc"
say "done"
