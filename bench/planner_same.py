#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Does a change to the planner keep its decisions? Compare two replays.

A change meant only to make the planner faster must leave every count
the replay reports alone: host calls, maps, failed maps, aperture, verify
errors, for every policy on every trace and every synthetic class. Only
the timing fields may differ.

Usage:
  planner_same.py dump REPLAY OUT.jsonl TRACE...   replay everything, keep
                                                   the counts
  planner_same.py diff A.jsonl B.jsonl             every count that differs;
                                                   exit 1 if any does
"""
import json
import subprocess
import sys

# What a faster planner may change: its timings, how many lookups its
# fast path answered, how many maps its hit path served, how many it
# refused with no pass and how many refused calls it planned again exact
# (measures of those paths themselves).
TIMING = {"ns_per_map", "planner_ns_per_map", "planner_ns_per_segment",
          "planner_unmap_ns_per_map", "planner_ns_per_map_with_call",
          "planner_ns_per_map_no_call", "fast_lookups", "fast_maps",
          "fast_refusals", "exact_passes"}
# Counts a baseline built before they existed lacks: compared whenever
# both replays write them.
NEW_COUNTS = {"call_maps", "hidden_filled", "hidden_invented",
              "fills_refused"}
SYNTHETIC = ("over-aperture", "churn", "storm4k", "a-stream", "a-descend",
             "a-scatter", "b-pinned", "c-context", "d-multictx", "e-upload",
             "f-longlists", "g-pool", "a-fill", "h-keep", "h-lists",
             "i-infer", "j-texture", "k-regbatch", "j-stream",
             "l-rereg")
# every policy, and the options that take the cache down other paths
RUNS = (["--policy", "all"], ["--policy", "block"], ["--policy", "pool"],
        ["--policy", "pvdma", "--bounce", "all"],
        ["--policy", "pvdma", "--strict"])


def replay(prog, args):
    out = subprocess.run([prog, "--json", "--quiet"] + args,
                         capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line]


def dump(prog, out, traces):
    inputs = [[t] for t in traces] + [["--synthetic", s] for s in SYNTHETIC]
    with open(out, "w") as f:
        for run in RUNS:
            for inp in inputs:
                for row in replay(prog, run + inp):
                    row["run"] = " ".join(run)
                    f.write(json.dumps(row, sort_keys=True) + "\n")


def load(path):
    rows = {}
    with open(path) as f:
        for line in f:
            row = json.loads(line)
            key = (row["run"], row["trace"], row["policy"],
                   row.get("block_bytes"))
            rows[key] = {k: v for k, v in row.items() if k not in TIMING}
    return rows


def diff(a_path, b_path):
    a, b = load(a_path), load(b_path)
    bad = 0
    for key in sorted(set(a) | set(b), key=str):
        if key not in a or key not in b:
            print("only in one: %s" % (key,))
            bad += 1
            continue
        for field in sorted(set(a[key]) | set(b[key])):
            if field not in a[key] and field in NEW_COUNTS:
                continue        # an older replay did not write it
            if a[key].get(field) != b[key].get(field):
                print("%s %s: %s -> %s" % (key, field, a[key].get(field),
                                           b[key].get(field)))
                bad += 1
    print("%d rows, %d differences" % (len(a), bad))
    return 1 if bad else 0


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "dump":
        dump(sys.argv[2], sys.argv[3], sys.argv[4:])
        return 0
    if len(sys.argv) == 4 and sys.argv[1] == "diff":
        return diff(sys.argv[2], sys.argv[3])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
