#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The mutation table of docs/testing.md, kept true between full runs.

A run of every mutation (make mutate) takes hours; a session that adds,
changes or removes a few runs only those (make mutate MUTATE="ID ...").
This merges such a run into the table between the mutate markers: each
row names the commit it was judged at, a row of a mutation just run is
replaced (unless this run left it out and an earlier one judged
it), a mutation no longer in tests/mutate/mutations.tsv loses its
row, and one not judged yet gets a row that says so. The summary line is
counted from the rows. A run of every mutation replaces every row.

Usage: mutate_table.py RESULTS TABLE DOC REV DATE
  RESULTS  scripts/mutate.sh's results: id, file, suites, what, result
           (tab-separated, one mutation a line)
  TABLE    tests/mutate/mutations.tsv (the mutations there are now)
  DOC      the markdown file whose mutate block is rewritten
  REV      the commit the results were judged at
  DATE     the day of the run (YYYY-MM-DD)
"""
import re
import sys

from docblocks import prose_and_blocks, splice

HEAD = ("| mutation | file | what it switches off or breaks | suites run "
        "| result | judged at |")
NOT_YET = "not run since it was added"


def table_ids(path):
    """id -> (file, suites, what) of every mutation in TABLE, in order."""
    out = {}
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            mid, file, suites, what = line.rstrip("\n").split("\t")[:4]
            out[mid] = (file, suites, what)
    return out


def cells(line):
    """The cells of a markdown table row (a cell's own "|" is "\\|")."""
    return [c.strip() for c in
            re.split(r"(?<!\\)\|", line.strip()[1:-1])]


def cell(text):
    """@text as a table cell."""
    return text.replace("|", "\\|")


def old_rows(block):
    """id -> row cells of the table in @block (its lines), each with its
    commit.

    A block written before rows named their commit (five cells) takes
    the commit of its summary line ("Mutations of commit X, ...").
    """
    commit = "-"
    if block and block[0].startswith("Mutations of commit "):
        commit = block[0].split()[3].rstrip(",")
    rows = {}
    for line in block:
        if not line.startswith("| ") or line.startswith("| mutation |"):
            continue
        c = cells(line)
        if len(c) == 5:
            c.append(commit)
        if len(c) == 6:
            rows[c[0]] = c
    return rows


def new_rows(path, rev):
    """id -> row cells of this run's results."""
    rows = {}
    with open(path) as f:
        for line in f:
            if not line.strip():
                continue
            mid, file, suites, what, result = line.rstrip("\n").split("\t")
            if result == "MISSED":
                result = "**MISSED**"
            rows[mid] = [mid, file, cell(what), suites.replace(",", ", "),
                         cell(result), rev]
    return rows


def summary(rows, rev, date):
    results = [r[4] for r in rows]
    caught = sum(r.startswith("caught by ") for r in results)
    missed = sum(r == "**MISSED**" for r in results)
    notrun = sum(r.startswith("not run") for r in results)
    other = len(results) - caught - missed - notrun
    per = {}
    for r in rows:
        if r[5] != "-":
            per[r[5]] = per.get(r[5], 0) + 1
    at = ", ".join("%s (%d)" % (c, n) for c, n in
                   sorted(per.items(), key=lambda kv: -kv[1]))
    return ("Mutations of tests/mutate/mutations.tsv, each judged at the "
            "commit its row names (%s; the last run on %s, at %s): %d of "
            "%d caught, %d missed, %d not run, %d not judged, stale or not "
            "built (scripts/mutate.sh)." %
            (at or "none", date, rev, caught, len(rows), missed, notrun,
             other))


def merge(block, results, table, rev, date):
    """The lines of the mutate block @block with @results (this run)
    merged in."""
    old = old_rows(block)
    rows = []
    for mid, (file, suites, what) in table.items():
        # a run that left it out (MUTATE_VM=0) keeps what one judged
        if mid in results and not (mid in old and
                                   results[mid][4].startswith("not run")):
            rows.append(results[mid])
        elif mid in old:
            rows.append(old[mid])
        else:
            rows.append([mid, file, cell(what), suites.replace(",", ", "),
                         NOT_YET, "-"])
    lines = [summary(rows, rev, date), "", HEAD, "|---|---|---|---|---|---|"]
    return lines + ["| " + " | ".join(r) + " |" for r in rows]


def main(argv):
    if len(argv) != 6:
        sys.exit(__doc__)
    results_path, table_path, doc, rev, date = argv[1:]
    with open(doc) as f:
        text = f.read()
    block = next((body for name, _, _, body in prose_and_blocks(text)[1]
                  if name == "mutate"), None)
    new = None if block is None else splice(
        text, "mutate", merge(block, new_rows(results_path, rev),
                              table_ids(table_path), rev, date))
    if new is None:
        sys.exit("mutate_table.py: %s has no mutate markers" % doc)
    with open(doc, "w") as f:
        f.write(new)


if __name__ == "__main__":
    main(sys.argv)
