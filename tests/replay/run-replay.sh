#!/bin/sh
# SPDX-License-Identifier: MIT
# Integration test of pvdma-replay against the acceptance criteria of
# issue 3: every trace (../shared/traces and the project's traces/) with
# --policy all, plus the synthetic workloads. Prints one line per check and
# "N passed, N failed" at the end.
# Env: BUILD (default build), TRACES (default: ../shared/traces traces).
set -u
BUILD=${BUILD:-build}
TRACES=${TRACES:-../shared/traces traces}
REPLAY="$BUILD/pvdma-replay"
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

if [ ! -x "$REPLAY" ]; then
	echo "FAIL: $REPLAY not built"
	echo "0 passed, 1 failed"
	exit 1
fi

traces=""
for dir in $TRACES; do
	[ -d "$dir" ] || continue
	traces="$traces $(find "$dir" -name '*.trace.xz' -o -name '*.trace' | sort)"
done
if [ -z "$traces" ]; then
	echo "note: no traces under $TRACES; only the synthetic checks run"
	: >"$out/traces.json"
else
	# shellcheck disable=SC2086
	"$REPLAY" --policy all --json --quiet $traces >"$out/traces.json"
	echo "replay of $(echo "$traces" | wc -l) traces: exit $?" \
		>"$out/status"
fi

# Small aperture and op count: the same shapes, fast under ASan.
AP=256M
"$REPLAY" --json --quiet --aperture $AP --policy rfc \
	--synthetic over-aperture --synthetic storm4k >"$out/synth.json"
"$REPLAY" --json --quiet --aperture $AP --policy pvdma --bounce off \
	--synthetic over-aperture --synthetic storm4k >>"$out/synth.json"
# 3/4 of the aperture live in 4..64 KiB buffers takes about 1.5x that in
# 16 KiB pages: more than the aperture. The pool packs buffers densely, so
# it must hold the overflow: half the aperture does (docs/replay.md).
"$REPLAY" --json --quiet --aperture $AP --policy pvdma --bounce all \
	--bounce-pool 128M --synthetic over-aperture \
	| sed 's/"policy": "pvdma"/"policy": "pvdma+bounce"/' >>"$out/synth.json"
"$REPLAY" --json --quiet --policy all --synthetic churn --ops 100000 \
	>>"$out/synth.json"

python3 - "$out/traces.json" "$out/synth.json" <<'PY'
import json
import sys

passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
        print("ok:   " + what)
    else:
        failed += 1
        print("FAIL: " + what)


def load(path):
    rows = {}
    with open(path) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                rows.setdefault(r["trace"], {})[r["policy"]] = r
    return rows


traces = load(sys.argv[1])
for name, by in sorted(traces.items()):
    short = name.split("/")[-1]
    for pol in ("rfc", "perpage", "pvdma"):
        check(pol in by, "%s: %s row present" % (short, pol))
    if not all(p in by for p in ("rfc", "perpage", "pvdma")):
        continue
    rfc, pv = by["rfc"], by["pvdma"]
    for pol, r in by.items():
        check(r["verify_errors"] == 0,
              "%s %s: verify_errors %d == 0" % (short, pol, r["verify_errors"]))
        check(r["parse_errors"] == 0,
              "%s %s: parse_errors %d == 0" % (short, pol, r["parse_errors"]))
    check(len({r["peak_live_bytes"] for r in by.values()}) == 1,
          "%s: peak_live_bytes the same for every policy" % short)
    check(pv["peak_aperture_bytes"] <= pv["aperture"],
          "%s: pvdma peak_aperture_bytes %d <= aperture %d"
          % (short, pv["peak_aperture_bytes"], pv["aperture"]))
    if pv["peak_live_bytes"] > 2 * pv["aperture"]:
        # Far over the aperture (uvm-oversub: 2.7x): half its maps fail under
        # any policy, and the windows grown around the driver's first pages
        # cost a few of the large maps' room (docs/planner.md, the trade-off
        # speculation makes). Bounded, not exempt.
        check(pv["host_calls"] * 4 <= rfc["host_calls"],
              "%s: live set > 2x aperture: pvdma host_calls %d <= rfc %d / 4"
              % (short, pv["host_calls"], rfc["host_calls"]))
        check(pv["failed_maps"] * 100 <= rfc["failed_maps"] * 105,
              "%s: live set > 2x aperture: pvdma failed_maps %d <= rfc %d + 5%%"
              % (short, pv["failed_maps"], rfc["failed_maps"]))
    else:
        check(pv["host_calls"] * 10 <= rfc["host_calls"],
              "%s: pvdma host_calls %d <= rfc %d / 10"
              % (short, pv["host_calls"], rfc["host_calls"]))
        check(pv["failed_maps"] <= rfc["failed_maps"],
              "%s: pvdma failed_maps %d <= rfc %d"
              % (short, pv["failed_maps"], rfc["failed_maps"]))
    if pv["peak_live_bytes"] <= pv["aperture"]:
        check(pv["failed_maps"] == 0,
              "%s: live set %d fits the aperture: pvdma failed_maps %d == 0"
              % (short, pv["peak_live_bytes"], pv["failed_maps"]))

synth = load(sys.argv[2])
oa = synth.get("synthetic:over-aperture", {})
st = synth.get("synthetic:storm4k", {})
ch = synth.get("synthetic:churn", {})
for rows, name in ((oa, "over-aperture"), (st, "storm4k"), (ch, "churn")):
    for pol, r in sorted(rows.items()):
        check(r["verify_errors"] == 0 and r["unmatched_unmaps"] == 0,
              "%s %s: verify_errors %d, unmatched_unmaps %d == 0"
              % (name, pol, r["verify_errors"], r["unmatched_unmaps"]))
if all(k in oa for k in ("rfc", "pvdma", "pvdma+bounce")):
    check(oa["rfc"]["failed_maps"] > 0,
          "over-aperture: rfc fails maps (%d)" % oa["rfc"]["failed_maps"])
    b = oa["pvdma+bounce"]
    check(b["failed_maps"] == 0 and b["bounced_bytes"] > 0,
          "over-aperture: pvdma --bounce all failed_maps %d == 0, "
          "bounced_bytes %d > 0" % (b["failed_maps"], b["bounced_bytes"]))
    check(oa["pvdma"]["failed_maps"] <= oa["rfc"]["failed_maps"],
          "over-aperture: pvdma --bounce off failed_maps %d <= rfc %d"
          % (oa["pvdma"]["failed_maps"], oa["rfc"]["failed_maps"]))
else:
    check(False, "over-aperture rows present")
if "rfc" in st and "pvdma" in st:
    check(st["pvdma"]["peak_aperture_bytes"] * 2
          <= st["rfc"]["peak_aperture_bytes"],
          "storm4k: pvdma peak_aperture_bytes %d <= rfc %d / 2"
          % (st["pvdma"]["peak_aperture_bytes"],
             st["rfc"]["peak_aperture_bytes"]))
    check(st["pvdma"]["failed_maps"] <= st["rfc"]["failed_maps"],
          "storm4k: pvdma failed_maps %d <= rfc %d"
          % (st["pvdma"]["failed_maps"], st["rfc"]["failed_maps"]))
else:
    check(False, "storm4k rows present")
if "pvdma" in ch:
    check(ch["pvdma"]["peak_aperture_bytes"] <= ch["pvdma"]["aperture"],
          "churn: pvdma peak_aperture_bytes <= aperture")
else:
    check(False, "churn rows present")

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
PY
