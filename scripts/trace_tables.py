#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The trace tables of README.md, traces/README.md, docs/replay.md,
docs/traces.md and docs/performance.md (every replay, the window knobs,
the aperture sweep), made from a fresh replay of every shipped trace
(traces/*/*.trace.xz), so that no number in them can go stale.

Each table lives between "<!-- NAME:begin -->" and "<!-- NAME:end -->" in
its document. --write replaces those blocks (make bench runs it); --check
regenerates them and fails, showing the difference, when a document's
block differs (tests/verdict/run-tables.sh runs it).

usage: trace_tables.py --write|--check [--replay build/pvdma-replay]
"""
import argparse
import difflib
import glob
import json
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

from docblocks import splice

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# What each workload is; the numbers come from the replay.
WORKLOADS = {
    "init": "CUDA context (init)",
    "llm-prefill-decode": "LLM load, prefill, decode",
    "training": "training with a DataLoader",
    "dataloader": "DataLoader, 4 workers, pin_memory",
    "multiproc": "4 processes sharing the GPU",
    "host-register": "cudaHostRegister of pageable memory",
    "pinned": "pinned buffers of 4 KiB to 2 GiB",
    "vulkan-streaming": "Vulkan asset streaming",
    "uvm-oversub": "CUDA unified memory over 4 GiB",
    "cupy-streams": "CuPy, 4 streams, pinned pool, host registering",
    "offload": "inference with 3 GiB of weights streamed from pinned memory",
    "jax": "JAX/XLA transfers around a jitted step",
    "vkframes": "Vulkan frame loop, an allocation per object",
    "eglrender": "OpenGL ES renderer through EGL",
    "server": "server bursts of lognormal pinned buffers",
    "procchurn": "short-lived CUDA processes, IPC",
    "libinit": "GPU library initialisation, a process each",
    "mmapreg": "cudaHostRegister of memory-mapped files",
    "torchgraph": "model load, CUDA graphs, torch.compile",
    "vmmhost": "host-memory arena through cuMemCreate",
    "server-heavy": "server bursts of pinned buffers, over the aperture",
    "vmmhost-big": "cuMemCreate host arena over the aperture",
    "compiletrain": "torch.compile training, variable-length batches",
    "hostpool": "stream-ordered pool of pinned host memory",
    "uvmadvise": "unified memory with cudaMemAdvise and prefetches",
    "slidereg": "sliding and re-cut cudaHostRegister",
    "shmring": "shared-memory ring, two GPU consumers",
    "numbahost": "Numba pinned and mapped arrays, batched frees",
    "jaxhost": "JAX arrays in pinned_host memory",
    "vklevels": "Vulkan level streamer, VMA-style blocks",
    "modelswap": "multi-model server, pinned weights over the aperture",
    "actorlearner": "RL actor-learner, actors restarted, registered rollouts",
    "vknaive": "Vulkan engine, an allocation per asset, over the aperture",
    "vkimport": "Vulkan imports of host memory, overlapping",
    "zerocopy": "zero-copy mapped pinned memory read by kernels",
}


def traces():
    return sorted(glob.glob(os.path.join(ROOT, "traces", "*", "*.trace.xz")))


def rel(path):
    return os.path.relpath(path, ROOT)


def short(path):
    return os.path.basename(path)[:-len(".trace.xz")]


def gpu_dir(path):
    return os.path.basename(os.path.dirname(path))


def run(replay, args):
    p = subprocess.run([replay] + args, capture_output=True, text=True,
                       cwd=ROOT)
    if p.returncode not in (0, 1):
        sys.exit("trace_tables: %s %s failed (exit %d): %s"
                 % (replay, " ".join(args[:3]), p.returncode, p.stderr))
    return p.stdout


# common/size.c's size_human(), as pvdma-replay's text prints sizes.
def human(b):
    units = ["B", "KiB", "MiB", "GiB", "TiB"]
    v, u = float(b), 0
    while v >= 1024 and u < 4:
        v /= 1024
        u += 1
    return "%d B" % b if u == 0 else "%.*f %s" % (2 if v < 10 else 1, v,
                                                 units[u])


def collect(replay):
    files = [rel(t) for t in traces()]
    rows = {}
    for line in run(replay, ["--policy", "all", "--json", "--quiet"]
                    + files).splitlines():
        r = json.loads(line)
        rows.setdefault(r["trace"], {})[r["policy"]] = r
    verdicts = {}
    for f, line in zip(files, run(replay, ["--verdict"] + files)
                       .splitlines()):
        verdicts[f] = line
    return files, rows, verdicts


def verdict_word(line):
    m = re.match(r"^\S+: (FITS WITH BOUNCE|FITS|DOES NOT FIT) \|", line)
    return m.group(1) if m else "?"


def readme_table(files, rows, verdicts):
    out = ["| trace | rfc | pvdma | failed maps rfc / pvdma | peak live / aperture | verdict |",
           "|---|---:|---:|---:|---:|---|"]
    for f in files:
        r, p = rows[f]["rfc"], rows[f]["pvdma"]
        out.append("| %s (%s) | %d | %d | %d / %d | %.2fx | %s |" % (
            WORKLOADS.get(short(f), short(f)), gpu_dir(f).split("-")[-1],
            r["host_calls"], p["host_calls"], r["failed_maps"],
            p["failed_maps"], p["peak_live_bytes"] / p["aperture"],
            verdict_word(verdicts[f])))
    return out


def replay_table(files, rows, verdicts):
    out = ["| trace | policy | maps | host calls | host maps | host unmaps | peak mappings | peak aperture | failed | invented |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for f in files:
        for pol in ("rfc", "perpage", "pvdma"):
            r = rows[f].get(pol)
            if not r:
                continue
            out.append("| %s | %s | %d | %d | %d | %d | %d | %s | %d | %s |" % (
                rel(f)[len("traces/"):], pol, r["map_requests"],
                r["host_calls"], r["host_maps"], r["host_unmaps"],
                r["peak_live_mappings"], human(r["peak_aperture_bytes"]),
                r["failed_maps"], human(r["invented_bytes"])))
    return out


def verdict_lines(files, rows, verdicts):
    return ["```"] + [verdicts[f] for f in files] + ["```"]


def traces_table(files, rows, verdicts):
    out = ["| file | workload | maps | peak live | invented | unmaps inferred | verdict |",
           "|---|---|---:|---:|---:|---:|---|"]
    for f in files:
        p = rows[f]["pvdma"]
        out.append("| %s | %s | %d | %s | %s | %d | %s |" % (
            rel(f)[len("traces/"):], WORKLOADS.get(short(f), short(f)),
            p["map_requests"], human(p["peak_live_bytes"]),
            human(p["invented_bytes"]), p["implied_unmaps"],
            verdict_word(verdicts[f])))
    return out


def unmap_gap(files, rows, verdicts):
    """What each recording shows about long lists' unmaps, read from the
    trace text itself: the recorder's sub-buffer size and probe, the
    longest dma_unmap_sg recorded, the lists over 503 entries and how many
    of them have an unmap in the trace."""
    import lzma
    out = ["| file | sub-buffer | unmap probe | longest unmap_sg recorded | lists over 503 entries | of them unmapped in the trace |",
           "|---|---|---|---:|---:|---:|"]
    for f in files:
        meta, longest, long_firsts, unmapped = {}, 0, {}, set()
        with lzma.open(os.path.join(ROOT, f), "rt", errors="replace") as t:
            for line in t:
                if line.startswith("# "):
                    k, _, v = line[2:].partition(": ")
                    meta[k] = v.strip()
                    continue
                m = re.search(r" dma_map_sg: .*nents=\d+/(\d+) .*phys_addrs=\{(0x[0-9a-f]+)", line)
                if m and int(m.group(1)) > 503:
                    long_firsts[m.group(2)] = long_firsts.get(m.group(2), 0) + 1
                    continue
                m = re.search(r" dma_unmap_sg: .*phys_addrs=\{([^}]*)\}", line)
                if m:
                    addrs = m.group(1).split(",")
                    longest = max(longest, len(addrs))
                    if len(addrs) > 503:
                        unmapped.add(addrs[0])
                m = re.search(r" pvdma_unmap_sg: .*nents=(\d+) dma_addr=(0x[0-9a-f]+)", line)
                if m and int(m.group(1)) > 503:
                    unmapped.add(m.group(2))
        probe = meta.get("unmap-probe", "(not recorded by pvdma-trace)")
        out.append("| %s | %s | %s | %d | %d | %d |" % (
            rel(f)[len("traces/"):], meta.get("subbuf-kb", "4 (default)")
            .split(" ")[0] + " KiB" if "subbuf-kb" in meta else "not raised",
            "placed" if probe.startswith("pvdma_unmap_sg") else
            ("none" if probe.startswith("none") else "-"),
            longest, sum(long_firsts.values()),
            sum(n for a, n in long_firsts.items() if a in unmapped)))
    return out


def ratio(a, b):
    return "%.0fx" % (a / b) if b and a / b >= 10 else \
        ("%.1fx" % (a / b) if b else "-")


def perf_replay(files, rows, verdicts):
    """docs/performance.md section 1: each trace, rfc against pvdma."""
    out = ["| trace | live set / aperture | host calls rfc → pvdma | failed maps rfc / pvdma | peak mappings rfc / pvdma | TLB flushes rfc / pvdma |",
           "|---|---:|---:|---:|---:|---:|"]
    for f in files:
        r, p = rows[f]["rfc"], rows[f]["pvdma"]
        out.append("| %s | %.2f | %d → %d (%s) | %d / %d | %d / %d | %d / %d |" % (
            rel(f)[len("traces/"):-len(".trace.xz")],
            p["peak_live_bytes"] / p["aperture"], r["host_calls"],
            p["host_calls"], ratio(r["host_calls"], p["host_calls"]),
            r["failed_maps"], p["failed_maps"], r["peak_live_mappings"],
            p["peak_live_mappings"], r["tlb_flushes"], p["tlb_flushes"]))
    return out


# The window knobs of the frontier table: pvdma-replay options per row.
KNOBS = [("rfc", ["--policy", "rfc"]),
         ("perpage", ["--policy", "perpage"]),
         ("pvdma strict", ["--policy", "pvdma", "--strict"])] + \
    [("pvdma, largest window %s" % w.replace("K", " KiB").replace("M", " MiB"),
      ["--policy", "pvdma", "--max-window", w])
     for w in ("256K", "1M", "4M", "16M", "64M", "128M", "512M")] + \
    [("pvdma default", ["--policy", "pvdma"])]


def summed(replay, args, files):
    tot = {"host_calls": 0, "peak_live_mappings": 0,
           "peak_aperture_bytes": 0, "failed_maps": 0}
    for line in run(replay, args + ["--json", "--quiet"] + files).splitlines():
        r = json.loads(line)
        for k in tot:
            tot[k] += r[k]
    return tot


def summed_all(replay, arg_lists, files):
    """summed() of each argument list, the replays run side by side."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        return list(pool.map(lambda a: summed(replay, a, files), arg_lists))


def perf_frontier(files, rows, verdicts, replay):
    out = ["| configuration | host calls | peak mappings | peak aperture MiB | failed maps |",
           "|---|---:|---:|---:|---:|"]
    sums = summed_all(replay, [args for _, args in KNOBS], files)
    for (label, _), t in zip(KNOBS, sums):
        out.append("| %s | %d | %d | %.0f | %d |" % (
            label, t["host_calls"], t["peak_live_mappings"],
            t["peak_aperture_bytes"] / (1 << 20), t["failed_maps"]))
    return out


def perf_sweep(files, rows, verdicts, replay):
    out = ["| aperture | host calls rfc → pvdma | failed maps rfc / pvdma | peak mappings rfc / pvdma |",
           "|---|---:|---:|---:|"]
    aps = ("256M", "512M", "1G", "1536M", "2G", "4G")
    sums = iter(summed_all(replay, [["--policy", pol, "--aperture", ap]
                                    for ap in aps for pol in ("rfc", "pvdma")],
                           files))
    for ap in aps:
        r, p = next(sums), next(sums)
        out.append("| %s | %d → %d (%s) | %d / %d | %d / %d |" % (
            ap.replace("M", " MiB").replace("G", " GiB"), r["host_calls"],
            p["host_calls"], ratio(r["host_calls"], p["host_calls"]),
            r["failed_maps"], p["failed_maps"], r["peak_live_mappings"],
            p["peak_live_mappings"]))
    return out


def trace_stats(trace, path):
    """What `pvdma-trace stats` (the same parser as the replay) says of one
    file: event counts, the peak live set and its phase, truncated lists,
    long lists and their probed unmaps."""
    p = subprocess.run([trace, "stats", path], capture_output=True,
                       text=True, cwd=ROOT)
    if p.returncode != 0:
        sys.exit("trace_tables: %s stats %s failed (exit %d): %s"
                 % (trace, path, p.returncode, p.stderr))
    t = p.stdout
    def count(event):
        m = re.search(r"^  %s +(\d+)$" % event, t, re.M)
        return int(m.group(1)) if m else 0
    peak = re.search(r"^peak live bytes: (\d+) \(.*?\) at ([\d.]+) s "
                     r"\(phase (.*)\)$", t, re.M)
    trunc = re.search(r"truncated: (\d+) lists", t)
    long_ = re.search(r"^lists over 503 entries: (\d+); unmaps from the "
                      r"unmap probe: (\d+)", t, re.M)
    if not (peak and trunc and long_):
        sys.exit("trace_tables: %s stats %s: output not understood"
                 % (trace, path))
    return {"map_phys": count("dma_map_phys"), "map_sg": count("dma_map_sg"),
            "unmap_sg": count("dma_unmap_sg"), "peak": int(peak.group(1)),
            "phase": peak.group(3), "truncated": int(trunc.group(1)),
            "long": int(long_.group(1)), "probed": int(long_.group(2))}


def stats_table(files, rows, verdicts, replay):
    """traces/README.md: each file as `pvdma-trace stats` reads it."""
    trace = os.path.join(os.path.dirname(replay), "pvdma-trace")
    out = ["| file | map_phys / map_sg / unmap_sg events | peak live bytes (phase) | truncated lists | lists over 503 entries | their unmaps from the probe |",
           "|---|---:|---:|---:|---:|---:|"]
    for f in files:
        st = trace_stats(trace, f)
        out.append("| %s | %d / %d / %d | %s (%s), `%s` | %d | %d | %d |" % (
            rel(f)[len("traces/"):], st["map_phys"], st["map_sg"],
            st["unmap_sg"], "{:,}".format(st["peak"]), human(st["peak"]),
            st["phase"], st["truncated"], st["long"], st["probed"]))
    return out


BLOCKS = [
    ("README.md", "replay-table", readme_table),
    ("docs/replay.md", "replay-rows", replay_table),
    ("docs/replay.md", "verdicts", verdict_lines),
    ("docs/traces.md", "trace-table", traces_table),
    ("docs/traces.md", "unmap-gap", unmap_gap),
    ("docs/performance.md", "perf-replay", perf_replay),
    ("docs/performance.md", "perf-frontier", perf_frontier),
    ("docs/performance.md", "perf-sweep", perf_sweep),
    ("traces/README.md", "trace-stats", stats_table),
]

# Blocks that run replays of their own take the replay binary too.
NEEDS_REPLAY = (perf_frontier, perf_sweep, stats_table)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--replay", default=os.path.join(ROOT, "build",
                                                     "pvdma-replay"))
    a = ap.parse_args()
    if a.write == a.check:
        ap.error("give --write or --check")
    replay = os.path.abspath(a.replay)
    data = collect(replay)
    bad = 0
    docs = {}
    for doc, name, make in BLOCKS:
        path = os.path.join(ROOT, doc)
        text = docs.get(doc) or open(path).read()
        args = data + (replay,) if make in NEEDS_REPLAY else data
        new = splice(text, name, make(*args))
        if new is None:
            print("FAIL: %s has no <!-- %s:begin/end --> block" % (doc, name))
            bad += 1
            continue
        if a.check:
            if new != text:
                print("FAIL: %s block '%s' differs from a fresh replay"
                      " (make bench, or scripts/trace_tables.py --write):"
                      % (doc, name))
                sys.stdout.writelines(difflib.unified_diff(
                    text.splitlines(True), new.splitlines(True), doc,
                    "fresh replay", n=0))
                bad += 1
            else:
                print("ok:   %s block '%s' matches a fresh replay"
                      % (doc, name))
        docs[doc] = new
    if a.write:
        for doc, text in docs.items():
            with open(os.path.join(ROOT, doc), "w") as f:
                f.write(text)
    if a.check:
        print("%d passed, %d failed" % (len(BLOCKS) - bad, bad))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
