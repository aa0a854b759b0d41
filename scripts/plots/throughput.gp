# SPDX-License-Identifier: MIT
# E2E COPY throughput through pvdma (and rfc, strict) as a share of identity
# mapping, per transfer size (scripts/bench_vm.sh, build/bench/vm.json): the
# median round of each size and the lowest and highest.
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
# the spread of the rounds runs far above 1 now and then: clipped
set yrange [0:2.5]
set key top right
set offsets graph 0.03, graph 0.06, 0, 0
set grid ytics
# three columns a policy: median, lowest and highest round; the policies
# are nudged apart on x so their bars don't hide each other
ntags = (system("head -n 1 ".f." | wc -w") - 1) / 3
plot for [k=0:ntags-1] f using ($1 * (1 + 0.12 * k)):(column(2 + 3 * k)): \
         (column(3 + 3 * k)):(column(4 + 3 * k)) \
         with yerrorlines lw 2 title columnhead(2 + 3 * k).' (median, range)', \
     0.9 with lines dt 2 lc rgb 'gray' title '0.9 target'
