#!/bin/sh
# SPDX-License-Identifier: MIT
#
# pvdma-replay --verdict, its exit codes and the refusal of inputs that are
# not traces. Every shipped trace (traces/*/) is judged, and each verdict is
# checked against the replay's own counts from separate --json runs: FITS
# exactly when pvdma fails no map; FITS WITH BOUNCE only when the pool it
# names makes every map succeed; DOES NOT FIT when no pool tried does, and
# the aperture it names is the smallest (to 64 MiB) that fits. Then each kind
# of bad input, in each mode, must exit 2 with its own message; and --help
# lists every synthetic workload once, each one --synthetic replays.
# Prints one line per check and "N passed, N failed".
# Env: BUILD (default build).
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
R=$BUILD/pvdma-replay
. tests/lib.sh
need "$R"
work=$(mktemp -d "${TMPDIR:-/tmp}/pvdma-verdict.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

traces=$(find traces -name '*.trace.xz' | sort)

# ---- verdicts and the counts they must agree with
: >"$work/verdicts"
for t in $traces; do
	"$R" --verdict "$t" >"$work/v.txt" 2>"$work/v.err"
	echo "$t	$?	$(cat "$work/v.txt")" >>"$work/verdicts"
	"$R" --json --quiet --policy pvdma "$t" >>"$work/pvdma.json" 2>/dev/null
	s_pvdma=$?
	"$R" --json --quiet --policy rfc "$t" >>"$work/rfc.json" 2>/dev/null
	s_rfc=$?
	# 1 is a failed map; anything else would leave the counts short
	status_ok "$s_pvdma" 0 1 && status_ok "$s_rfc" 0 1 ||
		fail "$t: the --json replays ran to their end (exit $s_pvdma, $s_rfc)"
done

# ---- bad inputs: file, what the message must say
head -c 4096 /dev/urandom >"$work/random.bin"
printf '\0\0\0binary' >>"$work/random.bin"
: >"$work/empty.trace"
gzip -c tests/trace/fixtures/small.trace >"$work/small.trace.gz"
bzip2 -c tests/trace/fixtures/small.trace >"$work/small.trace.bz2" 2>/dev/null ||
	printf 'BZh91AY&SY' >"$work/small.trace.bz2"
xz -dc traces/nvidia-580-h200/multiproc.trace.xz | xz -c >"$work/full.xz"
head -c 6000 "$work/full.xz" >"$work/truncated.trace.xz"
python3 - "$work/full.xz" "$work/corrupt.trace.xz" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) // 2] ^= 0xff
open(sys.argv[2], "wb").write(bytes(b))
PY
printf 'hello\nthis is text\n' >"$work/text.txt"
cat >"$work/bad" <<EOF
README.md	no dma_\* events in
$work/random.bin	binary data
$work/empty.trace	empty file: not a trace
$work/small.trace.gz	gzip data: use xz or plain text
$work/small.trace.bz2	bzip2 data: use xz or plain text
$work/truncated.trace.xz	truncated xz file
$work/corrupt.trace.xz	corrupt xz data
$work/text.txt	no dma_\* events in 2 lines
$work/no-such.trace	No such file or directory
EOF
: >"$work/bad.out"
while IFS='	' read -r f want; do
	for mode in --verdict --stats "--policy pvdma"; do
		# shellcheck disable=SC2086
		"$R" $mode "$f" >/dev/null 2>"$work/err"
		rc=$?
		printf '%s\t%s\t%s\t%s\t%s\n' "$f" "$mode" "$rc" "$want" \
			"$(tr '\n' ' ' <"$work/err")" >>"$work/bad.out"
	done
done <"$work/bad"

# ---- exit codes of the normal replay, and the first-failure line
"$R" --quiet traces/nvidia-580-h200/pinned.trace.xz traces/nvidia-580-h200/init.trace.xz \
	>"$work/mixed.txt" 2>&1
echo "pinned+init all $?" >"$work/rc"
"$R" --quiet --policy pvdma traces/nvidia-580-h200/init.trace.xz >/dev/null 2>&1
echo "init pvdma $?" >>"$work/rc"
"$R" --quiet --policy rfc traces/nvidia-580-h100/multiproc.trace.xz >/dev/null 2>&1
echo "h100-multiproc rfc $?" >>"$work/rc"
"$R" --quiet --policy all traces/nvidia-580-h100/multiproc.trace.xz >/dev/null 2>&1
echo "h100-multiproc all $?" >>"$work/rc"
"$R" --verdict traces/nvidia-580-h200/init.trace.xz README.md >/dev/null 2>&1
echo "init+README verdict $?" >>"$work/rc"
"$R" --verdict traces/nvidia-580-h200/init.trace.xz traces/nvidia-580-h200/pinned.trace.xz \
	>/dev/null 2>&1
echo "init+pinned verdict $?" >>"$work/rc"
"$R" --json --quiet --policy all traces/nvidia-580-h100/multiproc.trace.xz \
	traces/nvidia-580-h200/pinned.trace.xz traces/nvidia-580-h200/init.trace.xz \
	>"$work/all.json" 2>/dev/null
rc=$?
status_ok "$rc" 0 1 || fail "the --json --policy all replay ran to its end (exit $rc)"

PYTHONPATH=tests python3 - "$work" "$R" "$work/counts" <<'PY'
import json
import os
import re
import subprocess
import sys

work, replay = sys.argv[1], sys.argv[2]
from checks import check, write_counts


def rows(path):
    out = {}
    for line in open(path):
        if line.strip():
            r = json.loads(line)
            out[r["trace"]] = r
    return out


def human(b):
    units = ["B", "KiB", "MiB", "GiB", "TiB"]
    v, u = float(b), 0
    while v >= 1024 and u < 4:
        v /= 1024
        u += 1
    if u == 0:
        return "%d B" % b
    return "%.*f %s" % (2 if v < 10 else 1, v, units[u])


def failed_maps(trace, *args):
    out = subprocess.run([replay, "--json", "--quiet", "--policy", "pvdma"]
                         + list(args) + [trace], capture_output=True,
                         text=True).stdout
    return json.loads(out.splitlines()[0])["failed_maps"]


pv, rfc = rows(work + "/pvdma.json"), rows(work + "/rfc.json")
kinds = set()
for line in open(work + "/verdicts"):
    trace, rc, text = line.rstrip("\n").split("\t", 2)
    name = trace.split("/")[-2] + "/" + trace.split("/")[-1]
    p, r = pv[trace], rfc[trace]
    m = re.match(r"^(\S+): (FITS WITH BOUNCE|FITS|DOES NOT FIT) \| ", text)
    check(m is not None and m.group(1) == trace.split("/")[-1],
          "%s: one verdict line" % name)
    if not m:
        continue
    kind = m.group(2)
    kinds.add(kind)
    fails = p["failed_maps"] > 0 or p["verify_errors"] > 0
    check((kind == "FITS") == (not fails),
          "%s: %s, and pvdma fails %d maps" % (name, kind, p["failed_maps"]))
    check(int(rc) == (1 if kind == "DOES NOT FIT" else 0),
          "%s: %s exits %s" % (name, kind, rc))
    check("peak live %s = " % human(p["peak_live_bytes"]) in text,
          "%s: peak live set %s as the replay counts it"
          % (name, human(p["peak_live_bytes"])))
    check("host calls: pvdma %d, rfc %d" % (p["host_calls"], r["host_calls"])
          in text, "%s: host calls pvdma %d, rfc %d"
          % (name, p["host_calls"], r["host_calls"]))
    check(re.search(r"stalled [0-9.]+ ms vs [0-9.]+ ms at 4\.3 us a call", text)
          is not None, "%s: the stall at a stated cost per call" % name)
    check(re.search(r"certainty: (exact|estimated)", text) is not None,
          "%s: says how certain" % name)
    if p["invented_bytes"]:
        check("certainty: estimated (%s invented" % human(p["invented_bytes"])
              in text, "%s: invented bytes %s named" %
              (name, human(p["invented_bytes"])))
        least = re.search(r"with each hidden entry one 4 KiB page, the least "
                          r"\(the estimate is no upper bound: hidden entries "
                          r"can be larger\): "
                          r"peak live ([0-9.]+ \S+), (\d+) maps fail, "
                          r"(the same verdict|it would fit|it would not fit)",
                          text)
        check(least is not None, "%s: the verdict at the least the hidden "
              "entries can be" % name)
        if least:
            same = least.group(3) == "the same verdict"
            check(same == ((int(least.group(2)) == 0) == (kind == "FITS")),
                  "%s: '%s' agrees with %s maps failing at the least"
                  % (name, least.group(3), least.group(2)))
    if not fails:
        check("no map fails" in text and "would take" not in text,
              "%s: fits: no failure, nothing to take" % name)
        continue
    check(re.search(r"the first at [0-9.]+ s in phase \S+", text) is not None,
          "%s: time and phase of the first failure" % name)
    pool = re.search(r"bounce \(--bounce all, a ([0-9.]+ [MG]iB) pool", text)
    if kind == "FITS WITH BOUNCE":
        check(pool is not None and failed_maps(
            trace, "--bounce", "all", "--bounce-pool", pool.group(1)
            .replace(" ", "").replace("iB", "")) == 0,
            "%s: the pool it names makes every map succeed" % name)
    else:
        check(pool is None, "%s: no pool named for DOES NOT FIT" % name)
        for mib in (64, 256, 1024):
            if mib << 21 > p["aperture"]:
                break
            check(failed_maps(trace, "--bounce", "all", "--bounce-pool",
                              "%dM" % mib) > 0,
                  "%s: a %d MiB bounce pool does not fit it either"
                  % (name, mib))
    ap = re.search(r"an aperture of ([0-9]+) MiB \(", text)
    check(ap is not None, "%s: names the aperture that would fit" % name)
    if ap:
        need = int(ap.group(1))
        check(failed_maps(trace, "--aperture", "%dM" % need) == 0,
              "%s: --aperture %d MiB fits" % (name, need))
        check(failed_maps(trace, "--aperture", "%dM" % (need - 64)) > 0,
              "%s: --aperture %d MiB does not" % (name, need - 64))
# FITS WITH BOUNCE: no shipped trace needs it; the synthetic over-aperture
# workload does (its bytes fit, their 16 KiB windows do not).
p = subprocess.run([replay, "--verdict", "--aperture", "256M", "--synthetic",
                    "over-aperture"], capture_output=True, text=True)
m = re.search(r"a ([0-9.]+) MiB pool", p.stdout)
check(p.stdout.startswith("synthetic:over-aperture: FITS WITH BOUNCE |")
      and p.returncode == 0, "over-aperture at 256 MiB: FITS WITH BOUNCE, "
      "exit %d" % p.returncode)
if m:
    out = subprocess.run([replay, "--json", "--quiet", "--policy", "pvdma",
                          "--aperture", "256M", "--bounce", "all",
                          "--bounce-pool", "%dM" % int(float(m.group(1))),
                          "--synthetic", "over-aperture"],
                         capture_output=True, text=True).stdout
    r = json.loads(out.splitlines()[0])
    check(r["failed_maps"] == 0 and r["bounced_bytes"] > 0,
          "over-aperture: the %s MiB pool named fits (%d failed, %d bounced)"
          % (m.group(1), r["failed_maps"], r["bounced_bytes"]))
    plain = subprocess.run([replay, "--json", "--quiet", "--policy", "pvdma",
                            "--aperture", "256M", "--synthetic",
                            "over-aperture"], capture_output=True, text=True)
    check(json.loads(plain.stdout.splitlines()[0])["failed_maps"] > 0,
          "over-aperture: without bounce maps fail")
else:
    check(False, "over-aperture: a pool is named")
kinds.add("FITS WITH BOUNCE" if m else "?")
check("FITS" in kinds and "DOES NOT FIT" in kinds,
      "the shipped traces give both FITS and DOES NOT FIT (%s)"
      % ", ".join(sorted(kinds)))

for line in open(work + "/bad.out"):
    f, mode, rc, want, err = line.rstrip("\n").split("\t")
    f = os.path.basename(f)
    check(rc == "2", "%s %s: exit %s == 2" % (f, mode, rc))
    check(re.search(want, err) is not None,
          "%s %s: says '%s' (%s)" % (f, mode, want.replace("\\", ""),
                                     err.strip()[:100]))

rcs = dict(l.rsplit(" ", 1) for l in open(work + "/rc").read().splitlines())
allj = {}
for line in open(work + "/all.json"):
    r = json.loads(line)
    allj[(r["trace"].split("/")[-2] + "/" + r["trace"].split("/")[-1],
          r["policy"])] = r
pinned = allj[("nvidia-580-h200/pinned.trace.xz", "pvdma")]
want = "1" if pinned["failed_maps"] else "0"
check(rcs["pinned+init all"] == want,
      "replay: exit %s when pvdma fails %d maps of pinned"
      % (rcs["pinned+init all"], pinned["failed_maps"]))
check(rcs["init pvdma"] == "0", "replay: init fits: exit 0")
mp_rfc = allj[("nvidia-580-h100/multiproc.trace.xz", "rfc")]["failed_maps"]
mp_pv = allj[("nvidia-580-h100/multiproc.trace.xz", "pvdma")]["failed_maps"]
check(rcs["h100-multiproc rfc"] == ("1" if mp_rfc else "0"),
      "replay --policy rfc: exit %s, rfc fails %d maps"
      % (rcs["h100-multiproc rfc"], mp_rfc))
check(rcs["h100-multiproc all"] == ("1" if mp_pv else "0"),
      "replay --policy all: exit %s follows pvdma (%d failed), not the "
      "baselines (rfc %d)" % (rcs["h100-multiproc all"], mp_pv, mp_rfc))
check(rcs["init+README verdict"] == "2",
      "verdict: a bad input among good ones: exit 2")
check(rcs["init+pinned verdict"] == ("1" if pinned["failed_maps"] else "0"),
      "verdict: one trace that does not fit makes the exit 1")
mixed = open(work + "/mixed.txt").read()
ff = [l for l in mixed.splitlines() if "first failure:" in l]
check(len(ff) > 0 and all(re.search(r"[KMG]iB", l) for l in ff),
      "first-failure lines in human units (%d)" % len(ff))
check(all("host status" not in l and "the host said" not in l
          for l in ff if "aperture full" in l),
      "no host status on a failure the host never saw")

write_counts(sys.argv[3])
PY
add_counts "$work/counts"

# ---- whole lists in the recordings: a shipped trace keeps the unmap of a
# list of more than 500 entries (its event outgrows a 4 KiB ring-buffer
# page), and says how it was recorded; the replay's stats count that
# unmap as the probe's
longest=0 keeper=
for t in $traces; do
	n=$(xz -dc "$t" | sed -n 's/.*pvdma_unmap_sg: .*nents=\([0-9]*\).*/\1/p' |
		sort -n | tail -n 1)
	if [ "${n:-0}" -gt "$longest" ]; then
		longest=$n
		keeper=$t
	fi
done
if [ "$longest" -gt 500 ]; then
	ok "$keeper keeps the unmap of a $longest-entry list"
	if xz -dc "$keeper" | grep -q '^# command: ' &&
		xz -dc "$keeper" | grep -q '^# unmap-probe: '; then
		ok "$keeper names its recording command and unmap probe"
	else
		fail "$keeper: no '# command:' or '# unmap-probe:' header"
	fi
	"$R" --stats "$keeper" >"$work/stats.txt" 2>&1
	over=$(sed -n 's/^lists over [0-9]* entries: \([0-9]*\); unmaps from the unmap probe: \([0-9]*\)$/\1 \2/p' \
		"$work/stats.txt")
	# shellcheck disable=SC2086 # the two counts, a word each
	set -- $over
	if [ $# -eq 2 ] && [ "$1" -gt 0 ] && [ "$1" -eq "$2" ]; then
		ok "$keeper: stats: all $1 long lists unmapped by the probe"
	else
		fail "$keeper: stats: long lists and probe unmaps '$over'"
	fi
else
	fail "no shipped trace keeps the unmap of a list over 500 entries (longest $longest)"
fi

# ---- --help: one list of the synthetic workloads (synth.c's table), each
# named once with a one-line summary, each one --synthetic accepts
"$R" --help >"$work/help.txt" 2>&1
awk '/^  --synthetic NAME/ { p = 1; next } /^  --/ { p = 0 } p' \
	"$work/help.txt" >"$work/synth.txt"
nlist=$(wc -l <"$work/synth.txt")
nnames=$(awk '{ print $1 }' "$work/synth.txt" | sort -u | wc -l)
nsummed=$(awk 'NF >= 3 && /^      [a-z]/' "$work/synth.txt" | wc -l)
if [ "$nlist" -ge 3 ] && [ "$nnames" -eq "$nlist" ] && [ "$nsummed" -eq "$nlist" ]; then
	ok "--help lists $nlist synthetic workloads, each once with its summary"
else
	fail "--help's synthetic list: $nlist lines, $nnames names, $nsummed with a summary"
	sed 's/^/      /' "$work/synth.txt"
fi
while read -r name _; do
	"$R" --json --quiet --policy pvdma --aperture 64M --ops 2000 \
		--synthetic "$name" >"$work/synth.json" 2>"$work/synth.err" </dev/null
	rc=$?
	if status_ok "$rc" 0 1 && [ "$(grep -c '^{' "$work/synth.json")" -eq 1 ]; then
		ok "--synthetic $name (from --help) replays (exit $rc)"
	else
		fail "--synthetic $name (from --help): exit $rc, $(grep -c '^{' "$work/synth.json") rows"
		sed 's/^/      /' "$work/synth.err" | tail -n 3
	fi
done <"$work/synth.txt"
check_exit "--synthetic no-such: exit 2" 2 "$R" --synthetic no-such
finish
