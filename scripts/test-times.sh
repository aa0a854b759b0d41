#!/bin/sh
# SPDX-License-Identifier: MIT
# The run times tests/lib.sh recorded (BUILD/test-times.tsv: script,
# seconds, passed, failed, when) as docs/testing.md's table: the latest run
# of each script that passed, between the test-times markers.
# Usage: scripts/test-times.sh TIMES.tsv...	(a later file wins)
set -u
cd "$(dirname "$0")/.." || exit 1
[ $# -gt 0 ] || { echo "usage: $0 TIMES.tsv..." >&2; exit 2; }
python3 - docs/testing.md "$@" <<'PY'
import sys

doc, files = sys.argv[1], sys.argv[2:]
latest = {}
for path in files:
    with open(path) as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) != 5 or cols[3] != "0":
                continue
            script, secs, passed, _, when = cols
            latest[script] = (int(secs), int(passed), when)
rows = ["| script | seconds | checks | when (UTC) |", "|---|---:|---:|---|"]
for script in sorted(latest):
    secs, passed, when = latest[script]
    rows.append("| %s | %d | %d | %s |" % (script, secs, passed, when))
begin, end = "<!-- test-times:begin -->\n", "<!-- test-times:end -->\n"
with open(doc) as f:
    text = f.read()
if begin not in text or end not in text:
    sys.exit("docs/testing.md has no test-times markers")
head, rest = text.split(begin, 1)
with open(doc, "w") as f:
    f.write(head + begin + "\n".join(rows) + "\n" + end + rest.split(end, 1)[1])
PY
