#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A change to the planner's decisions, judged row by row against the old.

Where planner_same.py asks that nothing change, this asks what did: every
trace and every synthetic class (planner_report.py's) at several
apertures, under rfc and pvdma, and per pvdma row the host calls and
failed maps before and after. A change that saves calls on the traces it
was made for often costs failed maps or calls elsewhere (an
over-aperture trace, another aperture): this shows every row that moved,
the totals, and the rows where pvdma fails more maps than rfc (the
planner's first guarantee, docs/planner.md).

Usage:
  planner_ab.py dump REPLAY OUT.jsonl TRACE...   replay everything at the
                                                 apertures, keep the counts
  planner_ab.py diff A.jsonl B.jsonl             the pvdma rows that moved,
                                                 then the totals; exit 1 if
                                                 B fails more maps than rfc
                                                 anywhere
"""
import json
import sys

from planner_report import CLASSES
from planner_sweep import replay

APERTURES = ("512M", "1G", "1536M", "3G")
KEPT = ("host_calls", "failed_maps", "verify_errors")


def dump(prog, out, traces):
    inputs = [list(traces)] + [["--synthetic", c] for c in CLASSES]
    with open(out, "w") as f:
        for ap in APERTURES:
            for inp in inputs:
                rows, _ = replay(prog, ["--policy", "rfc,pvdma",
                                        "--aperture", ap] + inp)
                for row in rows:
                    kept = {k: row[k] for k in KEPT}
                    kept.update(trace=row["trace"], policy=row["policy"],
                                aperture=ap)
                    f.write(json.dumps(kept, sort_keys=True) + "\n")


def load(path):
    rows = {}
    with open(path) as f:
        for line in f:
            row = json.loads(line)
            rows[(row["trace"], row["aperture"], row["policy"])] = row
    return rows


def diff(a_path, b_path):
    a, b = load(a_path), load(b_path)
    calls = [0, 0]
    failed = [0, 0]
    over_rfc = [0, 0]
    for key in sorted(k for k in b if k[2] == "pvdma"):
        if key not in a:
            print("only in %s: %s at %s" % (b_path, key[0], key[1]))
            continue
        rfc = b.get((key[0], key[1], "rfc"), {}).get("failed_maps", 0)
        old, new = a[key], b[key]
        calls[0] += old["host_calls"]
        calls[1] += new["host_calls"]
        failed[0] += old["failed_maps"]
        failed[1] += new["failed_maps"]
        over_rfc[0] += old["failed_maps"] > rfc
        over_rfc[1] += new["failed_maps"] > rfc
        if new["verify_errors"]:
            print("%s at %s: %d mappings wrong" %
                  (key[0], key[1], new["verify_errors"]))
        if (old["host_calls"], old["failed_maps"]) != \
           (new["host_calls"], new["failed_maps"]):
            print("%-48s %-6s calls %6d -> %-6d failed %6d -> %-6d (rfc %d)"
                  % (key[0][-48:], key[1], old["host_calls"],
                     new["host_calls"], old["failed_maps"],
                     new["failed_maps"], rfc))
    print("host calls %d -> %d, failed maps %d -> %d, "
          "rows failing more maps than rfc %d -> %d"
          % (calls[0], calls[1], failed[0], failed[1], over_rfc[0],
             over_rfc[1]))
    return 1 if over_rfc[1] else 0


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
