#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Turn make bench's JSON into docs/perf/results.md and gnuplot data."""
import json
import os
import platform
import subprocess
import sys

from docblocks import splice

MiB = 1 << 20


def load(path):
    rows = []
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if line.startswith("{"):
                    rows.append(json.loads(line))
    return rows


def name(row):
    return os.path.basename(str(row["trace"])).replace(".trace.xz", "")


def table(head, rows):
    out = ["| " + " | ".join(head) + " |",
           "|" + "|".join("---" if i == 0 else "---:" for i in range(len(head))) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def machine():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d cores, %s" % (cpu, os.cpu_count() or 0, platform.platform())


def vm_and_host(data, md):
    """Sections for scripts/bench_vm.sh (vm.json) and bench_host.sh (host.json)."""
    vm = load(os.path.join(data, "vm.json"))
    host = load(os.path.join(data, "host.json"))
    copies = [r for r in vm if r["bench"] == "copy" and "ratio" in r]
    if copies:
        md += ["## End to end in the VM: DMA device COPY throughput", "",
               "    scripts/bench_vm.sh   # pvdmad --dma-identity; QEMU/TCG guest; pvdma_dmabench.ko", "",
               "One guest boot. A transfer is dma_map_sgtable of source and destination "
               "(4 MiB chunks), the device's COPY commands, both unmaps, repeated; "
               "identity = the same device on its original dma-direct ops with pvdmad "
               "taking bus = guest-physical (no IOMMU). The two modes alternate in "
               "%d rounds per size; each round gives one paired ratio = pvdma throughput / "
               "identity throughput (1.0 = no cost). Shown: the median ratio and, in "
               "brackets, the lowest and highest round. TCG makes absolute times "
               "meaningless and noisy (the spread says how much); compare ratios only. "
               "`strict` is pvdma.ko strict=1 (no idle windows kept: every transfer maps "
               "and unmaps on the host)." % max(r.get("rounds", 0) for r in copies), ""]
        tags = [t for t in ("pvdma", "strict", "rfc") if any(r["tag"] == t for r in copies)]
        sizes = sorted({r["size"] for r in copies})
        by = {(r["tag"], r["size"]): r for r in copies}
        rows = []
        for sz in sizes:
            row = [("%d KiB" % (sz >> 10)) if sz < MiB else ("%d MiB" % (sz // MiB))]
            for t in tags:
                r = by.get((t, sz))
                row += ["%.2f [%.2f-%.2f]" % (r["ratio"], r.get("ratio_min", r["ratio"]),
                                              r.get("ratio_max", r["ratio"])) if r else "-",
                        "%g" % r.get("host_calls", 0) if r else "-"]
            rows.append(row)
        head = ["transfer"]
        for t in tags:
            head += ["%s / identity, median [range]" % t, "%s host calls per transfer" % t]
        md.append(table(head, rows))
        big = [by[("pvdma", sz)] for sz in sizes if sz >= MiB and ("pvdma", sz) in by]
        if big:
            worst = min(r["ratio"] for r in big)
            low = min(r.get("ratio_min", r["ratio"]) for r in big)
            md += ["Target: throughput through pvdma >= 0.9x identity at >= 1 MiB, on the "
                   "median of the rounds: **%s** (lowest median at >= 1 MiB: %.2f; lowest "
                   "single round: %.2f)." % ("met" if worst >= 0.9 else "NOT met", worst, low),
                   ""]
        # per tag: the median round and the lowest and highest (the plot's
        # error bars)
        with open(os.path.join(data, "throughput.dat"), "w") as f:
            f.write("size " + " ".join("%s %s_min %s_max" % (t, t, t)
                                       for t in tags) + "\n")
            for sz in sizes:
                f.write("%d %s\n" % (sz, " ".join(
                    "%.3f %.3f %.3f" % (by[(t, sz)]["ratio"],
                                        by[(t, sz)].get("ratio_min", by[(t, sz)]["ratio"]),
                                        by[(t, sz)].get("ratio_max", by[(t, sz)]["ratio"]))
                    if (t, sz) in by else "NaN NaN NaN" for t in tags)))
    sgr = [r for r in vm if r["bench"] == "sg-ratio"]
    sg = {(r["tag"], r["entries"]): r for r in vm
          if r["bench"] == "sg" and "pvdma_ns" in r}

    def over_direct(tag, n):
        """A policy's pair time over dma-direct's median: the median round
        [the fastest and slowest round]."""
        r = sg.get((tag, n))
        if not r or not r.get("identity_ns"):
            return "-"
        d = r["identity_ns"]
        return "%.1f [%.1f-%.1f]" % (r["pvdma_ns"] / d,
                                     r.get("pvdma_min_ns", r["pvdma_ns"]) / d,
                                     r.get("pvdma_max_ns", r["pvdma_ns"]) / d)
    if sgr:
        md += ["## End to end in the VM: dma_map_sg + unmap latency", "",
               "Lists of N single 4 KiB pages (no two adjacent), map+unmap repeated, "
               "pvdma.ko policy=pvdma then reloaded with policy=rfc in the same boot, "
               "each alternating with dma-direct in %d rounds. A policy's time over "
               "dma-direct's is the median round over dma-direct's median, and in "
               "brackets its fastest and slowest round over the same median (the "
               "spread under TCG). Steady state: the same list again and again."
               % max(r.get("rounds", 0) for r in sgr), ""]
        md.append(table(["entries", "rfc / pvdma time, medians",
                         "pvdma / dma-direct, median [range]",
                         "rfc / dma-direct, median [range]",
                         "host calls per pair, pvdma", "host calls per pair, rfc"],
                        [[r["entries"], "%.1f" % r["rfc_over_pvdma"],
                          over_direct("pvdma", r["entries"]),
                          over_direct("rfc", r["entries"]),
                          r["host_calls_pvdma"], r["host_calls_rfc"]] for r in sgr]))
        rtt = [r for r in sgr if "rfc_call_ns" in r and r["entries"] == 1]
        if rtt:
            r = rtt[0]
            md += ["", "Host-call round trip in the VM (doorbell, pvdmad, the completion the "
                   "guest sees; the guest's own work in the call included), from 1-entry "
                   "lists under rfc (two calls a pair, map and unmap): (pair time - "
                   "dma-direct pair time) / calls per pair, per round: **%.1f us** median "
                   "[%.1f-%.1f us over %d rounds], under TCG. The replay's host-call counts "
                   "times this give a TCG-guest stall; a Hypervisor.framework exit is "
                   "far cheaper (`pvdma-replay --verdict --call-us`)."
                   % (r["rfc_call_ns"] / 1000, r["rfc_call_min_ns"] / 1000,
                      r["rfc_call_max_ns"] / 1000, r["rounds"]), ""]
    if host:
        md += ["## Host side: pvdmad requests per second", "",
               "    scripts/bench_host.sh   # pvdmad (DART model) + build/host_bench over its socket", "",
               "MAP batches of 16 KiB pages then the matching UNMAP batches, one doorbell "
               "each (a batch over 127 entries spans ring slots), answered by interrupt; "
               "client and daemon share this machine's cores.", ""]
        md.append(table(["entries per doorbell", "requests/s", "doorbells/s",
                         "ns per request", "errors"],
                        [[r["entries_per_doorbell"], "%.0f" % r["requests_per_s"],
                          "%.0f" % r["doorbells_per_s"], "%.0f" % r["ns_per_request"],
                          r["errors"]] for r in host]))


def main():
    data, outdir = sys.argv[1], sys.argv[2]
    replay = load(os.path.join(data, "replay.json"))
    sweep = load(os.path.join(data, "sweep.json"))
    knobs = load(os.path.join(data, "knobs.json"))
    synth = load(os.path.join(data, "synth.json"))
    planner = load(os.path.join(data, "planner.json"))
    md = ["<!-- generated by make bench (scripts/bench.sh); do not edit -->",
          "# Benchmark results", "",
          "Machine: " + machine() + ".  ",
          "Commit: " + subprocess.run(["git", "rev-parse", "--short", "HEAD"],
                                      capture_output=True, text=True).stdout.strip(), ""]

    # 1. replay of every trace
    by = {}
    for r in replay:
        by.setdefault(name(r), {})[r["policy"]] = r
    rows, hc = [], []
    for t in sorted(by):
        for pol in ("rfc", "perpage", "pvdma"):
            r = by[t].get(pol)
            if not r:
                continue
            rows.append([t, pol, r["host_calls"], r["host_maps"], r["host_unmaps"],
                         r["tlb_flushes"], r["peak_live_mappings"],
                         "%.1f" % (r["peak_aperture_bytes"] / MiB),
                         "%.1f" % (r["peak_live_bytes"] / MiB), r["failed_maps"],
                         "%.1f" % (r["bounced_bytes"] / MiB), r["ns_per_map"]])
        hc.append([t] + [by[t].get(p, {}).get("host_calls", 0) for p in ("rfc", "perpage", "pvdma")])
    md += ["## Replay: every trace x every policy", "",
           "    build/pvdma-replay --policy all --json TRACES", ""]
    md.append(table(["trace", "policy", "host calls", "host maps", "host unmaps",
                     "TLB flushes", "peak mappings", "peak aperture MiB",
                     "peak live MiB", "failed maps", "bounced MiB", "ns/map"], rows))
    with open(os.path.join(data, "hostcalls.dat"), "w") as f:
        for r in hc:
            f.write("%s %d %d %d\n" % tuple(r))

    # targets
    md += ["## Targets", ""]
    checks = []
    for t in sorted(by):
        r, v = by[t].get("rfc"), by[t].get("pvdma")
        if not r or not v:
            continue
        ratio = r["host_calls"] / max(1, v["host_calls"])
        fits = v["peak_live_bytes"] <= v["aperture"]
        per_live = {p: by[t][p]["peak_aperture_bytes"] / max(1, by[t][p]["peak_live_bytes"])
                    for p in by[t]}
        least = min(per_live, key=per_live.get)
        checks.append([t, "%.1fx" % ratio, "met" if ratio >= 30 else "NOT met",
                       "%.0f MiB" % (v["peak_aperture_bytes"] / MiB),
                       "met" if v["peak_aperture_bytes"] <= v["aperture"] else "NOT met",
                       v["failed_maps"], "yes" if fits else "no (live set > aperture)",
                       "met" if (not fits or v["failed_maps"] == 0) else "NOT met",
                       "%.2f (least: %s)" % (per_live["pvdma"], least),
                       "met" if least == "pvdma" else "NOT met"])
    md.append(table(["trace", "rfc/pvdma host calls", ">=30x", "pvdma peak aperture",
                     "<=1536 MiB", "pvdma failed", "live fits", "0 failed where fits",
                     "aperture per live byte", "least of any policy"], checks))

    # 2. aperture sweep
    md += ["## Aperture sweep", "",
           "    build/pvdma-replay --policy all --aperture A --json TRACES   # A = 256M .. 4G", ""]
    rows = []
    sums = {}
    for r in sweep:
        key = (r["sweep_aperture"], r["policy"])
        s = sums.setdefault(key, [0, 0, 0, 0])
        s[0] += r["host_calls"]
        s[1] += r["failed_maps"]
        s[2] = max(s[2], r["peak_live_mappings"])
        s[3] = max(s[3], r["peak_aperture_bytes"])
    order = ["256M", "512M", "1G", "1536M", "2G", "4G"]
    for ap in order:
        for pol in ("rfc", "perpage", "pvdma"):
            s = sums.get((ap, pol))
            if s:
                rows.append([ap, pol, s[0], s[1], s[2], "%.0f" % (s[3] / MiB)])
    md.append("Summed over all traces (peaks: the largest of any trace).\n\n")
    md.append(table(["aperture", "policy", "host calls", "failed maps",
                     "peak mappings", "peak aperture MiB"], rows))
    with open(os.path.join(data, "sweep.dat"), "w") as f:
        for ap in order:
            vals = [sums.get((ap, p), [0, 0])[1] for p in ("rfc", "perpage", "pvdma")]
            f.write("%s %d %d %d\n" % (ap, *vals))

    # 3. knobs: the frontier of mapping count, aperture and host calls
    md += ["## Window knobs (pvdma)", "",
           "    build/pvdma-replay --policy pvdma --max-window W --json TRACES", ""]
    agg = {}
    for r in knobs:
        a = agg.setdefault(r["knob"], [0, 0, 0, 0])
        a[0] += r["host_calls"]
        a[1] += r["peak_live_mappings"]
        a[2] += r["peak_aperture_bytes"]
        a[3] += r["failed_maps"]
    for pol in ("rfc", "perpage", "pvdma"):
        a = agg.setdefault(pol + " (default)", [0, 0, 0, 0])
        for t in by:
            r = by[t].get(pol)
            if r:
                a[0] += r["host_calls"]
                a[1] += r["peak_live_mappings"]
                a[2] += r["peak_aperture_bytes"]
                a[3] += r["failed_maps"]
    rows = [[k, a[0], a[1], "%.0f" % (a[2] / MiB), a[3]] for k, a in agg.items()]
    md.append("Summed over all traces.\n\n")
    md.append(table(["configuration", "host calls", "peak mappings (sum)",
                     "peak aperture MiB (sum)", "failed maps"], rows))
    with open(os.path.join(data, "frontier.dat"), "w") as f:
        for k, a in agg.items():
            f.write('"%s" %.1f %d %d\n' % (k, a[2] / MiB, a[1], a[0]))

    # 4. synthetic workloads
    md += ["## Synthetic workloads", "",
           "    build/pvdma-replay --policy all --synthetic over-aperture --synthetic storm4k --synthetic churn",
           "    build/pvdma-replay --policy pvdma --bounce all --bounce-pool 768M --synthetic over-aperture", ""]
    rows = [[name(r), r["policy"], r["map_requests"], r["host_calls"], r["failed_maps"],
             r["peak_live_mappings"], "%.0f" % (r["peak_aperture_bytes"] / MiB),
             "%.0f" % (r["peak_live_bytes"] / MiB), "%.0f" % (r["bounced_bytes"] / MiB),
             r["ns_per_map"]] for r in synth]
    md.append(table(["workload", "policy", "maps", "host calls", "failed maps",
                     "peak mappings", "peak aperture MiB", "peak live MiB",
                     "bounced MiB", "ns/map"], rows))

    # 5. planner cost
    md += ["## Planner cost", "", "    build/planner_bench --json", "",
           "Times include the DART model executing each host call in-process. "
           "Ratios are against the first row of each block, same process.", ""]
    rows = [[r["bench"], r["policy"], r["n"], r["ns_per_map"], r["ns_per_unmap"],
             "%.2fx" % r["map_ratio"], r["host_calls"], r["failed_maps"]] for r in planner]
    md.append(table(["bench", "policy", "n", "ns/map", "ns/unmap", "ratio",
                     "host calls", "failed"], rows))
    cg = os.path.join(data, "callgrind.txt")
    cg_rows = []
    if os.path.exists(cg):
        rows = []
        with open(cg) as f:
            for line in f:
                kind, what, ir, n = line.split()
                cg_rows.append((kind, what, ir, n))
                rows.append([kind, what, ir, n, "%.0f" % (int(ir) / max(1, int(n)))])
        md += ["Instructions in `pvdma_map` (callgrind, inclusive; replay rows include "
               "the DART model's work, lookup rows are hits among N live windows):", "",
               "    valgrind --tool=callgrind --toggle-collect=pvdma_map ...", ""]
        md.append(table(["run", "policy / N windows", "Ir", "maps", "Ir per map"], rows))

    e2e_from = len(md)
    vm_and_host(data, md)

    with open(os.path.join(outdir, "results.md"), "w") as f:
        f.write("\n".join(md))
    splice_e2e(os.path.join(outdir, "..", "performance.md"), md[e2e_from:])
    splice_planner_cost(os.path.join(outdir, "..", "performance.md"),
                        planner_cost(planner, cg_rows))


def planner_cost(planner, cg):
    """performance.md section 2 in words, from planner.json and
    callgrind.txt: the instructions of a hit as the tree grows, per map in
    the replays, and the random churn; [] when a part is missing."""
    look = [(int(w), int(ir) / max(1, int(n))) for k, w, ir, n in cg
            if k == "lookup"]
    per = {w: int(ir) / max(1, int(n)) for k, w, ir, n in cg if k == "replay"}
    wall = {r["n"]: r["ns_per_map"] for r in planner
            if r["bench"] == "lookup" and r["policy"] == "pvdma"}
    churn = {r["policy"]: r for r in planner if r["bench"] == "churn"}
    if not look or "pvdma" not in per or "rfc" not in per or \
            "pvdma" not in churn or "rfc" not in churn:
        return []
    look.sort()
    ns = [wall[n] for n, _ in look if n in wall]
    c, r = churn["pvdma"], churn["rfc"]
    return [
        "- **Lookup-heavy, O(log n):** a hit among N live windows costs %s "
        "instructions for N = %s: a few dozen more per tenfold, the AVL "
        "tree's depth. Wall time grows more (%s ns), which is cache misses "
        "of a large tree, not work." % (
            ", ".join("%.0f" % i for _, i in look),
            ", ".join(str(n) for n, _ in look),
            " → ".join("%.1f" % t for t in ns)),
        "- **Per map in the replays:** %.0f instructions per map call for "
        "pvdma against rfc's %.0f (both including the DART model's own work "
        "inside the host calls; many calls are lists of hundreds of "
        "segments). `pvdma-replay --json` reports `planner_ns_per_map` and "
        "`planner_ns_per_segment`, the guest side alone." % (
            per["pvdma"], per["rfc"]),
        "- **Random churn** (n = %d operations): %.1f ns per map for pvdma "
        "against rfc's %.1f ns in the same process. The churn maps random "
        "buffers over a range far larger than the aperture, so nearly every "
        "map misses; pvdma fills the aperture with idle windows and each "
        "miss then evicts several of them (%d host calls, %d failed maps; "
        "rfc %d host calls, %d failed maps)." % (
            c["n"], c["ns_per_map"], r["ns_per_map"], c["host_calls"],
            c["failed_maps"], r["host_calls"], r["failed_maps"]),
    ]


def splice_planner_cost(doc, lines):
    """performance.md's planner-cost block (quoted from perf/results.md,
    which holds every number of it)."""
    if not lines or not os.path.exists(doc):
        return
    with open(doc) as f:
        text = f.read()
    new = splice(text, "planner-cost", lines)
    if new is not None:
        with open(doc, "w") as f:
            f.write(new)


def splice_e2e(doc, lines):
    """docs/performance.md quotes the end-to-end and host tables by
    generation: they replace its e2e and host-bench blocks (both marked
    "from docs/perf/results.md", which the lint of scripts/docblocks.py
    checks them against)."""
    if not os.path.exists(doc):
        return
    cut = next((k for k, l in enumerate(lines) if l.startswith("## Host side")),
               len(lines))
    e2e = ["#" + l if l.startswith("## ") else l for l in lines[:cut]]
    host = lines[cut + 1:]
    with open(doc) as f:
        text = f.read()
    for name, body in (("e2e", e2e), ("host-bench", host)):
        new = splice(text, name, body) if body else None
        if new is not None:
            text = new
    with open(doc, "w") as f:
        f.write(text)


if __name__ == "__main__":
    main()
