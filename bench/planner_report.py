#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The planner's report, written by make bench.

For every recorded trace (traces/) and every workload
class A-G (pvdma-replay --synthetic): host calls and failed maps of rfc,
pvdma, the oracle (clairvoyant lower bound) and the fixed block policy at
every power-of-two size from 256 KiB to 256 MiB (the best one with
hindsight: fewest calls among the sizes that fail no more maps than rfc),
what the pool policy copies, speculative waste, trims and planner time.

Usage: planner_report.py REPLAY OUT_JSON OUT_MD [TRACE...]
Writes every replay row to OUT_JSON (one object per line) and the tables
to OUT_MD (docs/perf/planner.md).
"""
import hashlib
import json
import subprocess
import sys

from hindsight import BLOCKS, best_block, misses_block_target, \
    misses_rfc_target, short

CLASSES = ("a-stream", "a-descend", "a-scatter", "a-fill", "b-pinned",
           "c-context", "d-multictx", "e-upload", "f-longlists", "g-pool",
           "h-keep", "h-lists", "i-infer", "j-texture", "k-regbatch",
           "j-stream", "l-rereg")


def replay(binary, args, source):
    cmd = [binary, "--json", "--quiet"] + args
    if source.startswith("synthetic:"):
        cmd += ["--synthetic", source[len("synthetic:"):]]
    else:
        cmd.append(source)
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return [json.loads(line) for line in out.stdout.splitlines()
            if line.startswith("{")]


def measure(binary, source, rows_out):
    rows = {}
    for r in replay(binary, ["--policy", "all"], source):
        rows[r["policy"]] = r
    for extra, name in ((["--policy", "pool"], "pool"),
                        (["--policy", "oracle"], "oracle")):
        got = replay(binary, extra, source)
        if got:
            rows[name] = got[0]
    rows["blocks"] = {}
    for size in BLOCKS:
        got = replay(binary, ["--policy", "block", "--block", size], source)
        if got:
            rows["blocks"][size] = got[0]
    for key, r in rows.items():
        if key == "blocks":
            for size, b in r.items():
                rows_out.append(dict(b, block=size))
        else:
            rows_out.append(r)
    return rows


def mib(b):
    return "%.0f" % (b / 1048576.0)


def table(title, sources, results):
    lines = ["## %s" % title, "",
             "| workload | rfc calls | pvdma calls | rfc/pvdma | oracle | "
             "best block (calls) | pvdma/best | failed rfc / pvdma / best | "
             "waste peak MiB | trims | pool copied MiB (failed) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for src in sources:
        rows = results[src]
        rfc, pv = rows["rfc"], rows["pvdma"]
        best = best_block(rows)
        oracle = rows.get("oracle")
        pool = rows.get("pool")
        best_txt = "%s (%d)" % (best[1], best[0]) if best else "none"
        best_fail = rows["blocks"][best[1]]["failed_maps"] if best else "-"
        lines.append(
            "| %s | %d | %d | %.1fx | %s | %s | %s | %d / %d / %s | %s | %d | %s |"
            % (short(src), rfc["host_calls"], pv["host_calls"],
               rfc["host_calls"] / max(1, pv["host_calls"]),
               oracle["host_calls"] if oracle else "-",
               best_txt,
               "%.2f" % (pv["host_calls"] / best[0]) if best else "-",
               rfc["failed_maps"], pv["failed_maps"], best_fail,
               mib(pv.get("spec_waste_peak_bytes", 0)), pv.get("trims", 0),
               "%s (%d)" % (mib(pool["bounced_bytes"]), pool["failed_maps"])
               if pool else "-"))
    lines.append("")
    return lines


def timing(sources, results):
    lines = ["## Planner time (same process, replay's map time less the "
             "DART model's)", "",
             "One replay; perf/planner-time.md has the medians of many, "
             "with the unmap, and which traces miss the time targets.", "",
             "| workload | segments per map | pvdma ns/segment | "
             "pvdma ns/map | rfc ns/map | fast lookups / hits |",
             "|---|---:|---:|---:|---:|---:|"]
    for src in sources:
        rows = results[src]
        pv, rfc = rows["pvdma"], rows["rfc"]
        lines.append("| %s | %.1f | %.1f | %.1f | %.1f | %d / %d |"
                     % (short(src),
                        pv["map_segments"] / max(1, pv["map_requests"]),
                        pv["planner_ns_per_segment"],
                        pv["planner_ns_per_map"], rfc["planner_ns_per_map"],
                        pv.get("fast_lookups", 0), pv["hits"]))
    lines.append("")
    return lines


def names(items):
    return ", ".join(items) if items else "none"


def targets(sources, results):
    """Where each host-call target is missed, workload by workload."""
    need_30x, over_2x = [], []
    for src in sources:
        rows = results[src]
        pv, rfc = rows["pvdma"], rows["rfc"]
        best = best_block(rows)
        if not best:
            continue
        name = short(src)
        if misses_rfc_target(rfc["host_calls"], pv["host_calls"], best[0]):
            need_30x.append("%s (%.1fx; best block %.1fx)"
                            % (name, rfc["host_calls"] / max(1, pv["host_calls"]),
                               rfc["host_calls"] / best[0]))
        if misses_block_target(pv["host_calls"], best[0]):
            over_2x.append("%s (%.2f)" % (name, pv["host_calls"] / best[0]))
    return ["## Against the targets", "",
            "Written from the tables above, over %d workloads (traces and "
            "classes); the planner-time targets are judged in "
            "perf/planner-time.md, on the medians of many replays."
            % len(sources), "",
            "- Best block reaches 30x fewer calls than rfc, pvdma does not "
            "(%d): %s." % (len(need_30x), names(need_30x)),
            "- pvdma needs more than twice the best block's calls (%d): %s."
            % (len(over_2x), names(over_2x)),
            ""]


def main():
    binary, out_json, out_md = sys.argv[1:4]
    # a trace given twice (the same content under two names) counts once
    seen, traces = set(), []
    for path in sys.argv[4:]:
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            traces.append(path)
    sources = traces + ["synthetic:" + c for c in CLASSES]
    results, rows_out = {}, []
    for src in sources:
        results[src] = measure(binary, src, rows_out)
    with open(out_json, "w") as f:
        for r in rows_out:
            f.write(json.dumps(r) + "\n")
    md = ["# Planner v2: traces and workload classes",
          "",
          "Written by `make bench` (bench/planner_report.py) from "
          "`pvdma-replay --json`; every number below is in "
          "build/bench/policies.json. Host calls are VM exits. The best "
          "block is the fixed aligned window size, among 256 KiB .. 256 MiB, "
          "with the fewest host calls of those that fail no more maps than "
          "rfc (hindsight, per workload). Waste: the most bytes grown "
          "windows held beyond the most their mappings used. Pool: the "
          "original's module-free mode, a 64 MiB bounce pool: every byte "
          "copied.",
          ""]
    md += table("Recorded traces", traces, results)
    md += table("Workload classes (synthetic, docs/performance.md)",
                ["synthetic:" + c for c in CLASSES], results)
    md += timing(sources, results)
    md += targets(sources, results)
    with open(out_md, "w") as f:
        f.write("\n".join(md))


if __name__ == "__main__":
    main()
