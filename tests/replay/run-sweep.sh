#!/bin/sh
# SPDX-License-Identifier: MIT
# The planner's guarantees off the repository's own shapes: every
# synthetic workload (two seeds the tables do not use) at four apertures
# but the default (512 MiB .. 3 GiB) under pvdma, rfc and the oracle, through
# bench/planner_sweep.py --quick: no more failed maps than rfc, none when
# the live set fits in 16 KiB pages (the oracle fails none), none that
# cost a host call, the aperture and mapping limits kept, every mapping
# verified, no planner warning; h-lists's and l-rereg's counts against rfc are shown, not
# enforced (bench/planner_sweep.py's RFC_KNOWN says why). make bench's
# full sweep (every trace, five apertures, three seeds, block sizes) is
# bench/planner_sweep.py.
# Env: BUILD (default build).
set -u
BUILD=${BUILD:-build}
. "$(dirname "$0")/../lib.sh"
need "$BUILD/pvdma-replay"
check "planner_sweep --quick: every synthetic workload, 2 seeds, 512M..3G, keeps the guarantees" \
	python3 "$(dirname "$0")/../../bench/planner_sweep.py" --quick \
	"$BUILD/pvdma-replay"
if [ -s "$check_out" ]; then
	sed 's/^/      /' "$check_out"
fi
finish
