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

uptime_ms() {
	read -r up _ </proc/uptime
	echo "${up%.*}${up#*.}0"
}

running() {	# pid
	if kill -0 "$1" 2>/dev/null; then echo yes; else echo no; fi
}

counters() {
	echo "max_wait_us $(stat transport_max_wait_us) timeouts $(stat transport_timeouts) broken $(stat transport_broken) host_down $(stat transport_host_down) dma_map_failures $(stat dma_map_failures) calls $(stat transport_calls)"
}

TESTS=single,kmalloc,sg,threads

# How many loops of the tests keep the traffic going through both
# restarts (about 25 s, the checkpoints come within 10 s): one loop timed,
# after an untimed one (pvdma's first loop pays for every window, the
# later ones hit them, so a cold loop overestimates the rest by far).
calibrate() {
	insmod $P/pvdma_dmatest.ko tests=$TESTS loops=1
	rmmod pvdma_dmatest
	t0=$(uptime_ms)
	insmod $P/pvdma_dmatest.ko tests=$TESTS loops=1
	rmmod pvdma_dmatest
	t=$(($(uptime_ms) - t0))
	[ "$t" -gt 0 ] || t=1
	echo $((25000 / t + 2))
}

run_policy() {	# label, pvdma.ko params
	dmesg -c >/dev/null
	# shellcheck disable=SC2086
	insmod $P/pvdma.ko $2 || { say "FAIL $1: insmod pvdma"; return; }
	loops=$(calibrate)
	# Loaded again: max_wait_us counts from here (the first calls of a
	# fresh load are not what a restart costs).
	rmmod pvdma
	# shellcheck disable=SC2086
	insmod $P/pvdma.ko $2 || { say "FAIL $1: insmod pvdma"; return; }
	insmod $P/pvdma_dmatest.ko tests=$TESTS loops="$loops" &
	dt=$!
	sleep 3
	say "$1: before the kill: traffic running $(running $dt), $(counters)"
	say "checkpoint kill-$1"
	sleep 4
	say "$1: after the kill: traffic running $(running $dt), $(counters)"
	say "checkpoint upgrade-$1"
	sleep 4
	say "$1: after the upgrade: traffic running $(running $dt), $(counters)"
	wait $dt
	say "$1: dmatest exit $?, $loops loops"
	say "$1: end: $(counters)"
	rmmod pvdma_dmatest
	rmmod pvdma
	say "$1: unload status $?"
	dmesg -c | grep -v -e "taints kernel" -e "verification failed" |
		sed "s/^/pvdma-log $1 /"
}

run_policy pvdma "policy=pvdma"
run_policy rfc "policy=rfc"
say "done"
