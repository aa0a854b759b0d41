#!/bin/sh
# SPDX-License-Identifier: MIT
# Run every test of a build and print one closing line "N passed, N failed".
# Unit tests are the cmocka binaries in BUILD/tests; integration tests are
# the executables tests/*/run-*.sh (each prints "N passed, N failed" or is
# judged by its exit status). Usage: run-tests.sh BUILD
set -u
build=${1:-build/san}
passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

count() {	# name, exit status; parses $log
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
	if [ -z "$p$f" ]; then
		line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
		p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
		f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	fi
	if [ -z "$p$f" ] && [ "$2" -eq 0 ]; then
		p=1	# says no count: judged by its exit status
	fi
	p=${p:-0}
	f=${f:-0}
	if [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1	# crashed or failed without saying how many
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$2" -ne 0 ] || [ "$f" -ne 0 ]; then
		echo "FAIL: $1 ($p passed, $f failed, exit $2)"
		# the failed checks first: a long suite's tail may not hold them
		grep -E '^ *FAIL' "$log" | head -n 20
		tail -n 40 "$log"
	else
		echo "ok:   $1 ($p passed)"
	fi
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
for t in "$build"/tests/test_*; do
	[ -x "$t" ] || continue
	"$t" >"$log" 2>&1
	count "$(basename "$t")" $?
done
for t in tests/*/run-*.sh; do
	[ -x "$t" ] || continue
	BUILD="$build" "$t" >"$log" 2>&1
	count "$t" $?
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
