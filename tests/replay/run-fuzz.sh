#!/bin/sh
# SPDX-License-Identifier: MIT
# The planner's guarantees on mixtures of the workload classes: pvdma-replay
# --synthetic mix (2-5 phases drawn from the seed: scaled, moved, sequential
# or interleaved) at 512M, 1536M and 3G under rfc, pvdma and the oracle,
# through bench/planner_fuzz.py --quick: its QUICK_SEEDS, none of the
# tables' seeds. No more failed maps than rfc, none where the oracle fails
# none, none that cost a host call, the limits kept, every mapping
# verified, every replay run to its end. The long run (many seeds, block
# sizes, the 2x-of-best-block ratio) is bench/planner_fuzz.py itself.
# Env: BUILD (default build).
set -u
BUILD=${BUILD:-build}
. "$(dirname "$0")/../lib.sh"
need "$BUILD/pvdma-replay"
check "planner_fuzz --quick: mix, its quick seeds, 512M/1536M/3G, keeps the guarantees" \
	python3 "$(dirname "$0")/../../bench/planner_fuzz.py" --quick \
	"$BUILD/pvdma-replay"
if [ -s "$check_out" ]; then
	sed 's/^/      /' "$check_out"
fi
finish
