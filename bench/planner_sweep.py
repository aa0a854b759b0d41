#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Do the planner's decisions hold off the repository's own shapes?

Replays every trace and every synthetic workload (several seeds) at
several apertures under pvdma, rfc, the oracle and the block policy at
a few sizes, and checks the guarantees docs/planner.md makes at each:

  rfc       pvdma fails no more maps than rfc
  fits      pvdma fails no map when the oracle fails none (the live set,
            in 16 KiB pages, always fits beside each map's own)
  host      every failed map was refused at admission: none cost a call
  block     pvdma's host calls at most 2x the best block size's (among
            sizes failing no more maps than rfc)
  limits    peak aperture and mappings within the limits; every mapping
            verified; no planner warning
  storm     storm4k: peak aperture within 5/8 of the aperture

Usage: planner_sweep.py [--quick] [--jobs N] [--json OUT] REPLAY [TRACE...]
Prints one line per flagged row, then totals; exit 1 if any row is
flagged. --quick (tests/replay/run-sweep.sh): four apertures, two seeds, no
block sizes, and only the guarantees (rfc, fits, host, limits): the
block and storm rows are what the planner reaches, not what it promises.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from hindsight import best_block, misses_block_target

SYNTHETIC = ("over-aperture", "storm4k", "a-stream", "a-descend",
             "a-scatter", "a-fill", "b-pinned", "c-context", "d-multictx",
             "e-upload", "f-longlists", "g-pool", "h-keep", "h-lists",
             "i-infer", "j-texture", "k-regbatch", "j-stream",
             "l-rereg")
FULL = {"apertures": ("512M", "1G", "1536M", "2G", "3G"),
        "seeds": (1, 2, 3),
        "blocks": ("256K", "1M", "4M", "16M", "64M", "256M")}
QUICK = {"apertures": ("512M", "1G", "2G", "3G"),
         "seeds": (2, 3),
         "blocks": ()}
# what --quick checks: the guarantees, not the reach
GUARANTEES = ("rfc", "fits", "host", "limits", "missing")
# the classes --quick does not hold to rfc's failed-map count, each with
# why (docs/planner.md): shown, not enforced; every other guarantee is
RFC_KNOWN = {"h-lists": "rfc can refuse a large map first, by its "
                        "accounting, before pvdma has refused anything",
             "l-rereg": "a map refused to keep room comes back as smaller "
                        "pieces that rfc maps in its room (docs/planner.md)"}
MIB = 1 << 20


def replay(binary, args):
    cmd = ["nice", binary, "--json", "--quiet"] + args
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return [json.loads(line) for line in out.stdout.splitlines()
            if line.startswith("{")], out.stderr


def measure(binary, src, aperture, blocks):
    """Every policy's row for one (source, aperture)."""
    base = ["--aperture", aperture] + src
    rows, warn = {}, 0
    for args, name in ((["--policy", "all"], None),
                       (["--policy", "oracle"], "oracle")):
        got, err = replay(binary, args + base)
        warn += err.count("WARNING")
        for r in got:
            rows[name or r["policy"]] = r
    rows["blocks"] = {}
    for size in blocks:
        got, err = replay(binary, ["--policy", "block", "--block", size] +
                          base)
        warn += err.count("WARNING")
        if got:
            rows["blocks"][size] = got[0]
    rows["stderr_warnings"] = warn
    return rows


def flags(label, rows):
    """What this row breaks, as short strings."""
    out = []
    if not all(k in rows for k in ("rfc", "pvdma", "oracle")):
        return ["missing rows"]
    pv, rfc, orc = rows["pvdma"], rows["rfc"], rows["oracle"]
    if pv["failed_maps"] > rfc["failed_maps"]:
        out.append("rfc: failed %d > rfc %d" % (pv["failed_maps"],
                                                 rfc["failed_maps"]))
    if orc["failed_maps"] == 0 and pv["failed_maps"]:
        out.append("fits: failed %d, oracle 0" % pv["failed_maps"])
    if pv["admission_refusals"] != pv["failed_maps"]:
        out.append("host: %d of %d failed maps reached the host"
                   % (pv["failed_maps"] - pv["admission_refusals"],
                      pv["failed_maps"]))
    best = best_block(rows)
    if best and misses_block_target(pv["host_calls"], best[0]):
        out.append("block: calls %d > 2x block %s's %d"
                   % (pv["host_calls"], best[1], best[0]))
    if pv["peak_aperture_bytes"] > pv["aperture"] or \
            pv["peak_live_mappings"] > pv["max_mappings"]:
        out.append("limits: peak %d MiB, %d mappings"
                   % (pv["peak_aperture_bytes"] // MIB,
                      pv["peak_live_mappings"]))
    bad = [p for p, r in rows.items() if isinstance(r, dict) and
           "verify_errors" in r and (r["verify_errors"] or r["warnings"])]
    if bad or rows["stderr_warnings"]:
        out.append("limits: verify errors or warnings (%s)" % bad)
    if "storm4k" in label and pv["peak_aperture_bytes"] * 8 > \
            pv["aperture"] * 5:
        out.append("storm: peak %d MiB > 5/8 of %d MiB"
                   % (pv["peak_aperture_bytes"] // MIB,
                      pv["aperture"] // MIB))
    return out


def sources(traces, seeds):
    seen, out = set(), []
    for path in traces:
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if digest not in seen:
            seen.add(digest)
            parts = path.split("/")
            out.append(("%s/%s" % (parts[-2].replace("nvidia-580-", ""),
                                   parts[-1].replace(".trace.xz", "")),
                        [path]))
    for name in SYNTHETIC:
        for seed in seeds:
            out.append(("%s/%d" % (name, seed),
                        ["--synthetic", name, "--seed", str(seed)]))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json")
    ap.add_argument("replay")
    ap.add_argument("traces", nargs="*")
    args = ap.parse_args()
    plan = QUICK if args.quick else FULL
    work = [(label, src, apert) for label, src in
            sources(args.traces, plan["seeds"])
            for apert in plan["apertures"]]
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(
            lambda w: measure(args.replay, w[1], w[2], plan["blocks"]),
            work))
    nflags, totals = 0, {"pvdma_calls": 0, "rfc_calls": 0,
                         "pvdma_failed": 0, "rfc_failed": 0}
    out = open(args.json, "w") if args.json else None
    for (label, _, apert), rows in zip(work, results):
        got = flags(label, rows)
        if args.quick:
            got = [g for g in got if g.split(":")[0].split()[0] in GUARANTEES]
            known = label.split("/")[0] in RFC_KNOWN
            for msg in [g for g in got if known and g.startswith("rfc:")]:
                print("%-28s %5s  known, not enforced: %s (%s)"
                      % (label, apert, msg, RFC_KNOWN[label.split("/")[0]]))
            got = [g for g in got if not (known and g.startswith("rfc:"))]
        nflags += bool(got)
        if "pvdma" in rows and "rfc" in rows:
            totals["pvdma_calls"] += rows["pvdma"]["host_calls"]
            totals["rfc_calls"] += rows["rfc"]["host_calls"]
            totals["pvdma_failed"] += rows["pvdma"]["failed_maps"]
            totals["rfc_failed"] += rows["rfc"]["failed_maps"]
        for msg in got:
            print("%-28s %5s  %s" % (label, apert, msg))
        if out:
            best = best_block(rows) if "rfc" in rows else None
            out.write(json.dumps({
                "source": label, "aperture": apert, "flags": got,
                "best_block": best,
                **{p: {k: rows[p][k] for k in
                       ("host_calls", "failed_maps", "peak_aperture_bytes",
                        "peak_live_mappings", "admission_refusals")}
                   for p in ("pvdma", "rfc", "oracle") if p in rows}})
                      + "\n")
    if out:
        out.close()
    print("%d rows, %d flagged; pvdma %d calls %d failed maps, "
          "rfc %d calls %d failed maps"
          % (len(work), nflags, totals["pvdma_calls"],
             totals["pvdma_failed"], totals["rfc_calls"],
             totals["rfc_failed"]))
    return 1 if nflags else 0


if __name__ == "__main__":
    sys.exit(main())
