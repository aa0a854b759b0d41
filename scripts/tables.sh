#!/bin/sh
# SPDX-License-Identifier: MIT
# Every table made from the shipped traces, in one fast step (no VM, no
# timing runs; under a minute): the blocks of README.md and docs/
# (scripts/trace_tables.py), docs/perf/planner.md (bench/planner_report.py),
# docs/perf/alignment.md and its summary (tests/replay/run-alignment.sh),
# and the blocks made from committed files (scripts/docblocks.py).
# make bench does all of this and measures too.
# usage: scripts/tables.sh [BUILD]   (default build; needs BUILD/pvdma-replay)
set -eu
cd "$(dirname "$0")/.."
BUILD=${1:-build}
REPLAY=$BUILD/pvdma-replay
[ -x "$REPLAY" ] || make -s BUILD="$BUILD" "$REPLAY"
mkdir -p build/bench
python3 scripts/trace_tables.py --write --replay "$REPLAY"
# shellcheck disable=SC2046
python3 bench/planner_report.py "$REPLAY" build/bench/policies.json \
	docs/perf/planner.md $(ls traces/*/*.trace.xz)
BUILD=$BUILD tests/replay/run-alignment.sh | tail -n 1
python3 scripts/docblocks.py --write
echo "tables: written; tests/verdict/run-tables.sh and tests/docs/run-docs.sh check them"
