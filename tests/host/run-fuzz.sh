#!/bin/sh
# SPDX-License-Identifier: MIT
# Build every libFuzzer target (clang, ASan + UBSan) and run each for
# FUZZ_TIME seconds; any crash, sanitizer report or leak fails.
# Prints one line per target with libFuzzer's final "#N DONE cov: X ft: Y"
# figures, then "N passed, N failed".
#
#   tests/host/run-fuzz.sh            quick CI run (make check): 15 s each,
#                                     seeded from fuzz/corpus/<target>/,
#                                     new inputs go to a throw-away dir
#   FUZZ_TIME=300 FUZZ_KEEP=1 ...     long run (make fuzz): new inputs are
#                                     kept in BUILD/fuzz/corpus/<target>/
#   tests/host/run-fuzz.sh --merge    add to fuzz/corpus/<target>/ only the
#                                     kept inputs that bring new edges
#   FUZZ_TARGETS="fuzz_ring ..."      a subset
#
# The host targets are built here (this is their one build rule); the trace
# parser's target comes from tools/tools.mk (make BUILD/fuzz/fuzz_trace).
set -u
BUILD=${BUILD:-build}
FUZZ_TIME=${FUZZ_TIME:-15}
FUZZ_TARGETS=${FUZZ_TARGETS:-fuzz_ring fuzz_dmadev fuzz_ledger fuzz_control fuzz_guest_ram fuzz_qemu_args fuzz_trace}
out=$BUILD/fuzz
mode=run
[ "${1:-}" = "--merge" ] && mode=merge
. "$(dirname "$0")/../lib.sh"

if ! command -v clang >/dev/null 2>&1; then
	abort "clang missing (scripts/install-deps.sh)"
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)		# BUILD may be relative or absolute
CFLAGS="-std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined -Wall -Wextra -Wno-unused-parameter \
	-Ilib/include -Ilib -Icommon -I. -Itests/host"
# The sources come from the build itself (host/host.mk's HOST_FUZZ_SRCS:
# lib/, common/ and every host file pvdmad links but its main), so a file
# added to pvdmad is in the fuzz builds too; no target opens a socket.
SRCS=$(make -s --no-print-directory print-host-fuzz-srcs) ||
	abort "make print-host-fuzz-srcs failed"
[ -n "$SRCS" ] || abort "make print-host-fuzz-srcs printed nothing"

build() {	# target
	if [ "$1" = fuzz_trace ]; then
		make -s BUILD="$BUILD" "$BUILD/fuzz/fuzz_trace"
	else
		clang $CFLAGS -o "$out/$1" "fuzz/$1.c" $SRCS
	fi
}

# libFuzzer writes new inputs to the first directory and reads the rest.
run() {		# target, work corpus
	seeds=fuzz/corpus/$1
	[ -d "$seeds" ] || seeds=
	(cd "$out" && exec ./"$1" -max_total_time="$FUZZ_TIME" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$out/$1-" "$2" ${seeds:+"$OLDPWD/$seeds"})
}

report() {	# target, log: libFuzzer's figures
	done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$2" | tail -n 1 |
		    tr -s '[:space:]' ' ')
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$2" |
	       grep -o '[0-9]*$')
	ok "$1: ${runs:-?} runs in ${FUZZ_TIME} s, 0 crashes; ${done_line:-no DONE line}"
}

for target in $FUZZ_TARGETS; do
	if ! build "$target" >"$out/$target.build.log" 2>&1; then
		fail "$target does not build"
		tail -n 20 "$out/$target.build.log"
		continue
	fi
	if [ "$mode" = merge ]; then
		mkdir -p "fuzz/corpus/$target" "$out/corpus/$target"
		# edges only, not hit counts: a few dozen files, not hundreds
		"$out/$target" -merge=1 -use_counters=0 "fuzz/corpus/$target" \
			"$out/corpus/$target" \
			>"$out/$target.merge.log" 2>&1 &&
			ok "$target: fuzz/corpus/$target has $(ls "fuzz/corpus/$target" | wc -l) files, $(du -sk "fuzz/corpus/$target" | cut -f1) KiB" &&
			continue
		fail "$target merge"
		tail -n 20 "$out/$target.merge.log"
		continue
	fi
	if [ -n "${FUZZ_KEEP:-}" ]; then
		corpus=$out/corpus/$target
		mkdir -p "$corpus"
	else
		corpus=$(mktemp -d)
	fi
	if run "$target" "$corpus" >"$out/$target.log" 2>&1; then
		report "$target" "$out/$target.log"
	else
		fail "$target (artifacts: $out/$target-*)"
		grep -A 30 -m 1 -E 'ERROR|runtime error|deadly signal' "$out/$target.log"
	fi
	[ -n "${FUZZ_KEEP:-}" ] || rm -rf "$corpus"
done
finish
