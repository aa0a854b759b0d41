#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Does docs/architecture.md match the tree?

    architecture_files.py [--doc DOC] [--root ROOT] [--readme README]

Every source file (.c, .h, .py, .sh, or an executable script) of guest/,
lib/, host/, common/, tools/, bench/, scripts/ and fuzz/ must be named in the first column of one of the
document's file tables, with its job in the next column; every name in
those columns must be a file or folder that exists. A folder named with a
trailing slash (guest/selftests/) covers what is under it.

A header is the interface of the .c file of its name beside it (or, for
lib/include/pvdma/X.h, of lib/X.c): listed with it unless named itself.

Names in a table are relative to the folder its section's heading names
("## Host files (host/)"), or to the root when they carry a folder of
their own; a name without a folder after one with a folder
("replay/oracle.c, oracle.h") may also be in that same folder. The
document's allow-list block is not a file table.

README.md's Layout and Documentation sections are the entry to that
map, checked the same way: every top-level folder of the tree has a
Layout row; every path in a Layout row's first column, and every file
name in backquotes in its second (relative to the root or to the row's
folder), exists; the Documentation list names every document of docs/
and no other.

Prints "ok:   ..." or "FAIL: ..." lines, then "N passed, N failed";
exits 1 if anything failed. The files of ROOT are git's tracked ones when
ROOT is a git checkout (build products are not sources), else every file.
"""
import argparse
import glob
import os
import re
import subprocess
import sys

DIRS = ("guest", "lib", "host", "common", "tools", "bench", "scripts", "fuzz")
NAME = re.compile(r"^[\w.+-]+(/[\w.+-]+)*/?$")


def tree_files(root):
    try:
        out = subprocess.run(["git", "-C", root, "ls-files", "-s", "--"] +
                             list(DIRS), capture_output=True, text=True,
                             check=True).stdout
        rows = [line.split(None, 3) for line in out.splitlines()]
        return {r[3]: r[0] == "100755" for r in rows if len(r) == 4}
    except (OSError, subprocess.CalledProcessError):
        files = {}
        for d in DIRS:
            for top, _, names in os.walk(os.path.join(root, d)):
                for n in names:
                    p = os.path.join(top, n)
                    files[os.path.relpath(p, root)] = os.access(p, os.X_OK)
        return files


def all_files(root):
    """Every file of ROOT: git's tracked ones in a checkout."""
    try:
        out = subprocess.run(["git", "-C", root, "ls-files"],
                             capture_output=True, text=True,
                             check=True).stdout
        return out.splitlines()
    except (OSError, subprocess.CalledProcessError):
        return [os.path.relpath(os.path.join(top, n), root)
                for top, _, names in os.walk(root) for n in names]


def readme_sections(readme):
    """{heading: [lines]} of README's "## " sections."""
    sections, cur = {}, None
    with open(readme, encoding="utf-8") as f:
        for line in f:
            if line.startswith("## "):
                cur = sections.setdefault(line[3:].strip(), [])
            elif cur is not None:
                cur.append(line.rstrip("\n"))
    return sections


# A file name in a Layout row's prose: one with a source or document suffix.
FILE_NAME = re.compile(r"^[\w.+/-]+\.(c|h|md|sh|py|mk|in|conf)$|^[\w.+/-]+/$")


def check_readme(root, readme, result):
    """README's Layout and Documentation against the tree."""
    files = all_files(root)
    sections = readme_sections(readme)
    layout = sections.get("Layout", [])
    covered, missing = set(), []

    def exists(path):
        return bool(glob.glob(os.path.join(root, path)))

    for line in layout:
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or set(cells[0]) <= set("-: "):
            continue
        paths = re.findall(r"`([^`]+)`", cells[0])
        for path in paths:
            covered.add(path.split("/", 1)[0])
            if not exists(path):
                missing.append(path)
        folder = paths[0] if paths and paths[0].endswith("/") else ""
        for name in re.findall(r"`([^`]+)`", cells[1]):
            if FILE_NAME.match(name) and not exists(name) and \
               not exists(folder + name):
                missing.append("%s (in the row of %s)" % (name, folder or
                                                          cells[0]))
    tops = sorted({f.split("/", 1)[0] for f in files
                   if "/" in f and not f.startswith(".")})
    unrowed = [t + "/" for t in tops if t not in covered]
    result(bool(layout) and not unrowed,
           "%s Layout: a row for each top-level folder%s" %
           (readme, "".join("\n    no row: " + u for u in unrowed)))
    result(bool(layout) and not missing,
           "%s Layout: every path and file it names exists%s" %
           (readme, "".join("\n    gone: " + m for m in missing)))

    listed = {m.group(1) for line in sections.get("Documentation", [])
              for m in [re.match(r"^- (docs/[\w.-]+\.md)\b", line)] if m}
    docs = {f for f in files if re.match(r"^docs/[^/]+\.md$", f)}
    result(bool(docs) and listed == docs,
           "%s Documentation: lists each of the %d documents of docs/%s" %
           (readme, len(docs),
            "".join("\n    not listed: " + d for d in sorted(docs - listed)) +
            "".join("\n    gone: " + d for d in sorted(listed - docs))))


def is_source(path, executable):
    return path.endswith((".c", ".h", ".py", ".sh")) or executable


def doc_rows(doc):
    """(line number, base folder, first cell, second cell) of file tables."""
    base, skip = None, False
    with open(doc, encoding="utf-8") as f:
        for no, line in enumerate(f, 1):
            if line.startswith("## "):
                m = re.search(r"\((\w+)/", line)
                base = m.group(1) + "/" if m else None
            if "<!-- allow-list" in line:
                skip = True
            elif "<!-- end of the allow-list" in line:
                skip = False
            if skip or base is None or not line.startswith("|"):
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) < 2 or set(cells[0]) <= set("-: "):
                continue
            yield no, base, cells[0], cells[1]


def resolve(root, base, name, prev_dir):
    """The path @name stands for, or None."""
    candidates = []
    if "/" in name.rstrip("/"):
        candidates.append(name)
    candidates.append(base + name)
    if prev_dir:
        candidates.append(prev_dir + name)
    for c in candidates:
        if os.path.exists(os.path.join(root, c)):
            return c
    return None


def interface_of(path):
    """The .c file whose interface header @path is, or None."""
    if not path.endswith(".h"):
        return None
    stem = path[:-2]
    if stem.startswith("lib/include/pvdma/"):
        return "lib/" + stem[len("lib/include/pvdma/"):] + ".c"
    return stem + ".c"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--doc", default="docs/architecture.md")
    ap.add_argument("--root", default=".")
    ap.add_argument("--readme", help="default: ROOT/README.md")
    a = ap.parse_args()
    passed = failed = 0

    def result(ok, what):
        nonlocal passed, failed
        print(("ok:   " if ok else "FAIL: ") + what)
        if ok:
            passed += 1
        else:
            failed += 1

    listed_files, listed_dirs, missing, jobless = set(), set(), [], []
    for no, base, first, job in doc_rows(a.doc):
        names = [n.strip().strip("`") for n in first.split(",")]
        names = [n for n in names if NAME.match(n) and
                 ("." in n or "/" in n or "-" in n)]
        if not names:
            continue	# a header row
        if not job.strip("` "):
            jobless.append("%s:%d" % (a.doc, no))
        prev_dir = None
        for n in names:
            path = resolve(a.root, base, n, prev_dir)
            if path is None:
                missing.append("%s:%d: %s" % (a.doc, no, n))
                continue
            if path.endswith("/"):
                listed_dirs.add(path)
            else:
                listed_files.add(path)
                prev_dir = path.rsplit("/", 1)[0] + "/"
    result(not missing, "every file %s names exists%s" %
           (a.doc, "".join("\n    " + m for m in missing)))
    result(not jobless, "every file row says its job%s" %
           "".join("\n    " + j for j in jobless))

    files = tree_files(a.root)
    for d in DIRS:
        srcs = sorted(p for p, x in files.items()
                      if p.startswith(d + "/") and is_source(p, x))
        unlisted = [p for p in srcs if p not in listed_files and
                    interface_of(p) not in listed_files and
                    not any(p.startswith(ld) for ld in listed_dirs)]
        result(not unlisted, "%s: each of its %d source files listed%s" %
               (d + "/", len(srcs), "".join("\n    not listed: " + p
                                            for p in unlisted)))
    check_readme(a.root, a.readme or os.path.join(a.root, "README.md"),
                 result)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
