#!/bin/sh
# SPDX-License-Identifier: MIT
# Build pvdmad's libFuzzer targets (clang, ASan + UBSan) and run each for
# FUZZ_TIME seconds (default 30); any crash or sanitizer report fails.
# Prints "N passed, N failed". Usage: tests/host/run-fuzz.sh
set -u
BUILD=${BUILD:-build}
FUZZ_TIME=${FUZZ_TIME:-30}
out=$BUILD/fuzz
passed=0
failed=0

if ! command -v clang >/dev/null 2>&1; then
	echo "clang missing (scripts/install-deps.sh)"
	echo "0 passed, 1 failed"
	exit 1
fi
mkdir -p "$out"
CFLAGS="-std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -Ilib/include -Ilib -I. -Itests/host"
# Every lib/ file (the freestanding core) and the host core, no sockets.
SRCS="$(ls lib/*.c) host/log.c host/guest_ram.c host/iommu_dart.c \
	host/companion.c host/dmadev.c"

for target in fuzz_ring fuzz_dmadev; do
	if ! clang $CFLAGS -o "$out/$target" "fuzz/$target.c" $SRCS \
		>"$out/$target.build.log" 2>&1; then
		echo "FAIL: $target does not build"
		tail -n 20 "$out/$target.build.log"
		failed=$((failed + 1))
		continue
	fi
	corpus=$(mktemp -d)
	if (cd "$out" && ./"$target" -max_total_time="$FUZZ_TIME" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 "$corpus") \
		>"$out/$target.log" 2>&1; then
		echo "ok:   $target ($(grep -o 'stat::number_of_executed_units: *[0-9]*' \
			"$out/$target.log" | grep -o '[0-9]*$') runs)"
		passed=$((passed + 1))
	else
		echo "FAIL: $target"
		grep -A 30 -m 1 -E 'ERROR|runtime error|deadly signal' "$out/$target.log"
		failed=$((failed + 1))
	fi
	rm -rf "$corpus"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
