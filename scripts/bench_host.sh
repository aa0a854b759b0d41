#!/bin/sh
# SPDX-License-Identifier: MIT
#
# pvdmad's request rate with the DART model backend (make bench calls
# this; it can run alone): starts pvdmad on a scratch RAM file and runs
# build/host_bench against its companion socket, MAP then UNMAP batches of
# 1, 16, 127 and 2032 entries per doorbell. Writes build/bench/host.json.
# Environment: BUILD (default build), BENCH_HOST_SECONDS (1 per size).
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
OUT=$BUILD/bench
mkdir -p "$OUT"
make -s progs >/dev/null || { echo "bench_host: make progs failed" >&2; exit 1; }
base=/dev/shm
[ -d "$base" ] && [ -w "$base" ] || base=${TMPDIR:-/tmp}
wd=$(mktemp -d "$base/pvdma-hostbench.XXXXXX")
pid=
cleanup() {
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid"
	rm -rf "$wd"
}
trap cleanup EXIT
truncate -s 256M "$wd/ram"
"$BUILD/pvdmad" --socket "$wd/companion.sock" --guest-ram "$wd/ram" \
	--log-level warn >"$wd/pvdmad.log" 2>&1 &
pid=$!
i=0
while [ ! -S "$wd/companion.sock" ]; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
		echo "bench_host: pvdmad did not start" >&2
		cat "$wd/pvdmad.log" >&2
		exit 1
	fi
	sleep 0.1
done
"$BUILD/host_bench" --socket "$wd/companion.sock" \
	--seconds "${BENCH_HOST_SECONDS:-1}" >"$OUT/host.json"
rc=$?
cat "$OUT/host.json"
exit $rc
