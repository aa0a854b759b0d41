#!/bin/sh
# SPDX-License-Identifier: MIT
#
# pvdma reliability tests: the guest's side and injected faults
# (docs/reliability.md; pvdmad's restarts have their own tests). Prints one
# "ok:"/"FAIL:" line per check and ends with "N passed, N failed".
#
#   churn      10^5..10^6 random maps/unmaps through the planner against the
#              DART model: bounded, no fragmentation growth (churn_curve)
#   boot 1     pvdmad --inject-map-fail RATE:SEED: the self-tests under
#              injected NO_APERTURE / IO refusals (clean failures only, no
#              wrong byte, no warning); load/unload and unbind/bind cycles
#              with traffic (no leak: slab/vmalloc counters, pvdmad's live
#              mappings 0 after unloads); then pvdmad is killed (-9) under
#              a loaded pvdma and restarted: maps fail within timeout_ms
#              and stay failed, the restarted pvdmad serves a new client
#   boot 2     pvdmad --inject-map-fail 0 (ledger only): 2x-aperture
#              pressure from 4 kthreads, then continuous DMA and QEMU
#              killed (-9) mid-run: every mapping released, counters agree,
#              pvdmad keeps serving another client
#
# Environment: BUILD (default build), REL_MODE=quick|soak (soak: 200
# cycles, 10^6 churn ops, longer pressure), REL_INJECT (0.05:7),
# REL_CYCLES, REL_KEEP=1 (keep the work directory), REL_OUT (where the
# churn curve and logs go, default $BUILD/reliability).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/vm.sh

BUILD=${BUILD:-build}
MODE=${REL_MODE:-quick}
OUT=${REL_OUT:-$BUILD/reliability}
INJECT=${REL_INJECT:-0.05:7}
if [ "$MODE" = soak ]; then
	CYCLES=${REL_CYCLES:-200}
	CHURN_OPS=1000000
	MIXED_OPS=192
else
	CYCLES=${REL_CYCLES:-30}
	CHURN_OPS=200000
	MIXED_OPS=48
fi
VM_MEM=512M
APERTURE=64M
. tests/lib.sh
num() {	# default 0
	case ${1:-} in ''|*[!0-9]*) echo 0 ;; *) echo "$1" ;; esac
}
mkdir -p "$OUT"

# ---- churn: the planner over 10^5..10^6 operations ---------------------
step_churn() {
	cflags="-std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Wno-unused-parameter -Ilib/include -Ilib -Icommon"
	lib=$BUILD/libpvdma.a
	[ -f "$lib" ] || make -s BUILD="$BUILD" "$lib" >/dev/null 2>&1
	if nm "$lib" 2>/dev/null | grep -q __asan; then
		cflags="$cflags -fsanitize=address,undefined"
	fi
	# shellcheck disable=SC2086
	if ! ${CC:-cc} $cflags tests/reliability/churn_curve.c "$lib" \
		-o "$OUT/churn_curve" 2>"$OUT/churn-build.log"; then
		cat "$OUT/churn-build.log"
		fail "churn_curve builds"
		return
	fi
	every=$((CHURN_OPS / 10))
	"$OUT/churn_curve" --ops "$CHURN_OPS" --every "$every" \
		--curve "$OUT/churn-curve.dat" >"$OUT/churn.log" 2>&1
	rc=$?
	sed 's/^/  /' "$OUT/churn.log"
	expect "churn: $CHURN_OPS planner ops, bounded, no failures, no fragmentation growth, all released" "[ $rc -eq 0 ]"
	"$OUT/churn_curve" --ops "$CHURN_OPS" --every "$every" --inject 0.05 \
		>"$OUT/churn-inject.log" 2>&1
	rc=$?
	grep -e "host maps refused" -e "failed maps" "$OUT/churn-inject.log" | sed 's/^/  /'
	expect "churn: 5% of host maps refused: every mapped segment still translates to its own memory" "[ $rc -eq 0 ]"
}

# ---- VM plumbing -----------------------------------------------------------
# The modules, built in a private copy (guest/ is shared with other builds).
build_modules() {
	mod=$OUT/mod
	rm -rf "$mod"
	mkdir -p "$mod/guest/selftests" "$mod/lib"
	cp guest/*.c guest/*.h guest/Kbuild guest/Makefile "$mod/guest/" 2>/dev/null
	cp guest/selftests/*.c guest/selftests/*.h guest/selftests/Kbuild \
		"$mod/guest/selftests/"
	rm -f "$mod/guest/"*.mod.c "$mod/guest/selftests/"*.mod.c
	cp -r lib/include "$mod/lib/"
	cp lib/*.c lib/*.h "$mod/lib/"
	make -s -C "$KDIR" M="$(cd "$mod/guest" && pwd)" modules \
		>"$OUT/module-build.log" 2>&1 || return 1
	! grep -q -E "\.[ch]:[0-9]+:[0-9]+: warning:|WARNING: modpost" "$OUT/module-build.log"
}

# vm_pvdmad_restart WD [options]: a new pvdmad on WD's sockets, RAM file kept.
rel_pvdmad_start() {
	wd=$1
	shift
	rm -f "$wd/companion.sock" "$wd/dma.sock" "$wd/control.sock"
	"$PVDMAD" --socket "$wd/companion.sock" --dma-socket "$wd/dma.sock" \
		--guest-ram "$wd/ram" --control "$wd/control.sock" "$@" \
		>>"$wd/pvdmad.log" 2>&1 &
	echo $! >"$wd/pvdmad.pid"
	i=0
	while [ ! -S "$wd/control.sock" ] && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	[ -S "$wd/control.sock" ]
}

# SIGTERM; returns pvdmad's exit status (for one checkpoint() started, not
# our child: 0 if it logged a clean shutdown).
rel_pvdmad_stop() {	# WD
	p=$(cat "$1/pvdmad.pid" 2>/dev/null)
	[ -n "$p" ] || return 0
	rm -f "$1/pvdmad.pid"
	kill -TERM "$p" 2>/dev/null || return 1
	wait "$p" 2>/dev/null
	rc=$?
	[ $rc -ne 127 ] && return $rc
	i=0
	while kill -0 "$p" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	! kill -0 "$p" 2>/dev/null && tail -n 20 "$1/pvdmad.log" | grep -q "signal 15: shutting down"
}

json() {	# WD, key: the first (daemon-wide) occurrence
	"$PVDMACTL" --control "$1/control.sock" stats --json 2>/dev/null |
		grep -o "\"$2\": [0-9]*" | head -n 1 | sed 's/.*: //'
}

# The host's half of the checkpoints the guest of $wd prints (vm_watch).
checkpoint() {	# checkpoint
	case $1 in
	unloaded-*)
		echo "$1 $(json "$wd" mappings_live) $(json "$wd" guests_live)" >>"$wd/checkpoints"
		;;
	kill-pvdmad)
		p=$(cat "$wd/pvdmad.pid")
		kill -KILL "$p"
		while kill -0 "$p" 2>/dev/null; do sleep 0.05; done
		rm -f "$wd/pvdmad.pid"
		echo "killed pvdmad $p" >>"$wd/checkpoints"
		rel_pvdmad_start "$wd" --aperture "$APERTURE" &&
			echo "restarted pvdmad $(cat "$wd/pvdmad.pid")" >>"$wd/checkpoints"
		;;
	dma-running)
		# Wait for the second loop, then kill QEMU mid-DMA.
		i=0
		while ! grep -q "pvdma-dmatest: loop 2 of" "$wd/console.log" &&
		      [ $i -lt 600 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		sleep 1
		"$PVDMACTL" --control "$wd/control.sock" stats --json >"$wd/before-kill.json"
		q=$(pgrep -f -n "qemu-system-x86_64.*$wd/ram")
		[ -n "$q" ] && kill -KILL "$q" && echo "killed qemu $q" >>"$wd/checkpoints"
		;;
	esac
}

boot() {	# WD, phases, timeout
	wd=$1
	cat >"$wd/rel.conf" <<EOF
REL_PHASES="$2"
REL_CYCLES=$CYCLES
REL_LOOPS=1000
REL_MIXED_OPS=$MIXED_OPS
EOF
	vm_initramfs "$wd/initrd.gz" tests/reliability/rel-guest.sh \
		"$OUT/mod/guest/pvdma.ko" "$OUT/mod/guest/selftests/pvdma_dmatest.ko" \
		"$wd/rel.conf" || return 1
	: >"$wd/checkpoints"
	t0=$(date +%s)
	vm_boot_watched "$wd" "$3" pvdma-rel checkpoint
	qrc=$?
	echo "  (guest ran $(($(date +%s) - t0)) s, qemu exit $qrc)"
	return 0
}

field() {	# log, label, key: from the label's dmatest summary
	grep "^pvdma-log $2 .*pvdma-dmatest: transfers=" "$1" | tail -n 1 |
		sed -n "s/.*[ :]$3=\([0-9]*\).*/\1/p"
}
gstat() {	# log, label, key: the guest's debugfs counter
	sed -n "s/^pvdma-stats $2 $3 \([0-9]*\)$/\1/p" "$1" | tail -n 1
}

# ---- boot 1: injected faults, load/unload cycles, pvdmad killed ---------
step_boot1() {
	wd=$(vm_workdir)
	WD1=$wd
	echo "== boot 1: pvdmad --aperture $APERTURE --inject-map-fail $INJECT"
	rel_pvdmad_start "$wd" --aperture "$APERTURE" --inject-map-fail "$INJECT" ||
		{ fail "pvdmad starts with --inject-map-fail"; return; }
	boot "$wd" "fault loop restart" 400
	log=$wd/console.txt
	grep -e "^pvdma-rel: " "$log" | grep -v checkpoint | sed 's/^/  /'
	grep -q "^pvdma-rel: done" "$log" ||
		{ tail -n 30 "$log"; fail "boot 1: the guest finished"; }

	tot_fail=0
	for r in fault-bounce fault-nobounce fault-rfc; do
		t=$(num "$(field "$log" $r transfers)")
		mm=$(num "$(field "$log" $r mismatches)")
		fa=$(num "$(field "$log" $r faults)")
		fm=$(num "$(field "$log" $r failed_maps)")
		un=$(num "$(field "$log" $r unexpected_failures)")
		gf=$(num "$(gstat "$log" $r dma_map_failures)")
		echo "  $r: $t transfers, $mm mismatches, $fa device faults, $fm failed maps (guest dma_map_failures $gf)"
		grep "^pvdma-log $r .*pvdma-dmatest: test " "$log" |
			sed 's/^pvdma-log [^ ]* \[ *[0-9.]*\] pvdma-dmatest: test /    /'
		expect "fault $r: transfers verified, 0 wrong bytes, 0 device faults" \
			"[ $t -gt 0 ] && [ $mm -eq 0 ] && [ $fa -eq 0 ]"
		expect "fault $r: every failed map is a counted DMA error ($fm seen by the test, $gf by pvdma)" \
			"[ $un -eq 0 ] && [ $fm -le $gf ]"
		tot_fail=$((tot_fail + fm))
	done
	# Each companion logs running totals at every reset: its last line.
	inj=$(sed -n 's/.*companion \([0-9]*\): fault injection: [0-9]* maps, \([0-9]*\) refused.*/\1 \2/p' "$wd/pvdmad.log" |
		awk '{ v[$1] = $2 } END { for (k in v) s += v[k]; print s + 0 }')
	echo "  pvdmad refused $inj maps in all; the self-tests saw $tot_fail failed maps"
	expect "fault: injection took effect (refused $inj, failed maps $tot_fail)" \
		"[ $inj -gt 0 ] && [ $tot_fail -gt 0 ]"
	expect "fault: pvdmad's ledger agrees with the DART model on every reset" \
		"grep -q 'ledger consistent' '$wd/pvdmad.log' && ! grep -q -e INCONSISTENT -e 'ledger disagrees' '$wd/pvdmad.log'"

	# load/unload
	sed 's/^/  checkpoint /' "$wd/checkpoints"
	n=$(grep -c "^unloaded-" "$wd/checkpoints")
	nz=$(grep "^unloaded-" "$wd/checkpoints" | awk '$2 != 0' | wc -l)
	expect "loop: pvdmad had 0 live mappings at each of $n checkpoints after an unload" \
		"[ $n -ge 1 ] && [ $nz -eq 0 ]"
	expect "loop: $CYCLES load/bind/unload cycles worked" \
		"grep -q '^pvdma-rel: ok loop: every load' '$log'"
	runs=$(num "$(sed -n 's/^pvdma-rel: loop: \([0-9]*\) dmatest runs, \([0-9]*\) with.*/\1/p' "$log")")
	wrong=$(num "$(sed -n 's/^pvdma-rel: loop: \([0-9]*\) dmatest runs, \([0-9]*\) with.*/\2/p' "$log")")
	expect "loop: traffic in every cycle ($runs runs), none with wrong bytes" \
		"[ $runs -eq $CYCLES ] && [ $wrong -eq 0 ]"
	mem=$(sed -n 's/^pvdma-rel: loop: slab_kb \([0-9]*\) -> \([0-9]*\), sunreclaim_kb \([0-9]*\) -> \([0-9]*\), vmalloc_kb \([0-9]*\) -> \([0-9]*\).*/\1 \2 \3 \4 \5 \6/p' "$log")
	set -- $mem 0 0 0 0 0 0
	du=$(($4 - $3))
	dv=$(($6 - $5))
	# A leak of one window table (vmalloc, MiBs) or of 1 KiB a cycle shows.
	lim=$((CYCLES * 16 + 512))
	expect "loop: no leak over $CYCLES cycles (unreclaimable slab ${du} KiB, vmalloc ${dv} KiB; limit $lim / 256)" \
		"[ -n '$mem' ] && [ $du -lt $lim ] && [ $dv -lt 256 ]"

	# restart
	grep "^pvdma-log restart .*pvdma: the host" "$log" | head -n 2 | sed 's/^pvdma-log restart /  /'
	ms=$(num "$(sed -n 's/^pvdma-rel: after: dmatest took \([0-9]*\) ms.*/\1/p' "$log")")
	expect "restart: pvdmad killed under a loaded pvdma: maps failed cleanly within the 1000 ms timeout (dmatest took $ms ms in all)" \
		"grep -q 'transport_timeouts 1 .*transport_broken 1' '$log' && [ $ms -gt 0 ] && [ $ms -lt 4000 ] && grep -q 'pvdma: the host did not answer within 1000 ms' '$log'"
	expect "restart: the loss is reported once, later maps fail at once (one timeout in all)" \
		"grep -q '^pvdma-rel: after: .*transport_timeouts 1 .*failed_maps [1-9]' '$log' && grep -q '^\[.*pvdma: the host did not answer within 1000 ms' '$log'"
	expect "restart: pvdma unloads with the host gone, and a reload stays cleanly failed" \
		"grep -q '^pvdma-rel: ok restart: pvdma unloads with the host gone' '$log' && grep -q '^pvdma-rel: ok restart: pvdma unloads after the failed reload' '$log' && grep -q 'companion bound: 0' '$log'"
	expect "restart: pvdmad was restarted on the same sockets" "grep -q '^restarted pvdmad' '$wd/checkpoints'"
	if [ -S "$wd/control.sock" ]; then
		"$CLIENT" loop --socket "$wd/companion.sock" --dma-socket "$wd/dma.sock" \
			--ram "$wd/ram" --below-4g 512M --seconds 2 >"$wd/client.log" 2>&1
		crc=$?
		sed 's/^/  client: /' "$wd/client.log" | tail -n 2
		expect "restart: the restarted pvdmad serves a new client" "[ $crc -eq 0 ]"
	fi
	vm_no_kernel_warnings "boot 1" "$log"
	rel_pvdmad_stop "$wd"
	expect "restart: the restarted pvdmad exits cleanly" "[ $? -eq 0 ]"
	cp "$log" "$OUT/boot1-console.txt"
	cp "$wd/pvdmad.log" "$OUT/boot1-pvdmad.log"
}

# ---- boot 2: pressure, then QEMU killed in the middle of DMA -------------
step_boot2() {
	wd=$(vm_workdir)
	WD2=$wd
	echo "== boot 2: pvdmad --aperture $APERTURE --inject-map-fail 0 (ledger only)"
	rel_pvdmad_start "$wd" --aperture "$APERTURE" --inject-map-fail 0 ||
		{ fail "pvdmad starts"; return; }
	boot "$wd" "pressure dma" 400
	log=$wd/console.txt
	grep -e "^pvdma-rel: " "$log" | grep -v checkpoint | sed 's/^/  /'
	for r in pressure-bounce pressure-nobounce; do
		t=$(num "$(field "$log" $r transfers)")
		mm=$(num "$(field "$log" $r mismatches)")
		fa=$(num "$(field "$log" $r faults)")
		fm=$(num "$(field "$log" $r failed_maps)")
		un=$(num "$(field "$log" $r unexpected_failures)")
		echo "  $r: $t transfers, $mm mismatches, $fa device faults, $fm failed maps ($un unexpected)"
		grep "^pvdma-log $r .*pvdma-dmatest: \(test\|mixed\|pressure\)" "$log" |
			sed 's/^pvdma-log [^ ]* \[ *[0-9.]*\] pvdma-dmatest: /    /'
		expect "pressure $r: 2x aperture, 4 kthreads, 256 B..4 MiB: 0 wrong bytes, only allowed failures" \
			"[ $t -gt 0 ] && [ $mm -eq 0 ] && [ $fa -eq 0 ] && [ $un -eq 0 ]"
	done
	sed 's/^/  checkpoint /' "$wd/checkpoints"
	live0=$(grep -o '"mappings_live": [0-9]*' "$wd/before-kill.json" 2>/dev/null | head -n 1 | sed 's/.*: //')
	live0=$(num "$live0")
	expect "kill: QEMU was killed in the middle of DMA (pvdmad had $live0 live mappings)" \
		"grep -q '^killed qemu' '$wd/checkpoints' && ! grep -q '^pvdma-rel: dma: not killed' '$log' && [ $live0 -gt 0 ]"
	i=0
	while [ "$(json "$wd" guests_live)" != 0 ] && [ $i -lt 50 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	glive=$(json "$wd" guests_live)
	mlive=$(json "$wd" mappings_live)
	rel=$(num "$(json "$wd" released_on_disconnect)")
	logged=$(sed -n 's/.*companion [0-9]*: released \([0-9]*\) mappings.*/\1/p' "$wd/pvdmad.log" | tail -n 1)
	echo "  after the kill: guests_live $glive, mappings_live $mlive, released_on_disconnect $rel (logged $logged)"
	expect "kill: pvdmad released every mapping of the dead guest (0 live, 0 guests)" \
		"[ '$glive' = 0 ] && [ '$mlive' = 0 ] && [ $rel -gt 0 ]"
	expect "kill: counters agree (released_on_disconnect = the disconnect's released count; ledger consistent)" \
		"[ '$rel' = '$logged' ] && grep -q 'ledger consistent' '$wd/pvdmad.log' && ! grep -q -e INCONSISTENT -e 'ledger disagrees' '$wd/pvdmad.log'"
	"$CLIENT" loop --socket "$wd/companion.sock" --dma-socket "$wd/dma.sock" \
		--ram "$wd/ram" --below-4g 512M --seconds 2 >"$wd/client.log" 2>&1
	crc=$?
	sed 's/^/  client: /' "$wd/client.log" | tail -n 2
	expect "kill: pvdmad keeps serving another client" "[ $crc -eq 0 ]"
	expect "kill: and releases its mappings too (0 live after it leaves)" \
		"sleep 0.3; [ \"\$(json '$wd' mappings_live)\" = 0 ]"
	vm_no_kernel_warnings "boot 2" "$log"
	rel_pvdmad_stop "$wd"
	expect "kill: pvdmad exits cleanly" "[ $? -eq 0 ]"
	cp "$log" "$OUT/boot2-console.txt"
	cp "$wd/pvdmad.log" "$OUT/boot2-pvdmad.log"
}

cleanup() {
	for w in ${WD1:-} ${WD2:-}; do
		rel_pvdmad_stop "$w" 2>/dev/null
		if [ "${REL_KEEP:-0}" = 1 ]; then
			echo "kept $w" >&2
		else
			rm -rf "$w"
		fi
	done
}
trap cleanup EXIT

PVDMAD=$BUILD/pvdmad
PVDMACTL=$BUILD/pvdmactl
CLIENT=$BUILD/tests/host/client
for b in "$PVDMAD" "$PVDMACTL" "$CLIENT"; do
	[ -x "$b" ] || abort "missing $b (make tests)"
done
echo "== churn ($CHURN_OPS ops)"
step_churn
vm_setup >/dev/null 2>&1 || abort "VM set-up (packages, kernel)"
build_modules || { cat "$OUT/module-build.log"; abort "modules build without warnings"; }
step_boot1
step_boot2
finish
