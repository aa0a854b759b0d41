# SPDX-License-Identifier: MIT
# E2E COPY throughput through pvdma (and rfc, strict) as a share of identity
# mapping, per transfer size (scripts/bench_vm.sh, build/bench/vm.json).
if (!exists("data")) data = 'build/bench'
if (!exists("outdir")) outdir = 'docs/perf'
f = data.'/throughput.dat'
if (system('test -s '.f.' && echo 1 || echo 0') + 0 == 0) exit
set terminal pngcairo size 900,480
set output outdir.'/throughput.png'
set title 'DMA device COPY throughput vs identity mapping (guest under TCG)'
set logscale x 2
set format x '%.0b%B'
set xlabel 'transfer size (bytes)'
set ylabel 'throughput / identity'
set yrange [0:*]
set key bottom right
set grid ytics
ncol = system("head -n 1 ".f." | wc -w") - 2
plot for [i=2:ncol+1] f using 1:i with linespoints lw 2 title columnhead(i), \
     0.9 with lines dt 2 lc rgb 'gray' title '0.9 target'
