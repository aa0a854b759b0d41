#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The mutation report stays true between full runs: a run of a few
# mutations merges into docs/testing.md's table (scripts/mutate_table.py).
# Over a table written before rows named their commit: the rows run are
# replaced and name this run's commit, a row of a mutation gone from
# mutations.tsv is dropped, a new mutation says it was not run, a row a
# run left out (MUTATE_VM=0) keeps what was judged, the rest keep their
# commit, and the summary is counted from the rows. Then the committed
# table itself: every mutation of mutations.tsv has a row, and no other.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

t=$(mktemp -d) || abort "mktemp"
trap 'rm -rf "$t"' EXIT
tab=$(printf '\t')
cat >"$t/doc.md" <<'EOF'
text before
<!-- mutate:begin -->
Mutations of commit aaaaaaa, 2026-01-01: 3 of 3 caught, 0 missed, 0 not run, 0 not judged, stale or not built (scripts/mutate.sh).

| mutation | file | what it switches off or breaks | suites run | result |
|---|---|---|---|---|
| kept | lib/a.c | a kept one | unit:a | caught by unit:a (exit 1, 2 s) |
| rerun | lib/a.c | an old text | unit:a | caught by unit:a (exit 1, 2 s) |
| gone | lib/a.c | a removed one | unit:a | caught by unit:a (exit 1, 2 s) |
| vm | lib/b.c | one a VM judges | e2e | caught by e2e (exit 1, 300 s) |
<!-- mutate:end -->
text after
EOF
{
	echo "kept${tab}lib/a.c${tab}unit:a${tab}a kept one${tab}x${tab}y"
	echo "rerun${tab}lib/a.c${tab}unit:a,replay${tab}a new text${tab}x${tab}y"
	echo "vm${tab}lib/b.c${tab}e2e${tab}one a VM judges${tab}x${tab}y"
	echo "new${tab}lib/c.c${tab}unit:c${tab}an added one${tab}x${tab}y"
	echo "pipe${tab}lib/c.c${tab}unit:c${tab}a | in its text${tab}x${tab}y"
} >"$t/table.tsv"
{
	echo "rerun${tab}lib/a.c${tab}unit:a,replay${tab}a new text${tab}MISSED"
	echo "vm${tab}lib/b.c${tab}e2e${tab}one a VM judges${tab}not run (MUTATE_VM=0)"
} >"$t/results"

check "a run of two merges" python3 scripts/mutate_table.py "$t/results" \
	"$t/table.tsv" "$t/doc.md" bbbbbbb 2026-02-02
d=$t/doc.md
expect "the text around the block is kept" \
	'[ "$(head -n 1 "$d")" = "text before" ] && [ "$(tail -n 1 "$d")" = "text after" ]'
expect "a row run is replaced, with its commit" \
	'grep -qxF "| rerun | lib/a.c | a new text | unit:a, replay | **MISSED** | bbbbbbb |" "$d"'
expect "a row not run keeps its result and the old commit" \
	'grep -qxF "| kept | lib/a.c | a kept one | unit:a | caught by unit:a (exit 1, 2 s) | aaaaaaa |" "$d"'
expect "a row a run left out keeps what was judged" \
	'grep -qxF "| vm | lib/b.c | one a VM judges | e2e | caught by e2e (exit 1, 300 s) | aaaaaaa |" "$d"'
expect "a mutation gone from the table loses its row" '! grep -q "^| gone |" "$d"'
expect "a new mutation says it was not run" \
	'grep -qxF "| new | lib/c.c | an added one | unit:c | not run since it was added | - |" "$d"'
expect "the summary is counted from the rows" \
	'grep -qF "(aaaaaaa (2), bbbbbbb (1); the last run on 2026-02-02, at bbbbbbb): 2 of 5 caught, 1 missed, 2 not run, 0 not judged" "$d"'
expect "a | in a cell is escaped" \
	'grep -qxF "| pipe | lib/c.c | a \\| in its text | unit:c | not run since it was added | - |" "$d"'
cp "$d" "$t/before.md"
: >"$t/none"
check "merging nothing" python3 scripts/mutate_table.py "$t/none" \
	"$t/table.tsv" "$d" ccccccc 2026-03-03
expect "merging nothing changes no row (an escaped | read back)" \
	'[ "$(grep "^| " "$d")" = "$(grep "^| " "$t/before.md")" ]'
printf 'no markers\n' >"$t/bare.md"
check_exit "a file without the markers is refused" 1 \
	python3 scripts/mutate_table.py "$t/none" "$t/table.tsv" "$t/bare.md" \
	ccccccc 2026-03-03

# the committed table: a row per mutation of mutations.tsv, no other
grep -v '^#' tests/mutate/mutations.tsv | cut -f1 | grep . | sort >"$t/want"
sed -n '/<!-- mutate:begin -->/,/<!-- mutate:end -->/p' docs/testing.md |
	grep '^| ' | grep -v '^| mutation |' | cut -d'|' -f2 | tr -d ' ' |
	sort >"$t/have"
expect "docs/testing.md has a row for each mutation, and no other" \
	'cmp -s "$t/want" "$t/have"'
finish
