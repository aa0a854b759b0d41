#!/bin/sh
# SPDX-License-Identifier: MIT
#
# make mutate: does the test suite notice when a mechanism is switched off?
# Each mutation of tests/mutate/mutations.tsv is seeded, one at a time, into
# a scratch copy of the committed tree (build/mutate/tree: the working tree
# others edit is never touched), the copy is rebuilt incrementally with
# ASan/UBSan as make check builds it, and only the suites the table names
# for that mutation run, fastest first. A mutation is caught when one of
# them fails; it is judged only where those suites pass on the unmutated
# copy. Writes build/mutate/report.md and, on a run of every mutation, the
# table between the mutate markers of docs/testing.md.
#
# Usage: scripts/mutate.sh [ID...]	(default: every mutation)
# Env: MUTATE_FROM (commit, default HEAD), MUTATE_TIMEOUT (seconds per suite
# run, default 900), MUTATE_VM=0 (leave out mutations whose suites boot a
# VM; they are listed as not run), MUTATE_DOC=0 (leave docs/testing.md).
set -u
cd "$(dirname "$0")/.." || exit 1
repo=$(pwd)
table=tests/mutate/mutations.tsv
work=$repo/build/mutate
tree=$work/tree
# One commit for the whole run: HEAD moves while others commit.
from=$(git rev-parse --verify "${MUTATE_FROM:-HEAD}^{commit}") || exit 2
limit=${MUTATE_TIMEOUT:-900}
rev=$(git rev-parse --short "$from")
ids=$*

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

say() { echo "mutate: $*"; }

# The command of a suite, run from the tree's root with BUILD=build/san.
suite_cmd() {
	case $1 in
	unit:*)		echo "build/san/tests/test_${1#unit:}" ;;
	replay)		echo tests/replay/run-replay.sh ;;
	verdict|tables)	echo "tests/verdict/run-$1.sh" ;;
	host|hostile|options|restart)
			echo "tests/host/run-$1.sh" ;;
	attack:*)	echo "tests/host/run-attack.sh ${1#attack:}" ;;
	e2e)		echo tests/e2e/run-e2e.sh ;;
	hostile-vm)	echo tests/e2e/run-hostile-vm.sh ;;
	*)		return 1 ;;
	esac
}

boots_vm() {
	case $1 in e2e|hostile-vm) return 0 ;; esac
	return 1
}

# run_suite SUITE LOG: the suite's exit status (124: it ran out of time).
# The VM image cache is the main tree's, never downloaded again.
run_suite() {
	r_cmd=$(suite_cmd "$1") || { echo "unknown suite $1" >"$2"; return 125; }
	# shellcheck disable=SC2086
	(cd "$tree" && BUILD=build/san VM_DIR="$repo/build/vm" \
		timeout "$limit" $r_cmd) </dev/null >"$2" 2>&1
}

# A suite's result on the unmutated tree, run once: "STATUS SECONDS".
baseline() {
	b_file=$work/base/$(echo "$1" | tr ':' '_')
	if [ ! -s "$b_file" ]; then
		b_t0=$(date +%s)
		run_suite "$1" "$b_file.log"
		echo "$? $(($(date +%s) - b_t0))" >"$b_file"
		say "baseline $1: $(cat "$b_file")" >&2
	fi
	cat "$b_file"
}

# seed FILE FROM TO: FROM, found exactly once, becomes TO (a new inode, so
# nothing else sharing the file sees it).
seed() {
	python3 - "$tree/$1" "$2" "$3" <<'PY'
import os
import sys

path, old, new = sys.argv[1:4]
with open(path) as f:
    text = f.read()
if text.count(old) != 1:
    sys.exit(1)
with open(path + ".mutant", "w") as f:
    f.write(text.replace(old, new))
os.chmod(path + ".mutant", os.stat(path).st_mode)
os.rename(path + ".mutant", path)
PY
}

# The committed file back, newer than its objects so that make rebuilds.
unseed() {
	git show "$from:$1" >"$tree/$1.orig" && mv "$tree/$1.orig" "$tree/$1"
}

build() {
	make -C "$tree" -j2 SAN=1 BUILD=build/san tests </dev/null >"$1" 2>&1
}

# ---- the scratch tree, one run at a time
mkdir -p "$work"
exec 9>"$work/lock"
flock -n 9 || { say "another run holds $work/lock"; exit 2; }
rm -rf "$tree" "$work/base" "$work/logs"
mkdir -p "$tree" "$work/base" "$work/logs"
git archive "$from" | tar -x -C "$tree" || exit 2
say "tree of $rev in $tree; building (ASan/UBSan)"
build "$work/logs/build.log" || { tail -n 30 "$work/logs/build.log"; exit 2; }

# ---- each mutation
results=$work/results
: >"$results"
grep -v '^#' "$table" | while IFS='	' read -r id file suites what old new; do
	[ -n "$id" ] || continue
	if [ -n "$ids" ] && ! echo " $ids " | grep -q " $id "; then
		continue
	fi
	list=$(echo "$suites" | tr ',' ' ')
	result=
	if [ "${MUTATE_VM:-1}" = 0 ]; then
		for s in $list; do
			boots_vm "$s" && result="not run (MUTATE_VM=0)"
		done
	fi
	if [ -z "$result" ]; then
		for s in $list; do
			set -- $(baseline "$s")
			[ "$1" -eq 0 ] || result="not judged: $s fails unmutated"
		done
	fi
	if [ -z "$result" ] && ! seed "$file" "$old" "$new"; then
		result="stale: its text is not in $file exactly once"
	fi
	if [ -z "$result" ]; then
		log=$work/logs/$id
		if ! build "$log.build"; then
			result="does not build (see $log.build)"
		else
			result=MISSED
			for s in $list; do
				t0=$(date +%s)
				run_suite "$s" "$log.$(echo "$s" | tr ':' '_')"
				rc=$?
				[ "$rc" -eq 0 ] && continue
				how="exit $rc"
				[ "$rc" -eq 124 ] && how="out of time"
				result="caught by $s ($how, $(($(date +%s) - t0)) s)"
				break
			done
		fi
		unseed "$file"
	fi
	say "$id: $result"
	printf '%s\t%s\t%s\t%s\t%s\n' "$id" "$file" "$suites" "$what" "$result" \
		>>"$results"
done

# The tree as committed again, for the next run's incremental build.
build "$work/logs/build-final.log"

# ---- the report
total=$(grep -c . "$results")
caught=$(grep -c '	caught by ' "$results")
missed=$(grep -c '	MISSED$' "$results")
notrun=$(grep -c '	not run' "$results")
{
	echo "Mutations of commit $rev, $(date -u +%Y-%m-%d): $caught of $total caught, $missed missed, $notrun not run (scripts/mutate.sh)."
	echo
	echo "| mutation | file | what it switches off or breaks | suites run | result |"
	echo "|---|---|---|---|---|"
	while IFS='	' read -r id file suites what result; do
		[ "$result" = MISSED ] && result="**MISSED**"
		echo "| $id | $file | $what | $(echo "$suites" | sed 's/,/, /g') | $result |"
	done <"$results"
} >"$work/report.md"
cat "$work/report.md"
if [ -z "$ids" ] && [ "${MUTATE_DOC:-1}" != 0 ]; then
	python3 - "$work/report.md" docs/testing.md <<'PY'
import sys

report, doc = sys.argv[1:3]
begin, end = "<!-- mutate:begin -->\n", "<!-- mutate:end -->\n"
with open(doc) as f:
    text = f.read()
if begin not in text or end not in text:
    sys.exit("docs/testing.md has no mutate markers")
with open(report) as f:
    table = f.read()
head, rest = text.split(begin, 1)
with open(doc, "w") as f:
    f.write(head + begin + table + end + rest.split(end, 1)[1])
PY
	say "docs/testing.md: the table written"
fi
[ "$missed" -eq 0 ] && ! grep -q '	not judged\|	stale\|	does not build' "$results"
