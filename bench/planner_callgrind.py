#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The planner's instruction counts per map and per list entry (callgrind).

Timings on a shared machine wander; instruction counts do not. For every
trace given, each policy is replayed under callgrind collecting only inside
pvdma_map, and the instructions of the host side (the replay's submit, the
DART model) are taken out: what is left is the guest planner's own work,
divided by the driver's map calls and by their entries (pvdma-replay
--json's map_requests and map_segments). A second run collects inside
pvdma_unmap too: a policy that unmaps at once (rfc) releases its windows
there, a caching one (pvdma) in a later map, so per map with its unmap is
the fair comparison of the two.

Usage: planner_callgrind.py REPLAY OUT_MD TRACE...
"""
import json
import os
import re
import subprocess
import sys
import tempfile

POLICIES = ("pvdma", "rfc")


def inclusive(out, pattern):
    """Inclusive Ir of the function matching @pattern, or 0."""
    # every function listed: the default threshold leaves out the small
    # ones, the host's submit among them on list-heavy traces. A function
    # may be listed under two file names (its absolute path, and the
    # relative one with the binary, which leaves out what was inlined
    # from another file): the largest is all of it. Taking the first
    # charged rfc 7 Ir per map of the host's work on some builds.
    ann = subprocess.run(["callgrind_annotate", "--inclusive=yes",
                          "--threshold=100", out],
                         capture_output=True, text=True, check=True).stdout
    best = 0
    for line in ann.splitlines():
        m = re.match(r"\s*([\d,]+)\s.*" + pattern, line)
        if m:
            best = max(best, int(m.group(1).replace(",", "")))
    return best


def planner_ir(replay, policy, trace, entries=("pvdma_map",)):
    toggles = ["--toggle-collect=" + e for e in entries]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "cg.out")
        subprocess.run(["valgrind", "--tool=callgrind"] + toggles +
                       ["--callgrind-out-file=" + out, replay, "--quiet",
                        "--policy", policy, trace],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        total = inclusive(out, r"PROGRAM TOTALS")
        # the host's entry: host.c's since the replay was split (dab3a54),
        # replay.c's before; a pattern that finds neither is an error,
        # not a count with the host left in
        host = inclusive(out, r":replay(_host)?_submit( \[|$)")
        if not host:
            sys.exit("planner_callgrind.py: no host submit in the profile "
                     "of %s %s" % (policy, trace))
    return total - host


def counts(replay, policy, trace):
    row = json.loads(subprocess.run([replay, "--json", "--quiet", "--policy",
                                     policy, trace], capture_output=True,
                                    text=True).stdout.splitlines()[0])
    return row["map_requests"], row["map_segments"]


def main():
    replay, out_md, traces = sys.argv[1], sys.argv[2], sys.argv[3:]
    lines = ["# Planner instructions per map and per list entry (callgrind)",
             "",
             "Written by bench/planner_callgrind.py: instructions inside",
             "pvdma_map less the host side (the replay's submit and the DART",
             "model), per driver map call and per entry; with unmap: inside",
             "pvdma_unmap too, per map call.",
             "",
             "| trace | maps | entries | pvdma Ir/map | pvdma Ir/entry "
             "| rfc Ir/map | rfc Ir/entry | pvdma Ir/map with unmap "
             "| rfc Ir/map with unmap |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for trace in traces:
        cells = []
        maps, segs = counts(replay, "pvdma", trace)
        for policy in POLICIES:
            ir = planner_ir(replay, policy, trace)
            cells += ["%.0f" % (ir / max(maps, 1)), "%.0f" % (ir / max(segs, 1))]
        for policy in POLICIES:
            ir = planner_ir(replay, policy, trace, ("pvdma_map", "pvdma_unmap"))
            cells.append("%.0f" % (ir / max(maps, 1)))
        name = "/".join(trace.split("/")[-2:]).replace(".trace.xz", "")
        lines.append("| %s | %d | %d | %s |" % (name, maps, segs,
                                                " | ".join(cells)))
        print(lines[-1], flush=True)
    with open(out_md, "w") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
