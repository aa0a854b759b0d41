# SPDX-License-Identifier: MIT
# Host calls (VM exits) per trace per policy, log scale.
set terminal pngcairo size 900,480
set output outdir.'/hostcalls.png'
set title 'Host calls (VM exits) per trace'
set style data histogram
set style histogram cluster gap 1
set style fill solid 0.8 border -1
set logscale y
set ylabel 'host calls'
set xtics rotate by -30
set key top left
plot data.'/hostcalls.dat' using 2:xtic(1) title 'rfc', \
     '' using 3 title 'perpage', '' using 4 title 'pvdma'
