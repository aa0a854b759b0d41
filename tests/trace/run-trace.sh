#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Tests of tools/trace/pvdma-trace without root or a real tracefs: "record"
# runs against a fake tracefs directory (PVDMA_TRACEFS) whose trace file the
# fake command writes into; "stats" runs on fixtures and on the committed
# traces. Every run of the tool that should succeed must exit 0, every run
# that should fail must fail cleanly (no signal, no "not found"). Prints one
# line per check and "N passed, N failed".
# Env: BUILD (default build; pvdma-replay there parses the output if built),
# TRACES (a directory of */*.trace.xz, default traces).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
BUILD=${BUILD:-build}
TRACES=${TRACES:-traces}
TOOL=tools/trace/pvdma-trace
FIX=tests/trace/fixtures
work=$(mktemp -d "${TMPDIR:-/tmp}/pvdma-trace-test.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
export PVDMA_TRACE_ALLOW_NONROOT=1
# no BPF probe unless a check asks for one (a built one would really attach)
export PVDMA_UNMAP_PROBE=/nonexistent

has() {	# has FILE PATTERN: a line of FILE matches the basic regex
	grep -q -- "$2" "$1"
}

# A fake tracefs with a state to restore that differs from what record sets.
mkfake() {
	d=$1
	rm -rf "$d"
	mkdir -p "$d/events/dma/dma_map_phys" "$d/events/dma/dma_unmap_phys" \
		"$d/events/dma/dma_map_sg" "$d/events/sched" "$d/options" \
		"$d/per_cpu/cpu0" "$d/per_cpu/cpu1"
	echo 1 >"$d/tracing_on"
	echo "7 (expanded: 1408)" >"$d/buffer_size_kb"
	echo 4 >"$d/buffer_subbuf_size_kb"
	echo function >"$d/current_tracer"
	echo "[local] global counter uptime" >"$d/trace_clock"
	echo 0 >"$d/options/markers"
	echo 0 >"$d/events/dma/enable"
	for e in "$d"/events/dma/dma_*; do
		echo 0 >"$e/enable"
	done
	printf 'sched:sched_switch\nirq:irq_handler_entry\n' >"$d/set_event"
	for c in cpu0 cpu1; do
		printf 'entries: 0\noverrun: 2\ncommit overrun: 0\ndropped events: 0\n' \
			>"$d/per_cpu/$c/stats"
	done
	printf '# tracer: nop\n#\nold contents\n' >"$d/trace"
	: >"$d/trace_marker"
}

# The state mkfake made, as one string, to compare before and after.
state() {
	d=$1
	printf '%s|' "$(cat "$d/tracing_on")" "$(cat "$d/buffer_size_kb")" \
		"$(cat "$d/current_tracer")" "$(cat "$d/trace_clock")" \
		"$(cat "$d/options/markers")" "$(cat "$d/events/dma/enable")" \
		"$(tr '\n' ',' <"$d/set_event")" "$(cat "$d/buffer_subbuf_size_kb" 2>/dev/null)"
}

# mkfake plus what a kernel with kprobe events shows once the probe exists
# (a fake tracefs creates no directory when kprobe_events is written).
mkfake_probe() {
	mkfake "$1"
	: >"$1/kprobe_events"
	mkdir -p "$1/events/pvdma/pvdma_unmap_sg"
	echo 0 >"$1/events/pvdma/pvdma_unmap_sg/enable"
}

# What record must leave: mkfake's state, the clock and size as written.
restored='1|1408|function|local|0|0|sched:sched_switch,irq:irq_handler_entry,|4|'

# The fake workload: checks the tracing state record set up, appends two
# events (one truncated sg list) and a marker to the trace, bumps cpu1's
# overrun count by 3, then does what $FAKE_END says.
cat >"$work/fakecmd" <<'EOF'
#!/bin/sh
T=$PVDMA_TRACEFS
s="on=$(cat "$T/tracing_on") dma=$(cat "$T/events/dma/enable")"
s="$s buf=$(cat "$T/buffer_size_kb") tracer=$(cat "$T/current_tracer")"
s="$s clock=$(cat "$T/trace_clock") markers=$(cat "$T/options/markers")"
s="$s set_event=$(tr '\n' , <"$T/set_event") trace=$(grep -c . "$T/trace")"
s="$s marker=$PVDMA_TRACE_MARKER subbuf=$(cat "$T/buffer_subbuf_size_kb" 2>/dev/null)"
s="$s probe=$(cat "$T/events/pvdma/pvdma_unmap_sg/enable" 2>/dev/null)"
echo "$s" >"$FAKE_STATE"
cat >>"$T/trace" <<'X'
         python3-448     [015] .....    33.555753: dma_map_sg: 0000:00:06.0 dir=BIDIRECTIONAL nents=2/300 ents=2/300 dma_addrs={0x1000,0x2000} sizes={0x1000,0x1000} phys_addrs={0x1000,0x2000} attrs= [TRUNCATED]
         python3-448     [015] ...1.    33.560000: tracing_mark_write: PHASE run
         python3-448     [015] .....    33.572283: dma_map_phys: 0000:00:06.0 dir=BIDIRECTIONAL dma_addr=1cf9f3000 size=4096 phys_addr=1cf9f3000 attrs=
         python3-448     [015] ...1.    33.580000: pvdma_unmap_sg: (dma_unmap_sg_attrs+0x0/0x90) nents=2 dma_addr=0x9000
         python3-449     [003] .....    33.580001: dma_map_phys: 0000:00:06.0 dir=BIDIRECTIONAL dma_addr=7000 size=4096 phys_addr=7000 attrs=
         python3-448     [015] .....    33.580002: dma_unmap_sg: 0000:00:06.0 dir=BIDIRECTIONAL phys_addrs={0x9000,0xa000} attrs=
         python3-448     [015] ...1.    33.590000: pvdma_unmap_sg: (dma_unmap_sg_attrs+0x0/0x90) nents=2000 dma_addr=0x5000000
         python3-448     [015] .....    33.590001: dma_unmap_sg[LINE TOO BIG]
X
printf 'entries: 0\noverrun: 5\ncommit overrun: 0\ndropped events: 0\n' \
	>"$T/per_cpu/cpu1/stats"
: >"$FAKE_STATE.ready"
case ${FAKE_END:-} in
fail) exit 3 ;;
sigint) exec perl -e '$SIG{INT} = "DEFAULT"; kill "INT", $$; sleep 5' ;;
sleep) sleep "${FAKE_SLEEP:-5}" ;;
esac
exit 0
EOF
chmod +x "$work/fakecmd"

T=$work/tracefs
export PVDMA_TRACEFS="$T"
export FAKE_STATE="$work/state"

# run_record NAME [ENV=VAL...]: record the fake command into $work/NAME
run_record() {
	n=$1
	shift
	env "$@" "$TOOL" record -o "$work/$n.trace.xz" --buffer-kb 2048 \
		-- "$work/fakecmd" arg 1.5: x >"$work/$n.out" 2>"$work/$n.err"
	echo $? >"$work/$n.rc"
}

# ---- help and usage
check "--help prints the usage" sh -c "$TOOL --help | grep -q 'pvdma-trace record'"
check "record --help prints the usage" sh -c "$TOOL record --help | grep -q 'buffer-kb'"
"$TOOL" record -o "$work/x.trace" >/dev/null 2>"$work/nocmd.err"
check "record without a command fails" failed_cleanly $?
check "... and says so" has "$work/nocmd.err" "no command"
"$TOOL" record --bogus -- true >/dev/null 2>"$work/opt.err"
check "an unknown option fails" failed_cleanly $?
"$TOOL" frobnicate >/dev/null 2>&1
check "an unknown subcommand exits 2" test $? -eq 2

# ---- a successful recording
mkfake "$T"
command -v xz >/dev/null 2>&1 || echo "note: xz missing; .xz checks will fail"
run_record good
check "record exits with the command's status (0)" test "$(cat "$work/good.rc")" -eq 0
check "tracing was on while the command ran" has "$FAKE_STATE" "on=1 "
check "only the dma events were on (set_event cleared, dma/enable 1)" \
	has "$FAKE_STATE" "dma=1 .*set_event= "
check "buffer size set from --buffer-kb" has "$FAKE_STATE" "buf=2048"
check "tracer nop, global clock, markers on while recording" \
	has "$FAKE_STATE" "tracer=nop clock=global markers=1"
check "the old trace contents were cleared" has "$FAKE_STATE" "trace=0 "
check "the command sees PVDMA_TRACE_MARKER" has "$FAKE_STATE" "marker=$T/trace_marker"
check "the state is restored after success" test "$(state "$T")" = "$restored"
xz -dc "$work/good.trace.xz" >"$work/good.txt" 2>/dev/null
check "the output is xz" test -s "$work/good.txt"
check "header: kernel" has "$work/good.txt" "^# kernel: $(uname -r)"
check "header: command" has "$work/good.txt" "^# command: .*fakecmd arg"
check "header: start and end times" \
	sh -c "grep -q '^# start: 20' '$work/good.txt' && grep -q '^# end: 20' '$work/good.txt'"
check "header: device seen in the trace" has "$work/good.txt" "^# device: 0000:00:06.0"
check "header: exit status" has "$work/good.txt" "^# exit-status: 0"
check "header: event count (after merging the probe's lines)" has "$work/good.txt" "^# events: 6"
check "header: lost events (overrun 2+2 -> 2+5)" has "$work/good.txt" "^# lost-events: 3"
check "header: truncated sg lists" has "$work/good.txt" "^# truncated-sg-lists: 1"
check "no header line looks like an event timestamp" \
	sh -c "! grep '^#' '$work/good.txt' | grep -q ' [0-9][0-9]*\.[0-9][0-9]*: '"
grep -v -e 'nents=2 dma_addr=0x9000' -e 'LINE TOO BIG' "$T/trace" >"$work/merged.want"
check "the events follow the header, the probe's lines merged" \
	sh -c "grep -v '^#' '$work/good.txt' | cmp -s - '$work/merged.want'"
check "the tracefs '#' header is not copied" sh -c "! grep -q 'tracer: nop' '$work/good.txt'"
check "overruns reported" has "$work/good.err" "3 events lost to ring-buffer overruns"
check "truncated lists reported" has "$work/good.err" "1 scatter-gather lists were recorded truncated"

check "sub-buffers raised while recording" has "$FAKE_STATE" "subbuf=512 "
check "no kprobe_events: said plainly" has "$work/good.err" "no unmap probe: no kprobe_events or dynamic_events"
check "header: no probe, and why" has "$work/good.txt" "^# unmap-probe: none: no kprobe_events"
check "header: sub-buffer size" has "$work/good.txt" "^# subbuf-kb: 512"

# ---- the unmap probe: placed, merged, removed
mkfake_probe "$T"
run_record probe
check "probe: record exits 0" test "$(cat "$work/probe.rc")" -eq 0
check "probe: defined on dma_unmap_sg_attrs" \
	has "$T/kprobe_events" '^p:pvdma/pvdma_unmap_sg dma_unmap_sg_attrs nents=\$arg3:s32 dma_addr=+16(\$arg2):x64$'
check "probe: enabled while recording" has "$FAKE_STATE" "probe=1"
check "probe: disabled and removed after" \
	sh -c "test \"\$(cat '$T/events/pvdma/pvdma_unmap_sg/enable')\" = 0 && tail -n 1 '$T/kprobe_events' | grep -qx -- '-:pvdma/pvdma_unmap_sg'"
check "probe: the state is restored" test "$(state "$T")" = "$restored"
xz -dc "$work/probe.trace.xz" >"$work/probe.txt"
check "probe: header counts the unmaps kept from it" \
	has "$work/probe.txt" "^# unmap-probe: pvdma_unmap_sg on dma_unmap_sg_attrs (kprobe_events), 1 unmaps kept"
check "probe: a printed dma_unmap_sg replaces its probe line" \
	sh -c "! grep -q 'nents=2 dma_addr=0x9000' '$work/probe.txt' && grep -q 'phys_addrs={0x9000,0xa000}' '$work/probe.txt'"
check "probe: an unprinted one is replaced by its probe line" \
	sh -c "grep -q 'nents=2000 dma_addr=0x5000000' '$work/probe.txt' && ! grep -q 'LINE TOO BIG' '$work/probe.txt'"

# ---- the BPF probe, where the kernel has no kprobe or fprobe events: a
# fake pvdma-unmap-probe that says ready and waits to be killed; the fake
# command logs its lines through bpf_trace_printk, one with the tracepoint's
# line first and one whose tracepoint line did not print
mkfake "$T"
cat >"$work/fakeprobe" <<'EOF2'
#!/bin/sh
echo started >"$FAKE_STATE.probe"
trap 'echo killed >>"$FAKE_STATE.probe"; exit 0' TERM
echo ready
while :; do sleep 0.1; done
EOF2
chmod +x "$work/fakeprobe"
cat >"$work/bpfcmd" <<'EOF2'
#!/bin/sh
cat >>"$PVDMA_TRACEFS/trace" <<'X'
         python3-448     [015] .....    40.000001: dma_unmap_sg: 0000:00:06.0 dir=BIDIRECTIONAL phys_addrs={0x9000,0xa000} attrs=
         python3-448     [015] ...11    40.000002: bpf_trace_printk: pvdma_unmap_sg: nents=2 dma_addr=0x9000
         python3-448     [015] ...11    40.100000: bpf_trace_printk: pvdma_unmap_sg: nents=2000 dma_addr=0x5000000
         python3-448     [015] .....    40.200001: dma_unmap_sg: 0000:00:06.0 dir=BIDIRECTIONAL phys_addrs={0xb000,0xc000,0xd000} attrs=
         python3-448     [015] ...11    40.200002: bpf_trace_printk: pvdma_unmap_sg: nents=3 dma_addr=0xb000
X
EOF2
chmod +x "$work/bpfcmd"
PVDMA_UNMAP_PROBE=$work/fakeprobe "$TOOL" record -o "$work/bpf.trace" -- "$work/bpfcmd" \
	>/dev/null 2>"$work/bpf.err"
check "bpf probe: record exits 0" test $? -eq 0
check "bpf probe: started, then stopped at the end" \
	sh -c "grep -q started '$FAKE_STATE.probe' && grep -q killed '$FAKE_STATE.probe'"
check "bpf probe: the header says BPF and counts the unmaps kept" \
	has "$work/bpf.trace" "^# unmap-probe: pvdma_unmap_sg by BPF .* 1 unmaps kept"
check "bpf probe: a printed dma_unmap_sg before its probe line wins" \
	sh -c "grep -q 'phys_addrs={0x9000,0xa000}' '$work/bpf.trace' && ! grep -q 'nents=2 dma_addr=0x9000' '$work/bpf.trace'"
check "bpf probe: a probe line with no printed tracepoint line is kept" \
	has "$work/bpf.trace" "bpf_trace_printk: pvdma_unmap_sg: nents=2000"
check "bpf probe: ... and not taken for the next list's, which pairs with its own" \
	sh -c "grep -q 'phys_addrs={0xb000,0xc000,0xd000}' '$work/bpf.trace' && ! grep -q 'nents=3 dma_addr=0xb000' '$work/bpf.trace'"
check "bpf probe: the state is restored" test "$(state "$T")" = "$restored"
printf '#!/bin/sh\necho "no BPF here" >&2\nexit 1\n' >"$work/badprobe"
chmod +x "$work/badprobe"
mkfake "$T"
PVDMA_UNMAP_PROBE=$work/badprobe "$TOOL" record -o "$work/nobpf.trace" -- true \
	>/dev/null 2>"$work/nobpf.err"
check_rc "bpf probe failing: record still records (exit 0)" $?
check "bpf probe failing: said, with its reason" has "$work/nobpf.err" "the BPF probe failed: no BPF here"

# ---- no buffer_subbuf_size_kb (before 6.8): said plainly
mkfake "$T"
rm -f "$T/buffer_subbuf_size_kb"
"$TOOL" record -o "$work/nosub.trace" -- true >/dev/null 2>"$work/nosub.err"
check_rc "no buffer_subbuf_size_kb: record exits 0" $?
check "no buffer_subbuf_size_kb: said plainly" has "$work/nosub.err" "no buffer_subbuf_size_kb"

# ---- the default buffer size comes from CPUs and free memory
mkfake "$T"
printf 'MemTotal: 1000 kB\nMemAvailable:   8388608 kB\n' >"$work/meminfo"
PVDMA_MEMINFO=$work/meminfo "$TOOL" record -o "$work/auto.trace" -- sh -c \
	'cat "$PVDMA_TRACEFS/buffer_size_kb" >"$FAKE_STATE.buf"' >/dev/null 2>"$work/auto.err"
check_rc "default buffer: record exits 0" $?
check "default buffer: 8 GiB available / 8 / 2 CPUs = 524288 KiB, capped at 131072" \
	test "$(cat "$FAKE_STATE.buf")" = 131072
printf 'MemAvailable: 4194304 kB\n' >"$work/meminfo"
mkfake "$T"
PVDMA_MEMINFO=$work/meminfo "$TOOL" record -o "$work/auto.trace" -- sh -c \
	'cat "$PVDMA_TRACEFS/buffer_size_kb" >"$FAKE_STATE.buf"' >/dev/null 2>"$work/auto.err"
check_rc "default buffer: record exits 0" $?
check "default buffer: 4 GiB available / 8 / 2 CPUs = 262144 KiB -> 131072 cap; 1 GiB -> 65536" \
	test "$(cat "$FAKE_STATE.buf")" = 131072
printf 'MemAvailable: 1048576 kB\n' >"$work/meminfo"
mkfake "$T"
PVDMA_MEMINFO=$work/meminfo "$TOOL" record -o "$work/auto.trace" -- sh -c \
	'cat "$PVDMA_TRACEFS/buffer_size_kb" >"$FAKE_STATE.buf"' >/dev/null 2>"$work/auto.err"
check_rc "default buffer: record exits 0" $?
check "default buffer: 1 GiB available / 8 / 2 CPUs = 65536 KiB per CPU" \
	test "$(cat "$FAKE_STATE.buf")" = 65536
check "the buffer size and why are reported" has "$work/auto.err" "65536 KiB per CPU (2 CPUs"

# ---- a trace that cannot be written
if [ -w /dev/full ]; then
	for o in /dev/full "$work/full.xz"; do
		mkfake "$T"
		[ "$o" = /dev/full ] || ln -sf /dev/full "$o"
		"$TOOL" record -o "$o" -- true >/dev/null 2>"$work/full.err"
		rc=$?
		check "-o $o: exit 74 when the trace cannot be written (got $rc)" test "$rc" -eq 74
		check "-o $o: says FAILED, not wrote" \
			sh -c "grep -q 'FAILED to write' '$work/full.err' && ! grep -q 'wrote' '$work/full.err'"
	done
fi

# ---- plain output, no overruns
mkfake "$T"
for c in cpu0 cpu1; do
	printf 'overrun: 0\ndropped events: 0\n' >"$T/per_cpu/$c/stats"
done
env "$TOOL" record -o "$work/plain.trace" -- true >/dev/null 2>"$work/plain.err"
check_rc "plain output: record exits 0" $?
check "a name without .xz gives plain text" has "$work/plain.trace" "^# pvdma-trace"
check "no overruns: reported as none" has "$work/plain.err" "no events lost"

# ---- the command fails
mkfake "$T"
run_record fail FAKE_END=fail
check "record exits with the command's status (3)" test "$(cat "$work/fail.rc")" -eq 3
check "the state is restored after a failing command" test "$(state "$T")" = "$restored"
check "the trace is written after a failing command" \
	sh -c "xz -dc '$work/fail.trace.xz' | grep -q '^# exit-status: 3'"

# ---- a command that is not there
mkfake "$T"
"$TOOL" record -o "$work/nx.trace" -- "$work/no-such-command" >/dev/null 2>&1
check "a missing command exits 127" test $? -eq 127
check "the state is restored after a missing command" test "$(state "$T")" = "$restored"

# ---- signals
if command -v perl >/dev/null 2>&1; then
	mkfake "$T"
	run_record sigint FAKE_END=sigint
	check "the command killed by SIGINT: exit 130" test "$(cat "$work/sigint.rc")" -eq 130
	check "the state is restored after the command's SIGINT" \
		test "$(state "$T")" = "$restored"

	# Ctrl-C at a terminal: SIGINT to the whole process group. perl gives
	# record a group of its own with SIGINT not ignored.
	mkfake "$T"
	rm -f "$FAKE_STATE" "$FAKE_STATE.ready"
	FAKE_END=sleep FAKE_SLEEP=5 perl -e '$SIG{INT} = "DEFAULT"; setpgrp(0, 0); exec @ARGV' \
		"$TOOL" record -o "$work/ctrlc.trace.xz" -- "$work/fakecmd" \
		>"$work/ctrlc.out" 2>"$work/ctrlc.err" &
	pid=$!
	i=0
	while [ ! -e "$FAKE_STATE.ready" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	kill -INT -"$pid" 2>/dev/null
	wait "$pid"
	rc=$?
	check "Ctrl-C (SIGINT to the group): exit 130" test "$rc" -eq 130
	check "the state is restored after Ctrl-C" test "$(state "$T")" = "$restored"
	check "what was recorded before Ctrl-C is written" \
		sh -c "xz -dc '$work/ctrlc.trace.xz' | grep -q dma_map_phys"
	check "the interruption is reported" has "$work/ctrlc.err" "interrupted"
	rm -f "$FAKE_STATE" "$FAKE_STATE.ready"
else
	echo "note: perl missing; SIGINT checks skipped"
fi

# SIGTERM to record alone: handled once the command returns
mkfake "$T"
rm -f "$FAKE_STATE" "$FAKE_STATE.ready"
FAKE_END=sleep FAKE_SLEEP=1 "$TOOL" record -o "$work/term.trace.xz" -- "$work/fakecmd" \
	>/dev/null 2>"$work/term.err" &
pid=$!
i=0
while [ ! -e "$FAKE_STATE.ready" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -TERM "$pid" 2>/dev/null
wait "$pid"
rc=$?
check "SIGTERM: exit 143" test "$rc" -eq 143
check "the state is restored after SIGTERM" test "$(state "$T")" = "$restored"

# ---- per-CPU buffer sizes that differ are restored one by one
mkfake "$T"
echo X >"$T/buffer_size_kb"
echo 1408 >"$T/per_cpu/cpu0/buffer_size_kb"
echo 2816 >"$T/per_cpu/cpu1/buffer_size_kb"
"$TOOL" record -o "$work/pcpu.trace" -- true >/dev/null 2>&1
check_rc "differing per-CPU buffer sizes: record exits 0" $?
check "differing per-CPU buffer sizes are restored" \
	test "$(cat "$T/per_cpu/cpu0/buffer_size_kb") $(cat "$T/per_cpu/cpu1/buffer_size_kb")" = "1408 2816"

# ---- errors
PVDMA_TRACEFS=$work/none "$TOOL" record -o "$work/e1.trace" -- true >/dev/null 2>"$work/e1.err"
check "missing tracefs: fails" failed_cleanly $?
check "missing tracefs: says so" has "$work/e1.err" "tracefs not found"

mkfake "$T"
rm -rf "$T/events/dma"
before=$(cat "$T/tracing_on")
"$TOOL" record -o "$work/e2.trace" -- touch "$work/ran" >/dev/null 2>"$work/e2.err"
check "missing dma events: fails" failed_cleanly $?
check "missing dma events: names events/dma" has "$work/e2.err" "events/dma is missing"
check "missing dma events: the command does not run" test ! -e "$work/ran"
check "missing dma events: tracing left alone" test "$(cat "$T/tracing_on")" = "$before"

mkfake "$T"
for e in "$T"/events/dma/dma_*; do
	rm -rf "$e"
done
"$TOOL" record -o "$work/e3.trace" -- true >/dev/null 2>"$work/e3.err"
check "an empty events/dma: fails" failed_cleanly $?
check "an empty events/dma: fails with a message" has "$work/e3.err" "no dma events"

mkdir -p "$work/bin"
printf '#!/bin/sh\necho 1000\n' >"$work/bin/id"
chmod +x "$work/bin/id"
mkfake "$T"
PATH="$work/bin:$PATH" PVDMA_TRACE_ALLOW_NONROOT=0 \
	"$TOOL" record -o "$work/e4.trace" -- true >/dev/null 2>"$work/e4.err"
check "not root: fails" failed_cleanly $?
check "not root: says so" has "$work/e4.err" "must be run as root"

"$TOOL" record --buffer-kb lots -- true >/dev/null 2>"$work/e5.err"
check "a bad --buffer-kb: fails" failed_cleanly $?
check "a bad --buffer-kb is refused" has "$work/e5.err" "buffer-kb wants a number"

# ---- stats on the fixture (pvdma-replay --stats: the replay's parser)
export PVDMA_REPLAY="$BUILD/pvdma-replay"
"$TOOL" stats "$FIX/small.trace" >"$work/s.txt" 2>&1
check "stats: exit 0" test $? -eq 0
check "stats: events counted over the span" has "$work/s.txt" "^events: 8 over 0.900 s"
check "stats: events by name" has "$work/s.txt" "dma_map_sg  *2$"
check "stats: single maps" has "$work/s.txt" "^single maps: 2, 64.0 KiB"
check "stats: sg lists and truncation" \
	has "$work/s.txt" "^sg lists: 2, 12 entries (largest 10), .*truncated: 1 lists, 8 entries not shown"
check "stats: peak live bytes, when, in which phase" \
	has "$work/s.txt" "^peak live bytes: 3293184 (3.14 MiB) at 0.400 s (phase one)"
check "stats: live at end" has "$work/s.txt" "^live at end: 143360 bytes"
check "stats: the estimate for hidden entries" has "$work/s.txt" "^estimated: 64.0 KiB"
check "stats: unmatched unmap" has "$work/s.txt" "^unmatched unmaps: 1"
check "stats: phases" has "$work/s.txt" "^  two  *0.500"
check "stats: syncs" has "$work/s.txt" "^syncs: 1"
check "stats: metadata shown" has "$work/s.txt" "kernel: test-fixture"
xz -c "$FIX/small.trace" >"$work/small.trace.xz"
"$TOOL" stats "$work/small.trace.xz" >"$work/sx-all.txt"
check_rc "stats of the .xz: exit 0" $?
grep -v '^trace:' "$work/sx-all.txt" >"$work/sx.txt"
grep -v '^trace:' "$work/s.txt" >"$work/s2.txt"
check "stats: .xz gives the same summary" cmp -s "$work/s2.txt" "$work/sx.txt"
"$TOOL" stats "$work/nope.trace" >/dev/null 2>&1
check "stats: a missing file exits 2" test $? -eq 2

xz -dc traces/nvidia-580-h100/multiproc.trace.xz 2>/dev/null | xz -c | head -c 8000 >"$work/cut.trace.xz"
"$TOOL" stats "$work/cut.trace.xz" >"$work/cut.out" 2>"$work/cut.err"
check "stats: a truncated xz exits 2, not a partial summary" test $? -eq 2
check "stats: ... and says truncated" has "$work/cut.err" "truncated xz file"
gzip -c "$FIX/small.trace" >"$work/small.trace.gz"
"$TOOL" stats "$work/small.trace.gz" >/dev/null 2>"$work/gz.err"
check "stats: gzip exits 2" test $? -eq 2
check "stats: ... and says use xz" has "$work/gz.err" "gzip data: use xz or plain text"

# ---- stats on the recorded output and on real traces
"$TOOL" stats "$work/good.trace.xz" >"$work/g.txt" 2>&1
check_rc "stats of record's output: exit 0" $?
check "stats reads record's output (5 dma events after merging)" has "$work/g.txt" "^events: 5 "
for f in "$TRACES"/*/*.trace.xz; do
	[ -e "$f" ] || continue
	if "$TOOL" stats "$f" >"$work/r.txt" 2>&1 &&
	   has "$work/r.txt" "^peak live bytes: [1-9]"; then
		ok "stats $f"
	else
		fail "stats $f"
		tail -n 5 "$work/r.txt"
	fi
done

# ---- the replay tool skips the metadata header
if [ -x "$BUILD/pvdma-replay" ]; then
	"$BUILD/pvdma-replay" --policy rfc --quiet "$work/good.trace.xz" "$FIX/small.trace" \
		>"$work/replay.txt" 2>&1
	rc=$?
	check_rc "pvdma-replay reads record's output and the fixture" "$rc"
else
	echo "note: $BUILD/pvdma-replay not built; replay check skipped"
fi

finish
