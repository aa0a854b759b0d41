#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The planner at the edge: the smallest aperture that fits each workload.

The guarantee "no failed map while the live set, in 16 KiB pages, fits"
(docs/planner.md) is easy at an aperture with room to spare and hard at
the edge, where every page pvdma holds beyond the live ones is one too
many. For every trace and synthetic workload this finds the smallest
aperture, in steps of STEP, at which the clairvoyant oracle fails no map
(a bisection: the oracle maps exactly the live pages), then replays
pvdma and rfc there and a few steps above, and says where pvdma fails a
map the oracle did not. A synthetic workload sized from the aperture
(its live set moves with it) has no edge and is left out, as is one the
oracle cannot fit even at the largest aperture.

Usage: planner_edge.py [--jobs N] REPLAY OUT.md [TRACE...]
"""
import argparse
from concurrent.futures import ThreadPoolExecutor

from planner_sweep import replay, sources

MIB = 1 << 20
STEP = 16 * MIB
LARGEST = 3072 * MIB
ABOVE = (0, 1, 4)	# steps above the edge pvdma is replayed at


def row(binary, src, aperture, policy):
    got, _ = replay(binary, ["--policy", policy, "--aperture",
                             str(aperture)] + src)
    return {r["policy"]: r for r in got}


def oracle_fits(binary, src, aperture):
    r = row(binary, src, aperture, "oracle").get("oracle")
    return r if r and r["failed_maps"] == 0 else None


def edge(binary, label, src):
    """The edge of one workload and pvdma's and rfc's failures around it."""
    top = oracle_fits(binary, src, LARGEST)
    if not top:
        return label, "the oracle fails maps at %d MiB" % (LARGEST // MIB)
    lo, hi = 0, LARGEST // STEP	# lo fails (or is 0), hi fits
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if oracle_fits(binary, src, mid * STEP):
            hi = mid
        else:
            lo = mid
    at = oracle_fits(binary, src, hi * STEP)
    if at["peak_live_bytes"] != top["peak_live_bytes"]:
        return label, "sized from the aperture: no edge"
    cells = []
    for k in ABOVE:
        aperture = (hi + k) * STEP
        rows = row(binary, src, aperture, "pvdma,rfc")
        orc = oracle_fits(binary, src, aperture)
        cells.append((aperture, rows["pvdma"]["failed_maps"],
                      rows["rfc"]["failed_maps"], orc is not None))
    return label, (top["peak_live_bytes"], hi * STEP, cells)


def write(out, results):
    lines = [
        "# The planner at the edge of the aperture",
        "",
        "Written by bench/planner_edge.py: for each workload the smallest",
        "aperture, in %d MiB steps, at which the oracle fails no map" % (STEP // MIB),
        "(it maps exactly the live 16 KiB pages), and the maps pvdma and",
        "rfc fail there and %s steps above." % ", ".join(str(k) for k in ABOVE[1:]),
        "A cell is pvdma / rfc failed maps; **bold** where pvdma fails a map",
        "the oracle does not.",
        "",
        "| workload | peak live MiB | edge MiB | %s |" % " | ".join(
            "edge + %d MiB" % (k * STEP // MIB) if k else "at the edge"
            for k in ABOVE),
        "|---|---:|---:|" + "---:|" * len(ABOVE),
    ]
    broken, left = [], []
    for label, res in results:
        if isinstance(res, str):
            left.append("%s (%s)" % (label, res))
            continue
        peak, at, cells = res
        shown = []
        for aperture, pv, rfc, fits in cells:
            cell = "%d / %d" % (pv, rfc)
            if fits and pv:
                cell = "**%s**" % cell
                broken.append("%s at %d MiB (%d)" % (label, aperture // MIB, pv))
            shown.append(cell)
        lines.append("| %s | %d | %d | %s |" % (label, peak // MIB, at // MIB,
                                                " | ".join(shown)))
    lines += ["", "## Against the guarantee", ""]
    lines.append("- pvdma fails a map the oracle fits (%d): %s." %
                 (len(broken), ", ".join(broken) if broken else "none"))
    lines.append("- Left out (%d): %s." % (len(left), ", ".join(left) or "none"))
    with open(out, "w") as f:
        f.write("\n".join(lines) + "\n")
    return broken


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("replay")
    ap.add_argument("out")
    ap.add_argument("traces", nargs="*")
    args = ap.parse_args()
    work = sources(args.traces, (1,))
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(lambda w: edge(args.replay, w[0], w[1]),
                                work))
    broken = write(args.out, results)
    print("planner_edge: %d workloads, %d cells where pvdma fails a map the "
          "oracle fits" % (len(results), len(broken)))


if __name__ == "__main__":
    main()
