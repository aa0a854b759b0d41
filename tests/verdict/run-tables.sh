#!/bin/sh
# SPDX-License-Identifier: MIT
# The trace tables of README.md, traces/README.md and docs/ against a
# fresh replay of traces/ (scripts/trace_tables.py --check): a number
# there that the code no longer produces fails here. Fix: make bench,
# scripts/tables.sh, or scripts/trace_tables.py --write. Prints "N passed, N failed".
# Env: BUILD (default build).
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
. tests/lib.sh
need "$BUILD/pvdma-replay"
need "$BUILD/pvdma-trace"	# the stats table runs pvdma-trace stats
# trace_tables.py prints its own lines and count, and exits 1 on a
# difference.
counted python3 scripts/trace_tables.py --check --replay "$BUILD/pvdma-replay"
finish
