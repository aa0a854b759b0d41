#!/bin/sh
# SPDX-License-Identifier: MIT
#
# One picture per trace from pvdma-replay --timeline: the driver's live
# bytes and the aperture each policy holds over trace time, against the
# aperture line, with each policy's failed maps marked.
#
#   scripts/plots/timeline.sh TIMELINE.tsv APERTURE_BYTES OUTDIR
#
# Writes OUTDIR/timeline-<dir>-<trace>.png (dir: the trace's directory,
# e.g. nvidia-580-h200). Needs gnuplot.
set -eu
tsv=$1
aperture=$2
outdir=$3
work=$(mktemp -d "${TMPDIR:-/tmp}/pvdma-timeline.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$outdir"

for trace in $(cut -f1 "$tsv" | sort -u); do
	base=$(basename "$trace" .trace.xz)
	dir=$(basename "$(dirname "$trace")")
	png=$outdir/timeline-$dir-$base.png
	# per policy: t, live, aperture; and the samples where maps failed
	awk -F'\t' -v t="$trace" -v w="$work" '
	$1 == t {
		f = w "/" $2 ".dat"
		print $3, $4 / 1073741824, $5 / 1073741824 > f
		if ($6 > seen[$2]) {
			print $3, $5 / 1073741824 > (w "/" $2 ".fail")
			seen[$2] = $6
		}
	}' "$tsv"
	plot="'$work/pvdma.dat' using 1:2 with steps lw 2 lc rgb '#444444' title 'driver live bytes'"
	for pol in rfc perpage pvdma; do
		[ -s "$work/$pol.dat" ] || continue
		plot="$plot, '$work/$pol.dat' using 1:3 with steps lw 1.5 title '$pol: aperture held'"
		[ -s "$work/$pol.fail" ] &&
			plot="$plot, '$work/$pol.fail' using 1:2 with points pt 2 ps 1.5 title '$pol: failed map'"
	done
	gnuplot <<GP
set terminal pngcairo size 900,480
set output '$png'
set title '$dir/$base: live bytes and aperture held over time'
set xlabel 'trace time (s)'
set ylabel 'GiB'
set key below
set yrange [0:*]
set arrow from graph 0, first $aperture / 1073741824.0 to graph 1, first $aperture / 1073741824.0 nohead dt 2 lc rgb 'red'
set label 'aperture' at graph 0.98, first $aperture / 1073741824.0 right offset 0,0.6 tc rgb 'red'
plot $plot
GP
	rm -f "$work"/*.dat "$work"/*.fail
done
