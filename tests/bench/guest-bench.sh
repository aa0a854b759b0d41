# SPDX-License-Identifier: MIT
#
# Runs inside the benchmark guest (busybox sh), as /test.sh: loads pvdma.ko
# with each policy and pvdma_dmabench.ko on the DMA device model, and
# prints the benchmark's lines ("pvdma-bench: ...") from the kernel log.
# scripts/bench_vm.sh boots it and collects the lines.

P=/pvdma

run() {	# tag, pvdma.ko parameters, pvdma_dmabench.ko parameters
	echo "pvdma-benchvm: begin $1 (pvdma.ko $2; pvdma_dmabench.ko $3)"
	dmesg -c >/dev/null
	# shellcheck disable=SC2086
	if insmod $P/pvdma.ko $2; then
		# shellcheck disable=SC2086
		insmod $P/pvdma_dmabench.ko tag="$1" $3 ||
			echo "pvdma-benchvm: $1: insmod pvdma_dmabench.ko failed"
		rmmod pvdma_dmabench 2>/dev/null
		rmmod pvdma || echo "pvdma-benchvm: $1: rmmod pvdma failed"
	else
		echo "pvdma-benchvm: $1: insmod pvdma.ko failed"
	fi
	dmesg -c | sed -n -e 's/^\[ *[0-9.]*\] //' \
		-e '/pvdma-bench: /p' -e '/WARNING:\|BUG:\|Call Trace\|pvdma.*fail/p'
	echo "pvdma-benchvm: end $1"
}

run pvdma "policy=pvdma" "${BENCH_PVDMA_ARGS:-}"
run strict "policy=pvdma strict=1" "${BENCH_PVDMA_ARGS:-} sg=0"
run rfc "policy=rfc" "${BENCH_RFC_ARGS:-}"
echo "pvdma-benchvm: done"
