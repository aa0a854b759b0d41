#!/bin/sh
# SPDX-License-Identifier: MIT
# The trace tables of README.md, docs/replay.md and docs/traces.md against
# a fresh replay of traces/ (scripts/trace_tables.py --check): a number
# there that the code no longer produces fails here. Fix: make bench, or
# scripts/trace_tables.py --write. Prints "N passed, N failed".
# Env: BUILD (default build).
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
if [ ! -x "$BUILD/pvdma-replay" ]; then
	echo "FAIL: $BUILD/pvdma-replay not built"
	echo "0 passed, 1 failed"
	exit 1
fi
exec python3 scripts/trace_tables.py --check --replay "$BUILD/pvdma-replay"
