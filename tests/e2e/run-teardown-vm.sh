#!/bin/sh
# SPDX-License-Identifier: MIT
#
# pvdma.ko removed while the host does not answer (docs/guest.md, "Unload
# and teardown"): a Debian kernel under QEMU (TCG) moves bytes through
# pvdma.ko's bounce pool, then unloads it once with pvdmad serving
# (RESET confirmed: the pool is freed) and once with pvdmad stopped
# (SIGSTOP: RESET times out, the host may still map the pool, so the
# guest must keep it, never hand it back to its page allocator). pvdmad
# is continued afterwards and must stop cleanly.
#
# The stopped host must cost the guest time, not a CPU: the stalled
# unload waits timeout_ms=15000 for RESET sleeping, so a watcher pinned
# to rmmod's CPU keeps running (a wait that spins, with interrupts off
# or not, starves it for the whole timeout), and the healthy load's
# timeout_ms=100000 is clamped for maps, with a warning saying so.
#
# Environment: BUILD (default build), TEARDOWN_KEEP=1 keeps the work dir.
# amd64 guests only (PVDMA_ARCH other than amd64: skipped, said plainly).
# Prints "ok:"/"FAIL:" per check and "N passed, N failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/vm.sh

BUILD=${BUILD:-build}
VM_MEM=512M
APERTURE=64M
. tests/lib.sh

if [ "$VM_ARCH" != amd64 ]; then
	echo "skipped: the teardown VM test runs an amd64 guest only (PVDMA_ARCH=$VM_ARCH)"
	finish
fi
vm_setup || { fail "VM set-up"; finish; }
[ -x "$BUILD/pvdmad" ] || { fail "$BUILD/pvdmad exists (make)"; finish; }
wd=$(vm_workdir)
cleanup() {
	[ -n "${PVDMAD_PID:-}" ] && kill -CONT "$PVDMAD_PID" 2>/dev/null
	vm_pvdmad_stop >/dev/null 2>&1
	if [ "${TEARDOWN_KEEP:-0}" = 1 ]; then echo "kept $wd" >&2; else rm -rf "$wd"; fi
}
trap cleanup EXIT
vm_build_modules "$wd/mod" || { fail "the guest modules build warning-free"; finish; }

vm_initramfs "$wd/initrd.gz" tests/e2e/teardown-guest.sh "$(vm_module pvdma)" \
	"$(vm_module pvdma_dmatest)" || { fail "initramfs"; finish; }
vm_pvdmad_start "$BUILD/pvdmad" "$wd" --aperture "$APERTURE" ||
	{ fail "pvdmad starts"; finish; }
truncate -s "$VM_MEM" "$wd/ram"

# The host's half of the guest's checkpoints: stop pvdmad, continue it.
checkpoint() {
	case $1 in
	stop|stop2) kill -STOP "$PVDMAD_PID" ;;
	cont|cont2) kill -CONT "$PVDMAD_PID" ;;
	esac
	echo "$1" >>"$wd/events"
}
: >"$wd/events"
vm_boot_watched "$wd" 300 pvdma-teardown checkpoint
qrc=$?
kill -CONT "$PVDMAD_PID" 2>/dev/null
log=$wd/console.txt
echo "  (qemu exit $qrc; host events: $(tr '\n' ' ' <"$wd/events"))"
grep -e "^pvdma-teardown: " -e "^pvdma-log " "$log" | grep -v checkpoint | sed 's/^/  /'
expect "the guest finished" "grep -q '^pvdma-teardown: done' '$log'"
expect "the host stopped and continued pvdmad at the guest's checkpoints" \
	"grep -qx stop '$wd/events' && grep -qx cont '$wd/events'"

line() {	# label
	grep "^pvdma-teardown: $1: reset_failed" "$log" | tail -n 1
}
for c in healthy stalled; do
	expect "$c: bytes moved through pvdma before the unload" \
		"grep -q '^pvdma-teardown: $c: dmatest status 0' '$log'"
	expect "$c: rmmod pvdma succeeded" \
		"grep -q '^pvdma-teardown: $c: unload status 0' '$log'"
done
expect "healthy: RESET confirmed, the bounce pool freed" \
	"line healthy | grep -q 'reset_failed no pool_kept no'"
expect "stalled: RESET unanswered, the bounce pool kept (the host may still map it)" \
	"line stalled | grep -q 'reset_failed yes pool_kept yes'"
expect "healthy: timeout_ms=100000 clamped for maps, and pvdma says so" \
	"grep -q '^pvdma-teardown: healthy: clamped yes' '$log'"
# The stalled unload really waited the full timeout_ms (15 s), sleeping:
# rmmod's CPU went on running the watcher meanwhile.
gap() {	# label, field
	grep "^pvdma-teardown: $1: unload_cs" "$log" | tail -n 1 |
		awk -v f="$2" '{ for (i = 1; i < NF; i++) if ($i == f) print $(i + 1) }'
}
su=$(gap stalled unload_cs)
sg=$(gap stalled cpu0_max_gap_cs)
echo "  stalled unload: ${su:-none} cs; longest gap on its CPU: ${sg:-none} cs"
expect "stalled: RESET waited the full timeout_ms (15000 ms, not the map's capped wait)" \
	"grep -q 'pvdma-log stalled .*did not answer within 15000 ms' '$log' && [ -n '$su' ] && [ '${su:-0}' -ge 1400 ]"
expect "stalled: rmmod's CPU stayed responsive while RESET waited (longest gap under 5 s)" \
	"[ -n '$sg' ] && [ '${sg:-9999}' -lt 500 ]"
# The pool's pages themselves: what each unload gave back to the page
# allocator. The stalled unload must give back at least half a pool less
# than the healthy one (the rest of pvdma's memory is freed by both).
gain() {	# label
	grep "^pvdma-teardown: $1: memfree_before_kb" "$log" | tail -n 1 |
		awk '{ print $6 - $4 }'
}
pool=$(sed -n 's/.*bounce small (\([0-9]*\) KiB pool).*/\1/p' "$log" | head -n 1)
hg=$(gain healthy)
sg=$(gain stalled)
echo "  MemFree given back by the unload: healthy ${hg:-none} KiB, stalled ${sg:-none} KiB (pool ${pool:-none} KiB)"
expect "stalled: the pool's pages stayed out of the page allocator" \
	"[ -n '$pool' ] && [ -n '$hg' ] && [ -n '$sg' ] && [ \$(($hg - $sg)) -ge \$(($pool / 2)) ]"
# A coherent buffer a driver frees after a teardown whose RESET went
# unanswered: kept, as the host may still map it.
expect "held: bytes moved, then a coherent buffer held (pvdma reloaded after pvdmad was continued)" \
	"grep -q '^pvdma-teardown: held: dmatest status 0' '$log' && grep -q 'pvdma-log held .*holding a 256 KiB coherent buffer' '$log'"
expect "held: companion unbound with pvdmad stopped again; driver and pvdma unloaded" \
	"grep -q '^pvdma-teardown: held: companion .* unbound, status 0' '$log' && grep -q '^pvdma-teardown: held: dmatest unload status 0' '$log' && grep -q '^pvdma-teardown: held: unload status 0' '$log'"
expect "held: the coherent buffer freed after that teardown is kept (the host may still map it)" \
	"grep -q '^pvdma-teardown: held: reset_failed yes coherent_kept yes' '$log'"
vm_no_kernel_warnings "teardown" "$log"
vm_pvdmad_stop
expect "pvdmad stops cleanly after it was continued (SIGTERM: exit 0)" "[ $? -eq 0 ]"
expect "no sanitizer report from pvdmad" "! grep -q Sanitizer '$wd/pvdmad.log'"
finish
