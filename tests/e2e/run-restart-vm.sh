#!/bin/sh
# SPDX-License-Identifier: MIT
#
# pvdmad restarted under a running VM (docs/reliability.md, "pvdmad
# restarted under a running guest"): a Debian kernel under QEMU (TCG)
# moves bytes through pvdma.ko and pvdma_dmatest.ko while pvdmad, run by
# `pvdmad --supervise`, is killed with SIGKILL and then upgraded (another
# binary installed at its path, SIGUSR2), once with policy=pvdma and once
# with policy=rfc (every map a host call). The guest's transfers must go
# on: 0 mismatches, 0 device faults, 0 failed maps, no transport timeout;
# the restarted pvdmad must take every device back and its domain must
# match the ledger. What each restart cost is written to
# $OUT/restart-cost.txt: the host's gap (SIGKILL or SIGUSR2 to the new
# pvdmad's READY) and the guest's longest wait for an answer.
#
# Environment: BUILD (default build), RESTART_OUT (default
# $BUILD/restart), RESTART_KEEP=1 keeps the work dir. amd64 guests only
# (PVDMA_ARCH other than amd64: skipped, said plainly).
# Prints "ok:"/"FAIL:" per check and "N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/vm.sh

BUILD=${BUILD:-build}
OUT=${RESTART_OUT:-$BUILD/restart}
VM_MEM=512M
APERTURE=64M
. tests/lib.sh
num() { case ${1:-} in ''|*[!0-9]*) echo 0 ;; *) echo "$1" ;; esac; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

if [ "$VM_ARCH" != amd64 ]; then
	echo "skipped: the restart VM test runs an amd64 guest only (PVDMA_ARCH=$VM_ARCH)"
	finish
fi
mkdir -p "$OUT"
vm_setup || { fail "VM set-up"; finish; }
[ -x "$BUILD/pvdmad" ] || { fail "$BUILD/pvdmad exists (make)"; finish; }
vm_build_modules "$OUT/mod" || { fail "the guest modules build warning-free"; finish; }

wd=$(vm_workdir)
cleanup() {
	vm_pvdmad_stop >/dev/null 2>&1
	if [ "${RESTART_KEEP:-0}" = 1 ]; then echo "kept $wd" >&2; else rm -rf "$wd"; fi
}
trap cleanup EXIT

# pvdmad runs from the work dir so that the upgrade can install over it.
cp "$BUILD/pvdmad" "$wd/pvdmad"
vm_initramfs "$wd/initrd.gz" tests/e2e/restart-guest.sh "$(vm_module pvdma)" \
	"$(vm_module pvdma_dmatest)" || { fail "initramfs"; finish; }
vm_pvdmad_start "$wd/pvdmad" "$wd" --supervise --aperture "$APERTURE" ||
	{ fail "pvdmad --supervise starts"; finish; }
sup=$PVDMAD_PID
# The RAM file before QEMU connects: pvdmad checks the peer could open it.
truncate -s "$VM_MEM" "$wd/ram"

ready_count() { grep -c "supervise: pvdmad (pid [0-9]*) ready" "$wd/pvdmad.log"; }
child() { pgrep -P "$sup" -x pvdmad | head -n 1; }
# Wait for the next READY after count $1; prints the ms it took from $2.
wait_ready() {
	i=0
	while [ "$(ready_count)" -le "$1" ] && [ $i -lt 1000 ]; do
		sleep 0.01
		i=$((i + 1))
	done
	[ "$(ready_count)" -gt "$1" ] && echo $(($(now_ms) - $2))
}

# The host's half of the guest's checkpoints.
checkpoint() {
	old=$(child)
	n=$(ready_count)
	case $1 in
	kill-*)
		t0=$(now_ms)
		kill -KILL "$old"
		;;
	upgrade-*)
		# another file at the path (as install(1) does)
		cp "$BUILD/pvdmad" "$wd/pvdmad.new"
		printf '%s' "$1" >>"$wd/pvdmad.new"
		mv -f "$wd/pvdmad.new" "$wd/pvdmad"
		t0=$(now_ms)
		kill -USR2 "$sup"
		;;
	esac
	ms=$(wait_ready "$n" "$t0")
	new=$(child)
	same=no
	[ -n "$new" ] && cmp -s "/proc/$new/exe" "$wd/pvdmad" && same=yes
	echo "$1 old $old new ${new:-none} gap_ms ${ms:-none} runs_installed $same" >>"$wd/events"
}
: >"$wd/events"
t0=$(date +%s)
vm_boot_watched "$wd" 600 pvdma-restart checkpoint
qrc=$?
log=$wd/console.txt
echo "  (guest ran $(($(date +%s) - t0)) s, qemu exit $qrc)"
grep "^pvdma-restart: " "$log" | grep -v checkpoint | sed 's/^/  /'
sed 's/^/  event: /' "$wd/events"
expect "the guest finished" "grep -q '^pvdma-restart: done' '$log'"

field() {	# label, key: summed over the label's dmatest runs
	grep "^pvdma-log $1 .*pvdma-dmatest: transfers=" "$log" |
		sed -n "s/.*[ :]$2=\([0-9]*\).*/\1/p" |
		awk '{ s += $1 } END { print s + 0 }'
}
summaries() {	# label: how many dmatest runs reported
	grep -c "^pvdma-log $1 .*pvdma-dmatest: transfers=" "$log"
}
gcount() {	# label, phase text, key
	grep "^pvdma-restart: $1: $2" "$log" | tail -n 1 |
		sed -n "s/.* $3 \([0-9]*\).*/\1/p"
}

: >"$OUT/restart-cost.txt"
for p in pvdma rfc; do
	for ev in kill upgrade; do
		line=$(grep "^$ev-$p " "$wd/events")
		gap=$(echo "$line" | sed -n 's/.* gap_ms \([0-9]*\).*/\1/p')
		expect "$p, $ev: a new pvdmad was ready (gap ${gap:-none} ms)" "[ -n '$gap' ]"
		[ "$ev" = upgrade ] &&
			expect "$p, upgrade: the new pvdmad runs the binary installed at the path" \
				"echo '$line' | grep -q 'runs_installed yes'"
		phase="after the $ev"
		[ "$ev" = upgrade ] && phase="after the upgrade"
		expect "$p, $ev: the guest's traffic was running before and after it" \
			"grep -q '^pvdma-restart: $p: $phase: traffic running yes' '$log'"
	done
	t=$(num "$(field $p transfers)")
	mm=$(num "$(field $p mismatches)")
	fa=$(num "$(field $p faults)")
	fm=$(num "$(field $p failed_maps)")
	un=$(num "$(field $p unexpected_failures)")
	echo "  $p: $t transfers, $mm mismatches, $fa device faults, $fm failed maps ($un unexpected)"
	expect "$p: transfers went on through both restarts: 0 mismatches, 0 device faults, 0 failed maps" \
		"[ $t -gt 0 ] && [ $mm -eq 0 ] && [ $fa -eq 0 ] && [ $fm -eq 0 ] && [ $un -eq 0 ]"
	runs=$(grep "^pvdma-restart: $p: dmatest runs " "$log" | sed -n 's/.* runs \([0-9]*\), \([0-9]*\) failed/\1 \2/p')
	expect "$p: every dmatest run passed and reported (runs, failed: ${runs:-none}; $(summaries $p) reports)" \
		"[ -n '$runs' ] && [ '${runs#* }' = 0 ] && [ '${runs% *}' -gt 0 ] && [ '${runs% *}' -eq $(summaries $p) ]"
	expect "$p: no transport timeout, never broken, no map failure in pvdma" \
		"[ \"$(gcount $p end: timeouts)\" = 0 ] && [ \"$(gcount $p end: broken)\" = 0 ] && [ \"$(gcount $p end: dma_map_failures)\" = 0 ]"
	warm=$(num "$(gcount $p 'before the kill:' max_wait_us)")
	k=$(num "$(gcount $p 'after the kill:' max_wait_us)")
	u=$(num "$(gcount $p 'after the upgrade:' max_wait_us)")
	kg=$(grep "^kill-$p " "$wd/events" | sed -n 's/.* gap_ms \([0-9]*\).*/\1/p')
	ug=$(grep "^upgrade-$p " "$wd/events" | sed -n 's/.* gap_ms \([0-9]*\).*/\1/p')
	echo "policy=$p kill: host gap ${kg:-none} ms, guest longest wait $k us (before the kill: $warm us); upgrade: host gap ${ug:-none} ms, guest longest wait since load $u us; $t transfers, $mm mismatches, $fm failed maps" \
		>>"$OUT/restart-cost.txt"
done
sed 's/^/  cost: /' "$OUT/restart-cost.txt"
sed "s/^/$(date -u +%Y-%m-%dT%H:%M:%SZ) /" "$OUT/restart-cost.txt" >>"$OUT/restart-cost-history.txt"

adopted=$(grep -c "restart: 1 companions and 1 DMA devices taken back" "$wd/pvdmad.log")
expect "each of the 4 restarts took the companion and the DMA device back ($adopted)" "[ $adopted -eq 4 ]"
expect "every re-created domain matched its ledger" \
	"! grep -q -e 'disagrees with the ledger' -e \"can't be taken back\" -e \"can't be re-created\" '$wd/pvdmad.log'"
vm_no_kernel_warnings "restarts" "$log"
vm_pvdmad_stop
expect "pvdmad --supervise stops cleanly (SIGTERM: exit 0)" "[ $? -eq 0 ]"
expect "no sanitizer report from any pvdmad" "! grep -q Sanitizer '$wd/pvdmad.log'"
cp "$log" "$OUT/console.txt"
cp "$wd/pvdmad.log" "$OUT/pvdmad.log"
finish
