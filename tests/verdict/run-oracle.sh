#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The oracle policy (a clairvoyant lower bound on host calls, oracle.c)
# against counts of record: tests/verdict/oracle-counts.txt holds, per
# trace or synthetic workload and aperture, the host calls and failed maps
# the oracle gave when it still stamped every live page at every call (a
# walk of its whole page table per call, minutes of CPU on over-aperture
# at 4 GiB). The oracle must give the same counts, and each case must end
# within ORACLE_TIMEOUT seconds (default 240): a walk per call again would
# not. The oracle's log is the driver's maps, not the planner's windows,
# so planner changes leave these counts alone; a change to how traces are
# read (estimates for truncated lists) can move them: then check the
# change, and record new counts with the reason in the commit.
# Prints one line per case and "N passed, N failed". Env: BUILD.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
R=$BUILD/pvdma-replay
COUNTS=tests/verdict/oracle-counts.txt
LIMIT=${ORACLE_TIMEOUT:-240}
. tests/lib.sh
need "$R"
work=$(mktemp -d "${TMPDIR:-/tmp}/pvdma-oracle.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

# case aperture calls failed, as the oracle gives them now: traces/NAME
# for a trace, synthetic:NAME for a workload
oracle() {	# aperture, replay arguments...
	ap=$1
	shift
	timeout "$LIMIT" "$R" --quiet --json --policy oracle --aperture "$ap" \
		--ops 100000 "$@" >"$work/run.json" 2>"$work/run.err"
	rc=$?
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 1 ]; then
		fail "oracle at $ap on $*: exit $rc (124: over $LIMIT s)"
		sed 's/^/      /' "$work/run.err" | tail -n 3
		return
	fi
	python3 - "$ap" "$work/run.json" >>"$work/now" <<'PY'
import json, sys
for line in open(sys.argv[2]):
    r = json.loads(line)
    name = r["trace"]
    if not name.startswith("synthetic:"):
        name = name.split("/")[-2] + "/" + name.split("/")[-1]
        name = name.replace(".trace.xz", "")
    print(name, sys.argv[1], r["host_calls"], r["failed_maps"])
PY
}

: >"$work/now"
grep -v '^#' "$COUNTS" | awk 'NF' >"$work/want"
awk '{ print $2 }' "$work/want" | sort -u >"$work/apertures"
while read -r ap; do
	traces=$(awk -v ap="$ap" '$2 == ap && $1 !~ /^synthetic:/ \
		{ print "traces/" $1 ".trace.xz" }' "$work/want")
	# shellcheck disable=SC2086 # one path a word
	[ -n "$traces" ] && oracle "$ap" $traces </dev/null
	awk -v ap="$ap" '$2 == ap && $1 ~ /^synthetic:/ \
		{ sub("synthetic:", "", $1); print $1 }' "$work/want" >"$work/synth"
	while read -r s; do
		oracle "$ap" --synthetic "$s" </dev/null
	done <"$work/synth"
done <"$work/apertures"

while read -r name ap calls fails; do
	got=$(awk -v n="$name" -v ap="$ap" '$1 == n && $2 == ap \
		{ print $3, $4 }' "$work/now")
	if [ "$got" = "$calls $fails" ]; then
		ok "$name at $ap: $calls host calls, $fails failed maps"
	else
		fail "$name at $ap: want $calls host calls, $fails failed; got '${got:-nothing}'"
	fi
done <"$work/want"
finish
