# SPDX-License-Identifier: MIT
#
# tests/lib.sh: what every shell test shares. Source it first thing:
#
#	. "$(dirname "$0")/../lib.sh"
#
# Each check prints one line, "ok:   NAME" or "FAIL: NAME", and the test
# ends with finish, which prints "N passed, N failed" (scripts/run-tests.sh
# reads that line) and exits non-zero when anything failed.
#
#	ok NAME / fail NAME / skip NAME	count a result decided by the caller
#	check NAME COMMAND...		passes when COMMAND exits 0
#	check_exit NAME STATUS COMMAND...	passes when COMMAND exits STATUS
#	check_rc NAME STATUS		passes when STATUS, the exit status of a
#					command the caller ran, is 0
#	expect NAME 'CONDITION'		passes when the shell CONDITION holds
#	failed_cleanly STATUS		the status is a clean failure: 1 to
#					125, not a signal, not a sanitizer
#					report, not "cannot run"
#	status_ok STATUS WANT...	the status is one of WANT (for callers
#					that ran the command themselves)
#	$check_out			the file holding the output of the last
#					check or check_exit
#	add_counts FILE			adds the counts "PASSED FAILED" a helper
#					(a Python block) wrote to FILE; no file
#					is one failure
#	counted COMMAND...		runs a checker that prints its own
#					ok/FAIL lines and "N passed, N failed":
#					its lines shown, its counts added; a
#					non-zero exit with nothing failed, or
#					no closing line, is one failure more
#	wait_socket PATH [SECONDS]	waits until PATH is a socket (a daemon
#					has started listening), at most SECONDS
#					(default 5); fails if it never is
#	need FILE...			ends the test (one failure) when a
#					program it runs is not built
#	abort NAME			one failure, then finish (a step the rest
#					needs did not work)
#	finish [LINE]			the closing line and the exit status;
#					a LINE is printed after the counts,
#					last (run-e2e.sh's result line)
#	scratch_dir NAME [PIDVAR...]	makes the test's scratch directory
#					$dir (/tmp/pvdma-NAME.XXXXXX) and at
#					exit: stops the process whose pid each
#					PIDVAR holds then (SIGCONT, SIGTERM,
#					waited for), runs the script's
#					at_exit function if it has one, and
#					removes $dir (KEEP=1: keeps it, says
#					where); the exit status is kept
#
# The programs tests run, from BUILD (default build/); each may be named
# in the environment instead: $PVDMAD, $PVDMACTL, $CLIENT (the host
# tests' stand-in for QEMU and a guest, tests/host/client.c).
#
# A sanitizer report must never look like an ordinary failure (exit 1 is
# what most of our programs return for "refused"), so reports exit with
# PVDMA_TEST_SAN_EXIT instead.

BUILD=${BUILD:-build}
PVDMAD=${PVDMAD:-$BUILD/pvdmad}
PVDMACTL=${PVDMACTL:-$BUILD/pvdmactl}
CLIENT=${CLIENT:-$BUILD/tests/host/client}

PVDMA_TEST_SAN_EXIT=86
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}exitcode=$PVDMA_TEST_SAN_EXIT"
UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}exitcode=$PVDMA_TEST_SAN_EXIT"
export ASAN_OPTIONS UBSAN_OPTIONS

passed=0
failed=0
skipped=0
t_started=$(date +%s)
# Where check keeps a command's output, to show its tail on failure. A file,
# not $(...): a daemon started by the command would hold a pipe open.
check_out=$(mktemp "${TMPDIR:-/tmp}/pvdma-test-log.XXXXXX") || exit 1

ok() {
	echo "ok:   $*"
	passed=$((passed + 1))
}

fail() {
	echo "FAIL: $*"
	failed=$((failed + 1))
}

skip() {
	echo "skip: $*"
	skipped=$((skipped + 1))
}

# Shows the last lines a failed command printed, indented under its FAIL.
t_show_log() {
	sed 's/^/    /' "$check_out" | tail -n "${PVDMA_TEST_LOG_LINES:-30}"
}

check() {
	t_name=$1
	shift
	if "$@" >"$check_out" 2>&1; then
		ok "$t_name"
	else
		fail "$t_name (exit $?)"
		t_show_log
	fi
}

check_exit() {
	t_name=$1
	t_want=$2
	shift 2
	"$@" >"$check_out" 2>&1
	t_rc=$?
	if [ "$t_rc" -eq "$t_want" ]; then
		ok "$t_name"
	else
		fail "$t_name (exit $t_rc, want $t_want)"
		t_show_log
	fi
}

# A clean failure: the program decided to fail. 126/127 are the shell's
# "cannot run", above 128 a signal, PVDMA_TEST_SAN_EXIT a sanitizer.
failed_cleanly() {
	[ "$1" -ge 1 ] && [ "$1" -le 125 ] && [ "$1" -ne "$PVDMA_TEST_SAN_EXIT" ]
}

check_rc() {
	if [ "$2" -eq 0 ]; then
		ok "$1"
	else
		fail "$1 (exit $2)"
	fi
}

expect() {
	if eval "$2"; then
		ok "$1"
	else
		fail "$1 ($2)"
	fi
}

status_ok() {
	t_rc=$1
	shift
	for t_want in "$@"; do
		[ "$t_rc" -eq "$t_want" ] && return 0
	done
	return 1
}

add_counts() {
	a_passed= a_failed=
	[ -r "$1" ] && read -r a_passed a_failed <"$1"
	case "$a_passed$a_failed" in
	''|*[!0-9]*)
		fail "$1: no counts (the checks did not run to their end)"
		return
		;;
	esac
	passed=$((passed + a_passed))
	failed=$((failed + a_failed))
}

counted() {
	t_log=$check_out.counted
	"$@" >"$t_log" 2>&1
	t_rc=$?
	grep -v -E '^[0-9]+ passed, [0-9]+ failed$' "$t_log"
	sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$t_log" |
		tail -n 1 >"$t_log.counts"
	if [ -s "$t_log.counts" ]; then
		add_counts "$t_log.counts"
	else
		fail "$1: no closing count (it did not run to its end)"
	fi
	[ "$t_rc" -eq 0 ] || grep -q ' [1-9]' "$t_log.counts" ||
		fail "$1: exit $t_rc with nothing failed"
	rm -f "$t_log" "$t_log.counts"
}

wait_socket() {
	t_tries=$((${2:-5} * 20))
	while [ ! -S "$1" ] && [ "$t_tries" -gt 0 ]; do
		sleep 0.05
		t_tries=$((t_tries - 1))
	done
	[ -S "$1" ]
}

need() {
	for t_prog in "$@"; do
		[ -x "$t_prog" ] && continue
		fail "$t_prog is not built (make tests)"
		finish
	done
}

abort() {
	fail "$*"
	finish
}

# Each test's run time goes to BUILD/test-times.tsv (docs/testing.md
# quotes it): script, seconds, passed, failed, when. A script that execs
# another in its place (the e2e variants) names itself in PVDMA_TEST_NAME.
t_record_time() {
	t_dir=${BUILD:-build}
	[ -d "$t_dir" ] || return 0
	printf '%s\t%s\t%s\t%s\t%s\n' "${PVDMA_TEST_NAME:-$0}" \
		"$(($(date +%s) - t_started))" \
		"$passed" "$failed" "$(date -u +%Y-%m-%dT%H:%MZ)" \
		>>"$t_dir/test-times.tsv" 2>/dev/null
	return 0
}

# shellcheck disable=SC2120	# LINE is optional: most tests have none
finish() {
	rm -f "$check_out"
	t_record_time
	[ "$skipped" -eq 0 ] || echo "($skipped skipped)"
	echo "$passed passed, $failed failed"
	[ $# -eq 0 ] || echo "$1"
	[ "$failed" -eq 0 ] && exit 0
	exit 1
}

# The EXIT trap of scratch_dir. Its own commands must not change the
# status the script exits with, so it is taken first and exited with.
t_scratch_cleanup() {
	t_exit=$?
	for t_var in $t_stop_vars; do
		eval "t_pid=\${$t_var:-}"
		[ -n "$t_pid" ] || continue
		kill -CONT "$t_pid" 2>/dev/null	# a test may have stopped it
		kill "$t_pid" 2>/dev/null && wait "$t_pid" 2>/dev/null
	done
	command -v at_exit >/dev/null 2>&1 && at_exit
	if [ -n "${KEEP:-}" ]; then
		echo "kept $dir"
	else
		rm -rf "$dir"
	fi
	exit "$t_exit"
}

scratch_dir() {
	dir=$(mktemp -d "/tmp/pvdma-$1.XXXXXX") || exit 1
	shift
	t_stop_vars="$*"
	for t_var in $t_stop_vars; do
		eval "$t_var="
	done
	trap t_scratch_cleanup EXIT
}
