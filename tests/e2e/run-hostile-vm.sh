#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The hostile-guest catalogue (docs/security.md) sent from inside a VM:
# the test module pvdma_hostile.ko binds the companion device itself and
# posts through the ring producer pvdma.ko uses (guest/ring.c) out-of-RAM
# and hole-spanning
# MAPs, wrapping/zero/odd lengths, unknown ops and flags, unmaps never
# mapped, double and short unmaps, bad slot counts, a map over the
# aperture, version and feature lies, requests after RESET, impossible
# sq_tail values, and DMA device commands on unmapped and read-only bus
# addresses (guard pattern checked). Then pvdma.ko and pvdma_dmatest.ko
# are loaded and must move the right bytes. The guest has RAM on both
# sides of the PCI hole (256 MiB below 4 GiB).
#
# Host-side checks: every case passed, pvdmad stayed up and exits
# cleanly, its counters show the rejections (bad_tail, per-status
# rejected, DMA faults), 0 live mappings once the guest unloaded pvdma,
# and no WARN/BUG/oops in the guest's console. Prints one "ok:"/"FAIL:"
# line per check and "N passed, N failed".
#
# Environment: BUILD (where pvdmad is, default build), PVDMA_KVER,
# HOSTILE_KEEP=1 (keep the work directory).
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/e2e/vm.sh

BUILD=${BUILD:-build}
OUT=$BUILD/hostile-vm
VM_MEM=512M
LOW=256M
LOW_BYTES=268435456
VM_MACHINE_OPTS=",max-ram-below-4g=$LOW"
# 40 reserved 4 KiB holes split low RAM into more than 40 System RAM
# ranges: pvdma.ko's RAM map must keep every one (it once kept 32).
HOLES=40
VM_APPEND="memmap=$(i=0; while [ $i -lt $HOLES ]; do
	printf '4K$0x%x' $((0x4000000 + i * 0x200000))
	i=$((i + 1))
	[ $i -lt $HOLES ] && printf ','
done)"
APERTURE=64M
. tests/lib.sh
mkdir -p "$OUT"

vm_setup >"$OUT/setup.log" 2>&1 || { cat "$OUT/setup.log"; fail "VM set-up"; finish; }

PVDMAD=$BUILD/pvdmad
PVDMACTL=$BUILD/pvdmactl
if [ ! -x "$PVDMAD" ] || [ ! -x "$PVDMACTL" ]; then
	make -s BUILD="$BUILD" "$PVDMAD" "$PVDMACTL" >/dev/null 2>&1 ||
		{ fail "pvdmad builds"; finish; }
fi

# The modules, built in a private copy (guest/ is shared with other builds).
mod=$OUT/mod
rm -rf "$mod"
mkdir -p "$mod/guest/selftests" "$mod/lib"
cp guest/*.c guest/*.h guest/Kbuild guest/Makefile "$mod/guest/"
cp guest/selftests/*.c guest/selftests/*.h guest/selftests/Kbuild \
	"$mod/guest/selftests/"
rm -f "$mod/guest/"*.mod.c "$mod/guest/selftests/"*.mod.c
cp -r lib/include "$mod/lib/"
cp lib/*.c lib/*.h "$mod/lib/"
if ! make -s -C "$KDIR" M="$(cd "$mod/guest" && pwd)" modules \
	>"$OUT/module-build.log" 2>&1; then
	cat "$OUT/module-build.log"
	fail "guest modules build"
	finish
fi
if grep -q -E "\.[ch]:[0-9]+:[0-9]+: warning:|WARNING: modpost" "$OUT/module-build.log"; then
	cat "$OUT/module-build.log"
	fail "guest modules build without warnings"
else
	ok "pvdma.ko and the self-test modules build without warnings"
fi
if scripts/guest-symbols.sh "$mod/guest/pvdma.ko" >"$OUT/symbols.log" 2>&1; then
	ok "pvdma.ko: $(tail -n 1 "$OUT/symbols.log" | sed 's/^guest-symbols: //')"
else
	cat "$OUT/symbols.log"
	fail "pvdma.ko: every global symbol prefixed pvdma_, no test code"
fi

wd=$(vm_workdir)
mon=
cleanup() {
	[ -n "$mon" ] && kill "$mon" 2>/dev/null
	vm_pvdmad_stop >/dev/null 2>&1
	if [ "${HOSTILE_KEEP:-0}" = 1 ]; then
		echo "work dir kept: $wd" >&2
	else
		rm -rf "$wd"
	fi
}
trap cleanup EXIT

echo "HOSTILE_LOW=$LOW_BYTES" >"$wd/hostile.conf"
vm_initramfs "$wd/initrd.gz" tests/e2e/hostile-guest.sh \
	"$mod/guest/pvdma.ko" "$mod/guest/selftests/pvdma_hostile.ko" \
	"$mod/guest/selftests/pvdma_dmatest.ko" "$wd/hostile.conf" ||
	{ fail "initramfs"; finish; }
vm_pvdmad_start "$PVDMAD" "$wd" --aperture "$APERTURE" \
	--ram-below-4g "$LOW" || { fail "pvdmad starts"; finish; }

# Snapshot pvdmad's stats once the guest says it unloaded (it then waits).
: >"$wd/console.log"
( while ! tr -d '\r' <"$wd/console.log" | grep -q "^pvdma-hostile-vm: unloaded"; do
	sleep 0.1
  done
  sleep 0.5
  "$PVDMACTL" --control "$wd/control.sock" stats --json >"$wd/after.json" 2>&1 ) &
mon=$!
t0=$(date +%s)
vm_boot "$wd/initrd.gz" "$wd/ram" "$wd/companion.sock" "$wd/dma.sock" \
	"$wd/console.log" 120
qrc=$?
# The guest is gone: a monitor still waiting never saw "unloaded".
kill "$mon" 2>/dev/null
wait "$mon" 2>/dev/null
mon=
tr -d '\r' <"$wd/console.log" >"$wd/console.txt"
cp "$wd/console.txt" "$OUT/console.txt"
log=$wd/console.txt
echo "  (guest ran $(($(date +%s) - t0)) s, qemu exit $qrc)"

# The table, one line per case, as the guest printed it.
sed -n 's/^pvdma-log \[ *[0-9.]*\] pvdma-hostile: /  /p' "$log"
summary=$(sed -n 's/.*pvdma-hostile: cases=\([0-9]*\) ok=\([0-9]*\) failed=\([0-9]*\).*/\1 \2 \3/p' "$log" | tail -n 1)
if [ -z "$summary" ]; then
	tail -n 30 "$log"
	fail "the guest ran the hostile table"
else
	set -- $summary
	if [ "$3" -eq 0 ] && [ "$1" -ge 30 ] && [ "$1" -eq "$2" ]; then
		ok "in-VM hostile table: $1 cases, $2 as docs/security.md says"
	else
		fail "in-VM hostile table: cases=$1 ok=$2 failed=$3"
	fi
fi
grep -q "^pvdma-hostile-vm: done" "$log" || fail "the guest finished (no 'done' line)"
ranges=$(sed -n 's/^pvdma-limits ram_ranges \([0-9]*\)$/\1/p' "$log" | tail -n 1)
iomem=$(sed -n 's/^pvdma-iomem system_ram \([0-9]*\)$/\1/p' "$log" | tail -n 1)
if [ -n "$ranges" ] && [ "$ranges" = "$iomem" ] && [ "$ranges" -gt 32 ]; then
	ok "pvdma.ko's RAM map holds all $ranges System RAM ranges of /proc/iomem ($HOLES holes)"
else
	fail "pvdma.ko's RAM map holds every System RAM range (${ranges:-none} of ${iomem:-?})"
fi
# pvdma.ko after the table: the session the test left is usable.
normal=$(sed -n 's/.*pvdma-dmatest: transfers=\([0-9]*\) mismatches=\([0-9]*\) faults=\([0-9]*\) failed_maps=\([0-9]*\).*/\1 \2 \3 \4/p' "$log" | tail -n 1)
if [ -n "$normal" ] && set -- $normal && [ "$1" -gt 0 ] &&
   [ "$2" -eq 0 ] && [ "$3" -eq 0 ] && [ "$4" -eq 0 ]; then
	ok "pvdma.ko after the table: $1 transfers verified, 0 mismatches, 0 faults, 0 failed maps"
else
	fail "pvdma.ko after the table moves the right bytes (dmatest: ${normal:-no summary})"
fi
if grep -q "^pvdma-hostile-vm: .*failed" "$log"; then
	grep "^pvdma-hostile-vm: .*failed" "$log"
	fail "insmod/rmmod in the guest"
else
	ok "pvdma_hostile.ko, then pvdma.ko and pvdma_dmatest.ko loaded and unloaded"
fi
if grep -q -e "Call Trace" -e "BUG:" -e "WARNING:" -e "Oops" "$log"; then
	grep -B 2 -A 12 -e "Call Trace" -e "BUG:" -e "WARNING:" -e "Oops" "$log" | head -n 40
	fail "no WARN, BUG or oops in the guest's console"
else
	ok "no WARN, BUG or oops in the guest's console"
fi

# pvdmad's view, snapshotted after the unload with the guest connected.
if kill -0 "$PVDMAD_PID" 2>/dev/null; then
	ok "pvdmad stayed up"
else
	fail "pvdmad stayed up"
fi
if [ -s "$wd/after.json" ] && python3 - "$wd/after.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
g = d["guests"][0] if d["guests"] else {}
r = g.get("rejected", {})
dev = d["dma_devices"][0] if d["dma_devices"] else {}
want = [
    ("guest still connected", len(d["guests"]) == 1),
    ("0 live mappings after the guest's RESET/unload", d["mappings_live"] == 0 and g.get("mappings_live", 1) == 0),
    ("bad_tail >= 2", g.get("bad_tail", 0) >= 2),
    ("rejected bad-gpa >= 5", r.get("bad-gpa", 0) >= 5),
    ("rejected invalid >= 5", r.get("invalid", 0) >= 5),
    ("rejected bad-op >= 6", r.get("bad-op", 0) >= 6),
    ("rejected not-mapped >= 5", r.get("not-mapped", 0) >= 5),
    ("rejected partial >= 1", r.get("partial", 0) >= 1),
    ("rejected bad-slot >= 4", r.get("bad-slot", 0) >= 4),
    ("rejected no-aperture >= 1", r.get("no-aperture", 0) >= 1),
    ("rejected bad-version >= 2", r.get("bad-version", 0) >= 2),
    ("rejected not-ready >= 3", r.get("not-ready", 0) >= 3),
    ("DMA faults >= 7", dev.get("faults", 0) >= 7 and g.get("dma_faults", 0) >= 7),
]
bad = [n for n, c in want if not c]
print("  pvdmad: guest bad_tail=%s rejected=%s dma_faults=%s mappings_live=%s" %
      (g.get("bad_tail"), json.dumps(r), g.get("dma_faults"), d.get("mappings_live")))
for n in bad:
    print("  missing: " + n)
sys.exit(1 if bad else 0)
PY
then
	ok "pvdmad counted the rejections; 0 live mappings after the unload"
else
	[ -s "$wd/after.json" ] || echo "  no stats snapshot: $(cat "$wd/after.json" 2>/dev/null)"
	fail "pvdmad counted the rejections; 0 live mappings after the unload"
fi
if vm_pvdmad_stop; then
	ok "pvdmad exits cleanly"
else
	tail -n 20 "$wd/pvdmad.log"
	fail "pvdmad exits cleanly"
fi
finish
