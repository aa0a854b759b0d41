#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The planner's time per map and per list entry, pvdma against rfc.

pvdma-replay times each pvdma_map() call and takes out the host's time
(the DART model) and the clock's own cost; one run on a shared machine
still wanders by tens of percent, so each trace is replayed R times (pvdma
and rfc in one process, each first in half the runs: the first run pays
for the process's cold caches and code) and
the median is written with the lowest and highest beside it, and the
ratio pvdma / rfc of the medians per map, alone and with the map's
unmap (rfc releases a window at unmap, pvdma in a later map). Where
pvdma's mean per map comes from: the maps that made no host call (the
hit path) and the few that made one (misses, trims, evictions), each
per map, and the share of the planner's time the latter take.
bench/planner_callgrind.py writes the instruction counts, which do not
wander.

Usage: planner_time.py REPLAY OUT_MD RUNS TRACE...
"""
import json
import statistics
import subprocess
import sys

POLICIES = ("pvdma", "rfc")


def runs(replay, trace, count):
    """{policy: [(ns per entry, ns per map, ns per map with unmap), ...]}
    over @count replays."""
    got = {p: [] for p in POLICIES}
    for i in range(count):
        # both in one process, each first in half the runs: the first
        # pays for the process's cold caches and code
        order = "rfc,pvdma" if i % 2 else "pvdma,rfc"
        out = subprocess.run([replay, "--json", "--quiet", "--policy", order,
                              trace], capture_output=True, text=True).stdout
        for line in out.splitlines():
            row = json.loads(line)
            if row["policy"] in got:
                got[row["policy"]].append((row["planner_ns_per_segment"],
                                           row["planner_ns_per_map"],
                                           row["planner_ns_per_map"] +
                                           row["planner_unmap_ns_per_map"],
                                           row["planner_ns_per_map_no_call"],
                                           row["planner_ns_per_map_with_call"],
                                           call_share(row),
                                           row["call_maps"]))
    return got


def call_share(row):
    """The share of the planner's map time in maps that made a host call."""
    total = row["planner_ns_per_map"] * row["map_requests"]
    return (row["planner_ns_per_map_with_call"] * row["call_maps"] /
            total if total else 0.0)


def cell(values):
    return "%.1f [%.1f-%.1f]" % (statistics.median(values), min(values),
                                 max(values))


def judge(name, got, misses):
    """Which planner-time targets trace @name misses, on the medians."""
    med = {p: [statistics.median(v[k] for v in got[p]) for k in (0, 1, 2)]
           for p in POLICIES}
    pv, rfc = med["pvdma"], med["rfc"]
    if pv[1] > rfc[1]:
        misses["map"].append("%s (%.2f)" % (name, pv[1] / max(rfc[1], 1e-9)))
    if pv[2] > rfc[2]:
        misses["both"].append("%s (%.2f)" % (name, pv[2] / max(rfc[2], 1e-9)))
    entries = pv[1] / pv[0] if pv[0] else 1.0
    if entries >= 2 and pv[0] > 10:
        misses["entry"].append("%s (%.1f)" % (name, pv[0]))
    if entries < 2 and pv[1] > 100:
        misses["single"].append("%s (%.1f)" % (name, pv[1]))


def against_targets(misses, n):
    """The targets (<= 10 ns per list entry, <= 100 ns per single map,
    never slower than rfc per map), each with the traces that miss it."""
    def names(items):
        return ", ".join(items) if items else "none"
    return ["", "## Against the targets", "",
            "From the medians above, over %d traces." % n, "",
            "- Slower than rfc per map, the map alone (%d; pvdma / rfc): %s."
            % (len(misses["map"]), names(misses["map"])),
            "- Slower than rfc per map with its unmap, the fair comparison "
            "(%d): %s." % (len(misses["both"]), names(misses["both"])),
            "- Over 10 ns per list entry, where maps average two entries "
            "or more (%d; ns): %s." % (len(misses["entry"]),
                                       names(misses["entry"])),
            "- Over 100 ns per map, where maps average under two entries "
            "(%d; ns): %s." % (len(misses["single"]),
                               names(misses["single"]))]


def main():
    if len(sys.argv) < 5:
        sys.stderr.write(__doc__)
        return 2
    replay, out_md, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
    lines = ["# Planner time per list entry and per map (replay)",
             "",
             "Written by bench/planner_time.py: pvdma-replay's",
             "planner_ns_per_segment and planner_ns_per_map (the host's",
             "and the clock's time taken out), median [lowest-highest] of",
             "%d replays of each trace (pvdma and rfc in one process, each" %
             count,
             "run first in half of them: the first pays for cold caches),",
             "and pvdma / rfc of the medians per",
             "map, alone and with its unmap (planner_unmap_ns_per_map).",
             "Then pvdma's maps split: those that made no host call (hits)",
             "and those that made one (misses, trims, evictions), how many",
             "of the latter, median ns per map of each and the median share",
             "of the planner's map time the latter take.",
             "Instruction counts: planner-callgrind.md.",
             "",
             "| trace | pvdma ns/entry | pvdma ns/map | rfc ns/entry "
             "| rfc ns/map | pvdma / rfc per map "
             "| pvdma / rfc per map with unmap "
             "| pvdma maps with a host call | ns/map without a call "
             "| ns/map with a call | share of time with a call |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    misses = {"map": [], "both": [], "entry": [], "single": []}
    for trace in sys.argv[4:]:
        got = runs(replay, trace, count)
        cells = []
        for policy in POLICIES:
            cells += [cell([v[0] for v in got[policy]]),
                      cell([v[1] for v in got[policy]])]
        for k in (1, 2):
            cells.append("%.2f" % (
                statistics.median(v[k] for v in got["pvdma"]) /
                max(statistics.median(v[k] for v in got["rfc"]), 1e-9)))
        pv = got["pvdma"]
        cells.append("%d" % pv[0][6])
        cells += ["%.1f" % statistics.median(v[k] for v in pv)
                  for k in (3, 4)]
        cells.append("%.0f%%" % (100 * statistics.median(v[5] for v in pv)))
        name = "/".join(trace.split("/")[-2:]).replace(".trace.xz", "")
        lines.append("| %s | %s |" % (name, " | ".join(cells)))
        print(lines[-1], flush=True)
        judge(name, got, misses)
    lines += against_targets(misses, len(sys.argv) - 4)
    with open(out_md, "w") as f:
        f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
