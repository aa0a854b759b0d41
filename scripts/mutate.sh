#!/bin/sh
# SPDX-License-Identifier: MIT
#
# make mutate: does the test suite notice when a mechanism is switched off?
# Each mutation of tests/mutate/mutations.tsv is seeded, one at a time, into
# a scratch copy of the committed tree (build/mutate/tree: the working tree
# others edit is never touched), the copy is rebuilt incrementally with
# ASan/UBSan as make check builds it, and only the suites the table names
# for that mutation run, in the table's order. A mutation is caught when
# one of them fails where it passed on the unmutated copy; a suite that
# fails unmutated (twice: once may be the machine's load) cannot judge, and
# the next suite of the list is asked. Each suite's unmutated run happens
# once, the first time a mutation reaches it. Writes
# build/mutate/report.md and merges its rows into the table between the
# mutate markers of docs/testing.md (scripts/mutate_table.py: each row
# names the commit it was judged at, so a run of a few keeps the rest).
#
# Every anchor (the text a mutation replaces) must occur exactly once in
# its file: one found twice is refused, not guessed at. --check only
# checks the table against the working tree (tests/mutate/run-anchors.sh).
#
# Usage: scripts/mutate.sh [--check] [ID...]	(default: every mutation)
# Env: MUTATE_FROM (commit, default HEAD), MUTATE_TIMEOUT (seconds per suite
# run, default 900), MUTATE_VM=0 (leave out mutations whose suites boot a
# VM; they are listed as not run), MUTATE_DOC=0 (leave docs/testing.md).
set -u
cd "$(dirname "$0")/.." || exit 1
repo=$(pwd)
table=tests/mutate/mutations.tsv
check_only=0
if [ "${1:-}" = --check ]; then
	check_only=1
	shift
fi
work=$repo/build/mutate
tree=$work/tree
limit=${MUTATE_TIMEOUT:-900}
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
	e2e-stable)	echo tests/e2e/run-e2e-stable.sh ;;
	hostile-vm)	echo tests/e2e/run-hostile-vm.sh ;;
	teardown-vm)	echo tests/e2e/run-teardown-vm.sh ;;
	*)		return 1 ;;
	esac
}

boots_vm() {
	case $1 in e2e|e2e-stable|hostile-vm|teardown-vm) return 0 ;; esac
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

# anchor_problem ROOT FILE FROM TO: says what is wrong with a mutation's
# anchor in ROOT's copy of FILE (nothing when FROM occurs exactly once and
# TO differs from it).
anchor_problem() {
	python3 - "$1/$2" "$2" "$3" "$4" <<'PY'
import sys

path, name, old, new = sys.argv[1:5]
try:
    with open(path) as f:
        n = f.read().count(old)
except OSError:
    sys.exit(f"no file {name}")
if not old or old == new:
    sys.exit("its replacement is no change")
if n == 0:
    sys.exit(f"stale: its text is not in {name}")
if n > 1:
    sys.exit(f"ambiguous: its text is in {name} {n} times (make it unique)")
PY
}

# A suite's result on the unmutated tree, run once (a failure once more):
# "STATUS SECONDS". The tree must be unmutated and built.
baseline() {
	b_file=$work/base/$(echo "$1" | tr ':' '_')
	if [ ! -s "$b_file" ]; then
		for b_try in 1 2; do
			b_t0=$(date +%s)
			run_suite "$1" "$b_file.log"
			b_rc=$?
			[ "$b_rc" -eq 0 ] && break
		done
		echo "$b_rc $(($(date +%s) - b_t0))" >"$b_file"
		say "baseline $1: $(cat "$b_file")" >&2
	fi
	cat "$b_file"
}

have_baseline() {
	[ -s "$work/base/$(echo "$1" | tr ':' '_')" ]
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

# ---- the table itself: every field there, every suite known, every
# anchor found exactly once (in the working tree for --check, else in the
# commit's tree below)
table_problems() {	# ROOT
	grep -v '^#' "$table" | while IFS='	' read -r id file suites what old new; do
		[ -n "$id$file" ] || continue
		if [ -z "$new" ] || [ -z "$what" ]; then
			echo "$id: fewer than six tab-separated fields"
			continue
		fi
		for s in $(echo "$suites" | tr ',' ' '); do
			suite_cmd "$s" >/dev/null || echo "$id: unknown suite $s"
		done
		p=$(anchor_problem "$1" "$file" "$old" "$new" 2>&1) ||
			echo "$id: $p"
	done
	grep -v '^#' "$table" | cut -f1 | grep . | sort | uniq -d |
		sed 's/$/: the id is used twice/'
}

if [ "$check_only" = 1 ]; then
	problems=$(table_problems "$repo")
	n=$(grep -v '^#' "$table" | grep -c .)
	[ -n "$problems" ] && echo "$problems"
	echo "mutate: $n mutations, $(echo "$problems" | grep -c .) problems"
	[ -z "$problems" ]
	exit
fi

# ---- the scratch tree, one run at a time
# One commit for the whole run: HEAD moves while others commit.
from=$(git rev-parse --verify "${MUTATE_FROM:-HEAD}^{commit}") || exit 2
rev=$(git rev-parse --short "$from")
mkdir -p "$work"
exec 9>"$work/lock"
flock -n 9 || { say "another run holds $work/lock"; exit 2; }
rm -rf "$tree" "$work/base" "$work/logs"
mkdir -p "$tree" "$work/base" "$work/logs"
git archive "$from" | tar -x -C "$tree" || exit 2
say "tree of $rev in $tree; building (ASan/UBSan)"
build "$work/logs/build.log" || { tail -n 30 "$work/logs/build.log"; exit 2; }

# ---- each mutation
# The tree holds at most one mutant. A suite's first unmutated run takes
# it out and rebuilds first; so it does after a mutant was taken out
# without a build (the objects would still be the mutant's).
mutant=
clean_build=1
unmutate() {
	if [ -n "$mutant" ]; then
		unseed "$mutant"
		mutant=
		clean_build=0
	fi
	[ "$clean_build" = 1 ] && return 0
	build "$work/logs/build-unmutated.log" || exit 2
	clean_build=1
}

results=$work/results
: >"$results"
grep -v '^#' "$table" | while IFS='	' read -r id file suites what old new; do
	[ -n "$id" ] || continue
	if [ -n "$ids" ] && ! echo " $ids " | grep -q " $id "; then
		continue
	fi
	list=$(echo "$suites" | tr ',' ' ')
	log=$work/logs/$id
	result=
	if [ "${MUTATE_VM:-1}" = 0 ]; then
		for s in $list; do
			boots_vm "$s" && result="not run (MUTATE_VM=0)"
		done
	fi
	if [ -z "$result" ]; then
		result=$(anchor_problem "$tree" "$file" "$old" "$new" 2>&1)
	fi
	unjudged=
	for s in $list; do
		[ -z "$result" ] || break
		if ! have_baseline "$s"; then
			unmutate
		fi
		set -- $(baseline "$s")
		if [ "$1" -ne 0 ]; then
			unjudged="$unjudged $s"
			continue
		fi
		if [ -z "$mutant" ]; then
			seed "$file" "$old" "$new"
			mutant=$file
			clean_build=0
			if ! build "$log.build"; then
				result="does not build (see $log.build)"
				break
			fi
		fi
		t0=$(date +%s)
		run_suite "$s" "$log.$(echo "$s" | tr ':' '_')"
		rc=$?
		[ "$rc" -eq 0 ] && continue
		how="exit $rc"
		[ "$rc" -eq 124 ] && how="out of time"
		result="caught by $s ($how, $(($(date +%s) - t0)) s)"
	done
	if [ -z "$result" ] && [ -n "$unjudged" ]; then
		result="not judged: fails unmutated:$unjudged"
	fi
	[ -n "$result" ] || result=MISSED
	if [ -n "$mutant" ]; then
		unseed "$mutant"
		mutant=
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
other=$((total - caught - missed - notrun))
{
	echo "Mutations of commit $rev, $(date -u +%Y-%m-%d): $caught of $total caught, $missed missed, $notrun not run, $other not judged, stale or not built (scripts/mutate.sh)."
	echo
	echo "| mutation | file | what it switches off or breaks | suites run | result |"
	echo "|---|---|---|---|---|"
	while IFS='	' read -r id file suites what result; do
		[ "$result" = MISSED ] && result="**MISSED**"
		echo "| $id | $file | $what | $(echo "$suites" | sed 's/,/, /g') | $result |"
	done <"$results"
} >"$work/report.md"
cat "$work/report.md"
if [ "${MUTATE_DOC:-1}" != 0 ]; then
	python3 scripts/mutate_table.py "$results" "$table" docs/testing.md \
		"$rev" "$(date -u +%Y-%m-%d)" || exit 2
	say "docs/testing.md: the table merged (rows of this run at $rev)"
fi
[ "$missed" -eq 0 ] && [ "$other" -eq 0 ]
