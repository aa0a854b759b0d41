#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The mutation table stays usable as the code moves: every line of
# tests/mutate/mutations.tsv names known suites and an anchor found
# exactly once in its file of the working tree (scripts/mutate.sh --check),
# so an edit that duplicates or removes an anchor fails here, in make
# check, not hours later in make mutate. Also checks that --check itself
# refuses an ambiguous, a stale and an empty-change anchor. No build needed.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh

check "every mutation's anchor is found exactly once, its suites known" \
	scripts/mutate.sh --check

# A scratch copy of the script and a table of bad lines over a file of
# our own: --check must name each problem.
t=$(mktemp -d) || abort "mktemp"
trap 'rm -rf "$t"' EXIT
mkdir -p "$t/scripts" "$t/tests/mutate" "$t/src"
cp scripts/mutate.sh "$t/scripts/"
printf 'int a;\nint a;\nint b;\n' >"$t/src/x.c"
tab=$(printf '\t')
{
	echo "twice${tab}src/x.c${tab}unit:x${tab}an anchor found twice${tab}int a;${tab}int c;"
	echo "gone${tab}src/x.c${tab}unit:x${tab}an anchor not there${tab}int z;${tab}int c;"
	echo "same${tab}src/x.c${tab}unit:x${tab}no change${tab}int b;${tab}int b;"
	echo "nosuite${tab}src/x.c${tab}bogus${tab}an unknown suite${tab}int b;${tab}int c;"
	echo "good${tab}src/x.c${tab}unit:x,replay${tab}a good line${tab}int b;${tab}int c;"
} >"$t/tests/mutate/mutations.tsv"
"$t/scripts/mutate.sh" --check >"$t/out" 2>&1
expect "--check exits 1 on a bad table" "[ $(
	"$t/scripts/mutate.sh" --check >/dev/null 2>&1; echo $?) -eq 1 ]"
expect "an anchor found twice is ambiguous" \
	'grep -q "^twice: ambiguous: its text is in src/x.c 2 times" "$t/out"'
expect "an anchor not found is stale" \
	'grep -q "^gone: stale: its text is not in src/x.c" "$t/out"'
expect "a replacement that changes nothing is refused" \
	'grep -q "^same: its replacement is no change" "$t/out"'
expect "an unknown suite is refused" \
	'grep -q "^nosuite: unknown suite bogus" "$t/out"'
expect "a good line passes, four problems counted" \
	'! grep -q "^good:" "$t/out" && grep -q "^mutate: 5 mutations, 4 problems" "$t/out"'
finish
