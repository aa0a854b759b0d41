#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The end-to-end run: a Debian kernel under QEMU (TCG) with its RAM in a
# shared file, pvdmad serving the pvdma companion and the DMA device model,
# pvdma.ko taking over the device's DMA and pvdma_dmatest.ko moving bytes
# through it, once with policy=pvdma (bounce on, then off for the pressure
# test) and once with policy=rfc. Ends with exactly one line
#
#   pvdma e2e: <N> transfers verified, <M> mismatches, <F> failed maps; host calls pvdma=<A> rfc=<B>
#
# N and M count every run (M includes device faults); F counts the failed
# maps of the pvdma policy that were not expected (the bounce-off pressure
# test's are expected and reported above the line). Each check is an
# ok/FAIL line of tests/lib.sh, judged after the guest is gone: a result
# of each run, no mismatch, no unexpected failed map, the guest finished,
# its kernel did not warn, the unload and rebind checks, pressure on every
# DMA device, pvdmad's exit. The "N passed, N failed" line comes just
# before the closing line, which stays the last (make demo ends with it);
# the exit status is non-zero if any check failed.
#
# Environment: BUILD (where pvdmad is, default build), PVDMA_E2E_APERTURE
# (default 64M), PVDMA_E2E_VERBOSE=1 to show the guest's log as it comes,
# PVDMA_ARCH (amd64 or arm64) and PVDMA_KVER (a Debian kernel version,
# "newest" or "stable") to pick the guest (tests/e2e/vm.sh), PVDMA_E2E_KEEP=1 to keep
# the work dir.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/vm.sh
. tests/lib.sh

APERTURE=${PVDMA_E2E_APERTURE:-64M}
VERBOSE=${PVDMA_E2E_VERBOSE:-0}
BUILD=${BUILD:-build}

step() {
	echo "==> $*"
}

# What this run reached, for docs/perf/e2e-ARCH-KVER.txt (docs/guest.md's
# kernel x architecture table): the module built warning-free, the kernel
# booted, the e2e passed; and the kernel options that decide whether
# set_dma_ops() takes effect there (docs/guest.md, How it works: Load).
BUILT=no
BOOTED=no
record() {	# e2e result, closing line
	[ -n "${KVER:-}" ] || return 0
	mkdir -p docs/perf
	{
		echo "# written by tests/e2e/run-e2e.sh; the kernel x architecture table of docs/guest.md"
		echo "command: PVDMA_ARCH=$VM_ARCH PVDMA_KVER=${PVDMA_KVER:-} tests/e2e/run-e2e.sh"
		echo "date: $(date -u +%Y-%m-%dT%H:%MZ)"
		echo "kernel: $KVER"
		echo "arch: $VM_ARCH"
		echo "built: $BUILT"
		echo "booted: $BOOTED"
		echo "e2e: $1"
		echo "dma_ops config: $(grep -E \
			'^CONFIG_(ARCH_HAS_DMA_OPS|DMA_OPS|XEN)=' "$(vm_kconfig)" |
			paste -s -d ' ' -)"
		echo "$2"
	} >"docs/perf/e2e-$VM_ARCH-$KVER.txt"
}

# A step the run needs did not work: one failure, and the closing line
# says the run did not happen.
give_up() {
	line="pvdma e2e: 0 transfers verified, 0 mismatches, 0 failed maps; host calls pvdma=0 rfc=0 (did not run: $*)"
	fail "$*"
	record failed "$line"
	finish "$line"
}

step "packages, kernel headers and the Debian kernel"
vm_setup || give_up "VM set-up failed"

step "pvdmad"
PVDMAD=$BUILD/pvdmad
PVDMACTL=$BUILD/pvdmactl
if [ ! -x "$PVDMAD" ] || [ ! -x "$PVDMACTL" ]; then
	make -s -j2 progs >/dev/null || give_up "make progs failed"
	PVDMAD=build/pvdmad
	PVDMACTL=build/pvdmactl
fi

step "guest modules against $KVER ($VM_ARCH)"
# a build directory of this run's own: runs in parallel don't share one
MODDIR=
drop_modules() {
	[ -n "$MODDIR" ] && rm -rf "${MODDIR%/guest}"
}
trap drop_modules EXIT
vm_build_modules "$VM_DIR/mod-e2e-$VM_ARCH-$KVER.$$" ||
	give_up "the module build failed or warned"
BUILT=yes

wd=$(vm_workdir)
cleanup() {
	vm_pvdmad_stop
	if [ "${PVDMA_E2E_KEEP:-0}" = 1 ]; then
		echo "e2e: work dir kept: $wd" >&2
	else
		rm -rf "$wd"
	fi
	drop_modules
}
trap cleanup EXIT

step "initramfs"
vm_initramfs "$wd/initrd.gz" tests/e2e/guest-e2e.sh "$(vm_module pvdma)" \
	"$(vm_module pvdma_dmatest)" || give_up "initramfs failed"

step "pvdmad --aperture $APERTURE"
vm_pvdmad_start "$PVDMAD" "$wd" --aperture "$APERTURE" --log-level info ||
	give_up "pvdmad did not start"

# Two DMA devices share the companion's one aperture and mapping budget.
VM_DMA_DEVICES=${VM_DMA_DEVICES:-2}
step "booting the guest (TCG, $VM_DMA_DEVICES DMA devices); self-tests with policy=pvdma, then rfc"
if [ "$VERBOSE" = 1 ]; then
	# tail follows until the sentinel ends (when the guest is done, or with
	# this script); then the pipeline drains and ends, so nothing it prints
	# can land after the closing line.
	( while kill -0 $$ 2>/dev/null; do sleep 1; done ) &
	sentinel=$!
	( tail -n +1 -F --pid=$sentinel "$wd/console.log" 2>/dev/null |
	  grep --line-buffered -e "pvdma-dmatest: test" -e "pvdma-e2e:" |
	  sed -u 's/\r$//; s/^pvdma-log [^ ]* \[ *[0-9.]*\] /   /' ) &
	tailer=$!
fi
# pvdmactl's per-guest table while the guest is connected (it is gone after).
( while :; do
	"$PVDMACTL" --control "$wd/control.sock" stats >"$wd/ctl.tmp" 2>/dev/null &&
		awk '$3 == "yes" { found = 1 } END { exit !found }' "$wd/ctl.tmp" &&
		mv "$wd/ctl.tmp" "$wd/ctl.live"
	sleep 1
  done ) &
poller=$!
start=$(date +%s)
vm_boot "$wd/initrd.gz" "$wd/ram" "$wd/companion.sock" "$wd/dma.sock" \
	"$wd/console.log" 600
qemu_rc=$?
grep -q "pvdma-vm: booted" "$wd/console.log" && BOOTED=yes
kill "$poller" 2>/dev/null
wait "$poller" 2>/dev/null
[ "$VERBOSE" = 1 ] && { kill "$sentinel" 2>/dev/null; wait "$tailer"; }
step "guest finished in $(($(date +%s) - start)) s (qemu exit $qemu_rc)"
tr -d '\r' <"$wd/console.log" >"$wd/console.txt"
log=$wd/console.txt

step "guest debugfs counters (/sys/kernel/debug/pvdma/stats)"
for r in pvdma pvdma-nobounce rfc; do
	echo "  [$r]" $(sed -n "s/^pvdma-stats $r \(host_calls\|map_requests\|hits\|misses\|evictions\|bounced_bytes\|failed_maps\|peak_windows\|peak_aperture\) \(.*\)/\1=\2/p" "$log")
done
step "guest window list at the end of the pvdma run (first lines)"
sed -n 's/^pvdma-windows pvdma /  /p' "$log"

step "pvdmactl stats (last snapshot with the guest connected, then at the end)"
[ -f "$wd/ctl.live" ] && sed 's/^/  /' "$wd/ctl.live"
"$PVDMACTL" --control "$wd/control.sock" stats 2>&1 | sed 's/^/  /'
"$PVDMACTL" --control "$wd/control.sock" stats --json >"$wd/pvdmad-stats.json" 2>&1
# Bus addresses keep the GPA's alignment (lib/dart.c): with windows of
# many sizes in flight, some maps must have kept it. Columns of the table:
# ... dma dma_bytes aligned align_fb.
if [ -f "$wd/ctl.live" ]; then
	read -r kept fell maps <<EOF2
$(awk '$3 == "yes" { print $15, $16, $8 }' "$wd/ctl.live" | tail -n 1)
EOF2
	echo "  bus addresses: ${kept:-?} of ${maps:-?} host maps so far kept their guest-physical alignment, ${fell:-?} fell back (fragmented bus space)"
	expect "pvdmad kept the guest-physical alignment of some of its maps" \
		'[ "${kept:-0}" -gt 0 ] || [ "${maps:-0}" -eq 0 ]'
else
	fail "pvdmactl never saw the guest connected"
fi
vm_pvdmad_stop
pvdmad_rc=$?
check_rc "pvdmad exits cleanly" $pvdmad_rc
[ "$pvdmad_rc" -eq 0 ] || tail -n 30 "$wd/pvdmad.log" >&2

# Per-run numbers from the dmatest summary lines.
field() {	# run, key
	grep "^pvdma-log $1 .*pvdma-dmatest: transfers=" "$log" | tail -n 1 |
		sed -n "s/.*[ :]$2=\([0-9]*\).*/\1/p"
}
guest_stat() {	# run, key
	sed -n "s/^pvdma-stats $1 $2 \([0-9]*\)$/\1/p" "$log" | tail -n 1
}

N=0
M=0
F=0
missing=""
step "results"
for r in pvdma pvdma-nobounce rfc; do
	t=$(field $r transfers)
	if [ -z "$t" ]; then
		missing="$missing $r"
		fail "$r: no result"
		continue
	fi
	mm=$(field $r mismatches)
	fa=$(field $r faults)
	fm=$(field $r failed_maps)
	un=$(field $r unexpected_failures)
	ex=$(field $r expected_failures)
	N=$((N + t))
	M=$((M + mm + fa))
	case $r in
	pvdma) F=$((F + fm)); bad_maps=$fm ;;
	pvdma-nobounce) F=$((F + un)); bad_maps=$un ;;
	*) bad_maps=0 ;;
	esac
	expect "$r: $t transfers, $mm mismatches, $fa faults, $fm failed maps ($ex expected, clean), $(guest_stat $r host_calls) host calls" \
		"[ $((mm + fa + bad_maps)) -eq 0 ]"
	grep "^pvdma-log $r .*pvdma-dmatest: test " "$log" |
		sed 's/^pvdma-log [^ ]* \[ *[0-9.]*\] pvdma-dmatest: test /    /'
done
step "per-device statistics (/sys/kernel/debug/pvdma/devices after the pvdma run)"
sed -n 's/^pvdma-devices pvdma /  /p' "$log"
ndev=$(grep -c "^pvdma-log pvdma .*pvdma-dmatest: pressure: device .* 0 failed, 0 bytes live after" "$log")
expect "pressure through one aperture from $ndev of $VM_DMA_DEVICES DMA devices, each with its own statistics" \
	"[ $ndev -ge $VM_DMA_DEVICES ]"
listed=$(grep -c "^pvdma-log rfc .*pvdma-dmatest: pressure: device " "$log")
expect "rfc run: managed=$(sed -n 's/^pvdma-e2e: begin rfc (pvdma.ko policy=rfc managed=\([^;]*\);.*/\1/p' "$log") served $listed of $VM_DMA_DEVICES" \
	"[ $listed -ge $VM_DMA_DEVICES ]"
step "unload and rebind"
grep "^pvdma-lifecycle: " "$log" | sed 's/^pvdma-lifecycle: /  /'
expect "both modules unload, the driver rebinds" \
	'! grep -q "^pvdma-lifecycle: FAIL" "$log" && grep -q "^pvdma-lifecycle: ok both modules unload" "$log"'
step "module parameters: what the module reports against docs/guest.md"
# The table's rows: | `name` | default | meaning |
doc_params=$(sed -n '/^## Module parameters (pvdma.ko)/,/^## /p' docs/guest.md |
	sed -n 's/^| `\([a-z_]*\)` | \([^|]*\) |.*/\1 \2/p' | sed 's/ *$//')
params=$(sed -n 's/^pvdma-param: //p' "$log")
expect "the module reports its parameters ($(echo "$params" | wc -l) of them)" \
	'[ -n "$params" ]'
while read -r name value; do
	doc=$(echo "$doc_params" | sed -n "s/^$name //p")
	case $doc in
	'') fail "parameter $name is not in docs/guest.md's table" ;;
	*[!0-9]*) ok "parameter $name documented (default '$doc', the module says '$value')" ;;
	*) expect "parameter $name: docs/guest.md's default $doc is the module's" \
		"[ '$doc' = '$value' ]" ;;
	esac
done <<EOF
$params
EOF
while read -r name _; do
	echo "$params" | grep -q "^$name " ||
		fail "docs/guest.md lists parameter $name, the module has none"
done <<EOF
$doc_params
EOF
if grep -q -e "Call Trace" -e "BUG:" -e "WARNING:" "$log"; then
	fail "the guest kernel logged a warning or oops"
	grep -B 2 -A 20 -e "Call Trace" -e "BUG:" -e "WARNING:" "$log" | head -n 60 >&2
else
	ok "no warning or oops in the guest kernel's log"
fi
grep "^pvdma-e2e: .*failed" "$log" >&2
if [ -n "$missing" ] || ! grep -q "^pvdma-e2e: done" "$log"; then
	fail "the guest finished (missing:$missing)"
	echo "e2e: console tail:" >&2
	tail -n 40 "$log" >&2
	echo "e2e: pvdmad log tail:" >&2
	tail -n 20 "$wd/pvdmad.log" >&2
else
	ok "the guest finished"
fi

A=$(guest_stat pvdma host_calls)
B=$(guest_stat rfc host_calls)
line="pvdma e2e: $N transfers verified, $M mismatches, $F failed maps; host calls pvdma=${A:-0} rfc=${B:-0}"
if [ "$failed" -eq 0 ]; then
	record passed "$line"
else
	record failed "$line"
fi
finish "$line"
