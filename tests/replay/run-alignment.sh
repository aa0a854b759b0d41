#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Alignment of bus addresses on the recorded traces: every trace of
# traces/*/ replayed with each policy; the share of mapped bytes whose bus
# address agrees with the physical one modulo 64 KiB and 2 MiB (what a
# driver with large GPU pages assumes). pvdmad keeps alignment (lib/dart.c);
# the rfc policy models the original system, whose host does not.
# Checks, per trace: pvdma keeps at least the share rfc keeps, at both
# sizes, and every map it sends is verified. Writes docs/perf/alignment.md
# and the summary in docs/performance.md §6; prints "N passed, N failed".
# Env: BUILD (default build).
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
REPLAY=$BUILD/pvdma-replay
. tests/lib.sh
[ -x "$REPLAY" ] || make -s BUILD="$BUILD" "$REPLAY" >/dev/null
need "$REPLAY"
out=$(mktemp)
trap 'rm -f "$out" "$out.counts"' EXIT
# exit status 1: some trace has maps that fail on every policy (over the
# aperture); the JSON says which, the shares are still meaningful
"$REPLAY" --policy all --json --quiet traces/*/*.trace.xz >"$out" 2>/dev/null
rc=$?
status_ok "$rc" 0 1 || abort "the replay of traces/ ran to its end (exit $rc)"
PYTHONPATH=tests python3 - "$out" docs/perf/alignment.md "$out.counts" <<'PY'
import json, os, sys
from checks import check, write_counts
rows = {}
for line in open(sys.argv[1]):
    try:
        o = json.loads(line)
    except ValueError:
        continue
    if "policy" not in o or "align_bytes" not in o:
        continue
    rows.setdefault(o["trace"], {})[o["policy"]] = o
policies = ["rfc", "pvdma"]
lines = ["<!-- written by tests/replay/run-alignment.sh; do not edit -->",
         "# Bus-address alignment on the recorded traces", "",
         "Share of the driver's mapped bytes whose bus address equals its "
         "physical address modulo 64 KiB and 2 MiB, per policy "
         "(`pvdma-replay --json`: align_64k_share, align_2m_share); "
         "fallbacks: host maps the DART model placed with less alignment "
         "than wanted (fragmented bus space).", "",
         "| trace | rfc 64 KiB | pvdma 64 KiB | rfc 2 MiB | pvdma 2 MiB | pvdma fallbacks |",
         "|---|---:|---:|---:|---:|---:|"]
for trace in sorted(rows):
    r = rows[trace]
    if not all(p in r for p in policies):
        check(False, f"{trace}: both policies ran")
        continue
    rfc, pv = r["rfc"], r["pvdma"]
    name = "/".join(trace.split("/")[-2:]).replace(".trace.xz", "")
    check(pv["align_bytes"] > 0 and pv["verify_errors"] == 0,
          f"{name}: pvdma's maps verified ({pv['align_bytes']} bytes)")
    for k in ("64k", "2m"):
        a, b = rfc[f"align_{k}_share"], pv[f"align_{k}_share"]
        check(b >= a, f"{name}: pvdma keeps {k} alignment for {b:.4f} of bytes >= rfc {a:.4f}")
    lines.append(f"| {name} | {rfc['align_64k_share']:.3f} | {pv['align_64k_share']:.3f} | "
                 f"{rfc['align_2m_share']:.3f} | {pv['align_2m_share']:.3f} | {pv['align_fallbacks']} |")
os.makedirs(os.path.dirname(sys.argv[2]), exist_ok=True)
with open(sys.argv[2], "w") as f:
    f.write("\n".join(lines) + "\n")
# the summary in docs/performance.md §6, between its markers
import statistics
def stats(pol, key):
    v = [rows[t][pol][key] for t in rows if all(p in rows[t] for p in policies)]
    return f"{min(v):.3f} / {statistics.median(v):.3f} / {max(v):.3f}" if v else "-"
fb = sum(rows[t]["pvdma"]["align_fallbacks"] for t in rows if "pvdma" in rows[t])
summary = ["| policy | 64 KiB kept (min / median / max) | 2 MiB kept (min / median / max) | fallbacks |",
           "|---|---|---|---|",
           f"| rfc | {stats('rfc', 'align_64k_share')} | {stats('rfc', 'align_2m_share')} | (no alignment asked) |",
           f"| pvdma | {stats('pvdma', 'align_64k_share')} | {stats('pvdma', 'align_2m_share')} | {fb} over {len(rows)} traces |"]
perf = "docs/performance.md"
text = open(perf).read()
b, e = "<!-- alignment:begin -->\n", "<!-- alignment:end -->"
if b in text and e in text:
    head, rest = text.split(b, 1)
    tail = rest.split(e, 1)[1]
    open(perf, "w").write(head + b + "\n".join(summary) + "\n" + e + tail)
write_counts(sys.argv[3])
PY
add_counts "$out.counts"
finish
