#!/bin/sh
# SPDX-License-Identifier: MIT
# Numbers that can't go stale (scripts/docblocks.py):
#  - every number in the prose of the documents tests/docs/numbers.txt
#    checks is in a block a program writes, or a spec fact that file allows;
#    every number of a block quoted "from" a committed file is in that file;
#  - each block's run is known (numbers.txt's writer lines): README.md and
#    docs/performance.md take only make bench's, other documents name it;
#  - the blocks made from committed files (restart costs, churn curve)
#    match them;
#  - the lint fails on made-up documents with stray numbers;
#  - docs/performance.md's class table states run-replay's bounds;
#  - no tracked file refers to an issue by its number.
# The blocks made from a fresh replay are tests/verdict/run-tables.sh's.
# No build needed. Prints "N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
dir=$(mktemp -d) || exit 1
trap 'rm -rf "$dir"' EXIT

# docblocks.py prints a line per document or block and its own count.
counted python3 scripts/docblocks.py --lint
counted python3 scripts/docblocks.py --check

# docs/performance.md's class table states run-replay's bounds; a copy with
# one bound changed must fail.
counted python3 tests/docs/class_bounds.py
sed 's/^\(| g-pool |.*>= \)\([0-9]*\)x |$/\1\21x |/' docs/performance.md \
	>"$dir/performance.md"
check_exit "class bounds: a table bound unlike the test's fails" 1 \
	python3 tests/docs/class_bounds.py "$dir/performance.md" \
	tests/replay/run-replay.sh

# The lint itself, on documents made up here: it must fail on each stray
# number and pass what is generated, quoted or allowed.
printf 'measured: 4242 ms\n' >"$dir/src.txt"
lint_case() {	# name, want (pass|fail), document text, [more rules]
	printf '%s\n' "$3" >"$dir/doc.md"
	printf 'check %s\nallow 16 KiB -- the page\nallow-rule power-of-two-size\nallow-rule layout-offset\n%s\n' \
		"$dir/doc.md" "${4:-}" >"$dir/rules.txt"
	if [ "$2" = pass ]; then
		check_exit "lint: $1" 0 python3 scripts/docblocks.py --lint "$dir/rules.txt"
	else
		check_exit "lint: $1" 1 python3 scripts/docblocks.py --lint "$dir/rules.txt"
	fi
}
lint_case "a measured number in prose fails" fail "pvdma needs 37 host calls."
lint_case "a measured ratio in prose fails" fail "It is 12.5x faster."
lint_case "an allowed spec fact passes" pass "The DART's page is 16 KiB; windows of 2 MiB."
lint_case "names and code are not numbers" pass "On h100 and arm64, \`--batch 2032\`, perf/e2e-amd64-6.1.0-57.txt, 10^6 ops."
# shellcheck disable=SC2016 # the backticks are the document's, not the shell's
lint_case "a number in a code span over two lines is code" pass "$(printf 'says \`took\n37 ms\` then')"
# Who wrote a quoted file: the document names the run, or make bench's
# documents quote only make bench.
writer="writer $dir/src.txt tests/x/run-x.sh"
quote="$(printf 'From run-x.sh:\n<!-- q:begin from %s -->\nIt took 4242 ms.\n<!-- q:end -->' "$dir/src.txt")"
lint_case "a quoted number found in its source passes" pass "$quote" "$writer"
lint_case "a quote of a run's file no writer line claims fails" fail "$quote"
lint_case "a block whose run the document does not name fails" fail \
	"$(printf '<!-- q:begin from %s -->\nIt took 4242 ms.\n<!-- q:end -->' "$dir/src.txt")" \
	"$writer"
lint_case "a bench-only document quoting another run fails" fail "$quote" \
	"$(printf '%s\nbench-only %s' "$writer" "$dir/doc.md")"
lint_case "a bench-only document quoting make bench passes" pass \
	"$(printf 'make bench:\n<!-- q:begin from %s -->\nIt took 4242 ms.\n<!-- q:end -->' "$dir/src.txt")" \
	"$(printf 'writer %s make bench\nbench-only %s' "$dir/src.txt" "$dir/doc.md")"
lint_case "a quoted number missing from its source fails" fail \
	"$(printf 'From run-x.sh:\n<!-- q:begin from %s -->\nIt took 4243 ms.\n<!-- q:end -->' "$dir/src.txt")" \
	"$writer"
lint_case "a quote of a missing file fails" fail \
	"$(printf '<!-- q:begin from %s/none -->\nok\n<!-- q:end -->' "$dir")"
lint_case "a block no program writes fails" fail \
	"$(printf '<!-- made-up:begin -->\n| 1 |\n<!-- made-up:end -->')"
lint_case "a layout's offsets are not measurements" pass \
	"$(printf '| off | field |\n|---|---|\n| 52 | state |')"
lint_case "a measured number in a layout table fails" fail \
	"$(printf '| off | field |\n|---|---|\n| 52 | took 37 ms |')"
lint_case "a number in another table's first column fails" fail \
	"$(printf '| trace | calls |\n|---|---|\n| 52 | x |')"
lint_case "a block without its end fails" fail "$(printf '<!-- perf-sweep:begin -->\n| 1 |')"

# A user's clone has no issue tracker: a reference to an issue by number,
# in a document or a comment, points nowhere. Name the mechanism or the
# document section instead.
issue_refs() {
	git ls-files -- . ':!LICENSES' ':!fuzz/corpus' ':!traces/*/*.xz' |
		xargs grep -nIiE '\bissues? #?[0-9]+|\bissue-[0-9]+|\(#[0-9]+\)'
}
if ! git rev-parse --git-dir >/dev/null 2>&1; then
	skip "no issue numbers in the tree (not a git checkout)"
elif issue_refs >"$dir/issues"; then
	fail "no issue numbers in the tree: $(wc -l <"$dir/issues") found"
	sed 's/^/      /' "$dir/issues"
else
	ok "no issue numbers in the tree (documents, comments, scripts)"
fi
finish
