#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""docs/performance.md's table of workload classes says, per class, the
bound tests/replay/run-replay.sh checks: "0 failed" where the test calls
no_failures() for the class and ">= Nx" where it calls ratio(cls, ..., N).
A bound tightened or loosened in the test and not in the table (or the
other way round) fails here.

usage: class_bounds.py [PERFORMANCE_MD RUN_REPLAY_SH]
Prints a line per class and "N passed, N failed".
"""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BRANCH = re.compile(r'^    (?:if|elif) cls (?:== "([a-z0-9-]+)"|in \(([^)]*)\)):')
RATIO = re.compile(r'^\s+ratio\(cls, pv, rfc, (\d+)\)')
NO_FAILURES = re.compile(r'^\s+no_failures\(cls, pv\)')
ROW = re.compile(r'^\| ([a-z0-9, -]+) \|.*\| ([^|]*) \|$')


def test_bounds(path):
    """{class: (zero_failed, ratio or None)} from run-replay.sh's branches
    on cls."""
    bounds, names = {}, []
    for line in open(path):
        m = BRANCH.match(line)
        if m:
            names = [m.group(1)] if m.group(1) else \
                re.findall(r'"([a-z0-9-]+)"', m.group(2))
            for n in names:
                bounds[n] = [False, None]
            continue
        if not line.startswith("        "):
            names = []
        for n in names:
            r = RATIO.match(line)
            if r:
                bounds[n][1] = int(r.group(1))
            if NO_FAILURES.match(line):
                bounds[n][0] = True
    return {n: tuple(b) for n, b in bounds.items()}


def doc_bounds(path):
    """{class: (zero_failed, ratio or None)} from the classes block's
    "bound checked" column."""
    text = open(path).read()
    block = text.split("<!-- classes:begin", 1)[1].split("<!-- classes:end", 1)[0]
    bounds = {}
    for line in block.splitlines():
        m = ROW.match(line)
        if not m or m.group(1) == "class":
            continue
        cell = m.group(2)
        r = re.search(r">= (\d+)x", cell)
        zero = re.search(r"(^|, )0 failed", cell) is not None
        for n in m.group(1).split(", "):
            bounds[n] = (zero, int(r.group(1)) if r else None)
    return bounds


def main(argv):
    doc = argv[1] if len(argv) > 2 else os.path.join(ROOT, "docs", "performance.md")
    test = argv[2] if len(argv) > 2 else \
        os.path.join(ROOT, "tests", "replay", "run-replay.sh")
    want, said = test_bounds(test), doc_bounds(doc)
    passed = failed = 0
    for n in sorted(set(want) | set(said)):
        w, s = want.get(n, (False, None)), said.get(n)
        if w == s:
            print("ok:   %s: the table says what run-replay checks" % n)
            passed += 1
        else:
            print("FAIL: %s: run-replay checks %s, the table says %s "
                  "(0 failed, ratio)" % (n, w, s))
            failed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
