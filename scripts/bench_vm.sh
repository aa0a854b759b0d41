#!/bin/sh
# SPDX-License-Identifier: MIT
#
# End-to-end benchmarks in one guest boot (make bench calls this; it can
# run alone): pvdmad --dma-identity with the DART model, the Debian kernel
# under QEMU/TCG (tests/e2e/vm.sh), pvdma_dmabench.ko with pvdma.ko
# policy=pvdma then policy=rfc. Writes build/bench/vm.json, one JSON
# object per benchmark line:
#   {"bench": "copy", "tag": "pvdma", "size": ..., "ratio": pvdma throughput / identity, ...}
#   {"bench": "sg", "tag": "rfc", "entries": ..., "pvdma_ns": ..., ...}
#   {"bench": "sg-ratio", "entries": ..., "rfc_over_pvdma": ...}
# Absolute guest times under TCG mean little; the ratios are the result.
# Every size runs in >= 7 alternating rounds: medians with their spread.
#
# Environment: BUILD (default build), PVDMA_KVER, BENCH_VM_MAX_MB (64),
# BENCH_VM_RFC_COPY=0 to skip the copy benchmark under rfc,
# BENCH_VM_KEEP=1 to keep the work directory (console log).
set -u
cd "$(dirname "$0")/.." || exit 1
. tests/e2e/vm.sh

BUILD=${BUILD:-build}
OUT=$BUILD/bench
MAX_MB=${BENCH_VM_MAX_MB:-64}
mkdir -p "$OUT"

step() { printf '== vm: %s\n' "$*" >&2; }
fail() { echo "bench_vm: $*" >&2; exit 1; }

step "packages, kernel headers and the Debian kernel"
vm_setup || fail "VM set-up failed (packages or kernel)"

step "pvdmad"
make -s progs >/dev/null || fail "make progs failed"

# Build the modules in a private copy: others may be building guest/.
step "guest modules against $KVER"
kb=$OUT/kbuild
rm -rf "$kb"
mkdir -p "$kb"
cp -r guest lib "$kb/"
(cd "$kb/guest" && rm -f ./*.o ./*.ko ./*.mod ./*.mod.c .*.cmd modules.order Module.symvers \
	selftests/*.o selftests/*.ko selftests/*.mod selftests/*.mod.c selftests/.*.cmd)
make -s -C "$kb/guest" KVER="$KVER" >"$OUT/module-build.log" 2>&1 ||
	{ cat "$OUT/module-build.log" >&2; fail "module build failed"; }
if grep -q -E "\.[ch]:[0-9]+:[0-9]+: warning:|WARNING: modpost" "$OUT/module-build.log"; then
	cat "$OUT/module-build.log" >&2
	fail "module build has warnings"
fi

wd=$(vm_workdir)
cleanup() {
	vm_pvdmad_stop
	if [ "${BENCH_VM_KEEP:-0}" = 1 ]; then
		echo "bench_vm: work dir kept: $wd" >&2
	else
		rm -rf "$wd"
	fi
}
trap cleanup EXIT

rfc_args="max_mb=$MAX_MB"
[ "${BENCH_VM_RFC_COPY:-1}" = 1 ] || rfc_args="copy=0"
{
	echo "BENCH_PVDMA_ARGS='max_mb=$MAX_MB'"
	echo "BENCH_RFC_ARGS='$rfc_args'"
	cat tests/bench/guest-bench.sh
} >"$wd/guest-bench.sh"
vm_initramfs "$wd/initrd.gz" "$wd/guest-bench.sh" "$kb/guest/pvdma.ko" \
	"$kb/guest/selftests/pvdma_dmabench.ko" || fail "initramfs failed"

step "pvdmad --dma-identity (DART model, 1536 MiB aperture)"
vm_pvdmad_start "$BUILD/pvdmad" "$wd" --dma-identity --log-level info ||
	fail "pvdmad did not start"

step "booting the guest (TCG): dmabench with policy=pvdma, pvdma strict=1, rfc"
start=$(date +%s)
vm_boot "$wd/initrd.gz" "$wd/ram" "$wd/companion.sock" "$wd/dma.sock" \
	"$wd/console.log" "${BENCH_VM_TIMEOUT:-540}"
qemu_rc=$?
step "guest finished in $(($(date +%s) - start)) s (qemu exit $qemu_rc)"
tr -d '\r' <"$wd/console.log" >"$OUT/vm-console.txt"

grep -e "pvdma-benchvm: .*failed" -e "WARNING:" -e "BUG:" "$OUT/vm-console.txt" >&2
python3 - "$OUT/vm-console.txt" "$OUT/vm.json" <<'PY' || fail "no benchmark lines"
import json, re, sys
rows = []
for line in open(sys.argv[1]):
    m = re.search(r"pvdma-bench: (\S+) (.*)$", line)
    if not m:
        continue
    row = {"bench": m.group(1)}
    for k, v in re.findall(r"(\w+)=(\S+)", m.group(2)):
        row[k] = int(v) if re.fullmatch(r"-?\d+", v) else v
    if "ratio_milli" in row:
        row["ratio"] = row["ratio_milli"] / 1000
    for k in [k for k in row if k.endswith("_milli") and k != "ratio_milli"]:
        row[k[:-6]] = row.pop(k) / 1000
    rows.append(row)
sg = {}
for r in rows:
    if r["bench"] == "sg" and "pvdma_ns" in r:
        sg.setdefault(r["entries"], {})[r["tag"]] = r
for n in sorted(sg):
    p, f = sg[n].get("pvdma"), sg[n].get("rfc")
    if p and f:
        row = {"bench": "sg-ratio", "entries": n,
               "rfc_over_pvdma": round(f["pvdma_ns"] / max(1, p["pvdma_ns"]), 3),
               "pvdma_over_identity": round(p["pvdma_ns"] / max(1, p["identity_ns"]), 3),
               "host_calls_pvdma": p["host_calls"], "host_calls_rfc": f["host_calls"],
               "rounds": f.get("rounds", 0)}
        # the host-call round trip, measured under rfc (one entry a call)
        for k in ("call_ns", "call_min_ns", "call_max_ns"):
            if k in f:
                row["rfc_" + k] = f[k]
        rows.append(row)
with open(sys.argv[2], "w") as out:
    for r in rows:
        out.write(json.dumps(r) + "\n")
if not any(r["bench"] == "copy" and "ratio" in r for r in rows):
    sys.exit(1)
print("\n".join(json.dumps(r) for r in rows if r["bench"] in ("copy", "sg-ratio")))
PY
rc=$?
if ! grep -q "^pvdma-benchvm: done" "$OUT/vm-console.txt"; then
	echo "bench_vm: the guest did not finish; console tail:" >&2
	tail -n 20 "$OUT/vm-console.txt" >&2
	rc=1
fi
vm_pvdmad_stop || { echo "bench_vm: pvdmad exited with an error" >&2; rc=1; }
step "wrote $OUT/vm.json"
exit $rc
