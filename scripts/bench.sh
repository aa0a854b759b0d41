#!/bin/sh
# SPDX-License-Identifier: MIT
# make bench: the performance report's numbers and plots (docs/perf/).
# Not part of make check: it takes minutes (callgrind and the TCG guest
# most: six to twelve on two shared cores) and measures, it doesn't
# judge. Results: build/bench/*.json, docs/perf/results.md, planner.md,
# planner-callgrind.md, alignment.md, docs/perf/*.png, and the generated
# blocks of README.md and docs/ (scripts/trace_tables.py, bench_report.py).
set -eu
cd "$(dirname "$0")/.."
out=build/bench
mkdir -p "$out" docs/perf
REPLAY=build/pvdma-replay
BENCH=build/planner_bench
traces=$(ls traces/*/*.trace.xz 2>/dev/null || true)

step() { printf '== %s\n' "$*" >&2; }

# pvdma-replay exits 1 when maps failed (traces over the aperture do):
# a result here, not an error of the benchmark.
replay() {
	$REPLAY "$@" || [ $? -eq 1 ]
}

step "replay: every trace x every policy"
# shellcheck disable=SC2086
replay --policy all --json --quiet $traces >"$out/replay.json"

step "replay: the trace tables of README.md and docs/ (scripts/trace_tables.py)"
python3 scripts/trace_tables.py --write --replay "$REPLAY"
python3 scripts/docblocks.py --write	# the blocks made from committed files

step "replay: bus-address alignment (tests/replay/run-alignment.sh)"
# writes docs/perf/alignment.md and docs/performance.md's summary; its
# checks failing is a finding to read in the log, not a reason to stop
BUILD=build tests/replay/run-alignment.sh >"$out/alignment.log" 2>&1 ||
	echo "bench: run-alignment.sh failed a check (see $out/alignment.log)" >&2
tail -n 1 "$out/alignment.log" >&2

step "replay: live bytes and aperture over time, per trace and policy"
# shellcheck disable=SC2086
replay --policy all --quiet --timeline "$out/timeline.tsv" $traces >/dev/null

step "replay: aperture sweep 256 MiB .. 4 GiB"
: >"$out/sweep.json"
for ap in 256M 512M 1G 1536M 2G 4G; do
	# shellcheck disable=SC2086
	$REPLAY --policy all --aperture $ap --json --quiet $traces \
		| sed "s/^{/{\"sweep_aperture\": \"$ap\", /" >>"$out/sweep.json"
done

step "replay: window knobs (max window, strict)"
: >"$out/knobs.json"
for mw in 256K 1M 4M 16M 64M 128M 512M; do
	# shellcheck disable=SC2086
	$REPLAY --policy pvdma --max-window $mw --json --quiet $traces \
		| sed "s/^{/{\"knob\": \"max-window $mw\", /" >>"$out/knobs.json"
done
# shellcheck disable=SC2086
$REPLAY --policy pvdma --strict --json --quiet $traces \
	| sed 's/^{/{"knob": "strict", /' >>"$out/knobs.json"

step "replay: synthetic workloads"
{
	replay --policy all --json --quiet --synthetic over-aperture \
		--synthetic storm4k --synthetic churn
	$REPLAY --policy pvdma --bounce all --bounce-pool 768M --json --quiet \
		--synthetic over-aperture | sed 's/"policy": "pvdma"/"policy": "pvdma+bounce"/'
} >"$out/synth.json"

step "planner: traces and classes A-G against rfc, oracle, every block size, pool"
# shellcheck disable=SC2086
python3 bench/planner_report.py "$REPLAY" "$out/policies.json" docs/perf/planner.md \
	$traces

step "planner at the edge: the smallest aperture each workload fits"
# shellcheck disable=SC2086
python3 bench/planner_edge.py "$REPLAY" docs/perf/planner-edge.md $traces

step "planner fuzz: mixtures of the classes, 40 seeds (bench/planner_fuzz.py)"
# exits 1 when it finds a violation: a finding for the report, not a
# reason to stop (docs/perf/planner-fuzz.md lists each with its command)
python3 bench/planner_fuzz.py --seeds 40 --first 1000 \
	--md docs/perf/planner-fuzz.md "$REPLAY" >"$out/fuzz.log" 2>&1 ||
	echo "bench: planner_fuzz.py found violations (docs/perf/planner-fuzz.md)" >&2
tail -n 1 "$out/fuzz.log" >&2

step "planner cost: ns per op, every policy in one process"
$BENCH --json >"$out/planner.json"

step "planner cost: instructions (callgrind)"
ir() {	# total Ir inside pvdma_map for: program args...
	valgrind --tool=callgrind --callgrind-out-file="$out/cg.out" \
		--toggle-collect=pvdma_map "$@" >/dev/null 2>&1 ||
		[ $? -eq 1 ]	# the replay's "maps failed"
	callgrind_annotate "$out/cg.out" |
		awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }'
}
: >"$out/callgrind.txt"
for pol in rfc perpage pvdma; do
	# shellcheck disable=SC2086
	total=$(ir $REPLAY --policy $pol --json --quiet $traces)
	# shellcheck disable=SC2086
	maps=$($REPLAY --policy $pol --json --quiet $traces |
		python3 -c 'import json,sys; print(sum(json.loads(l)["map_requests"] for l in sys.stdin))')
	echo "replay $pol $total $maps" >>"$out/callgrind.txt"
done
# Hits among N live windows: the difference of two runs cancels the set-up.
for n in 1000 10000 100000; do
	a=$(ir $BENCH --only lookup --lookup-n $n --lookup-ops 10000)
	b=$(ir $BENCH --only lookup --lookup-n $n --lookup-ops 30000)
	echo "lookup $n $((b - a)) 20000" >>"$out/callgrind.txt"
done
# Per trace, the host side taken out: per map and per list entry.
# shellcheck disable=SC2086
python3 bench/planner_callgrind.py "$REPLAY" docs/perf/planner-callgrind.md \
	$traces
# And the time it takes: median and spread of 15 replays per trace.
# shellcheck disable=SC2086
python3 bench/planner_time.py "$REPLAY" docs/perf/planner-time.md 15 $traces

step "end to end in the VM (scripts/bench_vm.sh)"
if [ "${BENCH_SKIP_VM:-0}" = 1 ]; then
	echo "bench: BENCH_SKIP_VM=1: VM benchmarks skipped (build/bench/vm.json kept)" >&2
elif ! scripts/bench_vm.sh >"$out/vm.log" 2>&1; then
	echo "bench: VM benchmarks did not run (no VM set-up? see $out/vm.log); reported without them" >&2
	tail -n 5 "$out/vm.log" >&2
fi

step "host side: pvdmad requests per second (scripts/bench_host.sh)"
if ! scripts/bench_host.sh >"$out/host.log" 2>&1; then
	echo "bench: host benchmark failed (see $out/host.log); reported without it" >&2
	tail -n 5 "$out/host.log" >&2
fi

step "tables and plots"
python3 scripts/bench_report.py "$out" docs/perf
if command -v gnuplot >/dev/null; then
	for g in scripts/plots/*.gp; do
		gnuplot -e "data='$out'; outdir='docs/perf'" "$g"
	done
	ap=$(head -n 1 "$out/replay.json" |
		python3 -c 'import json, sys; print(json.loads(sys.stdin.readline())["aperture"])')
	scripts/plots/timeline.sh "$out/timeline.tsv" "$ap" docs/perf
else
	echo "gnuplot missing: no plots (apt-get install gnuplot-nox)" >&2
fi
step "done: docs/perf/results.md"
